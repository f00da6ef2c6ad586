// Transposes and NHWC <-> NCHW layout conversion. Layout changes move bytes, so they work for
// any element of 1, 2, 4 or 8 bytes (f32, f16, bf16, i32, f64, ...).
//
// All three are one operation, a batched transpose: `batch` row-major matrices of rows x cols
// become `batch` matrices of cols x rows.
//   2-D transpose (rows x cols -> cols x rows):  batch = 1,  rows,      cols
//   NHWC -> NCHW:                                batch = N,  rows = H*W, cols = C
//   NCHW -> NHWC:                                batch = N,  rows = C,   cols = H*W
// Output must not overlap the input (Error(kInvalidArgument)). Empty tensors are no-ops.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cudago/dtype.hpp"
#include "cudago/memory.hpp"

namespace cudago {

// Each tensor starts at its element offset (in elements of `dtype`) into its buffer, and the
// buffer must hold it from there (Error(kOutOfRange) otherwise, checked without overflow).

// out (cols x rows) = transpose of in (rows x cols), row-major, elements of `dtype`.
void transpose_2d(const StreamPtr& stream, DType dtype, DeviceBuffer& in, uint64_t in_offset,
                  DeviceBuffer& out, uint64_t out_offset, uint64_t rows, uint64_t cols);

// in is N x H x W x C, out is N x C x H x W (row-major).
void nhwc_to_nchw(const StreamPtr& stream, DType dtype, DeviceBuffer& in, uint64_t in_offset,
                  DeviceBuffer& out, uint64_t out_offset, uint64_t n, uint64_t h, uint64_t w,
                  uint64_t c);

// in is N x C x H x W, out is N x H x W x C (row-major).
void nchw_to_nhwc(const StreamPtr& stream, DType dtype, DeviceBuffer& in, uint64_t in_offset,
                  DeviceBuffer& out, uint64_t out_offset, uint64_t n, uint64_t h, uint64_t w,
                  uint64_t c);

namespace detail {
// Raw launcher: `batch` matrices rows x cols of elem_size-byte elements (1, 2, 4 or 8) from in
// to out (cols x rows each); pointers on the current device, no validation; all dims > 0.
void launch_batched_transpose(const void* in, void* out, uint64_t batch, uint64_t rows,
                              uint64_t cols, size_t elem_size, cudaStream_t stream);
}  // namespace detail

}  // namespace cudago
