//go:build cgo && gpu

package rtc_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/rtc"
)

// Compile a kernel at run time and launch it with typed arguments. (ExampleCompileImage
// compiles without a GPU.)
func ExampleCompile() {
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	const src = `extern "C" __global__ void scale(float* x, float a, unsigned long long n) {
  unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
  if (i < n) x[i] *= a;
}`
	m, err := rtc.Compile(dev, src, rtc.CompileOptions{})
	var ce *rtc.CompileError
	if errors.As(err, &ce) {
		log.Fatal(ce.Log) // the whole compiler log, with lines
	} else if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	k, err := m.Kernel("scale")
	if err != nil {
		log.Fatal(err)
	}
	defer k.Close()
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	const n = 1000
	x, err := cudago.NewDeviceBuffer[float32](dev, n)
	if err != nil {
		log.Fatal(err)
	}
	defer x.Close()
	in := make([]float32, n)
	for i := range in {
		in[i] = float32(i) + 0.5
	}
	if err := x.CopyFromHost(in); err != nil {
		log.Fatal(err)
	}
	block, _, err := k.Occupancy(0)
	if err != nil {
		log.Fatal(err)
	}
	err = k.Launch(s, rtc.Dim3{X: (n + block - 1) / block}, rtc.Dim3{X: block}, 0,
		rtc.BufArg(x), rtc.Float32(2), rtc.Uint64(n))
	if err == nil {
		err = s.Synchronize() // a fault in the kernel would surface here
	}
	if err != nil {
		log.Fatal(err)
	}
	out := make([]float32, n)
	if err := x.CopyToHost(out); err != nil {
		log.Fatal(err)
	}
	wrong := 0
	for i := range out {
		if out[i] != 2*in[i] {
			wrong++
		}
	}
	fmt.Println("x[999] =", out[n-1], "wrong:", wrong)
	// Output:
	// x[999] = 1999 wrong: 0
}
