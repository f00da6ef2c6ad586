//go:build cgo

package cudago

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
// A small GEMM (up to 512³ multiply-adds) repeated with the same configuration, scalars and
// buffers is replayed from a CUDA graph captured on its second call: about 4 µs per call from
// Go instead of cuBLAS's ~13 µs, with the same results (CUDAGO_BLAS_GRAPHS=0 turns it off).
func GEMMEx[T Float](s *Stream, cfg GEMMConfig, alpha float64, a, b *DeviceBuffer[T],
	beta float64, c *DeviceBuffer[T]) error {
	const op = "GEMM"
	dt, _ := dtypeOf[T]()
	if cfg.OffsetA < 0 || cfg.OffsetB < 0 || cfg.OffsetC < 0 {
		return errArg(op, "negative offset ("+strconv.Itoa(cfg.OffsetA)+", "+
			strconv.Itoa(cfg.OffsetB)+", "+strconv.Itoa(cfg.OffsetC)+")")
	}
	var p C.cudago_gemm_params_t
	p.struct_size = C.uint32_t(C.sizeof_cudago_gemm_params_t)
	p.layout = C.CUDAGO_BLAS_ROW_MAJOR
	p.trans_a = blasOp(cfg.TransA)
	p.trans_b = blasOp(cfg.TransB)
	p.dtype = C.int32_t(dt)
	p.compute = C.int32_t(cfg.Compute)
	p.m, p.n, p.k = C.int64_t(cfg.M), C.int64_t(cfg.N), C.int64_t(cfg.K)
	p.alpha, p.beta = C.double(alpha), C.double(beta)
	p.lda, p.ldb, p.ldc = C.int64_t(cfg.LDA), C.int64_t(cfg.LDB), C.int64_t(cfg.LDC)
	p.a_offset, p.b_offset = C.uint64_t(cfg.OffsetA), C.uint64_t(cfg.OffsetB)
	p.c_offset = C.uint64_t(cfg.OffsetC)
	p.batch = C.int64_t(cfg.Batch)
	p.stride_a, p.stride_b = C.int64_t(cfg.StrideA), C.int64_t(cfg.StrideB)
	p.stride_c = C.int64_t(cfg.StrideC)
	if err := useAll(op, s, a, b, c); err != nil {
		return err
	}
	r := C.cg_blas_gemm(s.h, p, a.c.h, b.c.h, c.c.h)
	dropAll(s, a, b, c)
	return errorFrom(op, r.err)
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
	var p C.cudago_gemv_params_t
	p.struct_size = C.uint32_t(C.sizeof_cudago_gemv_params_t)
	p.layout = C.CUDAGO_BLAS_ROW_MAJOR
	p.trans = blasOp(trans)
	p.dtype = C.int32_t(dt)
	p.m, p.n = C.int64_t(m), C.int64_t(n)
	p.alpha, p.beta = C.double(alpha), C.double(beta)
	p.lda = C.int64_t(lda)
	p.incx, p.incy = C.int64_t(incx), C.int64_t(incy)
	if err := useAll(op, s, a, x, y); err != nil {
		return err
	}
	r := C.cg_blas_gemv(s.h, p, a.c.h, x.c.h, y.c.h)
	dropAll(s, a, x, y)
	return errorFrom(op, r.err)
}

// BLASAxpy queues y = alpha·x + y on s (cuBLAS AXPY) over n elements taken every incx and incy
// elements from the start of each buffer. x and y may be the same buffer only with equal
// increments.
func BLASAxpy[T Real](s *Stream, n int, alpha float64, x *DeviceBuffer[T], incx int,
	y *DeviceBuffer[T], incy int) error {
	const op = "BLAS axpy"
	dt, _ := dtypeOf[T]()
	if err := useAll(op, s, x, y); err != nil {
		return err
	}
	r := C.cg_blas_axpy(s.h, C.int32_t(dt), C.int64_t(n), C.double(alpha), x.c.h,
		C.int64_t(incx), y.c.h, C.int64_t(incy))
	dropAll(s, x, y)
	return errorFrom(op, r.err)
}

// BLASScal queues x = alpha·x on s (cuBLAS SCAL) over n elements taken every incx.
func BLASScal[T Real](s *Stream, n int, alpha float64, x *DeviceBuffer[T], incx int) error {
	const op = "BLAS scal"
	dt, _ := dtypeOf[T]()
	if err := useAll(op, s, x); err != nil {
		return err
	}
	r := C.cg_blas_scal(s.h, C.int32_t(dt), C.int64_t(n), C.double(alpha), x.c.h, C.int64_t(incx))
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
	if err := useAll(op, s, x, y, result); err != nil {
		return err
	}
	r := C.cg_blas_dot(s.h, C.int32_t(dt), C.int64_t(n), x.c.h, C.int64_t(incx), y.c.h,
		C.int64_t(incy), result.c.h, C.uint64_t(index))
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
	if err := useAll(op, s, x, result); err != nil {
		return err
	}
	r := C.cg_blas_nrm2(s.h, C.int32_t(dt), C.int64_t(n), x.c.h, C.int64_t(incx), result.c.h,
		C.uint64_t(index))
	dropAll(s, x, result)
	return errorFrom(op, r.err)
}

func blasOp(t bool) C.int32_t {
	if t {
		return C.CUDAGO_BLAS_OP_T
	}
	return C.CUDAGO_BLAS_OP_N
}
