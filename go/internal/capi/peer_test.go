//go:build cgo

package capi

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// requireTwoGPUs returns devices 0 and 1, or skips the test ("needs 2 devices").
func requireTwoGPUs(t testing.TB) (Device, Device) {
	t.Helper()
	requireGPU(t)
	n, err := DeviceCount()
	must(t, "DeviceCount", err)
	if n < 2 {
		t.Skipf("needs 2 devices, this machine has %d", n)
	}
	d0, err := GetDevice(0)
	must(t, "GetDevice(0)", err)
	d1, err := GetDevice(1)
	must(t, "GetDevice(1)", err)
	return d0, d1
}

// setPeer enables (direct copies) or disables (staged copies) peer access both ways; false
// when enabling is asked for and the hardware cannot do it.
func setPeer(t testing.TB, d0, d1 Device, on bool) bool {
	t.Helper()
	if !on {
		must(t, "DisablePeerAccess 0->1", d0.DisablePeerAccess(d1))
		must(t, "DisablePeerAccess 1->0", d1.DisablePeerAccess(d0))
		return true
	}
	c01, err := d0.CanAccessPeer(d1)
	must(t, "CanAccessPeer 0->1", err)
	c10, err := d1.CanAccessPeer(d0)
	must(t, "CanAccessPeer 1->0", err)
	if !c01 || !c10 {
		return false
	}
	must(t, "EnablePeerAccess 0->1", d0.EnablePeerAccess(d1))
	must(t, "EnablePeerAccess 1->0", d1.EnablePeerAccess(d0))
	return true
}

// restorePeer leaves peer access enabled where possible at the end of the test, the state
// other tests (NCCL's among them) expect.
func restorePeer(t testing.TB, d0, d1 Device) {
	t.Cleanup(func() {
		if c, err := d0.CanAccessPeer(d1); err == nil && c {
			setPeer(t, d0, d1, true)
		}
	})
}

func randBytes(r *rand.Rand, n int) []byte {
	v := make([]byte, n)
	i := 0
	for ; i+8 <= n; i += 8 {
		x := r.Uint64()
		for k := 0; k < 8; k++ {
			v[i+k] = byte(x >> (8 * k))
		}
	}
	for ; i < n; i++ {
		v[i] = byte(r.Uint32())
	}
	return v
}

func TestPeerArguments(t *testing.T) {
	noop := func(context.Context, Worker, int) error { return nil }
	wantErr(t, "Spread(nil devices)", Spread(context.Background(), nil, 1, noop), ErrInvalidArgument)
	wantErr(t, "Spread(negative jobs)", Spread(context.Background(), []Device{{}}, -1, noop), ErrInvalidArgument)
	wantErr(t, "Spread(nil fn)", Spread(context.Background(), []Device{{}}, 1, nil), ErrInvalidArgument)
	wantErr(t, "Spread(nil ctx)", Spread(nil, []Device{{}}, 1, noop), ErrInvalidArgument)

	dev := requireGPU(t)
	ok, err := dev.CanAccessPeer(dev)
	must(t, "CanAccessPeer(self)", err)
	if !ok {
		t.Errorf("a device must access its own memory: CanAccessPeer(self) = false")
	}
	must(t, "EnablePeerAccess(self)", dev.EnablePeerAccess(dev))
	must(t, "DisablePeerAccess(self)", dev.DisablePeerAccess(dev))
	n, err := DeviceCount()
	must(t, "DeviceCount", err)
	bad := Device{ordinal: int32(n)}
	_, err = dev.CanAccessPeer(bad)
	wantErr(t, "CanAccessPeer(out of range)", err, ErrInvalidDevice)
	wantErr(t, "EnablePeerAccess(out of range)", dev.EnablePeerAccess(bad), ErrInvalidDevice)
	wantErr(t, "DisablePeerAccess(out of range)", bad.DisablePeerAccess(dev), ErrInvalidDevice)
}

