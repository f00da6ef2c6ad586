package main

// Tests of loadgen: short in-process runs on a small model on the CPU reference executor (every
// request accounted for, the batch histogram matching the successful items), an HTTP run
// against a fake server whose own counts the report must match, the PNG plot, and the command
// line's errors. No test asserts timings. The in-process tests need $CUDAGO_MODELS_DIR (set by
// meson devenv).

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func modelPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("CUDAGO_MODELS_DIR")
	if dir == "" {
		t.Fatal("CUDAGO_MODELS_DIR is not set: run the tests through meson " +
			"(cd build && meson devenv --workdir ../examples/go go test ./loadgen/) or scripts/test.sh")
	}
	return filepath.Join(dir, name)
}

// runJSON runs loadgen with args plus -json and returns its output and report.
func runJSON(t *testing.T, args ...string) (string, report) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "report.json")
	var out bytes.Buffer
	if err := run(append(args, "-json", file), &out); err != nil {
		t.Fatalf("loadgen %q: %v\n%s", args, err, out.String())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, b)
	}
	return out.String(), rep
}

// checkAccounting: every request sent has exactly one outcome.
func checkAccounting(t *testing.T, what string, r runResult) {
	t.Helper()
	if r.Submitted == 0 {
		t.Errorf("%s: no requests sent", what)
	}
	if sum := r.OK + r.QueueFull + r.Timeout + r.Other; sum != r.Submitted {
		t.Errorf("%s: %d sent, but %d ok + %d queue full + %d timeout + %d other = %d", what, r.Submitted,
			r.OK, r.QueueFull, r.Timeout, r.Other, sum)
	}
}

// checkBatches: the batches of the run hold exactly the successful requests' items.
func checkBatches(t *testing.T, what string, r runResult, items int) {
	t.Helper()
	if r.BatchHistogram == nil {
		t.Errorf("%s: no batch histogram", what)
		return
	}
	sum, batches := uint64(0), uint64(0)
	for b, n := range r.BatchHistogram {
		sum += uint64(b) * n
		batches += n
	}
	if sum != r.OK*uint64(items) || batches != r.Batches {
		t.Errorf("%s: the histogram %v holds %d items in %d batches; %d requests of %d items succeeded in %d batches",
			what, r.BatchHistogram, sum, batches, r.OK, items, r.Batches)
	}
}

func TestInprocClosedLoop(t *testing.T) {
	model := modelPath(t, "relu_c13_13x11.onnx")
	out, rep := runJSON(t, "-mode", "inproc", "-model", model, "-backend", "reference", "-duration", "1s",
		"-concurrency", "4", "-items", "2", "-max-queue-delay", "1ms")
	if len(rep.Runs) != 1 || rep.Runs[0].Concurrency != 4 || rep.Items != 2 || rep.Mode != "inproc" {
		t.Fatalf("report: %+v", rep)
	}
	r := rep.Runs[0]
	checkAccounting(t, "closed loop", r)
	checkBatches(t, "closed loop", r, 2)
	if r.OK != r.Submitted || r.Latency.P50 <= 0 || r.Latency.P50 > r.Latency.P99 || r.Latency.P99 > r.Latency.Max {
		t.Errorf("run: %+v", r)
	}
	for _, s := range []string{"reference executor", "requests: ", "throughput: ", "latency: p50", "batches: "} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	t.Logf("\n%s", out)
}

