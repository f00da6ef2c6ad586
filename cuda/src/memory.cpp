#include "cudago/memory.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>

#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/event.hpp"
#include "cudago/graph.hpp"

namespace cudago {
namespace {

struct PoolSlot {
  std::once_flag once;
  cudaMemPool_t pool = nullptr;
  uint64_t total_memory = 0;
  std::atomic<bool> created{false};  // set once pool is made (for readers that must not make it)
};

// Never destroyed: pools outlive every buffer, and must not be torn down after the runtime.
PoolSlot* pool_slots() {
  static PoolSlot* slots = new PoolSlot[static_cast<size_t>(std::max(device_count(), 1))];
  return slots;
}

PoolSlot& pool_slot(int device) {
  require_device(device);
  PoolSlot& slot = pool_slots()[device];
  std::call_once(slot.once, [&] {
    DeviceGuard guard(device);
    int supported = 0;
    CUDAGO_CUDA_TRY(cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device));
    if (!supported) {
      throw Error(Status::kNotSupported,
                  "device " + std::to_string(device) + " does not support CUDA memory pools");
    }
    cudaMemPoolProps props{};
    props.allocType = cudaMemAllocationTypePinned;
    props.handleTypes = cudaMemHandleTypeNone;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = device;
    cudaMemPool_t pool = nullptr;
    CUDAGO_CUDA_TRY(cudaMemPoolCreate(&pool, &props));
    uint64_t keep_all = std::numeric_limits<uint64_t>::max();
    CUDAGO_CUDA_TRY(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_all));
    // No hidden waits: by default an allocation may take memory whose free is still pending on
    // another stream and make its stream wait for that free, which may itself wait for another
    // thread's kernels (the reclaim stream). Memory is still reused in stream order and, once
    // its free has completed, from any stream.
    int no = 0;
    CUDAGO_CUDA_TRY(cudaMemPoolSetAttribute(pool, cudaMemPoolReuseAllowInternalDependencies, &no));
    size_t free_b = 0, total_b = 0;
    CUDAGO_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
    slot.total_memory = total_b;
    slot.pool = pool;
    slot.created.store(true, std::memory_order_release);
  });
  return slot;
}

uint64_t pool_attribute(cudaMemPool_t pool, cudaMemPoolAttr attr) {
  uint64_t v = 0;
  CUDAGO_CUDA_TRY(cudaMemPoolGetAttribute(pool, attr, &v));
  return v;
}

void* pool_allocate(int device, uint64_t bytes, const Stream& stream) {
  PoolSlot& slot = pool_slot(device);
  if (bytes > slot.total_memory) {
    throw Error(Status::kOutOfMemory, "cannot allocate " + std::to_string(bytes) +
                                          " bytes: device " + std::to_string(device) + " has " +
                                          std::to_string(slot.total_memory) + " bytes in all");
  }
  void* p = nullptr;
  CUDAGO_CUDA_TRY(cudaMallocFromPoolAsync(&p, bytes, slot.pool, stream.get()));
  return p;
}

}  // namespace

cudaMemPool_t device_pool(int device) { return pool_slot(device).pool; }

void pool_configure(int device, const PoolConfig& config) {
  cudaMemPool_t pool = device_pool(device);
  DeviceGuard guard(device);
  uint64_t threshold = config.release_threshold_bytes == 0 ? std::numeric_limits<uint64_t>::max()
                                                           : config.release_threshold_bytes;
  CUDAGO_CUDA_TRY(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
  if (config.reserve_bytes > 0) {
    RelaxedCaptureMode relaxed;  // internal work, outside any capture of this thread
    PooledStream s(device);
    void* p = pool_allocate(device, config.reserve_bytes, *s);
    CUDAGO_CUDA_TRY(cudaFreeAsync(p, s->get()));
    CUDAGO_CUDA_TRY(cudaStreamSynchronize(s->get()));
  }
}

PoolStats pool_stats(int device) {
  cudaMemPool_t pool = device_pool(device);
  DeviceGuard guard(device);
  PoolStats st;
  st.reserved_bytes = pool_attribute(pool, cudaMemPoolAttrReservedMemCurrent);
  st.used_bytes = pool_attribute(pool, cudaMemPoolAttrUsedMemCurrent);
  st.reserved_high_bytes = pool_attribute(pool, cudaMemPoolAttrReservedMemHigh);
  st.used_high_bytes = pool_attribute(pool, cudaMemPoolAttrUsedMemHigh);
  return st;
}

bool pool_stats_if_created(int device, PoolStats* out) {
  if (device < 0 || device >= device_count()) return false;
  if (!pool_slots()[device].created.load(std::memory_order_acquire)) return false;
  *out = pool_stats(device);
  return true;
}

void pool_trim(int device, uint64_t keep_bytes) {
  cudaMemPool_t pool = device_pool(device);
  DeviceGuard guard(device);
  CUDAGO_CUDA_TRY(cudaMemPoolTrimTo(pool, keep_bytes));
}

void pool_reset_high_water(int device) {
  cudaMemPool_t pool = device_pool(device);
  DeviceGuard guard(device);
  uint64_t zero = 0;
  CUDAGO_CUDA_TRY(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReservedMemHigh, &zero));
  CUDAGO_CUDA_TRY(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &zero));
}

