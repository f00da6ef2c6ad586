// CUDA graphs used from several threads at once, through the C ABI (GPU only).
//
// - One executable graph launched from many threads onto their own streams: CUDA graphs are not
//   thread-safe, so cudago serialises the launches of one graph; every replay must run, once.
// - A buffer the graph captured freed by one thread while another launches the graph: either
//   the launch is refused (INVALID_HANDLE) or the free is ordered after the replay. The memory
//   is reused by the next allocation of the same size, which is zeroed and checked after the
//   replay's stream is done: a replay that ran after the free would have written into it.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "capi_util.hpp"

namespace {

// count: one atomic increment per replay. fill: a slow write of `value` over n ints (each
// thread spins first, so a replay stays in flight long enough for a racing free).
const char* kSource = R"(
extern "C" __global__ void count(unsigned long long* c) { atomicAdd(c, 1ull); }
extern "C" __global__ void fill(int* p, int value, int n) {
  long long start = clock64();
  while (clock64() - start < 20000) {}
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = value;
}
)";

Graph capture(cudago_stream_t s, const std::function<cudago_status_t()>& work) {
  EXPECT_EQ(cudago_stream_begin_capture(s, CUDAGO_CAPTURE_THREAD_LOCAL), CUDAGO_SUCCESS)
      << last_error_text();
  EXPECT_EQ(work(), CUDAGO_SUCCESS) << last_error_text();
  cudago_graph_t g = nullptr;
  EXPECT_EQ(cudago_stream_end_capture(s, &g), CUDAGO_SUCCESS) << last_error_text();
  return Graph(g);
}

TEST(GraphRaceGpu, OneGraphLaunchedFromManyThreadsRunsEveryReplay) {
  NEED_GPU();
  CompiledKernel c = compile_kernel(kSource, "count");
  ASSERT_TRUE(c.kernel);
  const Kernel& count = c.kernel;
  Buffer counter = make_buffer(sizeof(uint64_t));
  CG_OK(cudago_memset(0, counter.get(), 0, sizeof(uint64_t)));
  Stream s = make_stream();
  cudago_kernel_arg_t arg = arg_buffer(counter.get());
  const uint64_t one[3] = {1, 1, 1};
  Graph g = capture(
      s.get(), [&] { return cudago_kernel_launch(count.get(), s.get(), &arg, 1, one, one, 0); });
  ASSERT_TRUE(g);

  constexpr int kThreads = 8, kLaunches = 250;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      Stream mine = make_stream();
      for (int i = 0; i < kLaunches; ++i) {
        if (i % 50 == 0 && cudago_graph_upload(g.get(), mine.get()) != CUDAGO_SUCCESS) {
          ++failures;
        }
        if (cudago_graph_launch(g.get(), mine.get()) != CUDAGO_SUCCESS) ++failures;
      }
      if (cudago_stream_synchronize(mine.get()) != CUDAGO_SUCCESS) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  uint64_t total = 0;
  CG_OK(cudago_copy_d2h(counter.get(), 0, &total, sizeof total));
  EXPECT_EQ(total, uint64_t{kThreads} * kLaunches);
}

TEST(GraphRaceGpu, FreeRacingALaunchNeverLetsTheReplayWriteFreedMemory) {
  NEED_GPU();
  CompiledKernel c = compile_kernel(kSource, "fill");
  ASSERT_TRUE(c.kernel);
  const Kernel& fill = c.kernel;
  constexpr int kN = 1 << 16;
  constexpr uint64_t kBytes = kN * sizeof(int);
  const uint64_t block[3] = {256, 1, 1};
  const uint64_t grid[3] = {kN / 256, 1, 1};
  Stream capture_stream = make_stream();
  Stream launch_stream = make_stream();
  int refused = 0, ran = 0;
  for (int round = 0; round < 40; ++round) {
    cudago_buffer_t x = nullptr;
    CG_OK(cudago_buffer_alloc(&x, 0, kBytes));
    cudago_kernel_arg_t args[3] = {arg_buffer(x), arg_i32(7), arg_i32(kN)};
    Graph g = capture(capture_stream.get(), [&] {
      return cudago_kernel_launch(fill.get(), capture_stream.get(), args, 3, grid, block, 0);
    });
    ASSERT_TRUE(g);
    // Launch and free at the same time.
    std::atomic<bool> go{false};
    cudago_status_t launched = CUDAGO_SUCCESS;
    std::thread launcher([&] {
      while (!go.load()) {
      }
      launched = cudago_graph_launch(g.get(), launch_stream.get());
    });
    go = true;
    if (round % 2 == 1) std::this_thread::yield();
    CG_OK(cudago_buffer_free(x));
    launcher.join();
    ASSERT_TRUE(launched == CUDAGO_SUCCESS || launched == CUDAGO_ERROR_INVALID_HANDLE)
        << cudago_status_string(launched);
    (launched == CUDAGO_SUCCESS ? ran : refused)++;
    // The freed memory goes to the next allocation of the same size (the pool keeps it).
    Buffer y = make_buffer(kBytes);
    CG_OK(cudago_memset(0, y.get(), 0, kBytes));
    CG_OK(cudago_stream_synchronize(launch_stream.get()));
    std::vector<int> out(kN, -1);
    CG_OK(cudago_copy_d2h(y.get(), 0, out.data(), kBytes));
    int sevens = 0;
    for (int v : out) sevens += v == 7;
    ASSERT_EQ(sevens, 0) << "round " << round << ": the replay wrote into freed memory";
  }
  std::printf("[ rounds   ] %d launched, %d refused\n", ran, refused);
}

}  // namespace
