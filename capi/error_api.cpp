// Status strings and versions.
#include "cudago.h"
#include "cudago/device.hpp"
#include "cudago/dtype.hpp"
#include "guard.hpp"

extern "C" {

const char* cudago_status_string(cudago_status_t status) {
  switch (status) {
    case CUDAGO_SUCCESS:
      return "CUDAGO_SUCCESS: success";
    case CUDAGO_ERROR_INVALID_ARGUMENT:
      return "CUDAGO_ERROR_INVALID_ARGUMENT: invalid argument";
    case CUDAGO_ERROR_INVALID_HANDLE:
      return "CUDAGO_ERROR_INVALID_HANDLE: invalid or closed handle";
    case CUDAGO_ERROR_OUT_OF_RANGE:
      return "CUDAGO_ERROR_OUT_OF_RANGE: out of range";
    case CUDAGO_ERROR_NO_DEVICE:
      return "CUDAGO_ERROR_NO_DEVICE: no CUDA device";
    case CUDAGO_ERROR_INVALID_DEVICE:
      return "CUDAGO_ERROR_INVALID_DEVICE: invalid device ordinal";
    case CUDAGO_ERROR_DEVICE_MISMATCH:
      return "CUDAGO_ERROR_DEVICE_MISMATCH: objects of different devices";
    case CUDAGO_ERROR_OUT_OF_MEMORY:
      return "CUDAGO_ERROR_OUT_OF_MEMORY: out of memory";
    case CUDAGO_ERROR_NOT_SUPPORTED:
      return "CUDAGO_ERROR_NOT_SUPPORTED: not supported";
    case CUDAGO_ERROR_LAUNCH_FAILED:
      return "CUDAGO_ERROR_LAUNCH_FAILED: kernel launch failed";
    case CUDAGO_ERROR_KERNEL_FAULT:
      return "CUDAGO_ERROR_KERNEL_FAULT: kernel fault, CUDA context lost";
    case CUDAGO_ERROR_CUDA:
      return "CUDAGO_ERROR_CUDA: CUDA runtime error";
    case CUDAGO_ERROR_CUBLAS:
      return "CUDAGO_ERROR_CUBLAS: cuBLAS error";
    case CUDAGO_ERROR_CUFFT:
      return "CUDAGO_ERROR_CUFFT: cuFFT error";
    case CUDAGO_ERROR_NVRTC:
      return "CUDAGO_ERROR_NVRTC: NVRTC error";
    case CUDAGO_ERROR_INTERNAL:
      return "CUDAGO_ERROR_INTERNAL: internal error";
    case CUDAGO_ERROR_NCCL:
      return "CUDAGO_ERROR_NCCL: NCCL error";
    case CUDAGO_ERROR_CAPTURE:
      return "CUDAGO_ERROR_CAPTURE: stream capture or graph error";
    case CUDAGO_STATUS_FORCE32:
      break;
  }
  return "CUDAGO_ERROR_UNKNOWN: unknown status";
}

size_t cudago_dtype_size(cudago_dtype_t dtype) {
  return cudago::dtype_size(static_cast<cudago::DType>(dtype));
}

uint32_t cudago_version_number(void) { return CUDAGO_VERSION_NUMBER; }

const char* cudago_version_string(void) {
#define CUDAGO_STR2(x) #x
#define CUDAGO_STR(x) CUDAGO_STR2(x)
  return CUDAGO_STR(CUDAGO_VERSION_MAJOR) "." CUDAGO_STR(CUDAGO_VERSION_MINOR) "." CUDAGO_STR(
      CUDAGO_VERSION_PATCH);
#undef CUDAGO_STR
#undef CUDAGO_STR2
}

cudago_status_t cudago_driver_version(int32_t* out) {
  return cudago::capi::guard("cudago_driver_version", [&] {
    *cudago::capi::out_param(out, "out") = cudago::driver_version();
  });
}

cudago_status_t cudago_runtime_version(int32_t* out) {
  return cudago::capi::guard("cudago_runtime_version", [&] {
    *cudago::capi::out_param(out, "out") = cudago::runtime_version();
  });
}

}  // extern "C"
