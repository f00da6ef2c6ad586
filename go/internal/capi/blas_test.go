//go:build cgo

package capi

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// GEMM results are compared with a naive CPU GEMM accumulated in float64 on the exact values the
// GPU received, so only the GPU's arithmetic is measured. Bounds on the relative Frobenius norm
// ||C - C_ref|| / ||C_ref||:
//
//   - float32, exact mode: 1e-6·sqrt(k). Rounding errors of k-term float32 sums of random-sign
//     terms grow like u·sqrt(k) (u = 6e-8); the factor ~16 is margin. TF32 would give ~1e-3 and
//     fail, so this also proves the exact mode does not use TF32.
//   - TF32: 4e-3. Each factor loses 13 mantissa bits (2^-11 rounded, 2^-10 truncated).
//   - Float16, BFloat16: 1e-2. Inputs are exact (multiples of 1/128), accumulation is float32;
//     rounding C to 11 or 8 significant bits dominates (at most 2e-3).
//   - float64: 1e-12 (u = 1.1e-16).
//
// Each element must also satisfy |c - ref| <= tol·(|alpha|·(|A||B|)ij + |beta·C0ij|), so that
// one wrong element cannot hide in the norm of a large matrix; NaN (left by the poisoning in an
// unwritten element) fails both checks.

type gemmPrec struct {
	name    string
	compute GEMMCompute
	tol     float64
	sqrtK   bool
}

func precisionOf[T Float](compute GEMMCompute) gemmPrec {
	var z T
	switch any(z).(type) {
	case Float16:
		return gemmPrec{"fp16", compute, 1e-2, false}
	case BFloat16:
		return gemmPrec{"bf16", compute, 1e-2, false}
	case float64:
		return gemmPrec{"fp64", compute, 1e-12, false}
	}
	if compute == ComputeTF32 {
		return gemmPrec{"tf32", compute, 4e-3, false}
	}
	return gemmPrec{"fp32", compute, 1e-6, true}
}

func (p gemmPrec) bound(k int) float64 {
	if p.sqrtK {
		return p.tol * math.Sqrt(float64(k))
	}
	return p.tol
}

// randMatrixData returns n values in [-1, 1] exactly representable in T: multiples of 1/128
// for Float16 and BFloat16.
func randMatrixData[T Float](r *rand.Rand, n int) []T {
	v := make([]T, n)
	var z T
	switch any(z).(type) {
	case Float16, BFloat16:
		for i := range v {
			v[i] = fromF64[T](float64(r.IntN(257)-128) / 128)
		}
	default:
		for i := range v {
			v[i] = fromF64[T](r.Float64()*2 - 1)
		}
	}
	return v
}

// span is the number of elements a row-major rows x cols matrix with leading dimension ld
// covers.
func blasSpan(rows, cols, ld int) int { return (rows-1)*ld + cols }

