// Streams and events through the C ABI.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "capi_util.hpp"

namespace {

TEST(Streams, CreateQuerySynchronizeDestroy) {
  NEED_GPU();
  Stream s = make_stream(0, CUDAGO_STREAM_DEFAULT, 0);
  int32_t done = 0, dev = -1, prio = 99;
  CG_OK(cudago_stream_query(s.get(), &done));
  EXPECT_EQ(done, 1);
  CG_OK(cudago_stream_device(s.get(), &dev));
  EXPECT_EQ(dev, 0);
  CG_OK(cudago_stream_priority(s.get(), &prio));
  EXPECT_EQ(prio, 0);
  void* native = nullptr;
  CG_OK(cudago_stream_native(s.get(), &native));
  EXPECT_NE(native, nullptr);
  CG_OK(cudago_stream_synchronize(s.get()));
  cudago_stream_t bad = nullptr;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_stream_create(&bad, 0, 0xF0, 0));
  EXPECT_EQ(bad, nullptr);
}

// cudago_stream_priority reports CUDA's priority for the stream, checked against the device's
// range from its properties: a priority inside the range comes back unchanged, one outside it
// comes back inside the range at the nearer end, and the two ends give two different priorities
// when the range has more than one value.
TEST(Streams, PrioritiesMatchTheDeviceRange) {
  NEED_GPU();
  cudago_device_properties_t p;
  cudago_device_properties_init(&p);
  CG_OK(cudago_device_properties(0, &p));
  const int32_t greatest = p.stream_priority_greatest, least = p.stream_priority_least;
  ASSERT_LE(greatest, least) << "the greatest priority is numerically the smallest";
  auto reported = [](uint32_t flags, int32_t ask) {
    cudago_stream_t raw = nullptr;
    EXPECT_EQ(cudago_stream_create(&raw, 0, flags, ask), CUDAGO_SUCCESS)
        << "priority " << ask << ": " << last_error_text();
    Stream s(raw);
    int32_t prio = 12345;
    EXPECT_EQ(cudago_stream_priority(s.get(), &prio), CUDAGO_SUCCESS) << last_error_text();
    return prio;
  };
  std::vector<int32_t> in_range = {greatest, least, greatest + (least - greatest) / 2};
  if (greatest <= 0 && 0 <= least) in_range.push_back(0);
  for (uint32_t flags : {uint32_t{CUDAGO_STREAM_DEFAULT}, uint32_t{CUDAGO_STREAM_NON_BLOCKING}}) {
    for (int32_t ask : in_range) {
      EXPECT_EQ(reported(flags, ask), ask) << "an in-range priority changed";
    }
    for (int32_t ask : {greatest - 1, greatest - 100, std::numeric_limits<int32_t>::min()}) {
      EXPECT_EQ(reported(flags, ask), greatest)
          << "asked for " << ask << ", above the greatest priority " << greatest;
    }
    for (int32_t ask : {least + 1, least + 100, std::numeric_limits<int32_t>::max()}) {
      EXPECT_EQ(reported(flags, ask), least)
          << "asked for " << ask << ", below the least priority " << least;
    }
  }
  if (greatest < least) {
    EXPECT_NE(reported(CUDAGO_STREAM_NON_BLOCKING, greatest),
              reported(CUDAGO_STREAM_NON_BLOCKING, least));
  }
}

TEST(Events, TimeA256MiBCopy) {
  NEED_GPU();
  const uint64_t bytes = 256ull << 20;
  Stream s = make_stream();
  Buffer a = make_buffer(bytes), b = make_buffer(bytes);
  // Written first: a copy of never-written memory is what compute-sanitizer's initcheck reports.
  CG_OK(cudago_memset_async(s.get(), 0x5A, a.get(), 0, bytes));
  cudago_event_t e0 = nullptr, e1 = nullptr;
  CG_OK(cudago_event_create(&e0, 0, CUDAGO_EVENT_DEFAULT));
  Event start(e0);
  CG_OK(cudago_event_create(&e1, 0, CUDAGO_EVENT_BLOCKING_SYNC));
  Event end(e1);
  CG_OK(cudago_event_record(start.get(), s.get()));
  for (int i = 0; i < 4; ++i) CG_OK(cudago_copy_d2d_async(s.get(), a.get(), 0, b.get(), 0, bytes));
  CG_OK(cudago_event_record(end.get(), s.get()));
  CG_OK(cudago_event_synchronize(end.get()));
  int32_t done = 0;
  CG_OK(cudago_event_query(end.get(), &done));
  EXPECT_EQ(done, 1);
  float ms = 0;
  CG_OK(cudago_event_elapsed_ms(start.get(), end.get(), &ms));
  // 2 GiB moved (read + write); any real GPU needs well over 0.05 ms and far under 10 s.
  EXPECT_GT(ms, 0.05f);
  EXPECT_LT(ms, 10000.0f);
  cudago_event_t nt = nullptr;
  CG_OK(cudago_event_create(&nt, 0, CUDAGO_EVENT_DISABLE_TIMING));
  Event no_timing(nt);
  CG_OK(cudago_event_record(no_timing.get(), s.get()));
  CG_OK(cudago_event_synchronize(no_timing.get()));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_event_elapsed_ms(start.get(), no_timing.get(), &ms));
  CG_OK(cudago_stream_wait_event(s.get(), no_timing.get()));
  cudago_event_t bad = nullptr;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_event_create(&bad, 0, 0x40));
}

TEST(Streams, DestroyWithWorkInFlightIsSafe) {
  NEED_GPU();
  const uint64_t n = 1 << 22;
  Buffer a = make_buffer(n * 4), c = make_buffer(n * 4);
  CG_OK(cudago_memset(0, a.get(), 0, n * 4));
  cudago_stream_t raw = nullptr;
  CG_OK(cudago_stream_create(&raw, 0, CUDAGO_STREAM_NON_BLOCKING, 0));
  for (int i = 0; i < 20; ++i) CG_OK(add_f32(raw, a.get(), a.get(), c.get(), n));
  CG_OK(cudago_stream_destroy(raw));  // work still queued; buffers keep the stream alive
  std::vector<float> back(16, -1.0f);
  CG_OK(cudago_copy_d2h(c.get(), 0, back.data(), 16 * 4));  // ordered after the adds
  for (float v : back) EXPECT_EQ(v, 0.0f);
}

}  // namespace
