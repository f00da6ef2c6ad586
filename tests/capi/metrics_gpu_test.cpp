// The GPU metrics' C ABI (experimental): cudago_metrics_set_gpu_interval's bounds and
// cudago_metrics_gpu_status's arguments and count-then-fill reason. The values of the series are
// tested on fake NVML libraries in tests/core/nvml_test.cpp (the loader is process-wide: here
// NVML is whatever this machine has, available or not).
#define CUDAGO_EXPERIMENTAL 1
#include <cstring>
#include <string>

#include "capi/capi_util.hpp"

namespace {

TEST(MetricsGpu, IntervalBounds) {
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_metrics_set_gpu_interval(1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_metrics_set_gpu_interval(9999999));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_metrics_set_gpu_interval(3600000000001ull));  // 1 h + 1 ns
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_metrics_set_gpu_interval(UINT64_MAX));
  CG_OK(cudago_metrics_set_gpu_interval(0));
  uint64_t len = 0;
  CG_OK(cudago_metrics_render(0, nullptr, 0, &len));
  std::string text(len + 1, '\0');
  CG_OK(cudago_metrics_render(0, &text[0], text.size(), &len));
  EXPECT_EQ(text.find("cudago_nvml_available"), std::string::npos);  // off: no NVML series
  CG_OK(cudago_metrics_set_gpu_interval(10000000));                  // 10 ms
  CG_OK(cudago_metrics_set_gpu_interval(3600000000000ull));          // 1 h
  CG_OK(cudago_metrics_set_gpu_interval(1000000000));                // the default again
}

TEST(MetricsGpu, StatusArguments) {
  char buf[8];
  uint64_t len = 0;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_metrics_gpu_status(nullptr, buf, 8, &len));
  int32_t available = -1;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_metrics_gpu_status(&available, nullptr, 8, &len));
  // Count, then fill; len may be NULL.
  CG_OK(cudago_metrics_gpu_status(&available, nullptr, 0, &len));
  ASSERT_TRUE(available == 0 || available == 1);
  CG_OK(cudago_metrics_gpu_status(&available, nullptr, 0, nullptr));
  std::string reason(len + 1, 'x');
  uint64_t len2 = 0;
  CG_OK(cudago_metrics_gpu_status(&available, &reason[0], reason.size(), &len2));
  EXPECT_EQ(len2, len);
  EXPECT_EQ(std::strlen(reason.c_str()), len);
  if (available == 1) {
    EXPECT_EQ(len, 0u);
  } else {
    EXPECT_GT(len, 0u);
    EXPECT_NE(reason.find("NVML"), std::string::npos) << reason;
    // Truncated to cap - 1 bytes and NUL-terminated.
    std::memset(buf, 'x', sizeof buf);
    CG_OK(cudago_metrics_gpu_status(&available, buf, 4, &len2));
    EXPECT_EQ(len2, len);
    EXPECT_EQ(std::string(buf), reason.substr(0, 3));
  }
}

}  // namespace
