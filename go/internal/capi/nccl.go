//go:build cgo

package capi

/*
#include "shim_nccl.h"
*/
import "C"

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"time"
	"unsafe"
)

// NCCL collectives: communicators over the GPUs of this process ([NewComms]) or over processes
// ([NewUniqueID] and [NewCommRank]), and all-reduce, broadcast, reduce, all-gather and
// reduce-scatter queued on a [Stream].
//
// NCCL is loaded at run time (libnccl.so.2 from the loader path, or $CUDAGO_NCCL_LIBRARY), on
// first use; where it is missing every NCCL call returns an error matching [ErrNCCL] that names
// the library and why it could not be loaded. On shared machines set NCCL_NVLS_ENABLE=0 in the
// environment before the first NCCL call (NVLink multicast reserves memory on every GPU of the
// node); the package never changes the environment.

// NCCLOp is the reduction of a collective.
type NCCLOp int32

// The reductions, with the values of cudago_nccl_op_t.
const (
	NCCLSum  NCCLOp = C.CUDAGO_NCCL_SUM
	NCCLProd NCCLOp = C.CUDAGO_NCCL_PROD
	NCCLMin  NCCLOp = C.CUDAGO_NCCL_MIN
	NCCLMax  NCCLOp = C.CUDAGO_NCCL_MAX
	NCCLAvg  NCCLOp = C.CUDAGO_NCCL_AVG // the sum divided by the number of ranks
)

// NCCLID is the unique id that the ranks of one communicator share ([NewUniqueID]): made by
// one process and sent to the others byte for byte.
type NCCLID [C.CUDAGO_NCCL_UNIQUE_ID_BYTES]byte

// NCCLVersion returns the version code of the loaded NCCL (major·10000 + minor·100 + patch,
// e.g. 22803). It loads NCCL, and fails with [ErrNCCL] where it cannot be loaded.
func NCCLVersion() (int, error) {
	r := C.cg_nccl_version()
	if r.err != nil {
		return 0, convertError("nccl version", r.err)
	}
	return int(r.value), nil
}

// Comm is one rank of an NCCL communicator, bound to one device. Methods are safe for
// concurrent use, but every rank must issue the same collectives in the same order. Close it
// when done.
type Comm struct {
	x          *handle[C.cudago_comm_t]
	dev        int32
	rank, size int32
}

func newComm(h C.cudago_comm_t, dev, rank, size int32) *Comm {
	c := &Comm{dev: dev, rank: rank, size: size}
	c.x = newHandle(h, "communicator", destroyComm,
		leakInfo{what: "Comm rank " + strconv.Itoa(int(rank)), dev: dev})
	return c
}

func destroyComm(h C.cudago_comm_t) *C.cg_err_t { return C.cg_comm_destroy(h).err }

// NewComms creates one communicator per device of this process (ncclCommInitAll): the i-th is
// rank i on devices[i]. Devices must be distinct. Drive the communicators of one clique from
// one goroutine with [NCCLGroup] around the per-device calls (as [AllReduceAll]
// does), or from one goroutine per communicator.
func NewComms(devices []Device) ([]*Comm, error) {
	const op = "comm init all"
	if len(devices) == 0 {
		return nil, errArg(op, "no devices")
	}
	if len(devices) > 1<<20 {
		return nil, errArg(op, strconv.Itoa(len(devices))+" devices")
	}
	if err := ready(); err != nil {
		return nil, err
	}
	ords := make([]C.int32_t, len(devices))
	for i, d := range devices {
		ords[i] = C.int32_t(d.ordinal)
	}
	hs := make([]C.cudago_comm_t, len(devices))
	r := C.cg_comm_init_all((*C.cudago_comm_t)(unsafe.Pointer(&hs[0])), C.uint64_t(len(devices)),
		(*C.int32_t)(unsafe.Pointer(&ords[0])))
	if r.err != nil {
		return nil, convertError(op, r.err)
	}
	comms := make([]*Comm, len(hs))
	for i, h := range hs {
		info := C.cg_comm_info(h)
		if info.err != nil { // cannot happen for a fresh handle; free everything
			err := convertError(op, info.err)
			for _, c := range comms[:i] {
				c.Close()
			}
			for _, h2 := range hs[i:] {
				C.cg_err_free(C.cg_comm_destroy(h2).err)
			}
			return nil, err
		}
		comms[i] = newComm(h, int32(info.device), int32(info.rank), int32(info.size))
	}
	return comms, nil
}

