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
    cudago_device_properties_init(&p);
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

// The size-tag policy (docs/ABI.md): the size of a released version of the struct (0.2.0 has
// one), or a larger one from a newer header, whose extra bytes are left alone. Any other size is
// refused before anything is written: a size that cuts the struct short (not a released layout)
// and 0. These structs are built by hand on purpose.
TEST(Devices, PropertiesStructSizeIsChecked) {
  NEED_GPU();
  struct Newer {
    cudago_device_properties_t p;
    unsigned char more[32];
  };
  Newer n;
  std::memset(&n, 0x77, sizeof n);
  n.p.struct_size = sizeof n;
  CG_OK(cudago_device_properties(0, &n.p));
  EXPECT_GT(std::strlen(n.p.name), 0u);
  EXPECT_EQ(n.p.struct_size, sizeof n);
  for (unsigned char b : n.more) ASSERT_EQ(b, 0x77);  // beyond the library's struct: untouched

  for (uint32_t size :
       {static_cast<uint32_t>(offsetof(cudago_device_properties_t, pci_bus_id)), uint32_t{0}}) {
    cudago_device_properties_t p;
    std::memset(&p, 0x77, sizeof p);
    p.struct_size = size;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_device_properties(0, &p));
    EXPECT_EQ(p.struct_size, size);
    EXPECT_EQ(static_cast<unsigned char>(p.name[0]), 0x77) << "size " << size;  // not written
  }
}

TEST(Devices, InvalidOrdinalsAreRejected) {
  NEED_GPU();
  int32_t n = 0;
  CG_OK(cudago_device_count(&n));
  cudago_device_properties_t p;
  cudago_device_properties_init(&p);
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
