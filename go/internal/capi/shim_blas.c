/* shim_blas.c: see shim_blas.h. Compiled by cgo with the package's pkg-config flags. */
#include "shim_blas.h"

#include <stdlib.h>
#include <string.h>

cg_result cg_blas_gemm(cudago_stream_t s, cudago_buffer_t a, uint64_t a_offset, cudago_buffer_t b,
                       uint64_t b_offset, cudago_buffer_t c, uint64_t c_offset,
                       cudago_gemm_params_t p) {
  return cg_done(cudago_blas_gemm(s, a, a_offset, b, b_offset, c, c_offset, &p));
}

cg_result cg_blas_set_graph_replay(uint64_t max_entries, uint64_t max_macs) {
  return cg_done(cudago_blas_set_graph_replay(max_entries, max_macs));
}

cg_result cg_blas_cache_clear(void) { return cg_done(cudago_blas_cache_clear()); }

cg_result cg_blas_gemv(cudago_stream_t s, cudago_buffer_t a, uint64_t a_offset, cudago_buffer_t x,
                       uint64_t x_offset, cudago_buffer_t y, uint64_t y_offset,
                       cudago_gemv_params_t p) {
  return cg_done(cudago_blas_gemv(s, a, a_offset, x, x_offset, y, y_offset, &p));
}

cg_result cg_blas_axpy(cudago_stream_t s, double alpha, cudago_buffer_t x, uint64_t x_offset,
                       cudago_buffer_t y, uint64_t y_offset, uint64_t n, uint64_t incx,
                       uint64_t incy, cudago_dtype_t dtype) {
  return cg_done(cudago_blas_axpy(s, alpha, x, x_offset, y, y_offset, n, incx, incy, dtype));
}

cg_result cg_blas_scal(cudago_stream_t s, double alpha, cudago_buffer_t x, uint64_t x_offset,
                       uint64_t n, uint64_t incx, cudago_dtype_t dtype) {
  return cg_done(cudago_blas_scal(s, alpha, x, x_offset, n, incx, dtype));
}

cg_result cg_blas_dot(cudago_stream_t s, cudago_buffer_t x, uint64_t x_offset, cudago_buffer_t y,
                      uint64_t y_offset, cudago_buffer_t result, uint64_t result_offset, uint64_t n,
                      uint64_t incx, uint64_t incy, cudago_dtype_t dtype) {
  return cg_done(
      cudago_blas_dot(s, x, x_offset, y, y_offset, result, result_offset, n, incx, incy, dtype));
}

cg_result cg_blas_nrm2(cudago_stream_t s, cudago_buffer_t x, uint64_t x_offset,
                       cudago_buffer_t result, uint64_t result_offset, uint64_t n, uint64_t incx,
                       cudago_dtype_t dtype) {
  return cg_done(cudago_blas_nrm2(s, x, x_offset, result, result_offset, n, incx, dtype));
}
