// 64 threads sharing 4 streams, allocating, copying and launching at once.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "capi_util.hpp"

namespace {

TEST(Concurrency, SixtyFourThreadsShareFourStreams) {
  NEED_GPU();
  std::vector<Stream> streams;
  for (int i = 0; i < 4; ++i) streams.push_back(make_stream(0, CUDAGO_STREAM_NON_BLOCKING, 0));
  std::atomic<int> failures{0};
  std::atomic<long> checked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 64; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1);
      cudago_stream_t s = streams[t % 4].get();
      for (int it = 0; it < 50 && failures == 0; ++it) {
        const uint64_t n = 1 + rng() % 50000;
        std::vector<float> a(n), b(n), c(n, -1.0f);
        for (uint64_t i = 0; i < n; ++i) {
          a[i] = static_cast<float>(rng() % 1000) * 0.25f;
          b[i] = static_cast<float>(rng() % 1000) * 0.5f;
        }
        cudago_buffer_t da = nullptr, db = nullptr, dc = nullptr;
        bool ok = cudago_buffer_alloc(&da, 0, n * 4) == CUDAGO_SUCCESS &&
                  cudago_buffer_alloc_async(&db, s, n * 4) == CUDAGO_SUCCESS &&
                  cudago_buffer_alloc_async(&dc, s, n * 4) == CUDAGO_SUCCESS;
        ok = ok && cudago_copy_h2d(a.data(), da, 0, n * 4) == CUDAGO_SUCCESS &&
             cudago_copy_h2d(b.data(), db, 0, n * 4) == CUDAGO_SUCCESS &&
             cudago_vector_add_f32(s, da, db, dc, n) == CUDAGO_SUCCESS &&
             cudago_copy_d2h(dc, 0, c.data(), n * 4) == CUDAGO_SUCCESS;
        if (ok) {
          for (uint64_t i = 0; i < n; ++i) {
            if (c[i] != a[i] + b[i]) {
              ok = false;
              break;
            }
          }
        }
        ok = cudago_buffer_free(da) == CUDAGO_SUCCESS && ok;
        ok = cudago_buffer_free(db) == CUDAGO_SUCCESS && ok;
        ok = cudago_buffer_free(dc) == CUDAGO_SUCCESS && ok;
        if (!ok) {
          ADD_FAILURE() << "thread " << t << " iteration " << it << ": " << last_error_text();
          ++failures;
        }
        ++checked;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(checked.load(), 64 * 50);
  for (auto& s : streams) CG_OK(cudago_stream_synchronize(s.get()));
}

TEST(Concurrency, StreamsAndEventsCreatedAndDestroyedInParallel) {
  NEED_GPU();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        cudago_stream_t s = nullptr;
        cudago_event_t e = nullptr;
        if (cudago_stream_create(&s, 0, CUDAGO_STREAM_NON_BLOCKING, 0) != CUDAGO_SUCCESS ||
            cudago_event_create(&e, 0, CUDAGO_EVENT_DISABLE_TIMING) != CUDAGO_SUCCESS ||
            cudago_event_record(e, s) != CUDAGO_SUCCESS ||
            cudago_event_synchronize(e) != CUDAGO_SUCCESS) {
          ++failures;
        }
        cudago_event_destroy(e);
        cudago_stream_destroy(s);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0) << last_error_text();
}

}  // namespace
