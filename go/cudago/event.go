package cudago

import (
	"context"
	"github.com/cudago/cudago/go/internal/capi"
	"time"
)

// EventOptions configure a new event. The zero value is a timing event that spins in
// Synchronize.
type EventOptions struct {
	// DisableTiming makes the event cheaper; Elapsed refuses it.
	DisableTiming bool
	// BlockingSync makes Synchronize sleep instead of spinning.
	BlockingSync bool
}

// Event marks a point in a stream's work: record it, then wait for it, or time the work between
// two events with [Elapsed]. Methods are safe for concurrent use. Close it when done.
type Event capi.Event

// NewEvent creates an event on dev.
func NewEvent(dev Device, opts EventOptions) (*Event, error) {
	r0, r1 := capi.NewEvent(capi.Device(dev), capi.EventOptions(opts))
	return (*Event)(r0), r1
}

// Device returns the event's device.
func (e *Event) Device() Device {
	r0 := (*capi.Event)(e).Device()
	return Device(r0)
}

// Record captures the work queued on s so far; s must be on the event's device.
func (e *Event) Record(s *Stream) error {
	return (*capi.Event)(e).Record((*capi.Stream)(s))
}

// Synchronize blocks until the work captured by the last Record is done.
func (e *Event) Synchronize() error {
	return (*capi.Event)(e).Synchronize()
}

// Query reports whether the work captured by the last Record is done, without blocking.
func (e *Event) Query() (bool, error) {
	return (*capi.Event)(e).Query()
}

// Wait blocks until the work captured by the last Record is done or until ctx is done,
// whichever comes first; in the latter case it returns ctx.Err(). As with [Stream.Wait], the
// GPU work goes on, and a Close of the event meanwhile waits for it.
func (e *Event) Wait(ctx context.Context) error {
	return (*capi.Event)(e).Wait(ctx)
}

// Elapsed returns the GPU time between the completed records of two timing events (CUDA's
// resolution is about half a microsecond).
func Elapsed(start, end *Event) (time.Duration, error) {
	return capi.Elapsed((*capi.Event)(start), (*capi.Event)(end))
}

// Close releases the event. It waits for method calls in flight on e to return; later calls
// return an error matching ErrClosed. A second Close returns nil.
func (e *Event) Close() error {
	return (*capi.Event)(e).Close()
}
