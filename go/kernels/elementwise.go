package kernels

import (
	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/capi"
)

// BinaryOp selects the operation of [Binary] and [BinaryRange].
//
// Its methods (documented with the type it aliases):
//   - String() string
type BinaryOp = capi.BinaryOp

// The binary operations; values match cudago_binary_op_t.
const (
	OpAdd BinaryOp = capi.OpAdd // c = a + b
	OpSub BinaryOp = capi.OpSub // c = a - b
	OpMul BinaryOp = capi.OpMul // c = a * b
	OpDiv BinaryOp = capi.OpDiv // c = a / b (IEEE: x/0 is ±Inf or NaN)
)

// Add queues c = a + b.
func Add[T cudago.Float](s *cudago.Stream, a, b, c *cudago.DeviceBuffer[T]) error {
	return capi.Add[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(a), (*capi.DeviceBuffer[T])(b), (*capi.DeviceBuffer[T])(c))
}

// Sub queues c = a - b.
func Sub[T cudago.Float](s *cudago.Stream, a, b, c *cudago.DeviceBuffer[T]) error {
	return capi.Sub[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(a), (*capi.DeviceBuffer[T])(b), (*capi.DeviceBuffer[T])(c))
}

// Mul queues c = a * b.
func Mul[T cudago.Float](s *cudago.Stream, a, b, c *cudago.DeviceBuffer[T]) error {
	return capi.Mul[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(a), (*capi.DeviceBuffer[T])(b), (*capi.DeviceBuffer[T])(c))
}

// Div queues c = a / b.
func Div[T cudago.Float](s *cudago.Stream, a, b, c *cudago.DeviceBuffer[T]) error {
	return capi.Div[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(a), (*capi.DeviceBuffer[T])(b), (*capi.DeviceBuffer[T])(c))
}

// Binary queues c[i] = a[i] op b[i] over whole buffers of equal length.
func Binary[T cudago.Float](s *cudago.Stream, a, b, c *cudago.DeviceBuffer[T], op BinaryOp) error {
	return capi.Binary[T]((*capi.Stream)(s), op, (*capi.DeviceBuffer[T])(a), (*capi.DeviceBuffer[T])(b), (*capi.DeviceBuffer[T])(c))
}

// BinaryRange queues c[cOff+i] = a[aOff+i] op b[bOff+i] for 0 <= i < n.
func BinaryRange[T cudago.Float](s *cudago.Stream, a *cudago.DeviceBuffer[T], aOff int, b *cudago.DeviceBuffer[T], bOff int, c *cudago.DeviceBuffer[T], cOff, n int, op BinaryOp) error {
	return capi.BinaryRange[T]((*capi.Stream)(s), op, (*capi.DeviceBuffer[T])(a), aOff, (*capi.DeviceBuffer[T])(b), bOff, (*capi.DeviceBuffer[T])(c), cOff, n)
}

// Axpy queues y = alpha*x + y over whole buffers of equal length: one fused multiply-add per
// element in the compute type, alpha rounded to it.
func Axpy[T cudago.Float](s *cudago.Stream, alpha float64, x, y *cudago.DeviceBuffer[T]) error {
	return capi.Axpy[T]((*capi.Stream)(s), alpha, (*capi.DeviceBuffer[T])(x), (*capi.DeviceBuffer[T])(y))
}

// AxpyRange queues y[yOff+i] = alpha*x[xOff+i] + y[yOff+i] for 0 <= i < n.
func AxpyRange[T cudago.Float](s *cudago.Stream, alpha float64, x *cudago.DeviceBuffer[T], xOff int, y *cudago.DeviceBuffer[T], yOff int, n int) error {
	return capi.AxpyRange[T]((*capi.Stream)(s), alpha, (*capi.DeviceBuffer[T])(x), xOff, (*capi.DeviceBuffer[T])(y), yOff, n)
}

// Scale queues x = alpha*x over the whole buffer.
func Scale[T cudago.Float](s *cudago.Stream, alpha float64, x *cudago.DeviceBuffer[T]) error {
	return capi.Scale[T]((*capi.Stream)(s), alpha, (*capi.DeviceBuffer[T])(x))
}

// ScaleRange queues x[off+i] = alpha*x[off+i] for 0 <= i < n.
func ScaleRange[T cudago.Float](s *cudago.Stream, alpha float64, x *cudago.DeviceBuffer[T], off, n int) error {
	return capi.ScaleRange[T]((*capi.Stream)(s), alpha, (*capi.DeviceBuffer[T])(x), off, n)
}

// Fill queues x[i] = value for the whole buffer; value is rounded to T once (to nearest, ties
// to even).
func Fill[T cudago.Float](s *cudago.Stream, value float64, x *cudago.DeviceBuffer[T]) error {
	return capi.Fill[T]((*capi.Stream)(s), value, (*capi.DeviceBuffer[T])(x))
}

// FillRange queues x[off+i] = value for 0 <= i < n.
func FillRange[T cudago.Float](s *cudago.Stream, value float64, x *cudago.DeviceBuffer[T], off, n int) error {
	return capi.FillRange[T]((*capi.Stream)(s), value, (*capi.DeviceBuffer[T])(x), off, n)
}

// Cast queues dst[i] = src[i] converted from From to To, over whole buffers of equal length:
// rounded to nearest, ties to even, in one rounding (float64 to Float16 too); widening is exact;
// NaN stays NaN; values beyond To's range become ±Inf. From and To may be the same type (a copy).
func Cast[From, To cudago.Float](s *cudago.Stream, src *cudago.DeviceBuffer[From], dst *cudago.DeviceBuffer[To]) error {
	return capi.Cast[From, To]((*capi.Stream)(s), (*capi.DeviceBuffer[From])(src), (*capi.DeviceBuffer[To])(dst))
}

// CastRange queues dst[dstOff+i] = src[srcOff+i] converted, for 0 <= i < n.
func CastRange[From, To cudago.Float](s *cudago.Stream, src *cudago.DeviceBuffer[From], srcOff int, dst *cudago.DeviceBuffer[To], dstOff int, n int) error {
	return capi.CastRange[From, To]((*capi.Stream)(s), (*capi.DeviceBuffer[From])(src), srcOff, (*capi.DeviceBuffer[To])(dst), dstOff, n)
}
