package cudago

import (
	"github.com/cudago/cudago/go/internal/capi"
)

// AddOnGPU computes c[i] = a[i] + b[i] on device 0: it copies a and b to the GPU, adds them
// there with the elementwise [kernels.Add] and copies the sum back into c. The slices must have equal lengths
// (ErrOutOfRange otherwise); empty slices are fine. It is the hello world of the package,
// written with the general API: a stream, three device buffers, copies and a kernel.
func AddOnGPU(a, b, c []float32) (err error) {
	return capi.AddOnGPU(a, b, c)
}
