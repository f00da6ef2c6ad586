//go:build cgo

package capi

import (
	"fmt"
	"math"
	"testing"
)

// vectorAddSizes cover one element, the block size (256) and its neighbours, primes (so no
// launch configuration divides them) and a size of many blocks.
var vectorAddSizes = []int{1, 255, 256, 257, 4099, 1_000_003, 10_000_000}

// checkSum compares got with a + b computed by the CPU. float32 addition is exactly rounded
// on both sides, so equality is exact (compared as bits, so a NaN left by the poisoning
// fails).
func checkSum(t testing.TB, what string, a, b, got []float32) {
	t.Helper()
	bad := 0
	for i := range a {
		want := a[i] + b[i]
		if math.Float32bits(got[i]) != math.Float32bits(want) {
			if bad < 5 {
				t.Errorf("%s: c[%d] = %v, want %v + %v = %v", what, i, got[i], a[i], b[i], want)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements wrong", what, bad, len(a))
	}
}

func TestVectorAdd(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	for _, n := range vectorAddSizes {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			a, b := randFloats(r, n), randFloats(r, n)
			da, err := NewDeviceBuffer[float32](dev, n)
			must(t, "alloc a", err)
			defer da.Close()
			db, err := NewDeviceBufferAsync[float32](s, n)
			must(t, "alloc b", err)
			defer db.Close()
			dc, err := NewDeviceBufferAsync[float32](s, n)
			must(t, "alloc c", err)
			defer dc.Close()
			must(t, "copy a", da.CopyFromHost(a))
			must(t, "copy b", db.CopyFromHost(b))
			// Poison the output: 0xFF bytes are NaNs, so an element the kernel skips fails.
			must(t, "memset c", dc.MemsetAsync(s, 0xFF))
			must(t, "synchronize", s.Synchronize())
			got := make([]float32, n)
			must(t, "read poisoned c", dc.CopyToHost(got))
			if !math.IsNaN(float64(got[0])) || !math.IsNaN(float64(got[n-1])) {
				t.Fatalf("poisoning did not take: c[0] = %v, c[n-1] = %v", got[0], got[n-1])
			}
			must(t, "Add", Add(s, da, db, dc))
			must(t, "synchronize", s.Synchronize())
			must(t, "copy c back", dc.CopyToHost(got))
			checkSum(t, "Add", a, b, got)

			// In place: c aliases a.
			must(t, "Add in place", Add(s, da, db, da))
			must(t, "synchronize", s.Synchronize())
			must(t, "copy a back", da.CopyToHost(got))
			checkSum(t, "Add in place", a, b, got)
		})
	}
}

func TestAddOnGPU(t *testing.T) {
	requireGPU(t)
	r := newRand(t)
	for _, n := range vectorAddSizes {
		a, b := randFloats(r, n), randFloats(r, n)
		c := make([]float32, n)
		for i := range c {
			c[i] = float32(math.NaN())
		}
		if err := AddOnGPU(a, b, c); err != nil {
			t.Fatalf("AddOnGPU(n=%d): %v", n, err)
		}
		checkSum(t, fmt.Sprintf("AddOnGPU(n=%d)", n), a, b, c)
	}
	if err := AddOnGPU(nil, nil, nil); err != nil {
		t.Errorf("AddOnGPU(nil, nil, nil): %v", err)
	}
	if err := AddOnGPU([]float32{}, []float32{}, []float32{}); err != nil {
		t.Errorf("AddOnGPU(empty): %v", err)
	}
	err := AddOnGPU(make([]float32, 4), make([]float32, 5), make([]float32, 4))
	wantErr(t, "AddOnGPU(4, 5, 4)", err, ErrOutOfRange)
}

// The hot paths allocate nothing on success: one cgo call each.
func TestHotPathAllocations(t *testing.T) {
	dev := requireGPU(t)
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	const n = 1024
	a, err := NewDeviceBuffer[float32](dev, n)
	must(t, "alloc", err)
	closeT(t, "a", a)
	b, err := NewDeviceBuffer[float32](dev, n)
	must(t, "alloc", err)
	closeT(t, "b", b)
	h, err := NewHostBuffer[float32](dev, n)
	must(t, "host alloc", err)
	closeT(t, "h", h)
	e, err := NewEvent(dev, EventOptions{})
	must(t, "event", err)
	closeT(t, "e", e)
	must(t, "memset", a.Memset(0))
	must(t, "memset", b.Memset(0))
	mod, err := Compile(dev, rtcSaxpy, rtcSaxpyOpts)
	must(t, "Compile", err)
	closeT(t, "module", mod)
	saxpy, err := mod.Kernel("saxpy")
	must(t, "Kernel", err)
	closeT(t, "kernel", saxpy)
	var failed error
	keep := func(err error) {
		if err != nil && failed == nil {
			failed = err
		}
	}
	for name, f := range map[string]func(){
		"Add":               func() { keep(Add(s, a, b, b)) },
		"CopyFromHostAsync": func() { keep(a.CopyFromHostAsync(s, h)) },
		"CopyToHostAsync":   func() { keep(a.CopyToHostAsync(s, h)) },
		"CopyFromAsync":     func() { keep(b.CopyFromAsync(s, a)) },
		"MemsetAsync":       func() { keep(a.MemsetAsync(s, 0)) },
		"Record":            func() { keep(e.Record(s)) },
		"Synchronize":       func() { keep(s.Synchronize()) },
		"Query":             func() { _, err := s.Query(); keep(err) },
		"Kernel.Launch": func() {
			keep(saxpy.Launch(s, Dim3{X: n / 256}, Dim3{X: 256}, 0, Float32(2), BufArg(a),
				BufArg(b), Uint64(n)))
		},
	} {
		if allocs := testing.AllocsPerRun(100, f); allocs != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, allocs)
		}
	}
	must(t, "synchronize", s.Synchronize())
	if failed != nil {
		t.Fatal(failed)
	}
}
