// Whether compute-sanitizer's initcheck follows memory that a stream-ordered pool hands from one
// stream to another (bundle/sanitize.sh runs it under initcheck and notes the counts). It copies
// the pattern of capi_test's Concurrency.SixtyFourThreadsShareFourStreams in raw CUDA, without
// cudago: 64 threads share four streams; each of their 50 rounds allocates one buffer outside
// any stream (on a stream of its own, synchronised) and two on its shared stream, fills them by
// synchronous copies ordered after their stream, adds them on the shared stream and reads the
// sum back; the first buffer is then freed on a reclaim stream that waits for the shared one and
// that nobody synchronises, the other two on the shared stream. The pool holds 64 MiB from the
// start and has no internal dependencies, so memory freed on the reclaim stream goes to another
// stream only once the driver has seen the free complete (opportunistic reuse). Every read is
// ordered after the copy that wrote it.
//
//   pool_reuse_probe MODE [THREADS ROUNDS]     (default 64 threads, 50 rounds each)
//     cudago           as described; each thread's synchronous work on a private stream, each
//                      wait through a fresh event
//     onstream         as cudago, the first buffer freed on the shared stream (no reclaim stream)
//     noopportunistic  as cudago, with the pool's opportunistic reuse turned off
//     pooled           as cudago does it inside: every synchronous allocation and copy borrows a
//                      stream from a shared pool (and gives it back after synchronising it), every
//                      wait takes an event from a shared pool and gives it back at once, and the
//                      reclaim stream's waits and frees from different threads interleave
//     pooled-noopportunistic  pooled, with opportunistic reuse turned off
//
// The exit status is 0 when every sum is right. Under initcheck, reports in one mode and none in
// another put capi_test's reports on what the two differ in; reports in any of them, where every
// read is ordered after its write, put them on the tool.
#include <cuda_runtime.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kMaxThreads = 1024;
constexpr int kMaxRounds = 100000;
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

struct Options {
  int threads = 64;
  int rounds = 50;
  bool on_stream = false;  // the first buffer freed on the shared stream
  bool pooled = false;     // pooled streams and events, as cudago
  bool no_opportunistic = false;
};

struct Shared {
  Options opt;
  cudaMemPool_t pool = nullptr;
  cudaStream_t streams[kSharedStreams] = {};
  cudaStream_t reclaim = nullptr;
  std::mutex reclaim_mu;  // without pooling: the reclaim stream's wait and free go together
  std::mutex pools_mu;    // the idle pooled streams and events
  std::vector<cudaStream_t> idle_streams;
  std::vector<cudaEvent_t> idle_events;
};

// A stream for one synchronous operation: this thread's private one, or one borrowed from the
// shared pool (created when none is idle) and given back by give_stream.
cudaStream_t take_stream(Shared& sh, cudaStream_t private_stream) {
  if (!sh.opt.pooled) return private_stream;
  {
    std::lock_guard<std::mutex> lock(sh.pools_mu);
    if (!sh.idle_streams.empty()) {
      cudaStream_t s = sh.idle_streams.back();
      sh.idle_streams.pop_back();
      return s;
    }
  }
  cudaStream_t s = nullptr;
  if (!check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate")) {
    return nullptr;
  }
  return s;
}

void give_stream(Shared& sh, cudaStream_t s) {
  if (!sh.opt.pooled || s == nullptr) return;
  std::lock_guard<std::mutex> lock(sh.pools_mu);
  sh.idle_streams.push_back(s);
}

// `waiter` waits for the work queued on `waited` so far, through a fresh event or, pooled, an
// event taken from the pool and given back as soon as the wait is queued.
bool wait_for(Shared& sh, cudaStream_t waiter, cudaStream_t waited) {
  cudaEvent_t ev = nullptr;
  if (sh.opt.pooled) {
    std::lock_guard<std::mutex> lock(sh.pools_mu);
    if (!sh.idle_events.empty()) {
      ev = sh.idle_events.back();
      sh.idle_events.pop_back();
    }
  }
  if (ev == nullptr &&
      !check(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), "cudaEventCreate")) {
    return false;
  }
  bool ok = check(cudaEventRecord(ev, waited), "cudaEventRecord") &&
            check(cudaStreamWaitEvent(waiter, ev, 0), "cudaStreamWaitEvent");
  if (sh.opt.pooled) {
    std::lock_guard<std::mutex> lock(sh.pools_mu);
    sh.idle_events.push_back(ev);
  } else {
    cudaEventDestroy(ev);
  }
  return ok;
}

// A synchronous host-to-device or device-to-host copy: on a stream that first waits for
// `after` (when not null), then synchronised.
bool sync_copy(Shared& sh, cudaStream_t private_stream, void* dst, const void* src, size_t bytes,
               cudaMemcpyKind kind, cudaStream_t after, const char* what) {
  cudaStream_t q = take_stream(sh, private_stream);
  bool ok = q != nullptr && (after == nullptr || wait_for(sh, q, after)) &&
            check(cudaMemcpyAsync(dst, src, bytes, kind, q), what) &&
            check(cudaStreamSynchronize(q), what);
  give_stream(sh, q);
  return ok;
}

