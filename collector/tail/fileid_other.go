//go:build !unix

package tail

import "os"

// identitySupported reports whether identity can tell files apart here.
const identitySupported = false

// openFlags are the flags log files are opened with.
const openFlags = os.O_RDONLY

// identity is not available on this platform.
func identity(os.FileInfo) (fileID, bool) { return fileID{}, false }
