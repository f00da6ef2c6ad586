//go:build cgo

package cudago_test

import (
	"errors"
	"testing"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/testutil"
)

// View refuses a nil buffer without a GPU.
func TestViewNil(t *testing.T) {
	_, err := cudago.View[complex64, float32](nil)
	testutil.WantNil(t, "View(nil)", err, "buffer view", "nil *DeviceBuffer")
}

// View shows the same memory as another element type: what is written through one is read
// through the other; a size that is not a whole number of the new elements is refused; closing
// the view closes the buffer.
func TestViewSharesMemory(t *testing.T) {
	dev := testutil.RequireGPU(t)
	b, err := cudago.NewDeviceBuffer[float32](dev, 6)
	testutil.Must(t, "NewDeviceBuffer", err)
	defer b.Close()
	testutil.Must(t, "CopyFromHost", b.CopyFromHost([]float32{1, 2, 3, 4, 5, 6}))
	v, err := cudago.View[complex64](b)
	testutil.Must(t, "View", err)
	if v.Len() != 3 || v.Bytes() != b.Bytes() {
		t.Fatalf("view of 6 float32 as complex64: %d elements, %d bytes; want 3 and %d",
			v.Len(), v.Bytes(), b.Bytes())
	}
	got := make([]complex64, 3)
	testutil.Must(t, "view CopyToHost", v.CopyToHost(got))
	if want := []complex64{1 + 2i, 3 + 4i, 5 + 6i}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("view reads %v, want %v", got, want)
	}
	testutil.Must(t, "view CopyFromHost", v.CopyFromHost([]complex64{-1 - 2i, 7, 8i}))
	back := make([]float32, 6)
	testutil.Must(t, "CopyToHost", b.CopyToHost(back))
	for i, w := range []float32{-1, -2, 7, 0, 0, 8} {
		if back[i] != w {
			t.Fatalf("buffer after a write through the view: %v", back)
		}
	}
	odd, err := cudago.NewDeviceBuffer[float32](dev, 3)
	testutil.Must(t, "NewDeviceBuffer", err)
	defer odd.Close()
	_, err = cudago.View[complex64](odd)
	testutil.WantErr(t, "View of 12 bytes as complex64", err, cudago.ErrInvalidArgument,
		"buffer view", "12 bytes are not a whole number of 8-byte elements")
	testutil.Must(t, "close the view", v.Close())
	if err := b.CopyFromHost(back); !errors.Is(err, cudago.ErrClosed) {
		t.Fatalf("the buffer after its view was closed: %v, want ErrClosed", err)
	}
}
