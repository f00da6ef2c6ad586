//go:build cgo

package capi

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Run-time compilation and launch, against CPU references on fresh random data with poisoned
// outputs. Without a GPU: compile-only images (sm_90), compile errors and their log, option and
// argument validation, the memory cache and the disk cache across processes.
//
// Error bounds: SAXPY and the struct kernel do one float multiply-add per element, which the GPU
// may contract to an FMA: within 2 float ulps of |a·x| + |y| of the CPU's FMA. Block sums add
// about 400 floats in float: 1e-5 of the sum of magnitudes.

const rtcSaxpy = `#include "axpy_op.h"
extern "C" __global__ void saxpy(REAL a, const REAL* x, REAL* y, unsigned long long n) {
  unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
  if (i < n) y[i] = axpy_op(a, x[i], y[i]);
}
`

var rtcSaxpyOpts = CompileOptions{
	Defines: map[string]string{"REAL": "float"},
	Headers: map[string]string{
		"axpy_op.h": "__device__ inline REAL axpy_op(REAL a, REAL x, REAL y) { return a * x + y; }\n",
	},
}

const rtcBad = "extern \"C\" __global__ void bad(float* y) {\n" +
	"  y[0] = 1.0f;\n" +
	"  undeclared_thing(y);\n" +
	"}\n"

var rtcCounter atomic.Int64

// rtcUnique makes a source no earlier compile (in this process or a shared disk dir) has seen.
func rtcUnique(src string) string {
	return fmt.Sprintf("// go rtc test %d-%d-%d\n%s", os.Getpid(), rtcCounter.Add(1),
		time.Now().UnixNano(), src)
}

func withArch(o CompileOptions, arch string) CompileOptions {
	o.Arch = arch
	return o
}

func TestCompileImageWithoutDevice(t *testing.T) {
	img, err := CompileImage(rtcSaxpy, withArch(rtcSaxpyOpts, "sm_90"))
	must(t, "CompileImage sm_90", err)
	if len(img) < 4 || string(img[:4]) != "\x7fELF" {
		t.Fatalf("CUBIN does not start with the ELF magic: % x", img[:min(len(img), 4)])
	}
	ptx, err := CompileImage(rtcSaxpy, withArch(rtcSaxpyOpts, "compute_90"))
	must(t, "CompileImage compute_90", err)
	if !strings.Contains(string(ptx), ".entry saxpy") {
		t.Errorf("PTX lacks the saxpy entry")
	}
	// Templates through name expressions.
	tmpl := "template <typename T> __global__ void scale(T* x, T s) { x[threadIdx.x] *= s; }\n"
	ptx, err = CompileImage(tmpl, CompileOptions{Arch: "compute_90",
		NameExpressions: []string{"scale<float>", "scale<double>"}})
	must(t, "CompileImage template", err)
	for _, mangled := range []string{"_Z5scaleIfEvPT_S0_", "_Z5scaleIdEvPT_S0_"} {
		if !strings.Contains(string(ptx), mangled) {
			t.Errorf("PTX lacks %s", mangled)
		}
	}
}

func TestCompileErrorCarriesFullLog(t *testing.T) {
	_, err := CompileImage(rtcBad, CompileOptions{Arch: "sm_90"})
	wantErr(t, "bad source", err, ErrNVRTC)
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("error %T %v is not a *CompileError", err, err)
	}
	if !strings.Contains(ce.Log, "(3)") || !strings.Contains(ce.Log, "error") ||
		!strings.Contains(ce.Log, "undeclared_thing") {
		t.Errorf("log lacks the line and the error:\n%s", ce.Log)
	}
	if !strings.Contains(err.Error(), ce.Log) {
		t.Errorf("the error text lacks the log:\n%s", err.Error())
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != StatusNVRTC {
		t.Errorf("errors.As *Error: %v", e)
	}

	// A log far longer than the first buffer (64 KiB) still arrives whole.
	var b strings.Builder
	b.WriteString("extern \"C\" __global__ void many(int* p) {\n")
	for i := 0; i < 90; i++ {
		fmt.Fprintf(&b, "  p[%d] = undefined_identifier_with_a_long_name_number_%d_%s;\n", i, i,
			strings.Repeat("x", 900))
	}
	b.WriteString("}\n")
	_, err = CompileImage(b.String(), CompileOptions{Arch: "sm_90", NoCache: true})
	if !errors.As(err, &ce) {
		t.Fatalf("long log: error %v is not a *CompileError", err)
	}
	if len(ce.Log) <= compileLogCap || !strings.Contains(ce.Log, "number_89_") {
		t.Errorf("long log: %d bytes, last error present: %v", len(ce.Log),
			strings.Contains(ce.Log, "number_89_"))
	}
}

