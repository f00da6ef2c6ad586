package cudago

import (
	"context"
	"github.com/cudago/cudago/go/internal/capi"
)

// StreamOptions configure a new stream. The zero value is a blocking stream of default
// priority.
type StreamOptions struct {
	// NonBlocking streams do not synchronise with the legacy default stream.
	NonBlocking bool
	// Priority: 0 is the default; lower numbers are higher priority. CUDA clamps it to the
	// device's [DeviceProperties.StreamPriorityGreatest, StreamPriorityLeast].
	Priority int
}

// Stream is a queue of GPU work on one device; work runs in the order it was queued. Methods
// are safe for concurrent use. Close it when done.
type Stream capi.Stream

// NewStream creates a stream on dev.
func NewStream(dev Device, opts StreamOptions) (*Stream, error) {
	r0, r1 := capi.NewStream(capi.Device(dev), capi.StreamOptions(opts))
	return (*Stream)(r0), r1
}

// Device returns the stream's device.
func (s *Stream) Device() Device {
	r0 := (*capi.Stream)(s).Device()
	return Device(r0)
}

// Priority returns the stream's priority as CUDA clamped it.
func (s *Stream) Priority() int {
	return (*capi.Stream)(s).Priority()
}

// Synchronize blocks until all work queued on the stream is done. A fault of that work is
// returned as an error (ErrKernelFault for a faulted kernel).
func (s *Stream) Synchronize() error {
	return (*capi.Stream)(s).Synchronize()
}

// Query reports whether all work queued on the stream is done, without blocking.
func (s *Stream) Query() (done bool, err error) {
	return (*capi.Stream)(s).Query()
}

// Wait blocks until all work queued on the stream is done, like Synchronize, or until ctx is
// done, whichever comes first; in the latter case it returns ctx.Err(). Cancelling ctx does
// not cancel the GPU work: a background goroutine keeps waiting for it and ends when it is
// done, and a Close of the stream meanwhile waits for that goroutine.
func (s *Stream) Wait(ctx context.Context) error {
	return (*capi.Stream)(s).Wait(ctx)
}

// WaitEvent makes work queued on s after this call wait for e's last record (e may belong to
// another device). It does not block the caller.
func (s *Stream) WaitEvent(e *Event) error {
	return (*capi.Stream)(s).WaitEvent((*capi.Event)(e))
}

// Close releases the stream. Work already queued still completes, and buffers allocated on the
// stream stay valid. Close waits for method calls in flight on s to return; later calls
// return an error matching ErrClosed. A second Close returns nil.
func (s *Stream) Close() error {
	return (*capi.Stream)(s).Close()
}
