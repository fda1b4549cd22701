// Package decompress recognises a compressed log file by its first bytes and
// reads it as the plain text it holds.
package decompress

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/klauspost/compress/zstd"
)

// Kind is a compression format recognised by its magic bytes.
type Kind uint8

// The formats Detect recognises.
const (
	None Kind = iota
	Gzip
	Bzip2
	Zstd
)

var kindNames = [...]string{"none", "gzip", "bzip2", "zstd"}

// String returns the format's name, e.g. "gzip".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// MagicLen is the number of leading bytes Detect needs to tell every format.
const MagicLen = 4

var (
	gzipMagic  = []byte{0x1f, 0x8b}
	bzip2Magic = []byte("BZh")
	zstdMagic  = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// detect names the format whose magic bytes head starts with; None when it
// starts with none of them (plain text, or too few bytes to tell).
func detect(head []byte) Kind {
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return Gzip
	case bytes.HasPrefix(head, zstdMagic):
		return Zstd
	case len(head) >= 4 && bytes.HasPrefix(head, bzip2Magic) && head[3] >= '1' && head[3] <= '9':
		// "BZh" then the block size digit: a log line could start with "BZh"
		// but hardly with "BZh1".."BZh9" as its first four bytes.
		return Bzip2
	}
	return None
}

// NewReader returns a reader of the plain text behind r and the format it
// found. Plain input is returned as it is (buffered). The caller closes the
// returned closer, which does not close r.
func NewReader(r io.Reader) (io.ReadCloser, Kind, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(MagicLen)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, None, fmt.Errorf("read header: %w", err)
	}
	switch k := detect(head); k {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, k, fmt.Errorf("open gzip stream: %w", err)
		}
		return zr, k, nil
	case Bzip2:
		return io.NopCloser(bzip2.NewReader(br)), k, nil
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, k, fmt.Errorf("open zstd stream: %w", err)
		}
		return zstdCloser{zr}, k, nil
	default:
		return io.NopCloser(br), None, nil
	}
}

type zstdCloser struct{ *zstd.Decoder }

func (z zstdCloser) Close() error { z.Decoder.Close(); return nil }

// File is an open log file read through its decompressor.
type File struct {
	io.Reader
	Kind Kind
	f    *os.File
	dec  io.Closer
}

// Open opens path and reads it as plain text, whatever of the recognised
// formats it is stored in.
//
// Its errors do not name the path: the caller does, once.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	rc, k, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{Reader: rc, Kind: k, f: f, dec: rc}, nil
}

// Close closes the decompressor and the file.
func (f *File) Close() error {
	err := f.dec.Close()
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Head returns up to n bytes of the plain text at the start of path, for
// fingerprinting a rotated file that may have been compressed since. A
// compressed stream cut short (still being written) yields what it has.
func Head(path string, n int) ([]byte, Kind, error) {
	f, err := Open(path)
	if err != nil {
		return nil, None, err
	}
	defer f.Close()
	buf := make([]byte, n)
	m, err := io.ReadFull(f, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return buf[:m], f.Kind, err
}