// TestInprocErrors: a tiny queue and a deadline that has passed: each error has its kind, and
// nothing goes unaccounted.
func TestInprocErrors(t *testing.T) {
	model := modelPath(t, "relu_c13_13x11.onnx")
	_, rep := runJSON(t, "-mode", "inproc", "-model", model, "-backend", "reference", "-duration", "500ms",
		"-concurrency", "8", "-max-queue-size", "1", "-max-queue-delay", "2ms", "-max-batch", "2")
	r := rep.Runs[0]
	checkAccounting(t, "tiny queue", r)
	checkBatches(t, "tiny queue", r, 1)
	if r.Timeout != 0 || r.Other != 0 {
		t.Errorf("tiny queue: %+v", r)
	}
	if r.QueueFull > 0 && !strings.Contains(r.FirstErrors["queue_full"], "queue is full") {
		t.Errorf("first queue-full error: %q", r.FirstErrors["queue_full"])
	}
	t.Logf("tiny queue: %d ok, %d queue full", r.OK, r.QueueFull)

	_, rep = runJSON(t, "-mode", "inproc", "-model", model, "-backend", "reference", "-duration", "200ms",
		"-concurrency", "2", "-timeout", "1ns")
	r = rep.Runs[0]
	checkAccounting(t, "1 ns timeout", r)
	if r.Timeout == 0 || r.Other != 0 {
		t.Errorf("1 ns timeout: %+v", r)
	}
	if l := r.TimeoutLateness; l == nil || !(l.P50 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("1 ns timeout: lateness %+v", l)
	}

	// Deadlines pass in the queue while the one instance runs a batch of about 40 ms (SqueezeNet
	// on the reference executor): each queued request is answered at its 5 ms deadline by the
	// reaper, not when the instance is free again (which would make it at least 30 ms late).
	out, rep := runJSON(t, "-mode", "inproc", "-model", modelPath(t, "squeezenet_pt.onnx"), "-backend", "reference",
		"-duration", "300ms", "-concurrency", "4", "-max-batch", "1", "-instances", "1", "-timeout", "5ms")
	r = rep.Runs[0]
	checkAccounting(t, "5 ms timeout", r)
	if l := r.TimeoutLateness; r.Timeout == 0 || l == nil || l.Max >= 30 {
		t.Errorf("5 ms deadlines behind a long batch: %+v, lateness %+v", r, l)
	} else {
		t.Logf("5 ms deadlines behind a long batch: %d ok, %d timeouts, lateness p50 %.3f ms, max %.3f ms", r.OK, r.Timeout, l.P50, l.Max)
	}
	// The server's own lateness (from its metrics) is there, and no later than the client saw.
	if r.Scrape == nil || !r.Scrape.Stages.TimeoutLate.ok() || !r.Scrape.Stages.TimeoutLateP99.ok() ||
		(r.TimeoutLateness != nil && float64(r.Scrape.Stages.TimeoutLate) > r.TimeoutLateness.Max+1) {
		t.Errorf("server-side timeout lateness: %+v", r.Scrape)
	}
	if !strings.Contains(out, "server side: timed-out requests' results ready after their deadline by: mean ") {
		t.Errorf("output lacks the server-side lateness:\n%s", out)
	}
	if !strings.Contains(out, "timed-out requests answered after their deadline by: p50 ") {
		t.Errorf("output lacks the lateness:\n%s", out)
	}
	// No timeouts: no lateness.
	if _, rep := runJSON(t, "-mode", "inproc", "-model", model, "-backend", "reference", "-duration", "100ms",
		"-concurrency", "1"); rep.Runs[0].TimeoutLateness != nil {
		t.Errorf("no timeouts, lateness %+v", rep.Runs[0].TimeoutLateness)
	}
}

func TestInprocOpenLoopSweep(t *testing.T) {
	model := modelPath(t, "relu_c13_13x11.onnx")
	png := filepath.Join(t.TempDir(), "plot.png")
	out, rep := runJSON(t, "-mode", "inproc", "-model", model, "-backend", "reference", "-duration", "400ms",
		"-rate", "100", "-sweep", "100,400", "-png", png, "-png-width", "640", "-png-height", "400")
	if len(rep.Runs) != 2 || rep.Runs[0].Rate != 100 || rep.Runs[1].Rate != 400 || !strings.HasPrefix(rep.Loop, "open") {
		t.Fatalf("report: %+v", rep)
	}
	for _, r := range rep.Runs {
		checkAccounting(t, fmt.Sprintf("rate %g", r.Rate), r)
		checkBatches(t, fmt.Sprintf("rate %g", r.Rate), r, 1)
	}
	if !strings.Contains(out, "rate      req/s") {
		t.Errorf("no sweep table:\n%s", out)
	}
	f, err := os.Open(png)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := pngDecodeConfig(f)
	if err != nil || cfg[0] != 640 || cfg[1] != 400 {
		t.Errorf("the PNG: %v %v", cfg, err)
	}
}

func pngDecodeConfig(r io.Reader) ([2]int, error) {
	c, err := png.DecodeConfig(r)
	return [2]int{c.Width, c.Height}, err
}

