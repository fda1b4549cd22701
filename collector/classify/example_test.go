package classify_test

import (
	"fmt"
	"log"
	"regexp"

	"github.com/session-exporter/session-exporter/collector/accesslog"
	"github.com/session-exporter/session-exporter/collector/classify"
)

func Example() {
	c, err := classify.New(classify.Config{
		OwnHosts: []string{"www.example.com", "example.com"},
		Goals:    []*regexp.Regexp{regexp.MustCompile(`^/checkout/thank-you`)},
		Secret:   []byte("a random secret of 32 bytes....."),
	})
	if err != nil {
		log.Fatal(err)
	}

	r := &accesslog.Request{
		RemoteAddr: []byte("203.0.113.7"),
		Method:     []byte("GET"),
		URI:        []byte("/pricing?utm_source=Newsletter&utm_medium=email&utm_campaign=weekly"),
		Status:     200,
		Referer:    []byte("https://mail.google.com/"),
		UserAgent:  []byte("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"),
	}
	var res classify.Result
	c.Classify(r, &res)
	fmt.Println(res.Kind == classify.KindPageview, res.Channel, res.Device, res.Tagged)

	r.URI = []byte("/checkout/thank-you")
	r.Referer = []byte("https://www.example.com/checkout")
	c.Classify(r, &res)
	fmt.Println(res.Channel, res.Goals)
	// Output:
	// true email mobile true
	// direct 1
}
