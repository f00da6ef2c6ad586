// Peer access and peer copies through the C ABI: exact copies both ways, sync and async, direct
// (peer access enabled) and staged (disabled), at odd and large sizes and offsets; calls made
// whatever the calling thread's current device; frees of buffers used across devices.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "capi_util.hpp"

namespace {

int32_t devices() {
  int32_t n = 0;
  EXPECT_EQ(cudago_device_count(&n), CUDAGO_SUCCESS);
  return n;
}

#define NEED_TWO_GPUS()                                                       \
  do {                                                                        \
    NEED_GPU();                                                               \
    const int32_t n2_ = devices();                                            \
    if (n2_ < 2) GTEST_SKIP() << "needs 2 devices, this machine has " << n2_; \
  } while (0)

std::mt19937_64& rng() {
  static std::mt19937_64 r(std::random_device{}());
  return r;
}

std::vector<uint8_t> random_bytes(size_t n) {
  std::vector<uint8_t> v(n);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x = rng()();
    std::memcpy(&v[i], &x, 8);
  }
  for (; i < n; ++i) v[i] = static_cast<uint8_t>(rng()());
  return v;
}

// Turns peer access on (direct copies) or off (staged copies) both ways between 0 and 1.
// Returns false when `on` is asked for and the hardware cannot do it.
bool set_peer(bool on) {
  int32_t can01 = 0, can10 = 0;
  EXPECT_EQ(cudago_device_can_access_peer(0, 1, &can01), CUDAGO_SUCCESS) << last_error_text();
  EXPECT_EQ(cudago_device_can_access_peer(1, 0, &can10), CUDAGO_SUCCESS) << last_error_text();
  if (on) {
    if (!can01 || !can10) return false;
    EXPECT_EQ(cudago_device_enable_peer_access(0, 1), CUDAGO_SUCCESS) << last_error_text();
    EXPECT_EQ(cudago_device_enable_peer_access(1, 0), CUDAGO_SUCCESS) << last_error_text();
  } else {
    EXPECT_EQ(cudago_device_disable_peer_access(0, 1), CUDAGO_SUCCESS) << last_error_text();
    EXPECT_EQ(cudago_device_disable_peer_access(1, 0), CUDAGO_SUCCESS) << last_error_text();
  }
  return true;
}

// Leaves peer access enabled where possible (other tests, NCCL's included, expect the state a
// fresh process would reach by enabling it).
struct RestorePeer {
  ~RestorePeer() { set_peer(true); }
};

TEST(Peer, ArgumentsAreValidated) {
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_device_can_access_peer(0, 0, nullptr));
  int32_t v = -1;
  const int32_t n = devices();
  if (n == 0) {
    CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_device_can_access_peer(0, 0, &v));
    CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_device_enable_peer_access(0, 0));
    CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_device_disable_peer_access(0, 0));
    return;
  }
  // A device always accesses its own memory; enabling and disabling it are no-ops.
  CG_OK(cudago_device_can_access_peer(0, 0, &v));
  EXPECT_EQ(v, 1);
  CG_OK(cudago_device_enable_peer_access(0, 0));
  CG_OK(cudago_device_enable_peer_access(0, 0));
  CG_OK(cudago_device_disable_peer_access(0, 0));
  CG_OK(cudago_device_disable_peer_access(0, 0));
  for (int32_t bad : {int32_t{-1}, n, int32_t{1} << 30}) {
    CG_EXPECT(CUDAGO_ERROR_INVALID_DEVICE, cudago_device_can_access_peer(0, bad, &v));
    CG_EXPECT(CUDAGO_ERROR_INVALID_DEVICE, cudago_device_can_access_peer(bad, 0, &v));
    CG_EXPECT(CUDAGO_ERROR_INVALID_DEVICE, cudago_device_enable_peer_access(0, bad));
    CG_EXPECT(CUDAGO_ERROR_INVALID_DEVICE, cudago_device_enable_peer_access(bad, 0));
    CG_EXPECT(CUDAGO_ERROR_INVALID_DEVICE, cudago_device_disable_peer_access(0, bad));
    CG_EXPECT(CUDAGO_ERROR_INVALID_DEVICE, cudago_device_disable_peer_access(bad, 0));
  }
}

