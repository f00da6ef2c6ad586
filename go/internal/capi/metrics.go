//go:build cgo

package capi

/*
#include <stdlib.h>
#include "shim_serve.h"
#include "shim_metrics.h"
*/
import "C"

import (
	"time"
	"unsafe"
)

// MetricsRender returns the process's metrics in the Prometheus text exposition format; with
// tritonNames, Triton's series too.
func MetricsRender(tritonNames bool) ([]byte, error) {
	const op = "metrics render"
	if err := ready(); err != nil {
		return nil, err
	}
	var flags C.uint32_t
	if tritonNames {
		flags = C.CUDAGO_METRICS_TRITON_NAMES
	}
	var out *C.char
	var n C.uint64_t
	if err := errorFrom(op, C.cg_metrics_render(flags, &out, &n)); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, &Error{Status: StatusOutOfMemory, Op: op, Msg: "out of C memory for the exposition"}
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), nil
}

// MetricsSetGPUInterval sets the GPU sampler's interval (10 ms to 1 h) and starts it; 0 turns
// GPU sampling off.
func MetricsSetGPUInterval(d time.Duration) error {
	const op = "metrics set gpu interval"
	if err := ready(); err != nil {
		return err
	}
	if d < 0 {
		return errArg(op, "negative interval "+d.String())
	}
	return errorFrom(op, C.cg_metrics_set_gpu_interval(C.uint64_t(d)))
}

// MetricsGPUStatus says whether NVML is available (loading it first if nothing has) and, where
// it is not, why.
func MetricsGPUStatus() (available bool, reason string, err error) {
	const op = "metrics gpu status"
	if err := ready(); err != nil {
		return false, "", err
	}
	r := C.cg_metrics_gpu_status()
	if err := errorFrom(op, r.err); err != nil {
		return false, "", err
	}
	if r.reason == nil {
		return false, "", &Error{Status: StatusOutOfMemory, Op: op, Msg: "out of C memory for the reason"}
	}
	defer C.free(unsafe.Pointer(r.reason))
	return r.available != 0, C.GoString(r.reason), nil
}