StreamScratch::StreamScratch(int device, uint64_t bytes, cudaStream_t stream) : stream_(stream) {
  if (bytes > 0) {
    CUDAGO_CUDA_TRY(cudaMallocFromPoolAsync(&p_, bytes, device_pool(device), stream));
  }
}

StreamScratch::~StreamScratch() {
  if (p_ != nullptr && cudaFreeAsync(p_, stream_) != cudaSuccess) (void)cudaGetLastError();
}

void StreamUses::note(const StreamPtr& stream) {
  // Streams are never removed: one noted last needs no lock (a launch loop on one stream).
  if (last_.load(std::memory_order_acquire) == stream.get()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  note_locked(stream);
}

void StreamUses::note_locked(const StreamPtr& stream) {
  bool known = false;
  for (const StreamPtr& s : streams_) known = known || s.get() == stream.get();
  if (!known) streams_.push_back(stream);
  // The list holds the stream, so its address cannot be reused while it is last_.
  last_.store(stream.get(), std::memory_order_release);
}

std::vector<StreamPtr> StreamUses::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return streams_;
}

void StreamUses::add(const std::vector<StreamPtr>& streams) {
  for (const StreamPtr& s : streams) note(s);
}

// ---- host buffers ----

std::shared_ptr<HostBuffer> HostBuffer::allocate(int device, uint64_t bytes, unsigned flags) {
  CUDAGO_EXPECTS((flags & ~unsigned{kMapped | kWriteCombined}) == 0, kInvalidArgument,
                 "unknown host buffer flags " + std::to_string(flags));
  require_device(device);
  DeviceGuard guard(device);
  if (flags & kMapped) {
    int can_map = 0;
    CUDAGO_CUDA_TRY(cudaDeviceGetAttribute(&can_map, cudaDevAttrCanMapHostMemory, device));
    if (!can_map) {
      throw Error(Status::kNotSupported,
                  "device " + std::to_string(device) + " cannot map host memory");
    }
  }
  void* p = nullptr;
  if (bytes > 0) {
    RelaxedCaptureMode relaxed;  // not stream work: allowed while this thread captures
    unsigned cuda_flags = cudaHostAllocPortable;
    if (flags & kMapped) cuda_flags |= cudaHostAllocMapped;
    if (flags & kWriteCombined) cuda_flags |= cudaHostAllocWriteCombined;
    CUDAGO_CUDA_TRY(cudaHostAlloc(&p, bytes, cuda_flags));
    std::memset(p, 0, bytes);
  }
  void* d = nullptr;
  if (p != nullptr && (flags & kMapped)) {
    cudaError_t err = cudaHostGetDevicePointer(&d, p, 0);
    if (err != cudaSuccess) {
      (void)cudaFreeHost(p);
      CUDAGO_CUDA_TRY(err);
    }
  }
  return std::shared_ptr<HostBuffer>(new HostBuffer(device, p, d, bytes, flags));
}

HostBuffer::~HostBuffer() {
  RelaxedCaptureMode relaxed;
  for (const StreamPtr& s : uses_.snapshot()) s->host_wait();
  if (host_ != nullptr && cudaFreeHost(host_) != cudaSuccess) (void)cudaGetLastError();
}

void HostBuffer::note_captured(const Stream& stream) {
  if (auto cap = stream.capture()) {
    if (auto self = weak_from_this().lock()) cap->keep(std::move(self));
  }
}

void* HostBuffer::device_pointer() const {
  CUDAGO_EXPECTS(mapped(), kNotSupported,
                 "host buffer is not mapped (allocate it with CUDAGO_HOST_MAPPED)");
  return device_ptr_;
}

// ---- device buffers ----

