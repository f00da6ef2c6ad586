//go:build cgo

package blas_test

// Tests of the facade: every exported function of the package is called at least once in a
// way that needs no GPU (nil handles, invalid arguments, the process-wide settings), and the
// error is checked for its sentinel, its operation and, where the implementation names the
// argument at fault, its message. The operation names tell which implementation a facade
// forwarded to; the messages tell that the arguments arrived in their places.

import (
	"github.com/cudago/cudago/go/internal/testutil"
	"testing"

	"github.com/cudago/cudago/go/blas"
	"github.com/cudago/cudago/go/cudago"
)

func TestFacadeGEMM(t *testing.T) {
	var s *cudago.Stream
	var a, b, c *cudago.DeviceBuffer[float32]
	ok := blas.GEMMConfig{M: 2, N: 3, K: 4}
	testutil.WantNil(t, "GEMM", blas.GEMM(s, 1, a, b, 0, c, ok), "GEMM", "nil *Stream")
	testutil.WantNil(t, "GEMM float64", blas.GEMM[float64](s, 1, nil, nil, 0, nil, ok), "GEMM", "nil *Stream")
	testutil.WantNil(t, "GEMM Float16", blas.GEMM[cudago.Float16](s, 1, nil, nil, 0, nil, ok), "GEMM", "nil *Stream")
	testutil.WantNil(t, "GEMM BFloat16", blas.GEMM[cudago.BFloat16](s, 1, nil, nil, 0, nil, ok), "GEMM", "nil *Stream")
	tf32 := ok
	tf32.Compute = blas.ComputeTF32
	tf32.Batch = 3
	testutil.WantNil(t, "GEMM TF32 batched", blas.GEMM(s, 1, a, b, 0, c, tf32), "GEMM", "nil *Stream")

	// Every field of the configuration reaches the implementation, which names the first
	// negative one.
	offsets := ok
	offsets.OffsetA, offsets.OffsetB, offsets.OffsetC = 0, -5, 0
	testutil.WantErr(t, "GEMM negative OffsetB", blas.GEMM(s, 1, a, b, 0, c, offsets),
		cudago.ErrInvalidArgument, "GEMM", "negative offset (0, -5, 0)")
	for _, f := range []struct {
		name string
		set  func(*blas.GEMMConfig)
	}{
		{"M", func(g *blas.GEMMConfig) { g.M = -1 }},
		{"N", func(g *blas.GEMMConfig) { g.N = -2 }},
		{"K", func(g *blas.GEMMConfig) { g.K = -3 }},
		{"LDA", func(g *blas.GEMMConfig) { g.LDA = -4 }},
		{"LDB", func(g *blas.GEMMConfig) { g.LDB = -5 }},
		{"LDC", func(g *blas.GEMMConfig) { g.LDC = -6 }},
		{"Batch", func(g *blas.GEMMConfig) { g.Batch = -7 }},
		{"StrideA", func(g *blas.GEMMConfig) { g.StrideA = -8 }},
		{"StrideB", func(g *blas.GEMMConfig) { g.StrideB = -9 }},
		{"StrideC", func(g *blas.GEMMConfig) { g.StrideC = -10 }},
	} {
		cfg := ok
		f.set(&cfg)
		testutil.WantErr(t, "GEMM negative "+f.name, blas.GEMM(s, 1, a, b, 0, c, cfg),
			cudago.ErrInvalidArgument, "GEMM", "negative "+f.name+" -")
	}

	// MatMul(s, a, b, c, m, n, k) is a GEMM of M = m, N = n and K = k.
	testutil.WantNil(t, "MatMul", blas.MatMul(s, a, b, c, 2, 3, 4), "GEMM", "nil *Stream")
	testutil.WantErr(t, "MatMul m", blas.MatMul(s, a, b, c, -1, 3, 4), cudago.ErrInvalidArgument,
		"GEMM", "negative M -1")
	testutil.WantErr(t, "MatMul n", blas.MatMul(s, a, b, c, 2, -2, 4), cudago.ErrInvalidArgument,
		"GEMM", "negative N -2")
	testutil.WantErr(t, "MatMul k", blas.MatMul(s, a, b, c, 2, 3, -3), cudago.ErrInvalidArgument,
		"GEMM", "negative K -3")
}

func TestFacadeGEMV(t *testing.T) {
	var s *cudago.Stream
	var a, x, y *cudago.DeviceBuffer[float64]
	testutil.WantNil(t, "GEMV", blas.GEMV(s, 1, a, x, 0, y, 3, 2, 0, 1, 1, true), "GEMV", "nil *Stream")
	for _, c := range []struct {
		m, n, lda, incx, incy int
		want                  string
	}{
		{-1, 2, 0, 1, 1, "negative m -1"},
		{3, -2, 0, 1, 1, "negative n -2"},
		{3, 2, -3, 1, 1, "negative lda -3"},
		{3, 2, 0, -4, 1, "negative incx -4"},
		{3, 2, 0, 1, -5, "negative incy -5"},
	} {
		testutil.WantErr(t, c.want, blas.GEMV(s, 2, a, x, 0.5, y, c.m, c.n, c.lda, c.incx, c.incy, false),
			cudago.ErrInvalidArgument, "GEMV", c.want)
	}
}

