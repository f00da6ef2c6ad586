package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cudago/cudago/examples/go/sgemm"
	"github.com/cudago/cudago/go/blas"
	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/fft"
	"github.com/cudago/cudago/go/kernels"
)

// The op table: each operation on the CPU, in Go, and on the GPU with its inputs already in
// device memory.

const (
	cpuRuns = 5 // CPU runs of each operation but vector add and GEMM; the best one counts
	fftLog2 = 20
	fftLen  = 1 << fftLog2
	gemmDim = 1024 // M = N = K

	minWindow = 20 * time.Millisecond // the shortest stretch of GPU work that is timed
)

var vecSize = fmt.Sprintf("n=%dM", vecLen/1_000_000)

// row is one line of the op table.
type row struct {
	op, size string
	cpu, gpu time.Duration
	work     float64 // per run: bytes read and written, or floating-point operations if flops
	flops    bool
	failure  string // "" when the GPU result passed its check, else what the check found
}

// opTable runs every operation after vector add, prints the table, and fails if any GPU result
// failed its check.
func opTable(g *gpuBench, rng *rand.Rand, vecadd row) error {
	rows := []row{vecadd}
	for _, op := range []func(*gpuBench, *rand.Rand) ([]row, error){
		benchMul, benchAxpy, benchSum, benchArgMax, benchNHWCToNCHW, benchGEMM, benchFFT,
	} {
		r, err := op(g, rng)
		g.release()
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	if failed := printTable(rows); failed > 0 {
		return fmt.Errorf("%d of %d GPU results failed their check", failed, len(rows))
	}
	return nil
}

// printTable prints the rows and a legend, and returns how many rows failed their check.
func printTable(rows []row) (failed int) {
	fmt.Printf("\neach op, CPU (Go) vs GPU\n\n")
	const format = "%-24s %-15s %10s %10s %14s %9s  %s\n"
	fmt.Printf(format, "op", "size", "CPU (Go)", "GPU", "GPU rate", "speed-up", "check")
	for _, r := range rows {
		check := "ok"
		if r.failure != "" {
			check = r.failure
			failed++
		}
		speedup := fmt.Sprintf("%.1fx", r.cpu.Seconds()/r.gpu.Seconds())
		fmt.Printf(format, r.op, r.size, duration(r.cpu), duration(r.gpu), r.rate(), speedup, check)
	}
	fmt.Printf(`
CPU (Go): one goroutine running a plain Go loop, which is also the reference of the check;
  best of %d runs (vector add: %d, GEMM: 1).
GPU: inputs already in device memory; mean of at least %d runs and %v of GPU work, timed with
  CUDA events after a warm-up run.
GPU rate: GB/s = 1e9 bytes read and written per second; GEMM counts 2·M·N·K floating-point
  operations, FFT 5·n·log2(n).
check: "ok" when the GPU result is within tolerance of the CPU one, else the largest error.
  Exact (bitwise) for vector add, mul and NHWC→NCHW; axpy within 1 ulp of the float64 FMA
  rounded to float32; sum within 32u·Σ|x|, the bound kernels.Sum guarantees (u = 2^-24); argmax
  the same index; GEMM |error| ≤ 10·√K·u·‖row i of A‖·‖column j of B‖ for each element, a
  probabilistic float32 bound that TF32 would fail (reference in float64); FFT relative L2
  error ≤ 1e-4 (reference in complex128).
`, cpuRuns, reps, reps, minWindow)
	return failed
}

// rate formats the GPU's throughput.
func (r row) rate() string {
	perSec := r.work / r.gpu.Seconds()
	switch {
	case !r.flops:
		return fmt.Sprintf("%.1f GB/s", perSec/1e9)
	case perSec >= 1e12:
		return fmt.Sprintf("%.2f TFLOP/s", perSec/1e12)
	default:
		return fmt.Sprintf("%.1f GFLOP/s", perSec/1e9)
	}
}

// duration formats d to about three significant digits: 38.4 µs, 9.21 ms, 1.05 s.
func duration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

// gpuBench is what the GPU side of every operation shares: the device, one stream, two timing
// events, and the device buffers of the operation being measured.
type gpuBench struct {
	dev        cudago.Device
	s          *cudago.Stream
	start, end *cudago.Event
	bufs       []io.Closer // freed by release
}

func newGPUBench(dev cudago.Device) (*gpuBench, error) {
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		return nil, err
	}
	g := &gpuBench{dev: dev, s: s}
	if g.start, err = cudago.NewEvent(dev, cudago.EventOptions{}); err == nil {
		g.end, err = cudago.NewEvent(dev, cudago.EventOptions{})
	}
	if err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// Close frees the buffers, the events and the stream.
func (g *gpuBench) Close() {
	g.release()
	g.end.Close() // Close of a nil *Event or *Stream is a no-op
	g.start.Close()
	g.s.Close()
}

// time returns the mean GPU time of one run of body, which queues work on g.s. After a warm-up
// run it times reps runs between two events and, if they took less than minWindow (short
// windows read low), times enough runs to fill it.
func (g *gpuBench) time(body func() error) (time.Duration, error) {
	if err := body(); err != nil {
		return 0, err
	}
	runs := reps
	el, err := g.window(body, runs)
	if err == nil && el < minWindow {
		runs = int(int64(runs)*int64(minWindow)/int64(max(el, time.Microsecond))) + 1
		el, err = g.window(body, runs)
	}
	return el / time.Duration(runs), err
}

// window returns the GPU time of runs runs of body, between two events.
func (g *gpuBench) window(body func() error, runs int) (time.Duration, error) {
	if err := g.start.Record(g.s); err != nil {
		return 0, err
	}
	for r := 0; r < runs; r++ {
		if err := body(); err != nil {
			return 0, err
		}
	}
	if err := g.end.Record(g.s); err != nil {
		return 0, err
	}
	if err := g.end.Synchronize(); err != nil {
		return 0, err
	}
	return cudago.Elapsed(g.start, g.end)
}

// release frees the buffers of the last operation (in stream order: after the work queued
// with them).
func (g *gpuBench) release() {
	for _, b := range g.bufs {
		b.Close()
	}
	g.bufs = nil
}

// alloc returns a new device buffer of n elements, freed by g.release.
func alloc[T cudago.Element](g *gpuBench, n int) (*cudago.DeviceBuffer[T], error) {
	d, err := cudago.NewDeviceBuffer[T](g.dev, n)
	if err != nil {
		return nil, err
	}
	g.bufs = append(g.bufs, d)
	return d, nil
}

// upload returns a new device buffer holding a copy of host, freed by g.release.
func upload[T cudago.Element](g *gpuBench, host []T) (*cudago.DeviceBuffer[T], error) {
	d, err := alloc[T](g, len(host))
	if err != nil {
		return nil, err
	}
	return d, d.CopyFromHost(host)
}

// download returns a copy of d's content, read after all the work queued with d.
func download[T cudago.Element](d *cudago.DeviceBuffer[T]) ([]T, error) {
	host := make([]T, d.Len())
	return host, d.CopyToHost(host)
}

// cpuTime returns the best time of runs calls of f.
func cpuTime(runs int, f func()) time.Duration {
	best := time.Duration(math.MaxInt64)
	for r := 0; r < runs; r++ {
		t0 := time.Now()
		f()
		best = min(best, time.Since(t0))
	}
	return best
}

// randomFloats returns n values uniform in ±[0.5, 1.5): never zero, and far from the float32
// overflow, underflow and subnormal ranges in every operation here.
func randomFloats(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 0.5 + rng.Float32()
		if rng.Uint32()&1 != 0 {
			x[i] = -x[i]
		}
	}
	return x
}

