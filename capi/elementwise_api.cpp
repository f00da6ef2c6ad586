// Elementwise operations: validation of the handles here, everything else in cudago/elementwise.
#include "cudago.h"
#include "cudago/elementwise.hpp"
#include "guard.hpp"

using cudago::capi::guard;
using cudago::capi::handle;

static_assert(static_cast<int>(cudago::BinaryOp::kAdd) == CUDAGO_BINARY_ADD &&
                  static_cast<int>(cudago::BinaryOp::kSub) == CUDAGO_BINARY_SUB &&
                  static_cast<int>(cudago::BinaryOp::kMul) == CUDAGO_BINARY_MUL &&
                  static_cast<int>(cudago::BinaryOp::kDiv) == CUDAGO_BINARY_DIV,
              "cudago_binary_op_t and cudago::BinaryOp differ");

namespace {
cudago::DType dtype_of(cudago_dtype_t t) { return static_cast<cudago::DType>(t); }
}  // namespace

extern "C" {

cudago_status_t cudago_elementwise_binary(cudago_stream_t stream, cudago_binary_op_t op,
                                          cudago_dtype_t dtype, cudago_buffer_t a,
                                          uint64_t a_offset, cudago_buffer_t b, uint64_t b_offset,
                                          cudago_buffer_t c, uint64_t c_offset, uint64_t n) {
  return guard("cudago_elementwise_binary", [&] {
    cudago::elementwise_binary(handle(stream, "stream").impl, static_cast<cudago::BinaryOp>(op),
                               dtype_of(dtype), *handle(a, "a").impl, a_offset,
                               *handle(b, "b").impl, b_offset, *handle(c, "c").impl, c_offset, n);
  });
}

cudago_status_t cudago_elementwise_axpy(cudago_stream_t stream, cudago_dtype_t dtype, double alpha,
                                        cudago_buffer_t x, uint64_t x_offset, cudago_buffer_t y,
                                        uint64_t y_offset, uint64_t n) {
  return guard("cudago_elementwise_axpy", [&] {
    cudago::elementwise_axpy(handle(stream, "stream").impl, dtype_of(dtype), alpha,
                             *handle(x, "x").impl, x_offset, *handle(y, "y").impl, y_offset, n);
  });
}

cudago_status_t cudago_elementwise_scale(cudago_stream_t stream, cudago_dtype_t dtype, double alpha,
                                         cudago_buffer_t x, uint64_t x_offset, uint64_t n) {
  return guard("cudago_elementwise_scale", [&] {
    cudago::elementwise_scale(handle(stream, "stream").impl, dtype_of(dtype), alpha,
                              *handle(x, "x").impl, x_offset, n);
  });
}

cudago_status_t cudago_elementwise_fill(cudago_stream_t stream, cudago_dtype_t dtype, double value,
                                        cudago_buffer_t x, uint64_t x_offset, uint64_t n) {
  return guard("cudago_elementwise_fill", [&] {
    cudago::elementwise_fill(handle(stream, "stream").impl, dtype_of(dtype), value,
                             *handle(x, "x").impl, x_offset, n);
  });
}

cudago_status_t cudago_elementwise_cast(cudago_stream_t stream, cudago_dtype_t src_dtype,
                                        cudago_buffer_t src, uint64_t src_offset,
                                        cudago_dtype_t dst_dtype, cudago_buffer_t dst,
                                        uint64_t dst_offset, uint64_t n) {
  return guard("cudago_elementwise_cast", [&] {
    cudago::elementwise_cast(handle(stream, "stream").impl, dtype_of(src_dtype),
                             *handle(src, "src").impl, src_offset, dtype_of(dst_dtype),
                             *handle(dst, "dst").impl, dst_offset, n);
  });
}

}  // extern "C"
