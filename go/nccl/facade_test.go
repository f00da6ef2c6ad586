//go:build cgo

package nccl_test

// Tests of the facade: every exported function and method of the package is called at least
// once in a way that needs no GPU (nil handles, invalid arguments, done contexts, the calls
// that only load NCCL), and the error is checked for its sentinel, its operation and, where the
// implementation names the argument at fault, its message. The operation names tell which
// implementation a facade forwarded to; the messages tell that the arguments arrived in their
// places. Where NCCL cannot be loaded, the calls that load it must fail with ErrNCCL; the
// checks of what calls return without a device skip on a machine with one.

import (
	"context"
	"errors"
	"github.com/cudago/cudago/go/internal/testutil"
	"os"
	"testing"
	"time"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/nccl"
)

// NVLink multicast stays off on shared machines (set before NCCL is first loaded, never
// overriding the caller's choice).
func init() {
	if _, ok := os.LookupEnv("NCCL_NVLS_ENABLE"); !ok {
		os.Setenv("NCCL_NVLS_ENABLE", "0")
	}
}

// wantNil fails unless err is the error of a nil handle in the operation op, whose message
// names what was nil.
func wantNil(t *testing.T, what string, err error, op, msg string) {
	t.Helper()
	testutil.WantErr(t, what, err, cudago.ErrInvalidHandle, op, msg)
	if errors.Is(err, cudago.ErrClosed) {
		t.Errorf("%s: the error of a nil handle matches ErrClosed: %v", what, err)
	}
}

// ncclLoaded reports whether NCCL can be loaded; where it cannot, the error must be ErrNCCL.
func ncclLoaded(t *testing.T) bool {
	t.Helper()
	v, err := nccl.Version()
	if err != nil {
		testutil.WantErr(t, "Version", err, cudago.ErrNCCL, "nccl version")
		return false
	}
	// major·10000 + minor·100 + patch: cudago needs NCCL 2.12 or newer.
	if v < 21200 || v >= 30000 {
		t.Errorf("Version() = %d, want an NCCL 2 version code >= 21200", v)
	}
	return true
}

func TestFacadeLoaded(t *testing.T) {
	loaded := ncclLoaded(t)

	ran := false
	err := nccl.Group(func() error { ran = true; return nil })
	if !loaded {
		testutil.WantErr(t, "Group without NCCL", err, cudago.ErrNCCL, "group start")
		if ran {
			t.Errorf("Group ran its function without NCCL")
		}
		_, err := nccl.NewUniqueID()
		testutil.WantErr(t, "NewUniqueID without NCCL", err, cudago.ErrNCCL, "comm unique id")
		return
	}
	if err != nil || !ran {
		t.Errorf("Group(empty) = %v, function ran: %v", err, ran)
	}
	// The group returns the function's error, after ending the group.
	mine := errors.New("from the group's function")
	if err := nccl.Group(func() error { return mine }); err != mine {
		t.Errorf("Group(failing fn) = %v, want the function's error", err)
	}
	// Groups nest.
	err = nccl.Group(func() error { return nccl.Group(func() error { return nil }) })
	if err != nil {
		t.Errorf("nested Group: %v", err)
	}

	// The unique id's first bytes are NCCL's magic, random per call.
	a, errA := nccl.NewUniqueID()
	b, errB := nccl.NewUniqueID()
	switch {
	case errA != nil || errB != nil:
		// Without a network interface NCCL cannot make an id; that is its error.
		testutil.WantErr(t, "NewUniqueID", errors.Join(errA, errB), cudago.ErrNCCL, "comm unique id")
	case a == (nccl.ID{}) || a == b:
		t.Errorf("NewUniqueID() gave %x and %x; want two different nonzero ids", a[:16], b[:16])
	}
}

