/* shim_ew.c: see shim_ew.h. Compiled by cgo with the package's pkg-config flags. */
#include "shim_ew.h"

#include <stdlib.h>
#include <string.h>

cg_result cg_ew_binary(cudago_stream_t s, cudago_buffer_t a, uint64_t a_off, cudago_buffer_t b,
                       uint64_t b_off, cudago_buffer_t c, uint64_t c_off, uint64_t n, int32_t dtype,
                       int32_t op) {
  return cg_done(cudago_elementwise_binary(s, a, a_off, b, b_off, c, c_off, n,
                                           (cudago_dtype_t)dtype, (cudago_binary_op_t)op));
}

cg_result cg_ew_axpy(cudago_stream_t s, double alpha, cudago_buffer_t x, uint64_t x_off,
                     cudago_buffer_t y, uint64_t y_off, uint64_t n, int32_t dtype) {
  return cg_done(cudago_elementwise_axpy(s, alpha, x, x_off, y, y_off, n, (cudago_dtype_t)dtype));
}

cg_result cg_ew_scale(cudago_stream_t s, double alpha, cudago_buffer_t x, uint64_t x_off,
                      uint64_t n, int32_t dtype) {
  return cg_done(cudago_elementwise_scale(s, alpha, x, x_off, n, (cudago_dtype_t)dtype));
}

cg_result cg_ew_fill(cudago_stream_t s, double value, cudago_buffer_t x, uint64_t x_off, uint64_t n,
                     int32_t dtype) {
  return cg_done(cudago_elementwise_fill(s, value, x, x_off, n, (cudago_dtype_t)dtype));
}

cg_result cg_ew_cast(cudago_stream_t s, cudago_buffer_t src, uint64_t src_off, cudago_buffer_t dst,
                     uint64_t dst_off, uint64_t n, int32_t src_dtype, int32_t dst_dtype) {
  return cg_done(cudago_elementwise_cast(s, src, src_off, dst, dst_off, n,
                                         (cudago_dtype_t)src_dtype, (cudago_dtype_t)dst_dtype));
}

cg_result cg_reduce_all(cudago_stream_t s, cudago_buffer_t x, uint64_t x_off, cudago_buffer_t y,
                        uint64_t y_off, cudago_buffer_t out, uint64_t out_off, uint64_t n,
                        int32_t dtype, int32_t op) {
  return cg_done(cudago_reduce_all(s, x, x_off, y, y_off, out, out_off, n, (cudago_dtype_t)dtype,
                                   (cudago_reduce_op_t)op));
}

cg_result cg_reduce_rows(cudago_stream_t s, cudago_buffer_t x, uint64_t x_off, cudago_buffer_t y,
                         uint64_t y_off, cudago_buffer_t out, uint64_t out_off, uint64_t rows,
                         uint64_t cols, int32_t dtype, int32_t op) {
  return cg_done(cudago_reduce_rows(s, x, x_off, y, y_off, out, out_off, rows, cols,
                                    (cudago_dtype_t)dtype, (cudago_reduce_op_t)op));
}
