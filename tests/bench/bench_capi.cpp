// bench_capi: the C++ twin of the Go benchmarks. It calls the C ABI directly, so the gap
// between its figures and the Go ones is the cost of the Go binding, and the gap between its
// figures and the raw CUDA ones is the cost of the C ABI and the core.
//
// Prints one JSON object per line, shaped like tests' peers.py rows:
//   {"op": "h2d", "impl": "cudago-cpp", "params": {...}, "ms": 10.1, "gbps": 26.6}
// impl is "cudago-cpp" (through libcudago) or "cuda-raw" (cudaMemcpyAsync on cudaMalloc'd
// device memory and cudaMallocHost'd or ordinary host memory: the reference for copies). Sizes
// match peers.py and the Go benchmarks.
//
// Timing: warm-up (at least 100 ms), then the median of 5 rounds of at least 20 ms each;
// asynchronous work is timed with events around a round of repetitions (the C ABI's events for
// cudago, CUDA's for the raw reference); synchronous calls and the round trip with
// std::chrono::steady_clock.
//
// The graph rows time 1000 one-thread kernels and a stream synchronisation per repetition on the
// host clock, queued one by one or replayed from one captured graph (as the Go benchmark
// BenchmarkGraphTinyKernels): "ms" per repetition, "us_per_kernel", and on the graph row
// "speedup", the one-by-one figure over the graph's.
//
// Without a device it prints {"skip": "no CUDA device: ..."} and exits 0, or 1 when
// CUDAGO_REQUIRE_GPU=1.
#include <cuda_runtime.h>
#include <cudago.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kRounds = 5;
constexpr int32_t kDevice = 0;

[[noreturn]] void Fail(const char* what, const std::string& why) {
  std::fprintf(stderr, "bench_capi: %s failed: %s\n", what, why.c_str());
  std::exit(2);
}

void Check(cudago_status_t status, const char* what) {
  if (status == CUDAGO_SUCCESS) return;
  cudago_error_info_t info = CUDAGO_ERROR_INFO_INIT;
  // The detail belongs to the last cudago call on this thread: read it first.
  const bool have_detail =
      cudago_error_last(&info) == CUDAGO_SUCCESS && info.status != CUDAGO_SUCCESS;
  std::string why = cudago_status_string(status);
  if (have_detail) why += std::string(" (") + info.operation + ": " + info.message + ")";
  Fail(what, why);
}

void CheckCuda(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    Fail(what, std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err));
}

#define CG(call) Check((call), #call)
#define CU(call) CheckCuda((call), #call)

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// One result row. bytes: the bytes the operation moves through memory, for GB/s.
void Emit(const char* op, const char* impl, const std::string& params, double ms, double bytes) {
  std::printf("{\"op\": \"%s\", \"impl\": \"%s\", \"params\": %s, \"ms\": %.5f, \"gbps\": %.1f}\n",
              op, impl, params.c_str(), ms, bytes / ms / 1e6);
  std::fflush(stdout);
}

std::string BytesParams(uint64_t bytes, const char* host) {
  std::string p = "{\"bytes\": " + std::to_string(bytes);
  if (host != nullptr) p += std::string(", \"host\": \"") + host + "\"";
  return p + "}";
}

