//go:build cgo

package capi

// Serving (cudago_server_*, experimental in the C ABI): the core's dynamic batcher, with one
// goroutine per server that blocks in cudago_server_poll and hands many results over per cgo
// crossing. Nothing on a core thread calls into Go.

/*
#include <stdlib.h>
#include "shim_serve.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// NNServerConfig configures a server (cudago_server_options_t). The zero value takes every
// default: the model's max batch, no queue delay, no preferred sizes, 1024 queued requests, one
// priority level, no timeout, 1 GiB of staging, the model's device, 2 instances per GPU (1 on the
// reference executor).
type NNServerConfig struct {
	MaxBatchSize        int
	MaxQueueDelay       time.Duration
	PreferredBatchSizes []int
	MaxQueueSize        int
	PriorityLevels      int
	DefaultPriority     int
	DefaultTimeout      time.Duration
	PreserveOrdering    bool
	MaxStagingBytes     int64
	Devices             []int
	InstancesPerDevice  int
	ConcurrentCompute   bool
	CaptureAllSizes     bool
	Name                string
}

// NNCloseReason says why a batch was closed (cudago_serve_close_reason_t).
type NNCloseReason int32

const (
	NNCloseNone      NNCloseReason = C.CUDAGO_SERVE_CLOSE_NONE
	NNCloseFull      NNCloseReason = C.CUDAGO_SERVE_CLOSE_FULL
	NNClosePreferred NNCloseReason = C.CUDAGO_SERVE_CLOSE_PREFERRED
	NNCloseDelay     NNCloseReason = C.CUDAGO_SERVE_CLOSE_DELAY
	NNCloseDeadline  NNCloseReason = C.CUDAGO_SERVE_CLOSE_DEADLINE
	NNCloseShutdown  NNCloseReason = C.CUDAGO_SERVE_CLOSE_SHUTDOWN
)

var closeReasonNames = [...]string{"none", "full", "preferred", "delay", "deadline", "shutdown"}

// String returns "none", "full", "preferred", "delay", "deadline", "shutdown" or "CloseReason(n)".
func (r NNCloseReason) String() string {
	if r >= 0 && int(r) < len(closeReasonNames) {
		return closeReasonNames[r]
	}
	return "CloseReason(" + strconv.Itoa(int(r)) + ")"
}

// NNServeStats is what a result says of its run.
type NNServeStats struct {
	Items         int // the request's batch items
	BatchItems    int // the items of the batch it ran in
	BatchRequests int // the requests of that batch
	CloseReason   NNCloseReason
	Device        int // the GPU it ran on; -1 on the reference executor or when it never ran
	Instance      int
	// Queue is submission to dispatch; HostToDevice, Compute and DeviceToHost are its batch's
	// stages (CUDA events on a GPU); Total is submission to completion.
	Queue, HostToDevice, Compute, DeviceToHost, Total time.Duration
}

// NNServeResult is the result of one request: its outputs, what its run did, or its error.
type NNServeResult struct {
	Outputs [][]float32
	Stats   NNServeStats
	Err     error
}

// NNServerStats counts a server's requests and batches.
type NNServerStats struct {
	Submitted, Rejected, Completed           uint64
	Succeeded, Failed, TimedOut, Cancelled   uint64
	Queued, InFlight                         uint64
	Batches, Inferences                      uint64
	ClosedFull, ClosedPreferred, ClosedDelay uint64
	ClosedDeadline, ClosedShutdown           uint64
	StagingBytes                             uint64
	MaxBatchSize                             int
	BatchHistogram                           []uint64 // [b]: batches of b items
}

// NNServeRequest is one request: per model input a []float32 or []byte (copied during the
// submit), a *HostBuffer[float32] or *HostBuffer[uint8] (pinned, read in place when the batch
// runs: it must not change until the result), or an NNDeviceTensor (read in place). Outputs,
// when not nil, are the destinations (one []float32 per model output, of the request's size),
// filled without allocating; otherwise the result's outputs are allocated.
type NNServeRequest struct {
	Inputs   []any
	Outputs  [][]float32
	Priority int
	// Items is the request's batch items: 0 derives it from the host inputs' lengths; it is
	// needed when every input is an NNDeviceTensor (which has no length of its own).
	Items int
}

// pending is a request between submit and its result.
type pending struct {
	gen     uint32
	ch      chan NNServeResult
	outputs [][]float32
	items   int
	holds   []user // buffers in use until the result
	stop    func() bool
	done    bool // the result arrived (under NNServer.mu, with stop)
	// The submit call's scratch, an allocation of its own (C is given pointers into it, and
	// cgo checks a whole allocation for Go pointers: this one holds only pinned ones); pooled
	// with the pending, so it costs nothing per request.
	scratch *submitScratch
}

type submitScratch struct {
	tensors [8]C.cudago_serve_tensor_t // the inputs' descriptions (up to 8; more are allocated)
	id      C.uint64_t
}

// NNServer serves a model through the core's batcher. Its methods are safe for concurrent use.
type NNServer struct {
	x      *handle[C.cudago_server_t]
	model  *NNModel
	maxB   int
	inSize []int // bytes per item of each input
	poller chan struct{}

	mu      sync.Mutex
	slots   []*pending
	free    []uint32
	closing bool

	closeOnce sync.Once
	closeErr  error
}

func destroyServer(h C.cudago_server_t) *C.cg_err_t { return C.cg_server_destroy(h) }

// NewNNServer starts a server for m (which the server keeps alive: m may be closed first).
func NewNNServer(m *NNModel, cfg NNServerConfig) (*NNServer, error) {
	const op = "serve new"
	if err := m.use(op); err != nil {
		return nil, err
	}
	defer m.drop()
	var o C.cudago_server_options_t
	o.struct_size = C.uint32_t(unsafe.Sizeof(o))
	nonneg := func(name string, v int64) error {
		if v < 0 {
			return errArg(op, "Config."+name+" = "+strconv.FormatInt(v, 10)+" is negative")
		}
		return nil
	}
	for _, c := range []struct {
		name string
		v    int64
	}{{"MaxBatchSize", int64(cfg.MaxBatchSize)}, {"MaxQueueDelay", int64(cfg.MaxQueueDelay)},
		{"MaxQueueSize", int64(cfg.MaxQueueSize)}, {"PriorityLevels", int64(cfg.PriorityLevels)},
		{"DefaultPriority", int64(cfg.DefaultPriority)}, {"DefaultTimeout", int64(cfg.DefaultTimeout)},
		{"MaxStagingBytes", cfg.MaxStagingBytes}, {"InstancesPerDevice", int64(cfg.InstancesPerDevice)}} {
		if err := nonneg(c.name, c.v); err != nil {
			return nil, err
		}
	}
	if cfg.PreserveOrdering {
		o.flags |= C.CUDAGO_SERVER_PRESERVE_ORDERING
	}
	if cfg.ConcurrentCompute {
		o.flags |= C.CUDAGO_SERVER_CONCURRENT_COMPUTE
	}
	if cfg.CaptureAllSizes {
		o.flags |= C.CUDAGO_SERVER_CAPTURE_ALL_SIZES
	}
	o.max_batch_size = C.uint64_t(cfg.MaxBatchSize)
	o.max_queue_delay_ns = C.uint64_t(cfg.MaxQueueDelay)
	o.max_queue_size = C.uint64_t(cfg.MaxQueueSize)
	o.priority_levels = C.uint64_t(cfg.PriorityLevels)
	o.default_priority = C.uint64_t(cfg.DefaultPriority)
	o.default_timeout_ns = C.uint64_t(cfg.DefaultTimeout)
	o.max_staging_bytes = C.uint64_t(cfg.MaxStagingBytes)
	o.instances_per_device = C.uint64_t(cfg.InstancesPerDevice)
	// The arrays are copied during the call: C memory, freed after it.
	if n := len(cfg.PreferredBatchSizes); n > 0 {
		p := (*C.uint64_t)(C.malloc(C.size_t(n * 8)))
		defer C.free(unsafe.Pointer(p))
		ps := unsafe.Slice(p, n)
		for i, v := range cfg.PreferredBatchSizes {
			if v < 1 {
				return nil, errArg(op, "Config.PreferredBatchSizes["+strconv.Itoa(i)+"] = "+strconv.Itoa(v)+
					" is not positive")
			}
			ps[i] = C.uint64_t(v)
		}
		o.preferred_batch_sizes, o.num_preferred_batch_sizes = p, C.uint64_t(n)
	}
	if n := len(cfg.Devices); n > 0 {
		p := (*C.int32_t)(C.malloc(C.size_t(n * 4)))
		defer C.free(unsafe.Pointer(p))
		ds := unsafe.Slice(p, n)
		for i, v := range cfg.Devices {
			if v < 0 || v > math.MaxInt32 {
				return nil, &Error{Status: StatusInvalidDevice, Op: op,
					Msg: "Config.Devices[" + strconv.Itoa(i) + "] = " + strconv.Itoa(v) + " is out of range"}
			}
			ds[i] = C.int32_t(v)
		}
		o.devices, o.num_devices = p, C.uint64_t(n)
	}
	if cfg.Name != "" {
		if strings.IndexByte(cfg.Name, 0) >= 0 {
			return nil, errArg(op, "Config.Name contains a NUL byte")
		}
		cname := C.CString(cfg.Name)
		defer C.free(unsafe.Pointer(cname))
		o.name = cname
	}
	r := C.cg_server_create(m.x.h, o)
	if r.err != nil {
		return nil, convertError(op, r.err)
	}
	s := &NNServer{model: m, poller: make(chan struct{})}
	s.x = newHandle(r.handle, "server", destroyServer,
		leakInfo{what: "serve Server", dev: int32(m.info.Device)})
	var st C.cudago_server_stats_t
	var n C.uint64_t
	if err := errorFrom(op, C.cg_server_stats(r.handle, &st, nil, 0, &n)); err != nil {
		s.x.close("serve destroy")
		return nil, err
	}
	s.maxB = clampInt(uint64(st.max_batch_size))
	for _, t := range m.inputs {
		s.inSize = append(s.inSize, t.BytesPerItem)
	}
	go s.poll()
	return s, nil
}

// MaxBatchSize is the largest number of items a batch (and a request) may have.
func (s *NNServer) MaxBatchSize() int { return s.maxB }

// Model is the model the server runs.
func (s *NNServer) Model() *NNModel { return s.model }

const pollCap = 256

// poll is the server's one completion goroutine: it blocks in cudago_server_poll, copies each
// result's outputs into Go memory, wakes its waiter and releases the results in the next poll.
func (s *NNServer) poll() {
	defer close(s.poller)
	results := C.cg_serve_results_new(pollCap)
	if results == nil {
		panic("cudago: out of C memory for a server's results")
	}
	defer C.free(unsafe.Pointer(results))
	rs := unsafe.Slice(results, pollCap)
	release := make([]C.uint64_t, 0, pollCap)
	for {
		var n C.uint64_t
		var relP *C.uint64_t
		if len(release) > 0 {
			relP = &release[0]
		}
		err := C.cg_server_poll(s.x.h, relP, C.uint64_t(len(release)), C.UINT64_MAX, results,
			pollCap, &n)
		release = release[:0]
		if err != nil {
			e := convertError("serve poll", err)
			if e.Status == StatusUnavailable {
				return // shut down and drained
			}
			panic("cudago: serve poll: " + e.Error()) // a bug: the arguments are the library's own
		}
		for i := range int(n) {
			r := &rs[i]
			s.complete(r)
			release = append(release, r.id)
		}
	}
}

// complete hands one C result to its waiter.
func (s *NNServer) complete(r *C.cudago_serve_result_t) {
	tag := uint64(r.tag)
	idx, gen := uint32(tag), uint32(tag>>32)
	s.mu.Lock()
	var p *pending
	var stop func() bool
	if int(idx) < len(s.slots) && s.slots[idx] != nil && s.slots[idx].gen == gen {
		p = s.slots[idx]
		s.slots[idx] = nil
		s.free = append(s.free, idx)
		p.done = true
		stop, p.stop = p.stop, nil
	}
	s.mu.Unlock()
	if p == nil {
		return // not ours: cannot happen
	}
	if stop != nil {
		stop()
	}
	res := NNServeResult{Stats: NNServeStats{
		Items:         clampInt(uint64(r.items)),
		BatchItems:    clampInt(uint64(r.batch_items)),
		BatchRequests: clampInt(uint64(r.batch_requests)),
		CloseReason:   NNCloseReason(r.close_reason),
		Device:        int(r.device),
		Instance:      int(r.instance),
		Queue:         time.Duration(r.queue_ns),
		HostToDevice:  time.Duration(r.h2d_ns),
		Compute:       time.Duration(r.compute_ns),
		DeviceToHost:  time.Duration(r.d2h_ns),
		Total:         time.Duration(r.total_ns),
	}}
	if st := Status(r.status); st != StatusSuccess {
		res.Err = &Error{Status: st, Op: "serve infer", Msg: C.GoString(r.message)}
	} else {
		outs := unsafe.Slice(r.outputs, int(r.num_outputs))
		sizes := unsafe.Slice(r.output_bytes, int(r.num_outputs))
		if p.outputs == nil {
			p.outputs = make([][]float32, len(outs))
		}
		for j := range outs {
			n := int(sizes[j]) / 4
			if p.outputs[j] == nil {
				p.outputs[j] = make([]float32, n)
			}
			if n > 0 {
				copy(p.outputs[j], unsafe.Slice((*float32)(outs[j]), n))
			}
		}
		res.Outputs = p.outputs
	}
	dropAll(p.holds...)
	p.ch <- res // buffered: never blocks
}

// take registers a pending request and returns its tag.
func (s *NNServer) take(p *pending) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return 0, false
	}
	var idx uint32
	if n := len(s.free); n > 0 {
		idx = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		idx = uint32(len(s.slots))
		s.slots = append(s.slots, nil)
	}
	p.gen++
	p.done = false
	s.slots[idx] = p
	return uint64(p.gen)<<32 | uint64(idx), true
}

func (s *NNServer) untake(tag uint64) {
	s.mu.Lock()
	s.slots[uint32(tag)] = nil
	s.free = append(s.free, uint32(tag))
	s.mu.Unlock()
}

var pendingPool = sync.Pool{New: func() any { return &pending{ch: make(chan NNServeResult, 1)} }}

// Infer runs one request and waits for its result. ctx's deadline becomes the request's timeout
// (ErrTimeout, matching context.DeadlineExceeded, if it passes while the request is queued);
// cancelling ctx cancels a queued request (ErrCancelled, matching context.Canceled); a request
// already running completes.
func (s *NNServer) Infer(ctx context.Context, req *NNServeRequest) (NNServeResult, error) {
	p, err := s.submit(ctx, req)
	if err != nil {
		return NNServeResult{}, err
	}
	res := <-p.ch
	p.outputs, p.holds, p.stop = nil, p.holds[:0], nil
	pendingPool.Put(p)
	return res, res.Err
}

// Submit queues one request and returns a channel that receives its result (buffered: it need
// not be read). A request refused at once gets its error on the channel too.
func (s *NNServer) Submit(ctx context.Context, req *NNServeRequest) <-chan NNServeResult {
	p, err := s.submit(ctx, req)
	if err != nil {
		ch := make(chan NNServeResult, 1)
		ch <- NNServeResult{Err: err}
		return ch
	}
	// The channel goes to the caller: this pending is not reused.
	return p.ch
}

func (s *NNServer) submit(ctx context.Context, req *NNServeRequest) (*pending, error) {
	const op = "serve infer"
	if s == nil || s.x == nil {
		return nil, errNil(op, "*Server")
	}
	if req == nil {
		return nil, errArg(op, "nil request")
	}
	m := s.model
	if len(req.Inputs) != len(m.inputs) {
		return nil, m.checkCounts(op, len(req.Inputs), len(m.outputs))
	}
	if req.Outputs != nil && len(req.Outputs) != len(m.outputs) {
		return nil, m.checkCounts(op, len(m.inputs), len(req.Outputs))
	}
	if req.Priority < 0 {
		return nil, errArg(op, "priority "+strconv.Itoa(req.Priority)+" is negative")
	}
	var timeout uint64
	if dl, ok := ctx.Deadline(); ok {
		d := time.Until(dl)
		if d <= 0 {
			return nil, &Error{Status: StatusTimeout, Op: op, Msg: "the context's deadline has passed"}
		}
		timeout = uint64(d)
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Status: StatusCancelled, Op: op, Msg: "the context is cancelled"}
	}
	if err := s.x.use(op); err != nil {
		return nil, err
	}
	defer s.x.drop()

	p := pendingPool.Get().(*pending)
	p.outputs = req.Outputs
	var tensors []C.cudago_serve_tensor_t
	if p.scratch == nil {
		p.scratch = new(submitScratch)
	}
	sc := p.scratch
	if n := len(m.inputs); n <= len(sc.tensors) {
		sc.tensors = [8]C.cudago_serve_tensor_t{}
		tensors = sc.tensors[:n]
	} else {
		tensors = make([]C.cudago_serve_tensor_t, n)
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	fail := func(err error) (*pending, error) {
		dropAll(p.holds...)
		p.outputs, p.holds = nil, p.holds[:0]
		pendingPool.Put(p)
		return nil, err
	}
	items := -1
	for i, in := range req.Inputs {
		d := &m.inputs[i]
		t := &tensors[i]
		t.struct_size = C.uint32_t(unsafe.Sizeof(*t))
		var bytes int
		var given DType
		switch v := in.(type) {
		case []float32:
			given, bytes = DTypeF32, len(v)*4
			t.memory = C.CUDAGO_SERVE_MEMORY_HOST
			if len(v) > 0 {
				t.host = unsafe.Pointer(unsafe.SliceData(v))
				pin.Pin(t.host)
			}
		case []byte:
			given, bytes = DTypeU8, len(v)
			t.memory = C.CUDAGO_SERVE_MEMORY_HOST
			if len(v) > 0 {
				t.host = unsafe.Pointer(unsafe.SliceData(v))
				pin.Pin(t.host)
			}
		case *HostBuffer[float32]:
			if v == nil {
				return fail(errNil(op, "*HostBuffer of "+tensorName("input", i, d)))
			}
			if err := s.holdHost(op, p, t, v.c); err != nil {
				return fail(err)
			}
			given, bytes = DTypeF32, int(v.c.bytes)
		case *HostBuffer[uint8]:
			if v == nil {
				return fail(errNil(op, "*HostBuffer of "+tensorName("input", i, d)))
			}
			if err := s.holdHost(op, p, t, v.c); err != nil {
				return fail(err)
			}
			given, bytes = DTypeU8, int(v.c.bytes)
		case NNDeviceTensor:
			if v.buf == nil {
				return fail(errNil(op, "device buffer of "+tensorName("input", i, d)))
			}
			if err := v.buf.x.use(op); err != nil {
				return fail(err)
			}
			p.holds = append(p.holds, v.buf.x)
			given = v.dtype
			if v.off < 0 || uint64(v.off) > v.buf.bytes/v.esize {
				return fail(errRange(op, tensorName("input", i, d)+": offset "+strconv.Itoa(v.off)+
					" is past its buffer"))
			}
			t.memory = C.CUDAGO_SERVE_MEMORY_DEVICE
			t.device = v.buf.x.h
			t.offset = C.uint64_t(uint64(v.off) * v.esize)
			bytes = -1 // the whole rest of the buffer would be wrong: sized by the items below
		case nil:
			return fail(errArg(op, tensorName("input", i, d)+" is nil; want a []"+d.DType.String()))
		default:
			return fail(errArg(op, fmt.Sprintf("%s is a %T; want a []%s, a *HostBuffer or an "+
				"NNDeviceTensor", tensorName("input", i, d), in, d.DType)))
		}
		if given != d.DType {
			return fail(errArg(op, tensorName("input", i, d)+" holds "+given.String()+
				"; the model takes "+d.DType.String()+" for it"))
		}
		if bytes < 0 { // a device tensor: req.Items, or the items of an earlier input
			switch {
			case req.Items > 0:
				bytes = req.Items * d.BytesPerItem
			case items > 0:
				bytes = items * d.BytesPerItem
			case d.BatchAxis < 0:
				bytes = d.BytesPerItem
			default:
				return fail(errArg(op, tensorName("input", i, d)+" is a device tensor: give "+
					"Request.Items (it has no length of its own)"))
			}
			if req.Items > s.maxB {
				return fail(errArg(op, fmt.Sprintf("Request.Items = %d is above the server's max "+
					"batch size %d", req.Items, s.maxB)))
			}
		}
		k := 1
		if d.BatchAxis >= 0 {
			if d.BytesPerItem == 0 || bytes%d.BytesPerItem != 0 || bytes == 0 {
				return fail(errArg(op, fmt.Sprintf("%s has %d bytes, not a positive multiple of the %d "+
					"bytes of one item", tensorName("input", i, d), bytes, d.BytesPerItem)))
			}
			k = bytes / d.BytesPerItem
		} else if bytes != d.BytesPerItem {
			return fail(errArg(op, fmt.Sprintf("%s has %d bytes; the model takes %d",
				tensorName("input", i, d), bytes, d.BytesPerItem)))
		}
		if items >= 0 && k != items {
			return fail(errArg(op, fmt.Sprintf("%s has %d items; an earlier input has %d",
				tensorName("input", i, d), k, items)))
		}
		items = k
		t.dtype = C.cudago_dtype_t(d.DType)
		t.rank = C.uint64_t(len(d.Dims))
		for a, v := range d.Dims {
			t.dims[a] = C.uint64_t(v)
		}
		if d.BatchAxis >= 0 {
			t.dims[d.BatchAxis] = C.uint64_t(k)
		}
		t.bytes = C.uint64_t(bytes)
	}
	if req.Items > 0 && items != req.Items {
		return fail(errArg(op, fmt.Sprintf("Request.Items = %d; the inputs hold %d items",
			req.Items, items)))
	}
	if items > s.maxB {
		return fail(errArg(op, fmt.Sprintf("the request has %d items; the server's max batch size is %d",
			items, s.maxB)))
	}
	p.items = items
	if req.Outputs != nil {
		for j, out := range req.Outputs {
			d := &m.outputs[j]
			want := d.Len(items)
			if len(out) != want {
				return fail(errArg(op, fmt.Sprintf("%s has %d values; at %d items it needs %d",
					tensorName("output", j, d), len(out), items, want)))
			}
		}
		// Outputs land in staging and are copied into req.Outputs by the completion goroutine:
		// C gets no destinations.
	}
	tag, ok := s.take(p)
	if !ok {
		return fail(&Error{Status: StatusUnavailable, Op: op, Msg: "the server is closed"})
	}
	var in *C.cudago_serve_tensor_t
	if len(m.inputs) > 0 {
		in = &tensors[0]
	}
	err := C.cg_server_submit(s.x.h, in, C.uint64_t(len(m.inputs)), nil, 0,
		C.uint64_t(tag), C.uint64_t(req.Priority), C.uint64_t(timeout), &sc.id)
	if err != nil {
		s.untake(tag)
		return fail(convertError(op, err))
	}
	if ctx.Done() != nil {
		rid := uint64(sc.id)
		s.mu.Lock()
		if !p.done {
			// At the deadline the core fails the request itself (ErrTimeout; the core's deadline
			// is the context's), so only a cancellation cancels: cancelling at the deadline raced
			// the core's reaper and turned timeouts into ErrCancelled (seen under overload).
			p.stop = context.AfterFunc(ctx, func() {
				if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
					s.cancel(rid)
				}
			})
		}
		s.mu.Unlock()
	}
	return p, nil
}

// holdHost describes a pinned host buffer input and keeps it in use until the result.
func (s *NNServer) holdHost(op string, p *pending, t *C.cudago_serve_tensor_t, hb *hostBuf) error {
	if hb == nil {
		return errNil(op, "*HostBuffer")
	}
	if err := hb.x.use(op); err != nil {
		return err
	}
	p.holds = append(p.holds, hb.x)
	t.memory = C.CUDAGO_SERVE_MEMORY_PINNED
	t.pinned = hb.x.h
	t.offset = 0
	return nil
}

// cancel cancels a queued request (a no-op for one running or done).
func (s *NNServer) cancel(id uint64) {
	if s.x.use("serve cancel") != nil {
		return
	}
	defer s.x.drop()
	var c C.int32_t
	C.cg_err_free(C.cg_server_cancel(s.x.h, C.uint64_t(id), &c))
}

// Stats returns the server's counters and its batch-size histogram.
func (s *NNServer) Stats() (NNServerStats, error) {
	const op = "serve stats"
	if s == nil || s.x == nil {
		return NNServerStats{}, errNil(op, "*Server")
	}
	if err := s.x.use(op); err != nil {
		return NNServerStats{}, err
	}
	defer s.x.drop()
	hist := make([]C.uint64_t, s.maxB+1)
	var st C.cudago_server_stats_t
	var n C.uint64_t
	if err := errorFrom(op, C.cg_server_stats(s.x.h, &st, &hist[0], C.uint64_t(len(hist)), &n)); err != nil {
		return NNServerStats{}, err
	}
	out := NNServerStats{
		Submitted: uint64(st.submitted), Rejected: uint64(st.rejected), Completed: uint64(st.completed),
		Succeeded: uint64(st.succeeded), Failed: uint64(st.failed), TimedOut: uint64(st.timed_out),
		Cancelled: uint64(st.cancelled), Queued: uint64(st.queued), InFlight: uint64(st.in_flight),
		Batches: uint64(st.batches), Inferences: uint64(st.inferences),
		ClosedFull: uint64(st.closed_full), ClosedPreferred: uint64(st.closed_preferred),
		ClosedDelay: uint64(st.closed_delay), ClosedDeadline: uint64(st.closed_deadline),
		ClosedShutdown: uint64(st.closed_shutdown), StagingBytes: uint64(st.staging_bytes),
		MaxBatchSize: clampInt(uint64(st.max_batch_size)),
	}
	out.BatchHistogram = make([]uint64, min(int(n), len(hist)))
	for i := range out.BatchHistogram {
		out.BatchHistogram[i] = uint64(hist[i])
	}
	return out, nil
}

// Shutdown stops intake (later requests fail with ErrUnavailable) and waits until every
// accepted request has its result; with cancelQueued the queued ones fail with ErrCancelled
// instead of running. Close calls it.
func (s *NNServer) Shutdown(cancelQueued bool) error {
	const op = "serve shutdown"
	if s == nil || s.x == nil {
		return errNil(op, "*Server")
	}
	if err := s.x.use(op); err != nil {
		return err
	}
	defer s.x.drop()
	var flags C.uint32_t
	if cancelQueued {
		flags = C.CUDAGO_SERVER_CANCEL_QUEUED
	}
	return errorFrom(op, C.cg_server_shutdown(s.x.h, flags))
}

// Close drains the server (every accepted request gets its result), stops its completion
// goroutine and frees it. A second Close returns the first one's error.
func (s *NNServer) Close() error {
	if s == nil || s.x == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		err := s.Shutdown(false)
		<-s.poller
		if cerr := s.x.close("serve destroy"); err == nil {
			err = cerr
		}
		s.closeErr = err
	})
	return s.closeErr
}
