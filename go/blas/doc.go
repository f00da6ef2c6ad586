// Package blas runs cuBLAS on cudago's device buffers: matrix products, matrix-vector products
// and the level-1 calls, on ROW-MAJOR matrices as Go stores them (element (i, j) of a matrix
// with leading dimension ld is at [i*ld + j]). Nothing is copied or transposed to suit cuBLAS's
// column-major convention: the calls swap the operands instead (see [GEMMConfig]).
//
// The products and the level-1 calls queue their work on a [cudago.Stream] and return at once,
// in one cgo call; the buffers must live on the stream's device. Read a result back with a
// copy ordered after the call, such as a synchronous [cudago.DeviceBuffer.CopyToHost].
//
// # Which call
//
// [GEMM] is the one call for matrix products: C = alpha·op(A)·op(B) + beta·C as a
// [GEMMConfig] describes it, with transposes, leading dimensions, offsets into the buffers,
// strided batches and a compute mode ([ComputeDefault], or [ComputeTF32] for float32 data on
// tensor cores). It takes float32, float64, [cudago.Float16] and [cudago.BFloat16] data.
// [MatMul] is the shorthand for C = A·B on tight row-major matrices that start at the first
// element of their buffers; use GEMM as soon as anything else is needed (a transpose, alpha or
// beta, a sub-matrix, a batch, TF32).
//
// [GEMV] computes y = alpha·op(A)·x + beta·y. The level-1 calls [kernels.Axpy] (y = alpha·x + y),
// [Scal] (x = alpha·x), [kernels.Dot] and [Nrm2] work on n elements taken every incx (and incy)
// elements from the start of float32 or float64 buffers; Dot and Nrm2 leave their result in a
// device buffer, without waiting.
//
// The kernels package has its own [github.com/cudago/cudago/go/kernels.Axpy],
// [github.com/cudago/cudago/go/kernels.Scale], [github.com/cudago/cudago/go/kernels.Dot] and
// [github.com/cudago/cudago/go/kernels.Norm2]. Use those for contiguous data: they take
// whole buffers or ranges at any offset (AxpyRange, ScaleRange), the kernels' elementwise
// calls take Float16 and BFloat16 as well, their reductions have documented error bounds that
// do not grow with the length, and they need no cuBLAS handle. Use the calls of this package
// where the vectors are strided (every incx-th element, such as a column of a row-major
// matrix).
//
// # Cost
//
// Each call costs cuBLAS's host time (about 13 µs on an H100 host). [SetGraphReplay] can cut
// that for small GEMMs issued again and again with the same buffers, by replaying them as CUDA
// graphs; it is off by default. [ClearCache] releases the cuBLAS handles no call is using, with
// their workspaces.
//
// # Errors
//
// Errors are [*cudago.Error] values; match them with errors.Is against the sentinels of the
// cudago package. Negative dimensions, leading dimensions, increments, strides or offsets,
// dimensions below 1, too small leading dimensions and outputs that overlap an input are
// [cudago.ErrInvalidArgument]; buffers too small for what the parameters address are
// [cudago.ErrOutOfRange]; nil or closed streams and buffers are [cudago.ErrInvalidHandle];
// buffers of another device than the stream's are [cudago.ErrDeviceMismatch]; and an error
// cuBLAS reports is [cudago.ErrCUBLAS], with the cublasStatus_t in the Native field.
// Everything is checked before cuBLAS is called.
package blas
