//go:build cgo

package capi

/*
#include "shim_layout.h"
*/
import "C"

import (
	"math"
	"strconv"
	"strings"
)

// Layout changes. A transpose moves elements without interpreting them, so every element type
// works: float32, Float16, BFloat16, float64, the integers. Shapes are in elements, arrays are
// dense and row-major. Each call is one cgo call that queues the work on s and returns at once.
//
// in and out must live on s's device and be different buffers (a transpose is never in place:
// ErrInvalidArgument); each must hold at least the tensor's elements (ErrOutOfRange otherwise).
// A negative dimension is ErrInvalidArgument; a zero dimension makes the call a no-op.

// Transpose2D queues out = the transpose of in: in is rows x cols, out is cols x rows.
func Transpose2D[T Numeric](s *Stream, in, out *DeviceBuffer[T], rows, cols int) error {
	const op = "Transpose2D"
	return layoutCall[T](op, s, in, out, 0, []int{rows, cols}, []string{"rows", "cols"})
}

// NHWCToNCHW queues the conversion of in, an n x h x w x c tensor (channels last, NHWC), to
// out, the same tensor as n x c x h x w (channels first, NCHW).
func NHWCToNCHW[T Numeric](s *Stream, in, out *DeviceBuffer[T], n, h, w, c int) error {
	const op = "NHWCToNCHW"
	return layoutCall[T](op, s, in, out, 1, []int{n, h, w, c}, []string{"n", "h", "w", "c"})
}

// NCHWToNHWC queues the conversion of in, an n x c x h x w tensor (NCHW), to out, the same
// tensor as n x h x w x c (NHWC).
func NCHWToNHWC[T Numeric](s *Stream, in, out *DeviceBuffer[T], n, h, w, c int) error {
	const op = "NCHWToNHWC"
	return layoutCall[T](op, s, in, out, 2, []int{n, h, w, c}, []string{"n", "h", "w", "c"})
}

// elemCount multiplies dims, refusing negative values (ErrInvalidArgument) and products beyond
// math.MaxInt (ErrOutOfRange).
func elemCount(op string, dims []int, names []string) (int, error) {
	zero := false
	for i, d := range dims {
		if d < 0 {
			return 0, errArg(op, "negative dimension "+names[i]+" = "+strconv.Itoa(d))
		}
		zero = zero || d == 0
	}
	if zero {
		return 0, nil
	}
	total := 1
	for _, d := range dims {
		if total > math.MaxInt/d {
			return 0, errRange(op, "shape "+shapeString(dims, names)+" overflows int")
		}
		total *= d
	}
	return total, nil
}

func shapeString(dims []int, names []string) string {
	var b strings.Builder
	for i, d := range dims {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(names[i] + "=" + strconv.Itoa(d))
	}
	return b.String()
}

// layoutDType is the element type passed to C for T: any type of the same size moves the same
// bytes, so 16-bit integers (which have no cudago dtype) travel as Float16.
func layoutDType[T Numeric]() C.cudago_dtype_t {
	if dt, ok := dtypeOf[T](); ok {
		return dt
	}
	return C.CUDAGO_DTYPE_F16
}

// layoutCall validates and runs one layout change; kind 0 = 2-D, 1 = NHWC->NCHW, 2 = NCHW->NHWC.
func layoutCall[T Numeric](op string, s *Stream, in, out *DeviceBuffer[T], kind int, dims []int,
	names []string) error {
	elems, err := elemCount(op, dims, names)
	if err != nil {
		return err
	}
	if err := useAll(op, s, in, out); err != nil {
		return err
	}
	var r C.cg_result
	nin, nout := in.c.n, out.c.n
	fits := nin >= elems && nout >= elems
	if fits {
		dt := layoutDType[T]()
		u := func(i int) C.uint64_t { return C.uint64_t(dims[i]) }
		switch kind { // whole buffers: both tensors start at byte 0
		case 0:
			r = C.cg_layout_transpose_2d(s.x.h, in.c.x.h, 0, out.c.x.h, 0, u(0), u(1), dt)
		case 1:
			r = C.cg_layout_nhwc_to_nchw(s.x.h, in.c.x.h, 0, out.c.x.h, 0, u(0), u(1), u(2), u(3), dt)
		default:
			r = C.cg_layout_nchw_to_nhwc(s.x.h, in.c.x.h, 0, out.c.x.h, 0, u(0), u(1), u(2), u(3), dt)
		}
	}
	dropAll(s, in, out)
	if !fits {
		return errRange(op, "shape "+shapeString(dims, names)+" has "+strconv.Itoa(elems)+
			" elements; in has "+strconv.Itoa(nin)+", out "+strconv.Itoa(nout))
	}
	return errorFrom(op, r.err)
}
