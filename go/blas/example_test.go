//go:build cgo && gpu

package blas_test

import (
	"fmt"
	"log"

	"github.com/cudago/cudago/go/blas"
	"github.com/cudago/cudago/go/cudago"
)

// C = A·B with cuBLAS on row-major Go matrices: A is 2 x 3, B is 3 x 2.
func ExampleMatMul() {
	const m, n, k = 2, 2, 3
	dev, err := cudago.DeviceAt(0)
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
	if err := blas.MatMul(s, a, b, c, m, n, k); err != nil {
		log.Fatal(err)
	}
	out := make([]float32, m*n)
	if err := c.CopyToHost(out); err != nil { // ordered after the GEMM
		log.Fatal(err)
	}
	fmt.Println(out)
	// Output:
	// [58 64 139 154]
}

// A batch of float16 products with the options struct: C[q] = A[q]·B for q < 8, B shared
// (StrideB 0). Small integers are exact in float16 and the sums are accumulated in float32, so
// the GPU's results equal a CPU loop's exactly.
func ExampleGEMM() {
	const m, n, k, batch = 16, 8, 32, 8
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ha, hb := make([]float32, batch*m*k), make([]float32, k*n)
	for i := range ha {
		ha[i] = float32(i%7 - 3)
	}
	for i := range hb {
		hb[i] = float32(i%5 - 2)
	}
	upload := func(v []float32) *cudago.DeviceBuffer[cudago.Float16] {
		h := make([]cudago.Float16, len(v))
		for i, x := range v {
			h[i] = cudago.Float16From(x)
		}
		d, err := cudago.NewDeviceBuffer[cudago.Float16](dev, len(h))
		if err != nil {
			log.Fatal(err)
		}
		if err := d.CopyFromHost(h); err != nil {
			log.Fatal(err)
		}
		return d
	}
	a, b, c := upload(ha), upload(hb), upload(make([]float32, batch*m*n))
	defer a.Close()
	defer b.Close()
	defer c.Close()
	cfg := blas.GEMMConfig{M: m, N: n, K: k, Batch: batch,
		StrideA: m * k, StrideB: 0, StrideC: m * n}
	if err := blas.GEMM(s, 1, a, b, 0, c, cfg); err != nil {
		log.Fatal(err)
	}
	got := make([]cudago.Float16, batch*m*n)
	if err := c.CopyToHost(got); err != nil { // ordered after the GEMM
		log.Fatal(err)
	}
	wrong := 0
	for q := 0; q < batch; q++ {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var want float32
				for l := 0; l < k; l++ {
					want += ha[q*m*k+i*k+l] * hb[l*n+j]
				}
				if got[q*m*n+i*n+j].Float32() != want {
					wrong++
				}
			}
		}
	}
	fmt.Println("C[7] row 0:", got[7*m*n].Float32(), got[7*m*n+1].Float32(), got[7*m*n+2].Float32())
	fmt.Println("wrong:", wrong, "of", batch*m*n)
	// Output:
	// C[7] row 0: -3 1 -5
	// wrong: 0 of 1024
}
