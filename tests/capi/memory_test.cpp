// Pools, buffers and copies through the C ABI.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "capi_util.hpp"

namespace {

std::vector<uint8_t> random_bytes(size_t n) {
  static std::mt19937_64 rng(std::random_device{}());
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST(Buffers, SyncAndAsyncRoundTripsAreExact) {
  NEED_GPU();
  Stream s = make_stream();
  for (uint64_t n : {uint64_t{1}, uint64_t{7}, uint64_t{256}, uint64_t{65537}, uint64_t{3} << 20}) {
    auto src = random_bytes(n);
    Buffer d = make_buffer(n);
    CG_OK(cudago_copy_h2d(src.data(), d.get(), 0, n));
    cudago_buffer_t e_raw = nullptr;
    CG_OK(cudago_buffer_alloc_async(&e_raw, s.get(), n));
    Buffer e(e_raw);
    CG_OK(cudago_copy_d2d_async(s.get(), d.get(), 0, e.get(), 0, n));
    Host h = make_host(n);
    CG_OK(cudago_copy_d2h_async(s.get(), e.get(), 0, h.get(), 0, n));
    CG_OK(cudago_stream_synchronize(s.get()));
    ASSERT_EQ(std::memcmp(host_ptr<uint8_t>(h), src.data(), n), 0) << "n=" << n;
    // Back the other way: pinned -> device (async) -> pageable (sync).
    auto src2 = random_bytes(n);
    std::memcpy(host_ptr<uint8_t>(h), src2.data(), n);
    CG_OK(cudago_copy_h2d_async(s.get(), h.get(), 0, e.get(), 0, n));
    std::vector<uint8_t> back(n);
    CG_OK(cudago_copy_d2h(e.get(), 0, back.data(), n));  // ordered after the async copy
    ASSERT_EQ(back, src2) << "n=" << n;
  }
}

TEST(Buffers, MemsetAndOffsets) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer d = make_buffer(100);
  CG_OK(cudago_memset(0x3C, d.get(), 0, 100));
  CG_OK(cudago_memset_async(s.get(), 0x01, d.get(), 90, 10));
  CG_OK(cudago_stream_synchronize(s.get()));
  std::vector<uint8_t> back(100);
  CG_OK(cudago_copy_d2h(d.get(), 0, back.data(), 100));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(back[i], i >= 90 ? 0x01 : 0x3C) << i;
  uint64_t size = 0;
  CG_OK(cudago_buffer_size(d.get(), &size));
  EXPECT_EQ(size, 100u);
  int32_t dev = -1;
  CG_OK(cudago_buffer_device(d.get(), &dev));
  EXPECT_EQ(dev, 0);
  void* p = nullptr;
  CG_OK(cudago_buffer_device_pointer(d.get(), &p));
  EXPECT_NE(p, nullptr);
}

TEST(Buffers, CopiesBeyondABufferAreRefused) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer d = make_buffer(64), e = make_buffer(32);
  Host h = make_host(16);
  std::vector<uint8_t> host(128);
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_copy_h2d(host.data(), d.get(), 0, 65));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_copy_h2d(host.data(), d.get(), 60, 5));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_copy_h2d(host.data(), d.get(), max, 2));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_copy_d2h(d.get(), 1, host.data(), max));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_copy_d2d(d.get(), 0, e.get(), 0, 64));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_memset(0, d.get(), 64, 1));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_copy_h2d_async(s.get(), h.get(), 0, d.get(), 0, 17));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_copy_d2h_async(s.get(), d.get(), 0, h.get(), 8, 9));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_copy_h2d(nullptr, d.get(), 0, 8));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_copy_d2h(d.get(), 0, nullptr, 8));
  // Zero-length operations at the very end are fine.
  CG_OK(cudago_copy_h2d(host.data(), d.get(), 64, 0));
  CG_OK(cudago_copy_d2d_async(s.get(), d.get(), 64, e.get(), 32, 0));
  cudago_error_info_t info = CUDAGO_ERROR_INFO_INIT;
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_copy_d2d(d.get(), 0, e.get(), 0, 64));
  ASSERT_EQ(cudago_error_last(&info), CUDAGO_SUCCESS);
  EXPECT_STREQ(info.operation, "cudago_copy_d2d");
  EXPECT_NE(std::strstr(info.message, "32-byte destination"), nullptr) << info.message;
}

TEST(Buffers, ZeroAndImpossibleSizes) {
  NEED_GPU();
  Buffer z = make_buffer(0);
  uint64_t size = 1;
  CG_OK(cudago_buffer_size(z.get(), &size));
  EXPECT_EQ(size, 0u);
  Host hz = make_host(0);
  cudago_buffer_t b = nullptr;
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_MEMORY, cudago_buffer_alloc(&b, 0, uint64_t{1} << 60));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_MEMORY,
            cudago_buffer_alloc(&b, 0, std::numeric_limits<uint64_t>::max()));
  EXPECT_EQ(b, nullptr);
  cudago_host_buffer_t h = nullptr;
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_MEMORY, cudago_host_buffer_alloc(&h, 0, uint64_t{1} << 50, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_host_buffer_alloc(&h, 0, 16, 0x100));
  EXPECT_EQ(h, nullptr);
  Buffer ok = make_buffer(1024);  // still works afterwards
  EXPECT_NE(ok.get(), nullptr);
}

