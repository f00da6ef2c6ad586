// Package nccl runs NCCL collectives on cudago's device buffers: all-reduce, broadcast, reduce,
// all-gather and reduce-scatter among the GPUs of one process or of several processes.
//
// # Communicators
//
// A [Comm] is one rank of a communicator, bound to one device. Within one process, [NewComms]
// makes one communicator per device at once. Across processes, one process makes an [ID] with
// [NewUniqueID] and sends it to the others byte for byte, and every rank joins with
// [NewCommRank], under a context that bounds the wait for the other ranks.
//
// # Collectives
//
// [AllReduce], [Broadcast], [Reduce], [AllGather] and [ReduceScatter] queue a collective on a
// [cudago.Stream] of the communicator's device and return at once; every rank must issue the
// same collectives in the same order. The reduction is an [Op]: [kernels.Sum], [Prod], [kernels.Min], [kernels.Max] or
// [Avg]. The element types are float32, float64, [cudago.Float16] and [cudago.BFloat16].
//
// # Which call
//
// One goroutine that drives the communicators of several GPUs of this process must issue the
// per-device calls of each collective inside a [Group], or the first call may wait forever for
// its peers. [AllReduceAll] does that for the common case, an in-place all-reduce over every
// communicator of a clique: use it unless the collective is another one, or out of place (then
// call the collective for each communicator inside a Group), or each communicator has a
// goroutine of its own (then each goroutine calls the collective, without a Group).
//
// Read the results once the streams are synchronised. Within one process,
// [cudago.Stream.Synchronize] or [cudago.Stream.Wait] will do. Where another process takes
// part, use [Comm.Wait] instead: it watches the communicator while it waits, and aborts it
// when a peer fails or the context ends, so that no collective waits forever.
//
// # Loading NCCL
//
// NCCL is loaded at run time, on first use: libnccl.so.2 from the loader's path, or the
// library that $CUDAGO_NCCL_LIBRARY names. Where it is missing, every call returns an error
// matching [cudago.ErrNCCL] that names the library and why it could not be loaded; [cudago.Version]
// tells which NCCL was loaded. On shared machines set NCCL_NVLS_ENABLE=0 in the environment
// before the first NCCL call (NVLink multicast reserves memory on every GPU of the node); the
// package never changes the environment.
//
// # Errors
//
// Errors are [*cudago.Error] values; match them with errors.Is against the sentinels of the
// cudago package. An error NCCL reports, or a failed communicator, is [cudago.ErrNCCL]; bad
// counts, ranks, roots and slice lengths are [cudago.ErrInvalidArgument]; nil or closed
// communicators, streams and buffers are [cudago.ErrInvalidHandle]; a stream or buffer of
// another device than the communicator's is [cudago.ErrDeviceMismatch]; [Avg] on float64 data
// is [cudago.ErrNotSupported]; and a wait that its context ends is [cudago.ErrTimeout] or
// [cudago.ErrCancelled], which also match context.DeadlineExceeded and context.Canceled.
package nccl
