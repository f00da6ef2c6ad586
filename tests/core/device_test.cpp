// Devices and the device guard.
#include "cudago/device.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "cudago/error.hpp"
#include "gpu_skip.hpp"

#define NEED_GPU() CUDAGO_NEED_GPU(::cudago::device_count(), ::cudago::no_device_reason())

namespace cudago {
namespace {

Status status_of(void (*fn)(int), int arg) {
  try {
    fn(arg);
  } catch (const Error& e) {
    return e.status();
  }
  return Status::kSuccess;
}

TEST(Device, CountIsStableAndReasonExplainsZero) {
  int n = device_count();
  EXPECT_GE(n, 0);
  EXPECT_EQ(device_count(), n);
  if (n == 0) {
    EXPECT_FALSE(no_device_reason().empty());
  } else {
    EXPECT_TRUE(no_device_reason().empty());
  }
  EXPECT_GT(runtime_version(), 12000);
}

TEST(Device, RequireDeviceReportsNoDeviceOrInvalidOrdinal) {
  if (device_count() == 0) {
    EXPECT_EQ(status_of(require_device, 0), Status::kNoDevice);
    EXPECT_EQ(driver_version(), 0);
    try {
      device_properties(0);
      FAIL();
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::kNoDevice);
      EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos);
    }
    return;
  }
  EXPECT_EQ(status_of(require_device, 0), Status::kSuccess);
  EXPECT_EQ(status_of(require_device, -1), Status::kInvalidDevice);
  EXPECT_EQ(status_of(require_device, device_count()), Status::kInvalidDevice);
}

TEST(Device, PropertiesDescribeARealGpu) {
  NEED_GPU();
  DeviceProperties p = device_properties(0);
  EXPECT_EQ(p.ordinal, 0);
  EXPECT_FALSE(p.name.empty());
  EXPECT_TRUE(std::regex_match(
      p.pci_bus_id, std::regex("[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-9]")))
      << p.pci_bus_id;
  bool uuid_nonzero = false;
  for (uint8_t b : p.uuid) uuid_nonzero |= b != 0;
  EXPECT_TRUE(uuid_nonzero);
  EXPECT_GE(p.compute_major, 7);
  EXPECT_GT(p.multiprocessor_count, 0);
  EXPECT_GT(p.clock_khz, 100000);
  EXPECT_GT(p.memory_bus_width_bits, 0);
  EXPECT_GT(p.l2_cache_bytes, 0);
  EXPECT_EQ(p.warp_size, 32);
  EXPECT_GE(p.max_threads_per_block, 1024);
  EXPECT_GE(p.shared_memory_per_block_optin_bytes, p.shared_memory_per_block_bytes);
  EXPECT_GT(p.total_memory_bytes, uint64_t{1} << 30);
  EXPECT_GT(p.free_memory_bytes, 0u);
  EXPECT_LE(p.free_memory_bytes, p.total_memory_bytes);
  EXPECT_LE(p.stream_priority_greatest, p.stream_priority_least);
  EXPECT_TRUE(p.memory_pools_supported);
  EXPECT_GT(driver_version(), 0);
}

TEST(Device, GuardSetsAndRestoresTheCurrentDevice) {
  NEED_GPU();
  int before = -1;
  ASSERT_EQ(cudaGetDevice(&before), cudaSuccess);
  const int target = device_count() - 1;
  {
    DeviceGuard g(target);
    int now = -1;
    ASSERT_EQ(cudaGetDevice(&now), cudaSuccess);
    EXPECT_EQ(now, target);
  }
  int after = -1;
  ASSERT_EQ(cudaGetDevice(&after), cudaSuccess);
  EXPECT_EQ(after, before);
}

}  // namespace
}  // namespace cudago
