//go:build cgo

package capi

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
)

// CUDA Graphs: a capture of kernels, copies, memsets, cuBLAS, cuFFT and a reduction replays to
// what the same calls give eagerly; updates; the errors of illegal calls during a capture, after
// which the stream must work again; buffers closed before a launch; concurrent launches.

const graphKernels = `
extern "C" __global__ void axpb(float a, const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}
extern "C" __global__ void bump(float* p) { p[0] += 1.0f; }
`

type graphFixture struct {
	dev  Device
	s    *Stream
	axpb *Kernel
	bump *Kernel
}

func newGraphFixture(t *testing.T) *graphFixture {
	t.Helper()
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	m, err := Compile(dev, graphKernels, CompileOptions{})
	must(t, "Compile", err)
	closeT(t, "module", m)
	f := &graphFixture{dev: dev, s: s}
	f.axpb, err = m.Kernel("axpb")
	must(t, "Kernel axpb", err)
	closeT(t, "kernel", f.axpb)
	f.bump, err = m.Kernel("bump")
	must(t, "Kernel bump", err)
	closeT(t, "kernel", f.bump)
	return f
}

func (f *graphFixture) launchAxpb(s *Stream, a float32, x, y *DeviceBuffer[float32]) error {
	n := y.Len()
	return f.axpb.Launch(s, Dim3{X: (n + 255) / 256}, Dim3{X: 256}, 0, Float32(a), BufArg(x),
		BufArg(y), Int32(int32(n)))
}

// pipeline queues one of everything a capture must handle. in is pinned; the results land in
// out (pinned, through an async D2H copy) and in the device buffers of r.
type pipelineBufs struct {
	in, out              *HostBuffer[float32]
	x, y, z, c, spec, sm *DeviceBuffer[float32]
	a, b                 *DeviceBuffer[float32] // GEMM inputs
}

const (
	plN              = 1000003 // elements of x, y, z
	plM, plNN, plK   = 37, 29, 53
	plFFT, plFFTBat  = 1000, 3
	plSumN           = plN // Sum over z: two passes through scratch
	plMemsetBytesOff = 0
)

func newPipelineBufs(t *testing.T, dev Device, seedX []float32) *pipelineBufs {
	t.Helper()
	p := &pipelineBufs{}
	var err error
	p.in, err = NewHostBuffer[float32](dev, plN)
	must(t, "NewHostBuffer", err)
	closeT(t, "in", p.in)
	copy(p.in.Slice(), seedX)
	p.out, err = NewHostBuffer[float32](dev, plN)
	must(t, "NewHostBuffer", err)
	closeT(t, "out", p.out)
	newb := func(n int) *DeviceBuffer[float32] {
		b, err := NewDeviceBuffer[float32](dev, n)
		must(t, "NewDeviceBuffer", err)
		closeT(t, "buffer", b)
		return b
	}
	p.x, p.y, p.z = newb(plN), newb(plN), newb(plN)
	p.a, p.b, p.c = newb(plM*plK), newb(plK*plNN), newb(plM*plNN)
	p.spec = newb(2 * plFFT * plFFTBat)
	p.sm = newb(1)
	return p
}

