// Kernel launchers. Each takes a stream and queues its work there.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cudago/memory.hpp"

namespace cudago {

// c[i] = a[i] + b[i] for i < n (float32). Validates devices and sizes; c may alias a or b.
void vector_add_f32(const StreamPtr& stream, DeviceBuffer& a, DeviceBuffer& b, DeviceBuffer& c,
                    uint64_t n);

namespace detail {
// Raw launcher: pointers on the stream's current device, no validation.
void launch_vector_add_f32(const float* a, const float* b, float* c, uint64_t n,
                           cudaStream_t stream);
}  // namespace detail

}  // namespace cudago
