package classify

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"unicode"
	"unicode/utf8"
)

// clickID is a click-id parameter that stands for a campaign when no utm_*
// parameter is present (docs/rules.md rule 4).
type clickID struct {
	param          string
	source, medium []byte
}

// clickIDs in order of precedence when a URL carries more than one: the paid
// ones first, fbclid last.
var clickIDs = [...]clickID{
	{"gclid", []byte("google"), []byte("cpc")},
	{"gbraid", []byte("google"), []byte("cpc")},
	{"wbraid", []byte("google"), []byte("cpc")},
	{"dclid", []byte("google"), []byte("display")}, // Display & Video 360, Campaign Manager
	{"msclkid", []byte("bing"), []byte("cpc")},
	{"fbclid", []byte("facebook"), []byte("social")},
}

// query holds the source-related parameters of one query string: raw
// (undecoded) values aliasing the request, empty when absent.
type query struct {
	utmSource, utmMedium, utmCampaign []byte
	click                             int // index into clickIDs, -1 when none
}

// parseQuery finds the campaign parameters and click ids in q (the part of a
// URI after '?', without a fragment). Names are matched exactly as written;
// of repeated parameters the first with a non-empty value counts, and a
// parameter with an empty value counts as absent.
func parseQuery(q []byte) query {
	res := query{click: -1}
	for len(q) > 0 {
		var pair []byte
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			pair, q = q, nil
		}
		eq := bytes.IndexByte(pair, '=')
		if eq <= 0 || eq == len(pair)-1 {
			continue // no name, or no value
		}
		name, value := pair[:eq], pair[eq+1:]
		switch string(name) {
		case "utm_source":
			if res.utmSource == nil {
				res.utmSource = value
			}
		case "utm_medium":
			if res.utmMedium == nil {
				res.utmMedium = value
			}
		case "utm_campaign":
			if res.utmCampaign == nil {
				res.utmCampaign = value
			}
		default:
			for i := range clickIDs {
				if string(name) == clickIDs[i].param {
					if res.click < 0 || i < res.click {
						res.click = i
					}
					break
				}
			}
		}
	}
	return res
}

// campaign reports whether q names a campaign or click id, the condition of
// redirect carry-over (docs/rules.md rule 4).
func (q *query) campaign() bool {
	return q.utmSource != nil || q.utmMedium != nil || q.utmCampaign != nil || q.click >= 0
}

// appendDecoded appends the URL-decoded, lower-cased value of src to dst:
// "%XX" is the byte XX and '+' a space; a '%' not followed by two hex digits
// is kept as it is. Letters are lower-cased by Unicode rules; bytes that are
// not valid UTF-8 are kept as they are. Surrounding ASCII white space is
// removed.
func appendDecoded(dst, src []byte) []byte {
	start := len(dst)
	// Decode into dst first, then lower-case in place: lower-casing can only
	// change the length of non-ASCII runes, which take the slow path.
	ascii := true
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(src) && isHex(src[i+1]) && isHex(src[i+2]):
			c = unhex(src[i+1])<<4 | unhex(src[i+2])
			i += 2
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		dst = append(dst, c)
	}
	if ascii {
		for i := start; i < len(dst); i++ {
			if c := dst[i]; 'A' <= c && c <= 'Z' {
				dst[i] = c + 'a' - 'A'
			}
		}
	} else {
		dst = lowerUnicode(dst, start)
	}
	return trimSpace(dst, start)
}

// lowerUnicode lower-cases dst[start:] in place when no rune changes its
// encoded length, else by rebuilding the tail.
func lowerUnicode(dst []byte, start int) []byte {
	n := len(dst)
	for i := start; i < n; {
		r, size := utf8.DecodeRune(dst[i:n])
		if r == utf8.RuneError && size <= 1 {
			i++
			continue
		}
		l := unicode.ToLower(r)
		if l == r {
			i += size
			continue
		}
		if utf8.RuneLen(l) == size {
			utf8.EncodeRune(dst[i:], l)
			i += size
			continue
		}
		// Length changes (rare, e.g. U+0130): rebuild the rest after n.
		for j := i; j < n; {
			r, size := utf8.DecodeRune(dst[j:n])
			if r == utf8.RuneError && size <= 1 {
				dst = append(dst, dst[j])
				j++
				continue
			}
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
			j += size
		}
		tail := len(dst) - n
		copy(dst[i:], dst[n:])
		return dst[:i+tail]
	}
	return dst
}

