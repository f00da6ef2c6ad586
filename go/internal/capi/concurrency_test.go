//go:build cgo

package capi

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// 64 goroutines share 4 streams; each allocates (synchronously and in stream order), copies,
// launches Add and checks its own results, many times over.
func TestConcurrentUse(t *testing.T) {
	dev := requireGPU(t)
	const workers, nstreams = 64, 4
	iters := 200
	if testing.Short() {
		iters = 20
	}
	seedRand := newRand(t)
	streams := make([]*Stream, nstreams)
	for i := range streams {
		s, err := NewStream(dev, StreamOptions{NonBlocking: i%2 == 0})
		must(t, "NewStream", err)
		closeT(t, "stream", s)
		streams[i] = s
	}
	sizes := []int{1, 255, 256, 257, 1000, 4099}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int, seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			s := streams[w%nstreams]
			n := sizes[w%len(sizes)] + w
			hb, err := NewHostBuffer[float32](dev, n)
			if err != nil {
				t.Errorf("worker %d: NewHostBuffer: %v", w, err)
				return
			}
			defer func() {
				if err := hb.Close(); err != nil {
					t.Errorf("worker %d: hb.Close: %v", w, err)
				}
			}()
			hc, err := NewHostBuffer[float32](dev, n)
			if err != nil {
				t.Errorf("worker %d: NewHostBuffer: %v", w, err)
				return
			}
			defer func() {
				if err := hc.Close(); err != nil {
					t.Errorf("worker %d: hc.Close: %v", w, err)
				}
			}()
			a := make([]float32, n)
			for it := 0; it < iters; it++ {
				fillFloats(r, a)
				fillFloats(r, hb.Slice())
				if err := iteration(s, dev, n, a, hb, hc); err != nil {
					t.Errorf("worker %d, iteration %d: %v", w, it, err)
					return
				}
				b, c := hb.Slice(), hc.Slice()
				for i := range a {
					if want := a[i] + b[i]; math.Float32bits(c[i]) != math.Float32bits(want) {
						t.Errorf("worker %d, iteration %d: c[%d] = %v, want %v", w, it, i, c[i], want)
						return
					}
				}
			}
		}(w, seedRand.Uint64())
	}
	wg.Wait()
}

// iteration: a is a Go slice, b comes from the pinned hb, c goes to the pinned hc.
func iteration(s *Stream, dev Device, n int, a []float32, hb, hc *HostBuffer[float32]) (err error) {
	da, err := NewDeviceBuffer[float32](dev, n)
	if err != nil {
		return err
	}
	defer closeInto(&err, da)
	db, err := NewDeviceBufferAsync[float32](s, n)
	if err != nil {
		return err
	}
	defer closeInto(&err, db)
	dc, err := NewDeviceBufferAsync[float32](s, n)
	if err != nil {
		return err
	}
	defer closeInto(&err, dc)
	if err := da.CopyFromHost(a); err != nil {
		return err
	}
	if err := db.CopyFromHostAsync(s, hb); err != nil {
		return err
	}
	if err := dc.MemsetAsync(s, 0xFF); err != nil {
		return err
	}
	if err := Add(s, da, db, dc); err != nil {
		return err
	}
	if err := dc.CopyToHostAsync(s, hc); err != nil {
		return err
	}
	return s.Synchronize()
}

// Goroutines use shared handles while another closes them: every call returns nil or an error
// matching ErrClosed, never anything else, and nothing crashes. After the closer is done every
// call returns ErrClosed.
func TestCloseWhileInUse(t *testing.T) {
	dev := requireGPU(t)
	rounds := 20
	if testing.Short() {
		rounds = 4
	}
	r := newRand(t)
	for round := 0; round < rounds; round++ {
		const n = 4096
		s, err := NewStream(dev, StreamOptions{NonBlocking: true})
		must(t, "NewStream", err)
		e, err := NewEvent(dev, EventOptions{DisableTiming: true})
		must(t, "NewEvent", err)
		a, err := NewDeviceBuffer[float32](dev, n)
		must(t, "alloc", err)
		b, err := NewDeviceBufferAsync[float32](s, n)
		must(t, "alloc", err)
		c, err := NewDeviceBuffer[float32](dev, n)
		must(t, "alloc", err)
		h, err := NewHostBuffer[float32](dev, n)
		must(t, "host alloc", err)
		m, err := NewMappedBuffer[float32](dev, n)
		must(t, "mapped alloc", err)
		must(t, "memset", a.Memset(0))
		must(t, "memset", c.Memset(0))
		must(t, "memset", b.MemsetAsync(s, 0))
		must(t, "synchronize", s.Synchronize())

		ops := []func() error{
			func() error { return Add(s, a, b, c) },
			func() error { return a.CopyFromHostAsync(s, h) },
			func() error { return c.CopyToHostAsync(s, h) },
			func() error { return b.MemsetAsync(s, 1) },
			func() error { return b.CopyFromAsync(s, a) },
			func() error { return e.Record(s) },
			func() error { return s.WaitEvent(e) },
			func() error { _, err := s.Query(); return err },
			func() error { _, err := e.Query(); return err },
			func() error { return s.Synchronize() },
			func() error { return e.Synchronize() },
			func() error { return a.CopyFrom(c) },
			func() error { return a.CopyToHost(make([]float32, n)) },
			func() error { return c.CopyFromHostAt(1, make([]float32, 3)) },
			func() error {
				ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
				defer cancel()
				if err := s.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
					return err
				}
				return nil
			},
			func() error {
				v, err := m.Device()
				if err != nil {
					return err
				}
				err = Add(s, v, a, c)
				if cerr := v.Close(); err == nil {
					err = cerr
				}
				return err
			},
			func() error {
				d, err := NewDeviceBufferAsync[float32](s, n)
				if err != nil {
					return err
				}
				return d.Close()
			},
		}
		closers := []func() error{s.Close, e.Close, a.Close, b.Close, c.Close, h.Close, m.Close}
		r.Shuffle(len(closers), func(i, j int) { closers[i], closers[j] = closers[j], closers[i] })
		delay := time.Duration(r.IntN(2000)) * time.Microsecond

		var wg sync.WaitGroup
		stop := make(chan struct{})
		for u := 0; u < 8; u++ {
			wg.Add(1)
			go func(u int) {
				defer wg.Done()
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					if err := ops[(u+k)%len(ops)](); err != nil && !errors.Is(err, ErrClosed) {
						t.Errorf("round %d: op %d while closing: %v", round, (u+k)%len(ops), err)
						return
					}
				}
			}(u)
		}
		time.Sleep(delay)
		for i, cl := range closers {
			if err := cl(); err != nil {
				t.Errorf("round %d: Close %d: %v", round, i, err)
			}
		}
		close(stop)
		wg.Wait()
		for i, op := range ops {
			if err := op(); !errors.Is(err, ErrClosed) {
				t.Errorf("round %d: op %d after every Close: %v, want ErrClosed", round, i, err)
			}
		}
		for i, cl := range closers {
			if err := cl(); err != nil {
				t.Errorf("round %d: second Close %d: %v", round, i, err)
			}
		}
		if t.Failed() {
			return
		}
	}
}
