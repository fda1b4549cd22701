// Command ceiling is the yardstick docs/performance.md compares the replay
// with: it reads a log the way replay does (256 KiB blocks, lines cut in
// place with bytes.IndexByte) and does one map lookup a line, counting the
// lines of each client address (the text before the first space). It
// parses nothing else, so its speed is what a design with one map lookup a
// line could reach at best on the machine it runs on:
//
//	go build -o /tmp/ceiling ./tools/ceiling
//	GOMAXPROCS=1 /usr/bin/time -f '%e s' /tmp/ceiling /tmp/big.log
//
// It prints the number of lines and of distinct addresses, so the work
// cannot be optimised away and the line count can be checked against
// wc -l (which does not count a last line without a newline; this does,
// as replay does).
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ceiling FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
	defer f.Close()
	lines, keys, err := count(f, 256<<10)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
	fmt.Printf("%d lines, %d addresses\n", lines, keys)
}

// count reads r to its end in blocks of size bytes (more for a longer
// line) and returns how many lines it has (a last line without a newline
// counts) and how many distinct first fields.
func count(r io.Reader, size int) (lines, keys int, err error) {
	seen := make(map[string]*int, 1<<16)
	buf := make([]byte, size)
	have := 0
	for {
		n, rerr := r.Read(buf[have:])
		have += n
		data := buf[:have]
		for {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 {
				break
			}
			key(seen, data[:nl])
			lines++
			data = data[nl+1:]
		}
		// Keep the unfinished line at the front; grow the buffer if one
		// line fills it.
		have = copy(buf, data)
		if have == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
		if rerr == io.EOF {
			if have > 0 {
				key(seen, buf[:have])
				lines++
			}
			return lines, len(seen), nil
		}
		if rerr != nil {
			return lines, len(seen), rerr
		}
	}
}

// key counts line under its first field: one lookup, which does not
// allocate (the compiler does not copy the key of a lookup); only a new
// address is copied, with its counter. (seen[string(line)]++ would
// allocate the key on every line.)
func key(seen map[string]*int, line []byte) {
	if sp := bytes.IndexByte(line, ' '); sp >= 0 {
		line = line[:sp]
	}
	if n := seen[string(line)]; n != nil {
		*n++
		return
	}
	one := 1
	seen[string(line)] = &one
}
