// The hand-written tiled SGEMM: a teaching kernel for shared-memory tiling, register blocking,
// coalesced vector loads and double buffering (production GEMM goes through cuBLAS).
//
//   C = alpha * A * B + beta * C, float32, ROW-MAJOR and dense:
//   A is m x k, B is k x n, C is m x n; element (i, j) of an r x s matrix is at i * s + j.
//
// beta == 0 means C is write-only (its old content, NaN included, never reaches the result).
// m = 0 or n = 0 is a no-op; k = 0 gives C = beta * C.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cudago/memory.hpp"

namespace cudago {

// Validates handles, devices, sizes and overlap (c must not overlap a or b), then queues the
// kernel on `stream`.
void gemm_tiled_f32(const StreamPtr& stream, uint64_t m, uint64_t n, uint64_t k, float alpha,
                    DeviceBuffer& a, DeviceBuffer& b, float beta, DeviceBuffer& c);

// The largest m or n the launch grid allows (65535 row tiles of 128).
constexpr uint64_t kGemmTiledMaxDim = 65535u * 128u;

namespace detail {
// Raw launcher: device pointers on the current device, no validation; m, n <= kGemmTiledMaxDim,
// k < 2^31.
void launch_gemm_tiled_f32(int m, int n, int k, float alpha, const float* a, const float* b,
                           float beta, float* c, cudaStream_t stream);
}  // namespace detail

}  // namespace cudago
