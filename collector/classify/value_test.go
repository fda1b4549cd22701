package classify

import (
	"regexp"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"59", 59_000_000, true},
		{"59.90", 59_900_000, true},
		{"0.5", 500_000, true},
		{".5", 500_000, true},
		{"7.", 7_000_000, true},
		{"0", 0, true},
		{"1.2345678", 1_234_567, true}, // digits past the sixth decimal dropped
		{"999999999", 999_999_999_000_000, true},
		{"1000000000", 0, false}, // above MaxValue
		{"-5", 0, false},
		{"", 0, false},
		{".", 0, false},
		{"1.2.3", 0, false},
		{"59,90", 0, false},
		{"1e3", 0, false},
		{"59%2E90", 0, false},
		{"+5", 0, false},
		{" 5", 0, false},
	} {
		got, ok := parseDecimal([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("parseDecimal(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestGoalValueQuery(t *testing.T) {
	for _, c := range []struct {
		q    string
		want int64
		ok   bool
		bad  uint8
	}{
		{"order=7&value=59.90", 59_900_000, true, 0},
		{"value=abc&value=12", 12_000_000, true, 1},       // first parseable one
		{"value=-3&value=x&value=", 0, false, 3},          // all malformed, counted
		{"values=5&xvalue=6&value=1", 1_000_000, true, 0}, // whole names only
		{"order=7", 0, false, 0},                          // absent: nothing to count
		{"", 0, false, 0},
		{"value=2&value=3", 2_000_000, true, 0},
	} {
		got, ok, bad := goalValue([]byte(c.q), "value")
		if got != c.want || ok != c.ok || bad != c.bad {
			t.Errorf("goalValue(%q) = %d, %v, %d; want %d, %v, %d", c.q, got, ok, bad, c.want, c.ok, c.bad)
		}
	}
}

// TestClassifyGoalValue: the value reaches the result for the goals naming
// its parameter, only on a goal's pageview, and without allocating.
func TestClassifyGoalValue(t *testing.T) {
	cfg := testConfig()
	cfg.Goals = append(cfg.Goals, regexp.MustCompile(`^/checkout/`))
	cfg.GoalValues = []string{"value", "", "value"}
	c := newTestClassifier(t, cfg)
	var res Result
	c.Classify(req(withURI("/checkout/thank-you?order=7&value=59.90")), &res)
	if res.Goals != 0b101 || res.ValueGoals != 0b101 || res.Value != 59_900_000 || res.ValueBad != 0 {
		t.Errorf("thank-you: goals %b value goals %b value %d bad %d", res.Goals, res.ValueGoals, res.Value, res.ValueBad)
	}
	c.Classify(req(withURI("/checkout/thank-you?value=-1")), &res)
	if res.ValueGoals != 0 || res.ValueBad != 1 {
		t.Errorf("negative value: value goals %b bad %d", res.ValueGoals, res.ValueBad)
	}
	c.Classify(req(withURI("/product?value=10")), &res)
	if res.Goals != 0 || res.ValueGoals != 0 || res.Value != 0 {
		t.Errorf("no goal: %+v", res)
	}
	c.Classify(req(withURI("/checkout/thank-you?value=5"), withStatus(302)), &res)
	if res.ValueGoals != 0 {
		t.Errorf("a redirect carries no value: %+v", res)
	}
	if _, err := New(Config{Secret: []byte(testSecretStr), Goals: cfg.Goals, GoalValues: []string{"v"}}); err == nil {
		t.Error("value parameters not matching the goals accepted")
	}
	if testing.Short() || raceEnabled {
		return
	}
	r := req(withURI("/checkout/thank-you?order=7&value=abc&value=59.90"))
	if n := testing.AllocsPerRun(50, func() { c.Classify(r, &res) }); n != 0 {
		t.Errorf("Classify with a goal value allocates %.1f times", n)
	}
}