// NewUniqueID makes the id for [NewCommRank] (ncclGetUniqueId). Call it in one process and
// send the id to the others.
func NewUniqueID() (NCCLID, error) {
	var id NCCLID
	r := C.cg_comm_unique_id()
	if r.err != nil {
		return id, convertError("comm unique id", r.err)
	}
	id = *(*NCCLID)(unsafe.Pointer(&r.id))
	return id, nil
}

// NewCommRank joins rank `rank` of `nranks` on dev (ncclCommInitRank), with the id every rank
// shares (made by [NewUniqueID] in one process and sent to the others). It blocks until all
// ranks have joined, or until ctx is done: then the half-made communicator is aborted and the
// error matches [ErrTimeout] and context.DeadlineExceeded (or [ErrCancelled] and
// context.Canceled). A context that can never end waits as long as it takes.
func NewCommRank(ctx context.Context, dev Device, nranks int, id NCCLID, rank int) (*Comm, error) {
	const op = "comm init rank"
	if nranks < 1 || nranks > 1<<30 {
		return nil, errArg(op, "nranks "+strconv.Itoa(nranks))
	}
	if rank < 0 || rank >= nranks {
		return nil, errArg(op, "rank "+strconv.Itoa(rank)+" outside [0, "+strconv.Itoa(nranks)+")")
	}
	if err := ready(); err != nil {
		return nil, err
	}
	opts, release, err := boundedWait(ctx, op)
	if err != nil {
		return nil, err
	}
	var cid C.cudago_nccl_unique_id_t
	*(*NCCLID)(unsafe.Pointer(&cid)) = id
	r := C.cg_comm_init_rank(C.int32_t(dev.ordinal), C.int32_t(nranks), cid, C.int32_t(rank), opts)
	release()
	if r.err != nil {
		return nil, waitError(ctx, convertError(op, r.err))
	}
	return newComm(r.handle, int32(r.device), int32(r.rank), int32(r.size)), nil
}

// Wait waits until the work queued on s (of c's device) is done, watching the communicator: when
// it fails (a peer process died or left) or ctx is done first, the communicator is aborted (its
// collectives that would wait forever end) and the error says why: [ErrNCCL], or [ErrTimeout]
// / [ErrCancelled] matching ctx's error. An aborted communicator refuses every call but Close.
// Use it instead of [Stream.Wait] where another process takes part in the work.
func (c *Comm) Wait(ctx context.Context, s *Stream) error {
	const op = "comm wait"
	opts, release, err := boundedWait(ctx, op)
	if err != nil {
		return err
	}
	defer release()
	if err := useAll(op, c, s); err != nil {
		return err
	}
	info := C.cg_comm_wait(c.x.h, s.x.h, opts)
	dropAll(c, s)
	return waitError(ctx, errorFrom(op, info))
}

// boundedWait turns ctx into C wait options: nil (no limit) for a context that can never end;
// otherwise options with ctx's deadline and a cancel flag that a goroutine sets when ctx is
// done, polled by the C call. release stops the goroutine and frees the options.
func boundedWait(ctx context.Context, op string) (*C.cudago_wait_options_t, func(), error) {
	if ctx == nil || ctx.Done() == nil {
		return nil, func() {}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, waitError(ctx, &Error{Status: StatusCancelled, Op: op, Msg: err.Error()})
	}
	var ns uint64
	if d, ok := ctx.Deadline(); ok {
		ns = uint64(max(time.Until(d), 1))
	}
	w := C.cg_wait_new(C.uint64_t(ns))
	if w == nil {
		panic("cudago: out of C memory")
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			C.cg_wait_cancel(w)
		case <-stop:
		}
	}()
	return &w.options, func() {
		close(stop)
		<-stopped
		C.cg_wait_free(w)
	}, nil
}

// waitError gives a wait that gave up the status of ctx's reason: its deadline passing shows as
// the cancel flag in C, reported as a timeout here.
func waitError(ctx context.Context, err error) error {
	var e *Error
	if ctx != nil && errors.As(err, &e) && (e.Status == StatusTimeout || e.Status == StatusCancelled) {
		switch ctx.Err() {
		case context.DeadlineExceeded:
			e.Status = StatusTimeout
		case context.Canceled:
			e.Status = StatusCancelled
		}
	}
	return err
}

