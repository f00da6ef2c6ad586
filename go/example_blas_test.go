//go:build cgo

package cudago_test

import (
	"fmt"
	"log"

	cudago "github.com/cudago/cudago/go"
)

// C = A·B with cuBLAS on row-major Go matrices: A is 2 x 3, B is 3 x 2.
func ExampleMatMul() {
	const m, n, k = 2, 2, 3
	dev, err := cudago.GetDevice(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	upload := func(v []float32) *cudago.DeviceBuffer[float32] {
		d, err := cudago.NewDeviceBuffer[float32](dev, len(v))
		if err != nil {
			log.Fatal(err)
		}
		if err := d.CopyFromHost(v); err != nil {
			log.Fatal(err)
		}
		return d
	}
	a := upload([]float32{1, 2, 3, 4, 5, 6})
	defer a.Close()
	b := upload([]float32{7, 8, 9, 10, 11, 12})
	defer b.Close()
	c := upload(make([]float32, m*n))
	defer c.Close()
	if err := cudago.MatMul(s, a, b, c, m, n, k); err != nil {
		log.Fatal(err)
	}
	out := make([]float32, m*n)
	if err := c.CopyToHost(out); err != nil { // ordered after the GEMM
		log.Fatal(err)
	}
	fmt.Println(out) // [58 64 139 154]
}

// A batch of float16 products with the options struct: C[q] = A[q]·B for q < 8, B shared.
func ExampleGEMMEx() {
	const m, n, k, batch = 16, 8, 32, 8
	dev, err := cudago.GetDevice(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	alloc := func(n int) *cudago.DeviceBuffer[cudago.Float16] {
		d, err := cudago.NewDeviceBuffer[cudago.Float16](dev, n)
		if err != nil {
			log.Fatal(err)
		}
		if err := d.Memset(0x3c); err != nil { // 0x3c3c: about 1.06 in every element
			log.Fatal(err)
		}
		return d
	}
	a, b, c := alloc(batch*m*k), alloc(k*n), alloc(batch*m*n)
	defer a.Close()
	defer b.Close()
	defer c.Close()
	cfg := cudago.GEMMConfig{M: m, N: n, K: k, Batch: batch,
		StrideA: m * k, StrideB: 0, StrideC: m * n}
	if err := cudago.GEMMEx(s, cfg, 1, a, b, 0, c); err != nil {
		log.Fatal(err)
	}
	if err := s.Synchronize(); err != nil {
		log.Fatal(err)
	}
}
