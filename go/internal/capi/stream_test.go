//go:build cgo

package capi

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

// Stream.Priority is CUDA's priority for the stream (the core asks cudaStreamGetPriority),
// checked against the device's range from its properties: a priority inside the range comes
// back unchanged, one outside it comes back inside the range at the nearer end, and the two ends
// give two different priorities when the range has more than one value.
func TestStreamPriority(t *testing.T) {
	dev := requireGPU(t)
	p, err := dev.Properties()
	must(t, "Properties", err)
	greatest, least := p.StreamPriorityGreatest, p.StreamPriorityLeast
	if greatest > least {
		t.Fatalf("device range [%d, %d]: the greatest priority must be numerically the smallest", greatest, least)
	}
	priority := func(nb bool, ask int) int {
		t.Helper()
		s, err := NewStream(dev, StreamOptions{NonBlocking: nb, Priority: ask})
		must(t, "NewStream", err)
		defer func() { must(t, "Close", s.Close()) }()
		if s.Device() != dev {
			t.Errorf("stream device %v, want %v", s.Device(), dev)
		}
		done, err := s.Query()
		if err != nil || !done {
			t.Errorf("Query on an idle stream = %v, %v; want true", done, err)
		}
		if err := s.Wait(context.Background()); err != nil {
			t.Errorf("Wait on an idle stream: %v", err)
		}
		return s.Priority()
	}
	inRange := []int{greatest, least, greatest + (least-greatest)/2}
	if greatest <= 0 && 0 <= least {
		inRange = append(inRange, 0)
	}
	for _, nb := range []bool{false, true} {
		for _, ask := range inRange {
			if got := priority(nb, ask); got != ask {
				t.Errorf("NonBlocking %v: priority %d (in the device range [%d, %d]) came back as %d",
					nb, ask, greatest, least, got)
			}
		}
		for _, ask := range []int{greatest - 1, greatest - 1000, math.MinInt32} {
			if got := priority(nb, ask); got != greatest {
				t.Errorf("NonBlocking %v: priority %d, above the greatest %d, came back as %d; want %d",
					nb, ask, greatest, got, greatest)
			}
		}
		for _, ask := range []int{least + 1, least + 1000, math.MaxInt32} {
			if got := priority(nb, ask); got != least {
				t.Errorf("NonBlocking %v: priority %d, below the least %d, came back as %d; want %d",
					nb, ask, least, got, least)
			}
		}
	}
	if greatest < least {
		if hi, lo := priority(true, greatest), priority(true, least); hi == lo {
			t.Errorf("streams asked for the greatest (%d) and least (%d) priorities both have %d",
				greatest, least, hi)
		}
	}
}

func TestEventTiming(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	start, err := NewEvent(dev, EventOptions{})
	must(t, "NewEvent", err)
	closeT(t, "start", start)
	end, err := NewEvent(dev, EventOptions{BlockingSync: true})
	must(t, "NewEvent", err)
	closeT(t, "end", end)

	const n = 64 << 20 // 256 MiB of float32
	const size = 4 * n
	h, err := NewHostBuffer[float32](dev, n)
	must(t, "NewHostBuffer", err)
	closeT(t, "h", h)
	d, err := NewDeviceBuffer[float32](dev, n)
	must(t, "NewDeviceBuffer", err)
	closeT(t, "d", d)
	d2, err := NewDeviceBuffer[float32](dev, n)
	must(t, "NewDeviceBuffer", err)
	closeT(t, "d2", d2)

	// A 256 MiB host-to-device copy over the bus.
	must(t, "Record start", start.Record(s))
	must(t, "CopyFromHostAsync", d.CopyFromHostAsync(s, h))
	must(t, "Record end", end.Record(s))
	must(t, "Wait end", end.Wait(context.Background()))
	done, err := end.Query()
	if err != nil || !done {
		t.Errorf("end.Query() after Wait = %v, %v", done, err)
	}
	el, err := Elapsed(start, end)
	must(t, "Elapsed", err)
	gbps := size / el.Seconds() / 1e9
	t.Logf("256 MiB H2D: %v, %.1f GB/s", el, gbps)
	// Plausible: more than zero, under 10 s, and no faster than any PCIe or C2C link.
	if el <= 0 || el > 10*time.Second || gbps > 1000 {
		t.Errorf("256 MiB H2D took %v (%.1f GB/s): implausible", el, gbps)
	}

	// A 256 MiB device-to-device copy.
	must(t, "Record start", start.Record(s))
	must(t, "CopyFromAsync", d2.CopyFromAsync(s, d))
	must(t, "Record end", end.Record(s))
	must(t, "Synchronize end", end.Synchronize())
	el, err = Elapsed(start, end)
	must(t, "Elapsed", err)
	gbps = 2 * size / el.Seconds() / 1e9
	t.Logf("256 MiB D2D: %v, %.1f GB/s (read + write)", el, gbps)
	if el <= 0 || el > 10*time.Second || gbps > 20000 {
		t.Errorf("256 MiB D2D took %v (%.1f GB/s): implausible", el, gbps)
	}

	// Events without timing cannot be timed.
	nt, err := NewEvent(dev, EventOptions{DisableTiming: true})
	must(t, "NewEvent", err)
	closeT(t, "nt", nt)
	must(t, "Record", nt.Record(s))
	must(t, "Synchronize", nt.Synchronize())
	if _, err := Elapsed(start, nt); err == nil {
		t.Errorf("Elapsed with a DisableTiming event succeeded")
	}
}

