//go:build cgo

package capi

import (
	"testing"
)

// BenchmarkAllReduce times an in-place float32 sum all-reduce over every device of the machine
// (one communicator per device, issued by AllReduceAll inside one NCCL group), b.N times back
// to back with one synchronisation at the end. Per size S (bytes per device) and n devices it
// reports, as nccl-tests does:
//
//	algbw_GB/s = S / time per all-reduce
//	busbw_GB/s = algbw · 2(n−1)/n  (the bandwidth each link carries in a ring)
//
// NCCL_NVLS_ENABLE=0 is set by this package's tests (see nccl_test.go), so NVLink SHARP
// multicast is not used.
func BenchmarkAllReduce(b *testing.B) {
	sizes := []struct {
		name  string
		bytes int
	}{{"1MiB", 1 << 20}, {"16MiB", 16 << 20}, {"256MiB", 256 << 20}, {"1GiB", 1 << 30}}
	requireGPU(b)
	devs, err := Devices()
	must(b, "Devices", err)
	if len(devs) < 2 {
		b.Skipf("needs 2 devices (found %d)", len(devs))
	}
	// One clique for every size (a benchmark with sub-benchmarks runs once).
	comms, err := NewComms(devs)
	must(b, "NewComms", err)
	for _, c := range comms {
		closeT(b, "comm", c)
	}
	for _, sz := range sizes {
		b.Run("f32_"+sz.name, func(b *testing.B) { benchAllReduce(b, devs, comms, sz.bytes) })
	}
}

func benchAllReduce(b *testing.B, devs []Device, comms []*Comm, bytes int) {
	n := bytes / 4
	streams := make([]*Stream, len(devs))
	bufs := make([]*DeviceBuffer[float32], len(devs))
	for i, d := range devs {
		streams[i] = benchStream(b, d)
		buf, err := NewDeviceBuffer[float32](d, n)
		must(b, "NewDeviceBuffer", err)
		closeT(b, "buffer", buf)
		bufs[i] = buf
		// Zeros: sums stay finite however many iterations run.
		must(b, "Memset", buf.Memset(0))
	}
	sync := func() {
		for _, s := range streams {
			must(b, "Synchronize", s.Synchronize())
		}
	}
	for i := 0; i < 5; i++ { // warm-up: connections and channels are set up on first use
		must(b, "warm-up", AllReduceAll(comms, streams, NCCLSum, bufs))
	}
	sync()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := AllReduceAll(comms, streams, NCCLSum, bufs); err != nil {
			b.Fatal(err)
		}
	}
	sync()
	b.StopTimer()
	if sec := b.Elapsed().Seconds(); sec > 0 {
		algbw := float64(bytes) * float64(b.N) / sec / 1e9
		ranks := float64(len(devs))
		b.ReportMetric(algbw, "algbw_GB/s")
		b.ReportMetric(algbw*2*(ranks-1)/ranks, "busbw_GB/s")
	}
}
