//go:build cgo

package fft_test

// GPU tests of the typed API (complex64/complex128 and float32/float64 buffers), through the
// public packages only. Each runs on fresh random data (seeded from the clock, the seed logged;
// CUDAGO_TEST_SEED replays one) at awkward sizes, and compares the GPU's result with an
// independent reference computed on the CPU in float64/complex128: a direct O(n²) DFT, axis by
// axis, with the twiddle index reduced exactly ((j*k) mod n) so that its own error stays near
// sqrt(n)·1e-16.
//
// Bounds on the relative L2 error ‖got − want‖/‖want‖ of one transform of N points:
// 1e-5·log2(N) + 1e-6 for single precision, 1e-12·log2(N) + 1e-14 for double (an FFT's error
// grows like ε·log2 N, ε = 6e-8 or 1.1e-16; the bounds leave at least two orders of magnitude
// for cuFFT's prime-radix and Bluestein plans, and the constant covers N = 1). A round trip
// (forward then inverse, compared with the original data) goes through two transforms whose
// errors add, so it gets twice the bound. Output buffers are poisoned with NaN bytes (0xFF)
// first: an element the transform leaves unwritten makes the error NaN and fails.
//
// Without a GPU every test skips, or fails under CUDAGO_REQUIRE_GPU=1.

import (
	"fmt"
	"github.com/cudago/cudago/go/internal/testutil"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/fft"
)

// sizes are the transform lengths of the 1D tests: trivial, prime, composite with factors 2,
// 3 and 5, and a larger one; batch is their batch.
var sizes = []int{1, 7, 60, 1000}

const batch = 3

