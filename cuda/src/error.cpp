#include "cudago/error.hpp"

#include <string>

namespace cudago {

Status status_from_cuda(cudaError_t err) noexcept {
  switch (err) {
    case cudaSuccess:
      return Status::kSuccess;
    case cudaErrorMemoryAllocation:
      return Status::kOutOfMemory;
    case cudaErrorInvalidValue:
      return Status::kInvalidArgument;
    case cudaErrorInvalidResourceHandle:
      return Status::kInvalidHandle;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorStubLibrary:
    case cudaErrorDevicesUnavailable:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
    case cudaErrorSystemNotReady:
    case cudaErrorCallRequiresNewerDriver:
      return Status::kNoDevice;
    case cudaErrorInvalidDevice:
      return Status::kInvalidDevice;
    case cudaErrorNotSupported:
      return Status::kNotSupported;
    case cudaErrorInvalidConfiguration:
    case cudaErrorLaunchOutOfResources:
    case cudaErrorInvalidDeviceFunction:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorInvalidKernelImage:
    case cudaErrorInvalidPtx:
    case cudaErrorUnsupportedPtxVersion:
    case cudaErrorSharedObjectInitFailed:
      return Status::kLaunchFailed;
    // Sticky: the context is unusable; every later CUDA call in the process fails.
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorAssert:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchTimeout:
    case cudaErrorECCUncorrectable:
    case cudaErrorContextIsDestroyed:
      return Status::kKernelFault;
    case cudaErrorStreamCaptureUnsupported:
    case cudaErrorStreamCaptureInvalidated:
    case cudaErrorStreamCaptureMerge:
    case cudaErrorStreamCaptureUnmatched:
    case cudaErrorStreamCaptureUnjoined:
    case cudaErrorStreamCaptureIsolation:
    case cudaErrorStreamCaptureImplicit:
    case cudaErrorCapturedEvent:
    case cudaErrorStreamCaptureWrongThread:
    case cudaErrorGraphExecUpdateFailure:
      return Status::kCapture;
    default:
      return Status::kCuda;
  }
}

namespace detail {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  // Clear the per-thread last error so a later launch check does not report this one again.
  // A sticky error stays: every later call reports it too, as it must.
  (void)cudaGetLastError();
  std::string where(file);
  auto slash = where.find_last_of('/');
  if (slash != std::string::npos) {
    auto prev = where.find_last_of('/', slash - 1);
    if (prev != std::string::npos) where = where.substr(prev + 1);
  }
  std::string msg = std::string(call) + " failed at " + where + ":" + std::to_string(line) + ": " +
                    cudaGetErrorString(err);
  Status status = status_from_cuda(err);
  if (status == Status::kKernelFault) {
    msg += " (a kernel faulted; the CUDA context of this process is unusable: restart it)";
  }
  throw Error(status, msg, static_cast<int32_t>(err), cudaGetErrorName(err));
}

}  // namespace detail
}  // namespace cudago
