package tail_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/session-exporter/session-exporter/collector/tail"
)

// A handler gets every complete line with the offset after it; Idle says
// everything written so far has been seen, a good moment to take the
// positions for a checkpoint. Here the example stops there.
func Example() {
	dir, err := os.MkdirTemp("", "tail-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "access.log")
	if err := os.WriteFile(path, []byte("GET /a\nGET /b\nGET /unfinish"), 0o644); err != nil {
		fmt.Println(err)
		return
	}

	t, err := tail.New(tail.Config{Paths: []string{path}}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var saved []tail.Position
	h := tail.HandlerFuncs{
		LineFunc: func(f *tail.File, line []byte, end int64) {
			fmt.Printf("%s: %s (next at %d)\n", filepath.Base(f.Path), line, end)
		},
		IdleFunc: func() {
			saved = t.Positions() // on Run's goroutine: consistent with the lines seen
			cancel()
		},
	}
	if err := t.Run(ctx, h); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("resume at", saved[0].Offset)
	// Output:
	// access.log: GET /a (next at 7)
	// access.log: GET /b (next at 14)
	// resume at 14
}
