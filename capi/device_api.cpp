// Devices: count, properties, memory.
#include <cstring>

#include "cudago.h"
#include "cudago/device.hpp"
#include "guard.hpp"

using cudago::capi::guard;
using cudago::capi::out_param;

namespace {

void copy_string(char* dst, size_t cap, const std::string& src) {
  size_t n = src.size() < cap - 1 ? src.size() : cap - 1;
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

void translate(const cudago::DeviceProperties& p, cudago_device_properties_t* out) {
  cudago_device_properties_t c;
  std::memset(&c, 0, sizeof c);
  c.ordinal = p.ordinal;
  copy_string(c.name, sizeof c.name, p.name);
  std::memcpy(c.uuid, p.uuid.data(), sizeof c.uuid);
  copy_string(c.pci_bus_id, sizeof c.pci_bus_id, p.pci_bus_id);
  c.pci_domain = p.pci_domain;
  c.pci_bus = p.pci_bus;
  c.pci_device = p.pci_device;
  c.compute_major = p.compute_major;
  c.compute_minor = p.compute_minor;
  c.multiprocessor_count = p.multiprocessor_count;
  c.clock_khz = p.clock_khz;
  c.memory_clock_khz = p.memory_clock_khz;
  c.memory_bus_width_bits = p.memory_bus_width_bits;
  c.l2_cache_bytes = p.l2_cache_bytes;
  c.max_threads_per_block = p.max_threads_per_block;
  c.max_threads_per_multiprocessor = p.max_threads_per_multiprocessor;
  c.max_blocks_per_multiprocessor = p.max_blocks_per_multiprocessor;
  c.registers_per_multiprocessor = p.registers_per_multiprocessor;
  c.warp_size = p.warp_size;
  c.async_engine_count = p.async_engine_count;
  c.ecc_enabled = p.ecc_enabled;
  c.integrated = p.integrated;
  c.can_map_host_memory = p.can_map_host_memory;
  c.memory_pools_supported = p.memory_pools_supported;
  c.stream_priority_least = p.stream_priority_least;
  c.stream_priority_greatest = p.stream_priority_greatest;
  c.total_memory_bytes = p.total_memory_bytes;
  c.free_memory_bytes = p.free_memory_bytes;
  c.shared_memory_per_block_bytes = p.shared_memory_per_block_bytes;
  c.shared_memory_per_block_optin_bytes = p.shared_memory_per_block_optin_bytes;
  c.shared_memory_per_multiprocessor_bytes = p.shared_memory_per_multiprocessor_bytes;
  cudago::capi::write_sized(out, "out", c);
}

}  // namespace

extern "C" {

cudago_status_t cudago_device_count(int32_t* out) {
  return guard("cudago_device_count", [&] { *out_param(out, "out") = cudago::device_count(); });
}

const char* cudago_no_device_reason(void) { return cudago::no_device_reason().c_str(); }

cudago_status_t cudago_device_properties(int32_t device, cudago_device_properties_t* out) {
  return guard("cudago_device_properties", [&] {
    cudago::capi::sized_out(out, "out");
    translate(cudago::device_properties(device), out);
  });
}

cudago_status_t cudago_device_memory_info(int32_t device, uint64_t* free_bytes,
                                          uint64_t* total_bytes) {
  return guard("cudago_device_memory_info", [&] {
    out_param(free_bytes, "free_bytes");
    out_param(total_bytes, "total_bytes");
    cudago::MemoryInfo m = cudago::device_memory_info(device);
    *free_bytes = m.free_bytes;
    *total_bytes = m.total_bytes;
  });
}

}  // extern "C"
