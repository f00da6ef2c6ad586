//go:build cgo

package capi

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// Device free memory may move by this much for reasons outside the test (driver bookkeeping).
const driverNoise = 2 << 20

// After a warm-up, allocate/free cycles reuse pool memory: the pool's reservation does not
// change and the device's free memory comes back to its baseline (within driverNoise).
func TestPoolSteadyState(t *testing.T) {
	dev := requireGPU(t)
	cycles := 100_000
	if testing.Short() {
		cycles = 10_000
	}
	const size = 1 << 20
	must(t, "ConfigurePool", dev.ConfigurePool(PoolConfig{})) // default: keep everything

	cycle := func() {
		b, err := NewDeviceBuffer[byte](dev, size)
		must(t, "NewDeviceBuffer", err)
		must(t, "Close", b.Close())
	}
	for i := 0; i < 1000; i++ {
		cycle()
	}
	base, err := dev.PoolStats()
	must(t, "PoolStats", err)
	baseFree, _, err := dev.MemoryInfo()
	must(t, "MemoryInfo", err)
	must(t, "ResetPoolHighWater", dev.ResetPoolHighWater())

	for i := 0; i < cycles; i++ {
		cycle()
	}

	st, err := dev.PoolStats()
	must(t, "PoolStats", err)
	free, _, err := dev.MemoryInfo()
	must(t, "MemoryInfo", err)
	t.Logf("after %d cycles of %d bytes: pool %+v (baseline %+v); device free %d (baseline %d)",
		cycles, size, st, base, free, baseFree)
	if st.Reserved != base.Reserved {
		t.Errorf("pool reservation changed from %d to %d bytes", base.Reserved, st.Reserved)
	}
	if st.Used > base.Used {
		t.Errorf("pool use grew from %d to %d bytes", base.Used, st.Used)
	}
	if st.UsedHigh < size || st.UsedHigh > base.Used+4*size {
		t.Errorf("pool use high-water %d: want between %d and %d", st.UsedHigh, size, base.Used+4*size)
	}
	// Under compute-sanitizer (bundle/sanitize.sh sets CUDAGO_SANITIZER=1) the sanitizer's own
	// tracking takes device memory as allocations come and go, so only the pool's figures count.
	if free+driverNoise < baseFree && os.Getenv("CUDAGO_SANITIZER") != "1" {
		t.Errorf("device free memory fell from %d to %d bytes (allowed noise %d)", baseFree, free, driverNoise)
	}
}

func TestPoolConfigureAndTrim(t *testing.T) {
	dev := requireGPU(t)
	const reserve = 256 << 20
	must(t, "ConfigurePool reserve", dev.ConfigurePool(PoolConfig{Reserve: reserve}))
	st, err := dev.PoolStats()
	must(t, "PoolStats", err)
	if st.Reserved < reserve || st.ReservedHigh < st.Reserved || st.UsedHigh < st.Used {
		t.Errorf("after reserving %d bytes: %+v", reserve, st)
	}
	// Trim to nothing: everything not in use goes back to the device.
	must(t, "TrimPool", dev.TrimPool(0))
	st2, err := dev.PoolStats()
	must(t, "PoolStats", err)
	if st2.Reserved+reserve/2 > st.Reserved {
		t.Errorf("TrimPool(0) left %d bytes reserved (was %d, used %d): the unused reservation was not released",
			st2.Reserved, st.Reserved, st.Used)
	}
	// A live buffer shows in Used.
	b, err := NewDeviceBuffer[float32](dev, 1<<20)
	must(t, "alloc", err)
	st3, err := dev.PoolStats()
	must(t, "PoolStats", err)
	if st3.Used < st2.Used+4<<20 {
		t.Errorf("a live 4 MiB buffer: used %d, before %d", st3.Used, st2.Used)
	}
	must(t, "Close", b.Close())
	must(t, "ConfigurePool default", dev.ConfigurePool(PoolConfig{}))
}

// A buffer that is never closed is freed by its finalizer (the safety net; Close is the
// contract).
func TestFinalizerFreesLeaks(t *testing.T) {
	dev := requireGPU(t)
	before := leaksFreed.Load()
	base, err := dev.PoolStats()
	must(t, "PoolStats", err)
	const leaks = 16
	func() {
		for i := 0; i < leaks; i++ {
			if _, err := NewDeviceBuffer[byte](dev, 1<<20); err != nil {
				t.Fatalf("alloc: %v", err)
			}
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for leaksFreed.Load()-before < leaks && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := leaksFreed.Load() - before; got < leaks {
		t.Fatalf("finalizers freed %d of %d leaked buffers", got, leaks)
	}
	var st PoolStats
	for time.Now().Before(deadline) {
		st, err = dev.PoolStats()
		must(t, "PoolStats", err)
		if st.Used <= base.Used {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("pool use %d after the finalizers, %d before the leaks", st.Used, base.Used)
}
