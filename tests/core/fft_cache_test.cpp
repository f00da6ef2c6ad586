// The cuFFT plan cache: hits, LRU eviction by count and by bytes, and concurrent use from many
// threads on their own streams (each result checked against a naive CPU DFT in float64; the
// fp32 bound 1e-5 * log2(n) is the one stated in tests/capi/fft_test.cpp).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <complex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cudago/copy.hpp"
#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/fft.hpp"
#include "gpu_skip.hpp"

#define NEED_GPU() CUDAGO_NEED_GPU(::cudago::device_count(), ::cudago::no_device_reason())

namespace cudago {
namespace {

FftDesc c2c(int64_t n, int64_t batch) {
  FftDesc d;
  d.rank = 1;
  d.dims = {n, 0, 0};
  d.type = FftType::kC2C;
  d.precision = DType::kF32;
  d.batch = batch;
  return d;
}

// Runs d forward on zeroed buffers of the right size (a plan use, the values do not matter).
void use_shape(const StreamPtr& s, const FftDesc& d) {
  FftExtent e = fft_extent(d, false);
  auto in = DeviceBuffer::allocate(0, e.in_bytes);
  auto out = DeviceBuffer::allocate(0, e.out_bytes);
  fill(*in, 0, 0, e.in_bytes);
  fft_exec(s, d, *in, 0, *out, 0, FftDirection::kForward, FftNorm::kNone);
  s->synchronize();
}

class FftCache : public ::testing::Test {
 protected:
  void SetUp() override {
    NEED_GPU();
    fft_cache_set_limits(kFftCacheDefaultEntries, kFftCacheDefaultBytes);
    fft_cache_clear();
    stream_ = Stream::create(0, Stream::kNonBlocking, 0);
  }
  void TearDown() override {
    if (device_count() > 0) fft_cache_set_limits(kFftCacheDefaultEntries, kFftCacheDefaultBytes);
  }
  StreamPtr stream_;
};

TEST_F(FftCache, HitsOnTheSecondUseAndEvictsTheLeastRecentlyUsed) {
  fft_cache_set_limits(2, kFftCacheDefaultBytes);
  const FftCacheStats s0 = fft_cache_stats();
  const FftDesc a = c2c(64, 3), b = c2c(100, 3), c = c2c(64, 5);
  use_shape(stream_, a);
  use_shape(stream_, a);
  FftCacheStats s = fft_cache_stats();
  EXPECT_EQ(s.misses - s0.misses, 1u);
  EXPECT_EQ(s.hits - s0.hits, 1u);
  EXPECT_EQ(s.entries, 1u);
  use_shape(stream_, b);  // cache: b, a
  use_shape(stream_, a);  // hit; cache: a, b
  use_shape(stream_, c);  // miss; evicts b, the least recently used
  s = fft_cache_stats();
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(s.evictions - s0.evictions, 1u);
  EXPECT_EQ(s.misses - s0.misses, 3u);
  EXPECT_EQ(s.hits - s0.hits, 2u);
  use_shape(stream_, a);  // still cached
  EXPECT_EQ(fft_cache_stats().hits - s0.hits, 3u);
  use_shape(stream_, b);  // was evicted
  s = fft_cache_stats();
  EXPECT_EQ(s.misses - s0.misses, 4u);
  EXPECT_EQ(s.in_use, 0u);
  fft_cache_clear();
  s = fft_cache_stats();
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
}

TEST_F(FftCache, TheByteBoundEvicts) {
  const FftDesc big = c2c(1000003, 1);  // a prime: cuFFT needs a work area for it
  use_shape(stream_, big);
  FftCacheStats s = fft_cache_stats();
  ASSERT_EQ(s.entries, 1u);
  ASSERT_GT(s.bytes, 0u) << "the test needs a plan with a work area";
  const uint64_t evicted = s.evictions;
  fft_cache_set_limits(kFftCacheDefaultEntries, s.bytes - 1);
  s = fft_cache_stats();
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_EQ(s.evictions, evicted + 1);
  use_shape(stream_, big);  // too big to keep: destroyed after use
  EXPECT_EQ(fft_cache_stats().entries, 0u);
  use_shape(stream_, c2c(16, 1));  // a small one without a work area stays
  EXPECT_EQ(fft_cache_stats().entries, 1u);
}

std::vector<std::complex<double>> naive_dft(const std::vector<std::complex<float>>& x, int64_t n,
                                            int64_t batch) {
  std::vector<std::complex<double>> y(x.size());
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t k = 0; k < n; ++k) {
      std::complex<double> s = 0;
      for (int64_t j = 0; j < n; ++j) {
        const double a = -2.0 * M_PI * static_cast<double>((j * k) % n) / static_cast<double>(n);
        s += std::complex<double>(x[b * n + j]) * std::complex<double>(std::cos(a), std::sin(a));
      }
      y[b * n + k] = s;
    }
  }
  return y;
}

