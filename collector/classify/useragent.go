package classify

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"github.com/ua-parser/uap-go/uaparser"
)

// maxUALen bounds the part of a user agent that is parsed and used as a cache
// key, so a hostile client cannot make cache entries or regexp runs large.
// The visitor key still hashes the whole user agent.
const maxUALen = 1024

// uaInfo is what the cache keeps per user agent.
type uaInfo struct {
	bot    bool
	device Device
	hash   uint64 // keyed hash of the whole user agent, for the visitor key
}

// NewUAParser builds the uap-go parser from its embedded definitions, with
// only the OS and device parsers enabled. It compiles several hundred
// regular expressions (about 100 ms): build it once at start-up and share it
// between Classifiers; it is safe for concurrent use by them.
func NewUAParser() (*uaparser.Parser, error) {
	p, err := uaparser.New(uaparser.WithMode(uaparser.EOsLookUpMode | uaparser.EDeviceLookUpMode))
	if err != nil {
		return nil, fmt.Errorf("build user-agent parser: %w", err)
	}
	return p, nil
}

// userAgent returns the bot flag and device class of ua from the cache,
// parsing it on a miss. A hit does not allocate.
func (c *Classifier) userAgent(ua []byte) uaInfo {
	if len(ua) > maxUALen {
		info := c.lookupUA(ua[:maxUALen])
		info.hash = c.uaHash(ua) // the cached hash is of the first maxUALen bytes only
		return info
	}
	// A page and its assets come one after another with one user agent.
	if c.lastOK && bytes.Equal(ua, c.lastUA) {
		return c.lastInfo
	}
	info := c.lookupUA(ua)
	c.lastUA, c.lastInfo, c.lastOK = append(c.lastUA[:0], ua...), info, true
	return info
}

func (c *Classifier) lookupUA(ua []byte) uaInfo {
	if info, ok := c.uaCache[string(ua)]; ok {
		return info
	}
	key := string(ua)
	info, ok := c.shared.get(key)
	if !ok {
		info = classifyUA(c.ua, key)
		info.hash = c.uaHash(ua)
		c.shared.put(key, info, c.cfg.cacheSize)
	}
	putBounded(c.uaCache, key, info, c.cfg.cacheSize)
	return info
}

// uaHash is the keyed hash of a user agent that visitor keys are built on.
func (c *Classifier) uaHash(ua []byte) uint64 {
	h := newSipHash(c.cfg.k0, c.cfg.k1)
	h.writeField(ua)
	return h.sum()
}

// uaShared is the cache behind every clone's own: a user agent is parsed
// once per process, not once per worker. It is consulted only on a miss.
type uaShared struct {
	mu sync.Mutex
	m  map[string]uaInfo
}

func (s *uaShared) get(k string) (uaInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	return v, ok
}

func (s *uaShared) put(k string, v uaInfo, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	putBounded(s.m, k, v, size)
}

// putBounded stores k in m, first evicting one entry if m holds size.
// Map iteration starts at a random position, so this is random eviction:
// hot user agents come straight back.
func putBounded(m map[string]uaInfo, k string, v uaInfo, size int) {
	if len(m) >= size {
		for old := range m {
			delete(m, old)
			break
		}
	}
	m[k] = v
}

// classifyUA decides the bot flag (SESSION-RULES rule 2) and the device class
// (rule 7) of one user agent.
func classifyUA(p *uaparser.Parser, ua string) uaInfo {
	if t := strings.TrimSpace(ua); t == "" || t == "-" {
		return uaInfo{bot: true, device: OtherDevice}
	}
	var dev uaparser.Device
	for _, dp := range p.RegexDefinitions.Device {
		dp.Match(ua, &dev)
		if dev.Family != "" {
			break
		}
	}
	var os uaparser.Os
	for _, op := range p.RegexDefinitions.OS {
		op.Match(ua, &os)
		if os.Family != "" {
			break
		}
	}
	lower := strings.ToLower(ua)
	return uaInfo{
		bot:    dev.Family == "Spider" || hasBotToken(lower),
		device: deviceClass(lower, &dev, os.Family),
	}
}

// botTokens are lower-case substrings that mark a user agent as a crawler,
// link previewer, headless browser, HTTP tool or library, uptime monitor or
// scanner (SESSION-RULES rule 2). "bot" is handled by hasBotToken.
var botTokens = []string{
	// Crawlers the word "bot" does not catch.
	"crawl", "spider", "slurp", "archiver", "fetcher", "scraper",
	"mediapartners-google", "apis-google", "google-inspectiontool",
	"google-read-aloud", "googleother", "google-safety", "google favicon",
	"google-site-verification", "feedfetcher", "feedly", "feedburner",
	"chatgpt-user", "perplexity-user", "claude-web", "anthropic-ai",
	"cohere-ai", "diffbot", "ia_archiver", "qwantify", "seekport",
	"screaming frog", "sitebulb", "siteimprove", "w3c_validator", "validator.nu",
	"check_http", "nagios", "zabbix", "pingdom", "uptime", "statuscake",
	"site24x7", "newrelicpinger", "datadog", "kube-probe", "elb-healthchecker",
	"googlehc", "healthcheck", "health-check", "blackbox exporter",
	"prometheus", "lighthouse", "pagespeed", "gtmetrix", "ptst/",
	// Link previewers.
	"facebookexternalhit", "facebookcatalog", "meta-externalagent",
	"meta-externalfetcher", "whatsapp", "preview", "embedly", "iframely",
	"vkshare", "slack-imgproxy", "skypeuripreview", "cardyb", "mastodon/",
	"pleroma", "misskey", "outbrain",
	// Headless and automated browsers.
	"headless", "phantomjs", "slimerjs", "puppeteer", "playwright",
	"selenium", "webdriver",
	// HTTP tools and libraries.
	"curl", "wget", "python", "aiohttp", "httpx", "go-http-client",
	"go http package", "okhttp", "java/", "apache-httpclient",
	"httpclient", "jakarta", "libwww-perl", "lwp::", "lwp-", "www-mechanize",
	"mechanize", "axios", "node-fetch", "undici", "got (", "deno/", "bun/",
	"ruby", "faraday", "rest-client", "http.rb", "guzzlehttp", "php/",
	"winhttp", "libcurl", "pycurl", "httpie", "postmanruntime", "insomnia",
	"reqwest", "hackney", "dart/", "scrapy", "colly", "nutch", "heritrix",
	"httrack", "indy library", "lua-resty-http", "powershell", "wordpress/",
	// Scanners.
	"nmap", "masscan", "zgrab", "nuclei", "sqlmap", "nikto", "wpscan",
	"censysinspect", "expanse", "netcraft", "qualys",
}

