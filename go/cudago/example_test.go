//go:build cgo

package cudago_test

// The examples in this file need no GPU and run with every go test. Those that need one carry
// the gpu build tag (example_gpu_test.go and the example_*_test.go files of each area): they
// run with go test -tags gpu, as the GPU bundle's test binaries are built.

import (
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/cudago/cudago/go/cudago"
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
