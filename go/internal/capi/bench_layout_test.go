//go:build cgo

package capi

import (
	"fmt"
	"testing"
)

// Layout changes report GB/s counting the bytes read plus the bytes written (2 * 4 bytes per
// float32 element, 2 * 2 per Float16), like the D2D copy they are compared with (BenchmarkD2D) and like the
// PyTorch peer (peers.py transpose). Shapes are the peer's, as N x H x W x C.

// benchRandomBuffer allocates n float32 on dev filled with non-zero random values (a random
// block of 1 Mi values copied over the whole buffer, so set-up stays fast at 50 M elements).
func benchRandomBuffer(b *testing.B, dev Device, n int) *DeviceBuffer[float32] {
	d, err := NewDeviceBuffer[float32](dev, n)
	must(b, "NewDeviceBuffer", err)
	closeT(b, "buffer", d)
	block := randFloats(newRand(b), min(n, 1<<20))
	for off := 0; off < n; off += len(block) {
		must(b, "CopyFromHostAt", d.CopyFromHostAt(off, block[:min(len(block), n-off)]))
	}
	return d
}

// benchRandomHalf allocates n Float16 on dev filled with non-zero random values.
func benchRandomHalf(b *testing.B, dev Device, n int) *DeviceBuffer[Float16] {
	d, err := NewDeviceBuffer[Float16](dev, n)
	must(b, "NewDeviceBuffer", err)
	closeT(b, "buffer", d)
	block := make([]Float16, min(n, 1<<20))
	r := newRand(b)
	for i := range block {
		block[i] = Float16From(float32(r.Float64()*2 - 1 + 1e-3))
	}
	for off := 0; off < n; off += len(block) {
		must(b, "CopyFromHostAt", d.CopyFromHostAt(off, block[:min(len(block), n-off)]))
	}
	return d
}

// benchLayout times one NHWC <-> NCHW direction on in and out.
func benchLayout[T Numeric](b *testing.B, s *Stream, in, out *DeviceBuffer[T], dir string,
	n, h, w, c int) {
	f := NHWCToNCHW[T]
	if dir == "nchw_to_nhwc" {
		f = NCHWToNHWC[T]
	}
	runQueued(b, s, 1, func() error { return f(s, in, out, n, h, w, c) })
	reportGBps(b, 2*float64(sizeOf[T]())*float64(n*h*w*c))
}

// benchLayoutShapes: the NHWC shapes (N, H, W, C) of BenchmarkTranspose and its copy bound.
var benchLayoutShapes = [][4]int{{256, 224, 224, 3}, {256, 56, 56, 64}, {64, 14, 14, 1024}}

func BenchmarkTranspose(b *testing.B) {
	for _, sh := range benchLayoutShapes {
		n, h, w, c := sh[0], sh[1], sh[2], sh[3]
		elems := n * h * w * c
		for _, dir := range []string{"nhwc_to_nchw", "nchw_to_nhwc"} {
			b.Run(fmt.Sprintf("%s_f32_%dx%dx%dx%d", dir, n, h, w, c), func(b *testing.B) {
				dev := requireGPU(b)
				s := benchStream(b, dev)
				in := benchRandomBuffer(b, dev, elems)
				out := benchBuffer[float32](b, dev, elems)
				benchLayout(b, s, in, out, dir, n, h, w, c)
			})
		}
		for _, dir := range []string{"nhwc_to_nchw", "nchw_to_nhwc"} {
			b.Run(fmt.Sprintf("%s_f16_%dx%dx%dx%d", dir, n, h, w, c), func(b *testing.B) {
				dev := requireGPU(b)
				s := benchStream(b, dev)
				in := benchRandomHalf(b, dev, elems)
				out := benchBuffer[Float16](b, dev, elems)
				benchLayout(b, s, in, out, dir, n, h, w, c)
			})
		}
	}
	b.Run("2d_f32_8192x8192", func(b *testing.B) {
		const r, c = 8192, 8192
		dev := requireGPU(b)
		s := benchStream(b, dev)
		in := benchRandomBuffer(b, dev, r*c)
		out := benchBuffer[float32](b, dev, r*c)
		runQueued(b, s, 1, func() error { return Transpose2D(s, in, out, r, c) })
		reportGBps(b, 8*float64(r*c))
	})
}

// BenchmarkLayoutCopyBound copies (device to device) a tensor of each f32 shape of
// BenchmarkTranspose: the bound for a layout change of that size. A 51 MB tensor is about the
// size of the L2 (50 MiB on an H100 or H200), and each launch also writes back what the one
// before left dirty there, so its copy runs below the 1 GiB copy of BenchmarkD2D (90.5% in this
// loop on an H100); bench.md sets each transpose beside the copy of its own size.
func BenchmarkLayoutCopyBound(b *testing.B) {
	for _, sh := range benchLayoutShapes {
		b.Run(fmt.Sprintf("f32_%dx%dx%dx%d", sh[0], sh[1], sh[2], sh[3]), func(b *testing.B) {
			benchCopy(b, sh[0]*sh[1]*sh[2]*sh[3])
		})
	}
}

// The CPU reference of the layout change, for the table of CPU vs GPU figures.
func BenchmarkCPUNHWCToNCHW(b *testing.B) {
	const n, h, w, c = 8, 56, 56, 64
	x := make([]float32, n*h*w*c)
	for i := range x {
		x[i] = float32(i%251 + 1)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = cpuTranspose(x, n, h*w, c)
	}
	b.StopTimer()
	reportGBps(b, 8*float64(len(x)))
}
