//go:build cgo && race

package cudago

const raceEnabled = true
