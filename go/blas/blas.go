package blas

import (
	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/capi"
)

// Compute selects how a float32 GEMM computes.
type Compute = capi.GEMMCompute

const (
	// ComputeDefault accumulates exactly in the data's compute type: float32 for float32,
	// Float16 and BFloat16 data, float64 for float64. Float32 data never uses TF32.
	ComputeDefault Compute = capi.ComputeDefault
	// ComputeTF32 runs float32 data through TF32 tensor cores: inputs keep 10 mantissa bits,
	// sums are float32. Several times faster; relative error about 1e-3. Float32 only.
	ComputeTF32 Compute = capi.ComputeTF32
)

// GEMMConfig describes C = alpha·op(A)·op(B) + beta·C on ROW-MAJOR matrices, as Go stores
// them: element (i, j) of a matrix with leading dimension ld is at [i*ld + j].
//
// op(A) is M x K and op(B) is K x N; C is M x N. With TransA, A is stored K x M (and op(A) is
// its transpose); likewise TransB. Leading dimensions are in elements and must be at least the
// stored row length (K for A, or M with TransA; N for B, or K with TransB; N for C); 0 means
// exactly that. Offsets (elements) say where the first matrix starts in its buffer.
//
// Batch > 1 runs Batch products, the q-th on the matrices that start StrideA·q, StrideB·q and
// StrideC·q elements after the first (a strided-batched GEMM). A stride of 0 for A or B uses
// the same matrix for every product; C's stride must keep the C matrices apart.
//
// How it maps to cuBLAS: cuBLAS is column-major, and a row-major matrix is the column-major
// matrix of its transpose with the same leading dimension. So C = op(A)·op(B) is computed as
// Cᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS receives (TransB, TransA, N, M, K, B, LDB, A, LDA, C, LDC) and
// no data moves or is transposed.
type GEMMConfig struct {
	TransA, TransB            bool
	M, N, K                   int // each at least 1
	LDA, LDB, LDC             int // 0 = tight
	OffsetA, OffsetB, OffsetC int
	Batch                     int // 0 or 1: one product
	StrideA, StrideB, StrideC int
	Compute                   Compute
}

// GEMM queues the GEMM described by cfg on s (cublasGemmEx, or cublasGemmStridedBatchedEx
// when cfg.Batch > 1). alpha and beta are converted to the compute type (float32, or float64
// for float64 data); when beta is 0, C is only written. The buffers must live on s's device and
// hold every element the parameters address ([cudago.ErrOutOfRange] otherwise); dimensions below 1, too
// small leading dimensions, and C overlapping A or B are [cudago.ErrInvalidArgument]. Everything is
// checked before cuBLAS is called. It is one cgo call and does not block.
//
// Each call costs cuBLAS's host time (~13 µs on an H100 host); [SetGraphReplay] can cut
// that for small GEMMs repeated on the same buffers (off by default).
func GEMM[T cudago.Float](s *cudago.Stream, alpha float64, a, b *cudago.DeviceBuffer[T], beta float64, c *cudago.DeviceBuffer[T], cfg GEMMConfig) error {
	return capi.GEMMEx[T]((*capi.Stream)(s), capi.GEMMConfig(cfg), alpha, (*capi.DeviceBuffer[T])(a), (*capi.DeviceBuffer[T])(b), beta, (*capi.DeviceBuffer[T])(c))
}

// SetGraphReplay turns the graph replay of small GEMMs on (maxEntries > 0) or off
// (maxEntries = 0, the default), for the whole process.
//
// With it on, a GEMM of at most maxMACs multiply-adds (M·N·K·Batch) issued again with the same
// configuration, scalars, buffers and stream is captured into a CUDA graph on its second call,
// and later identical calls launch that graph instead of calling cuBLAS: the host cost of a
// call drops from cuBLAS's ~13 µs to a graph launch's few µs. Results are those of a direct
// call: a replay reads the buffers' current contents. Buffers are matched by identity, not by
// address, so a graph is never replayed once one of its buffers was closed, even when a new
// buffer gets the same address. At most maxEntries graphs are kept per device, the least
// recently used evicted. Every call drops the graphs cached so far.
//
// It helps many small identical GEMMs queued on one stream (a loop over fixed buffers), where
// cuBLAS's host time dominates the GPU time; it costs a capture on the second call of each new
// GEMM and memory for each graph, and gains nothing for large GEMMs or GEMMs whose buffers or
// parameters change from call to call. Measure before turning it on (BenchmarkGEMMLatency
// times both). Typical values: 16 entries and 512³ MACs.
//
// Negative values are [cudago.ErrInvalidArgument], as is maxMACs above 2⁴⁰.
func SetGraphReplay(maxEntries, maxMACs int) error {
	return capi.SetGEMMGraphReplay(maxEntries, maxMACs)
}