func TestCompileValidation(t *testing.T) {
	_, err := CompileImage(rtcSaxpy, CompileOptions{})
	wantErr(t, "no arch", err, ErrInvalidArgument)
	_, err = CompileImage(rtcSaxpy, CompileOptions{Arch: "gfx90a"})
	wantErr(t, "bad arch", err, ErrInvalidArgument)
	_, err = CompileImage("a\x00b", CompileOptions{Arch: "sm_90"})
	wantErr(t, "NUL in source", err, ErrInvalidArgument)
	// Regression (fuzzing): a NUL inside any string was cut there by C instead of refused.
	for what, o := range map[string]CompileOptions{
		"define name":     {Defines: map[string]string{"A\x00B": "1"}},
		"define value":    {Defines: map[string]string{"A": "1\x00; evil"}},
		"header name":     {Headers: map[string]string{"h\x00.h": "int x;"}},
		"header content":  {Headers: map[string]string{"h.h": "int x;\x00 int y;"}},
		"name expression": {NameExpressions: []string{"k<float>\x00"}},
		"option":          {Options: []string{"-DA\x00"}},
	} {
		o.Arch, o.NoCache = "sm_90", true
		_, err = CompileImage(rtcSaxpy, o)
		wantErr(t, "NUL in "+what, err, ErrInvalidArgument)
		if err == nil || !strings.Contains(err.Error(), what) || !strings.Contains(err.Error(), "NUL") {
			t.Errorf("NUL in %s: the error %v does not name it", what, err)
		}
	}
	// Regression (fuzzing): NVRTC 13.0 lowers this name expression to a NULL name (the source
	// holds a 0xFF byte); libcudago dereferenced it.
	_, err = CompileImage("template <typename T> __global__ void k(T* x) { *x = 0; }\n\xff\n",
		CompileOptions{Arch: "sm_90", NoCache: true, NameExpressions: []string{"k<float>"}})
	wantErr(t, "unlowered name expression", err, ErrNVRTC)
	_, err = CompileImage(rtcSaxpy, CompileOptions{Arch: "sm_90", Options: []string{"--no-such-option-cudago"}})
	wantErr(t, "unknown option", err, ErrInvalidArgument)
	_, err = CompileImage(rtcSaxpy, CompileOptions{Arch: "sm_90", Defines: map[string]string{"": "1"}})
	wantErr(t, "empty define", err, ErrInvalidArgument)
	// Without the header the include fails.
	_, err = CompileImage(rtcSaxpy, CompileOptions{Arch: "sm_90", Defines: rtcSaxpyOpts.Defines})
	wantErr(t, "missing header", err, ErrNVRTC)

	// Nil handles and bad arguments, all refused before C.
	var k *Kernel
	wantErr(t, "nil kernel launch", k.Launch(nil, Dim3{X: 1}, Dim3{X: 1}, 0), ErrInvalidHandle)
	wantErr(t, "zero grid", k.Launch(nil, Dim3{}, Dim3{X: 1}, 0), ErrInvalidArgument)
	wantErr(t, "negative smem", k.Launch(nil, Dim3{X: 1}, Dim3{X: 1}, -1), ErrInvalidArgument)
	type withPtr struct {
		A int32
		P *int
	}
	wantErr(t, "struct with pointer", k.Launch(nil, Dim3{X: 1}, Dim3{X: 1}, 0, StructArg(withPtr{})),
		ErrInvalidArgument)
	wantErr(t, "non-struct", k.Launch(nil, Dim3{X: 1}, Dim3{X: 1}, 0, StructArg(3)), ErrInvalidArgument)
	wantErr(t, "string field", k.Launch(nil, Dim3{X: 1}, Dim3{X: 1}, 0,
		StructArg(struct{ S string }{})), ErrInvalidArgument)
	wantErr(t, "nil buffer", k.Launch(nil, Dim3{X: 1}, Dim3{X: 1}, 0, BufArg[float32](nil)),
		ErrInvalidHandle)
	if a := StructArg(struct {
		A float32
		B [3]int16
		C float64
	}{}); a.err != nil || len(a.bytes) != 24 {
		t.Errorf("plain struct: err %v, %d bytes (want 24)", a.err, len(a.bytes))
	}
	if a := StructArg(rtcAffine{Scale: 1, Bias: 2}); a.err != nil || len(a.bytes) != 24 {
		t.Errorf("rtcAffine: err %v, %d bytes (want 24)", a.err, len(a.bytes))
	}
	var m *Module
	_, err = m.Kernel("saxpy")
	wantErr(t, "nil module", err, ErrInvalidHandle)
	if err := m.Close(); err != nil {
		t.Errorf("nil module Close: %v", err)
	}
	if err := k.Close(); err != nil {
		t.Errorf("nil kernel Close: %v", err)
	}
}

