package accesslog

import (
	"bytes"
	"testing"
	"time"
)

func TestTimeFormats(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parse func([]byte) (time.Time, bool)
		in    string
		want  string // RFC 3339 in UTC; "" means rejected
	}{
		{"local UTC", parseTimeLocal, "02/Nov/2026:00:03:37 +0000", "2026-11-02T00:03:37Z"},
		{"local +0530", parseTimeLocal, "02/Nov/2026:05:33:37 +0530", "2026-11-02T00:03:37Z"},
		{"local -0800", parseTimeLocal, "01/Nov/2026:16:03:37 -0800", "2026-11-02T00:03:37Z"},
		{"local +1400", parseTimeLocal, "02/Nov/2026:14:03:37 +1400", "2026-11-02T00:03:37Z"},
		{"local -0000", parseTimeLocal, "02/Nov/2026:00:03:37 -0000", "2026-11-02T00:03:37Z"},
		{"local last second", parseTimeLocal, "31/Dec/2261:23:59:59 -1800", "2262-01-01T17:59:59Z"},
		{"local year 2262", parseTimeLocal, "01/Jan/2262:00:00:00 +0000", ""},
		{"local year 2610, which nanoseconds would wrap to 2026", parseTimeLocal, "02/Dec/2610:07:00:00 +0000", ""},
		{"iso year 2262", parseISO8601, "2262-01-01T00:00:00Z", ""},
		{"local leap day 2000", parseTimeLocal, "29/Feb/2000:00:00:00 +0000", "2000-02-29T00:00:00Z"},
		{"local no leap day 2100", parseTimeLocal, "29/Feb/2100:00:00:00 +0000", ""},
		{"local 31 April", parseTimeLocal, "31/Apr/2026:00:00:00 +0000", ""},
		{"local 31 February", parseTimeLocal, "31/Feb/2026:00:00:00 +0000", ""},
		{"local hour 24", parseTimeLocal, "02/Nov/2026:24:00:00 +0000", ""},
		{"local hour 25", parseTimeLocal, "02/Nov/2026:25:00:00 +0000", ""},
		{"local month 13", parseTimeLocal, "02/Xyz/2026:00:00:00 +0000", ""},
		{"local short", parseTimeLocal, "2/Nov/2026:00:03:37 +0000", ""},
		{"local colon zone", parseTimeLocal, "02/Nov/2026:00:03:37 +00:0", ""},
		{"local letters", parseTimeLocal, "aa/Nov/2026:00:03:37 +0000", ""},
		{"local empty", parseTimeLocal, "", ""},
		{"iso UTC", parseISO8601, "2026-11-02T00:03:37+00:00", "2026-11-02T00:03:37Z"},
		{"iso +05:30", parseISO8601, "2026-11-02T05:33:37+05:30", "2026-11-02T00:03:37Z"},
		{"iso -08:00", parseISO8601, "2026-11-01T16:03:37-08:00", "2026-11-02T00:03:37Z"},
		{"iso +0530", parseISO8601, "2026-11-02T05:33:37+0530", "2026-11-02T00:03:37Z"},
		{"iso Z", parseISO8601, "2026-11-02T00:03:37Z", "2026-11-02T00:03:37Z"},
		{"iso fraction", parseISO8601, "2026-11-02T00:03:37.5Z", "2026-11-02T00:03:37.5Z"},
		{"iso long fraction", parseISO8601, "2026-11-02T00:03:37.1234567891+00:00", "2026-11-02T00:03:37.123456789Z"},
		{"iso empty fraction", parseISO8601, "2026-11-02T00:03:37.Z", ""},
		{"iso no zone", parseISO8601, "2026-11-02T00:03:37", ""},
		{"iso month 13", parseISO8601, "2026-13-02T00:03:37+00:00", ""},
		{"iso month 0", parseISO8601, "2026-00-02T00:03:37+00:00", ""},
		{"iso 30 February", parseISO8601, "2026-02-30T00:03:37+00:00", ""},
		{"iso space separator", parseISO8601, "2026-11-02 00:03:37+00:00", ""},
		{"iso trailing", parseISO8601, "2026-11-02T00:03:37+00:00x", ""},
		{"iso year 0001", parseISO8601, "0001-01-01T00:00:00Z", ""},
		{"unix msec", parseUnix, "1793577817.421", "2026-11-02T00:03:37.421Z"},
		{"unix seconds", parseUnix, "1793577817", "2026-11-02T00:03:37Z"},
		{"unix micro", parseUnix, "1793577817.000001", "2026-11-02T00:03:37.000001Z"},
		{"unix exponent", parseUnix, "1.793577817421E+9", "2026-11-02T00:03:37.421Z"},
		{"unix negative exponent", parseUnix, "17935778174210e-4", "2026-11-02T00:03:37.421Z"},
		{"unix leading zeros", parseUnix, "0001793577817.421", "2026-11-02T00:03:37.421Z"},
		{"unix first second", parseUnix, "1", "1970-01-01T00:00:01Z"},
		{"unix last second", parseUnix, "9214646399", "2261-12-31T23:59:59Z"},
		{"unix too late", parseUnix, "9214646400", ""},
		{"unix past int64 nanoseconds", parseUnix, "20000000000", ""},
		{"unix huge", parseUnix, "99999999999999999999999999", ""},
		{"unix huge exponent", parseUnix, "1e99999999", ""},
		{"unix tiny", parseUnix, "1e-99999999", ""},
		{"unix zero", parseUnix, "0.000", ""},
		{"unix below a second", parseUnix, "0.5", ""},
		{"unix negative", parseUnix, "-5", ""},
		{"unix dot only", parseUnix, ".5", ""},
		{"unix trailing dot", parseUnix, "5.", ""},
		{"unix bad exponent", parseUnix, "5e", ""},
		{"unix letters", parseUnix, "12ab", ""},
		{"unix empty", parseUnix, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.parse([]byte(tc.in))
			switch {
			case tc.want == "" && ok:
				t.Errorf("parse(%q) = %v, want rejected", tc.in, got)
			case tc.want != "" && !ok:
				t.Errorf("parse(%q) rejected, want %s", tc.in, tc.want)
			case ok && got.Format(time.RFC3339Nano) != tc.want:
				t.Errorf("parse(%q) = %s, want %s", tc.in, got.Format(time.RFC3339Nano), tc.want)
			case ok && got.Location() != time.UTC:
				t.Errorf("parse(%q) location = %v, want UTC", tc.in, got.Location())
			}
		})
	}
}