// Fills [src_off, src_off + bytes) of src with fresh random data, poisons dst, runs `copy` and
// checks that dst holds the data in [dst_off, dst_off + bytes) and the poison elsewhere.
template <class Copy>
void check_copy(const Buffer& dst, uint64_t dst_off, const Buffer& src, uint64_t src_off,
                uint64_t bytes, const std::string& what, Copy copy) {
  uint64_t dst_size = 0, src_size = 0;
  ASSERT_EQ(cudago_buffer_size(dst.get(), &dst_size), CUDAGO_SUCCESS);
  ASSERT_EQ(cudago_buffer_size(src.get(), &src_size), CUDAGO_SUCCESS);
  const std::vector<uint8_t> data = random_bytes(src_size);
  CG_OK(cudago_copy_h2d(data.data(), src.get(), 0, src_size));
  CG_OK(cudago_memset(0xA5, dst.get(), 0, dst_size));
  copy();
  std::vector<uint8_t> back(dst_size);
  CG_OK(cudago_copy_d2h(dst.get(), 0, back.data(), dst_size));  // ordered after the copy
  for (uint64_t i = 0; i < dst_off; ++i) ASSERT_EQ(back[i], 0xA5) << what << " below, i=" << i;
  ASSERT_EQ(std::memcmp(back.data() + dst_off, data.data() + src_off, bytes), 0) << what;
  for (uint64_t i = dst_off + bytes; i < dst_size; ++i) {
    ASSERT_EQ(back[i], 0xA5) << what << " beyond, i=" << i;
  }
}

TEST(Peer, SameDeviceCopiesAreExact) {
  NEED_GPU();
  Stream s = make_stream(0);
  for (uint64_t bytes : {uint64_t{1}, uint64_t{4097}, uint64_t{3} << 20}) {
    Buffer a = make_buffer(bytes + 64, 0), b = make_buffer(bytes + 64, 0);
    const std::string what = "device 0 -> device 0, " + std::to_string(bytes) + " bytes";
    check_copy(b, 13, a, 7, bytes, what + " sync",
               [&] { CG_OK(cudago_copy_d2d(a.get(), 7, b.get(), 13, bytes)); });
    check_copy(b, 5, a, 0, bytes, what + " async",
               [&] { CG_OK(cudago_copy_d2d_async(s.get(), a.get(), 0, b.get(), 5, bytes)); });
  }
}

TEST(Peer, CopiesAreExactBothWaysDirectAndStaged) {
  NEED_TWO_GPUS();
  RestorePeer restore;
  Stream s[2] = {make_stream(0), make_stream(1)};
  bool no_direct = false;
  for (bool direct : {false, true}) {
    if (!set_peer(direct)) {
      no_direct = true;
      continue;
    }
    for (uint64_t bytes : {uint64_t{1}, uint64_t{4097}, uint64_t{256} << 20}) {
      for (int32_t from : {0, 1}) {
        const int32_t to = 1 - from;
        Buffer src = make_buffer(bytes + 64, from), dst = make_buffer(bytes + 96, to);
        const std::string what = std::string(direct ? "direct" : "staged") + " device " +
                                 std::to_string(from) + " -> device " + std::to_string(to) + ", " +
                                 std::to_string(bytes) + " bytes";
        check_copy(dst, 13, src, 7, bytes, what + " sync",
                   [&] { CG_OK(cudago_copy_d2d(src.get(), 7, dst.get(), 13, bytes)); });
        check_copy(dst, 0, src, 63, bytes, what + " sync, offsets 0/63",
                   [&] { CG_OK(cudago_copy_d2d(src.get(), 63, dst.get(), 0, bytes)); });
        for (int32_t on : {from, to}) {
          check_copy(dst, 96, src, 1, bytes, what + " async on device " + std::to_string(on), [&] {
            CG_OK(cudago_copy_d2d_async(s[on].get(), src.get(), 1, dst.get(), 96, bytes));
          });
        }
      }
    }
  }
  if (no_direct) {
    GTEST_SKIP() << "staged copies passed; devices 0 and 1 cannot access each other, so direct "
                    "copies were not tested";
  }
}

