//go:build cgo

package sgemm_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/cudago/cudago/examples/go/sgemm"
	"github.com/cudago/cudago/go/cudago"
)

// seed is fresh for every run and printed, so a failure can be reproduced.
var seed = func() uint64 {
	s := rand.Uint64()
	fmt.Printf("sgemm tests: seed %d\n", s)
	return s
}()

// setup returns device 0, a stream on it and the compiled kernel; it skips without a GPU, and
// fails instead under CUDAGO_REQUIRE_GPU=1 (as every GPU test of cudago).
func setup(t testing.TB) (*sgemm.Kernel, *cudago.Stream) {
	t.Helper()
	n, err := cudago.DeviceCount()
	if err != nil || n == 0 {
		reason := cudago.NoDeviceReason()
		if os.Getenv("CUDAGO_REQUIRE_GPU") == "1" {
			t.Fatalf("no CUDA device (%v %s) but CUDAGO_REQUIRE_GPU=1", err, reason)
		}
		t.Skipf("no CUDA device: %s", reason)
	}
	dev, err := cudago.DeviceAt(0)
	must(t, "DeviceAt", err)
	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	t.Cleanup(func() { must(t, "close stream", s.Close()) })
	sg, err := sgemm.New(dev)
	must(t, "sgemm.New", err)
	t.Cleanup(func() { must(t, "close kernel", sg.Close()) })
	return sg, s
}

func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got %v, want an error matching %v", what, err, target)
	}
}

// cpuSGEMM is the reference, in float64: want = alpha*A*B + beta*C0, and for each element the
// rigorous error bound of a float32 recursive dot product of k terms plus the two scalings:
// gamma_(k+2) * (|alpha| * sum|a*b| + |beta*c0|), gamma_n = n*u/(1-n*u), u = 2^-24. The bound
// cannot fail on a correct kernel and is far below the size of any missing or wrong term.
func cpuSGEMM(m, n, k int, alpha float32, a, b []float32, beta float32, c0 []float32) (want, bound []float64) {
	want = make([]float64, m*n)
	bound = make([]float64, m*n)
	u := math.Ldexp(1, -24)
	gamma := float64(k+2) * u / (1 - float64(k+2)*u)
	row := make([]float64, n)
	abs := make([]float64, n)
	for i := 0; i < m; i++ {
		clear(row)
		clear(abs)
		for p := 0; p < k; p++ {
			x := float64(a[i*k+p])
			for j, y := range b[p*n : p*n+n] {
				t := x * float64(y)
				row[j] += t
				abs[j] += math.Abs(t)
			}
		}
		for j := 0; j < n; j++ {
			cold := 0.0
			if beta != 0 {
				cold = float64(c0[i*n+j])
			}
			want[i*n+j] = float64(alpha)*row[j] + float64(beta)*cold
			bound[i*n+j] = gamma*(math.Abs(float64(alpha))*abs[j]+math.Abs(float64(beta)*cold)) + 1e-30
		}
	}
	return want, bound
}

// uniformFloats returns n values in [-1, 1).
func uniformFloats(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.Float64()*2 - 1)
	}
	return v
}

func sgemmCase(t *testing.T, sg *sgemm.Kernel, s *cudago.Stream, m, n, k int, alpha, beta float32) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, uint64(m*n+k)))
	dev := s.Device()
	what := fmt.Sprintf("SGEMM m=%d n=%d k=%d alpha=%v beta=%v", m, n, k, alpha, beta)
	a, b, c0 := uniformFloats(r, m*k), uniformFloats(r, k*n), uniformFloats(r, m*n)
	const slack = 16
	da, err := cudago.NewDeviceBuffer[float32](dev, m*k)
	must(t, "alloc a", err)
	defer da.Close()
	db, err := cudago.NewDeviceBuffer[float32](dev, k*n)
	must(t, "alloc b", err)
	defer db.Close()
	dc, err := cudago.NewDeviceBuffer[float32](dev, m*n+slack)
	must(t, "alloc c", err)
	defer dc.Close()
	must(t, "copy a", da.CopyFromHost(a))
	must(t, "copy b", db.CopyFromHost(b))
	must(t, "poison c", dc.Memset(0xFF)) // NaN: an unwritten element fails
	if beta != 0 {
		must(t, "copy c", dc.CopyFromHostAt(0, c0))
	}
	must(t, what, sg.Multiply(s, m, n, k, alpha, da, db, beta, dc))
	got := make([]float32, m*n+slack)
	must(t, "copy back", dc.CopyToHost(got))
	want, bound := cpuSGEMM(m, n, k, alpha, a, b, beta, c0)
	bad := 0
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= bound[i]) {
			if bad < 5 {
				t.Errorf("%s: C[%d][%d] = %v, want %v (error %g > bound %g)", what, i/n, i%n,
					got[i], want[i], d, bound[i])
			}
			bad++
		}
	}
	for i := m * n; i < len(got); i++ {
		if math.Float32bits(got[i]) != 0xFFFFFFFF {
			t.Errorf("%s: element %d past C was written", what, i)
			break
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d elements wrong", what, bad, m*n)
	}
}