// Work on s2 after s2.WaitEvent(e) sees the work s1 did before e.Record(s1).
func TestStreamWaitEvent(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s1, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "s1", s1)
	s2, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "s2", s2)
	e, err := NewEvent(dev, EventOptions{DisableTiming: true})
	must(t, "NewEvent", err)
	closeT(t, "e", e)

	const n = 32 << 20
	h, err := NewHostBuffer[float32](dev, n)
	must(t, "NewHostBuffer", err)
	closeT(t, "h", h)
	fillFloats(r, h.Slice())
	src, err := NewDeviceBuffer[float32](dev, n)
	must(t, "alloc", err)
	closeT(t, "src", src)
	dst, err := NewDeviceBuffer[float32](dev, n)
	must(t, "alloc", err)
	closeT(t, "dst", dst)
	must(t, "Memset", src.Memset(0))
	out, err := NewHostBuffer[float32](dev, n)
	must(t, "NewHostBuffer", err)
	closeT(t, "out", out)

	must(t, "H2D on s1", src.CopyFromHostAsync(s1, h)) // slow: over the bus
	must(t, "Record on s1", e.Record(s1))
	must(t, "WaitEvent on s2", s2.WaitEvent(e))
	must(t, "D2D on s2", dst.CopyFromAsync(s2, src))
	must(t, "D2H on s2", dst.CopyToHostAsync(s2, out))
	must(t, "Synchronize s2", s2.Synchronize())
	want, got := h.Slice(), out.Slice()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("element %d: %v, want %v: s2 did not wait for s1", i, got[i], want[i])
		}
	}
}

// Wait returns promptly with the context's error while a long copy runs; the GPU work goes on.
func TestWaitContext(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	const n = 256 << 20 // bytes per copy
	h, err := NewHostBuffer[byte](dev, n)
	must(t, "NewHostBuffer", err)
	closeT(t, "h", h)
	d, err := NewDeviceBuffer[byte](dev, n)
	must(t, "NewDeviceBuffer", err)
	closeT(t, "d", d)
	e, err := NewEvent(dev, EventOptions{DisableTiming: true})
	must(t, "NewEvent", err)
	closeT(t, "e", e)

	// About 80 GB over the bus: more than a second on any current link.
	queueLong := func() {
		for i := 0; i < 300; i++ {
			must(t, "CopyFromHostAsync", d.CopyFromHostAsync(s, h))
		}
	}

	queueLong()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	t0 := time.Now()
	err = s.Wait(ctx)
	waited := time.Since(t0)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stream.Wait with a 50 ms deadline: %v, want context.DeadlineExceeded", err)
	}
	if waited > time.Second {
		t.Errorf("Stream.Wait returned %v after its 50 ms deadline", waited)
	}
	if done, err := s.Query(); err != nil || done {
		t.Errorf("the copies were done (%v, %v) when the deadline passed: the test proves nothing", done, err)
	}
	must(t, "Synchronize", s.Synchronize())

	queueLong()
	must(t, "Record", e.Record(s))
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	t0 = time.Now()
	err = e.Wait(ctx)
	waited = time.Since(t0)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Event.Wait cancelled after 50 ms: %v, want context.Canceled", err)
	}
	if waited > time.Second {
		t.Errorf("Event.Wait returned %v after a cancellation at 50 ms", waited)
	}
	if done, err := e.Query(); err != nil || done {
		t.Errorf("the copies were done (%v, %v) at the cancellation: the test proves nothing", done, err)
	}
	// An already cancelled context returns at once, work or not.
	if err := s.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context: %v", err)
	}
	// Leave a Wait's background synchronisation running, then Close the stream: Close waits
	// for that synchronisation, so all queued work (the event's record included) is done when
	// it returns.
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	err = s.Wait(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stream.Wait with a 20 ms deadline: %v, want context.DeadlineExceeded", err)
	}
	must(t, "Close while Wait's synchronisation runs", s.Close())
	if done, err := e.Query(); err != nil || !done {
		t.Errorf("after Close returned, the event's work is not done (%v, %v): Close did not wait", done, err)
	}
	must(t, "Event.Synchronize", e.Synchronize())
}