// copyChecks copies src into dst synchronously and on each stream, poisoning dst first, and
// compares with want.
func copyChecks(t *testing.T, what string, dst, src *DeviceBuffer[byte], want []byte, streams ...*Stream) {
	t.Helper()
	got := make([]byte, len(want))
	check := func(how string) {
		t.Helper()
		must(t, what+" "+how+": CopyToHost", dst.CopyToHost(got)) // ordered after the copy
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && got[i] == want[i] {
				i++
			}
			t.Fatalf("%s %s: first difference at byte %d of %d", what, how, i, len(want))
		}
	}
	must(t, "Memset", dst.Memset(0xA5))
	must(t, what+" CopyFrom", dst.CopyFrom(src))
	check("sync")
	for _, s := range streams {
		must(t, "Memset", dst.Memset(0xA5))
		must(t, what+" CopyFromAsync", dst.CopyFromAsync(s, src))
		check("async on " + s.Device().String())
	}
}

func TestPeerSameDeviceCopy(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s := peerStream(t, dev)
	for _, n := range []int{1, 4097, 3 << 20} {
		src, err := NewDeviceBuffer[byte](dev, n)
		must(t, "NewDeviceBuffer", err)
		closeT(t, "src", src)
		dst, err := NewDeviceBuffer[byte](dev, n)
		must(t, "NewDeviceBuffer", err)
		closeT(t, "dst", dst)
		want := randBytes(r, n)
		must(t, "CopyFromHost", src.CopyFromHost(want))
		copyChecks(t, "same device", dst, src, want, s)
	}
}

func TestPeerCopiesExact(t *testing.T) {
	d0, d1 := requireTwoGPUs(t)
	restorePeer(t, d0, d1)
	r := newRand(t)
	devs := [2]Device{d0, d1}
	streams := [2]*Stream{peerStream(t, d0), peerStream(t, d1)}
	noDirect := false
	for _, direct := range []bool{false, true} {
		if !setPeer(t, d0, d1, direct) {
			noDirect = true
			continue
		}
		mode := map[bool]string{false: "staged", true: "direct"}[direct]
		for _, n := range []int{1, 4097, 256 << 20} {
			for from := 0; from < 2; from++ {
				to := 1 - from
				src, err := NewDeviceBuffer[byte](devs[from], n)
				must(t, "NewDeviceBuffer", err)
				dst, err := NewDeviceBuffer[byte](devs[to], n)
				must(t, "NewDeviceBuffer", err)
				want := randBytes(r, n)
				must(t, "CopyFromHost", src.CopyFromHost(want))
				what := mode + " " + devs[from].String() + " -> " + devs[to].String()
				copyChecks(t, what, dst, src, want, streams[from], streams[to])
				must(t, "Close", src.Close())
				must(t, "Close", dst.Close())
			}
		}
	}
	if noDirect {
		t.Skip("staged copies passed; devices 0 and 1 cannot access each other, so direct copies were not tested")
	}
}

// Many goroutines (on whatever OS threads, with whatever current device) use buffers of both
// devices and copy between them.
func TestPeerManyGoroutines(t *testing.T) {
	d0, d1 := requireTwoGPUs(t)
	devs := [2]Device{d0, d1}
	seeds := newRand(t)
	const goroutines, iters, n = 16, 20, 4099
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int, seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			dev, other := devs[g%2], devs[1-g%2]
			s, err := NewStream(dev, StreamOptions{NonBlocking: true})
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for it := 0; it < iters; it++ {
				if err := peerIteration(r, s, dev, other, n); err != nil {
					errs <- err
					return
				}
			}
		}(g, seeds.Uint64())
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// peerIteration adds two random vectors on s's device, copies the sum to `other` and checks it.
func peerIteration(r *rand.Rand, s *Stream, dev, other Device, n int) (err error) {
	a, b := randFloats(r, n), randFloats(r, n)
	bufs := make([]*DeviceBuffer[float32], 4)
	for i, d := range []Device{dev, dev, dev, other} {
		if bufs[i], err = NewDeviceBuffer[float32](d, n); err != nil {
			return err
		}
		defer closeInto(&err, bufs[i])
	}
	da, db, dc, dp := bufs[0], bufs[1], bufs[2], bufs[3]
	if err := da.CopyFromHost(a); err != nil {
		return err
	}
	if err := db.CopyFromHost(b); err != nil {
		return err
	}
	if err := dc.MemsetAsync(s, 0xFF); err != nil {
		return err
	}
	if err := Add(s, da, db, dc); err != nil {
		return err
	}
	if err := dp.CopyFromAsync(s, dc); err != nil { // peer copy on dc's device's stream
		return err
	}
	got := make([]float32, n)
	if err := dp.CopyToHost(got); err != nil {
		return err
	}
	for i := range got {
		if got[i] != a[i]+b[i] {
			return errors.New("wrong sum after a peer copy from " + dev.String() + " to " + other.String())
		}
	}
	return nil
}

