#include "cudago/copy.hpp"

#include <string>

#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/graph.hpp"

namespace cudago {

void check_range(uint64_t size, uint64_t offset, uint64_t bytes, const char* what) {
  if (offset > size || bytes > size - offset) {
    throw Error(Status::kOutOfRange, std::to_string(bytes) + " bytes at offset " +
                                         std::to_string(offset) + " exceed the " +
                                         std::to_string(size) + "-byte " + what);
  }
}

namespace {

char* at(const DeviceBuffer& b, uint64_t offset) { return static_cast<char*>(b.data()) + offset; }
char* at(const HostBuffer& b, uint64_t offset) { return static_cast<char*>(b.host()) + offset; }

void same_device(int a, int b, const char* what) {
  if (a != b) {
    throw Error(Status::kDeviceMismatch, std::string(what) + ": device " + std::to_string(a) +
                                             " and device " + std::to_string(b));
  }
}

// Queues a device-to-device copy on `s`; across devices it is a peer copy (direct over
// NVLink/PCIe with peer access, staged through host memory by the driver without).
void queue_device_copy(DeviceBuffer& dst, uint64_t dst_offset, const DeviceBuffer& src,
                       uint64_t src_offset, uint64_t bytes, cudaStream_t s) {
  if (dst.device() == src.device()) {
    CUDAGO_CUDA_TRY(cudaMemcpyAsync(at(dst, dst_offset), at(src, src_offset), bytes,
                                    cudaMemcpyDeviceToDevice, s));
  } else {
    CUDAGO_CUDA_TRY(cudaMemcpyPeerAsync(at(dst, dst_offset), dst.device(), at(src, src_offset),
                                        src.device(), bytes, s));
  }
}

// Runs `op` on a pooled stream of `owner`'s device after all work queued with `buffers` (on
// their owning streams and every stream that used them), then waits for that stream alone: a
// synchronous operation waits for the work on its own buffers, never for other threads' work.
// A stream another thread is capturing is waited for up to its capture (stream_wait_stream).
template <class Op>
void run_sync(const DeviceBuffer& owner, std::initializer_list<const DeviceBuffer*> buffers,
              Op op) {
  Capture::refuse_sync("a synchronous copy or memset");
  DeviceGuard guard(owner.device());
  PooledStream s(owner.device());
  for (const DeviceBuffer* b : buffers) b->order_after_uses(*s);
  op(s->get());
  CUDAGO_CUDA_TRY(cudaStreamSynchronize(s->get()));
}

}  // namespace

void copy_to_device(DeviceBuffer& dst, uint64_t dst_offset, const void* src, uint64_t bytes) {
  check_range(dst.size(), dst_offset, bytes, "destination buffer");
  if (bytes == 0) return;
  CUDAGO_EXPECTS(src != nullptr, kInvalidArgument, "source host pointer is NULL");
  run_sync(dst, {&dst}, [&](cudaStream_t s) {
    CUDAGO_CUDA_TRY(cudaMemcpyAsync(at(dst, dst_offset), src, bytes, cudaMemcpyHostToDevice, s));
  });
}

void copy_to_host(void* dst, DeviceBuffer& src, uint64_t src_offset, uint64_t bytes) {
  check_range(src.size(), src_offset, bytes, "source buffer");
  if (bytes == 0) return;
  CUDAGO_EXPECTS(dst != nullptr, kInvalidArgument, "destination host pointer is NULL");
  run_sync(src, {&src}, [&](cudaStream_t s) {
    CUDAGO_CUDA_TRY(cudaMemcpyAsync(dst, at(src, src_offset), bytes, cudaMemcpyDeviceToHost, s));
  });
}

void copy_device(DeviceBuffer& dst, uint64_t dst_offset, DeviceBuffer& src, uint64_t src_offset,
                 uint64_t bytes) {
  check_range(dst.size(), dst_offset, bytes, "destination buffer");
  check_range(src.size(), src_offset, bytes, "source buffer");
  if (bytes == 0) return;
  // Across devices too: on dst's owning stream, after the work queued with both buffers on
  // every stream of either device.
  run_sync(dst, {&dst, &src},
           [&](cudaStream_t s) { queue_device_copy(dst, dst_offset, src, src_offset, bytes, s); });
}

void fill(DeviceBuffer& dst, uint64_t offset, uint8_t value, uint64_t bytes) {
  check_range(dst.size(), offset, bytes, "buffer");
  if (bytes == 0) return;
  run_sync(dst, {&dst}, [&](cudaStream_t s) {
    CUDAGO_CUDA_TRY(cudaMemsetAsync(at(dst, offset), value, bytes, s));
  });
}

namespace {
void check_stream(const StreamPtr& stream, const DeviceBuffer& b, const char* what) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
  same_device(stream->device(), b.device(), what);
}
}  // namespace