// Every method of every handle type after Close returns an error matching ErrClosed (and
// ErrInvalidHandle); a second Close returns nil.
func TestUseAfterClose(t *testing.T) {
	dev := requireGPU(t)
	ctx := context.Background()
	closed := func(what string, err error) {
		t.Helper()
		wantErr(t, what, err, ErrClosed)
		wantErr(t, what, err, ErrInvalidHandle)
	}
	live, err := NewStream(dev, StreamOptions{})
	must(t, "NewStream", err)
	closeT(t, "live stream", live)
	liveBuf, err := NewDeviceBuffer[float32](dev, 8)
	must(t, "alloc", err)
	closeT(t, "live buffer", liveBuf)
	liveHost, err := NewHostBuffer[float32](dev, 8)
	must(t, "host alloc", err)
	closeT(t, "live host", liveHost)
	liveEvent, err := NewEvent(dev, EventOptions{})
	must(t, "NewEvent", err)
	closeT(t, "live event", liveEvent)

	// Stream.
	s, err := NewStream(dev, StreamOptions{})
	must(t, "NewStream", err)
	must(t, "Close", s.Close())
	must(t, "second Close", s.Close())
	closed("Stream.Synchronize", s.Synchronize())
	_, err = s.Query()
	closed("Stream.Query", err)
	closed("Stream.Wait", s.Wait(ctx))
	closed("Stream.WaitEvent", s.WaitEvent(liveEvent))
	_, err = NewDeviceBufferAsync[float32](s, 8)
	closed("NewDeviceBufferAsync", err)
	closed("Add on closed stream", Add(s, liveBuf, liveBuf, liveBuf))
	closed("CopyFromHostAsync on closed stream", liveBuf.CopyFromHostAsync(s, liveHost))
	closed("CopyToHostAsync on closed stream", liveBuf.CopyToHostAsync(s, liveHost))
	closed("CopyFromAsync on closed stream", liveBuf.CopyFromAsync(s, liveBuf))
	closed("MemsetAsync on closed stream", liveBuf.MemsetAsync(s, 0))
	closed("Record on closed stream", liveEvent.Record(s))
	if s.Device() != dev {
		t.Errorf("Device() after Close")
	}

	// Event.
	e, err := NewEvent(dev, EventOptions{})
	must(t, "NewEvent", err)
	must(t, "Record", e.Record(live))
	must(t, "Close", e.Close())
	must(t, "second Close", e.Close())
	closed("Event.Record", e.Record(live))
	closed("Event.Synchronize", e.Synchronize())
	_, err = e.Query()
	closed("Event.Query", err)
	closed("Event.Wait", e.Wait(ctx))
	_, err = Elapsed(e, liveEvent)
	closed("Elapsed(closed, live)", err)
	_, err = Elapsed(liveEvent, e)
	closed("Elapsed(live, closed)", err)
	closed("WaitEvent(closed)", live.WaitEvent(e))

	// DeviceBuffer.
	b, err := NewDeviceBuffer[float32](dev, 8)
	must(t, "alloc", err)
	must(t, "Close", b.Close())
	must(t, "second Close", b.Close())
	if b.Len() != 8 || b.Bytes() != 32 {
		t.Errorf("Len/Bytes after Close: %d, %d", b.Len(), b.Bytes())
	}
	buf := make([]float32, 8)
	closed("CopyFromHost", b.CopyFromHost(buf))
	closed("CopyToHost", b.CopyToHost(buf))
	closed("CopyFromHostAt", b.CopyFromHostAt(0, buf[:1]))
	closed("CopyToHostAt", b.CopyToHostAt(buf[:1], 0))
	closed("CopyFrom into closed", b.CopyFrom(liveBuf))
	closed("CopyFrom from closed", liveBuf.CopyFrom(b))
	closed("CopyFromAsync into closed", b.CopyFromAsync(live, liveBuf))
	closed("CopyFromAsync from closed", liveBuf.CopyFromAsync(live, b))
	closed("CopyFromHostAsync", b.CopyFromHostAsync(live, liveHost))
	closed("CopyToHostAsync", b.CopyToHostAsync(live, liveHost))
	closed("Memset", b.Memset(0))
	closed("MemsetAsync", b.MemsetAsync(live, 0))
	closed("Add a", Add(live, b, liveBuf, liveBuf))
	closed("Add b", Add(live, liveBuf, b, liveBuf))
	closed("Add c", Add(live, liveBuf, liveBuf, b))

	// HostBuffer.
	h, err := NewHostBuffer[float32](dev, 8)
	must(t, "host alloc", err)
	must(t, "Close", h.Close())
	must(t, "second Close", h.Close())
	if h.Slice() != nil || h.Len() != 8 {
		t.Errorf("after Close: Slice() %v, Len() %d", h.Slice(), h.Len())
	}
	closed("CopyFromHostAsync(closed host)", liveBuf.CopyFromHostAsync(live, h))
	closed("CopyToHostAsync(closed host)", liveBuf.CopyToHostAsync(live, h))

	// MappedBuffer and its view.
	m, err := NewMappedBuffer[float32](dev, 8)
	must(t, "NewMappedBuffer", err)
	v, err := m.Device()
	must(t, "view", err)
	must(t, "Close view", v.Close())
	must(t, "second Close view", v.Close())
	closed("view CopyToHost", v.CopyToHost(buf))
	closed("Add on a closed view", Add(live, v, liveBuf, liveBuf))
	must(t, "Close mapped", m.Close())
	must(t, "second Close mapped", m.Close())
	_, err = m.Device()
	closed("MappedBuffer.Device", err)
	closed("CopyFromHostAsync(closed mapped)", liveBuf.CopyFromHostAsync(live, m.Host()))
	if m.Slice() != nil {
		t.Errorf("mapped Slice() after Close is not nil")
	}
	must(t, "Synchronize", live.Synchronize())
}

