/* shim_layout.c: see shim_layout.h. */
#include "shim_layout.h"

#include <stdlib.h>
#include <string.h>

cg_result cg_layout_transpose_2d(cudago_stream_t s, cudago_buffer_t in, uint64_t in_offset,
                                 cudago_buffer_t out, uint64_t out_offset, uint64_t rows,
                                 uint64_t cols, cudago_dtype_t dtype) {
  return cg_done(cudago_layout_transpose_2d(s, in, in_offset, out, out_offset, rows, cols, dtype));
}

cg_result cg_layout_nhwc_to_nchw(cudago_stream_t s, cudago_buffer_t in, uint64_t in_offset,
                                 cudago_buffer_t out, uint64_t out_offset, uint64_t n, uint64_t h,
                                 uint64_t w, uint64_t c, cudago_dtype_t dtype) {
  return cg_done(cudago_layout_nhwc_to_nchw(s, in, in_offset, out, out_offset, n, h, w, c, dtype));
}

cg_result cg_layout_nchw_to_nhwc(cudago_stream_t s, cudago_buffer_t in, uint64_t in_offset,
                                 cudago_buffer_t out, uint64_t out_offset, uint64_t n, uint64_t h,
                                 uint64_t w, uint64_t c, cudago_dtype_t dtype) {
  return cg_done(cudago_layout_nchw_to_nhwc(s, in, in_offset, out, out_offset, n, h, w, c, dtype));
}
