package collector

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// rotation is where a file stands in the rotated set of its log.
type rotation struct {
	stem string // the live file's path: "/var/log/nginx/access.log"
	// rank orders the set oldest first: numbered rotations by number,
	// highest first, then dated ones by date, then the live file.
	group int    // 0 numbered, 1 dated, 2 the live file
	num   int    // rotation number (group 0)
	date  string // date suffix, digits only (group 1)
}

// compressedExt are the suffixes rotation adds when it compresses.
var compressedExt = []string{".gz", ".bz2", ".zst", ".xz"}

// parseRotation reads the rotated-file naming of logrotate and newsyslog:
// "access.log.2.gz" (number 2 of access.log), "access.log-20261101.gz" and
// "access.log-2026-11-01" (dateext), "access.log" (the live file).
func parseRotation(path string) rotation {
	p := path
	for _, ext := range compressedExt {
		if strings.HasSuffix(p, ext) {
			p = strings.TrimSuffix(p, ext)
			break
		}
	}
	base := filepath.Base(p)
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		if n, err := strconv.Atoi(base[i+1:]); err == nil && n >= 0 && allDigit(base[i+1:]) {
			return rotation{stem: p[:len(p)-len(base)+i], group: 0, num: n}
		}
	}
	if i := strings.LastIndexByte(base, '-'); i > 0 {
		d := base[i+1:]
		// -YYYYMMDD, -YYYYMMDDHH, -YYYYMMDD-HHMMSS are cut at the last '-',
		// so accept one more dash-separated part for the date forms.
		if j := strings.LastIndexByte(base[:i], '-'); j > 0 && len(d) <= 6 && allDigit(d) && dateLike(strings.ReplaceAll(base[j+1:i], "-", "")) {
			return rotation{stem: p[:len(p)-len(base)+j], group: 1, date: base[j+1:i] + d}
		}
		if dateLike(d) {
			return rotation{stem: p[:len(p)-len(base)+i], group: 1, date: d}
		}
		// -YYYY-MM-DD
		if k := strings.Index(base, "-"); k > 0 {
			if dd := strings.ReplaceAll(base[k+1:], "-", ""); len(dd) == 8 && dateLike(dd) {
				return rotation{stem: p[:len(p)-len(base)+k], group: 1, date: dd}
			}
		}
	}
	return rotation{stem: path, group: 2}
}

func allDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// dateLike accepts YYYYMMDD, YYYYMMDDHH and Unix seconds (dateformat -%s).
func dateLike(s string) bool {
	return allDigit(s) && (len(s) == 8 || len(s) == 10) && s[0] >= '1' && s[0] <= '2'
}

// OrderRotated returns paths with the files of each rotated set (a log and
// its rotations, compressed or not) read oldest first: "access.log.3.gz,
// access.log.2.gz, access.log.1, access.log" whatever order the shell gave
// them in. A set takes the place of its first file in paths; files of
// different logs, and "-", keep their order.
func OrderRotated(paths []string) []string {
	type item struct {
		path string
		r    rotation
	}
	var stems []string
	sets := map[string][]item{}
	for _, p := range paths {
		r := rotation{stem: p, group: 2}
		if p != "-" {
			r = parseRotation(p)
		}
		if _, ok := sets[r.stem]; !ok {
			stems = append(stems, r.stem)
		}
		sets[r.stem] = append(sets[r.stem], item{p, r})
	}
	out := make([]string, 0, len(paths))
	for _, stem := range stems {
		set := sets[stem]
		if stem == "-" {
			for range set {
				out = append(out, "-")
			}
			continue
		}
		slices.SortStableFunc(set, func(a, b item) int {
			switch {
			case a.r.group != b.r.group:
				return a.r.group - b.r.group
			case a.r.group == 0:
				return b.r.num - a.r.num
			case a.r.group == 1:
				return strings.Compare(a.r.date, b.r.date)
			}
			return 0
		})
		for _, it := range set {
			out = append(out, it.path)
		}
	}
	return out
}
