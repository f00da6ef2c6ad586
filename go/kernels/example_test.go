//go:build cgo && gpu

package kernels_test

import (
	"fmt"
	"log"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/kernels"
)

// Converting a batch of images from channels-last (NHWC, as decoded) to channels-first (NCHW,
// as many models take them) on the GPU.
func ExampleNHWCToNCHW() {
	const n, h, w, c = 2, 4, 5, 3
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	nhwc := make([]float32, n*h*w*c)
	for i := range nhwc {
		nhwc[i] = float32(i % c) // channel index, to see where values go
	}
	in, err := cudago.NewDeviceBuffer[float32](dev, len(nhwc))
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()
	out, err := cudago.NewDeviceBuffer[float32](dev, len(nhwc))
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	if err := in.CopyFromHost(nhwc); err != nil {
		log.Fatal(err)
	}
	if err := kernels.NHWCToNCHW(s, in, out, n, h, w, c); err != nil {
		log.Fatal(err)
	}
	nchw := make([]float32, len(nhwc))
	if err := out.CopyToHost(nchw); err != nil { // ordered after the conversion
		log.Fatal(err)
	}
	fmt.Println(nchw[:h*w])        // the first image's channel 0
	fmt.Println(nchw[h*w : 2*h*w]) // its channel 1
	// Output:
	// [0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0]
	// [1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1]
}
