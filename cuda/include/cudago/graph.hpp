// CUDA Graphs: capture the work cudago queues on a stream, instantiate it once, replay it with a
// single launch.
//
// Graph::begin_capture() starts a stream capture (cudaStreamBeginCapture); every cudago call that
// queues work on that stream (kernels, run-time compiled kernels, async copies and memsets,
// cuBLAS and cuFFT calls) is recorded instead of run. Graph::end_capture() ends it and
// instantiates the result; Graph::update() ends a second capture and applies it to an existing
// graph whose topology it must match (kernel arguments, copy and memset addresses change).
//
// What a capture does to the rest of the library:
//  - buffers used in the capture are tracked by the graph: a launch after one of them was freed
//    is refused (kInvalidHandle), and a buffer's free is ordered after the graph's launches;
//  - run-time compiled modules, mapped host buffers and cuFFT plans used in the capture are kept
//    alive by the graph; cuBLAS and cuFFT work areas and reduction scratch become allocation
//    nodes of the graph (stream-ordered memory owned by the graph);
//  - a buffer may be freed during the capture: a buffer owned by the capturing stream is freed
//    when the capture ends, any other one at once (after the work queued before the capture);
//    the graph refuses to launch either way;
//  - a buffer cannot be allocated on the capturing stream (allocate before capturing);
//  - a cuFFT plan cannot be created during a capture (cuFFT fails): a plan-cache miss inside a
//    capture is Error(kCapture), refused before cuFFT is called;
//  - in the thread-local and global modes, a synchronous cudago copy or memset issued by the
//    capturing thread is an error that fails the capture, as CUDA fails it for a
//    synchronisation of the capturing stream. end_capture() then reports the first error; the
//    stream leaves capture mode in every case and stays usable.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cudago/error.hpp"
#include "cudago/memory.hpp"
#include "cudago/stream.hpp"

namespace cudago {

// cudaStreamCaptureMode: which calls of which threads are refused while the capture runs.
enum class CaptureMode : int32_t { kThreadLocal = 0, kGlobal = 1, kRelaxed = 2 };

// The state of one capture in progress, reachable from its stream.
class Capture {
 public:
  Capture(int device, CaptureMode mode, cudaEvent_t before)
      : device_(device), mode_(mode), before_(before), thread_(std::this_thread::get_id()) {}
  ~Capture();  // runs deferred work that end_capture did not run
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  int device() const noexcept { return device_; }
  CaptureMode mode() const noexcept { return mode_; }
  // Recorded on the stream just before the capture began: the work a waiter really waits for.
  cudaEvent_t before() const noexcept { return before_; }

  void track(const std::shared_ptr<StreamUses>& buffer);  // a device buffer used in the capture
  void keep(std::shared_ptr<const void> object);          // kept alive by the graph
  void defer(std::function<void()> fn);                   // runs when the capture ends
  // Fails the capture: end_capture() reports the first failure.
  void fail(const Error& error);

  // The innermost capture begun by the calling thread and not ended yet, or null.
  static std::shared_ptr<Capture> of_this_thread();
  // Throws Error(kCapture) naming `what`, and fails the capture, when the calling thread is
  // capturing in the thread-local or global mode.
  static void refuse_sync(const char* what);

 private:
  friend class Graph;
  void run_deferred() noexcept;

  int device_;
  CaptureMode mode_;
  cudaEvent_t before_;
  std::thread::id thread_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<StreamUses>> buffers_;
  std::vector<std::shared_ptr<const void>> kept_;
  std::vector<std::function<void()>> deferred_;
  bool failed_ = false;
  Status failure_status_ = Status::kSuccess;
  std::string failure_;
};

class Graph {
 public:
  // Starts capturing `stream`. Error(kCapture) if it is already capturing.
  static void begin_capture(const StreamPtr& stream, CaptureMode mode);
  // Ends the capture of `stream` and instantiates it. The stream leaves capture mode whatever
  // happens; a capture that failed throws the first failure (an empty capture is valid).
  static std::unique_ptr<Graph> end_capture(const StreamPtr& stream);
  // Ends and drops a capture in progress on `stream`, if any, ignoring errors: for a stream
  // whose owner closes it mid-capture (frees deferred to the capture's end hold the stream).
  static void abandon_capture(const StreamPtr& stream) noexcept;

  ~Graph();  // waits for the graph's launches, then releases it and what it keeps alive
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Queues one replay on `stream` (a stream of the graph's device, not itself capturing).
  void launch(const StreamPtr& stream);
  // Uploads the graph's work to the device ahead of the first launch (cudaGraphUpload).
  void upload(const StreamPtr& stream);
  // Ends the capture of `stream` and applies it to this graph (cudaGraphExecUpdate). The new
  // capture must have the same topology: the same nodes of the same types in the same order and
  // dependencies, the same kernels; their parameters may differ. Error(kCapture) naming CUDA's
  // reason otherwise, and the graph is left as it was.
  void update(const StreamPtr& stream);

  int device() const noexcept { return device_; }
  uint64_t node_count() const;

 private:
  Graph(int device, cudaGraphExec_t exec) : device_(device), exec_(exec) {}
  struct Ended;
  static Ended end(const StreamPtr& stream);

  int device_;
  cudaGraphExec_t exec_;
  mutable std::mutex mutex_;
  uint64_t nodes_ = 0;
  std::vector<std::shared_ptr<StreamUses>> buffers_;
  std::vector<std::shared_ptr<const void>> kept_;
  std::vector<StreamPtr> launched_on_;  // every stream it was launched on
  const Stream* last_launch_ = nullptr;
};

// Runs `fn` (library set-up: cuFFT plans, cuBLAS handles) where no capture can interfere with
// it: directly when the calling thread has no capture in progress, otherwise on a short-lived
// thread of its own with the same current device (cuFFT's plan creation fails on a capturing
// thread even in the relaxed mode). Exceptions are rethrown in the caller.
template <class Fn>
auto outside_capture(Fn&& fn) -> decltype(fn()) {
  if (Capture::of_this_thread() == nullptr) return fn();
  int device = 0;
  CUDAGO_CUDA_TRY(cudaGetDevice(&device));
  std::exception_ptr failure;
  std::optional<decltype(fn())> result;
  std::thread worker([&] {
    try {
      CUDAGO_CUDA_TRY(cudaSetDevice(device));
      result.emplace(fn());
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

// Switches the calling thread to the relaxed capture mode for its lifetime: library-internal
// set-up (cuBLAS handles, cuFFT plans, pools) may then allocate and synchronise while the
// thread is capturing, outside the capture.
class RelaxedCaptureMode {
 public:
  RelaxedCaptureMode() noexcept;
  ~RelaxedCaptureMode();
  RelaxedCaptureMode(const RelaxedCaptureMode&) = delete;
  RelaxedCaptureMode& operator=(const RelaxedCaptureMode&) = delete;

 private:
  cudaStreamCaptureMode previous_;
  bool ok_;
};

}  // namespace cudago