// Bad ranges and lengths are refused before they reach the GPU.
func TestOutOfRange(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{})
	must(t, "NewStream", err)
	closeT(t, "s", s)
	b, err := NewDeviceBuffer[float32](dev, 10)
	must(t, "alloc", err)
	closeT(t, "b", b)
	b11, err := NewDeviceBuffer[float32](dev, 11)
	must(t, "alloc", err)
	closeT(t, "b11", b11)
	h9, err := NewHostBuffer[float32](dev, 9)
	must(t, "host alloc", err)
	closeT(t, "h9", h9)

	oor := func(what string, err error) { t.Helper(); wantErr(t, what, err, ErrOutOfRange) }
	oor("CopyFromHostAt(9, 2)", b.CopyFromHostAt(9, make([]float32, 2)))
	oor("CopyFromHostAt(-1, 1)", b.CopyFromHostAt(-1, make([]float32, 1)))
	oor("CopyFromHostAt(11, 0)", b.CopyFromHostAt(11, nil))
	oor("CopyToHostAt(11 elements, 0)", b.CopyToHostAt(make([]float32, 11), 0))
	oor("CopyToHostAt(1, 10)", b.CopyToHostAt(make([]float32, 1), 10))
	oor("CopyToHostAt(1, -5)", b.CopyToHostAt(make([]float32, 1), -5))
	oor("CopyFromHost(9)", b.CopyFromHost(make([]float32, 9)))
	oor("CopyFromHost(11)", b.CopyFromHost(make([]float32, 11)))
	oor("CopyToHost(9)", b.CopyToHost(make([]float32, 9)))
	oor("CopyFrom(11)", b.CopyFrom(b11))
	oor("CopyFromAsync(11)", b.CopyFromAsync(s, b11))
	oor("CopyFromHostAsync(9)", b.CopyFromHostAsync(s, h9))
	oor("CopyToHostAsync(9)", b.CopyToHostAsync(s, h9))
	oor("Add(10, 11, 10)", Add(s, b, b11, b))
	oor("Add(10, 10, 11)", Add(s, b, b, b11))
	must(t, "CopyFromHostAt(10, 0) at the end", b.CopyFromHostAt(10, nil))
	must(t, "CopyToHostAt(4, 6) exactly to the end", b.CopyToHostAt(make([]float32, 4), 6))
	must(t, "Synchronize", s.Synchronize())
}
