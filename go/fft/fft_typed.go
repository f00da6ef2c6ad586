package fft

import (
	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/capi"
)

// Element is the element types an FFT side can have.
type Element = capi.FFTElement

// ExecAt queues the transform d on s, reading in from element inOff and writing out from
// element outOff (offsets and lengths count each buffer's own elements: complex values on a
// complex side, reals on a real one). The element types must fit d.Type: complex64 or
// complex128 on both sides for C2C, real input and complex output for R2C, the reverse for C2R,
// one precision on both sides ([cudago.ErrInvalidArgument] otherwise). The same memory with equal offsets
// is in place (for R2C and C2R, pass a buffer and its View as the other type); other overlaps
// are refused. Both buffers must be on
// s's device and hold the layouts' extents ([cudago.ErrOutOfRange] otherwise; see Extent). R2C must
// be Forward, C2R Inverse. The call is one cgo crossing and does not block; the plan comes from
// the plan cache and its work area from the device's pool, in stream order.
func ExecAt[I, O Element](s *cudago.Stream, in *cudago.DeviceBuffer[I], inOff int, out *cudago.DeviceBuffer[O], outOff int, d Desc, dir Direction, norm Norm) error {
	return capi.FFTExecAt[I, O]((*capi.Stream)(s), d.capi(), (*capi.DeviceBuffer[I])(in), inOff, (*capi.DeviceBuffer[O])(out), outOff, dir, norm)
}

// Exec is ExecAt from the first element of each buffer.
func Exec[I, O Element](s *cudago.Stream, in *cudago.DeviceBuffer[I], out *cudago.DeviceBuffer[O], d Desc, dir Direction, norm Norm) error {
	return capi.FFTExec[I, O]((*capi.Stream)(s), d.capi(), (*capi.DeviceBuffer[I])(in), (*capi.DeviceBuffer[O])(out), dir, norm)
}

// Extent returns how many elements of I and of O the layouts of d span on the input and
// output side (in place or not): what the buffers must hold past their offsets. It needs no GPU.
func Extent[I, O Element](d Desc, inPlace bool) (inLen, outLen int, err error) {
	return capi.FFTExtentOf[I, O](d.capi(), inPlace)
}

// C2C1D queues batch complex-to-complex transforms of n points each, packed one after the
// other. Like NumPy, the inverse is scaled by 1/n, so an Inverse undoes a Forward. in and out
// may be the same buffer.
func C2C1D[C cudago.Complex](s *cudago.Stream, in, out *cudago.DeviceBuffer[C], n, batch int, dir Direction) error {
	return capi.FFTC2C1D[C]((*capi.Stream)(s), (*capi.DeviceBuffer[C])(in), (*capi.DeviceBuffer[C])(out), n, batch, dir)
}

// C2C2D is C2C1D for rows x cols arrays (row-major).
func C2C2D[C cudago.Complex](s *cudago.Stream, in, out *cudago.DeviceBuffer[C], rows, cols, batch int, dir Direction) error {
	return capi.FFTC2C2D[C]((*capi.Stream)(s), (*capi.DeviceBuffer[C])(in), (*capi.DeviceBuffer[C])(out), rows, cols, batch, dir)
}

// C2C3D is C2C1D for d0 x d1 x d2 arrays (row-major).
func C2C3D[C cudago.Complex](s *cudago.Stream, in, out *cudago.DeviceBuffer[C], d0, d1, d2, batch int, dir Direction) error {
	return capi.FFTC2C3D[C]((*capi.Stream)(s), (*capi.DeviceBuffer[C])(in), (*capi.DeviceBuffer[C])(out), d0, d1, d2, batch, dir)
}

// R2C1D queues batch real-to-complex forward transforms of n real points each: in holds
// n*batch reals, out batch half spectra of n/2+1 complex values (the rest follows by Hermitian
// symmetry).
func R2C1D[R cudago.Real, C cudago.Complex](s *cudago.Stream, in *cudago.DeviceBuffer[R], out *cudago.DeviceBuffer[C], n, batch int) error {
	return capi.FFTR2C1D[R, C]((*capi.Stream)(s), (*capi.DeviceBuffer[R])(in), (*capi.DeviceBuffer[C])(out), n, batch)
}

// C2R1D is the inverse of R2C1D, scaled by 1/n: it reads batch half spectra of n/2+1
// complex values and writes n*batch reals. It overwrites its input (cuFFT uses it as scratch).
func C2R1D[C cudago.Complex, R cudago.Real](s *cudago.Stream, in *cudago.DeviceBuffer[C], out *cudago.DeviceBuffer[R], n, batch int) error {
	return capi.FFTC2R1D[C, R]((*capi.Stream)(s), (*capi.DeviceBuffer[C])(in), (*capi.DeviceBuffer[R])(out), n, batch)
}
