//go:build cgo

package capi

/*
#include "shim_fft.h"
*/
import "C"

import (
	"reflect"
	"strconv"
)

// The typed FFT calls: complex sides are complex64 or complex128 buffers, real sides float32
// or float64, and offsets and extents count the elements of each side's own buffer. They check
// that the element types fit the transform (both complex for C2C, real in and complex out for
// R2C, the reverse for C2R, one precision on both sides) and run the interleaved calls above
// on views of the same buffers.

// FFTElement is the element types an FFT side can have.
type FFTElement interface {
	~float32 | ~float64 | ~complex64 | ~complex128
}

// fftSide describes an element type: its precision (4 or 8 bytes per real) and whether it is
// complex. By kind, so types defined on these work too.
func fftSide[T FFTElement]() (realBytes uint64, complex bool) {
	switch reflect.TypeFor[T]().Kind() {
	case reflect.Complex64:
		return 4, true
	case reflect.Complex128:
		return 8, true
	case reflect.Float32:
		return 4, false
	}
	return 8, false
}

// viewAs returns b's memory as a buffer of To elements: the same handle (use and close go to
// it), with the element count of To. nil for a nil b.
func viewAs[To, From Element](b *DeviceBuffer[From]) *DeviceBuffer[To] {
	if b == nil || b.c == nil {
		return nil
	}
	c := *b.c
	c.n = int(c.bytes / sizeOf[To]())
	return &DeviceBuffer[To]{c: &c}
}

// fftCheckTypes checks the element types I (input) and O (output) against the transform type and
// returns the precision's real size and how many reals make one element on each side.
func fftCheckTypes[I, O FFTElement](op string, t FFTType) (realBytes uint64, inK, outK int, err error) {
	ib, ic := fftSide[I]()
	ob, oc := fftSide[O]()
	if ib != ob {
		return 0, 0, 0, errArg(op, "input and output precisions differ ("+strconv.Itoa(int(ib)*8)+
			"-bit and "+strconv.Itoa(int(ob)*8)+"-bit reals)")
	}
	var w [2]bool // complex input, complex output
	switch t {
	case FFTC2C:
		w = [2]bool{true, true}
	case FFTR2C:
		w = [2]bool{false, true}
	case FFTC2R:
		w = [2]bool{true, false}
	default:
		return 0, 0, 0, errArg(op, "unknown transform type "+strconv.Itoa(int(t)))
	}
	if ic != w[0] || oc != w[1] {
		kind := func(c bool) string {
			if c {
				return "complex"
			}
			return "real"
		}
		name := map[FFTType]string{FFTC2C: "C2C", FFTR2C: "R2C", FFTC2R: "C2R"}[t]
		return 0, 0, 0, errArg(op, "transform type "+name+" needs "+kind(w[0])+
			" input and "+kind(w[1])+" output, not "+kind(ic)+" and "+kind(oc))
	}
	inK, outK = 1, 1
	if ic {
		inK = 2
	}
	if oc {
		outK = 2
	}
	return ib, inK, outK, nil
}

// FFTExecAt queues the transform d on s, reading in from element inOff and writing out from
// element outOff (offsets and lengths count each buffer's own elements: complex values on a
// complex side, reals on a real one). The element types must fit d.Type: complex64 or
// complex128 on both sides for C2C, real input and complex output for R2C, the reverse for C2R,
// one precision on both sides (ErrInvalidArgument otherwise). The same memory with equal offsets
// is in place (for R2C and C2R, pass a buffer and its View as the other type); other overlaps
// are refused. Both buffers must be on
// s's device and hold the layouts' extents (ErrOutOfRange otherwise; see FFTExtentOf). R2C must
// be Forward, C2R Inverse. The call is one cgo crossing and does not block; the plan comes from
// the plan cache and its work area from the device's pool, in stream order.
func FFTExecAt[I, O FFTElement](s *Stream, d FFTDesc, in *DeviceBuffer[I], inOff int,
	out *DeviceBuffer[O], outOff int, dir FFTDirection, norm FFTNorm) error {
	const op = "fft"
	rb, _, _, err := fftCheckTypes[I, O](op, d.Type)
	if err != nil {
		return err
	}
	if inOff < 0 || outOff < 0 {
		return errRange(op, "negative offset "+strconv.Itoa(min(inOff, outOff)))
	}
	var desc C.cudago_fft_desc_t
	if rb == 4 {
		desc, err = fftDescToC[float32](op, &d)
	} else {
		desc, err = fftDescToC[float64](op, &d)
	}
	if err != nil {
		return err
	}
	return fftExec(op, s, desc, bufOf(in), inOff, sizeOf[I](), bufOf(out), outOff, sizeOf[O](), dir,
		norm)
}