func (f *graphFixture) pipeline(s *Stream, p *pipelineBufs) error {
	steps := []func() error{
		func() error { return p.x.CopyFromHostAsync(s, p.in) },
		func() error { return p.y.MemsetAsync(s, 0) },
		func() error { return f.launchAxpb(s, 1.5, p.x, p.y) },                     // y = 1.5x
		func() error { return Add(s, p.x, p.y, p.z) },                              // z = x + y
		func() error { return f.launchAxpb(s, -0.25, p.z, p.y) },                   // y += -z/4
		func() error { return p.z.CopyFromAsync(s, p.y) },                          // z = y
		func() error { return MatMul(s, p.a, p.b, p.c, plM, plNN, plK) },           // c = a·b
		func() error { return FFT1D(s, p.spec, p.spec, plFFT, plFFTBat, Forward) }, // in place
		func() error { return Sum(s, p.z, p.sm) },
		func() error { return p.y.CopyToHostAsync(s, p.out) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func closeTo(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestGraphReplayEqualsEager(t *testing.T) {
	f := newGraphFixture(t)
	r := newRand(t)
	x := randFloats(r, plN)
	a, b := randFloats(r, plM*plK), randFloats(r, plK*plNN)
	spec := randFloats(r, 2*plFFT*plFFTBat)
	for i := range a { // keep GEMM and FFT magnitudes moderate
		a[i] = float32(r.Float64()*2 - 1)
	}
	for i := range b {
		b[i] = float32(r.Float64()*2 - 1)
	}
	for i := range spec {
		spec[i] = float32(r.Float64()*2 - 1)
	}

	// Eagerly, on one stream.
	eager := newPipelineBufs(t, f.dev, x)
	must(t, "copy a", eager.a.CopyFromHost(a))
	must(t, "copy b", eager.b.CopyFromHost(b))
	must(t, "copy spec", eager.spec.CopyFromHost(spec))
	must(t, "eager pipeline", f.pipeline(f.s, eager))
	must(t, "sync", f.s.Synchronize())

	// Captured on another stream, into other buffers.
	s2, err := NewStream(f.dev, StreamOptions{})
	must(t, "NewStream", err)
	closeT(t, "stream", s2)
	cap := newPipelineBufs(t, f.dev, x)
	must(t, "copy a", cap.a.CopyFromHost(a))
	must(t, "copy b", cap.b.CopyFromHost(b))
	must(t, "copy spec", cap.spec.CopyFromHost(spec))
	for i := range cap.out.Slice() {
		cap.out.Slice()[i] = float32(math.NaN())
	}
	var during bool
	g, err := s2.Capture(func() error {
		during, err = s2.Capturing()
		if err != nil {
			return err
		}
		return f.pipeline(s2, cap)
	})
	must(t, "Capture", err)
	closeT(t, "graph", g)
	after, err := s2.Capturing()
	must(t, "Capturing", err)
	if !during || after {
		t.Fatalf("Capturing: %v during the capture, %v after; want true, false", during, after)
	}
	must(t, "sync", s2.Synchronize())
	if v := cap.out.Slice()[plN/2]; !math.IsNaN(float64(v)) {
		t.Fatalf("captured work ran during the capture: out[%d] = %v", plN/2, v)
	}
	nodes, err := g.Nodes()
	must(t, "Nodes", err)
	if nodes < 10 {
		t.Errorf("graph has %d nodes; the pipeline queued at least 10 operations", nodes)
	}
	if g.Device() != f.dev {
		t.Errorf("graph device %v, want %v", g.Device(), f.dev)
	}
	must(t, "Upload", g.Upload(s2))
	must(t, "Launch", g.Launch(s2))
	must(t, "sync", s2.Synchronize())

	// Kernels, copies, memsets and the reduction are deterministic: bit for bit.
	for i, v := range eager.out.Slice() {
		if math.Float32bits(v) != math.Float32bits(cap.out.Slice()[i]) {
			t.Fatalf("out[%d]: replay %v, eager %v", i, cap.out.Slice()[i], v)
		}
	}
	ez, cz := download(t, eager.z), download(t, cap.z)
	for i := range ez {
		if math.Float32bits(ez[i]) != math.Float32bits(cz[i]) {
			t.Fatalf("z[%d]: replay %v, eager %v", i, cz[i], ez[i])
		}
	}
	es, cs := download(t, eager.sm)[0], download(t, cap.sm)[0]
	if math.Float32bits(es) != math.Float32bits(cs) {
		t.Errorf("sum: replay %v, eager %v", cs, es)
	}
	// CPU reference for y: 1.5x - (x + 1.5x)/4, within a few float ulps.
	for i := 0; i < plN; i += 997 {
		want := 1.5*float64(x[i]) - (float64(x[i])+1.5*float64(x[i]))/4
		if !closeTo(float64(cap.out.Slice()[i]), want, 4e-7*math.Abs(float64(x[i]))*4) {
			t.Fatalf("y[%d] = %v, CPU %v", i, cap.out.Slice()[i], want)
		}
	}
	// cuBLAS and cuFFT: against eager within float rounding (the capture has its own work
	// area), and GEMM against the CPU.
	ec, cc := download(t, eager.c), download(t, cap.c)
	for i := 0; i < plM; i++ {
		for j := 0; j < plNN; j++ {
			var ref, mag float64
			for k := 0; k < plK; k++ {
				ref += float64(a[i*plK+k]) * float64(b[k*plNN+j])
				mag += math.Abs(float64(a[i*plK+k]) * float64(b[k*plNN+j]))
			}
			got := float64(cc[i*plNN+j])
			if !closeTo(got, ref, 1e-5*mag+1e-6) || !closeTo(got, float64(ec[i*plNN+j]), 1e-5*mag+1e-6) {
				t.Fatalf("c[%d,%d]: replay %v, eager %v, CPU %v", i, j, got, ec[i*plNN+j], ref)
			}
		}
	}
	espec, cspec := download(t, eager.spec), download(t, cap.spec)
	for i := range espec {
		if !closeTo(float64(cspec[i]), float64(espec[i]), 1e-4) {
			t.Fatalf("spectrum[%d]: replay %v, eager %v", i, cspec[i], espec[i])
		}
	}

	// A replay reads memory as it is at launch: change the pinned input and launch again.
	x2 := randFloats(r, plN)
	copy(cap.in.Slice(), x2)
	must(t, "Launch", g.Launch(s2))
	must(t, "sync", s2.Synchronize())
	for i := 0; i < plN; i += 991 {
		want := 1.5*float64(x2[i]) - (float64(x2[i])+1.5*float64(x2[i]))/4
		if !closeTo(float64(cap.out.Slice()[i]), want, 4e-7*math.Abs(float64(x2[i]))*4) {
			t.Fatalf("second launch y[%d] = %v, CPU %v", i, cap.out.Slice()[i], want)
		}
	}
}

func TestGraphUpdate(t *testing.T) {
	f := newGraphFixture(t)
	r := newRand(t)
	const n = 4099
	x1, y1 := randFloats(r, n), randFloats(r, n)
	x2, y2 := randFloats(r, n), randFloats(r, n)
	dx1, dy1 := devFrom(t, f.dev, x1, 0), devFrom(t, f.dev, y1, 0)
	dx2, dy2 := devFrom(t, f.dev, x2, 0), devFrom(t, f.dev, y2, 0)

	g, err := f.s.Capture(func() error { return f.launchAxpb(f.s, 2, dx1, dy1) })
	must(t, "Capture", err)
	closeT(t, "graph", g)
	must(t, "Launch", g.Launch(f.s))
	check := func(what string, got []float32, a float32, x, y []float32) {
		t.Helper()
		for i := range got {
			want := float64(a)*float64(x[i]) + float64(y[i])
			tol := 2 * 6e-8 * (math.Abs(float64(a)*float64(x[i])) + math.Abs(float64(y[i])))
			if !closeTo(float64(got[i]), want, tol) {
				t.Fatalf("%s [%d]: %v, CPU %v", what, i, got[i], want)
			}
		}
	}
	got1 := download(t, dy1)
	check("a=2 on buffers 1", got1, 2, x1, y1)

	// Same topology, other scalar and other buffers.
	must(t, "Update", g.Update(f.s, func() error { return f.launchAxpb(f.s, 3, dx2, dy2) }))
	must(t, "Launch", g.Launch(f.s))
	got2 := download(t, dy2)
	check("a=3 on buffers 2", got2, 3, x2, y2)
	for i, v := range download(t, dy1) {
		if math.Float32bits(v) != math.Float32bits(got1[i]) {
			t.Fatalf("the updated graph still wrote buffer 1 (element %d)", i)
		}
	}

	// Another topology: refused, and the graph is left as it was.
	err = g.Update(f.s, func() error {
		if err := f.launchAxpb(f.s, 5, dx1, dy1); err != nil {
			return err
		}
		return f.launchAxpb(f.s, 5, dx1, dy1)
	})
	wantErr(t, "update with two kernels", err, ErrCapture)
	if capturing, _ := f.s.Capturing(); capturing {
		t.Fatal("the stream is still capturing after a refused update")
	}
	must(t, "Launch", g.Launch(f.s))
	check("a=3 again after the refused update", download(t, dy2), 3, x2, got2)

	// fn's own error comes back as it is, and the graph is unchanged.
	mine := errors.New("mine")
	if err := g.Update(f.s, func() error { return mine }); err != mine {
		t.Fatalf("Update with a failing fn: %v, want %v", err, mine)
	}
	got3 := download(t, dy2)
	must(t, "Launch", g.Launch(f.s))
	check("a=3 after a failed fn", download(t, dy2), 3, x2, got3)
}

// checkStreamWorks runs a kernel and a synchronous copy on s and checks the result.
func (f *graphFixture) checkStreamWorks(t *testing.T, s *Stream) {
	t.Helper()
	if capturing, err := s.Capturing(); err != nil || capturing {
		t.Fatalf("stream capturing=%v err=%v after the capture ended", capturing, err)
	}
	x := []float32{1, 2, 3, 4, 5}
	y := []float32{10, 20, 30, 40, 50}
	dx, dy := devFrom(t, f.dev, x, 0), devFrom(t, f.dev, y, 0)
	must(t, "launch after capture", f.launchAxpb(s, 2, dx, dy))
	must(t, "sync after capture", s.Synchronize())
	got := download(t, dy)
	for i := range got {
		if got[i] != 2*x[i]+y[i] {
			t.Fatalf("after the failed capture: y[%d] = %v, want %v", i, got[i], 2*x[i]+y[i])
		}
	}
}

func TestGraphCaptureErrors(t *testing.T) {
	f := newGraphFixture(t)
	dx := devFrom(t, f.dev, make([]float32, 64), 0)
	dy := devFrom(t, f.dev, make([]float32, 64), 0)

	t.Run("SynchronizeInside", func(t *testing.T) {
		var syncErr error
		g, err := f.s.Capture(func() error {
			if err := f.launchAxpb(f.s, 1, dx, dy); err != nil {
				return err
			}
			syncErr = f.s.Synchronize()
			return syncErr
		})
		if g != nil || err == nil || syncErr == nil {
			t.Fatalf("synchronize inside a capture: graph %v, err %v, sync err %v", g, err, syncErr)
		}
		wantErr(t, "synchronize inside a capture", err, ErrCapture)
		f.checkStreamWorks(t, f.s)
	})
	t.Run("SynchronizeIgnored", func(t *testing.T) {
		// fn swallows the failure: the capture itself still reports it.
		g, err := f.s.Capture(func() error {
			_ = f.s.Synchronize()
			return f.launchAxpb(f.s, 1, dx, dy)
		})
		if g != nil {
			t.Fatal("an invalidated capture produced a graph")
		}
		wantErr(t, "invalidated capture", err, ErrCapture)
		f.checkStreamWorks(t, f.s)
	})
	t.Run("QueryInside", func(t *testing.T) {
		_, err := f.s.Capture(func() error {
			_, err := f.s.Query()
			return err
		})
		if err == nil {
			t.Fatal("query of the capturing stream succeeded")
		}
		f.checkStreamWorks(t, f.s)
	})
	t.Run("SyncCopyInside", func(t *testing.T) {
		var copyErr error
		_, err := f.s.Capture(func() error {
			copyErr = dx.CopyToHost(make([]float32, 64))
			return nil // ignore it: the capture must fail anyway
		})
		wantErr(t, "sync copy inside a capture", copyErr, ErrCapture)
		wantErr(t, "capture after a sync copy", err, ErrCapture)
		f.checkStreamWorks(t, f.s)
	})
	t.Run("AllocInside", func(t *testing.T) {
		_, err := f.s.Capture(func() error {
			b, err := NewDeviceBufferAsync[float32](f.s, 16)
			if err == nil {
				b.Close()
			}
			return err
		})
		wantErr(t, "alloc on the capturing stream", err, ErrCapture)
		f.checkStreamWorks(t, f.s)
	})
	t.Run("Nested", func(t *testing.T) {
		var inner error
		g, err := f.s.Capture(func() error {
			_, inner = f.s.Capture(func() error { return nil })
			return f.launchAxpb(f.s, 1, dx, dy)
		})
		wantErr(t, "nested capture", inner, ErrCapture)
		must(t, "outer capture", err)
		g.Close()
		f.checkStreamWorks(t, f.s)
	})
	t.Run("LaunchIntoCapture", func(t *testing.T) {
		g, err := f.s.Capture(func() error { return f.launchAxpb(f.s, 1, dx, dy) })
		must(t, "Capture", err)
		defer g.Close()
		var launchErr error
		_, err = f.s.Capture(func() error {
			launchErr = g.Launch(f.s)
			return launchErr
		})
		wantErr(t, "graph launched into a capture", launchErr, ErrCapture)
		wantErr(t, "capture", err, ErrCapture)
		f.checkStreamWorks(t, f.s)
	})
	t.Run("FnError", func(t *testing.T) {
		mine := errors.New("mine")
		g, err := f.s.Capture(func() error { return mine })
		if g != nil || err != mine {
			t.Fatalf("Capture with a failing fn: %v, %v; want nil, %v", g, err, mine)
		}
		f.checkStreamWorks(t, f.s)
	})
	t.Run("Panic", func(t *testing.T) {
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Fatalf("recovered %v, want the panic of fn", r)
				}
			}()
			_, _ = f.s.Capture(func() error { panic("boom") })
		}()
		f.checkStreamWorks(t, f.s)
	})
	t.Run("Empty", func(t *testing.T) {
		g, err := f.s.Capture(func() error { return nil })
		must(t, "empty capture", err)
		defer g.Close()
		must(t, "launch empty graph", g.Launch(f.s))
		must(t, "sync", f.s.Synchronize())
	})
	t.Run("BadMode", func(t *testing.T) {
		_, err := f.s.CaptureWith(CaptureMode(7), func() error { return nil })
		wantErr(t, "capture mode 7", err, ErrInvalidArgument)
	})
	t.Run("Modes", func(t *testing.T) {
		for _, mode := range []CaptureMode{CaptureThreadLocal, CaptureGlobal, CaptureRelaxed} {
			g, err := f.s.CaptureWith(mode, func() error { return f.launchAxpb(f.s, 1, dx, dy) })
			must(t, "capture", err)
			must(t, "launch", g.Launch(f.s))
			must(t, "close", g.Close())
		}
		must(t, "sync", f.s.Synchronize())
	})
}

func TestGraphClosedBuffers(t *testing.T) {
	f := newGraphFixture(t)
	x := []float32{1, 2, 3}
	dx := devFrom(t, f.dev, x, 0)
	dy, err := NewDeviceBuffer[float32](f.dev, 3)
	must(t, "alloc", err)
	g, err := f.s.Capture(func() error { return f.launchAxpb(f.s, 1, dx, dy) })
	must(t, "Capture", err)
	closeT(t, "graph", g)
	must(t, "Launch", g.Launch(f.s))
	must(t, "close y", dy.Close())
	wantErr(t, "launch after a buffer closed", g.Launch(f.s), ErrInvalidHandle)
	must(t, "sync", f.s.Synchronize())

	// Closed inside the capture: the free waits for the capture's end, which succeeds; the
	// graph then refuses to launch.
	dz, err := NewDeviceBufferAsync[float32](f.s, 3)
	must(t, "alloc async", err)
	must(t, "memset", dz.MemsetAsync(f.s, 0))
	dw := devFrom(t, f.dev, []float32{4, 5, 6}, 0) // no owning stream: freed on the reclaim stream
	g2, err := f.s.Capture(func() error {
		if err := f.launchAxpb(f.s, 1, dx, dz); err != nil {
			return err
		}
		if err := f.launchAxpb(f.s, 1, dx, dw); err != nil {
			return err
		}
		if err := dw.Close(); err != nil { // freed now, after the work queued before
			return err
		}
		return dz.Close() // owned by the capturing stream: freed when the capture ends
	})
	must(t, "capture closing a buffer", err)
	defer g2.Close()
	wantErr(t, "launch of a graph whose buffer closed", g2.Launch(f.s), ErrInvalidHandle)
	f.checkStreamWorks(t, f.s)
}

func TestGraphThousandKernelsAndConcurrentLaunches(t *testing.T) {
	f := newGraphFixture(t)
	p := devFrom(t, f.dev, []float32{0}, 0)
	g, err := f.s.Capture(func() error {
		for i := 0; i < 1000; i++ {
			if err := f.bump.Launch(f.s, Dim3{X: 1}, Dim3{X: 1}, 0, BufArg(p)); err != nil {
				return err
			}
		}
		return nil
	})
	must(t, "Capture", err)
	closeT(t, "graph", g)
	if n, _ := g.Nodes(); n != 1000 {
		t.Errorf("graph of 1000 kernels has %d nodes", n)
	}
	must(t, "Launch", g.Launch(f.s))
	if v := download(t, p)[0]; v != 1000 {
		t.Fatalf("after one launch: %v, want 1000", v)
	}
	must(t, "Launch", g.Launch(f.s))
	must(t, "Launch", g.Launch(f.s))
	if v := download(t, p)[0]; v != 3000 {
		t.Fatalf("after three launches: %v, want 3000", v)
	}
	// Launches of one graph from many goroutines on their own streams run one after another:
	// no increment is lost.
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := NewStream(f.dev, StreamOptions{NonBlocking: true})
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i := 0; i < each; i++ {
				if err := g.Launch(s); err != nil {
					errs <- err
					return
				}
			}
			errs <- s.Synchronize()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "concurrent launch", err)
	}
	if v := download(t, p)[0]; v != 3000+workers*each*1000 {
		t.Fatalf("after concurrent launches: %v, want %d", v, 3000+workers*each*1000)
	}
}