// Buffers used on a stream of the other device and closed at once are freed after that use.
func TestPeerFreeCycles(t *testing.T) {
	d0, d1 := requireTwoGPUs(t)
	r := newRand(t)
	const n = 32 << 20
	s0 := peerStream(t, d0)
	data := randBytes(r, n)
	src0, err := NewDeviceBuffer[byte](d0, n)
	must(t, "NewDeviceBuffer", err)
	closeT(t, "src0", src0)
	must(t, "CopyFromHost", src0.CopyFromHost(data))
	got := make([]byte, n)
	for it := 0; it < 8; it++ {
		dst1, err := NewDeviceBuffer[byte](d1, n)
		must(t, "NewDeviceBuffer", err)
		must(t, "CopyFromAsync", dst1.CopyFromAsync(s0, src0))
		must(t, "Close", dst1.Close()) // while the copy may still run
		fresh, err := NewDeviceBuffer[byte](d1, n)
		must(t, "NewDeviceBuffer", err)
		must(t, "Memset", fresh.Memset(0x5A))
		must(t, "Synchronize", s0.Synchronize())
		must(t, "CopyToHost", fresh.CopyToHost(got))
		must(t, "Close", fresh.Close())
		for i, v := range got {
			if v != 0x5A {
				t.Fatalf("iteration %d: byte %d of a fresh buffer is %#x: a late copy wrote freed memory", it, i, v)
			}
		}
	}
}

func TestPeerKernelsAndMemsetRefuseOtherDevices(t *testing.T) {
	d0, d1 := requireTwoGPUs(t)
	s0 := peerStream(t, d0)
	a0, err := NewDeviceBuffer[float32](d0, 16)
	must(t, "NewDeviceBuffer", err)
	closeT(t, "a0", a0)
	a1, err := NewDeviceBuffer[float32](d1, 16)
	must(t, "NewDeviceBuffer", err)
	closeT(t, "a1", a1)
	wantErr(t, "Add with a buffer of device 1 on device 0", Add(s0, a0, a1, a0), ErrDeviceMismatch)
	wantErr(t, "MemsetAsync of device 1's buffer on device 0", a1.MemsetAsync(s0, 0), ErrDeviceMismatch)
	must(t, "peer CopyFromAsync", a1.CopyFromAsync(s0, a0))
	must(t, "Synchronize", s0.Synchronize())
}

// Spread computes independent GEMMs on every device, each checked against the CPU, and uses
// every device.
func TestSpreadMatMul(t *testing.T) {
	requireGPU(t)
	devs, err := Devices()
	must(t, "Devices", err)
	r := newRand(t)
	const jobs = 24
	type input struct {
		m, n, k int
		a, b    []float32
	}
	inputs := make([]input, jobs)
	for j := range inputs {
		in := input{m: 31 + j, n: 17 + 3*j, k: 40 + j%7}
		// Small integers: every product and sum is exact in float32, in any order.
		in.a = make([]float32, in.m*in.k)
		in.b = make([]float32, in.k*in.n)
		for i := range in.a {
			in.a[i] = float32(r.IntN(9) - 4)
		}
		for i := range in.b {
			in.b[i] = float32(r.IntN(9) - 4)
		}
		inputs[j] = in
	}
	ran := make([]int, jobs)
	for j := range ran {
		ran[j] = -1
	}
	var arrived atomic.Int64
	workers := int64(len(devs))
	err = Spread(context.Background(), devs, jobs, func(_ context.Context, w Worker, job int) (err error) {
		if w.Stream().Device() != w.Device() {
			return errors.New("worker stream on " + w.Stream().Device().String() + ", worker on " + w.Device().String())
		}
		if int64(job) < workers {
			// The first jobs wait for each other, so each lands on a different worker.
			arrived.Add(1)
			deadline := time.Now().Add(30 * time.Second)
			for arrived.Load() < workers {
				if time.Now().After(deadline) {
					return errors.New("the first jobs did not start on every worker within 30 s")
				}
				time.Sleep(time.Millisecond)
			}
		}
		in := inputs[job]
		bufs := make([]*DeviceBuffer[float32], 3)
		for i, n := range []int{in.m * in.k, in.k * in.n, in.m * in.n} {
			if bufs[i], err = NewDeviceBuffer[float32](w.Device(), n); err != nil {
				return err
			}
			defer closeInto(&err, bufs[i])
		}
		if err := bufs[0].CopyFromHost(in.a); err != nil {
			return err
		}
		if err := bufs[1].CopyFromHost(in.b); err != nil {
			return err
		}
		if err := bufs[2].MemsetAsync(w.Stream(), 0xFF); err != nil { // NaN: unwritten fails
			return err
		}
		if err := MatMul(w.Stream(), bufs[0], bufs[1], bufs[2], in.m, in.n, in.k); err != nil {
			return err
		}
		got := make([]float32, in.m*in.n)
		if err := bufs[2].CopyToHost(got); err != nil {
			return err
		}
		for i := 0; i < in.m; i++ {
			for c := 0; c < in.n; c++ {
				var want float32
				for p := 0; p < in.k; p++ {
					want += in.a[i*in.k+p] * in.b[p*in.n+c]
				}
				if got[i*in.n+c] != want {
					return errors.New("GEMM result differs from the CPU")
				}
			}
		}
		ran[job] = w.Device().Ordinal()
		return nil
	})
	must(t, "Spread", err)
	used := map[int]int{}
	for j, d := range ran {
		if d < 0 {
			t.Errorf("job %d did not run", j)
		}
		used[d]++
	}
	t.Logf("jobs per device: %v", used)
	for _, d := range devs {
		if used[d.Ordinal()] == 0 {
			t.Errorf("%v ran no job (jobs per device: %v)", d, used)
		}
	}
}

