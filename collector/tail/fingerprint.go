package tail

import (
	"hash/fnv"
	"os"
)

// updateFingerprint extends the fingerprint of s while the file is shorter
// than FingerprintSize was when it was last computed.
func (t *Tailer) updateFingerprint(s *stream) {
	if s.z != nil || s.fpLen >= FingerprintSize || s.seen <= int64(s.fpLen) {
		return
	}
	n := int(min(s.seen, FingerprintSize))
	if sum, ok := t.hashPrefix(s.f, n); ok {
		s.fp, s.fpLen = sum, n
	}
}

// fingerprintNow fingerprints the first bytes of a file just opened and not
// read yet, so that its position identifies it.
func (t *Tailer) fingerprintNow(s *stream) {
	fi, err := s.f.Stat()
	if err != nil {
		return
	}
	n := int(min(fi.Size(), FingerprintSize))
	if sum, ok := t.hashPrefix(s.f, n); ok {
		s.fp, s.fpLen = sum, n
	}
}

// fingerprintUnread extends the fingerprint of a plain file that waits its
// turn unread, so that its position keeps identifying it as it grows: it
// may be rotated and compressed before it is read.
func (t *Tailer) fingerprintUnread(s *stream) {
	if s.z == nil && s.seen == 0 && s.fpLen < FingerprintSize {
		t.fingerprintNow(s)
	}
}

// hashPrefix returns the fingerprint of the first n bytes of f.
func (t *Tailer) hashPrefix(f *os.File, n int) (uint64, bool) {
	if n == 0 {
		return 0, true // the fingerprint of nothing is 0
	}
	if _, err := f.ReadAt(t.fpBuf[:n], 0); err != nil {
		return 0, false
	}
	return fnv64a(t.fpBuf[:n]), true
}

// prefixMatches reports whether f starts with the fingerprinted bytes.
func (t *Tailer) prefixMatches(f *os.File, fp uint64, n int) bool {
	sum, ok := t.hashPrefix(f, n)
	return ok && sum == fp
}

// fnv64a is the 64-bit FNV-1a hash of b, the fingerprint of a file's start.
func fnv64a(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}