// use checks c and takes a reference for one C call; the caller must call c.drop.
func (c *Comm) use(op string) error {
	if c == nil {
		return errNil(op, "*Comm")
	}
	return c.x.use(op)
}

// drop releases the reference taken by use.
func (c *Comm) drop() { c.x.drop() }

// Device returns the communicator's device.
func (c *Comm) Device() Device {
	if c == nil {
		return Device{}
	}
	return Device{ordinal: c.dev}
}

// Rank returns this communicator's rank.
func (c *Comm) Rank() int {
	if c == nil {
		return 0
	}
	return int(c.rank)
}

// Size returns the number of ranks.
func (c *Comm) Size() int {
	if c == nil {
		return 0
	}
	return int(c.size)
}

// Close destroys the communicator (ncclCommDestroy; ncclCommAbort if it has failed). Queued
// collectives complete first. Close waits for calls in flight on c; later calls return an error
// matching ErrClosed. A second Close returns nil.
func (c *Comm) Close() error {
	if c == nil {
		return nil
	}
	return c.x.close("comm destroy")
}

// collective runs one C collective with references on the communicator, stream and buffers.
func collective[T Float](op string, c *Comm, s *Stream, send, recv *DeviceBuffer[T],
	call func(dt C.int32_t) C.cg_result) error {
	dt, _ := dtypeOf[T]()
	if err := useAll(op, c, s, send, recv); err != nil {
		return err
	}
	r := call(C.int32_t(dt))
	dropAll(c, s, send, recv)
	return errorFrom(op, r.err)
}

// AllReduce queues recv = op over all ranks of send on s, over send.Len() elements (recv must
// hold as many). send and recv may be the same buffer (in place). s and both buffers must be on
// c's device.
func AllReduce[T Float](c *Comm, s *Stream, op NCCLOp, send, recv *DeviceBuffer[T]) error {
	return collective("all reduce", c, s, send, recv, func(dt C.int32_t) C.cg_result {
		return C.cg_comm_all_reduce(c.x.h, s.x.h, send.c.x.h, recv.c.x.h, C.uint64_t(send.c.n), dt,
			C.int32_t(op))
	})
}

// Broadcast queues recv = root's send on s, over send.Len() elements (send is read on root
// only). send and recv may be the same buffer (in place).
func Broadcast[T Float](c *Comm, s *Stream, send, recv *DeviceBuffer[T], root int) error {
	if err := checkRoot("broadcast", root); err != nil {
		return err
	}
	return collective("broadcast", c, s, send, recv, func(dt C.int32_t) C.cg_result {
		return C.cg_comm_broadcast(c.x.h, s.x.h, send.c.x.h, recv.c.x.h, C.uint64_t(send.c.n), dt,
			C.int32_t(root))
	})
}

// Reduce queues root's recv = op over all ranks of send on s, over send.Len() elements (recv is
// written on root only). send and recv may be the same buffer (in place).
func Reduce[T Float](c *Comm, s *Stream, op NCCLOp, send, recv *DeviceBuffer[T], root int) error {
	if err := checkRoot("reduce", root); err != nil {
		return err
	}
	return collective("reduce", c, s, send, recv, func(dt C.int32_t) C.cg_result {
		return C.cg_comm_reduce(c.x.h, s.x.h, send.c.x.h, recv.c.x.h, C.uint64_t(send.c.n), dt,
			C.int32_t(op), C.int32_t(root))
	})
}

// AllGather queues the gather of every rank's send into recv on s: rank r's send.Len()
// elements land at recv[r·send.Len():]. recv must hold Size()·send.Len() elements.
func AllGather[T Float](c *Comm, s *Stream, send, recv *DeviceBuffer[T]) error {
	return collective("all gather", c, s, send, recv, func(dt C.int32_t) C.cg_result {
		return C.cg_comm_all_gather(c.x.h, s.x.h, send.c.x.h, recv.c.x.h, C.uint64_t(send.c.n), dt)
	})
}

// ReduceScatter queues, on s, recv = op over all ranks of slice r of send, where r is this
// rank and slices have recv.Len() elements; send must hold Size()·recv.Len() elements.
func ReduceScatter[T Float](c *Comm, s *Stream, op NCCLOp, send, recv *DeviceBuffer[T]) error {
	return collective("reduce scatter", c, s, send, recv, func(dt C.int32_t) C.cg_result {
		return C.cg_comm_reduce_scatter(c.x.h, s.x.h, send.c.x.h, recv.c.x.h, C.uint64_t(recv.c.n), dt,
			C.int32_t(op))
	})
}

