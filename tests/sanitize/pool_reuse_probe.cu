// Whether compute-sanitizer's initcheck follows memory that a stream-ordered pool hands from one
// stream to another (bundle/sanitize.sh runs it under initcheck and notes the counts). It copies
// the pattern of capi_test's Concurrency.SixtyFourThreadsShareFourStreams in raw CUDA, without
// cudago: threads share four streams; each round allocates one buffer outside any stream (on a
// private stream, synchronised) and two on its shared stream, fills them by synchronous copies
// ordered after their stream, adds them on the shared stream and reads the sum back; the first
// buffer is then freed on a reclaim stream that waits for the shared one and that nobody
// synchronises, the other two on the shared stream. The pool holds 64 MiB from the start and has
// no internal dependencies, so memory freed on the reclaim stream goes to another stream only
// once the driver has seen the free complete (opportunistic reuse). Every read is ordered after
// the copy that wrote it.
//
//   pool_reuse_probe cudago|onstream|noopportunistic
//     cudago           as described (cudago's own pattern)
//     onstream         the first buffer freed on the shared stream instead (no reclaim stream)
//     noopportunistic  as cudago, with the pool's opportunistic reuse turned off
//
// The exit status is 0 when every sum is right. Under initcheck, reports in "cudago" and none
// in the other two would put the reports of the capi_test on the tool's record of the frees.
#include <cuda_runtime.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace {

constexpr int kThreads = 32;
constexpr int kRounds = 40;
constexpr int kSharedStreams = 4;
constexpr unsigned kMaxN = 50000;

std::atomic<int> failures{0};
std::mutex print_mu;

bool check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::lock_guard<std::mutex> lock(print_mu);
  std::fprintf(stderr, "pool_reuse_probe: %s: %s\n", what, cudaGetErrorString(e));
  return false;
}

__global__ void add_kernel(const float* a, const float* b, float* c, unsigned n) {
  unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] = a[i] + b[i];
}

// `waiter` waits for the work queued on `waited` so far.
bool wait_for(cudaStream_t waiter, cudaStream_t waited) {
  cudaEvent_t ev = nullptr;
  bool ok = check(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), "cudaEventCreate") &&
            check(cudaEventRecord(ev, waited), "cudaEventRecord") &&
            check(cudaStreamWaitEvent(waiter, ev, 0), "cudaStreamWaitEvent");
  if (ev != nullptr) cudaEventDestroy(ev);
  return ok;
}

struct Shared {
  cudaMemPool_t pool = nullptr;
  cudaStream_t streams[kSharedStreams] = {};
  cudaStream_t reclaim = nullptr;
  std::mutex reclaim_mu;  // the reclaim stream's wait and free go together
  bool on_stream = false;
};