// checkGEMM compares got (the whole C buffer) with alpha·op(A)·op(B) + beta·c0 for every batch
// entry, and checks that elements outside the C matrices still hold c0's bits.
func checkGEMM[T Float](t *testing.T, what string, p gemmPrec, cfg GEMMConfig, alpha, beta float64,
	a, b, c0, got []T) {
	t.Helper()
	lda, ldb, ldc := cfg.LDA, cfg.LDB, cfg.LDC
	if lda == 0 {
		lda = map[bool]int{false: cfg.K, true: cfg.M}[cfg.TransA]
	}
	if ldb == 0 {
		ldb = map[bool]int{false: cfg.N, true: cfg.K}[cfg.TransB]
	}
	if ldc == 0 {
		ldc = cfg.N
	}
	batch := max(cfg.Batch, 1)
	inside := make([]bool, len(got))
	tol := p.bound(cfg.K)
	var err2, ref2 float64
	bad := 0
	for q := 0; q < batch; q++ {
		oa, ob, oc := cfg.OffsetA+q*cfg.StrideA, cfg.OffsetB+q*cfg.StrideB, cfg.OffsetC+q*cfg.StrideC
		for i := 0; i < cfg.M; i++ {
			for j := 0; j < cfg.N; j++ {
				var acc, mag float64
				for l := 0; l < cfg.K; l++ {
					var x, y float64
					if cfg.TransA {
						x = toF64(a[oa+l*lda+i])
					} else {
						x = toF64(a[oa+i*lda+l])
					}
					if cfg.TransB {
						y = toF64(b[ob+j*ldb+l])
					} else {
						y = toF64(b[ob+l*ldb+j])
					}
					acc += x * y
					mag += math.Abs(x * y)
				}
				ci := oc + i*ldc + j
				inside[ci] = true
				c := 0.0
				if beta != 0 {
					c = toF64(c0[ci])
				}
				ref := alpha*acc + beta*c
				g := toF64(got[ci])
				e := g - ref
				err2 += e * e
				ref2 += ref * ref
				if !(math.Abs(e) <= tol*(math.Abs(alpha)*mag+math.Abs(beta*c))+1e-30) {
					if bad < 3 {
						t.Errorf("%s: C[%d](%d, %d) = %v, want %v", what, q, i, j, g, ref)
					}
					bad++
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d wrong elements", what, bad)
	}
	// With 16-bit data a product can be exactly 0 (a zero element), and then so is ref2: the
	// elementwise check above has compared it already, and rel is 0 unless there was an error.
	rel := 0.0
	if err2 > 0 {
		rel = math.Sqrt(err2 / ref2) // +Inf when ref2 is 0
	}
	if !(rel <= tol) {
		t.Fatalf("%s: relative norm error %.3g > %.3g", what, rel, tol)
	}
	for i := range got {
		if !inside[i] && gemmBits(got[i]) != gemmBits(c0[i]) {
			t.Fatalf("%s: element %d outside C was written", what, i)
		}
	}
}

func gemmBits[T Float](v T) uint64 {
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
	return 0
}

func blasUpload[T Numeric](t testing.TB, dev Device, v []T) *DeviceBuffer[T] {
	t.Helper()
	d, err := NewDeviceBuffer[T](dev, len(v))
	must(t, "NewDeviceBuffer", err)
	closeT(t, "buffer", d)
	must(t, "CopyFromHost", d.CopyFromHost(v))
	return d
}

// runGEMM runs one GEMM on fresh random data and checks it. With beta == 0, C is poisoned
// (0xFF bytes: NaN) first, so an unwritten element fails.
func runGEMM[T Float](t *testing.T, s *Stream, r *rand.Rand, compute GEMMCompute,
	cfg GEMMConfig, alpha, beta float64) {
	t.Helper()
	dev := s.Device()
	p := precisionOf[T](compute)
	cfg.Compute = compute
	ar, ac := cfg.M, cfg.K
	if cfg.TransA {
		ar, ac = ac, ar
	}
	br, bc := cfg.K, cfg.N
	if cfg.TransB {
		br, bc = bc, br
	}
	lda, ldb, ldc := max(cfg.LDA, ac), max(cfg.LDB, bc), max(cfg.LDC, cfg.N)
	batch := max(cfg.Batch, 1)
	na := cfg.OffsetA + (batch-1)*cfg.StrideA + blasSpan(ar, ac, lda) + 3
	nb := cfg.OffsetB + (batch-1)*cfg.StrideB + blasSpan(br, bc, ldb) + 3
	nc := cfg.OffsetC + (batch-1)*cfg.StrideC + blasSpan(cfg.M, cfg.N, ldc) + 3
	a, b := randMatrixData[T](r, na), randMatrixData[T](r, nb)
	da, db := blasUpload(t, dev, a), blasUpload(t, dev, b)
	var c0 []T
	var dc *DeviceBuffer[T]
	if beta == 0 {
		dc = blasUpload(t, dev, make([]T, nc))
		must(t, "poison C", dc.MemsetAsync(s, 0xFF))
		c0 = make([]T, nc)
		must(t, "synchronize", s.Synchronize())
		must(t, "read poison", dc.CopyToHost(c0))
	} else {
		c0 = randMatrixData[T](r, nc)
		dc = blasUpload(t, dev, c0)
	}
	what := fmt.Sprintf("%s %+v", p.name, cfg)
	must(t, what, GEMMEx(s, cfg, alpha, da, db, beta, dc))
	got := make([]T, nc)
	must(t, "CopyToHost", dc.CopyToHost(got)) // ordered after the GEMM
	checkGEMM(t, what, p, cfg, alpha, beta, a, b, c0, got)
}

var gemmSizes = [][3]int{{1, 1, 1}, {17, 31, 13}, {64, 33, 127}, {130, 67, 257}}

func testGEMMAll[T Float](t *testing.T, compute GEMMCompute) {
	dev := requireGPU(t)
	r := newRand(t)
	s := benchStream(t, dev)
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			for i, d := range gemmSizes {
				pad := 0
				if i%2 == 1 {
					pad = 3
				}
				cfg := GEMMConfig{TransA: ta, TransB: tb, M: d[0], N: d[1], K: d[2], OffsetA: 2, OffsetC: 1}
				if pad > 0 {
					ac, bc := d[2], d[1]
					if ta {
						ac = d[0]
					}
					if tb {
						bc = d[2]
					}
					cfg.LDA, cfg.LDB, cfg.LDC = ac+pad, bc+pad, d[1]+pad
				}
				if i%2 == 0 {
					runGEMM[T](t, s, r, compute, cfg, 1.5, 0)
				} else {
					runGEMM[T](t, s, r, compute, cfg, 0.5, -0.75)
				}
			}
		}
	}
	// Batched: gaps between the matrices, and A shared by every product.
	runGEMM[T](t, s, r, compute, GEMMConfig{TransA: true, M: 19, N: 23, K: 29, Batch: 5,
		StrideA: 29*19 + 4, StrideB: 29*23 + 1, StrideC: 19*23 + 7}, 1, 0)
	runGEMM[T](t, s, r, compute, GEMMConfig{TransB: true, M: 33, N: 5, K: 41, Batch: 3,
		StrideA: 0, StrideB: 5 * 41, StrideC: 33 * 5}, -1, 0.25)
	// Larger, with k large enough that TF32 could not pass as exact float32.
	runGEMM[T](t, s, r, compute, GEMMConfig{M: 257, N: 131, K: 1031}, 1, 0)
}

func TestGEMMFloat32(t *testing.T)  { testGEMMAll[float32](t, ComputeDefault) }
func TestGEMMTF32(t *testing.T)     { testGEMMAll[float32](t, ComputeTF32) }
func TestGEMMFloat16(t *testing.T)  { testGEMMAll[Float16](t, ComputeDefault) }
func TestGEMMBFloat16(t *testing.T) { testGEMMAll[BFloat16](t, ComputeDefault) }
func TestGEMMFloat64(t *testing.T)  { testGEMMAll[float64](t, ComputeDefault) }

func TestMatMul(t *testing.T) {
	dev := requireGPU(t)
	s := benchStream(t, dev)
	// [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]
	a := blasUpload(t, dev, []float32{1, 2, 3, 4, 5, 6})
	b := blasUpload(t, dev, []float32{7, 8, 9, 10, 11, 12})
	c := blasUpload(t, dev, []float32{-1, -1, -1, -1})
	must(t, "MatMul", MatMul(s, a, b, c, 2, 2, 3))
	got := make([]float32, 4)
	must(t, "CopyToHost", c.CopyToHost(got))
	if want := []float32{58, 64, 139, 154}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("MatMul = %v, want %v", got, want)
	}
	// GEMM with transposes: C = Aᵀ·Bᵀ with A 3x2 = [1 4; 2 5; 3 6] and B 2x3 = [7 9 11; 8 10 12].
	at := blasUpload(t, dev, []float32{1, 4, 2, 5, 3, 6})
	bt := blasUpload(t, dev, []float32{7, 9, 11, 8, 10, 12})
	must(t, "GEMM", GEMM(s, true, true, 2, 2, 3, 1, at, 2, bt, 3, 0, c, 2))
	must(t, "CopyToHost", c.CopyToHost(got))
	if want := []float32{58, 64, 139, 154}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("GEMM(T, T) = %v, want %v", got, want)
	}
}

