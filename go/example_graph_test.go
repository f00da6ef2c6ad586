//go:build cgo

package cudago_test

import (
	"fmt"

	cudago "github.com/cudago/cudago/go"
)

// Capture a sequence of small operations once, then replay it with one launch per step.
func ExampleStream_Capture() {
	dev, err := cudago.GetDevice(0)
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	defer s.Close()
	// Buffers are allocated before the capture and must stay open while the graph is used.
	x, _ := cudago.NewDeviceBuffer[float32](dev, 4096)
	defer x.Close()
	y, _ := cudago.NewDeviceBuffer[float32](dev, 4096)
	defer y.Close()
	sum, _ := cudago.NewDeviceBuffer[float32](dev, 1)
	defer sum.Close()
	_ = x.CopyFromHost(make([]float32, 4096))

	g, err := s.Capture(func() error {
		// Nothing runs here: each call is recorded into the graph.
		if err := cudago.Scale(s, 0.5, x); err != nil {
			return err
		}
		if err := cudago.Add(s, x, x, y); err != nil {
			return err
		}
		return cudago.Sum(s, y, sum)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Close()
	for step := 0; step < 100; step++ {
		if err := g.Launch(s); err != nil { // the three operations, one cgo call
			fmt.Println(err)
			return
		}
	}
	fmt.Println(s.Synchronize())
}