func TestPlainASCII(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", true}, {"GET / HTTP/1.1", true}, {"0123456789abcdef~~", true},
		{"0123456\x00", false}, {"\x00", false}, {"01234567\x0089", false},
		{"abcdefgh\xc3\xa9", false}, {"\xff", false}, {"abcdefg\x80", false},
	} {
		if got := plainASCII([]byte(tc.in)); got != tc.want {
			t.Errorf("plainASCII(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	// Every length up to five words, with one bad byte at every place
	// (the word loops, the overlapping last word and the short tail each
	// see some), against a byte-by-byte check.
	simple := func(b []byte) bool {
		for _, c := range b {
			if c == 0 || c >= 0x80 {
				return false
			}
		}
		return true
	}
	for n := 0; n <= 40; n++ {
		line := bytes.Repeat([]byte{'a'}, n)
		if !plainASCII(line) {
			t.Fatalf("plainASCII(%q) = false", line)
		}
		for i := 0; i < n; i++ {
			for _, c := range []byte{0x00, 0x01, 0x7f, 0x80, 0xc3, 0xff} {
				l := bytes.Clone(line)
				l[i] = c
				if got, want := plainASCII(l), simple(l); got != want {
					t.Errorf("plainASCII(%q) = %v, want %v", l, got, want)
				}
			}
		}
	}
}
