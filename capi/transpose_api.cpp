// Layout changes: 2-D transpose and NHWC <-> NCHW.
#include "cudago.h"
#include "cudago/dtype.hpp"
#include "cudago/transpose.hpp"
#include "guard.hpp"

using cudago::capi::guard;
using cudago::capi::handle;

namespace {
// Validates the C enum value and converts it (Error(kInvalidArgument) for a non-dtype).
cudago::DType dtype_of(cudago_dtype_t t) {
  cudago::checked_dtype_size(static_cast<int32_t>(t));
  return static_cast<cudago::DType>(t);
}
}  // namespace

extern "C" cudago_status_t cudago_layout_transpose_2d(cudago_stream_t stream, cudago_dtype_t dtype,
                                                      cudago_buffer_t in, cudago_buffer_t out,
                                                      uint64_t rows, uint64_t cols) {
  return guard("cudago_layout_transpose_2d", [&] {
    cudago::transpose_2d(handle(stream, "stream").impl, dtype_of(dtype), *handle(in, "in").impl,
                         *handle(out, "out").impl, rows, cols);
  });
}

extern "C" cudago_status_t cudago_layout_nhwc_to_nchw(cudago_stream_t stream, cudago_dtype_t dtype,
                                                      cudago_buffer_t in, cudago_buffer_t out,
                                                      uint64_t n, uint64_t h, uint64_t w,
                                                      uint64_t c) {
  return guard("cudago_layout_nhwc_to_nchw", [&] {
    cudago::nhwc_to_nchw(handle(stream, "stream").impl, dtype_of(dtype), *handle(in, "in").impl,
                         *handle(out, "out").impl, n, h, w, c);
  });
}

extern "C" cudago_status_t cudago_layout_nchw_to_nhwc(cudago_stream_t stream, cudago_dtype_t dtype,
                                                      cudago_buffer_t in, cudago_buffer_t out,
                                                      uint64_t n, uint64_t h, uint64_t w,
                                                      uint64_t c) {
  return guard("cudago_layout_nchw_to_nhwc", [&] {
    cudago::nchw_to_nhwc(handle(stream, "stream").impl, dtype_of(dtype), *handle(in, "in").impl,
                         *handle(out, "out").impl, n, h, w, c);
  });
}
