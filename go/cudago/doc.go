// Package cudago runs work on NVIDIA GPUs from Go at native speed. It is the core of the
// cudago packages: devices, streams, events, CUDA graphs, device and pinned host memory, and
// the errors that every cudago package returns.
//
// The packages are a thin, typed layer over libcudago, a C++/CUDA core behind a stable C ABI
// (cudago.h). Every operation is one cgo call; the C side sets the right device on every call,
// so goroutines never need runtime.LockOSThread, and error detail is read in the same call
// that failed, whatever OS thread the goroutine runs on.
//
// The GPU work itself is queued by the packages built on this one, which all take its
// [Stream] and [DeviceBuffer] values:
//
//   - [github.com/cudago/cudago/go/kernels]: cudago's own kernels: elementwise arithmetic,
//     fills and casts, reductions and layout changes.
//   - [github.com/cudago/cudago/go/blas]: cuBLAS: matrix products, matrix-vector products
//     and the level-1 calls on strided vectors.
//   - [github.com/cudago/cudago/go/fft]: cuFFT transforms, with a cache of plans.
//   - [github.com/cudago/cudago/go/rtc]: CUDA C++ compiled at run time with NVRTC, and the
//     launch of its kernels.
//   - [github.com/cudago/cudago/go/nccl]: NCCL collectives among the GPUs of one process or
//     of several.
//
// # Building
//
// The packages find the library with pkg-config (package "cudago"). From a build tree of the
// repository:
//
//	meson devenv -C build --workdir go go test ./...
//
// cgo is required; a build with CGO_ENABLED=0 stops with an error naming the cause. [Version]
// returns the version of the libcudago that was loaded, and [CheckVersion] reports whether it
// can serve these packages; every function that creates a handle or queries a device returns
// that check's error first.
//
// # A short tour
//
// The hello world copies two Go slices to the GPU, adds them there and copies the sum back:
//
//	a := []float32{1, 2, 3}
//	b := []float32{10, 20, 30}
//	c := make([]float32, 3)
//	if err := cudago.AddOnGPU(a, b, c); err != nil { ... } // c == {11, 22, 33}
//
// [AddOnGPU] is written with the general API, which is what real programs use:
//
//   - Devices: [DeviceCount], [Devices], [DeviceAt], [Device.Properties],
//     [Device.MemoryInfo]. Machines without a GPU report zero devices and [NoDeviceReason]
//     says why. [Spread] shares jobs among several devices, with one goroutine and one stream
//     for each.
//   - Streams and events: [NewStream] queues work in order; [Stream.Synchronize] blocks,
//     [Stream.Wait] takes a context. [NewEvent], [Event.Record] and [Elapsed] time GPU work,
//     and [Stream.WaitEvent] orders the work of one stream after a point of another's.
//   - Memory: [NewDeviceBuffer] and [NewDeviceBufferAsync] allocate typed device memory from
//     the device's stream-ordered pool ([Device.ConfigurePool], [Device.PoolStats]).
//     [NewHostBuffer] allocates pinned host memory exposed as an ordinary slice, for fast
//     asynchronous copies; [NewMappedBuffer] allocates host memory that kernels read and write
//     directly (zero-copy). [DeviceBuffer.CopyFrom] copies between devices, directly where
//     [Device.EnablePeerAccess] allows it.
//   - Graphs: [Stream.Capture] records the work queued on a stream into a [Graph], which
//     [Graph.Launch] replays with a single launch: the cheapest way to queue many small
//     kernels again and again.
//   - Kernels: [github.com/cudago/cudago/go/kernels.Add] and the other elementwise,
//     reduction and layout operations of the kernels package queue their work on a stream,
//     as do the matrix products of blas ([github.com/cudago/cudago/go/blas.GEMM]), the
//     transforms of fft ([github.com/cudago/cudago/go/fft.Exec]), the kernels that rtc
//     compiles and the collectives of nccl.
//
// A typical pipeline:
//
//	dev, _ := cudago.DeviceAt(0)
//	s, _ := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
//	defer s.Close()
//	host, _ := cudago.NewHostBuffer[float32](dev, n) // pinned; host.Slice() is a []float32
//	defer host.Close()
//	a, _ := cudago.NewDeviceBufferAsync[float32](s, n)
//	defer a.Close()
//	// ... fill host.Slice() ...
//	a.CopyFromHostAsync(s, host)    // queued, returns at once
//	kernels.Add(s, a, a, a)         // a = a + a, after the copy
//	a.CopyToHostAsync(s, host)      // queued
//	err := s.Wait(ctx)              // host.Slice() now holds the result
//
// # Which call
//
//   - Allocation: use [NewDeviceBuffer] unless the allocation belongs to a stream's work:
//     [NewDeviceBufferAsync] allocates in stream order without blocking, for buffers that
//     live only as long as a piece of queued work.
//   - Copies: use the synchronous copies ([DeviceBuffer.CopyFromHost],
//     [DeviceBuffer.CopyToHost]) with ordinary slices unless the copies must overlap other
//     work: then copy through a [HostBuffer] with [DeviceBuffer.CopyFromHostAsync] and
//     [DeviceBuffer.CopyToHostAsync]. A synchronous copy is ordered after all work queued
//     with the buffer on any stream, so it reads a kernel's result back without a
//     synchronisation first. Use a [MappedBuffer] only for data a kernel touches once or
//     sparsely: every access crosses the bus.
//   - Waiting: use [Stream.Synchronize] unless the wait needs a deadline or a cancellation:
//     [Stream.Wait] and [Event.Wait] take a context. Use an event ([Stream.WaitEvent]) rather
//     than a wait on the host to order work between streams.
//   - Several GPUs: use [Spread] unless the work needs its own scheme: it hands the jobs out
//     dynamically, so faster devices take more of them, and cleans up whatever happens.
//
// # Errors
//
// Every failure, in this package and in the packages built on it, is an [*Error] carrying the
// operation, a stable [Status], the native error (code and name: a cudaError_t, a
// cublasStatus_t, a cufftResult, ...) and a message. Match them with errors.Is against the
// sentinels: [ErrInvalidArgument] and [ErrOutOfRange] for bad arguments, [ErrInvalidHandle]
// for nil or closed handles ([ErrClosed] for closed ones only), [ErrNoDevice] where there is no
// GPU, [ErrOutOfMemory], [ErrDeviceMismatch] for handles of different devices used together,
// and so on; read the fields with errors.As. Errors stay matchable through wrapping (Spread
// wraps a job's error with the job and device). A kernel fault is asynchronous: it surfaces as
// [ErrKernelFault] from the next synchronisation, never as a crash. The bounded waits'
// [ErrTimeout] and [ErrCancelled] also match context.DeadlineExceeded and context.Canceled.
//
// # Lifetimes
//
// Every handle ([Stream], [Event], [Graph], [DeviceBuffer], [HostBuffer], [MappedBuffer], and
// the modules, kernels and communicators of the rtc and nccl packages) has a Close method that
// is idempotent and safe to call concurrently with other methods: calls made after Close
// return an error matching [ErrClosed], and Close waits for calls already running on the
// handle to return before it frees it. Close what you create; finalizers free leaked handles
// only as a safety net (set CUDAGO_DEBUG=1 to have each leak reported on stderr). Device
// memory is freed in stream order, so closing a buffer that queued work still uses is safe.
//
// # Memory rules
//
// C never keeps a Go pointer. Synchronous copies (CopyFromHost, CopyToHost) take any Go
// slice and use it only during the call. Asynchronous copies take only [HostBuffer]s, whose
// memory is allocated by C, so the garbage collector never moves or frees memory a copy is
// still using. The element types ([Numeric]) contain no pointers; [Float16] and [BFloat16]
// hold the GPU's half-precision values as their 16 bits.
package cudago
