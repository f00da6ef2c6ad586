//go:build cgo

package capi

/*
#include "shim_fft.h"
*/
import "C"

import "strconv"

// FFTType is the kind of transform.
type FFTType int32

const (
	// FFTC2C transforms complex data to complex data, forward or inverse.
	FFTC2C FFTType = C.CUDAGO_FFT_C2C
	// FFTR2C transforms real data to the non-redundant half of its Hermitian spectrum: the
	// last dimension n becomes n/2+1 complex values (X[k] = conj(X[n-k]) gives the rest).
	// Always forward.
	FFTR2C FFTType = C.CUDAGO_FFT_R2C
	// FFTC2R transforms such a half spectrum back to real data. Always inverse. It overwrites
	// its input (cuFFT uses it as scratch); keep a copy if you need it.
	FFTC2R FFTType = C.CUDAGO_FFT_C2R
)

// FFTDirection is the sign of the exponent: Forward is exp(-2πi jk/N), Inverse exp(+2πi jk/N).
type FFTDirection int32

const (
	Forward FFTDirection = C.CUDAGO_FFT_FORWARD
	Inverse FFTDirection = C.CUDAGO_FFT_INVERSE
)

// FFTNorm is the normalisation applied after a transform, with N the product of the sizes
// (not counting the batch). Scaling is a separate pass over the output on the stream.
type FFTNorm int32

const (
	FFTNormNone    FFTNorm = C.CUDAGO_FFT_NORM_NONE    // no scaling (cuFFT's convention)
	FFTNormInverse FFTNorm = C.CUDAGO_FFT_NORM_INVERSE // 1/N on inverse (NumPy's default)
	FFTNormOrtho   FFTNorm = C.CUDAGO_FFT_NORM_ORTHO   // 1/sqrt(N) both ways
	FFTNormForward FFTNorm = C.CUDAGO_FFT_NORM_FORWARD // 1/N on forward
)

// FFTLayout is cuFFT's advanced layout of one side, counted in that side's elements (complex
// elements on a complex side, reals on a real one): element (b, i0, .., ir) of the batch lives
// at b*Dist + Stride*(row-major index of i in an array of sizes Embed). Zero fields take their
// defaults: Embed = the side's logical sizes, Stride = 1, Dist = Stride * prod(Embed). The zero
// FFTLayout is the packed row-major layout. In place (same buffer and offset), the real side of
// R2C/C2R defaults to rows padded to 2*(n/2+1) reals, so both sides share their bytes.
type FFTLayout struct {
	Embed  []int // storage sizes per dimension, outermost first; nil or 0 = default
	Stride int
	Dist   int
}

// FFTDesc describes a transform; plans for it come from a cache, so building the descriptor
// on every call is cheap.
type FFTDesc struct {
	Type  FFTType
	Dims  []int // 1 to 3 sizes, outermost first (row-major: the last one is contiguous)
	Batch int   // number of transforms; 0 means 1
	In    FFTLayout
	Out   FFTLayout
}

func fftPrecision[T Real]() C.cudago_dtype_t {
	if sizeOf[T]() == 8 {
		return C.CUDAGO_DTYPE_F64
	}
	return C.CUDAGO_DTYPE_F32
}

func (l *FFTLayout) toC(op, which string, out *C.cudago_fft_layout_t) error {
	if len(l.Embed) > C.CUDAGO_FFT_MAX_RANK {
		return errArg(op, which+" layout has "+strconv.Itoa(len(l.Embed))+
			" embed sizes; at most 3")
	}
	for i, e := range l.Embed {
		if e < 0 {
			return errArg(op, which+" layout has a negative embed size "+strconv.Itoa(e))
		}
		out.embed[i] = C.uint64_t(e)
	}
	if l.Stride < 0 || l.Dist < 0 {
		return errArg(op, which+" layout has a negative stride or dist ("+
			strconv.Itoa(l.Stride)+", "+strconv.Itoa(l.Dist)+")")
	}
	out.stride = C.uint64_t(l.Stride)
	out.dist = C.uint64_t(l.Dist)
	return nil
}