// Many threads, each on its own stream, run the same few shapes with a cache smaller than the
// number of concurrent users: plans are checked out, created twice when contended, evicted
// while others run. Every result must still be right, and the books must balance.
TEST_F(FftCache, ConcurrentUseFromManyThreadsOnTheirOwnStreams) {
  fft_cache_set_limits(3, kFftCacheDefaultBytes);
  const FftCacheStats s0 = fft_cache_stats();
  const unsigned seed = std::random_device{}();
  constexpr int kThreads = 8, kIters = 25;
  const int64_t sizes[] = {64, 100, 17, 1024};
  std::atomic<int> failures{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        std::mt19937 rng(seed + static_cast<unsigned>(t));
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        StreamPtr s = Stream::create(0, Stream::kNonBlocking, 0);
        for (int it = 0; it < kIters; ++it) {
          const int64_t n = sizes[(t + it) % 4], batch = 2;
          std::vector<std::complex<float>> x(n * batch), y(n * batch);
          for (auto& v : x) v = {u(rng), u(rng)};
          const uint64_t bytes = x.size() * sizeof x[0];
          auto in = DeviceBuffer::allocate_async(s, bytes);
          auto out = DeviceBuffer::allocate_async(s, bytes);
          copy_to_device(*in, 0, x.data(), bytes);
          fill(*out, 0, 0xFF, bytes);
          fft_exec(s, c2c(n, batch), *in, 0, *out, 0, FftDirection::kForward, FftNorm::kNone);
          copy_to_host(y.data(), *out, 0, bytes);
          const auto want = naive_dft(x, n, batch);
          double e2 = 0, r2 = 0;
          for (size_t i = 0; i < y.size(); ++i) {
            e2 += std::norm(std::complex<double>(y[i]) - want[i]);
            r2 += std::norm(want[i]);
          }
          const double rel = std::sqrt(e2 / r2);
          if (!(rel <= 1e-5 * std::log2(static_cast<double>(n)))) {
            errors[t] = "n=" + std::to_string(n) + " iteration " + std::to_string(it) +
                        ": relative error " + std::to_string(rel);
            ++failures;
            return;
          }
        }
      } catch (const Error& e) {
        errors[t] = e.what();
        ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(errors[t].empty()) << "thread " << t << ": " << errors[t] << " seed=" << seed;
  }
  EXPECT_EQ(failures.load(), 0);
  const FftCacheStats s = fft_cache_stats();
  EXPECT_EQ((s.hits - s0.hits) + (s.misses - s0.misses), uint64_t{kThreads} * kIters);
  EXPECT_GT(s.hits - s0.hits, 0u);
  EXPECT_EQ(s.in_use, 0u);
  EXPECT_LE(s.entries, 3u);
  EXPECT_EQ(s.misses - s0.misses, s.evictions - s0.evictions + s.entries);
}

TEST(FftCacheNoGpu, LimitsAndStatsWorkWithoutADevice) {
  fft_cache_set_limits(5, 1000);
  FftCacheStats s = fft_cache_stats();
  EXPECT_EQ(s.max_entries, 5u);
  EXPECT_EQ(s.max_bytes, 1000u);
  fft_cache_clear();
  fft_cache_set_limits(kFftCacheDefaultEntries, kFftCacheDefaultBytes);
  EXPECT_EQ(fft_cache_stats().max_entries, kFftCacheDefaultEntries);
}

}  // namespace
}  // namespace cudago
