// Package rtc compiles CUDA C++ at run time with NVRTC and launches its kernels on cudago's
// streams: the way to run a kernel that the kernels, blas and fft packages do not provide.
//
// # A short tour
//
// [Compile] compiles source for a device, for its own architecture unless
// [CompileOptions].Arch names another, and loads the result there as a [Module].
// [Module.Kernel] looks a kernel up by its name (an extern "C" function) or by a name
// expression given at compile time (a template instantiation such as "scale<float>").
// [Kernel.Launch] queues the kernel on a [cudago.Stream] with a grid and a block ([Dim3]) and
// typed arguments: [BufArg] for a device buffer (from an element offset if one is given),
// [MappedArg] for zero-copy host memory, [Int32], [Uint32], [Int64], [Uint64], [Float32] and
// [Float64] for scalars, and [StructArg] for a struct passed by value. The arguments are
// checked against the kernel's parameters, in number and each in size, before anything is
// queued. [Kernel.Attributes] and [Kernel.Occupancy] help choose the launch shape.
//
//	m, err := rtc.Compile(dev, src, rtc.CompileOptions{})
//	...
//	defer m.Close()
//	k, err := m.Kernel("scale")
//	...
//	defer k.Close()
//	err = k.Launch(s, rtc.Dim3{X: (n + 255) / 256}, rtc.Dim3{X: 256}, 0,
//		rtc.BufArg(x), rtc.Float32(2), rtc.Uint64(uint64(n)))
//
// # Which call
//
// Use [Compile] to run code. [CompileImage] compiles without a device and loads nothing: it
// returns the CUBIN (Arch "sm_XY") or the PTX ("compute_XY") of the source, on machines
// without a GPU too, to check that source compiles or to read what NVRTC made of it.
//
// # The compile cache
//
// Compile and CompileImage keep their results in a memory cache keyed by the source and every
// option, so that compiling the same source again does not run NVRTC: [SetCacheCapacity] sets
// how many results it keeps (256 by default), [SetCacheDir] adds a directory on disk that
// outlives the process, [ReadCacheStats] counts hits and misses, and [ClearCache] empties the
// memory cache. CompileOptions.NoCache bypasses the cache for one compile.
//
// # Errors
//
// Errors are [*cudago.Error] values; match them with errors.Is against the sentinels of the
// cudago package. A compile that NVRTC rejects returns a [*CompileError], which carries the
// compiler's whole log and wraps the *cudago.Error: errors.Is(err, cudago.ErrNVRTC) matches it
// and errors.As reaches either. Options that NVRTC does not know, NUL bytes in the source or
// the options, launch shapes out of range and arguments that do not match the kernel's
// parameters are [cudago.ErrInvalidArgument]; nil or closed modules, kernels, streams and
// buffers are [cudago.ErrInvalidHandle]; buffers of another device than the kernel's are
// [cudago.ErrDeviceMismatch]; a launch that CUDA refuses (a configuration the kernel cannot
// run with, no code for the device) is [cudago.ErrLaunchFailed]; and Compile without a GPU is
// [cudago.ErrNoDevice].
package rtc
