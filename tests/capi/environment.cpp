// A test environment for capi_test: at exit it releases the library's caches (cuBLAS handles
// with their workspaces, FFT plans), as a program that checks device memory for leaks would, so
// that compute-sanitizer --leak-check full reports only memory the library really lost.

#include <gtest/gtest.h>

#include "cudago.h"

namespace {

class ReleaseCaches : public ::testing::Environment {
 public:
  void TearDown() override {
    EXPECT_EQ(cudago_blas_cache_clear(), CUDAGO_SUCCESS);
    EXPECT_EQ(cudago_fft_cache_clear(), CUDAGO_SUCCESS);
  }
};

// gtest_main runs the registered environments; registering from a static initialiser is the
// documented way to add one without a main of our own.
::testing::Environment* const kReleaseCaches =
    ::testing::AddGlobalTestEnvironment(new ReleaseCaches);

}  // namespace
