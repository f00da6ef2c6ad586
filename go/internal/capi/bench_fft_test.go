//go:build cgo

package capi

import (
	"fmt"
	"testing"
)

// cuFFT from Go on the peer shapes of peers.py's "fft" group (cupy.fft): float32, out of place,
// forward, unnormalised (as cupy's default forward), b.N transforms queued on one stream and
// synchronised once. GB/s counts bytes the way peers.py does: 16*n*batch per C2C (8-byte
// complex in and out), 8*n*batch per R2C (4-byte real in, about 4*n out). Each call goes
// through the plan cache and allocates its work area from the pool, as a real caller's would.

func benchFFTData(b *testing.B, dev Device, n int) *DeviceBuffer[float32] {
	d, err := NewDeviceBuffer[float32](dev, n)
	must(b, "NewDeviceBuffer", err)
	closeT(b, "buffer", d)
	r := newRand(b)
	const chunk = 1 << 22
	v := make([]float32, min(n, chunk))
	for off := 0; off < n; off += chunk {
		m := min(chunk, n-off)
		for i := range v[:m] {
			v[i] = float32(r.Float64()*2 - 1) // non-zero random data
		}
		must(b, "upload", d.CopyFromHostAt(off, v[:m]))
	}
	return d
}

func runFFTBench(b *testing.B, d FFTDesc, bytesPerOp float64) {
	dev := requireGPU(b)
	s := benchStream(b, dev)
	inLen, outLen, err := FFTExtent[float32](d, false)
	must(b, "FFTExtent", err)
	in := benchFFTData(b, dev, inLen)
	out, err := NewDeviceBuffer[float32](dev, outLen)
	must(b, "NewDeviceBuffer", err)
	closeT(b, "out", out)
	runQueued(b, s, 3, func() error { return FFT(s, d, in, out, Forward, FFTNormNone) })
	reportGBps(b, bytesPerOp)
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
}

func BenchmarkFFT(b *testing.B) {
	shapes := []struct{ n, batch int }{{1 << 24, 1}, {4096, 4096}, {1024, 65536}, {65536, 256}}
	for _, sh := range shapes {
		b.Run(fmt.Sprintf("c2c_f32/n=%d/batch=%d", sh.n, sh.batch), func(b *testing.B) {
			runFFTBench(b, FFTDesc{Type: FFTC2C, Dims: []int{sh.n}, Batch: sh.batch},
				16*float64(sh.n)*float64(sh.batch))
		})
	}
	for _, sh := range shapes {
		b.Run(fmt.Sprintf("r2c_f32/n=%d/batch=%d", sh.n, sh.batch), func(b *testing.B) {
			runFFTBench(b, FFTDesc{Type: FFTR2C, Dims: []int{sh.n}, Batch: sh.batch},
				8*float64(sh.n)*float64(sh.batch))
		})
	}
	b.Run("c2c_f32_2d/512x512/batch=64", func(b *testing.B) {
		runFFTBench(b, FFTDesc{Type: FFTC2C, Dims: []int{512, 512}, Batch: 64},
			16*512*512*64)
	})
}
