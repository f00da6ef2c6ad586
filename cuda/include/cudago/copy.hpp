// Copies and memset between host memory, host buffers and device buffers. Offsets and lengths
// are bytes, checked against the buffers (Error(kOutOfRange)); zero lengths do nothing.
//
// Synchronous forms run on the device buffer's owning stream after all work queued with the
// buffers on any stream, and return when done. Asynchronous forms are queued on `stream`.
//
// Device-to-device copies may cross devices (peer copies, cudaMemcpyPeerAsync): direct over
// NVLink/PCIe where peer access is enabled (enable_peer_access), staged through host memory by
// the driver otherwise. The synchronous form runs on dst's owning stream; the asynchronous one
// takes a stream of either buffer's device and is ordered after all work queued with both
// buffers on any stream (a same-device asynchronous copy is ordered on its stream only).
#pragma once

#include <cstdint>

#include "cudago/memory.hpp"

namespace cudago {

void copy_to_device(DeviceBuffer& dst, uint64_t dst_offset, const void* src, uint64_t bytes);
void copy_to_host(void* dst, DeviceBuffer& src, uint64_t src_offset, uint64_t bytes);
void copy_device(DeviceBuffer& dst, uint64_t dst_offset, DeviceBuffer& src, uint64_t src_offset,
                 uint64_t bytes);
void fill(DeviceBuffer& dst, uint64_t offset, uint8_t value, uint64_t bytes);

void copy_to_device_async(const StreamPtr& stream, DeviceBuffer& dst, uint64_t dst_offset,
                          HostBuffer& src, uint64_t src_offset, uint64_t bytes);
void copy_to_host_async(const StreamPtr& stream, HostBuffer& dst, uint64_t dst_offset,
                        DeviceBuffer& src, uint64_t src_offset, uint64_t bytes);
void copy_device_async(const StreamPtr& stream, DeviceBuffer& dst, uint64_t dst_offset,
                       DeviceBuffer& src, uint64_t src_offset, uint64_t bytes);
void fill_async(const StreamPtr& stream, DeviceBuffer& dst, uint64_t offset, uint8_t value,
                uint64_t bytes);

// Throws Error(kOutOfRange) unless [offset, offset + bytes) lies within `size` (overflow-safe).
void check_range(uint64_t size, uint64_t offset, uint64_t bytes, const char* what);

}  // namespace cudago
