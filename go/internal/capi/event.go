package capi

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"math"
	"runtime"
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
type Event struct {
	x   *handle[C.cudago_event_t]
	dev int32
}

// NewEvent creates an event on dev.
func NewEvent(dev Device, opts EventOptions) (*Event, error) {
	const op = "event create"
	if err := ready(); err != nil {
		return nil, err
	}
	flags := C.uint32_t(C.CUDAGO_EVENT_DEFAULT)
	if opts.DisableTiming {
		flags |= C.CUDAGO_EVENT_DISABLE_TIMING
	}
	if opts.BlockingSync {
		flags |= C.CUDAGO_EVENT_BLOCKING_SYNC
	}
	r := C.cg_event_create(C.int32_t(dev.ordinal), flags)
	if r.err != nil {
		return nil, convertError(op, r.err)
	}
	e := &Event{dev: dev.ordinal}
	e.x = newHandle(r.handle, "event", destroyEvent, leakInfo{what: "Event", dev: dev.ordinal})
	return e, nil
}

func destroyEvent(h C.cudago_event_t) *C.cg_err_t { return C.cg_event_destroy(h) }

// use checks e and takes a reference for one C call; the caller must call e.drop.
func (e *Event) use(op string) error {
	if e == nil {
		return errNil(op, "*Event")
	}
	return e.x.use(op)
}

// drop releases the reference taken by use.
func (e *Event) drop() { e.x.drop() }

// Device returns the event's device.
func (e *Event) Device() Device {
	if e == nil {
		return Device{}
	}
	return Device{ordinal: e.dev}
}

// Record captures the work queued on s so far; s must be on the event's device.
func (e *Event) Record(s *Stream) error {
	const op = "event record"
	if err := useAll(op, e, s); err != nil {
		return err
	}
	info := C.cg_event_record(e.x.h, s.x.h)
	dropAll(e, s)
	return errorFrom(op, info)
}

// Synchronize blocks until the work captured by the last Record is done.
func (e *Event) Synchronize() error {
	const op = "event synchronize"
	if err := e.use(op); err != nil {
		return err
	}
	return e.syncHeld()
}

// syncHeld synchronizes with a reference taken by use, and releases it.
func (e *Event) syncHeld() error {
	info := C.cg_event_synchronize(e.x.h)
	e.drop()
	runtime.KeepAlive(e)
	return errorFrom("event synchronize", info)
}

// Query reports whether the work captured by the last Record is done, without blocking.
func (e *Event) Query() (bool, error) {
	const op = "event query"
	if err := e.use(op); err != nil {
		return false, err
	}
	r := C.cg_event_query(e.x.h)
	e.drop()
	runtime.KeepAlive(e)
	if r.err != nil {
		return false, convertError(op, r.err)
	}
	return r.value != 0, nil
}

// Wait blocks until the work captured by the last Record is done or until ctx is done,
// whichever comes first; in the latter case it returns ctx.Err(). As with [Stream.Wait], the
// GPU work goes on, and a Close of the event meanwhile waits for it.
func (e *Event) Wait(ctx context.Context) error {
	return waitFor(ctx, e, "event synchronize")
}

// Elapsed returns the GPU time between the completed records of two timing events (CUDA's
// resolution is about half a microsecond).
func Elapsed(start, end *Event) (time.Duration, error) {
	const op = "event elapsed"
	if err := useAll(op, start, end); err != nil {
		return 0, err
	}
	r := C.cg_event_elapsed_ms(start.x.h, end.x.h)
	dropAll(start, end)
	if r.err != nil {
		return 0, convertError(op, r.err)
	}
	return time.Duration(math.Round(float64(r.value) * float64(time.Millisecond))), nil
}

// Close releases the event. It waits for method calls in flight on e to return; later calls
// return an error matching ErrClosed. A second Close returns nil.
func (e *Event) Close() error {
	if e == nil {
		return nil
	}
	return e.x.close("event destroy")
}
