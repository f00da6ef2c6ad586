// Elementwise operations: validation of the handles and the byte offsets here, everything else
// in cudago/elementwise.
#include "cudago.h"
#include "cudago/elementwise.hpp"
#include "guard.hpp"

using cudago::capi::dtype_of;
using cudago::capi::element_offset;
using cudago::capi::guard;
using cudago::capi::handle;

static_assert(static_cast<int>(cudago::BinaryOp::kAdd) == CUDAGO_BINARY_ADD &&
                  static_cast<int>(cudago::BinaryOp::kSub) == CUDAGO_BINARY_SUB &&
                  static_cast<int>(cudago::BinaryOp::kMul) == CUDAGO_BINARY_MUL &&
                  static_cast<int>(cudago::BinaryOp::kDiv) == CUDAGO_BINARY_DIV,
              "cudago_binary_op_t and cudago::BinaryOp differ");

namespace {}  // namespace

// Each entry point checks its handles first, then converts the byte offsets to the core's
// element offsets (element_offset validates the dtype and refuses a byte offset that is not a
// multiple of the element size); the core checks the rest.

extern "C" {

cudago_status_t cudago_elementwise_binary(cudago_stream_t stream, cudago_buffer_t a,
                                          uint64_t a_offset, cudago_buffer_t b, uint64_t b_offset,
                                          cudago_buffer_t c, uint64_t c_offset, uint64_t n,
                                          cudago_dtype_t dtype, cudago_binary_op_t op) {
  return guard("cudago_elementwise_binary", [&] {
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    cudago::DeviceBuffer& ab = *handle(a, "a").impl;
    cudago::DeviceBuffer& bb = *handle(b, "b").impl;
    cudago::DeviceBuffer& cb = *handle(c, "c").impl;
    const uint64_t ae = element_offset(a_offset, dtype, "a_offset");
    const uint64_t be = element_offset(b_offset, dtype, "b_offset");
    const uint64_t ce = element_offset(c_offset, dtype, "c_offset");
    cudago::elementwise_binary(s, static_cast<cudago::BinaryOp>(op), dtype_of(dtype), ab, ae, bb,
                               be, cb, ce, n);
  });
}

cudago_status_t cudago_elementwise_axpy(cudago_stream_t stream, double alpha, cudago_buffer_t x,
                                        uint64_t x_offset, cudago_buffer_t y, uint64_t y_offset,
                                        uint64_t n, cudago_dtype_t dtype) {
  return guard("cudago_elementwise_axpy", [&] {
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    cudago::DeviceBuffer& xb = *handle(x, "x").impl;
    cudago::DeviceBuffer& yb = *handle(y, "y").impl;
    const uint64_t xe = element_offset(x_offset, dtype, "x_offset");
    const uint64_t ye = element_offset(y_offset, dtype, "y_offset");
    cudago::elementwise_axpy(s, dtype_of(dtype), alpha, xb, xe, yb, ye, n);
  });
}

cudago_status_t cudago_elementwise_scale(cudago_stream_t stream, double alpha, cudago_buffer_t x,
                                         uint64_t x_offset, uint64_t n, cudago_dtype_t dtype) {
  return guard("cudago_elementwise_scale", [&] {
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    cudago::DeviceBuffer& xb = *handle(x, "x").impl;
    const uint64_t xe = element_offset(x_offset, dtype, "x_offset");
    cudago::elementwise_scale(s, dtype_of(dtype), alpha, xb, xe, n);
  });
}

cudago_status_t cudago_elementwise_fill(cudago_stream_t stream, double value, cudago_buffer_t x,
                                        uint64_t x_offset, uint64_t n, cudago_dtype_t dtype) {
  return guard("cudago_elementwise_fill", [&] {
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    cudago::DeviceBuffer& xb = *handle(x, "x").impl;
    const uint64_t xe = element_offset(x_offset, dtype, "x_offset");
    cudago::elementwise_fill(s, dtype_of(dtype), value, xb, xe, n);
  });
}

cudago_status_t cudago_elementwise_cast(cudago_stream_t stream, cudago_buffer_t src,
                                        uint64_t src_offset, cudago_buffer_t dst,
                                        uint64_t dst_offset, uint64_t n, cudago_dtype_t src_dtype,
                                        cudago_dtype_t dst_dtype) {
  return guard("cudago_elementwise_cast", [&] {
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    cudago::DeviceBuffer& sb = *handle(src, "src").impl;
    cudago::DeviceBuffer& db = *handle(dst, "dst").impl;
    const uint64_t se = element_offset(src_offset, src_dtype, "src_offset");
    const uint64_t de = element_offset(dst_offset, dst_dtype, "dst_offset");
    cudago::elementwise_cast(s, dtype_of(src_dtype), sb, se, dtype_of(dst_dtype), db, de, n);
  });
}

}  // extern "C"
