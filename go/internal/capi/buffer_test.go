//go:build cgo

package capi

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

func randBits[T Numeric](r *rand.Rand, n int) []T {
	v := make([]T, n)
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), n*int(sizeOf[T]()))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return v
}

func asBytes[T Numeric](v []T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*int(sizeOf[T]()))
}

// roundTrip checks every copy path for one element type, comparing bytes exactly.
func roundTrip[T Numeric](t *testing.T, dev Device, s *Stream, r *rand.Rand, n int) {
	src := randBits[T](r, n)

	d1, err := NewDeviceBuffer[T](dev, n)
	must(t, "alloc d1", err)
	defer d1.Close()
	if d1.Len() != n || d1.Bytes() != uint64(n)*sizeOf[T]() || d1.Device() != dev {
		t.Fatalf("Len %d Bytes %d Device %v", d1.Len(), d1.Bytes(), d1.Device())
	}
	d2, err := NewDeviceBufferAsync[T](s, n)
	must(t, "alloc d2", err)
	defer d2.Close()
	d3, err := NewDeviceBufferAsync[T](s, n)
	must(t, "alloc d3", err)
	defer d3.Close()

	// H2D and D2H, synchronous, from and to Go memory.
	must(t, "CopyFromHost", d1.CopyFromHost(src))
	got := make([]T, n)
	must(t, "CopyToHost", d1.CopyToHost(got))
	if !bytes.Equal(asBytes(got), asBytes(src)) {
		t.Fatalf("H2D/D2H round trip differs")
	}

	// D2D, synchronous.
	must(t, "CopyFrom", d2.CopyFrom(d1))
	clear(got)
	must(t, "CopyToHost d2", d2.CopyToHost(got))
	if !bytes.Equal(asBytes(got), asBytes(src)) {
		t.Fatalf("D2D round trip differs")
	}

	// Asynchronous, through pinned host buffers, and D2D async.
	hin, err := NewHostBuffer[T](dev, n)
	must(t, "host alloc", err)
	defer hin.Close()
	hout, err := NewHostBuffer[T](dev, n)
	must(t, "host alloc", err)
	defer hout.Close()
	if hin.Len() != n || len(hin.Slice()) != n || hin.Bytes() != uint64(n)*sizeOf[T]() {
		t.Fatalf("host buffer Len %d, len(Slice) %d", hin.Len(), len(hin.Slice()))
	}
	for i, v := range hout.Slice() {
		if v != 0 {
			t.Fatalf("new host buffer not zero-filled at %d", i)
		}
	}
	src2 := randBits[T](r, n)
	copy(hin.Slice(), src2)
	must(t, "MemsetAsync d3", d3.MemsetAsync(s, 0x5A))
	must(t, "CopyFromHostAsync", d3.CopyFromHostAsync(s, hin))
	must(t, "CopyFromAsync", d2.CopyFromAsync(s, d3))
	must(t, "CopyToHostAsync", d2.CopyToHostAsync(s, hout))
	must(t, "Synchronize", s.Synchronize())
	if !bytes.Equal(asBytes(hout.Slice()), asBytes(src2)) {
		t.Fatalf("async round trip differs")
	}

	// Ranged copies: write src2[lo:hi] at element lo of d1 (which holds src) and read back.
	if n >= 3 {
		lo, hi := n/3, n-n/3
		must(t, "CopyFromHostAt", d1.CopyFromHostAt(lo, src2[lo:hi]))
		must(t, "CopyToHost", d1.CopyToHost(got))
		want := append(append(append([]T(nil), src[:lo]...), src2[lo:hi]...), src[hi:]...)
		if !bytes.Equal(asBytes(got), asBytes(want)) {
			t.Fatalf("CopyFromHostAt(%d, %d elements) wrote the wrong range", lo, hi-lo)
		}
		part := make([]T, hi-lo+1)
		must(t, "CopyToHostAt", d1.CopyToHostAt(part, lo-1))
		if !bytes.Equal(asBytes(part), asBytes(want[lo-1:hi])) {
			t.Fatalf("CopyToHostAt(%d elements, %d) read the wrong range", len(part), lo-1)
		}
		// The last element alone, and an empty range at the very end.
		must(t, "CopyFromHostAt end", d1.CopyFromHostAt(n-1, src2[n-1:]))
		must(t, "CopyFromHostAt empty end", d1.CopyFromHostAt(n, nil))
		last := make([]T, 1)
		must(t, "CopyToHostAt end", d1.CopyToHostAt(last, n-1))
		if !bytes.Equal(asBytes(last), asBytes(src2[n-1:])) {
			t.Fatalf("last element differs")
		}
	}

	// Memset, checked byte by byte, synchronous and asynchronous.
	must(t, "Memset", d1.Memset(0xA5))
	must(t, "CopyToHost", d1.CopyToHost(got))
	for i, c := range asBytes(got) {
		if c != 0xA5 {
			t.Fatalf("after Memset(0xA5) byte %d = %#x", i, c)
		}
	}
	must(t, "MemsetAsync", d1.MemsetAsync(s, 0x00))
	must(t, "Synchronize", s.Synchronize())
	must(t, "CopyToHost", d1.CopyToHost(got))
	for i, c := range asBytes(got) {
		if c != 0 {
			t.Fatalf("after MemsetAsync(0) byte %d = %#x", i, c)
		}
	}
}