// gpuStream returns device 0 and a stream on it, closed at the end of the test. It skips the
// test where there is no CUDA device, and fails it instead with CUDAGO_REQUIRE_GPU=1 (the logic
// of internal/capi's requireGPU).
func gpuStream(t *testing.T) (cudago.Device, *cudago.Stream) {
	t.Helper()
	dev := testutil.RequireGPU(t)
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	testutil.Must(t, "NewStream", err)
	t.Cleanup(func() {
		if err := s.Synchronize(); err != nil {
			t.Errorf("final Synchronize: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("closing the stream: %v", err)
		}
	})
	return dev, s
}

// isDouble tells whether C is complex128 (else complex64).
func isDouble[C cudago.Complex]() bool {
	var z C
	_, ok := any(z).(complex128)
	return ok
}

// bound is the error bound of one transform of n points in C's precision.
func bound[C cudago.Complex](n int) float64 {
	l := math.Log2(float64(n))
	if isDouble[C]() {
		return 1e-12*l + 1e-14
	}
	return 1e-5*l + 1e-6
}

// randComplex returns n values with real and imaginary parts uniform in [-1, 1), rounded to C.
func randComplex[C cudago.Complex](r *rand.Rand, n int) []C {
	x := make([]C, n)
	for i := range x {
		x[i] = C(complex(r.Float64()*2-1, r.Float64()*2-1))
	}
	return x
}

// randReal returns n values uniform in [-1, 1), rounded to R.
func randReal[R cudago.Real](r *rand.Rand, n int) []R {
	x := make([]R, n)
	for i := range x {
		x[i] = R(r.Float64()*2 - 1)
	}
	return x
}

// wideC and wideR give the exact complex128 values of the data the GPU sees.
func wideC[C cudago.Complex](x []C) []complex128 {
	y := make([]complex128, len(x))
	for i, v := range x {
		y[i] = complex128(v)
	}
	return y
}

func wideR[R cudago.Real](x []R) []complex128 {
	y := make([]complex128, len(x))
	for i, v := range x {
		y[i] = complex(float64(v), 0)
	}
	return y
}

// dft transforms a batch of packed row-major arrays of sizes dims, one direct O(n²) DFT per
// line of each axis, with the exponent sign -1 (forward) or +1 (inverse), unscaled.
func dft(x []complex128, dims []int, batch int, sign float64) []complex128 {
	y := append([]complex128(nil), x...)
	per := 1
	for _, d := range dims {
		per *= d
	}
	for axis, n := range dims {
		stride := 1 // between consecutive elements of a line of this axis
		for _, d := range dims[axis+1:] {
			stride *= d
		}
		tw := make([]complex128, n) // exp(sign·2πi m/n), each computed directly
		for m := range tw {
			sin, cos := math.Sincos(sign * 2 * math.Pi * float64(m) / float64(n))
			tw[m] = complex(cos, sin)
		}
		line := make([]complex128, n)
		for b := 0; b < batch; b++ {
			for outer := 0; outer < per/(n*stride); outer++ {
				for in := 0; in < stride; in++ {
					base := b*per + outer*n*stride + in
					for k := 0; k < n; k++ {
						var s complex128
						for j := 0; j < n; j++ {
							s += y[base+j*stride] * tw[j*k%n]
						}
						line[k] = s
					}
					for k := 0; k < n; k++ {
						y[base+k*stride] = line[k]
					}
				}
			}
		}
	}
	return y
}

// half keeps the first n/2+1 values of each row of n (the non-redundant half of a real
// signal's spectrum).
func half(full []complex128, n int) []complex128 {
	h := n/2 + 1
	out := make([]complex128, 0, len(full)/n*h)
	for r := 0; r < len(full)/n; r++ {
		out = append(out, full[r*n:r*n+h]...)
	}
	return out
}

// c2rRef is the inverse real transform of each half spectrum of n/2+1 values in spec, scaled
// by 1/n: the spectrum is extended by Hermitian symmetry (X[n-k] = conj(X[k])) and the real
// part of its inverse DFT kept, which drops the imaginary parts of X[0] and X[n/2] (n even) as a
// C2R transform does.
func c2rRef(spec []complex128, n, batch int) []complex128 {
	h := n/2 + 1
	full := make([]complex128, n*batch)
	for b := 0; b < batch; b++ {
		for k := 0; k < n; k++ {
			if k < h {
				full[b*n+k] = spec[b*h+k]
			} else {
				v := spec[b*h+n-k]
				full[b*n+k] = complex(real(v), -imag(v))
			}
		}
	}
	y := dft(full, []int{n}, batch, +1)
	for i, v := range y {
		y[i] = complex(real(v)/float64(n), 0)
	}
	return y
}

func scaled(x []complex128, f float64) []complex128 {
	y := make([]complex128, len(x))
	for i, v := range x {
		y[i] = v * complex(f, 0)
	}
	return y
}

// relErr is ‖got − want‖₂ / ‖want‖₂ (the absolute error if want is zero); NaN if got holds a
// NaN.
func relErr(got, want []complex128) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var e2, w2 float64
	for i := range want {
		d := got[i] - want[i]
		e2 += real(d)*real(d) + imag(d)*imag(d)
		w2 += real(want[i])*real(want[i]) + imag(want[i])*imag(want[i])
	}
	if w2 == 0 {
		return math.Sqrt(e2)
	}
	return math.Sqrt(e2 / w2)
}

func check(t *testing.T, what string, got, want []complex128, tol float64) {
	t.Helper()
	if e := relErr(got, want); !(e <= tol) {
		t.Errorf("%s: relative L2 error %.3g, bound %.3g", what, e, tol)
	}
}

// upload returns a new buffer of len(v)+extra elements holding v, the extra ones NaN bytes; it
// is closed at the end of the test.
func upload[T cudago.Element](t *testing.T, dev cudago.Device, v []T, extra int) *cudago.DeviceBuffer[T] {
	t.Helper()
	b, err := cudago.NewDeviceBuffer[T](dev, len(v)+extra)
	testutil.Must(t, "NewDeviceBuffer", err)
	t.Cleanup(func() { b.Close() })
	testutil.Must(t, "poison", b.Memset(0xFF))
	if len(v) > 0 {
		testutil.Must(t, "upload", b.CopyFromHostAt(0, v))
	}
	return b
}

// poisoned returns a new buffer of n elements of NaN bytes.
func poisoned[T cudago.Element](t *testing.T, dev cudago.Device, n int) *cudago.DeviceBuffer[T] {
	t.Helper()
	return upload[T](t, dev, nil, n)
}

// download returns the buffer's content, read after the work queued with it.
func download[T cudago.Element](t *testing.T, b *cudago.DeviceBuffer[T]) []T {
	t.Helper()
	v := make([]T, b.Len())
	testutil.Must(t, "download", b.CopyToHost(v))
	return v
}

