//go:build cgo

package capi

/*
#include "shim_blas.h"
*/
import "C"

import "strconv"

// GEMMCompute selects how a float32 GEMM computes.
type GEMMCompute int32

const (
	// ComputeDefault accumulates exactly in the data's compute type: float32 for float32,
	// Float16 and BFloat16 data, float64 for float64. Float32 data never uses TF32.
	ComputeDefault GEMMCompute = C.CUDAGO_BLAS_COMPUTE_DEFAULT
	// ComputeTF32 runs float32 data through TF32 tensor cores: inputs keep 10 mantissa bits,
	// sums are float32. Several times faster; relative error about 1e-3. Float32 only.
	ComputeTF32 GEMMCompute = C.CUDAGO_BLAS_COMPUTE_TF32
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
	Compute                   GEMMCompute
}

// GEMMEx queues the GEMM described by cfg on s (cublasGemmEx, or cublasGemmStridedBatchedEx
// when cfg.Batch > 1). alpha and beta are converted to the compute type (float32, or float64
// for float64 data); when beta is 0, C is only written. The buffers must live on s's device and
// hold every element the parameters address (ErrOutOfRange otherwise); dimensions below 1, too
// small leading dimensions, and C overlapping A or B are ErrInvalidArgument. Everything is
// checked before cuBLAS is called. It is one cgo call and does not block.
//
// Each call costs cuBLAS's host time (~13 µs on an H100 host); [SetGEMMGraphReplay] can cut
// that for small GEMMs repeated on the same buffers (off by default).
func GEMMEx[T Float](s *Stream, cfg GEMMConfig, alpha float64, a, b *DeviceBuffer[T],
	beta float64, c *DeviceBuffer[T]) error {
	const op = "GEMM"
	dt, _ := dtypeOf[T]()
	if cfg.OffsetA < 0 || cfg.OffsetB < 0 || cfg.OffsetC < 0 {
		return errArg(op, "negative offset ("+strconv.Itoa(cfg.OffsetA)+", "+
			strconv.Itoa(cfg.OffsetB)+", "+strconv.Itoa(cfg.OffsetC)+")")
	}
	if err := checkNonNegative(op, intArg{"M", cfg.M}, intArg{"N", cfg.N}, intArg{"K", cfg.K},
		intArg{"LDA", cfg.LDA}, intArg{"LDB", cfg.LDB}, intArg{"LDC", cfg.LDC},
		intArg{"Batch", cfg.Batch}, intArg{"StrideA", cfg.StrideA},
		intArg{"StrideB", cfg.StrideB}, intArg{"StrideC", cfg.StrideC}); err != nil {
		return err
	}
	var p C.cudago_gemm_params_t
	p.struct_size = C.uint32_t(C.sizeof_cudago_gemm_params_t)
	p.layout = C.CUDAGO_BLAS_ROW_MAJOR
	p.trans_a = blasOp(cfg.TransA)
	p.trans_b = blasOp(cfg.TransB)
	p.dtype = dt
	p.compute = C.cudago_blas_compute_t(cfg.Compute)
	p.m, p.n, p.k = C.uint64_t(cfg.M), C.uint64_t(cfg.N), C.uint64_t(cfg.K)
	p.alpha, p.beta = C.double(alpha), C.double(beta)
	p.lda, p.ldb, p.ldc = C.uint64_t(cfg.LDA), C.uint64_t(cfg.LDB), C.uint64_t(cfg.LDC)
	p.batch = C.uint64_t(max(cfg.Batch, 1)) // the C ABI refuses 0
	p.stride_a, p.stride_b = C.uint64_t(cfg.StrideA), C.uint64_t(cfg.StrideB)
	p.stride_c = C.uint64_t(cfg.StrideC)
	if err := useAll(op, s, a, b, c); err != nil {
		return err
	}
	// Offsets past the end are refused here, before they are scaled to bytes (so the product
	// cannot overflow).
	if cfg.OffsetA > a.c.n || cfg.OffsetB > b.c.n || cfg.OffsetC > c.c.n {
		dropAll(s, a, b, c)
		return errRange(op, "offset "+strconv.Itoa(cfg.OffsetA)+", "+strconv.Itoa(cfg.OffsetB)+
			" or "+strconv.Itoa(cfg.OffsetC)+" is past the end of its buffer ("+
			strconv.Itoa(a.c.n)+", "+strconv.Itoa(b.c.n)+" and "+strconv.Itoa(c.c.n)+" values)")
	}
	sz := sizeOf[T]()
	r := C.cg_blas_gemm(s.x.h, a.c.x.h, C.uint64_t(uint64(cfg.OffsetA)*sz), b.c.x.h,
		C.uint64_t(uint64(cfg.OffsetB)*sz), c.c.x.h, C.uint64_t(uint64(cfg.OffsetC)*sz), p)
	dropAll(s, a, b, c)
	return errorFrom(op, r.err)
}

