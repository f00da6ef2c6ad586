// Vector add, float32: c[i] = a[i] + b[i].
//
// Memory-bound: 12 bytes move per element, so the kernel aims at DRAM bandwidth. Each thread
// handles kUnroll 16-byte vectors, loading all of them before the first add so several loads
// are in flight; a block's loads of one round are contiguous (coalesced). Buffers that are not
// 16-byte aligned take a scalar path.
#include <algorithm>
#include <cstdint>
#include <string>

#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/kernels.hpp"

namespace cudago {
namespace {

constexpr int kThreads = 256;
constexpr int kUnroll = 4;
constexpr uint64_t kMaxBlocks = 1u << 20;  // grid-stride beyond this

__global__ void __launch_bounds__(kThreads)
    vector_add_f32x4(const float4* a, const float4* b, float4* c, uint64_t n4, const float* a1,
                     const float* b1, float* c1, uint64_t tail_begin, uint64_t n) {
  const uint64_t step = static_cast<uint64_t>(gridDim.x) * kThreads * kUnroll;
  for (uint64_t base = static_cast<uint64_t>(blockIdx.x) * kThreads * kUnroll; base < n4;
       base += step) {
    float4 x[kUnroll], y[kUnroll];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      uint64_t i = base + threadIdx.x + static_cast<uint64_t>(k) * kThreads;
      if (i < n4) {
        x[k] = a[i];
        y[k] = b[i];
      }
    }
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      uint64_t i = base + threadIdx.x + static_cast<uint64_t>(k) * kThreads;
      if (i < n4) {
        c[i] = make_float4(x[k].x + y[k].x, x[k].y + y[k].y, x[k].z + y[k].z, x[k].w + y[k].w);
      }
    }
  }
  // The last n % 4 elements.
  if (blockIdx.x == 0) {
    uint64_t i = tail_begin + threadIdx.x;
    if (i < n) c1[i] = a1[i] + b1[i];
  }
}

__global__ void __launch_bounds__(kThreads)
    vector_add_f32(const float* a, const float* b, float* c, uint64_t n) {
  const uint64_t step = static_cast<uint64_t>(gridDim.x) * kThreads;
  for (uint64_t i = static_cast<uint64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n; i += step) {
    c[i] = a[i] + b[i];
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

unsigned blocks_for(uint64_t work_items, uint64_t per_block) {
  uint64_t blocks = (work_items + per_block - 1) / per_block;
  return static_cast<unsigned>(std::max<uint64_t>(1, std::min(blocks, kMaxBlocks)));
}

}  // namespace

namespace detail {

void launch_vector_add_f32(const float* a, const float* b, float* c, uint64_t n,
                           cudaStream_t stream) {
  if (n == 0) return;
  if (aligned16(a) && aligned16(b) && aligned16(c)) {
    uint64_t n4 = n / 4;
    vector_add_f32x4<<<blocks_for(n4, uint64_t{kThreads} * kUnroll), kThreads, 0, stream>>>(
        reinterpret_cast<const float4*>(a), reinterpret_cast<const float4*>(b),
        reinterpret_cast<float4*>(c), n4, a, b, c, n4 * 4, n);
  } else {
    vector_add_f32<<<blocks_for(n, kThreads), kThreads, 0, stream>>>(a, b, c, n);
  }
  CUDAGO_CHECK_LAUNCH();
}

}  // namespace detail

void vector_add_f32(const StreamPtr& stream, DeviceBuffer& a, DeviceBuffer& b, DeviceBuffer& c,
                    uint64_t n) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
  const int dev = stream->device();
  CUDAGO_EXPECTS(a.device() == dev && b.device() == dev && c.device() == dev, kDeviceMismatch,
                 "vector add: buffers on devices " + std::to_string(a.device()) + ", " +
                     std::to_string(b.device()) + ", " + std::to_string(c.device()) +
                     " and a stream on device " + std::to_string(dev));
  CUDAGO_EXPECTS(n <= UINT64_MAX / sizeof(float), kOutOfRange,
                 "vector add: n = " + std::to_string(n) + " overflows the byte size");
  const uint64_t bytes = n * sizeof(float);
  CUDAGO_EXPECTS(a.size() >= bytes && b.size() >= bytes && c.size() >= bytes, kOutOfRange,
                 "vector add of " + std::to_string(n) + " floats (" + std::to_string(bytes) +
                     " bytes) with buffers of " + std::to_string(a.size()) + ", " +
                     std::to_string(b.size()) + " and " + std::to_string(c.size()) + " bytes");
  if (n == 0) return;
  DeviceGuard guard(dev);
  detail::launch_vector_add_f32(static_cast<const float*>(a.data()),
                                static_cast<const float*>(b.data()), static_cast<float*>(c.data()),
                                n, stream->get());
  a.used_on(stream);
  b.used_on(stream);
  c.used_on(stream);
}

}  // namespace cudago
