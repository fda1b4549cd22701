package classify

// MaxValue is the largest conversion value accepted; larger ones are
// malformed. Values are kept in millionths, so sums of 9 million such values
// still fit an int64.
const MaxValue = 999_999_999

// goalValue scans the raw query q for parameter name and returns the first
// value that is a non-negative decimal, in millionths (digits beyond the
// sixth decimal are dropped), and how many values of that parameter before
// it (or in all, when none parses) were malformed or negative. It neither
// decodes nor allocates: a value written with percent escapes is malformed.
func goalValue(q []byte, name string) (micros int64, ok bool, bad uint8) {
	for len(q) > 0 {
		pair := q
		q = nil
		for i := 0; i < len(pair); i++ {
			if pair[i] == '&' {
				pair, q = pair[:i], pair[i+1:]
				break
			}
		}
		if len(pair) <= len(name) || pair[len(name)] != '=' || string(pair[:len(name)]) != name {
			continue
		}
		if v, good := parseDecimal(pair[len(name)+1:]); good {
			return v, true, bad
		}
		if bad < 255 {
			bad++
		}
	}
	return 0, false, bad
}

// parseDecimal parses "59", "59.90", "0.5" or ".5" (digits, at most one
// point, at least one digit, at most MaxValue) into millionths.
func parseDecimal(b []byte) (int64, bool) {
	var whole, frac int64
	digits, fracDigits := 0, 0
	point := false
	for _, c := range b {
		switch {
		case c == '.' && !point:
			point = true
		case c >= '0' && c <= '9':
			digits++
			if !point {
				whole = whole*10 + int64(c-'0')
				if whole > MaxValue {
					return 0, false
				}
			} else if fracDigits < 6 {
				frac = frac*10 + int64(c-'0')
				fracDigits++
			}
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	for ; fracDigits < 6; fracDigits++ {
		frac *= 10
	}
	return whole*1_000_000 + frac, true
}
