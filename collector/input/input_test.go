package input

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

const accessLine = `192.0.2.10 - - [02/Nov/2026:10:15:42 +0000] "GET /pricing HTTP/1.1" 200 5123 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"`

func TestSyslogMessage(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"nginx default", "<190>Nov  2 10:15:42 web-1 nginx: " + accessLine, accessLine, true},
		{"two-digit day, own tag", "<134>Nov 12 10:15:42 web-1 shop_access: " + accessLine, accessLine, true},
		{"nohostname", "<190>Nov  2 10:15:42 nginx: " + accessLine, accessLine, true},
		{"trailing newline", "<190>Nov  2 10:15:42 web-1 nginx: " + accessLine + "\n", accessLine, true},
		{"message with ': ' inside", "<190>Nov  2 10:15:42 web-1 nginx: a: b", "a: b", true},
		{"empty message", "<190>Nov  2 10:15:42 web-1 nginx: ", "", true},
		{"no priority", "Nov  2 10:15:42 web-1 nginx: x", "", false},
		{"priority too long", "<19000>Nov  2 10:15:42 web-1 nginx: x", "", false},
		{"no tag", "<190>Nov  2 10:15:42 web-1 nginx x", "", false},
		{"RFC 5424", "<190>1 2026-11-02T10:15:42Z web-1 nginx - - - x", "", false},
		{"short", "<1>", "", false},
	} {
		msg, ok := SyslogMessage([]byte(tc.in))
		if ok != tc.ok || string(msg) != tc.want {
			t.Errorf("%s: SyslogMessage(%q) = %q, %v; want %q, %v", tc.name, tc.in, msg, ok, tc.want, tc.ok)
		}
	}
}

func TestCRI(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		stream         Stream
		partial, ok    bool
	}{
		{"full", "2026-11-02T10:15:42.123456789Z stdout F " + accessLine, accessLine, Stdout, false, true},
		{"partial", "2026-11-02T10:15:42.123456789Z stdout P 192.0.2.10 - - [", "192.0.2.10 - - [", Stdout, true, true},
		{"stderr", "2026-11-02T10:15:42.123456789+00:00 stderr F error", "error", Stderr, false, true},
		{"tag with more", "2026-11-02T10:15:42.123456789Z stdout F:x line", "line", Stdout, false, true},
		{"empty line", "2026-11-02T10:15:42.123456789Z stdout F", "", Stdout, false, true},
		{"spaces kept", "2026-11-02T10:15:42.123456789Z stdout F  two  spaces ", " two  spaces ", Stdout, false, true},
		{"plain access line", accessLine, "", 0, false, false},
		{"unknown stream", "2026-11-02T10:15:42.123456789Z stdin F x", "", 0, false, false},
		{"unknown tag", "2026-11-02T10:15:42.123456789Z stdout X x", "", 0, false, false},
	} {
		var r Record
		ok := CRI([]byte(tc.in), &r)
		if ok != tc.ok || (ok && (string(r.Line) != tc.want || r.Stream != tc.stream || r.Partial != tc.partial)) {
			t.Errorf("%s: CRI(%q) = %+v, %v", tc.name, tc.in, r, ok)
		}
	}
}

func TestDocker(t *testing.T) {
	quoted, _ := json.Marshal(accessLine + "\n")
	for _, tc := range []struct {
		name, in, want string
		stream         Stream
		partial, ok    bool
	}{
		{"record", `{"log":` + string(quoted) + `,"stream":"stdout","time":"2026-11-02T10:15:42.123456789Z"}`, accessLine, Stdout, false, true},
		{"order and spaces", `{ "time": "x", "stream" : "stderr", "attrs": {"a": [1, "}"]}, "log": "e\u00e9\ud83d\ude00\n" }`, "eé😀", Stderr, false, true},
		{"partial", `{"log":"192.0.2.10 - - [","stream":"stdout","time":"t"}`, "192.0.2.10 - - [", Stdout, true, true},
		{"escapes", `{"log":"a\"b\\c\/d\te\r\n","stream":"stdout"}`, "a\"b\\c/d\te", Stdout, false, true},
		{"no log", `{"stream":"stdout","time":"t"}`, "", 0, false, false},
		{"no stream", `{"log":"x\n"}`, "", 0, false, false},
		{"not json", accessLine, "", 0, false, false},
		{"bad escape", `{"log":"\x\n","stream":"stdout"}`, "", 0, false, false},
		{"cut short", `{"log":"abc`, "", 0, false, false},
		{"bytes after the object", `{"stream":"stderr","log":"x\n"}}`, "", 0, false, false},
		{"JSON white space around", " \t{\"log\":\"x\\n\",\"stream\":\"stdout\"}\r\n", "x", Stdout, false, true},
		{"no-break space after", "{\"log\":\"x\\n\",\"stream\":\"stdout\"}\u00a0", "", 0, false, false},
		{"next line before", "\u0085{\"log\":\"x\\n\",\"stream\":\"stdout\"}", "", 0, false, false},
		{"raw invalid UTF-8 kept", "{\"log\":\"\xc8\xc8\\n\",\"stream\":\"stdout\"}", "\xc8\xc8", Stdout, false, true},
	} {
		var r Record
		_, ok := Docker([]byte(tc.in), &r, nil)
		if ok != tc.ok || (ok && (string(r.Line) != tc.want || r.Stream != tc.stream || r.Partial != tc.partial)) {
			t.Errorf("%s: Docker(%q) = %+v (%q), %v", tc.name, tc.in, r, r.Line, ok)
		}
	}
}