func TestFacadeLevel1(t *testing.T) {
	var s *cudago.Stream
	var x, y, r *cudago.DeviceBuffer[float32]

	testutil.WantNil(t, "Axpy", blas.Axpy(s, 2, x, y, 4, 1, 1), "BLAS axpy", "nil *Stream")
	testutil.WantErr(t, "Axpy n", blas.Axpy(s, 2, x, y, -1, 1, 1), cudago.ErrInvalidArgument,
		"BLAS axpy", "negative n -1")
	testutil.WantErr(t, "Axpy incx", blas.Axpy(s, 2, x, y, 4, -2, 1), cudago.ErrInvalidArgument,
		"BLAS axpy", "negative incx -2")
	testutil.WantErr(t, "Axpy incy", blas.Axpy(s, 2, x, y, 4, 1, -3), cudago.ErrInvalidArgument,
		"BLAS axpy", "negative incy -3")

	testutil.WantNil(t, "Scal", blas.Scal[float64](s, 2, nil, 4, 1), "BLAS scal", "nil *Stream")
	testutil.WantErr(t, "Scal n", blas.Scal(s, 2, x, -1, 1), cudago.ErrInvalidArgument,
		"BLAS scal", "negative n -1")
	testutil.WantErr(t, "Scal incx", blas.Scal(s, 2, x, 4, -2), cudago.ErrInvalidArgument,
		"BLAS scal", "negative incx -2")

	testutil.WantNil(t, "Dot", blas.Dot(s, x, y, r, 0, 4, 1, 1), "BLAS dot", "nil *Stream")
	testutil.WantErr(t, "Dot index", blas.Dot(s, x, y, r, -1, 4, 1, 1), cudago.ErrInvalidArgument,
		"BLAS dot", "negative result index -1")
	testutil.WantErr(t, "Dot n", blas.Dot(s, x, y, r, 0, -2, 1, 1), cudago.ErrInvalidArgument,
		"BLAS dot", "negative n -2")
	testutil.WantErr(t, "Dot incx", blas.Dot(s, x, y, r, 0, 4, -3, 1), cudago.ErrInvalidArgument,
		"BLAS dot", "negative incx -3")
	testutil.WantErr(t, "Dot incy", blas.Dot(s, x, y, r, 0, 4, 1, -4), cudago.ErrInvalidArgument,
		"BLAS dot", "negative incy -4")

	testutil.WantNil(t, "Nrm2", blas.Nrm2(s, x, r, 0, 4, 1), "BLAS nrm2", "nil *Stream")
	testutil.WantErr(t, "Nrm2 index", blas.Nrm2(s, x, r, -1, 4, 1), cudago.ErrInvalidArgument,
		"BLAS nrm2", "negative result index -1")
	testutil.WantErr(t, "Nrm2 n", blas.Nrm2(s, x, r, 0, -2, 1), cudago.ErrInvalidArgument,
		"BLAS nrm2", "negative n -2")
	testutil.WantErr(t, "Nrm2 incx", blas.Nrm2(s, x, r, 0, 4, -3), cudago.ErrInvalidArgument,
		"BLAS nrm2", "negative incx -3")
}

func TestFacadeSettings(t *testing.T) {
	t.Cleanup(func() {
		if err := blas.SetGraphReplay(0, 0); err != nil {
			t.Errorf("SetGraphReplay(0, 0): %v", err)
		}
	})
	testutil.WantErr(t, "SetGraphReplay maxEntries", blas.SetGraphReplay(-1, 0), cudago.ErrInvalidArgument,
		"SetGEMMGraphReplay", "negative maxEntries -1")
	testutil.WantErr(t, "SetGraphReplay maxMACs", blas.SetGraphReplay(16, -2), cudago.ErrInvalidArgument,
		"SetGEMMGraphReplay", "negative maxMACs -2")
	// The bound of maxMACs is checked in C, which names it: the arguments arrive in order.
	testutil.WantErr(t, "SetGraphReplay maxMACs > 2^40", blas.SetGraphReplay(16, 1<<40+1),
		cudago.ErrInvalidArgument, "SetGEMMGraphReplay", "max_macs = 1099511627777")
	if err := blas.SetGraphReplay(1<<40+1, 16); err != nil {
		t.Errorf("SetGraphReplay(2^40+1 entries, 16 MACs): %v", err)
	}
	if err := blas.SetGraphReplay(16, 512*512*512); err != nil {
		t.Errorf("SetGraphReplay(16, 512^3): %v", err)
	}
	if err := blas.ClearCache(); err != nil {
		t.Errorf("ClearCache: %v", err)
	}
	// The compute modes have the values of cudago_blas_compute_t.
	if blas.ComputeDefault != 0 || blas.ComputeTF32 != 1 {
		t.Errorf("compute modes %d, %d", blas.ComputeDefault, blas.ComputeTF32)
	}
}
