// Status strings, versions, error detail and the no-device behaviour (runs without a GPU).
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <thread>

#include "capi_util.hpp"

namespace {

TEST(Status, EveryStatusHasADistinctStaticString) {
  std::set<std::string> seen;
  for (int s = CUDAGO_SUCCESS; s <= CUDAGO_ERROR_CAPTURE; ++s) {
    const char* str = cudago_status_string(static_cast<cudago_status_t>(s));
    ASSERT_NE(str, nullptr);
    EXPECT_TRUE(seen.insert(str).second) << str;
    EXPECT_EQ(std::string(str).rfind("CUDAGO_", 0), 0u) << str;
  }
  EXPECT_NE(cudago_status_string(static_cast<cudago_status_t>(9999)), nullptr);
  EXPECT_NE(std::string(cudago_status_string(static_cast<cudago_status_t>(-3))).find("UNKNOWN"),
            std::string::npos);
}

TEST(Status, ValuesNeverChange) {
  EXPECT_EQ(CUDAGO_SUCCESS, 0);
  EXPECT_EQ(CUDAGO_ERROR_INVALID_ARGUMENT, 1);
  EXPECT_EQ(CUDAGO_ERROR_INVALID_HANDLE, 2);
  EXPECT_EQ(CUDAGO_ERROR_OUT_OF_RANGE, 3);
  EXPECT_EQ(CUDAGO_ERROR_NO_DEVICE, 4);
  EXPECT_EQ(CUDAGO_ERROR_INVALID_DEVICE, 5);
  EXPECT_EQ(CUDAGO_ERROR_DEVICE_MISMATCH, 6);
  EXPECT_EQ(CUDAGO_ERROR_OUT_OF_MEMORY, 7);
  EXPECT_EQ(CUDAGO_ERROR_NOT_SUPPORTED, 8);
  EXPECT_EQ(CUDAGO_ERROR_LAUNCH_FAILED, 9);
  EXPECT_EQ(CUDAGO_ERROR_KERNEL_FAULT, 10);
  EXPECT_EQ(CUDAGO_ERROR_CUDA, 11);
  EXPECT_EQ(CUDAGO_ERROR_CUBLAS, 12);
  EXPECT_EQ(CUDAGO_ERROR_CUFFT, 13);
  EXPECT_EQ(CUDAGO_ERROR_NVRTC, 14);
  EXPECT_EQ(CUDAGO_ERROR_INTERNAL, 15);
  EXPECT_EQ(CUDAGO_ERROR_NCCL, 16);
  EXPECT_EQ(CUDAGO_ERROR_CAPTURE, 17);
}

TEST(Version, RunTimeMatchesHeader) {
  EXPECT_EQ(cudago_version_number(), static_cast<uint32_t>(CUDAGO_VERSION_NUMBER));
  EXPECT_STREQ(cudago_version_string(), "0.1.0");
  int32_t rt = 0, drv = -1;
  CG_OK(cudago_runtime_version(&rt));
  EXPECT_GE(rt, 12040);
  CG_OK(cudago_driver_version(&drv));
  EXPECT_GE(drv, 0);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_runtime_version(nullptr));
}

TEST(ErrorDetail, FailureIsDescribedAndSuccessClearsIt) {
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_device_count(nullptr));
  cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
  ASSERT_EQ(cudago_error_last(&e), CUDAGO_SUCCESS);
  EXPECT_EQ(e.status, CUDAGO_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(e.operation, "cudago_device_count");
  EXPECT_NE(std::strstr(e.message, "out"), nullptr) << e.message;
  EXPECT_EQ(e.struct_size, sizeof e);

  int32_t n = -1;
  CG_OK(cudago_device_count(&n));
  cudago_error_info_t ok = CUDAGO_ERROR_INFO_INIT;
  ASSERT_EQ(cudago_error_last(&ok), CUDAGO_SUCCESS);
  EXPECT_EQ(ok.status, CUDAGO_SUCCESS);
  EXPECT_STREQ(ok.message, "");
}

TEST(ErrorDetail, IsPerThread) {
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_device_count(nullptr));
  std::thread t([] {
    cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
    ASSERT_EQ(cudago_error_last(&e), CUDAGO_SUCCESS);
    EXPECT_EQ(e.status, CUDAGO_SUCCESS);  // another thread's failure is not visible here
  });
  t.join();
  cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
  ASSERT_EQ(cudago_error_last(&e), CUDAGO_SUCCESS);
  EXPECT_EQ(e.status, CUDAGO_ERROR_INVALID_ARGUMENT);
}

