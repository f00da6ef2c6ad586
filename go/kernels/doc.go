// Package kernels queues cudago's own CUDA kernels on a [cudago.Stream]: elementwise
// arithmetic, fills and casts, reductions, and layout changes of dense arrays.
//
// Every call is one cgo call that queues the work and returns at once, except the ...Value
// reductions, which wait for their result and return it on the host. The buffers must live on
// the stream's device.
//
// # Elementwise operations
//
// [Add], [Sub], [Mul] and [Div] (or [Binary] with a [BinaryOp]) combine whole buffers of equal
// length; [Axpy] computes y = alpha·x + y with one fused multiply-add per element, [Scale]
// computes x = alpha·x, [Fill] sets every element to a value, and [Cast] converts between
// element types, rounding once to nearest (ties to even). They take float32, float64,
// [cudago.Float16] and [cudago.BFloat16] buffers ([cudago.Float]); half-precision values are
// computed in float32 and rounded once. Each has a Range form ([BinaryRange], [AxpyRange],
// [ScaleRange], [FillRange], [CastRange]) that takes element offsets and a count, so that any
// element may start a range. An output may be exactly an input (the same buffer and offset);
// ranges of one buffer that overlap partially are refused.
//
// # Reductions
//
// [Sum], [Min], [Max], [ArgMax], [Dot] and [Norm2] reduce a whole float32 or float64 buffer
// into out[0], on the GPU. [SumRows], [MinRows], [MaxRows], [ArgMaxRows], [DotRows] and
// [Norm2Rows] reduce each row of a rows x cols row-major array into out[r]. [SumValue],
// [MinValue], [MaxValue], [ArgMaxValue], [DotValue] and [Norm2Value] wait for the reduction and
// return its result: use them where the host needs the number at once, and the forms with out
// to keep the result on the GPU for later work without a wait.
//
// Sums are compensated, so their error does not grow with the length: with u = 2⁻²⁴ for
// float32 and 2⁻⁵³ for float64, |Sum - exact| <= 32u·Σ|x[i]|, |Dot - exact| <= 33u·Σ|x[i]·y[i]|,
// and Norm2's relative error is at most 18u. Min, Max and ArgMax are exact; Min and Max return
// NaN when an element is NaN, and ArgMax ranks NaN above every number. An empty input gives 0
// for Sum, Dot and Norm2, and an error for Min, Max and ArgMax.
//
// # Layout changes
//
// [Transpose2D] transposes a rows x cols array; [NHWCToNCHW] and [NCHWToNHWC] move a batch of
// images between channels last and channels first. They move elements without interpreting
// them, so they take every element type ([cudago.Numeric]), and they never work in place.
//
// # Which call
//
// For arithmetic on contiguous data, use this package. The blas package has strided
// counterparts: [github.com/cudago/cudago/go/blas.Axpy], [github.com/cudago/cudago/go/blas.Scal],
// [github.com/cudago/cudago/go/blas.Dot] and [github.com/cudago/cudago/go/blas.Nrm2] take n
// elements every incx (and incy) elements from the start of float32 or float64 buffers, and
// call cuBLAS. Use [Axpy], [Scale], [Dot] and [Norm2] (or their Range and Rows forms) unless
// the vectors are strided, such as a column of a row-major matrix: they take whole buffers or
// ranges at any offset, the elementwise ones take Float16 and BFloat16 too, and they need no
// cuBLAS handle. For matrix products use [github.com/cudago/cudago/go/blas.GEMM].
//
// # Errors
//
// Errors are [*cudago.Error] values; match them with errors.Is against the sentinels of the
// cudago package. Buffers whose lengths differ where they must be equal, ranges past the end
// of a buffer and shapes that do not fit the buffers are [cudago.ErrOutOfRange]; negative
// offsets, counts and dimensions, partial overlaps, a reduction's out overlapping its input,
// Min, Max or ArgMax of nothing and a transpose in place are [cudago.ErrInvalidArgument]; nil
// or closed streams and buffers are [cudago.ErrInvalidHandle]; and buffers of another device
// than the stream's are [cudago.ErrDeviceMismatch].
package kernels
