package classify

import (
	"strings"
	"testing"
)

// refLookup is lookupHost written the slow way, from the lists' entries and
// strings.Split, to check the fast one against.
func refLookup(host string) (site, bool) {
	h := host
	for _, p := range sitePrefixes {
		if strings.HasPrefix(h, p) {
			if rest := h[len(p):]; strings.Index(rest, ".") > 0 {
				h = rest
			}
			break
		}
	}
	if s, ok := lists.hosts[h]; ok {
		return s, true
	}
	key, ok := refCountryKey(h)
	if !ok {
		return site{}, false
	}
	// Every listed search, social, video or shopping site with the same
	// key, a key word of three letters or more, and one category among them.
	found, cat := false, catOther
	for e, s := range lists.hosts {
		if s.cat < catSearch || s.cat > catShopping {
			continue
		}
		ek, ok := refCountryKey(e)
		if !ok || ek != key {
			continue
		}
		if labels := strings.Split(ek, "."); len(labels[len(labels)-1]) < 3 {
			continue
		}
		if found && s.cat != cat {
			return site{}, false // two categories on one key
		}
		found, cat = true, s.cat
	}
	return site{cat: cat}, found
}

// refCountryKey splits off "com", a two-letter country domain or a
// countrySLDs label with one.
func refCountryKey(h string) (string, bool) {
	labels := strings.Split(h, ".")
	n := len(labels)
	if n < 2 {
		return "", false
	}
	tld := labels[n-1]
	two := len(tld) == 2 && strings.Trim(tld, "abcdefghijklmnopqrstuvwxyz") == ""
	switch {
	case tld == "com":
		n--
	case two && n >= 3 && isCountrySLD([]byte(labels[n-2])) && labels[n-3] != "":
		n -= 2
	case two:
		n--
	default:
		return "", false
	}
	key := strings.Join(labels[:n], ".")
	return key, key != "" && !strings.HasPrefix(key, ".")
}

// FuzzLookupHost checks the site matcher against refLookup, that a prefix of
// www., m., l. or lm. never changes the verdict, and that a site's name is
// on the same list as the site (so a referrer and a utm_source naming it
// agree).
func FuzzLookupHost(f *testing.F) {
	for _, s := range []string{
		"www.google.co.uk", "google.com.br", "yandex.com.tr", "support.google.com", "news.google.com",
		"gemini.google.com", "m.facebook.com", "lm.facebook.com", "t.co", "x.ai", "ask.fm", "ask.de",
		"search.yahoo.co.jp", "news.yahoo.com", "m.blog.naver.com", "www.", "m.m.com", ".com", "a..uk",
		"co.uk", ".co.uk", "www.amazon.de", "chatgpt.com", "mail.google.com", "pinterest.dk",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		host = strings.ToLower(host)
		got, ok := lookupHost([]byte(host))
		want, wantOK := refLookup(host)
		if ok != wantOK || got.cat != want.cat {
			t.Fatalf("lookupHost(%q) = %+v, %v; reference says %v, %v", host, got, ok, want.cat, wantOK)
		}
		if !ok {
			return
		}
		if want.name != "" && got.name != want.name {
			t.Errorf("lookupHost(%q) name %q, listed as %q", host, got.name, want.name)
		}
		if got.name == "" {
			t.Fatalf("lookupHost(%q): site without a name", host)
		}
		if c := nameCategory([]byte(got.name)); c != got.cat {
			t.Errorf("lookupHost(%q) = %+v, but its name is on list %v", host, got, c)
		}
		if len(trimSitePrefix([]byte(host))) == len(host) { // no prefix of its own
			for _, p := range sitePrefixes {
				if again, ok := lookupHost([]byte(p + host)); !ok || again != got {
					t.Errorf("lookupHost(%q) = %+v, %v; without %q it is %+v", p+host, again, ok, p, got)
				}
			}
		}
	})
}
