/* shim_blas.c: see shim_blas.h. Compiled by cgo with the package's pkg-config flags. */
#include "shim_blas.h"

#include <stdlib.h>
#include <string.h>

cg_result cg_blas_gemm(cudago_stream_t s, cudago_gemm_params_t p, cudago_buffer_t a,
                       cudago_buffer_t b, cudago_buffer_t c) {
  return cg_done(cudago_blas_gemm(s, &p, a, b, c));
}

cg_result cg_blas_gemv(cudago_stream_t s, cudago_gemv_params_t p, cudago_buffer_t a,
                       cudago_buffer_t x, cudago_buffer_t y) {
  return cg_done(cudago_blas_gemv(s, &p, a, x, y));
}

cg_result cg_blas_axpy(cudago_stream_t s, int32_t dtype, int64_t n, double alpha, cudago_buffer_t x,
                       int64_t incx, cudago_buffer_t y, int64_t incy) {
  return cg_done(cudago_blas_axpy(s, dtype, n, alpha, x, incx, y, incy));
}

cg_result cg_blas_scal(cudago_stream_t s, int32_t dtype, int64_t n, double alpha, cudago_buffer_t x,
                       int64_t incx) {
  return cg_done(cudago_blas_scal(s, dtype, n, alpha, x, incx));
}

cg_result cg_blas_dot(cudago_stream_t s, int32_t dtype, int64_t n, cudago_buffer_t x, int64_t incx,
                      cudago_buffer_t y, int64_t incy, cudago_buffer_t result,
                      uint64_t result_offset) {
  return cg_done(cudago_blas_dot(s, dtype, n, x, incx, y, incy, result, result_offset));
}

cg_result cg_blas_nrm2(cudago_stream_t s, int32_t dtype, int64_t n, cudago_buffer_t x, int64_t incx,
                       cudago_buffer_t result, uint64_t result_offset) {
  return cg_done(cudago_blas_nrm2(s, dtype, n, x, incx, result, result_offset));
}
