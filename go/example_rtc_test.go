//go:build cgo

package cudago_test

import (
	"errors"
	"fmt"

	cudago "github.com/cudago/cudago/go"
)

// Compile a kernel at run time and launch it with typed arguments.
func ExampleCompile() {
	dev, err := cudago.GetDevice(0)
	if err != nil {
		fmt.Println(err)
		return
	}
	const src = `extern "C" __global__ void scale(float* x, float a, unsigned long long n) {
  unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
  if (i < n) x[i] *= a;
}`
	m, err := cudago.Compile(dev, src, cudago.CompileOptions{})
	var ce *cudago.CompileError
	if errors.As(err, &ce) {
		fmt.Println(ce.Log) // the whole compiler log, with lines
		return
	} else if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	k, err := m.Kernel("scale")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer k.Close()
	s, _ := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	defer s.Close()
	x, _ := cudago.NewDeviceBuffer[float32](dev, 1000)
	defer x.Close()
	_ = x.CopyFromHost(make([]float32, 1000))
	block, _, _ := k.Occupancy(0)
	err = k.Launch(s, cudago.Dim3{X: (1000 + block - 1) / block}, cudago.Dim3{X: block}, 0,
		cudago.BufArg(x), cudago.Float32(2), cudago.Uint64(1000))
	if err == nil {
		err = s.Synchronize()
	}
	fmt.Println(err)
}
