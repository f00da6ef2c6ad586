//go:build cgo

package cudago_test

// The examples in this file need no GPU and run with every go test. Those that need one carry
// the gpu build tag (example_gpu_test.go and the example_*_test.go files of each area): they
// run with go test -tags gpu, as the GPU bundle's test binaries are built.

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"strings"

	cudago "github.com/cudago/cudago/go"
)

// Matching errors with errors.Is, through wrapping, and reading the detail with errors.As.
func ExampleError() {
	// What a failed allocation returns (constructed here so the example runs anywhere).
	var err error = &cudago.Error{
		Status:     cudago.StatusOutOfMemory,
		Native:     2,
		NativeName: "cudaErrorMemoryAllocation",
		Op:         "buffer alloc",
		Msg:        "cudaMallocFromPoolAsync(...) failed: out of memory",
	}
	err = fmt.Errorf("loading weights: %w", err)

	fmt.Println(errors.Is(err, cudago.ErrOutOfMemory))
	fmt.Println(errors.Is(err, cudago.ErrNoDevice))
	var e *cudago.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Op)
	}
	fmt.Println(err)
	// Output:
	// true
	// false
	// CUDAGO_ERROR_OUT_OF_MEMORY buffer alloc
	// loading weights: cudago: buffer alloc: CUDAGO_ERROR_OUT_OF_MEMORY: cudaErrorMemoryAllocation: cudaMallocFromPoolAsync(...) failed: out of memory
}

// Status values name the C status codes.
func ExampleStatus() {
	fmt.Println(cudago.StatusKernelFault)
	fmt.Println(cudago.Status(42))
	// Output:
	// CUDAGO_ERROR_KERNEL_FAULT
	// CUDAGO_STATUS(42)
}

// The loaded libcudago must match the cudago.h this package was built against; every function
// that creates a handle or queries a device returns CheckVersion's error first.
func ExampleCheckVersion() {
	if err := cudago.CheckVersion(); err != nil {
		log.Fatal(err) // e.g. an older libcudago.so found on LD_LIBRARY_PATH
	}
	v := strings.Split(cudago.Version(), ".") // "major.minor.patch"
	fmt.Println("compatible, version of", len(v), "parts")
	// Output:
	// compatible, version of 3 parts
}

// Float16 values are stored as their 16 bits; conversions round to nearest, ties to even.
func ExampleFloat16() {
	h := cudago.Float16From(3.14159)
	fmt.Printf("%#04x %v\n", uint16(h), h.Float32())
	// The largest finite value; past the halfway point to the next, +Inf.
	fmt.Println(cudago.Float16From(65504).Float32(), cudago.Float16From(65520).Float32())
	// The smallest subnormal, 2^-24.
	fmt.Println(cudago.Float16From(1.0 / (1 << 24)).Float32())
	// 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: to even, 1.
	fmt.Printf("%#04x\n", uint16(cudago.Float16From(1+1.0/2048)))
	// Output:
	// 0x4248 3.140625
	// 65504 +Inf
	// 5.9604645e-08
	// 0x3c00
}

// BFloat16 is the top half of a float32: the same range, 8 bits of precision.
func ExampleBFloat16() {
	b := cudago.BFloat16From(3.14159)
	fmt.Printf("%#04x %v\n", uint16(b), b.Float32())
	fmt.Println(cudago.BFloat16From(1e38).Float32()) // float32's range, unlike Float16
	fmt.Println(cudago.BFloat16From(257).Float32())  // a tie between 256 and 258, to even: 256
	// Output:
	// 0x4049 3.140625
	// 9.96921e+37
	// 256
}

// FFTExtent tells how many values a transform's buffers must hold, without a GPU. A batch of 16
// real transforms of 1000 points gives 16 half spectra of 501 complex values (2*16*501 float64s);
// in place, the real rows are padded to 2*501 values so that both sides share their bytes, and
// the last row ends after its 1000 values (15*1002 + 1000).
func ExampleFFTExtent() {
	d := cudago.FFTDesc{Type: cudago.FFTR2C, Dims: []int{1000}, Batch: 16}
	in, out, err := cudago.FFTExtent[float64](d, false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("out of place:", in, out)
	in, out, err = cudago.FFTExtent[float64](d, true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("in place:", in, out)
	// Output:
	// out of place: 16000 16032
	// in place: 16030 16032
}

// CompileImage compiles CUDA C++ for an explicit architecture without a GPU: a CUBIN (an ELF
// image) for sm_90, PTX text for compute_90. A compile error carries NVRTC's whole log.
func ExampleCompileImage() {
	const src = `extern "C" __global__ void scale(float* x, float a, unsigned long long n) {
  unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
  if (i < n) x[i] *= a;
}`
	cubin, err := cudago.CompileImage(src, cudago.CompileOptions{Arch: "sm_90"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sm_90 CUBIN is ELF:", bytes.HasPrefix(cubin, []byte("\x7fELF")))
	ptx, err := cudago.CompileImage(src, cudago.CompileOptions{Arch: "compute_90"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("compute_90 PTX has .entry scale:", bytes.Contains(ptx, []byte(".entry scale")))

	_, err = cudago.CompileImage(src+"\nint broken = ;", cudago.CompileOptions{Arch: "sm_90"})
	var ce *cudago.CompileError
	if errors.As(err, &ce) {
		fmt.Println(errors.Is(err, cudago.ErrNVRTC), strings.Contains(ce.Log, "rtc_source.cu(5): error"))
	}
	// Output:
	// sm_90 CUBIN is ELF: true
	// compute_90 PTX has .entry scale: true
	// true true
}
