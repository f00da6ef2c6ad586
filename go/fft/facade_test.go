//go:build cgo

package fft_test

// Tests of the facade: every exported function of the package is called at least once in a
// way that needs no GPU (nil handles, invalid descriptors, Extent, the plan cache's settings),
// and the error is checked for its sentinel, its operation and, where the implementation names
// the argument at fault, its message; Extent's results are checked against the layouts'
// arithmetic, in elements of each side. The element types' rules (which (I, O) pairs fit each
// transform type, one precision on both sides) are checked for every pair. Together they tell
// that each facade forwarded to the right implementation with the descriptor and the arguments
// in their places.

import (
	"errors"
	"fmt"
	"github.com/cudago/cudago/go/internal/testutil"
	"testing"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/fft"
)

// wantNilStream fails unless err is the error of a nil stream in a transform.
func wantNilStream(t *testing.T, what string, err error) {
	t.Helper()
	testutil.WantErr(t, what, err, cudago.ErrInvalidHandle, "fft", "nil *Stream")
	if errors.Is(err, cudago.ErrClosed) {
		t.Errorf("%s: the error of a nil handle matches ErrClosed: %v", what, err)
	}
}

func TestFacadeExec(t *testing.T) {
	var s *cudago.Stream
	var in, out *cudago.DeviceBuffer[complex64]
	ok := fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2}
	wantNilStream(t, "Exec", fft.Exec(s, in, out, ok, fft.Forward, fft.NormNone))
	wantNilStream(t, "Exec complex128",
		fft.Exec[complex128, complex128](s, nil, nil, ok, fft.Inverse, fft.NormOrtho))
	wantNilStream(t, "ExecAt", fft.ExecAt(s, in, 2, out, 4, ok, fft.Forward, fft.NormForward))

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
		{"unknown type", fft.Desc{Type: 7, Dims: []int{4}}, "unknown transform type 7"},
	} {
		testutil.WantErr(t, "Exec "+c.what, fft.Exec(s, in, out, c.d, fft.Forward, fft.NormNone),
			cudago.ErrInvalidArgument, "fft", c.want)
		testutil.WantErr(t, "ExecAt "+c.what, fft.ExecAt(s, in, 0, out, 0, c.d, fft.Forward, fft.NormNone),
			cudago.ErrInvalidArgument, "fft", c.want)
		_, _, err := fft.Extent[complex128, complex128](c.d, false)
		testutil.WantErr(t, "Extent "+c.what, err, cudago.ErrInvalidArgument, "fft extent", c.want)
	}
	// Offsets count elements of each side: the caller's numbers are the ones reported.
	testutil.WantErr(t, "ExecAt negative inOff", fft.ExecAt(s, in, -3, out, 0, ok, fft.Forward, fft.NormNone),
		cudago.ErrOutOfRange, "fft", "negative offset -3")
	testutil.WantErr(t, "ExecAt negative outOff", fft.ExecAt(s, in, 0, out, -4, ok, fft.Forward, fft.NormNone),
		cudago.ErrOutOfRange, "fft", "negative offset -4")
	var rin *cudago.DeviceBuffer[float64]
	var cout *cudago.DeviceBuffer[complex128]
	r2c := fft.Desc{Type: fft.R2C, Dims: []int{8}, Batch: 2}
	wantNilStream(t, "ExecAt R2C", fft.ExecAt(s, rin, 5, cout, 3, r2c, fft.Forward, fft.NormNone))
	testutil.WantErr(t, "ExecAt R2C negative outOff",
		fft.ExecAt(s, rin, 0, cout, -5, r2c, fft.Forward, fft.NormNone),
		cudago.ErrOutOfRange, "fft", "negative offset -5")
}

// elem describes an element type as the transform sees it: the size of its reals in bits, and
// whether it is complex. Written out by type, independently of the implementation.
type elem struct {
	name    string
	bits    int
	complex bool
}

func describe[T fft.Element]() elem {
	switch any(*new(T)).(type) {
	case float32:
		return elem{"float32", 32, false}
	case float64:
		return elem{"float64", 64, false}
	case complex64:
		return elem{"complex64", 32, true}
	case complex128:
		return elem{"complex128", 64, true}
	}
	panic("unknown element type")
}

