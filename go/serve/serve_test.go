//go:build cgo

package serve_test

// Tests of the serve package on the reference executor (and on the GPU where there is one):
// results of batched requests against the model's own unbatched run, many goroutines under the
// race detector, deadlines and cancellation through contexts, back-pressure, draining Close,
// bad requests failing alone, zero-copy pinned inputs, and a leak check over many thousands of
// requests.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/testutil"
	"github.com/cudago/cudago/go/nn"
	"github.com/cudago/cudago/go/serve"
)

const opInfer = "serve infer"

func loadModel(t testing.TB, name string, backend nn.Backend, maxBatch int) *nn.Model {
	t.Helper()
	dir := os.Getenv("CUDAGO_MODELS_DIR")
	if dir == "" {
		t.Fatal("CUDAGO_MODELS_DIR is not set: run the Go tests through meson " +
			"(meson devenv -C build --workdir go go test ./...) or scripts/test.sh")
	}
	opts := nn.Options{Backend: backend, MaxBatch: maxBatch}
	if backend == nn.GPU {
		opts.Precision = nn.FP32
	}
	m, err := nn.Load(filepath.Join(dir, name), opts)
	testutil.Must(t, "nn.Load "+name, err)
	t.Cleanup(func() { m.Close() })
	return m
}

func randInput(t testing.TB, r interface{ Float32() float32 }, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = r.Float32()*2 - 1
	}
	return x
}

func near(t testing.TB, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: [%d] = %g, want %g", what, i, got[i], want[i])
		}
	}
}

// TestBatchedResults: many goroutines send requests of 1 to 3 items; every result equals the
// model's own run of that request alone, and batches of several requests did form.
func TestBatchedResults(t *testing.T) {
	m := loadModel(t, "conv_bn_k3_c13_13x11.onnx", nn.Reference, 8)
	batchedResults(t, m, m, serve.Config{MaxQueueDelay: 2 * time.Millisecond}, 1e-5)
}

// TestBatchedResultsGPU: the same on the GPU (fp32), with two instances whose computes are
// chained (the default) or side by side (ConcurrentCompute), against the reference executor.
func TestBatchedResultsGPU(t *testing.T) {
	testutil.RequireGPU(t)
	gm := loadModel(t, "conv_bn_k3_c13_13x11.onnx", nn.GPU, 8)
	rm := loadModel(t, "conv_bn_k3_c13_13x11.onnx", nn.Reference, 8)
	for _, concurrent := range []bool{false, true} {
		t.Run(fmt.Sprintf("concurrent=%v", concurrent), func(t *testing.T) {
			batchedResults(t, gm, rm, serve.Config{MaxQueueDelay: 2 * time.Millisecond,
				InstancesPerDevice: 2, ConcurrentCompute: concurrent}, 1e-3)
		})
	}
}