// withGEMMGraphReplay turns the graph replay of small GEMMs on for the test, and off again
// (the default) at its end.
func withGEMMGraphReplay(t *testing.T, maxEntries, maxMACs int) {
	t.Helper()
	must(t, "SetGEMMGraphReplay", SetGEMMGraphReplay(maxEntries, maxMACs))
	t.Cleanup(func() {
		if err := SetGEMMGraphReplay(0, 0); err != nil {
			t.Errorf("SetGEMMGraphReplay(0, 0): %v", err)
		}
	})
}

// Validation of the replay setting is done before any device is touched: the same with or
// without a GPU.
func TestSetGEMMGraphReplayValidation(t *testing.T) {
	wantErr(t, "negative maxEntries", SetGEMMGraphReplay(-1, 0), ErrInvalidArgument)
	wantErr(t, "negative maxMACs", SetGEMMGraphReplay(16, -1), ErrInvalidArgument)
	wantErr(t, "maxMACs above 2^40", SetGEMMGraphReplay(16, 1<<40+1), ErrInvalidArgument)
	must(t, "SetGEMMGraphReplay(0, 0)", SetGEMMGraphReplay(0, 0))
	must(t, "SetGEMMGraphReplay(16, 2^40)", SetGEMMGraphReplay(16, 1<<40))
	must(t, "SetGEMMGraphReplay(0, 0)", SetGEMMGraphReplay(0, 0))
}