// fakeServer answers like a KServe v2 server: infer requests in turn get 200, 503 (queue
// full), 504, 500, and a 200 whose body does not add up; it counts what it answered.
type fakeServer struct {
	mu     sync.Mutex
	counts map[string]int
	n      atomic.Int64
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v2/models/fake":
		w.Write([]byte(`{"name":"fake","inputs":[{"name":"x","datatype":"FP32","shape":[-1,3]}],"outputs":[{"name":"y","datatype":"FP32","shape":[-1,2]}]}`))
		return
	case "/v2/models/fake/stats":
		w.Write([]byte(`{"model_stats":[{"name":"fake","batch_stats":[{"batch_size":2,"compute_infer":{"count":` +
			fmt.Sprint(f.n.Load()) + `,"ns":0}}]}]}`))
		return
	case "/v2/models/fake/infer":
	default:
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	outcome := "ok"
	hl := r.Header.Get("Inference-Header-Content-Length")
	var req struct {
		Inputs []struct {
			Shape      []int
			Parameters map[string]int
		}
		Parameters map[string]any
	}
	var n int
	if _, err := fmt.Sscan(hl, &n); err != nil || n > len(body) || json.Unmarshal(body[:n], &req) != nil ||
		len(req.Inputs) != 1 || fmt.Sprint(req.Inputs[0].Shape) != "[2 3]" ||
		req.Inputs[0].Parameters["binary_data_size"] != 24 || len(body)-n != 24 || req.Parameters["binary_data_output"] != true {
		outcome = "bad request"
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"bad request"}`))
	} else {
		switch f.n.Add(1) % 5 {
		case 0:
			head := []byte(`{"outputs":[{"name":"y","datatype":"FP32","shape":[2,2],"parameters":{"binary_data_size":16}}]}`)
			w.Header().Set("Inference-Header-Content-Length", fmt.Sprint(len(head)))
			w.Write(append(head, binary.LittleEndian.AppendUint32(make([]byte, 12), 1)...))
		case 1:
			outcome = "queue full"
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":"the queue is full"}`))
		case 2:
			outcome = "timeout"
			w.WriteHeader(http.StatusGatewayTimeout)
			w.Write([]byte(`{"error":"deadline"}`))
		case 3:
			outcome = "other"
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":"broken"}`))
		case 4:
			outcome = "other"
			head := []byte(`{"outputs":[{"name":"y","parameters":{"binary_data_size":16}}]}`)
			w.Header().Set("Inference-Header-Content-Length", fmt.Sprint(len(head)))
			w.Write(append(head, 1, 2, 3))
		}
	}
	f.mu.Lock()
	f.counts[outcome]++
	f.mu.Unlock()
}

