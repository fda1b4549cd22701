package telemetry

import "testing"

// TestHistogramIntegerBounds: observe compares whole observation units
// when it can; every value around every bound lands in the bucket the
// floating-point comparison gives.
func TestHistogramIntegerBounds(t *testing.T) {
	for _, tc := range []struct {
		bounds []float64
		scale  float64
		ints   bool
	}{
		{durationBounds, 1e3, true},
		{pageviewBounds, 1, true},
		{[]float64{0.5, 2.25}, 1, false},
		{[]float64{0.0005, 1}, 1e3, false},
	} {
		h := newHistogram(tc.bounds, tc.scale, 1)
		if (h.ibounds != nil) != tc.ints {
			t.Fatalf("bounds %v scale %v: integer bounds %v, want %v", tc.bounds, tc.scale, h.ibounds, tc.ints)
		}
		var values []int64
		for _, ub := range tc.bounds {
			u := int64(ub * tc.scale)
			for d := int64(-2); d <= 2; d++ {
				values = append(values, u+d)
			}
		}
		values = append(values, 0, 1, 1<<40, 1<<62)
		for _, v := range values {
			want := len(tc.bounds)
			for i, ub := range tc.bounds {
				if float64(v)/tc.scale <= ub {
					want = i
					break
				}
			}
			g := newHistogram(tc.bounds, tc.scale, 1)
			g.observe(0, v)
			if g.buckets[want].Load() != 1 || g.count[0].Load() != 1 || g.sum[0].Load() != v {
				t.Errorf("bounds %v: %d not counted in bucket %d", tc.bounds, v, want)
			}
		}
	}
}