// SetGEMMGraphReplay turns the graph replay of small GEMMs on (maxEntries > 0) or off
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
// Negative values are ErrInvalidArgument, as is maxMACs above 2⁴⁰.
func SetGEMMGraphReplay(maxEntries, maxMACs int) error {
	const op = "SetGEMMGraphReplay"
	if err := checkNonNegative(op, intArg{"maxEntries", maxEntries},
		intArg{"maxMACs", maxMACs}); err != nil {
		return err
	}
	r := C.cg_blas_set_graph_replay(C.uint64_t(maxEntries), C.uint64_t(maxMACs))
	return errorFrom(op, r.err)
}

// ClearBLASCache releases the cuBLAS handles no call is using, each with its workspace and
// cached graphs, after the work last queued with each is done; handles in use are kept, and the
// next BLAS call creates new ones. For a program done with BLAS, or one that checks device
// memory for leaks at exit (compute-sanitizer --leak-check full).
func ClearBLASCache() error {
	r := C.cg_blas_cache_clear()
	return errorFrom("ClearBLASCache", r.err)
}

// GEMM queues C = alpha·op(A)·op(B) + beta·C on s for row-major matrices (see [GEMMConfig]),
// with the exact compute mode: op(A) is m x k, op(B) k x n, C m x n; lda, ldb and ldc are the
// leading dimensions (0 = tight).
func GEMM[T Float](s *Stream, transA, transB bool, m, n, k int, alpha float64,
	a *DeviceBuffer[T], lda int, b *DeviceBuffer[T], ldb int, beta float64,
	c *DeviceBuffer[T], ldc int) error {
	return GEMMEx(s, GEMMConfig{TransA: transA, TransB: transB, M: m, N: n, K: k,
		LDA: lda, LDB: ldb, LDC: ldc}, alpha, a, b, beta, c)
}

// MatMul queues C = A·B on s for dense row-major matrices: a is m x k, b is k x n and c is
// m x n (element (i, j) at [i*n + j]), with the exact compute mode.
func MatMul[T Float](s *Stream, a, b, c *DeviceBuffer[T], m, n, k int) error {
	return GEMMEx(s, GEMMConfig{M: m, N: n, K: k}, 1, a, b, 0, c)
}

// GEMV queues y = alpha·op(A)·x + beta·y on s. A is a row-major m x n matrix with leading
// dimension lda (0 = n); op(A) is A, or its transpose with trans. x has n elements (m with
// trans) taken every incx, y has m (n) every incy; increments must be at least 1 (0 means 1).
// In cuBLAS's column-major terms A is the n x m matrix Aᵀ, so the call runs with the opposite
// transpose and m and n swapped.
func GEMV[T Real](s *Stream, trans bool, m, n int, alpha float64, a *DeviceBuffer[T],
	lda int, x *DeviceBuffer[T], incx int, beta float64, y *DeviceBuffer[T], incy int) error {
	const op = "GEMV"
	dt, _ := dtypeOf[T]()
	if err := checkNonNegative(op, intArg{"m", m}, intArg{"n", n}, intArg{"lda", lda},
		intArg{"incx", incx}, intArg{"incy", incy}); err != nil {
		return err
	}
	var p C.cudago_gemv_params_t
	p.struct_size = C.uint32_t(C.sizeof_cudago_gemv_params_t)
	p.layout = C.CUDAGO_BLAS_ROW_MAJOR
	p.trans = blasOp(trans)
	p.dtype = dt
	p.m, p.n = C.uint64_t(m), C.uint64_t(n)
	p.alpha, p.beta = C.double(alpha), C.double(beta)
	p.lda = C.uint64_t(lda)
	p.incx, p.incy = blasInc(incx), blasInc(incy)
	if err := useAll(op, s, a, x, y); err != nil {
		return err
	}
	r := C.cg_blas_gemv(s.x.h, a.c.x.h, 0, x.c.x.h, 0, y.c.x.h, 0, p)
	dropAll(s, a, x, y)
	return errorFrom(op, r.err)
}

// BLASAxpy queues y = alpha·x + y on s (cuBLAS AXPY) over n elements taken every incx and incy
// elements from the start of each buffer. x and y may be the same buffer only with equal
// increments. Increments must be at least 1 (0 means 1), here and in the other level-1 calls.
func BLASAxpy[T Real](s *Stream, n int, alpha float64, x *DeviceBuffer[T], incx int,
	y *DeviceBuffer[T], incy int) error {
	const op = "BLAS axpy"
	dt, _ := dtypeOf[T]()
	if err := checkNonNegative(op, intArg{"n", n}, intArg{"incx", incx},
		intArg{"incy", incy}); err != nil {
		return err
	}
	if err := useAll(op, s, x, y); err != nil {
		return err
	}
	r := C.cg_blas_axpy(s.x.h, C.double(alpha), x.c.x.h, 0, y.c.x.h, 0, C.uint64_t(n), blasInc(incx),
		blasInc(incy), dt)
	dropAll(s, x, y)
	return errorFrom(op, r.err)
}

