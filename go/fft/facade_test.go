//go:build cgo

package fft_test

// Tests of the facade: every exported function of the package is called at least once in a
// way that needs no GPU (nil handles, invalid descriptors, Extent, the plan cache's settings),
// and the error is checked for its sentinel, its operation and, where the implementation names
// the argument at fault, its message; Extent's results are checked against the layouts'
// arithmetic. Together they tell that each facade forwarded to the right implementation with
// the descriptor and the arguments in their places.

import (
	"errors"
	"strings"
	"testing"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/fft"
)

// wantErr fails unless err matches target and is a *cudago.Error of the operation op whose
// message contains each of msgs.
func wantErr(t *testing.T, what string, err, target error, op string, msgs ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one matching %v", what, err, target)
		return
	}
	var e *cudago.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: %v (%T) is not a *cudago.Error", what, err, err)
		return
	}
	if e.Op != op {
		t.Errorf("%s: operation %q, want %q (%v)", what, e.Op, op, err)
	}
	for _, m := range msgs {
		if !strings.Contains(e.Msg, m) {
			t.Errorf("%s: message %q does not contain %q", what, e.Msg, m)
		}
	}
}

// wantNilStream fails unless err is the error of a nil stream in a transform.
func wantNilStream(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, cudago.ErrInvalidHandle, "fft", "nil *Stream")
	if errors.Is(err, cudago.ErrClosed) {
		t.Errorf("%s: the error of a nil handle matches ErrClosed: %v", what, err)
	}
}

func TestFacadeExec(t *testing.T) {
	var s *cudago.Stream
	var in, out *cudago.DeviceBuffer[float32]
	ok := fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2}
	wantNilStream(t, "Exec", fft.Exec(s, ok, in, out, fft.Forward, fft.NormNone))
	wantNilStream(t, "Exec float64", fft.Exec[float64](s, ok, nil, nil, fft.Inverse, fft.NormOrtho))
	wantNilStream(t, "ExecAt", fft.ExecAt(s, ok, in, 2, out, 4, fft.Forward, fft.NormForward))

	// The descriptor reaches the implementation whole: each field is checked and named.
	for _, c := range []struct {
		what string
		d    fft.Desc
		want string
	}{
		{"no dims", fft.Desc{}, "1 to 3 dimensions, not 0"},
		{"4 dims", fft.Desc{Dims: []int{2, 2, 2, 2}}, "1 to 3 dimensions, not 4"},
		{"negative size", fft.Desc{Dims: []int{4, -6}}, "negative size -6"},
		{"negative batch", fft.Desc{Dims: []int{4}, Batch: -3}, "negative batch -3"},
		{"input embed", fft.Desc{Dims: []int{4}, In: fft.Layout{Embed: []int{1, 2, 3, 4}}},
			"input layout has 4 embed sizes"},
		{"output embed", fft.Desc{Dims: []int{4}, Out: fft.Layout{Embed: []int{-7}}},
			"output layout has a negative embed size -7"},
		{"input stride", fft.Desc{Dims: []int{4}, In: fft.Layout{Stride: -2}},
			"input layout has a negative stride or dist (-2, 0)"},
		{"output dist", fft.Desc{Dims: []int{4}, Out: fft.Layout{Dist: -5}},
			"output layout has a negative stride or dist (0, -5)"},
	} {
		wantErr(t, "Exec "+c.what, fft.Exec(s, c.d, in, out, fft.Forward, fft.NormNone),
			cudago.ErrInvalidArgument, "fft", c.want)
		wantErr(t, "ExecAt "+c.what, fft.ExecAt(s, c.d, in, 0, out, 0, fft.Forward, fft.NormNone),
			cudago.ErrInvalidArgument, "fft", c.want)
		_, _, err := fft.Extent[float64](c.d, false)
		wantErr(t, "Extent "+c.what, err, cudago.ErrInvalidArgument, "fft extent", c.want)
	}
	wantErr(t, "ExecAt negative inOff", fft.ExecAt(s, ok, in, -3, out, 0, fft.Forward, fft.NormNone),
		cudago.ErrOutOfRange, "fft", "negative offset -3")
	wantErr(t, "ExecAt negative outOff", fft.ExecAt(s, ok, in, 0, out, -4, fft.Forward, fft.NormNone),
		cudago.ErrOutOfRange, "fft", "negative offset -4")
}

