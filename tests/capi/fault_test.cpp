// A kernel that faults (an out-of-bounds store) must surface through the C ABI as
// CUDAGO_ERROR_KERNEL_FAULT with a message, at the next synchronisation and at every later call
// on the poisoned context, never as a crash. The fault poisons the process's CUDA context, so
// the test runs in a child process (a death test; bundle/sanitize.sh leaves *DeathTest* out,
// since the sanitizers would report the deliberate fault).

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "capi_util.hpp"

namespace {

const char* const kWildStore = R"(
extern "C" __global__ void wild_store(unsigned long long address) {
  *reinterpret_cast<volatile float*>(address) = 1.0f;
}
)";

// Exit codes of the child: 0 when every check held, else the first that failed.
int fault_child() {
  cudago_module_t m = nullptr;
  if (cudago_module_compile(&m, 0, kWildStore, nullptr) != CUDAGO_SUCCESS) return 10;
  cudago_kernel_t k = nullptr;
  if (cudago_module_kernel(&k, m, "wild_store") != CUDAGO_SUCCESS) return 11;
  cudago_stream_t s = nullptr;
  if (cudago_stream_create(&s, 0, CUDAGO_STREAM_NON_BLOCKING, 0) != CUDAGO_SUCCESS) return 12;
  cudago_kernel_arg_t arg = {};
  arg.kind = CUDAGO_ARG_U64;
  arg.v.u = 16;  // the first page is never mapped
  const uint64_t one[3] = {1, 1, 1};
  if (cudago_kernel_launch(k, s, &arg, 1, one, one, 0) != CUDAGO_SUCCESS) return 13;
  if (cudago_stream_synchronize(s) != CUDAGO_ERROR_KERNEL_FAULT) return 2;
  const std::string first = last_error_text();
  if (first.find("cudaErrorIllegalAddress") == std::string::npos) return 3;
  // Later calls report the fault too, as errors.
  cudago_buffer_t b = nullptr;
  if (cudago_buffer_alloc(&b, 0, 64) != CUDAGO_ERROR_KERNEL_FAULT || b != nullptr) return 4;
  if (last_error_text().empty()) return 5;
  return 0;
}

TEST(KernelFaultDeathTest, OutOfBoundsStoreIsKernelFaultInTheCAbi) {
  NEED_GPU();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::exit(fault_child()), ::testing::ExitedWithCode(0), "");
}

}  // namespace