// BLASScal queues x = alpha·x on s (cuBLAS SCAL) over n elements taken every incx.
func BLASScal[T Real](s *Stream, n int, alpha float64, x *DeviceBuffer[T], incx int) error {
	const op = "BLAS scal"
	dt, _ := dtypeOf[T]()
	if err := checkNonNegative(op, intArg{"n", n}, intArg{"incx", incx}); err != nil {
		return err
	}
	if err := useAll(op, s, x); err != nil {
		return err
	}
	r := C.cg_blas_scal(s.x.h, C.double(alpha), x.c.x.h, 0, C.uint64_t(n), blasInc(incx), dt)
	dropAll(s, x)
	return errorFrom(op, r.err)
}

// BLASDot queues result[index] = Σ x[i]·y[i] on s (cuBLAS DOT in device pointer mode): the
// result stays on the GPU and the call does not wait; read it with a copy ordered after it
// (a synchronous CopyToHost of result is). result must not overlap x or y.
func BLASDot[T Real](s *Stream, n int, x *DeviceBuffer[T], incx int, y *DeviceBuffer[T],
	incy int, result *DeviceBuffer[T], index int) error {
	const op = "BLAS dot"
	if index < 0 {
		return errArg(op, "negative result index "+strconv.Itoa(index))
	}
	dt, _ := dtypeOf[T]()
	if err := checkNonNegative(op, intArg{"n", n}, intArg{"incx", incx},
		intArg{"incy", incy}); err != nil {
		return err
	}
	if err := useAll(op, s, x, y, result); err != nil {
		return err
	}
	if index > result.c.n {
		dropAll(s, x, y, result)
		return errRange(op, "result index "+strconv.Itoa(index)+" is past the end of a buffer of "+
			strconv.Itoa(result.c.n)+" values")
	}
	r := C.cg_blas_dot(s.x.h, x.c.x.h, 0, y.c.x.h, 0, result.c.x.h, C.uint64_t(uint64(index)*sizeOf[T]()),
		C.uint64_t(n), blasInc(incx), blasInc(incy), dt)
	dropAll(s, x, y, result)
	return errorFrom(op, r.err)
}

// BLASNrm2 queues result[index] = sqrt(Σ x[i]²) on s (cuBLAS NRM2, overflow-safe), on the
// GPU like [BLASDot].
func BLASNrm2[T Real](s *Stream, n int, x *DeviceBuffer[T], incx int,
	result *DeviceBuffer[T], index int) error {
	const op = "BLAS nrm2"
	if index < 0 {
		return errArg(op, "negative result index "+strconv.Itoa(index))
	}
	dt, _ := dtypeOf[T]()
	if err := checkNonNegative(op, intArg{"n", n}, intArg{"incx", incx}); err != nil {
		return err
	}
	if err := useAll(op, s, x, result); err != nil {
		return err
	}
	if index > result.c.n {
		dropAll(s, x, result)
		return errRange(op, "result index "+strconv.Itoa(index)+" is past the end of a buffer of "+
			strconv.Itoa(result.c.n)+" values")
	}
	r := C.cg_blas_nrm2(s.x.h, x.c.x.h, 0, result.c.x.h, C.uint64_t(uint64(index)*sizeOf[T]()),
		C.uint64_t(n), blasInc(incx), dt)
	dropAll(s, x, result)
	return errorFrom(op, r.err)
}

func blasOp(t bool) C.cudago_blas_op_t {
	if t {
		return C.CUDAGO_BLAS_OP_T
	}
	return C.CUDAGO_BLAS_OP_N
}

// blasInc is a (checked non-negative) BLAS increment for the C ABI, which refuses 0: 0 means 1
// in the Go API.
func blasInc(inc int) C.uint64_t {
	return C.uint64_t(max(inc, 1))
}

// intArg is a named int argument, for checkNonNegative.
type intArg struct {
	name string
	v    int
}

// checkNonNegative refuses the first negative argument with ErrInvalidArgument: the C ABI's
// counts, sizes and strides are uint64_t, where a negative value would wrap to a huge one.
func checkNonNegative(op string, args ...intArg) error {
	for _, a := range args {
		if a.v < 0 {
			return errArg(op, "negative "+a.name+" "+strconv.Itoa(a.v))
		}
	}
	return nil
}
