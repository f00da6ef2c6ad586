//go:build cgo

package nccl_test

// NCCL across processes, as users run it: each test runs this test binary again as two child
// processes (-test.run naming the test, $CUDAGO_NCCL_MULTIPROC_RANK naming the child's rank),
// rank 0 on device 0 and rank 1 on device 1. Rank 0 makes the id with NewUniqueID and leaves its
// bytes in a file of a folder both know; rank 1 reads them; both join with NewCommRank under a
// deadline. A child reports on its exit status and in its output (a passing child prints
// "--- PASS"); lines starting with "cudago-multiproc:" tell the parent what happened and when.
// The parent never hangs: the children run under -test.timeout, the parent kills them past its
// own deadline, kills the other rank at once when one fails (it would wait for a dead peer), and
// kills whatever is left when the test ends.
//
// TestMultiProcessCollectives: all-reduce (sum), broadcast (root 1), all-gather and
// reduce-scatter (sum) over float32 and float64 buffers of awkward lengths, filled with random
// data that every child derives from one seed (rank r's from the seed and r), so that each child
// computes the expected results of both ranks on the CPU, in float64. Results are exact where
// the collective only moves data; a sum of two ranks is one rounding, within 2^-24 (float32) or
// 2^-53 (float64) of |a + b|, and is compared with a bound of four times that of |a| + |b|.
// Output buffers are poisoned with NaN bytes first: an element left unwritten fails.
//
// TestMultiProcessPeerKilled: both ranks loop over all-reduces, each waited for with Comm.Wait
// under a deadline of mpWaitLimit; once both have done mpReady of them, the parent kills rank 1
// (SIGKILL). Rank 0 must get an error, ErrNCCL where NCCL notices the dead peer or ErrTimeout at
// the wait's deadline, within mpWaitLimit + mpAbortMargin of the kill, find its communicator
// refusing work, close it, and exit within mpWaitLimit + mpExitMargin of the kill.
//
// Both are multi-GPU tests: without a device they skip (or fail under CUDAGO_REQUIRE_GPU=1, like
// every GPU test), and with one device, or without NCCL, they skip, starting no process.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/testutil"
	"github.com/cudago/cudago/go/nccl"
)

const (
	mpRankEnv = "CUDAGO_NCCL_MULTIPROC_RANK" // the child's role: its rank, 0 or 1
	mpDirEnv  = "CUDAGO_NCCL_MULTIPROC_DIR"  // the folder in which rank 0 leaves the id
	mpSeedEnv = "CUDAGO_TEST_SEED"           // the seed of the data, the same in both children
	mpEvent   = "cudago-multiproc:"          // starts the lines that tell the parent what happened
)

const (
	mpBudget      = 120 * time.Second // a test's children live this long at most (less near -test.timeout)
	mpJoinLimit   = 60 * time.Second  // NewCommRank's deadline: every rank has joined by then
	mpWaitLimit   = 3 * time.Second   // the deadline of each Comm.Wait of the kill test's loop
	mpAbortMargin = 5 * time.Second   // rank 0's error comes within mpWaitLimit + this of the kill
	mpExitMargin  = 10 * time.Second  // and rank 0 has exited within mpWaitLimit + this
	mpReady       = 20                // all-reduces done by both ranks before the kill
)

func TestMultiProcessCollectives(t *testing.T) {
	if rank, ok := mpChildRank(t); ok {
		mpCollectivesChild(t, rank)
		return
	}
	budget := mpRequire(t)
	start := time.Now()
	run := mpStart(t, "TestMultiProcessCollectives", budget)
	run.waitAll(start.Add(budget + 3*time.Second)) // the children's own timeout fires first
	for _, c := range run.children {
		if !c.passed("TestMultiProcessCollectives") {
			t.Errorf("%s", c.report())
			continue
		}
		t.Logf("rank %d: %s", c.rank, c.out.eventLines())
	}
}

