package tail

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/session-exporter/session-exporter/collector/decompress"
)

// zReader reads the plain text of a compressed rotated file at offsets of
// the decompressed stream. Reads are expected in order (the tailer reads
// each file forward); a read behind the current offset starts the stream
// again from the beginning, one ahead of it skips forward.
type zReader struct {
	f   *os.File
	rc  io.ReadCloser
	off int64 // decompressed offset of the next byte rc returns
}

// ReadAt implements io.ReaderAt. It returns io.EOF at the clean end of the
// stream; a stream cut short (still being written, or damaged) returns the
// decompressor's error.
func (z *zReader) ReadAt(p []byte, off int64) (int, error) {
	if z.rc == nil || off < z.off {
		if err := z.reset(); err != nil {
			return 0, err
		}
	}
	if off > z.off {
		n, err := io.CopyN(io.Discard, z.rc, off-z.off)
		z.off += n
		if err != nil {
			return 0, z.fail(err)
		}
	}
	n := 0
	for n < len(p) {
		m, err := z.rc.Read(p[n:])
		n += m
		z.off += int64(m)
		if err != nil {
			return n, z.fail(err)
		}
	}
	return n, nil
}

// fail keeps io.EOF (the clean end) and drops the stream on any other
// error, so the next read starts again.
func (z *zReader) fail(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	z.close()
	return fmt.Errorf("decompress: %w", err)
}

func (z *zReader) reset() error {
	z.close()
	rc, _, err := decompress.NewReader(io.NewSectionReader(z.f, 0, 1<<62))
	if err != nil {
		return fmt.Errorf("decompress: %w", err)
	}
	z.rc, z.off = rc, 0
	return nil
}

func (z *zReader) close() {
	if z.rc != nil {
		z.rc.Close()
		z.rc = nil
	}
}