// batchedResults serves m with cfg and checks results against ref's runs of each request alone.
func batchedResults(t *testing.T, m, ref *nn.Model, cfg serve.Config, tol float64) {
	srv, err := serve.New(m, cfg)
	testutil.Must(t, "serve.New", err)
	defer srv.Close()
	in, out := m.Inputs()[0], m.Outputs()[0]
	r := testutil.Rand(t)
	const goroutines, each = 8, 12
	inputs := make([][][]float32, goroutines)
	for g := range inputs {
		inputs[g] = make([][]float32, each)
		for k := range each {
			inputs[g][k] = randInput(t, r, in.Len(1+(g+k)%3))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	got := make([][][]float32, goroutines)
	var multi atomic.Int64
	for g := range goroutines {
		got[g] = make([][]float32, each)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				res, err := srv.Do(context.Background(), &serve.Request{Inputs: []any{inputs[g][k]}})
				if err != nil {
					errs <- err
					return
				}
				if res.Stats.BatchRequests > 1 {
					multi.Add(1)
				}
				if res.Stats.Items != 1+(g+k)%3 || res.Stats.BatchItems < res.Stats.Items {
					t.Errorf("stats %+v for a request of %d items", res.Stats, 1+(g+k)%3)
				}
				got[g][k] = res.Outputs[0]
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for g := range goroutines {
		for k := range each {
			items := 1 + (g+k)%3
			want := make([]float32, out.Len(items))
			testutil.Must(t, "RunHost", ref.RunHost(items, []any{inputs[g][k]}, [][]float32{want}))
			near(t, "request", got[g][k], want, tol)
		}
	}
	if multi.Load() == 0 {
		t.Errorf("no request shared a batch with another (8 goroutines, 2 ms queue delay)")
	}
	st, err := srv.Stats()
	testutil.Must(t, "Stats", err)
	var items uint64
	for b, n := range st.BatchHistogram {
		items += uint64(b) * n
	}
	if st.Submitted != goroutines*each || st.Completed != st.Submitted || st.Queued != 0 ||
		st.InFlight != 0 || items != st.Inferences {
		t.Errorf("stats %+v: want %d submitted and completed, nothing queued, the histogram's items "+
			"(%d) equal to Inferences", st, goroutines*each, items)
	}
}

// TestOutputsInPlace: Request.Outputs receives the result without allocating it.
func TestOutputsInPlace(t *testing.T) {
	m := loadModel(t, "relu_c13_13x11.onnx", nn.Reference, 4)
	srv, err := serve.New(m, serve.Config{})
	testutil.Must(t, "serve.New", err)
	defer srv.Close()
	x := randInput(t, testutil.Rand(t), m.Inputs()[0].Len(2))
	dst := make([]float32, m.Outputs()[0].Len(2))
	res, err := srv.Do(context.Background(), &serve.Request{Inputs: []any{x}, Outputs: [][]float32{dst}})
	testutil.Must(t, "Do", err)
	if &res.Outputs[0][0] != &dst[0] {
		t.Errorf("the result is not in Request.Outputs")
	}
	for i, v := range x {
		if want := max(v, 0); dst[i] != want {
			t.Fatalf("relu[%d] = %g, want %g", i, dst[i], want)
		}
	}
	// A destination of the wrong size is refused before anything is queued.
	_, err = srv.Do(context.Background(), &serve.Request{Inputs: []any{x}, Outputs: [][]float32{dst[1:]}})
	testutil.WantErr(t, "short output", err, cudago.ErrInvalidArgument, opInfer, "output 0")
}

// TestBadRequests: each bad request fails alone with a message naming what is wrong, while good
// ones around it succeed.
func TestBadRequests(t *testing.T) {
	m := loadModel(t, "relu_c13_13x11.onnx", nn.Reference, 4)
	srv, err := serve.New(m, serve.Config{MaxQueueDelay: time.Millisecond})
	testutil.Must(t, "serve.New", err)
	defer srv.Close()
	per := m.Inputs()[0].Len(1)
	good := make([]float32, per)
	ctx := context.Background()
	cases := []struct {
		what   string
		inputs []any
		msg    string
	}{
		{"no inputs", nil, "0 inputs given"},
		{"two inputs", []any{good, good}, "2 inputs given"},
		{"nil input", []any{nil}, "is nil"},
		{"wrong type", []any{[]byte{1, 2}}, "holds uint8"},
		{"not a multiple of an item", []any{good[1:]}, "not a positive multiple"},
		{"empty", []any{[]float32{}}, "not a positive multiple"},
		{"too many items", []any{make([]float32, 5*per)}, "max batch size is 4"},
		{"int slice", []any{[]int{1}}, "is a []int"},
	}
	var wg sync.WaitGroup
	var goodErr error
	var goodRuns atomic.Int64
	wg.Add(1)
	go func() { // good requests all along
		defer wg.Done()
		for range 100 {
			if _, err := srv.Infer(ctx, good); err != nil {
				goodErr = err
				return
			}
			goodRuns.Add(1)
		}
	}()
	for range 20 {
		for _, c := range cases {
			_, err := srv.Infer(ctx, c.inputs...)
			testutil.WantErr(t, c.what, err, cudago.ErrInvalidArgument, opInfer, c.msg)
		}
	}
	_, err = srv.Do(ctx, &serve.Request{Inputs: []any{good}, Priority: -1})
	testutil.WantErr(t, "negative priority", err, cudago.ErrInvalidArgument, opInfer, "priority")
	_, err = srv.Do(ctx, &serve.Request{Inputs: []any{good}, Priority: 2})
	testutil.WantErr(t, "priority past the levels", err, cudago.ErrInvalidArgument, opInfer, "priority 2")
	_, err = srv.Do(ctx, nil)
	testutil.WantErr(t, "nil request", err, cudago.ErrInvalidArgument, opInfer, "nil request")
	wg.Wait()
	if goodErr != nil {
		t.Fatalf("a good request failed beside the bad ones: %v", goodErr)
	}
	if goodRuns.Load() != 100 {
		t.Errorf("%d of 100 good requests ran", goodRuns.Load())
	}
}

// TestDeadlines: a context whose deadline passed is refused at once; a request whose deadline
// passes while it is queued (behind a long queue delay) fails at its deadline, or is sent in
// time for it; one with time enough succeeds.
func TestDeadlines(t *testing.T) {
	m := loadModel(t, "relu_c13_13x11.onnx", nn.Reference, 4)
	srv, err := serve.New(m, serve.Config{MaxQueueDelay: 10 * time.Second})
	testutil.Must(t, "serve.New", err)
	defer srv.Close()
	x := make([]float32, m.Inputs()[0].Len(1))
	past, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err = srv.Infer(past, x)
	testutil.WantErr(t, "deadline passed", err, cudago.ErrTimeout, opInfer, "deadline")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v does not match context.DeadlineExceeded", err)
	}
	// With a 10 s queue delay, a request of one item can only leave the queue by its deadline:
	// the batcher sends it early enough to meet it (CloseDeadline) or the reaper fails it then.
	ctx, cancel2 := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel2()
	t0 := time.Now()
	res, err := srv.Do(ctx, &serve.Request{Inputs: []any{x}})
	took := time.Since(t0)
	if err == nil && res.Stats.CloseReason != serve.CloseDeadline {
		t.Errorf("a request sent before its queue delay closed with %v, want deadline", res.Stats.CloseReason)
	}
	if err != nil && !errors.Is(err, cudago.ErrTimeout) {
		t.Errorf("deadline in the queue: %v, want ErrTimeout", err)
	}
	if took < 60*time.Millisecond || took > 2*time.Second {
		t.Errorf("the request with an 80 ms deadline returned after %v", took)
	}
}

// TestDeadlinesBehindALongBatch: while the one instance runs a batch of about 40 ms (SqueezeNet
// on the reference executor), queued requests whose context deadline passes fail with
// ErrTimeout (matching context.DeadlineExceeded), never ErrCancelled: the context's deadline is
// the core's, and the core answers at it.
func TestDeadlinesBehindALongBatch(t *testing.T) {
	m := loadModel(t, "squeezenet_pt.onnx", nn.Reference, 1)
	srv, err := serve.New(m, serve.Config{InstancesPerDevice: 1})
	testutil.Must(t, "serve.New", err)
	defer srv.Close()
	x := make([]float32, m.Inputs()[0].Len(1))
	long := srv.Submit(context.Background(), &serve.Request{Inputs: []any{x}})
	time.Sleep(5 * time.Millisecond) // the long one runs
	const n = 16
	errs := make(chan error, n)
	for range n {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
			defer cancel()
			_, err := srv.Infer(ctx, x)
			errs <- err
		}()
	}
	timeouts := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			// Sent before the long batch started, or right after it: fine.
		case errors.Is(err, cudago.ErrTimeout) && errors.Is(err, context.DeadlineExceeded):
			timeouts++
		default:
			t.Errorf("a request whose deadline passed in the queue: %v, want ErrTimeout", err)
		}
	}
	if r := <-long; r.Err != nil {
		t.Errorf("the long request: %v", r.Err)
	}
	if timeouts == 0 {
		t.Errorf("no request timed out behind a 40 ms batch with a 5 ms deadline")
	}
}

