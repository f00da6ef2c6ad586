//go:build cgo

package cudago

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// These tests need no GPU.

// statusLast is the newest status; update it when cudago_status_t grows.
const statusLast = StatusCapture

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

// The structs shared between C and Go: size, alignment and every field's offset and size as
// the C compiler sees them (shim.c) against the cgo types the package reads and writes.
func TestStructLayouts(t *testing.T) {
	cl, gl := cLayouts(), goLayouts()
	if len(cl) != 4 || len(gl) != len(cl) {
		t.Fatalf("%d C layouts, %d Go layouts", len(cl), len(gl))
	}
	for i := range cl {
		c, g := cl[i], gl[i]
		if c.Name != g.Name || c.Size != g.Size || c.Align != g.Align {
			t.Errorf("%s: C size %d align %d; Go (%s) size %d align %d", c.Name, c.Size, c.Align, g.Name, g.Size, g.Align)
		}
		if !reflect.DeepEqual(c.Fields, g.Fields) {
			t.Errorf("%s fields differ:\nC  %v\nGo %v", c.Name, c.Fields, g.Fields)
		}
		// The listed fields cover the whole struct: a field added to the header without being
		// listed here shows as a gap or a tail larger than the alignment padding.
		fs := append([]fieldLayout(nil), c.Fields...)
		sort.Slice(fs, func(a, b int) bool { return fs[a].Offset < fs[b].Offset })
		end := uintptr(0)
		for _, f := range fs {
			if f.Offset < end {
				t.Errorf("%s.%s overlaps the previous field", c.Name, f.Name)
			}
			if f.Offset-end >= 8 {
				t.Errorf("%s: %d unlisted bytes before %s", c.Name, f.Offset-end, f.Name)
			}
			end = f.Offset + f.Size
		}
		if c.Size-end >= c.Align {
			t.Errorf("%s: %d unlisted bytes at the end", c.Name, c.Size-end)
		}
		if c.Fields[0].Name != "struct_size" || c.Fields[0].Offset != 0 {
			t.Errorf("%s does not start with struct_size", c.Name)
		}
	}
	// Every C field (but the bookkeeping ones) has its Go field.
	count := func(name string) int {
		for _, l := range cl {
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
		isNil("VectorAdd", VectorAdd(nil, buf, buf, buf))
		if buf.Close() != nil {
			t.Errorf("nil DeviceBuffer Close")
		}
	}
	isNil("VectorAdd(nil...)", VectorAdd(nil, nil, nil, nil))
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
