//go:build cgo

package capi

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"sync"
	"testing"
)

// The FFT tests compare with a naive DFT computed in float64 (each output a direct sum with
// exactly reduced twiddles, error ~sqrt(N)*1e-16). Bounds on the relative L2 norm of the error:
// float32 1e-5*max(1, log2 N) (an FFT's error grows like eps*log2 N with eps = 6e-8, plus a
// constant for the Bluestein plans of awkward sizes), float64 1e-12. Outputs are poisoned with
// NaN bytes first, so an unwritten element makes the error NaN and fails.

func fftBound[T Real](n int) float64 {
	if sizeOf[T]() == 8 {
		return 1e-12
	}
	return 1e-5 * math.Max(1, math.Log2(float64(n)))
}

// dftRef transforms a batch of packed row-major arrays of sizes dims, axis by axis, with the
// exponent sign -1 (forward) or +1 (inverse), unscaled.
func dftRef(x []complex128, dims []int, batch int, sign float64) []complex128 {
	y := append([]complex128(nil), x...)
	per := 1
	for _, d := range dims {
		per *= d
	}
	for axis, n := range dims {
		inner := 1
		for _, d := range dims[axis+1:] {
			inner *= d
		}
		tw := make([]complex128, n)
		for m := range tw {
			a := sign * 2 * math.Pi * float64(m) / float64(n)
			tw[m] = complex(math.Cos(a), math.Sin(a))
		}
		line := make([]complex128, n)
		for b := 0; b < batch; b++ {
			for outer := 0; outer < per/(n*inner); outer++ {
				for in := 0; in < inner; in++ {
					base := b*per + outer*n*inner + in
					for k := 0; k < n; k++ {
						var s complex128
						for j := 0; j < n; j++ {
							s += y[base+j*inner] * tw[(j*k)%n]
						}
						line[k] = s
					}
					for k := 0; k < n; k++ {
						y[base+k*inner] = line[k]
					}
				}
			}
		}
	}
	return y
}

// halfSpectrum keeps the first n/2+1 entries of the last dimension of each array.
func halfSpectrum(full []complex128, dims []int, batch int) []complex128 {
	nl := dims[len(dims)-1]
	hl := nl/2 + 1
	rows := len(full) / nl
	h := make([]complex128, 0, rows*hl)
	for r := 0; r < rows; r++ {
		h = append(h, full[r*nl:r*nl+hl]...)
	}
	_ = batch
	return h
}

func interleave[T Real](x []complex128) []T {
	v := make([]T, 2*len(x))
	for i, c := range x {
		v[2*i], v[2*i+1] = T(real(c)), T(imag(c))
	}
	return v
}

func deinterleave[T Real](v []T) []complex128 {
	x := make([]complex128, len(v)/2)
	for i := range x {
		x[i] = complex(float64(v[2*i]), float64(v[2*i+1]))
	}
	return x
}

// randComplex returns values rounded to T's precision, so the reference sees the GPU's input.
func randComplex[T Real](r *rand.Rand, n int) []complex128 {
	x := make([]complex128, n)
	for i := range x {
		x[i] = complex(float64(T(r.Float64()*2-1)), float64(T(r.Float64()*2-1)))
	}
	return x
}

func relErr(got, want []complex128) float64 {
	var e2, r2 float64
	for i := range want {
		d := got[i] - want[i]
		e2 += real(d)*real(d) + imag(d)*imag(d)
		r2 += real(want[i])*real(want[i]) + imag(want[i])*imag(want[i])
	}
	if r2 == 0 {
		return math.Sqrt(e2)
	}
	return math.Sqrt(e2 / r2)
}

func scaled(x []complex128, f float64) []complex128 {
	y := make([]complex128, len(x))
	for i, v := range x {
		y[i] = v * complex(f, 0)
	}
	return y
}

func checkFFT(t *testing.T, what string, got, want []complex128, bound float64) {
	t.Helper()
	if e := relErr(got, want); !(e <= bound) {
		t.Errorf("%s: relative error %.3g, bound %.3g", what, e, bound)
	}
}

