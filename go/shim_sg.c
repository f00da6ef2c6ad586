// clang-format off
//go:build cgo
/* clang-format on */

/* shim_sg.c: see shim_sg.h. */
#include "shim_sg.h"

#include <stdlib.h>
#include <string.h>

static cg_sg_result cg_sg(cudago_status_t st) {
  cg_sg_result r = {(int32_t)st, NULL};
  if (st == CUDAGO_SUCCESS) return r;
  r.err = (cg_err_t *)calloc(1, sizeof *r.err);
  if (r.err == NULL) return r; /* Go reports the status without detail */
  r.err->struct_size = (uint32_t)sizeof *r.err;
  if (cudago_error_last(r.err) != CUDAGO_SUCCESS) {
    memset(r.err, 0, sizeof *r.err);
    r.err->struct_size = (uint32_t)sizeof *r.err;
  }
  r.err->status = (int32_t)st; /* the returned status is authoritative */
  r.err->native_name[sizeof r.err->native_name - 1] = '\0';
  r.err->operation[sizeof r.err->operation - 1] = '\0';
  r.err->message[sizeof r.err->message - 1] = '\0';
  return r;
}

cg_sg_result cg_layout_transpose_2d(cudago_stream_t s, cudago_dtype_t dtype, cudago_buffer_t in,
                                    cudago_buffer_t out, uint64_t rows, uint64_t cols) {
  return cg_sg(cudago_layout_transpose_2d(s, dtype, in, out, rows, cols));
}

cg_sg_result cg_layout_nhwc_to_nchw(cudago_stream_t s, cudago_dtype_t dtype, cudago_buffer_t in,
                                    cudago_buffer_t out, uint64_t n, uint64_t h, uint64_t w,
                                    uint64_t c) {
  return cg_sg(cudago_layout_nhwc_to_nchw(s, dtype, in, out, n, h, w, c));
}

cg_sg_result cg_layout_nchw_to_nhwc(cudago_stream_t s, cudago_dtype_t dtype, cudago_buffer_t in,
                                    cudago_buffer_t out, uint64_t n, uint64_t h, uint64_t w,
                                    uint64_t c) {
  return cg_sg(cudago_layout_nchw_to_nhwc(s, dtype, in, out, n, h, w, c));
}

cg_sg_result cg_gemm_tiled_f32(cudago_stream_t s, uint64_t m, uint64_t n, uint64_t k, float alpha,
                               cudago_buffer_t a, cudago_buffer_t b, float beta,
                               cudago_buffer_t c) {
  return cg_sg(cudago_gemm_tiled_f32(s, m, n, k, alpha, a, b, beta, c));
}
