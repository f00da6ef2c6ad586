package nccl

import (
	"context"
	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/capi"
)

// Op is the reduction of a collective.
type Op = capi.NCCLOp

// The reductions, with the values of cudago_nccl_op_t.
const (
	Sum  Op = capi.NCCLSum
	Prod Op = capi.NCCLProd
	Min  Op = capi.NCCLMin
	Max  Op = capi.NCCLMax
	Avg  Op = capi.NCCLAvg // the sum divided by the number of ranks
)

// ID is the unique id that the ranks of one communicator share ([NewUniqueID]): made by
// one process and sent to the others byte for byte.
type ID = capi.NCCLID

// Version returns the version code of the loaded NCCL (major·10000 + minor·100 + patch,
// e.g. 22803). It loads NCCL, and fails with [cudago.ErrNCCL] where it cannot be loaded.
func Version() (int, error) {
	return capi.NCCLVersion()
}

// Comm is one rank of an NCCL communicator, bound to one device. Methods are safe for
// concurrent use, but every rank must issue the same collectives in the same order. Close it
// when done.
type Comm capi.Comm

// NewComms creates one communicator per device of this process (ncclCommInitAll): the i-th is
// rank i on devices[i]. Devices must be distinct. Drive the communicators of one clique from
// one goroutine with [Group] around the per-device calls (as [AllReduceAll]
// does), or from one goroutine per communicator.
func NewComms(devices []cudago.Device) ([]*Comm, error) {
	r0, r1 := capi.NewComms(capi.CastSlice[cudago.Device, capi.Device](devices))
	return capi.CastSlice[*capi.Comm, *Comm](r0), r1
}

// NewUniqueID makes the id for [NewCommRank] (ncclGetUniqueId). Call it in one process and
// send the id to the others.
func NewUniqueID() (ID, error) {
	return capi.NewUniqueID()
}

// NewCommRank joins rank `rank` of `nranks` on dev (ncclCommInitRank), with the id every rank
// shares (made by [NewUniqueID] in one process and sent to the others). It blocks until all
// ranks have joined, or until ctx is done: then the half-made communicator is aborted and the
// error matches [cudago.ErrTimeout] and context.DeadlineExceeded (or [cudago.ErrCancelled] and
// context.Canceled). A context that can never end waits as long as it takes.
func NewCommRank(ctx context.Context, dev cudago.Device, nranks int, id ID, rank int) (*Comm, error) {
	r0, r1 := capi.NewCommRank(ctx, capi.Device(dev), nranks, id, rank)
	return (*Comm)(r0), r1
}

// Wait waits until the work queued on s (of c's device) is done, watching the communicator: when
// it fails (a peer process died or left) or ctx is done first, the communicator is aborted (its
// collectives that would wait forever end) and the error says why: [cudago.ErrNCCL], or [cudago.ErrTimeout]
// / [cudago.ErrCancelled] matching ctx's error. An aborted communicator refuses every call but Close.
// Use it instead of [cudago.Stream.Wait] where another process takes part in the work.
func (c *Comm) Wait(ctx context.Context, s *cudago.Stream) error {
	return (*capi.Comm)(c).Wait(ctx, (*capi.Stream)(s))
}

// Device returns the communicator's device.
func (c *Comm) Device() cudago.Device {
	r0 := (*capi.Comm)(c).Device()
	return cudago.Device(r0)
}

// Rank returns this communicator's rank.
func (c *Comm) Rank() int {
	return (*capi.Comm)(c).Rank()
}

// Size returns the number of ranks.
func (c *Comm) Size() int {
	return (*capi.Comm)(c).Size()
}

// Close destroys the communicator (ncclCommDestroy; ncclCommAbort if it has failed). Queued
// collectives complete first. Close waits for calls in flight on c; later calls return an error
// matching [cudago.ErrClosed]. A second Close returns nil.
func (c *Comm) Close() error {
	return (*capi.Comm)(c).Close()
}

