/* shim_ew.c: see shim_ew.h. Compiled by cgo with the package's pkg-config flags. */
#include "shim_ew.h"

#include <stdlib.h>
#include <string.h>

cg_result cg_ew_binary(cudago_stream_t s, int32_t op, int32_t dtype, cudago_buffer_t a,
                       uint64_t a_off, cudago_buffer_t b, uint64_t b_off, cudago_buffer_t c,
                       uint64_t c_off, uint64_t n) {
  return cg_done(cudago_elementwise_binary(s, (cudago_binary_op_t)op, (cudago_dtype_t)dtype, a,
                                           a_off, b, b_off, c, c_off, n));
}

cg_result cg_ew_axpy(cudago_stream_t s, int32_t dtype, double alpha, cudago_buffer_t x,
                     uint64_t x_off, cudago_buffer_t y, uint64_t y_off, uint64_t n) {
  return cg_done(cudago_elementwise_axpy(s, (cudago_dtype_t)dtype, alpha, x, x_off, y, y_off, n));
}

cg_result cg_ew_scale(cudago_stream_t s, int32_t dtype, double alpha, cudago_buffer_t x,
                      uint64_t x_off, uint64_t n) {
  return cg_done(cudago_elementwise_scale(s, (cudago_dtype_t)dtype, alpha, x, x_off, n));
}

cg_result cg_ew_fill(cudago_stream_t s, int32_t dtype, double value, cudago_buffer_t x,
                     uint64_t x_off, uint64_t n) {
  return cg_done(cudago_elementwise_fill(s, (cudago_dtype_t)dtype, value, x, x_off, n));
}

cg_result cg_ew_cast(cudago_stream_t s, int32_t src_dtype, cudago_buffer_t src, uint64_t src_off,
                     int32_t dst_dtype, cudago_buffer_t dst, uint64_t dst_off, uint64_t n) {
  return cg_done(cudago_elementwise_cast(s, (cudago_dtype_t)src_dtype, src, src_off,
                                         (cudago_dtype_t)dst_dtype, dst, dst_off, n));
}

cg_result cg_reduce_all(cudago_stream_t s, int32_t op, int32_t dtype, cudago_buffer_t x,
                        uint64_t x_off, cudago_buffer_t y, uint64_t y_off, uint64_t n,
                        cudago_buffer_t out, uint64_t out_off) {
  return cg_done(cudago_reduce_all(s, (cudago_reduce_op_t)op, (cudago_dtype_t)dtype, x, x_off, y,
                                   y_off, n, out, out_off));
}

cg_result cg_reduce_rows(cudago_stream_t s, int32_t op, int32_t dtype, cudago_buffer_t x,
                         uint64_t x_off, cudago_buffer_t y, uint64_t y_off, uint64_t rows,
                         uint64_t cols, cudago_buffer_t out, uint64_t out_off) {
  return cg_done(cudago_reduce_rows(s, (cudago_reduce_op_t)op, (cudago_dtype_t)dtype, x, x_off, y,
                                    y_off, rows, cols, out, out_off));
}