// devFrom uploads v into a new buffer of len(v)+extra values; the extra ones are NaN.
func devFrom[T Real](t *testing.T, dev Device, v []T, extra int) *DeviceBuffer[T] {
	t.Helper()
	d, err := NewDeviceBuffer[T](dev, len(v)+extra)
	must(t, "NewDeviceBuffer", err)
	t.Cleanup(func() { d.Close() })
	must(t, "poison", d.Memset(0xFF))
	if len(v) > 0 {
		must(t, "upload", d.CopyFromHostAt(0, v))
	}
	return d
}

func poisoned[T Real](t *testing.T, dev Device, n int) *DeviceBuffer[T] {
	return devFrom[T](t, dev, nil, n)
}

func download[T Real](t *testing.T, d *DeviceBuffer[T]) []T {
	t.Helper()
	v := make([]T, d.Len())
	must(t, "download", d.CopyToHost(v))
	return v
}

func realsOf(x []complex128) []float64 {
	v := make([]float64, len(x))
	for i, c := range x {
		v[i] = real(c)
	}
	return v
}

func complexOfReals[T Real](v []T) []complex128 {
	x := make([]complex128, len(v))
	for i, f := range v {
		x[i] = complex(float64(f), 0)
	}
	return x
}

func testFFT1D[T Real](t *testing.T, dev Device, s *Stream, r *rand.Rand) {
	for _, n := range []int{1, 2, 3, 7, 16, 17, 100, 1024} {
		for _, batch := range []int{1, 3} {
			name := fmt.Sprintf("n=%d/batch=%d", n, batch)
			x := randComplex[T](r, n*batch)
			in := devFrom(t, dev, interleave[T](x), 0)
			out := poisoned[T](t, dev, 2*n*batch)
			must(t, "FFT1D", FFT1D(s, in, out, n, batch, Forward))
			want := dftRef(x, []int{n}, batch, -1)
			checkFFT(t, name+" forward", deinterleave(download(t, out)), want, fftBound[T](n))
			back := poisoned[T](t, dev, 2*n*batch)
			must(t, "FFT1D inverse", FFT1D(s, out, back, n, batch, Inverse))
			checkFFT(t, name+" inverse(forward)", deinterleave(download(t, back)), x, fftBound[T](n))

			// Real input: R2C gives the half spectrum; C2R of it gives x back (scaled 1/n).
			xr := make([]T, n*batch)
			for i := range xr {
				xr[i] = T(r.Float64()*2 - 1)
			}
			rin := devFrom(t, dev, xr, 0)
			h := n/2 + 1
			spec := poisoned[T](t, dev, 2*h*batch)
			must(t, "RFFT1D", RFFT1D(s, rin, spec, n, batch))
			wantH := halfSpectrum(dftRef(complexOfReals(xr), []int{n}, batch, -1), []int{n}, batch)
			checkFFT(t, name+" R2C", deinterleave(download(t, spec)), wantH, fftBound[T](n))
			hin := devFrom(t, dev, interleave[T](wantH), 0)
			rout := poisoned[T](t, dev, n*batch)
			must(t, "IRFFT1D", IRFFT1D(s, hin, rout, n, batch))
			checkFFT(t, name+" C2R", complexOfReals(download(t, rout)), complexOfReals(xr),
				fftBound[T](n))
		}
	}
}

func TestFFT1D(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	t.Run("float32", func(t *testing.T) { testFFT1D[float32](t, dev, s, r) })
	t.Run("float64", func(t *testing.T) { testFFT1D[float64](t, dev, s, r) })
}

