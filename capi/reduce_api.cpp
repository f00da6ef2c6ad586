// Reductions: validation of the handles here, everything else in cudago/reduce.
#include "cudago.h"
#include "cudago/reduce.hpp"
#include "guard.hpp"

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
}  // namespace

extern "C" {

cudago_status_t cudago_reduce_all(cudago_stream_t stream, cudago_reduce_op_t op,
                                  cudago_dtype_t dtype, cudago_buffer_t x, uint64_t x_offset,
                                  cudago_buffer_t y, uint64_t y_offset, uint64_t n,
                                  cudago_buffer_t out, uint64_t out_offset) {
  return guard("cudago_reduce_all", [&] {
    cudago::reduce_all(handle(stream, "stream").impl, static_cast<cudago::ReduceOp>(op),
                       static_cast<cudago::DType>(dtype), *handle(x, "x").impl, x_offset,
                       optional_y(op, y), y_offset, n, *handle(out, "out").impl, out_offset);
  });
}

cudago_status_t cudago_reduce_rows(cudago_stream_t stream, cudago_reduce_op_t op,
                                   cudago_dtype_t dtype, cudago_buffer_t x, uint64_t x_offset,
                                   cudago_buffer_t y, uint64_t y_offset, uint64_t rows,
                                   uint64_t cols, cudago_buffer_t out, uint64_t out_offset) {
  return guard("cudago_reduce_rows", [&] {
    cudago::reduce_rows(handle(stream, "stream").impl, static_cast<cudago::ReduceOp>(op),
                        static_cast<cudago::DType>(dtype), *handle(x, "x").impl, x_offset,
                        optional_y(op, y), y_offset, rows, cols, *handle(out, "out").impl,
                        out_offset);
  });
}

}  // extern "C"
