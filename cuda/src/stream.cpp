#include "cudago/stream.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/event.hpp"
#include "cudago/graph.hpp"

namespace cudago {

std::shared_ptr<Stream> Stream::create(int device, unsigned flags, int priority) {
  CUDAGO_EXPECTS((flags & ~unsigned{kNonBlocking}) == 0, kInvalidArgument,
                 "unknown stream flags " + std::to_string(flags));
  require_device(device);
  DeviceGuard guard(device);
  cudaStream_t s = nullptr;
  unsigned cuda_flags = (flags & kNonBlocking) ? cudaStreamNonBlocking : cudaStreamDefault;
  // CUDA clamps a priority outside the device's range; the stream keeps the priority CUDA
  // reports for it, never one computed here.
  CUDAGO_CUDA_TRY(cudaStreamCreateWithPriority(&s, cuda_flags, priority));
  int effective = 0;
  cudaError_t err = cudaStreamGetPriority(s, &effective);
  if (err != cudaSuccess) {
    (void)cudaStreamDestroy(s);
    detail::throw_cuda_error(err, "cudaStreamGetPriority(s, &effective)", __FILE__, __LINE__);
  }
  return std::shared_ptr<Stream>(new Stream(device, s, effective));
}

Stream::~Stream() {
  if (capture_) {
    // Destroyed while capturing (a C caller that never ended it): end and drop the capture.
    cudaGraph_t g = nullptr;
    if (cudaStreamEndCapture(stream_, &g) == cudaSuccess && g != nullptr) (void)cudaGraphDestroy(g);
    (void)cudaGetLastError();
    capture_.reset();
  }
  // Returns at once; CUDA releases the stream when its queued work is done.
  if (cudaStreamDestroy(stream_) != cudaSuccess) (void)cudaGetLastError();
}

std::shared_ptr<Capture> Stream::capture() const {
  if (!capturing()) return nullptr;
  std::lock_guard<std::mutex> lock(capture_mutex_);
  return capture_;
}

void Stream::host_wait() const noexcept {
  try {
    DeviceGuard guard(device_);
    std::shared_ptr<Capture> cap;
    cudaError_t err = cudaSuccess;
    {
      // Under the lock, a capture cannot begin between the check and the synchronisation.
      std::lock_guard<std::mutex> lock(capture_mutex_);
      cap = capture_;
      if (!cap) err = cudaStreamSynchronize(stream_);
    }
    if (cap) err = cudaEventSynchronize(cap->before());
    if (err != cudaSuccess) (void)cudaGetLastError();
  } catch (...) {
  }
}

void Stream::synchronize() const {
  DeviceGuard guard(device_);
  CUDAGO_CUDA_TRY(cudaStreamSynchronize(stream_));
}

bool Stream::query() const {
  DeviceGuard guard(device_);
  cudaError_t err = cudaStreamQuery(stream_);
  if (err == cudaErrorNotReady) return false;
  CUDAGO_CUDA_TRY(err);
  return true;
}

void Stream::wait(const Event& event) const {
  DeviceGuard guard(device_);
  CUDAGO_CUDA_TRY(cudaStreamWaitEvent(stream_, event.get(), 0));
}

namespace {

// Per-device pools of streams (PooledStream) and of events (stream_wait_stream), created on
// first use and never destroyed: streams and events must not be released after the CUDA runtime
// has shut down.
struct DevicePools {
  std::once_flag reclaim_once;
  StreamPtr reclaim;
  std::mutex mutex;
  std::vector<StreamPtr> streams;   // idle pooled streams
  std::vector<cudaEvent_t> events;  // idle events (timing disabled)
};

DevicePools& pools(int device) {
  require_device(device);
  static DevicePools* all = new DevicePools[static_cast<size_t>(device_count())];
  return all[device];
}

cudaEvent_t take_event(int device) {
  DevicePools& p = pools(device);
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    if (!p.events.empty()) {
      cudaEvent_t ev = p.events.back();
      p.events.pop_back();
      return ev;
    }
  }
  cudaEvent_t ev = nullptr;
  CUDAGO_CUDA_TRY(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
  return ev;
}

// A wait queued on an event keeps the record it saw: the event can be recorded again at once.
void give_event(int device, cudaEvent_t ev) noexcept {
  DevicePools& p = pools(device);
  try {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.events.push_back(ev);
  } catch (...) {
    (void)cudaEventDestroy(ev);
  }
}

}  // namespace

const StreamPtr& reclaim_stream(int device) {
  DevicePools& p = pools(device);
  std::call_once(p.reclaim_once,
                 [&] { p.reclaim = Stream::create(device, Stream::kNonBlocking, 0); });
  return p.reclaim;
}

PooledStream::PooledStream(int device) {
  DevicePools& p = pools(device);
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    if (!p.streams.empty()) {
      stream_ = std::move(p.streams.back());
      p.streams.pop_back();
    }
  }
  if (!stream_) stream_ = Stream::create(device, Stream::kNonBlocking, 0);
}