// The operations. Each returns its table rows; an error is a failed cudago call, not a failed
// check.

func benchMul(g *gpuBench, rng *rand.Rand) ([]row, error) {
	x, y := randomFloats(rng, vecLen), randomFloats(rng, vecLen)
	want := make([]float32, vecLen)
	cpu := cpuTime(cpuRuns, func() { mulInto(want, x, y) })

	dx, err := upload(g, x)
	if err != nil {
		return nil, err
	}
	dy, err := upload(g, y)
	if err != nil {
		return nil, err
	}
	dz, err := alloc[float32](g, vecLen)
	if err != nil {
		return nil, err
	}
	gpu, err := g.time(func() error { return kernels.Mul(g.s, dx, dy, dz) })
	if err != nil {
		return nil, err
	}
	got, err := download(dz)
	if err != nil {
		return nil, err
	}
	return []row{{op: "elementwise mul f32", size: vecSize, cpu: cpu, gpu: gpu,
		work: 12 * vecLen, failure: exactCheck(got, want)}}, nil
}

func benchAxpy(g *gpuBench, rng *rand.Rand) ([]row, error) {
	const alpha = 1.7 // not a float32: both sides round it to float32 first
	x, y := randomFloats(rng, vecLen), randomFloats(rng, vecLen)
	want := make([]float32, vecLen)
	cpu := cpuTime(cpuRuns, func() { axpyInto(want, alpha, x, y) })

	dx, err := upload(g, x)
	if err != nil {
		return nil, err
	}
	dy, err := upload(g, y)
	if err != nil {
		return nil, err
	}
	gpu, err := g.time(func() error { return kernels.Axpy(g.s, alpha, dx, dy) })
	if err != nil {
		return nil, err
	}
	// Axpy updates y in place, once per timed run: put y back and run it once for the check.
	if err := dy.CopyFromHost(y); err != nil {
		return nil, err
	}
	if err := kernels.Axpy(g.s, alpha, dx, dy); err != nil {
		return nil, err
	}
	got, err := download(dy)
	if err != nil {
		return nil, err
	}
	return []row{{op: "axpy f32", size: vecSize, cpu: cpu, gpu: gpu,
		work: 12 * vecLen, failure: ulpCheck(got, want, 1)}}, nil
}

