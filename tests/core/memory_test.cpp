// Pools, buffers, stream-ordered lifetimes, copies.
#include "cudago/memory.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "cudago/copy.hpp"
#include "cudago/device.hpp"
#include "cudago/elementwise.hpp"
#include "cudago/error.hpp"
#include "gpu_skip.hpp"
#include "test_kernels.hpp"

#define NEED_GPU() CUDAGO_NEED_GPU(::cudago::device_count(), ::cudago::no_device_reason())

namespace cudago {
namespace {

constexpr uint64_t kMillisecond = 1000000;

template <class Fn>
Status status_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.status();
  }
  return Status::kSuccess;
}

TEST(Range, CheckRangeIsOverflowSafe) {
  EXPECT_EQ(status_of([] { check_range(100, 0, 100, "b"); }), Status::kSuccess);
  EXPECT_EQ(status_of([] { check_range(100, 100, 0, "b"); }), Status::kSuccess);
  EXPECT_EQ(status_of([] { check_range(0, 0, 0, "b"); }), Status::kSuccess);
  EXPECT_EQ(status_of([] { check_range(100, 1, 100, "b"); }), Status::kOutOfRange);
  EXPECT_EQ(status_of([] { check_range(100, 101, 0, "b"); }), Status::kOutOfRange);
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(status_of([&] { check_range(100, 50, max - 10, "b"); }), Status::kOutOfRange);
  EXPECT_EQ(status_of([&] { check_range(100, max, 2, "b"); }), Status::kOutOfRange);
}

TEST(Memory, AllocationWithoutDeviceFails) {
  if (device_count() != 0) GTEST_SKIP() << "checks the no-device path";
  EXPECT_EQ(status_of([] { DeviceBuffer::allocate(0, 16); }), Status::kNoDevice);
  EXPECT_EQ(status_of([] { HostBuffer::allocate(0, 16, HostBuffer::kPinned); }), Status::kNoDevice);
  EXPECT_EQ(status_of([] { pool_stats(0); }), Status::kNoDevice);
}

TEST(Memory, CopiesRoundTripExactlyAtAwkwardSizes) {
  NEED_GPU();
  std::mt19937_64 rng(std::random_device{}());
  for (uint64_t n : {uint64_t{1}, uint64_t{3}, uint64_t{255}, uint64_t{4097}, uint64_t{1000003}}) {
    std::vector<uint8_t> src(n), back(n, 0);
    for (auto& b : src) b = static_cast<uint8_t>(rng());
    auto d = DeviceBuffer::allocate(0, n);
    auto e = DeviceBuffer::allocate(0, n);
    copy_to_device(*d, 0, src.data(), n);
    copy_device(*e, 0, *d, 0, n);
    copy_to_host(back.data(), *e, 0, n);
    EXPECT_EQ(src, back) << "n=" << n;
  }
}

TEST(Memory, RangedCopiesAndFillTouchOnlyTheirRange) {
  NEED_GPU();
  const uint64_t n = 1000;
  auto d = DeviceBuffer::allocate(0, n);
  fill(*d, 0, 0xAB, n);
  std::vector<uint8_t> patch(100, 0x11);
  copy_to_device(*d, 450, patch.data(), patch.size());
  fill(*d, 10, 0x22, 5);
  std::vector<uint8_t> back(n);
  copy_to_host(back.data(), *d, 0, n);
  for (uint64_t i = 0; i < n; ++i) {
    uint8_t want = (i >= 450 && i < 550) ? 0x11 : (i >= 10 && i < 15) ? 0x22 : 0xAB;
    ASSERT_EQ(back[i], want) << "i=" << i;
  }
  std::vector<uint8_t> part(7);
  copy_to_host(part.data(), *d, 993, 7);
  EXPECT_EQ(part, std::vector<uint8_t>(7, 0xAB));
  EXPECT_EQ(status_of([&] { copy_to_host(part.data(), *d, 994, 7); }), Status::kOutOfRange);
  EXPECT_EQ(status_of([&] { copy_to_device(*d, 0, nullptr, 1); }), Status::kInvalidArgument);
  EXPECT_EQ(status_of([&] { copy_to_device(*d, 0, nullptr, 0); }), Status::kSuccess);
}

TEST(Memory, ZeroByteBuffersAreLegal) {
  NEED_GPU();
  auto d = DeviceBuffer::allocate(0, 0);
  EXPECT_EQ(d->size(), 0u);
  copy_to_device(*d, 0, nullptr, 0);
  auto s = Stream::create(0, Stream::kNonBlocking, 0);
  auto h = HostBuffer::allocate(0, 0, HostBuffer::kPinned);
  copy_to_device_async(s, *d, 0, *h, 0, 0);
  elementwise_binary(s, BinaryOp::kAdd, DType::kF32, *d, 0, *d, 0, *d, 0, 0);
  s->synchronize();
}