// AllReduce queues recv = op over all ranks of send on s, over send.Len() elements (recv must
// hold as many). send and recv may be the same buffer (in place). s and both buffers must be on
// c's device.
func AllReduce[T cudago.Float](c *Comm, s *cudago.Stream, send, recv *cudago.DeviceBuffer[T], op Op) error {
	return capi.AllReduce[T]((*capi.Comm)(c), (*capi.Stream)(s), op, (*capi.DeviceBuffer[T])(send), (*capi.DeviceBuffer[T])(recv))
}

// Broadcast queues recv = root's send on s, over send.Len() elements (send is read on root
// only). send and recv may be the same buffer (in place).
func Broadcast[T cudago.Float](c *Comm, s *cudago.Stream, send, recv *cudago.DeviceBuffer[T], root int) error {
	return capi.Broadcast[T]((*capi.Comm)(c), (*capi.Stream)(s), (*capi.DeviceBuffer[T])(send), (*capi.DeviceBuffer[T])(recv), root)
}

// Reduce queues root's recv = op over all ranks of send on s, over send.Len() elements (recv is
// written on root only). send and recv may be the same buffer (in place).
func Reduce[T cudago.Float](c *Comm, s *cudago.Stream, send, recv *cudago.DeviceBuffer[T], root int, op Op) error {
	return capi.Reduce[T]((*capi.Comm)(c), (*capi.Stream)(s), op, (*capi.DeviceBuffer[T])(send), (*capi.DeviceBuffer[T])(recv), root)
}

// AllGather queues the gather of every rank's send into recv on s: rank r's send.Len()
// elements land at recv[r·send.Len():]. recv must hold Size()·send.Len() elements.
func AllGather[T cudago.Float](c *Comm, s *cudago.Stream, send, recv *cudago.DeviceBuffer[T]) error {
	return capi.AllGather[T]((*capi.Comm)(c), (*capi.Stream)(s), (*capi.DeviceBuffer[T])(send), (*capi.DeviceBuffer[T])(recv))
}

// ReduceScatter queues, on s, recv = op over all ranks of slice r of send, where r is this
// rank and slices have recv.Len() elements; send must hold Size()·recv.Len() elements.
func ReduceScatter[T cudago.Float](c *Comm, s *cudago.Stream, send, recv *cudago.DeviceBuffer[T], op Op) error {
	return capi.ReduceScatter[T]((*capi.Comm)(c), (*capi.Stream)(s), op, (*capi.DeviceBuffer[T])(send), (*capi.DeviceBuffer[T])(recv))
}

// Group runs fn inside one NCCL group (ncclGroupStart ... ncclGroupEnd), with the calling
// goroutine locked to its OS thread for the duration (NCCL keeps groups per thread). One
// goroutine driving the communicators of several GPUs of this process must issue the per-device
// calls of each collective inside a group, or the first call may wait forever for its peers.
// The group is ended whatever fn does (an error or a panic); errors of the calls inside may
// surface only then, as the returned error. Groups nest. Use [AllReduceAll] for the common case.
// NCCL 2.28 leaks 160 bytes per empty group (fn queues nothing): open groups around calls only.
func Group(fn func() error) (err error) {
	return capi.NCCLGroup(fn)
}

// AllReduceAll queues an in-place all-reduce of bufs[i] on streams[i] with comms[i], for every
// communicator of a clique of this process, from the calling goroutine: the calls are checked
// first (matching lengths, devices, handles), then issued inside one NCCL group. Nothing waits
// for the GPUs; synchronize the streams to read the results.
func AllReduceAll[T cudago.Float](comms []*Comm, streams []*cudago.Stream, bufs []*cudago.DeviceBuffer[T], op Op) error {
	return capi.AllReduceAll[T](capi.CastSlice[*Comm, *capi.Comm](comms), capi.CastSlice[*cudago.Stream, *capi.Stream](streams), op, capi.CastSlice[*cudago.DeviceBuffer[T], *capi.DeviceBuffer[T]](bufs))
}