func TestHTTPAccounting(t *testing.T) {
	f := &fakeServer{counts: map[string]int{}}
	ts := httptest.NewServer(f)
	defer ts.Close()
	out, rep := runJSON(t, "-mode", "http", "-url", ts.URL, "-name", "fake", "-items", "2", "-duration", "500ms",
		"-concurrency", "3")
	r := rep.Runs[0]
	checkAccounting(t, "http", r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts["bad request"] != 0 {
		t.Fatalf("the fake server got %d malformed requests", f.counts["bad request"])
	}
	want := fmt.Sprint(f.counts["ok"], f.counts["queue full"], f.counts["timeout"], f.counts["other"])
	if got := fmt.Sprint(r.OK, r.QueueFull, r.Timeout, r.Other); got != want {
		t.Errorf("ok, queue full, timeout, other: %s; the server answered %s", got, want)
	}
	first := r.FirstErrors["other"] // the 500 or the response that does not add up, whichever came first
	if r.QueueFull == 0 || r.Timeout == 0 || r.Other == 0 || r.FirstErrors["queue_full"] != "HTTP 503: the queue is full" ||
		!(strings.Contains(first, "HTTP 500: broken") || strings.Contains(first, "do not add up")) {
		t.Errorf("run: %+v", r)
	}
	// The fake's stats count every infer as one batch of 2.
	if len(r.BatchHistogram) != 3 || r.BatchHistogram[2] != r.Submitted || r.MeanBatch != 2 {
		t.Errorf("batch histogram %v (mean %v) for %d requests", r.BatchHistogram, r.MeanBatch, r.Submitted)
	}
	t.Logf("\n%s", out)
}

func TestPlot(t *testing.T) {
	runs := []runResult{
		{Concurrency: 1, OK: 10, ItemsPerSec: 120, Latency: latency{P50: 1.2, P99: 2.5}},
		{Concurrency: 2, OK: 10, ItemsPerSec: 230, Latency: latency{P50: 1.5, P99: 4}},
		{Concurrency: 4, OK: 0}, // no successes: no point
		{Concurrency: 8, OK: 10, ItemsPerSec: 310, Latency: latency{P50: 3.1, P99: 9.7}},
	}
	for _, size := range [][2]int{{800, 500}, {200, 150}, {1234, 777}} {
		var b bytes.Buffer
		if err := writePlot(&b, runs, "a title: Longer than the plot is wide, surely, at 200 pixels", size[0], size[1]); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&b)
		if err != nil {
			t.Fatalf("%v: %v", size, err)
		}
		if got := img.Bounds().Size(); got.X != size[0] || got.Y != size[1] {
			t.Errorf("plot size %v, want %v", got, size)
		}
		seen := map[[3]uint32]int{}
		for y := 0; y < size[1]; y++ {
			for x := 0; x < size[0]; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				seen[[3]uint32{r >> 8, g >> 8, b >> 8}]++
			}
		}
		for name, c := range map[string][3]uint32{"p50": {31, 119, 180}, "p99": {214, 39, 40}, "axes": {0, 0, 0}, "text": {30, 30, 30}} {
			if seen[c] < 20 {
				t.Errorf("%v: %d pixels of the %s colour", size, seen[c], name)
			}
		}
	}
	var b bytes.Buffer
	if err := writePlot(&b, nil, "empty", 400, 300); err != nil {
		t.Fatalf("empty plot: %v", err)
	}
	if _, err := png.Decode(&b); err != nil {
		t.Fatalf("empty plot: %v", err)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		hi   float64
		n    int
		want string
	}{
		{10, 5, "[0 2 4 6 8 10]"},
		{9.7, 4, "[0 5 10]"},
		{0.034, 3, "[0 0.02 0.04]"},
		{8659, 6, "[0 2000 4000 6000 8000 10000]"},
		{0, 3, "[0 0.5 1]"},
	} {
		ticks := niceTicks(c.hi, c.n)
		labels := make([]string, len(ticks))
		for i, v := range ticks {
			labels[i] = tickLabel(v)
		}
		if got := "[" + strings.Join(labels, " ") + "]"; got != c.want {
			t.Errorf("niceTicks(%v, %d) = %s, want %s", c.hi, c.n, got, c.want)
		}
	}
}

func TestArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{nil, "-mode inproc needs -model"},
		{[]string{"-mode", "grpc"}, `-mode "grpc"`},
		{[]string{"-mode", "http"}, "needs -name"},
		{[]string{"-model", "m.onnx", "-concurrency", "0"}, "-concurrency 0"},
		{[]string{"-model", "m.onnx", "-items", "0"}, "-items 0"},
		{[]string{"-model", "m.onnx", "-duration", "0s"}, "-duration 0s"},
		{[]string{"-model", "m.onnx", "-sweep", "1,2.5"}, "must be integers"},
		{[]string{"-model", "m.onnx", "-sweep", "1,-2"}, "positive numbers"},
		{[]string{"-model", "m.onnx", "extra"}, "unexpected arguments"},
		{[]string{"-model", "m.onnx", "-scrape-interval", "5ms"}, "-scrape-interval 5ms"},
		{[]string{"-model", "m.onnx", "-scrape-interval", "-1s"}, "-scrape-interval -1s"},
		{[]string{"-model", "m.onnx", "-scrape-interval", "0", "-timeseries-png", "x"}, "-timeseries-png needs scrapes"},
		{[]string{"-model", "/nonexistent/m.onnx"}, "no such file"},
		{[]string{"-mode", "http", "-name", "m", "-url", "http://127.0.0.1:1"}, "model metadata"},
	} {
		err := run(c.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: %v, want %q", c.args, err, c.msg)
		}
	}
	var help bytes.Buffer
	if err := run([]string{"-help"}, &help); err != nil || !strings.Contains(help.String(), "-concurrency") ||
		!strings.Contains(help.String(), "-scrape-interval") || !strings.Contains(help.String(), "-timeseries-png PREFIX") {
		t.Errorf("-help: %v\n%s", err, help.String())
	}
}