func fftDescToC[T Real](op string, d *FFTDesc) (C.cudago_fft_desc_t, error) {
	var c C.cudago_fft_desc_t
	c.struct_size = C.uint32_t(C.sizeof_cudago_fft_desc_t)
	if len(d.Dims) > C.CUDAGO_FFT_MAX_RANK || len(d.Dims) == 0 {
		return c, errArg(op, "a transform has 1 to 3 dimensions, not "+strconv.Itoa(len(d.Dims)))
	}
	c.rank = C.uint64_t(len(d.Dims))
	for i, n := range d.Dims {
		if n < 0 {
			return c, errArg(op, "negative size "+strconv.Itoa(n))
		}
		c.dims[i] = C.uint64_t(n)
	}
	c._type = C.cudago_fft_type_t(d.Type)
	c.precision = fftPrecision[T]()
	if d.Batch < 0 {
		return c, errArg(op, "negative batch "+strconv.Itoa(d.Batch))
	}
	c.batch = C.uint64_t(max(d.Batch, 1)) // 0 means 1
	if err := d.In.toC(op, "input", &c.in); err != nil {
		return c, err
	}
	if err := d.Out.toC(op, "output", &c.out); err != nil {
		return c, err
	}
	return c, nil
}

// FFT queues the transform d on s, reading in and writing out from their first element. See
// FFTAt.
func FFT[T Real](s *Stream, d FFTDesc, in, out *DeviceBuffer[T], dir FFTDirection,
	norm FFTNorm) error {
	return FFTAt(s, d, in, 0, out, 0, dir, norm)
}

// FFTAt queues the transform d on s, reading in from element inOff and writing out from element
// outOff (offsets count T values: two per complex element). in == out with equal offsets is in
// place; other overlaps are refused. Both buffers must be on s's device and hold the layouts'
// extents (ErrOutOfRange otherwise; see FFTExtent). FFTR2C must be Forward, FFTC2R Inverse.
// The call is one cgo crossing and does not block; the plan comes from the plan cache and its
// work area from the device's pool, in stream order.
func FFTAt[T Real](s *Stream, d FFTDesc, in *DeviceBuffer[T], inOff int, out *DeviceBuffer[T],
	outOff int, dir FFTDirection, norm FFTNorm) error {
	const op = "fft"
	if inOff < 0 || outOff < 0 {
		return errRange(op, "negative offset "+strconv.Itoa(min(inOff, outOff)))
	}
	desc, err := fftDescToC[T](op, &d)
	if err != nil {
		return err
	}
	sz := sizeOf[T]()
	return fftExec(op, s, desc, bufOf(in), inOff, sz, bufOf(out), outOff, sz, dir, norm)
}

// bufOf returns b's untyped state, nil for a nil b.
func bufOf[T Element](b *DeviceBuffer[T]) *devBuf {
	if b == nil {
		return nil
	}
	return b.c
}

// fftExec runs one transform on the untyped buffers: inOff and outOff count elements of
// inSize and outSize bytes, the units the caller gave them in (and the units of the errors).
func fftExec(op string, s *Stream, desc C.cudago_fft_desc_t, in *devBuf, inOff int,
	inSize uint64, out *devBuf, outOff int, outSize uint64, dir FFTDirection, norm FFTNorm) error {
	if err := s.use(op); err != nil {
		return err
	}
	defer s.drop()
	if in == nil || out == nil {
		return errNil(op, "*DeviceBuffer")
	}
	if !in.x.acquire() {
		return errClosed(op, "device buffer")
	}
	defer in.x.release()
	if !out.x.acquire() {
		return errClosed(op, "device buffer")
	}
	defer out.x.release()
	// Offsets past the end are refused here, before they are scaled to bytes (a huge one would
	// wrap to a small byte offset and transform the wrong data).
	inLen, outLen := in.bytes/inSize, out.bytes/outSize
	if uint64(inOff) > inLen || uint64(outOff) > outLen {
		return errRange(op, "offset "+strconv.Itoa(inOff)+" (input of "+
			strconv.FormatUint(inLen, 10)+" elements) or "+strconv.Itoa(outOff)+" (output of "+
			strconv.FormatUint(outLen, 10)+" elements) is past the end of its buffer")
	}
	r := C.cg_fft_exec(s.x.h, in.x.h, C.uint64_t(uint64(inOff)*inSize), out.x.h,
		C.uint64_t(uint64(outOff)*outSize), desc, C.cudago_fft_direction_t(dir),
		C.cudago_fft_norm_t(norm))
	return errorFrom(op, r.err)
}

// FFTExtent returns how many T values the layouts of d span on the input and on the output side
// (in place or not): what the buffers must hold past their offsets. It needs no GPU.
func FFTExtent[T Real](d FFTDesc, inPlace bool) (inLen, outLen int, err error) {
	const op = "fft extent"
	if err := ready(); err != nil {
		return 0, 0, err
	}
	desc, err := fftDescToC[T](op, &d)
	if err != nil {
		return 0, 0, err
	}
	ip := C.int32_t(0)
	if inPlace {
		ip = 1
	}
	r := C.cg_fft_extent(desc, ip)
	if err := errorFrom(op, r.err); err != nil {
		return 0, 0, err
	}
	sz := sizeOf[T]()
	return int(uint64(r.in_bytes) / sz), int(uint64(r.out_bytes) / sz), nil
}

