//go:build cgo && gpu

package cudago_test

// These examples need a GPU: build with -tags gpu (the GPU bundle's test binaries are) to run
// them. A Go example cannot skip, so without the tag they are not compiled at all.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/kernels"
)

// The hello world: two Go slices in, their sum out, computed on the GPU.
func ExampleAddOnGPU() {
	a := []float32{1, 2, 3, 4}
	b := []float32{10, 20, 30, 40}
	c := make([]float32, len(a))
	if err := cudago.AddOnGPU(a, b, c); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c)
	// Output:
	// [11 22 33 44]
}

// Listing the devices and their properties. (A program would print p.Name, p.TotalMemory and
// so on; this example prints only what is the same on every CUDA GPU.)
func ExampleDevice_Properties() {
	devs, err := cudago.Devices()
	if err != nil {
		log.Fatal(err)
	}
	if len(devs) == 0 {
		log.Fatal("no CUDA device: ", cudago.NoDeviceReason())
	}
	described := true
	for _, d := range devs {
		p, err := d.Properties()
		if err != nil {
			log.Fatal(err)
		}
		described = described && p.Ordinal == d.Ordinal() && p.Name != "" &&
			p.MultiprocessorCount > 0 && p.TotalMemory > 0 && p.PCIBusID != "" &&
			p.StreamPriorityGreatest <= p.StreamPriorityLeast
	}
	p, err := devs[0].Properties()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(devs[0], "warp size", p.WarpSize)
	fmt.Println("UUID like", len(p.UUIDString()), "characters, GPU-xxxxxxxx-xxxx-...")
	fmt.Println("every device described:", described)
	// Output:
	// cuda:0 warp size 32
	// UUID like 40 characters, GPU-xxxxxxxx-xxxx-...
	// every device described: true
}

