// Package cudago runs work on NVIDIA GPUs from Go at native speed.
//
// The package is a thin, typed layer over libcudago, a C++/CUDA core behind a stable C ABI
// (cudago.h). Every operation is one cgo call; the C side sets the right device on every call,
// so goroutines never need runtime.LockOSThread, and error detail is read in the same call
// that failed, whatever OS thread the goroutine runs on.
//
// # Building
//
// The package finds the library with pkg-config (package "cudago"). From a build tree of the
// repository:
//
//	meson devenv -C build --workdir go go test ./...
//
// cgo is required; a build with CGO_ENABLED=0 stops with an error naming the cause.
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
// AddOnGPU is written with the general API, which is what real programs use:
//
//   - Devices: [DeviceCount], [GetDevice], [Device.Properties], [Device.MemoryInfo]. Machines
//     without a GPU report zero devices and [NoDeviceReason] says why.
//   - Streams and events: [NewStream] queues work in order; [Stream.Synchronize] blocks,
//     [Stream.Wait] takes a context. [NewEvent], [Event.Record] and [Elapsed] time GPU work.
//   - Memory: [NewDeviceBuffer] and [NewDeviceBufferAsync] allocate typed device memory from
//     the device's stream-ordered pool ([Device.ConfigurePool], [Device.PoolStats]).
//     [NewHostBuffer] allocates pinned host memory exposed as an ordinary slice, for fast
//     asynchronous copies; [NewMappedBuffer] allocates host memory that kernels read and write
//     directly (zero-copy).
//   - Kernels: [Add], [Binary], [Axpy], [Sum] and the other elementwise, reduction and layout
//     operations queue their work on a stream.
//
// A typical pipeline:
//
//	dev, _ := cudago.GetDevice(0)
//	s, _ := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
//	defer s.Close()
//	host, _ := cudago.NewHostBuffer[float32](dev, n) // pinned; host.Slice() is a []float32
//	defer host.Close()
//	a, _ := cudago.NewDeviceBufferAsync[float32](s, n)
//	defer a.Close()
//	// ... fill host.Slice() ...
//	a.CopyFromHostAsync(s, host)    // queued, returns at once
//	cudago.Add(s, a, a, a)          // a = a + a, after the copy
//	a.CopyToHostAsync(s, host)      // queued
//	err := s.Wait(ctx)              // host.Slice() now holds the result
//
// # Errors
//
// Every failure is an [*Error] carrying the operation, a stable [Status], the native CUDA error
// (code and name) and a message. Match them with errors.Is against the sentinels
// ([ErrOutOfMemory], [ErrNoDevice], [ErrOutOfRange], [ErrClosed], ...). A kernel fault is
// asynchronous: it surfaces as [ErrKernelFault] from the next synchronisation, never as a
// crash.
//
// # Lifetimes
//
// Every handle ([Stream], [Event], [DeviceBuffer], [HostBuffer], [MappedBuffer]) has a Close
// method that is idempotent and safe to call concurrently with other methods: calls made
// after Close return an error matching [ErrClosed], and Close waits for calls already running
// on the handle to return before it frees it. Close what you create; finalizers free leaked
// handles only as a safety net (set CUDAGO_DEBUG=1 to have each leak reported on stderr).
// Device memory is freed in stream order, so closing a buffer that queued work still uses is
// safe.
//
// # Memory rules
//
// C never keeps a Go pointer. Synchronous copies (CopyFromHost, CopyToHost) take any Go
// slice and use it only during the call. Asynchronous copies take only [HostBuffer]s, whose
// memory is allocated by C, so the garbage collector never moves or frees memory a copy is
// still using. The element types ([Numeric]) contain no pointers.
package capi

/*
#cgo pkg-config: cudago
#include "shim.h"
#if CUDAGO_VERSION_MAJOR != 0 || CUDAGO_VERSION_MINOR != 2
#error "cudago: this Go package is written for libcudago 0.2 (cudago.h CUDAGO_VERSION_MAJOR/MINOR)"
#endif
*/
import "C"

import (
	"fmt"
	"strconv"
	"sync"
)

// The version of cudago.h this package was compiled against.
const (
	headerVersionMajor  = C.CUDAGO_VERSION_MAJOR
	headerVersionMinor  = C.CUDAGO_VERSION_MINOR
	headerVersionPatch  = C.CUDAGO_VERSION_PATCH
	headerVersionNumber = C.CUDAGO_VERSION_NUMBER
)

// Version returns the version of the loaded libcudago ("0.2.0").
func Version() string {
	return C.GoString(C.cudago_version_string())
}

// CheckVersion reports whether the loaded libcudago can serve this package: the library must
// have the ABI major version of the header the package was compiled with, and a minor version
// at least as new. Every function that creates a handle or queries a device returns this
// error first when the check fails.
func CheckVersion() error {
	return versionErr()
}

var versionErr = sync.OnceValue(func() error {
	return versionCompatible(libraryVersionNumber(), headerVersionNumber)
})

// libraryVersionNumber is the loaded library's version number (major*10000 + minor*100 +
// patch). It is also the cheapest call into libcudago there is, which BenchmarkCgoCall times.
func libraryVersionNumber() uint32 {
	return uint32(C.cudago_version_number())
}

// versionCompatible compares a library version number (major*10000 + minor*100 + patch) with
// the header's. From 1.0 the library needs the header's major and at least its minor; before
// 1.0 every minor version may break the ABI (as 0.2 did), so 0.x needs the header's minor.
func versionCompatible(lib, header uint32) error {
	libMajor, libMinor := lib/10000, lib/100%100
	hdrMajor, hdrMinor := header/10000, header/100%100
	need := "major " + strconv.Itoa(int(hdrMajor)) + " and minor >= " + strconv.Itoa(int(hdrMinor))
	if hdrMajor == 0 {
		need = "version 0." + strconv.Itoa(int(hdrMinor)) + ".x"
		if libMajor == 0 && libMinor == hdrMinor {
			return nil
		}
	} else if libMajor == hdrMajor && libMinor >= hdrMinor {
		return nil
	}
	return &Error{
		Status: StatusNotSupported,
		Op:     "version check",
		Msg: fmt.Sprintf("libcudago %d.%d.%d is loaded but this package was built against cudago.h %d.%d.%d "+
			"(the library needs %s); rebuild or reinstall libcudago",
			libMajor, libMinor, lib%100, hdrMajor, hdrMinor, header%100, need),
	}
}

// ready is called first by every entry point that does not start from an existing handle.
func ready() error {
	return versionErr()
}