void worker(Shared& sh, int t) {
  std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1);
  cudaStream_t s = sh.streams[t % kSharedStreams];
  cudaStream_t own = nullptr;  // this thread's private stream, for its synchronous work
  if (!sh.opt.pooled &&
      !check(cudaStreamCreateWithFlags(&own, cudaStreamNonBlocking), "cudaStreamCreate")) {
    ++failures;
    return;
  }
  for (int r = 0; r < sh.opt.rounds && failures.load() == 0; ++r) {
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
    // da outside any stream: allocated on a stream of its own and synchronised, as a synchronous
    // allocation; db and dc on the shared stream.
    cudaStream_t q = take_stream(sh, own);
    bool ok = q != nullptr && check(cudaMallocFromPoolAsync(&da, bytes, sh.pool, q), "alloc a") &&
              check(cudaStreamSynchronize(q), "sync a");
    give_stream(sh, q);
    ok = ok && check(cudaMallocFromPoolAsync(&db, bytes, sh.pool, s), "alloc b") &&
         check(cudaMallocFromPoolAsync(&dc, bytes, sh.pool, s), "alloc c");
    // Synchronous copies, each after the work queued on the buffer's own stream.
    ok = ok && sync_copy(sh, own, da, a.data(), bytes, cudaMemcpyHostToDevice, nullptr, "copy a") &&
         sync_copy(sh, own, db, b.data(), bytes, cudaMemcpyHostToDevice, s, "copy b");
    if (ok) {
      add_kernel<<<(n + 255) / 256, 256, 0, s>>>(
          static_cast<const float*>(da), static_cast<const float*>(db), static_cast<float*>(dc), n);
      ok = check(cudaGetLastError(), "launch") &&
           sync_copy(sh, own, c.data(), dc, bytes, cudaMemcpyDeviceToHost, s, "copy c");
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
      if (sh.opt.on_stream) {
        ok = check(cudaFreeAsync(da, s), "free a") && ok;
      } else {
        // The reclaim stream's wait and free: kept together under reclaim_mu without pooling;
        // pooled, threads interleave them, as cudago does.
        std::unique_lock<std::mutex> lock(sh.reclaim_mu, std::defer_lock);
        if (!sh.opt.pooled) lock.lock();
        ok = wait_for(sh, sh.reclaim, s) && check(cudaFreeAsync(da, sh.reclaim), "free a") && ok;
      }
    }
    if (db != nullptr) ok = check(cudaFreeAsync(db, s), "free b") && ok;
    if (dc != nullptr) ok = check(cudaFreeAsync(dc, s), "free c") && ok;
    if (!ok) ++failures;
  }
  if (own != nullptr) {
    cudaStreamSynchronize(own);
    cudaStreamDestroy(own);
  }
}

// A whole number in [lo, hi], or -1.
int parse_count(const char* text, int lo, int hi) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > hi) return -1;
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc >= 2 ? argv[1] : "";
  Options opt;
  bool known = true;
  if (mode == "onstream") {
    opt.on_stream = true;
  } else if (mode == "noopportunistic") {
    opt.no_opportunistic = true;
  } else if (mode == "pooled") {
    opt.pooled = true;
  } else if (mode == "pooled-noopportunistic") {
    opt.pooled = true;
    opt.no_opportunistic = true;
  } else if (mode != "cudago") {
    known = false;
  }
  if (argc == 4) {
    opt.threads = parse_count(argv[2], 1, kMaxThreads);
    opt.rounds = parse_count(argv[3], 1, kMaxRounds);
  }
  if (!known || (argc != 2 && argc != 4) || opt.threads < 0 || opt.rounds < 0) {
    std::fprintf(stderr,
                 "usage: pool_reuse_probe cudago|onstream|noopportunistic|pooled|"
                 "pooled-noopportunistic [THREADS(1-%d) ROUNDS(1-%d)]\n",
                 kMaxThreads, kMaxRounds);
    return 2;
  }
  Shared sh;
  sh.opt = opt;
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
      (opt.no_opportunistic &&
       !check(cudaMemPoolSetAttribute(sh.pool, cudaMemPoolReuseAllowOpportunistic, &no),
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
  for (int t = 0; t < opt.threads; ++t) threads.emplace_back(worker, std::ref(sh), t);
  for (auto& th : threads) th.join();
  bool ok = check(cudaDeviceSynchronize(), "cudaDeviceSynchronize") && failures.load() == 0;
  for (cudaStream_t s : sh.streams) cudaStreamDestroy(s);
  for (cudaStream_t s : sh.idle_streams) cudaStreamDestroy(s);
  for (cudaEvent_t e : sh.idle_events) cudaEventDestroy(e);
  cudaStreamDestroy(sh.reclaim);
  cudaMemPoolDestroy(sh.pool);
  std::printf("%s: %d threads x %d rounds, %s\n", mode.c_str(), opt.threads, opt.rounds,
              ok ? "every sum right" : "FAILED");
  return ok ? 0 : 1;
}
