//go:build cgo

package capi

import "testing"

// BenchmarkGraphTinyKernels: 1000 tiny kernels (one thread adds 1 to a float) queued one by one
// with Kernel.Launch, against the same 1000 kernels captured once into a Graph and replayed with
// one Graph.Launch. Each op is the 1000 kernels and a stream synchronize; the metric is µs per
// kernel, wall clock, so it holds the host's launch cost and the GPU's per-kernel cost.
// GraphEmptyKernel replays 1000 launches of an empty kernel instead: no kernel waits for another's
// store, so it shows the GPU's floor per graph node.

const graphBenchKernels = 1000

func BenchmarkGraphTinyKernels(b *testing.B) {
	dev := requireGPU(b)
	m, err := Compile(dev, `extern "C" __global__ void bump(float* p) { p[0] += 1.0f; }
extern "C" __global__ void noop(float*) {}`, CompileOptions{})
	must(b, "Compile", err)
	defer m.Close()
	k, err := m.Kernel("bump")
	must(b, "Kernel", err)
	defer k.Close()
	buf, err := NewDeviceBuffer[float32](dev, 1)
	must(b, "alloc", err)
	defer buf.Close()
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(b, "NewStream", err)
	defer s.Close()
	arg := BufArg(buf)
	queue := func() error {
		for i := 0; i < graphBenchKernels; i++ {
			if err := k.Launch(s, Dim3{X: 1}, Dim3{X: 1}, 0, arg); err != nil {
				return err
			}
		}
		return nil
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*graphBenchKernels),
			"µs/kernel")
	}

	b.Run("OneByOne", func(b *testing.B) {
		must(b, "warm-up", queue())
		must(b, "sync", s.Synchronize())
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := queue(); err != nil {
				b.Fatal(err)
			}
			if err := s.Synchronize(); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	// replay captures fill once, then times one graph launch and a synchronize per op.
	replay := func(b *testing.B, fill func() error) {
		g, err := s.Capture(fill)
		must(b, "Capture", err)
		defer g.Close()
		must(b, "Upload", g.Upload(s))
		must(b, "warm-up", g.Launch(s))
		must(b, "sync", s.Synchronize())
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := g.Launch(s); err != nil {
				b.Fatal(err)
			}
			if err := s.Synchronize(); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	}
	b.Run("Graph", func(b *testing.B) { replay(b, queue) })
	b.Run("GraphEmptyKernel", func(b *testing.B) {
		noop, err := m.Kernel("noop")
		must(b, "Kernel", err)
		defer noop.Close()
		replay(b, func() error {
			for i := 0; i < graphBenchKernels; i++ {
				if err := noop.Launch(s, Dim3{X: 1}, Dim3{X: 1}, 0, arg); err != nil {
					return err
				}
			}
			return nil
		})
	})
	b.Run("Capture", func(b *testing.B) {
		// The host cost of capturing and instantiating the 1000 kernels.
		for i := 0; i < b.N; i++ {
			g, err := s.Capture(queue)
			if err != nil {
				b.Fatal(err)
			}
			g.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/capture")
	})
}
