//go:build cgo

package capi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// These tests need no GPU.

// statusLast is the newest status; update it when cudago_status_t grows.
const statusLast = StatusUnavailable

func TestStatusStringsMatchC(t *testing.T) {
	for s := StatusSuccess; s <= statusLast; s++ {
		name := s.String()
		if name != statusNames[s] || !strings.HasPrefix(name, "CUDAGO_") {
			t.Errorf("Status(%d).String() = %q", s, name)
		}
		c := cStatusString(s)
		if c != name && !strings.HasPrefix(c, name+":") {
			t.Errorf("cudago_status_string(%d) = %q, want %q or %q", s, c, name, name+": ...")
		}
		if d := s.Description(); d == "" {
			t.Errorf("Status(%d).Description() is empty", s)
		}
	}
	if got := Status(99).String(); got != "CUDAGO_STATUS(99)" {
		t.Errorf("Status(99).String() = %q", got)
	}
	if got := Status(-1).String(); got != "CUDAGO_STATUS(-1)" {
		t.Errorf("Status(-1).String() = %q", got)
	}
	if len(statusNames) != int(statusLast)+1 {
		t.Errorf("statusNames has %d entries, want %d", len(statusNames), statusLast+1)
	}
}

func TestSentinels(t *testing.T) {
	sentinels := map[Status]*Error{
		StatusInvalidArgument: ErrInvalidArgument, StatusInvalidHandle: ErrInvalidHandle,
		StatusOutOfRange: ErrOutOfRange, StatusNoDevice: ErrNoDevice,
		StatusInvalidDevice: ErrInvalidDevice, StatusDeviceMismatch: ErrDeviceMismatch,
		StatusOutOfMemory: ErrOutOfMemory, StatusNotSupported: ErrNotSupported,
		StatusLaunchFailed: ErrLaunchFailed, StatusKernelFault: ErrKernelFault,
		StatusCUDA: ErrCUDA, StatusCUBLAS: ErrCUBLAS, StatusCUFFT: ErrCUFFT,
		StatusNVRTC: ErrNVRTC, StatusInternal: ErrInternal, StatusNCCL: ErrNCCL, StatusCapture: ErrCapture,
		StatusTimeout: ErrTimeout, StatusCancelled: ErrCancelled,
		StatusInvalidModel: ErrInvalidModel, StatusCUDNN: ErrCUDNN,
		StatusQueueFull: ErrQueueFull, StatusUnavailable: ErrUnavailable,
	}
	if len(sentinels) != int(statusLast) {
		t.Fatalf("%d sentinels for %d error statuses", len(sentinels), statusLast)
	}
	for st, sen := range sentinels {
		if sen.Status != st || sen.Op != "" {
			t.Errorf("sentinel for %v has Status %v, Op %q", st, sen.Status, sen.Op)
		}
		err := fmt.Errorf("context: %w", &Error{Status: st, Op: "some op", Msg: "m"})
		for st2, sen2 := range sentinels {
			if got := errors.Is(err, sen2); got != (st == st2) {
				t.Errorf("errors.Is(error of %v, sentinel of %v) = %v", st, st2, got)
			}
		}
		if errors.Is(err, ErrClosed) {
			t.Errorf("errors.Is(error of %v, ErrClosed) = true", st)
		}
	}
}

func TestErrorIsSemantics(t *testing.T) {
	closed := errClosed("stream synchronize", "stream")
	nilh := errNil("stream synchronize", "*Stream")
	cases := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"closed is ErrClosed", closed, ErrClosed, true},
		{"closed is ErrInvalidHandle", closed, ErrInvalidHandle, true},
		{"wrapped closed is ErrClosed", fmt.Errorf("x: %w", closed), ErrClosed, true},
		{"nil handle is ErrInvalidHandle", nilh, ErrInvalidHandle, true},
		{"nil handle is not ErrClosed", nilh, ErrClosed, false},
		{"ErrInvalidHandle is not ErrClosed", ErrInvalidHandle, ErrClosed, false},
		{"ErrClosed is ErrInvalidHandle", ErrClosed, ErrInvalidHandle, true},
		{"target with Op matches only itself", &Error{Status: StatusOutOfMemory, Op: "a"},
			&Error{Status: StatusOutOfMemory, Op: "a"}, false},
		{"same pointer", closed, closed, true},
		{"not an *Error", errors.New("cudago: CUDAGO_ERROR_OUT_OF_MEMORY"), ErrOutOfMemory, false},
		{"other error type target", closed, context.Canceled, false},
		{"nil *Error target", closed, (*Error)(nil), false},
		{"double wrap", fmt.Errorf("a: %w", fmt.Errorf("b: %w", &Error{Status: StatusKernelFault})),
			ErrKernelFault, true},
		{"joined", errors.Join(errors.New("x"), &Error{Status: StatusNoDevice}), ErrNoDevice, true},
	}
	for _, c := range cases {
		if got := errors.Is(c.err, c.target); got != c.want {
			t.Errorf("%s: errors.Is = %v, want %v", c.name, got, c.want)
		}
	}
	var e *Error
	if !errors.As(fmt.Errorf("w: %w", closed), &e) || e.Op != "stream synchronize" || e.Status != StatusInvalidHandle {
		t.Errorf("errors.As: %#v", e)
	}
	if got := (*Error)(nil).Error(); got != "cudago: <nil>" {
		t.Errorf("nil Error() = %q", got)
	}
}

