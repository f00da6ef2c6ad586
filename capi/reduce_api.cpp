// Reductions: validation of the handles and the byte offsets here, everything else in
// cudago/reduce.
#include "cudago.h"
#include "cudago/reduce.hpp"
#include "guard.hpp"

using cudago::capi::element_offset;
using cudago::capi::guard;
using cudago::capi::handle;

static_assert(static_cast<int>(cudago::ReduceOp::kSum) == CUDAGO_REDUCE_SUM &&
                  static_cast<int>(cudago::ReduceOp::kMin) == CUDAGO_REDUCE_MIN &&
                  static_cast<int>(cudago::ReduceOp::kMax) == CUDAGO_REDUCE_MAX &&
                  static_cast<int>(cudago::ReduceOp::kArgMax) == CUDAGO_REDUCE_ARGMAX &&
                  static_cast<int>(cudago::ReduceOp::kDot) == CUDAGO_REDUCE_DOT &&
                  static_cast<int>(cudago::ReduceOp::kNorm2) == CUDAGO_REDUCE_NRM2,
              "cudago_reduce_op_t and cudago::ReduceOp differ");

namespace {
// y is a handle only for DOT; for the other ops it must be NULL (checked by the core).
cudago::DeviceBuffer* optional_y(cudago_reduce_op_t op, cudago_buffer_t y) {
  if (y == nullptr && op != CUDAGO_REDUCE_DOT) return nullptr;
  return handle(y, "y").impl.get();
}

// The element offsets of a reduction's operands, from the ABI's byte offsets: x and y count
// elements of dtype, out elements of the result type (int64 for ARGMAX). element_offset
// validates dtype and refuses a byte offset that is not a multiple of the element size. y's
// offset is converted only when there is a y.
struct Offsets {
  uint64_t x, y, out;
};
Offsets element_offsets(cudago_reduce_op_t op, cudago_dtype_t dtype, uint64_t x_offset,
                        const cudago::DeviceBuffer* y, uint64_t y_offset, uint64_t out_offset) {
  Offsets o{};
  o.x = element_offset(x_offset, dtype, "x_offset");
  if (y != nullptr) o.y = element_offset(y_offset, dtype, "y_offset");
  const cudago::DType out_dtype =
      cudago::reduce_out_dtype(static_cast<cudago::ReduceOp>(op), cudago::capi::dtype_of(dtype));
  o.out = element_offset(out_offset, static_cast<cudago_dtype_t>(out_dtype), "out_offset");
  return o;
}
}  // namespace

extern "C" {

cudago_status_t cudago_reduce_all(cudago_stream_t stream, cudago_buffer_t x, uint64_t x_offset,
                                  cudago_buffer_t y, uint64_t y_offset, cudago_buffer_t out,
                                  uint64_t out_offset, uint64_t n, cudago_dtype_t dtype,
                                  cudago_reduce_op_t op) {
  return guard("cudago_reduce_all", [&] {
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    cudago::DeviceBuffer& xb = *handle(x, "x").impl;
    cudago::DeviceBuffer* yb = optional_y(op, y);
    cudago::DeviceBuffer& ob = *handle(out, "out").impl;
    const Offsets e = element_offsets(op, dtype, x_offset, yb, y_offset, out_offset);
    cudago::reduce_all(s, static_cast<cudago::ReduceOp>(op), cudago::capi::dtype_of(dtype), xb, e.x,
                       yb, e.y, n, ob, e.out);
  });
}

cudago_status_t cudago_reduce_rows(cudago_stream_t stream, cudago_buffer_t x, uint64_t x_offset,
                                   cudago_buffer_t y, uint64_t y_offset, cudago_buffer_t out,
                                   uint64_t out_offset, uint64_t rows, uint64_t cols,
                                   cudago_dtype_t dtype, cudago_reduce_op_t op) {
  return guard("cudago_reduce_rows", [&] {
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    cudago::DeviceBuffer& xb = *handle(x, "x").impl;
    cudago::DeviceBuffer* yb = optional_y(op, y);
    cudago::DeviceBuffer& ob = *handle(out, "out").impl;
    const Offsets e = element_offsets(op, dtype, x_offset, yb, y_offset, out_offset);
    cudago::reduce_rows(s, static_cast<cudago::ReduceOp>(op), cudago::capi::dtype_of(dtype), xb,
                        e.x, yb, e.y, rows, cols, ob, e.out);
  });
}

}  // extern "C"
