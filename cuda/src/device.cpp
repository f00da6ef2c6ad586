#include "cudago/device.hpp"

#include <cuda_runtime_api.h>

#include <cstring>
#include <string>

#include "cudago/error.hpp"

namespace cudago {
namespace {

struct DeviceCensus {
  int count = 0;
  std::string reason;
  cudaError_t error = cudaSuccess;  // why count is 0, when CUDA said so
};

const DeviceCensus& census() noexcept {
  static const DeviceCensus c = [] {
    DeviceCensus d;
    cudaError_t err = cudaGetDeviceCount(&d.count);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      d.count = 0;
      d.error = err;
      d.reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    } else if (d.count == 0) {
      d.reason = "the CUDA driver reports no devices";
    }
    return d;
  }();
  return c;
}

}  // namespace

int device_count() noexcept { return census().count; }

const std::string& no_device_reason() noexcept { return census().reason; }

void require_device(int device) {
  const DeviceCensus& c = census();
  if (c.count == 0) {
    const bool native = c.error != cudaSuccess;
    throw Error(Status::kNoDevice, "no CUDA device: " + c.reason,
                native ? static_cast<int32_t>(c.error) : 0,
                native ? cudaGetErrorName(c.error) : "");
  }
  if (device < 0 || device >= c.count) {
    throw Error(Status::kInvalidDevice, "invalid device ordinal " + std::to_string(device) +
                                            " (this process sees " + std::to_string(c.count) +
                                            " device(s))");
  }
}

int driver_version() noexcept {
  int v = 0;
  if (cudaDriverGetVersion(&v) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return v;
}

int runtime_version() noexcept {
  int v = 0;
  if (cudaRuntimeGetVersion(&v) != cudaSuccess) {
    (void)cudaGetLastError();
    return CUDART_VERSION;
  }
  return v;
}

DeviceGuard::DeviceGuard(int device) {
  CUDAGO_CUDA_TRY(cudaGetDevice(&previous_));
  if (previous_ != device) {
    CUDAGO_CUDA_TRY(cudaSetDevice(device));
    changed_ = true;
  }
}

DeviceGuard::~DeviceGuard() {
  if (changed_ && cudaSetDevice(previous_) != cudaSuccess) (void)cudaGetLastError();
}

DeviceProperties device_properties(int device) {
  require_device(device);
  DeviceGuard guard(device);
  cudaDeviceProp p{};
  CUDAGO_CUDA_TRY(cudaGetDeviceProperties(&p, device));
  auto attr = [device](cudaDeviceAttr a) {
    int v = 0;
    CUDAGO_CUDA_TRY(cudaDeviceGetAttribute(&v, a, device));
    return v;
  };
  DeviceProperties d;
  d.ordinal = device;
  d.name = p.name;
  std::memcpy(d.uuid.data(), p.uuid.bytes, d.uuid.size());
  char bus[32] = {0};
  CUDAGO_CUDA_TRY(cudaDeviceGetPCIBusId(bus, sizeof bus, device));
  d.pci_bus_id = bus;
  d.pci_domain = p.pciDomainID;
  d.pci_bus = p.pciBusID;
  d.pci_device = p.pciDeviceID;
  d.compute_major = p.major;
  d.compute_minor = p.minor;
  d.multiprocessor_count = p.multiProcessorCount;
  d.clock_khz = attr(cudaDevAttrClockRate);
  d.memory_clock_khz = attr(cudaDevAttrMemoryClockRate);
  d.memory_bus_width_bits = p.memoryBusWidth;
  d.l2_cache_bytes = p.l2CacheSize;
  d.max_threads_per_block = p.maxThreadsPerBlock;
  d.max_threads_per_multiprocessor = p.maxThreadsPerMultiProcessor;
  d.max_blocks_per_multiprocessor = p.maxBlocksPerMultiProcessor;
  d.registers_per_multiprocessor = p.regsPerMultiprocessor;
  d.warp_size = p.warpSize;
  d.async_engine_count = p.asyncEngineCount;
  d.ecc_enabled = p.ECCEnabled != 0;
  d.integrated = p.integrated != 0;
  d.can_map_host_memory = p.canMapHostMemory != 0;
  d.memory_pools_supported = attr(cudaDevAttrMemoryPoolsSupported) != 0;
  CUDAGO_CUDA_TRY(
      cudaDeviceGetStreamPriorityRange(&d.stream_priority_least, &d.stream_priority_greatest));
  size_t free_b = 0, total_b = 0;
  CUDAGO_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
  d.total_memory_bytes = total_b;
  d.free_memory_bytes = free_b;
  d.shared_memory_per_block_bytes = p.sharedMemPerBlock;
  d.shared_memory_per_block_optin_bytes = p.sharedMemPerBlockOptin;
  d.shared_memory_per_multiprocessor_bytes = p.sharedMemPerMultiprocessor;
  return d;
}

MemoryInfo device_memory_info(int device) {
  require_device(device);
  DeviceGuard guard(device);
  size_t free_b = 0, total_b = 0;
  CUDAGO_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
  return MemoryInfo{free_b, total_b};
}

}  // namespace cudago
