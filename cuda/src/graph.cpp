#include "cudago/graph.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "cudago/device.hpp"
#include "cudago/error.hpp"

namespace cudago {
namespace {

// The captures begun by this thread, innermost last.
thread_local std::vector<std::weak_ptr<Capture>> this_thread_captures;

cudaStreamCaptureMode cuda_mode(CaptureMode mode) {
  switch (mode) {
    case CaptureMode::kThreadLocal:
      return cudaStreamCaptureModeThreadLocal;
    case CaptureMode::kGlobal:
      return cudaStreamCaptureModeGlobal;
    case CaptureMode::kRelaxed:
      return cudaStreamCaptureModeRelaxed;
  }
  throw Error(Status::kInvalidArgument, "unknown capture mode " +
                                            std::to_string(static_cast<int>(mode)) +
                                            " (thread-local 0, global 1, relaxed 2)");
}

const char* update_result_text(cudaGraphExecUpdateResult r) {
  switch (r) {
    case cudaGraphExecUpdateSuccess:
      return "success";
    case cudaGraphExecUpdateError:
      return "the update failed";
    case cudaGraphExecUpdateErrorTopologyChanged:
      return "the topology changed (other nodes or dependencies)";
    case cudaGraphExecUpdateErrorNodeTypeChanged:
      return "a node's type changed";
    case cudaGraphExecUpdateErrorFunctionChanged:
      return "a kernel node runs another function";
    case cudaGraphExecUpdateErrorParametersChanged:
      return "a node's parameters changed in a way that cannot be updated";
    case cudaGraphExecUpdateErrorNotSupported:
      return "a node or change cannot be updated";
    case cudaGraphExecUpdateErrorUnsupportedFunctionChange:
      return "a kernel node's function changed in an unsupported way";
    case cudaGraphExecUpdateErrorAttributesChanged:
      return "a node's attributes changed";
  }
  return "unknown update result";
}

// Owns a cudaGraph_t until it goes out of scope.
struct GraphHandle {
  cudaGraph_t g = nullptr;
  ~GraphHandle() {
    if (g != nullptr) (void)cudaGraphDestroy(g);
  }
};

}  // namespace

// ---- Capture ----

Capture::~Capture() {
  run_deferred();
  if (before_ != nullptr) (void)cudaEventDestroy(before_);
}

void Capture::track(const std::shared_ptr<StreamUses>& buffer) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& b : buffers_) {
    if (b.get() == buffer.get()) return;
  }
  buffers_.push_back(buffer);
}

void Capture::keep(std::shared_ptr<const void> object) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& k : kept_) {
    if (k.get() == object.get()) return;
  }
  kept_.push_back(std::move(object));
}

void Capture::defer(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mutex_);
  deferred_.push_back(std::move(fn));
}

void Capture::fail(const Error& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (failed_) return;
  failed_ = true;
  failure_status_ = error.status();
  failure_ = error.what();
}

void Capture::run_deferred() noexcept {
  std::vector<std::function<void()>> fns;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fns.swap(deferred_);
  }
  for (auto& fn : fns) {
    try {
      fn();
    } catch (...) {
      // A deferred free that fails has nobody to report to; a fault resurfaces at the next call.
    }
  }
}

std::shared_ptr<Capture> Capture::of_this_thread() {
  while (!this_thread_captures.empty()) {
    if (auto cap = this_thread_captures.back().lock()) return cap;
    this_thread_captures.pop_back();
  }
  return nullptr;
}

void Capture::refuse_sync(const char* what) {
  std::shared_ptr<Capture> cap = of_this_thread();
  if (!cap || cap->mode() == CaptureMode::kRelaxed) return;
  Error e(Status::kCapture,
          std::string(what) +
              " while this thread is capturing a stream: a synchronous call runs now and cannot "
              "be part of the graph (use the asynchronous form on the capturing stream); the "
              "capture fails");
  cap->fail(e);
  throw e;
}

RelaxedCaptureMode::RelaxedCaptureMode() noexcept : previous_(cudaStreamCaptureModeRelaxed) {
  ok_ = cudaThreadExchangeStreamCaptureMode(&previous_) == cudaSuccess;
  if (!ok_) (void)cudaGetLastError();
}

RelaxedCaptureMode::~RelaxedCaptureMode() {
  if (ok_ && cudaThreadExchangeStreamCaptureMode(&previous_) != cudaSuccess) {
    (void)cudaGetLastError();
  }
}

// ---- Graph ----

struct Graph::Ended {
  GraphHandle graph;
  std::shared_ptr<Capture> capture;
};