TEST(HostBuffers, PinnedIsZeroFilledAndMappedHasADevicePointer) {
  NEED_GPU();
  Host pinned = make_host(4096);
  for (int i = 0; i < 4096; ++i) ASSERT_EQ(host_ptr<uint8_t>(pinned)[i], 0);
  void* dp = nullptr;
  CG_EXPECT(CUDAGO_ERROR_NOT_SUPPORTED, cudago_host_buffer_device_pointer(pinned.get(), &dp));
  cudago_buffer_t view = nullptr;
  CG_EXPECT(CUDAGO_ERROR_NOT_SUPPORTED, cudago_buffer_from_mapped(&view, pinned.get()));
  Host mapped = make_host(4096, CUDAGO_HOST_MAPPED);
  CG_OK(cudago_host_buffer_device_pointer(mapped.get(), &dp));
  EXPECT_NE(dp, nullptr);
  Host wc = make_host(4096, CUDAGO_HOST_WRITE_COMBINED);
  uint64_t size = 0;
  CG_OK(cudago_host_buffer_size(wc.get(), &size));
  EXPECT_EQ(size, 4096u);
}

TEST(Pools, ConfigureReserveAndStats) {
  NEED_GPU();
  cudago_pool_config_t cfg = CUDAGO_POOL_CONFIG_INIT;
  cfg.reserve_bytes = 64ull << 20;
  CG_OK(cudago_pool_configure(0, &cfg));
  cudago_pool_stats_t st;
  cudago_pool_stats_init(&st);
  CG_OK(cudago_pool_stats(0, &st));
  EXPECT_GE(st.reserved_bytes, 64ull << 20);
  EXPECT_GE(st.reserved_high_bytes, st.reserved_bytes);
  {
    Buffer b = make_buffer(8ull << 20);
    cudago_pool_stats_t during;
    cudago_pool_stats_init(&during);
    CG_OK(cudago_pool_stats(0, &during));
    EXPECT_GE(during.used_bytes, st.used_bytes + (8ull << 20));
    EXPECT_EQ(during.reserved_bytes, st.reserved_bytes);  // served from the reservation
  }
  CG_OK(cudago_pool_reset_high_water(0));
  cfg.reserved0 = 1;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_pool_configure(0, &cfg));
  cfg.reserved0 = 0;
  cfg.struct_size = 0;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_pool_configure(0, &cfg));
}

// After a warm-up, 10^5 allocate/free cycles leave the pool's reservation unchanged and the
// device's free memory at its baseline: the steady state never calls cudaMalloc.
TEST(Pools, HundredThousandCyclesDoNotGrow) {
  NEED_GPU();
  const uint64_t bytes = 1 << 20;
  for (int i = 0; i < 100; ++i) make_buffer(bytes);
  Stream s = make_stream();
  // Both measurements hold one synchronously allocated buffer: its allocation synchronises the
  // library's stream, so every earlier free has run.
  Buffer probe = make_buffer(bytes);
  cudago_pool_stats_t before;
  cudago_pool_stats_init(&before);
  CG_OK(cudago_pool_stats(0, &before));
  uint64_t free0 = 0, total = 0;
  CG_OK(cudago_device_memory_info(0, &free0, &total));
  probe.reset();
  for (int i = 0; i < 100000; ++i) {
    cudago_buffer_t b = nullptr;
    if (i % 2 == 0) {
      ASSERT_EQ(cudago_buffer_alloc(&b, 0, bytes), CUDAGO_SUCCESS) << last_error_text();
    } else {
      ASSERT_EQ(cudago_buffer_alloc_async(&b, s.get(), bytes), CUDAGO_SUCCESS);
    }
    ASSERT_EQ(cudago_buffer_free(b), CUDAGO_SUCCESS) << last_error_text();
  }
  CG_OK(cudago_stream_synchronize(s.get()));
  probe = make_buffer(bytes);
  cudago_pool_stats_t after;
  cudago_pool_stats_init(&after);
  CG_OK(cudago_pool_stats(0, &after));
  uint64_t free1 = 0;
  CG_OK(cudago_device_memory_info(0, &free1, &total));
  EXPECT_EQ(after.reserved_bytes, before.reserved_bytes);
  EXPECT_EQ(after.used_bytes, before.used_bytes);
  // A leak of one allocation per cycle would be 100 GiB; allow 2 MiB of driver bookkeeping.
  // Under compute-sanitizer the sanitizer's own tracking takes device memory as allocations come
  // and go, so only the pool's figures count.
  if (!under_sanitizer()) {
    EXPECT_LE(free0 > free1 ? free0 - free1 : 0, 2ull << 20)
        << "free before " << free0 << ", after " << free1;
  }
}

}  // namespace