// pair is one (I, O) instantiation of the typed calls, on nil stream and buffers.
type pair struct {
	in, out elem
	exec    func(d fft.Desc, dir fft.Direction) error
	execAt  func(d fft.Desc, dir fft.Direction) error
	extent  func(d fft.Desc, inPlace bool) (int, int, error)
}

func pairOf[I, O fft.Element]() pair {
	return pair{
		in: describe[I](), out: describe[O](),
		exec: func(d fft.Desc, dir fft.Direction) error {
			return fft.Exec[I, O](nil, nil, nil, d, dir, fft.NormNone)
		},
		execAt: func(d fft.Desc, dir fft.Direction) error {
			return fft.ExecAt[I, O](nil, nil, 1, nil, 2, d, dir, fft.NormOrtho)
		},
		extent: func(d fft.Desc, inPlace bool) (int, int, error) { return fft.Extent[I, O](d, inPlace) },
	}
}

// allPairs is every (I, O) pair of the four element types.
func allPairs() []pair {
	return []pair{
		pairOf[float32, float32](), pairOf[float32, float64](),
		pairOf[float32, complex64](), pairOf[float32, complex128](),
		pairOf[float64, float32](), pairOf[float64, float64](),
		pairOf[float64, complex64](), pairOf[float64, complex128](),
		pairOf[complex64, float32](), pairOf[complex64, float64](),
		pairOf[complex64, complex64](), pairOf[complex64, complex128](),
		pairOf[complex128, float32](), pairOf[complex128, float64](),
		pairOf[complex128, complex64](), pairOf[complex128, complex128](),
	}
}

// The element types must fit the transform type: complex both sides for C2C, real in and
// complex out for R2C, the reverse for C2R, one precision on both sides. Every other pair is
// refused before anything else, with a message naming the problem; the fitting pairs get as far
// as the nil stream, and Extent gives their lengths in elements of each side.
func TestFacadeTypeRules(t *testing.T) {
	kind := func(c bool) string {
		if c {
			return "complex"
		}
		return "real"
	}
	for _, tc := range []struct {
		name          string
		typ           fft.Type
		inC, outC     bool
		dir           fft.Direction
		inLen, outLen int // of 2 transforms of 8 points, out of place
	}{
		{"C2C", fft.C2C, true, true, fft.Forward, 16, 16},
		{"R2C", fft.R2C, false, true, fft.Forward, 16, 10},
		{"C2R", fft.C2R, true, false, fft.Inverse, 10, 16},
	} {
		d := fft.Desc{Type: tc.typ, Dims: []int{8}, Batch: 2}
		valid := 0
		for _, p := range allPairs() {
			what := fmt.Sprintf("%s [%s, %s]", tc.name, p.in.name, p.out.name)
			var want string
			switch {
			case p.in.bits != p.out.bits:
				want = fmt.Sprintf("input and output precisions differ (%d-bit and %d-bit reals)",
					p.in.bits, p.out.bits)
			case p.in.complex != tc.inC || p.out.complex != tc.outC:
				want = fmt.Sprintf("transform type %s needs %s input and %s output, not %s and %s",
					tc.name, kind(tc.inC), kind(tc.outC), kind(p.in.complex), kind(p.out.complex))
			}
			if want == "" {
				valid++
				wantNilStream(t, "Exec "+what, p.exec(d, tc.dir))
				wantNilStream(t, "ExecAt "+what, p.execAt(d, tc.dir))
				in, out, err := p.extent(d, false)
				if err != nil || in != tc.inLen || out != tc.outLen {
					t.Errorf("Extent %s = %d, %d, %v; want %d, %d", what, in, out, err,
						tc.inLen, tc.outLen)
				}
				continue
			}
			// Refused whatever the direction, and before the nil stream is looked at.
			for _, dir := range []fft.Direction{fft.Forward, fft.Inverse} {
				testutil.WantErr(t, "Exec "+what, p.exec(d, dir), cudago.ErrInvalidArgument, "fft", want)
				testutil.WantErr(t, "ExecAt "+what, p.execAt(d, dir), cudago.ErrInvalidArgument, "fft", want)
			}
			for _, inPlace := range []bool{false, true} {
				in, out, err := p.extent(d, inPlace)
				testutil.WantErr(t, fmt.Sprintf("Extent %s (in place %v)", what, inPlace), err,
					cudago.ErrInvalidArgument, "fft extent", want)
				if in != 0 || out != 0 {
					t.Errorf("Extent %s: lengths %d, %d with an error", what, in, out)
				}
			}
		}
		if valid != 2 {
			t.Errorf("%s: %d pairs fit, want 2 (one per precision)", tc.name, valid)
		}
	}

	// Types defined on the element types are sorted by their underlying type.
	type sample float64
	type bin complex128
	in, out, err := fft.Extent[sample, bin](fft.Desc{Type: fft.R2C, Dims: []int{8}, Batch: 2}, false)
	if err != nil || in != 16 || out != 10 {
		t.Errorf("Extent[sample, bin] R2C = %d, %d, %v; want 16, 10", in, out, err)
	}
	_, _, err = fft.Extent[bin, sample](fft.Desc{Type: fft.R2C, Dims: []int{8}}, false)
	testutil.WantErr(t, "Extent[bin, sample] R2C", err, cudago.ErrInvalidArgument, "fft extent",
		"transform type R2C needs real input and complex output, not complex and real")
}