// hasBotToken reports whether the lower-cased user agent names a bot. "bot"
// matches anywhere except inside "cubot", an Android phone brand.
func hasBotToken(lower string) bool {
	for s := lower; ; {
		i := strings.Index(s, "bot")
		if i < 0 {
			break
		}
		if i < 2 || s[i-2:i] != "cu" {
			return true
		}
		s = s[i+3:]
	}
	if lower == "node" {
		return true // Node.js fetch
	}
	for _, t := range botTokens {
		if strings.Contains(lower, t) {
			return true
		}
	}
	return false
}

// deviceClass applies SESSION-RULES rule 7 to a lower-cased user agent and
// its uap-go device and OS: TVs, consoles, watches and headsets first (their
// user agents often look like Android tablets or Windows), then tablets,
// phones and desktops; anything else is other.
func deviceClass(lower string, dev *uaparser.Device, os string) Device {
	has := func(tokens ...string) bool {
		for _, t := range tokens {
			if strings.Contains(lower, t) {
				return true
			}
		}
		return false
	}
	android := os == "Android" || has("android")
	model := strings.ToLower(dev.Model)

	switch {
	// Other: TVs, set-top boxes, consoles, watches, VR headsets.
	case has("smart-tv", "smarttv", "smart tv", "googletv", "google tv",
		"android tv", "hbbtv", "appletv", "apple tv", "crkey", "chromecast",
		"roku", "bravia", "web0s", "netcast", "viera", "vidaa", "tizen tv",
		"philipstv", "tv safari"),
		strings.Contains(dev.Family, "TV"),
		strings.HasPrefix(dev.Model, "AFT"), // Amazon Fire TV
		has("xbox", "playstation", "nintendo", "wii u", "ouya"),
		has("watch os", "watchos", "wear os", "wearos", "smartwatch"),
		strings.HasPrefix(dev.Model, "SM-R"), // Samsung Galaxy Watch
		has("oculus", "; quest", "pico neo", "vr safari"):
		return OtherDevice

	// Tablets.
	case has("ipad"), dev.Family == "iPad",
		has("kindle", "silk/", "silk-accelerated"),
		strings.HasPrefix(dev.Family, "Kindle"),
		dev.Family == "Generic Tablet",
		dev.Brand == "Generic_Android_Tablet",
		android && has("tablet"),
		isTabletModel(model),
		android && !has("mobile"):
		return Tablet

	// Phones.
	case has("iphone", "ipod", "mobile", "mobi", "opera mini", "blackberry",
		"bb10", "windows phone", "kaios", "symbian", "symbos", "j2me", "midp"),
		dev.Family == "iPhone", dev.Family == "iPod",
		dev.Family == "Generic Smartphone", dev.Family == "Generic Feature Phone",
		android,
		os == "iOS", os == "Windows Phone", os == "BlackBerry OS",
		os == "KaiOS", os == "Symbian OS", os == "Firefox OS", os == "Tizen":
		return Mobile

	// Desktops: Windows, macOS, Linux, ChromeOS and other Unix desktops.
	case strings.HasPrefix(os, "Windows"), os == "Mac OS X", os == "Chrome OS",
		os == "Linux", os == "Ubuntu", os == "Fedora", os == "Debian",
		os == "Linux Mint", os == "Red Hat", os == "SUSE", os == "openSUSE",
		os == "Gentoo", os == "Arch Linux", os == "Mandriva", os == "Slackware",
		os == "FreeBSD", os == "OpenBSD", os == "NetBSD", os == "Solaris",
		has("windows nt", "macintosh", "mac os x", "x11", "cros", "linux",
			"freebsd", "openbsd", "netbsd"):
		return Desktop
	}
	return OtherDevice
}

// isTabletModel reports whether a lower-cased uap-go device model is a known
// tablet even when its user agent says "Mobile": Samsung Galaxy Tab (SM-T,
// SM-X, SM-P, GT-P), Lenovo Tab (TB-), Kindle Fire (KF..), "Pad" and "Tab"
// models (MatePad, MediaPad, Xiaomi Pad, Galaxy Tab), Nexus 7/9/10, Pixel C
// and Pixel Tablet.
func isTabletModel(model string) bool {
	for _, p := range []string{"sm-t", "sm-x", "sm-p", "gt-p", "tb-", "kf"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	switch model {
	case "nexus 7", "nexus 9", "nexus 10", "pixel c", "pixel tablet":
		return true
	}
	return strings.Contains(model, "pad") || strings.Contains(model, "tab")
}
