// Vector add through the C ABI against a CPU loop, on fresh random data at awkward sizes.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "capi_util.hpp"

namespace {

std::vector<float> random_floats(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1000.0f, 1000.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(VectorAdd, MatchesTheCpuAtAwkwardSizes) {
  NEED_GPU();
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  Stream s = make_stream();
  for (uint64_t n :
       {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{255}, uint64_t{256}, uint64_t{257},
        uint64_t{1021}, uint64_t{4099}, uint64_t{1000003}, uint64_t{10000000}}) {
    auto a = random_floats(n, rng), b = random_floats(n, rng);
    Buffer da = make_buffer(n * 4), db = make_buffer(n * 4), dc = make_buffer(n * 4);
    CG_OK(cudago_copy_h2d(a.data(), da.get(), 0, n * 4));
    CG_OK(cudago_copy_h2d(b.data(), db.get(), 0, n * 4));
    CG_OK(cudago_memset(0xFF, dc.get(), 0, n * 4));  // NaN: an unwritten element fails
    CG_OK(add_f32(s.get(), da.get(), db.get(), dc.get(), n));
    std::vector<float> c(n);
    CG_OK(cudago_copy_d2h(dc.get(), 0, c.data(), n * 4));
    for (uint64_t i = 0; i < n; ++i) {
      ASSERT_EQ(c[i], a[i] + b[i]) << "n=" << n << " i=" << i << " seed=" << seed;
    }
  }
}

TEST(VectorAdd, PrefixAndAliasing) {
  NEED_GPU();
  std::mt19937 rng(std::random_device{}());
  const uint64_t n = 1000, used = 997;
  auto a = random_floats(n, rng);
  Stream s = make_stream();
  Buffer da = make_buffer(n * 4), dc = make_buffer(n * 4);
  CG_OK(cudago_copy_h2d(a.data(), da.get(), 0, n * 4));
  CG_OK(cudago_memset(0xFF, dc.get(), 0, n * 4));
  CG_OK(add_f32(s.get(), da.get(), da.get(), dc.get(), used));
  CG_OK(add_f32(s.get(), da.get(), da.get(), da.get(), n));  // in place: a = 2a
  CG_OK(cudago_stream_synchronize(s.get()));
  std::vector<float> c(n), a2(n);
  CG_OK(cudago_copy_d2h(dc.get(), 0, c.data(), n * 4));
  CG_OK(cudago_copy_d2h(da.get(), 0, a2.data(), n * 4));
  for (uint64_t i = 0; i < n; ++i) {
    if (i < used) {
      ASSERT_EQ(c[i], a[i] + a[i]) << i;
    } else {
      uint32_t bits;
      std::memcpy(&bits, &c[i], 4);
      ASSERT_EQ(bits, 0xFFFFFFFFu) << "element " << i << " beyond n was written";
    }
    ASSERT_EQ(a2[i], a[i] + a[i]) << i;
  }
}

TEST(VectorAdd, PinnedAsyncPipeline) {
  NEED_GPU();
  std::mt19937 rng(std::random_device{}());
  const uint64_t n = 1 << 20;
  Stream s = make_stream();
  Host ha = make_host(n * 4), hb = make_host(n * 4), hc = make_host(n * 4);
  auto a = random_floats(n, rng), b = random_floats(n, rng);
  std::memcpy(host_ptr<float>(ha), a.data(), n * 4);
  std::memcpy(host_ptr<float>(hb), b.data(), n * 4);
  cudago_buffer_t ra, rb, rc;
  CG_OK(cudago_buffer_alloc_async(&ra, s.get(), n * 4));
  CG_OK(cudago_buffer_alloc_async(&rb, s.get(), n * 4));
  CG_OK(cudago_buffer_alloc_async(&rc, s.get(), n * 4));
  Buffer da(ra), db(rb), dc(rc);
  CG_OK(cudago_copy_h2d_async(s.get(), ha.get(), 0, da.get(), 0, n * 4));
  CG_OK(cudago_copy_h2d_async(s.get(), hb.get(), 0, db.get(), 0, n * 4));
  CG_OK(add_f32(s.get(), da.get(), db.get(), dc.get(), n));
  CG_OK(cudago_copy_d2h_async(s.get(), dc.get(), 0, hc.get(), 0, n * 4));
  CG_OK(cudago_stream_synchronize(s.get()));
  const float* c = host_ptr<float>(hc);
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(c[i], a[i] + b[i]) << i;
}

TEST(VectorAdd, ZeroCopyThroughMappedMemory) {
  NEED_GPU();
  const uint64_t n = 4099;
  Host ma = make_host(n * 4, CUDAGO_HOST_MAPPED), mc = make_host(n * 4, CUDAGO_HOST_MAPPED);
  float* a = host_ptr<float>(ma);
  for (uint64_t i = 0; i < n; ++i) a[i] = static_cast<float>(i) - 17.25f;
  cudago_buffer_t va_raw = nullptr, vc_raw = nullptr;
  CG_OK(cudago_buffer_from_mapped(&va_raw, ma.get()));
  CG_OK(cudago_buffer_from_mapped(&vc_raw, mc.get()));
  Buffer va(va_raw), vc(vc_raw);
  Stream s = make_stream();
  CG_OK(add_f32(s.get(), va.get(), va.get(), vc.get(), n));
  CG_OK(cudago_stream_synchronize(s.get()));
  const float* c = host_ptr<float>(mc);
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(c[i], a[i] + a[i]) << i;
  vc.reset();
  CG_OK(cudago_host_buffer_free(mc.release()));  // order of release does not matter
}

TEST(VectorAdd, BadArgumentsAreRefused) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer a = make_buffer(400), small = make_buffer(396);
  CG_OK(cudago_memset(0, a.get(), 0, 400));  // the accepted calls read it (initcheck)
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, add_f32(s.get(), a.get(), a.get(), small.get(), 100));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            add_f32(s.get(), a.get(), a.get(), a.get(), uint64_t{1} << 62));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, add_f32(s.get(), a.get(), nullptr, a.get(), 100));
  CG_OK(add_f32(s.get(), a.get(), a.get(), small.get(), 0));
  CG_OK(add_f32(s.get(), a.get(), a.get(), small.get(), 99));
  CG_OK(cudago_stream_synchronize(s.get()));
}

// Kernels and memset refuse buffers of another device; device-to-device copies across devices
// are peer copies (tests/capi/peer_test.cpp) and are legal.
TEST(MultiDevice, BuffersOfAnotherDeviceAreRefused) {
  NEED_GPU();
  int32_t n = 0;
  CG_OK(cudago_device_count(&n));
  if (n < 2) GTEST_SKIP() << "needs 2 devices, this machine has " << n;
  Stream s0 = make_stream(0);
  Buffer b0 = make_buffer(64, 0), b1 = make_buffer(64, 1);
  CG_EXPECT(CUDAGO_ERROR_DEVICE_MISMATCH, add_f32(s0.get(), b0.get(), b1.get(), b0.get(), 16));
  CG_OK(cudago_copy_d2d(b1.get(), 0, b0.get(), 0, 64));
  CG_EXPECT(CUDAGO_ERROR_DEVICE_MISMATCH, cudago_memset_async(s0.get(), 0, b1.get(), 0, 64));
}

}  // namespace
