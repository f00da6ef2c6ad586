/*
 * shim_sg.h: cgo shims for the layout changes (transposes, NHWC <-> NCHW) and the hand-written
 * tiled SGEMM. Same contract as shim.h (one cudago call each; the detail of a failure is copied
 * in the same C call into a calloc'd cg_err_t that Go frees with cg_err_free), except that the
 * status comes back beside the detail: shim.c's static fallbacks for an out-of-memory calloc are
 * private to it, so here a failed calloc gives err == NULL with a non-zero status.
 */
#ifndef CUDAGO_GO_SHIM_SG_H
#define CUDAGO_GO_SHIM_SG_H

#include "shim.h"

typedef struct {
  int32_t status; /* cudago_status_t */
  cg_err_t *err;  /* detail of a failure, or NULL (success, or no memory for the detail) */
} cg_sg_result;

cg_sg_result cg_layout_transpose_2d(cudago_stream_t s, cudago_dtype_t dtype, cudago_buffer_t in,
                                    cudago_buffer_t out, uint64_t rows, uint64_t cols);
cg_sg_result cg_layout_nhwc_to_nchw(cudago_stream_t s, cudago_dtype_t dtype, cudago_buffer_t in,
                                    cudago_buffer_t out, uint64_t n, uint64_t h, uint64_t w,
                                    uint64_t c);
cg_sg_result cg_layout_nchw_to_nhwc(cudago_stream_t s, cudago_dtype_t dtype, cudago_buffer_t in,
                                    cudago_buffer_t out, uint64_t n, uint64_t h, uint64_t w,
                                    uint64_t c);
cg_sg_result cg_gemm_tiled_f32(cudago_stream_t s, uint64_t m, uint64_t n, uint64_t k, float alpha,
                               cudago_buffer_t a, cudago_buffer_t b, float beta, cudago_buffer_t c);

#endif /* CUDAGO_GO_SHIM_SG_H */
