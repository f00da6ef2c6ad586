package cudago

import (
	"github.com/cudago/cudago/go/internal/capi"
)

// Status is the stable status code of a cudago operation (cudago_status_t). Values never
// change; new ones are only appended. The constants are generated from cudago.h's status table
// (status_table.go).
//
// Its methods (documented with the type it aliases):
//   - Description() string
//   - String() string
type Status = capi.Status

// Error is the error of every failed cudago operation.
//
// Use errors.Is with the sentinels (ErrOutOfMemory, ErrNoDevice, ...) to test the status, and
// errors.As to read the fields.
//
// Its fields:
//   - Status Status (the stable status)
//   - Native int32 (the native code (cudaError_t, cublasStatus_t, cufftResult, ...) or 0)
//   - NativeName string (the native code's name ("cudaErrorMemoryAllocation") or "")
//   - Op string (the operation that failed ("buffer alloc", "copy h2d", ...))
//   - Msg string (what failed and why)
//
// Its methods (documented with the type it aliases):
//   - Error() string
//   - Is(target error) bool
type Error = capi.Error

// Sentinels for errors.Is. Each matches every *Error of its status.
var (
	ErrInvalidArgument = capi.ErrInvalidArgument
	ErrInvalidHandle   = capi.ErrInvalidHandle
	ErrOutOfRange      = capi.ErrOutOfRange
	ErrNoDevice        = capi.ErrNoDevice
	ErrInvalidDevice   = capi.ErrInvalidDevice
	ErrDeviceMismatch  = capi.ErrDeviceMismatch
	ErrOutOfMemory     = capi.ErrOutOfMemory
	ErrNotSupported    = capi.ErrNotSupported
	ErrLaunchFailed    = capi.ErrLaunchFailed
	ErrKernelFault     = capi.ErrKernelFault
	ErrCUDA            = capi.ErrCUDA
	ErrCUBLAS          = capi.ErrCUBLAS
	ErrCUFFT           = capi.ErrCUFFT
	ErrNVRTC           = capi.ErrNVRTC
	ErrInternal        = capi.ErrInternal
	ErrNCCL            = capi.ErrNCCL
	ErrCapture         = capi.ErrCapture
	// ErrTimeout and ErrCancelled: a bounded wait gave up at its context's deadline or when the
	// context was cancelled; such errors also match context.DeadlineExceeded and
	// context.Canceled.
	ErrTimeout   = capi.ErrTimeout
	ErrCancelled = capi.ErrCancelled
	// ErrInvalidModel: a model that is not ONNX, is damaged, or uses what the runtime does not
	// support; the message names the node, its op and what is wrong.
	ErrInvalidModel = capi.ErrInvalidModel
	// ErrCUDNN: a cuDNN failure, or cuDNN missing where a model needs it.
	ErrCUDNN = capi.ErrCUDNN
	// ErrQueueFull: a server refused a request at once because its queue (or its staging
	// memory) is full; retry later.
	ErrQueueFull = capi.ErrQueueFull
	// ErrUnavailable: a server that is shut down, or shutting down, refused a request.
	ErrUnavailable = capi.ErrUnavailable
	// ErrClosed matches the errors of methods called on a handle after its Close. Those
	// errors have StatusInvalidHandle, so they match ErrInvalidHandle too; ErrInvalidHandle
	// also covers nil handles, ErrClosed does not.
	ErrClosed = capi.ErrClosed
)
