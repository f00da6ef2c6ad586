//go:build cgo

package fft_test

// The examples in this file need no GPU and run with every go test. Those that need one carry
// the gpu build tag (example_gpu_test.go and the example_*_test.go files of each area): they
// run with go test -tags gpu, as the GPU bundle's test binaries are built.

import (
	"fmt"
	"log"

	"github.com/cudago/cudago/go/fft"
)

// FFTExtent tells how many values a transform's buffers must hold, without a GPU. A batch of 16
// real transforms of 1000 points gives 16 half spectra of 501 complex values (2*16*501 float64s);
// in place, the real rows are padded to 2*501 values so that both sides share their bytes, and
// the last row ends after its 1000 values (15*1002 + 1000).
func ExampleExtent() {
	d := fft.Desc{Type: fft.R2C, Dims: []int{1000}, Batch: 16}
	in, out, err := fft.Extent[float64](d, false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("out of place:", in, out)
	in, out, err = fft.Extent[float64](d, true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("in place:", in, out)
	// Output:
	// out of place: 16000 16032
	// in place: 16030 16032
}
