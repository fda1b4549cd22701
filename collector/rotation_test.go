package collector

import (
	"slices"
	"testing"
)

func TestOrderRotated(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, want []string
	}{
		{"shell glob, ten and more rotations",
			[]string{"/l/access.log", "/l/access.log.1", "/l/access.log.10.gz", "/l/access.log.2.gz", "/l/access.log.3.gz"},
			[]string{"/l/access.log.10.gz", "/l/access.log.3.gz", "/l/access.log.2.gz", "/l/access.log.1", "/l/access.log"}},
		{"dateext",
			[]string{"a.log", "a.log-20261102", "a.log-20261030.gz", "a.log-20261101.bz2"},
			[]string{"a.log-20261030.gz", "a.log-20261101.bz2", "a.log-20261102", "a.log"}},
		{"dateext with hours and dashes",
			[]string{"a.log", "a.log-2026110213", "a.log-2026110209.gz", "b.log-2026-11-02", "b.log-2026-10-31.zst", "b.log"},
			[]string{"a.log-2026110209.gz", "a.log-2026110213", "a.log", "b.log-2026-10-31.zst", "b.log-2026-11-02", "b.log"}},
		{"two logs keep their order, stdin stays",
			[]string{"shop.log", "blog.log.1", "-", "shop.log.1", "blog.log"},
			[]string{"shop.log.1", "shop.log", "blog.log.1", "blog.log", "-"}},
		{"names without a rotation keep their order",
			[]string{"b.log", "a.log", "x-y.log", "v1.2-beta"},
			[]string{"b.log", "a.log", "x-y.log", "v1.2-beta"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OrderRotated(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("OrderRotated(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}
