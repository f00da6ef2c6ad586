#include "cudago/library_error.hpp"

#include <string>

namespace cudago {
namespace {

std::string where(const char* file, int line) {
  std::string f(file);
  auto slash = f.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    auto prev = f.find_last_of('/', slash - 1);
    if (prev != std::string::npos) f = f.substr(prev + 1);
  }
  return f + ":" + std::to_string(line);
}

}  // namespace

Status status_from_cublas(cublasStatus_t status) noexcept {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return Status::kSuccess;
    case CUBLAS_STATUS_ALLOC_FAILED:
      return Status::kOutOfMemory;
    case CUBLAS_STATUS_INVALID_VALUE:
      return Status::kInvalidArgument;
    case CUBLAS_STATUS_ARCH_MISMATCH:
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return Status::kNotSupported;
    default:
      return Status::kCublas;
  }
}

Status status_from_cufft(cufftResult result) noexcept {
  switch (result) {
    case CUFFT_SUCCESS:
      return Status::kSuccess;
    case CUFFT_ALLOC_FAILED:
      return Status::kOutOfMemory;
    case CUFFT_INVALID_VALUE:
    case CUFFT_INVALID_SIZE:
    case CUFFT_INVALID_TYPE:
    case CUFFT_UNALIGNED_DATA:
      return Status::kInvalidArgument;
    case CUFFT_INVALID_DEVICE:
      return Status::kInvalidDevice;
    case CUFFT_NOT_IMPLEMENTED:
    case CUFFT_NOT_SUPPORTED:
      return Status::kNotSupported;
    default:
      return Status::kCufft;
  }
}

Status status_from_nvrtc(nvrtcResult result) noexcept {
  switch (result) {
    case NVRTC_SUCCESS:
      return Status::kSuccess;
    case NVRTC_ERROR_OUT_OF_MEMORY:
      return Status::kOutOfMemory;
    case NVRTC_ERROR_INVALID_INPUT:
    case NVRTC_ERROR_INVALID_OPTION:
    case NVRTC_ERROR_INVALID_PROGRAM:
      return Status::kInvalidArgument;
    default:
      return Status::kNvrtc;
  }
}

const char* cufft_result_name(cufftResult result) noexcept {
  switch (result) {
    case CUFFT_SUCCESS:
      return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN:
      return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED:
      return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_TYPE:
      return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE:
      return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR:
      return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED:
      return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED:
      return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE:
      return "CUFFT_INVALID_SIZE";
    case CUFFT_UNALIGNED_DATA:
      return "CUFFT_UNALIGNED_DATA";
    case CUFFT_INVALID_DEVICE:
      return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE:
      return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED:
      return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED:
      return "CUFFT_NOT_SUPPORTED";
    case CUFFT_MISSING_DEPENDENCY:
      return "CUFFT_MISSING_DEPENDENCY";
    case CUFFT_NVRTC_FAILURE:
      return "CUFFT_NVRTC_FAILURE";
    case CUFFT_NVJITLINK_FAILURE:
      return "CUFFT_NVJITLINK_FAILURE";
    case CUFFT_NVSHMEM_FAILURE:
      return "CUFFT_NVSHMEM_FAILURE";
  }
  return "CUFFT_UNKNOWN_RESULT";
}

namespace detail {

[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file,
                                     int line) {
  throw Error(
      status_from_cublas(status),
      std::string(call) + " failed at " + where(file, line) + ": " + cublasGetStatusString(status),
      static_cast<int32_t>(status), cublasGetStatusName(status));
}

[[noreturn]] void throw_cufft_error(cufftResult result, const char* call, const char* file,
                                    int line) {
  throw Error(
      status_from_cufft(result),
      std::string(call) + " failed at " + where(file, line) + ": " + cufft_result_name(result),
      static_cast<int32_t>(result), cufft_result_name(result));
}

[[noreturn]] void throw_nvrtc_error(nvrtcResult result, const char* call, const char* file,
                                    int line) {
  throw Error(
      status_from_nvrtc(result),
      std::string(call) + " failed at " + where(file, line) + ": " + nvrtcGetErrorString(result),
      static_cast<int32_t>(result), nvrtcGetErrorString(result));
}

}  // namespace detail
}  // namespace cudago
