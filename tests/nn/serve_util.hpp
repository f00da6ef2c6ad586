// Shared helpers of the serving tests (server_test.cpp, serve_capi_test.cpp): deterministic
// request inputs with a marker in their first element, and a watchdog for calls that a bug
// could leave blocked forever.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace serve_test {

// `n` floats in [-2, 2) from a seed (an LCG), the first one set to `marker` (a gate tells the
// requests of a batch apart by it).
inline std::vector<float> make_input(int64_t n, uint32_t seed, float marker) {
  std::vector<float> v(static_cast<size_t>(n));
  uint32_t s = seed * 2654435761u + 12345u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / static_cast<float>(1u << 24) * 4.0f - 2.0f;
  }
  if (!v.empty()) v[0] = marker;
  return v;
}

// Runs f on its own thread and waits up to `timeout` for it: false when it is still running (the
// thread is then left behind, detached, with what it holds: a hung call cannot be cleaned up).
inline bool finishes_within(std::function<void()> f, std::chrono::milliseconds timeout) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto st = std::make_shared<State>();
  std::thread t([st, f = std::move(f)] {
    f();
    std::lock_guard<std::mutex> lock(st->mu);
    st->done = true;
    st->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(st->mu);
  if (!st->cv.wait_for(lock, timeout, [&] { return st->done; })) {
    t.detach();
    return false;
  }
  lock.unlock();
  t.join();
  return true;
}

inline double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace serve_test
