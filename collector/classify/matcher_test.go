package classify

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

type occurrence struct {
	id    uint16
	start int
}

// naiveScan is the reference: every occurrence of every pattern, found with
// comparison on the ASCII-lower-cased text.
func naiveScan(pats []string, text string) []occurrence {
	b := []byte(text)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	lower := string(b)
	var occ []occurrence
	for id, p := range pats {
		for i := 0; i+len(p) <= len(lower); i++ {
			if lower[i:i+len(p)] == p {
				occ = append(occ, occurrence{uint16(id), i})
			}
		}
	}
	return occ
}

func sortOcc(o []occurrence) {
	sort.Slice(o, func(i, j int) bool {
		if o[i].start != o[j].start {
			return o[i].start < o[j].start
		}
		return o[i].id < o[j].id
	})
}

func equalOcc(a, b []occurrence) bool {
	if len(a) != len(b) {
		return false
	}
	sortOcc(a)
	sortOcc(b)
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMatcher(t *testing.T) {
	pats := []string{"he", "she", "his", "hers", "bot", "robot", "b", "ot/", "a"}
	m, err := newMatcher(pats)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"", "ushers", "SHE said HIS", "Googlebot/2.1", "RoBoT/", "aaaa", "xyz", "hehehers"} {
		var got []occurrence
		m.scan([]byte(text), func(id uint16, start int) bool {
			got = append(got, occurrence{id, start})
			return true
		})
		if want := naiveScan(pats, text); !equalOcc(got, want) {
			t.Errorf("scan(%q) = %v, want %v", text, got, want)
		}
	}
	if _, err := newMatcher([]string{"Upper"}); err == nil {
		t.Error("newMatcher accepted an upper-case pattern")
	}
	if _, err := newMatcher([]string{""}); err == nil {
		t.Error("newMatcher accepted an empty pattern")
	}
}

// FuzzMatcher checks the automaton against naive search, with the bot
// tokens of data/ as patterns.
//
//	go test -run '^$' -fuzz '^FuzzMatcher$' -fuzztime 30s ./collector/classify/
func FuzzMatcher(f *testing.F) {
	var pats []string
	seen := map[string]bool{}
	for _, name := range []string{"local.txt", "isbot.txt"} {
		fh, err := os.Open(filepath.Join("data", name))
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			l := sc.Text()
			if l == "" || l[0] == '#' {
				continue
			}
			p, _, err := parseToken(l)
			if err == nil && !seen[p] {
				seen[p] = true
				pats = append(pats, p)
			}
		}
		fh.Close()
	}
	m, err := newMatcher(pats)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{uaGooglebot, uaMacChrome, "curl/8", "python-requests/2", "UniversalFeedParser/4.2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var got []occurrence
		m.scan([]byte(text), func(id uint16, start int) bool {
			got = append(got, occurrence{id, start})
			return true
		})
		if want := naiveScan(pats, text); !equalOcc(got, want) {
			t.Errorf("scan(%q): %d occurrences, naive search %d", text, len(got), len(want))
		}
	})
}

// FuzzUserAgent checks that classifying any agent never panics, is
// deterministic, ignores case and agrees with the cached path.
//
//	go test -run '^$' -fuzz '^FuzzUserAgent$' -fuzztime 30s ./collector/classify/
func FuzzUserAgent(f *testing.F) {
	for _, s := range []string{uaGooglebot, uaMacChrome, uaIPhone, uaIPad, "", "-", " ",
		"Mozilla/5.0 (Linux; Android 12; XBot Pro Build/SP1A) Mobile", "Dalvik/2.1.0 (Linux; U; Android 11; SM-T510 Build/X)",
		"Mozilla/5.0 (Linux; Android", "(;;;)", "Mozilla/5.0 (Linux; Android 9; 43UP50GU)"} {
		f.Add(s)
	}
	e, err := engine()
	if err != nil {
		f.Fatal(err)
	}
	c, err := New(testConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		bot, dev := e.classify([]byte(ua))
		if int(dev) >= NumDevices {
			t.Fatalf("device %d out of range", dev)
		}
		bot2, dev2 := e.classify([]byte(ua))
		if bot != bot2 || dev != dev2 {
			t.Fatalf("classify(%q) not deterministic", ua)
		}
		// Upper-casing ASCII letters changes nothing.
		up := []byte(ua)
		for i, b := range up {
			if b >= 'a' && b <= 'z' {
				up[i] = b - 'a' + 'A'
			}
		}
		if b3, d3 := e.classify(up); b3 != bot || d3 != dev {
			t.Fatalf("classify(%q) = %v %v, upper-cased %v %v", ua, bot, dev, b3, d3)
		}
		if info := c.userAgent([]byte(ua)); info.bot != bot || info.device != dev {
			t.Fatalf("cached userAgent(%q) = %v %v, engine %v %v", ua, info.bot, info.device, bot, dev)
		}
	})
}

// TestTrieStates: the states counted before the build are the states the
// build makes.
func TestTrieStates(t *testing.T) {
	for _, tc := range []struct {
		pats []string
		want int // counted by hand: the root and one state per distinct prefix
	}{
		{[]string{"a"}, 2},
		{[]string{"abc", "ab", "b", "ab"}, 5},           // a, ab, abc, b
		{[]string{"bot", "bo", "crawl", "crawler"}, 11}, // b, bo, bot, c..crawl (5), crawle, crawler
		{[]string{"x", "xy", "xyz", "y", "yz", "z"}, 7}, // x, xy, xyz, y, yz, z
	} {
		if got := trieStates(tc.pats); got != tc.want {
			t.Errorf("trieStates(%q) = %d, want %d", tc.pats, got, tc.want)
		}
		m, err := newMatcher(tc.pats)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(m.next) / m.nclass; got != tc.want {
			t.Errorf("%q: automaton of %d states, want %d", tc.pats, got, tc.want)
		}
	}
}

// TestMatcherStateLimit: a pattern set needing more states than a
// transition can name is refused, not truncated.
func TestMatcherStateLimit(t *testing.T) {
	var pats []string
	for i := 0; i < 40; i++ {
		p := make([]byte, 1000)
		for j := range p {
			p[j] = 'a' + byte((i+j*7)%26)
		}
		p[0] = 'a' + byte(i%26)
		p[1] = 'a' + byte(i/26)
		pats = append(pats, string(p))
	}
	if _, err := newMatcher(pats); err == nil {
		t.Fatal("40 patterns of 1000 bytes (40,000 states) were accepted")
	}
	if _, err := newMatcher(pats[:30]); err != nil {
		t.Fatalf("30 patterns of 1000 bytes (30,000 states): %v", err)
	}
}