func TestGraphValidation(t *testing.T) {
	var g *Graph
	var s *Stream
	wantErr(t, "nil graph launch", g.Launch(s), ErrInvalidHandle)
	wantErr(t, "nil graph upload", g.Upload(s), ErrInvalidHandle)
	wantErr(t, "nil graph update", g.Update(s, func() error { return nil }), ErrInvalidHandle)
	if _, err := g.Nodes(); !errors.Is(err, ErrInvalidHandle) {
		t.Errorf("nil graph Nodes: %v", err)
	}
	if err := g.Close(); err != nil {
		t.Errorf("nil graph Close: %v", err)
	}
	if _, err := s.Capture(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("nil fn: %v", err)
	}
	if _, err := s.Capture(func() error { return nil }); !errors.Is(err, ErrInvalidHandle) {
		t.Errorf("nil stream capture: %v", err)
	}
	if _, err := s.Capturing(); !errors.Is(err, ErrInvalidHandle) {
		t.Errorf("nil stream Capturing: %v", err)
	}
}

func TestGraphClosedHandles(t *testing.T) {
	f := newGraphFixture(t)
	dx := devFrom(t, f.dev, []float32{1}, 0)
	g, err := f.s.Capture(func() error { return f.launchAxpb(f.s, 1, dx, dx) })
	must(t, "Capture", err)
	must(t, "Close", g.Close())
	must(t, "second Close", g.Close())
	wantErr(t, "closed graph launch", g.Launch(f.s), ErrClosed)
	if err := g.Update(f.s, func() error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("closed graph update: %v", err)
	}
	if capturing, _ := f.s.Capturing(); capturing {
		t.Error("a refused update left the stream capturing")
	}
	closed, err := NewStream(f.dev, StreamOptions{})
	must(t, "NewStream", err)
	must(t, "Close", closed.Close())
	if _, err := closed.Capture(func() error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("capture on a closed stream: %v", err)
	}
}