func TestFacadeShorthands(t *testing.T) {
	var s *cudago.Stream
	var in, out *cudago.DeviceBuffer[complex128]
	var re *cudago.DeviceBuffer[float64]
	wantNilStream(t, "C2C1D", fft.C2C1D(s, in, out, 8, 1, fft.Forward))
	wantNilStream(t, "C2C2D", fft.C2C2D(s, in, out, 4, 8, 1, fft.Inverse))
	wantNilStream(t, "C2C3D", fft.C2C3D(s, in, out, 2, 4, 8, 1, fft.Forward))
	wantNilStream(t, "R2C1D", fft.R2C1D(s, re, out, 8, 1))
	wantNilStream(t, "C2R1D", fft.C2R1D(s, in, re, 8, 1))
	wantNilStream(t, "C2C1D complex64", fft.C2C1D[complex64](s, nil, nil, 8, 1, fft.Inverse))
	wantNilStream(t, "R2C1D float32", fft.R2C1D[float32, complex64](s, nil, nil, 8, 1))
	wantNilStream(t, "C2R1D float32", fft.C2R1D[complex64, float32](s, nil, nil, 8, 1))

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
		{"R2C1D n", fft.R2C1D(s, re, out, -3, 1), "negative size -3"},
		{"R2C1D batch", fft.R2C1D(s, re, out, 8, -2), "negative batch -2"},
		{"C2R1D n", fft.C2R1D(s, in, re, -3, 1), "negative size -3"},
		{"C2R1D batch", fft.C2R1D(s, in, re, 8, -2), "negative batch -2"},
		// The real and complex sides of R2C1D and C2R1D are separate type parameters: mixed
		// precisions compile and are refused.
		{"R2C1D float32 to complex128", fft.R2C1D[float32, complex128](s, nil, nil, 8, 1),
			"input and output precisions differ (32-bit and 64-bit reals)"},
		{"R2C1D float64 to complex64", fft.R2C1D[float64, complex64](s, nil, nil, 8, 1),
			"input and output precisions differ (64-bit and 32-bit reals)"},
		{"C2R1D complex64 to float64", fft.C2R1D[complex64, float64](s, nil, nil, 8, 1),
			"input and output precisions differ (32-bit and 64-bit reals)"},
		{"C2R1D complex128 to float32", fft.C2R1D[complex128, float32](s, nil, nil, 8, 1),
			"input and output precisions differ (64-bit and 32-bit reals)"},
	} {
		testutil.WantErr(t, c.what, c.err, cudago.ErrInvalidArgument, "fft", c.want)
	}
}

