// Devices: enumeration, properties, and the RAII guard that makes a handle's device current.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace cudago {

// Number of usable devices; 0 where there is no GPU or no driver (never throws). Counted once
// per process, as CUDA does.
int device_count() noexcept;

// Why device_count() is 0 ("" when there are devices).
const std::string& no_device_reason() noexcept;

// Throws Error(kNoDevice) when there is no device and Error(kInvalidDevice) when `device` is
// not a valid ordinal.
void require_device(int device);

int driver_version() noexcept;  // 0 without a driver
int runtime_version() noexcept;

struct DeviceProperties {
  int ordinal = 0;
  std::string name;
  std::array<uint8_t, 16> uuid{};
  std::string pci_bus_id;
  int pci_domain = 0, pci_bus = 0, pci_device = 0;
  int compute_major = 0, compute_minor = 0;
  int multiprocessor_count = 0;
  int clock_khz = 0, memory_clock_khz = 0;
  int memory_bus_width_bits = 0;
  int l2_cache_bytes = 0;
  int max_threads_per_block = 0;
  int max_threads_per_multiprocessor = 0;
  int max_blocks_per_multiprocessor = 0;
  int registers_per_multiprocessor = 0;
  int warp_size = 0;
  int async_engine_count = 0;
  bool ecc_enabled = false, integrated = false, can_map_host_memory = false;
  bool memory_pools_supported = false;
  int stream_priority_least = 0, stream_priority_greatest = 0;
  uint64_t total_memory_bytes = 0, free_memory_bytes = 0;
  uint64_t shared_memory_per_block_bytes = 0;
  uint64_t shared_memory_per_block_optin_bytes = 0;
  uint64_t shared_memory_per_multiprocessor_bytes = 0;
};

DeviceProperties device_properties(int device);

struct MemoryInfo {
  uint64_t free_bytes = 0, total_bytes = 0;
};
MemoryInfo device_memory_info(int device);

// Makes `device` current on the calling thread for the guard's life and restores the previous
// current device after (the current device is per OS thread; goroutines move between threads).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
  bool changed_ = false;
};

}  // namespace cudago
