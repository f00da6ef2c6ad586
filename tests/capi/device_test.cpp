// Devices through the C ABI.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "capi_util.hpp"

namespace {

TEST(Devices, PropertiesAreFilledAndSizeTagged) {
  NEED_GPU();
  int32_t n = 0;
  CG_OK(cudago_device_count(&n));
  for (int32_t d = 0; d < n; ++d) {
    cudago_device_properties_t p;
    std::memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    CG_OK(cudago_device_properties(d, &p));
    EXPECT_EQ(p.struct_size, sizeof p);
    EXPECT_EQ(p.ordinal, d);
    EXPECT_GT(std::strlen(p.name), 0u);
    EXPECT_GT(std::strlen(p.pci_bus_id), 7u);
    EXPECT_GE(p.compute_major, 7);
    EXPECT_GT(p.multiprocessor_count, 0);
    EXPECT_GT(p.total_memory_bytes, p.free_memory_bytes);
    EXPECT_GT(p.free_memory_bytes, 0u);
    EXPECT_EQ(p.warp_size, 32);
    EXPECT_EQ(p.memory_pools_supported, 1);
    EXPECT_EQ(p.can_map_host_memory, 1);
    uint64_t fr = 0, tot = 0;
    CG_OK(cudago_device_memory_info(d, &fr, &tot));
    EXPECT_EQ(tot, p.total_memory_bytes);
    EXPECT_LE(fr, tot);
  }
}

TEST(Devices, OlderSmallerPropertiesStructIsNotOverrun) {
  NEED_GPU();
  cudago_device_properties_t p;
  std::memset(&p, 0x77, sizeof p);
  p.struct_size = offsetof(cudago_device_properties_t, pci_bus_id);  // an "older" layout
  CG_OK(cudago_device_properties(0, &p));
  EXPECT_GT(std::strlen(p.name), 0u);
  EXPECT_EQ(static_cast<unsigned char>(p.pci_bus_id[0]), 0x77);  // beyond its size: untouched
  EXPECT_EQ(p.struct_size, offsetof(cudago_device_properties_t, pci_bus_id));
  p.struct_size = 0;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_device_properties(0, &p));
}

TEST(Devices, InvalidOrdinalsAreRejected) {
  NEED_GPU();
  int32_t n = 0;
  CG_OK(cudago_device_count(&n));
  cudago_device_properties_t p;
  std::memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  CG_EXPECT(CUDAGO_ERROR_INVALID_DEVICE, cudago_device_properties(n, &p));
  CG_EXPECT(CUDAGO_ERROR_INVALID_DEVICE, cudago_device_properties(-1, &p));
  cudago_stream_t s = nullptr;
  CG_EXPECT(CUDAGO_ERROR_INVALID_DEVICE, cudago_stream_create(&s, n, 0, 0));
  cudago_buffer_t b = nullptr;
  CG_EXPECT(CUDAGO_ERROR_INVALID_DEVICE, cudago_buffer_alloc(&b, 1 << 30, 8));
  cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
  ASSERT_EQ(cudago_error_last(&e), CUDAGO_SUCCESS);
  EXPECT_NE(std::string(e.message).find("invalid device ordinal"), std::string::npos);
}

}  // namespace
