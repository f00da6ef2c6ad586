package capi

// Hooks for the package's tests, which cannot use cgo themselves: struct layouts as cgo laid
// them out for Go, and the C-to-Go conversions fed with known values.

/*
#include "shim.h"
*/
import "C"

import (
	"reflect"
	"strings"
)

type fieldLayout struct {
	Name         string
	Offset, Size uintptr
}

type structLayout struct {
	Name        string
	Size, Align uintptr
	Fields      []fieldLayout
}

// cgoLayouts returns the layouts of the ABI structs the package passes to or reads from C, as
// cgo laid them out for Go: size, alignment and every field's offset and size (what
// unsafe.Sizeof, Alignof and Offsetof give), in declaration order. The test compares them with
// the numbers tests/c99/abi_c99.c pins.
func cgoLayouts() []structLayout {
	return []structLayout{
		layoutOf[C.cudago_error_info_t]("cudago_error_info_t"),
		layoutOf[C.cudago_device_properties_t]("cudago_device_properties_t"),
		layoutOf[C.cudago_pool_config_t]("cudago_pool_config_t"),
		layoutOf[C.cudago_pool_stats_t]("cudago_pool_stats_t"),
		layoutOf[C.cudago_gemm_params_t]("cudago_gemm_params_t"),
		layoutOf[C.cudago_gemv_params_t]("cudago_gemv_params_t"),
		layoutOf[C.cudago_fft_layout_t]("cudago_fft_layout_t"),
		layoutOf[C.cudago_fft_desc_t]("cudago_fft_desc_t"),
		layoutOf[C.cudago_compile_options_t]("cudago_compile_options_t"),
		layoutOf[C.cudago_define_t]("cudago_define_t"),
		layoutOf[C.cudago_header_t]("cudago_header_t"),
		layoutOf[C.cudago_kernel_arg_t]("cudago_kernel_arg_t"),
		layoutOf[C.cudago_kernel_attributes_t]("cudago_kernel_attributes_t"),
		layoutOf[C.cudago_rtc_cache_stats_t]("cudago_rtc_cache_stats_t"),
		layoutOf[C.cudago_nccl_unique_id_t]("cudago_nccl_unique_id_t"),
	}
}

// layoutOf lists every field of the cgo type T under its C name (cgo prefixes a C field named
// like a Go keyword with "_", as in _type); blank fields, padding cgo may insert, are left out.
func layoutOf[T any](name string) structLayout {
	t := reflect.TypeFor[T]()
	l := structLayout{Name: name, Size: t.Size(), Align: uintptr(t.Align())}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Name == "_" {
			continue
		}
		l.Fields = append(l.Fields, fieldLayout{strings.TrimPrefix(f.Name, "_"), f.Offset, f.Type.Size()})
	}
	return l
}

// testProperties converts a C properties struct filled by shim.c with a distinct value per
// field.
func testProperties() DeviceProperties {
	var p C.cudago_device_properties_t
	C.cg_test_fill_properties(&p)
	return propertiesFromC(&p)
}

// testPoolStats does the same for the pool statistics.
func testPoolStats() PoolStats {
	var s C.cudago_pool_stats_t
	C.cg_test_fill_pool_stats(&s)
	return poolStatsFromC(&s)
}

// testError converts an error detail built by C as a failed shim builds it.
func testError(op string, status Status, withDetail bool) error {
	d := C.int32_t(0)
	if withDetail {
		d = 1
	}
	return errorFrom(op, C.cg_test_error(C.int32_t(status), d))
}

// testNullStreamSynchronize runs a real failing call through the shim error path: libcudago
// refuses a NULL stream whether or not there is a GPU.
func testNullStreamSynchronize() error {
	return errorFrom("stream synchronize", C.cg_stream_synchronize(nil))
}

// testRawCall runs one of a few failing C calls directly, bypassing the Go-side validation, for
// the test that checks error detail never leaks between goroutines.
func testRawCall(i int) error {
	switch i % 4 {
	case 0:
		return errorFrom("stream synchronize", C.cg_stream_synchronize(nil))
	case 1:
		return errorFrom("event query", C.cg_event_query(nil).err)
	case 2:
		r := C.cg_buffer_alloc(-7, 16)
		if r.err == nil {
			C.cg_err_free(C.cg_buffer_free(r.handle))
		}
		return errorFrom("buffer alloc", r.err)
	default:
		return errorFrom("copy d2h", C.cg_copy_d2h(nil, 0, nil, 4))
	}
}