func testFFTMultiDim[T Real](t *testing.T, dev Device, s *Stream, r *rand.Rand) {
	for _, dims := range [][]int{{5, 7}, {4, 6}, {1, 9}, {4, 6, 8}, {3, 5, 7}} {
		const batch = 2
		per := 1
		for _, d := range dims {
			per *= d
		}
		name := fmt.Sprint(dims)
		x := randComplex[T](r, per*batch)
		in := devFrom(t, dev, interleave[T](x), 0)
		out := poisoned[T](t, dev, 2*per*batch)
		if len(dims) == 2 {
			must(t, "FFT2D", FFT2D(s, in, out, dims[0], dims[1], batch, Forward))
		} else {
			must(t, "FFT3D", FFT3D(s, in, out, dims[0], dims[1], dims[2], batch, Forward))
		}
		checkFFT(t, name+" forward", deinterleave(download(t, out)), dftRef(x, dims, batch, -1),
			fftBound[T](per))
		// In place, inverse: back to x.
		if len(dims) == 2 {
			must(t, "FFT2D inverse", FFT2D(s, out, out, dims[0], dims[1], batch, Inverse))
		} else {
			must(t, "FFT3D inverse", FFT3D(s, out, out, dims[0], dims[1], dims[2], batch, Inverse))
		}
		checkFFT(t, name+" inverse in place", deinterleave(download(t, out)), x, fftBound[T](per))

		// R2C then C2R through the general API, with ortho normalisation both ways.
		xr := make([]T, per*batch)
		for i := range xr {
			xr[i] = T(r.Float64()*2 - 1)
		}
		h := per / dims[len(dims)-1] * (dims[len(dims)-1]/2 + 1)
		rin := devFrom(t, dev, xr, 0)
		spec := poisoned[T](t, dev, 2*h*batch)
		d := FFTDesc{Type: FFTR2C, Dims: dims, Batch: batch}
		must(t, "R2C", FFT(s, d, rin, spec, Forward, FFTNormOrtho))
		wantH := halfSpectrum(dftRef(complexOfReals(xr), dims, batch, -1), dims, batch)
		checkFFT(t, name+" R2C ortho", deinterleave(download(t, spec)),
			scaled(wantH, 1/math.Sqrt(float64(per))), fftBound[T](per))
		rout := poisoned[T](t, dev, per*batch)
		d.Type = FFTC2R
		must(t, "C2R", FFT(s, d, spec, rout, Inverse, FFTNormOrtho))
		checkFFT(t, name+" C2R ortho", complexOfReals(download(t, rout)), complexOfReals(xr),
			fftBound[T](per))
	}
}

func TestFFTMultiDimensional(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	t.Run("float32", func(t *testing.T) { testFFTMultiDim[float32](t, dev, s, r) })
	t.Run("float64", func(t *testing.T) { testFFTMultiDim[float64](t, dev, s, r) })
}

// Strided, batched layouts with offsets: every element lands where the layout says, and the
// values between them (and past the end) keep their NaN poison.
func TestFFTStridedLayouts(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	const n, batch = 17, 5
	const inStride, inDist, outStride, outDist = 3, 17*3 + 4, 2, 17*2 + 1
	const inOff, outOff = 6, 10 // values (3 and 5 complex elements)
	x := randComplex[float32](r, n*batch)
	inVals := make([]float32, inOff+2*((batch-1)*inDist+inStride*(n-1)+1))
	for i := range inVals {
		inVals[i] = float32(r.Float64()*2e3 - 1e3) // junk a wrong layout would read
	}
	for b := 0; b < batch; b++ {
		for j := 0; j < n; j++ {
			o := inOff + 2*(b*inDist+j*inStride)
			inVals[o], inVals[o+1] = float32(real(x[b*n+j])), float32(imag(x[b*n+j]))
		}
	}
	outLen := outOff + 2*((batch-1)*outDist+outStride*(n-1)+1)
	d := FFTDesc{Type: FFTC2C, Dims: []int{n}, Batch: batch,
		In:  FFTLayout{Stride: inStride, Dist: inDist},
		Out: FFTLayout{Stride: outStride, Dist: outDist}}
	il, ol, err := FFTExtent[float32](d, false)
	must(t, "FFTExtent", err)
	if il != len(inVals)-inOff || ol != outLen-outOff {
		t.Fatalf("FFTExtent = %d, %d; want %d, %d", il, ol, len(inVals)-inOff, outLen-outOff)
	}
	in := devFrom(t, dev, inVals, 0)
	for _, norm := range []FFTNorm{FFTNormNone, FFTNormOrtho} {
		out := poisoned[float32](t, dev, outLen+7)
		must(t, "FFTAt", FFTAt(s, d, in, inOff, out, outOff, Forward, norm))
		got := download(t, out)
		want := dftRef(x, []int{n}, batch, -1)
		if norm == FFTNormOrtho {
			want = scaled(want, 1/math.Sqrt(n))
		}
		used := make([]bool, len(got))
		gotC := make([]complex128, n*batch)
		for b := 0; b < batch; b++ {
			for k := 0; k < n; k++ {
				o := outOff + 2*(b*outDist+k*outStride)
				gotC[b*n+k] = complex(float64(got[o]), float64(got[o+1]))
				used[o], used[o+1] = true, true
			}
		}
		checkFFT(t, fmt.Sprintf("strided norm %d", norm), gotC, want, fftBound[float32](n))
		for i, v := range got {
			if !used[i] && math.Float32bits(v) != 0xFFFFFFFF {
				t.Fatalf("norm %d: value %d outside the output layout was written (%v)", norm, i, v)
			}
		}
	}
}

