//go:build cgo

package capi

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSoak runs cycles of allocate / copy / launch / free from soakWorkers goroutines for
// CUDAGO_SOAK_SECONDS (default 5; fractions allowed), after a warm-up of the same work, and
// checks that nothing grows between a sample after the warm-up and one after the soak (each
// taken after runtime.GC and debug.FreeOSMemory, with every worker gone).
//
// With a GPU (required under CUDAGO_REQUIRE_GPU=1) each cycle allocates three buffers (one
// synchronously, two in stream order on the worker's stream), copies a Go slice in
// synchronously and a pinned HostBuffer in on the stream, launches Add, copies the sum back into
// a Go slice and frees the buffers; four elements whose inputs change every cycle (the first, the
// last and two random ones) are checked bit for bit against the CPU's float32 sum. Without a GPU
// each cycle makes the same kinds of calls: those that reach the library (device and host
// allocation, stream creation, pool statistics) must return ErrNoDevice, and the copies and the
// launch, which then have no buffer or stream to work on, are made with nil handles and must
// return ErrInvalidHandle from the Go layer.
//
// Tolerances, each far below what a leak of one object per cycle over the soak's thousands (GPU)
// or millions (no GPU) of cycles would add:
//   - goroutines: none more (each sample waits up to 5 s for the workers to finish returning);
//   - OS threads: at most soakWorkers + GOMAXPROCS more. The Go runtime never ends a thread
//     and starts one whenever a P has work and no idle thread is left (a goroutine blocked in
//     a cgo call keeps its thread), so the soak may reach a concurrency peak the warm-up did not
//     on a loaded machine: at most every worker in a cgo call and every P running Go code at
//     once, each on its own thread;
//   - RSS: at most soakRSSSlack (16 MiB) more: glibc's per-thread malloc arenas, the driver's
//     lazily grown internal pools and the Go heap's rounding, none of which grow with the number
//     of cycles;
//   - the pool's reserved bytes (GPU): at most the bytes all workers hold at once, rounded up to
//     CUDA's 2 MiB pool granule (the same reasoning as the threads: a new concurrent peak).
func TestSoak(t *testing.T) {
	soak := 5 * time.Second
	if s := os.Getenv("CUDAGO_SOAK_SECONDS"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v > 0) || v > 1e6 {
			t.Fatalf("CUDAGO_SOAK_SECONDS=%q: want a positive number of seconds", s)
		}
		soak = time.Duration(v * float64(time.Second))
	}
	warm := min(max(soak/4, 500*time.Millisecond), 3*time.Second)

	n, err := DeviceCount()
	must(t, "DeviceCount", err)
	gpu := n > 0
	var dev Device
	if gpu {
		dev = requireGPU(t)
	} else {
		if os.Getenv("CUDAGO_REQUIRE_GPU") == "1" {
			t.Fatalf("CUDAGO_REQUIRE_GPU=1 but there is no CUDA device: %s", NoDeviceReason())
		}
		_, err := GetDevice(0)
		wantErr(t, "GetDevice(0) without a GPU", err, ErrNoDevice)
	}

	seeds := newRand(t)
	workers := make([]*soakWorker, soakWorkers)
	var held uint64 // bytes of device memory all workers hold at once
	for i := range workers {
		w := &soakWorker{id: i, n: 1000 + 613*i, r: rand.New(rand.NewPCG(seeds.Uint64(), uint64(i)))}
		w.a, w.c = randFloats(w.r, w.n), make([]float32, w.n)
		held += 3 * 4 * uint64(w.n)
		if gpu {
			w.s, err = NewStream(dev, StreamOptions{NonBlocking: i%2 == 0})
			must(t, "NewStream", err)
			closeT(t, "stream", w.s)
			w.hb, err = NewHostBuffer[float32](dev, w.n)
			must(t, "NewHostBuffer", err)
			closeT(t, "host buffer", w.hb)
			fillFloats(w.r, w.hb.Slice())
		}
		workers[i] = w
	}

	idle := runtime.NumGoroutine() // no worker running
	warmCycles, _ := soakRun(t, workers, gpu, dev, warm)
	if t.Failed() {
		return
	}
	before := soakSample(t, gpu, dev, idle)
	start := time.Now()
	cycles, calls := soakRun(t, workers, gpu, dev, soak)
	elapsed := time.Since(start)
	if t.Failed() {
		return
	}
	after := soakSample(t, gpu, dev, idle)

	mode := "without a GPU (no-device paths)"
	if gpu {
		mode = "on " + dev.String()
	}
	t.Logf("%s, %d workers: warm-up %v (%d cycles); soak %v: %d cycles, %d calls, "+
		"%.0f cycles/s, %.0f calls/s", mode, soakWorkers, warm, warmCycles,
		elapsed.Round(time.Millisecond), cycles, calls, float64(cycles)/elapsed.Seconds(),
		float64(calls)/elapsed.Seconds())
	t.Logf("before: %v", before)
	t.Logf("after:  %v", after)
	if before.rss >= 0 && after.rss >= 0 && cycles > 0 {
		t.Logf("RSS change %+d bytes (%+.3f bytes per cycle)", after.rss-before.rss,
			float64(after.rss-before.rss)/float64(cycles))
	}

	if after.goroutines > before.goroutines {
		t.Errorf("goroutines grew from %d to %d", before.goroutines, after.goroutines)
	}
	if slack := soakWorkers + runtime.GOMAXPROCS(0); before.threads >= 0 &&
		after.threads > before.threads+slack {
		t.Errorf("OS threads grew from %d to %d (allowed: %d more)", before.threads, after.threads,
			slack)
	}
	if before.rss >= 0 && after.rss > before.rss+soakRSSSlack {
		t.Errorf("RSS grew from %d to %d bytes (allowed: %d more)", before.rss, after.rss, soakRSSSlack)
	}
	if gpu {
		allowed := (held + soakPoolGranule - 1) / soakPoolGranule * soakPoolGranule
		if after.reserved > before.reserved+allowed {
			t.Errorf("the pool's reservation grew from %d to %d bytes (allowed: %d more)",
				before.reserved, after.reserved, allowed)
		}
	}
}

