package fft

import (
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
