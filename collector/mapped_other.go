//go:build !linux

package collector

import (
	"errors"
	"os"
)

// Files are mapped on Linux only; elsewhere replay reads them.
const canMap = false

var pageSize = 4096

func mapFile(*os.File, int) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmap([]byte) {}

func populate([]byte) {}

func releasePages([]byte) {}