// With graph replay on, a repeated small GEMM (captured on its second call, replayed after)
// gives the direct call's result; a replay reads the buffers' current contents; a buffer closed
// and replaced by a new one (likely at the same address) is never served a stale graph; and
// turning replay off goes back to direct calls.
func TestGEMMGraphReplay(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s := benchStream(t, dev)
	withGEMMGraphReplay(t, 16, 512*512*512)
	const m, n, k = 33, 47, 65
	cfg := GEMMConfig{M: m, N: n, K: k}
	p := precisionOf[float32](ComputeDefault)
	av, bv := randMatrixData[float32](r, m*k), randMatrixData[float32](r, k*n)
	a, b := blasUpload(t, dev, av), blasUpload(t, dev, bv)
	c := blasUpload(t, dev, make([]float32, m*n))
	c0 := make([]float32, m*n) // beta = 0: C is only written
	got := make([]float32, m*n)
	gemm := func(what string, b *DeviceBuffer[float32], bv []float32) {
		t.Helper()
		must(t, what, GEMMEx(s, cfg, 1.25, a, b, 0, c))
		must(t, "CopyToHost", c.CopyToHost(got)) // ordered after the GEMM
		checkGEMM(t, what, p, cfg, 1.25, 0, av, bv, c0, got)
	}
	for it := 0; it < 5; it++ {
		gemm(fmt.Sprintf("repeat %d", it), b, bv)
	}
	for it := 0; it < 3; it++ {
		av = randMatrixData[float32](r, m*k)
		must(t, "copy a", a.CopyFromHost(av))
		gemm(fmt.Sprintf("changed A %d", it), b, bv)
	}
	for it := 0; it < 3; it++ {
		must(t, "close B", b.Close())
		var err error
		b, err = NewDeviceBuffer[float32](dev, k*n)
		must(t, "NewDeviceBuffer", err)
		closeT(t, "new B", b)
		bv = randMatrixData[float32](r, k*n)
		must(t, "copy new B", b.CopyFromHost(bv))
		for rep := 0; rep < 3; rep++ {
			gemm(fmt.Sprintf("new B %d, call %d", it, rep), b, bv)
		}
	}
	must(t, "SetGEMMGraphReplay(0, 0)", SetGEMMGraphReplay(0, 0))
	for it := 0; it < 3; it++ {
		av = randMatrixData[float32](r, m*k)
		must(t, "copy a", a.CopyFromHost(av))
		gemm(fmt.Sprintf("replay off %d", it), b, bv)
	}
}