// FFTExec is FFTExecAt from the first element of each buffer.
func FFTExec[I, O FFTElement](s *Stream, d FFTDesc, in *DeviceBuffer[I], out *DeviceBuffer[O],
	dir FFTDirection, norm FFTNorm) error {
	return FFTExecAt(s, d, in, 0, out, 0, dir, norm)
}

// FFTExtentOf returns how many elements of I and of O the layouts of d span on the input and
// output side (in place or not): what the buffers must hold past their offsets. It needs no GPU.
func FFTExtentOf[I, O FFTElement](d FFTDesc, inPlace bool) (inLen, outLen int, err error) {
	rb, ik, ok, err := fftCheckTypes[I, O]("fft extent", d.Type)
	if err != nil {
		return 0, 0, err
	}
	var a, b int
	if rb == 4 {
		a, b, err = FFTExtent[float32](d, inPlace)
	} else {
		a, b, err = FFTExtent[float64](d, inPlace)
	}
	if err != nil {
		return 0, 0, err
	}
	// The C layer counts a complex side in whole complex elements.
	return a / ik, b / ok, nil
}

// FFTC2C1D queues batch complex-to-complex transforms of n points each, packed one after the
// other. Like NumPy, the inverse is scaled by 1/n, so an Inverse undoes a Forward. in and out
// may be the same buffer.
func FFTC2C1D[C Complex](s *Stream, in, out *DeviceBuffer[C], n, batch int, dir FFTDirection) error {
	return fftC2C(s, in, out, []int{n}, batch, dir)
}

// FFTC2C2D is FFTC2C1D for rows x cols arrays (row-major).
func FFTC2C2D[C Complex](s *Stream, in, out *DeviceBuffer[C], rows, cols, batch int,
	dir FFTDirection) error {
	return fftC2C(s, in, out, []int{rows, cols}, batch, dir)
}

// FFTC2C3D is FFTC2C1D for d0 x d1 x d2 arrays (row-major).
func FFTC2C3D[C Complex](s *Stream, in, out *DeviceBuffer[C], d0, d1, d2, batch int,
	dir FFTDirection) error {
	return fftC2C(s, in, out, []int{d0, d1, d2}, batch, dir)
}

func fftC2C[C Complex](s *Stream, in, out *DeviceBuffer[C], dims []int, batch int,
	dir FFTDirection) error {
	return fftExecC(s, FFTDesc{Type: FFTC2C, Dims: dims, Batch: batch}, in, out, dir)
}

// fftExecC is FFTExec for the Complex constraint (FFTElement's complex half).
func fftExecC[I, O FFTElement](s *Stream, d FFTDesc, in *DeviceBuffer[I], out *DeviceBuffer[O],
	dir FFTDirection) error {
	return FFTExecAt(s, d, in, 0, out, 0, dir, FFTNormInverse)
}

// FFTR2C1D queues batch real-to-complex forward transforms of n real points each: in holds
// n*batch reals, out batch half spectra of n/2+1 complex values (the rest follows by Hermitian
// symmetry).
func FFTR2C1D[R Real, C Complex](s *Stream, in *DeviceBuffer[R], out *DeviceBuffer[C], n,
	batch int) error {
	return FFTExecAt(s, FFTDesc{Type: FFTR2C, Dims: []int{n}, Batch: batch}, in, 0, out, 0,
		Forward, FFTNormInverse)
}

// FFTC2R1D is the inverse of FFTR2C1D, scaled by 1/n: it reads batch half spectra of n/2+1
// complex values and writes n*batch reals. It overwrites its input (cuFFT uses it as scratch).
func FFTC2R1D[C Complex, R Real](s *Stream, in *DeviceBuffer[C], out *DeviceBuffer[R], n,
	batch int) error {
	return FFTExecAt(s, FFTDesc{Type: FFTC2R, Dims: []int{n}, Batch: batch}, in, 0, out, 0,
		Inverse, FFTNormInverse)
}
