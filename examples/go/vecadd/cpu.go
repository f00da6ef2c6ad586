package main

import (
	"fmt"
	"math"
)

// The CPU side: plain Go loops on one goroutine, timed and used as the references of the
// checks, and the checks themselves.

func addInto(dst, a, b []float32) {
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func mulInto(dst, a, b []float32) {
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// axpyInto sets dst = alpha·x + y with one fused multiply-add per element, alpha rounded to
// float32 first, as kernels.Axpy computes float32 data. The FMA is in float64 and its result
// rounded to float32, which can differ from a float32 FMA by 1 ulp (double rounding).
func axpyInto(dst []float32, alpha float64, x, y []float32) {
	a := float64(float32(alpha))
	for i := range dst {
		dst[i] = float32(math.FMA(a, float64(x[i]), float64(y[i])))
	}
}

// sum returns the sum of x accumulated in float64.
func sum(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s
}

func sumAbs(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += math.Abs(float64(v))
	}
	return s
}

// argmax returns the first index of the largest element of x.
func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// nhwcToNCHW writes src, an n x h x w x c tensor, to dst as n x c x h x w.
func nhwcToNCHW(dst, src []float32, n, h, w, c int) {
	for in := 0; in < n; in++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for ch := 0; ch < c; ch++ {
					dst[((in*c+ch)*h+y)*w+x] = src[((in*h+y)*w+x)*c+ch]
				}
			}
		}
	}
}

// matmul returns C = A·B for row-major a (m x k) and b (k x n), accumulated in float64: the
// products of float32 values are exact there, and the sums' rounding errors are negligible next
// to float32's. The loops run in i, p, j order so that the inner one walks rows of B and C.
func matmul(a, b []float32, m, n, k int) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		ci := c[i*n : (i+1)*n]
		for p := 0; p < k; p++ {
			aip := float64(a[i*k+p])
			for j, bpj := range b[p*n : (p+1)*n] {
				ci[j] += aip * float64(bpj)
			}
		}
	}
	return c
}

// cpuFFT replaces x by its discrete Fourier transform X[k] = Σ_j x[j]·exp(-2πi·jk/n), unscaled
// (fft.Forward): iterative radix-2 decimation in time; len(x) must be a power of two.
func cpuFFT(x []complex128) {
	n := len(x)
	// Bit-reversal permutation.
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	// Twiddle factors exp(-2πi·t/n), each computed directly (no accumulated rounding).
	tw := make([]complex128, n/2)
	for t := range tw {
		sin, cos := math.Sincos(-2 * math.Pi * float64(t) / float64(n))
		tw[t] = complex(cos, sin)
	}
	// Butterflies: transforms of length size from pairs of length size/2.
	for size := 2; size <= n; size <<= 1 {
		half, step := size/2, n/size
		for start := 0; start < n; start += size {
			for t := 0; t < half; t++ {
				even, odd := x[start+t], tw[t*step]*x[start+t+half]
				x[start+t], x[start+t+half] = even+odd, even-odd
			}
		}
	}
}

// The checks return "" when got passes, else the largest error found.

// exactCheck wants got and want bitwise equal.
func exactCheck(got, want []float32) string {
	worst, bad := 0.0, false
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			bad = true
			worst = max(worst, math.Abs(float64(got[i])-float64(want[i])))
		}
	}
	if !bad {
		return ""
	}
	return fmt.Sprintf("max err %.3g", worst)
}

// ulpCheck wants got within maxULP float32 units in the last place of want.
func ulpCheck(got, want []float32, maxULP int64) string {
	var worst int64
	for i := range want {
		d := ordered(got[i]) - ordered(want[i])
		worst = max(worst, d, -d)
	}
	if worst <= maxULP {
		return ""
	}
	return fmt.Sprintf("max err %d ulp", worst)
}

// ordered maps float32 values to integers in the same order, consecutive floats to consecutive
// integers (both zeros to 0, NaNs beyond the infinities).
func ordered(f float32) int64 {
	b := int64(math.Float32bits(f))
	if b&(1<<31) != 0 {
		return -(b &^ (1 << 31))
	}
	return b
}

// errorCheck wants |e| <= tol (a NaN error fails).
func errorCheck(e, tol float64) string {
	if math.Abs(e) <= tol {
		return ""
	}
	return fmt.Sprintf("err %.3g > %.3g", math.Abs(e), tol)
}

// gemmCheck wants each element (i, j) of got, a float32 GEMM of a (m x k) and b (k x n),
// within 10·√k·u·‖row i of A‖·‖column j of B‖ of want, u = 2^-24. That is the probabilistic
// bound λ·√k·u·Σ_p |a_ip·b_pj| of float32 dot products (Higham and Mary, 2019), which λ = 10
// makes hold except with negligible probability, widened by Cauchy–Schwarz. The worst-case
// bound k·u·Σ_p |a_ip·b_pj| is 3 times looser here: it would pass TF32 results too.
func gemmCheck(got []float32, want []float64, a, b []float32, m, n, k int) string {
	rowNorm, colNorm := make([]float64, m), make([]float64, n)
	for i := 0; i < m; i++ {
		for p := 0; p < k; p++ {
			v := float64(a[i*k+p])
			rowNorm[i] += v * v
		}
	}
	for p := 0; p < k; p++ {
		for j := 0; j < n; j++ {
			v := float64(b[p*n+j])
			colNorm[j] += v * v
		}
	}
	const u = 0x1p-24
	scale := 10 * math.Sqrt(float64(k)) * u
	worst, bad := 0.0, false
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			e := math.Abs(float64(got[i*n+j]) - want[i*n+j])
			worst = max(worst, e)
			if !(e <= scale*math.Sqrt(rowNorm[i]*colNorm[j])) {
				bad = true
			}
		}
	}
	if !bad {
		return ""
	}
	return fmt.Sprintf("max err %.3g", worst)
}

// fftCheck wants the relative L2 error ‖got − want‖/‖want‖ <= tol (a NaN error fails).
func fftCheck(got []complex64, want []complex128, tol float64) string {
	var diff, norm float64
	for i, w := range want {
		g := complex128(got[i])
		dr, di := real(g)-real(w), imag(g)-imag(w)
		diff += dr*dr + di*di
		norm += real(w)*real(w) + imag(w)*imag(w)
	}
	rel := math.Sqrt(diff / norm)
	if rel <= tol {
		return ""
	}
	return fmt.Sprintf("rel L2 err %.3g", rel)
}
