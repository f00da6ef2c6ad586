//go:build cgo

package capi

import (
	"fmt"
	"runtime"
	"testing"
)

// Benchmarks report GB/s (1e9 bytes per second) from the bytes moved and the wall time of b.N
// operations queued on one stream and synchronised once at the end. Sizes match the peer
// figures (PyTorch/CuPy) measured on the same machine: 256 MiB (64 Mi float32) for H2D/D2H,
// 1 GiB buffers for D2D (counting read + write), 12 bytes per element for vector add.

const (
	transferElems = 64 << 20 // float32: 256 MiB
	d2dElems      = 1 << 28  // float32: 1 GiB
)

func reportGBps(b *testing.B, bytesPerOp float64) {
	b.Helper()
	sec := b.Elapsed().Seconds()
	if sec > 0 {
		b.ReportMetric(bytesPerOp*float64(b.N)/sec/1e9, "GB/s")
	}
}

func benchStream(t testing.TB, dev Device) *Stream {
	t.Helper()
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	return s
}

// runQueued times b.N calls of op queued on s, after warm untimed calls, and synchronises once
// at the end; the caller reports the rate from b.Elapsed() (reportGBps).
func runQueued(b *testing.B, s *Stream, warm int, op func() error) {
	b.Helper()
	for i := 0; i < warm; i++ {
		must(b, "warm-up", op())
	}
	must(b, "Synchronize", s.Synchronize())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	must(b, "Synchronize", s.Synchronize())
	b.StopTimer()
}

func benchBuffer[T Numeric](b *testing.B, dev Device, n int) *DeviceBuffer[T] {
	d, err := NewDeviceBuffer[T](dev, n)
	must(b, "NewDeviceBuffer", err)
	closeT(b, "buffer", d)
	must(b, "Memset", d.Memset(0x3f)) // every element 0.747f (or 0x3f3f...): real data, not zeros
	return d
}

func benchHost[T Numeric](b *testing.B, dev Device, n int) *HostBuffer[T] {
	h, err := NewHostBuffer[T](dev, n)
	must(b, "NewHostBuffer", err)
	closeT(b, "host buffer", h)
	for i, s := 0, h.Slice(); i < len(s); i++ {
		s[i] = T(i%251 + 1) // written, non-zero data
	}
	return h
}

func BenchmarkH2D(b *testing.B) {
	b.Run("pinned", func(b *testing.B) {
		dev := requireGPU(b)
		s := benchStream(b, dev)
		d := benchBuffer[float32](b, dev, transferElems)
		h := benchHost[float32](b, dev, transferElems)
		runQueued(b, s, 1, func() error { return d.CopyFromHostAsync(s, h) })
		reportGBps(b, 4*transferElems)
	})
	b.Run("pageable", func(b *testing.B) {
		dev := requireGPU(b)
		d := benchBuffer[float32](b, dev, transferElems)
		src := make([]float32, transferElems)
		for i := range src { // written data, as a real program copies (not untouched zero pages)
			src[i] = float32(i)
		}
		must(b, "warm-up", d.CopyFromHost(src))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := d.CopyFromHost(src); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		reportGBps(b, 4*transferElems)
	})
}

func BenchmarkD2H(b *testing.B) {
	b.Run("pinned", func(b *testing.B) {
		dev := requireGPU(b)
		s := benchStream(b, dev)
		d := benchBuffer[float32](b, dev, transferElems)
		h := benchHost[float32](b, dev, transferElems)
		runQueued(b, s, 1, func() error { return d.CopyToHostAsync(s, h) })
		reportGBps(b, 4*transferElems)
	})
	b.Run("pageable", func(b *testing.B) {
		dev := requireGPU(b)
		d := benchBuffer[float32](b, dev, transferElems)
		dst := make([]float32, transferElems)
		for i := range dst {
			dst[i] = float32(i)
		}
		must(b, "warm-up", d.CopyToHost(dst))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := d.CopyToHost(dst); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		reportGBps(b, 4*transferElems)
	})
}

func BenchmarkD2D(b *testing.B) { benchCopy(b, d2dElems) }

// benchCopy times device-to-device copies of n float32 and reports GB/s read plus written.
func benchCopy(b *testing.B, n int) {
	dev := requireGPU(b)
	s := benchStream(b, dev)
	src := benchBuffer[float32](b, dev, n)
	dst := benchBuffer[float32](b, dev, n)
	runQueued(b, s, 1, func() error { return dst.CopyFromAsync(s, src) })
	reportGBps(b, 2*4*float64(n))
}

func BenchmarkVectorAdd(b *testing.B) {
	for _, c := range []struct {
		name string
		n    int
	}{{"n=10M", 10_000_000}, {"n=256M", 1 << 28}} {
		b.Run(c.name, func(b *testing.B) {
			dev := requireGPU(b)
			s := benchStream(b, dev)
			x := benchBuffer[float32](b, dev, c.n)
			y := benchBuffer[float32](b, dev, c.n)
			z := benchBuffer[float32](b, dev, c.n)
			runQueued(b, s, 1, func() error { return Add(s, x, y, z) })
			reportGBps(b, 12*float64(c.n))
		})
	}
}

// One tiny kernel and a synchronisation per operation: the fixed cost of a GPU round trip
// through the binding (two cgo calls, launch, wait).
func BenchmarkRoundTrip(b *testing.B) {
	roundTrips(b)
	reportGBps(b, 12)
}

// BenchmarkRoundTripLockedThread is BenchmarkRoundTrip on a goroutine locked to its OS thread,
// as the C++ twin runs on one thread: if the Go round trip's gap to the twin comes from the
// goroutine moving between threads (and CPUs), this variant closes it.
func BenchmarkRoundTripLockedThread(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	roundTrips(b)
}

// roundTrips times b.N round trips (a one-element add, then a stream synchronisation) and
// reports microseconds per round trip.
func roundTrips(b *testing.B) {
	dev := requireGPU(b)
	s := benchStream(b, dev)
	x := benchBuffer[float32](b, dev, 1)
	must(b, "warm-up", Add(s, x, x, x))
	must(b, "Synchronize", s.Synchronize())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := Add(s, x, x, x); err != nil {
			b.Fatal(err)
		}
		if err := s.Synchronize(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "us/op")
}

// BenchmarkCgoCall times one call from Go into libcudago that does no work (the version
// number): the fixed cost of a cgo transition on this host, of which a Go round trip pays two
// more than its C++ twin. It needs no GPU.
func BenchmarkCgoCall(b *testing.B) {
	var last uint32
	for i := 0; i < b.N; i++ {
		last = libraryVersionNumber()
	}
	if err := versionCompatible(last, headerVersionNumber); err != nil {
		b.Fatalf("cudago_version_number: %v", err)
	}
}

// The CPU reference: the same addition as a Go loop.
func BenchmarkCPUVectorAdd(b *testing.B) {
	for _, n := range []int{10_000_000} {
		b.Run(fmt.Sprintf("n=%dM", n/1_000_000), func(b *testing.B) {
			x, y, z := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range x {
				x[i], y[i] = float32(i), float32(2*i)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cpuVectorAdd(x, y, z)
			}
			b.StopTimer()
			reportGBps(b, 12*float64(n))
		})
	}
}

func cpuVectorAdd(a, b, c []float32) {
	_, _ = b[len(a)-1], c[len(a)-1]
	for i := range a {
		c[i] = a[i] + b[i]
	}
}
