//go:build !unix

package tail

import "testing"

// asUnprivileged: elsewhere than on Unix the tests do not run as root
// (see unprivileged_test.go).
func asUnprivileged(*testing.T) bool { return false }
