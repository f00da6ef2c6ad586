/*
 * shim_blas.h: cgo shims for the cuBLAS calls (GEMM, GEMV, level 1). Same contract as shim.h:
 * one cudago call each, and the detail of a failure is copied in the same C call (so on the
 * same OS thread) into a cg_result (see shim.h).
 *
 * The parameter structs are passed by value: no Go pointer crosses, and the Go side allocates
 * nothing per call. Go fills the C structs themselves (cgo's types), so their layouts agree by
 * construction.
 */
#ifndef CUDAGO_GO_SHIM_BLAS_H
#define CUDAGO_GO_SHIM_BLAS_H

#include "shim.h"

cg_result cg_blas_gemm(cudago_stream_t s, cudago_buffer_t a, uint64_t a_offset, cudago_buffer_t b,
                       uint64_t b_offset, cudago_buffer_t c, uint64_t c_offset,
                       cudago_gemm_params_t p);
cg_result cg_blas_set_graph_replay(uint64_t max_entries, uint64_t max_macs);
cg_result cg_blas_cache_clear(void);
cg_result cg_blas_gemv(cudago_stream_t s, cudago_buffer_t a, uint64_t a_offset, cudago_buffer_t x,
                       uint64_t x_offset, cudago_buffer_t y, uint64_t y_offset,
                       cudago_gemv_params_t p);
cg_result cg_blas_axpy(cudago_stream_t s, double alpha, cudago_buffer_t x, uint64_t x_offset,
                       cudago_buffer_t y, uint64_t y_offset, uint64_t n, uint64_t incx,
                       uint64_t incy, cudago_dtype_t dtype);
cg_result cg_blas_scal(cudago_stream_t s, double alpha, cudago_buffer_t x, uint64_t x_offset,
                       uint64_t n, uint64_t incx, cudago_dtype_t dtype);
cg_result cg_blas_dot(cudago_stream_t s, cudago_buffer_t x, uint64_t x_offset, cudago_buffer_t y,
                      uint64_t y_offset, cudago_buffer_t result, uint64_t result_offset, uint64_t n,
                      uint64_t incx, uint64_t incy, cudago_dtype_t dtype);
cg_result cg_blas_nrm2(cudago_stream_t s, cudago_buffer_t x, uint64_t x_offset,
                       cudago_buffer_t result, uint64_t result_offset, uint64_t n, uint64_t incx,
                       cudago_dtype_t dtype);

#endif /* CUDAGO_GO_SHIM_BLAS_H */