func TestCopyRoundTrips(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	for _, n := range []int{1, 3, 1000, 65537, 3 << 20} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			t.Run("float32", func(t *testing.T) { roundTrip[float32](t, dev, s, r, n) })
			t.Run("float64", func(t *testing.T) { roundTrip[float64](t, dev, s, r, n) })
			t.Run("int8", func(t *testing.T) { roundTrip[int8](t, dev, s, r, n) })
			t.Run("uint16", func(t *testing.T) { roundTrip[uint16](t, dev, s, r, n) })
			t.Run("int64", func(t *testing.T) { roundTrip[int64](t, dev, s, r, n) })
			type celsius float32 // a named type of the ~float32 kind
			t.Run("celsius", func(t *testing.T) { roundTrip[celsius](t, dev, s, r, n) })
		})
	}
}

func TestZeroLength(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	a, err := NewDeviceBuffer[float32](dev, 0)
	must(t, "NewDeviceBuffer(0)", err)
	closeT(t, "a", a)
	b, err := NewDeviceBufferAsync[float32](s, 0)
	must(t, "NewDeviceBufferAsync(0)", err)
	closeT(t, "b", b)
	h, err := NewHostBuffer[float32](dev, 0)
	must(t, "NewHostBuffer(0)", err)
	closeT(t, "h", h)
	m, err := NewMappedBuffer[float32](dev, 0)
	must(t, "NewMappedBuffer(0)", err)
	closeT(t, "m", m)
	if a.Len() != 0 || a.Bytes() != 0 || h.Len() != 0 || len(h.Slice()) != 0 || m.Len() != 0 {
		t.Fatalf("zero-length sizes")
	}
	must(t, "CopyFromHost(nil)", a.CopyFromHost(nil))
	must(t, "CopyFromHost([])", a.CopyFromHost([]float32{}))
	must(t, "CopyToHost(nil)", a.CopyToHost(nil))
	must(t, "CopyFromHostAt(0, nil)", a.CopyFromHostAt(0, nil))
	must(t, "CopyToHostAt(nil, 0)", a.CopyToHostAt(nil, 0))
	must(t, "CopyFrom", a.CopyFrom(b))
	must(t, "CopyFromAsync", a.CopyFromAsync(s, b))
	must(t, "CopyFromHostAsync", a.CopyFromHostAsync(s, h))
	must(t, "CopyToHostAsync", a.CopyToHostAsync(s, h))
	must(t, "CopyFromHostAsync(mapped)", a.CopyFromHostAsync(s, m.Host()))
	must(t, "Memset", a.Memset(1))
	must(t, "MemsetAsync", a.MemsetAsync(s, 1))
	must(t, "Add", Add(s, a, b, a))
	must(t, "Synchronize", s.Synchronize())
	// Copies of a non-empty length into empty buffers are out of range.
	wantErr(t, "CopyFromHost(1) into empty", a.CopyFromHost(make([]float32, 1)), ErrOutOfRange)
	wantErr(t, "CopyFromHostAt(1, nil) of empty", a.CopyFromHostAt(1, nil), ErrOutOfRange)
}