void copy_to_device_async(const StreamPtr& stream, DeviceBuffer& dst, uint64_t dst_offset,
                          HostBuffer& src, uint64_t src_offset, uint64_t bytes) {
  check_stream(stream, dst, "stream and destination buffer");
  check_range(dst.size(), dst_offset, bytes, "destination buffer");
  check_range(src.size(), src_offset, bytes, "source host buffer");
  if (bytes == 0) return;
  DeviceGuard guard(stream->device());
  CUDAGO_CUDA_TRY(cudaMemcpyAsync(at(dst, dst_offset), at(src, src_offset), bytes,
                                  cudaMemcpyHostToDevice, stream->get()));
  dst.used_on(stream);
  src.used_on(stream);
}

void copy_to_host_async(const StreamPtr& stream, HostBuffer& dst, uint64_t dst_offset,
                        DeviceBuffer& src, uint64_t src_offset, uint64_t bytes) {
  check_stream(stream, src, "stream and source buffer");
  check_range(dst.size(), dst_offset, bytes, "destination host buffer");
  check_range(src.size(), src_offset, bytes, "source buffer");
  if (bytes == 0) return;
  DeviceGuard guard(stream->device());
  CUDAGO_CUDA_TRY(cudaMemcpyAsync(at(dst, dst_offset), at(src, src_offset), bytes,
                                  cudaMemcpyDeviceToHost, stream->get()));
  dst.used_on(stream);
  src.used_on(stream);
}

void copy_device_async(const StreamPtr& stream, DeviceBuffer& dst, uint64_t dst_offset,
                       DeviceBuffer& src, uint64_t src_offset, uint64_t bytes) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
  const bool peer = dst.device() != src.device();
  if (peer && stream->device() != dst.device() && stream->device() != src.device()) {
    throw Error(Status::kDeviceMismatch,
                "peer copy from device " + std::to_string(src.device()) + " to device " +
                    std::to_string(dst.device()) + " on a stream of device " +
                    std::to_string(stream->device()) + " (it must be on one of the two)");
  }
  if (!peer) check_stream(stream, dst, "stream and buffers");  // src is on dst's device
  check_range(dst.size(), dst_offset, bytes, "destination buffer");
  check_range(src.size(), src_offset, bytes, "source buffer");
  if (bytes == 0) return;
  DeviceGuard guard(stream->device());
  if (peer) {
    // One of the buffers lives on another device than the stream: its own work cannot be
    // ordered by the caller's stream alone, so wait for all work queued with both buffers.
    dst.order_after_uses(*stream);
    src.order_after_uses(*stream);
  }
  queue_device_copy(dst, dst_offset, src, src_offset, bytes, stream->get());
  dst.used_on(stream);
  src.used_on(stream);
}

void fill_async(const StreamPtr& stream, DeviceBuffer& dst, uint64_t offset, uint8_t value,
                uint64_t bytes) {
  check_stream(stream, dst, "stream and buffer");
  check_range(dst.size(), offset, bytes, "buffer");
  if (bytes == 0) return;
  DeviceGuard guard(stream->device());
  CUDAGO_CUDA_TRY(cudaMemsetAsync(at(dst, offset), value, bytes, stream->get()));
  dst.used_on(stream);
}

}  // namespace cudago
