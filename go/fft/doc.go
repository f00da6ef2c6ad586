// Package fft runs cuFFT transforms on cudago's device buffers: complex-to-complex ([C2C]),
// real-to-complex ([R2C]) and complex-to-real ([C2R]), in one to three dimensions, batched,
// in place or not, with cuFFT's advanced layouts and a choice of normalisation.
//
// Complex data live in buffers of complex64 or complex128 ([cudago.DeviceBuffer] holds
// complex elements), real data in buffers of float32 or float64 of the same precision; every
// length and offset counts the elements of its own buffer (complex values on a complex side).
// The element types are checked against the transform: complex on both sides for C2C, real in
// and complex out for R2C, the reverse for C2R, one precision on both sides. Arrays are
// row-major: the last dimension is contiguous. An R2C transform of n real points gives the
// n/2+1 complex values of the non-redundant half of the spectrum, and C2R takes them back. An
// in-place R2C or C2R uses one complex buffer and its [cudago.View] as reals (rows padded to
// 2*(n/2+1) reals, the default in-place layout).
//
// # Which call
//
// [Exec] is the general call: a [Desc] gives the type, the sizes, the batch and the [Layout]
// of each side, and Exec takes the [Direction] and the [Norm]; [ExecAt] is Exec with offsets
// into the buffers. The shorthands queue packed transforms that start at the first element of
// each buffer, with NumPy's normalisation, so that each inverse undoes its forward transform:
//
//   - [C2C1D], [C2C2D] and [C2C3D]: complex transforms in one, two or three dimensions,
//     forward or inverse, the inverse scaled by 1/N.
//   - [R2C1D]: real data to half spectra, forward and unscaled.
//   - [C2R1D]: half spectra back to real data, scaled by 1/n.
//
// Use a shorthand unless the transform needs another normalisation, a strided or padded
// layout, an offset into a buffer, or a real transform in two or three dimensions: then build
// a Desc for Exec or ExecAt. [Extent] tells, without a GPU, how many elements the buffers of a
// Desc must hold, in place or not.
//
// Every transform queues its work on a [cudago.Stream] and returns at once, in one cgo call;
// read the result back with a copy ordered after it. C2R transforms overwrite their input,
// which cuFFT uses as scratch.
//
// # Plans
//
// cuFFT plans come from a process-wide cache keyed by device, type, sizes, precision, batch
// and layouts, so building a Desc on every call is cheap: the first transform of a shape
// creates its plan, the later ones reuse it, and a plan is used by one call at a time. Work
// areas come from the device's pool, in stream order. [ReadCacheStats] reads the cache's
// counters, [SetCacheLimits] bounds it (64 plans and 4 GiB of work areas by default) and
// [ClearCache] destroys the idle plans. A transform captured into a [cudago.Graph] must have
// run once before the capture, since cuFFT cannot create a plan during one.
//
// # Errors
//
// Errors are [*cudago.Error] values; match them with errors.Is against the sentinels of the
// cudago package. Element types that do not fit the transform, a Desc without dimensions or with more than three, negative or zero sizes,
// an unknown type, direction or norm, an R2C transform that is not Forward and a C2R one that
// is not Inverse are [cudago.ErrInvalidArgument]; buffers too small for the layouts, and
// offsets that are negative or past the end of a buffer, are [cudago.ErrOutOfRange]; nil or
// closed streams and buffers are [cudago.ErrInvalidHandle]; a transform captured before its
// plan exists is [cudago.ErrCapture]; and an error cuFFT reports is [cudago.ErrCUFFT], with
// the cufftResult in the Native field.
package fft
