// GPU tests skip with the reason where there is no GPU, and fail instead when
// CUDAGO_REQUIRE_GPU=1 (the GPU bundle sets it).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace cudago_test {
inline bool gpu_required() {
  const char* v = std::getenv("CUDAGO_REQUIRE_GPU");
  return v != nullptr && std::strcmp(v, "1") == 0;
}
}  // namespace cudago_test

// `count` and `reason` are expressions giving the device count and why it is 0.
#define CUDAGO_NEED_GPU(count, reason)                                              \
  do {                                                                              \
    if ((count) == 0) {                                                             \
      if (::cudago_test::gpu_required()) {                                          \
        FAIL() << "CUDAGO_REQUIRE_GPU=1 but there is no CUDA device: " << (reason); \
      } else {                                                                      \
        GTEST_SKIP() << "no CUDA device: " << (reason);                             \
      }                                                                             \
    }                                                                               \
  } while (0)