func benchSum(g *gpuBench, rng *rand.Rand) ([]row, error) {
	x := randomFloats(rng, vecLen)
	var want float64
	cpu := cpuTime(cpuRuns, func() { want = sum(x) })

	dx, err := upload(g, x)
	if err != nil {
		return nil, err
	}
	out, err := alloc[float32](g, 1)
	if err != nil {
		return nil, err
	}
	gpu, err := g.time(func() error { return kernels.Sum(g.s, dx, out) })
	if err != nil {
		return nil, err
	}
	got, err := kernels.SumValue(g.s, dx) // the same reduction, waited for
	if err != nil {
		return nil, err
	}
	const u = 0x1p-24
	return []row{{op: "sum f32", size: vecSize, cpu: cpu, gpu: gpu,
		work: 4 * vecLen, failure: errorCheck(float64(got)-want, 32*u*sumAbs(x))}}, nil
}

func benchArgMax(g *gpuBench, rng *rand.Rand) ([]row, error) {
	x := randomFloats(rng, vecLen)
	var want int
	cpu := cpuTime(cpuRuns, func() { want = argmax(x) })

	dx, err := upload(g, x)
	if err != nil {
		return nil, err
	}
	out, err := alloc[int64](g, 1)
	if err != nil {
		return nil, err
	}
	gpu, err := g.time(func() error { return kernels.ArgMax(g.s, dx, out) })
	if err != nil {
		return nil, err
	}
	got, err := kernels.ArgMaxValue(g.s, dx)
	if err != nil {
		return nil, err
	}
	failure := ""
	if got != want {
		failure = fmt.Sprintf("index %d, not %d", got, want)
	}
	return []row{{op: "argmax f32", size: vecSize, cpu: cpu, gpu: gpu,
		work: 4 * vecLen, failure: failure}}, nil
}