func TestMultiProcessPeerKilled(t *testing.T) {
	if rank, ok := mpChildRank(t); ok {
		mpPeerKilledChild(t, rank)
		return
	}
	budget := mpRequire(t)
	start := time.Now()
	run := mpStart(t, "TestMultiProcessPeerKilled", budget)
	r0, r1 := run.children[0], run.children[1]

	// Both ranks in their loops, mpReady all-reduces done.
	readyBy := start.Add(budget - mpWaitLimit - mpExitMargin)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !r0.out.seen("ready") || !r1.out.seen("ready") {
		select {
		case c := <-run.exited:
			run.killAll(fmt.Sprintf("rank %d exited before the kill", c.rank))
			t.Fatalf("rank %d exited before both ranks were ready:\n%s\n%s", c.rank, r0.report(),
				r1.report())
		case <-tick.C:
			if time.Now().After(readyBy) {
				run.killAll("not ready in time")
				t.Fatalf("the ranks were not both ready %v after they started:\n%s\n%s",
					time.Since(start).Round(time.Millisecond), r0.report(), r1.report())
			}
		}
	}

	killed := time.Now()
	if err := r1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL to rank 1: %v", err)
	}
	select {
	case <-r1.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("rank 1 did not die within 10 s of SIGKILL")
	}
	ws, ok := r1.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("rank 1 ended on its own (%v) instead of dying of the kill:\n%s",
			r1.cmd.ProcessState, r1.report())
	}

	// Rank 0 must see the loss, close its communicator and exit, never hang.
	limit := mpWaitLimit + mpExitMargin
	select {
	case <-r0.done:
	case <-time.After(time.Until(killed.Add(limit))):
		r0.kill(fmt.Sprintf("still running %v after rank 1 was killed", limit))
		<-r0.done
		t.Fatalf("rank 0 hung: still running %v after rank 1 was killed:\n%s", limit, r0.report())
	}
	exitedAfter := r0.exited.Sub(killed)
	if !r0.passed("TestMultiProcessPeerKilled") {
		t.Fatalf("rank 0 failed (exited %v after the kill):\n%s", exitedAfter.Round(time.Millisecond),
			r0.report())
	}
	at, line, ok := r0.out.event("error")
	switch errorAfter := at.Sub(killed); {
	case !ok:
		t.Errorf("rank 0 passed without reporting its error:\n%s", r0.report())
	case errorAfter < 0:
		t.Errorf("rank 0 reported its error %v before rank 1 was killed: %s", -errorAfter, line)
	case errorAfter > mpWaitLimit+mpAbortMargin:
		t.Errorf("rank 0 reported its error %v after rank 1 was killed; want at most %v (its "+
			"wait's deadline %v + %v): %s", errorAfter.Round(time.Millisecond),
			mpWaitLimit+mpAbortMargin, mpWaitLimit, mpAbortMargin, line)
	default:
		t.Logf("rank 1 killed; rank 0 got its error %v later and exited %v later: %s",
			errorAfter.Round(time.Millisecond), exitedAfter.Round(time.Millisecond), line)
	}
	t.Logf("rank 0: %s", r0.out.eventLines())
}

// ----- The parent -----

// mpRequire skips the test unless it can run: like every GPU test it needs a device (and fails
// without one under CUDAGO_REQUIRE_GPU=1), then it skips with fewer than 2 devices or without
// NCCL. It returns how long the children may run.
func mpRequire(t *testing.T) time.Duration {
	t.Helper()
	testutil.RequireGPU(t)
	n, err := cudago.DeviceCount()
	testutil.Must(t, "DeviceCount", err)
	if n < 2 {
		t.Skipf("needs 2 CUDA devices, one per process (found %d)", n)
	}
	if _, err := nccl.Version(); err != nil {
		t.Skipf("NCCL cannot be loaded: %v", err)
	}
	budget := mpBudget
	if d, ok := t.Deadline(); ok {
		budget = min(budget, time.Until(d)-5*time.Second)
	}
	if budget < 25*time.Second {
		t.Fatalf("only %v left before the test binary's -test.timeout; the test needs 30 s",
			budget+5*time.Second)
	}
	return budget
}

// mpRun is the two ranks' processes of one test.
type mpRun struct {
	children [2]*mpChild
	exited   chan *mpChild // each child once it has exited
}

// mpChild is one rank's process, its output kept whole and its event lines timed.
type mpChild struct {
	rank   int
	cmd    *exec.Cmd
	out    *mpOutput
	done   chan struct{} // closed once the process has exited (err and exited are set)
	err    error
	exited time.Time
	killed string // why the parent killed it ("" if it did not)
}

