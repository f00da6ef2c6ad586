//go:build cgo

package capi

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// CPU references for the reductions: compensated (Neumaier) float64 sums, whose own error (2
// units of 2^-53 relative to sum|x|) is far below float32's bounds and covered by two extra
// units for float64. The bounds are the documented ones: Sum 32u*sum|x|, Dot 33u*sum|x*y|,
// Norm2 18u relative; Min, Max and ArgMax exact. Outputs are poisoned (0xFF: NaN, or -1 for
// indices) before each run.

type neumaier struct{ s, c float64 }

func (k *neumaier) add(x float64) {
	t := k.s + x
	if math.Abs(k.s) >= math.Abs(x) {
		k.c += (k.s - t) + x
	} else {
		k.c += (x - t) + k.s
	}
	k.s = t
}

func (k *neumaier) value() float64 { return k.s + k.c }

func redUnit[T Real]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 0x1p-24
	}
	return 0x1p-53
}

// redRef returns the reference value of op over x (and y) and its allowed error.
func redRef[T Real](op ReduceOp, x, y []T) (want, bound float64) {
	u := redUnit[T]()
	var sum, abs neumaier
	best, bestI := 0.0, 0
	for i, v := range x {
		f := float64(v)
		switch op {
		case ReduceSum:
			sum.add(f)
			abs.add(math.Abs(f))
		case ReduceDot:
			p := f * float64(y[i]) // exact for float32; one rounding (covered) for float64
			sum.add(p)
			abs.add(math.Abs(p))
		case ReduceNorm2:
			sum.add(f * f)
		case ReduceMin:
			if i == 0 || math.IsNaN(f) || (!math.IsNaN(best) && f < best) {
				best = f
			}
		case ReduceMax:
			if i == 0 || math.IsNaN(f) || (!math.IsNaN(best) && f > best) {
				best = f
			}
		case ReduceArgMax:
			if i == 0 || (math.IsNaN(f) && !math.IsNaN(best)) || (!math.IsNaN(best) && f > best) {
				best, bestI = f, i
			}
		}
	}
	switch op {
	case ReduceSum:
		return sum.value(), 34 * u * abs.value()
	case ReduceDot:
		return sum.value(), 35 * u * abs.value()
	case ReduceNorm2:
		n := math.Sqrt(sum.value())
		return n, 20 * u * n
	case ReduceArgMax:
		return float64(bestI), 0
	}
	return best, 0
}

func redClose(got, want, bound float64) bool {
	if bound == 0 {
		return got == want || (math.IsNaN(got) && math.IsNaN(want))
	}
	return math.Abs(got-want) <= bound // false for NaN
}

func redUniform[T Real](r *rand.Rand, n int) []T {
	v := make([]T, n)
	for i := range v {
		v[i] = T(r.Float64()*2 - 1)
	}
	return v
}

// redRun queues op over the whole of x (and y) into a poisoned output and returns the result.
func redRun[T Real](t *testing.T, s *Stream, op ReduceOp, x, y *DeviceBuffer[T]) float64 {
	t.Helper()
	dev := s.Device()
	if op == ReduceArgMax {
		out := ewPoisoned[int64](t, dev, 1)
		must(t, "ArgMax", ArgMax(s, x, out))
		var v [1]int64
		must(t, "CopyToHost", out.CopyToHost(v[:]))
		return float64(v[0])
	}
	out := ewPoisoned[T](t, dev, 1)
	var err error
	switch op {
	case ReduceSum:
		err = Sum(s, x, out)
	case ReduceMin:
		err = Min(s, x, out)
	case ReduceMax:
		err = Max(s, x, out)
	case ReduceDot:
		err = Dot(s, x, y, out)
	case ReduceNorm2:
		err = Norm2(s, x, out)
	}
	must(t, op.opName(false), err)
	var v [1]T
	must(t, "CopyToHost", out.CopyToHost(v[:]))
	return float64(v[0])
}

var redOps = []ReduceOp{ReduceSum, ReduceMin, ReduceMax, ReduceArgMax, ReduceDot, ReduceNorm2}

func testReduce[T Real](t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	for _, n := range []int{1, 3, 33, 257, 4099, 32768, 32769, 1_000_003, 4_000_037} {
		x, y := redUniform[T](r, n), redUniform[T](r, n)
		dx, dy := ewUpload(t, dev, x), ewUpload(t, dev, y)
		for _, op := range redOps {
			got := redRun(t, s, op, dx, dy)
			want, bound := redRef(op, x, y)
			if !redClose(got, want, bound) {
				t.Fatalf("%s n=%d: got %v, want %v within %v (error %v)", op.opName(false), n, got,
					want, bound, math.Abs(got-want))
			}
		}
		// The ...Value forms.
		sv, err := SumValue(s, dx)
		must(t, "SumValue", err)
		if want, bound := redRef(ReduceSum, x, y); !redClose(float64(sv), want, bound) {
			t.Fatalf("SumValue n=%d: got %v, want %v within %v", n, sv, want, bound)
		}
		am, err := ArgMaxValue(s, dx)
		must(t, "ArgMaxValue", err)
		if want, _ := redRef(ReduceArgMax, x, y); am != int(want) {
			t.Fatalf("ArgMaxValue n=%d: got %d, want %v", n, am, want)
		}
		dv, err := DotValue(s, dx, dy)
		must(t, "DotValue", err)
		if want, bound := redRef(ReduceDot, x, y); !redClose(float64(dv), want, bound) {
			t.Fatalf("DotValue n=%d: got %v, want %v within %v", n, dv, want, bound)
		}
	}
}

func TestReduceFloat32(t *testing.T) { testReduce[float32](t) }
func TestReduceFloat64(t *testing.T) { testReduce[float64](t) }