TEST(Peer, AsyncCopiesFollowWorkOnTheOtherDevice) {
  NEED_TWO_GPUS();
  // 64 MiB written on device 1's stream, then copied to device 0 on device 0's stream without
  // an event: the copy waits for the write.
  const uint64_t bytes = uint64_t{64} << 20;
  Stream s0 = make_stream(0), s1 = make_stream(1);
  Buffer src = make_buffer(bytes, 1), dst = make_buffer(bytes, 0);
  for (int round = 0; round < 4; ++round) {
    const uint8_t value = static_cast<uint8_t>(0x11 * (round + 1));
    CG_OK(cudago_memset_async(s1.get(), value, src.get(), 0, bytes));
    CG_OK(cudago_copy_d2d_async(s0.get(), src.get(), 0, dst.get(), 0, bytes));
    CG_OK(cudago_stream_synchronize(s0.get()));
    std::vector<uint8_t> back(bytes);
    CG_OK(cudago_copy_d2h(dst.get(), 0, back.data(), bytes));
    for (uint64_t i = 0; i < bytes; i += 4099) ASSERT_EQ(back[i], value) << round << " " << i;
    ASSERT_EQ(back[bytes - 1], value);
  }
}

TEST(Peer, RefusedCombinations) {
  NEED_TWO_GPUS();
  Stream s0 = make_stream(0), s1 = make_stream(1);
  Buffer a0 = make_buffer(64, 0), b0 = make_buffer(64, 0), a1 = make_buffer(64, 1);
  // Kernels and memset still need their buffers on the stream's device.
  CG_EXPECT(CUDAGO_ERROR_DEVICE_MISMATCH, add_f32(s0.get(), a0.get(), a1.get(), b0.get(), 16));
  CG_EXPECT(CUDAGO_ERROR_DEVICE_MISMATCH, add_f32(s1.get(), a0.get(), b0.get(), b0.get(), 16));
  CG_EXPECT(CUDAGO_ERROR_DEVICE_MISMATCH, cudago_memset_async(s0.get(), 0, a1.get(), 0, 64));
  // A same-device copy needs a stream of that device.
  CG_EXPECT(CUDAGO_ERROR_DEVICE_MISMATCH,
            cudago_copy_d2d_async(s1.get(), a0.get(), 0, b0.get(), 0, 64));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_copy_d2d_async(nullptr, a0.get(), 0, a1.get(), 0, 64));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_copy_d2d(nullptr, 0, a1.get(), 0, 64));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_copy_d2d(a0.get(), 0, a1.get(), 1, 64));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_copy_d2d_async(s0.get(), a0.get(), 60, a1.get(), 0, 5));
  // Zero bytes across devices: nothing to do.
  CG_OK(cudago_copy_d2d(a0.get(), 64, a1.get(), 64, 0));
  CG_OK(cudago_copy_d2d_async(s1.get(), a1.get(), 0, a0.get(), 0, 0));
}

// Every call on a buffer of device `dev` from a thread whose current device is `current`
// (set with the raw runtime), repeated.
void use_from_other_device(int32_t dev, int32_t current, int iterations, std::string* failure) {
  if (cudaSetDevice(current) != cudaSuccess) {
    *failure = "cudaSetDevice(" + std::to_string(current) + ") failed";
    return;
  }
  std::mt19937 r(std::random_device{}());
  std::uniform_real_distribution<float> dist(-100.0f, 100.0f);
  const uint64_t n = 4099, bytes = n * 4;
  cudago_stream_t s = nullptr;
  if (cudago_stream_create(&s, dev, CUDAGO_STREAM_NON_BLOCKING, 0) != CUDAGO_SUCCESS) {
    *failure = "stream create: " + last_error_text();
    return;
  }
  Stream stream(s);
  for (int it = 0; it < iterations; ++it) {
    std::vector<float> a(n), b(n), c(n);
    for (uint64_t i = 0; i < n; ++i) a[i] = dist(r), b[i] = dist(r);
    cudago_buffer_t ra = nullptr, rb = nullptr, rc = nullptr, rp = nullptr;
    bool ok = cudago_buffer_alloc(&ra, dev, bytes) == CUDAGO_SUCCESS &&
              cudago_buffer_alloc_async(&rb, s, bytes) == CUDAGO_SUCCESS &&
              cudago_buffer_alloc(&rc, dev, bytes) == CUDAGO_SUCCESS &&
              cudago_buffer_alloc(&rp, current, bytes) == CUDAGO_SUCCESS;
    Buffer da(ra), db(rb), dc(rc), peer(rp);
    ok = ok && cudago_copy_h2d(a.data(), ra, 0, bytes) == CUDAGO_SUCCESS &&
         cudago_copy_h2d(b.data(), rb, 0, bytes) == CUDAGO_SUCCESS &&
         cudago_memset_async(s, 0xFF, rc, 0, bytes) == CUDAGO_SUCCESS &&
         add_f32(s, ra, rb, rc, n) == CUDAGO_SUCCESS &&
         // c (device dev) -> peer (the current device), on dev's stream, then read back.
         cudago_copy_d2d_async(s, rc, 0, rp, 0, bytes) == CUDAGO_SUCCESS &&
         cudago_stream_synchronize(s) == CUDAGO_SUCCESS &&
         cudago_copy_d2h(rp, 0, c.data(), bytes) == CUDAGO_SUCCESS;
    if (!ok) {
      *failure = "iteration " + std::to_string(it) + ": " + last_error_text();
      return;
    }
    for (uint64_t i = 0; i < n; ++i) {
      if (c[i] != a[i] + b[i]) {
        *failure = "iteration " + std::to_string(it) + ": c[" + std::to_string(i) +
                   "] = " + std::to_string(c[i]) + ", want " + std::to_string(a[i] + b[i]);
        return;
      }
    }
  }
}