// extentPair calls Extent with the element types that fit d.Type in one precision.
func extentPair(d fft.Desc, inPlace, double bool) (int, int, error) {
	switch {
	case d.Type == fft.R2C && double:
		return fft.Extent[float64, complex128](d, inPlace)
	case d.Type == fft.R2C:
		return fft.Extent[float32, complex64](d, inPlace)
	case d.Type == fft.C2R && double:
		return fft.Extent[complex128, float64](d, inPlace)
	case d.Type == fft.C2R:
		return fft.Extent[complex64, float32](d, inPlace)
	case double:
		return fft.Extent[complex128, complex128](d, inPlace)
	}
	return fft.Extent[complex64, complex64](d, inPlace)
}

// Extent needs no GPU: its results follow from the layouts, counted in elements of each side
// (complex values on a complex side, reals on a real one), the same in both precisions.
func TestFacadeExtent(t *testing.T) {
	for _, c := range []struct {
		what            string
		d               fft.Desc
		inPlace         bool
		wantIn, wantOut int
	}{
		// 2 transforms of 8 complex points: 2*8 complex values each side.
		{"C2C", fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2}, false, 16, 16},
		{"C2C in place", fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2}, true, 16, 16},
		{"C2C 2D", fft.Desc{Type: fft.C2C, Dims: []int{4, 6}, Batch: 3}, false, 72, 72},
		// 8 reals each in, 8/2+1 = 5 complex values each out.
		{"R2C", fft.Desc{Type: fft.R2C, Dims: []int{8}, Batch: 2}, false, 16, 10},
		// In place, the real rows are padded to 2*5 reals: the last ends after 8.
		{"R2C in place", fft.Desc{Type: fft.R2C, Dims: []int{8}, Batch: 2}, true, 18, 10},
		{"C2R", fft.Desc{Type: fft.C2R, Dims: []int{8}, Batch: 2}, false, 10, 16},
		{"C2R in place", fft.Desc{Type: fft.C2R, Dims: []int{8}, Batch: 2}, true, 10, 18},
		// Odd n: 7 reals, 4 complex values; in place the rows are padded to 8 reals.
		{"R2C odd", fft.Desc{Type: fft.R2C, Dims: []int{7}, Batch: 3}, false, 21, 12},
		{"R2C odd in place", fft.Desc{Type: fft.R2C, Dims: []int{7}, Batch: 3}, true, 23, 12},
		// Input stride 2: distance 2*8 = 16 complex; the last transform ends at
		// 16 + 2*7 + 1 = 31 complex elements. The output stays packed.
		{"input stride", fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2, In: fft.Layout{Stride: 2}},
			false, 31, 16},
		// Output stride 3: distance 24, the last ends at 24 + 3*7 + 1 = 46 complex elements.
		{"output stride", fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2, Out: fft.Layout{Stride: 3}},
			false, 16, 46},
		// Input embedded in rows of 10: distance 10, the last ends at 10 + 8 = 18 elements.
		{"input embed", fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2, In: fft.Layout{Embed: []int{10}}},
			false, 18, 16},
		// Output distance 20: the last transform starts at 20 and ends at 28 elements.
		{"output dist", fft.Desc{Type: fft.C2C, Dims: []int{8}, Batch: 2, Out: fft.Layout{Dist: 20}},
			false, 16, 28},
		// R2C output stride 2 (complex elements): distance 2*5 = 10, the last ends at
		// 10 + 2*4 + 1 = 19 complex values; the real input stays packed.
		{"R2C output stride", fft.Desc{Type: fft.R2C, Dims: []int{8}, Batch: 2, Out: fft.Layout{Stride: 2}},
			false, 16, 19},
		// C2R input stride 3 (complex): distance 15, the last ends at 15 + 3*4 + 1 = 28.
		{"C2R input stride", fft.Desc{Type: fft.C2R, Dims: []int{8}, Batch: 2, In: fft.Layout{Stride: 3}},
			false, 28, 16},
	} {
		for _, double := range []bool{false, true} {
			in, out, err := extentPair(c.d, c.inPlace, double)
			if err != nil || in != c.wantIn || out != c.wantOut {
				t.Errorf("Extent(%s, double %v) = %d, %d, %v; want %d, %d", c.what, double, in, out,
					err, c.wantIn, c.wantOut)
			}
		}
	}
	// Checks made in C name the dimension.
	_, _, err := fft.Extent[complex64, complex64](fft.Desc{Dims: []int{4, 0, 8}}, false)
	testutil.WantErr(t, "Extent zero size", err, cudago.ErrInvalidArgument, "fft extent", "dims[1] = 0")
	_, _, err = fft.Extent[complex64, complex64](fft.Desc{Type: 7, Dims: []int{8}}, false)
	testutil.WantErr(t, "Extent type 7", err, cudago.ErrInvalidArgument, "fft extent", "type 7")

	// The constants have the values of cudago.h.
	if fft.C2C != 0 || fft.R2C != 1 || fft.C2R != 2 || fft.Forward != 0 || fft.Inverse != 1 ||
		fft.NormNone != 0 || fft.NormInverse != 1 || fft.NormOrtho != 2 || fft.NormForward != 3 {
		t.Errorf("constants: types %d %d %d, directions %d %d, norms %d %d %d %d", fft.C2C, fft.R2C,
			fft.C2R, fft.Forward, fft.Inverse, fft.NormNone, fft.NormInverse, fft.NormOrtho,
			fft.NormForward)
	}
}