TEST(Memory, PoolIsUsedAndReusedWithoutGrowing) {
  NEED_GPU();
  auto warm = DeviceBuffer::allocate(0, 1 << 20);
  warm.reset();
  PoolStats before = pool_stats(0);
  EXPECT_GE(before.reserved_bytes, uint64_t{1} << 20);
  for (int i = 0; i < 1000; ++i) {
    auto b = DeviceBuffer::allocate(0, 1 << 20);
    if (i == 0) {
      EXPECT_GE(pool_stats(0).used_bytes, before.used_bytes + (1 << 20));
    }
  }
  reclaim_stream(0)->synchronize();
  PoolStats after = pool_stats(0);
  EXPECT_EQ(after.reserved_bytes, before.reserved_bytes);
  EXPECT_EQ(after.used_bytes, before.used_bytes);
}

// The free of a buffer used on another stream must wait for that stream's work: otherwise a
// new allocation could reuse the memory while the old work still writes into it.
TEST(Memory, FreeWaitsForWorkOnOtherStreams) {
  NEED_GPU();
  const uint64_t n = 1 << 20;
  auto s = Stream::create(0, Stream::kNonBlocking, 0);
  auto a = DeviceBuffer::allocate(0, n * sizeof(float));
  auto b = DeviceBuffer::allocate(0, n * sizeof(float));
  std::vector<float> ones(n, 1.0f);
  copy_to_device(*b, 0, ones.data(), n * sizeof(float));
  {
    DeviceGuard g(0);
    cudago_test::launch_spin(100 * kMillisecond, nullptr, 0, s->get());
  }
  elementwise_binary(s, BinaryOp::kAdd, DType::kF32, *b, 0, *b, 0, *a, 0,
                     n);  // writes 2.0 into a after the spin
  a.reset();              // free while the spin is still running
  auto c = DeviceBuffer::allocate(0, n * sizeof(float));
  fill(*c, 0, 0, n * sizeof(float));
  s->synchronize();
  std::vector<float> back(n, -1.0f);
  copy_to_host(back.data(), *c, 0, n * sizeof(float));
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(back[i], 0.0f) << "i=" << i;
}

// Synchronous copies are ordered after work queued with the buffer on other streams.
TEST(Memory, SyncCopyWaitsForKernelOnAnotherStream) {
  NEED_GPU();
  const uint64_t n = 4099;
  auto s = Stream::create(0, Stream::kNonBlocking, 0);
  auto a = DeviceBuffer::allocate(0, n * sizeof(float));
  auto c = DeviceBuffer::allocate(0, n * sizeof(float));
  std::vector<float> x(n);
  for (uint64_t i = 0; i < n; ++i) x[i] = static_cast<float>(i) * 0.5f;
  copy_to_device(*a, 0, x.data(), n * sizeof(float));
  fill(*c, 0, 0xFF, n * sizeof(float));
  {
    DeviceGuard g(0);
    cudago_test::launch_spin(50 * kMillisecond, nullptr, 0, s->get());
  }
  elementwise_binary(s, BinaryOp::kAdd, DType::kF32, *a, 0, *a, 0, *c, 0, n);
  std::vector<float> back(n);
  copy_to_host(back.data(), *c, 0, n * sizeof(float));  // no explicit synchronize
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(back[i], x[i] + x[i]) << "i=" << i;
}

TEST(Memory, MappedViewIsZeroCopy) {
  NEED_GPU();
  const uint64_t n = 1000;
  auto ha = HostBuffer::allocate(0, n * sizeof(float), HostBuffer::kMapped);
  auto hc = HostBuffer::allocate(0, n * sizeof(float), HostBuffer::kMapped);
  auto* a = static_cast<float*>(ha->host());
  for (uint64_t i = 0; i < n; ++i) a[i] = static_cast<float>(i);
  auto va = DeviceBuffer::view_of(ha);
  auto vc = DeviceBuffer::view_of(hc);
  EXPECT_EQ(va->data(), ha->device_pointer());
  auto s = Stream::create(0, Stream::kNonBlocking, 0);
  elementwise_binary(s, BinaryOp::kAdd, DType::kF32, *va, 0, *va, 0, *vc, 0, n);
  s->synchronize();
  auto* c = static_cast<float*>(hc->host());
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(c[i], 2.0f * static_cast<float>(i));
  // The view keeps the memory alive after the host handle is gone.
  ha.reset();
  elementwise_binary(s, BinaryOp::kAdd, DType::kF32, *va, 0, *va, 0, *vc, 0, n);
  s->synchronize();
  EXPECT_EQ(c[n - 1], 2.0f * static_cast<float>(n - 1));
  auto pinned = HostBuffer::allocate(0, 16, HostBuffer::kPinned);
  EXPECT_EQ(status_of([&] { pinned->device_pointer(); }), Status::kNotSupported);
}

TEST(Memory, ImpossibleAllocationsFailCleanly) {
  NEED_GPU();
  EXPECT_EQ(status_of([] { DeviceBuffer::allocate(0, uint64_t{1} << 62); }), Status::kOutOfMemory);
  EXPECT_EQ(status_of([] { DeviceBuffer::allocate(0, std::numeric_limits<uint64_t>::max()); }),
            Status::kOutOfMemory);
  // The library still works after a failed allocation.
  auto ok = DeviceBuffer::allocate(0, 64);
  EXPECT_EQ(ok->size(), 64u);
}

}  // namespace
}  // namespace cudago