func TestSpreadStopsAtTheFirstError(t *testing.T) {
	requireGPU(t)
	devs, err := Devices()
	must(t, "Devices", err)
	boom := errors.New("boom")
	const jobs = 10000
	var started atomic.Int64
	err = Spread(context.Background(), devs, jobs, func(_ context.Context, w Worker, job int) error {
		started.Add(1)
		if job == 3 {
			return boom
		}
		time.Sleep(100 * time.Microsecond)
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Spread returned %v, want an error wrapping %v", err, boom)
	}
	if n := started.Load(); n >= jobs {
		t.Errorf("all %d jobs ran after job 3 failed", n)
	}

	// A panic is re-raised in the caller after the clean-up.
	defer func() {
		if p := recover(); p != "job panic" {
			t.Errorf("recovered %v, want the job's panic", p)
		}
	}()
	_ = Spread(context.Background(), devs, 4, func(_ context.Context, w Worker, job int) error {
		if job == 1 {
			panic("job panic")
		}
		return nil
	})
	t.Errorf("Spread did not re-raise the job's panic")
}

// peerStream creates a non-blocking stream on dev, closed at the end of the test.
func peerStream(t testing.TB, dev Device) *Stream {
	t.Helper()
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	return s
}

// A done context stops Spread: no job starts after it, and its error comes back; the context
// given to the jobs is cancelled at the first error.
func TestSpreadStopsWhenTheContextIsDone(t *testing.T) {
	dev := requireGPU(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := atomic.Int32{}
	err := Spread(ctx, []Device{dev}, 100, func(context.Context, Worker, int) error {
		ran.Add(1)
		return nil
	})
	if !errors.Is(err, context.Canceled) || ran.Load() != 0 {
		t.Errorf("Spread with a cancelled context: %v after %d jobs; want context.Canceled, none", err,
			ran.Load())
	}
	failure := errors.New("job failed")
	sawCancel := atomic.Bool{}
	started := make(chan struct{})
	err = Spread(context.Background(), []Device{dev, dev}, 2, func(jctx context.Context, w Worker,
		job int) error {
		if job == 0 { // fails once job 1 runs (on the other worker: this one is busy here)
			select {
			case <-started:
			case <-time.After(20 * time.Second):
			}
			return failure
		}
		close(started)
		select {
		case <-jctx.Done():
			sawCancel.Store(true)
		case <-time.After(20 * time.Second):
		}
		return nil
	})
	if !errors.Is(err, failure) || !sawCancel.Load() {
		t.Errorf("Spread with a failing job: %v (the other job saw the cancel: %v)", err,
			sawCancel.Load())
	}
}
