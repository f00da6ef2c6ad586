#include "test_kernels.hpp"

namespace {

__device__ uint64_t global_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void spin(uint64_t ns, int* flag, int value) {
  uint64_t start = global_ns();
  while (global_ns() - start < ns) {
  }
  if (flag != nullptr) *flag = value;
}

__global__ void fault() {
  int* wild = reinterpret_cast<int*>(uintptr_t{0x10});
  *wild = 42;
}

}  // namespace

namespace cudago_test {
void launch_spin(uint64_t ns, int* flag, int value, cudaStream_t stream) {
  spin<<<1, 1, 0, stream>>>(ns, flag, value);
}
void launch_fault(cudaStream_t stream) { fault<<<1, 1, 0, stream>>>(); }
}  // namespace cudago_test
