package accesslog

// vectorModes are the paths of scanQuotes this machine runs, each with
// the function that selects it; the caller restores useAVX2.
func vectorModes() []scanMode {
	modes := []scanMode{{"SSE2", func() { useAVX2 = false }}}
	if hasAVX2() {
		modes = append(modes, scanMode{"AVX2", func() { useAVX2 = true }})
	}
	return modes
}

func restoreVectorMode() func() {
	v := useAVX2
	return func() { useAVX2 = v }
}
