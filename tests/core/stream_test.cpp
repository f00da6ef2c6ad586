// Streams, events, cross-stream ordering and sticky kernel faults.
#include "cudago/stream.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <vector>

#include "cudago/copy.hpp"
#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/event.hpp"
#include "cudago/memory.hpp"
#include "gpu_skip.hpp"
#include "test_kernels.hpp"

#define NEED_GPU() CUDAGO_NEED_GPU(::cudago::device_count(), ::cudago::no_device_reason())

namespace cudago {
namespace {

constexpr uint64_t kMillisecond = 1000000;

TEST(Stream, CreateOnNoDeviceOrBadOrdinalFails) {
  try {
    Stream::create(device_count() == 0 ? 0 : device_count(), Stream::kDefault, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), device_count() == 0 ? Status::kNoDevice : Status::kInvalidDevice);
  }
}

TEST(Stream, UnknownFlagsAreRejected) {
  try {
    Stream::create(0, 0x80, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::kInvalidArgument);
  }
}

// A stream's priority is the one CUDA reports for it (cudaStreamGetPriority), checked against
// the device's range from its properties: a priority inside the range comes back unchanged, one
// outside it comes back inside the range at the nearer end, and the two ends give two different
// priorities when the range has more than one value.
TEST(Stream, PriorityIsWhatCudaReports) {
  NEED_GPU();
  DeviceProperties p = device_properties(0);
  const int greatest = p.stream_priority_greatest, least = p.stream_priority_least;
  ASSERT_LE(greatest, least) << "the greatest priority is numerically the smallest";
  // The priority the stream reports, after checking that it is CUDA's.
  auto reported = [](const Stream& s, int ask) {
    int cuda_priority = 12345;
    EXPECT_EQ(cudaStreamGetPriority(s.get(), &cuda_priority), cudaSuccess);
    EXPECT_EQ(s.priority(), cuda_priority) << "asked for " << ask;
    return s.priority();
  };
  std::vector<int> in_range = {greatest, least, greatest + (least - greatest) / 2};
  if (greatest <= 0 && 0 <= least) in_range.push_back(0);
  for (unsigned flags : {unsigned{Stream::kDefault}, unsigned{Stream::kNonBlocking}}) {
    for (int ask : in_range) {
      auto s = Stream::create(0, flags, ask);
      EXPECT_EQ(reported(*s, ask), ask) << "an in-range priority changed";
    }
    for (int ask : {greatest - 1, greatest - 1000, std::numeric_limits<int>::min()}) {
      auto s = Stream::create(0, flags, ask);
      EXPECT_EQ(reported(*s, ask), greatest)
          << "asked for " << ask << ", above the greatest priority " << greatest;
    }
    for (int ask : {least + 1, least + 1000, std::numeric_limits<int>::max()}) {
      auto s = Stream::create(0, flags, ask);
      EXPECT_EQ(reported(*s, ask), least)
          << "asked for " << ask << ", below the least priority " << least;
    }
  }
  auto hi = Stream::create(0, Stream::kNonBlocking, greatest);
  auto lo = Stream::create(0, Stream::kNonBlocking, least);
  if (greatest < least) {
    EXPECT_NE(reported(*hi, greatest), reported(*lo, least));
  }
}

TEST(Stream, QueryTracksQueuedWork) {
  NEED_GPU();
  auto s = Stream::create(0, Stream::kNonBlocking, 0);
  EXPECT_TRUE(s->query());
  {
    DeviceGuard g(0);
    cudago_test::launch_spin(50 * kMillisecond, nullptr, 0, s->get());
  }
  EXPECT_FALSE(s->query());
  s->synchronize();
  EXPECT_TRUE(s->query());
}

TEST(Event, TimesRealWork) {
  NEED_GPU();
  auto s = Stream::create(0, Stream::kNonBlocking, 0);
  Event start(0, Event::kDefault), end(0, Event::kDefault);
  start.record(*s);
  {
    DeviceGuard g(0);
    cudago_test::launch_spin(20 * kMillisecond, nullptr, 0, s->get());
  }
  end.record(*s);
  EXPECT_FALSE(end.query());
  end.synchronize();
  EXPECT_TRUE(end.query());
  float ms = Event::elapsed_ms(start, end);
  EXPECT_GE(ms, 19.0f);
  EXPECT_LT(ms, 2000.0f);
}

TEST(Event, ElapsedNeedsTimingEvents) {
  NEED_GPU();
  Event a(0, Event::kDisableTiming), b(0, Event::kDefault);
  try {
    Event::elapsed_ms(a, b);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::kInvalidArgument);
  }
}

TEST(Event, StreamWaitEventOrdersWorkAcrossStreams) {
  NEED_GPU();
  auto s1 = Stream::create(0, Stream::kNonBlocking, 0);
  auto s2 = Stream::create(0, Stream::kNonBlocking, 0);
  auto flag = DeviceBuffer::allocate(0, sizeof(int));
  fill(*flag, 0, 0, sizeof(int));
  Event done(0, Event::kDisableTiming);
  {
    DeviceGuard g(0);
    cudago_test::launch_spin(30 * kMillisecond, static_cast<int*>(flag->data()), 7, s1->get());
  }
  done.record(*s1);
  s2->wait(done);
  int host = -1;
  {
    DeviceGuard g(0);
    ASSERT_EQ(cudaMemcpyAsync(&host, flag->data(), sizeof host, cudaMemcpyDeviceToHost, s2->get()),
              cudaSuccess);
  }
  s2->synchronize();
  EXPECT_EQ(host, 7);  // without the wait, s2 would read 0 before the spin finished
}

// A kernel fault is sticky: it must surface as kKernelFault at the next synchronisation, not
// as a crash. It poisons the process's context, so it runs in a child process.
TEST(StreamDeathTest, KernelFaultSurfacesAtSynchronize) {
  NEED_GPU();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto s = Stream::create(0, Stream::kNonBlocking, 0);
        {
          DeviceGuard g(0);
          cudago_test::launch_fault(s->get());
        }
        int code = 1;
        try {
          s->synchronize();
        } catch (const Error& e) {
          code = e.status() == Status::kKernelFault ? 0 : 2;
        }
        // Later calls report the fault too, still as errors.
        if (code == 0) {
          try {
            auto b = DeviceBuffer::allocate(0, 64);
            code = 3;
          } catch (const Error& e) {
            code = e.status() == Status::kKernelFault ? 0 : 4;
          }
        }
        std::exit(code);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace cudago
