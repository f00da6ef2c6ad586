//go:build cgo

package capi

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// CPU references for the elementwise operations. Every operation rounds once on both sides (or
// is exact), the GPU without flush-to-zero or fast math, so results must agree bit for bit
// (any NaN matching any NaN). Outputs are poisoned with 0xFF bytes (NaN) first, so an element
// the GPU skips fails, and elements outside a range must keep the poison.

// toF64 widens any Float element exactly (the CPU references compute in float64).
func toF64[T Float](v T) float64 {
	switch x := any(v).(type) {
	case Float16:
		return float64(x.Float32())
	case BFloat16:
		return float64(x.Float32())
	case float32:
		return float64(x)
	case float64:
		return x
	}
	panic("toF64: unexpected type")
}

// ewF32RoundOdd rounds d to float32 by truncation, setting the last bit when inexact ("round to
// odd"); rounding that to a 16-bit float to nearest-even equals rounding d directly.
func ewF32RoundOdd(d float64) float32 {
	f := float32(d)
	if float64(f) == d || math.IsNaN(d) {
		return f
	}
	if math.Abs(float64(f)) > math.Abs(d) {
		f = math.Nextafter32(f, 0)
	}
	return math.Float32frombits(math.Float32bits(f) | 1)
}

// fromF64 rounds d to T once (to nearest, ties to even); the tests make their inputs with it.
func fromF64[T Float](d float64) T {
	var z T
	switch any(z).(type) {
	case Float16:
		return any(Float16From(ewF32RoundOdd(d))).(T)
	case BFloat16:
		return any(BFloat16From(ewF32RoundOdd(d))).(T)
	case float32:
		return any(float32(d)).(T)
	}
	return any(d).(T)
}

func ewBits[T Float](v T) uint64 {
	switch x := any(v).(type) {
	case Float16:
		return uint64(x)
	case BFloat16:
		return uint64(x)
	case float32:
		return uint64(math.Float32bits(x))
	case float64:
		return math.Float64bits(x)
	}
	panic("ewBits: unexpected type")
}

func ewSame[T Float](a, b T) bool {
	return ewBits(a) == ewBits(b) || (math.IsNaN(toF64(a)) && math.IsNaN(toF64(b)))
}

func ewIs64[T Float]() bool {
	var z T
	_, ok := any(z).(float64)
	return ok
}

// ewFMA32 is float32 fma(a, x, y) correctly rounded: a*x is exact in float64, the sum's
// rounding error is recovered exactly (TwoSum), and a float64 sum that fell exactly on a
// float32 midpoint is moved toward the true value before rounding to float32.
func ewFMA32(a, x, y float32) float32 {
	p := float64(float64(a) * float64(x)) // exact; the conversion forbids fusing
	s := p + float64(y)
	bb := s - p
	lo := (p - (s - bb)) + (float64(y) - bb)
	if lo != 0 {
		f := float32(s)
		other := math.Nextafter32(f, float32(math.Copysign(math.Inf(1), float64(s)-float64(f))))
		if mid := (float64(f) + float64(other)) / 2; mid == s {
			// Toward the true value, by lo's sign: s+lo may round back to s.
			s = math.Nextafter(s, math.Copysign(math.Inf(1), lo))
		}
	}
	return float32(s)
}