TEST(Peer, CallsWorkWhateverTheCurrentDevice) {
  NEED_TWO_GPUS();
  // Device 1's buffers from threads whose current device is 0, and the other way round, at the
  // same time.
  std::string failures[4];
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    const int32_t dev = t % 2;
    threads.emplace_back(use_from_other_device, dev, 1 - dev, 20, &failures[t]);
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
}

TEST(Peer, FreesOfBuffersUsedAcrossDevicesAreOrdered) {
  NEED_TWO_GPUS();
  const uint64_t bytes = uint64_t{32} << 20;
  Stream s0 = make_stream(0);
  const std::vector<uint8_t> data = random_bytes(bytes);
  Buffer src0 = make_buffer(bytes, 0);
  CG_OK(cudago_copy_h2d(data.data(), src0.get(), 0, bytes));
  std::vector<uint8_t> back(bytes);
  for (int it = 0; it < 12; ++it) {
    // A device-1 destination written on device 0's stream, freed at once; the memory that the
    // pool hands out next must not be overwritten by the late copy.
    {
      Buffer dst1 = make_buffer(bytes, 1);
      CG_OK(cudago_copy_d2d_async(s0.get(), src0.get(), 0, dst1.get(), 0, bytes));
    }
    Buffer fresh1 = make_buffer(bytes, 1);
    CG_OK(cudago_memset(0x5A, fresh1.get(), 0, bytes));
    CG_OK(cudago_stream_synchronize(s0.get()));
    CG_OK(cudago_copy_d2h(fresh1.get(), 0, back.data(), bytes));
    for (uint64_t i = 0; i < bytes; ++i) ASSERT_EQ(back[i], 0x5A) << "it=" << it << " i=" << i;
    // A device-1 source read on device 0's stream, freed at once and its memory reused and
    // zeroed: the copy must still see the data.
    Buffer dst0 = make_buffer(bytes, 0);
    {
      Buffer src1 = make_buffer(bytes, 1);
      CG_OK(cudago_copy_h2d(data.data(), src1.get(), 0, bytes));
      CG_OK(cudago_memset(0xC3, dst0.get(), 0, bytes));
      CG_OK(cudago_copy_d2d_async(s0.get(), src1.get(), 0, dst0.get(), 0, bytes));
    }
    Buffer reuse1 = make_buffer(bytes, 1);
    CG_OK(cudago_memset(0x00, reuse1.get(), 0, bytes));
    CG_OK(cudago_copy_d2h(dst0.get(), 0, back.data(), bytes));
    ASSERT_EQ(back, data) << "it=" << it;
  }
}

TEST(Peer, EnableAndDisableAreIdempotent) {
  NEED_TWO_GPUS();
  RestorePeer restore;
  int32_t can = -1;
  CG_OK(cudago_device_can_access_peer(0, 1, &can));
  ASSERT_TRUE(can == 0 || can == 1);
  if (!can) {
    CG_EXPECT(CUDAGO_ERROR_NOT_SUPPORTED, cudago_device_enable_peer_access(0, 1));
    return;
  }
  CG_OK(cudago_device_enable_peer_access(0, 1));
  CG_OK(cudago_device_enable_peer_access(0, 1));
  CG_OK(cudago_device_disable_peer_access(0, 1));
  CG_OK(cudago_device_disable_peer_access(0, 1));
  CG_OK(cudago_device_enable_peer_access(0, 1));
}

}  // namespace