func TestFacadeArguments(t *testing.T) {
	ctx := context.Background()
	dev := cudago.Device{}
	comms, err := nccl.NewComms(nil)
	testutil.WantErr(t, "NewComms(nil)", err, cudago.ErrInvalidArgument, "comm init all", "no devices")
	if comms != nil {
		t.Errorf("NewComms(nil) returned %v", comms)
	}
	// nranks and rank are checked, and named, in their places.
	_, err = nccl.NewCommRank(ctx, dev, 0, nccl.ID{}, 0)
	testutil.WantErr(t, "NewCommRank nranks 0", err, cudago.ErrInvalidArgument, "comm init rank", "nranks 0")
	_, err = nccl.NewCommRank(ctx, dev, 2, nccl.ID{}, 5)
	testutil.WantErr(t, "NewCommRank rank 5 of 2", err, cudago.ErrInvalidArgument, "comm init rank",
		"rank 5 outside [0, 2)")
	_, err = nccl.NewCommRank(ctx, dev, 5, nccl.ID{}, -1)
	testutil.WantErr(t, "NewCommRank rank -1 of 5", err, cudago.ErrInvalidArgument, "comm init rank",
		"rank -1 outside [0, 5)")
	// A context already done gives up before anything starts, with the context's reason.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	c, err := nccl.NewCommRank(cancelled, dev, 1, nccl.ID{}, 0)
	testutil.WantErr(t, "NewCommRank cancelled", err, cudago.ErrCancelled, "comm init rank")
	if !errors.Is(err, context.Canceled) || c != nil {
		t.Errorf("NewCommRank cancelled: %v, %v; want context.Canceled and no communicator", c, err)
	}
	past, cancelPast := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancelPast()
	_, err = nccl.NewCommRank(past, dev, 1, nccl.ID{}, 0)
	testutil.WantErr(t, "NewCommRank past its deadline", err, cudago.ErrTimeout, "comm init rank")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("NewCommRank past its deadline: %v; want context.DeadlineExceeded", err)
	}

	// Roots are checked before the handles.
	var send, recv *cudago.DeviceBuffer[float32]
	testutil.WantErr(t, "Broadcast root -1", nccl.Broadcast[float32](nil, nil, send, recv, -1),
		cudago.ErrInvalidArgument, "broadcast", "root -1")
	testutil.WantErr(t, "Reduce root 2^31", nccl.Reduce[float32](nil, nil, send, recv, 1<<31, nccl.Max),
		cudago.ErrInvalidArgument, "reduce", "root 2147483648")

	// AllReduceAll names the lengths of its slices in the order of its arguments.
	testutil.WantErr(t, "AllReduceAll()", nccl.AllReduceAll[float32](nil, nil, nil, nccl.Sum),
		cudago.ErrInvalidArgument, "all reduce all", "0 communicators, 0 streams and 0 buffers")
	testutil.WantErr(t, "AllReduceAll(1, 2, 3)", nccl.AllReduceAll([]*nccl.Comm{nil}, []*cudago.Stream{nil, nil}, []*cudago.DeviceBuffer[float64]{nil, nil, nil}, nccl.Avg),
		cudago.ErrInvalidArgument, "all reduce all", "1 communicators, 2 streams and 3 buffers")
	wantNil(t, "AllReduceAll(nil handles)", nccl.AllReduceAll([]*nccl.Comm{nil}, []*cudago.Stream{nil}, []*cudago.DeviceBuffer[cudago.Float16]{nil}, nccl.Prod),
		"all reduce all", "communicator, stream or buffer 0")

	// The reductions have the values of cudago_nccl_op_t.
	if nccl.Sum != 0 || nccl.Prod != 1 || nccl.Min != 2 || nccl.Max != 3 || nccl.Avg != 4 {
		t.Errorf("ops %d %d %d %d %d", nccl.Sum, nccl.Prod, nccl.Min, nccl.Max, nccl.Avg)
	}
}

func TestFacadeNilComm(t *testing.T) {
	var c *nccl.Comm
	var s *cudago.Stream
	var send, recv *cudago.DeviceBuffer[cudago.BFloat16]
	if c.Device() != (cudago.Device{}) || c.Rank() != 0 || c.Size() != 0 || c.Close() != nil {
		t.Errorf("nil Comm: Device %v, Rank %d, Size %d, Close %v", c.Device(), c.Rank(), c.Size(),
			c.Close())
	}
	wantNil(t, "Comm.Wait", c.Wait(context.Background(), s), "comm wait", "nil *Comm")
	// A done context ends the wait before the handles are looked at.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Wait(cancelled, s)
	testutil.WantErr(t, "Comm.Wait cancelled", err, cudago.ErrCancelled, "comm wait")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Comm.Wait cancelled: %v; want context.Canceled", err)
	}

	wantNil(t, "AllReduce", nccl.AllReduce(c, s, send, recv, nccl.Sum), "all reduce", "nil *Comm")
	wantNil(t, "Broadcast", nccl.Broadcast(c, s, send, recv, 0), "broadcast", "nil *Comm")
	wantNil(t, "Reduce", nccl.Reduce(c, s, send, recv, 1, nccl.Min), "reduce", "nil *Comm")
	wantNil(t, "AllGather", nccl.AllGather(c, s, send, recv), "all gather", "nil *Comm")
	wantNil(t, "ReduceScatter", nccl.ReduceScatter(c, s, send, recv, nccl.Avg), "reduce scatter",
		"nil *Comm")
}

// What the communicators' constructors return without a device.
func TestFacadeNoDevice(t *testing.T) {
	n, err := cudago.DeviceCount()
	if err != nil {
		t.Fatalf("DeviceCount: %v", err)
	}
	if n > 0 {
		t.Skipf("%d CUDA device(s) present; this test checks the behaviour without one", n)
	}
	if !ncclLoaded(t) {
		t.Skip("NCCL cannot be loaded")
	}
	dev := cudago.Device{}
	comms, err := nccl.NewComms([]cudago.Device{dev})
	testutil.WantErr(t, "NewComms", err, cudago.ErrNoDevice, "comm init all")
	if len(comms) != 0 {
		t.Errorf("NewComms returned %d communicators with an error", len(comms))
	}
	c, err := nccl.NewCommRank(context.Background(), dev, 1, nccl.ID{}, 0)
	testutil.WantErr(t, "NewCommRank", err, cudago.ErrNoDevice, "comm init rank")
	if c != nil {
		t.Errorf("NewCommRank returned a communicator with an error")
	}
}