func benchNHWCToNCHW(g *gpuBench, rng *rand.Rand) ([]row, error) {
	const n, h, w, c = 32, 56, 56, 64
	x := randomFloats(rng, n*h*w*c)
	want := make([]float32, len(x))
	cpu := cpuTime(cpuRuns, func() { nhwcToNCHW(want, x, n, h, w, c) })

	in, err := upload(g, x)
	if err != nil {
		return nil, err
	}
	out, err := alloc[float32](g, len(x))
	if err != nil {
		return nil, err
	}
	gpu, err := g.time(func() error { return kernels.NHWCToNCHW(g.s, in, out, n, h, w, c) })
	if err != nil {
		return nil, err
	}
	got, err := download(out)
	if err != nil {
		return nil, err
	}
	return []row{{op: "NHWC→NCHW f32", size: fmt.Sprintf("%dx%dx%dx%d", n, h, w, c), cpu: cpu,
		gpu: gpu, work: 8 * float64(len(x)), failure: exactCheck(got, want)}}, nil
}

// benchGEMM gives two rows, the hand-written SGEMM (examples/go/sgemm, compiled at run time)
// and cuBLAS, against one CPU reference.
func benchGEMM(g *gpuBench, rng *rand.Rand) ([]row, error) {
	const m, n, k = gemmDim, gemmDim, gemmDim
	a, b := randomFloats(rng, m*k), randomFloats(rng, k*n) // row-major m x k and k x n
	var want []float64
	cpu := cpuTime(1, func() { want = matmul(a, b, m, n, k) })

	da, err := upload(g, a)
	if err != nil {
		return nil, err
	}
	db, err := upload(g, b)
	if err != nil {
		return nil, err
	}
	dc, err := alloc[float32](g, m*n)
	if err != nil {
		return nil, err
	}
	sg, err := sgemm.New(g.s.Device())
	if err != nil {
		return nil, err
	}
	defer sg.Close()
	var rows []row
	for _, v := range []struct {
		op  string
		run func() error // queues C = A·B
	}{
		{"GEMM f32, SGEMM", func() error { return sg.Multiply(g.s, m, n, k, 1, da, db, 0, dc) }},
		{"GEMM f32, cuBLAS MatMul", func() error { return blas.MatMul(g.s, da, db, dc, m, n, k) }},
	} {
		// Fill C with NaN (all bits set) first, so that a GEMM that writes nothing fails.
		if err := dc.Memset(0xff); err != nil {
			return nil, err
		}
		gpu, err := g.time(v.run)
		if err != nil {
			return nil, err
		}
		got, err := download(dc)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{op: v.op, size: fmt.Sprintf("%dx%dx%d", m, n, k), cpu: cpu,
			gpu: gpu, work: 2 * m * n * k, flops: true, failure: gemmCheck(got, want, a, b, m, n, k)})
	}
	return rows, nil
}

func benchFFT(g *gpuBench, rng *rand.Rand) ([]row, error) {
	// fftLen complex64 values, real and imaginary parts drawn in turn.
	parts := randomFloats(rng, 2*fftLen)
	x := make([]complex64, fftLen)
	for i := range x {
		x[i] = complex(parts[2*i], parts[2*i+1])
	}
	want := make([]complex128, fftLen)
	cpu := cpuTime(cpuRuns, func() {
		for i, v := range x {
			want[i] = complex128(v)
		}
		cpuFFT(want)
	})

	in, err := upload(g, x)
	if err != nil {
		return nil, err
	}
	out, err := alloc[complex64](g, fftLen)
	if err != nil {
		return nil, err
	}
	gpu, err := g.time(func() error { return fft.C2C1D(g.s, in, out, fftLen, 1, fft.Forward) })
	if err != nil {
		return nil, err
	}
	got, err := download(out)
	if err != nil {
		return nil, err
	}
	return []row{{op: "FFT C2C f32, forward", size: fmt.Sprintf("n=2^%d, batch 1", fftLog2),
		cpu: cpu, gpu: gpu, work: 5 * fftLen * fftLog2, flops: true,
		failure: fftCheck(got, want, 1e-4)}}, nil
}