func TestCompileWithoutDeviceIsNoDevice(t *testing.T) {
	requireNoGPU(t)
	_, err := Compile(Device{}, rtcSaxpy, rtcSaxpyOpts)
	wantErr(t, "Compile without a device", err, ErrNoDevice)
	_, err = Compile(Device{}, rtcSaxpy, withArch(rtcSaxpyOpts, "sm_90"))
	wantErr(t, "Compile sm_90 without a device", err, ErrNoDevice)
}

func TestCompileCacheMemory(t *testing.T) {
	must(t, "SetCompileCacheDir", SetCompileCacheDir(""))
	must(t, "ClearCompileCache", ClearCompileCache())
	t.Cleanup(func() { _ = ClearCompileCache() })
	src := rtcUnique("extern \"C\" __global__ void k(int* p) { *p = 7; }\n")
	opts := CompileOptions{Arch: "sm_90"}
	a, err := CompileImage(src, opts)
	must(t, "first compile", err)
	s, err := GetCompileCacheStats()
	must(t, "stats", err)
	if s.Misses != 1 || s.Hits != 0 || s.Entries != 1 {
		t.Errorf("after the first compile: %+v, want 1 miss, 0 hits, 1 entry", s)
	}
	b, err := CompileImage(src, opts)
	must(t, "second compile", err)
	s, _ = GetCompileCacheStats()
	if s.Misses != 1 || s.Hits != 1 {
		t.Errorf("after the second compile: %+v, want 1 miss, 1 hit", s)
	}
	if string(a) != string(b) {
		t.Errorf("the cached image differs")
	}
	opts.Defines = map[string]string{"X": "1"}
	_, err = CompileImage(src, opts)
	must(t, "compile with a define", err)
	if s, _ = GetCompileCacheStats(); s.Misses != 2 {
		t.Errorf("another define should miss: %+v", s)
	}
	opts.NoCache = true
	_, err = CompileImage(src, opts)
	must(t, "compile without the cache", err)
	if s2, _ := GetCompileCacheStats(); s2 != s {
		t.Errorf("NoCache touched the cache: %+v -> %+v", s, s2)
	}
	must(t, "capacity 1", SetCompileCacheCapacity(1))
	if s, _ = GetCompileCacheStats(); s.Entries != 1 {
		t.Errorf("capacity 1 keeps %d entries", s.Entries)
	}
	must(t, "capacity 256", SetCompileCacheCapacity(256))
	wantErr(t, "negative capacity", SetCompileCacheCapacity(-1), ErrInvalidArgument)
}

// The child half of TestCompileCacheDiskAcrossProcesses: a fresh process compiles the same
// source with the same disk dir and must find it there without compiling.
func rtcDiskChild(t *testing.T, dir, src string) {
	must(t, "child SetCompileCacheDir", SetCompileCacheDir(dir))
	_, err := CompileImage(src, CompileOptions{Arch: "sm_90"})
	must(t, "child compile", err)
	s, err := GetCompileCacheStats()
	must(t, "child stats", err)
	if s.DiskHits != 1 || s.Misses != 0 {
		t.Fatalf("child: %+v, want 1 disk hit and no compile", s)
	}
	fmt.Println("RTC-DISK-CHILD-OK")
}

