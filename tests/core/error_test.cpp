// Error mapping and the error-check macros (no GPU needed).
#include "cudago/error.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cudago {
namespace {

TEST(Error, MapsCudaErrorsToStableStatuses) {
  EXPECT_EQ(status_from_cuda(cudaSuccess), Status::kSuccess);
  EXPECT_EQ(status_from_cuda(cudaErrorMemoryAllocation), Status::kOutOfMemory);
  EXPECT_EQ(status_from_cuda(cudaErrorNoDevice), Status::kNoDevice);
  EXPECT_EQ(status_from_cuda(cudaErrorInsufficientDriver), Status::kNoDevice);
  EXPECT_EQ(status_from_cuda(cudaErrorInvalidDevice), Status::kInvalidDevice);
  EXPECT_EQ(status_from_cuda(cudaErrorInvalidValue), Status::kInvalidArgument);
  EXPECT_EQ(status_from_cuda(cudaErrorNotSupported), Status::kNotSupported);
  EXPECT_EQ(status_from_cuda(cudaErrorNoKernelImageForDevice), Status::kLaunchFailed);
  EXPECT_EQ(status_from_cuda(cudaErrorInvalidConfiguration), Status::kLaunchFailed);
  // Sticky errors that lose the context.
  EXPECT_EQ(status_from_cuda(cudaErrorIllegalAddress), Status::kKernelFault);
  EXPECT_EQ(status_from_cuda(cudaErrorLaunchFailure), Status::kKernelFault);
  EXPECT_EQ(status_from_cuda(cudaErrorAssert), Status::kKernelFault);
  EXPECT_EQ(status_from_cuda(cudaErrorMisalignedAddress), Status::kKernelFault);
  // Everything else keeps its native code under the generic status.
  EXPECT_EQ(status_from_cuda(cudaErrorPeerAccessAlreadyEnabled), Status::kCuda);
}

TEST(Error, CudaTryThrowsWithCallFileLineAndName) {
  try {
    CUDAGO_CUDA_TRY(cudaErrorMemoryAllocation);
    FAIL() << "CUDAGO_CUDA_TRY did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::kOutOfMemory);
    EXPECT_EQ(e.native_code(), static_cast<int32_t>(cudaErrorMemoryAllocation));
    EXPECT_EQ(e.native_name(), "cudaErrorMemoryAllocation");
    std::string what = e.what();
    EXPECT_NE(what.find("cudaErrorMemoryAllocation"), std::string::npos) << what;  // the call
    EXPECT_NE(what.find("error_test.cpp:"), std::string::npos) << what;            // file:line
    EXPECT_NE(what.find("out of memory"), std::string::npos) << what;              // reason
  }
}

TEST(Error, CudaTryPassesSuccess) { EXPECT_NO_THROW(CUDAGO_CUDA_TRY(cudaSuccess)); }

TEST(Error, KernelFaultMessageSaysTheContextIsLost) {
  try {
    CUDAGO_CUDA_TRY(cudaErrorIllegalAddress);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::kKernelFault);
    EXPECT_NE(std::string(e.what()).find("unusable"), std::string::npos);
  }
}

TEST(Error, ExpectsThrowsTheGivenStatus) {
  try {
    CUDAGO_EXPECTS(1 + 1 == 3, kOutOfRange, "arithmetic");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::kOutOfRange);
    EXPECT_STREQ(e.what(), "arithmetic");
    EXPECT_EQ(e.native_code(), 0);
  }
  EXPECT_NO_THROW(CUDAGO_EXPECTS(true, kOutOfRange, "never"));
}

}  // namespace
}  // namespace cudago
