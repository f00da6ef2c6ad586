//go:build cgo

package capi

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"
)

// life guards one C handle against use after free without ever blocking a user of the handle.
//
// Each method that passes the handle to C brackets the call with acquire and release; acquire
// fails once Close has begun. Close (life.close) marks the handle closing and then waits until
// the calls in flight have released it, after which the caller frees the C handle. Acquiring is
// one atomic add, never blocks, and nests (one call may acquire a handle twice, as Add
// does when c aliases a), so no lock order between handles exists that could deadlock.
type life struct {
	state   atomic.Int64  // number of calls in flight, plus closingBit once Close has begun
	woken   atomic.Bool   // drained has been closed
	drained chan struct{} // closed when the last call in flight leaves after Close began
	created []uintptr     // creation stack, recorded only with CUDAGO_DEBUG=1
}

const closingBit = int64(1) << 62

// debugLeaks enables leak reports from finalizers (CUDAGO_DEBUG=1).
var debugLeaks = os.Getenv("CUDAGO_DEBUG") == "1"

// leaksFreed counts handles freed by a finalizer instead of Close.
var leaksFreed atomic.Int64

func (l *life) init() {
	l.drained = make(chan struct{})
	if debugLeaks {
		pc := make([]uintptr, 32)
		l.created = pc[:runtime.Callers(3, pc)]
	}
}

// acquire takes a reference for one call; false means the handle is closed.
func (l *life) acquire() bool {
	if l.state.Add(1)&closingBit != 0 {
		l.release()
		return false
	}
	return true
}

func (l *life) release() {
	if l.state.Add(-1) == closingBit && l.woken.CompareAndSwap(false, true) {
		close(l.drained)
	}
}

// close marks the handle closed and waits for the calls in flight. It returns true to exactly
// one caller, which must then free the C handle.
func (l *life) close() bool {
	for {
		s := l.state.Load()
		if s&closingBit != 0 {
			return false
		}
		if l.state.CompareAndSwap(s, s|closingBit) {
			if s != 0 {
				<-l.drained
			}
			return true
		}
	}
}

func (l *life) isClosed() bool { return l.state.Load()&closingBit != 0 }

// user is a handle wrapper that a call can hold across a C call: use checks it and takes a
// reference (or returns the ErrInvalidHandle error of a nil handle, or the ErrClosed one of a
// closed handle), and drop releases the reference that use took.
type user interface {
	use(op string) error
	drop()
}

// useAll takes a reference on each handle in order, for a call that passes them all to C. On the
// first failure it drops the references already taken, in reverse order, and returns that
// failure's error. A handle may appear more than once (references nest).
//
// The slice does not escape (only the wrapper pointers in it do, and those are heap objects
// already), so a call's variadic slice stays on its stack; converting a pointer to user
// allocates nothing either. Neither helper allocates.
func useAll(op string, hs ...user) error {
	for i, h := range hs {
		if err := h.use(op); err != nil {
			dropAll(hs[:i]...)
			return err
		}
	}
	return nil
}

// dropAll releases the references taken by useAll, in reverse order. Called after the C call,
// it also keeps the wrappers reachable until the call has returned, so they need no
// runtime.KeepAlive.
func dropAll(hs ...user) {
	for i := len(hs) - 1; i >= 0; i-- {
		hs[i].drop()
	}
}

// leaked is called by a finalizer that found the handle open: it counts the leak and, in debug
// mode, reports what leaked and where it was created.
func (l *life) leaked(what string) {
	leaksFreed.Add(1)
	if !debugLeaks {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cudago: leak: %s was never closed; freed by its finalizer. Created at:\n", what)
	frames := runtime.CallersFrames(l.created)
	for {
		f, more := frames.Next()
		if f.Function != "" {
			fmt.Fprintf(&b, "\t%s\n\t\t%s:%d\n", f.Function, f.File, f.Line)
		}
		if !more {
			break
		}
	}
	os.Stderr.WriteString(b.String())
}

// reclaim runs the C destroy of a handle that a finalizer found open, on a goroutine of its
// own: Go runs every finalizer on one goroutine, which must never block, and some destroys wait
// for the GPU (a host buffer for the streams that used it, a graph for its launches, a module
// for the streams its kernels ran on, a communicator for NCCL). Leaks are rare (and reported
// with CUDAGO_DEBUG=1), so a goroutine each costs nothing that matters.
func reclaim(destroy func()) { go destroy() }

// CastSlice reinterprets a slice of From as a slice of To, for the public packages, whose types
// are defined over this package's (identical layouts, so no copy and no allocation).
func CastSlice[From, To any](s []From) []To {
	return unsafe.Slice((*To)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// handle is one C handle with its lifetime: the one type behind every wrapper (Stream, Event,
// Graph, DeviceBuffer, HostBuffer, MappedBuffer, Module, Kernel, Comm). It is allocated on its
// own and carries the finalizer, so a call holding a reference (use ... drop) keeps it alive
// whatever becomes of the wrapper. Each wrapper's use adds only the check for its own nil
// pointer.
type handle[H any] struct {
	life
	h       H
	kind    string              // "stream", "device buffer": in the errors of a closed handle
	destroy func(H) *C.cg_err_t // frees h; run once, by close or by the finalizer
	leak    leakInfo
}

// leakInfo is what a leak report (CUDAGO_DEBUG=1) says of a handle: "what of n elements (bytes
// bytes) on device dev", the element part for buffers only.
type leakInfo struct {
	what   string
	dev    int32
	buffer bool // a buffer: n and bytes are its size
	n      int
	bytes  uint64
}

func (l leakInfo) String() string {
	s := l.what
	if l.buffer {
		s += " of " + strconv.Itoa(l.n) + " elements (" + strconv.FormatUint(l.bytes, 10) + " bytes)"
	}
	return s + " on device " + strconv.Itoa(int(l.dev))
}

// newHandle wraps the C handle h, which destroy frees.
func newHandle[H any](h H, kind string, destroy func(H) *C.cg_err_t, leak leakInfo) *handle[H] {
	x := &handle[H]{h: h, kind: kind, destroy: destroy, leak: leak}
	x.life.init()
	runtime.SetFinalizer(x, (*handle[H]).finalize)
	return x
}

// finalize frees a handle that was never closed, on a goroutine of its own (reclaim).
func (x *handle[H]) finalize() {
	if x.life.close() {
		x.life.leaked(x.leak.String())
		h, destroy := x.h, x.destroy
		reclaim(func() { C.cg_err_free(destroy(h)) })
	}
}

// use takes a reference for one C call (the caller must drop it), or returns the ErrClosed
// error of a closed handle.
func (x *handle[H]) use(op string) error {
	if !x.life.acquire() {
		return errClosed(op, x.kind)
	}
	return nil
}

// drop releases the reference taken by use.
func (x *handle[H]) drop() { x.life.release() }

// close marks the handle closed, waits for the calls in flight and frees it; only the first
// call frees, later ones return nil. op names the C call in its error.
func (x *handle[H]) close(op string) error {
	if x == nil || !x.life.close() {
		return nil
	}
	runtime.SetFinalizer(x, nil)
	return errorFrom(op, x.destroy(x.h))
}
