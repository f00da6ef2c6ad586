//go:build cgo

package capi

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// cpuTranspose is the reference: out[b][c][r] = in[b][r][c] for batch matrices rows x cols.
func cpuTranspose[T any](in []T, batch, rows, cols int) []T {
	out := make([]T, len(in))
	for b := 0; b < batch; b++ {
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				out[(b*cols+c)*rows+r] = in[(b*rows+r)*cols+c]
			}
		}
	}
	return out
}

// bitsType is the element types the layout tests use: unsigned integers of each size (and
// Float16, BFloat16), so values compare as bits and a NaN pattern is just a pattern.
type bitsType interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

// layoutRandBits fills n elements of T with random bits (any value, NaN patterns included: a layout
// change must move them untouched).
func layoutRandBits[T bitsType](r *rand.Rand, n int) []T {
	v := make([]T, n)
	for i := range v {
		v[i] = T(r.Uint64())
	}
	return v
}

// layoutCase runs one layout op on fresh random data and compares with the CPU bit for bit.
// The output buffer has 16 elements more than the tensor and is poisoned (0xFF) first: an
// element the kernel skips, or one it writes past the tensor, fails.
func layoutCase[T bitsType](t *testing.T, s *Stream, r *rand.Rand, kind string, dims ...int) {
	t.Helper()
	dev := s.Device()
	var batch, rows, cols int
	switch kind {
	case "2d":
		batch, rows, cols = 1, dims[0], dims[1]
	case "nhwc_to_nchw":
		batch, rows, cols = dims[0], dims[1]*dims[2], dims[3]
	case "nchw_to_nhwc":
		batch, rows, cols = dims[0], dims[3], dims[1]*dims[2]
	}
	n := batch * rows * cols
	const slack = 16
	in := layoutRandBits[T](r, n)
	din, err := NewDeviceBuffer[T](dev, n)
	must(t, "alloc in", err)
	defer din.Close()
	dout, err := NewDeviceBuffer[T](dev, n+slack)
	must(t, "alloc out", err)
	defer dout.Close()
	must(t, "copy in", din.CopyFromHost(in))
	must(t, "poison out", dout.MemsetAsync(s, 0xFF))
	switch kind {
	case "2d":
		err = Transpose2D(s, din, dout, dims[0], dims[1])
	case "nhwc_to_nchw":
		err = NHWCToNCHW(s, din, dout, dims[0], dims[1], dims[2], dims[3])
	case "nchw_to_nhwc":
		err = NCHWToNHWC(s, din, dout, dims[0], dims[1], dims[2], dims[3])
	}
	what := fmt.Sprintf("%s %v (%d-byte elements)", kind, dims, sizeOf[T]())
	must(t, what, err)
	got := make([]T, n+slack)
	must(t, "copy out", dout.CopyToHost(got))
	want := cpuTranspose(in, batch, rows, cols)
	bad := 0
	for i := range want {
		if got[i] != want[i] {
			if bad < 5 {
				t.Errorf("%s: element %d = %#x, want %#x", what, i, got[i], want[i])
			}
			bad++
		}
	}
	var poison T
	poison = ^poison // all bits set
	for i := n; i < n+slack; i++ {
		if got[i] != poison {
			t.Errorf("%s: element %d past the tensor was written (%#x)", what, i, got[i])
			break
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d elements wrong", what, bad, n)
	}
}

// NHWC shapes: C = 1, 3, 64, 1000 and values around the kernels' 32-element thresholds; odd H
// and W; N = 1; and the peer shapes' inner sizes.
var layoutShapes = [][4]int{
	{1, 1, 1, 1}, {1, 1, 1, 3}, {2, 7, 5, 3}, {1, 13, 17, 1}, {3, 5, 7, 64}, {2, 3, 5, 1000},
	{1, 1, 1, 1000}, {5, 31, 29, 3}, {2, 9, 11, 31}, {2, 9, 11, 32}, {3, 9, 11, 33},
	{1, 3, 3, 2}, {4, 1, 1, 7}, {2, 45, 47, 16}, {1, 224, 224, 3}, {2, 56, 56, 64},
	{1, 14, 14, 1024}, {7, 2, 3, 257},
}

func TestLayoutNHWCNCHW(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	for _, sh := range layoutShapes {
		for _, kind := range []string{"nhwc_to_nchw", "nchw_to_nhwc"} {
			layoutCase[uint32](t, s, r, kind, sh[:]...)  // float32's size
			layoutCase[Float16](t, s, r, kind, sh[:]...) // through the F16 element type
		}
	}
	layoutCase[BFloat16](t, s, r, "nhwc_to_nchw", 2, 5, 7, 3)
	layoutCase[uint16](t, s, r, "nchw_to_nhwc", 2, 5, 7, 3) // no dtype: moved as 2-byte F16
	layoutCase[uint64](t, s, r, "nchw_to_nhwc", 2, 9, 11, 40)
	layoutCase[uint8](t, s, r, "nhwc_to_nchw", 3, 17, 19, 67)
}

func TestTranspose2D(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	for _, sh := range [][2]int{{1, 1}, {1, 1000}, {1000, 1}, {31, 33}, {32, 32}, {33, 31},
		{97, 1031}, {4099, 3}, {3, 4099}, {1024, 1024}, {257, 255}, {2, 100003}} {
		layoutCase[uint32](t, s, r, "2d", sh[:]...)
		layoutCase[Float16](t, s, r, "2d", sh[:]...)
	}
	layoutCase[uint64](t, s, r, "2d", 67, 131)
}

// float32 values round-trip: NHWC -> NCHW -> NHWC gives the input back, and a float32 buffer
// is accepted as such (F32 element type).
func TestLayoutRoundTripFloat32(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	const n, h, w, c = 3, 17, 13, 5
	x := randFloats(r, n*h*w*c)
	a, err := NewDeviceBuffer[float32](dev, len(x))
	must(t, "alloc", err)
	closeT(t, "a", a)
	b, err := NewDeviceBuffer[float32](dev, len(x))
	must(t, "alloc", err)
	closeT(t, "b", b)
	must(t, "copy", a.CopyFromHost(x))
	must(t, "NHWCToNCHW", NHWCToNCHW(s, a, b, n, h, w, c))
	must(t, "poison a", a.MemsetAsync(s, 0xFF))
	must(t, "NCHWToNHWC", NCHWToNHWC(s, b, a, n, h, w, c))
	got := make([]float32, len(x))
	must(t, "copy back", a.CopyToHost(got))
	for i := range x {
		if got[i] != x[i] {
			t.Fatalf("round trip: element %d = %v, want %v", i, got[i], x[i])
		}
	}
}

func TestLayoutBadArguments(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	a, err := NewDeviceBuffer[float32](dev, 60)
	must(t, "alloc", err)
	closeT(t, "a", a)
	b, err := NewDeviceBuffer[float32](dev, 60)
	must(t, "alloc", err)
	closeT(t, "b", b)
	small, err := NewDeviceBuffer[float32](dev, 59)
	must(t, "alloc", err)
	closeT(t, "small", small)

	wantErr(t, "negative rows", Transpose2D(s, a, b, -6, 10), ErrInvalidArgument)
	wantErr(t, "negative c", NHWCToNCHW(s, a, b, 1, 3, 4, -5), ErrInvalidArgument)
	wantErr(t, "small out", Transpose2D(s, a, small, 6, 10), ErrOutOfRange)
	wantErr(t, "small in", NCHWToNHWC(s, small, b, 1, 3, 4, 5), ErrOutOfRange)
	wantErr(t, "too many elements", NHWCToNCHW(s, a, b, 1, 3, 4, 6), ErrOutOfRange)
	wantErr(t, "overflow", Transpose2D(s, a, b, 1<<40, 1<<40), ErrOutOfRange)
	wantErr(t, "in place", Transpose2D(s, a, a, 6, 10), ErrInvalidArgument)
	wantErr(t, "in place", NCHWToNHWC(s, a, a, 1, 3, 4, 5), ErrInvalidArgument)
	wantErr(t, "nil in", Transpose2D(s, nil, b, 6, 10), ErrInvalidHandle)
	wantErr(t, "nil stream", NHWCToNCHW(nil, a, b, 1, 3, 4, 5), ErrInvalidHandle)
	closed, err := NewDeviceBuffer[float32](dev, 60)
	must(t, "alloc", err)
	must(t, "close", closed.Close())
	wantErr(t, "closed out", Transpose2D(s, a, closed, 6, 10), ErrClosed)

	// Empty tensors are no-ops and touch nothing.
	must(t, "memset", b.Memset(0xAB))
	must(t, "empty 2d", Transpose2D(s, a, b, 0, 10))
	must(t, "empty nhwc", NHWCToNCHW(s, a, b, 4, 0, 3, 3))
	must(t, "empty nchw", NCHWToNHWC(s, a, b, 4, 3, 3, 0))
	got := make([]float32, 60)
	must(t, "copy", b.CopyToHost(got))
	for i, v := range got {
		if math.Float32bits(v) != 0xABABABAB {
			t.Fatalf("empty tensors wrote element %d", i)
		}
	}
	// A good call still works after the refusals.
	must(t, "good", Transpose2D(s, a, b, 6, 10))
	must(t, "sync", s.Synchronize())
}
