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
  EXPECT_STREQ(cudago_version_string(), "0.2.0");
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

// The size-tag policy (docs/ABI.md): only a released size, or a larger one for an output struct;
// nothing is written past what the library knows, and a refused call writes nothing.
TEST(ErrorDetail, StructSizeMustBeAReleasedSize) {
  struct Newer {
    cudago_error_info_t info;
    unsigned char more[24];
  };
  for (uint32_t size = 0; size <= sizeof(Newer); ++size) {
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_device_count(nullptr));
    Newer e;
    std::memset(&e, 0x5A, sizeof e);
    e.info.struct_size = size;
    const cudago_status_t st = cudago_error_last(&e.info);
    const bool accepted = size >= sizeof(cudago_error_info_t);
    ASSERT_EQ(st, accepted ? CUDAGO_SUCCESS : CUDAGO_ERROR_INVALID_ARGUMENT) << "size " << size;
    EXPECT_EQ(e.info.struct_size, size);
    const auto* bytes = reinterpret_cast<const unsigned char*>(&e);
    const size_t written = accepted ? sizeof(cudago_error_info_t) : sizeof(uint32_t);
    for (size_t i = written; i < sizeof e; ++i) {
      ASSERT_EQ(bytes[i], 0x5A) << "size " << size << ": byte " << i << " was written";
    }
    if (accepted) {
      EXPECT_EQ(e.info.status, CUDAGO_ERROR_INVALID_ARGUMENT);
      EXPECT_STREQ(e.info.operation, "cudago_device_count");
    }
  }
  EXPECT_EQ(cudago_error_last(nullptr), CUDAGO_ERROR_INVALID_ARGUMENT);
}

// An input struct: only a released size. A torn size (20 cuts compile options' `std` pointer
// in two) and a newer one are refused with a message, before any field is read.
TEST(ErrorDetail, InputStructSizesAreCheckedBeforeUse) {
  for (uint32_t size = 0; size <= sizeof(cudago_compile_options_t) + 8; ++size) {
    cudago_compile_options_t o;
    std::memset(&o, 0xFF, sizeof o);  // every pointer bogus: reading one would crash
    o.struct_size = size;
    uint64_t len = 0;
    const cudago_status_t st = cudago_rtc_compile("", &o, nullptr, 0, &len);
    const std::string detail = last_error_text();
    if (size == sizeof o) {
      EXPECT_NE(detail.find("flags"), std::string::npos) << detail;  // got past the size
      continue;
    }
    EXPECT_EQ(st, size > sizeof o ? CUDAGO_ERROR_NOT_SUPPORTED : CUDAGO_ERROR_INVALID_ARGUMENT)
        << "size " << size;
    EXPECT_NE(detail.find("struct_size is " + std::to_string(size)), std::string::npos) << detail;
  }
  cudago_compile_options_t o;
  cudago_compile_options_init(&o);
  EXPECT_EQ(o.struct_size, sizeof o);
  EXPECT_EQ(o.arch, nullptr);
  cudago_gemm_params_t g;
  std::memset(&g, 0, sizeof g);
  cudago_gemm_params_init(&g);
  EXPECT_EQ(g.alpha, 1.0);  // the defaults, not zeros: a zeroed struct would compute beta * C
  EXPECT_EQ(g.batch, 1u);
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
  cudago_device_properties_init(&p);
  cudago_pool_stats_t st;
  cudago_pool_stats_init(&st);
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
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_copy_h2d(&u, nullptr, 0, 8));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_copy_d2h(nullptr, 0, &u, 8));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_copy_d2d(nullptr, 0, nullptr, 0, 8));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_memset(0, nullptr, 0, 8));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_copy_h2d_async(nullptr, nullptr, 0, nullptr, 0, 8));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, add_f32(nullptr, nullptr, nullptr, nullptr, 1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_buffer_from_mapped(reinterpret_cast<cudago_buffer_t*>(&p), nullptr));
  const cudago_dtype_t f32 = CUDAGO_DTYPE_F32;
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_elementwise_binary(nullptr, nullptr, 0, nullptr, 0, nullptr, 0, 1, f32,
                                      CUDAGO_BINARY_ADD));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_elementwise_axpy(nullptr, 1.0, nullptr, 0, nullptr, 0, 1, f32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_elementwise_scale(nullptr, 1.0, nullptr, 0, 1, f32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_elementwise_fill(nullptr, 1.0, nullptr, 0, 1, f32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_elementwise_cast(nullptr, nullptr, 0, nullptr, 0, 1, f32, CUDAGO_DTYPE_F16));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_reduce_all(nullptr, nullptr, 0, nullptr, 0, nullptr,
                                                           0, 1, f32, CUDAGO_REDUCE_SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_reduce_rows(nullptr, nullptr, 0, nullptr, 0, nullptr, 0, 1, 1, f32,
                               CUDAGO_REDUCE_SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_layout_transpose_2d(nullptr, nullptr, 0, nullptr, 0, 1, 1, f32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_layout_nhwc_to_nchw(nullptr, nullptr, 0, nullptr, 0, 1, 1, 1, 1, f32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_layout_nchw_to_nhwc(nullptr, nullptr, 0, nullptr, 0, 1, 1, 1, 1, f32));
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