// TestCancel: cancelling the context of a queued request fails it with ErrCancelled (matching
// context.Canceled) at once.
func TestCancel(t *testing.T) {
	m := loadModel(t, "relu_c13_13x11.onnx", nn.Reference, 4)
	srv, err := serve.New(m, serve.Config{MaxQueueDelay: 10 * time.Second})
	testutil.Must(t, "serve.New", err)
	defer srv.Close()
	x := make([]float32, m.Inputs()[0].Len(1))
	ctx, cancel := context.WithCancel(context.Background())
	ch := srv.Submit(ctx, &serve.Request{Inputs: []any{x}})
	time.Sleep(20 * time.Millisecond)
	t0 := time.Now()
	cancel()
	select {
	case res := <-ch:
		if !errors.Is(res.Err, cudago.ErrCancelled) || !errors.Is(res.Err, context.Canceled) {
			t.Errorf("cancelled request: %v, want ErrCancelled", res.Err)
		}
		if d := time.Since(t0); d > time.Second {
			t.Errorf("the cancelled request's result came after %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no result 5 s after the cancel")
	}
}

// TestQueueFullAndClose: past MaxQueueSize requests are refused at once with ErrQueueFull;
// Close drains the accepted ones (each gets its result) and later requests get ErrUnavailable.
func TestQueueFullAndClose(t *testing.T) {
	m := loadModel(t, "relu_c13_13x11.onnx", nn.Reference, 4)
	srv, err := serve.New(m, serve.Config{MaxQueueDelay: 10 * time.Second, MaxQueueSize: 3,
		MaxBatchSize: 4})
	testutil.Must(t, "serve.New", err)
	x := make([]float32, m.Inputs()[0].Len(1))
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	var chans []<-chan serve.Result
	for range 3 {
		chans = append(chans, srv.Submit(context.Background(), &serve.Request{Inputs: []any{x}}))
	}
	time.Sleep(10 * time.Millisecond)
	_, err = srv.Infer(context.Background(), x)
	testutil.WantErr(t, "full queue", err, cudago.ErrQueueFull, opInfer, "queue is full")
	testutil.Must(t, "Close", srv.Close())
	for i, ch := range chans {
		res := <-ch
		if res.Err != nil {
			t.Errorf("accepted request %d: %v after Close", i, res.Err)
			continue
		}
		if res.Stats.CloseReason != serve.CloseShutdown {
			t.Errorf("request %d closed with %v, want shutdown", i, res.Stats.CloseReason)
		}
		near(t, "drained request", res.Outputs[0][:7], []float32{0, 0, 0, 0, 1, 2, 3}, 0)
	}
	_, err = srv.Infer(context.Background(), x)
	if !errors.Is(err, cudago.ErrUnavailable) && !errors.Is(err, cudago.ErrClosed) {
		t.Errorf("request after Close: %v, want ErrUnavailable or ErrClosed", err)
	}
	testutil.Must(t, "second Close", srv.Close())
}

// TestManyRequestsNoLeak: tens of thousands of requests through a server leave its counters
// consistent and its staging and Go heap flat.
func TestManyRequestsNoLeak(t *testing.T) {
	m := loadModel(t, "relu_c13_13x11.onnx", nn.Reference, 16)
	srv, err := serve.New(m, serve.Config{MaxQueueDelay: 100 * time.Microsecond})
	testutil.Must(t, "serve.New", err)
	defer srv.Close()
	x := make([]float32, m.Inputs()[0].Len(1))
	round := func(n int) {
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out := [][]float32{make([]float32, m.Outputs()[0].Len(1))}
				for range n / 16 {
					if _, err := srv.Do(context.Background(), &serve.Request{Inputs: []any{x}, Outputs: out}); err != nil {
						t.Errorf("goroutine %d: %v", g, err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	n := 20000
	if testing.Short() {
		n = 4000
	}
	round(n / 4)
	st1, _ := srv.Stats()
	var ms1, ms2 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	round(n)
	runtime.GC()
	runtime.ReadMemStats(&ms2)
	st2, _ := srv.Stats()
	if st2.Completed != st2.Submitted || st2.Queued != 0 || st2.InFlight != 0 || st2.Rejected != 0 {
		t.Errorf("after %d requests: %+v", st2.Submitted, st2)
	}
	if st2.StagingBytes > 2*st1.StagingBytes+1<<20 {
		t.Errorf("staging grew from %d to %d bytes", st1.StagingBytes, st2.StagingBytes)
	}
	if grow := int64(ms2.HeapAlloc) - int64(ms1.HeapAlloc); grow > 8<<20 {
		t.Errorf("the Go heap grew by %d bytes over %d requests", grow, n)
	}
}

// TestPinnedAndDeviceInputs: on the GPU, a pinned HostBuffer input is read in place and a device
// tensor too; results against the reference executor.
func TestPinnedAndDeviceInputs(t *testing.T) {
	dev := testutil.RequireGPU(t)
	gm := loadModel(t, "conv_bn_k3_c13_13x11.onnx", nn.GPU, 8)
	rm := loadModel(t, "conv_bn_k3_c13_13x11.onnx", nn.Reference, 8)
	srv, err := serve.New(gm, serve.Config{MaxQueueDelay: time.Millisecond})
	testutil.Must(t, "serve.New", err)
	defer srv.Close()
	in, out := gm.Inputs()[0], gm.Outputs()[0]
	x := randInput(t, testutil.Rand(t), in.Len(3))
	want := make([]float32, out.Len(3))
	testutil.Must(t, "RunHost", rm.RunHost(3, []any{x}, [][]float32{want}))

	hb, err := cudago.NewHostBuffer[float32](dev, len(x))
	testutil.Must(t, "NewHostBuffer", err)
	defer hb.Close()
	copy(hb.Slice(), x)
	res, err := srv.Do(context.Background(), &serve.Request{Inputs: []any{hb}})
	testutil.Must(t, "pinned input", err)
	near(t, "pinned input", res.Outputs[0], want, 1e-3)

	db, err := cudago.NewDeviceBuffer[float32](dev, len(x)+5)
	testutil.Must(t, "NewDeviceBuffer", err)
	defer db.Close()
	testutil.Must(t, "CopyFromHostAt", db.CopyFromHostAt(5, x))
	res, err = srv.Do(context.Background(), &serve.Request{Inputs: []any{nn.At(db, 5)}, Items: 3})
	testutil.Must(t, "device input", err)
	near(t, "device input", res.Outputs[0], want, 1e-3)
	if res.Stats.Device != 0 {
		t.Errorf("ran on device %d", res.Stats.Device)
	}
}

func cudagoDevices() (int, error) { return cudago.DeviceCount() }

// TestPublicBufferTypes: cudago.HostBuffer and nn.DeviceTensor inputs reach the serve layer as
// what they are (not as an unknown type): without a GPU, a nil host buffer and a zero device
// tensor are refused as nil handles, which only the code for those types says.
func TestPublicBufferTypes(t *testing.T) {
	m := loadModel(t, "relu_c13_13x11.onnx", nn.Reference, 2)
	srv, err := serve.New(m, serve.Config{})
	testutil.Must(t, "serve.New", err)
	defer srv.Close()
	var hb *cudago.HostBuffer[float32]
	_, err = srv.Do(context.Background(), &serve.Request{Inputs: []any{hb}})
	testutil.WantErr(t, "nil *cudago.HostBuffer", err, cudago.ErrInvalidHandle, opInfer, "nil *HostBuffer")
	var hb8 *cudago.HostBuffer[uint8]
	_, err = srv.Do(context.Background(), &serve.Request{Inputs: []any{hb8}})
	testutil.WantErr(t, "nil *cudago.HostBuffer[uint8]", err, cudago.ErrInvalidHandle, opInfer, "nil *HostBuffer")
	_, err = srv.Do(context.Background(), &serve.Request{Inputs: []any{nn.DeviceTensor{}}, Items: 1})
	testutil.WantErr(t, "zero nn.DeviceTensor", err, cudago.ErrInvalidHandle, opInfer, "device buffer")
	ch := srv.Submit(context.Background(), &serve.Request{Inputs: []any{hb}})
	if res := <-ch; !errors.Is(res.Err, cudago.ErrInvalidHandle) {
		t.Errorf("Submit with a nil host buffer: %v", res.Err)
	}
}
