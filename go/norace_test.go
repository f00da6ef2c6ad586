//go:build cgo && !race

package cudago

const raceEnabled = false
