//go:build cgo

package cudago_test

import (
	"fmt"
	"log"

	cudago "github.com/cudago/cudago/go"
)

// A forward FFT of 8 complex points and its inverse, on the GPU. Complex values are stored as
// interleaved (re, im) pairs of float32.
func ExampleFFT1D() {
	dev, err := cudago.GetDevice(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	const n = 8
	x := make([]float32, 2*n)
	x[2] = 1 // x[1] = 1+0i: the spectrum is exp(-2πi k/8)
	buf, err := cudago.NewDeviceBuffer[float32](dev, 2*n)
	if err != nil {
		log.Fatal(err)
	}
	defer buf.Close()
	if err := buf.CopyFromHost(x); err != nil {
		log.Fatal(err)
	}
	if err := cudago.FFT1D(s, buf, buf, n, 1, cudago.Forward); err != nil { // in place
		log.Fatal(err)
	}
	spec := make([]float32, 2*n)
	if err := buf.CopyToHost(spec); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("X[2] = %.3f%+.3fi\n", spec[4], spec[5]) // X[2] = 0.000-1.000i
	// The inverse is scaled by 1/n, so it gives x back.
	if err := cudago.FFT1D(s, buf, buf, n, 1, cudago.Inverse); err != nil {
		log.Fatal(err)
	}
}

// A batch of real transforms through the general descriptor, with the plan cache's counters.
func ExampleFFT() {
	dev, _ := cudago.GetDevice(0)
	s, _ := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	defer s.Close()
	// 16 signals of 1000 real samples each -> 16 half spectra of 501 complex values.
	d := cudago.FFTDesc{Type: cudago.FFTR2C, Dims: []int{1000}, Batch: 16}
	inLen, outLen, _ := cudago.FFTExtent[float64](d, false) // 16000 and 2*16*501 float64s
	in, _ := cudago.NewDeviceBuffer[float64](dev, inLen)
	defer in.Close()
	out, _ := cudago.NewDeviceBuffer[float64](dev, outLen)
	defer out.Close()
	// ... fill in ...
	if err := cudago.FFT(s, d, in, out, cudago.Forward, cudago.FFTNormOrtho); err != nil {
		log.Fatal(err)
	}
	st, _ := cudago.GetFFTCacheStats()
	fmt.Println(st.Entries >= 1)
}