const (
	soakWorkers     = 12
	soakRSSSlack    = 16 << 20
	soakPoolGranule = 2 << 20
)

// soakWorker is one goroutine's state, kept across the warm-up and the soak.
type soakWorker struct {
	id   int
	n    int
	r    *rand.Rand
	a, c []float32            // the Go slices copied in (a) and out (c)
	s    *Stream              // GPU mode
	hb   *HostBuffer[float32] // GPU mode: the pinned b input
	idx  [4]int
}

// soakRun runs every worker until d has passed or a worker failed, and returns the cycles made
// (complete ones) and their calls.
func soakRun(t *testing.T, workers []*soakWorker, gpu bool, dev Device,
	d time.Duration) (cycles, calls int64) {
	var total atomic.Int64
	var stop atomic.Bool
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c int64
			defer func() { total.Add(c) }()
			for !stop.Load() && time.Now().Before(deadline) {
				var err error
				if gpu {
					err = w.gpuCycle(dev)
				} else {
					err = w.noGPUCycle()
				}
				if err != nil {
					t.Errorf("worker %d, cycle %d: %v", w.id, c, err)
					stop.Store(true)
					return
				}
				c++
			}
		}()
	}
	wg.Wait()
	if gpu {
		return total.Load(), total.Load() * soakGPUCalls
	}
	return total.Load(), total.Load() * soakNoGPUCalls
}

// The calls of one cycle: three allocations, two copies in, the launch, the copy out and three
// frees with a GPU; four calls that reach the library, four with nil handles and a nil Close
// without.
const (
	soakGPUCalls   = 10
	soakNoGPUCalls = 9
)

// gpuCycle makes one cycle on the GPU.
func (w *soakWorker) gpuCycle(dev Device) (err error) {
	b := w.hb.Slice()
	w.idx = [4]int{0, w.n - 1, w.r.IntN(w.n), w.r.IntN(w.n)}
	for _, i := range w.idx {
		w.a[i], b[i] = soakFloat(w.r), soakFloat(w.r)
		w.c[i] = float32(math.NaN())
	}
	da, err := NewDeviceBuffer[float32](dev, w.n)
	if err != nil {
		return fmt.Errorf("NewDeviceBuffer: %w", err)
	}
	defer closeInto(&err, da)
	db, err := NewDeviceBufferAsync[float32](w.s, w.n)
	if err != nil {
		return fmt.Errorf("NewDeviceBufferAsync: %w", err)
	}
	defer closeInto(&err, db)
	dc, err := NewDeviceBufferAsync[float32](w.s, w.n)
	if err != nil {
		return fmt.Errorf("NewDeviceBufferAsync: %w", err)
	}
	defer closeInto(&err, dc)
	if err := da.CopyFromHost(w.a); err != nil {
		return fmt.Errorf("CopyFromHost: %w", err)
	}
	if err := db.CopyFromHostAsync(w.s, w.hb); err != nil {
		return fmt.Errorf("CopyFromHostAsync: %w", err)
	}
	if err := Add(w.s, da, db, dc); err != nil {
		return fmt.Errorf("Add: %w", err)
	}
	// Ordered after the Add on w.s: a synchronous copy waits for the work on its buffer.
	if err := dc.CopyToHost(w.c); err != nil {
		return fmt.Errorf("CopyToHost: %w", err)
	}
	for _, i := range w.idx {
		if want := w.a[i] + b[i]; math.Float32bits(w.c[i]) != math.Float32bits(want) {
			return fmt.Errorf("c[%d] = %v, want %v + %v = %v", i, w.c[i], w.a[i], b[i], want)
		}
	}
	return nil
}

