//go:build cgo

package rtc_test

// Tests of the facade: every exported function and method of the package is called at least
// once in a way that needs no GPU (nil handles, invalid arguments and options, compiles
// without a device, the compile cache), and the error is checked for its sentinel, its
// operation and, where the implementation names the argument at fault, its message. The
// operation names tell which implementation a facade forwarded to; the messages tell that the
// arguments and options arrived in their places. The compiles run NVRTC, which needs no GPU;
// the checks of what Compile returns without a device skip on a machine with one.

import (
	"bytes"
	"errors"
	"github.com/cudago/cudago/go/internal/testutil"
	"strings"
	"testing"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/rtc"
)

// facadeSrc compiles only where V is defined as 7.
const facadeSrc = "#if V != 7\n#error V is not 7\n#endif\n" +
	"extern \"C\" __global__ void facade_k(int* p) { *p = V; }\n"

func TestFacadeCompileArguments(t *testing.T) {
	dev := cudago.Device{}
	ok := rtc.CompileOptions{Defines: map[string]string{"V": "7"}}
	_, err := rtc.Compile(dev, "int x;\x00", ok)
	testutil.WantErr(t, "Compile NUL in source", err, cudago.ErrInvalidArgument, "module compile",
		"source contains a NUL byte")
	// Every option reaches the implementation, which names the one holding a NUL byte.
	for _, c := range []struct {
		what string
		opts rtc.CompileOptions
		want string
	}{
		{"arch", rtc.CompileOptions{Arch: "sm_9\x000"}, "the arch"},
		{"std", rtc.CompileOptions{Std: "c++\x0017"}, "the std"},
		{"option", rtc.CompileOptions{Options: []string{"-lineinfo", "-x\x00"}}, "the option"},
		{"define name", rtc.CompileOptions{Defines: map[string]string{"A\x00": "1"}}, "the define name"},
		{"define value", rtc.CompileOptions{Defines: map[string]string{"A": "1\x00"}}, "the define value"},
		{"header name", rtc.CompileOptions{Headers: map[string]string{"h\x00.cuh": ""}}, "the header name"},
		{"header content", rtc.CompileOptions{Headers: map[string]string{"h.cuh": "\x00"}},
			`the header content of "h.cuh"`},
		{"name expression", rtc.CompileOptions{NameExpressions: []string{"k<\x00>"}}, "the name expression"},
	} {
		_, err := rtc.Compile(dev, facadeSrc, c.opts)
		testutil.WantErr(t, "Compile NUL in "+c.what, err, cudago.ErrInvalidArgument, "module compile",
			c.want, "contains a NUL byte")
		withArch := c.opts
		if withArch.Arch == "" {
			withArch.Arch = "sm_90"
		}
		_, err = rtc.CompileImage(facadeSrc, withArch)
		testutil.WantErr(t, "CompileImage NUL in "+c.what, err, cudago.ErrInvalidArgument, "rtc compile",
			c.want, "contains a NUL byte")
	}
	_, err = rtc.CompileImage(facadeSrc, ok)
	testutil.WantErr(t, "CompileImage without Arch", err, cudago.ErrInvalidArgument, "rtc compile",
		"CompileImage needs CompileOptions.Arch")
	_, err = rtc.CompileImage("int x;\x00", rtc.CompileOptions{Arch: "sm_90"})
	testutil.WantErr(t, "CompileImage NUL in source", err, cudago.ErrInvalidArgument, "rtc compile",
		"source contains a NUL byte")

	testutil.WantErr(t, "SetCacheDir NUL", rtc.SetCacheDir("/tmp/a\x00b"), cudago.ErrInvalidArgument,
		"rtc cache set dir", "dir contains a NUL byte")
	testutil.WantErr(t, "SetCacheCapacity(-1)", rtc.SetCacheCapacity(-1), cudago.ErrInvalidArgument,
		"rtc cache set capacity", "negative capacity")
}

func TestFacadeCompileNoDevice(t *testing.T) {
	n, err := cudago.DeviceCount()
	if err != nil {
		t.Fatalf("DeviceCount: %v", err)
	}
	if n > 0 {
		t.Skipf("%d CUDA device(s) present; this test checks the behaviour without one", n)
	}
	for _, arch := range []string{"", "sm_90"} {
		m, err := rtc.Compile(cudago.Device{}, facadeSrc, rtc.CompileOptions{Arch: arch,
			Defines: map[string]string{"V": "7"}})
		testutil.WantErr(t, "Compile "+arch, err, cudago.ErrNoDevice, "module compile")
		if m != nil {
			t.Errorf("Compile returned a module with an error")
		}
	}
}