// Timing GPU work with two events recorded around it on a stream. (A program would print el;
// this example checks the result of the timed work instead.)
func ExampleElapsed() {
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	start, err := cudago.NewEvent(dev, cudago.EventOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer start.Close()
	end, err := cudago.NewEvent(dev, cudago.EventOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer end.Close()

	const n = 10_000_000
	a, err := cudago.NewDeviceBufferAsync[float32](s, n)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	if err := kernels.Fill(s, 1.5, a); err != nil {
		log.Fatal(err)
	}

	if err := start.Record(s); err != nil {
		log.Fatal(err)
	}
	if err := kernels.Add(s, a, a, a); err != nil { // a = a + a
		log.Fatal(err)
	}
	if err := end.Record(s); err != nil {
		log.Fatal(err)
	}
	if err := end.Wait(context.Background()); err != nil {
		log.Fatal(err)
	}
	el, err := cudago.Elapsed(start, end)
	if err != nil {
		log.Fatal(err)
	}
	// 12 bytes moved per element: GB/s = 12*n/el.Seconds()/1e9.
	last := make([]float32, 1)
	if err := a.CopyToHostAt(last, n-1); err != nil {
		log.Fatal(err)
	}
	fmt.Println("timed:", el > 0, "a[n-1] =", last[0])
	// Output:
	// timed: true a[n-1] = 3
}

// Device buffers: synchronous copies from and to Go slices, device-to-device copies, ranges.
func ExampleDeviceBuffer() {
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	buf, err := cudago.NewDeviceBuffer[int32](dev, 4)
	if err != nil {
		log.Fatal(err)
	}
	defer buf.Close()
	if err := buf.CopyFromHost([]int32{1, 2, 3, 4}); err != nil {
		log.Fatal(err)
	}
	// Overwrite elements 1 and 2.
	if err := buf.CopyFromHostAt(1, []int32{20, 30}); err != nil {
		log.Fatal(err)
	}
	other, err := cudago.NewDeviceBuffer[int32](dev, 4)
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	if err := other.CopyFrom(buf); err != nil {
		log.Fatal(err)
	}
	out := make([]int32, 4)
	if err := other.CopyToHost(out); err != nil {
		log.Fatal(err)
	}
	fmt.Println(out)

	// Lengths must match; ranges must lie inside the buffer.
	err = buf.CopyToHost(make([]int32, 3))
	fmt.Println(errors.Is(err, cudago.ErrOutOfRange))
	// Output:
	// [1 20 30 4]
	// true
}

// Pinned host buffers: asynchronous copies queued on a stream, overlapping with the host.
func ExampleHostBuffer() {
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	const n = 1 << 20
	host, err := cudago.NewHostBuffer[float32](dev, n)
	if err != nil {
		log.Fatal(err)
	}
	defer host.Close()
	for i := range host.Slice() { // an ordinary []float32 over pinned memory
		host.Slice()[i] = float32(i)
	}
	d, err := cudago.NewDeviceBufferAsync[float32](s, n)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()

	if err := d.CopyFromHostAsync(s, host); err != nil { // queued: returns at once
		log.Fatal(err)
	}
	if err := kernels.Add(s, d, d, d); err != nil { // d = 2d
		log.Fatal(err)
	}
	if err := d.CopyToHostAsync(s, host); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Wait(ctx); err != nil { // host.Slice() must not be touched before this
		log.Fatal(err)
	}
	wrong := 0
	for i, v := range host.Slice() {
		if v != 2*float32(i) {
			wrong++
		}
	}
	fmt.Println(host.Slice()[3], "wrong:", wrong)
	// Output:
	// 6 wrong: 0
}

// Mapped (zero-copy) host memory: a kernel reads and writes it directly.
func ExampleMappedBuffer() {
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	m, err := cudago.NewMappedBuffer[float32](dev, 3)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	copy(m.Slice(), []float32{1, 2, 3})

	view, err := m.Device() // a DeviceBuffer over the same memory
	if err != nil {
		log.Fatal(err)
	}
	defer view.Close()
	if err := kernels.Add(s, view, view, view); err != nil {
		log.Fatal(err)
	}
	if err := s.Synchronize(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Slice())
	// Output:
	// [2 4 6]
}

// Configuring a device's memory pool and reading its statistics.
func ExampleDevice_ConfigurePool() {
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	// Keep up to 1 GiB cached when streams synchronise, and reserve 512 MiB now.
	if err := dev.ConfigurePool(cudago.PoolConfig{ReleaseThreshold: 1 << 30, Reserve: 512 << 20}); err != nil {
		log.Fatal(err)
	}
	b, err := cudago.NewDeviceBuffer[byte](dev, 64<<20) // served from the reservation
	if err != nil {
		log.Fatal(err)
	}
	st, err := dev.PoolStats()
	if err != nil {
		log.Fatal(err)
	}
	// Other buffers of the process count too, so the figures are at least these.
	fmt.Println("reserved >= 512 MiB:", st.Reserved >= 512<<20)
	fmt.Println("used >= 64 MiB:", st.Used >= 64<<20, "and <= reserved:", st.Used <= st.Reserved)
	if err := b.Close(); err != nil {
		log.Fatal(err)
	}
	if err := dev.TrimPool(0); err != nil { // give the cached memory back to the device
		log.Fatal(err)
	}
	// Output:
	// reserved >= 512 MiB: true
	// used >= 64 MiB: true and <= reserved: true
}

// Calls on a closed handle fail with ErrClosed (and match ErrInvalidHandle); a second Close
// is a no-op.
func ExampleErrClosed() {
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err) // without a GPU: an error matching ErrNoDevice
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Close(), s.Close())
	err = s.Synchronize()
	fmt.Println(errors.Is(err, cudago.ErrClosed), errors.Is(err, cudago.ErrInvalidHandle))
	// Output:
	// <nil> <nil>
	// true true
}

// A stream runs queued work in order; Wait returns when it is done or the context ends.
func ExampleStream_Wait() {
	dev, err := cudago.DeviceAt(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	const n = 1 << 20
	buf, err := cudago.NewDeviceBufferAsync[float32](s, n)
	if err != nil {
		log.Fatal(err)
	}
	defer buf.Close()
	host, err := cudago.NewHostBuffer[float32](dev, n)
	if err != nil {
		log.Fatal(err)
	}
	defer host.Close()
	if err := kernels.Fill(s, 0.25, buf); err != nil {
		log.Fatal(err)
	}
	if err := buf.CopyToHostAsync(s, host); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Wait(ctx); err != nil {
		log.Fatal(err) // context.DeadlineExceeded if the work took over 5 s
	}
	done, err := s.Query()
	if err != nil {
		log.Fatal(err)
	}
	sum := 0.0
	for _, v := range host.Slice() {
		sum += float64(v)
	}
	fmt.Println("stream on", s.Device(), "idle:", done, "sum:", sum)
	// Output:
	// stream on cuda:0 idle: true sum: 262144
}
