// Memory pools, device buffers, host buffers, copies and memset.
#include <cstring>
#include <string>

#include "cudago.h"
#include "cudago/copy.hpp"
#include "cudago/memory.hpp"
#include "guard.hpp"

using cudago::capi::guard;
using cudago::capi::handle;
using cudago::capi::out_param;
using cudago::capi::publish;
using cudago::capi::read_sized;

extern "C" {

cudago_status_t cudago_pool_configure(int32_t device, const cudago_pool_config_t* config) {
  return guard("cudago_pool_configure", [&] {
    cudago_pool_config_t c = read_sized(config, "config");
    CUDAGO_EXPECTS(c.reserved0 == 0, kInvalidArgument, "config->reserved0 must be 0");
    cudago::pool_configure(device, {c.release_threshold_bytes, c.reserve_bytes});
  });
}

cudago_status_t cudago_pool_stats(int32_t device, cudago_pool_stats_t* out) {
  return guard("cudago_pool_stats", [&] {
    cudago::capi::sized_out(out, "out");
    cudago::PoolStats s = cudago::pool_stats(device);
    cudago_pool_stats_t c{};
    c.reserved_bytes = s.reserved_bytes;
    c.used_bytes = s.used_bytes;
    c.reserved_high_bytes = s.reserved_high_bytes;
    c.used_high_bytes = s.used_high_bytes;
    cudago::capi::write_sized(out, "out", c);
  });
}

cudago_status_t cudago_pool_trim(int32_t device, uint64_t keep_bytes) {
  return guard("cudago_pool_trim", [&] { cudago::pool_trim(device, keep_bytes); });
}

cudago_status_t cudago_pool_reset_high_water(int32_t device) {
  return guard("cudago_pool_reset_high_water", [&] { cudago::pool_reset_high_water(device); });
}

// ---- device buffers ----

cudago_status_t cudago_buffer_alloc(cudago_buffer_t* out, int32_t device, uint64_t bytes) {
  return guard("cudago_buffer_alloc", [&] {
    out_param(out, "out");
    publish(out, cudago::DeviceBuffer::allocate(device, bytes));
  });
}

cudago_status_t cudago_buffer_alloc_async(cudago_buffer_t* out, cudago_stream_t stream,
                                          uint64_t bytes) {
  return guard("cudago_buffer_alloc_async", [&] {
    out_param(out, "out");
    publish(out, cudago::DeviceBuffer::allocate_async(handle(stream, "stream").impl, bytes));
  });
}

cudago_status_t cudago_buffer_free(cudago_buffer_t buffer) {
  return guard("cudago_buffer_free", [&] {
    if (buffer == nullptr) return;
    std::unique_ptr<cudago_buffer_s> owned(buffer);
    if (owned->impl) owned->impl->release();
  });
}

cudago_status_t cudago_buffer_size(cudago_buffer_t buffer, uint64_t* bytes) {
  return guard("cudago_buffer_size",
               [&] { *out_param(bytes, "bytes") = handle(buffer, "buffer").impl->size(); });
}

cudago_status_t cudago_buffer_device(cudago_buffer_t buffer, int32_t* device) {
  return guard("cudago_buffer_device",
               [&] { *out_param(device, "device") = handle(buffer, "buffer").impl->device(); });
}

cudago_status_t cudago_buffer_device_pointer(cudago_buffer_t buffer, void** out) {
  return guard("cudago_buffer_device_pointer",
               [&] { *out_param(out, "out") = handle(buffer, "buffer").impl->data(); });
}

cudago_status_t cudago_buffer_from_mapped(cudago_buffer_t* out, cudago_host_buffer_t mapped) {
  return guard("cudago_buffer_from_mapped", [&] {
    out_param(out, "out");
    publish(out, cudago::DeviceBuffer::view_of(handle(mapped, "mapped").impl));
  });
}

// ---- host buffers ----

cudago_status_t cudago_host_buffer_alloc(cudago_host_buffer_t* out, int32_t device, uint64_t bytes,
                                         uint32_t flags) {
  return guard("cudago_host_buffer_alloc", [&] {
    out_param(out, "out");
    publish(out, cudago::HostBuffer::allocate(device, bytes, flags));
  });
}

cudago_status_t cudago_host_buffer_free(cudago_host_buffer_t buffer) {
  return guard("cudago_host_buffer_free", [&] { delete buffer; });
}

cudago_status_t cudago_host_buffer_size(cudago_host_buffer_t buffer, uint64_t* bytes) {
  return guard("cudago_host_buffer_size",
               [&] { *out_param(bytes, "bytes") = handle(buffer, "buffer").impl->size(); });
}

cudago_status_t cudago_host_buffer_device(cudago_host_buffer_t buffer, int32_t* device) {
  return guard("cudago_host_buffer_device",
               [&] { *out_param(device, "device") = handle(buffer, "buffer").impl->device(); });
}

cudago_status_t cudago_host_buffer_host_pointer(cudago_host_buffer_t buffer, void** out) {
  return guard("cudago_host_buffer_host_pointer",
               [&] { *out_param(out, "out") = handle(buffer, "buffer").impl->host(); });
}

cudago_status_t cudago_host_buffer_device_pointer(cudago_host_buffer_t buffer, void** out) {
  return guard("cudago_host_buffer_device_pointer",
               [&] { *out_param(out, "out") = handle(buffer, "buffer").impl->device_pointer(); });
}

// ---- copies ----

cudago_status_t cudago_copy_h2d(const void* src, cudago_buffer_t dst, uint64_t dst_offset,
                                uint64_t bytes) {
  return guard("cudago_copy_h2d",
               [&] { cudago::copy_to_device(*handle(dst, "dst").impl, dst_offset, src, bytes); });
}

cudago_status_t cudago_copy_d2h(cudago_buffer_t src, uint64_t src_offset, void* dst,
                                uint64_t bytes) {
  return guard("cudago_copy_d2h",
               [&] { cudago::copy_to_host(dst, *handle(src, "src").impl, src_offset, bytes); });
}

cudago_status_t cudago_copy_d2d(cudago_buffer_t src, uint64_t src_offset, cudago_buffer_t dst,
                                uint64_t dst_offset, uint64_t bytes) {
  return guard("cudago_copy_d2d", [&] {
    cudago::copy_device(*handle(dst, "dst").impl, dst_offset, *handle(src, "src").impl, src_offset,
                        bytes);
  });
}

cudago_status_t cudago_memset(uint8_t value, cudago_buffer_t dst, uint64_t dst_offset,
                              uint64_t bytes) {
  return guard("cudago_memset",
               [&] { cudago::fill(*handle(dst, "dst").impl, dst_offset, value, bytes); });
}

cudago_status_t cudago_copy_h2d_async(cudago_stream_t stream, cudago_host_buffer_t src,
                                      uint64_t src_offset, cudago_buffer_t dst, uint64_t dst_offset,
                                      uint64_t bytes) {
  return guard("cudago_copy_h2d_async", [&] {
    cudago::copy_to_device_async(handle(stream, "stream").impl, *handle(dst, "dst").impl,
                                 dst_offset, *handle(src, "src").impl, src_offset, bytes);
  });
}

cudago_status_t cudago_copy_d2h_async(cudago_stream_t stream, cudago_buffer_t src,
                                      uint64_t src_offset, cudago_host_buffer_t dst,
                                      uint64_t dst_offset, uint64_t bytes) {
  return guard("cudago_copy_d2h_async", [&] {
    cudago::copy_to_host_async(handle(stream, "stream").impl, *handle(dst, "dst").impl, dst_offset,
                               *handle(src, "src").impl, src_offset, bytes);
  });
}

cudago_status_t cudago_copy_d2d_async(cudago_stream_t stream, cudago_buffer_t src,
                                      uint64_t src_offset, cudago_buffer_t dst, uint64_t dst_offset,
                                      uint64_t bytes) {
  return guard("cudago_copy_d2d_async", [&] {
    cudago::copy_device_async(handle(stream, "stream").impl, *handle(dst, "dst").impl, dst_offset,
                              *handle(src, "src").impl, src_offset, bytes);
  });
}

cudago_status_t cudago_memset_async(cudago_stream_t stream, uint8_t value, cudago_buffer_t dst,
                                    uint64_t dst_offset, uint64_t bytes) {
  return guard("cudago_memset_async", [&] {
    cudago::fill_async(handle(stream, "stream").impl, *handle(dst, "dst").impl, dst_offset, value,
                       bytes);
  });
}

}  // extern "C"
