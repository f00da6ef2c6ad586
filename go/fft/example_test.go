//go:build cgo && gpu

package fft_test

import (
	"fmt"
	"log"
	"math"
	"math/cmplx"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/fft"
)

// round3 rounds v to 3 decimals for printing, with -0 printed as 0.
func round3(v float64) float64 {
	r := math.Round(v*1000) / 1000
	if r == 0 {
		return 0
	}
	return r
}

// A forward FFT of 8 complex points and its inverse, on the GPU, in place in a buffer of
// complex64 values.
func ExampleC2C1D() {
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	const n = 8
	x := make([]complex64, n)
	x[1] = 1 // the spectrum is X[k] = exp(-2πi k/8)
	buf, err := cudago.NewDeviceBuffer[complex64](dev, n)
	if err != nil {
		log.Fatal(err)
	}
	defer buf.Close()
	if err := buf.CopyFromHost(x); err != nil {
		log.Fatal(err)
	}
	if err := fft.C2C1D(s, buf, buf, n, 1, fft.Forward); err != nil { // in place
		log.Fatal(err)
	}
	spec := make([]complex64, n)
	if err := buf.CopyToHost(spec); err != nil {
		log.Fatal(err)
	}
	for k := 0; k < n; k += 2 {
		fmt.Printf("X[%d] = %.3f%+.3fi\n", k, round3(float64(real(spec[k]))), round3(float64(imag(spec[k]))))
	}
	// The inverse is scaled by 1/n, so it gives x back.
	if err := fft.C2C1D(s, buf, buf, n, 1, fft.Inverse); err != nil {
		log.Fatal(err)
	}
	back := make([]complex64, n)
	if err := buf.CopyToHost(back); err != nil {
		log.Fatal(err)
	}
	maxErr := 0.0
	for i := range back {
		maxErr = math.Max(maxErr, cmplx.Abs(complex128(back[i]-x[i])))
	}
	fmt.Println("inverse gives x back:", maxErr < 1e-6)
	// Output:
	// X[0] = 1.000+0.000i
	// X[2] = 0.000-1.000i
	// X[4] = -1.000+0.000i
	// X[6] = 0.000+1.000i
	// inverse gives x back: true
}

// A batch of real transforms through the general descriptor: 16 signals of 1000 float64
// samples each give 16 half spectra of 501 complex128 values, checked against a direct DFT on
// the CPU.
func ExampleExec() {
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	const size, batch = 1000, 16
	d := fft.Desc{Type: fft.R2C, Dims: []int{size}, Batch: batch}
	inLen, outLen, err := fft.Extent[float64, complex128](d, false) // 16000 and 16*501
	if err != nil {
		log.Fatal(err)
	}
	// Signal q is cos(2π (q+1) t/1000) plus a small ramp.
	x := make([]float64, inLen)
	for q := 0; q < batch; q++ {
		for t := 0; t < size; t++ {
			x[q*size+t] = math.Cos(2*math.Pi*float64((q+1)*t)/size) + float64(t)/size
		}
	}
	in, err := cudago.NewDeviceBuffer[float64](dev, inLen)
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()
	out, err := cudago.NewDeviceBuffer[complex128](dev, outLen)
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	if err := in.CopyFromHost(x); err != nil {
		log.Fatal(err)
	}
	if err := fft.Exec(s, in, out, d, fft.Forward, fft.NormOrtho); err != nil {
		log.Fatal(err)
	}
	spec := make([]complex128, outLen)
	if err := out.CopyToHost(spec); err != nil { // ordered after the transform
		log.Fatal(err)
	}
	// The same with a direct DFT, scaled by 1/sqrt(1000) (FFTNormOrtho).
	maxErr := 0.0
	for q := 0; q < batch; q++ {
		for k := 0; k <= size/2; k++ {
			var sum complex128
			for t := 0; t < size; t++ {
				sin, cos := math.Sincos(-2 * math.Pi * float64(k*t%size) / size)
				sum += complex(x[q*size+t]*cos, x[q*size+t]*sin)
			}
			got := spec[q*(size/2+1)+k] // X[k] of signal q
			maxErr = math.Max(maxErr, cmplx.Abs(got-sum/complex(math.Sqrt(size), 0)))
		}
	}
	fmt.Println("matches the DFT:", maxErr < 1e-9)
	// Signal 0's peak: 500/sqrt(1000) from the cosine, plus the ramp's share.
	fmt.Printf("signal 0: X[1] = %.3f%+.3fi\n", round3(real(spec[1])), round3(imag(spec[1])))
	st, err := fft.ReadCacheStats()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("plans cached:", st.Entries >= 1)
	// Output:
	// matches the DFT: true
	// signal 0: X[1] = 15.796+5.033i
	// plans cached: true
}
