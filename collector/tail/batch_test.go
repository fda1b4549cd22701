package tail

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestInBatches runs the harness tests again with a BatchHandler: every
// line, event and position must be the same as with one Line call per
// line. (TestPositionFromFirstLineIdentifiesFile is left out: it takes the
// positions at the first line, which a batch includes with the lines after
// it.)
func TestInBatches(t *testing.T) {
	tests := map[string]func(*testing.T){
		"AppendsAndPartialLine": TestAppendsAndPartialLine, "Backlog": TestBacklog,
		"CompressedSinceListing": TestCompressedSinceListing, "CopyTruncate": TestCopyTruncate,
		"DoubleRotationWhileDraining": TestDoubleRotationWhileDraining, "FileAppearsAfterStart": TestFileAppearsAfterStart,
		"Glob": TestGlob, "LostAccounting": TestLostAccounting, "NewFileFoundWhileDraining": TestNewFileFoundWhileDraining,
		"NotRegular":   TestNotRegular,
		"RenameCreate": TestRenameCreate, "Resume": TestResume, "ResumeAfterRotation": TestResumeAfterRotation,
		"ResumeCompressedSiblings": TestResumeCompressedSiblings, "ResumeFingerprintMismatch": TestResumeFingerprintMismatch,
		"ResumeWhileDraining": TestResumeWhileDraining, "RotatedFileMatchedAgain": TestRotatedFileMatchedAgain,
		"RotatedTwiceUnseenCompressed": TestRotatedTwiceUnseenCompressed, "RotatedWhileGone": TestRotatedWhileGone,
		"RotationBacklogOrder": TestRotationBacklogOrder, "SameFileTwoPatterns": TestSameFileTwoPatterns,
		"StartAtEndInsideLongLine": TestStartAtEndInsideLongLine, "StartPosition": TestStartPosition,
		"TooLong": TestTooLong, "TooLongPosition": TestTooLongPosition, "VanishAndReturn": TestVanishAndReturn,
		"WaitingFileFingerprinted": TestWaitingFileFingerprinted, "Batches": testBatches,
	}
	inBatches = true
	t.Cleanup(func() { inBatches = false })
	for name, test := range tests {
		t.Run(name, test)
	}
}

// testBatches: a backlog comes in few calls, split around a line too long,
// with lines crossing reads.
func testBatches(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	var want []string
	for i := range 100 {
		fmt.Fprintf(&b, "line-%03d\n", i)
		want = append(want, fmt.Sprintf("access.log: line-%03d", i))
		if i == 49 {
			b.WriteString(strings.Repeat("x", 40) + "\n")
		}
	}
	writeFile(t, dir+"/access.log", b.String())
	h := startChunk(t, dir, Config{Paths: []string{"access.log"}, MaxLineBytes: 32}, nil, 300)
	if diff := cmp.Diff(want, h.rec.takeLines()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	h.rec.mu.Lock()
	batches := h.batch.batches
	h.rec.mu.Unlock()
	if batches < 2 || batches > 20 {
		t.Errorf("%d batches for 100 lines in reads of 300 bytes split by a line too long, want 2 to 20", batches)
	}
	c, _ := h.rec.counts()
	if c.events[EventTooLong] != 1 {
		t.Errorf("too long lines %d, want 1", c.events[EventTooLong])
	}
	if c.bytes != int64(b.Len()) {
		t.Errorf("bytes %d, want %d", c.bytes, b.Len())
	}
}
