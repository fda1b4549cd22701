package classify

import (
	"fmt"
	"hash/maphash"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// TestBots covers rule 2's bot clause: empty user agents and tokens of our
// own list, in the case they usually appear in.
func TestBots(t *testing.T) {
	c := newTestClassifier(t, testConfig())
	tests := []struct {
		name string
		ua   string
		bot  bool
	}{
		// From the sample logs.
		{"Googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.216 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true},
		{"Googlebot", uaGooglebot, true},
		{"bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", true},
		{"GPTBot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)", true},
		{"YandexBot", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", true},
		{"AhrefsBot", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", true},
		{"curl", uaCurl, true},
		{"facebookexternalhit", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", true},
		{"HeadlessChrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36", true},
		{"python-requests", "python-requests/2.31.0", true},

		// Empty.
		{"empty", "", true},
		{"dash", "-", true},

		// Named by crawler-user-agents.
		{"uap spider", "Mozilla/5.0 (X11; Datanyze; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/65.0.3325.181 Safari/537.36", true},

		// The brief's list, one by one.
		{"crawler", "Mozilla/5.0 (compatible; SomeCrawler/1.0)", true},
		{"spider", "Baiduspider-image+(+http://www.baidu.com/search/spider.htm)", true},
		{"Slackbot", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", true},
		{"Twitterbot", "Twitterbot/1.0", true},
		{"LinkedInBot", "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", true},
		{"Discordbot", "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", true},
		{"WhatsApp", "WhatsApp/2.23.20.0 A", true},
		{"TelegramBot", "TelegramBot (like TwitterBot)", true},
		{"PhantomJS", "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1", true},
		{"Wget", "Wget/1.21.4", true},
		{"python-urllib", "Python-urllib/3.11", true},
		{"Go-http-client", "Go-http-client/2.0", true},
		{"okhttp", "okhttp/4.12.0", true},
		{"Java", "Java/17.0.2", true},
		{"libwww-perl", "libwww-perl/6.72", true},
		{"axios", "axios/1.6.2", true},
		{"node-fetch", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", true},
		{"node", "node", true},
		{"undici", "undici", true},

		// More of our list.
		{"Yahoo Slurp", "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)", true},
		{"ChatGPT-User", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot", true},
		{"Feedfetcher", "FeedFetcher-Google; (+http://www.google.com/feedfetcher.html)", true},
		{"Mediapartners", "Mediapartners-Google", true},
		{"Lighthouse", "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse", true},
		{"kube-probe", "kube-probe/1.29", true},
		{"ELB health checker", "ELB-HealthChecker/2.0", true},
		{"UptimeRobot", "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", true},
		{"Bing preview", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/100.0.4896.127 Safari/537.36 BingPreview/1.0b", true},
		{"Mastodon", "Mastodon/4.2.1 (http.rb/5.1.1; +https://mastodon.social/)", true},
		{"Puppeteer", "Mozilla/5.0 Puppeteer", true},
		{"Apache HttpClient", "Apache-HttpClient/4.5.14 (Java/17.0.8)", true},
		{"Scrapy", "Scrapy/2.11.0 (+https://scrapy.org)", true},
		{"HTTPie", "HTTPie/3.2.2", true},
		{"PostmanRuntime", "PostmanRuntime/7.36.0", true},
		{"Ruby", "Ruby", true},
		{"GuzzleHttp", "GuzzleHttp/7", true},
		{"PowerShell", "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/7.4.0", true},
		{"Dart", "Dart/3.2 (dart:io)", true},
		{"zgrab", "Mozilla/5.0 zgrab/0.x", true},
		{"Nmap", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)", true},
		{"upper case", "MY-CRAWLER", true},

		// Humans.
		{"Mac Chrome", uaMacChrome, false},
		{"iPhone", uaIPhone, false},
		{"Cubot phone", "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", false},
		{"Cubot and a bot", "Mozilla/5.0 (Linux; Android 9; CUBOT P30) Googlebot/2.1", true},
		{"Samsung Internet", "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", false},
		{"Edge", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", false},
		{"Firefox Android", "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", false},
		{"phone named XBot", "Mozilla/5.0 (Linux; Android 12; XBot Pro Build/SP1A.210812.016) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", false},
		{"phone named Ruby", "Mozilla/5.0 (Linux; Android 11; Ruby 5G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", false},
		{"phone named Spider", "Mozilla/5.0 (Linux; Android 13; Spider 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", false},
		{"XBot phone with Googlebot", "Mozilla/5.0 (Linux; Android 12; XBot Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", true},
		{"Fubo TV app", "fuboTV/4.75.0 (Linux;Android 9; AFTDCT31 Build/PS7664.3772N) FuboPlayer/v1.34.0", false},
		{"iOS app", "ExampleApp/1 iPhone5,2 iOS/10_1 CFNetwork/808.3 Darwin/16.3.0", false},
		{"PS4 app", "PS4Application libhttp/1.000 (PS4) CoreMedia libhttp/6.72 (PlayStation 4)", false},

		// Feed readers and fetchers (rule 2) from a real access log.
		{"UniversalFeedParser", "UniversalFeedParser/4.2-pre-314-svn +http://feedparser.org/", true},
		{"Tiny Tiny RSS", "Tiny Tiny RSS/1.11 (http://tt-rss.org/)", true},
		{"Feedbin", "Feedbin feed-id:1373711 - 1 subscribers", true},
		{"Feedly", "Feedly/1.0 (+http://www.feedly.com/fetcher.html; like FeedFetcher-Google)", true},
		{"Ezooms", "Mozilla/5.0 (compatible; Ezooms/1.0; help@moz.com)", true},
		{"Google-Read-Aloud", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Google-Read-Aloud", true},
		{"Claude-User", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Claude-User/1.0; +Claude-User@anthropic.com)", true},
		{"Perplexity-User", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Perplexity-User/1.0; +https://perplexity.ai/perplexity-user)", true},
		{"meta-externalagent", "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)", true},
		{"bare product", "SomeTool/2.3.1", true},
		{"e-mail address", "Mozilla/5.0 (compatible; research-project; admin@example.org)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.userAgent([]byte(tt.ua)).bot; got != tt.bot {
				t.Errorf("bot(%q) = %v, want %v", tt.ua, got, tt.bot)
			}
		})
	}
}

// TestDevice covers rule 7 for every browser user agent of the sample logs
// and for tablets, TVs, consoles, watches and older phones.
func TestDevice(t *testing.T) {
	c := newTestClassifier(t, testConfig())
	tests := []struct {
		name string
		ua   string
		want Device
	}{
		// Sample logs.
		{"Mac Safari", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15", Desktop},
		{"Mac Chrome", uaMacChrome, Desktop},
		{"Windows Chrome", uaWinChrome, Desktop},
		{"Windows Edge", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", Desktop},
		{"Windows Firefox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0", Desktop},
		{"ChromeOS", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", Desktop},
		{"Linux Firefox", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", Desktop},
		{"iPhone Safari", uaIPhone, Mobile},
		{"iPhone Chrome", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1", Mobile},
		{"Android reduced UA", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", Mobile},
		{"Pixel 8 Pro", "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36", Mobile},
		{"Galaxy S23 Ultra", "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36", Mobile},
		{"Samsung Internet A53", "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", Mobile},
		{"Firefox Android", "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", Mobile},
		{"iPad", uaIPad, Tablet},
		{"Kindle Fire Silk", "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/120.3.1 like Chrome/120.0.6099.230 Safari/537.36", Tablet},
		{"Galaxy Tab S9", "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", Tablet},
		{"Galaxy Tab S7", "Mozilla/5.0 (Linux; Android 12; SM-T870) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36", Tablet},

		// Bots of the sample logs still get a device; it is never counted.
		{"Googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.216 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", Mobile},
		{"curl", uaCurl, OtherDevice},
		{"empty", "", OtherDevice},

		// Tablets.
		{"old Kindle Fire", "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Silk/3.68 Safari/534.30 Silk-Accelerated=true", Tablet},
		{"Kindle e-reader", "Mozilla/5.0 (X11; U; Linux armv7l like Android; en-us) AppleWebKit/531.2+ (KHTML, like Gecko) Version/5.0 Safari/531.2+ Kindle/3.0+", Tablet},
		{"Pixel Tablet", "Mozilla/5.0 (Linux; Android 14; Pixel Tablet) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", Tablet},
		{"Firefox Android tablet", "Mozilla/5.0 (Android 14; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0", Tablet},
		{"Galaxy Tab saying Mobile", "Mozilla/5.0 (Linux; Android 13; SM-T220) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", Tablet},
		{"Lenovo Tab", "Mozilla/5.0 (Linux; Android 10; Lenovo TB-X606F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", Tablet},
		{"MatePad", "Mozilla/5.0 (Linux; Android 12; HarmonyOS; MatePad Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0 Safari/537.36", Tablet},
		{"Android without Mobile", "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", Tablet},
		{"iPadOS desktop mode", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15", Desktop},

		// Phones.
		{"iPod", "Mozilla/5.0 (iPod touch; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.0 Mobile/15E148 Safari/604.1", Mobile},
		{"Windows Phone", "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.14977", Mobile},
		{"KaiOS", "Mozilla/5.0 (Mobile; LYF/F300B/LYF-F300B-001-01-15-130718-i;Android; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5", Mobile},
		{"Opera Mini Symbian", "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54", Mobile},
		{"Cubot", "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", Mobile},

		// Desktops.
		{"ChromeOS ARM", "Mozilla/5.0 (X11; CrOS armv7l 13597.84.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.187 Safari/537.36", Desktop},
		{"Ubuntu", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0", Desktop},
		{"FreeBSD", "Mozilla/5.0 (X11; FreeBSD amd64; rv:109.0) Gecko/20100101 Firefox/115.0", Desktop},
		{"old IE", "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)", Desktop},
		{"Windows tablet PC", "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Tablet PC 2.0)", Desktop},

		// Other: TVs, consoles, watches, headsets, unknown.
		{"Samsung TV", "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 85.0.4183.93/6.0 TV Safari/537.36", OtherDevice},
		{"LG TV", "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4606.128 Safari/537.36 WebAppManager", OtherDevice},
		{"Sony Android TV", "Mozilla/5.0 (Linux; Android 12; BRAVIA 4K VH2 Build/STT1.211025.001.Z4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Safari/537.36", OtherDevice},
		{"Shield Android TV", "Mozilla/5.0 (Linux; Android 9; SHIELD Android TV Build/PPR1.180610.011) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 Safari/537.36", OtherDevice},
		{"Google TV", "Mozilla/5.0 (Linux; Android 10; Google TV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", OtherDevice},
		{"Chromecast", "Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36 CrKey/1.56.500000", OtherDevice},
		{"Fire TV stick", "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7633.3445N; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.127 Safari/537.36", OtherDevice},
		{"Fire TV saying Mobile", "Mozilla/5.0 (Linux; Android 11; AFTKA Build/RS8101.1849N; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/108.0.5359.160 Mobile Safari/537.36", OtherDevice},
		{"Apple TV", "Mozilla/5.0 (Apple TV; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15", OtherDevice},
		{"Xbox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36 Edge/44.18363.8131", OtherDevice},
		{"PlayStation 5", "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15", OtherDevice},
		{"Nintendo Switch", "Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393", OtherDevice},
		{"Galaxy Watch", "Mozilla/5.0 (Linux; Android 8.0.0; SM-R800) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/1.0 Chrome/56.0.2924.87 Mobile Safari/537.36", OtherDevice},
		{"Meta Quest", "Mozilla/5.0 (Linux; Android 11; Quest 2) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/28.0.0.0 SamsungBrowser/4.0 Chrome/116.0.0.0 VR Safari/537.36", OtherDevice},
		{"unknown", "Mozilla/5.0", OtherDevice},

		// Agents the former rules got wrong.
		{"Galaxy Tab A saying Mobile", "Mozilla/5.0 (Linux; Android 11; SAMSUNG SM-T505) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", Tablet},
		{"Yandex on a tablet", "Mozilla/5.0 (Linux; arm_64; Android 13; M50HD_EEA) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.197 YaSearchBrowser/24.20/apad BroPP/1.0 YaSearchApp/24.20/apad Mobile Safari/537.36", Tablet},
		{"Huawei tablet behind HMSCore", "Mozilla/5.0 (Linux; Android 9; HarmonyOS; JDN2-AL50HN; HMSCore 6.4.0.311) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/92.0.4515.105 HuaweiBrowser/12.0.4.300 Mobile Safari/537.36", Tablet},
		{"Dalvik phone", "Dalvik/2.1.0 (Linux; U; Android 11; M2010J19SG Build/RKQ1.201004.002)", Mobile},
		{"webview without Mobile on a phone", "Mozilla/5.0 (Linux; Android 10; SM-G973F Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.0.0 Safari/537.36 Instagram 312.0", Mobile},
		{"Dalvik tablet", "Dalvik/2.1.0 (Linux; U; Android 9; SM-T510 Build/PPR1.180610.011)", Tablet},
		{"TV box without a TV token", "Mozilla/5.0 (Linux; Android 9; X96Q) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.104 Safari/537.36", OtherDevice},
		{"TV set by screen size", "Mozilla/5.0 (Linux; Android 11; 43UP50GU Build/RP1A.200720.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/113.0.5672.162 Mobile Safari/537.36", OtherDevice},
		{"Qumo Quest phone", "Mozilla/5.0 (Linux; Android 4.4.2; Quest 410) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Mobile Safari/537.36", Mobile},
		{"Meta Quest 3", "Mozilla/5.0 (X11; Linux x86_64; Quest 3) AppleWebKit/537.36 (KHTML, like Gecko) OculusBrowser/33.0.0.0 Chrome/126.0.0.0 Safari/537.36", OtherDevice},
		{"STV100 phone", "Mozilla/5.0 (Linux; Android 6.0.1; STV100-1 Build/MMB29M) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 Mobile Safari/537.36", Mobile},
		{"BTV-W09 tablet", "Mozilla/5.0 (Linux; Android 7.0; BTV-W09) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 Safari/537.36", Tablet},
		{"Chromebook running Android", "Mozilla/5.0 (Linux; Android 9; HP Chromebook 13 G1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.162 Safari/537.36", Desktop},
		{"Galaxy Watch on Tizen", "Mozilla/5.0 (Linux; Tizen 5.5; SAMSUNG SM-R855U) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/2.0 Chrome/69.0.3497.106 Mobile Safari/537.36", OtherDevice},
		{"phone named XBot", "Mozilla/5.0 (Linux; Android 12; XBot Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", Mobile},
		{"white-label tablet by screen-size code", "Mozilla/5.0 (Linux; Android 4.4.2; QS0716D Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0 Mobile Safari/537.36", Tablet},
		{"BV9700 rugged phone", "Mozilla/5.0 (Linux; Android 10; BV9700Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", Mobile},
		{"Wi-Fi-only model", "Mozilla/5.0 (Linux; Android 11; M10_WiFi) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", Tablet},
		{"Redmi Pad code", "Mozilla/5.0 (Linux; Android 14; 23073RPBFG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", Tablet},
		{"Xiaomi phone code", "Mozilla/5.0 (Linux; Android 13; 23021RAAEG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", Mobile},
		{"onn item number", "Mozilla/5.0 (Linux; Android 13; 100071485) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", Tablet},
		{"Digma product code", "Mozilla/5.0 (Linux; Android 9; Optima_1026N_3G_TT1192PG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0 Mobile Safari/537.36 TS1026PG", Mobile},
		{"Digma tablet", "Mozilla/5.0 (Linux; Android 9; Optima_1026N_3G_TS1192PG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0 Mobile Safari/537.36", Tablet},
		{"FHD tablet", "Mozilla/5.0 (Linux; Android 7.0; MediaPad 10 FHD) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0 Safari/537.36", Tablet},
		{"FHD TV", "Mozilla/5.0 (Linux; Android 9; 4K FHD Smart) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0 Safari/537.36", OtherDevice},
		{"Coolpad phone", "Mozilla/5.0 (Linux; Android 9; Coolpad 3310A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0 Mobile Safari/537.36", Mobile},
		{"Yandex tablet marker on a TV", "Mozilla/5.0 (Linux; arm; Android 11; SM-LED43T1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/102.0 YaApp_Android/22.79/apad Mobile Safari/537.36", OtherDevice},
		{"Archos tablet", "Mozilla/5.0 (Linux; Android 4.2.2; AN10G2 Build/JDQ39) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0 Mobile Safari/537.36", Tablet},
		{"app name only", "MyApp/1.0", OtherDevice},
		{"Honor tablet code with a variant letter", "Mozilla/5.0 (Linux; Android 12; KOB2K-L09) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Mobile Safari/537.36", Tablet},
		{"Huawei tablet code of a new generation", "Mozilla/5.0 (Linux; Android 12; AGS6-W00) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Mobile Safari/537.36", Tablet},
		{"Huawei P30 phone", "Mozilla/5.0 (Linux; Android 10; ELE-L29) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0.4430.91 Mobile Safari/537.36", Mobile},
		{"teXet tablet", "Mozilla/5.0 (Linux; Android 4.1.1; TM-7043XD Build/JRO03C) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30", Tablet},
		{"teXet phone", "Mozilla/5.0 (Linux; Android 7.0; TM-5003) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0 Mobile Safari/537.36", Mobile},
		{"Mediacom SmartPad", "Mozilla/5.0 (Linux; Android 4.2.2; M-MP8S4A3G Build/JDQ39) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30", Tablet},
		{"Mediacom PhonePad", "Mozilla/5.0 (Linux; Android 4.4.2; M-PP2S500 Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0 Mobile Safari/537.36", Mobile},
		{"screen size then 3G", "Mozilla/5.0 (Linux; Android 4.4.2; Fast7 3G Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0 Mobile Safari/537.36", Tablet},
		{"a line's number then 3G", "Mozilla/5.0 (Linux; Android 6.0; STK Life 7 3G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0 Mobile Safari/537.36", Mobile},
		{"rest-of-world tablet", "Mozilla/5.0 (Linux; Android 11; P80_ROW) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0 Mobile Safari/537.36", Tablet},
		{"rest-of-world Lenovo phone", "Mozilla/5.0 (Linux; Android 4.2.1; Lenovo P780_ROW Build/JOP40D) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0 Mobile Safari/537.36", Mobile},
		{"tablet PC in the model", "Mozilla/5.0 (Linux; Android 4.4.2; 769TPC) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0 Mobile Safari/537.36", Tablet},
		{"quad-core tablet", "Mozilla/5.0 (Linux; Android 4.4.2; M7-3G_QC_3 Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0 Mobile Safari/537.36", Tablet},
		{"Teclast board code", "Mozilla/5.0 (Linux; Android 10; P20HD(N6H7)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.23 Mobile Safari/537.36", Tablet},
		{"Motorola model year", "Mozilla/5.0 (Linux; Android 12; moto g stylus (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0 Mobile Safari/537.36", Mobile},
		{"Nokia T tablet", "Mozilla/5.0 (Linux; Android 12; Nokia T20) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.45 Safari/537.36", Tablet},
		{"Nokia phone", "Mozilla/5.0 (Linux; Android 12; Nokia G20) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.45 Mobile Safari/537.36", Mobile},
		{"Chuwi Vi tablet", "Mozilla/5.0 (Linux; Android 5.1; Vi10 Plus Build/LMY49J) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0 Mobile Safari/537.36", Tablet},
		{"Huawei tablet code with letters before the generation", "Mozilla/5.0 (Linux; Android 10; Kobe3-L09) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.96 Mobile Safari/537.36", Tablet},
		{"Pico headset", "Mozilla/5.0 (Linux; Android 10; Pico Neo 3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0 VR Safari/537.36", OtherDevice},
		{"PicoPad tablet", "Mozilla/5.0 (Linux; Android 11; PicoPad-7H) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/100.0 Mobile Safari/537.36", Tablet},
		{"tablet model named Polaris", "Mozilla/5.0 (Linux; Android 4.4.2; polaris_803 Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/34.0.1847.114 Safari/537.36", Tablet},
		{"Polaris browser", "Mozilla/4.0 (compatible; Polaris 6.2; Brew 3.1.5; en)/240X320 Samsung SCH-U750", Mobile},
		{"Onyx BOOX by board name", "Mozilla/5.0 (Linux; Android 11; FAUST6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/85.0.4178.0 Mobile Safari/537.36", Tablet},
		{"ThinkPad Tablet", "Mozilla/5.0 (Linux; U; Android 4.0.3; ru-ru; ThinkPad Tablet Build/ThinkPadTablet_A400_03) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30", Tablet},
		{"ThinkPad laptop running Android apps", "Mozilla/5.0 (Linux; Android 9; ThinkPad X1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/100.0 Safari/537.36", Desktop},
		{"board code inside a model before Build", "Dalvik/2.1.0 (Linux; U; Android 5.1; X80 Power(B2N4) Build/LMY47I)", Tablet},
		{"Teclast X98 Air", "Mozilla/5.0 (Linux; Android 5.1; X98 Air III Build/LMY47I) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0 Mobile Safari/537.36", Tablet},
		{"X98 TV box", "Mozilla/5.0 (Linux; Android 9; X98 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0 Safari/537.36", OtherDevice},
		{"tablet named NetTAB, not a Netta TV", "Mozilla/5.0 (Linux; U; Android 4.1.2; ru-ru; NetTAB_Space_3G Build/JZO54K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30", Tablet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want.String(), c.userAgent([]byte(tt.ua)).device.String()); diff != "" {
				t.Errorf("device(%q) (-want +got):\n%s", tt.ua, diff)
			}
		})
	}
}

// TestUACacheSameHash: an entry is known by its hash and its length; two
// agents with one hash and different lengths are two entries, and
// neither is given the other's verdict.
func TestUACacheSameHash(t *testing.T) {
	c := newUACache(16)
	const h = 0x9e3779b97f4a7c15
	c.put(h, len("agent a"), uaInfo{bot: true, device: OtherDevice, hash: 1})
	if _, ok := c.get(h, len("agent bb")); ok {
		t.Fatal("an agent of another length found under agent a's hash")
	}
	c.put(h, len("agent bb"), uaInfo{device: Mobile, hash: 2})
	a, okA := c.get(h, len("agent a"))
	b, okB := c.get(h, len("agent bb"))
	if !okA || !okB || !a.bot || a.hash != 1 || b.bot || b.device != Mobile || b.hash != 2 {
		t.Fatalf("got %+v %v and %+v %v", a, okA, b, okB)
	}
	if _, ok := c.get(h+1, len("agent a")); ok {
		t.Fatal("agent a found under another hash")
	}
	if n := c.len(); n != 2 {
		t.Fatalf("cache holds %d entries, want 2", n)
	}
}

// TestUACacheSetSize: the memory per entry that docs/performance.md
// quotes is the set's size over its ways.
func TestUACacheSetSize(t *testing.T) {
	if got := unsafe.Sizeof(uaSet{}); got != uaSetBytes {
		t.Fatalf("a set is %d bytes, uaSetBytes says %d", got, uaSetBytes)
	}
}

// TestUACacheKeepsRegulars: agents looked up between the arrivals of a
// long tail keep their entries; the tail takes the others in turn.
func TestUACacheKeepsRegulars(t *testing.T) {
	c := newUACache(uaWays) // one set
	regular := [][]byte{[]byte("regular 1"), []byte("regular 2")}
	for i, ua := range regular {
		c.put(uint64(i), len(ua), uaInfo{hash: uint64(i)})
	}
	for i := range 100 {
		for j, ua := range regular {
			if _, ok := c.get(uint64(j), len(ua)); !ok {
				t.Fatalf("regular %d evicted after %d tail agents", j+1, i)
			}
		}
		ua := fmt.Appendf(nil, "tail %d", i)
		h := uint64(1000 + i)
		if _, ok := c.get(h, len(ua)); ok {
			t.Fatalf("%s found before it was stored", ua)
		}
		c.put(h, len(ua), uaInfo{hash: h})
		if n := c.len(); n > uaWays {
			t.Fatalf("cache holds %d entries, bound is %d", n, uaWays)
		}
	}
	if got, ok := c.get(1099, len("tail 99")); !ok || got.hash != 1099 {
		t.Fatal("the last tail agent is not in the cache")
	}
	if _, ok := c.get(1000, len("tail 0")); ok {
		t.Fatal("the first tail agent is still in a full set")
	}
}

// TestUACacheWarmDoesNotAllocate: replacing an entry does not allocate.
func TestUACacheWarmDoesNotAllocate(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counting needs a normal build")
	}
	c := newUACache(1)
	c.put(1, len(uaWinChrome), uaInfo{})
	i := uint64(0)
	if n := testing.AllocsPerRun(50, func() {
		i++
		c.put(i, len(uaIPhone), uaInfo{hash: i})
	}); n != 0 {
		t.Errorf("put into a warm entry allocates %.1f times", n)
	}
}

// TestUACacheGrows: the sets double as agents come, every agent stays
// until the cache is full, and it never holds more than its size, also
// when the last growth is not a doubling (10,000 entries: 1,250 sets).
func TestUACacheGrows(t *testing.T) {
	for _, size := range []int{10_000, DefaultCacheSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) { testUACacheGrows(t, size) })
	}
}

func testUACacheGrows(t *testing.T, size int) {
	c := newUACache(size)
	if len(c.sets) != uaMinSets {
		t.Fatalf("a new cache has %d sets, want %d", len(c.sets), uaMinSets)
	}
	seed := maphash.MakeSeed()
	key := func(i int) ([]byte, uint64) {
		ua := fmt.Appendf(nil, "agent %d", i)
		return ua, maphash.Bytes(seed, ua)
	}
	for i := range 500 {
		ua, h := key(i)
		c.put(h, len(ua), uaInfo{hash: uint64(i)})
	}
	for i := range 500 {
		ua, h := key(i)
		if got, ok := c.get(h, len(ua)); !ok || got.hash != uint64(i) {
			t.Fatalf("agent %d lost after the cache grew to %d sets", i, len(c.sets))
		}
	}
	agents := 3 * size
	for i := 500; i < agents; i++ {
		ua, h := key(i)
		if _, ok := c.get(h, len(ua)); !ok {
			c.put(h, len(ua), uaInfo{hash: uint64(i)})
		}
	}
	if len(c.sets) != size/uaWays {
		t.Errorf("%d sets after %d agents, want %d", len(c.sets), agents, size/uaWays)
	}
	if n := c.len(); n > size || n < size*9/10 {
		t.Errorf("cache holds %d entries, want at most and nearly %d", n, size)
	}
	ua, h := key(agents - 1)
	if got, ok := c.get(h, len(ua)); !ok || got.hash != uint64(agents-1) {
		t.Error("the last agent is not in the cache")
	}
}

// TestUserAgentLastAfterEviction: when the previous request's agent has
// lost its cache entry to another agent, the previous agent's verdict is
// not handed to the newcomer, also when the newcomer is an agent too long
// to be the previous one.
func TestUserAgentLastAfterEviction(t *testing.T) {
	cfg := testConfig()
	cfg.CacheSize = 1 // one entry: every new agent takes the previous one's place
	c := newTestClassifier(t, cfg)
	// A human agent of maxUALen bytes, so that its entry's buffer can take
	// any agent the cache keeps.
	human := []byte(uaIPhone + " " + strings.Repeat("x", maxUALen-len(uaIPhone)-1))
	long := []byte("Googlebot/2.1 (+http://www.google.com/bot.html) " + strings.Repeat("a", maxUALen))
	bot := long[:maxUALen] // what the too-long agent is looked up as
	for i, step := range []struct {
		ua  []byte
		bot bool
	}{
		{human, false}, {long, true}, {bot, true}, {human, false}, {bot, true}, {[]byte(uaCurl), true}, {human, false},
	} {
		if got := c.userAgent(step.ua); got.bot != step.bot {
			t.Fatalf("step %d: %.40q... bot = %v, want %v", i, step.ua, got.bot, step.bot)
		}
	}
}
