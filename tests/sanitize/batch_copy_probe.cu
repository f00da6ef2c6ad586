// Whether compute-sanitizer's initcheck follows cudaMemcpyBatchAsync (bundle/sanitize.sh runs it
// under initcheck before the suites): a kernel sums 4,096 floats that one copy wrote into fresh
// device memory. Run under initcheck, "plain" (cudaMemcpyAsync) must report no error; where
// "batch" (cudaMemcpyBatchAsync, host-to-device and device-to-device, two entries each) reports
// errors, the tool does not follow the batched copy, and sanitize.sh has the server copy one by
// one under it (CUDAGO_NO_BATCH_MEMCPY). The exit status is 0 when every sum is right.
//
//   batch_copy_probe plain|batch
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>

namespace {

constexpr int kN = 4096;

__global__ void sum_kernel(const float* x, int n, float* out) {
  float s = 0;
  for (int i = static_cast<int>(threadIdx.x); i < n; i += static_cast<int>(blockDim.x)) s += x[i];
  atomicAdd(out, s);
}

bool check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "batch_copy_probe: %s: %s\n", what, cudaGetErrorString(e));
  return false;
}

// Copies kN ones from `src` into fresh device memory (batched or not), sums them on the device.
bool probe(const char* name, const float* src, bool batched, cudaStream_t s) {
  float* dst = nullptr;
  float* out = nullptr;
  bool ok = check(cudaMalloc(&dst, kN * sizeof(float)), "cudaMalloc") &&
            check(cudaMalloc(&out, sizeof(float)), "cudaMalloc") &&
            check(cudaMemsetAsync(out, 0, sizeof(float), s), "cudaMemsetAsync");
  if (ok && batched) {
    void* dsts[2] = {dst, dst + kN / 2};
    const void* srcs[2] = {src, src + kN / 2};
    size_t sizes[2] = {kN / 2 * sizeof(float), kN / 2 * sizeof(float)};
    cudaMemcpyAttributes a;
    std::memset(&a, 0, sizeof a);
    a.srcAccessOrder = cudaMemcpySrcAccessOrderStream;
    size_t first = 0;
    ok =
        check(cudaMemcpyBatchAsync(dsts, srcs, sizes, 2, &a, &first, 1, s), "cudaMemcpyBatchAsync");
  } else if (ok) {
    ok = check(cudaMemcpyAsync(dst, src, kN * sizeof(float), cudaMemcpyDefault, s),
               "cudaMemcpyAsync");
  }
  float got = 0;
  if (ok) {
    sum_kernel<<<1, 256, 0, s>>>(dst, kN, out);
    ok = check(cudaGetLastError(), "launch") &&
         check(cudaMemcpyAsync(&got, out, sizeof got, cudaMemcpyDeviceToHost, s), "copy back") &&
         check(cudaStreamSynchronize(s), "cudaStreamSynchronize");
  }
  cudaFree(dst);
  cudaFree(out);
  if (ok) std::printf("%s: sum %.0f (want %d)\n", name, static_cast<double>(got), kN);
  return ok && got == static_cast<float>(kN);
}

}  // namespace

int main(int argc, char** argv) {
  const bool batched = argc > 1 && std::strcmp(argv[1], "batch") == 0;
  if (argc != 2 || (!batched && std::strcmp(argv[1], "plain") != 0)) {
    std::fprintf(stderr, "usage: batch_copy_probe plain|batch\n");
    return 2;
  }
  cudaStream_t s = nullptr;
  float* host = nullptr;
  float* dev = nullptr;
  if (!check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate") ||
      !check(cudaMallocHost(&host, kN * sizeof(float)), "cudaMallocHost") ||
      !check(cudaMalloc(&dev, kN * sizeof(float)), "cudaMalloc")) {
    return 1;
  }
  for (int i = 0; i < kN; ++i) host[i] = 1.0f;
  bool ok = check(cudaMemcpy(dev, host, kN * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy");
  ok = ok && probe(batched ? "batch host-to-device" : "plain host-to-device", host, batched, s);
  ok = ok && probe(batched ? "batch device-to-device" : "plain device-to-device", dev, batched, s);
  cudaFree(dev);
  cudaFreeHost(host);
  cudaStreamDestroy(s);
  return ok ? 0 : 1;
}
