//go:build cgo

package cudago_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	cudago "github.com/cudago/cudago/go"
)

// The hello world: two Go slices in, their sum out, computed on the GPU.
func ExampleAddOnGPU() {
	a := []float32{1, 2, 3, 4}
	b := []float32{10, 20, 30, 40}
	c := make([]float32, len(a))
	if err := cudago.AddOnGPU(a, b, c); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c) // [11 22 33 44]
}

// Listing the devices and their properties.
func ExampleDevice_Properties() {
	devs, err := cudago.Devices()
	if err != nil {
		log.Fatal(err)
	}
	if len(devs) == 0 {
		fmt.Println("no CUDA device:", cudago.NoDeviceReason())
		return
	}
	for _, d := range devs {
		p, err := d.Properties()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d: %s, compute %d.%d, %d SMs, %d MiB, PCI %s, %s\n", d.Ordinal(), p.Name,
			p.ComputeMajor, p.ComputeMinor, p.MultiprocessorCount, p.TotalMemory>>20, p.PCIBusID,
			p.UUIDString())
	}
}

// Timing GPU work with two events recorded around it on a stream.
func ExampleElapsed() {
	dev, err := cudago.GetDevice(0)
	if err != nil {
		log.Fatal(err)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	start, _ := cudago.NewEvent(dev, cudago.EventOptions{})
	defer start.Close()
	end, _ := cudago.NewEvent(dev, cudago.EventOptions{})
	defer end.Close()

	const n = 10_000_000
	a, _ := cudago.NewDeviceBufferAsync[float32](s, n)
	defer a.Close()
	_ = a.MemsetAsync(s, 0)

	_ = start.Record(s)
	_ = cudago.VectorAdd(s, a, a, a)
	_ = end.Record(s)
	if err := end.Wait(context.Background()); err != nil {
		log.Fatal(err)
	}
	el, err := cudago.Elapsed(start, end)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("vector add of %d floats: %v, %.0f GB/s\n", n, el, 12*n/el.Seconds()/1e9)
}

// Device buffers: synchronous copies from and to Go slices, device-to-device copies, ranges.
func ExampleDeviceBuffer() {
	dev, err := cudago.GetDevice(0)
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
	other, _ := cudago.NewDeviceBuffer[int32](dev, 4)
	defer other.Close()
	_ = other.CopyFrom(buf)
	out := make([]int32, 4)
	_ = other.CopyToHost(out)
	fmt.Println(out) // [1 20 30 4]

	// Lengths must match; ranges must lie inside the buffer.
	err = buf.CopyToHost(make([]int32, 3))
	fmt.Println(errors.Is(err, cudago.ErrOutOfRange)) // true
}

// Pinned host buffers: asynchronous copies queued on a stream, overlapping with the host.
func ExampleHostBuffer() {
	dev, err := cudago.GetDevice(0)
	if err != nil {
		log.Fatal(err)
	}
	s, _ := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
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
	d, _ := cudago.NewDeviceBufferAsync[float32](s, n)
	defer d.Close()

	_ = d.CopyFromHostAsync(s, host) // queued: returns at once
	_ = cudago.VectorAdd(s, d, d, d) // d = 2d
	_ = d.CopyToHostAsync(s, host)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Wait(ctx); err != nil { // host.Slice() must not be touched before this
		log.Fatal(err)
	}
	fmt.Println(host.Slice()[3]) // 6
}

// Mapped (zero-copy) host memory: a kernel reads and writes it directly.
func ExampleMappedBuffer() {
	dev, err := cudago.GetDevice(0)
	if err != nil {
		log.Fatal(err)
	}
	s, _ := cudago.NewStream(dev, cudago.StreamOptions{})
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
	_ = cudago.VectorAdd(s, view, view, view)
	_ = s.Synchronize()
	fmt.Println(m.Slice()) // [2 4 6]
}

// Configuring a device's memory pool and reading its statistics.
func ExampleDevice_ConfigurePool() {
	dev, err := cudago.GetDevice(0)
	if err != nil {
		log.Fatal(err)
	}
	// Keep up to 1 GiB cached when streams synchronise, and reserve 512 MiB now.
	if err := dev.ConfigurePool(cudago.PoolConfig{ReleaseThreshold: 1 << 30, Reserve: 512 << 20}); err != nil {
		log.Fatal(err)
	}
	b, _ := cudago.NewDeviceBuffer[byte](dev, 64<<20) // served from the reservation
	st, _ := dev.PoolStats()
	fmt.Printf("reserved %d MiB, used %d MiB\n", st.Reserved>>20, st.Used>>20)
	b.Close()
	_ = dev.TrimPool(0) // give the cached memory back to the device
}

// Matching errors with errors.Is, through wrapping, and reading the detail with errors.As.
func ExampleError() {
	// What a failed allocation returns (constructed here so the example runs anywhere).
	var err error = &cudago.Error{
		Status:     cudago.StatusOutOfMemory,
		Native:     2,
		NativeName: "cudaErrorMemoryAllocation",
		Op:         "buffer alloc",
		Msg:        "cudaMallocFromPoolAsync(...) failed: out of memory",
	}
	err = fmt.Errorf("loading weights: %w", err)

	fmt.Println(errors.Is(err, cudago.ErrOutOfMemory))
	fmt.Println(errors.Is(err, cudago.ErrNoDevice))
	var e *cudago.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Op)
	}
	fmt.Println(err)
	// Output:
	// true
	// false
	// CUDAGO_ERROR_OUT_OF_MEMORY buffer alloc
	// loading weights: cudago: buffer alloc: CUDAGO_ERROR_OUT_OF_MEMORY: cudaErrorMemoryAllocation: cudaMallocFromPoolAsync(...) failed: out of memory
}

// Calls on a closed handle fail with ErrClosed; without a GPU, creating one fails with
// ErrNoDevice.
func ExampleErrClosed() {
	dev, err := cudago.GetDevice(0)
	if errors.Is(err, cudago.ErrNoDevice) {
		fmt.Println("no GPU:", err)
		return
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{})
	if err != nil {
		log.Fatal(err)
	}
	s.Close()
	err = s.Synchronize()
	fmt.Println(errors.Is(err, cudago.ErrClosed), errors.Is(err, cudago.ErrInvalidHandle)) // true true
}

// Status values name the C status codes.
func ExampleStatus() {
	fmt.Println(cudago.StatusKernelFault)
	fmt.Println(cudago.Status(42))
	// Output:
	// CUDAGO_ERROR_KERNEL_FAULT
	// CUDAGO_STATUS(42)
}

// A stream runs queued work in order; Wait returns when it is done or the context ends.
func ExampleStream_Wait() {
	dev, err := cudago.GetDevice(0)
	if err != nil {
		fmt.Println(err) // e.g. no CUDA device
		return
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	buf, err := cudago.NewDeviceBufferAsync[float32](s, 1<<20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer buf.Close()
	if err := buf.MemsetAsync(s, 0); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Wait(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("stream idle:", s.Device())
}
