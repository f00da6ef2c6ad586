//go:build cgo

package capi

/*
#include "shim_ew.h"
*/
import "C"

import "strconv"

// Reductions: Sum, Min, Max, ArgMax, Dot and Norm2 over a whole buffer, and the ...Rows forms
// along the last axis of a rows x cols row-major array (x.Len() must be rows*cols, out.Len()
// rows). They queue the work on s and return at once (one cgo call, no allocation), writing
// into a device buffer on s's device; the ...Value forms wait and return the result on the host.
//
// Accuracy, with u = 2^-24 for float32 and 2^-53 for float64 and independent of the length:
// compensated per-thread partial sums combined by a tree give
//
//	Sum:   |result - exact| <= 32u * sum|x[i]|
//	Dot:   |result - exact| <= 33u * sum|x[i]*y[i]|
//	Norm2: relative error <= 18u (sqrt of the sum of squares: it overflows to +Inf when that
//	       sum leaves the type's range, e.g. |x| near 1.8e19 for float32)
//
// and Min, Max and ArgMax are exact. NaN: Sum, Dot and Norm2 follow IEEE arithmetic; Min and
// Max return NaN when any element is NaN; ArgMax ranks NaN above every number, so it returns the
// first NaN's index if there is one, else the first index of the maximum. Empty input: Sum, Dot
// and Norm2 give 0; Min, Max and ArgMax return ErrInvalidArgument. out must not overlap x or y
// (ErrInvalidArgument).

// ReduceOp selects a reduction; values match cudago_reduce_op_t.
type ReduceOp int32

// The reductions.
const (
	ReduceSum    ReduceOp = 0
	ReduceMin    ReduceOp = 1
	ReduceMax    ReduceOp = 2
	ReduceArgMax ReduceOp = 3
	ReduceDot    ReduceOp = 4
	ReduceNorm2  ReduceOp = 5
)

var (
	reduceNames     = [...]string{"Sum", "Min", "Max", "ArgMax", "Dot", "Norm2"}
	reduceRowsNames = [...]string{"SumRows", "MinRows", "MaxRows", "ArgMaxRows", "DotRows", "Norm2Rows"}
)

func (o ReduceOp) opName(rows bool) string {
	if o < 0 || int(o) >= len(reduceNames) {
		return "reduce " + strconv.Itoa(int(o))
	}
	if rows {
		return reduceRowsNames[o]
	}
	return reduceNames[o]
}

// Sum queues out[0] = the sum of x.
func Sum[T Real](s *Stream, x, out *DeviceBuffer[T]) error {
	return reduceCall(s, ReduceSum, x, nil, out, false, 0, 0)
}

// Min queues out[0] = the smallest element of x.
func Min[T Real](s *Stream, x, out *DeviceBuffer[T]) error {
	return reduceCall(s, ReduceMin, x, nil, out, false, 0, 0)
}

// Max queues out[0] = the largest element of x.
func Max[T Real](s *Stream, x, out *DeviceBuffer[T]) error {
	return reduceCall(s, ReduceMax, x, nil, out, false, 0, 0)
}

// ArgMax queues out[0] = the first index of the largest element of x.
func ArgMax[T Real](s *Stream, x *DeviceBuffer[T], out *DeviceBuffer[int64]) error {
	return reduceCall(s, ReduceArgMax, x, nil, out, false, 0, 0)
}

// Dot queues out[0] = the sum of x[i]*y[i]; x and y must have equal lengths.
func Dot[T Real](s *Stream, x, y, out *DeviceBuffer[T]) error {
	return reduceCall(s, ReduceDot, x, y, out, false, 0, 0)
}

// Norm2 queues out[0] = the Euclidean norm of x.
func Norm2[T Real](s *Stream, x, out *DeviceBuffer[T]) error {
	return reduceCall(s, ReduceNorm2, x, nil, out, false, 0, 0)
}

// SumRows queues out[r] = the sum of row r of x, a rows x cols row-major array.
func SumRows[T Real](s *Stream, x *DeviceBuffer[T], rows, cols int, out *DeviceBuffer[T]) error {
	return reduceCall(s, ReduceSum, x, nil, out, true, rows, cols)
}

// MinRows queues out[r] = the smallest element of row r.
func MinRows[T Real](s *Stream, x *DeviceBuffer[T], rows, cols int, out *DeviceBuffer[T]) error {
	return reduceCall(s, ReduceMin, x, nil, out, true, rows, cols)
}

// MaxRows queues out[r] = the largest element of row r.
func MaxRows[T Real](s *Stream, x *DeviceBuffer[T], rows, cols int, out *DeviceBuffer[T]) error {
	return reduceCall(s, ReduceMax, x, nil, out, true, rows, cols)
}

// ArgMaxRows queues out[r] = the first column index of the largest element of row r.
func ArgMaxRows[T Real](s *Stream, x *DeviceBuffer[T], rows, cols int, out *DeviceBuffer[int64]) error {
	return reduceCall(s, ReduceArgMax, x, nil, out, true, rows, cols)
}