func testReduceRows[T Real](t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	for _, sh := range [][2]int{{1, 1}, {5, 1}, {1, 7}, {7, 33}, {9, 1024}, {3, 1025}, {64, 4099}, {1000, 3}} {
		rows, cols := sh[0], sh[1]
		x, y := redUniform[T](r, rows*cols), redUniform[T](r, rows*cols)
		dx, dy := ewUpload(t, dev, x), ewUpload(t, dev, y)
		for _, op := range redOps {
			got := make([]float64, rows)
			if op == ReduceArgMax {
				out := ewPoisoned[int64](t, dev, rows)
				must(t, "ArgMaxRows", ArgMaxRows(s, dx, rows, cols, out))
				v := make([]int64, rows)
				must(t, "CopyToHost", out.CopyToHost(v))
				for i := range v {
					got[i] = float64(v[i])
				}
			} else {
				out := ewPoisoned[T](t, dev, rows)
				switch op {
				case ReduceSum:
					err = SumRows(s, dx, rows, cols, out)
				case ReduceMin:
					err = MinRows(s, dx, rows, cols, out)
				case ReduceMax:
					err = MaxRows(s, dx, rows, cols, out)
				case ReduceDot:
					err = DotRows(s, dx, dy, rows, cols, out)
				case ReduceNorm2:
					err = Norm2Rows(s, dx, rows, cols, out)
				}
				must(t, op.opName(true), err)
				v := make([]T, rows)
				must(t, "CopyToHost", out.CopyToHost(v))
				for i := range v {
					got[i] = float64(v[i])
				}
			}
			for i := 0; i < rows; i++ {
				want, bound := redRef(op, x[i*cols:(i+1)*cols], y[i*cols:(i+1)*cols])
				if !redClose(got[i], want, bound) {
					t.Fatalf("%s %dx%d row %d: got %v, want %v within %v", op.opName(true), rows,
						cols, i, got[i], want, bound)
				}
			}
		}
	}
}

func TestReduceRowsFloat32(t *testing.T) { testReduceRows[float32](t) }
func TestReduceRowsFloat64(t *testing.T) { testReduceRows[float64](t) }

// Sums of values in {-1, 0, 1} are exact in any order below 2^24, so any element dropped or
// counted twice changes the result.
func TestReduceIntegerSumsAreExact(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	for _, n := range []int{1, 4097, 32769, 1_000_003, 16_000_057} {
		x := make([]float32, n)
		want := 0
		for i := range x {
			v := r.IntN(3) - 1
			x[i] = float32(v)
			want += v
		}
		got, err := SumValue(s, ewUpload(t, dev, x))
		must(t, "SumValue", err)
		if got != float32(want) {
			t.Fatalf("n=%d: sum %v, want exactly %d", n, got, want)
		}
	}
}

func TestReduceNaNAndTies(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	x := make([]float64, 70001)
	for i := range x {
		x[i] = float64(i%100) - 50
	}
	dx := ewUpload(t, dev, x)
	if i, err := ArgMaxValue(s, dx); err != nil || i != 99 {
		t.Errorf("ArgMax with ties: %d, %v; want 99 (the first maximum)", i, err)
	}
	x[65432], x[40000] = math.NaN(), math.NaN()
	must(t, "CopyFromHost", dx.CopyFromHost(x))
	if i, err := ArgMaxValue(s, dx); err != nil || i != 40000 {
		t.Errorf("ArgMax with NaN: %d, %v; want 40000 (the first NaN)", i, err)
	}
	for name, f := range map[string]func(*Stream, *DeviceBuffer[float64]) (float64, error){
		"MaxValue": MaxValue[float64], "MinValue": MinValue[float64], "SumValue": SumValue[float64],
	} {
		if v, err := f(s, dx); err != nil || !math.IsNaN(v) {
			t.Errorf("%s with NaN: %v, %v; want NaN", name, v, err)
		}
	}
}

func TestReduceBadArguments(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	x, y := ewPoisoned[float32](t, dev, 100), ewPoisoned[float32](t, dev, 99)
	out, empty := ewPoisoned[float32](t, dev, 10), ewPoisoned[float32](t, dev, 0)
	wantErr(t, "Dot lengths differ", Dot(s, x, y, out), ErrOutOfRange)
	wantErr(t, "Sum into empty", Sum(s, x, empty), ErrOutOfRange)
	wantErr(t, "Sum nil x", Sum(s, nil, out), ErrInvalidHandle)
	wantErr(t, "Sum nil stream", Sum(nil, x, out), ErrInvalidHandle)
	wantErr(t, "Min of nothing", Min(s, empty, out), ErrInvalidArgument)
	if _, err := MaxValue(s, empty); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("MaxValue of nothing: %v, want ErrInvalidArgument", err)
	}
	if v, err := SumValue(s, empty); err != nil || v != 0 {
		t.Errorf("SumValue of nothing: %v, %v; want 0", v, err)
	}
	wantErr(t, "SumRows shape", SumRows(s, x, 10, 11, out), ErrOutOfRange)
	wantErr(t, "SumRows out", SumRows(s, x, 20, 5, out), ErrOutOfRange)
	wantErr(t, "SumRows negative", SumRows(s, x, -10, -10, out), ErrInvalidArgument)
	wantErr(t, "SumRows overflow", SumRows(s, x, math.MaxInt/2, 4, out), ErrOutOfRange)
	must(t, "SumRows", SumRows(s, x, 10, 10, out))
	wantErr(t, "Sum into x", Sum(s, x, x), ErrInvalidArgument)
	must(t, "Close", y.Close())
	wantErr(t, "Dot closed", Dot(s, x, y, out), ErrClosed)
	must(t, "Synchronize", s.Synchronize())
}
