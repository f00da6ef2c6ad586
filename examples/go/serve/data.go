package main

// The "data" of a JSON tensor: numbers, flat or nested in arrays (row-major either way), read
// straight from the request's bytes without building a []any of them.

import (
	"errors"
	"fmt"
	"strconv"
	"unsafe"
)

// parseFloat32 reads one FP32 value.
func parseFloat32(tok []byte) (float32, error) {
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(tok), len(tok)), 32)
	if err != nil {
		return 0, fmt.Errorf("value %s is not an FP32 number", tok)
	}
	return float32(f), nil
}

// parseUint8 reads one UINT8 value: an integer from 0 to 255.
func parseUint8(tok []byte) (byte, error) {
	v, err := strconv.ParseUint(unsafe.String(unsafe.SliceData(tok), len(tok)), 10, 8)
	if err != nil {
		return 0, fmt.Errorf("value %s is not a UINT8 (an integer from 0 to 255)", tok)
	}
	return byte(v), nil
}

// parseData reads the want values of a tensor's "data", a JSON array of numbers, flat or nested
// (raw is valid JSON: the request's decoder checked it). Anything but numbers and arrays, or
// another count of values, is an error.
func parseData[T any](raw []byte, want int, parse func([]byte) (T, error)) ([]T, error) {
	out := make([]T, 0, want)
	depth, i := 0, 0
	for i < len(raw) {
		c := raw[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			i++
		case c == '[':
			depth++
			i++
		case c == ']':
			depth--
			i++
		case c == '-' || (c >= '0' && c <= '9'):
			if depth == 0 {
				return nil, errors.New("data is a number, want an array")
			}
			j := i + 1
			for j < len(raw) && (raw[j] == '-' || raw[j] == '+' || raw[j] == '.' ||
				raw[j] == 'e' || raw[j] == 'E' || (raw[j] >= '0' && raw[j] <= '9')) {
				j++
			}
			if len(out) == want {
				return nil, fmt.Errorf("data has more than %d values", want)
			}
			v, err := parse(raw[i:j])
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			i = j
		default:
			kind := map[byte]string{'"': "a string", '{': "an object", 't': "true", 'f': "false", 'n': "null"}[c]
			if kind == "" {
				kind = strconv.QuoteRune(rune(c))
			}
			if depth == 0 {
				return nil, fmt.Errorf("data is %s, want an array of numbers", kind)
			}
			return nil, fmt.Errorf("data holds %s, want numbers", kind)
		}
	}
	if len(out) != want {
		return nil, fmt.Errorf("data has %d values, want %d", len(out), want)
	}
	return out, nil
}