// With graph replay on, repeated identical small GEMMs replay a captured CUDA graph from the
// second call on, one graph per stream: each replay must read the buffers' current data.
func TestGEMMRepeatedOnFreshData(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s1, s2 := benchStream(t, dev), benchStream(t, dev)
	withGEMMGraphReplay(t, 16, 512*512*512)
	const m, n, k = 45, 39, 71
	a, b, c := blasUpload(t, dev, make([]float32, m*k)), blasUpload(t, dev, make([]float32, k*n)), blasUpload(t, dev, make([]float32, m*n))
	cfg := GEMMConfig{M: m, N: n, K: k}
	for it := 0; it < 8; it++ {
		av, bv, cv := randMatrixData[float32](r, m*k), randMatrixData[float32](r, k*n), randMatrixData[float32](r, m*n)
		must(t, "copy a", a.CopyFromHost(av))
		must(t, "copy b", b.CopyFromHost(bv))
		must(t, "copy c", c.CopyFromHost(cv))
		s := s1
		if it%3 == 2 {
			s = s2
		}
		must(t, "GEMMEx", GEMMEx(s, cfg, 0.75, a, b, -1.5, c))
		got := make([]float32, m*n)
		must(t, "CopyToHost", c.CopyToHost(got))
		checkGEMM(t, fmt.Sprintf("iteration %d", it), precisionOf[float32](ComputeDefault), cfg, 0.75, -1.5, av, bv, cv, got)
	}
}

func TestGEMMBadArguments(t *testing.T) {
	dev := requireGPU(t)
	s := benchStream(t, dev)
	a := blasUpload(t, dev, make([]float32, 20)) // 4 x 5
	b := blasUpload(t, dev, make([]float32, 30)) // 5 x 6
	c := blasUpload(t, dev, make([]float32, 24)) // 4 x 6
	small := blasUpload(t, dev, make([]float32, 23))
	ok := GEMMConfig{M: 4, N: 6, K: 5}
	must(t, "valid GEMM", GEMMEx(s, ok, 1, a, b, 0, c))
	for _, tc := range []struct {
		name string
		err  error
		call func() error
	}{
		{"m = 0", ErrInvalidArgument, func() error { return GEMMEx(s, GEMMConfig{N: 6, K: 5}, 1, a, b, 0, c) }},
		{"k < 0", ErrInvalidArgument, func() error { return GEMMEx(s, GEMMConfig{M: 4, N: 6, K: -5}, 1, a, b, 0, c) }},
		{"lda < k", ErrInvalidArgument, func() error { return GEMMEx(s, GEMMConfig{M: 4, N: 6, K: 5, LDA: 4}, 1, a, b, 0, c) }},
		{"ldc < n", ErrInvalidArgument, func() error { return GEMMEx(s, GEMMConfig{M: 4, N: 6, K: 5, LDC: 5}, 1, a, b, 0, c) }},
		{"C too small", ErrOutOfRange, func() error { return GEMMEx(s, ok, 1, a, b, 0, small) }},
		{"B too small for ldb", ErrOutOfRange, func() error { return GEMMEx(s, GEMMConfig{M: 4, N: 6, K: 5, LDB: 7}, 1, a, b, 0, c) }},
		{"offset", ErrOutOfRange, func() error { return GEMMEx(s, GEMMConfig{M: 4, N: 6, K: 5, OffsetA: 1}, 1, a, b, 0, c) }},
		{"negative offset", ErrInvalidArgument, func() error { return GEMMEx(s, GEMMConfig{M: 4, N: 6, K: 5, OffsetB: -1}, 1, a, b, 0, c) }},
		{"batch", ErrOutOfRange, func() error { return GEMMEx(s, GEMMConfig{M: 4, N: 6, K: 5, Batch: 2, StrideC: 24}, 1, a, b, 0, c) }},
		{"C overlaps A", ErrInvalidArgument, func() error { return GEMMEx(s, GEMMConfig{M: 2, N: 2, K: 2}, 1, a, b, 0, a) }},
		{"nil A", ErrInvalidHandle, func() error { return GEMMEx(s, ok, 1, nil, b, 0, c) }},
		{"nil stream", ErrInvalidHandle, func() error { return GEMMEx(nil, ok, 1, a, b, 0, c) }},
		{"unknown compute", ErrInvalidArgument, func() error {
			return GEMMEx(s, GEMMConfig{M: 4, N: 6, K: 5, Compute: 7}, 1, a, b, 0, c)
		}},
	} {
		wantErr(t, tc.name, tc.call(), tc.err)
	}
	d := blasUpload(t, dev, make([]float64, 30))
	wantErr(t, "TF32 with float64", GEMMEx(s, GEMMConfig{M: 4, N: 6, K: 5, Compute: ComputeTF32}, 1, d, d, 0, blasUpload(t, dev, make([]float64, 24))), ErrInvalidArgument)
	closed, err := NewDeviceBuffer[float32](dev, 30)
	must(t, "alloc", err)
	must(t, "close", closed.Close())
	wantErr(t, "closed B", GEMMEx(s, ok, 1, a, closed, 0, c), ErrClosed)
	// The error carries the operation and a message naming the parameter.
	err = GEMMEx(s, GEMMConfig{M: 4, N: 6, K: 5, LDA: 4}, 1, a, b, 0, c)
	if e, ok := err.(*Error); !ok || e.Op != "GEMM" || !blasContainsAll(e.Msg, "lda", "4", "5") {
		t.Errorf("lda error = %v; want op GEMM and a message naming lda", err)
	}
	must(t, "synchronize", s.Synchronize())
}

