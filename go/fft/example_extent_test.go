//go:build cgo

package fft_test

// The examples in this file need no GPU and run with every go test. Those that need one carry
// the gpu build tag (example_gpu_test.go and the example_*_test.go files of each area): they
// run with go test -tags gpu, as the GPU bundle's test binaries are built.

import (
	"errors"
	"fmt"
	"log"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/fft"
)

// Extent tells how many elements a transform's buffers must hold, without a GPU, counted in
// each side's own elements. A batch of 16 real transforms of 1000 points reads 16000 float64s
// and gives 16 half spectra of 501 complex128 values; in place, the real rows are padded to
// 2*501 reals so that both sides share their bytes, and the last row ends after its 1000 reals
// (15*1002 + 1000).
func ExampleExtent() {
	d := fft.Desc{Type: fft.R2C, Dims: []int{1000}, Batch: 16}
	in, out, err := fft.Extent[float64, complex128](d, false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("out of place:", in, out)
	in, out, err = fft.Extent[float64, complex128](d, true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("in place:", in, out)
	// The element types must fit the transform: R2C reads reals and writes complex values.
	_, _, err = fft.Extent[complex128, complex128](d, false)
	fmt.Println(errors.Is(err, cudago.ErrInvalidArgument))
	fmt.Println(err)
	// Output:
	// out of place: 16000 8016
	// in place: 16030 8016
	// true
	// cudago: fft extent: CUDAGO_ERROR_INVALID_ARGUMENT: transform type R2C needs real input and complex output, not complex and complex
}
