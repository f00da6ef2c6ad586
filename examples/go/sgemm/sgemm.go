// Package sgemm is a hand-written tiled SGEMM that teaches how a fast GPU kernel is built:
// shared-memory tiles, 8 x 8 register blocking, float4 loads, double buffering (sgemm.cu walks
// through each step). It is also an example of your own kernels from Go: the CUDA source is
// embedded in the package and compiled at run time with cudago's NVRTC support, package rtc
// (the compile cache makes the second compile free).
//
// For production GEMM use cudago's cuBLAS functions (blas.GEMM and its relatives): this
// kernel reaches about 85% of cuBLAS fp32 on an H100 (docs/PERFORMANCE.md).
package sgemm

import (
	_ "embed"
	"errors"
	"strconv"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/rtc"
)

//go:embed sgemm.cu
var source string

// The kernel's tile: a block computes BM x BN of C with 256 threads; the grid's y size limits m.
const (
	blockM, blockN, blockK = 128, 128, 8
	threads                = 256
	// MaxDim is the largest m or n: the grid has at most 65535 blocks in y.
	MaxDim = 65535 * blockM
)

// instantiations are the kernel's four variants: float4 loads or scalar ones, reads C (beta != 0)
// or only writes it.
var instantiations = [2][2]string{
	{"sgemm_tiled<false, false>", "sgemm_tiled<false, true>"},
	{"sgemm_tiled<true, false>", "sgemm_tiled<true, true>"},
}

// Kernel is the SGEMM compiled and loaded on one device.
type Kernel struct {
	mod      *rtc.Module
	variants [2][2]*rtc.Kernel // [vector loads][reads C]
}

// New compiles the kernel for dev (or takes it from the compile cache) and loads it there.
func New(dev cudago.Device) (*Kernel, error) {
	mod, err := rtc.Compile(dev, source, rtc.CompileOptions{
		NameExpressions: []string{instantiations[0][0], instantiations[0][1], instantiations[1][0],
			instantiations[1][1]},
	})
	if err != nil {
		return nil, err
	}
	k := &Kernel{mod: mod}
	for v := range instantiations {
		for r, name := range instantiations[v] {
			if k.variants[v][r], err = mod.Kernel(name); err != nil {
				return nil, errors.Join(err, k.Close())
			}
		}
	}
	return k, nil
}

// Close releases the kernels and the module (work already queued still completes).
func (k *Kernel) Close() error {
	if k == nil {
		return nil
	}
	var errs []error
	for v := range k.variants {
		for r := range k.variants[v] {
			if k.variants[v][r] != nil {
				errs = append(errs, k.variants[v][r].Close())
			}
		}
	}
	if k.mod != nil {
		errs = append(errs, k.mod.Close())
	}
	return errors.Join(errs...)
}

// Multiply queues C = alpha * A * B + beta * C on s. Matrices are float32, dense and ROW-MAJOR,
// as Go users store them: a is m x k (element (i, p) at a[i*k+p]), b is k x n, c is m x n.
//
// The buffers must live on s's device and hold at least m*k, k*n and m*n elements
// (cudago.ErrOutOfRange); c must not be a or b (cudago.ErrInvalidArgument); a and b may be the
// same buffer. When beta is 0, c is only written (its old content, NaN included, does not
// matter). m = 0 or n = 0 is a no-op; k = 0 gives C = beta * C. Negative sizes are
// cudago.ErrInvalidArgument; m or n above MaxDim, or k of 2^31 - 8 or more,
// cudago.ErrNotSupported. Each dot product is accumulated in float32 in the order of k. It does
// not block.
func (k *Kernel) Multiply(s *cudago.Stream, m, n, kk int, alpha float32, a, b *cudago.DeviceBuffer[float32],
	beta float32, c *cudago.DeviceBuffer[float32]) error {
	if k == nil {
		return &cudago.Error{Status: cudago.StatusInvalidHandle, Op: "sgemm", Msg: "nil *Kernel"}
	}
	if a == nil || b == nil || c == nil {
		return &cudago.Error{Status: cudago.StatusInvalidHandle, Op: "sgemm", Msg: "a nil buffer"}
	}
	shape := "m=" + strconv.Itoa(m) + " n=" + strconv.Itoa(n) + " k=" + strconv.Itoa(kk)
	if m < 0 || n < 0 || kk < 0 {
		return &cudago.Error{Status: cudago.StatusInvalidArgument, Op: "sgemm", Msg: "negative size: " + shape}
	}
	need := func(rows, cols int) (int, bool) {
		if cols != 0 && rows > int(^uint(0)>>1)/cols {
			return 0, false
		}
		return rows * cols, true
	}
	na, okA := need(m, kk)
	nb, okB := need(kk, n)
	nc, okC := need(m, n)
	if !okA || !okB || !okC || a.Len() < na || b.Len() < nb || c.Len() < nc {
		return &cudago.Error{Status: cudago.StatusOutOfRange, Op: "sgemm", Msg: shape + " needs " +
			strconv.Itoa(na) + ", " + strconv.Itoa(nb) + " and " + strconv.Itoa(nc) +
			" elements; a has " + strconv.Itoa(a.Len()) + ", b " + strconv.Itoa(b.Len()) + ", c " +
			strconv.Itoa(c.Len())}
	}
	if c == a || c == b {
		return &cudago.Error{Status: cudago.StatusInvalidArgument, Op: "sgemm",
			Msg: "c must not be a or b (the kernel reads A and B while it writes C)"}
	}
	if m == 0 || n == 0 {
		return nil
	}
	if m > MaxDim || n > MaxDim || kk >= 1<<31-blockK {
		return &cudago.Error{Status: cudago.StatusNotSupported, Op: "sgemm",
			Msg: shape + ": m and n are limited to " + strconv.Itoa(MaxDim) + " and k to 2^31 - 9"}
	}
	// float4 loads need rows of A and B that are whole float4s; pool buffers are 256-byte
	// aligned and the matrices start at element 0.
	vec := 0
	if kk%4 == 0 && n%4 == 0 {
		vec = 1
	}
	readsC := 0
	if beta != 0 {
		readsC = 1
	}
	grid := rtc.Dim3{X: (n + blockN - 1) / blockN, Y: (m + blockM - 1) / blockM}
	return k.variants[vec][readsC].Launch(s, grid, rtc.Dim3{X: threads}, 0,
		rtc.Int32(int32(m)), rtc.Int32(int32(n)), rtc.Int32(int32(kk)),
		rtc.Float32(alpha), rtc.BufArg(a), rtc.BufArg(b), rtc.Float32(beta),
		rtc.BufArg(c))
}
