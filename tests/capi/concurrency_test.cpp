// 64 threads sharing 4 streams, allocating, copying and launching at once.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "capi_util.hpp"

namespace {

// The first failure of one thread's iteration: the call, its status and the thread's error
// detail, read at once on the failing thread (the detail is kept per thread and replaced by that
// thread's next cudago call), then carried to the main thread in a FailureLog.
bool check(std::string& why, const char* call, cudago_status_t st) {
  if (st == CUDAGO_SUCCESS) return true;
  if (why.empty()) {
    why = std::string(call) + " -> " + cudago_status_string(st) + " (" + last_error_text() + ")";
  }
  return false;
}
// STEP skips the call once the iteration has failed; ALWAYS runs it (releases).
#define STEP(why, call) ((why).empty() && check((why), #call, (call)))
#define ALWAYS(why, call) check((why), #call, (call))

// Failures recorded by the worker threads, reported by the main thread after the join.
class FailureLog {
 public:
  void add(std::string what) {
    std::lock_guard<std::mutex> lock(mutex_);
    failures_.push_back(std::move(what));
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  int count() const { return count_.load(std::memory_order_relaxed); }
  void report() const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::string& f : failures_) ADD_FAILURE() << f;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> failures_;
  std::atomic<int> count_{0};
};

TEST(Concurrency, SixtyFourThreadsShareFourStreams) {
  NEED_GPU();
  std::vector<Stream> streams;
  for (int i = 0; i < 4; ++i) streams.push_back(make_stream(0, CUDAGO_STREAM_NON_BLOCKING, 0));
  FailureLog failures;
  std::atomic<long> checked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 64; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1);
      cudago_stream_t s = streams[t % 4].get();
      for (int it = 0; it < 50 && failures.count() == 0; ++it) {
        const uint64_t n = 1 + rng() % 50000;
        std::vector<float> a(n), b(n), c(n, -1.0f);
        for (uint64_t i = 0; i < n; ++i) {
          a[i] = static_cast<float>(rng() % 1000) * 0.25f;
          b[i] = static_cast<float>(rng() % 1000) * 0.5f;
        }
        cudago_buffer_t da = nullptr, db = nullptr, dc = nullptr;
        std::string why;
        STEP(why, cudago_buffer_alloc(&da, 0, n * 4));
        STEP(why, cudago_buffer_alloc_async(&db, s, n * 4));
        STEP(why, cudago_buffer_alloc_async(&dc, s, n * 4));
        STEP(why, cudago_copy_h2d(a.data(), da, 0, n * 4));
        STEP(why, cudago_copy_h2d(b.data(), db, 0, n * 4));
        STEP(why, add_f32(s, da, db, dc, n));
        STEP(why, cudago_copy_d2h(dc, 0, c.data(), n * 4));
        if (why.empty()) {
          for (uint64_t i = 0; i < n; ++i) {
            if (c[i] != a[i] + b[i]) {
              why = "c[" + std::to_string(i) + "] = " + std::to_string(c[i]) + ", want " +
                    std::to_string(a[i] + b[i]) + " (n " + std::to_string(n) + ")";
              break;
            }
          }
        }
        ALWAYS(why, cudago_buffer_free(da));
        ALWAYS(why, cudago_buffer_free(db));
        ALWAYS(why, cudago_buffer_free(dc));
        if (!why.empty()) {
          failures.add("thread " + std::to_string(t) + " iteration " + std::to_string(it) + ": " +
                       why);
        }
        ++checked;
      }
    });
  }
  for (auto& th : threads) th.join();
  failures.report();
  EXPECT_EQ(failures.count(), 0);
  EXPECT_EQ(checked.load(), 64 * 50);
  for (auto& s : streams) CG_OK(cudago_stream_synchronize(s.get()));
}

TEST(Concurrency, StreamsAndEventsCreatedAndDestroyedInParallel) {
  NEED_GPU();
  std::vector<std::thread> threads;
  FailureLog failures;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        cudago_stream_t s = nullptr;
        cudago_event_t e = nullptr;
        std::string why;
        STEP(why, cudago_stream_create(&s, 0, CUDAGO_STREAM_NON_BLOCKING, 0));
        STEP(why, cudago_event_create(&e, 0, CUDAGO_EVENT_DISABLE_TIMING));
        STEP(why, cudago_event_record(e, s));
        STEP(why, cudago_event_synchronize(e));
        ALWAYS(why, cudago_event_destroy(e));
        ALWAYS(why, cudago_stream_destroy(s));
        if (!why.empty()) {
          failures.add("thread " + std::to_string(t) + " round " + std::to_string(i) + ": " + why);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  failures.report();
  EXPECT_EQ(failures.count(), 0);
}

}  // namespace
