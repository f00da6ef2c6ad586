// Error checks for cuBLAS and cuFFT calls, with the same shape as CUDAGO_CUDA_TRY: the call,
// file, line and the library's own error name go into a cudago::Error.
#pragma once

#include <cublas_v2.h>
#include <cufft.h>
#include <nvrtc.h>

#include "cudago/error.hpp"

namespace cudago {

Status status_from_cublas(cublasStatus_t status) noexcept;
Status status_from_cufft(cufftResult result) noexcept;
// cuFFT has no status-string function: cudago keeps the table ("CUFFT_INVALID_SIZE", ...).
const char* cufft_result_name(cufftResult result) noexcept;
Status status_from_nvrtc(nvrtcResult result) noexcept;

namespace detail {
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file,
                                     int line);
[[noreturn]] void throw_cufft_error(cufftResult result, const char* call, const char* file,
                                    int line);
[[noreturn]] void throw_nvrtc_error(nvrtcResult result, const char* call, const char* file,
                                    int line);
}  // namespace detail

}  // namespace cudago

#define CUDAGO_CUBLAS_TRY(call)                                                    \
  do {                                                                             \
    cublasStatus_t cudago_st_ = (call);                                            \
    if (cudago_st_ != CUBLAS_STATUS_SUCCESS) {                                     \
      ::cudago::detail::throw_cublas_error(cudago_st_, #call, __FILE__, __LINE__); \
    }                                                                              \
  } while (0)

#define CUDAGO_CUFFT_TRY(call)                                                     \
  do {                                                                             \
    cufftResult cudago_res_ = (call);                                              \
    if (cudago_res_ != CUFFT_SUCCESS) {                                            \
      ::cudago::detail::throw_cufft_error(cudago_res_, #call, __FILE__, __LINE__); \
    }                                                                              \
  } while (0)

#define CUDAGO_NVRTC_TRY(call)                                                       \
  do {                                                                               \
    nvrtcResult cudago_nvrtc_ = (call);                                              \
    if (cudago_nvrtc_ != NVRTC_SUCCESS) {                                            \
      ::cudago::detail::throw_nvrtc_error(cudago_nvrtc_, #call, __FILE__, __LINE__); \
    }                                                                                \
  } while (0)