// mpStart starts rank 0 and rank 1 of test, which may run for budget. Whatever still runs when
// the test ends is killed and reaped.
func mpStart(t *testing.T, test string, budget time.Duration) *mpRun {
	t.Helper()
	exe, err := os.Executable()
	testutil.Must(t, "os.Executable", err)
	seed := testutil.Seed(t) // mpSeedEnv: the children get this one
	dir := t.TempDir()
	run := &mpRun{exited: make(chan *mpChild, 2)}
	for r := range run.children {
		cmd := exec.Command(exe, "-test.run=^"+test+"$", "-test.v", "-test.count=1",
			"-test.timeout="+budget.String())
		cmd.Env = append(os.Environ(),
			mpRankEnv+"="+strconv.Itoa(r),
			mpDirEnv+"="+dir,
			mpSeedEnv+"="+strconv.FormatUint(seed, 10),
			"NCCL_NVLS_ENABLE=0", // NVLink multicast stays off (it reserves memory on every GPU)
		)
		if _, ok := os.LookupEnv("NCCL_DEBUG"); !ok {
			cmd.Env = append(cmd.Env, "NCCL_DEBUG=WARN") // NCCL says why, should a rank fail
		}
		out := &mpOutput{events: map[string]mpEventAt{}}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.WaitDelay = 2 * time.Second // the output's copy ends at most this long after the exit
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting rank %d: %v", r, err)
		}
		c := &mpChild{rank: r, cmd: cmd, out: out, done: make(chan struct{})}
		go func() {
			c.err = cmd.Wait()
			c.exited = time.Now()
			close(c.done)
			run.exited <- c
		}()
		run.children[r] = c
		t.Cleanup(func() {
			c.kill("the test ended")
			select {
			case <-c.done:
			case <-time.After(10 * time.Second):
				t.Errorf("rank %d (pid %d) did not end within 10 s of SIGKILL", c.rank, c.cmd.Process.Pid)
			}
		})
	}
	return run
}

// waitAll waits for both children to exit. When one fails, the other is killed at once (it
// would wait for its dead peer until its own deadline); past deadline, both are, and waitAll
// returns 10 s later whatever happened (the test's cleanup reports a child that outlived that).
func (run *mpRun) waitAll(deadline time.Time) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	killed := false
	for pending := len(run.children); pending > 0; {
		select {
		case c := <-run.exited:
			pending--
			if c.err != nil {
				run.killAll(fmt.Sprintf("rank %d failed", c.rank))
			}
		case <-timer.C:
			if killed {
				return
			}
			run.killAll("still running at the test's deadline")
			killed = true
			timer.Reset(10 * time.Second)
		}
	}
}

func (run *mpRun) killAll(why string) {
	for _, c := range run.children {
		c.kill(why)
	}
}

// kill sends SIGKILL to the child unless it has exited, noting why.
func (c *mpChild) kill(why string) {
	select {
	case <-c.done:
	default:
		if c.cmd.Process.Signal(syscall.SIGKILL) == nil && c.killed == "" {
			c.killed = why
		}
	}
}

// passed reports whether the child exited successfully after running test to a pass.
func (c *mpChild) passed(test string) bool {
	<-c.done
	return c.err == nil && strings.Contains(c.out.String(), "--- PASS: "+test)
}

// report describes how the child ended, with its output.
func (c *mpChild) report() string {
	<-c.done
	how := "exit status 0"
	if c.err != nil {
		how = c.err.Error()
	}
	if c.killed != "" {
		how += ", killed by the test: " + c.killed
	}
	return fmt.Sprintf("rank %d (%s), output:\n%s", c.rank, how, c.out.String())
}

// mpEventAt is an event line and when it arrived.
type mpEventAt struct {
	at   time.Time
	line string
}

// mpOutput keeps a child's output (stdout and stderr), and times the first line of each event.
type mpOutput struct {
	mu      sync.Mutex
	all     strings.Builder
	partial []byte
	events  map[string]mpEventAt
	order   []string
}

func (o *mpOutput) Write(p []byte) (int, error) {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.all.Write(p)
	o.partial = append(o.partial, p...)
	for {
		line, rest, ok := strings.Cut(string(o.partial), "\n")
		if !ok {
			break
		}
		o.partial = append(o.partial[:0], rest...)
		if ev, found := strings.CutPrefix(line, mpEvent+" "); found {
			name, _, _ := strings.Cut(ev, " ")
			if _, seen := o.events[name]; !seen {
				o.events[name] = mpEventAt{now, ev}
				o.order = append(o.order, ev)
			}
		}
	}
	return len(p), nil
}

