//go:build cgo

package capi

/*
#include "shim_ew.h"
*/
import "C"

import "strconv"

// BinaryOp selects the operation of [Binary] and [BinaryRange].
type BinaryOp int32

// The binary operations; values match cudago_binary_op_t.
const (
	OpAdd BinaryOp = 0 // c = a + b
	OpSub BinaryOp = 1 // c = a - b
	OpMul BinaryOp = 2 // c = a * b
	OpDiv BinaryOp = 3 // c = a / b (IEEE: x/0 is ±Inf or NaN)
)

// String returns "add", "sub", "mul" or "div".
func (o BinaryOp) String() string {
	switch o {
	case OpAdd:
		return "add"
	case OpSub:
		return "sub"
	case OpMul:
		return "mul"
	case OpDiv:
		return "div"
	}
	return "BinaryOp(" + strconv.Itoa(int(o)) + ")"
}

// The elementwise operations queue their work on s and return at once (one cgo call each, no
// allocation). Buffers must live on s's device. The whole-buffer forms need buffers of equal
// lengths (ErrOutOfRange otherwise); the Range forms take element offsets and a count, checked
// against each buffer (ErrOutOfRange; a negative value is ErrInvalidArgument), so any element
// may start a range. An output may be exactly an input (same buffer and offset); ranges of one
// buffer that overlap partially are refused (ErrInvalidArgument).

// Add queues c = a + b.
func Add[T Float](s *Stream, a, b, c *DeviceBuffer[T]) error { return Binary(s, OpAdd, a, b, c) }

// Sub queues c = a - b.
func Sub[T Float](s *Stream, a, b, c *DeviceBuffer[T]) error { return Binary(s, OpSub, a, b, c) }

// Mul queues c = a * b.
func Mul[T Float](s *Stream, a, b, c *DeviceBuffer[T]) error { return Binary(s, OpMul, a, b, c) }

// Div queues c = a / b.
func Div[T Float](s *Stream, a, b, c *DeviceBuffer[T]) error { return Binary(s, OpDiv, a, b, c) }

// opName is the operation name of an error, built without allocating for the valid ops.
func (o BinaryOp) opName() string {
	switch o {
	case OpAdd:
		return "elementwise add"
	case OpSub:
		return "elementwise sub"
	case OpMul:
		return "elementwise mul"
	case OpDiv:
		return "elementwise div"
	}
	return "elementwise " + o.String()
}

// Binary queues c[i] = a[i] op b[i] over whole buffers of equal length.
func Binary[T Float](s *Stream, op BinaryOp, a, b, c *DeviceBuffer[T]) error {
	return binary(op.opName(), s, op, a, 0, b, 0, c, 0, -1)
}

// BinaryRange queues c[cOff+i] = a[aOff+i] op b[bOff+i] for 0 <= i < n.
func BinaryRange[T Float](s *Stream, op BinaryOp, a *DeviceBuffer[T], aOff int,
	b *DeviceBuffer[T], bOff int, c *DeviceBuffer[T], cOff int, n int) error {
	if n < 0 {
		return errArg(op.opName(), "negative count "+strconv.Itoa(n))
	}
	return binary(op.opName(), s, op, a, aOff, b, bOff, c, cOff, n)
}

// checkOffsets refuses negative offsets and, where n >= 0, ranges beyond a buffer of length size.
func checkOffsets(op, name string, off, n, size int) error {
	if off < 0 {
		return errArg(op, "negative offset "+name+" = "+strconv.Itoa(off))
	}
	if n >= 0 {
		if err := checkRange(op, off, n, size); err != nil {
			return errRange(op, name+": "+err.(*Error).Msg)
		}
	}
	return nil
}

// wholeLen returns the common length of whole-buffer operands, or an ErrOutOfRange error.
func wholeLen(op string, names string, lens ...int) (int, error) {
	for _, l := range lens[1:] {
		if l != lens[0] {
			s := ""
			for i, l := range lens {
				if i > 0 {
					s += ", "
				}
				s += strconv.Itoa(l)
			}
			return 0, errRange(op, "buffer lengths differ: "+names+" have "+s)
		}
	}
	return lens[0], nil
}

