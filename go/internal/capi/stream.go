package capi

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"runtime"
	"strconv"
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
type Stream struct {
	x        *handle[C.cudago_stream_t]
	dev      int32
	priority int32
}

// NewStream creates a stream on dev.
func NewStream(dev Device, opts StreamOptions) (*Stream, error) {
	const op = "stream create"
	if err := ready(); err != nil {
		return nil, err
	}
	if opts.Priority < -1<<31 || opts.Priority > 1<<31-1 {
		return nil, errArg(op, "priority "+strconv.Itoa(opts.Priority)+" does not fit in int32")
	}
	flags := C.uint32_t(C.CUDAGO_STREAM_DEFAULT)
	if opts.NonBlocking {
		flags = C.CUDAGO_STREAM_NON_BLOCKING
	}
	r := C.cg_stream_create(C.int32_t(dev.ordinal), flags, C.int32_t(opts.Priority))
	if r.err != nil {
		return nil, convertError(op, r.err)
	}
	p := C.cg_stream_priority(r.handle)
	if p.err != nil {
		err := convertError("stream priority", p.err)
		C.cg_err_free(C.cg_stream_destroy(r.handle))
		return nil, err
	}
	s := &Stream{dev: dev.ordinal, priority: int32(p.value)}
	s.x = newHandle(r.handle, "stream", destroyStream, leakInfo{what: "Stream", dev: dev.ordinal})
	return s, nil
}

func destroyStream(h C.cudago_stream_t) *C.cg_err_t { return C.cg_stream_destroy(h) }

// use checks s and takes a reference for one C call; the caller must call s.drop.
func (s *Stream) use(op string) error {
	if s == nil {
		return errNil(op, "*Stream")
	}
	return s.x.use(op)
}

// drop releases the reference taken by use.
func (s *Stream) drop() { s.x.drop() }

// Device returns the stream's device.
func (s *Stream) Device() Device {
	if s == nil {
		return Device{}
	}
	return Device{ordinal: s.dev}
}

// Priority returns the stream's priority as CUDA clamped it.
func (s *Stream) Priority() int {
	if s == nil {
		return 0
	}
	return int(s.priority)
}

// Synchronize blocks until all work queued on the stream is done. A fault of that work is
// returned as an error (ErrKernelFault for a faulted kernel).
func (s *Stream) Synchronize() error {
	const op = "stream synchronize"
	if err := s.use(op); err != nil {
		return err
	}
	return s.syncHeld()
}

// Query reports whether all work queued on the stream is done, without blocking.
func (s *Stream) Query() (done bool, err error) {
	const op = "stream query"
	if err := s.use(op); err != nil {
		return false, err
	}
	r := C.cg_stream_query(s.x.h)
	s.drop()
	runtime.KeepAlive(s)
	if r.err != nil {
		return false, convertError(op, r.err)
	}
	return r.value != 0, nil
}

// Wait blocks until all work queued on the stream is done, like Synchronize, or until ctx is
// done, whichever comes first; in the latter case it returns ctx.Err(). Cancelling ctx does
// not cancel the GPU work: a background goroutine keeps waiting for it and ends when it is
// done, and a Close of the stream meanwhile waits for that goroutine.
func (s *Stream) Wait(ctx context.Context) error {
	return waitFor(ctx, s, "stream synchronize")
}

// syncHeld synchronizes with a reference taken by use, and releases it.
func (s *Stream) syncHeld() error {
	info := C.cg_stream_synchronize(s.x.h)
	s.drop()
	runtime.KeepAlive(s)
	return errorFrom("stream synchronize", info)
}

// waiter is what Stream and Event have in common for waitFor.
type waiter interface {
	Query() (bool, error)
	Synchronize() error
	use(op string) error
	syncHeld() error
}

// waitFor implements Stream.Wait and Event.Wait: a cheap query first; without a deadline or
// cancellation a plain synchronize; otherwise a goroutine synchronizes while the caller selects
// on the result and ctx. The goroutine's reference on the handle is taken before it starts, so
// a Close after Wait returns waits for the synchronisation to end.
func waitFor(ctx context.Context, w waiter, op string) error {
	if done, err := w.Query(); err != nil || done {
		return err
	}
	if ctx == nil || ctx.Done() == nil {
		return w.Synchronize()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.use(op); err != nil {
		return err
	}
	result := make(chan error, 1)
	go func() { result <- w.syncHeld() }()
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitEvent makes work queued on s after this call wait for e's last record (e may belong to
// another device). It does not block the caller.
func (s *Stream) WaitEvent(e *Event) error {
	const op = "stream wait event"
	if err := useAll(op, s, e); err != nil {
		return err
	}
	info := C.cg_stream_wait_event(s.x.h, e.x.h)
	dropAll(s, e)
	return errorFrom(op, info)
}

// Close releases the stream. Work already queued still completes, and buffers allocated on the
// stream stay valid. Close waits for method calls in flight on s to return; later calls
// return an error matching ErrClosed. A second Close returns nil.
func (s *Stream) Close() error {
	if s == nil {
		return nil
	}
	return s.x.close("stream destroy")
}