std::unique_ptr<DeviceBuffer> DeviceBuffer::allocate(int device, uint64_t bytes) {
  require_device(device);
  DeviceGuard guard(device);
  void* p = nullptr;
  if (bytes > 0) {
    // On a stream of its own, so the allocation never waits for other threads' work; complete
    // on return, so the buffer needs no owning stream.
    RelaxedCaptureMode relaxed;  // internal work, outside any capture of this thread
    PooledStream s(device);
    p = pool_allocate(device, bytes, *s);
    cudaError_t err = cudaStreamSynchronize(s->get());
    if (err != cudaSuccess) {
      (void)cudaFreeAsync(p, s->get());
      CUDAGO_CUDA_TRY(err);
    }
  }
  return std::unique_ptr<DeviceBuffer>(new DeviceBuffer(device, p, bytes, nullptr, nullptr));
}

std::unique_ptr<DeviceBuffer> DeviceBuffer::allocate_async(const StreamPtr& stream,
                                                           uint64_t bytes) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
  CUDAGO_EXPECTS(stream->capture() == nullptr, kCapture,
                 "cannot allocate a buffer on a stream that is being captured: allocate it "
                 "before the capture (work inside the capture may use it)");
  DeviceGuard guard(stream->device());
  void* p = bytes > 0 ? pool_allocate(stream->device(), bytes, *stream) : nullptr;
  return std::unique_ptr<DeviceBuffer>(
      new DeviceBuffer(stream->device(), p, bytes, stream, nullptr));
}

std::unique_ptr<DeviceBuffer> DeviceBuffer::view_of(const HostBufferPtr& mapped) {
  CUDAGO_EXPECTS(mapped != nullptr, kInvalidHandle, "host buffer is NULL");
  void* d = mapped->device_pointer();
  return std::unique_ptr<DeviceBuffer>(
      new DeviceBuffer(mapped->device(), d, mapped->size(), nullptr, mapped));
}

DeviceBuffer::~DeviceBuffer() {
  try {
    release();
  } catch (...) {
    // A destructor cannot report; release() has already cleared the per-thread error.
  }
}

namespace {

// Queues the free of `data` on `owner` after the work queued on `uses`. While `owner` is being
// captured the free cannot be queued there (it would become a node of the graph): it is
// deferred to the end of that capture.
void free_after(int device, void* data, const StreamPtr& owner,
                const std::vector<StreamPtr>& uses) {
  if (std::shared_ptr<Capture> cap = owner->capture()) {
    cap->defer([device, data, owner, uses] { free_after(device, data, owner, uses); });
    return;
  }
  DeviceGuard guard(device);
  RelaxedCaptureMode relaxed;  // not captured work: allowed while this thread captures
  for (const StreamPtr& s : uses) stream_wait_stream(*owner, *s);
  CUDAGO_CUDA_TRY(cudaFreeAsync(data, owner->get()));
}

}  // namespace

void DeviceBuffer::note_captured(const Stream& stream) {
  if (std::shared_ptr<Capture> cap = stream.capture()) {
    cap->track(uses_);
    if (host_) cap->keep(host_);
  }
}

void DeviceBuffer::release() {
  if (released_) return;
  released_ = true;
  // Under the uses' lock: a concurrent graph launch either sees the buffer released or is
  // queued before the events the free waits for (StreamUses::lock).
  auto lock = uses_->lock();
  uses_->mark_released_locked();
  const std::vector<StreamPtr>& uses = uses_->streams_locked();
  if (host_) {
    // A view: the host buffer waits for every stream that used the memory through it.
    // (Synchronous operations on the view have completed before they returned.)
    host_->add_uses(uses);
    host_.reset();
    return;
  }
  if (data_ == nullptr) return;
  if (stream_) {
    free_after(device_, data_, stream_, uses);  // stream-ordered: on its owning stream
  } else if (uses.empty()) {
    // Nothing can still be using it (synchronous operations wait before they return): free it
    // now, on a pooled stream, where the next allocation there reuses it in stream order.
    DeviceGuard guard(device_);
    RelaxedCaptureMode relaxed;
    PooledStream s(device_);
    CUDAGO_CUDA_TRY(cudaFreeAsync(data_, s->get()));
  } else {
    // After the streams that used it, on the reclaim stream: nothing a caller waits for ever
    // queues behind it.
    free_after(device_, data_, reclaim_stream(device_), uses);
  }
}

void DeviceBuffer::order_after_uses(const Stream& stream) const {
  if (stream_) stream_wait_stream(stream, *stream_);
  for (const StreamPtr& s : uses_->snapshot()) stream_wait_stream(stream, *s);
}

}  // namespace cudago
