// Synchronous work waits only for what it touches (GPU only).
//
// A kernel on stream A spins until the host sets a flag in mapped host memory, so it cannot end
// while the test runs its checks: a buffer it uses is freed (its free now waits for the kernel).
// Meanwhile another thread allocates, copies to and from, fills and frees unrelated buffers,
// synchronously and stream-ordered on its own stream. Every one of those calls must return while
// the kernel still spins; before 0.2 they all queued behind it on one internal stream per device
// and would wait forever. No timing is involved: the spinning kernel is the proof, and a
// watchdog releases it after 20 s so that a regression fails instead of hanging.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capi_util.hpp"

namespace {

const char* kSpin = R"(
extern "C" __global__ void spin_until(const volatile int* flag, float* touched) {
  while (*flag == 0) {
  }
  touched[threadIdx.x] = 1.0f;
}
)";

TEST(SyncPathGpu, UnrelatedSynchronousWorkDoesNotWaitForAnotherStreamsKernel) {
  NEED_GPU();
  CompiledKernel spin = compile_kernel(kSpin, "spin_until");
  ASSERT_TRUE(spin.kernel);
  const Kernel& kernel = spin.kernel;

  Host flag = make_host(sizeof(int), CUDAGO_HOST_MAPPED);
  volatile int* flag_ptr = host_ptr<int>(flag);
  ASSERT_NE(flag_ptr, nullptr);
  *flag_ptr = 0;
  Stream a = make_stream();
  cudago_buffer_t touched = nullptr;
  CG_OK(cudago_buffer_alloc(&touched, 0, 32 * sizeof(float)));
  cudago_kernel_arg_t args[2] = {{}, arg_buffer(touched)};
  args[0].kind = CUDAGO_ARG_HOST_BUFFER;
  args[0].host = flag.get();
  const uint64_t one[3] = {1, 1, 1};
  const uint64_t warp[3] = {32, 1, 1};
  CG_OK(cudago_kernel_launch(kernel.get(), a.get(), args, 2, one, warp, 0));
  // Freed while the kernel uses it: its free is queued after the kernel.
  CG_OK(cudago_buffer_free(touched));

  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::vector<std::string> failures;
  std::thread other([&] {
    auto fail = [&](const char* what) {
      std::lock_guard<std::mutex> lock(mu);
      failures.push_back(std::string(what) + ": " + last_error_text());
    };
    const uint64_t n = 4096;
    std::vector<float> in(n), out(n, -1.0f);
    for (uint64_t i = 0; i < n; ++i) in[i] = static_cast<float>(i) * 0.5f;
    for (int round = 0; round < 20; ++round) {
      cudago_buffer_t y = nullptr;
      if (cudago_buffer_alloc(&y, 0, n * sizeof(float)) != CUDAGO_SUCCESS) {
        fail("buffer_alloc");
        break;
      }
      if (cudago_copy_h2d(in.data(), y, 0, n * sizeof(float)) != CUDAGO_SUCCESS) fail("h2d");
      if (cudago_memset(0, y, 0, 16) != CUDAGO_SUCCESS) fail("memset");
      if (cudago_copy_d2h(y, 0, out.data(), n * sizeof(float)) != CUDAGO_SUCCESS) fail("d2h");
      if (out[0] != 0.0f || out[n - 1] != in[n - 1]) fail("wrong data");
      if (cudago_buffer_free(y) != CUDAGO_SUCCESS) fail("buffer_free");
    }
    // Stream-ordered on a stream of its own, then synchronous copies of that buffer.
    Stream b = make_stream();
    cudago_buffer_t z = nullptr;
    if (cudago_buffer_alloc_async(&z, b.get(), n * sizeof(float)) != CUDAGO_SUCCESS) {
      fail("buffer_alloc_async");
    } else {
      if (cudago_copy_h2d(in.data(), z, 0, n * sizeof(float)) != CUDAGO_SUCCESS) fail("h2d z");
      if (cudago_copy_d2h(z, 0, out.data(), n * sizeof(float)) != CUDAGO_SUCCESS) fail("d2h z");
      if (out[7] != in[7]) fail("wrong data z");
      if (cudago_buffer_free(z) != CUDAGO_SUCCESS) fail("free z");
      if (cudago_stream_synchronize(b.get()) != CUDAGO_SUCCESS) fail("sync b");
    }
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  });

  bool finished = false;
  {
    std::unique_lock<std::mutex> lock(mu);
    finished = cv.wait_for(lock, std::chrono::seconds(20), [&] { return done; });
  }
  // The kernel must still be spinning: the other thread's work did not need it to end.
  int32_t a_done = -1;
  CG_OK(cudago_stream_query(a.get(), &a_done));
  *flag_ptr = 1;  // release the kernel (also un-blocks a regression)
  other.join();
  CG_OK(cudago_stream_synchronize(a.get()));
  EXPECT_TRUE(finished) << "synchronous work on unrelated buffers waited for another stream's "
                           "kernel (it finished only once the kernel was released)";
  EXPECT_EQ(a_done, 0);
  for (const auto& f : failures) ADD_FAILURE() << f;
}

}  // namespace