void worker(Shared& sh, int t) {
  std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1);
  cudaStream_t s = sh.streams[t % kSharedStreams];
  cudaStream_t q = nullptr;  // this thread's private stream, for its synchronous work
  if (!check(cudaStreamCreateWithFlags(&q, cudaStreamNonBlocking), "cudaStreamCreate")) {
    ++failures;
    return;
  }
  for (int r = 0; r < kRounds && failures.load() == 0; ++r) {
    const unsigned n = 1 + rng() % kMaxN;
    const size_t bytes = size_t{n} * sizeof(float);
    std::vector<float> a(n), b(n), c(n, -1.0f);
    for (unsigned i = 0; i < n; ++i) {
      a[i] = static_cast<float>(rng() % 1000) * 0.25f;
      b[i] = static_cast<float>(rng() % 1000) * 0.5f;
    }
    void* da = nullptr;
    void* db = nullptr;
    void* dc = nullptr;
    // da outside any stream: allocated on the private stream and synchronised, as a synchronous
    // allocation; db and dc on the shared stream.
    bool ok = check(cudaMallocFromPoolAsync(&da, bytes, sh.pool, q), "alloc a") &&
              check(cudaStreamSynchronize(q), "sync a") &&
              check(cudaMallocFromPoolAsync(&db, bytes, sh.pool, s), "alloc b") &&
              check(cudaMallocFromPoolAsync(&dc, bytes, sh.pool, s), "alloc c");
    // Synchronous copies on the private stream, after the buffer's own stream.
    ok = ok && check(cudaMemcpyAsync(da, a.data(), bytes, cudaMemcpyHostToDevice, q), "copy a") &&
         check(cudaStreamSynchronize(q), "sync copy a") && wait_for(q, s) &&
         check(cudaMemcpyAsync(db, b.data(), bytes, cudaMemcpyHostToDevice, q), "copy b") &&
         check(cudaStreamSynchronize(q), "sync copy b");
    if (ok) {
      add_kernel<<<(n + 255) / 256, 256, 0, s>>>(
          static_cast<const float*>(da), static_cast<const float*>(db), static_cast<float*>(dc), n);
      ok = check(cudaGetLastError(), "launch") && wait_for(q, s) &&
           check(cudaMemcpyAsync(c.data(), dc, bytes, cudaMemcpyDeviceToHost, q), "copy c") &&
           check(cudaStreamSynchronize(q), "sync copy c");
    }
    if (ok) {
      for (unsigned i = 0; i < n; ++i) {
        if (c[i] != a[i] + b[i]) {
          std::lock_guard<std::mutex> lock(print_mu);
          std::fprintf(stderr, "pool_reuse_probe: thread %d round %d: c[%u] = %g, want %g\n", t, r,
                       i, static_cast<double>(c[i]), static_cast<double>(a[i] + b[i]));
          ok = false;
          break;
        }
      }
    }
    // da was used on s: freed after it, on the reclaim stream (or on s itself).
    if (da != nullptr) {
      if (sh.on_stream) {
        ok = check(cudaFreeAsync(da, s), "free a") && ok;
      } else {
        std::lock_guard<std::mutex> lock(sh.reclaim_mu);
        ok = wait_for(sh.reclaim, s) && check(cudaFreeAsync(da, sh.reclaim), "free a") && ok;
      }
    }
    if (db != nullptr) ok = check(cudaFreeAsync(db, s), "free b") && ok;
    if (dc != nullptr) ok = check(cudaFreeAsync(dc, s), "free c") && ok;
    if (!ok) ++failures;
  }
  cudaStreamSynchronize(q);
  cudaStreamDestroy(q);
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc == 2 ? argv[1] : "";
  const bool cudago = std::strcmp(mode, "cudago") == 0;
  const bool onstream = std::strcmp(mode, "onstream") == 0;
  const bool noopp = std::strcmp(mode, "noopportunistic") == 0;
  if (!cudago && !onstream && !noopp) {
    std::fprintf(stderr, "usage: pool_reuse_probe cudago|onstream|noopportunistic\n");
    return 2;
  }
  Shared sh;
  sh.on_stream = onstream;
  cudaMemPoolProps props;
  std::memset(&props, 0, sizeof props);
  props.allocType = cudaMemAllocationTypePinned;
  props.handleTypes = cudaMemHandleTypeNone;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = 0;
  unsigned long long keep_all = std::numeric_limits<unsigned long long>::max();
  int no = 0;
  if (!check(cudaSetDevice(0), "cudaSetDevice") ||
      !check(cudaMemPoolCreate(&sh.pool, &props), "cudaMemPoolCreate") ||
      !check(cudaMemPoolSetAttribute(sh.pool, cudaMemPoolAttrReleaseThreshold, &keep_all),
             "release threshold") ||
      !check(cudaMemPoolSetAttribute(sh.pool, cudaMemPoolReuseAllowInternalDependencies, &no),
             "internal dependencies") ||
      (noopp && !check(cudaMemPoolSetAttribute(sh.pool, cudaMemPoolReuseAllowOpportunistic, &no),
                       "opportunistic reuse")) ||
      !check(cudaStreamCreateWithFlags(&sh.reclaim, cudaStreamNonBlocking), "cudaStreamCreate")) {
    return 1;
  }
  for (cudaStream_t& s : sh.streams) {
    if (!check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate")) return 1;
  }
  // 64 MiB reserved first (allocated and freed), as capi_test's Pools.ConfigureReserveAndStats
  // leaves the pool before the sixty-four-thread test in its shard: the buffers below are then
  // carved out of memory the pool already holds.
  void* reserve = nullptr;
  if (!check(cudaMallocFromPoolAsync(&reserve, size_t{64} << 20, sh.pool, sh.reclaim), "reserve") ||
      !check(cudaFreeAsync(reserve, sh.reclaim), "free the reserve") ||
      !check(cudaStreamSynchronize(sh.reclaim), "sync the reserve")) {
    return 1;
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, std::ref(sh), t);
  for (auto& th : threads) th.join();
  bool ok = check(cudaDeviceSynchronize(), "cudaDeviceSynchronize") && failures.load() == 0;
  for (cudaStream_t s : sh.streams) cudaStreamDestroy(s);
  cudaStreamDestroy(sh.reclaim);
  cudaMemPoolDestroy(sh.pool);
  std::printf("%s: %d threads x %d rounds, %s\n", mode, kThreads, kRounds,
              ok ? "every sum right" : "FAILED");
  return ok ? 0 : 1;
}