// CompileImage runs NVRTC without a GPU: the options reach it (a define decides whether the
// source compiles, Arch whether the image is PTX or a CUBIN), and its errors carry the log.
func TestFacadeCompileImage(t *testing.T) {
	t.Cleanup(func() {
		if err := rtc.SetCacheDir(""); err != nil {
			t.Errorf("SetCacheDir(\"\"): %v", err)
		}
		if err := rtc.SetCacheCapacity(256); err != nil {
			t.Errorf("SetCacheCapacity(256): %v", err)
		}
		if err := rtc.ClearCache(); err != nil {
			t.Errorf("ClearCache: %v", err)
		}
	})
	seven := map[string]string{"V": "7"}
	ptx, err := rtc.CompileImage(facadeSrc, rtc.CompileOptions{Arch: "compute_90", Defines: seven,
		NoCache: true})
	if err != nil || !bytes.Contains(ptx, []byte(".entry facade_k")) {
		t.Errorf("CompileImage(compute_90) = %d bytes without .entry facade_k, %v", len(ptx), err)
	}
	cubin, err := rtc.CompileImage(facadeSrc, rtc.CompileOptions{Arch: "sm_90", Defines: seven,
		NoCache: true})
	if err != nil || !bytes.HasPrefix(cubin, []byte("\x7fELF")) {
		t.Errorf("CompileImage(sm_90) = %d bytes, not an ELF image, %v", len(cubin), err)
	}

	_, err = rtc.CompileImage(facadeSrc, rtc.CompileOptions{Arch: "sm_90",
		Defines: map[string]string{"V": "8"}, NoCache: true})
	testutil.WantErr(t, "CompileImage V=8", err, cudago.ErrNVRTC, "rtc compile", "V is not 7")
	var ce *rtc.CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("CompileImage V=8: %v (%T) is not a *CompileError", err, err)
	}
	if !strings.Contains(ce.Log, "V is not 7") || !strings.Contains(ce.Log, "rtc_source.cu(2)") {
		t.Errorf("CompileError.Log = %q", ce.Log)
	}
	if ce.Error() != ce.Err.Error() || ce.Unwrap() != error(ce.Err) {
		t.Errorf("CompileError: Error %q, Unwrap %v; want the *Error's", ce.Error(), ce.Unwrap())
	}

	// The compile cache: a hit, then no caching at capacity 0, then the disk.
	if err := rtc.SetCacheDir(""); err != nil {
		t.Fatalf("SetCacheDir(\"\"): %v", err)
	}
	if err := rtc.SetCacheCapacity(256); err != nil {
		t.Fatalf("SetCacheCapacity(256): %v", err)
	}
	if err := rtc.ClearCache(); err != nil {
		t.Fatalf("ClearCache: %v", err)
	}
	stats := func(want rtc.CacheStats) {
		t.Helper()
		if st, err := rtc.ReadCacheStats(); err != nil || st != want {
			t.Errorf("ReadCacheStats() = %+v, %v; want %+v", st, err, want)
		}
	}
	stats(rtc.CacheStats{})
	opts := rtc.CompileOptions{Arch: "compute_90", Defines: seven}
	for i := 0; i < 2; i++ {
		if _, err := rtc.CompileImage(facadeSrc, opts); err != nil {
			t.Fatalf("CompileImage (cached): %v", err)
		}
	}
	stats(rtc.CacheStats{Misses: 1, Hits: 1, Entries: 1})
	noCache := opts
	noCache.NoCache = true
	if _, err := rtc.CompileImage(facadeSrc, noCache); err != nil {
		t.Fatalf("CompileImage (NoCache): %v", err)
	}
	stats(rtc.CacheStats{Misses: 1, Hits: 1, Entries: 1})

	if err := rtc.SetCacheCapacity(0); err != nil {
		t.Fatalf("SetCacheCapacity(0): %v", err)
	}
	if err := rtc.ClearCache(); err != nil {
		t.Fatalf("ClearCache: %v", err)
	}
	for i := 0; i < 2; i++ {
		if _, err := rtc.CompileImage(facadeSrc, opts); err != nil {
			t.Fatalf("CompileImage (capacity 0): %v", err)
		}
	}
	stats(rtc.CacheStats{Misses: 2})

	if err := rtc.SetCacheDir(t.TempDir()); err != nil {
		t.Fatalf("SetCacheDir: %v", err)
	}
	if err := rtc.SetCacheCapacity(256); err != nil {
		t.Fatalf("SetCacheCapacity(256): %v", err)
	}
	if _, err := rtc.CompileImage(facadeSrc, opts); err != nil { // written to the disk
		t.Fatalf("CompileImage (disk): %v", err)
	}
	if err := rtc.ClearCache(); err != nil {
		t.Fatalf("ClearCache: %v", err)
	}
	if _, err := rtc.CompileImage(facadeSrc, opts); err != nil { // read from the disk
		t.Fatalf("CompileImage (disk hit): %v", err)
	}
	stats(rtc.CacheStats{DiskHits: 1, Entries: 1})
}