func blasContainsAll(s string, parts ...string) bool {
	for _, p := range parts {
		found := false
		for i := 0; i+len(p) <= len(s); i++ {
			if s[i:i+len(p)] == p {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Many goroutines, each with its own stream, run GEMMs at once; every result must be right.
func TestGEMMConcurrentGoroutines(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	const workers, iters = 12, 8
	seeds := make([]uint64, workers)
	for i := range seeds {
		seeds[i] = r.Uint64()
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rr := rand.New(rand.NewPCG(seeds[w], 1))
			s, err := NewStream(dev, StreamOptions{NonBlocking: true})
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for it := 0; it < iters; it++ {
				m, n, k := 31+w*3+it, 47-w, 97+it*5
				a, b := randMatrixData[float32](rr, m*k), randMatrixData[float32](rr, k*n)
				da, _ := NewDeviceBufferAsync[float32](s, m*k)
				db, _ := NewDeviceBufferAsync[float32](s, k*n)
				dc, _ := NewDeviceBufferAsync[float32](s, m*n)
				got := make([]float32, m*n)
				err := func() error {
					defer da.Close()
					defer db.Close()
					defer dc.Close()
					if err := s.Synchronize(); err != nil {
						return err
					}
					if err := da.CopyFromHost(a); err != nil {
						return err
					}
					if err := db.CopyFromHost(b); err != nil {
						return err
					}
					if err := dc.MemsetAsync(s, 0xFF); err != nil {
						return err
					}
					if err := MatMul(s, da, db, dc, m, n, k); err != nil {
						return err
					}
					return dc.CopyToHost(got)
				}()
				if err != nil {
					errs <- fmt.Errorf("worker %d iteration %d: %w", w, it, err)
					return
				}
				tol := 1e-6 * math.Sqrt(float64(k))
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						var acc, mag float64
						for l := 0; l < k; l++ {
							acc += float64(a[i*k+l]) * float64(b[l*n+j])
							mag += math.Abs(float64(a[i*k+l]) * float64(b[l*n+j]))
						}
						if g := float64(got[i*n+j]); !(math.Abs(g-acc) <= tol*mag+1e-30) {
							errs <- fmt.Errorf("worker %d iteration %d: C(%d, %d) = %v, want %v", w, it, i, j, g, acc)
							return
						}
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestGEMV(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s := benchStream(t, dev)
	testGEMV[float32](t, s, r, 1e-5)
	testGEMV[float64](t, s, r, 1e-12)
}

func testGEMV[T Real](t *testing.T, s *Stream, r *rand.Rand, tol float64) {
	dev := s.Device()
	for _, trans := range []bool{false, true} {
		for _, d := range [][2]int{{1, 1}, {17, 31}, {257, 130}, {1000, 3}} {
			m, n := d[0], d[1]
			lda := n + 2
			xl, yl := n, m
			if trans {
				xl, yl = m, n
			}
			a := make([]T, blasSpan(m, n, lda))
			x := make([]T, (xl-1)*2+1)
			y0 := make([]T, (yl-1)*3+1)
			for _, v := range [][]T{a, x, y0} {
				for i := range v {
					v[i] = T(r.Float64()*2 - 1)
				}
			}
			da, dx, dy := blasUpload(t, dev, a), blasUpload(t, dev, x), blasUpload(t, dev, y0)
			must(t, "GEMV", GEMV(s, trans, m, n, 0.5, da, lda, dx, 2, -2, dy, 3))
			got := make([]T, len(y0))
			must(t, "CopyToHost", dy.CopyToHost(got))
			for i := range got {
				if i%3 != 0 {
					if got[i] != y0[i] {
						t.Fatalf("GEMV m=%d n=%d trans=%v: y[%d] between the strided elements was written", m, n, trans, i)
					}
					continue
				}
				var acc, mag float64
				for l := 0; l < xl; l++ {
					var av T
					if trans {
						av = a[l*lda+i/3]
					} else {
						av = a[i/3*lda+l]
					}
					acc += float64(av) * float64(x[2*l])
					mag += math.Abs(float64(av) * float64(x[2*l]))
				}
				ref := 0.5*acc - 2*float64(y0[i])
				if e := math.Abs(float64(got[i]) - ref); !(e <= tol*(0.5*mag+2*math.Abs(float64(y0[i])))) {
					t.Fatalf("GEMV m=%d n=%d trans=%v: y[%d] = %v, want %v", m, n, trans, i/3, got[i], ref)
				}
			}
		}
	}
	wantErr(t, "GEMV m = 0", GEMV(s, false, 0, 3, 1, blasUpload(t, dev, make([]T, 9)), 0, blasUpload(t, dev, make([]T, 3)), 1, 0, blasUpload(t, dev, make([]T, 3)), 1), ErrInvalidArgument)
	wantErr(t, "GEMV x too short", GEMV(s, false, 3, 3, 1, blasUpload(t, dev, make([]T, 9)), 0, blasUpload(t, dev, make([]T, 2)), 1, 0, blasUpload(t, dev, make([]T, 3)), 1), ErrOutOfRange)
}

func TestBLASLevel1(t *testing.T) {
	dev := requireGPU(t)
	r := newRand(t)
	s := benchStream(t, dev)
	testLevel1[float32](t, s, r, 1e-5)
	testLevel1[float64](t, s, r, 1e-13)
}

func testLevel1[T Real](t *testing.T, s *Stream, r *rand.Rand, tol float64) {
	dev := s.Device()
	for _, n := range []int{1, 17, 1000, 1_000_003} {
		for _, inc := range []int{1, 3} {
			l := (n-1)*inc + 1
			x, y := make([]T, l), make([]T, l)
			for i := range x {
				x[i], y[i] = T(r.Float64()*2-1), T(r.Float64()*2-1)
			}
			dx, dy := blasUpload(t, dev, x), blasUpload(t, dev, y)
			res := blasUpload(t, dev, make([]T, 4))
			must(t, "poison", res.MemsetAsync(s, 0xFF))
			must(t, "BLASDot", BLASDot(s, n, dx, inc, dy, inc, res, 1))
			must(t, "BLASNrm2", BLASNrm2(s, n, dx, inc, res, 2))
			must(t, "BLASAxpy", BLASAxpy(s, n, 0.25, dx, inc, dy, inc))
			must(t, "BLASScal", BLASScal(s, n, -3, dx, inc))
			got := make([]T, 4)
			must(t, "CopyToHost", res.CopyToHost(got))
			var dot, mag, nrm float64
			for i := 0; i < l; i += inc {
				dot += float64(x[i]) * float64(y[i])
				mag += math.Abs(float64(x[i]) * float64(y[i]))
				nrm += float64(x[i]) * float64(x[i])
			}
			nrm = math.Sqrt(nrm)
			what := fmt.Sprintf("n=%d inc=%d", n, inc)
			if !(math.Abs(float64(got[1])-dot) <= tol*mag+1e-30) {
				t.Fatalf("%s: dot = %v, want %v", what, got[1], dot)
			}
			if !(math.Abs(float64(got[2])-nrm) <= tol*nrm) {
				t.Fatalf("%s: nrm2 = %v, want %v", what, got[2], nrm)
			}
			if !math.IsNaN(float64(got[0])) || !math.IsNaN(float64(got[3])) {
				t.Fatalf("%s: result elements 0 and 3 were written: %v", what, got)
			}
			gx, gy := make([]T, l), make([]T, l)
			must(t, "CopyToHost", dx.CopyToHost(gx))
			must(t, "CopyToHost", dy.CopyToHost(gy))
			for i := range gx {
				wx, wy := float64(x[i]), float64(y[i])
				if i%inc == 0 {
					wx, wy = -3*wx, 0.25*float64(x[i])+wy
				}
				if !(math.Abs(float64(gx[i])-wx) <= tol*math.Abs(wx)) ||
					!(math.Abs(float64(gy[i])-wy) <= tol*(math.Abs(0.25*float64(x[i]))+math.Abs(float64(y[i])))) {
					t.Fatalf("%s: element %d: x = %v (want %v), y = %v (want %v)", what, i, gx[i], wx, gy[i], wy)
				}
			}
		}
	}
	x := blasUpload(t, dev, make([]T, 10))
	wantErr(t, "axpy n too large", BLASAxpy(s, 11, 1, x, 1, blasUpload(t, dev, make([]T, 10)), 1), ErrOutOfRange)
	wantErr(t, "scal n = 0", BLASScal(s, 0, 1, x, 1), ErrInvalidArgument)
	wantErr(t, "dot negative index", BLASDot(s, 4, x, 1, x, 1, blasUpload(t, dev, make([]T, 1)), -1), ErrInvalidArgument)
	wantErr(t, "nrm2 index out of range", BLASNrm2(s, 4, x, 1, blasUpload(t, dev, make([]T, 1)), 1), ErrOutOfRange)
	wantErr(t, "dot result overlaps x", BLASDot(s, 4, x, 1, x, 1, x, 2), ErrInvalidArgument)
	must(t, "synchronize", s.Synchronize())
}

// The GEMM hot path allocates nothing: one cgo call with the parameters passed by value.
func TestGEMMAllocations(t *testing.T) {
	dev := requireGPU(t)
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	s := benchStream(t, dev)
	a := blasUpload(t, dev, make([]float32, 64*64))
	var failed error
	c := blasUpload(t, dev, make([]float32, 64*64))
	allocs := testing.AllocsPerRun(100, func() {
		if err := MatMul(s, a, a, c, 64, 64, 64); err != nil && failed == nil {
			failed = err
		}
	})
	must(t, "synchronize", s.Synchronize())
	if failed != nil {
		t.Fatal(failed)
	}
	if allocs != 0 {
		t.Errorf("MatMul: %v allocations per call, want 0", allocs)
	}
}

// ClearBLASCache releases the idle handles; the next GEMM creates one again and is still right.
func TestClearBLASCache(t *testing.T) {
	must(t, "ClearBLASCache before any GEMM", ClearBLASCache())
	dev := requireGPU(t)
	r := newRand(t)
	s := benchStream(t, dev)
	cfg := GEMMConfig{M: 37, N: 29, K: 41, TransB: true}
	runGEMM[float32](t, s, r, ComputeDefault, cfg, 1, 0)
	must(t, "synchronize", s.Synchronize())
	before, err := dev.PoolStats()
	must(t, "PoolStats", err)
	must(t, "ClearBLASCache", ClearBLASCache())
	after, err := dev.PoolStats()
	must(t, "PoolStats", err)
	// A workspace is 4 MiB (32 MiB from Hopper on), taken from the device's pool.
	if before.Used < after.Used+4<<20 {
		t.Errorf("pool use %d -> %d bytes: the workspaces were not freed", before.Used, after.Used)
	}
	runGEMM[float32](t, s, r, ComputeDefault, GEMMConfig{M: 31, N: 43, K: 17, TransA: true}, 1, 0.5)
	must(t, "ClearBLASCache", ClearBLASCache())
}