PooledStream::~PooledStream() {
  DevicePools& p = pools(stream_->device());
  try {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.streams.push_back(std::move(stream_));
  } catch (...) {
    // Out of memory for the pool's vector: the stream is simply released.
  }
}

Event::Event(int device, unsigned flags) : device_(device), timing_((flags & kDisableTiming) == 0) {
  CUDAGO_EXPECTS((flags & ~unsigned{kDisableTiming | kBlockingSync}) == 0, kInvalidArgument,
                 "unknown event flags " + std::to_string(flags));
  require_device(device);
  DeviceGuard guard(device);
  unsigned cuda_flags = cudaEventDefault;
  if (flags & kDisableTiming) cuda_flags |= cudaEventDisableTiming;
  if (flags & kBlockingSync) cuda_flags |= cudaEventBlockingSync;
  CUDAGO_CUDA_TRY(cudaEventCreateWithFlags(&event_, cuda_flags));
}

Event::~Event() {
  if (cudaEventDestroy(event_) != cudaSuccess) (void)cudaGetLastError();
}

void Event::record(const Stream& stream) {
  CUDAGO_EXPECTS(stream.device() == device_, kDeviceMismatch,
                 "event of device " + std::to_string(device_) +
                     " cannot record a stream of device " + std::to_string(stream.device()));
  DeviceGuard guard(device_);
  CUDAGO_CUDA_TRY(cudaEventRecord(event_, stream.get()));
}

void Event::synchronize() const {
  DeviceGuard guard(device_);
  CUDAGO_CUDA_TRY(cudaEventSynchronize(event_));
}

bool Event::query() const {
  DeviceGuard guard(device_);
  cudaError_t err = cudaEventQuery(event_);
  if (err == cudaErrorNotReady) return false;
  CUDAGO_CUDA_TRY(err);
  return true;
}

float Event::elapsed_ms(const Event& start, const Event& end) {
  CUDAGO_EXPECTS(start.timing_ && end.timing_, kInvalidArgument,
                 "elapsed time needs two events created with timing enabled");
  CUDAGO_EXPECTS(start.device_ == end.device_, kDeviceMismatch,
                 "elapsed time between events of different devices");
  DeviceGuard guard(start.device_);
  float ms = 0;
  CUDAGO_CUDA_TRY(cudaEventElapsedTime(&ms, start.event_, end.event_));
  return ms;
}

void stream_wait_stream(const Stream& waiter, const Stream& waited) {
  if (waiter.get() == waited.get()) return;
  // A capturing waiter: a graph is ordered by the stream it is launched on (see event.hpp).
  if (waiter.capture() != nullptr) return;
  DeviceGuard guard(waited.device());
  // Under the lock, `waited` cannot begin a capture between the check and the record.
  std::lock_guard<std::mutex> lock(waited.capture_mutex_);
  if (waited.capture_) {
    CUDAGO_CUDA_TRY(cudaStreamWaitEvent(waiter.get(), waited.capture_->before(), 0));
    return;
  }
  cudaEvent_t ev = take_event(waited.device());
  cudaError_t err = cudaEventRecord(ev, waited.get());
  if (err == cudaSuccess) err = cudaStreamWaitEvent(waiter.get(), ev, 0);
  give_event(waited.device(), ev);
  CUDAGO_CUDA_TRY(err);
}

}  // namespace cudago
