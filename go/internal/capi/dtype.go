//go:build cgo

package capi

/*
#include <cudago.h>
*/
import "C"

import "math"

// Float is every floating-point element type: float32 and float64 (and types defined on them),
// Float16 and BFloat16. Half-precision values are computed in float32 on the GPU and rounded
// once.
type Float interface {
	~float32 | ~float64 | Float16 | BFloat16
}

// Real is float32 or float64 (and types defined on them): the element types in which Go can do
// arithmetic, used where results are computed or returned in the element type (reductions, BLAS
// levels 1 and 2, FFT).
type Real interface {
	~float32 | ~float64
}

// Float16 is an IEEE 754 binary16 value as stored on the GPU (half). Go has no 16-bit float;
// convert with [Float16From] and [Float16.Float32].
type Float16 uint16

// BFloat16 is a bfloat16 value as stored on the GPU: the top 16 bits of a float32. Convert
// with [BFloat16From] and [BFloat16.Float32].
type BFloat16 uint16

// Float16From rounds f to the nearest Float16 (ties to even); values beyond the range become
// ±Inf and NaN stays NaN.
func Float16From(f float32) Float16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	e := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if e == 0xff { // Inf or NaN
		if mant != 0 {
			return Float16(sign | 0x7e00)
		}
		return Float16(sign | 0x7c00)
	}
	exp := e - 127 + 15
	if exp >= 31 {
		return Float16(sign | 0x7c00)
	}
	if exp <= 0 { // subnormal or zero in binary16
		if exp < -10 {
			return Float16(sign)
		}
		m := mant | 0x800000
		shift := uint(14 - exp)
		r := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return Float16(sign | uint16(r))
	}
	r := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // a carry into the exponent is right, up to +Inf
	}
	return Float16(sign | uint16(r))
}

// Float32 returns h exactly as a float32.
func (h Float16) Float32() float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// BFloat16From rounds f to the nearest BFloat16 (ties to even); NaN stays NaN.
func BFloat16From(f float32) BFloat16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return BFloat16(uint16(b>>16) | 0x40)
	}
	b += 0x7fff + (b>>16)&1
	return BFloat16(b >> 16)
}

// Float32 returns h exactly as a float32.
func (h BFloat16) Float32() float32 { return math.Float32frombits(uint32(h) << 16) }

// dtypeOf maps a Go element type to the C ABI's element type. Named types map by their
// underlying type (`type Celsius float32` is F32), except Float16 and BFloat16. ok is false
// for 16-bit integers, which have no element type.
func dtypeOf[T Numeric]() (C.cudago_dtype_t, bool) {
	var zero T
	switch any(zero).(type) {
	case Float16:
		return C.CUDAGO_DTYPE_F16, true
	case BFloat16:
		return C.CUDAGO_DTYPE_BF16, true
	}
	// By kind, so named types with a numeric underlying type work too.
	switch sizeOf[T]() {
	case 1:
		if isSigned[T]() {
			return C.CUDAGO_DTYPE_I8, true
		}
		return C.CUDAGO_DTYPE_U8, true
	case 2:
		return 0, false // 16-bit integers have no element type; use Float16 or BFloat16
	case 4:
		if isFloat[T]() {
			return C.CUDAGO_DTYPE_F32, true
		}
		if isSigned[T]() {
			return C.CUDAGO_DTYPE_I32, true
		}
		return C.CUDAGO_DTYPE_U32, true
	case 8:
		if isFloat[T]() {
			return C.CUDAGO_DTYPE_F64, true
		}
		if isSigned[T]() {
			return C.CUDAGO_DTYPE_I64, true
		}
		return C.CUDAGO_DTYPE_U64, true
	}
	return 0, false
}

// isFloat reports whether T is a floating-point type (a fractional value survives in it).
func isFloat[T Numeric]() bool {
	var half T
	half = T(1) / T(2)
	return half != 0
}

// isSigned reports whether T can hold -1.
func isSigned[T Numeric]() bool {
	var zero T
	return zero-1 < zero
}

// elemSizeC is the C ABI's size for T's element type (0 if it has none); tests compare it with
// unsafe.Sizeof.
func elemSizeC[T Numeric]() uintptr {
	dt, ok := dtypeOf[T]()
	if !ok {
		return 0
	}
	return uintptr(C.cudago_dtype_size(dt))
}

// Element types as plain constants, for tests and callers that cannot name C types.
const (
	dtF32  = C.CUDAGO_DTYPE_F32
	dtF64  = C.CUDAGO_DTYPE_F64
	dtF16  = C.CUDAGO_DTYPE_F16
	dtBF16 = C.CUDAGO_DTYPE_BF16
	dtI32  = C.CUDAGO_DTYPE_I32
	dtU32  = C.CUDAGO_DTYPE_U32
)