// soakFloat is a normal float32 of varied sign and magnitude (see randFloats).
func soakFloat(r *rand.Rand) float32 {
	var v [1]float32
	fillFloats(r, v[:])
	return v[0]
}

// noGPUCycle makes the same kinds of calls without a GPU and checks their errors.
func (w *soakWorker) noGPUCycle() error {
	var dev Device
	want := func(what string, got, target error) error {
		if !errors.Is(got, target) {
			return fmt.Errorf("%s without a GPU: got %v, want an error matching %v", what, got, target)
		}
		var e *Error
		if !errors.As(got, &e) || e.Op == "" || e.Msg == "" {
			return fmt.Errorf("%s without a GPU: %v lacks the operation or a message", what, got)
		}
		return nil
	}
	db, err := NewDeviceBuffer[float32](dev, w.n)
	if e := want("NewDeviceBuffer", err, ErrNoDevice); e != nil {
		closeInto(&e, db)
		return e
	}
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	if e := want("NewStream", err, ErrNoDevice); e != nil {
		closeInto(&e, s)
		return e
	}
	hb, err := NewHostBuffer[float32](dev, w.n)
	if e := want("NewHostBuffer", err, ErrNoDevice); e != nil {
		closeInto(&e, hb)
		return e
	}
	_, err = dev.PoolStats()
	if e := want("PoolStats", err, ErrNoDevice); e != nil {
		return e
	}
	// With nothing allocated, the copies and the launch get nil handles: refused in Go.
	var nb *DeviceBuffer[float32]
	var ns *Stream
	if e := want("CopyFromHost on a nil buffer", nb.CopyFromHost(w.a), ErrInvalidHandle); e != nil {
		return e
	}
	_, err = NewDeviceBufferAsync[float32](ns, w.n)
	if e := want("NewDeviceBufferAsync on a nil stream", err, ErrInvalidHandle); e != nil {
		return e
	}
	if e := want("Add on nil handles", Add(ns, nb, nb, nb), ErrInvalidHandle); e != nil {
		return e
	}
	if e := want("CopyToHost on a nil buffer", nb.CopyToHost(w.c), ErrInvalidHandle); e != nil {
		return e
	}
	if err := nb.Close(); err != nil {
		return fmt.Errorf("Close of a nil buffer: %v", err)
	}
	return nil
}

// soakFigures are the figures sampled before and after the soak; -1 where /proc cannot be read.
type soakFigures struct {
	rss        int64 // bytes resident (/proc/self/statm)
	threads    int   // OS threads (/proc/self/status Threads:)
	goroutines int
	reserved   uint64 // the pool's reserved bytes (GPU mode)
	used       uint64 // the pool's bytes in use (GPU mode; logged only: frees may be queued)
}

func (f soakFigures) String() string {
	return fmt.Sprintf("RSS %d bytes, %d threads, %d goroutines, pool reserved %d, used %d",
		f.rss, f.threads, f.goroutines, f.reserved, f.used)
}

// soakSample takes the figures once the goroutines are back to idle (the workers finish
// returning after their WaitGroup is done; waited for up to 5 s).
func soakSample(t *testing.T, gpu bool, dev Device, idle int) soakFigures {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > idle &&
		time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	runtime.GC()
	debug.FreeOSMemory()
	f := soakFigures{rss: -1, threads: -1, goroutines: runtime.NumGoroutine()}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if fields := strings.Fields(string(b)); len(fields) >= 2 {
			if pages, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
				f.rss = pages * int64(os.Getpagesize())
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Threads:"); ok {
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					f.threads = n
				}
			}
		}
	}
	if f.rss < 0 || f.threads < 0 {
		t.Logf("/proc/self is not readable here: RSS and threads are not checked")
	}
	if gpu {
		st, err := dev.PoolStats()
		must(t, "PoolStats", err)
		f.reserved, f.used = st.Reserved, st.Used
	}
	return f
}