func TestCompileCacheDiskAcrossProcesses(t *testing.T) {
	if dir := os.Getenv("CUDAGO_RTC_CHILD_DIR"); dir != "" {
		rtcDiskChild(t, dir, os.Getenv("CUDAGO_RTC_CHILD_SRC"))
		return
	}
	dir := t.TempDir()
	must(t, "SetCompileCacheDir", SetCompileCacheDir(dir))
	t.Cleanup(func() { _ = SetCompileCacheDir(""); _ = ClearCompileCache() })
	must(t, "ClearCompileCache", ClearCompileCache())
	src := rtcUnique("extern \"C\" __global__ void k(float* p) { *p = 1.5f; }\n")
	_, err := CompileImage(src, CompileOptions{Arch: "sm_90"})
	must(t, "compile", err)
	if s, _ := GetCompileCacheStats(); s.Misses != 1 {
		t.Fatalf("parent: %+v, want 1 miss", s)
	}
	entries, err := os.ReadDir(dir)
	must(t, "ReadDir", err)
	if len(entries) != 1 {
		t.Fatalf("%d files in the cache dir, want 1 (no temporaries left)", len(entries))
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestCompileCacheDiskAcrossProcesses$", "-test.v")
	cmd.Env = append(os.Environ(), "CUDAGO_RTC_CHILD_DIR="+dir, "CUDAGO_RTC_CHILD_SRC="+src)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "RTC-DISK-CHILD-OK") {
		t.Fatalf("child process: %v\n%s", err, out)
	}

	// A corrupt file is ignored and replaced.
	path := dir + "/" + entries[0].Name()
	must(t, "corrupt", os.WriteFile(path, []byte("CUDAGO-RTC-CACHE-1\ngarbage"), 0o644))
	must(t, "ClearCompileCache", ClearCompileCache())
	_, err = CompileImage(src, CompileOptions{Arch: "sm_90"})
	must(t, "compile over a corrupt file", err)
	if s, _ := GetCompileCacheStats(); s.Misses != 1 || s.DiskHits != 0 {
		t.Errorf("corrupt file: %+v, want a compile", s)
	}
	must(t, "ClearCompileCache", ClearCompileCache())
	_, err = CompileImage(src, CompileOptions{Arch: "sm_90"})
	must(t, "compile after the rewrite", err)
	if s, _ := GetCompileCacheStats(); s.DiskHits != 1 {
		t.Errorf("rewritten file: %+v, want a disk hit", s)
	}
}

// ---- on a GPU ----

func compileSaxpy(t *testing.T, dev Device) (*Module, *Kernel) {
	t.Helper()
	m, err := Compile(dev, rtcUnique(rtcSaxpy), rtcSaxpyOpts)
	must(t, "Compile saxpy", err)
	closeT(t, "module", m)
	k, err := m.Kernel("saxpy")
	must(t, "Kernel saxpy", err)
	closeT(t, "kernel", k)
	return m, k
}

func TestRTCSaxpy(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	_, k := compileSaxpy(t, dev)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	for _, n := range []int{1, 1000003} {
		x, y := randFloats(r, n), randFloats(r, n)
		a := float32(r.Float64()*4 - 2)
		bx, err := NewDeviceBuffer[float32](dev, n)
		must(t, "alloc x", err)
		by, err := NewDeviceBuffer[float32](dev, n)
		must(t, "alloc y", err)
		must(t, "copy x", bx.CopyFromHost(x))
		must(t, "copy y", by.CopyFromHost(y))
		must(t, "launch", k.Launch(s, Dim3{X: (n + 255) / 256}, Dim3{X: 256}, 0,
			Float32(a), BufArg(bx), BufArg(by), Uint64(uint64(n))))
		must(t, "sync", s.Synchronize())
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(math.NaN())
		}
		must(t, "copy out", by.CopyToHost(out))
		bad := 0
		for i := range out {
			ref := float32(math.FMA(float64(a), float64(x[i]), float64(y[i])))
			tol := 2.4e-7*(math.Abs(float64(a*x[i]))+math.Abs(float64(y[i]))) + 1e-30
			if !(math.Abs(float64(out[i]-ref)) <= tol) {
				if bad++; bad <= 5 {
					t.Errorf("n=%d i=%d: got %v want %v", n, i, out[i], ref)
				}
			}
		}
		closeT(t, "x", bx)
		closeT(t, "y", by)
	}
}

