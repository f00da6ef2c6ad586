/*
 * shim_ew.h: cgo shims for the elementwise and reduction calls. Same contract as shim.h: one
 * cudago call each, and the detail of a failure is copied in the same C call (so on the same OS
 * thread) into a cg_result (see shim.h). Only handles and
 * numbers cross: no Go pointer, and nothing allocated on success. Arguments are in cudago.h's
 * order, offsets in bytes; dtype and op are the enums' values.
 */
#ifndef CUDAGO_GO_SHIM_EW_H
#define CUDAGO_GO_SHIM_EW_H

#include "shim.h"

cg_result cg_ew_binary(cudago_stream_t s, cudago_buffer_t a, uint64_t a_off, cudago_buffer_t b,
                       uint64_t b_off, cudago_buffer_t c, uint64_t c_off, uint64_t n, int32_t dtype,
                       int32_t op);
cg_result cg_ew_axpy(cudago_stream_t s, double alpha, cudago_buffer_t x, uint64_t x_off,
                     cudago_buffer_t y, uint64_t y_off, uint64_t n, int32_t dtype);
cg_result cg_ew_scale(cudago_stream_t s, double alpha, cudago_buffer_t x, uint64_t x_off,
                      uint64_t n, int32_t dtype);
cg_result cg_ew_fill(cudago_stream_t s, double value, cudago_buffer_t x, uint64_t x_off, uint64_t n,
                     int32_t dtype);
cg_result cg_ew_cast(cudago_stream_t s, cudago_buffer_t src, uint64_t src_off, cudago_buffer_t dst,
                     uint64_t dst_off, uint64_t n, int32_t src_dtype, int32_t dst_dtype);
/* y may be NULL (every op but dot). */
cg_result cg_reduce_all(cudago_stream_t s, cudago_buffer_t x, uint64_t x_off, cudago_buffer_t y,
                        uint64_t y_off, cudago_buffer_t out, uint64_t out_off, uint64_t n,
                        int32_t dtype, int32_t op);
cg_result cg_reduce_rows(cudago_stream_t s, cudago_buffer_t x, uint64_t x_off, cudago_buffer_t y,
                         uint64_t y_off, cudago_buffer_t out, uint64_t out_off, uint64_t rows,
                         uint64_t cols, int32_t dtype, int32_t op);

#endif /* CUDAGO_GO_SHIM_EW_H */