// Library set-up inside a capture. cuFFT cannot create a plan while a stream is being captured:
// a transform whose plan is not cached is refused with ErrCapture before cuFFT is called, and
// the stream stays usable; after one eager run of the shape the capture works, on blocking and
// non-blocking streams, and the replay matches the eager result.
func TestGraphFFTPlanMissAndWarmCapture(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	for _, opts := range []StreamOptions{{NonBlocking: true}, {}} {
		must(t, "ClearFFTCache", ClearFFTCache())
		s, err := NewStream(dev, opts)
		must(t, "NewStream", err)
		closeT(t, "stream", s)
		n := 3001 + r.IntN(64)
		x := make([]float32, 2*n)
		for i := range x {
			x[i] = float32(r.Float64()*2 - 1)
		}
		in := devFrom(t, dev, x, 0)
		out := devFrom(t, dev, make([]float32, 2*n), 0)
		a := devFrom(t, dev, x[:16*16], 0)
		c := devFrom(t, dev, make([]float32, 16*16), 0)
		capture := func() (*Graph, error) {
			return s.Capture(func() error {
				if err := FFT1D(s, in, out, n, 1, Forward); err != nil {
					return err
				}
				return MatMul(s, a, a, c, 16, 16, 16)
			})
		}
		_, err = capture()
		wantErr(t, "capture with a cold plan cache", err, ErrCapture)
		if err != nil && !strings.Contains(err.Error(), "before the capture") {
			t.Errorf("the plan-miss error does not say what to do: %v", err)
		}
		// Eagerly: creates the plan; its result is the reference.
		want := devFrom(t, dev, make([]float32, 2*n), 0)
		wantC := devFrom(t, dev, make([]float32, 16*16), 0)
		must(t, "FFT1D", FFT1D(s, in, want, n, 1, Forward))
		must(t, "MatMul", MatMul(s, a, a, wantC, 16, 16, 16))
		g, err := capture()
		must(t, "capture with the plan cached", err)
		closeT(t, "graph", g)
		must(t, "Launch", g.Launch(s))
		got, gotC := download(t, out), download(t, c)
		w, wc := download(t, want), download(t, wantC)
		for i := range w {
			if !closeTo(float64(got[i]), float64(w[i]), 1e-3) {
				t.Fatalf("blocking=%v FFT[%d]: replay %v, eager %v", !opts.NonBlocking, i, got[i], w[i])
			}
		}
		for i := range wc {
			if !closeTo(float64(gotC[i]), float64(wc[i]), 1e-4) {
				t.Fatalf("blocking=%v GEMM[%d]: replay %v, eager %v", !opts.NonBlocking, i, gotC[i], wc[i])
			}
		}
	}
}
