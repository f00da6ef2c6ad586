//go:build cgo

package cudago

import (
	"fmt"
	"math"
	"testing"
)

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
func uniformFloats(t testing.TB, n int) []float32 {
	r := newRand(t)
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.Float64()*2 - 1)
	}
	return v
}

func sgemmCase(t *testing.T, s *Stream, m, n, k int, alpha, beta float32) {
	t.Helper()
	dev := s.Device()
	what := fmt.Sprintf("SGEMM m=%d n=%d k=%d alpha=%v beta=%v", m, n, k, alpha, beta)
	a, b, c0 := uniformFloats(t, m*k), uniformFloats(t, k*n), uniformFloats(t, m*n)
	const slack = 16
	da, err := NewDeviceBuffer[float32](dev, m*k)
	must(t, "alloc a", err)
	defer da.Close()
	db, err := NewDeviceBuffer[float32](dev, k*n)
	must(t, "alloc b", err)
	defer db.Close()
	dc, err := NewDeviceBuffer[float32](dev, m*n+slack)
	must(t, "alloc c", err)
	defer dc.Close()
	must(t, "copy a", da.CopyFromHost(a))
	must(t, "copy b", db.CopyFromHost(b))
	must(t, "poison c", dc.Memset(0xFF)) // NaN: an unwritten element fails
	if beta != 0 {
		must(t, "copy c", dc.CopyFromHostAt(0, c0))
	}
	must(t, what, SGEMM(s, m, n, k, alpha, da, db, beta, dc))
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

func TestSGEMM(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	// 1, primes, non-multiples of the 128 x 128 x 8 tile, shapes that take the scalar-load path
	// (k or n not a multiple of 4) and the float4 path.
	for _, sh := range [][3]int{{1, 1, 1}, {1, 1, 7}, {7, 1, 1}, {2, 3, 5}, {127, 129, 131},
		{128, 128, 128}, {129, 67, 257}, {253, 509, 3}, {256, 260, 132}, {64, 1028, 12},
		{300, 4, 1024}, {513, 517, 1031}, {1, 2048, 64}} {
		sgemmCase(t, s, sh[0], sh[1], sh[2], 1, 0)
	}
	sgemmCase(t, s, 200, 136, 72, -1.5, 0.5)
	sgemmCase(t, s, 201, 135, 71, 2, -1)
	sgemmCase(t, s, 37, 41, 0, 1, 0.25) // k = 0: C = beta*C
}

func TestSGEMMBadArguments(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	buf := func(n int) *DeviceBuffer[float32] {
		d, err := NewDeviceBuffer[float32](dev, n)
		must(t, "alloc", err)
		closeT(t, "buffer", d)
		return d
	}
	a, b, c, small := buf(6*5), buf(5*7), buf(6*7), buf(6*7-1)
	wantErr(t, "negative m", SGEMM(s, -6, 7, 5, 1, a, b, 0, c), ErrInvalidArgument)
	wantErr(t, "negative k", SGEMM(s, 6, 7, -5, 1, a, b, 0, c), ErrInvalidArgument)
	wantErr(t, "small c", SGEMM(s, 6, 7, 5, 1, a, b, 0, small), ErrOutOfRange)
	wantErr(t, "small a", SGEMM(s, 7, 7, 5, 1, a, b, 0, c), ErrOutOfRange)
	wantErr(t, "small b", SGEMM(s, 6, 7, 6, 1, a, b, 0, c), ErrOutOfRange)
	wantErr(t, "overflow", SGEMM(s, 1<<40, 7, 1<<40, 1, a, b, 0, c), ErrOutOfRange)
	wantErr(t, "c is a", SGEMM(s, 6, 5, 5, 1, a, b, 0, a), ErrInvalidArgument)
	wantErr(t, "nil b", SGEMM(s, 6, 7, 5, 1, a, nil, 0, c), ErrInvalidHandle)
	wantErr(t, "nil stream", SGEMM(nil, 6, 7, 5, 1, a, b, 0, c), ErrInvalidHandle)
	must(t, "m = 0", SGEMM(s, 0, 7, 5, 1, a, b, 0, c))
	must(t, "a is b", SGEMM(s, 5, 5, 5, 1, a, a, 0, c))
	must(t, "sync", s.Synchronize())
}