func TestFFTParseval(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	const n = 1 << 16
	x := randComplex[float32](r, n)
	in := devFrom(t, dev, interleave[float32](x), 0)
	out := poisoned[float32](t, dev, 2*n)
	must(t, "FFT1D", FFT1D(s, in, out, n, 1, Forward))
	var ex, ef float64
	for _, v := range x {
		ex += real(v)*real(v) + imag(v)*imag(v)
	}
	for _, v := range deinterleave(download(t, out)) {
		ef += real(v)*real(v) + imag(v)*imag(v)
	}
	if e := math.Abs(ef/(n*ex) - 1); !(e <= fftBound[float32](n)) {
		t.Errorf("Parseval: sum|X|^2 / (N sum|x|^2) - 1 = %.3g", e)
	}
}

// The spectrum of real data is Hermitian: X[n-k] = conj(X[k]).
func TestFFTHermitian(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	for _, n := range []int{7, 16, 100} {
		x := make([]complex128, n)
		for i := range x {
			x[i] = complex(r.Float64()*2-1, 0)
		}
		in := devFrom(t, dev, interleave[float64](x), 0)
		out := poisoned[float64](t, dev, 2*n)
		must(t, "FFT1D", FFT1D(s, in, out, n, 1, Forward))
		X := deinterleave(download(t, out))
		for k := 0; k < n; k++ {
			if d := cmplx.Abs(X[k] - cmplx.Conj(X[(n-k)%n])); !(d <= 1e-12*float64(n)) {
				t.Errorf("n=%d: |X[%d] - conj(X[%d])| = %.3g", n, k, (n-k)%n, d)
			}
		}
	}
}

func TestFFTBadInput(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	a := poisoned[float32](t, dev, 128)
	b := poisoned[float32](t, dev, 128)
	small := poisoned[float32](t, dev, 127)
	wantErr(t, "nil stream", FFT1D(nil, a, b, 64, 1, Forward), ErrInvalidHandle)
	wantErr(t, "nil buffer", FFT1D(s, a, nil, 64, 1, Forward), ErrInvalidHandle)
	wantErr(t, "small output", FFT1D(s, a, small, 64, 1, Forward), ErrOutOfRange)
	wantErr(t, "small input", FFT1D(s, small, a, 64, 1, Forward), ErrOutOfRange)
	wantErr(t, "two batches", FFT1D(s, a, b, 64, 2, Forward), ErrOutOfRange)
	wantErr(t, "zero size", FFT1D(s, a, b, 0, 1, Forward), ErrInvalidArgument)
	wantErr(t, "negative batch", FFT1D(s, a, b, 8, -1, Forward), ErrInvalidArgument)
	wantErr(t, "no dims", FFT(s, FFTDesc{}, a, b, Forward, FFTNormNone), ErrInvalidArgument)
	wantErr(t, "rank 4", FFT(s, FFTDesc{Dims: []int{2, 2, 2, 2}}, a, b, Forward, FFTNormNone),
		ErrInvalidArgument)
	wantErr(t, "inverse R2C", FFT(s, FFTDesc{Type: FFTR2C, Dims: []int{16}}, a, b, Inverse,
		FFTNormNone), ErrInvalidArgument)
	wantErr(t, "bad norm", FFT(s, FFTDesc{Dims: []int{16}}, a, b, Forward, 9), ErrInvalidArgument)
	wantErr(t, "negative offset", FFTAt(s, FFTDesc{Dims: []int{16}}, a, -2, b, 0, Forward,
		FFTNormNone), ErrOutOfRange)
	wantErr(t, "odd offset", FFTAt(s, FFTDesc{Dims: []int{16}}, a, 1, b, 0, Forward,
		FFTNormNone), ErrInvalidArgument)
	// Regression (fuzzing): an offset whose byte value wraps (2^62 float32 values is 2^64
	// bytes) transformed the data at byte 0 instead of failing.
	for _, off := range []int{1 << 62, 1<<62 + 16, math.MaxInt, 129} {
		wantErr(t, "huge input offset", FFTAt(s, FFTDesc{Dims: []int{16}}, a, off, b, 0, Forward,
			FFTNormNone), ErrOutOfRange)
		wantErr(t, "huge output offset", FFTAt(s, FFTDesc{Dims: []int{16}}, a, 0, b, off, Forward,
			FFTNormNone), ErrOutOfRange)
	}
	// float64 transform on buffers sized for float32 data.
	a64 := poisoned[float64](t, dev, 64)
	b64 := poisoned[float64](t, dev, 64)
	wantErr(t, "float64 short", FFT1D(s, a64, b64, 64, 1, Forward), ErrOutOfRange)
	var e *Error
	if err := FFT1D(s, a, small, 64, 1, Forward); !errors.As(err, &e) || e.Op != "fft" || e.Msg == "" {
		t.Errorf("error detail: %#v", err)
	}
	closed := poisoned[float32](t, dev, 128)
	must(t, "Close", closed.Close())
	wantErr(t, "closed buffer", FFT1D(s, a, closed, 64, 1, Forward), ErrClosed)
	must(t, "synchronize", s.Synchronize())
}