func TestFacadeShorthands(t *testing.T) {
	var s *cudago.Stream
	var in, out *cudago.DeviceBuffer[float64]
	wantNilStream(t, "C2C1D", fft.C2C1D(s, in, out, 8, 1, fft.Forward))
	wantNilStream(t, "C2C2D", fft.C2C2D(s, in, out, 4, 8, 1, fft.Inverse))
	wantNilStream(t, "C2C3D", fft.C2C3D(s, in, out, 2, 4, 8, 1, fft.Forward))
	wantNilStream(t, "R2C1D", fft.R2C1D(s, in, out, 8, 1))
	wantNilStream(t, "C2R1D", fft.C2R1D(s, in, out, 8, 1))

	// Each size and the batch arrive where the implementation checks them.
	for _, c := range []struct {
		what string
		err  error
		want string
	}{
		{"C2C1D n", fft.C2C1D(s, in, out, -3, 1, fft.Forward), "negative size -3"},
		{"C2C1D batch", fft.C2C1D(s, in, out, 8, -2, fft.Forward), "negative batch -2"},
		{"C2C2D rows", fft.C2C2D(s, in, out, -3, 8, 1, fft.Forward), "negative size -3"},
		{"C2C2D cols", fft.C2C2D(s, in, out, 4, -5, 1, fft.Forward), "negative size -5"},
		{"C2C2D batch", fft.C2C2D(s, in, out, 4, 8, -2, fft.Forward), "negative batch -2"},
		{"C2C3D d0", fft.C2C3D(s, in, out, -3, 4, 8, 1, fft.Forward), "negative size -3"},
		{"C2C3D d1", fft.C2C3D(s, in, out, 2, -5, 8, 1, fft.Forward), "negative size -5"},
		{"C2C3D d2", fft.C2C3D(s, in, out, 2, 4, -7, 1, fft.Forward), "negative size -7"},
		{"C2C3D batch", fft.C2C3D(s, in, out, 2, 4, 8, -2, fft.Forward), "negative batch -2"},
		{"R2C1D n", fft.R2C1D(s, in, out, -3, 1), "negative size -3"},
		{"R2C1D batch", fft.R2C1D(s, in, out, 8, -2), "negative batch -2"},
		{"C2R1D n", fft.C2R1D(s, in, out, -3, 1), "negative size -3"},
		{"C2R1D batch", fft.C2R1D(s, in, out, 8, -2), "negative batch -2"},
	} {
		wantErr(t, c.what, c.err, cudago.ErrInvalidArgument, "fft", c.want)
	}
}