func (o *mpOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.all.String()
}

func (o *mpOutput) event(name string) (time.Time, string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.events[name]
	return e.at, e.line, ok
}

func (o *mpOutput) seen(name string) bool {
	_, _, ok := o.event(name)
	return ok
}

// eventLines returns the child's event lines, in order, for the log.
func (o *mpOutput) eventLines() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.order, "; ")
}

// ----- The children -----

// mpChildRank returns the rank of this process when it is a child.
func mpChildRank(t *testing.T) (int, bool) {
	v, ok := os.LookupEnv(mpRankEnv)
	if !ok {
		return 0, false
	}
	rank, err := strconv.Atoi(v)
	if err != nil || rank < 0 || rank > 1 {
		t.Fatalf("%s=%q: want 0 or 1", mpRankEnv, v)
	}
	return rank, true
}

// mpEventf prints an event line for the parent.
func mpEventf(name, format string, args ...any) {
	fmt.Printf("%s %s %s\n", mpEvent, name, fmt.Sprintf(format, args...))
}

// mpDeadline is when the child must be done: a little before its -test.timeout.
func mpDeadline(t *testing.T) time.Time {
	d, ok := t.Deadline()
	if !ok {
		t.Fatalf("the child runs without -test.timeout")
	}
	return d.Add(-2 * time.Second)
}

// mpJoin makes this rank's communicator on device `rank`, with the id from rank 0, and a stream
// of that device; both are closed when the test ends.
func mpJoin(t *testing.T, rank int) (*nccl.Comm, *cudago.Stream, cudago.Device) {
	t.Helper()
	dev, err := cudago.DeviceAt(rank)
	testutil.Must(t, "DeviceAt", err)
	ctx, cancel := context.WithDeadline(context.Background(),
		minTime(time.Now().Add(mpJoinLimit), mpDeadline(t)))
	defer cancel()
	idFile := filepath.Join(os.Getenv(mpDirEnv), "id")
	var id nccl.ID
	if rank == 0 {
		id, err = nccl.NewUniqueID()
		testutil.Must(t, "NewUniqueID", err)
		// Written whole, then renamed: rank 1 never reads a partial id.
		testutil.Must(t, "writing the id", os.WriteFile(idFile+".tmp", id[:], 0o600))
		testutil.Must(t, "renaming the id", os.Rename(idFile+".tmp", idFile))
	} else {
		id = mpReadID(t, ctx, idFile)
	}
	start := time.Now()
	c, err := nccl.NewCommRank(ctx, dev, 2, id, rank)
	testutil.Must(t, fmt.Sprintf("NewCommRank (rank %d of 2 on %v)", rank, dev), err)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	mpEventf("joined", "rank %d on %v in %v", rank, dev, time.Since(start).Round(time.Millisecond))
	if c.Rank() != rank || c.Size() != 2 || c.Device() != dev {
		t.Fatalf("NewCommRank: rank %d, size %d, device %v; want %d, 2, %v", c.Rank(), c.Size(),
			c.Device(), rank, dev)
	}
	s, err := cudago.NewStream(dev, cudago.StreamOptions{})
	testutil.Must(t, "NewStream", err)
	t.Cleanup(func() { s.Close() })
	return c, s, dev
}

