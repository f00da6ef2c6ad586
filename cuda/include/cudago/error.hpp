// Errors of the cudago core: one exception type carrying a stable status, the native library
// code and its name, and a message that names the failed call with its file and line.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cudago.h"  // CUDAGO_STATUS_LIST

namespace cudago {

// The statuses of cudago_status_t, from the one table in cudago.h (CUDAGO_STATUS_LIST): the
// same names in CamelCase with a k, the same values.
enum class Status : int32_t {
#define CUDAGO_STATUS_ENUMERATOR_(suffix, camel, value, text) k##camel = value,
  CUDAGO_STATUS_LIST(CUDAGO_STATUS_ENUMERATOR_)
#undef CUDAGO_STATUS_ENUMERATOR_
};

class Error : public std::runtime_error {
 public:
  Error(Status status, const std::string& message, int32_t native_code = 0,
        std::string native_name = {})
      : std::runtime_error(message),
        status_(status),
        native_code_(native_code),
        native_name_(std::move(native_name)) {}

  Status status() const noexcept { return status_; }
  int32_t native_code() const noexcept { return native_code_; }
  const std::string& native_name() const noexcept { return native_name_; }

 private:
  Status status_;
  int32_t native_code_;
  std::string native_name_;
};

// The status a CUDA runtime error maps to. Errors that leave the context unusable (illegal
// address, launch failure, assert, ...) map to kKernelFault.
Status status_from_cuda(cudaError_t err) noexcept;

namespace detail {
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);
}  // namespace detail

}  // namespace cudago

// Runs a CUDA runtime call; on failure throws cudago::Error with the call's text, file, line
// and the CUDA error name, after clearing the (non-sticky) per-thread last error.
#define CUDAGO_CUDA_TRY(call)                                                     \
  do {                                                                            \
    cudaError_t cudago_err_ = (call);                                             \
    if (cudago_err_ != cudaSuccess) {                                             \
      ::cudago::detail::throw_cuda_error(cudago_err_, #call, __FILE__, __LINE__); \
    }                                                                             \
  } while (0)

// After a <<<>>> launch: reports configuration errors (and earlier sticky faults) at once.
#define CUDAGO_CHECK_LAUNCH() CUDAGO_CUDA_TRY(cudaGetLastError())

// Validates a precondition; throws cudago::Error(status, message) when it does not hold.
#define CUDAGO_EXPECTS(cond, status, message)                                \
  do {                                                                       \
    if (!(cond)) throw ::cudago::Error(::cudago::Status::status, (message)); \
  } while (0)
