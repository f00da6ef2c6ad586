package fft

import (
	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/capi"
)

// Type is the kind of transform.
type Type = capi.FFTType

const (
	// C2C transforms complex data to complex data, forward or inverse.
	C2C Type = capi.FFTC2C
	// R2C transforms real data to the non-redundant half of its Hermitian spectrum: the
	// last dimension n becomes n/2+1 complex values (X[k] = conj(X[n-k]) gives the rest).
	// Always forward.
	R2C Type = capi.FFTR2C
	// C2R transforms such a half spectrum back to real data. Always inverse. It overwrites
	// its input (cuFFT uses it as scratch); keep a copy if you need it.
	C2R Type = capi.FFTC2R
)

// Direction is the sign of the exponent: Forward is exp(-2πi jk/N), Inverse exp(+2πi jk/N).
type Direction = capi.FFTDirection

const (
	Forward Direction = capi.Forward
	Inverse Direction = capi.Inverse
)

// Norm is the normalisation applied after a transform, with N the product of the sizes
// (not counting the batch). Scaling is a separate pass over the output on the stream.
type Norm = capi.FFTNorm

const (
	NormNone    Norm = capi.FFTNormNone    // no scaling (cuFFT's convention)
	NormInverse Norm = capi.FFTNormInverse // 1/N on inverse (NumPy's default)
	NormOrtho   Norm = capi.FFTNormOrtho   // 1/sqrt(N) both ways
	NormForward Norm = capi.FFTNormForward // 1/N on forward
)

// Layout is cuFFT's advanced layout of one side, counted in that side's elements (complex
// elements on a complex side, reals on a real one): element (b, i0, .., ir) of the batch lives
// at b*Dist + Stride*(row-major index of i in an array of sizes Embed). Zero fields take their
// defaults: Embed = the side's logical sizes, Stride = 1, Dist = Stride * prod(Embed). The zero
// Layout is the packed row-major layout. In place (same buffer and offset), the real side of
// R2C/C2R defaults to rows padded to 2*(n/2+1) reals, so both sides share their bytes.
type Layout struct {
	Embed  []int // storage sizes per dimension, outermost first; nil or 0 = default
	Stride int
	Dist   int
}

// Desc describes a transform; plans for it come from a cache, so building the descriptor
// on every call is cheap.
type Desc struct {
	Type  Type
	Dims  []int // 1 to 3 sizes, outermost first (row-major: the last one is contiguous)
	Batch int   // number of transforms; 0 means 1
	In    Layout
	Out   Layout
}

// FFT queues the transform d on s, reading in and writing out from their first element. See
// ExecAt.
func Exec[T cudago.Real](s *cudago.Stream, d Desc, in, out *cudago.DeviceBuffer[T], dir Direction, norm Norm) error {
	return capi.FFT[T]((*capi.Stream)(s), d.capi(), (*capi.DeviceBuffer[T])(in), (*capi.DeviceBuffer[T])(out), dir, norm)
}

// ExecAt queues the transform d on s, reading in from element inOff and writing out from element
// outOff (offsets count T values: two per complex element). in == out with equal offsets is in
// place; other overlaps are refused. Both buffers must be on s's device and hold the layouts'
// extents ([cudago.ErrOutOfRange] otherwise; see Extent). R2C must be Forward, C2R Inverse.
// The call is one cgo crossing and does not block; the plan comes from the plan cache and its
// work area from the device's pool, in stream order.
func ExecAt[T cudago.Real](s *cudago.Stream, d Desc, in *cudago.DeviceBuffer[T], inOff int, out *cudago.DeviceBuffer[T], outOff int, dir Direction, norm Norm) error {
	return capi.FFTAt[T]((*capi.Stream)(s), d.capi(), (*capi.DeviceBuffer[T])(in), inOff, (*capi.DeviceBuffer[T])(out), outOff, dir, norm)
}