func TestJoiner(t *testing.T) {
	j := NewJoiner(20)
	add := func(s string, partial bool) (string, bool, bool) {
		l, c, tl := j.Add(&Record{Line: []byte(s), Partial: partial})
		return string(l), c, tl
	}
	if l, c, tl := add("whole", false); l != "whole" || !c || tl {
		t.Errorf("whole line: %q %v %v", l, c, tl)
	}
	if _, c, _ := add("ab", true); c {
		t.Error("a partial record completed a line")
	}
	add("cd", true)
	if l, c, tl := add("ef", false); l != "abcdef" || !c || tl {
		t.Errorf("joined: %q %v %v, want abcdef", l, c, tl)
	}
	add(strings.Repeat("x", 15), true)
	add(strings.Repeat("y", 15), true)
	if l, c, tl := add("z", false); l != "" || !c || !tl {
		t.Errorf("over the limit: %q %v %v, want too long", l, c, tl)
	}
	if l, c, tl := add("next", false); l != "next" || !c || tl {
		t.Errorf("after a too-long line: %q %v %v", l, c, tl)
	}
	if _, _, tl := add(strings.Repeat("w", 21), false); !tl {
		t.Error("a single record over the limit is not too long")
	}
}

func TestNoAllocs(t *testing.T) {
	cri := []byte("2026-11-02T10:15:42.123456789Z stdout F " + accessLine)
	quoted, _ := json.Marshal(accessLine + "\n")
	docker := []byte(`{"log":` + string(quoted) + `,"stream":"stdout","time":"2026-11-02T10:15:42.123456789Z"}`)
	sys := []byte("<190>Nov  2 10:15:42 web-1 nginx: " + accessLine)
	buf := make([]byte, 0, 1024)
	var r Record
	j := NewJoiner(1 << 16)
	if n := testing.AllocsPerRun(100, func() {
		CRI(cri, &r)
		j.Add(&r)
		buf, _ = Docker(docker, &r, buf)
		j.Add(&r)
		SyslogMessage(sys)
	}); n != 0 {
		t.Errorf("%v allocations per record, want 0", n)
	}
}

func BenchmarkInputs(b *testing.B) {
	cri := []byte("2026-11-02T10:15:42.123456789Z stdout F " + accessLine)
	quoted, _ := json.Marshal(accessLine + "\n")
	docker := []byte(`{"log":` + string(quoted) + `,"stream":"stdout","time":"2026-11-02T10:15:42.123456789Z"}`)
	sys := []byte("<190>Nov  2 10:15:42 web-1 nginx: " + accessLine)
	var r Record
	b.Run("cri", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			CRI(cri, &r)
		}
	})
	b.Run("docker", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			buf, _ = Docker(docker, &r, buf)
		}
	})
	b.Run("syslog", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			SyslogMessage(sys)
		}
	})
}

func FuzzSyslogMessage(f *testing.F) {
	f.Add([]byte("<190>Nov  2 10:15:42 web-1 nginx: " + accessLine))
	f.Add([]byte("<190>Nov  2 10:15:42 nginx: x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, ok := SyslogMessage(b)
		if ok && (len(msg) > len(b) || !strings.Contains(string(b), string(msg))) {
			t.Fatalf("message %q not inside %q", msg, b)
		}
	})
}

func FuzzCRI(f *testing.F) {
	f.Add([]byte("2026-11-02T10:15:42.123456789Z stdout F " + accessLine))
	f.Add([]byte("2026-11-02T10:15:42.123456789Z stderr P x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		if CRI(b, &r) && (!strings.HasSuffix(string(b), string(r.Line)) || r.Stream == 0) {
			t.Fatalf("CRI(%q) = %+v", b, r)
		}
	})
}

// jsonValidUTF8 is what encoding/json makes of raw bytes in a string: each
// byte that does not start a valid UTF-8 sequence becomes its own U+FFFD
// (strings.ToValidUTF8 would fold a run of them into one). Docker passes
// such bytes through raw, and the access-log parser judges them.
func jsonValidUTF8(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		sb.WriteRune(r)
		b = b[n:]
	}
	return sb.String()
}

// FuzzDocker checks the scanner against encoding/json: a record it accepts
// decodes there too, to the same log text and stream.
func FuzzDocker(f *testing.F) {
	f.Add([]byte(`{"log":"a\u00e9\n","stream":"stdout","time":"t"}`))
	f.Add([]byte(`{"stream":"stderr","log":"x"}`))
	f.Add([]byte("{\"log\":\"x\\n\",\"stream\":\"stdout\"}\u00a0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		if _, ok := Docker(b, &r, nil); !ok {
			return
		}
		var ref struct {
			Log    *string `json:"log"`
			Stream string  `json:"stream"`
		}
		if err := json.Unmarshal(b, &ref); err != nil {
			t.Fatalf("accepted %q, which encoding/json rejects: %v", b, err)
		}
		if ref.Log == nil {
			return // a duplicate or differently cased key: encoding/json differs on those
		}
		want := strings.TrimSuffix(*ref.Log, "\n")
		if r.Partial == strings.HasSuffix(*ref.Log, "\n") {
			t.Fatalf("partial %v for log %q", r.Partial, *ref.Log)
		}
		if !r.Partial {
			want = strings.TrimSuffix(want, "\r")
		}
		if string(r.Line) != want && jsonValidUTF8(r.Line) != want {
			t.Fatalf("log %q, encoding/json %q", r.Line, want)
		}
	})
}