// C2C1D forward against the DFT, inverse against the inverse DFT scaled 1/n (on other data),
// and an in-place inverse of the forward result back to the input.
func testC2C1D[C cudago.Complex](t *testing.T) {
	dev, s := gpuStream(t)
	r := testutil.Rand(t)
	for _, n := range sizes {
		name := fmt.Sprintf("n=%d batch=%d", n, batch)
		tol := bound[C](n)
		x := randComplex[C](r, n*batch)
		in := upload(t, dev, x, 0)
		out := poisoned[C](t, dev, n*batch)
		testutil.Must(t, name+" forward", fft.C2C1D(s, in, out, n, batch, fft.Forward))
		check(t, name+" forward", wideC(download(t, out)), dft(wideC(x), []int{n}, batch, -1), tol)

		y := randComplex[C](r, n*batch)
		in2 := upload(t, dev, y, 0)
		out2 := poisoned[C](t, dev, n*batch)
		testutil.Must(t, name+" inverse", fft.C2C1D(s, in2, out2, n, batch, fft.Inverse))
		check(t, name+" inverse", wideC(download(t, out2)),
			scaled(dft(wideC(y), []int{n}, batch, +1), 1/float64(n)), tol)

		testutil.Must(t, name+" inverse in place", fft.C2C1D(s, out, out, n, batch, fft.Inverse))
		check(t, name+" inverse(forward) in place", wideC(download(t, out)), wideC(x), 2*tol)
	}
}

func TestTypedC2C1D(t *testing.T) {
	t.Run("complex64", testC2C1D[complex64])
	t.Run("complex128", testC2C1D[complex128])
}

// C2C2D (5 x 12) and C2C3D (3 x 5 x 4), forward and inverse, each against the DFT.
func testC2CMultiDim[C cudago.Complex](t *testing.T) {
	dev, s := gpuStream(t)
	r := testutil.Rand(t)
	for _, dims := range [][]int{{5, 12}, {12, 5}, {3, 5, 4}} {
		per := 1
		for _, d := range dims {
			per *= d
		}
		name := fmt.Sprintf("%v batch=%d", dims, batch)
		tol := bound[C](per)
		exec := func(in, out *cudago.DeviceBuffer[C], dir fft.Direction) error {
			if len(dims) == 2 {
				return fft.C2C2D(s, in, out, dims[0], dims[1], batch, dir)
			}
			return fft.C2C3D(s, in, out, dims[0], dims[1], dims[2], batch, dir)
		}
		x := randComplex[C](r, per*batch)
		out := poisoned[C](t, dev, per*batch)
		testutil.Must(t, name+" forward", exec(upload(t, dev, x, 0), out, fft.Forward))
		check(t, name+" forward", wideC(download(t, out)), dft(wideC(x), dims, batch, -1), tol)

		y := randComplex[C](r, per*batch)
		out = poisoned[C](t, dev, per*batch)
		testutil.Must(t, name+" inverse", exec(upload(t, dev, y, 0), out, fft.Inverse))
		check(t, name+" inverse", wideC(download(t, out)),
			scaled(dft(wideC(y), dims, batch, +1), 1/float64(per)), tol)
	}
}

func TestTypedC2CMultiDim(t *testing.T) {
	t.Run("complex64", testC2CMultiDim[complex64])
	t.Run("complex128", testC2CMultiDim[complex128])
}

// R2C1D against the DFT's first n/2+1 bins, then C2R1D of its result against the inverse of
// that half spectrum (1/n) and against the original data.
func testRealRoundTrip[R cudago.Real, C cudago.Complex](t *testing.T) {
	dev, s := gpuStream(t)
	r := testutil.Rand(t)
	for _, n := range sizes {
		name := fmt.Sprintf("n=%d batch=%d", n, batch)
		tol := bound[C](n)
		h := n/2 + 1
		x := randReal[R](r, n*batch)
		spec := poisoned[C](t, dev, h*batch)
		testutil.Must(t, name+" R2C1D", fft.R2C1D(s, upload(t, dev, x, 0), spec, n, batch))
		gotSpec := wideC(download(t, spec))
		check(t, name+" R2C1D", gotSpec, half(dft(wideR(x), []int{n}, batch, -1), n), tol)

		back := poisoned[R](t, dev, n*batch)
		testutil.Must(t, name+" C2R1D", fft.C2R1D(s, spec, back, n, batch)) // overwrites spec
		got := wideR(download(t, back))
		check(t, name+" C2R1D", got, c2rRef(gotSpec, n, batch), tol)
		check(t, name+" C2R1D(R2C1D)", got, wideR(x), 2*tol)
	}
}

