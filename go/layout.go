package cudago

// Hooks for the package's tests, which cannot use cgo themselves: struct layouts as C and Go
// see them, and the C-to-Go conversions fed with known values.

/*
#include "shim.h"
*/
import "C"

import "unsafe"

type fieldLayout struct {
	Name         string
	Offset, Size uintptr
}

type structLayout struct {
	Name        string
	Size, Align uintptr
	Fields      []fieldLayout
}

// cLayouts returns the layouts of the ABI structs as the C compiler sees them (shim.c).
func cLayouts() []structLayout {
	n := int(C.cg_layout_count())
	out := make([]structLayout, 0, n)
	for i := 0; i < n; i++ {
		l := C.cg_layout(C.size_t(i))
		fields := unsafe.Slice(l.fields, int(l.nfields))
		s := structLayout{Name: C.GoString(l.name), Size: uintptr(l.size), Align: uintptr(l.align)}
		for _, f := range fields {
			s.Fields = append(s.Fields, fieldLayout{C.GoString(f.name), uintptr(f.offset), uintptr(f.size)})
		}
		out = append(out, s)
	}
	return out
}

// goLayouts returns the same layouts as Go sees the cgo types the package reads and writes.
func goLayouts() []structLayout {
	var e C.cudago_error_info_t
	var p C.cudago_device_properties_t
	var c C.cudago_pool_config_t
	var s C.cudago_pool_stats_t
	f := func(name string, off, size uintptr) fieldLayout { return fieldLayout{name, off, size} }
	return []structLayout{
		{"cudago_error_info_t", unsafe.Sizeof(e), unsafe.Alignof(e), []fieldLayout{
			f("struct_size", unsafe.Offsetof(e.struct_size), unsafe.Sizeof(e.struct_size)),
			f("status", unsafe.Offsetof(e.status), unsafe.Sizeof(e.status)),
			f("native_code", unsafe.Offsetof(e.native_code), unsafe.Sizeof(e.native_code)),
			f("native_name", unsafe.Offsetof(e.native_name), unsafe.Sizeof(e.native_name)),
			f("operation", unsafe.Offsetof(e.operation), unsafe.Sizeof(e.operation)),
			f("message", unsafe.Offsetof(e.message), unsafe.Sizeof(e.message)),
		}},
		{"cudago_device_properties_t", unsafe.Sizeof(p), unsafe.Alignof(p), []fieldLayout{
			f("struct_size", unsafe.Offsetof(p.struct_size), unsafe.Sizeof(p.struct_size)),
			f("ordinal", unsafe.Offsetof(p.ordinal), unsafe.Sizeof(p.ordinal)),
			f("name", unsafe.Offsetof(p.name), unsafe.Sizeof(p.name)),
			f("uuid", unsafe.Offsetof(p.uuid), unsafe.Sizeof(p.uuid)),
			f("pci_bus_id", unsafe.Offsetof(p.pci_bus_id), unsafe.Sizeof(p.pci_bus_id)),
			f("pci_domain", unsafe.Offsetof(p.pci_domain), unsafe.Sizeof(p.pci_domain)),
			f("pci_bus", unsafe.Offsetof(p.pci_bus), unsafe.Sizeof(p.pci_bus)),
			f("pci_device", unsafe.Offsetof(p.pci_device), unsafe.Sizeof(p.pci_device)),
			f("compute_major", unsafe.Offsetof(p.compute_major), unsafe.Sizeof(p.compute_major)),
			f("compute_minor", unsafe.Offsetof(p.compute_minor), unsafe.Sizeof(p.compute_minor)),
			f("multiprocessor_count", unsafe.Offsetof(p.multiprocessor_count), unsafe.Sizeof(p.multiprocessor_count)),
			f("clock_khz", unsafe.Offsetof(p.clock_khz), unsafe.Sizeof(p.clock_khz)),
			f("memory_clock_khz", unsafe.Offsetof(p.memory_clock_khz), unsafe.Sizeof(p.memory_clock_khz)),
			f("memory_bus_width_bits", unsafe.Offsetof(p.memory_bus_width_bits), unsafe.Sizeof(p.memory_bus_width_bits)),
			f("l2_cache_bytes", unsafe.Offsetof(p.l2_cache_bytes), unsafe.Sizeof(p.l2_cache_bytes)),
			f("max_threads_per_block", unsafe.Offsetof(p.max_threads_per_block), unsafe.Sizeof(p.max_threads_per_block)),
			f("max_threads_per_multiprocessor", unsafe.Offsetof(p.max_threads_per_multiprocessor), unsafe.Sizeof(p.max_threads_per_multiprocessor)),
			f("max_blocks_per_multiprocessor", unsafe.Offsetof(p.max_blocks_per_multiprocessor), unsafe.Sizeof(p.max_blocks_per_multiprocessor)),
			f("registers_per_multiprocessor", unsafe.Offsetof(p.registers_per_multiprocessor), unsafe.Sizeof(p.registers_per_multiprocessor)),
			f("warp_size", unsafe.Offsetof(p.warp_size), unsafe.Sizeof(p.warp_size)),
			f("async_engine_count", unsafe.Offsetof(p.async_engine_count), unsafe.Sizeof(p.async_engine_count)),
			f("ecc_enabled", unsafe.Offsetof(p.ecc_enabled), unsafe.Sizeof(p.ecc_enabled)),
			f("integrated", unsafe.Offsetof(p.integrated), unsafe.Sizeof(p.integrated)),
			f("can_map_host_memory", unsafe.Offsetof(p.can_map_host_memory), unsafe.Sizeof(p.can_map_host_memory)),
			f("memory_pools_supported", unsafe.Offsetof(p.memory_pools_supported), unsafe.Sizeof(p.memory_pools_supported)),
			f("stream_priority_least", unsafe.Offsetof(p.stream_priority_least), unsafe.Sizeof(p.stream_priority_least)),
			f("stream_priority_greatest", unsafe.Offsetof(p.stream_priority_greatest), unsafe.Sizeof(p.stream_priority_greatest)),
			f("total_memory_bytes", unsafe.Offsetof(p.total_memory_bytes), unsafe.Sizeof(p.total_memory_bytes)),
			f("free_memory_bytes", unsafe.Offsetof(p.free_memory_bytes), unsafe.Sizeof(p.free_memory_bytes)),
			f("shared_memory_per_block_bytes", unsafe.Offsetof(p.shared_memory_per_block_bytes), unsafe.Sizeof(p.shared_memory_per_block_bytes)),
			f("shared_memory_per_block_optin_bytes", unsafe.Offsetof(p.shared_memory_per_block_optin_bytes), unsafe.Sizeof(p.shared_memory_per_block_optin_bytes)),
			f("shared_memory_per_multiprocessor_bytes", unsafe.Offsetof(p.shared_memory_per_multiprocessor_bytes), unsafe.Sizeof(p.shared_memory_per_multiprocessor_bytes)),
		}},
		{"cudago_pool_config_t", unsafe.Sizeof(c), unsafe.Alignof(c), []fieldLayout{
			f("struct_size", unsafe.Offsetof(c.struct_size), unsafe.Sizeof(c.struct_size)),
			f("reserved0", unsafe.Offsetof(c.reserved0), unsafe.Sizeof(c.reserved0)),
			f("release_threshold_bytes", unsafe.Offsetof(c.release_threshold_bytes), unsafe.Sizeof(c.release_threshold_bytes)),
			f("reserve_bytes", unsafe.Offsetof(c.reserve_bytes), unsafe.Sizeof(c.reserve_bytes)),
		}},
		{"cudago_pool_stats_t", unsafe.Sizeof(s), unsafe.Alignof(s), []fieldLayout{
			f("struct_size", unsafe.Offsetof(s.struct_size), unsafe.Sizeof(s.struct_size)),
			f("reserved0", unsafe.Offsetof(s.reserved0), unsafe.Sizeof(s.reserved0)),
			f("reserved_bytes", unsafe.Offsetof(s.reserved_bytes), unsafe.Sizeof(s.reserved_bytes)),
			f("used_bytes", unsafe.Offsetof(s.used_bytes), unsafe.Sizeof(s.used_bytes)),
			f("reserved_high_bytes", unsafe.Offsetof(s.reserved_high_bytes), unsafe.Sizeof(s.reserved_high_bytes)),
			f("used_high_bytes", unsafe.Offsetof(s.used_high_bytes), unsafe.Sizeof(s.used_high_bytes)),
		}},
	}
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