// RAII holders, so an early exit path never matters and each benchmark frees what it took.
struct Stream {
  cudago_stream_t s = nullptr;
  Stream() { CG(cudago_stream_create(&s, kDevice, CUDAGO_STREAM_NON_BLOCKING, 0)); }
  ~Stream() { cudago_stream_destroy(s); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
};

struct Event {
  cudago_event_t e = nullptr;
  Event() { CG(cudago_event_create(&e, kDevice, CUDAGO_EVENT_DEFAULT)); }
  ~Event() { cudago_event_destroy(e); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
};

struct Buffer {
  cudago_buffer_t b = nullptr;
  explicit Buffer(uint64_t bytes) { CG(cudago_buffer_alloc(&b, kDevice, bytes)); }
  ~Buffer() { cudago_buffer_free(b); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
};

struct HostBuffer {
  cudago_host_buffer_t h = nullptr;
  void* p = nullptr;
  explicit HostBuffer(uint64_t bytes) {
    CG(cudago_host_buffer_alloc(&h, kDevice, bytes, CUDAGO_HOST_PINNED));
    CG(cudago_host_buffer_host_pointer(h, &p));
  }
  ~HostBuffer() { cudago_host_buffer_free(h); }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
};

// The timing scheme shared by every benchmark. batch(reps) queues (or runs) fn `reps` times and
// returns the milliseconds the batch took. Warm-up runs batches until kWarmMs have passed, so
// clocks and caches are in their steady state; each round then runs at least `min_reps`
// repetitions and at least kRoundMs of work, so short operations are not timed over a window
// dominated by the first launch. Returns the median of kRounds rounds, per repetition.
constexpr double kWarmMs = 100;
constexpr double kRoundMs = 20;

template <typename Batch>
double MedianPerRep(int min_reps, Batch batch) {
  double warm = 0, per_rep = 0;
  int warm_reps = 0;
  do {
    warm += batch(min_reps);
    warm_reps += min_reps;
  } while (warm < kWarmMs && warm_reps < 100000);
  per_rep = warm / warm_reps;
  int reps = min_reps;
  if (per_rep > 0 && per_rep * reps < kRoundMs) {
    reps = static_cast<int>(std::min(100000.0, kRoundMs / per_rep + 1));
  }
  std::vector<double> rounds;
  for (int r = 0; r < kRounds; r++) rounds.push_back(batch(reps) / reps);
  return Median(rounds);
}

// fn queued on a cudago stream, timed between two cudago events.
template <typename Fn>
double TimeCudago(cudago_stream_t stream, int min_reps, Fn fn) {
  Event start, stop;
  return MedianPerRep(min_reps, [&](int reps) {
    CG(cudago_event_record(start.e, stream));
    for (int i = 0; i < reps; i++) fn();
    CG(cudago_event_record(stop.e, stream));
    CG(cudago_event_synchronize(stop.e));
    float ms = 0;
    CG(cudago_event_elapsed_ms(start.e, stop.e, &ms));
    return static_cast<double>(ms);
  });
}

// fn queued on a raw CUDA stream, timed between two raw CUDA events.
template <typename Fn>
double TimeRaw(cudaStream_t stream, int min_reps, Fn fn) {
  cudaEvent_t start, stop;
  CU(cudaEventCreate(&start));
  CU(cudaEventCreate(&stop));
  double ms = MedianPerRep(min_reps, [&](int reps) {
    CU(cudaEventRecord(start, stream));
    for (int i = 0; i < reps; i++) fn();
    CU(cudaEventRecord(stop, stream));
    CU(cudaEventSynchronize(stop));
    float elapsed = 0;
    CU(cudaEventElapsedTime(&elapsed, start, stop));
    return static_cast<double>(elapsed);
  });
  CU(cudaEventDestroy(start));
  CU(cudaEventDestroy(stop));
  return ms;
}

// A synchronous fn (it returns when its work is done), timed on the host clock.
template <typename Fn>
double TimeWall(int min_reps, Fn fn) {
  using Clock = std::chrono::steady_clock;
  return MedianPerRep(min_reps, [&](int reps) {
    auto t0 = Clock::now();
    for (int i = 0; i < reps; i++) fn();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  });
}

// Host to device and back, 64 Mi floats (256 MiB), as peers.py's h2d group.
void BenchHostCopies() {
  const uint64_t bytes = (uint64_t{64} << 20) * sizeof(float);  // 64 Mi floats, 256 MiB
  Stream stream;
  Buffer dev(bytes);
  {
    HostBuffer pinned(bytes);
    std::memset(pinned.p, 0x3f, bytes);
    double ms = TimeCudago(
        stream.s, 5, [&] { CG(cudago_copy_h2d_async(stream.s, pinned.h, 0, dev.b, 0, bytes)); });
    Emit("h2d", "cudago-cpp", BytesParams(bytes, "pinned"), ms, bytes);
    ms = TimeCudago(stream.s, 5,
                    [&] { CG(cudago_copy_d2h_async(stream.s, dev.b, 0, pinned.h, 0, bytes)); });
    Emit("d2h", "cudago-cpp", BytesParams(bytes, "pinned"), ms, bytes);
  }
  {
    std::vector<unsigned char> pageable(bytes, 0x3f);  // touched: no first-use page faults
    double ms = TimeWall(3, [&] { CG(cudago_copy_h2d(pageable.data(), dev.b, 0, bytes)); });
    Emit("h2d", "cudago-cpp", BytesParams(bytes, "pageable"), ms, bytes);
    ms = TimeWall(3, [&] { CG(cudago_copy_d2h(dev.b, 0, pageable.data(), bytes)); });
    Emit("d2h", "cudago-cpp", BytesParams(bytes, "pageable"), ms, bytes);
  }
}

// The same pinned copies with nothing but cudaMallocHost, cudaMalloc and cudaMemcpyAsync.
void BenchRawHostCopies() {
  const uint64_t bytes = (uint64_t{64} << 20) * sizeof(float);
  CU(cudaSetDevice(kDevice));
  cudaStream_t stream;
  CU(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  void* host = nullptr;
  void* dev = nullptr;
  CU(cudaMallocHost(&host, bytes));
  CU(cudaMalloc(&dev, bytes));
  std::memset(host, 0x3f, bytes);
  double ms = TimeRaw(
      stream, 5, [&] { CU(cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice, stream)); });
  Emit("h2d", "cuda-raw", BytesParams(bytes, "pinned"), ms, bytes);
  ms = TimeRaw(stream, 5,
               [&] { CU(cudaMemcpyAsync(host, dev, bytes, cudaMemcpyDeviceToHost, stream)); });
  Emit("d2h", "cuda-raw", BytesParams(bytes, "pinned"), ms, bytes);
  // Pageable: what the CUDA runtime itself does with ordinary memory (it stages through its own
  // pinned buffers), synchronous like cudago_copy_h2d, on the host clock.
  std::vector<unsigned char> pageable(bytes, 0x3f);
  ms = TimeWall(3, [&] {
    CU(cudaMemcpyAsync(dev, pageable.data(), bytes, cudaMemcpyHostToDevice, stream));
    CU(cudaStreamSynchronize(stream));
  });
  Emit("h2d", "cuda-raw", BytesParams(bytes, "pageable"), ms, bytes);
  ms = TimeWall(3, [&] {
    CU(cudaMemcpyAsync(pageable.data(), dev, bytes, cudaMemcpyDeviceToHost, stream));
    CU(cudaStreamSynchronize(stream));
  });
  Emit("d2h", "cuda-raw", BytesParams(bytes, "pageable"), ms, bytes);
  CU(cudaFree(dev));
  CU(cudaFreeHost(host));
  CU(cudaStreamDestroy(stream));
}

// Device to device, 1 GiB; GB/s counts bytes read plus bytes written, as peers.py does.
void BenchDeviceCopy() {
  const uint64_t bytes = uint64_t{1} << 30;
  {
    Stream stream;
    Buffer src(bytes), dst(bytes);
    CG(cudago_memset_async(stream.s, 0x3f, src.b, 0, bytes));
    double ms = TimeCudago(stream.s, 20,
                           [&] { CG(cudago_copy_d2d_async(stream.s, src.b, 0, dst.b, 0, bytes)); });
    Emit("d2d_copy", "cudago-cpp", BytesParams(bytes, nullptr), ms, 2.0 * bytes);
  }
  CU(cudaSetDevice(kDevice));
  cudaStream_t stream;
  CU(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  void* src = nullptr;
  void* dst = nullptr;
  CU(cudaMalloc(&src, bytes));
  CU(cudaMalloc(&dst, bytes));
  CU(cudaMemsetAsync(src, 0x3f, bytes, stream));
  double ms = TimeRaw(
      stream, 20, [&] { CU(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream)); });
  Emit("d2d_copy", "cuda-raw", BytesParams(bytes, nullptr), ms, 2.0 * bytes);
  CU(cudaFree(src));
  CU(cudaFree(dst));
  CU(cudaStreamDestroy(stream));
}

// c = a + b over n floats (cudago_elementwise_binary, as Go's Add).
cudago_status_t add(cudago_stream_t s, cudago_buffer_t a, cudago_buffer_t b, cudago_buffer_t c,
                    uint64_t n) {
  return cudago_elementwise_binary(s, a, 0, b, 0, c, 0, n, CUDAGO_DTYPE_F32, CUDAGO_BINARY_ADD);
}

// c = a + b on n floats: reads 8n bytes and writes 4n.
void BenchVectorAdd(uint64_t n) {
  const uint64_t bytes = n * sizeof(float);
  Stream stream;
  Buffer a(bytes), b(bytes), c(bytes);
  CG(cudago_memset_async(stream.s, 0x3f, a.b, 0, bytes));  // 0.747f: real data, not zeros
  CG(cudago_memset_async(stream.s, 0x40, b.b, 0, bytes));  // 3.004f
  double ms = TimeCudago(stream.s, 20, [&] { CG(add(stream.s, a.b, b.b, c.b, n)); });
  Emit("vecadd_f32", "cudago-cpp", "{\"n\": " + std::to_string(n) + "}", ms, 12.0 * n);
}

// Latency of one small GPU operation seen by the host: a vector add of one element, then a
// stream synchronisation, per iteration.
void BenchRoundTrip() {
  using Clock = std::chrono::steady_clock;
  constexpr int kIters = 4000;  // per round; 5 rounds = 20000 iterations
  Stream stream;
  Buffer a(4), b(4), c(4);
  CG(cudago_memset_async(stream.s, 0x3f, a.b, 0, 4));
  CG(cudago_memset_async(stream.s, 0x40, b.b, 0, 4));
  auto once = [&] {
    CG(add(stream.s, a.b, b.b, c.b, 1));
    CG(cudago_stream_synchronize(stream.s));
  };
  for (int i = 0; i < 1000; i++) once();
  std::vector<double> per_op;
  for (int r = 0; r < kRounds; r++) {
    auto t0 = Clock::now();
    for (int i = 0; i < kIters; i++) once();
    std::chrono::duration<double, std::milli> dt = Clock::now() - t0;
    per_op.push_back(dt.count() / kIters);
  }
  double ms = Median(per_op);
  std::printf(
      "{\"op\": \"roundtrip\", \"impl\": \"cudago-cpp\", \"params\": {\"n\": 1, \"iters\": %d}, "
      "\"ms\": %.6f, \"us\": %.2f}\n",
      kIters * kRounds, ms, ms * 1e3);
  std::fflush(stdout);
}

// 1000 tiny kernels (one thread adds 1 to a float), queued one by one with cudago_kernel_launch,
// against the same 1000 captured once into a graph (uploaded, warmed up) and replayed with one
// cudago_graph_launch; each repetition ends with a stream synchronisation. Then the host cost of
// capturing and instantiating the 1000 launches.
void BenchGraphTinyKernels() {
  constexpr int kKernels = 1000;
  Stream stream;
  Buffer counter(sizeof(float));
  cudago_module_t module = nullptr;
  CG(cudago_module_compile(
      &module, kDevice, "extern \"C\" __global__ void bump(float* p) { p[0] += 1.0f; }", nullptr));
  cudago_kernel_t kernel = nullptr;
  CG(cudago_module_kernel(&kernel, module, "bump"));
  cudago_kernel_arg_t arg{};
  arg.kind = CUDAGO_ARG_BUFFER;
  arg.buffer = counter.b;
  const uint64_t one[3] = {1, 1, 1};
  auto queue = [&] {
    for (int i = 0; i < kKernels; i++) {
      CG(cudago_kernel_launch(kernel, stream.s, &arg, 1, one, one, 0));
    }
  };
  auto capture = [&] {
    cudago_graph_t g = nullptr;
    CG(cudago_stream_begin_capture(stream.s, CUDAGO_CAPTURE_THREAD_LOCAL));
    queue();
    CG(cudago_stream_end_capture(stream.s, &g));
    return g;
  };
  // Each way must add exactly kKernels (a float counts exactly up to 2^24).
  auto expect_count = [&](const char* what, auto run) {
    CG(cudago_memset(0, counter.b, 0, sizeof(float)));
    run();
    CG(cudago_stream_synchronize(stream.s));
    float got = -1;
    CG(cudago_copy_d2h(counter.b, 0, &got, sizeof got));
    if (got != static_cast<float>(kKernels)) {
      Fail(what, "the counter reads " + std::to_string(got) + ", want " + std::to_string(kKernels));
    }
  };

  cudago_graph_t graph = capture();
  uint64_t nodes = 0;
  CG(cudago_graph_node_count(graph, &nodes));
  if (nodes != static_cast<uint64_t>(kKernels)) {
    Fail("cudago_graph_node_count",
         std::to_string(nodes) + " nodes, want " + std::to_string(kKernels));
  }
  CG(cudago_graph_upload(graph, stream.s));
  expect_count("one-by-one launches", queue);
  expect_count("graph launch", [&] { CG(cudago_graph_launch(graph, stream.s)); });  // warm-up

  const double one_by_one = TimeWall(1, [&] {
    queue();
    CG(cudago_stream_synchronize(stream.s));
  });
  const double replay = TimeWall(1, [&] {
    CG(cudago_graph_launch(graph, stream.s));
    CG(cudago_stream_synchronize(stream.s));
  });
  const double capture_ms = TimeWall(1, [&] { CG(cudago_graph_destroy(capture())); });
  CG(cudago_graph_destroy(graph));
  CG(cudago_kernel_destroy(kernel));
  CG(cudago_module_destroy(module));

  const std::string params = "{\"kernels\": " + std::to_string(kKernels) + ", \"launch\": ";
  std::printf(
      "{\"op\": \"graph_tiny_kernels\", \"impl\": \"cudago-cpp\", \"params\": %s\"one_by_one\"}, "
      "\"ms\": %.5f, \"us_per_kernel\": %.4f}\n",
      params.c_str(), one_by_one, one_by_one * 1e3 / kKernels);
  std::printf(
      "{\"op\": \"graph_tiny_kernels\", \"impl\": \"cudago-cpp\", \"params\": %s\"graph\"}, "
      "\"ms\": %.5f, \"us_per_kernel\": %.4f, \"speedup\": %.2f}\n",
      params.c_str(), replay, replay * 1e3 / kKernels, one_by_one / replay);
  std::printf(
      "{\"op\": \"graph_capture\", \"impl\": \"cudago-cpp\", \"params\": {\"kernels\": %d}, "
      "\"ms\": %.5f}\n",
      kKernels, capture_ms);
  std::fflush(stdout);
}

}  // namespace

int main() {
  const char* require = std::getenv("CUDAGO_REQUIRE_GPU");
  const bool require_gpu = require != nullptr && std::strcmp(require, "1") == 0;

  int32_t count = 0;
  CG(cudago_device_count(&count));
  if (count == 0) {
    std::printf("{\"skip\": %s}\n",
                JsonString(std::string("no CUDA device: ") + cudago_no_device_reason()).c_str());
    if (require_gpu) {
      std::fprintf(stderr, "bench_capi: CUDAGO_REQUIRE_GPU=1 but there is no CUDA device\n");
      return 1;
    }
    return 0;
  }

  cudago_device_properties_t props;
  cudago_device_properties_init(&props);
  CG(cudago_device_properties(kDevice, &props));
  int32_t runtime = 0, driver = 0;
  CG(cudago_runtime_version(&runtime));
  CG(cudago_driver_version(&driver));
  std::printf("{\"device\": %s, \"cudago\": %s, \"cuda_runtime\": %d, \"cuda_driver\": %d}\n",
              JsonString(props.name).c_str(), JsonString(cudago_version_string()).c_str(),
              static_cast<int>(runtime), static_cast<int>(driver));
  std::fflush(stdout);

  BenchHostCopies();
  BenchRawHostCopies();
  BenchDeviceCopy();
  BenchVectorAdd(10000000);
  BenchVectorAdd(uint64_t{1} << 28);
  BenchRoundTrip();
  BenchGraphTinyKernels();
  return 0;
}
