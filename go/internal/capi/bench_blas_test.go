//go:build cgo

package capi

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// cuBLAS benchmarks. Square GEMMs report TFLOP/s (2n³ floating-point operations per product)
// from the wall time of b.N products queued on one stream and synchronised once at the end, on
// non-zero random data (a random block of 64 Ki values tiled over each matrix). Names match
// the peer figures of ../shared/peers/peers.py (group sgemm): fp32 is exact float32, tf32 the
// TF32 tensor-core mode, fp16 and bf16 accumulate in float32.

func BenchmarkGEMM(b *testing.B) {
	sizes := []int{1024, 4096, 8192}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("fp32_%d", n), func(b *testing.B) { benchGEMM[float32](b, n, ComputeDefault) })
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("tf32_%d", n), func(b *testing.B) { benchGEMM[float32](b, n, ComputeTF32) })
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("fp16_%d", n), func(b *testing.B) { benchGEMM[Float16](b, n, ComputeDefault) })
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("bf16_%d", n), func(b *testing.B) { benchGEMM[BFloat16](b, n, ComputeDefault) })
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("fp64_%d", n), func(b *testing.B) { benchGEMM[float64](b, n, ComputeDefault) })
	}
}

// blasBenchMatrix returns an n x n device matrix of random values in [-1, 1].
func blasBenchMatrix[T Float](b *testing.B, dev Device, r *rand.Rand, n int) *DeviceBuffer[T] {
	b.Helper()
	d, err := NewDeviceBuffer[T](dev, n*n)
	must(b, "NewDeviceBuffer", err)
	closeT(b, "matrix", d)
	block := make([]T, 1<<16)
	for i := range block {
		block[i] = fromF64[T](r.Float64()*2 - 1)
	}
	for off := 0; off < n*n; off += len(block) {
		must(b, "CopyFromHostAt", d.CopyFromHostAt(off, block[:min(len(block), n*n-off)]))
	}
	return d
}

func benchGEMM[T Float](b *testing.B, n int, compute GEMMCompute) {
	dev := requireGPU(b)
	r := rand.New(rand.NewPCG(uint64(n), 7))
	s := benchStream(b, dev)
	x, y, z := blasBenchMatrix[T](b, dev, r, n), blasBenchMatrix[T](b, dev, r, n), blasBenchMatrix[T](b, dev, r, n)
	cfg := GEMMConfig{M: n, N: n, K: n, Compute: compute}
	// Two warm-ups: cuBLAS picks and loads its kernel.
	runQueued(b, s, 2, func() error { return GEMMEx(s, cfg, 1, x, y, 0, z) })
	if sec := b.Elapsed().Seconds(); sec > 0 {
		b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/sec/1e12, "TFLOP/s")
	}
}

// BenchmarkGEMMLatency is the per-call cost of a small float32 GEMM from Go, launch included:
// b.N calls queued back to back with no synchronisation between them (one at the end), as
// peers.py times torch's a @ b at 64 x 64 x 64. "64" is the default, direct cuBLAS calls
// (graph replay off); "64_graphs" turns the graph replay of small GEMMs on
// (SetGEMMGraphReplay(16, 512³)), so the same loop replays a captured graph after its second
// call. The pair is the measurement that decides whether replay should be on by default.
func BenchmarkGEMMLatency(b *testing.B) {
	for _, bc := range []struct {
		name             string
		entries, maxMACs int
	}{
		{"64", 0, 0},
		{"64_graphs", 16, 512 * 512 * 512},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dev := requireGPU(b)
			must(b, "SetGEMMGraphReplay", SetGEMMGraphReplay(bc.entries, bc.maxMACs))
			b.Cleanup(func() {
				if err := SetGEMMGraphReplay(0, 0); err != nil {
					b.Errorf("SetGEMMGraphReplay(0, 0): %v", err)
				}
			})
			r := rand.New(rand.NewPCG(64, 7))
			s := benchStream(b, dev)
			x, y, z := blasBenchMatrix[float32](b, dev, r, 64), blasBenchMatrix[float32](b, dev, r, 64), blasBenchMatrix[float32](b, dev, r, 64)
			runQueued(b, s, 10, func() error { return MatMul(s, x, y, z, 64, 64, 64) })
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "us/op")
		})
	}
}
