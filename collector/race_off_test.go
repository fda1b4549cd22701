//go:build !race

package collector

// trafficLines is how many generated lines the format tests replay.
const trafficLines = 20_000
