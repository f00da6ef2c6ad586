/*
 * shim_layout.h: cgo shims for the layout changes (transposes, NHWC <-> NCHW). Same contract as
 * shim.h: one cudago call each, returning a cg_result whose detail was copied in the same C call.
 * Arguments are in cudago.h's order, offsets in bytes.
 */
#ifndef CUDAGO_GO_SHIM_LAYOUT_H
#define CUDAGO_GO_SHIM_LAYOUT_H

#include "shim.h"

cg_result cg_layout_transpose_2d(cudago_stream_t s, cudago_buffer_t in, uint64_t in_offset,
                                 cudago_buffer_t out, uint64_t out_offset, uint64_t rows,
                                 uint64_t cols, cudago_dtype_t dtype);
cg_result cg_layout_nhwc_to_nchw(cudago_stream_t s, cudago_buffer_t in, uint64_t in_offset,
                                 cudago_buffer_t out, uint64_t out_offset, uint64_t n, uint64_t h,
                                 uint64_t w, uint64_t c, cudago_dtype_t dtype);
cg_result cg_layout_nchw_to_nhwc(cudago_stream_t s, cudago_buffer_t in, uint64_t in_offset,
                                 cudago_buffer_t out, uint64_t out_offset, uint64_t n, uint64_t h,
                                 uint64_t w, uint64_t c, cudago_dtype_t dtype);

#endif /* CUDAGO_GO_SHIM_LAYOUT_H */