// Descriptor checks need no GPU.
func TestFFTExtent(t *testing.T) {
	il, ol, err := FFTExtent[float32](FFTDesc{Type: FFTR2C, Dims: []int{4, 10}, Batch: 3}, false)
	must(t, "FFTExtent", err)
	if il != 3*4*10 || ol != 2*3*4*6 {
		t.Errorf("R2C 4x10x3: extents %d, %d; want %d, %d", il, ol, 3*4*10, 2*3*4*6)
	}
	il, ol, err = FFTExtent[float64](FFTDesc{Type: FFTR2C, Dims: []int{4, 10}, Batch: 3}, true)
	must(t, "FFTExtent in place", err)
	if il != 3*4*12-2 || ol != 2*3*4*6 {
		t.Errorf("R2C 4x10x3 in place: extents %d, %d; want %d, %d", il, ol, 3*4*12-2, 2*3*4*6)
	}
	for name, d := range map[string]FFTDesc{
		"no dims":       {},
		"rank 4":        {Dims: []int{1, 2, 3, 4}},
		"zero size":     {Dims: []int{8, 0}},
		"bad type":      {Type: 5, Dims: []int{8}},
		"small embed":   {Dims: []int{8, 8}, In: FFTLayout{Embed: []int{8, 7}}},
		"4 embeds":      {Dims: []int{8}, Out: FFTLayout{Embed: []int{8, 8, 8, 8}}},
		"negative dist": {Dims: []int{8}, Out: FFTLayout{Dist: -1}},
	} {
		if _, _, err := FFTExtent[float32](d, false); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: got %v, want ErrInvalidArgument", name, err)
		}
	}
	if _, _, err := FFTExtent[float32](FFTDesc{Dims: []int{1 << 40, 1 << 40}}, false); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("overflow: got %v, want ErrOutOfRange", err)
	}
	st, err := GetFFTCacheStats()
	must(t, "GetFFTCacheStats", err)
	if st.MaxEntries == 0 || st.MaxBytes == 0 {
		t.Errorf("cache bounds: %+v", st)
	}
}