func TestMappedBuffer(t *testing.T) {
	dev := requireGPU(t)
	p, err := dev.Properties()
	must(t, "Properties", err)
	if !p.CanMapHostMemory {
		t.Skipf("%s cannot map host memory", p.Name)
	}
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	const n = 100_003
	ma, err := NewMappedBuffer[float32](dev, n)
	must(t, "NewMappedBuffer a", err)
	defer ma.Close()
	mb, err := NewMappedBuffer[float32](dev, n)
	must(t, "NewMappedBuffer b", err)
	defer mb.Close()
	mc, err := NewMappedBuffer[float32](dev, n)
	must(t, "NewMappedBuffer c", err)
	defer mc.Close()

	// The host writes through the slices, including NaN poison in the output.
	a, b := randFloats(r, n), randFloats(r, n)
	copy(ma.Slice(), a)
	copy(mb.Slice(), b)
	for i := range mc.Slice() {
		mc.Slice()[i] = float32(math.NaN())
	}

	va, err := ma.Device()
	must(t, "view a", err)
	defer va.Close()
	vb, err := mb.Device()
	must(t, "view b", err)
	defer vb.Close()
	vc, err := mc.Device()
	must(t, "view c", err)
	defer vc.Close()
	if va.Len() != n || va.Bytes() != 4*n || va.Device() != dev {
		t.Fatalf("view Len %d Bytes %d Device %v", va.Len(), va.Bytes(), va.Device())
	}

	// The kernel reads and writes host memory directly; the result shows in the slice.
	must(t, "Add on mapped views", Add(s, va, vb, vc))
	must(t, "Synchronize", s.Synchronize())
	checkSum(t, "mapped Add", a, b, mc.Slice())

	// The views work with copies too: device memory -> view writes into host memory.
	d, err := NewDeviceBuffer[float32](dev, n)
	must(t, "alloc", err)
	defer d.Close()
	must(t, "copy a to device", d.CopyFromHost(a))
	must(t, "copy device to view c", vc.CopyFrom(d))
	for i, v := range mc.Slice() {
		if math.Float32bits(v) != math.Float32bits(a[i]) {
			t.Fatalf("after a device-to-view copy, mapped c[%d] = %v, want %v", i, v, a[i])
		}
	}
	// A mapped buffer is a host buffer for async copies.
	must(t, "async copy from mapped b", d.CopyFromHostAsync(s, mb.Host()))
	must(t, "async copy to mapped a", d.CopyToHostAsync(s, ma.Host()))
	must(t, "Synchronize", s.Synchronize())
	for i, v := range ma.Slice() {
		if math.Float32bits(v) != math.Float32bits(b[i]) {
			t.Fatalf("after async copies, mapped a[%d] = %v, want %v", i, v, b[i])
		}
	}

	// The view keeps the memory alive when the mapped buffer is closed first.
	must(t, "close mapped b", mb.Close())
	if mb.Slice() != nil {
		t.Errorf("Slice() after Close is not nil")
	}
	got := make([]float32, n)
	must(t, "read view b after its buffer closed", vb.CopyToHost(got))
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(b[i]) {
			t.Fatalf("view b[%d] = %v after Close of its buffer, want %v", i, got[i], b[i])
		}
	}
	_, err = mb.Device()
	wantErr(t, "Device() of a closed mapped buffer", err, ErrClosed)
}