func TestTypedRealRoundTrip(t *testing.T) {
	t.Run("float32-complex64", testRealRoundTrip[float32, complex64])
	t.Run("float64-complex128", testRealRoundTrip[float64, complex128])
}

// junk returns n values a misplaced read or write would be seen with: random, of magnitude up
// to 1000, never NaN (so that == compares them).
func junk[C cudago.Complex](r *rand.Rand, n int) []C {
	x := randComplex[C](r, n)
	for i := range x {
		x[i] *= 1000
	}
	return x
}

func junkReal[R cudago.Real](r *rand.Rand, n int) []R {
	x := randReal[R](r, n)
	for i := range x {
		x[i] *= 1000
	}
	return x
}

// untouched fails unless got equals want outside [lo, hi).
func untouched[T comparable](t *testing.T, what string, got, want []T, lo, hi int) {
	t.Helper()
	for i := range want {
		if (i < lo || i >= hi) && got[i] != want[i] {
			t.Errorf("%s: element %d outside [%d, %d) changed from %v to %v", what, i, lo, hi,
				want[i], got[i])
			return
		}
	}
}

// ExecAt reads from inOff and writes from outOff, both counted in each buffer's own elements
// (complex values on a complex side, reals on a real one), and touches nothing outside the
// layouts' ranges; one element more than a buffer holds past its offset is refused. The offsets
// differ on the two sides, so that one counted in the other side's elements reads or writes the
// wrong place. Offsets on a real side are even: cuFFT wants the pointers of R2C and C2R aligned
// to the complex type (8 or 16 bytes), and the library refuses odd ones (TestTypedOddRealOffsets).
func TestTypedExecAtOffsets(t *testing.T) {
	dev, s := gpuStream(t)
	r := testutil.Rand(t)

	t.Run("C2C complex64", func(t *testing.T) {
		const n, inOff, outOff = 60, 7, 11
		d := fft.Desc{Type: fft.C2C, Dims: []int{n}, Batch: batch}
		x := randComplex[complex64](r, n*batch)
		inVals := junk[complex64](r, inOff+n*batch+5)
		copy(inVals[inOff:], x)
		outVals := junk[complex64](r, outOff+n*batch+9)
		in, out := upload(t, dev, inVals, 0), upload(t, dev, outVals, 0)
		testutil.Must(t, "ExecAt", fft.ExecAt(s, in, inOff, out, outOff, d, fft.Forward, fft.NormNone))
		got := download(t, out)
		check(t, "C2C at offsets", wideC(got[outOff:outOff+n*batch]),
			dft(wideC(x), []int{n}, batch, -1), bound[complex64](n))
		untouched(t, "C2C output", got, outVals, outOff, outOff+n*batch)
		untouched(t, "C2C input", download(t, in), inVals, inOff, inOff+n*batch)
	})

	t.Run("R2C float64 to complex128", func(t *testing.T) {
		const n, inOff, outOff = 1000, 6, 3 // 6 reals, 3 complex values
		const h = n/2 + 1
		d := fft.Desc{Type: fft.R2C, Dims: []int{n}, Batch: batch}
		x := randReal[float64](r, n*batch)
		inVals := junkReal[float64](r, inOff+n*batch+4)
		copy(inVals[inOff:], x)
		outVals := junk[complex128](r, outOff+h*batch+6)
		in, out := upload(t, dev, inVals, 0), upload(t, dev, outVals, 0)
		testutil.Must(t, "ExecAt", fft.ExecAt(s, in, inOff, out, outOff, d, fft.Forward, fft.NormNone))
		got := download(t, out)
		check(t, "R2C at offsets", wideC(got[outOff:outOff+h*batch]),
			half(dft(wideR(x), []int{n}, batch, -1), n), bound[complex128](n))
		untouched(t, "R2C output", got, outVals, outOff, outOff+h*batch)
		untouched(t, "R2C input", download(t, in), inVals, inOff, inOff+n*batch)

		// Buffers that hold exactly the extents past the offsets fit; one element further
		// does not, on either side.
		inLen, outLen, err := fft.Extent[float64, complex128](d, false)
		testutil.Must(t, "Extent", err)
		exactIn := poisoned[float64](t, dev, inOff+inLen)
		exactOut := poisoned[complex128](t, dev, outOff+outLen)
		testutil.Must(t, "ExecAt exact fit", fft.ExecAt(s, exactIn, inOff, exactOut, outOff, d, fft.Forward, fft.NormNone))
		for _, c := range []struct {
			what          string
			inOff, outOff int
		}{{"input", inOff + 1, outOff}, {"output", inOff, outOff + 1}} {
			err := fft.ExecAt(s, exactIn, c.inOff, exactOut, c.outOff, d, fft.Forward, fft.NormNone)
			testutil.WantErr(t, "ExecAt one "+c.what+" element too far", err, cudago.ErrOutOfRange, "fft")
		}
	})

	t.Run("C2R complex64 to float32", func(t *testing.T) {
		const n, inOff, outOff = 60, 5, 2 // 5 complex values, 2 reals
		const h = n/2 + 1
		d := fft.Desc{Type: fft.C2R, Dims: []int{n}, Batch: batch}
		// A half spectrum of real data, rounded to complex64.
		spec := make([]complex64, h*batch)
		for i, v := range half(dft(wideR(randReal[float64](r, n*batch)), []int{n}, batch, -1), n) {
			spec[i] = complex64(v)
		}
		inVals := junk[complex64](r, inOff+h*batch+3)
		copy(inVals[inOff:], spec)
		outVals := junkReal[float32](r, outOff+n*batch+8)
		in, out := upload(t, dev, inVals, 0), upload(t, dev, outVals, 0)
		testutil.Must(t, "ExecAt", fft.ExecAt(s, in, inOff, out, outOff, d, fft.Inverse, fft.NormInverse))
		got := download(t, out)
		check(t, "C2R at offsets", wideR(got[outOff:outOff+n*batch]),
			c2rRef(wideC(spec), n, batch), bound[complex64](n))
		untouched(t, "C2R output", got, outVals, outOff, outOff+n*batch)
		// The input is scratch for C2R: only the values outside its range must be kept.
		untouched(t, "C2R input", download(t, in), inVals, inOff, inOff+h*batch)
	})
}

