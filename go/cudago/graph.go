package cudago

import (
	"github.com/cudago/cudago/go/internal/capi"
)

// CaptureMode selects which calls a stream capture refuses while it runs (CUDA's
// cudaStreamCaptureMode).
type CaptureMode = capi.CaptureMode

const (
	// CaptureThreadLocal refuses unsafe calls of the capturing OS thread (the default).
	// Capture locks the goroutine to its thread for the duration of fn.
	CaptureThreadLocal CaptureMode = capi.CaptureThreadLocal
	// CaptureGlobal refuses unsafe CUDA calls of every thread of the process.
	CaptureGlobal CaptureMode = capi.CaptureGlobal
	// CaptureRelaxed refuses nothing; the caller takes care that nothing unsafe happens.
	CaptureRelaxed CaptureMode = capi.CaptureRelaxed
)

// Graph is captured GPU work, instantiated once, that replays with a single launch: the
// cheapest way to queue many small kernels. Methods are safe for concurrent use; launches of
// one graph run one after another. Close it when done.
//
// The buffers the captured work used must stay open while the graph is launched: a launch
// after one of them was closed fails with ErrInvalidHandle, and closing a buffer waits (on the
// GPU) for the graph's launches that use it. Modules, mapped buffers and FFT plans used in the
// capture are kept alive by the graph itself.
type Graph capi.Graph

// Capture records the GPU work that fn queues on s (kernels, Launch of compiled kernels, async
// copies and memsets, GEMM, FFT and the other cudago operations) into a Graph instead of
// running it, in the thread-local mode. See CaptureWith.
func (s *Stream) Capture(fn func() error) (*Graph, error) {
	r0, r1 := (*capi.Stream)(s).Capture(fn)
	return (*Graph)(r0), r1
}

// CaptureWith is Capture with an explicit mode.
//
// fn runs on the calling goroutine, locked to its OS thread; work it queues on other streams,
// or from other goroutines, is not captured (unless joined to s through events). Buffers must
// be allocated before the capture, and each FFT shape must have run once before it (cuFFT
// cannot create a plan during a capture: ErrCapture). A call that is illegal during a capture fails, and so does
// the capture: a synchronous copy (CopyFromHost, CopyToHost, ...), s.Synchronize, s.Query.
// When fn returns an error (or panics), the capture is ended and dropped and that error is
// returned (the panic goes on); when the capture itself failed, the error matches ErrCapture or
// the failed call's sentinel. In every case s is no longer capturing when CaptureWith returns,
// and stays usable.
func (s *Stream) CaptureWith(mode CaptureMode, fn func() error) (*Graph, error) {
	r0, r1 := (*capi.Stream)(s).CaptureWith(mode, fn)
	return (*Graph)(r0), r1
}

// Capturing reports whether s is being captured.
func (s *Stream) Capturing() (bool, error) {
	return (*capi.Stream)(s).Capturing()
}

// Device returns the graph's device.
func (g *Graph) Device() Device {
	r0 := (*capi.Graph)(g).Device()
	return Device(r0)
}

// Launch queues one replay of the graph on s (a stream of the graph's device). It does not
// block; the replay is ordered on s like any other work.
func (g *Graph) Launch(s *Stream) error {
	return (*capi.Graph)(g).Launch((*capi.Stream)(s))
}

// Upload moves the graph's work to the device ahead of its first launch, so that the first
// launch costs what the later ones do.
func (g *Graph) Upload(s *Stream) error {
	return (*capi.Graph)(g).Upload((*capi.Stream)(s))
}

// Update captures fn on s again, like Capture, and applies the result to g: the new capture
// must have the same topology (the same operations in the same order, the same kernels), while
// kernel arguments, launch sizes and the buffers of copies and memsets may differ. A capture of
// another shape returns an error matching ErrCapture and g is unchanged. Launches already
// queued are not affected.
func (g *Graph) Update(s *Stream, fn func() error) error {
	return (*capi.Graph)(g).Update((*capi.Stream)(s), fn)
}

// Nodes returns the number of nodes of the graph (kernels, copies, memsets, allocations...).
func (g *Graph) Nodes() (int, error) {
	return (*capi.Graph)(g).Nodes()
}

// Close waits for the graph's launches to finish, then frees it and what it kept alive. Close
// waits for method calls in flight; later calls return an error matching ErrClosed. A second
// Close, or a Close of nil, returns nil.
func (g *Graph) Close() error {
	return (*capi.Graph)(g).Close()
}
