//go:build cgo

package capi

import (
	"testing"
	"time"
)

// Run-time compilation benchmarks. Compile: NVRTC on a small kernel for sm_90 with the cache
// off (no GPU needed). CacheHitMemory and CacheHitDisk: the same compile served from the memory
// cache, and from the disk directory with an empty memory cache (as a new process would).
// Launch: the host cost of queueing a tiny kernel from Go (three arguments, one block), b.N
// launches on one stream synchronised once; reports µs/launch.

const rtcBenchSrc = `extern "C" __global__ void tiny(float* p, float a, int n) {
  int i = threadIdx.x;
  if (i < n) p[i] += a;
}
`

func BenchmarkRTCCompile(b *testing.B) {
	opts := CompileOptions{Arch: "sm_90", NoCache: true}
	for i := 0; i < b.N; i++ {
		if _, err := CompileImage(rtcBenchSrc, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/compile")
}

func BenchmarkRTCCacheHitMemory(b *testing.B) {
	must(b, "SetCompileCacheDir", SetCompileCacheDir(""))
	opts := CompileOptions{Arch: "sm_90"}
	_, err := CompileImage(rtcBenchSrc, opts)
	must(b, "warm-up", err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := CompileImage(rtcBenchSrc, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "µs/hit")
}

func BenchmarkRTCCacheHitDisk(b *testing.B) {
	must(b, "SetCompileCacheDir", SetCompileCacheDir(b.TempDir()))
	b.Cleanup(func() { _ = SetCompileCacheDir(""); _ = ClearCompileCache() })
	must(b, "ClearCompileCache", ClearCompileCache()) // the warm-up must compile and write
	opts := CompileOptions{Arch: "sm_90"}
	_, err := CompileImage(rtcBenchSrc, opts)
	must(b, "warm-up", err)
	b.ResetTimer()
	var cleared time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		must(b, "ClearCompileCache", ClearCompileCache())
		cleared += time.Since(t0)
		if _, err := CompileImage(rtcBenchSrc, opts); err != nil {
			b.Fatal(err)
		}
	}
	s, _ := GetCompileCacheStats()
	if s.Misses != 0 || s.DiskHits != 1 {
		b.Fatalf("disk hits compiled: %+v", s)
	}
	b.ReportMetric(float64((b.Elapsed()-cleared).Nanoseconds())/1e3/float64(b.N), "µs/hit")
}

func BenchmarkRTCLaunch(b *testing.B) {
	dev := requireGPU(b)
	m, err := Compile(dev, rtcBenchSrc, CompileOptions{})
	must(b, "Compile", err)
	defer m.Close()
	k, err := m.Kernel("tiny")
	must(b, "Kernel", err)
	defer k.Close()
	buf, err := NewDeviceBuffer[float32](dev, 32)
	must(b, "alloc", err)
	defer buf.Close()
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(b, "NewStream", err)
	defer s.Close()
	arg := BufArg(buf)
	for i := 0; i < 100; i++ { // warm-up
		must(b, "launch", k.Launch(s, Dim3{X: 1}, Dim3{X: 32}, 0, arg, Float32(1), Int32(32)))
	}
	must(b, "sync", s.Synchronize())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := k.Launch(s, Dim3{X: 1}, Dim3{X: 32}, 0, arg, Float32(1), Int32(32)); err != nil {
			b.Fatal(err)
		}
	}
	must(b, "sync", s.Synchronize())
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "µs/launch")
}