// ClearCache releases the cuBLAS handles no call is using, each with its workspace and
// cached graphs, after the work last queued with each is done; handles in use are kept, and the
// next BLAS call creates new ones. For a program done with BLAS, or one that checks device
// memory for leaks at exit (compute-sanitizer --leak-check full).
func ClearCache() error {
	return capi.ClearBLASCache()
}

// MatMul queues C = A·B on s for dense row-major matrices: a is m x k, b is k x n and c is
// m x n (element (i, j) at [i*n + j]), with the exact compute mode.
func MatMul[T cudago.Float](s *cudago.Stream, a, b, c *cudago.DeviceBuffer[T], m, n, k int) error {
	return capi.MatMul[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(a), (*capi.DeviceBuffer[T])(b), (*capi.DeviceBuffer[T])(c), m, n, k)
}

// GEMV queues y = alpha·op(A)·x + beta·y on s. A is a row-major m x n matrix with leading
// dimension lda (0 = n); op(A) is A, or its transpose with trans. x has n elements (m with
// trans) taken every incx, y has m (n) every incy; increments must be at least 1 (0 means 1).
// In cuBLAS's column-major terms A is the n x m matrix Aᵀ, so the call runs with the opposite
// transpose and m and n swapped.
func GEMV[T cudago.Real](s *cudago.Stream, alpha float64, a, x *cudago.DeviceBuffer[T], beta float64, y *cudago.DeviceBuffer[T], m, n, lda, incx, incy int, trans bool) error {
	return capi.GEMV[T]((*capi.Stream)(s), trans, m, n, alpha, (*capi.DeviceBuffer[T])(a), lda, (*capi.DeviceBuffer[T])(x), incx, beta, (*capi.DeviceBuffer[T])(y), incy)
}

// Axpy queues y = alpha·x + y on s (cuBLAS AXPY) over n elements taken every incx and incy
// elements from the start of each buffer. x and y may be the same buffer only with equal
// increments. Increments must be at least 1 (0 means 1), here and in the other level-1 calls.
func Axpy[T cudago.Real](s *cudago.Stream, alpha float64, x, y *cudago.DeviceBuffer[T], n, incx, incy int) error {
	return capi.BLASAxpy[T]((*capi.Stream)(s), n, alpha, (*capi.DeviceBuffer[T])(x), incx, (*capi.DeviceBuffer[T])(y), incy)
}

// Scal queues x = alpha·x on s (cuBLAS SCAL) over n elements taken every incx.
func Scal[T cudago.Real](s *cudago.Stream, alpha float64, x *cudago.DeviceBuffer[T], n, incx int) error {
	return capi.BLASScal[T]((*capi.Stream)(s), n, alpha, (*capi.DeviceBuffer[T])(x), incx)
}

// Dot queues result[index] = Σ x[i]·y[i] on s (cuBLAS DOT in device pointer mode): the
// result stays on the GPU and the call does not wait; read it with a copy ordered after it
// (a synchronous CopyToHost of result is). result must not overlap x or y.
func Dot[T cudago.Real](s *cudago.Stream, x, y, result *cudago.DeviceBuffer[T], index, n, incx, incy int) error {
	return capi.BLASDot[T]((*capi.Stream)(s), n, (*capi.DeviceBuffer[T])(x), incx, (*capi.DeviceBuffer[T])(y), incy, (*capi.DeviceBuffer[T])(result), index)
}

// Nrm2 queues result[index] = sqrt(Σ x[i]²) on s (cuBLAS NRM2, overflow-safe), on the
// GPU like [Dot].
func Nrm2[T cudago.Real](s *cudago.Stream, x, result *cudago.DeviceBuffer[T], index, n, incx int) error {
	return capi.BLASNrm2[T]((*capi.Stream)(s), n, (*capi.DeviceBuffer[T])(x), incx, (*capi.DeviceBuffer[T])(result), index)
}
