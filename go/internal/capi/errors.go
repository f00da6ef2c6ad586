package capi

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"strconv"
	"strings"
	"unsafe"
)

// Status is the stable status code of a cudago operation (cudago_status_t). Values never
// change; new ones are only appended. The constants are generated from cudago.h's status table
// (status_table.go).
type Status int32

// The Status constants and their names are generated from cudago.h: status_table.go.

// String returns the C name of the status ("CUDAGO_ERROR_OUT_OF_MEMORY"), or
// "CUDAGO_STATUS(n)" for a value this package does not know.
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "CUDAGO_STATUS(" + strconv.Itoa(int(s)) + ")"
}

// Description returns the library's English description of the status
// (cudago_status_string without the leading name), e.g. "out of memory".
func (s Status) Description() string {
	full := cStatusString(s)
	if i := strings.Index(full, ": "); i >= 0 {
		return full[i+2:]
	}
	return full
}

// cStatusString returns cudago_status_string(s) verbatim.
func cStatusString(s Status) string {
	return C.GoString(C.cudago_status_string(C.cudago_status_t(s)))
}

// Error is the error of every failed cudago operation.
//
// Use errors.Is with the sentinels (ErrOutOfMemory, ErrNoDevice, ...) to test the status, and
// errors.As to read the fields.
type Error struct {
	Status     Status // the stable status
	Native     int32  // the native code (cudaError_t, cublasStatus_t, cufftResult, ...) or 0
	NativeName string // the native code's name ("cudaErrorMemoryAllocation") or ""
	Op         string // the operation that failed ("buffer alloc", "copy h2d", ...)
	Msg        string // what failed and why

	// closed marks the use of a closed handle, matched by ErrClosed.
	closed bool
}

// Error returns "cudago: op: STATUS: nativeName: message", leaving out empty parts.
func (e *Error) Error() string {
	if e == nil {
		return "cudago: <nil>"
	}
	var b strings.Builder
	b.Grow(len(e.Op) + len(e.NativeName) + len(e.Msg) + 48)
	b.WriteString("cudago: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Status.String())
	if e.NativeName != "" {
		b.WriteString(": ")
		b.WriteString(e.NativeName)
	} else if e.Native != 0 {
		b.WriteString(": native error ")
		b.WriteString(strconv.Itoa(int(e.Native)))
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

// Is reports whether e matches target. A target *Error without Op is a sentinel and matches
// every error of its Status; ErrClosed matches only errors from using a closed handle (which
// also match ErrInvalidHandle). A target with an Op matches only itself.
func (e *Error) Is(target error) bool {
	// A bounded wait that gave up because of a context matches the context's error too.
	switch target {
	case context.DeadlineExceeded:
		return e != nil && e.Status == StatusTimeout
	case context.Canceled:
		return e != nil && e.Status == StatusCancelled
	}
	t, ok := target.(*Error)
	if !ok || e == nil || t == nil || t.Op != "" {
		return false
	}
	if t.closed {
		return e.closed
	}
	return e.Status == t.Status
}

func sentinel(s Status, msg string) *Error { return &Error{Status: s, Msg: msg} }

// Sentinels for errors.Is. Each matches every *Error of its status.
var (
	ErrInvalidArgument = sentinel(StatusInvalidArgument, "invalid argument")
	ErrInvalidHandle   = sentinel(StatusInvalidHandle, "invalid handle")
	ErrOutOfRange      = sentinel(StatusOutOfRange, "out of range")
	ErrNoDevice        = sentinel(StatusNoDevice, "no CUDA device")
	ErrInvalidDevice   = sentinel(StatusInvalidDevice, "invalid device")
	ErrDeviceMismatch  = sentinel(StatusDeviceMismatch, "device mismatch")
	ErrOutOfMemory     = sentinel(StatusOutOfMemory, "out of memory")
	ErrNotSupported    = sentinel(StatusNotSupported, "not supported")
	ErrLaunchFailed    = sentinel(StatusLaunchFailed, "kernel launch failed")
	ErrKernelFault     = sentinel(StatusKernelFault, "kernel fault; the CUDA context is lost")
	ErrCUDA            = sentinel(StatusCUDA, "CUDA error")
	ErrCUBLAS          = sentinel(StatusCUBLAS, "cuBLAS error")
	ErrCUFFT           = sentinel(StatusCUFFT, "cuFFT error")
	ErrNVRTC           = sentinel(StatusNVRTC, "NVRTC error")
	ErrInternal        = sentinel(StatusInternal, "internal error")
	ErrNCCL            = sentinel(StatusNCCL, "NCCL error")
	ErrCapture         = sentinel(StatusCapture, "stream capture or graph error")
	// ErrTimeout and ErrCancelled: a bounded wait gave up at its context's deadline or when the
	// context was cancelled; such errors also match context.DeadlineExceeded and
	// context.Canceled.
	ErrTimeout   = sentinel(StatusTimeout, "deadline exceeded")
	ErrCancelled = sentinel(StatusCancelled, "cancelled")
	// ErrInvalidModel: a model that is not ONNX, is damaged, or uses what the runtime does not
	// support; the message names the node, its op and what is wrong.
	ErrInvalidModel = sentinel(StatusInvalidModel, "invalid or unsupported model")
	// ErrCUDNN: a cuDNN failure, or cuDNN missing where a model needs it.
	ErrCUDNN = sentinel(StatusCUDNN, "cuDNN error")
	// ErrQueueFull: a server refused a request at once because its queue (or its staging
	// memory) is full; retry later (HTTP 503).
	ErrQueueFull = sentinel(StatusQueueFull, "queue full")
	// ErrUnavailable: a server that is shut down, or shutting down, refused a request.
	ErrUnavailable = sentinel(StatusUnavailable, "server shut down")

	// ErrClosed matches the errors of methods called on a handle after its Close. Those
	// errors have StatusInvalidHandle, so they match ErrInvalidHandle too; ErrInvalidHandle
	// also covers nil handles, ErrClosed does not.
	ErrClosed = &Error{Status: StatusInvalidHandle, Msg: "use of closed handle", closed: true}
)

// errorFrom converts a shim's error detail (nil on success) and frees it.
func errorFrom(op string, info *C.cg_err_t) error {
	if info == nil {
		return nil
	}
	return convertError(op, info)
}

func convertError(op string, info *C.cg_err_t) *Error {
	e := &Error{
		Status:     Status(info.status),
		Native:     int32(info.native_code),
		NativeName: cArrayString(info.native_name[:]),
		Op:         op,
		Msg:        cArrayString(info.message[:]),
	}
	if e.Op == "" {
		e.Op = cArrayString(info.operation[:])
	}
	C.cg_err_free(info)
	if e.Msg == "" {
		if e.Status == StatusNoDevice {
			e.Msg = "no CUDA device: " + NoDeviceReason()
		} else {
			e.Msg = e.Status.Description()
		}
	}
	return e
}

// cArrayString converts a NUL-terminated C char array of a struct to a string without reading
// past the array.
func cArrayString(a []C.char) string {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(a))), len(a))
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Go-side errors: they never reach C.

func errArg(op, msg string) *Error {
	return &Error{Status: StatusInvalidArgument, Op: op, Msg: msg}
}

func errRange(op, msg string) *Error {
	return &Error{Status: StatusOutOfRange, Op: op, Msg: msg}
}

func errNil(op, what string) *Error {
	return &Error{Status: StatusInvalidHandle, Op: op, Msg: "nil " + what}
}

func errClosed(op, what string) *Error {
	return &Error{Status: StatusInvalidHandle, Op: op, Msg: "use of closed " + what, closed: true}
}
