//go:build cgo

package capi

/*
#include <stdlib.h>
#include "shim_serve.h"
*/
import "C"

import "unsafe"

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