TEST(ErrorDetail, RespectsAnOlderSmallerStruct) {
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_device_count(nullptr));
  cudago_error_info_t e;
  std::memset(&e, 0x5A, sizeof e);
  e.struct_size = offsetof(cudago_error_info_t, native_name);  // only status and native_code
  ASSERT_EQ(cudago_error_last(&e), CUDAGO_SUCCESS);
  EXPECT_EQ(e.status, CUDAGO_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(static_cast<unsigned char>(e.native_name[0]), 0x5A);  // not written
  EXPECT_EQ(cudago_error_last(nullptr), CUDAGO_ERROR_INVALID_ARGUMENT);
  cudago_error_info_t zero;
  std::memset(&zero, 0, sizeof zero);
  EXPECT_EQ(cudago_error_last(&zero), CUDAGO_ERROR_INVALID_ARGUMENT);
}

TEST(NoDevice, EveryGpuCallSaysSoClearly) {
  int32_t n = -1;
  CG_OK(cudago_device_count(&n));
  if (n != 0) GTEST_SKIP() << "checks the no-device path";
  EXPECT_GT(std::strlen(cudago_no_device_reason()), 0u);
  cudago_stream_t s = nullptr;
  cudago_event_t ev = nullptr;
  cudago_buffer_t b = nullptr;
  cudago_host_buffer_t h = nullptr;
  cudago_device_properties_t p;
  std::memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  cudago_pool_stats_t st = {sizeof st, 0, 0, 0, 0, 0};
  uint64_t fr = 0, tot = 0;
  CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_stream_create(&s, 0, 0, 0));
  CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_event_create(&ev, 0, 0));
  CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_buffer_alloc(&b, 0, 16));
  CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_host_buffer_alloc(&h, 0, 16, CUDAGO_HOST_PINNED));
  CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_device_properties(0, &p));
  CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_device_memory_info(0, &fr, &tot));
  CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_pool_stats(0, &st));
  cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
  ASSERT_EQ(cudago_error_last(&e), CUDAGO_SUCCESS);
  EXPECT_STREQ(e.operation, "cudago_pool_stats");
  EXPECT_NE(std::strstr(e.message, "no CUDA device"), nullptr) << e.message;
  // The CUDA reason travels as the native error too (cudaErrorInsufficientDriver without a
  // driver, cudaErrorNoDevice without a GPU).
  EXPECT_NE(e.native_code, 0);
  EXPECT_EQ(std::string(e.native_name).rfind("cudaError", 0), 0u) << e.native_name;
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(b, nullptr);
}

TEST(NullHandles, AreRejectedAndDestroyNullIsANoOp) {
  CG_OK(cudago_stream_destroy(nullptr));
  CG_OK(cudago_event_destroy(nullptr));
  CG_OK(cudago_buffer_free(nullptr));
  CG_OK(cudago_host_buffer_free(nullptr));
  int32_t i = 0;
  uint64_t u = 0;
  void* p = nullptr;
  float ms = 0;
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_stream_synchronize(nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_stream_query(nullptr, &i));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_stream_wait_event(nullptr, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_stream_native(nullptr, &p));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_event_record(nullptr, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_event_synchronize(nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_event_elapsed_ms(nullptr, nullptr, &ms));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_buffer_size(nullptr, &u));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_host_buffer_host_pointer(nullptr, &p));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_copy_h2d(nullptr, 0, &u, 8));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_copy_d2h(&u, nullptr, 0, 8));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_copy_d2d(nullptr, 0, nullptr, 0, 8));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_memset(nullptr, 0, 0, 8));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_copy_h2d_async(nullptr, nullptr, 0, nullptr, 0, 8));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_vector_add_f32(nullptr, nullptr, nullptr, nullptr, 1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_buffer_from_mapped(reinterpret_cast<cudago_buffer_t*>(&p), nullptr));
  // NULL out parameters.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_stream_create(nullptr, 0, 0, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_buffer_alloc(nullptr, 0, 8));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_host_buffer_alloc(nullptr, 0, 8, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_event_create(nullptr, 0, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_device_properties(0, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_pool_configure(0, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_pool_stats(0, nullptr));
}

}  // namespace
