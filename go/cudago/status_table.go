package cudago

import (
	"github.com/cudago/cudago/go/internal/capi"
)

// The statuses, with the values of cudago_status_t.
const (
	StatusSuccess         Status = capi.StatusSuccess         // success
	StatusInvalidArgument Status = capi.StatusInvalidArgument // NULL pointer, zero/negative/overflowing size, bad flag, unknown enum value
	StatusInvalidHandle   Status = capi.StatusInvalidHandle   // NULL (or closed, in bindings that track it) handle
	StatusOutOfRange      Status = capi.StatusOutOfRange      // offset + length beyond a buffer, mismatched lengths
	StatusNoDevice        Status = capi.StatusNoDevice        // no usable CUDA device or driver in this process
	StatusInvalidDevice   Status = capi.StatusInvalidDevice   // device ordinal out of range
	StatusDeviceMismatch  Status = capi.StatusDeviceMismatch  // handles of different devices used together
	StatusOutOfMemory     Status = capi.StatusOutOfMemory     // device or pinned host memory exhausted
	StatusNotSupported    Status = capi.StatusNotSupported    // the device or build cannot do this
	StatusLaunchFailed    Status = capi.StatusLaunchFailed    // a kernel could not be launched (config, image)
	StatusKernelFault     Status = capi.StatusKernelFault     // a kernel faulted; the process's CUDA context is lost
	StatusCUDA            Status = capi.StatusCUDA            // another CUDA runtime error: see native_code
	StatusCUBLAS          Status = capi.StatusCUBLAS          // a cuBLAS error: see native_code
	StatusCUFFT           Status = capi.StatusCUFFT           // a cuFFT error: see native_code
	StatusNVRTC           Status = capi.StatusNVRTC           // an NVRTC error: see native_code
	StatusInternal        Status = capi.StatusInternal        // a bug in cudago
	StatusNCCL            Status = capi.StatusNCCL            // an NCCL error (or NCCL missing): see native_code
	StatusCapture         Status = capi.StatusCapture         // a stream capture or CUDA graph failed (illegal call during a capture, update with another topology)
	StatusTimeout         Status = capi.StatusTimeout         // a bounded wait reached its deadline (cudago_wait_options_t)
	StatusCancelled       Status = capi.StatusCancelled       // a bounded wait was cancelled through its cancel flag (cudago_wait_options_t)
	StatusInvalidModel    Status = capi.StatusInvalidModel    // a model file that is not ONNX, is damaged, or uses what the runtime does not support
	StatusCUDNN           Status = capi.StatusCUDNN           // a cuDNN error (or cuDNN missing): see native_code
	StatusQueueFull       Status = capi.StatusQueueFull       // a server's queue (or its staging memory) is full: the request was refused at once
	StatusUnavailable     Status = capi.StatusUnavailable     // a server that is shut down (or shutting down) refused the request
)