func checkRoot(op string, root int) error {
	if root < 0 || root > 1<<30 {
		return errArg(op, "root "+strconv.Itoa(root))
	}
	return nil
}

// NCCLGroup runs fn inside one NCCL group (ncclGroupStart ... ncclGroupEnd), with the calling
// goroutine locked to its OS thread for the duration (NCCL keeps groups per thread). One
// goroutine driving the communicators of several GPUs of this process must issue the per-device
// calls of each collective inside a group, or the first call may wait forever for its peers.
// The group is ended whatever fn does (an error or a panic); errors of the calls inside may
// surface only then, as the returned error. Groups nest. Use [AllReduceAll] for the common case.
// NCCL 2.28 leaks 160 bytes per empty group (fn queues nothing): open groups around calls only.
func NCCLGroup(fn func() error) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if r := C.cg_comm_group_start(); r.err != nil {
		return convertError("group start", r.err)
	}
	defer func() {
		if endErr := errorFrom("group end", C.cg_comm_group_end().err); err == nil {
			err = endErr
		}
	}()
	return fn()
}

// AllReduceAll queues an in-place all-reduce of bufs[i] on streams[i] with comms[i], for every
// communicator of a clique of this process, from the calling goroutine: the calls are checked
// first (matching lengths, devices, handles), then issued inside one NCCL group. Nothing waits
// for the GPUs; synchronize the streams to read the results.
func AllReduceAll[T Float](comms []*Comm, streams []*Stream, op NCCLOp, bufs []*DeviceBuffer[T]) error {
	const opName = "all reduce all"
	if len(comms) == 0 || len(streams) != len(comms) || len(bufs) != len(comms) {
		return errArg(opName, strconv.Itoa(len(comms))+" communicators, "+
			strconv.Itoa(len(streams))+" streams and "+strconv.Itoa(len(bufs))+
			" buffers; they must be as many, at least one")
	}
	for i, c := range comms {
		if c == nil || streams[i] == nil || bufs[i] == nil || bufs[i].c == nil {
			return errNil(opName, "communicator, stream or buffer "+strconv.Itoa(i))
		}
		if streams[i].dev != c.dev || bufs[i].c.dev != c.dev {
			return &Error{Status: StatusDeviceMismatch, Op: opName, Msg: "index " + strconv.Itoa(i) +
				": communicator on device " + strconv.Itoa(int(c.dev)) + ", stream on " +
				strconv.Itoa(int(streams[i].dev)) + ", buffer on " + strconv.Itoa(int(bufs[i].c.dev))}
		}
		if bufs[i].c.n != bufs[0].c.n {
			return errRange(opName, "buffer "+strconv.Itoa(i)+" has "+strconv.Itoa(bufs[i].c.n)+
				" elements, buffer 0 "+strconv.Itoa(bufs[0].c.n))
		}
		if int(c.size) != len(comms) {
			return errArg(opName, "communicator "+strconv.Itoa(i)+" has "+strconv.Itoa(int(c.size))+
				" ranks, but "+strconv.Itoa(len(comms))+" were given")
		}
	}
	// Every handle is taken before the group starts: a closed one fails here, before any rank's
	// call is queued (a group with one rank missing would leave the others waiting forever), and
	// none can be closed while the group runs.
	for i := range comms {
		if err := useAll(opName, comms[i], streams[i], bufs[i]); err != nil {
			for j := 0; j < i; j++ {
				dropAll(comms[j], streams[j], bufs[j])
			}
			return err
		}
	}
	defer func() {
		for i := range comms {
			dropAll(comms[i], streams[i], bufs[i])
		}
	}()
	dt, _ := dtypeOf[T]()
	return NCCLGroup(func() error {
		var first error
		for i, c := range comms {
			b := bufs[i].c
			r := C.cg_comm_all_reduce(c.x.h, streams[i].x.h, b.x.h, b.x.h, C.uint64_t(b.n), C.int32_t(dt),
				C.int32_t(op))
			if err := errorFrom(opName, r.err); err != nil && first == nil {
				first = err
			}
		}
		return first
	})
}
