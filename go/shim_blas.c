/* shim_blas.c: see shim_blas.h. Compiled by cgo with the package's pkg-config flags. */
#include "shim_blas.h"

#include <stdlib.h>
#include <string.h>

static cg_blas_result cg_blas_done(cudago_status_t st) {
  cg_blas_result r = {(int32_t)st, NULL};
  if (st == CUDAGO_SUCCESS) return r;
  r.err = (cg_err_t *)calloc(1, sizeof *r.err);
  if (r.err == NULL) return r;
  r.err->struct_size = (uint32_t)sizeof *r.err;
  if (cudago_error_last(r.err) != CUDAGO_SUCCESS) {
    memset(r.err, 0, sizeof *r.err);
    r.err->struct_size = (uint32_t)sizeof *r.err;
  }
  r.err->status = (int32_t)st;
  r.err->native_name[sizeof r.err->native_name - 1] = '\0';
  r.err->operation[sizeof r.err->operation - 1] = '\0';
  r.err->message[sizeof r.err->message - 1] = '\0';
  return r;
}

cg_blas_result cg_blas_gemm(cudago_stream_t s, cudago_gemm_params_t p, cudago_buffer_t a,
                            cudago_buffer_t b, cudago_buffer_t c) {
  return cg_blas_done(cudago_blas_gemm(s, &p, a, b, c));
}

cg_blas_result cg_blas_gemv(cudago_stream_t s, cudago_gemv_params_t p, cudago_buffer_t a,
                            cudago_buffer_t x, cudago_buffer_t y) {
  return cg_blas_done(cudago_blas_gemv(s, &p, a, x, y));
}

cg_blas_result cg_blas_axpy(cudago_stream_t s, int32_t dtype, int64_t n, double alpha,
                            cudago_buffer_t x, int64_t incx, cudago_buffer_t y, int64_t incy) {
  return cg_blas_done(cudago_blas_axpy(s, dtype, n, alpha, x, incx, y, incy));
}

cg_blas_result cg_blas_scal(cudago_stream_t s, int32_t dtype, int64_t n, double alpha,
                            cudago_buffer_t x, int64_t incx) {
  return cg_blas_done(cudago_blas_scal(s, dtype, n, alpha, x, incx));
}

cg_blas_result cg_blas_dot(cudago_stream_t s, int32_t dtype, int64_t n, cudago_buffer_t x,
                           int64_t incx, cudago_buffer_t y, int64_t incy, cudago_buffer_t result,
                           uint64_t result_offset) {
  return cg_blas_done(cudago_blas_dot(s, dtype, n, x, incx, y, incy, result, result_offset));
}

cg_blas_result cg_blas_nrm2(cudago_stream_t s, int32_t dtype, int64_t n, cudago_buffer_t x,
                            int64_t incx, cudago_buffer_t result, uint64_t result_offset) {
  return cg_blas_done(cudago_blas_nrm2(s, dtype, n, x, incx, result, result_offset));
}
