// Layout changes: 2-D transpose and NHWC <-> NCHW.
#include "cudago.h"
#include "cudago/dtype.hpp"
#include "cudago/transpose.hpp"
#include "guard.hpp"

using cudago::capi::element_offset;
using cudago::capi::guard;
using cudago::capi::handle;

extern "C" cudago_status_t cudago_layout_transpose_2d(cudago_stream_t stream, cudago_buffer_t in,
                                                      uint64_t in_offset, cudago_buffer_t out,
                                                      uint64_t out_offset, uint64_t rows,
                                                      uint64_t cols, cudago_dtype_t dtype) {
  return guard("cudago_layout_transpose_2d", [&] {
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    cudago::DeviceBuffer& i = *handle(in, "in").impl;
    cudago::DeviceBuffer& o = *handle(out, "out").impl;
    // element_offset validates dtype (Error(kInvalidArgument) for a non-dtype) and the offsets.
    const uint64_t ie = element_offset(in_offset, dtype, "in_offset");
    const uint64_t oe = element_offset(out_offset, dtype, "out_offset");
    cudago::transpose_2d(s, cudago::capi::dtype_of(dtype), i, ie, o, oe, rows, cols);
  });
}

extern "C" cudago_status_t cudago_layout_nhwc_to_nchw(cudago_stream_t stream, cudago_buffer_t in,
                                                      uint64_t in_offset, cudago_buffer_t out,
                                                      uint64_t out_offset, uint64_t n, uint64_t h,
                                                      uint64_t w, uint64_t c,
                                                      cudago_dtype_t dtype) {
  return guard("cudago_layout_nhwc_to_nchw", [&] {
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    cudago::DeviceBuffer& i = *handle(in, "in").impl;
    cudago::DeviceBuffer& o = *handle(out, "out").impl;
    const uint64_t ie = element_offset(in_offset, dtype, "in_offset");
    const uint64_t oe = element_offset(out_offset, dtype, "out_offset");
    cudago::nhwc_to_nchw(s, cudago::capi::dtype_of(dtype), i, ie, o, oe, n, h, w, c);
  });
}

extern "C" cudago_status_t cudago_layout_nchw_to_nhwc(cudago_stream_t stream, cudago_buffer_t in,
                                                      uint64_t in_offset, cudago_buffer_t out,
                                                      uint64_t out_offset, uint64_t n, uint64_t h,
                                                      uint64_t w, uint64_t c,
                                                      cudago_dtype_t dtype) {
  return guard("cudago_layout_nchw_to_nhwc", [&] {
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    cudago::DeviceBuffer& i = *handle(in, "in").impl;
    cudago::DeviceBuffer& o = *handle(out, "out").impl;
    const uint64_t ie = element_offset(in_offset, dtype, "in_offset");
    const uint64_t oe = element_offset(out_offset, dtype, "out_offset");
    cudago::nchw_to_nhwc(s, cudago::capi::dtype_of(dtype), i, ie, o, oe, n, h, w, c);
  });
}
