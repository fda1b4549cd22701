package accesslog

import (
	"path/filepath"
	"testing"
)

func BenchmarkTmpSWAR(b *testing.B) {
	lines := readLines(b, filepath.Join("testdata", "caddy.log"))
	for _, on := range []bool{false, true, false, true, false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			useSWAR = on
			benchLines(b, mustNew(b, "caddy"), lines, true)
		})
	}
}
