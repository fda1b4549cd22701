//go:build race

package classify

// raceEnabled is true under the race detector, which makes sync.Pool (and
// so regexp matching) drop items and allocate.
const raceEnabled = true
