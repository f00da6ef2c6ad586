//go:build cgo

package cudago

/*
#include "shim_sg.h"
*/
import "C"

import "strconv"

// SGEMM queues C = alpha * A * B + beta * C on s with the package's hand-written tiled kernel
// (a teaching kernel: shared-memory tiles, 8 x 8 register blocking, float4 loads, double
// buffering; for the fastest GEMM use the cuBLAS functions). Matrices are float32, dense and
// ROW-MAJOR, as Go users store them: a is m x k (element (i, p) at a[i*k+p]), b is k x n, c is
// m x n.
//
// The buffers must live on s's device and hold at least m*k, k*n and m*n elements
// (ErrOutOfRange); c must not be a or b (ErrInvalidArgument); a and b may be the same buffer.
// When beta is 0, c is only written (its old content, NaN included, does not matter). m = 0 or
// n = 0 is a no-op; k = 0 gives C = beta * C. Negative sizes are ErrInvalidArgument. Each dot
// product is accumulated in float32 in the order of k. The call is one cgo call and does not
// block.
func SGEMM(s *Stream, m, n, k int, alpha float32, a *DeviceBuffer[float32], b *DeviceBuffer[float32],
	beta float32, c *DeviceBuffer[float32]) error {
	const op = "SGEMM"
	names := []string{"m", "k"}
	ak, err := elemCount(op, []int{m, k}, names)
	if err != nil {
		return err
	}
	bk, err := elemCount(op, []int{k, n}, []string{"k", "n"})
	if err != nil {
		return err
	}
	ck, err := elemCount(op, []int{m, n}, []string{"m", "n"})
	if err != nil {
		return err
	}
	if err := useAll(op, s, a, b, c); err != nil {
		return err
	}
	na, nb, nc := a.c.n, b.c.n, c.c.n
	fits := na >= ak && nb >= bk && nc >= ck
	var r C.cg_result
	if fits {
		r = C.cg_gemm_tiled_f32(s.h, C.uint64_t(m), C.uint64_t(n), C.uint64_t(k), C.float(alpha),
			a.c.h, b.c.h, C.float(beta), c.c.h)
	}
	dropAll(s, a, b, c)
	if !fits {
		return errRange(op, "m="+strconv.Itoa(m)+" n="+strconv.Itoa(n)+" k="+strconv.Itoa(k)+
			" needs "+strconv.Itoa(ak)+", "+strconv.Itoa(bk)+" and "+strconv.Itoa(ck)+
			" elements; a has "+strconv.Itoa(na)+", b "+strconv.Itoa(nb)+", c "+strconv.Itoa(nc))
	}
	return errorFrom(op, r.err)
}