func TestFacadeNilModuleAndKernel(t *testing.T) {
	var m *rtc.Module
	if m.Device() != (cudago.Device{}) || m.Close() != nil {
		t.Errorf("nil Module: Device %v, Close %v", m.Device(), m.Close())
	}
	log, err := m.Log()
	testutil.WantNil(t, "Module.Log", err, "module log", "nil *Module")
	if log != "" {
		t.Errorf("nil Module.Log() = %q", log)
	}
	k, err := m.Kernel("facade_k")
	testutil.WantNil(t, "Module.Kernel", err, "module kernel", "nil *Module")
	if k != nil {
		t.Errorf("nil Module.Kernel returned a kernel")
	}
	_, err = m.Kernel("facade\x00k")
	testutil.WantErr(t, "Module.Kernel NUL", err, cudago.ErrInvalidArgument, "module kernel",
		"name contains a NUL byte")

	if k.Close() != nil || k.Name() != "" || k.Attributes() != (rtc.KernelAttributes{}) {
		t.Errorf("nil Kernel: Close %v, Name %q, Attributes %+v", k.Close(), k.Name(), k.Attributes())
	}
	block, grid, err := k.Occupancy(0)
	testutil.WantNil(t, "Kernel.Occupancy", err, "kernel occupancy", "nil *Kernel")
	if block != 0 || grid != 0 {
		t.Errorf("nil Kernel.Occupancy() = %d, %d", block, grid)
	}
	_, _, err = k.Occupancy(-1)
	testutil.WantErr(t, "Kernel.Occupancy(-1)", err, cudago.ErrInvalidArgument, "kernel occupancy",
		"negative dynamic shared memory")
}

func TestFacadeLaunch(t *testing.T) {
	var k *rtc.Kernel
	var s *cudago.Stream
	one := rtc.Dim3{X: 1}
	type pair struct {
		A int32
		B float32
	}
	// Valid arguments of every kind reach the handle check.
	err := k.Launch(s, rtc.Dim3{X: 4, Y: 2}, rtc.Dim3{X: 32, Y: 1, Z: 1}, 128,
		rtc.Int32(-1), rtc.Uint32(2), rtc.Int64(-3), rtc.Uint64(4), rtc.Float32(5), rtc.Float64(6),
		rtc.StructArg(pair{A: 7, B: 8}), rtc.StructArg([4]float32{}))
	testutil.WantNil(t, "Launch", err, "kernel launch", "nil *Kernel")
	testutil.WantNil(t, "Launch without arguments", k.Launch(s, one, one, 0), "kernel launch", "nil *Kernel")

	// The shapes, the shared memory size and each argument are checked in that order, and
	// named.
	for _, c := range []struct {
		what        string
		grid, block rtc.Dim3
		smem        int
		args        []rtc.Arg
		want        string
		nilArg      bool // the error of a nil buffer: ErrInvalidHandle
	}{
		{"grid X", rtc.Dim3{}, one, 0, nil, "grid dimension 0 is out of [1, 2^32)", false},
		{"grid Y", rtc.Dim3{X: 1, Y: -2}, one, 0, nil, "grid dimension -2", false},
		{"grid Z", rtc.Dim3{X: 1, Z: 1 << 32}, one, 0, nil, "grid dimension 4294967296", false},
		{"block X", one, rtc.Dim3{X: -3}, 0, nil, "block dimension -3", false},
		{"block Y", one, rtc.Dim3{X: 1, Y: -4}, 0, nil, "block dimension -4", false},
		{"shared memory", one, one, -1, nil, "dynamic shared memory -1 is out of range", false},
		{"nil buffer", one, one, 0, []rtc.Arg{rtc.Int32(1), rtc.BufArg[float32](nil)},
			"argument 1: nil *DeviceBuffer argument", true},
		{"zero buffer", one, one, 0, []rtc.Arg{rtc.BufArg(&cudago.DeviceBuffer[float64]{}, 3)},
			"argument 0: nil *DeviceBuffer argument", true},
		{"nil mapped buffer", one, one, 0,
			[]rtc.Arg{rtc.Float32(1), rtc.Float64(2), rtc.MappedArg[int32](nil)},
			"argument 2: nil *MappedBuffer argument", true},
		{"struct of an int", one, one, 0, []rtc.Arg{rtc.StructArg(42)},
			"argument 0: StructArg needs a struct or array value, got int", false},
		{"struct with a pointer", one, one, 0, []rtc.Arg{rtc.StructArg(struct{ P *int }{})},
			"holds a ptr", false},
		{"empty struct", one, one, 0, []rtc.Arg{rtc.StructArg(struct{}{})}, "has size 0", false},
		{"too many arguments", one, one, 0, make([]rtc.Arg, 32765), "32765 arguments", false},
	} {
		args := c.args
		if c.what == "too many arguments" {
			for i := range args {
				args[i] = rtc.Uint64(uint64(i))
			}
		}
		target := cudago.ErrInvalidArgument
		if c.nilArg {
			target = cudago.ErrInvalidHandle
		}
		testutil.WantErr(t, "Launch "+c.what, k.Launch(s, c.grid, c.block, c.smem, args...), target,
			"kernel launch", c.want)
	}
}