// TestEwFMA32IsCorrectlyRounded checks the float32 fma reference (Go has no float32 fma) against
// exact arithmetic: on the tests' random operands, and where a*x falls exactly on a float32
// midpoint and y, of either sign, is too small to move the float64 sum (the case that decides
// the direction). CPU only.
func TestEwFMA32IsCorrectlyRounded(t *testing.T) {
	r := newRand(t)
	exact := func(a, x, y float32) float32 {
		v := new(big.Float).SetPrec(256).SetFloat64(float64(a))
		v.Mul(v, new(big.Float).SetPrec(256).SetFloat64(float64(x)))
		v.Add(v, new(big.Float).SetPrec(256).SetFloat64(float64(y)))
		f, _ := v.Float32() // nearest, ties to even
		return f
	}
	check := func(a, x, y float32) {
		t.Helper()
		if got, want := ewFMA32(a, x, y), exact(a, x, y); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("ewFMA32(%#x, %#x, %#x) = %#x, want %#x", math.Float32bits(a), math.Float32bits(x),
				math.Float32bits(y), math.Float32bits(got), math.Float32bits(want))
		}
	}
	a, x, y := ewRandom[float32](r, 200_000), ewRandom[float32](r, 200_000), ewRandom[float32](r, 200_000)
	for i := range a {
		check(a[i], x[i], y[i])
	}
	// Midpoints: x with a short mantissa makes a*x short enough to be one now and then.
	midpoints := 0
	for midpoints < 2000 {
		av := float32(math.Ldexp(0.5+r.Float64(), r.IntN(41)-20))
		xv := float32(math.Ldexp(1+float64(r.IntN(16))/16, r.IntN(41)-20))
		p := float64(av) * float64(xv)
		f := float32(p)
		next := math.Nextafter32(f, float32(math.Copysign(math.Inf(1), p-float64(f))))
		if p == float64(f) || (float64(f)+float64(next))/2 != p {
			continue
		}
		midpoints++
		tiny := float32(math.Ldexp(math.Abs(p), -60))
		for _, yv := range []float32{tiny, -tiny, 0, float32(p) / 3, -float32(p) / 3} {
			check(av, xv, yv)
			check(-av, xv, yv)
		}
	}
}

// ewBinaryRef is a op b computed as the GPU is documented to: float64 in float64, the others in
// float32, rounded once to T.
func ewBinaryRef[T Float](op BinaryOp, a, b T) T {
	if ewIs64[T]() {
		x, y := toF64(a), toF64(b)
		switch op {
		case OpAdd:
			return fromF64[T](x + y)
		case OpSub:
			return fromF64[T](x - y)
		case OpMul:
			return fromF64[T](x * y)
		}
		return fromF64[T](x / y)
	}
	x, y := float32(toF64(a)), float32(toF64(b))
	var r float32
	switch op {
	case OpAdd:
		r = x + y
	case OpSub:
		r = x - y
	case OpMul:
		r = float32(x * y)
	default:
		r = x / y
	}
	return fromF64[T](float64(r))
}

// ewRandom returns n random finite values: for the 16-bit types every bit pattern but Inf and
// NaN (zeros and subnormals included); for float32 and float64 random significands with
// exponents in [-40, 40] and both signs.
func ewRandom[T Float](r *rand.Rand, n int) []T {
	v := make([]T, n)
	var z T
	for i := range v {
		switch any(z).(type) {
		case Float16:
			h := Float16(r.Uint32())
			for h&0x7c00 == 0x7c00 {
				h = Float16(r.Uint32())
			}
			v[i] = any(h).(T)
		case BFloat16:
			h := BFloat16(r.Uint32())
			for h&0x7f80 == 0x7f80 {
				h = BFloat16(r.Uint32())
			}
			v[i] = any(h).(T)
		default:
			x := math.Ldexp(0.5+r.Float64(), r.IntN(81)-40)
			if r.IntN(2) == 0 {
				x = -x
			}
			v[i] = fromF64[T](x)
		}
	}
	return v
}

func ewUpload[T Numeric](t testing.TB, dev Device, v []T) *DeviceBuffer[T] {
	t.Helper()
	d, err := NewDeviceBuffer[T](dev, len(v))
	must(t, "NewDeviceBuffer", err)
	t.Cleanup(func() { d.Close() })
	if len(v) > 0 {
		must(t, "CopyFromHost", d.CopyFromHost(v))
	}
	return d
}

