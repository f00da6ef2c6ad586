//go:build cgo && gpu

package cudago_test

import (
	"fmt"
	"log"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/kernels"
)

// Capture a sequence of small operations once, then replay it with one launch per step.
func ExampleStream_Capture() {
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	// Buffers are allocated before the capture and must stay open while the graph is used.
	const n = 4096
	alloc := func(n int) *cudago.DeviceBuffer[float32] {
		b, err := cudago.NewDeviceBuffer[float32](dev, n)
		if err != nil {
			log.Fatal(err)
		}
		return b
	}
	x, y, sum := alloc(n), alloc(n), alloc(1)
	defer x.Close()
	defer y.Close()
	defer sum.Close()
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	if err := x.CopyFromHost(ones); err != nil {
		log.Fatal(err)
	}

	g, err := s.Capture(func() error {
		// Nothing runs here: each call is recorded into the graph.
		if err := kernels.Scale(s, 0.5, x); err != nil { // x = x/2
			return err
		}
		if err := kernels.Add(s, x, x, y); err != nil { // y = 2x
			return err
		}
		return kernels.Sum(s, y, sum) // sum = Σy
	})
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	for step := 0; step < 10; step++ {
		if err := g.Launch(s); err != nil { // the three operations, one cgo call
			log.Fatal(err)
		}
	}
	if err := s.Synchronize(); err != nil {
		log.Fatal(err)
	}
	// After 10 replays x = 2^-10 and y = 2^-9, so sum = 4096 * 2^-9 = 8, exactly.
	out := make([]float32, 1)
	if err := sum.CopyToHost(out); err != nil {
		log.Fatal(err)
	}
	fmt.Println("sum after 10 launches:", out[0])
	// Output:
	// sum after 10 launches: 8
}