// Extent of packed transforms in 1 to 3 dimensions, against the arithmetic of the packed and
// padded layouts written out here: with dims d (last n, the product of the others P) and
// h = n/2+1, a batch of b transforms spans b*P*n complex values for C2C; b*P*n reals and b*P*h
// complex values for R2C (out of place); in place the real rows are padded to 2h reals, so the
// real side ends at (b-1)*P*2h + (P-1)*2h + n. C2R is R2C the other way round.
func TestFacadeExtentPacked(t *testing.T) {
	for _, dims := range [][]int{{1}, {2}, {7}, {8}, {60}, {1000}, {1001}, {4, 6}, {5, 12},
		{3, 5, 7}, {2, 3, 1}} {
		n := dims[len(dims)-1]
		p := 1
		for _, d := range dims[:len(dims)-1] {
			p *= d
		}
		h := n/2 + 1
		for _, b := range []int{1, 3, 16} {
			packedReal, half := b*p*n, b*p*h
			paddedReal := (b-1)*p*2*h + (p-1)*2*h + n
			for _, c := range []struct {
				typ             fft.Type
				inPlace         bool
				wantIn, wantOut int
			}{
				{fft.C2C, false, packedReal, packedReal},
				{fft.C2C, true, packedReal, packedReal},
				{fft.R2C, false, packedReal, half},
				{fft.R2C, true, paddedReal, half},
				{fft.C2R, false, half, packedReal},
				{fft.C2R, true, half, paddedReal},
			} {
				d := fft.Desc{Type: c.typ, Dims: dims, Batch: b}
				for _, double := range []bool{false, true} {
					in, out, err := extentPair(d, c.inPlace, double)
					if err != nil || in != c.wantIn || out != c.wantOut {
						t.Errorf("Extent(type %d, dims %v, batch %d, in place %v, double %v) = %d, %d, %v; want %d, %d",
							c.typ, dims, b, c.inPlace, double, in, out, err, c.wantIn, c.wantOut)
					}
				}
			}
		}
	}
	// The example of the brief: R2C of 16 x 1000 reals, float64/complex128.
	d := fft.Desc{Type: fft.R2C, Dims: []int{1000}, Batch: 16}
	if in, out, err := fft.Extent[float64, complex128](d, false); err != nil || in != 16000 || out != 16*501 {
		t.Errorf("R2C 1000 x 16 out of place: %d, %d, %v; want 16000, %d", in, out, err, 16*501)
	}
	if in, out, err := fft.Extent[float64, complex128](d, true); err != nil || in != 15*1002+1000 || out != 16*501 {
		t.Errorf("R2C 1000 x 16 in place: %d, %d, %v; want %d, %d", in, out, err, 15*1002+1000, 16*501)
	}
	// Batch 0 means 1.
	d = fft.Desc{Type: fft.R2C, Dims: []int{10}}
	if in, out, err := fft.Extent[float32, complex64](d, true); err != nil || in != 10 || out != 6 {
		t.Errorf("R2C 10, batch 0, in place: %d, %d, %v; want 10, 6", in, out, err)
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