void Graph::begin_capture(const StreamPtr& stream, CaptureMode mode) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
  const cudaStreamCaptureMode m = cuda_mode(mode);
  DeviceGuard guard(stream->device());
  std::lock_guard<std::mutex> lock(stream->capture_mutex_);
  CUDAGO_EXPECTS(stream->capture_ == nullptr, kCapture,
                 "the stream is already being captured (end that capture first)");
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  CUDAGO_CUDA_TRY(cudaStreamIsCapturing(stream->get(), &status));
  CUDAGO_EXPECTS(status == cudaStreamCaptureStatusNone, kCapture,
                 "the stream is being captured outside cudago (through its native handle)");
  cudaEvent_t before = nullptr;
  CUDAGO_CUDA_TRY(cudaEventCreateWithFlags(&before, cudaEventDisableTiming));
  auto cap = std::make_shared<Capture>(stream->device(), mode, before);  // owns `before`
  CUDAGO_CUDA_TRY(cudaEventRecord(before, stream->get()));
  CUDAGO_CUDA_TRY(cudaStreamBeginCapture(stream->get(), m));
  stream->capture_ = cap;
  stream->capturing_.store(true, std::memory_order_release);
  this_thread_captures.push_back(cap);
}

Graph::Ended Graph::end(const StreamPtr& stream) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
  DeviceGuard guard(stream->device());
  Ended out;
  cudaError_t err = cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(stream->capture_mutex_);
    CUDAGO_EXPECTS(stream->capture_ != nullptr, kCapture,
                   "the stream is not being captured (begin a capture first)");
    err = cudaStreamEndCapture(stream->get(), &out.graph.g);
    if (err == cudaErrorStreamCaptureWrongThread) {
      (void)cudaGetLastError();
      throw Error(Status::kCapture,
                  "a thread-local or global capture must be ended by the thread that began it "
                  "(the capture goes on)",
                  static_cast<int32_t>(err), cudaGetErrorName(err));
    }
    out.capture = std::move(stream->capture_);
    stream->capturing_.store(false, std::memory_order_release);
  }
  auto& mine = this_thread_captures;
  mine.erase(std::remove_if(mine.begin(), mine.end(),
                            [&](const std::weak_ptr<Capture>& w) {
                              auto c = w.lock();
                              return !c || c == out.capture;
                            }),
             mine.end());
  // Frees deferred during the capture can be queued now that the stream runs work again.
  out.capture->run_deferred();
  {
    std::lock_guard<std::mutex> lock(out.capture->mutex_);
    if (out.capture->failed_) {
      (void)cudaGetLastError();
      throw Error(out.capture->failure_status_,
                  "the capture failed; its first error: " + out.capture->failure_);
    }
  }
  if (err == cudaErrorStreamCaptureInvalidated) {
    (void)cudaGetLastError();
    throw Error(Status::kCapture,
                "the capture was invalidated by a call that is illegal during a capture (a "
                "synchronisation or query of the capturing stream, or a call the capture mode "
                "forbids); that call returned the error",
                static_cast<int32_t>(err), cudaGetErrorName(err));
  }
  CUDAGO_CUDA_TRY(err);
  CUDAGO_EXPECTS(out.graph.g != nullptr, kCapture, "the capture produced no graph");
  return out;
}

namespace {
// Graph launches lock their buffers' uses in address order, so two launches never deadlock.
void sort_by_address(std::vector<std::shared_ptr<StreamUses>>& buffers) {
  std::sort(buffers.begin(), buffers.end(),
            [](const auto& a, const auto& b) { return std::less<>()(a.get(), b.get()); });
}
}  // namespace

std::unique_ptr<Graph> Graph::end_capture(const StreamPtr& stream) {
  Ended e = end(stream);
  size_t nodes = 0;
  CUDAGO_CUDA_TRY(cudaGraphGetNodes(e.graph.g, nullptr, &nodes));
  cudaGraphExec_t exec = nullptr;
  {
    RelaxedCaptureMode relaxed;  // another capture of this thread must not forbid it
    CUDAGO_CUDA_TRY(cudaGraphInstantiate(&exec, e.graph.g, 0));
  }
  std::unique_ptr<Graph> g(new Graph(stream->device(), exec));
  g->nodes_ = nodes;
  std::lock_guard<std::mutex> lock(e.capture->mutex_);
  g->buffers_ = std::move(e.capture->buffers_);
  sort_by_address(g->buffers_);
  g->kept_ = std::move(e.capture->kept_);
  return g;
}