func TestFFTCache(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	st0, err := GetFFTCacheStats()
	must(t, "stats", err)
	t.Cleanup(func() { must(t, "restore limits", SetFFTCacheLimits(st0.MaxEntries, st0.MaxBytes)) })
	must(t, "clear", ClearFFTCache())
	a := poisoned[float32](t, dev, 2*96*7)
	b := poisoned[float32](t, dev, 2*96*7)
	must(t, "memset", a.Memset(0))
	must(t, "first", FFT1D(s, a, b, 96, 7, Forward))
	must(t, "second", FFT1D(s, a, b, 96, 7, Forward))
	st, err := GetFFTCacheStats()
	must(t, "stats", err)
	if st.Misses-st0.Misses != 1 || st.Hits-st0.Hits != 1 || st.Entries != 1 || st.InUse != 0 {
		t.Errorf("after two uses of one shape: %+v (before: %+v)", st, st0)
	}
	must(t, "limits", SetFFTCacheLimits(1, 1<<30))
	must(t, "other shape", FFT1D(s, a, b, 32, 7, Forward))
	st2, err := GetFFTCacheStats()
	must(t, "stats", err)
	if st2.Entries != 1 || st2.Evictions-st.Evictions != 1 {
		t.Errorf("LRU bound 1: %+v", st2)
	}
	must(t, "synchronize", s.Synchronize())
}

// Goroutines on their own streams share the plan cache; every result is checked.
func TestFFTConcurrentGoroutines(t *testing.T) {
	dev := requireGPU(t)
	seedRand := newRand(t)
	const workers, iters = 8, 20
	sizes := []int{64, 100, 17}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		seed := seedRand.Uint64()
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 1))
			s, err := NewStream(dev, StreamOptions{NonBlocking: true})
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for it := 0; it < iters; it++ {
				n := sizes[(w+it)%len(sizes)]
				x := randComplex[float32](r, 2*n)
				in, err := NewDeviceBufferAsync[float32](s, 4*n)
				if err != nil {
					errs <- err
					return
				}
				out, err := NewDeviceBufferAsync[float32](s, 4*n)
				if err != nil {
					errs <- err
					return
				}
				err = in.CopyFromHost(interleave[float32](x))
				if err == nil {
					err = out.MemsetAsync(s, 0xFF)
				}
				if err == nil {
					err = FFT1D(s, in, out, n, 2, Forward)
				}
				got := make([]float32, 4*n)
				if err == nil {
					err = out.CopyToHost(got)
				}
				in.Close()
				out.Close()
				if err != nil {
					errs <- err
					return
				}
				want := dftRef(x, []int{n}, 2, -1)
				if e := relErr(deinterleave(got), want); !(e <= fftBound[float32](n)) {
					errs <- fmt.Errorf("n=%d iteration %d: relative error %.3g", n, it, e)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Queuing a transform of a cached shape costs one cgo call and no Go allocation.
func TestFFTHotPathAllocations(t *testing.T) {
	dev := requireGPU(t)
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	a := poisoned[float32](t, dev, 2*256*4)
	b := poisoned[float32](t, dev, 2*256*4)
	must(t, "memset", a.Memset(0))
	d := FFTDesc{Type: FFTC2C, Dims: []int{16, 16}, Batch: 4}
	// The typed calls on complex64 buffers (the public fft package's path).
	ca, err := NewDeviceBuffer[complex64](dev, 256*4)
	must(t, "NewDeviceBuffer complex64", err)
	closeT(t, "buffer", ca)
	must(t, "memset", ca.Memset(0))
	cb, err := NewDeviceBuffer[complex64](dev, 256*4)
	must(t, "NewDeviceBuffer complex64", err)
	closeT(t, "buffer", cb)
	var failed error
	for name, f := range map[string]func() error{
		"FFT1D":     func() error { return FFT1D(s, a, b, 256, 4, Forward) },
		"FFT":       func() error { return FFT(s, d, a, b, Inverse, FFTNormOrtho) },
		"FFTC2C1D":  func() error { return FFTC2C1D(s, ca, cb, 256, 4, Forward) },
		"FFTExecAt": func() error { return FFTExecAt(s, d, ca, 0, cb, 0, Inverse, FFTNormOrtho) },
	} {
		must(t, name+" warm-up", f())
		if allocs := testing.AllocsPerRun(100, func() {
			if err := f(); err != nil && failed == nil {
				failed = err
			}
		}); allocs != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, allocs)
		}
	}
	must(t, "synchronize", s.Synchronize())
	if failed != nil {
		t.Fatal(failed)
	}
}
