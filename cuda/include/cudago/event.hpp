// CUDA events: completion markers and timers on a stream.
#pragma once

#include <cuda_runtime_api.h>

namespace cudago {

class Stream;

class Event {
 public:
  enum Flags : unsigned { kDefault = 0, kDisableTiming = 1, kBlockingSync = 2 };

  Event(int device, unsigned flags);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void record(const Stream& stream);
  void synchronize() const;
  bool query() const;

  cudaEvent_t get() const noexcept { return event_; }
  int device() const noexcept { return device_; }
  bool timing() const noexcept { return timing_; }

  // Milliseconds between the completed records of two timing events.
  static float elapsed_ms(const Event& start, const Event& end);

 private:
  int device_;
  bool timing_;
  cudaEvent_t event_ = nullptr;
};

// Makes `waiter` wait for all work queued so far on `waited` (no-op when they are the same).
// Under cudago's stream capture (graph.hpp): a capturing `waiter` does not wait (a graph is
// ordered by the stream it is launched on, and waiting on work outside the capture is illegal
// there); a capturing `waited` is represented by the work queued before its capture began, so
// that no other stream is ever pulled into a capture.
void stream_wait_stream(const Stream& waiter, const Stream& waited);

}  // namespace cudago