func ewPoisoned[T Numeric](t testing.TB, dev Device, n int) *DeviceBuffer[T] {
	t.Helper()
	d, err := NewDeviceBuffer[T](dev, n)
	must(t, "NewDeviceBuffer", err)
	t.Cleanup(func() { d.Close() })
	if n > 0 {
		must(t, "Memset", d.Memset(0xFF))
	}
	return d
}

// ewCheck compares got with want inside [off, off+n) and requires the 0xFF poison elsewhere.
func ewCheck[T Float](t *testing.T, what string, got, want []T, off, n int) {
	t.Helper()
	bad := 0
	for i := range got {
		var ok bool
		if i >= off && i < off+n {
			ok = ewSame(got[i], want[i])
		} else {
			ok = ewIsPoison(got[i])
		}
		if !ok {
			if bad < 5 {
				t.Errorf("%s: [%d] = %v (bits %#x), want %v (bits %#x)", what, i, toF64(got[i]),
					ewBits(got[i]), toF64(want[i]), ewBits(want[i]))
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d elements wrong", what, bad, len(got))
	}
}

// ewIsPoison reports whether v has all bits set (the 0xFF memset).
func ewIsPoison[T Float](v T) bool {
	switch x := any(v).(type) {
	case Float16:
		return x == 0xFFFF
	case BFloat16:
		return x == 0xFFFF
	case float32:
		return math.Float32bits(x) == 0xFFFFFFFF
	case float64:
		return math.Float64bits(x) == 0xFFFFFFFFFFFFFFFF
	}
	return false
}

var ewSizes = []int{1, 2, 7, 8, 9, 255, 257, 4099, 1_000_003}

func testElementwise[T Float](t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	for _, n := range ewSizes {
		a, b := ewRandom[T](r, n), ewRandom[T](r, n)
		da, db := ewUpload(t, dev, a), ewUpload(t, dev, b)
		for _, op := range []BinaryOp{OpAdd, OpSub, OpMul, OpDiv} {
			dc := ewPoisoned[T](t, dev, n)
			must(t, op.String(), Binary(s, op, da, db, dc))
			got := make([]T, n)
			must(t, "CopyToHost", dc.CopyToHost(got))
			want := make([]T, n)
			for i := range want {
				want[i] = ewBinaryRef(op, a[i], b[i])
			}
			ewCheck(t, fmt.Sprintf("%s n=%d", op, n), got, want, 0, n)
			must(t, "Close", dc.Close())
		}
		// Ranges: equal misalignment (vector path after a head) and different ones (scalar).
		for _, o := range [][3]int{{1, 1, 1}, {0, 1, 3}} {
			if n < 4 {
				continue
			}
			m := n - 3
			dc := ewPoisoned[T](t, dev, n)
			must(t, "BinaryRange", BinaryRange(s, OpMul, da, o[0], db, o[1], dc, o[2], m))
			got, want := make([]T, n), make([]T, n)
			must(t, "CopyToHost", dc.CopyToHost(got))
			for i := 0; i < m; i++ {
				want[o[2]+i] = ewBinaryRef(OpMul, a[o[0]+i], b[o[1]+i])
			}
			ewCheck(t, fmt.Sprintf("BinaryRange mul n=%d offsets %v", m, o), got, want, o[2], m)
			must(t, "Close", dc.Close())
		}

		// Axpy, in place on a copy of b; then Scale and Fill.
		alpha := r.Float64()*6 - 3
		dy := ewUpload(t, dev, b)
		must(t, "Axpy", Axpy(s, alpha, da, dy))
		got, want := make([]T, n), make([]T, n)
		must(t, "CopyToHost", dy.CopyToHost(got))
		for i := range want {
			if ewIs64[T]() {
				want[i] = fromF64[T](math.FMA(alpha, toF64(a[i]), toF64(b[i])))
			} else {
				want[i] = fromF64[T](float64(ewFMA32(float32(alpha), float32(toF64(a[i])),
					float32(toF64(b[i])))))
			}
		}
		ewCheck(t, fmt.Sprintf("Axpy alpha=%v n=%d", alpha, n), got, want, 0, n)

		must(t, "Scale", Scale(s, alpha, dy))
		must(t, "CopyToHost", dy.CopyToHost(got))
		for i := range want {
			if ewIs64[T]() {
				want[i] = fromF64[T](alpha * toF64(want[i]))
			} else {
				want[i] = fromF64[T](float64(float32(alpha) * float32(toF64(want[i]))))
			}
		}
		ewCheck(t, fmt.Sprintf("Scale n=%d", n), got, want, 0, n)

		if n > 2 {
			must(t, "Memset", dy.Memset(0xFF))
			v := alpha * 1.0000001234567
			must(t, "FillRange", FillRange(s, v, dy, 1, n-2))
			must(t, "CopyToHost", dy.CopyToHost(got))
			for i := range want {
				want[i] = fromF64[T](v)
			}
			ewCheck(t, fmt.Sprintf("FillRange n=%d", n-2), got, want, 1, n-2)
		}
	}
}

func TestElementwiseFloat32(t *testing.T)  { testElementwise[float32](t) }
func TestElementwiseFloat64(t *testing.T)  { testElementwise[float64](t) }
func TestElementwiseFloat16(t *testing.T)  { testElementwise[Float16](t) }
func TestElementwiseBFloat16(t *testing.T) { testElementwise[BFloat16](t) }

// testCastFrom casts random From values and rounding probes to every type.
func testCastFrom[From Float](t *testing.T, dev Device, s *Stream, r *rand.Rand) {
	n := 100_003
	src := ewRandom[From](r, n)
	// Probes: ties of the 16-bit types and their neighbours, limits, zeros, Inf, NaN.
	probes := []float64{0, math.Copysign(0, -1), 65504, 65519.99, 65520, -65520, 1e-8, 6e-8,
		3.4e38, 3.5e38, 1e300, math.Inf(1), math.Inf(-1), math.NaN()}
	for i := 0; i < 1000; i++ {
		x := math.Ldexp(0.5+r.Float64(), r.IntN(50)-30)
		for _, tie := range []float64{
			float64(Float16From(float32(x)).Float32()) + math.Ldexp(1, math.Ilogb(x)-11),
			float64(BFloat16From(float32(x)).Float32()) + math.Ldexp(1, math.Ilogb(x)-8),
		} {
			probes = append(probes, tie, math.Nextafter(tie, math.Inf(1)), math.Nextafter(tie, 0))
		}
	}
	for i, p := range probes {
		src[i] = fromF64[From](p)
	}
	dsrc := ewUpload(t, dev, src)
	castTo[From, float32](t, dev, s, dsrc, src)
	castTo[From, float64](t, dev, s, dsrc, src)
	castTo[From, Float16](t, dev, s, dsrc, src)
	castTo[From, BFloat16](t, dev, s, dsrc, src)
}

func castTo[From, To Float](t *testing.T, dev Device, s *Stream, dsrc *DeviceBuffer[From], src []From) {
	t.Helper()
	n := len(src)
	dst := ewPoisoned[To](t, dev, n)
	must(t, "Cast", Cast(s, dsrc, dst))
	got, want := make([]To, n), make([]To, n)
	must(t, "CopyToHost", dst.CopyToHost(got))
	for i := range want {
		want[i] = fromF64[To](toF64(src[i]))
	}
	var f From
	var to To
	ewCheck(t, fmt.Sprintf("Cast %T -> %T", f, to), got, want, 0, n)
	// A range, from an odd offset to an odd offset.
	dst2 := ewPoisoned[To](t, dev, n)
	must(t, "CastRange", CastRange(s, dsrc, 3, dst2, 1, n-5))
	must(t, "CopyToHost", dst2.CopyToHost(got))
	for i := 0; i < n-5; i++ {
		want[1+i] = fromF64[To](toF64(src[3+i]))
	}
	ewCheck(t, fmt.Sprintf("CastRange %T -> %T", f, to), got, want, 1, n-5)
}

func TestCast(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	testCastFrom[float32](t, dev, s, r)
	testCastFrom[float64](t, dev, s, r)
	testCastFrom[Float16](t, dev, s, r)
	testCastFrom[BFloat16](t, dev, s, r)
}

func TestElementwiseBadArguments(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	a, b := ewPoisoned[float32](t, dev, 100), ewPoisoned[float32](t, dev, 99)
	wantErr(t, "Add lengths differ", Add(s, a, b, a), ErrOutOfRange)
	wantErr(t, "Add nil", Add(s, a, nil, a), ErrInvalidHandle)
	wantErr(t, "Add nil stream", Add(nil, a, a, a), ErrInvalidHandle)
	wantErr(t, "BinaryRange beyond", BinaryRange(s, OpAdd, a, 2, a, 0, b, 0, 99), ErrOutOfRange)
	wantErr(t, "BinaryRange negative offset", BinaryRange(s, OpAdd, a, -1, a, 0, b, 0, 9),
		ErrInvalidArgument)
	wantErr(t, "BinaryRange negative n", BinaryRange(s, OpAdd, a, 0, a, 0, b, 0, -9),
		ErrInvalidArgument)
	wantErr(t, "BinaryRange bad op", BinaryRange(s, BinaryOp(9), a, 0, a, 0, b, 0, 9),
		ErrInvalidArgument)
	wantErr(t, "partial overlap", BinaryRange(s, OpAdd, a, 0, a, 0, a, 1, 50),
		ErrInvalidArgument)
	wantErr(t, "AxpyRange beyond", AxpyRange(s, 2, a, 0, b, 1, 99), ErrOutOfRange)
	wantErr(t, "ScaleRange beyond", ScaleRange(s, 2, b, 98, 2), ErrOutOfRange)
	wantErr(t, "Fill nil", Fill[float32](s, 1, nil), ErrInvalidHandle)
	h := ewPoisoned[Float16](t, dev, 100)
	wantErr(t, "Cast lengths differ", Cast(s, b, h), ErrOutOfRange)
	must(t, "Cast in place, same type", Cast(s, a, a))
	closed := ewPoisoned[float32](t, dev, 100)
	must(t, "Close", closed.Close())
	wantErr(t, "Add closed", Add(s, a, closed, a), ErrClosed)
	must(t, "Synchronize", s.Synchronize())
}

// The queueing calls allocate nothing on success: one cgo call each.
func TestElementwiseReduceAllocations(t *testing.T) {
	dev := requireGPU(t)
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	a, b := ewPoisoned[float32](t, dev, 1024), ewPoisoned[float32](t, dev, 1024)
	h := ewPoisoned[BFloat16](t, dev, 1024)
	out := ewPoisoned[float32](t, dev, 32)
	idx := ewPoisoned[int64](t, dev, 1)
	must(t, "Fill", Fill(s, 1, a))
	must(t, "Fill", Fill(s, 2, b))
	var failed error
	keep := func(err error) {
		if err != nil && failed == nil {
			failed = err
		}
	}
	for name, f := range map[string]func(){
		"Add":     func() { keep(Add(s, a, b, b)) },
		"Axpy":    func() { keep(Axpy(s, 0.5, a, b)) },
		"Scale":   func() { keep(Scale(s, 0.5, b)) },
		"Fill":    func() { keep(Fill(s, 3, b)) },
		"Cast":    func() { keep(Cast(s, a, h)) },
		"Sum":     func() { keep(Sum(s, a, out)) },
		"Dot":     func() { keep(Dot(s, a, b, out)) },
		"ArgMax":  func() { keep(ArgMax(s, a, idx)) },
		"SumRows": func() { keep(SumRows(s, a, 32, 32, out)) },
	} {
		if allocs := testing.AllocsPerRun(100, f); allocs != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, allocs)
		}
	}
	must(t, "Synchronize", s.Synchronize())
	if failed != nil {
		t.Fatal(failed)
	}
}