// An in-place R2C: the real input is a View of the complex output buffer, in the padded layout
// (rows of 2*(n/2+1) reals); then the in-place C2R back through the same View.
func testInPlaceView[R cudago.Real, C cudago.Complex](t *testing.T) {
	dev, s := gpuStream(t)
	r := testutil.Rand(t)
	for _, n := range sizes {
		name := fmt.Sprintf("n=%d batch=%d", n, batch)
		tol := bound[C](n)
		h := n/2 + 1
		d := fft.Desc{Type: fft.R2C, Dims: []int{n}, Batch: batch}
		inLen, outLen, err := fft.Extent[R, C](d, true)
		testutil.Must(t, name+" Extent", err)
		if inLen != (batch-1)*2*h+n || outLen != h*batch {
			t.Fatalf("%s: in-place Extent = %d, %d; want %d, %d", name, inLen, outLen,
				(batch-1)*2*h+n, h*batch)
		}
		cbuf := poisoned[C](t, dev, outLen)
		rview, err := cudago.View[R](cbuf)
		testutil.Must(t, name+" View", err)
		if rview.Len() != 2*h*batch || rview.Bytes() != cbuf.Bytes() {
			t.Fatalf("%s: View has %d elements, %d bytes; want %d, %d", name, rview.Len(),
				rview.Bytes(), 2*h*batch, cbuf.Bytes())
		}
		x := randReal[R](r, n*batch)
		padded := junkReal[R](r, 2*h*batch) // the padding is not read
		for b := 0; b < batch; b++ {
			copy(padded[b*2*h:], x[b*n:(b+1)*n])
		}
		testutil.Must(t, name+" upload", rview.CopyFromHost(padded))
		testutil.Must(t, name+" R2C in place", fft.Exec(s, rview, cbuf, d, fft.Forward, fft.NormNone))
		gotSpec := wideC(download(t, cbuf))
		check(t, name+" R2C in place", gotSpec, half(dft(wideR(x), []int{n}, batch, -1), n), tol)

		d.Type = fft.C2R
		testutil.Must(t, name+" C2R in place", fft.Exec(s, cbuf, rview, d, fft.Inverse, fft.NormInverse))
		all := download(t, rview)
		got := make([]R, 0, n*batch)
		for b := 0; b < batch; b++ {
			got = append(got, all[b*2*h:b*2*h+n]...)
		}
		check(t, name+" C2R in place", wideR(got), c2rRef(gotSpec, n, batch), tol)
		check(t, name+" C2R(R2C) in place", wideR(got), wideR(x), 2*tol)
	}
}