func TestMultiply(t *testing.T) {
	sg, s := setup(t)
	// 1, primes, non-multiples of the 128 x 128 x 8 tile, shapes that take the scalar-load path
	// (k or n not a multiple of 4) and the float4 path.
	for _, sh := range [][3]int{{1, 1, 1}, {1, 1, 7}, {7, 1, 1}, {2, 3, 5}, {127, 129, 131},
		{128, 128, 128}, {129, 67, 257}, {253, 509, 3}, {256, 260, 132}, {64, 1028, 12},
		{300, 4, 1024}, {513, 517, 1031}, {1, 2048, 64}} {
		sgemmCase(t, sg, s, sh[0], sh[1], sh[2], 1, 0)
	}
	sgemmCase(t, sg, s, 200, 136, 72, -1.5, 0.5)
	sgemmCase(t, sg, s, 201, 135, 71, 2, -1)
	sgemmCase(t, sg, s, 37, 41, 0, 1, 0.25) // k = 0: C = beta*C
}

func TestMultiplyBadArguments(t *testing.T) {
	sg, s := setup(t)
	dev := s.Device()
	buf := func(n int) *cudago.DeviceBuffer[float32] {
		d, err := cudago.NewDeviceBuffer[float32](dev, n)
		must(t, "alloc", err)
		t.Cleanup(func() { d.Close() })
		return d
	}
	a, b, c, small := buf(6*5), buf(5*7), buf(6*7), buf(6*7-1)
	wantErr(t, "negative m", sg.Multiply(s, -6, 7, 5, 1, a, b, 0, c), cudago.ErrInvalidArgument)
	wantErr(t, "negative k", sg.Multiply(s, 6, 7, -5, 1, a, b, 0, c), cudago.ErrInvalidArgument)
	wantErr(t, "small c", sg.Multiply(s, 6, 7, 5, 1, a, b, 0, small), cudago.ErrOutOfRange)
	wantErr(t, "small a", sg.Multiply(s, 7, 7, 5, 1, a, b, 0, c), cudago.ErrOutOfRange)
	wantErr(t, "small b", sg.Multiply(s, 6, 7, 6, 1, a, b, 0, c), cudago.ErrOutOfRange)
	wantErr(t, "overflow", sg.Multiply(s, 1<<40, 7, 1<<40, 1, a, b, 0, c), cudago.ErrOutOfRange)
	wantErr(t, "c is a", sg.Multiply(s, 6, 5, 5, 1, a, b, 0, a), cudago.ErrInvalidArgument)
	wantErr(t, "nil b", sg.Multiply(s, 6, 7, 5, 1, a, nil, 0, c), cudago.ErrInvalidHandle)
	wantErr(t, "nil stream", sg.Multiply(nil, 6, 7, 5, 1, a, b, 0, c), cudago.ErrInvalidHandle)
	var none *sgemm.Kernel
	wantErr(t, "nil kernel", none.Multiply(s, 6, 7, 5, 1, a, b, 0, c), cudago.ErrInvalidHandle)
	must(t, "m = 0", sg.Multiply(s, 0, 7, 5, 1, a, b, 0, c))
	must(t, "a is b", sg.Multiply(s, 5, 5, 5, 1, a, a, 0, c))
	must(t, "sync", s.Synchronize())
}

// The hand-written SGEMM, TFLOP/s = 2 m n k per operation; compare with cuBLAS fp32 (torch
// with allow_tf32 = False) measured in the same run (scripts/bench-report.py).
func BenchmarkSGEMM(b *testing.B) {
	for _, size := range []int{1024, 4096} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			sg, s := setup(b)
			m := size
			bufs := make([]*cudago.DeviceBuffer[float32], 3)
			for i := range bufs {
				d, err := cudago.NewDeviceBuffer[float32](s.Device(), m*m)
				must(b, "alloc", err)
				b.Cleanup(func() { d.Close() })
				must(b, "Memset", d.Memset(0x3f)) // 0.747f everywhere: real data, not zeros
				bufs[i] = d
			}
			op := func() error { return sg.Multiply(s, m, m, m, 1, bufs[0], bufs[1], 0, bufs[2]) }
			must(b, "warm-up", op())
			must(b, "Synchronize", s.Synchronize())
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := op(); err != nil {
					b.Fatal(err)
				}
			}
			must(b, "Synchronize", s.Synchronize())
			b.StopTimer()
			if sec := b.Elapsed().Seconds(); sec > 0 {
				b.ReportMetric(2*float64(m)*float64(m)*float64(m)*float64(b.N)/sec/1e12, "TFLOP/s")
			}
		})
	}
}
