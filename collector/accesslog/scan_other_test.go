//go:build !amd64

package accesslog

// vectorModes are the paths of scanQuotes: here only the word-at-a-time
// one.
func vectorModes() []scanMode { return []scanMode{{"words", func() {}}} }

func restoreVectorMode() func() { return func() {} }