// Extent needs no GPU: its results follow from the layouts (counted in T values, two per
// complex element).
func TestFacadeExtent(t *testing.T) {
	for _, c := range []struct {
		what            string
		d               fft.Desc
		inPlace         bool
		wantIn, wantOut int
	}{
		// 2 transforms of 8 complex points: 2*8*2 values each side.
		{"C2C", fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2}, false, 32, 32},
		{"C2C 2D", fft.Desc{Type: fft.C2C, Dims: []int{4, 6}, Batch: 3}, false, 144, 144},
		// 8 reals each in, 8/2+1 = 5 complex values each out.
		{"R2C", fft.Desc{Type: fft.R2C, Dims: []int{8}, Batch: 2}, false, 16, 20},
		// In place, the real rows are padded to 2*5 values: the last ends after 8.
		{"R2C in place", fft.Desc{Type: fft.R2C, Dims: []int{8}, Batch: 2}, true, 18, 20},
		{"C2R", fft.Desc{Type: fft.C2R, Dims: []int{8}, Batch: 2}, false, 20, 16},
		{"C2R in place", fft.Desc{Type: fft.C2R, Dims: []int{8}, Batch: 2}, true, 20, 18},
		// Input stride 2: distance 2*8 = 16 complex; the last transform ends at
		// 16 + 2*7 + 1 = 31 complex elements. The output stays packed.
		{"input stride", fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2, In: fft.Layout{Stride: 2}},
			false, 62, 32},
		// Output stride 3: distance 24, the last ends at 24 + 3*7 + 1 = 46 complex elements.
		{"output stride", fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2, Out: fft.Layout{Stride: 3}},
			false, 32, 92},
		// Input embedded in rows of 10: distance 10, the last ends at 10 + 8 = 18 elements.
		{"input embed", fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2, In: fft.Layout{Embed: []int{10}}},
			false, 36, 32},
		// Output distance 20: the last transform starts at 20 and ends at 28 elements.
		{"output dist", fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2, Out: fft.Layout{Dist: 20}},
			false, 32, 56},
	} {
		in, out, err := fft.Extent[float32](c.d, c.inPlace)
		if err != nil || in != c.wantIn || out != c.wantOut {
			t.Errorf("Extent[float32](%s) = %d, %d, %v; want %d, %d", c.what, in, out, err,
				c.wantIn, c.wantOut)
		}
		in, out, err = fft.Extent[float64](c.d, c.inPlace)
		if err != nil || in != c.wantIn || out != c.wantOut {
			t.Errorf("Extent[float64](%s) = %d, %d, %v; want %d, %d", c.what, in, out, err,
				c.wantIn, c.wantOut)
		}
	}
	// Checks made in C name the dimension and the type.
	_, _, err := fft.Extent[float32](fft.Desc{Dims: []int{4, 0, 8}}, false)
	wantErr(t, "Extent zero size", err, cudago.ErrInvalidArgument, "fft extent", "dims[1] = 0")
	_, _, err = fft.Extent[float32](fft.Desc{Type: 7, Dims: []int{8}}, false)
	wantErr(t, "Extent type 7", err, cudago.ErrInvalidArgument, "fft extent", "type 7")

	// The constants have the values of cudago.h.
	if fft.C2C != 0 || fft.R2C != 1 || fft.C2R != 2 || fft.Forward != 0 || fft.Inverse != 1 ||
		fft.NormNone != 0 || fft.NormInverse != 1 || fft.NormOrtho != 2 || fft.NormForward != 3 {
		t.Errorf("constants: types %d %d %d, directions %d %d, norms %d %d %d %d", fft.C2C, fft.R2C,
			fft.C2R, fft.Forward, fft.Inverse, fft.NormNone, fft.NormInverse, fft.NormOrtho,
			fft.NormForward)
	}
}

func TestFacadePlanCache(t *testing.T) {
	def, err := fft.ReadCacheStats()
	if err != nil {
		t.Fatalf("ReadCacheStats: %v", err)
	}
	t.Cleanup(func() {
		if err := fft.SetCacheLimits(def.MaxEntries, def.MaxBytes); err != nil {
			t.Errorf("restoring the cache limits: %v", err)
		}
	})
	// The limits arrive in order and are read back.
	if err := fft.SetCacheLimits(10, 3<<20); err != nil {
		t.Fatalf("SetCacheLimits(10, 3 MiB): %v", err)
	}
	st, err := fft.ReadCacheStats()
	if err != nil || st.MaxEntries != 10 || st.MaxBytes != 3<<20 {
		t.Errorf("after SetCacheLimits(10, 3 MiB): %+v, %v", st, err)
	}
	if err := fft.ClearCache(); err != nil {
		t.Errorf("ClearCache: %v", err)
	}
	st, err = fft.ReadCacheStats()
	if err != nil || st.Entries != 0 || st.Bytes != 0 || st.InUse != 0 {
		t.Errorf("after ClearCache: %+v, %v", st, err)
	}
	if err := fft.SetCacheLimits(64, 4<<30); err != nil {
		t.Errorf("SetCacheLimits(64, 4 GiB): %v", err)
	}
	st, err = fft.ReadCacheStats()
	if err != nil || st.MaxEntries != 64 || st.MaxBytes != 4<<30 {
		t.Errorf("after SetCacheLimits(64, 4 GiB): %+v, %v", st, err)
	}
}