func TestTypedInPlaceView(t *testing.T) {
	t.Run("float32-complex64", testInPlaceView[float32, complex64])
	t.Run("float64-complex128", testInPlaceView[float64, complex128])
}

// The normalisations: NormOrtho scales both ways by 1/sqrt(N) (and so keeps the L2 norm),
// NormForward scales the forward transform by 1/N and not the inverse, NormNone neither,
// NormInverse the inverse only; on C2C through Exec and on R2C.
func testNorm[R cudago.Real, C cudago.Complex](t *testing.T) {
	dev, s := gpuStream(t)
	r := testutil.Rand(t)
	const n = 60
	tol := bound[C](n)
	d := fft.Desc{Type: fft.C2C, Dims: []int{n}, Batch: batch}
	x := randComplex[C](r, n*batch)
	in := upload(t, dev, x, 0)
	fwd := dft(wideC(x), []int{n}, batch, -1)
	inv := dft(wideC(x), []int{n}, batch, +1)
	for _, c := range []struct {
		norm  fft.Norm
		dir   fft.Direction
		want  []complex128
		label string
	}{
		{fft.NormOrtho, fft.Forward, scaled(fwd, 1/math.Sqrt(n)), "ortho forward"},
		{fft.NormOrtho, fft.Inverse, scaled(inv, 1/math.Sqrt(n)), "ortho inverse"},
		{fft.NormForward, fft.Forward, scaled(fwd, 1.0/n), "forward-norm forward"},
		{fft.NormForward, fft.Inverse, inv, "forward-norm inverse"},
		{fft.NormNone, fft.Forward, fwd, "none forward"},
		{fft.NormNone, fft.Inverse, inv, "none inverse"},
		{fft.NormInverse, fft.Forward, fwd, "inverse-norm forward"},
		{fft.NormInverse, fft.Inverse, scaled(inv, 1.0/n), "inverse-norm inverse"},
	} {
		out := poisoned[C](t, dev, n*batch)
		testutil.Must(t, c.label, fft.Exec(s, in, out, d, c.dir, c.norm))
		check(t, c.label, wideC(download(t, out)), c.want, tol)
	}

	// Ortho keeps the norm (Parseval), and its inverse undoes its forward transform.
	out := poisoned[C](t, dev, n*batch)
	testutil.Must(t, "ortho forward", fft.Exec(s, in, out, d, fft.Forward, fft.NormOrtho))
	var ex, eX float64
	for _, v := range wideC(x) {
		ex += real(v)*real(v) + imag(v)*imag(v)
	}
	for _, v := range wideC(download(t, out)) {
		eX += real(v)*real(v) + imag(v)*imag(v)
	}
	if e := math.Abs(math.Sqrt(eX/ex) - 1); !(e <= tol) {
		t.Errorf("ortho: ‖X‖/‖x‖ - 1 = %.3g, bound %.3g", e, tol)
	}
	testutil.Must(t, "ortho inverse in place", fft.Exec(s, out, out, d, fft.Inverse, fft.NormOrtho))
	check(t, "ortho inverse(forward)", wideC(download(t, out)), wideC(x), 2*tol)

	// R2C scales its half spectrum.
	xr := randReal[R](r, n*batch)
	rd := fft.Desc{Type: fft.R2C, Dims: []int{n}, Batch: batch}
	spec := poisoned[C](t, dev, (n/2+1)*batch)
	testutil.Must(t, "R2C ortho", fft.Exec(s, upload(t, dev, xr, 0), spec, rd, fft.Forward, fft.NormOrtho))
	check(t, "R2C ortho", wideC(download(t, spec)),
		scaled(half(dft(wideR(xr), []int{n}, batch, -1), n), 1/math.Sqrt(n)), tol)
}

