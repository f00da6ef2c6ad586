// Device code used only by the core tests.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace cudago_test {
// Spins on the GPU for about `ns` nanoseconds (globaltimer), then writes `value` to *flag.
void launch_spin(uint64_t ns, int* flag, int value, cudaStream_t stream);
// Writes through a wild pointer: an illegal-address fault that poisons the context.
void launch_fault(cudaStream_t stream);
}  // namespace cudago_test