func TestErrorString(t *testing.T) {
	err := testError("buffer alloc", StatusOutOfMemory, true)
	want := "cudago: buffer alloc: CUDAGO_ERROR_OUT_OF_MEMORY: cudaErrorMemoryAllocation: " +
		"cudaMallocFromPoolAsync(...) failed: out of memory"
	if err == nil || err.Error() != want {
		t.Fatalf("Error() = %q\nwant      %q", err, want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("not an *Error: %T", err)
	}
	if e.Status != StatusOutOfMemory || e.Native != 2 || e.NativeName != "cudaErrorMemoryAllocation" ||
		e.Op != "buffer alloc" || e.Msg != "cudaMallocFromPoolAsync(...) failed: out of memory" {
		t.Errorf("fields: %#v", e)
	}
	if !errors.Is(err, ErrOutOfMemory) {
		t.Errorf("not ErrOutOfMemory")
	}

	// Without detail the message falls back to the status description, and the operation to
	// the Go one.
	err = testError("copy h2d", StatusOutOfRange, false)
	if !errors.As(err, &e) || e.Msg == "" || e.NativeName != "" || e.Native != 0 || e.Op != "copy h2d" {
		t.Errorf("no-detail error: %#v", err)
	}
	if !strings.HasPrefix(err.Error(), "cudago: copy h2d: CUDAGO_ERROR_OUT_OF_RANGE: ") {
		t.Errorf("no-detail Error() = %q", err)
	}
	// A native code without a name still shows.
	if s := (&Error{Status: StatusCUDA, Native: 700}).Error(); s != "cudago: CUDAGO_ERROR_CUDA: native error 700" {
		t.Errorf("Error() = %q", s)
	}
}

// A real failing call through the shim: the detail comes from libcudago in the same C call.
func TestShimErrorPath(t *testing.T) {
	err := testNullStreamSynchronize()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("cudago_stream_synchronize(NULL): got %v, want an *Error", err)
	}
	if e.Status != StatusInvalidHandle || e.Op != "stream synchronize" || e.Msg == "" {
		t.Errorf("cudago_stream_synchronize(NULL): %#v", e)
	}
	if !errors.Is(err, ErrInvalidHandle) || errors.Is(err, ErrClosed) {
		t.Errorf("matching of %v", err)
	}
}