func TestRTCAttributesOccupancyAndArguments(t *testing.T) {
	dev := requireGPU(t)
	m, k := compileSaxpy(t, dev)
	a := k.Attributes()
	if a.NumParams != 4 || a.NumRegs <= 0 || a.MaxThreadsPerBlock < 256 {
		t.Errorf("attributes %+v", a)
	}
	block, grid, err := k.Occupancy(0)
	must(t, "Occupancy", err)
	if block <= 0 || block > a.MaxThreadsPerBlock || block%32 != 0 || grid <= 0 {
		t.Errorf("occupancy block %d grid %d", block, grid)
	}
	if _, err := m.Log(); err != nil {
		t.Errorf("Log: %v", err)
	}
	_, err = m.Kernel("nope")
	wantErr(t, "missing kernel", err, ErrInvalidArgument)

	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	const n = 1000
	poison := make([]float32, n)
	for i := range poison {
		poison[i] = 12345
	}
	bx, err := NewDeviceBuffer[float32](dev, n)
	must(t, "alloc", err)
	closeT(t, "x", bx)
	by, err := NewDeviceBuffer[float32](dev, n)
	must(t, "alloc", err)
	closeT(t, "y", by)
	must(t, "poison x", bx.CopyFromHost(poison))
	must(t, "poison y", by.CopyFromHost(poison))
	g, b := Dim3{X: 4}, Dim3{X: 256}
	wantErr(t, "too few", k.Launch(s, g, b, 0, Float32(2), BufArg(bx), BufArg(by)), ErrInvalidArgument)
	wantErr(t, "too many", k.Launch(s, g, b, 0, Float32(2), BufArg(bx), BufArg(by), Uint64(n), Uint64(n)),
		ErrInvalidArgument)
	err = k.Launch(s, g, b, 0, Float32(2), BufArg(bx), BufArg(by), Int32(n))
	wantErr(t, "int32 for a 64-bit parameter", err, ErrInvalidArgument)
	if err != nil && !strings.Contains(err.Error(), "argument 3") {
		t.Errorf("the error does not name the argument: %v", err)
	}
	wantErr(t, "double for a float", k.Launch(s, g, b, 0, Float64(2), BufArg(bx), BufArg(by), Uint64(n)),
		ErrInvalidArgument)
	wantErr(t, "block too large", k.Launch(s, g, Dim3{X: 2048}, 0, Float32(2), BufArg(bx), BufArg(by),
		Uint64(n)), ErrInvalidArgument)
	wantErr(t, "offset past the end", k.Launch(s, g, b, 0, Float32(2), BufArg(bx, n+1), BufArg(by),
		Uint64(n)), ErrOutOfRange)
	must(t, "sync", s.Synchronize())
	out := make([]float32, n)
	must(t, "copy out", by.CopyToHost(out))
	for i := range out {
		if out[i] != 12345 {
			t.Fatalf("a refused launch ran: y[%d] = %v", i, out[i])
		}
	}

	// Close is idempotent; a closed kernel or module is refused.
	must(t, "kernel Close", k.Close())
	must(t, "kernel Close again", k.Close())
	wantErr(t, "closed kernel", k.Launch(s, g, b, 0, Float32(2), BufArg(bx), BufArg(by), Uint64(n)),
		ErrClosed)
	must(t, "module Close", m.Close())
	_, err = m.Kernel("saxpy")
	wantErr(t, "closed module", err, ErrClosed)
}

func TestRTCTemplatedBlockSum(t *testing.T) {
	dev := requireGPU(t)
	src := rtcUnique(`
template <typename T, int BLOCK>
__global__ void block_sum(const T* in, T* out, unsigned int n) {
  __shared__ T part[BLOCK];
  unsigned int tid = threadIdx.x;
  T acc = T(0);
  for (unsigned int i = blockIdx.x * BLOCK + tid; i < n; i += gridDim.x * BLOCK) acc += in[i];
  part[tid] = acc;
  __syncthreads();
  for (int w = BLOCK / 2; w > 0; w >>= 1) {
    if (tid < w) part[tid] += part[tid + w];
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = part[0];
}
`)
	const name = "block_sum<float, 256>"
	m, err := Compile(dev, src, CompileOptions{NameExpressions: []string{name}})
	must(t, "Compile", err)
	closeT(t, "module", m)
	k, err := m.Kernel(name)
	must(t, "Kernel", err)
	closeT(t, "kernel", k)
	if a := k.Attributes(); a.SharedBytes < 256*4 || a.NumParams != 3 {
		t.Errorf("attributes %+v", a)
	}
	r := newRand(t)
	const n, blocks = 100003, 37
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.Float64()*2 - 1)
	}
	bx, err := NewDeviceBuffer[float32](dev, n)
	must(t, "alloc", err)
	closeT(t, "x", bx)
	bo, err := NewDeviceBuffer[float32](dev, blocks)
	must(t, "alloc", err)
	closeT(t, "out", bo)
	must(t, "copy", bx.CopyFromHost(x))
	out := make([]float32, blocks)
	for i := range out {
		out[i] = float32(math.NaN())
	}
	must(t, "poison", bo.CopyFromHost(out))
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	must(t, "launch", k.Launch(s, Dim3{X: blocks}, Dim3{X: 256}, 0, BufArg(bx), BufArg(bo), Uint32(n)))
	must(t, "sync", s.Synchronize())
	must(t, "copy out", bo.CopyToHost(out))
	for b := 0; b < blocks; b++ {
		var ref, mag float64
		for c := b; c*256 < n; c += blocks {
			for i := c * 256; i < n && i < (c+1)*256; i++ {
				ref += float64(x[i])
				mag += math.Abs(float64(x[i]))
			}
		}
		if d := math.Abs(float64(out[b]) - ref); !(d <= 1e-5*mag+1e-6) {
			t.Errorf("block %d: got %v want %v", b, out[b], ref)
		}
	}
}

