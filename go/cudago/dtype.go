package cudago

import (
	"github.com/cudago/cudago/go/internal/capi"
)

// Float is every floating-point element type: float32 and float64 (and types defined on them),
// Float16 and BFloat16. Half-precision values are computed in float32 on the GPU and rounded
// once.
type Float = capi.Float

// Real is float32 or float64 (and types defined on them): the element types in which Go can do
// arithmetic, used where results are computed or returned in the element type (reductions, BLAS
// levels 1 and 2, FFT).
type Real = capi.Real

// Float16 is an IEEE 754 binary16 value as stored on the GPU (half). Go has no 16-bit float;
// convert with [Float16From] and Float16.Float32.
//
// Its methods (documented with the type it aliases):
//   - Float32() float32
type Float16 = capi.Float16

// BFloat16 is a bfloat16 value as stored on the GPU: the top 16 bits of a float32. Convert
// with [BFloat16From] and BFloat16.Float32.
//
// Its methods (documented with the type it aliases):
//   - Float32() float32
type BFloat16 = capi.BFloat16

// Float16From rounds f to the nearest Float16 (ties to even); values beyond the range become
// ±Inf and NaN stays NaN.
func Float16From(f float32) Float16 {
	return capi.Float16From(f)
}

// BFloat16From rounds f to the nearest BFloat16 (ties to even); NaN stays NaN.
func BFloat16From(f float32) BFloat16 {
	return capi.BFloat16From(f)
}
