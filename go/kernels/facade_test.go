//go:build cgo

package kernels_test

// Tests of the facade: every exported function of the package is called at least once in a
// way that needs no GPU (nil handles and invalid counts and shapes), and the error is checked
// for its sentinel, its operation and, where the implementation names the argument at fault,
// its message. The operation names tell which implementation a facade forwarded to (Sub to
// the subtraction, SumRows to the row sums); the messages tell that the arguments arrived in
// their places.

import (
	"errors"
	"github.com/cudago/cudago/go/internal/testutil"
	"math"
	"strconv"
	"testing"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/kernels"
)

// wantNilStream fails unless err is the error of a nil stream in the operation op.
func wantNilStream(t *testing.T, what string, err error, op string) {
	t.Helper()
	testutil.WantErr(t, what, err, cudago.ErrInvalidHandle, op, "nil *Stream")
	if errors.Is(err, cudago.ErrClosed) {
		t.Errorf("%s: the error of a nil handle matches ErrClosed: %v", what, err)
	}
}

func TestFacadeElementwise(t *testing.T) {
	var s *cudago.Stream
	var a, b, c *cudago.DeviceBuffer[float32]
	var h *cudago.DeviceBuffer[cudago.Float16]
	var bf *cudago.DeviceBuffer[cudago.BFloat16]

	wantNilStream(t, "Add", kernels.Add(s, a, b, c), "elementwise add")
	wantNilStream(t, "Sub", kernels.Sub(s, a, b, c), "elementwise sub")
	wantNilStream(t, "Mul", kernels.Mul(s, a, b, c), "elementwise mul")
	wantNilStream(t, "Div", kernels.Div(s, a, b, c), "elementwise div")
	wantNilStream(t, "Add Float16", kernels.Add(s, h, h, h), "elementwise add")
	for _, op := range []struct {
		op   kernels.BinaryOp
		name string
	}{{kernels.OpAdd, "add"}, {kernels.OpSub, "sub"}, {kernels.OpMul, "mul"}, {kernels.OpDiv, "div"}} {
		if op.op.String() != op.name {
			t.Errorf("BinaryOp(%d).String() = %q, want %q", int(op.op), op.op.String(), op.name)
		}
		wantNilStream(t, "Binary "+op.name, kernels.Binary(s, a, b, c, op.op), "elementwise "+op.name)
		wantNilStream(t, "BinaryRange "+op.name, kernels.BinaryRange(s, a, 0, b, 1, c, 2, 3, op.op),
			"elementwise "+op.name)
		testutil.WantErr(t, "BinaryRange "+op.name+" n", kernels.BinaryRange(s, a, 0, b, 1, c, 2, -4, op.op),
			cudago.ErrInvalidArgument, "elementwise "+op.name, "negative count -4")
	}
	if kernels.OpAdd != 0 || kernels.OpSub != 1 || kernels.OpMul != 2 || kernels.OpDiv != 3 {
		t.Errorf("binary ops %d %d %d %d", kernels.OpAdd, kernels.OpSub, kernels.OpMul, kernels.OpDiv)
	}
	wantNilStream(t, "Binary op 9", kernels.Binary(s, a, b, c, kernels.BinaryOp(9)),
		"elementwise BinaryOp(9)")

	wantNilStream(t, "Axpy", kernels.Axpy(s, 2, a, c), "elementwise axpy")
	wantNilStream(t, "AxpyRange", kernels.AxpyRange(s, 2, bf, 1, bf, 2, 3), "elementwise axpy")
	testutil.WantErr(t, "AxpyRange n", kernels.AxpyRange(s, 2, a, 1, c, 2, -5), cudago.ErrInvalidArgument,
		"elementwise axpy", "negative count -5")
	wantNilStream(t, "Scale", kernels.Scale(s, 2, a), "elementwise scale")
	wantNilStream(t, "ScaleRange", kernels.ScaleRange(s, 2, a, 1, 3), "elementwise scale")
	testutil.WantErr(t, "ScaleRange n", kernels.ScaleRange(s, 2, a, 1, -6), cudago.ErrInvalidArgument,
		"elementwise scale", "negative count -6")
	wantNilStream(t, "Fill", kernels.Fill(s, 1.5, h), "elementwise fill")
	wantNilStream(t, "FillRange", kernels.FillRange(s, 1.5, a, 1, 3), "elementwise fill")
	testutil.WantErr(t, "FillRange n", kernels.FillRange(s, 1.5, a, 1, -7), cudago.ErrInvalidArgument,
		"elementwise fill", "negative count -7")
	wantNilStream(t, "Cast", kernels.Cast(s, a, h), "elementwise cast")
	wantNilStream(t, "Cast float64 to BFloat16", kernels.Cast[float64, cudago.BFloat16](s, nil, bf),
		"elementwise cast")
	wantNilStream(t, "CastRange", kernels.CastRange(s, h, 1, a, 2, 3), "elementwise cast")
	testutil.WantErr(t, "CastRange n", kernels.CastRange(s, h, 1, a, 2, -8), cudago.ErrInvalidArgument,
		"elementwise cast", "negative count -8")
}