func TestTypedNorm(t *testing.T) {
	t.Run("float32-complex64", testNorm[float32, complex64])
	t.Run("float64-complex128", testNorm[float64, complex128])
}

// Wrong element types are refused on real buffers too, and nothing is queued.
func TestTypedWrongTypesOnGPU(t *testing.T) {
	dev, s := gpuStream(t)
	c64 := poisoned[complex64](t, dev, 16)
	c128 := poisoned[complex128](t, dev, 16)
	f32 := poisoned[float32](t, dev, 32)
	d := fft.Desc{Type: fft.C2C, Dims: []int{8}}
	testutil.WantErr(t, "C2C complex64 to complex128", fft.Exec(s, c64, c128, d, fft.Forward, fft.NormNone),
		cudago.ErrInvalidArgument, "fft", "input and output precisions differ")
	testutil.WantErr(t, "C2C float32 to complex64", fft.Exec(s, f32, c64, d, fft.Forward, fft.NormNone),
		cudago.ErrInvalidArgument, "fft", "transform type C2C needs complex input and complex output, not real and complex")
	d.Type = fft.R2C
	testutil.WantErr(t, "R2C complex64 to complex64", fft.Exec(s, c64, c64, d, fft.Forward, fft.NormNone),
		cudago.ErrInvalidArgument, "fft", "transform type R2C needs real input and complex output, not complex and complex")
	// The poison is still there: nothing ran.
	for i, v := range download(t, c64) {
		if real(v) == real(v) || imag(v) == imag(v) {
			t.Fatalf("element %d of the buffer was written: %v", i, v)
		}
	}
}

// Odd offsets on a real side put the real pointer off the complex type's alignment, which
// cuFFT refuses with CUFFT_INVALID_VALUE (seen on an H200, CUDA 13): the library refuses them
// first, with ErrInvalidArgument and the reason, and writes nothing; even offsets work
// (TestTypedExecAtOffsets).
func TestTypedOddRealOffsets(t *testing.T) {
	dev, s := gpuStream(t)
	r := testutil.Rand(t)
	const n = 60
	const h = n/2 + 1
	for _, off := range []int{1, 3} {
		t.Run(fmt.Sprintf("R2C float32 input offset %d", off), func(t *testing.T) {
			d := fft.Desc{Type: fft.R2C, Dims: []int{n}, Batch: batch}
			in := upload(t, dev, junkReal[float32](r, off+n*batch+2), 0)
			outVals := junk[complex64](r, h*batch)
			out := upload(t, dev, outVals, 0)
			err := fft.ExecAt(s, in, off, out, 0, d, fft.Forward, fft.NormNone)
			testutil.WantErr(t, "R2C at an odd real offset", err, cudago.ErrInvalidArgument, "fft", "complex element")
			untouched(t, "R2C output", download(t, out), outVals, 0, 0)
		})
		t.Run(fmt.Sprintf("C2R float64 output offset %d", off), func(t *testing.T) {
			d := fft.Desc{Type: fft.C2R, Dims: []int{n}, Batch: batch}
			outVals := junkReal[float64](r, off+n*batch+2)
			in, out := upload(t, dev, junk[complex128](r, h*batch), 0), upload(t, dev, outVals, 0)
			err := fft.ExecAt(s, in, 0, out, off, d, fft.Inverse, fft.NormInverse)
			testutil.WantErr(t, "C2R at an odd real offset", err, cudago.ErrInvalidArgument, "fft", "complex element")
			untouched(t, "C2R output", download(t, out), outVals, 0, 0)
		})
	}
}
