// Device memory from per-device stream-ordered pools, pinned and mapped host memory.
//
// Lifetimes: a buffer remembers every stream that cudago queued work on with it. Freeing a
// device buffer is stream-ordered after all of that work; freeing a host buffer waits for it.
// So nothing is freed while a stream may still use it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "cudago/stream.hpp"

namespace cudago {

struct PoolConfig {
  uint64_t release_threshold_bytes = 0;  // 0 = default: keep everything (UINT64_MAX)
  uint64_t reserve_bytes = 0;            // reserve now: allocate and return to the pool
};

struct PoolStats {
  uint64_t reserved_bytes = 0, used_bytes = 0;
  uint64_t reserved_high_bytes = 0, used_high_bytes = 0;
};

// The cudago memory pool of `device` (cudaMemPoolCreate), created on first use.
cudaMemPool_t device_pool(int device);
void pool_configure(int device, const PoolConfig& config);
PoolStats pool_stats(int device);
// The stats of a pool already made (false, and nothing touched, when it is not: for readers such
// as a metrics scrape that must not create pools or CUDA contexts).
bool pool_stats_if_created(int device, PoolStats* out);
void pool_trim(int device, uint64_t keep_bytes);
void pool_reset_high_water(int device);

// The streams, other than an owner, on which work was queued with a buffer, and whether the
// buffer was freed (graphs that captured it refuse to launch then).
class StreamUses {
 public:
  void note(const StreamPtr& stream);
  std::vector<StreamPtr> snapshot() const;
  void add(const std::vector<StreamPtr>& streams);
  bool released() const noexcept { return released_.load(std::memory_order_acquire); }

  // The buffer's release and a CUDA graph launch that uses the buffer must not interleave: the
  // launch checks that the buffer is alive and queues the replay while it holds this lock, and
  // the release marks the buffer released and queues its free (after the streams noted so far)
  // while it holds it. Either the launch sees the buffer released and refuses, or the free is
  // ordered after the launch.
  std::unique_lock<std::mutex> lock() const { return std::unique_lock<std::mutex>(mutex_); }
  // With lock() held:
  void note_locked(const StreamPtr& stream);
  const std::vector<StreamPtr>& streams_locked() const noexcept { return streams_; }
  void mark_released_locked() noexcept { released_.store(true, std::memory_order_release); }

 private:
  mutable std::mutex mutex_;
  std::vector<StreamPtr> streams_;
  std::atomic<const Stream*> last_{nullptr};  // noted already: the lock-free hot path of note()
  std::atomic<bool> released_{false};
};

// Stream-ordered scratch memory from the device's pool, freed in stream order when it goes out
// of scope. Inside a capture, the allocation and the free become nodes of the graph.
class StreamScratch {
 public:
  StreamScratch(int device, uint64_t bytes, cudaStream_t stream);
  ~StreamScratch();
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;
  void* data() const noexcept { return p_; }

 private:
  void* p_ = nullptr;
  cudaStream_t stream_;
};

class HostBuffer : public std::enable_shared_from_this<HostBuffer> {
 public:
  enum Flags : unsigned { kPinned = 0, kMapped = 1, kWriteCombined = 2 };

  // Zero-filled page-locked memory, portable to every device.
  static std::shared_ptr<HostBuffer> allocate(int device, uint64_t bytes, unsigned flags);
  ~HostBuffer();  // waits for the streams that used it, then frees
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  void* host() const noexcept { return host_; }
  // The mapped device address (looked up once, at allocation); Error(kNotSupported) unless
  // mapped.
  void* device_pointer() const;
  uint64_t size() const noexcept { return size_; }
  int device() const noexcept { return device_; }
  bool mapped() const noexcept { return (flags_ & kMapped) != 0; }

  void used_on(const StreamPtr& stream) {
    if (stream->capturing()) note_captured(*stream);
    uses_.note(stream);
  }
  void add_uses(const std::vector<StreamPtr>& streams) { uses_.add(streams); }

 private:
  HostBuffer(int device, void* host, void* device_ptr, uint64_t size, unsigned flags)
      : device_(device), host_(host), device_ptr_(device_ptr), size_(size), flags_(flags) {}
  void note_captured(const Stream& stream);
  int device_;
  void* host_;
  void* device_ptr_;  // the mapped address, or null
  uint64_t size_;
  unsigned flags_;
  StreamUses uses_;
};

using HostBufferPtr = std::shared_ptr<HostBuffer>;

class DeviceBuffer {
 public:
  // Usable on any stream on return (allocated on a pooled stream, then synced); it has no
  // owning stream and is freed on the device's reclaim stream.
  static std::unique_ptr<DeviceBuffer> allocate(int device, uint64_t bytes);
  // Stream-ordered: usable by work queued on `stream` after this call. Error(kCapture) while
  // `stream` is being captured (allocate before the capture).
  static std::unique_ptr<DeviceBuffer> allocate_async(const StreamPtr& stream, uint64_t bytes);
  // A view of a mapped host buffer's device address; releasing it does not free the memory.
  static std::unique_ptr<DeviceBuffer> view_of(const HostBufferPtr& mapped);

  ~DeviceBuffer();  // release(), errors ignored
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // Queues the free after all work queued with the buffer: on the owning stream, or on the
  // device's reclaim stream for a buffer that has none.
  void release();

  void* data() const noexcept { return data_; }
  uint64_t size() const noexcept { return size_; }
  int device() const noexcept { return device_; }
  // The owning stream of a stream-ordered buffer (allocate_async), null for the others.
  const StreamPtr& stream() const noexcept { return stream_; }

  // Records that work using the buffer was queued on `stream` (and, during a capture, that the
  // graph uses it).
  void used_on(const StreamPtr& stream) {
    if (stream->capturing()) note_captured(*stream);
    if (stream.get() != stream_.get()) uses_->note(stream);
  }
  // Makes `stream` wait for all work queued with the buffer on the owner and other streams.
  void order_after_uses(const Stream& stream) const;

  // The buffer's identity, which outlives it: unique to this buffer even when a later one gets
  // the same address, and released() once the buffer was freed. Caches keyed by buffers (BLAS
  // graph replay) hold it weakly.
  const std::shared_ptr<StreamUses>& uses() const noexcept { return uses_; }

 private:
  DeviceBuffer(int device, void* data, uint64_t size, StreamPtr stream, HostBufferPtr host)
      : device_(device),
        data_(data),
        size_(size),
        stream_(std::move(stream)),
        host_(std::move(host)),
        uses_(std::make_shared<StreamUses>()) {}
  void note_captured(const Stream& stream);
  int device_;
  void* data_;
  uint64_t size_;
  StreamPtr stream_;    // the owning stream (allocation and free are ordered on it), or null
  HostBufferPtr host_;  // set for views of mapped host memory
  std::shared_ptr<StreamUses> uses_;  // shared with graphs that captured the buffer
  bool released_ = false;
};

}  // namespace cudago