func TestFacadeReductions(t *testing.T) {
	var s *cudago.Stream
	var x, y, out *cudago.DeviceBuffer[float64]
	var idx *cudago.DeviceBuffer[int64]

	wantNilStream(t, "Sum", kernels.Sum(s, x, out), "Sum")
	wantNilStream(t, "Min", kernels.Min(s, x, out), "Min")
	wantNilStream(t, "Max", kernels.Max(s, x, out), "Max")
	wantNilStream(t, "ArgMax", kernels.ArgMax(s, x, idx), "ArgMax")
	wantNilStream(t, "Dot", kernels.Dot(s, x, y, out), "Dot")
	wantNilStream(t, "Norm2", kernels.Norm2[float32](s, nil, nil), "Norm2")

	// The Rows forms name the shape as rows x cols: both arrive in their places.
	rows := []struct {
		name string
		call func(rows, cols int) error
	}{
		{"SumRows", func(r, c int) error { return kernels.SumRows(s, x, out, r, c) }},
		{"MinRows", func(r, c int) error { return kernels.MinRows(s, x, out, r, c) }},
		{"MaxRows", func(r, c int) error { return kernels.MaxRows(s, x, out, r, c) }},
		{"ArgMaxRows", func(r, c int) error { return kernels.ArgMaxRows(s, x, idx, r, c) }},
		{"DotRows", func(r, c int) error { return kernels.DotRows(s, x, y, out, r, c) }},
		{"Norm2Rows", func(r, c int) error { return kernels.Norm2Rows(s, x, out, r, c) }},
	}
	for _, r := range rows {
		wantNilStream(t, r.name, r.call(2, 3), r.name)
		testutil.WantErr(t, r.name+" rows", r.call(-2, 3), cudago.ErrInvalidArgument, r.name,
			"negative shape -2 x 3")
		testutil.WantErr(t, r.name+" cols", r.call(2, -3), cudago.ErrInvalidArgument, r.name,
			"negative shape 2 x -3")
	}

	// The Value forms allocate their result on s first.
	const alloc = "buffer alloc async"
	v, err := kernels.SumValue(s, x)
	wantNilStream(t, "SumValue", err, alloc)
	if v != 0 {
		t.Errorf("SumValue = %v with an error", v)
	}
	_, err = kernels.MinValue(s, x)
	wantNilStream(t, "MinValue", err, alloc)
	_, err = kernels.MaxValue[float32](s, nil)
	wantNilStream(t, "MaxValue", err, alloc)
	i, err := kernels.ArgMaxValue(s, x)
	wantNilStream(t, "ArgMaxValue", err, alloc)
	if i != 0 {
		t.Errorf("ArgMaxValue = %d with an error", i)
	}
	_, err = kernels.DotValue(s, x, y)
	wantNilStream(t, "DotValue", err, alloc)
	_, err = kernels.Norm2Value(s, x)
	wantNilStream(t, "Norm2Value", err, alloc)

	if kernels.ReduceSum != 0 || kernels.ReduceMin != 1 || kernels.ReduceMax != 2 ||
		kernels.ReduceArgMax != 3 || kernels.ReduceDot != 4 || kernels.ReduceNorm2 != 5 {
		t.Errorf("reduce ops %d %d %d %d %d %d", kernels.ReduceSum, kernels.ReduceMin,
			kernels.ReduceMax, kernels.ReduceArgMax, kernels.ReduceDot, kernels.ReduceNorm2)
	}
}

func TestFacadeLayout(t *testing.T) {
	var s *cudago.Stream
	var in, out *cudago.DeviceBuffer[uint8]
	var in16, out16 *cudago.DeviceBuffer[cudago.BFloat16]

	wantNilStream(t, "Transpose2D", kernels.Transpose2D(s, in, out, 2, 3), "Transpose2D")
	wantNilStream(t, "NHWCToNCHW", kernels.NHWCToNCHW(s, in16, out16, 1, 2, 3, 4), "NHWCToNCHW")
	wantNilStream(t, "NCHWToNHWC", kernels.NCHWToNHWC(s, in, out, 1, 2, 3, 4), "NCHWToNHWC")

	// Each dimension is checked, and named, in its place.
	for _, c := range []struct {
		what string
		err  error
		op   string
		want string
	}{
		{"Transpose2D rows", kernels.Transpose2D(s, in, out, -2, 3), "Transpose2D", "negative dimension rows = -2"},
		{"Transpose2D cols", kernels.Transpose2D(s, in, out, 2, -3), "Transpose2D", "negative dimension cols = -3"},
		{"NHWCToNCHW n", kernels.NHWCToNCHW(s, in, out, -1, 2, 3, 4), "NHWCToNCHW", "negative dimension n = -1"},
		{"NHWCToNCHW h", kernels.NHWCToNCHW(s, in, out, 1, -2, 3, 4), "NHWCToNCHW", "negative dimension h = -2"},
		{"NHWCToNCHW w", kernels.NHWCToNCHW(s, in, out, 1, 2, -3, 4), "NHWCToNCHW", "negative dimension w = -3"},
		{"NHWCToNCHW c", kernels.NHWCToNCHW(s, in, out, 1, 2, 3, -4), "NHWCToNCHW", "negative dimension c = -4"},
		{"NCHWToNHWC n", kernels.NCHWToNHWC(s, in, out, -1, 2, 3, 4), "NCHWToNHWC", "negative dimension n = -1"},
		{"NCHWToNHWC h", kernels.NCHWToNHWC(s, in, out, 1, -2, 3, 4), "NCHWToNHWC", "negative dimension h = -2"},
		{"NCHWToNHWC w", kernels.NCHWToNHWC(s, in, out, 1, 2, -3, 4), "NCHWToNHWC", "negative dimension w = -3"},
		{"NCHWToNHWC c", kernels.NCHWToNHWC(s, in, out, 1, 2, 3, -4), "NCHWToNHWC", "negative dimension c = -4"},
	} {
		testutil.WantErr(t, c.what, c.err, cudago.ErrInvalidArgument, c.op, c.want)
	}
	// A shape whose element count overflows is refused before the handles are looked at.
	big := math.MaxInt/2 + 1
	testutil.WantErr(t, "Transpose2D overflow", kernels.Transpose2D(s, in, out, 3, big), cudago.ErrOutOfRange,
		"Transpose2D", "shape rows=3 cols="+strconv.Itoa(big)+" overflows")
}
