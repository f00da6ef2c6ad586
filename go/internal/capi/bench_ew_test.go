//go:build cgo

package capi

import (
	"math/rand/v2"
	"testing"
)

// Benchmarks of the elementwise and reduction kernels: b.N operations queued on one stream,
// synchronised once at the end, on random non-zero data. GB/s counts the bytes each operation
// must move: add reads two arrays and writes one (12 bytes per float32 element, 6 per
// bfloat16); a reduction reads its input once (4 bytes per float32 element) and writes next to
// nothing. Compare with BenchmarkD2D, which counts read + write.

// ewBenchData returns a device buffer of n random values in [-1, 1) (non-zero), filled from a
// smaller random host block copied repeatedly.
func ewBenchData[T Float](b *testing.B, dev Device, n int) *DeviceBuffer[T] {
	b.Helper()
	d, err := NewDeviceBuffer[T](dev, n)
	must(b, "NewDeviceBuffer", err)
	closeT(b, "buffer", d)
	r := rand.New(rand.NewPCG(1, 2))
	block := make([]T, min(n, 1<<22))
	for i := range block {
		v := r.Float64()*2 - 1
		if v == 0 {
			v = 0.5
		}
		block[i] = fromF64[T](v)
	}
	for off := 0; off < n; off += len(block) {
		m := min(len(block), n-off)
		must(b, "CopyFromHostAt", d.CopyFromHostAt(off, block[:m]))
	}
	return d
}

func benchAdd[T Float](b *testing.B, n int, elemBytes float64) {
	dev := requireGPU(b)
	s := benchStream(b, dev)
	x, y := ewBenchData[T](b, dev, n), ewBenchData[T](b, dev, n)
	z := ewBenchData[T](b, dev, n)
	runQueued(b, s, 1, func() error { return Add(s, x, y, z) })
	reportGBps(b, 3*elemBytes*float64(n))
}

func BenchmarkElementwise(b *testing.B) {
	b.Run("add_f32_n=256M", func(b *testing.B) { benchAdd[float32](b, 1<<28, 4) })
	b.Run("add_bf16_n=256M", func(b *testing.B) { benchAdd[BFloat16](b, 1<<28, 2) })
	b.Run("add_f32_n=10M", func(b *testing.B) { benchAdd[float32](b, 10_000_000, 4) })
}

func BenchmarkReduce(b *testing.B) {
	sum := func(name string, n, rows int) {
		b.Run(name, func(b *testing.B) {
			dev := requireGPU(b)
			s := benchStream(b, dev)
			x := ewBenchData[float32](b, dev, n)
			outLen := 1
			if rows > 0 {
				outLen = rows
			}
			out, err := NewDeviceBuffer[float32](dev, outLen)
			must(b, "NewDeviceBuffer", err)
			closeT(b, "out", out)
			run := func() error {
				if rows > 0 {
					return SumRows(s, x, rows, n/rows, out)
				}
				return Sum(s, x, out)
			}
			runQueued(b, s, 1, func() error { return run() })
			reportGBps(b, 4*float64(n))
		})
	}
	sum("sum_f32_n=256M", 1<<28, 0)
	sum("sum_f32_n=10M", 10_000_000, 0)
	sum("sum_f32_n=1M", 1_000_000, 0)
	sum("sum_f32_n=64K", 65_536, 0) // two passes: dominated by the fixed cost per call
	sum("sum_f32_n=32K", 32_768, 0) // one pass, no scratch: the fixed cost of one launch
	sum("rows_sum_f32_4096x65536", 4096*65536, 4096)
}

// The CPU reference for the summary table: a plain Go loop over float32, accumulating in
// float64 (the GPU figure is BenchmarkReduce/sum_f32_n=10M).
func BenchmarkCPUSum(b *testing.B) {
	const n = 10_000_000
	x := make([]float32, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range x {
		x[i] = float32(r.Float64()*2 - 1)
	}
	b.Run("sum_f32_n=10M", func(b *testing.B) {
		var sink float64
		for i := 0; i < b.N; i++ {
			var acc float64
			for _, v := range x {
				acc += float64(v)
			}
			sink += acc
		}
		b.StopTimer()
		reportGBps(b, 4*n)
		if sink == 0.123 {
			b.Log(sink)
		}
	})
}