// libcudago keeps error detail per OS thread and goroutines move between threads; the shims
// read it within the failing C call, so no goroutine ever sees another's detail.
func TestErrorDetailNotThreadAffine(t *testing.T) {
	const kinds = 4
	ref := make([]*Error, kinds)
	for i := range ref {
		err := testRawCall(i)
		if !errors.As(err, &ref[i]) {
			t.Fatalf("raw call %d: got %v, want an *Error", i, err)
		}
	}
	iters := 2000
	if testing.Short() {
		iters = 200
	}
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < iters; k++ {
				i := (g + k) % kinds
				var e *Error
				if !errors.As(testRawCall(i), &e) {
					t.Errorf("raw call %d succeeded", i)
					return
				}
				if e.Status != ref[i].Status || e.Msg != ref[i].Msg || e.NativeName != ref[i].NativeName {
					t.Errorf("raw call %d: got %v, want %v", i, e, ref[i])
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestVersion(t *testing.T) {
	if err := CheckVersion(); err != nil {
		t.Fatalf("CheckVersion: %v", err)
	}
	v := Version()
	if !strings.HasPrefix(v, fmt.Sprintf("%d.", headerVersionMajor)) || strings.Count(v, ".") != 2 {
		t.Errorf("Version() = %q, header %d.%d.%d", v, headerVersionMajor, headerVersionMinor, headerVersionPatch)
	}
	if headerVersionNumber != headerVersionMajor*10000+headerVersionMinor*100+headerVersionPatch {
		t.Errorf("header version number %d", headerVersionNumber)
	}
	rt, err := RuntimeVersion()
	if err != nil || rt < 12000 {
		t.Errorf("RuntimeVersion() = %d, %v", rt, err)
	}
	if _, err := DriverVersion(); err != nil {
		t.Errorf("DriverVersion: %v", err)
	}

	cases := []struct {
		lib, hdr uint32
		ok       bool
	}{
		// 0.x: the same minor (every 0.x minor may break the ABI).
		{100, 100, true}, {101, 100, true}, {100, 101, true}, {200, 100, false},
		{100, 200, false}, {10100, 100, false}, {100, 10100, false}, {0, 100, false},
		// From 1.0: the same major, a minor at least the header's.
		{10100, 10100, true}, {10200, 10100, true}, {10100, 10200, false}, {20000, 10100, false},
	}
	for _, c := range cases {
		err := versionCompatible(c.lib, c.hdr)
		if (err == nil) != c.ok {
			t.Errorf("versionCompatible(%d, %d) = %v, want ok=%v", c.lib, c.hdr, err, c.ok)
		}
		if err != nil && (!errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "version check")) {
			t.Errorf("versionCompatible(%d, %d) error %v", c.lib, c.hdr, err)
		}
	}
}

// pinnedLayouts are the layouts of the structs the package passes to or reads from C, as
// literals: the sizes and offsets are tests/c99/abi_c99.c's ABI_SIZE and ABI_OFFSET pins (the
// source of truth; change both together, and only with an ABI change); the field sizes and the
// alignments are those the header's types give on LP64 (x86-64), which abi_c99.c pins through
// the offsets that follow each field. The structs holding pointers are pinned there for 64-bit
// pointers only, as here.
var pinnedLayouts = []structLayout{
	{"cudago_error_info_t", 652, 4, []fieldLayout{
		{"struct_size", 0, 4}, {"status", 4, 4}, {"native_code", 8, 4},
		{"native_name", 12, 64}, {"operation", 76, 64}, {"message", 140, 512},
	}},
	{"cudago_device_properties_t", 440, 8, []fieldLayout{
		{"struct_size", 0, 4}, {"ordinal", 4, 4}, {"name", 8, 256}, {"uuid", 264, 16},
		{"pci_bus_id", 280, 32}, {"pci_domain", 312, 4}, {"pci_bus", 316, 4},
		{"pci_device", 320, 4}, {"compute_major", 324, 4}, {"compute_minor", 328, 4},
		{"multiprocessor_count", 332, 4}, {"clock_khz", 336, 4}, {"memory_clock_khz", 340, 4},
		{"memory_bus_width_bits", 344, 4}, {"l2_cache_bytes", 348, 4},
		{"max_threads_per_block", 352, 4}, {"max_threads_per_multiprocessor", 356, 4},
		{"max_blocks_per_multiprocessor", 360, 4}, {"registers_per_multiprocessor", 364, 4},
		{"warp_size", 368, 4}, {"async_engine_count", 372, 4}, {"ecc_enabled", 376, 4},
		{"integrated", 380, 4}, {"can_map_host_memory", 384, 4},
		{"memory_pools_supported", 388, 4}, {"stream_priority_least", 392, 4},
		{"stream_priority_greatest", 396, 4}, {"total_memory_bytes", 400, 8},
		{"free_memory_bytes", 408, 8}, {"shared_memory_per_block_bytes", 416, 8},
		{"shared_memory_per_block_optin_bytes", 424, 8},
		{"shared_memory_per_multiprocessor_bytes", 432, 8},
	}},
	{"cudago_pool_config_t", 24, 8, []fieldLayout{
		{"struct_size", 0, 4}, {"reserved0", 4, 4}, {"release_threshold_bytes", 8, 8},
		{"reserve_bytes", 16, 8},
	}},
	{"cudago_pool_stats_t", 40, 8, []fieldLayout{
		{"struct_size", 0, 4}, {"reserved0", 4, 4}, {"reserved_bytes", 8, 8},
		{"used_bytes", 16, 8}, {"reserved_high_bytes", 24, 8}, {"used_high_bytes", 32, 8},
	}},
	{"cudago_gemm_params_t", 120, 8, []fieldLayout{
		{"struct_size", 0, 4}, {"layout", 4, 4}, {"trans_a", 8, 4}, {"trans_b", 12, 4},
		{"dtype", 16, 4}, {"compute", 20, 4}, {"m", 24, 8}, {"n", 32, 8}, {"k", 40, 8},
		{"alpha", 48, 8}, {"beta", 56, 8}, {"lda", 64, 8}, {"ldb", 72, 8}, {"ldc", 80, 8},
		{"batch", 88, 8}, {"stride_a", 96, 8}, {"stride_b", 104, 8}, {"stride_c", 112, 8},
	}},
	{"cudago_gemv_params_t", 72, 8, []fieldLayout{
		{"struct_size", 0, 4}, {"layout", 4, 4}, {"trans", 8, 4}, {"dtype", 12, 4},
		{"m", 16, 8}, {"n", 24, 8}, {"alpha", 32, 8}, {"beta", 40, 8}, {"lda", 48, 8},
		{"incx", 56, 8}, {"incy", 64, 8},
	}},
	{"cudago_fft_layout_t", 40, 8, []fieldLayout{
		{"embed", 0, 24}, {"stride", 24, 8}, {"dist", 32, 8},
	}},
	{"cudago_fft_desc_t", 136, 8, []fieldLayout{
		{"struct_size", 0, 4}, {"type", 4, 4}, {"precision", 8, 4}, {"reserved0", 12, 4},
		{"rank", 16, 8}, {"dims", 24, 24}, {"batch", 48, 8}, {"in", 56, 40}, {"out", 96, 40},
	}},
	{"cudago_compile_options_t", 112, 8, []fieldLayout{
		{"struct_size", 0, 4}, {"flags", 4, 4}, {"arch", 8, 8}, {"std", 16, 8},
		{"defines", 24, 8}, {"num_defines", 32, 8}, {"options", 40, 8}, {"num_options", 48, 8},
		{"headers", 56, 8}, {"num_headers", 64, 8}, {"name_expressions", 72, 8},
		{"num_name_expressions", 80, 8}, {"log", 88, 8}, {"log_cap", 96, 8}, {"log_len", 104, 8},
	}},
	{"cudago_define_t", 16, 8, []fieldLayout{{"name", 0, 8}, {"value", 8, 8}}},
	{"cudago_header_t", 16, 8, []fieldLayout{{"name", 0, 8}, {"content", 8, 8}}},
	{"cudago_kernel_arg_t", 56, 8, []fieldLayout{
		{"kind", 0, 4}, {"reserved0", 4, 4}, {"size", 8, 8}, {"offset", 16, 8},
		{"buffer", 24, 8}, {"host", 32, 8}, {"v", 40, 8}, {"bytes", 48, 8},
	}},
	{"cudago_kernel_attributes_t", 48, 8, []fieldLayout{
		{"struct_size", 0, 4}, {"num_regs", 4, 4}, {"max_threads_per_block", 8, 4},
		{"num_params", 12, 4}, {"shared_bytes", 16, 8}, {"const_bytes", 24, 8},
		{"local_bytes", 32, 8}, {"ptx_version", 40, 4}, {"binary_version", 44, 4},
	}},
	{"cudago_rtc_cache_stats_t", 40, 8, []fieldLayout{
		{"struct_size", 0, 4}, {"reserved0", 4, 4}, {"hits", 8, 8}, {"disk_hits", 16, 8},
		{"misses", 24, 8}, {"entries", 32, 8},
	}},
	{"cudago_nccl_unique_id_t", 128, 1, []fieldLayout{{"internal", 0, 128}}},
}

// The structs shared between C and Go, as cgo laid them out for Go, against the literal pins
// above: size, alignment and every field's name, offset and size, in declaration order. A field
// added to, moved in or retyped in the header fails here (and in abi_c99.c).
func TestStructLayouts(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layouts are pinned for 64-bit pointers, as in tests/c99/abi_c99.c")
	}
	got := map[string]structLayout{}
	for _, l := range cgoLayouts() {
		got[l.Name] = l
	}
	if len(got) != len(pinnedLayouts) {
		t.Errorf("cgo layouts of %d structs, %d pinned", len(got), len(pinnedLayouts))
	}
	for _, want := range pinnedLayouts {
		g, ok := got[want.Name]
		if !ok {
			t.Errorf("%s is pinned but has no cgo layout", want.Name)
			continue
		}
		if g.Size != want.Size || g.Align != want.Align {
			t.Errorf("%s: cgo size %d align %d, pinned size %d align %d",
				want.Name, g.Size, g.Align, want.Size, want.Align)
		}
		for i := 0; i < max(len(g.Fields), len(want.Fields)); i++ {
			switch {
			case i >= len(g.Fields):
				t.Errorf("%s: pinned field %+v missing from cgo's struct", want.Name, want.Fields[i])
			case i >= len(want.Fields):
				t.Errorf("%s: cgo's field %+v is not pinned", want.Name, g.Fields[i])
			case g.Fields[i] != want.Fields[i]:
				t.Errorf("%s field %d: cgo %+v, pinned %+v", want.Name, i, g.Fields[i], want.Fields[i])
			}
		}
	}

	// The pins cover each struct whole: fields in order, no overlap, no gap or tail larger than
	// alignment padding.
	for _, l := range pinnedLayouts {
		end := uintptr(0)
		for _, f := range l.Fields {
			if f.Offset < end {
				t.Errorf("pinned %s.%s overlaps the previous field", l.Name, f.Name)
			} else if f.Offset-end >= 8 {
				t.Errorf("pinned %s: %d unlisted bytes before %s", l.Name, f.Offset-end, f.Name)
			}
			end = f.Offset + f.Size
		}
		if l.Size < end || l.Size-end >= l.Align {
			t.Errorf("pinned %s: size %d, fields end at %d", l.Name, l.Size, end)
		}
	}

	// Every field of the structs the package converts (but the bookkeeping ones) has its Go
	// field.
	count := func(name string) int {
		for _, l := range pinnedLayouts {
			if l.Name == name {
				n := 0
				for _, f := range l.Fields {
					if f.Name != "struct_size" && f.Name != "reserved0" {
						n++
					}
				}
				return n
			}
		}
		return -1
	}
	exported := func(v any) int {
		n := 0
		ty := reflect.TypeOf(v)
		for i := 0; i < ty.NumField(); i++ {
			if ty.Field(i).IsExported() {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		c      string
		goType any
	}{
		{"cudago_device_properties_t", DeviceProperties{}},
		{"cudago_pool_stats_t", PoolStats{}},
		{"cudago_pool_config_t", PoolConfig{}},
		{"cudago_error_info_t", Error{}},
	} {
		if want, got := count(c.c), exported(c.goType); want != got {
			t.Errorf("%s has %d fields, %T %d", c.c, want, c.goType, got)
		}
	}
}

func TestPropertiesConversion(t *testing.T) {
	got := testProperties()
	want := DeviceProperties{
		Ordinal: 3, Name: "NVIDIA Test GPU",
		UUID:      [16]byte{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf},
		PCIBusID:  "0000:1a:00.0",
		PCIDomain: 101, PCIBus: 102, PCIDevice: 103, ComputeMajor: 104, ComputeMinor: 105,
		MultiprocessorCount: 106, ClockKHz: 107, MemoryClockKHz: 108, MemoryBusWidthBits: 109,
		L2CacheBytes: 110, MaxThreadsPerBlock: 111, MaxThreadsPerMultiprocessor: 112,
		MaxBlocksPerMultiprocessor: 113, RegistersPerMultiprocessor: 114, WarpSize: 115,
		AsyncEngineCount: 116, ECCEnabled: true, Integrated: false, CanMapHostMemory: true,
		MemoryPoolsSupported: true, StreamPriorityLeast: 117, StreamPriorityGreatest: -118,
		TotalMemory: 1 << 40, FreeMemory: 1<<40 - 119, SharedMemoryPerBlock: 120 << 32,
		SharedMemoryPerBlockOptin: 121 << 32, SharedMemoryPerMultiprocessor: 122 << 32,
	}
	if got != want {
		t.Errorf("propertiesFromC:\n got %+v\nwant %+v", got, want)
	}
	if u := got.UUIDString(); u != "GPU-a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf" {
		t.Errorf("UUIDString() = %q", u)
	}
	if ps := testPoolStats(); ps != (PoolStats{Reserved: 1 << 33, Used: 1<<33 + 1, ReservedHigh: 1<<33 + 2, UsedHigh: 1<<33 + 3}) {
		t.Errorf("poolStatsFromC: %+v", ps)
	}
}

func TestNoDevice(t *testing.T) {
	requireNoGPU(t)
	reason := NoDeviceReason()
	if reason == "" {
		t.Errorf("NoDeviceReason() is empty on a machine without devices")
	}
	ds, err := Devices()
	if err != nil || len(ds) != 0 {
		t.Errorf("Devices() = %v, %v", ds, err)
	}
	_, err = GetDevice(0)
	wantErr(t, "GetDevice(0)", err, ErrNoDevice)
	if err != nil && (!strings.Contains(err.Error(), "device get") || !strings.Contains(err.Error(), reason)) {
		t.Errorf("GetDevice(0) error %q lacks the op or the reason %q", err, reason)
	}

	dev := Device{} // device 0, which does not exist here
	check := func(op string, err error) {
		t.Helper()
		wantErr(t, op, err, ErrNoDevice)
		var e *Error
		if errors.As(err, &e) {
			if e.Op != op || e.Msg == "" || !strings.Contains(e.Error(), op) ||
				!strings.Contains(e.Error(), "CUDAGO_ERROR_NO_DEVICE") {
				t.Errorf("%s: %q (Op %q, Msg %q)", op, e.Error(), e.Op, e.Msg)
			}
		}
	}
	_, err = NewStream(dev, StreamOptions{})
	check("stream create", err)
	_, err = NewEvent(dev, EventOptions{})
	check("event create", err)
	_, err = NewDeviceBuffer[float32](dev, 16)
	check("buffer alloc", err)
	_, err = NewHostBuffer[float32](dev, 16)
	check("host buffer alloc", err)
	_, err = NewMappedBuffer[float32](dev, 16)
	check("host buffer alloc", err)
	_, err = dev.Properties()
	check("device properties", err)
	_, _, err = dev.MemoryInfo()
	check("device memory info", err)
	_, err = dev.PoolStats()
	check("pool stats", err)
	err = AddOnGPU([]float32{1}, []float32{2}, make([]float32, 1))
	wantErr(t, "AddOnGPU", err, ErrNoDevice)
	err = AddOnGPU(nil, nil, nil)
	wantErr(t, "AddOnGPU(empty)", err, ErrNoDevice)
}

// Validation done in Go: these never reach C, so they behave the same with or without a GPU.
func TestGoSideValidation(t *testing.T) {
	dev := Device{}
	opOf := func(err error) string {
		var e *Error
		if errors.As(err, &e) {
			return e.Op
		}
		return ""
	}
	_, err := NewDeviceBuffer[float64](dev, -1)
	wantErr(t, "NewDeviceBuffer(-1)", err, ErrInvalidArgument)
	if opOf(err) != "buffer alloc" || !strings.Contains(err.Error(), "negative") {
		t.Errorf("NewDeviceBuffer(-1): %v", err)
	}
	_, err = NewDeviceBuffer[float64](dev, math.MaxInt/2)
	wantErr(t, "NewDeviceBuffer(MaxInt/2 float64)", err, ErrInvalidArgument)
	if !strings.Contains(fmt.Sprint(err), "overflow") {
		t.Errorf("overflow error: %v", err)
	}
	_, err = NewDeviceBuffer[uint16](dev, math.MaxInt)
	wantErr(t, "NewDeviceBuffer(MaxInt uint16)", err, ErrInvalidArgument)
	_, err = NewHostBuffer[int32](dev, -5)
	wantErr(t, "NewHostBuffer(-5)", err, ErrInvalidArgument)
	_, err = NewHostBuffer[float64](dev, math.MaxInt/4)
	wantErr(t, "NewHostBuffer(MaxInt/4 float64)", err, ErrInvalidArgument)
	_, err = NewMappedBuffer[int64](dev, math.MinInt)
	wantErr(t, "NewMappedBuffer(MinInt)", err, ErrInvalidArgument)
	_, err = NewDeviceBufferAsync[float32](nil, -1)
	wantErr(t, "NewDeviceBufferAsync(nil, -1)", err, ErrInvalidArgument)
	_, err = NewDeviceBufferAsync[float32](nil, 4)
	wantErr(t, "NewDeviceBufferAsync(nil, 4)", err, ErrInvalidHandle)
	if math.MaxInt > math.MaxInt32 {
		big := math.MaxInt32
		_, err = NewStream(dev, StreamOptions{Priority: big + 1})
		wantErr(t, "NewStream(priority 2^31)", err, ErrInvalidArgument)
	}
	err = AddOnGPU(make([]float32, 3), make([]float32, 3), make([]float32, 2))
	wantErr(t, "AddOnGPU(3, 3, 2)", err, ErrOutOfRange)
	if opOf(err) != "AddOnGPU" {
		t.Errorf("AddOnGPU op: %v", err)
	}
	err = AddOnGPU(make([]float32, 1), nil, nil)
	wantErr(t, "AddOnGPU(1, 0, 0)", err, ErrOutOfRange)
}

// Nil handles return ErrInvalidHandle (never ErrClosed) and never crash.
func TestNilHandles(t *testing.T) {
	ctx := context.Background()
	var s *Stream
	var e *Event
	var b *DeviceBuffer[float32]
	zb := &DeviceBuffer[float32]{}
	var h *HostBuffer[float32]
	var m *MappedBuffer[float32]
	isNil := func(what string, err error) {
		t.Helper()
		wantErr(t, what, err, ErrInvalidHandle)
		if errors.Is(err, ErrClosed) {
			t.Errorf("%s: nil handle error matches ErrClosed", what)
		}
	}
	isNil("Stream.Synchronize", s.Synchronize())
	_, err := s.Query()
	isNil("Stream.Query", err)
	isNil("Stream.Wait", s.Wait(ctx))
	isNil("Stream.WaitEvent", s.WaitEvent(nil))
	if s.Close() != nil || s.Device() != (Device{}) || s.Priority() != 0 {
		t.Errorf("nil Stream Close/Device/Priority")
	}
	isNil("Event.Record", e.Record(nil))
	isNil("Event.Synchronize", e.Synchronize())
	_, err = e.Query()
	isNil("Event.Query", err)
	isNil("Event.Wait", e.Wait(ctx))
	_, err = Elapsed(nil, nil)
	isNil("Elapsed", err)
	if e.Close() != nil {
		t.Errorf("nil Event Close")
	}
	for _, buf := range []*DeviceBuffer[float32]{b, zb} {
		if buf.Len() != 0 || buf.Bytes() != 0 || buf.Device() != (Device{}) {
			t.Errorf("nil DeviceBuffer Len/Bytes/Device")
		}
		isNil("CopyFromHost", buf.CopyFromHost(nil))
		isNil("CopyFromHost(1)", buf.CopyFromHost(make([]float32, 1)))
		isNil("CopyToHost", buf.CopyToHost(nil))
		isNil("CopyFromHostAt", buf.CopyFromHostAt(0, nil))
		isNil("CopyToHostAt", buf.CopyToHostAt(nil, 0))
		isNil("CopyFrom", buf.CopyFrom(nil))
		isNil("CopyFromAsync", buf.CopyFromAsync(nil, nil))
		isNil("CopyFromHostAsync", buf.CopyFromHostAsync(nil, nil))
		isNil("CopyToHostAsync", buf.CopyToHostAsync(nil, nil))
		isNil("Memset", buf.Memset(0))
		isNil("MemsetAsync", buf.MemsetAsync(nil, 0))
		isNil("Add", Add(nil, buf, buf, buf))
		if buf.Close() != nil {
			t.Errorf("nil DeviceBuffer Close")
		}
	}
	isNil("Add(nil...)", Add[float32](nil, nil, nil, nil))
	if h.Slice() != nil || h.Len() != 0 || h.Bytes() != 0 || h.Close() != nil {
		t.Errorf("nil HostBuffer Slice/Len/Bytes/Close")
	}
	if m.Slice() != nil || m.Len() != 0 || m.Bytes() != 0 || m.Close() != nil || m.Host() != nil {
		t.Errorf("nil MappedBuffer Slice/Len/Bytes/Close/Host")
	}
	_, err = m.Device()
	isNil("MappedBuffer.Device", err)
	zh := &HostBuffer[float32]{}
	if zh.Slice() != nil || zh.Len() != 0 || zh.Close() != nil {
		t.Errorf("zero HostBuffer")
	}
}
