//go:build cgo

package rtc_test

// The examples in this file need no GPU and run with every go test. Those that need one carry
// the gpu build tag (example_gpu_test.go and the example_*_test.go files of each area): they
// run with go test -tags gpu, as the GPU bundle's test binaries are built.

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/rtc"
)

// CompileImage compiles CUDA C++ for an explicit architecture without a GPU: a CUBIN (an ELF
// image) for sm_90, PTX text for compute_90. A compile error carries NVRTC's whole log.
func ExampleCompileImage() {
	const src = `extern "C" __global__ void scale(float* x, float a, unsigned long long n) {
  unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
  if (i < n) x[i] *= a;
}`
	cubin, err := rtc.CompileImage(src, rtc.CompileOptions{Arch: "sm_90"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sm_90 CUBIN is ELF:", bytes.HasPrefix(cubin, []byte("\x7fELF")))
	ptx, err := rtc.CompileImage(src, rtc.CompileOptions{Arch: "compute_90"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("compute_90 PTX has .entry scale:", bytes.Contains(ptx, []byte(".entry scale")))

	_, err = rtc.CompileImage(src+"\nint broken = ;", rtc.CompileOptions{Arch: "sm_90"})
	var ce *rtc.CompileError
	if errors.As(err, &ce) {
		fmt.Println(errors.Is(err, cudago.ErrNVRTC), strings.Contains(ce.Log, "rtc_source.cu(5): error"))
	}
	// Output:
	// sm_90 CUBIN is ELF: true
	// compute_90 PTX has .entry scale: true
	// true true
}
