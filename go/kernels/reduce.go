package kernels

import (
	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/capi"
)

// ReduceOp selects a reduction; values match cudago_reduce_op_t.
type ReduceOp = capi.ReduceOp

// The reductions.
const (
	ReduceSum    ReduceOp = capi.ReduceSum
	ReduceMin    ReduceOp = capi.ReduceMin
	ReduceMax    ReduceOp = capi.ReduceMax
	ReduceArgMax ReduceOp = capi.ReduceArgMax
	ReduceDot    ReduceOp = capi.ReduceDot
	ReduceNorm2  ReduceOp = capi.ReduceNorm2
)

// Sum queues out[0] = the sum of x.
func Sum[T cudago.Real](s *cudago.Stream, x, out *cudago.DeviceBuffer[T]) error {
	return capi.Sum[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), (*capi.DeviceBuffer[T])(out))
}

// Min queues out[0] = the smallest element of x.
func Min[T cudago.Real](s *cudago.Stream, x, out *cudago.DeviceBuffer[T]) error {
	return capi.Min[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), (*capi.DeviceBuffer[T])(out))
}

// Max queues out[0] = the largest element of x.
func Max[T cudago.Real](s *cudago.Stream, x, out *cudago.DeviceBuffer[T]) error {
	return capi.Max[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), (*capi.DeviceBuffer[T])(out))
}

// ArgMax queues out[0] = the first index of the largest element of x.
func ArgMax[T cudago.Real](s *cudago.Stream, x *cudago.DeviceBuffer[T], out *cudago.DeviceBuffer[int64]) error {
	return capi.ArgMax[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), (*capi.DeviceBuffer[int64])(out))
}

// Dot queues out[0] = the sum of x[i]*y[i]; x and y must have equal lengths.
func Dot[T cudago.Real](s *cudago.Stream, x, y, out *cudago.DeviceBuffer[T]) error {
	return capi.Dot[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), (*capi.DeviceBuffer[T])(y), (*capi.DeviceBuffer[T])(out))
}

// Norm2 queues out[0] = the Euclidean norm of x.
func Norm2[T cudago.Real](s *cudago.Stream, x, out *cudago.DeviceBuffer[T]) error {
	return capi.Norm2[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), (*capi.DeviceBuffer[T])(out))
}

// SumRows queues out[r] = the sum of row r of x, a rows x cols row-major array.
func SumRows[T cudago.Real](s *cudago.Stream, x, out *cudago.DeviceBuffer[T], rows, cols int) error {
	return capi.SumRows[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), rows, cols, (*capi.DeviceBuffer[T])(out))
}

// MinRows queues out[r] = the smallest element of row r.
func MinRows[T cudago.Real](s *cudago.Stream, x, out *cudago.DeviceBuffer[T], rows, cols int) error {
	return capi.MinRows[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), rows, cols, (*capi.DeviceBuffer[T])(out))
}

// MaxRows queues out[r] = the largest element of row r.
func MaxRows[T cudago.Real](s *cudago.Stream, x, out *cudago.DeviceBuffer[T], rows, cols int) error {
	return capi.MaxRows[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), rows, cols, (*capi.DeviceBuffer[T])(out))
}

// ArgMaxRows queues out[r] = the first column index of the largest element of row r.
func ArgMaxRows[T cudago.Real](s *cudago.Stream, x *cudago.DeviceBuffer[T], out *cudago.DeviceBuffer[int64], rows, cols int) error {
	return capi.ArgMaxRows[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), rows, cols, (*capi.DeviceBuffer[int64])(out))
}

// DotRows queues out[r] = the dot product of row r of x and row r of y.
func DotRows[T cudago.Real](s *cudago.Stream, x, y, out *cudago.DeviceBuffer[T], rows, cols int) error {
	return capi.DotRows[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), (*capi.DeviceBuffer[T])(y), rows, cols, (*capi.DeviceBuffer[T])(out))
}

// Norm2Rows queues out[r] = the Euclidean norm of row r.
func Norm2Rows[T cudago.Real](s *cudago.Stream, x, out *cudago.DeviceBuffer[T], rows, cols int) error {
	return capi.Norm2Rows[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), rows, cols, (*capi.DeviceBuffer[T])(out))
}

// SumValue returns the sum of x. It queues the reduction on s and waits for it.
func SumValue[T cudago.Real](s *cudago.Stream, x *cudago.DeviceBuffer[T]) (T, error) {
	return capi.SumValue[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x))
}

// MinValue returns the smallest element of x, waiting for it.
func MinValue[T cudago.Real](s *cudago.Stream, x *cudago.DeviceBuffer[T]) (T, error) {
	return capi.MinValue[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x))
}

// MaxValue returns the largest element of x, waiting for it.
func MaxValue[T cudago.Real](s *cudago.Stream, x *cudago.DeviceBuffer[T]) (T, error) {
	return capi.MaxValue[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x))
}

// ArgMaxValue returns the first index of the largest element of x, waiting for it.
func ArgMaxValue[T cudago.Real](s *cudago.Stream, x *cudago.DeviceBuffer[T]) (int, error) {
	return capi.ArgMaxValue[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x))
}

// DotValue returns the dot product of x and y, waiting for it.
func DotValue[T cudago.Real](s *cudago.Stream, x, y *cudago.DeviceBuffer[T]) (T, error) {
	return capi.DotValue[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x), (*capi.DeviceBuffer[T])(y))
}

// Norm2Value returns the Euclidean norm of x, waiting for it.
func Norm2Value[T cudago.Real](s *cudago.Stream, x *cudago.DeviceBuffer[T]) (T, error) {
	return capi.Norm2Value[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(x))
}