// Extent returns how many T values the layouts of d span on the input and on the output side
// (in place or not): what the buffers must hold past their offsets. It needs no GPU.
func Extent[T cudago.Real](d Desc, inPlace bool) (inLen, outLen int, err error) {
	return capi.FFTExtent[T](d.capi(), inPlace)
}

// C2C1D queues batch complex-to-complex transforms of n points each, packed one after the
// other (in and out hold 2*n*batch values). Like NumPy, the inverse is scaled by 1/n, so
// C2C1D(..., Inverse) undoes C2C1D(..., Forward). in and out may be the same buffer.
func C2C1D[T cudago.Real](s *cudago.Stream, in, out *cudago.DeviceBuffer[T], n, batch int, dir Direction) error {
	return capi.FFT1D[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(in), (*capi.DeviceBuffer[T])(out), n, batch, dir)
}

// C2C2D is C2C1D for rows x cols arrays (row-major, 2*rows*cols values each).
func C2C2D[T cudago.Real](s *cudago.Stream, in, out *cudago.DeviceBuffer[T], rows, cols, batch int, dir Direction) error {
	return capi.FFT2D[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(in), (*capi.DeviceBuffer[T])(out), rows, cols, batch, dir)
}

// C2C3D is C2C1D for d0 x d1 x d2 arrays (row-major).
func C2C3D[T cudago.Real](s *cudago.Stream, in, out *cudago.DeviceBuffer[T], d0, d1, d2, batch int, dir Direction) error {
	return capi.FFT3D[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(in), (*capi.DeviceBuffer[T])(out), d0, d1, d2, batch, dir)
}

// R2C1D queues batch real-to-complex forward transforms of n real points each (in holds
// n*batch values) into n/2+1 complex values each (out holds 2*(n/2+1)*batch values), unscaled.
func R2C1D[T cudago.Real](s *cudago.Stream, in, out *cudago.DeviceBuffer[T], n, batch int) error {
	return capi.RFFT1D[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(in), (*capi.DeviceBuffer[T])(out), n, batch)
}

// C2R1D is the inverse of R2C1D, scaled by 1/n: it reads batch half spectra of n/2+1
// complex values and writes n reals each. It overwrites in.
func C2R1D[T cudago.Real](s *cudago.Stream, in, out *cudago.DeviceBuffer[T], n, batch int) error {
	return capi.IRFFT1D[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(in), (*capi.DeviceBuffer[T])(out), n, batch)
}

// CacheStats are the counters and bounds of the process-wide cuFFT plan cache.
type CacheStats struct {
	Hits, Misses, Evictions uint64
	Entries                 uint64 // idle cached plans
	Bytes                   uint64 // sum of their work-area sizes
	InUse                   uint64 // plans used by transforms being queued right now
	MaxEntries, MaxBytes    uint64
}

// ReadCacheStats reads the plan cache's counters. The cache is keyed by device, sizes, type,
// precision, batch and layouts; a plan is used by one call at a time (concurrent callers of one
// shape get separate plans), and the least recently used idle plan is evicted past the bounds.
func ReadCacheStats() (CacheStats, error) {
	r0, r1 := capi.GetFFTCacheStats()
	return CacheStats(r0), r1
}

// SetCacheLimits bounds the plan cache (defaults: 64 plans, 4 GiB of work-area sizes) and
// evicts down to the bounds at once. maxEntries = 0 disables caching.
func SetCacheLimits(maxEntries, maxBytes uint64) error {
	return capi.SetFFTCacheLimits(maxEntries, maxBytes)
}

// ClearCache destroys every idle cached plan; the counters are kept.
func ClearCache() error {
	return capi.ClearFFTCache()
}

func (d Desc) capi() capi.FFTDesc {
	return capi.FFTDesc{Type: d.Type, Dims: d.Dims, Batch: d.Batch, In: capi.FFTLayout(d.In),
		Out: capi.FFTLayout(d.Out)}
}