type rtcAffine struct {
	Scale, Shift float32
	Count        int32
	_            int32 // the padding CUDA puts before the double
	Bias         float64
}

func TestRTCStructArgAndMappedBuffer(t *testing.T) {
	dev := requireGPU(t)
	src := rtcUnique(`
struct Affine { float scale; float shift; int count; double bias; };
extern "C" __global__ void affine(Affine p, const float* x, double* y, int* seen) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < p.count) {
    y[i] = (double)(p.scale * x[i] + p.shift) + p.bias;
    seen[i] = i * 3;
  }
}
`)
	m, err := Compile(dev, src, CompileOptions{})
	must(t, "Compile", err)
	closeT(t, "module", m)
	k, err := m.Kernel("affine")
	must(t, "Kernel", err)
	closeT(t, "kernel", k)
	r := newRand(t)
	const n = 777
	p := rtcAffine{Scale: float32(r.Float64()*6 - 3), Shift: float32(r.Float64()*6 - 3), Count: n,
		Bias: 0.125}
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.Float64()*6 - 3)
	}
	bx, err := NewDeviceBuffer[float32](dev, n)
	must(t, "alloc", err)
	closeT(t, "x", bx)
	by, err := NewDeviceBuffer[float64](dev, n)
	must(t, "alloc", err)
	closeT(t, "y", by)
	must(t, "copy", bx.CopyFromHost(x))
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	must(t, "poison", by.CopyFromHost(out))
	seen, err := NewMappedBuffer[int32](dev, n)
	must(t, "NewMappedBuffer", err)
	closeT(t, "seen", seen)
	for i := range seen.Slice() {
		seen.Slice()[i] = -1
	}
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	must(t, "launch", k.Launch(s, Dim3{X: (n + 127) / 128}, Dim3{X: 128}, 0,
		StructArg(p), BufArg(bx), BufArg(by), MappedArg(seen)))
	must(t, "sync", s.Synchronize())
	must(t, "copy out", by.CopyToHost(out))
	for i := 0; i < n; i++ {
		ref := float64(float32(math.FMA(float64(p.Scale), float64(x[i]), float64(p.Shift)))) + p.Bias
		tol := 2.4e-7*(math.Abs(float64(p.Scale*x[i]))+math.Abs(float64(p.Shift))) + 1e-12
		if !(math.Abs(out[i]-ref) <= tol) {
			t.Fatalf("y[%d] = %v, want %v", i, out[i], ref)
		}
		if seen.Slice()[i] != int32(i*3) {
			t.Fatalf("seen[%d] = %d, want %d", i, seen.Slice()[i], i*3)
		}
	}
	type small struct{ A, B float32 }
	wantErr(t, "struct of the wrong size", k.Launch(s, Dim3{X: 1}, Dim3{X: 1}, 0,
		StructArg(small{}), BufArg(bx), BufArg(by), MappedArg(seen)), ErrInvalidArgument)
}

func TestRTCCompileCacheHitLoads(t *testing.T) {
	dev := requireGPU(t)
	must(t, "SetCompileCacheDir", SetCompileCacheDir(""))
	must(t, "ClearCompileCache", ClearCompileCache())
	src := rtcUnique(rtcSaxpy)
	m1, err := Compile(dev, src, rtcSaxpyOpts)
	must(t, "first Compile", err)
	closeT(t, "m1", m1)
	m2, err := Compile(dev, src, rtcSaxpyOpts)
	must(t, "second Compile", err)
	closeT(t, "m2", m2)
	s, _ := GetCompileCacheStats()
	if s.Misses != 1 || s.Hits != 1 {
		t.Errorf("stats %+v, want 1 miss and 1 hit", s)
	}
	k, err := m2.Kernel("saxpy")
	must(t, "Kernel from the cached image", err)
	closeT(t, "kernel", k)
}
