// Streams and events. A stream is shared (std::shared_ptr): buffers that were used on it keep
// it alive until their stream-ordered free has been queued.
#pragma once

#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace cudago {

// Limits of a wait on other processes or on work the caller cannot see (cudago_wait_options_t): it
// gives up with Error(kTimeout) at the deadline and with Error(kCancelled) once *cancel is
// non-zero, checking about every millisecond. The defaults wait as long as it takes.
struct WaitLimits {
  uint64_t timeout_ns = 0;                   // from the wait's start; 0 = no deadline
  const volatile int32_t* cancel = nullptr;  // set non-zero by another thread to give up
  bool bounded() const noexcept { return timeout_ns != 0 || cancel != nullptr; }
};

class Event;
class Capture;  // graph.hpp
class Graph;

class Stream {
 public:
  enum Flags : unsigned { kDefault = 0, kNonBlocking = 1 };

  static std::shared_ptr<Stream> create(int device, unsigned flags, int priority);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  cudaStream_t get() const noexcept { return stream_; }
  int device() const noexcept { return device_; }
  // The priority CUDA reports for the stream (cudaStreamGetPriority at creation), which CUDA
  // clamped to the device's range.
  int priority() const noexcept { return priority_; }

  void synchronize() const;  // reports an earlier kernel fault as Error(kKernelFault)
  bool query() const;        // true when all queued work is done
  void wait(const Event& event) const;

  // cudago's capture in progress on this stream (graph.hpp), or null; it takes no lock when
  // there is none. capturing() is the lock-free hint it starts with, for inline hot paths.
  bool capturing() const noexcept { return capturing_.load(std::memory_order_acquire); }
  std::shared_ptr<Capture> capture() const;

  // Waits on the host for the work queued on this stream; during a capture, for the work queued
  // before it began (captured work does not run until the graph is launched). Errors are
  // cleared and ignored: this is for destructors, which have nobody to report to.
  void host_wait() const noexcept;

 private:
  friend class Graph;
  friend void stream_wait_stream(const Stream& waiter, const Stream& waited);
  Stream(int device, cudaStream_t stream, int priority)
      : device_(device), stream_(stream), priority_(priority) {}
  int device_;
  cudaStream_t stream_;
  int priority_;
  mutable std::mutex capture_mutex_;  // guards capture_ and orders it with event records
  std::shared_ptr<Capture> capture_;
  std::atomic<bool> capturing_{false};
};

using StreamPtr = std::shared_ptr<Stream>;

// The reclaim stream of `device`: the library's own non-blocking stream, created on first use and
// kept for the life of the process. It carries the frees of buffers allocated without a stream
// (each ordered after the streams that used the buffer) and nothing else, so that nothing a
// caller waits for ever queues behind another thread's deferred free.
const StreamPtr& reclaim_stream(int device);

// A stream checked out of the device's pool for one synchronous operation (a copy, a memset, an
// allocation without a stream): work on it waits only for what that operation orders it after,
// never for other threads' work, and synchronizing it waits for that operation alone. The pool
// grows to the number of synchronous operations in flight at once and is kept for the process.
class PooledStream {
 public:
  explicit PooledStream(int device);
  ~PooledStream();  // returns the stream to the pool
  PooledStream(const PooledStream&) = delete;
  PooledStream& operator=(const PooledStream&) = delete;
  const Stream& operator*() const noexcept { return *stream_; }
  const Stream* operator->() const noexcept { return stream_.get(); }

 private:
  StreamPtr stream_;
};

}  // namespace cudago
