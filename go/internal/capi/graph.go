package capi

/*
#include "shim_graph.h"
*/
import "C"

import (
	"runtime"
	"strconv"
)

// CaptureMode selects which calls a stream capture refuses while it runs (CUDA's
// cudaStreamCaptureMode).
type CaptureMode int

const (
	// CaptureThreadLocal refuses unsafe calls of the capturing OS thread (the default).
	// Capture locks the goroutine to its thread for the duration of fn.
	CaptureThreadLocal CaptureMode = C.CUDAGO_CAPTURE_THREAD_LOCAL
	// CaptureGlobal refuses unsafe CUDA calls of every thread of the process.
	CaptureGlobal CaptureMode = C.CUDAGO_CAPTURE_GLOBAL
	// CaptureRelaxed refuses nothing; the caller takes care that nothing unsafe happens.
	CaptureRelaxed CaptureMode = C.CUDAGO_CAPTURE_RELAXED
)

// Graph is captured GPU work, instantiated once, that replays with a single launch: the
// cheapest way to queue many small kernels. Methods are safe for concurrent use; launches of
// one graph run one after another. Close it when done.
//
// The buffers the captured work used must stay open while the graph is launched: a launch
// after one of them was closed fails with ErrInvalidHandle, and closing a buffer waits (on the
// GPU) for the graph's launches that use it. Modules, mapped buffers and FFT plans used in the
// capture are kept alive by the graph itself.
type Graph struct {
	x   *handle[C.cudago_graph_t]
	dev int32
}

// Capture records the GPU work that fn queues on s (kernels, Launch of compiled kernels, async
// copies and memsets, GEMM, FFT and the other cudago operations) into a Graph instead of
// running it, in the thread-local mode. See CaptureWith.
func (s *Stream) Capture(fn func() error) (*Graph, error) {
	return s.CaptureWith(CaptureThreadLocal, fn)
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
	const op = "stream capture"
	if fn == nil {
		return nil, errArg(op, "nil capture function")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := s.begin(op, mode); err != nil {
		return nil, err
	}
	ended := false
	defer func() {
		if !ended { // fn panicked: end and drop the capture, let the panic go on
			g, _ := s.endCapture(op)
			g.Close()
		}
	}()
	ferr := fn()
	g, err := s.endCapture(op)
	ended = true
	if ferr != nil {
		g.Close()
		return nil, ferr
	}
	return g, err
}

// Capturing reports whether s is being captured.
func (s *Stream) Capturing() (bool, error) {
	const op = "stream is capturing"
	if err := s.use(op); err != nil {
		return false, err
	}
	r := C.cg_stream_is_capturing(s.x.h)
	s.drop()
	if r.err != nil {
		return false, convertError(op, r.err)
	}
	return r.value != 0, nil
}

func (s *Stream) begin(op string, mode CaptureMode) error {
	if mode < CaptureThreadLocal || mode > CaptureRelaxed {
		return errArg(op, "unknown capture mode "+strconv.Itoa(int(mode)))
	}
	if err := s.use(op); err != nil {
		return err
	}
	info := C.cg_stream_begin_capture(s.x.h, C.cudago_capture_mode_t(mode))
	s.drop()
	return errorFrom(op, info)
}

// endCapture ends the capture of s and wraps its graph (nil on failure).
func (s *Stream) endCapture(op string) (*Graph, error) {
	if err := s.use(op); err != nil {
		return nil, err
	}
	r := C.cg_stream_end_capture(s.x.h)
	s.drop()
	if r.err != nil {
		return nil, convertError(op, r.err)
	}
	g := &Graph{dev: s.dev}
	g.x = newHandle(r.handle, "graph", destroyGraph, leakInfo{what: "Graph", dev: s.dev})
	return g, nil
}

func destroyGraph(h C.cudago_graph_t) *C.cg_err_t { return C.cg_graph_destroy(h) }

func (g *Graph) use(op string) error {
	if g == nil {
		return errNil(op, "*Graph")
	}
	return g.x.use(op)
}

func (g *Graph) drop() { g.x.drop() }

// Device returns the graph's device.
func (g *Graph) Device() Device {
	if g == nil {
		return Device{}
	}
	return Device{ordinal: g.dev}
}

// Launch queues one replay of the graph on s (a stream of the graph's device). It does not
// block; the replay is ordered on s like any other work.
func (g *Graph) Launch(s *Stream) error {
	const op = "graph launch"
	if err := useAll(op, g, s); err != nil {
		return err
	}
	info := C.cg_graph_launch(g.x.h, s.x.h)
	dropAll(g, s)
	return errorFrom(op, info)
}

// Upload moves the graph's work to the device ahead of its first launch, so that the first
// launch costs what the later ones do.
func (g *Graph) Upload(s *Stream) error {
	const op = "graph upload"
	if err := useAll(op, g, s); err != nil {
		return err
	}
	info := C.cg_graph_upload(g.x.h, s.x.h)
	dropAll(g, s)
	return errorFrom(op, info)
}

// Update captures fn on s again, like Capture, and applies the result to g: the new capture
// must have the same topology (the same operations in the same order, the same kernels), while
// kernel arguments, launch sizes and the buffers of copies and memsets may differ. A capture of
// another shape returns an error matching ErrCapture and g is unchanged. Launches already
// queued are not affected.
func (g *Graph) Update(s *Stream, fn func() error) error {
	const op = "graph update"
	if fn == nil {
		return errArg(op, "nil capture function")
	}
	if err := g.use(op); err != nil {
		return err
	}
	defer g.drop()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := s.begin(op, CaptureThreadLocal); err != nil {
		return err
	}
	ended := false
	defer func() {
		if !ended {
			dropped, _ := s.endCapture(op)
			dropped.Close()
		}
	}()
	ferr := fn()
	if ferr != nil {
		dropped, _ := s.endCapture(op)
		ended = true
		dropped.Close()
		return ferr
	}
	if err := s.use(op); err != nil {
		ended = true // the stream was closed during fn: its capture ended with it
		return err
	}
	info := C.cg_graph_update(g.x.h, s.x.h)
	s.drop()
	ended = true
	return errorFrom(op, info)
}

// Nodes returns the number of nodes of the graph (kernels, copies, memsets, allocations...).
func (g *Graph) Nodes() (int, error) {
	const op = "graph node count"
	if err := g.use(op); err != nil {
		return 0, err
	}
	r := C.cg_graph_node_count(g.x.h)
	g.drop()
	if r.err != nil {
		return 0, convertError(op, r.err)
	}
	return int(r.value), nil
}

// Close waits for the graph's launches to finish, then frees it and what it kept alive. Close
// waits for method calls in flight; later calls return an error matching ErrClosed. A second
// Close, or a Close of nil, returns nil.
func (g *Graph) Close() error {
	if g == nil {
		return nil
	}
	return g.x.close("graph destroy")
}
