//go:build cgo

package capi

import (
	"context"
	"strconv"
	"testing"
)

// Peer benchmarks need 2 devices. BenchmarkPeerCopy reports GB/s (1e9 bytes per second) of
// 256 MiB copies from device 0 to device 1 queued on a stream of device 0, direct (peer access
// enabled) and staged through host memory by the driver (disabled). BenchmarkSpread reports
// TFLOP/s of 16 float32 GEMMs of 4096^3 (exact float32, no TF32) spread over 1 and 2 devices,
// so that the scaling from 1 to 2 reads off the two figures.

const peerCopyBytes = 256 << 20

func BenchmarkPeerCopy(b *testing.B) {
	for _, direct := range []bool{true, false} {
		name := "256MiB"
		if !direct {
			name += "_staged"
		}
		b.Run(name, func(b *testing.B) {
			d0, d1 := requireTwoGPUs(b)
			restorePeer(b, d0, d1)
			if !setPeer(b, d0, d1, direct) {
				b.Skip("devices 0 and 1 cannot access each other")
			}
			s := benchStream(b, d0)
			src := benchBuffer[byte](b, d0, peerCopyBytes)
			dst := benchBuffer[byte](b, d1, peerCopyBytes)
			runQueued(b, s, 1, func() error { return dst.CopyFromAsync(s, src) })
			reportGBps(b, peerCopyBytes)
		})
	}
}

func BenchmarkSpread(b *testing.B) {
	b.Run("gemm4096_x16", func(b *testing.B) {
		for _, ndev := range []int{1, 2} {
			b.Run("devices="+strconv.Itoa(ndev), func(b *testing.B) {
				d0, d1 := requireTwoGPUs(b)
				devs := []Device{d0, d1}[:ndev]
				const n, jobs = 4096, 16
				type operands struct{ a, b, c *DeviceBuffer[float32] }
				ops := make([]operands, len(devs))
				for i, d := range devs {
					ops[i] = operands{benchBuffer[float32](b, d, n*n), benchBuffer[float32](b, d, n*n),
						benchBuffer[float32](b, d, n*n)}
				}
				job := func(_ context.Context, w Worker, _ int) error {
					o := ops[w.Index()]
					return MatMul(w.Stream(), o.a, o.b, o.c, n, n, n)
				}
				must(b, "warm-up", Spread(context.Background(), devs, len(devs), job))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := Spread(context.Background(), devs, jobs, job); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if sec := b.Elapsed().Seconds(); sec > 0 {
					b.ReportMetric(2*n*n*n*jobs*float64(b.N)/sec/1e12, "TFLOP/s")
				}
			})
		}
	})
}