// mpReadID waits for rank 0's id in idFile.
func mpReadID(t *testing.T, ctx context.Context, idFile string) nccl.ID {
	t.Helper()
	var id nccl.ID
	for {
		b, err := os.ReadFile(idFile)
		if err == nil {
			if len(b) != len(id) {
				t.Fatalf("the id in %s has %d bytes, want %d", idFile, len(b), len(id))
			}
			copy(id[:], b)
			return id
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("reading the id: %v", err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no id from rank 0 in %s: %v", idFile, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func mpSeed(t *testing.T) uint64 {
	seed, err := strconv.ParseUint(os.Getenv(mpSeedEnv), 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", mpSeedEnv, os.Getenv(mpSeedEnv), err)
	}
	return seed
}

func mpCollectivesChild(t *testing.T, rank int) {
	c, s, dev := mpJoin(t, rank)
	ctx, cancel := context.WithDeadline(context.Background(), mpDeadline(t))
	defer cancel()
	seed := mpSeed(t)
	// Every rank issues the same collectives in the same order whatever the checks find: a
	// wrong result is an Errorf, only a failed call stops the child.
	for _, n := range []int{1, 1021, 1<<18 + 3} {
		mpCollectives[float32](t, ctx, c, s, dev, seed, n)
		mpCollectives[float64](t, ctx, c, s, dev, seed, n)
	}
	mpEventf("done", "rank %d", rank)
}

// mpData is rank's 2n values for the collectives of n elements: uniform in [-1, 1).
func mpData[T cudago.Real](seed uint64, rank, n int) []T {
	r := rand.New(rand.NewPCG(seed, uint64(rank)<<32|uint64(n)))
	v := make([]T, 2*n)
	for i := range v {
		v[i] = T(2*r.Float64() - 1)
	}
	return v
}

func mpCollectives[T cudago.Real](t *testing.T, ctx context.Context, c *nccl.Comm, s *cudago.Stream,
	dev cudago.Device, seed uint64, n int) {
	t.Helper()
	rank := c.Rank()
	x := [2][]T{mpData[T](seed, 0, n), mpData[T](seed, 1, n)}
	name := fmt.Sprintf("%T n %d rank %d", x[0][0], n, rank)
	upload := func(v []T) *cudago.DeviceBuffer[T] {
		b, err := cudago.NewDeviceBuffer[T](dev, len(v))
		testutil.Must(t, "NewDeviceBuffer", err)
		t.Cleanup(func() { b.Close() })
		testutil.Must(t, "CopyFromHost", b.CopyFromHost(v))
		return b
	}
	poisoned := func(n int) *cudago.DeviceBuffer[T] {
		b, err := cudago.NewDeviceBuffer[T](dev, n)
		testutil.Must(t, "NewDeviceBuffer", err)
		t.Cleanup(func() { b.Close() })
		testutil.Must(t, "poison", b.Memset(0xFF)) // NaN
		return b
	}
	// run queues one collective, waits for it watching the communicator, and returns recv.
	run := func(what string, recv *cudago.DeviceBuffer[T], queue error) []T {
		testutil.Must(t, what+" ("+name+")", queue)
		testutil.Must(t, "Comm.Wait after "+what+" ("+name+")", c.Wait(ctx, s))
		got := make([]T, recv.Len())
		testutil.Must(t, "CopyToHost", recv.CopyToHost(got))
		return got
	}
	whole := upload(x[rank])     // 2n: reduce-scatter's input
	first := upload(x[rank][:n]) // n: the other collectives' input

	recv := poisoned(n)
	got := run("all-reduce", recv, nccl.AllReduce(c, s, first, recv, nccl.Sum))
	mpCheckSums(t, "all-reduce "+name, got, x[0][:n], x[1][:n])

	recv = poisoned(n)
	got = run("broadcast", recv, nccl.Broadcast(c, s, first, recv, 1))
	mpCheckExact(t, "broadcast from rank 1 "+name, got, x[1][:n])

	gathered := poisoned(2 * n)
	got = run("all-gather", gathered, nccl.AllGather(c, s, first, gathered))
	mpCheckExact(t, "all-gather "+name, got, append(append([]T{}, x[0][:n]...), x[1][:n]...))

	recv = poisoned(n)
	got = run("reduce-scatter", recv, nccl.ReduceScatter(c, s, whole, recv, nccl.Sum))
	lo, hi := rank*n, (rank+1)*n
	mpCheckSums(t, "reduce-scatter "+name, got, x[0][lo:hi], x[1][lo:hi])
}

// mpCheckSums compares got with a + b, computed in float64: one rounding to T, bounded by four
// times T's unit roundoff times |a| + |b|.
func mpCheckSums[T cudago.Real](t *testing.T, what string, got, a, b []T) {
	t.Helper()
	u := 0x1p-53
	if _, single := any(got[0]).(float32); single {
		u = 0x1p-24
	}
	bad := 0
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		want, bound := x+y, 4*u*(math.Abs(x)+math.Abs(y))
		if !(math.Abs(float64(got[i])-want) <= bound) { // NaN (unwritten) fails too
			if bad < 3 {
				t.Errorf("%s: [%d] = %v, want %v + %v = %v (bound %.3g)", what, i, got[i], a[i],
					b[i], want, bound)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements wrong", what, bad, len(a))
	}
}

// mpCheckExact compares got with want, element by element.
func mpCheckExact[T cudago.Real](t *testing.T, what string, got, want []T) {
	t.Helper()
	bad := 0
	for i := range want {
		if got[i] != want[i] {
			if bad < 3 {
				t.Errorf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements wrong", what, bad, len(want))
	}
}

// mpPeerKilledChild loops over all-reduces, each waited for under mpWaitLimit. Rank 1 loops
// until the parent kills it. Rank 0 loops until a call fails, then checks the error, that the
// communicator refuses work, and that it closes.
func mpPeerKilledChild(t *testing.T, rank int) {
	c, s, dev := mpJoin(t, rank)
	const n = 1021
	send, err := cudago.NewDeviceBuffer[float32](dev, n)
	testutil.Must(t, "NewDeviceBuffer", err)
	defer send.Close()
	recv, err := cudago.NewDeviceBuffer[float32](dev, n)
	testutil.Must(t, "NewDeviceBuffer", err)
	defer recv.Close()
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = float32(rank + 1)
	}
	testutil.Must(t, "CopyFromHost", send.CopyFromHost(ones))

	deadline := mpDeadline(t)
	for i := 0; ; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("rank %d: %d all-reduces and no error; rank 1 was to be killed after %d", rank,
				i, mpReady)
		}
		// The first all-reduce connects the ranks: it may take longer than the others.
		limit := mpWaitLimit
		if i == 0 {
			limit = mpJoinLimit
		}
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		start := time.Now()
		call := "AllReduce"
		err := nccl.AllReduce(c, s, send, recv, nccl.Sum)
		if err == nil {
			call = "Comm.Wait"
			err = c.Wait(ctx, s)
		}
		took := time.Since(start)
		cancel()
		if err == nil {
			if i == mpReady {
				got := make([]float32, n)
				testutil.Must(t, "CopyToHost", recv.CopyToHost(got))
				for j, v := range got {
					if v != 3 {
						t.Fatalf("all-reduce %d: [%d] = %v, want 1 + 2 = 3", i, j, v)
					}
				}
				mpEventf("ready", "rank %d: %d all-reduces done", rank, i+1)
			}
			continue
		}
		if rank != 0 {
			t.Fatalf("rank 1: all-reduce %d: %s: %v", i, call, err)
		}
		mpEventf("error", "rank 0: all-reduce %d: %s returned after %v: %v", i, call,
			took.Round(time.Millisecond), err)
		mpPeerLost(t, c, s, send, recv, i, call, took, err)
		return
	}
}

// mpPeerLost checks rank 0's side of the kill: the error, then Close.
func mpPeerLost(t *testing.T, c *nccl.Comm, s *cudago.Stream,
	send, recv *cudago.DeviceBuffer[float32],
	i int, call string, took time.Duration, err error) {
	if i <= mpReady {
		t.Errorf("all-reduce %d failed, before the ranks were ready (%d): %v", i, mpReady, err)
	}
	timedOut := errors.Is(err, cudago.ErrTimeout) && errors.Is(err, context.DeadlineExceeded)
	if !errors.Is(err, cudago.ErrNCCL) && !timedOut {
		t.Errorf("%s: %v; want an error matching ErrNCCL, or ErrTimeout and "+
			"context.DeadlineExceeded", call, err)
	}
	if took > mpWaitLimit+mpAbortMargin {
		t.Errorf("%s returned after %v; its deadline was %v", call, took, mpWaitLimit)
	}
	if call == "Comm.Wait" {
		// Wait aborted the communicator: it refuses every call but Close.
		err := nccl.AllReduce(c, s, send, recv, nccl.Sum)
		if !errors.Is(err, cudago.ErrInvalidHandle) || errors.Is(err, cudago.ErrClosed) {
			t.Errorf("AllReduce on the aborted communicator: %v; want ErrInvalidHandle (not ErrClosed)", err)
		}
	}
	start := time.Now()
	err = c.Close() // ncclCommAbort where the communicator failed; nothing where Wait aborted it
	mpEventf("closed", "rank 0: Close returned after %v: %v",
		time.Since(start).Round(time.Millisecond), err)
	if err != nil {
		t.Errorf("Close of the failed communicator: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := nccl.AllReduce(c, s, send, recv, nccl.Sum); !errors.Is(err, cudago.ErrClosed) {
		t.Errorf("AllReduce after Close: %v; want ErrClosed", err)
	}
}