// FFT1D queues batch complex-to-complex transforms of n points each, packed one after the
// other (in and out hold 2*n*batch values). Like NumPy, the inverse is scaled by 1/n, so
// FFT1D(..., Inverse) undoes FFT1D(..., Forward). in and out may be the same buffer.
func FFT1D[T Real](s *Stream, in, out *DeviceBuffer[T], n, batch int, dir FFTDirection) error {
	return FFT(s, FFTDesc{Type: FFTC2C, Dims: []int{n}, Batch: batch}, in, out, dir, FFTNormInverse)
}

// FFT2D is FFT1D for rows x cols arrays (row-major, 2*rows*cols values each).
func FFT2D[T Real](s *Stream, in, out *DeviceBuffer[T], rows, cols, batch int,
	dir FFTDirection) error {
	return FFT(s, FFTDesc{Type: FFTC2C, Dims: []int{rows, cols}, Batch: batch}, in, out, dir,
		FFTNormInverse)
}

// FFT3D is FFT1D for d0 x d1 x d2 arrays (row-major).
func FFT3D[T Real](s *Stream, in, out *DeviceBuffer[T], d0, d1, d2, batch int,
	dir FFTDirection) error {
	return FFT(s, FFTDesc{Type: FFTC2C, Dims: []int{d0, d1, d2}, Batch: batch}, in, out, dir,
		FFTNormInverse)
}

// RFFT1D queues batch real-to-complex forward transforms of n real points each (in holds
// n*batch values) into n/2+1 complex values each (out holds 2*(n/2+1)*batch values), unscaled.
func RFFT1D[T Real](s *Stream, in, out *DeviceBuffer[T], n, batch int) error {
	return FFT(s, FFTDesc{Type: FFTR2C, Dims: []int{n}, Batch: batch}, in, out, Forward,
		FFTNormNone)
}

// IRFFT1D is the inverse of RFFT1D, scaled by 1/n: it reads batch half spectra of n/2+1
// complex values and writes n reals each. It overwrites in.
func IRFFT1D[T Real](s *Stream, in, out *DeviceBuffer[T], n, batch int) error {
	return FFT(s, FFTDesc{Type: FFTC2R, Dims: []int{n}, Batch: batch}, in, out, Inverse,
		FFTNormInverse)
}

// FFTCacheStats are the counters and bounds of the process-wide cuFFT plan cache.
type FFTCacheStats struct {
	Hits, Misses, Evictions uint64
	Entries                 uint64 // idle cached plans
	Bytes                   uint64 // sum of their work-area sizes
	InUse                   uint64 // plans used by transforms being queued right now
	MaxEntries, MaxBytes    uint64
}

// GetFFTCacheStats reads the plan cache's counters. The cache is keyed by device, sizes, type,
// precision, batch and layouts; a plan is used by one call at a time (concurrent callers of one
// shape get separate plans), and the least recently used idle plan is evicted past the bounds.
func GetFFTCacheStats() (FFTCacheStats, error) {
	if err := ready(); err != nil {
		return FFTCacheStats{}, err
	}
	r := C.cg_fft_cache_stats()
	if err := errorFrom("fft cache stats", r.err); err != nil {
		return FFTCacheStats{}, err
	}
	st := &r.stats
	return FFTCacheStats{
		Hits: uint64(st.hits), Misses: uint64(st.misses), Evictions: uint64(st.evictions),
		Entries: uint64(st.entries), Bytes: uint64(st.bytes), InUse: uint64(st.in_use),
		MaxEntries: uint64(st.max_entries), MaxBytes: uint64(st.max_bytes),
	}, nil
}

// SetFFTCacheLimits bounds the plan cache (defaults: 64 plans, 4 GiB of work-area sizes) and
// evicts down to the bounds at once. maxEntries = 0 disables caching.
func SetFFTCacheLimits(maxEntries, maxBytes uint64) error {
	if err := ready(); err != nil {
		return err
	}
	r := C.cg_fft_cache_set_limits(C.uint64_t(maxEntries), C.uint64_t(maxBytes))
	return errorFrom("fft cache limits", r.err)
}

// ClearFFTCache destroys every idle cached plan; the counters are kept.
func ClearFFTCache() error {
	if err := ready(); err != nil {
		return err
	}
	r := C.cg_fft_cache_clear()
	return errorFrom("fft cache clear", r.err)
}