// trimSpace removes ASCII white space around dst[start:].
func trimSpace(dst []byte, start int) []byte {
	end := len(dst)
	for end > start && isSpace(dst[end-1]) {
		end--
	}
	i := start
	for i < end && isSpace(dst[i]) {
		i++
	}
	if i > start {
		copy(dst[start:], dst[i:end])
	}
	return dst[:start+end-i]
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// refKind says what a Referer value is.
type refKind uint8

const (
	refNone       refKind = iota // empty, unparsable or a scheme we ignore
	refWeb                       // http(s) URL: host is its host
	refAndroidApp                // android-app://PACKAGE: host is the package
)

// parseReferrer extracts the host of an http(s) or android-app referrer and
// appends it, lower-cased and without userinfo, port, IPv6 brackets and
// trailing dot, to dst. Other schemes (about:, file:, chrome-extension:) and
// values without "scheme://" are no referrer.
func parseReferrer(dst, ref []byte) ([]byte, refKind) {
	ref = bytes.TrimSpace(ref)
	i := bytes.Index(ref, []byte("://"))
	if i <= 0 {
		return dst, refNone
	}
	var kind refKind
	switch scheme := ref[:i]; {
	case bytes.EqualFold(scheme, []byte("https")), bytes.EqualFold(scheme, []byte("http")):
		kind = refWeb
	case bytes.EqualFold(scheme, []byte("android-app")):
		kind = refAndroidApp
	default:
		return dst, refNone
	}
	// One pass finds the end of the authority and its last '@' and ':'.
	auth := ref[i+3:]
	at, colon := -1, -1
scan:
	for j, c := range auth {
		switch c {
		case '/', '?', '#':
			auth = auth[:j]
			break scan
		case '@':
			at = j
		case ':':
			colon = j
		}
	}
	if at >= 0 {
		auth = auth[at+1:]
		colon -= at + 1 // negative when the last ':' was before the '@'
	}
	if len(auth) > 0 && auth[0] == '[' {
		if j := bytes.IndexByte(auth, ']'); j > 0 {
			auth = auth[1:j]
		} else {
			auth = auth[1:]
		}
	} else if colon >= 0 {
		auth = auth[:colon]
	}
	for len(auth) > 0 && auth[len(auth)-1] == '.' {
		auth = auth[:len(auth)-1]
	}
	if len(auth) == 0 {
		return dst, refNone
	}
	return appendLowerASCII(dst, auth), kind
}

// appendLowerASCII appends b to dst with ASCII letters lower-cased.
func appendLowerASCII(dst, b []byte) []byte {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// normalizeHost returns host lower-cased without port and trailing dot, the
// form own hosts and request hosts are compared in. It appends to dst.
func normalizeHost(dst, host []byte) []byte {
	if len(host) > 0 && host[0] == '[' {
		if j := bytes.IndexByte(host, ']'); j > 0 {
			host = host[1:j]
		}
	} else if j := bytes.LastIndexByte(host, ':'); j >= 0 && bytes.IndexByte(host[:j], ':') < 0 {
		host = host[:j]
	}
	for len(host) > 0 && host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	return appendLowerASCII(dst, host)
}

// trimWWW removes one leading "www." from a lower-cased host.
func trimWWW(host []byte) []byte {
	if len(host) > 4 && string(host[:4]) == "www." {
		return host[4:]
	}
	return host
}

// sourceHash returns the 64-bit FNV-1a hash of the length-prefixed fields of
// a source identity, never 0 (0 means no source). It does not allocate: the
// hash stays on the stack once New64a is inlined.
func sourceHash(source, medium, campaign []byte) uint64 {
	h := fnv.New64a()
	var n [4]byte
	for _, f := range [...][]byte{source, medium, campaign} {
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		h.Write(n[:])
		h.Write(f)
	}
	if s := h.Sum64(); s != 0 {
		return s
	}
	return 1
}
