package collector

import (
	"bytes"
	"context"
	"io"
)

// Line splitting. Input is read in big blocks and cut into lines in place
// with bytes.IndexByte: no copy and no allocation per line. The rules, the
// same for replay, the parallel replay and standard input:
//   - a line is what precedes a '\n', without a '\r' just before it; the
//     last line of an input counts even without a newline;
//   - a line whose bytes before the '\n' (a '\r' included) are more than
//     max_line_bytes is too long: it is skipped and counted whole, however
//     long it is, with its newline;
//   - n, the bytes a line took in the input, includes its newline.

// readBlock is the size of the buffer lines are cut from.
const readBlock = 256 << 10

// splitLines calls line for every complete line of data and tooLong for
// every over-long one, and returns the bytes after the last newline.
func splitLines(data []byte, max int, line func(b []byte, n int), tooLong func(n int)) (rest []byte) {
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return data
		}
		if i > max {
			tooLong(i + 1)
		} else {
			l := data[:i]
			if i > 0 && l[i-1] == '\r' {
				l = l[:i-1]
			}
			line(l, i+1)
		}
		data = data[i+1:]
	}
}

// lastLine handles an input's last bytes, a line without newline.
func lastLine(data []byte, max int, line func(b []byte, n int), tooLong func(n int)) {
	switch n := len(data); {
	case n == 0:
	case n > max:
		tooLong(n)
	case data[n-1] == '\r':
		line(data[:n-1], n)
	default:
		line(data, n)
	}
}

// blockReader reads an input in blocks for splitLines and drops the bytes
// of a line that is already too long before its end is read, so a block
// never has to hold one.
type blockReader struct {
	r       io.Reader
	max     int
	skipped int // ≥ 0: inside an over-long line, that many bytes dropped so far
	tooLong func(n int)
}

func newBlockReader(r io.Reader, max int, tooLong func(n int)) *blockReader {
	return &blockReader{r: r, max: max, skipped: -1, tooLong: tooLong}
}

// read appends what one Read returns to buf, which holds the incomplete
// line kept from the block before (see keep), and returns it; io.EOF
// comes with the last bytes.
func (b *blockReader) read(buf []byte) ([]byte, error) {
	start := len(buf)
	m, err := b.r.Read(buf[start:cap(buf)])
	buf = buf[:start+m]
	if b.skipped >= 0 && m > 0 { // start is 0 while skipping
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			b.skipped += m
			buf = buf[:0]
		} else {
			b.tooLong(b.skipped + i + 1)
			b.skipped = -1
			buf = buf[:copy(buf, buf[i+1:])] // the rare case: after a line longer than max_line_bytes
		}
	}
	if err == io.EOF && b.skipped >= 0 {
		b.tooLong(b.skipped) // the input ends inside it
		b.skipped = -1
	}
	return buf, err
}

// keep returns buf holding rest, the incomplete line after a block's last
// newline, to read more after; a rest already longer than max_line_bytes is
// dropped and its line skipped. rest may overlap buf.
func (b *blockReader) keep(buf, rest []byte) []byte {
	if len(rest) > b.max {
		b.skipped = len(rest)
		return buf[:0]
	}
	return buf[:copy(buf[:cap(buf)], rest)]
}

// eachLine splits r into lines for line (without newline or CR; n is the
// bytes it took in the input) and tooLong, by the rules above. Every read's
// lines are handed on before the next read: standard input is counted as
// it arrives.
func eachLine(ctx context.Context, r io.Reader, max int, line func(b []byte, n int), tooLong func(n int)) error {
	br := newBlockReader(r, max, tooLong)
	buf := make([]byte, 0, blockSize(max))
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := br.read(buf)
		rest := splitLines(data, max, line, tooLong)
		if err == io.EOF {
			lastLine(rest, max, line, tooLong)
			return nil
		}
		if err != nil {
			return err
		}
		buf = br.keep(data, rest)
	}
}

// blockSize is the buffer for lines of at most max bytes: room for a kept
// incomplete line and a big read after it.
func blockSize(max int) int {
	return readBlock + max + 2
}