// DotRows queues out[r] = the dot product of row r of x and row r of y.
func DotRows[T Real](s *Stream, x, y *DeviceBuffer[T], rows, cols int, out *DeviceBuffer[T]) error {
	return reduceCall(s, ReduceDot, x, y, out, true, rows, cols)
}

// Norm2Rows queues out[r] = the Euclidean norm of row r.
func Norm2Rows[T Real](s *Stream, x *DeviceBuffer[T], rows, cols int, out *DeviceBuffer[T]) error {
	return reduceCall(s, ReduceNorm2, x, nil, out, true, rows, cols)
}

// SumValue returns the sum of x. It queues the reduction on s and waits for it.
func SumValue[T Real](s *Stream, x *DeviceBuffer[T]) (T, error) {
	return reduceValue[T, T](s, ReduceSum, x, nil)
}

// MinValue returns the smallest element of x, waiting for it.
func MinValue[T Real](s *Stream, x *DeviceBuffer[T]) (T, error) {
	return reduceValue[T, T](s, ReduceMin, x, nil)
}

// MaxValue returns the largest element of x, waiting for it.
func MaxValue[T Real](s *Stream, x *DeviceBuffer[T]) (T, error) {
	return reduceValue[T, T](s, ReduceMax, x, nil)
}

// ArgMaxValue returns the first index of the largest element of x, waiting for it.
func ArgMaxValue[T Real](s *Stream, x *DeviceBuffer[T]) (int, error) {
	i, err := reduceValue[T, int64](s, ReduceArgMax, x, nil)
	return int(i), err
}

// DotValue returns the dot product of x and y, waiting for it.
func DotValue[T Real](s *Stream, x, y *DeviceBuffer[T]) (T, error) {
	return reduceValue[T, T](s, ReduceDot, x, y)
}

// Norm2Value returns the Euclidean norm of x, waiting for it.
func Norm2Value[T Real](s *Stream, x *DeviceBuffer[T]) (T, error) {
	return reduceValue[T, T](s, ReduceNorm2, x, nil)
}

// reduceValue reduces into a one-element buffer allocated on s and copies the result back (the
// synchronous copy is ordered after the reduction).
func reduceValue[T Real, O Numeric](s *Stream, rop ReduceOp, x, y *DeviceBuffer[T]) (O, error) {
	var zero O
	out, err := NewDeviceBufferAsync[O](s, 1)
	if err != nil {
		return zero, err
	}
	err = reduceCall(s, rop, x, y, out, false, 0, 0)
	var v [1]O
	if err == nil {
		err = out.CopyToHost(v[:])
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return v[0], err
}

// reduceCall queues a whole-buffer reduction or, byRows, a rows x cols one. y is nil except for Dot.
func reduceCall[T Real, O Numeric](s *Stream, rop ReduceOp, x, y *DeviceBuffer[T],
	out *DeviceBuffer[O], byRows bool, rows, cols int) error {
	op := rop.opName(byRows)
	if rows < 0 || cols < 0 {
		return errArg(op, "negative shape "+strconv.Itoa(rows)+" x "+strconv.Itoa(cols))
	}
	dt, _ := dtypeOf[T]()
	var err error
	if y != nil {
		err = useAll(op, s, x, y, out)
	} else {
		err = useAll(op, s, x, out)
	}
	if err != nil {
		return err
	}
	n := x.c.n
	if byRows {
		if cols != 0 && rows > x.c.n/cols || rows*cols != x.c.n {
			err = errRange(op, "x has "+strconv.Itoa(x.c.n)+" elements, not "+
				strconv.Itoa(rows)+" x "+strconv.Itoa(cols))
		} else if out.c.n != rows {
			err = errRange(op, "out has "+strconv.Itoa(out.c.n)+" elements, not one per row ("+
				strconv.Itoa(rows)+")")
		}
	} else if out.c.n < 1 {
		err = errRange(op, "out is empty; it needs one element")
	}
	if err == nil && y != nil && y.c.n != n {
		err = errRange(op, "x has "+strconv.Itoa(n)+" elements and y "+strconv.Itoa(y.c.n))
	}
	var r C.cg_result
	if err == nil {
		var yh C.cudago_buffer_t
		if y != nil {
			yh = y.c.x.h
		}
		if byRows {
			r = C.cg_reduce_rows(s.x.h, x.c.x.h, 0, yh, 0, out.c.x.h, 0, C.uint64_t(rows),
				C.uint64_t(cols), C.int32_t(dt), C.int32_t(rop))
		} else {
			r = C.cg_reduce_all(s.x.h, x.c.x.h, 0, yh, 0, out.c.x.h, 0, C.uint64_t(n), C.int32_t(dt),
				C.int32_t(rop))
		}
	}
	if y != nil {
		dropAll(s, x, y, out)
	} else {
		dropAll(s, x, out)
	}
	if err != nil {
		return err
	}
	return errorFrom(op, r.err)
}