// binary does Binary (n < 0: whole buffers) and BinaryRange. The handles are held (useAll)
// from before their lengths are read until the C call has returned.
func binary[T Float](op string, s *Stream, bop BinaryOp, a *DeviceBuffer[T], aOff int,
	b *DeviceBuffer[T], bOff int, c *DeviceBuffer[T], cOff int, n int) error {
	dt, _ := dtypeOf[T]()
	if err := useAll(op, s, a, b, c); err != nil {
		return err
	}
	var err error
	if n < 0 {
		n, err = wholeLen(op, "a, b, c", a.c.n, b.c.n, c.c.n)
	}
	if err == nil {
		err = checkOffsets(op, "a", aOff, n, a.c.n)
	}
	if err == nil {
		err = checkOffsets(op, "b", bOff, n, b.c.n)
	}
	if err == nil {
		err = checkOffsets(op, "c", cOff, n, c.c.n)
	}
	var r C.cg_result
	if err == nil {
		sz := sizeOf[T]() // byte offsets: each range was checked, so they cannot overflow
		r = C.cg_ew_binary(s.x.h, a.c.x.h, C.uint64_t(uint64(aOff)*sz), b.c.x.h,
			C.uint64_t(uint64(bOff)*sz), c.c.x.h, C.uint64_t(uint64(cOff)*sz), C.uint64_t(n),
			C.int32_t(dt), C.int32_t(bop))
	}
	dropAll(s, a, b, c)
	if err != nil {
		return err
	}
	return errorFrom(op, r.err)
}

// Axpy queues y = alpha*x + y over whole buffers of equal length: one fused multiply-add per
// element in the compute type, alpha rounded to it.
func Axpy[T Float](s *Stream, alpha float64, x, y *DeviceBuffer[T]) error {
	return axpy(s, alpha, x, 0, y, 0, -1)
}

// AxpyRange queues y[yOff+i] = alpha*x[xOff+i] + y[yOff+i] for 0 <= i < n.
func AxpyRange[T Float](s *Stream, alpha float64, x *DeviceBuffer[T], xOff int,
	y *DeviceBuffer[T], yOff int, n int) error {
	if n < 0 {
		return errArg("elementwise axpy", "negative count "+strconv.Itoa(n))
	}
	return axpy(s, alpha, x, xOff, y, yOff, n)
}

func axpy[T Float](s *Stream, alpha float64, x *DeviceBuffer[T], xOff int, y *DeviceBuffer[T],
	yOff int, n int) error {
	const op = "elementwise axpy"
	dt, _ := dtypeOf[T]()
	if err := useAll(op, s, x, y); err != nil {
		return err
	}
	var err error
	if n < 0 {
		n, err = wholeLen(op, "x, y", x.c.n, y.c.n)
	}
	if err == nil {
		err = checkOffsets(op, "x", xOff, n, x.c.n)
	}
	if err == nil {
		err = checkOffsets(op, "y", yOff, n, y.c.n)
	}
	var r C.cg_result
	if err == nil {
		sz := sizeOf[T]() // byte offsets: each range was checked, so they cannot overflow
		r = C.cg_ew_axpy(s.x.h, C.double(alpha), x.c.x.h, C.uint64_t(uint64(xOff)*sz), y.c.x.h,
			C.uint64_t(uint64(yOff)*sz), C.uint64_t(n), C.int32_t(dt))
	}
	dropAll(s, x, y)
	if err != nil {
		return err
	}
	return errorFrom(op, r.err)
}

// Scale queues x = alpha*x over the whole buffer.
func Scale[T Float](s *Stream, alpha float64, x *DeviceBuffer[T]) error {
	return unary("elementwise scale", s, alpha, x, 0, -1, false)
}

