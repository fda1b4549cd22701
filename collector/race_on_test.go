//go:build race

package collector

// trafficLines is how many generated lines the format tests replay: the race
// detector makes classification many times slower.
const trafficLines = 2000