void Graph::abandon_capture(const StreamPtr& stream) noexcept {
  if (stream == nullptr || stream->capture() == nullptr) return;
  try {
    (void)end(stream);
  } catch (...) {
  }
}

Graph::~Graph() {
  RelaxedCaptureMode relaxed;
  // What the graph keeps alive (modules, plans, host memory) may be in use by a launch.
  for (const StreamPtr& s : launched_on_) s->host_wait();
  if (cudaGraphExecDestroy(exec_) != cudaSuccess) (void)cudaGetLastError();
}

void Graph::launch(const StreamPtr& stream) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
  CUDAGO_EXPECTS(stream->device() == device_, kDeviceMismatch,
                 "a graph of device " + std::to_string(device_) +
                     " cannot be launched on a stream of device " +
                     std::to_string(stream->device()));
  CUDAGO_EXPECTS(stream->capture() == nullptr, kCapture,
                 "a graph cannot be launched into a stream that is being captured");
  // One launch, upload or update of this executable graph at a time (CUDA graphs are not
  // thread-safe), and every captured buffer held alive from the check to the queued replay: a
  // concurrent free either makes this launch refuse or is ordered after it.
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::unique_lock<std::mutex>> held;
  held.reserve(buffers_.size());
  for (const auto& b : buffers_) held.push_back(b->lock());  // sorted at capture: no deadlock
  for (const auto& b : buffers_) {
    CUDAGO_EXPECTS(!b->released(), kInvalidHandle,
                   "the graph uses a buffer that was freed after the capture (capture again, "
                   "or keep the buffer until the graph is destroyed)");
  }
  if (stream.get() != last_launch_) {
    // The buffers' frees are ordered after this stream's work from now on.
    for (const auto& b : buffers_) b->note_locked(stream);
    if (std::none_of(launched_on_.begin(), launched_on_.end(),
                     [&](const StreamPtr& s) { return s.get() == stream.get(); })) {
      launched_on_.push_back(stream);
    }
    last_launch_ = stream.get();
  }
  DeviceGuard guard(device_);
  CUDAGO_CUDA_TRY(cudaGraphLaunch(exec_, stream->get()));
}

void Graph::upload(const StreamPtr& stream) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
  CUDAGO_EXPECTS(stream->device() == device_, kDeviceMismatch,
                 "a graph of device " + std::to_string(device_) +
                     " cannot be uploaded on a stream of device " +
                     std::to_string(stream->device()));
  CUDAGO_EXPECTS(stream->capture() == nullptr, kCapture,
                 "a graph cannot be uploaded on a stream that is being captured");
  std::lock_guard<std::mutex> lock(mutex_);  // one launch, upload or update at a time
  DeviceGuard guard(device_);
  CUDAGO_CUDA_TRY(cudaGraphUpload(exec_, stream->get()));
}

void Graph::update(const StreamPtr& stream) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
  CUDAGO_EXPECTS(stream->device() == device_, kDeviceMismatch,
                 "a graph of device " + std::to_string(device_) +
                     " cannot be updated from a capture on device " +
                     std::to_string(stream->device()));
  Ended e = end(stream);
  size_t nodes = 0;
  CUDAGO_CUDA_TRY(cudaGraphGetNodes(e.graph.g, nullptr, &nodes));
  std::lock_guard<std::mutex> lock(mutex_);
  cudaGraphExecUpdateResultInfo info{};
  cudaError_t err = cudaSuccess;
  {
    RelaxedCaptureMode relaxed;
    err = cudaGraphExecUpdate(exec_, e.graph.g, &info);
  }
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    throw Error(Status::kCapture,
                std::string("the new capture cannot update the graph: ") +
                    update_result_text(info.result) + " (" + std::to_string(nodes) +
                    " nodes captured, the graph has " + std::to_string(nodes_) +
                    "); the graph is unchanged",
                static_cast<int32_t>(err), cudaGetErrorName(err));
  }
  nodes_ = nodes;
  std::lock_guard<std::mutex> cap_lock(e.capture->mutex_);
  // Launches still in flight use the old buffers, whose frees are ordered after them already;
  // what the old version kept alive stays until the graph is destroyed.
  buffers_ = std::move(e.capture->buffers_);
  sort_by_address(buffers_);
  for (const auto& b : buffers_) {
    for (const StreamPtr& s : launched_on_) b->note(s);
  }
  for (auto& k : e.capture->kept_) kept_.push_back(std::move(k));
}

uint64_t Graph::node_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return nodes_;
}

}  // namespace cudago
