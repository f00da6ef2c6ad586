//go:build cgo && gpu

package sgemm_test

import (
	"fmt"
	"log"

	"github.com/cudago/cudago/examples/go/sgemm"
	"github.com/cudago/cudago/go/cudago"
)

// C = A*B with the hand-written tiled SGEMM; matrices are row-major Go slices.
func ExampleKernel_Multiply() {
	const m, n, k = 2, 3, 2
	a := []float32{1, 2, 3, 4}       // 2 x 2
	b := []float32{1, 0, 1, 0, 1, 1} // 2 x 3
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	da, _ := cudago.NewDeviceBuffer[float32](dev, m*k)
	defer da.Close()
	db, _ := cudago.NewDeviceBuffer[float32](dev, k*n)
	defer db.Close()
	dc, _ := cudago.NewDeviceBuffer[float32](dev, m*n)
	defer dc.Close()
	if err := da.CopyFromHost(a); err != nil {
		log.Fatal(err)
	}
	if err := db.CopyFromHost(b); err != nil {
		log.Fatal(err)
	}
	sg, err := sgemm.New(dev)
	if err != nil {
		log.Fatal(err)
	}
	defer sg.Close()
	if err := sg.Multiply(s, m, n, k, 1, da, db, 0, dc); err != nil {
		log.Fatal(err)
	}
	c := make([]float32, m*n)
	if err := dc.CopyToHost(c); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c)
	// Output: [1 2 3 3 4 7]
}
