#include "cudago/stream.hpp"

#include <memory>
#include <mutex>
#include <string>

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
  int least = 0, greatest = 0;
  CUDAGO_CUDA_TRY(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  // CUDA clamps out-of-range priorities; keep the value it will really use.
  int effective = priority > least ? least : (priority < greatest ? greatest : priority);
  cudaStream_t s = nullptr;
  unsigned cuda_flags = (flags & kNonBlocking) ? cudaStreamNonBlocking : cudaStreamDefault;
  CUDAGO_CUDA_TRY(cudaStreamCreateWithPriority(&s, cuda_flags, effective));
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

const StreamPtr& internal_stream(int device) {
  require_device(device);
  struct Slot {
    std::once_flag once;
    StreamPtr stream;
  };
  // Never destroyed: streams must not be released after the CUDA runtime has shut down.
  static Slot* slots = new Slot[static_cast<size_t>(device_count())];
  Slot& slot = slots[device];
  std::call_once(slot.once, [&] { slot.stream = Stream::create(device, Stream::kNonBlocking, 0); });
  return slot.stream;
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
  cudaEvent_t ev = nullptr;
  CUDAGO_CUDA_TRY(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
  cudaError_t err = cudaEventRecord(ev, waited.get());
  if (err == cudaSuccess) err = cudaStreamWaitEvent(waiter.get(), ev, 0);
  // Destroying a recorded event is safe: CUDA frees it once it has completed.
  cudaError_t destroy_err = cudaEventDestroy(ev);
  CUDAGO_CUDA_TRY(err);
  CUDAGO_CUDA_TRY(destroy_err);
}

}  // namespace cudago