// ScaleRange queues x[off+i] = alpha*x[off+i] for 0 <= i < n.
func ScaleRange[T Float](s *Stream, alpha float64, x *DeviceBuffer[T], off, n int) error {
	if n < 0 {
		return errArg("elementwise scale", "negative count "+strconv.Itoa(n))
	}
	return unary("elementwise scale", s, alpha, x, off, n, false)
}

// Fill queues x[i] = value for the whole buffer; value is rounded to T once (to nearest, ties
// to even).
func Fill[T Float](s *Stream, value float64, x *DeviceBuffer[T]) error {
	return unary("elementwise fill", s, value, x, 0, -1, true)
}

// FillRange queues x[off+i] = value for 0 <= i < n.
func FillRange[T Float](s *Stream, value float64, x *DeviceBuffer[T], off, n int) error {
	if n < 0 {
		return errArg("elementwise fill", "negative count "+strconv.Itoa(n))
	}
	return unary("elementwise fill", s, value, x, off, n, true)
}

func unary[T Float](op string, s *Stream, v float64, x *DeviceBuffer[T], off, n int,
	fill bool) error {
	dt, _ := dtypeOf[T]()
	if err := useAll(op, s, x); err != nil {
		return err
	}
	if n < 0 {
		n = x.c.n
	}
	err := checkOffsets(op, "x", off, n, x.c.n)
	sz := sizeOf[T]() // byte offset: the range was checked, so it cannot overflow
	var r C.cg_result
	switch {
	case err != nil:
	case fill:
		r = C.cg_ew_fill(s.x.h, C.double(v), x.c.x.h, C.uint64_t(uint64(off)*sz), C.uint64_t(n),
			C.int32_t(dt))
	default:
		r = C.cg_ew_scale(s.x.h, C.double(v), x.c.x.h, C.uint64_t(uint64(off)*sz), C.uint64_t(n),
			C.int32_t(dt))
	}
	dropAll(s, x)
	if err != nil {
		return err
	}
	return errorFrom(op, r.err)
}

// Cast queues dst[i] = src[i] converted from From to To, over whole buffers of equal length:
// rounded to nearest, ties to even, in one rounding (float64 to Float16 too); widening is exact;
// NaN stays NaN; values beyond To's range become ±Inf. From and To may be the same type (a copy).
func Cast[From, To Float](s *Stream, src *DeviceBuffer[From], dst *DeviceBuffer[To]) error {
	return castRange(s, src, 0, dst, 0, -1)
}

// CastRange queues dst[dstOff+i] = src[srcOff+i] converted, for 0 <= i < n.
func CastRange[From, To Float](s *Stream, src *DeviceBuffer[From], srcOff int,
	dst *DeviceBuffer[To], dstOff int, n int) error {
	if n < 0 {
		return errArg("elementwise cast", "negative count "+strconv.Itoa(n))
	}
	return castRange(s, src, srcOff, dst, dstOff, n)
}

func castRange[From, To Float](s *Stream, src *DeviceBuffer[From], srcOff int,
	dst *DeviceBuffer[To], dstOff int, n int) error {
	const op = "elementwise cast"
	from, _ := dtypeOf[From]()
	to, _ := dtypeOf[To]()
	if err := useAll(op, s, src, dst); err != nil {
		return err
	}
	var err error
	if n < 0 {
		n, err = wholeLen(op, "src, dst", src.c.n, dst.c.n)
	}
	if err == nil {
		err = checkOffsets(op, "src", srcOff, n, src.c.n)
	}
	if err == nil {
		err = checkOffsets(op, "dst", dstOff, n, dst.c.n)
	}
	var r C.cg_result
	if err == nil {
		// Byte offsets, each in its side's element size: the ranges were checked, so they
		// cannot overflow.
		r = C.cg_ew_cast(s.x.h, src.c.x.h, C.uint64_t(uint64(srcOff)*sizeOf[From]()), dst.c.x.h,
			C.uint64_t(uint64(dstOff)*sizeOf[To]()), C.uint64_t(n), C.int32_t(from), C.int32_t(to))
	}
	dropAll(s, src, dst)
	if err != nil {
		return err
	}
	return errorFrom(op, r.err)
}
