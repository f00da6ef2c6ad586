//go:build cgo

package metrics_test

// Tests of the exposition: consistency under load on the reference executor (every request sent
// is counted once, inferences equal the batch-size histogram's sum, the queue drains to zero,
// histogram counts equal the completed requests), the format itself (promtool check metrics and
// the Python prometheus_client parser, where installed: scripts/setup.sh installs both and
// scripts/test.sh sets CUDAGO_REQUIRE_TOOLS=1, so there they must run), and the handler.

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/testutil"
	"github.com/cudago/cudago/go/metrics"
	"github.com/cudago/cudago/go/nn"
	"github.com/cudago/cudago/go/serve"
)

func loadModel(t *testing.T, name string, maxBatch int) *nn.Model {
	t.Helper()
	dir := os.Getenv("CUDAGO_MODELS_DIR")
	if dir == "" {
		t.Fatal("CUDAGO_MODELS_DIR is not set: run the Go tests through meson or scripts/test.sh")
	}
	m, err := nn.Load(filepath.Join(dir, name), nn.Options{Backend: nn.Reference, MaxBatch: maxBatch})
	testutil.Must(t, "nn.Load", err)
	t.Cleanup(func() { m.Close() })
	return m
}

// tool finds an external checker; without it the check is skipped, unless CUDAGO_REQUIRE_TOOLS=1.
func tool(t *testing.T, name string, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("CUDAGO_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s not found (CUDAGO_REQUIRE_TOOLS=1): run scripts/setup.sh", name)
	}
	t.Skipf("%s not found", name)
	return ""
}

// checkPromtool runs promtool check metrics: it must parse the text and find nothing to lint in
// cudago's own names. Triton's names break Prometheus' naming rules on purpose (microseconds,
// counters without _total): with tritonNames, lint findings about nv_* series only (promtool's
// exit status 3, "lint problems") are expected; a parse error (status 1) never is.
func checkPromtool(t *testing.T, text []byte, tritonNames bool) {
	t.Helper()
	p := tool(t, "promtool", "promtool")
	cmd := exec.Command(p, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	var ee *exec.ExitError
	if tritonNames && errors.As(err, &ee) && ee.ExitCode() == 3 {
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if !strings.HasPrefix(l, "nv_") {
				t.Errorf("promtool: a lint finding outside Triton's names: %s", l)
			}
		}
		return
	}
	t.Fatalf("promtool check metrics: %v\n%s\n--- exposition ---\n%s", err, out, text)
}

const pyParse = `
import sys
from prometheus_client.parser import text_string_to_metric_families
n = 0
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        n += 1
print(n)
`

func checkPython(t *testing.T, text []byte) int {
	t.Helper()
	venv := os.Getenv("CUDAGO_VENV")
	py := ""
	if venv != "" {
		py = filepath.Join(venv, "bin", "python")
	}
	p := tool(t, "python with prometheus_client", py, "/opt/cudago-venv/bin/python")
	if exec.Command(p, "-c", "import prometheus_client").Run() != nil {
		if os.Getenv("CUDAGO_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s has no prometheus_client (CUDAGO_REQUIRE_TOOLS=1): run scripts/setup.sh", p)
		}
		t.Skipf("%s has no prometheus_client", p)
	}
	cmd := exec.Command(p, "-c", pyParse)
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("prometheus_client parser: %v\n%s", err, out)
	}
	return len(out)
}

// TestConsistencyUnderLoad drives a server with many goroutines (and some requests that are
// refused or time out) and checks the exposition's arithmetic.
func TestConsistencyUnderLoad(t *testing.T) {
	m := loadModel(t, "relu_c13_13x11.onnx", 8)
	srv, err := serve.New(m, serve.Config{Name: "relu-load", MaxQueueDelay: 200 * time.Microsecond,
		MaxQueueSize: 64})
	testutil.Must(t, "serve.New", err)
	x := make([]float32, m.Inputs()[0].Len(1))
	x2 := make([]float32, m.Inputs()[0].Len(2))
	var mu sync.Mutex
	sent, ok, items := 0, 0, 0
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 150 {
				in := x
				if (g+k)%3 == 0 {
					in = x2
				}
				_, err := srv.Infer(context.Background(), in)
				mu.Lock()
				sent++
				if err == nil {
					ok++
					items += len(in) / len(x)
				} else if !errors.Is(err, cudago.ErrQueueFull) {
					t.Errorf("request: %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	// Requests the server refuses count too (rejected, reason "invalid"): a priority past its
	// levels is checked by the core. (Go values the serve package refuses before they reach the
	// server, a nil input or a length that is not whole items, are not requests of the server.)
	for range 5 {
		_, err := srv.Do(context.Background(), &serve.Request{Inputs: []any{x}, Priority: 5})
		if !errors.Is(err, cudago.ErrInvalidArgument) {
			t.Errorf("bad request: %v", err)
		}
	}
	if v, _ := func() (float64, bool) {
		s, err := metrics.Take(metrics.Options{})
		testutil.Must(t, "Take", err)
		return s.Value("cudago_requests_total", map[string]string{"model": "relu-load",
			"outcome": "rejected", "reason": "invalid"})
	}(); v != 5 {
		t.Errorf("rejected/invalid = %v, want 5", v)
	}
	wg.Wait()
	sent += 5 // the bad ones
	snap, err := metrics.Take(metrics.Options{})
	testutil.Must(t, "Take", err)
	lbl := map[string]string{"model": "relu-load"}
	total := snap.Sum("cudago_requests_total", lbl)
	if int(total) != sent {
		t.Errorf("cudago_requests_total sums to %v; the clients sent %d", total, sent)
	}
	succ, _ := snap.Value("cudago_requests_total", map[string]string{"model": "relu-load", "outcome": "success"})
	if int(succ) != ok {
		t.Errorf("success = %v; %d requests succeeded", succ, ok)
	}
	inf, _ := snap.Value("cudago_inferences_total", lbl)
	bsum, _ := snap.Value("cudago_batch_size_sum", lbl)
	if inf != bsum || int(inf) != items {
		t.Errorf("cudago_inferences_total %v, batch size histogram sum %v, items run %d", inf, bsum, items)
	}
	// The per-instance series (device "cpu" on the reference executor) add up to the server's.
	if per := snap.Sum("cudago_instance_inferences_total", map[string]string{"model": "relu-load", "device": "cpu"}); per != inf {
		t.Errorf("cudago_instance_inferences_total{device=\"cpu\"} sums to %v; cudago_inferences_total %v", per, inf)
	}
	execs, _ := snap.Value("cudago_batch_executions_total", lbl)
	bcount, _ := snap.Value("cudago_batch_size_count", lbl)
	closes := snap.Sum("cudago_batch_close_total", lbl)
	if execs != bcount || execs != closes || execs == 0 {
		t.Errorf("batch executions %v, batch size count %v, close reasons %v", execs, bcount, closes)
	}
	if per := snap.Sum("cudago_instance_batch_executions_total", lbl); per != execs {
		t.Errorf("cudago_instance_batch_executions_total sums to %v; batch executions %v", per, execs)
	}
	if q, _ := snap.Value("cudago_queue_depth", lbl); q != 0 {
		t.Errorf("queue depth %v after the load", q)
	}
	if c, _ := snap.Value("cudago_request_duration_seconds_count", lbl); int(c) != ok {
		t.Errorf("request duration count %v; %d requests completed", c, ok)
	}
	if c, _ := snap.Value("cudago_queue_wait_seconds_count", lbl); int(c) != ok {
		t.Errorf("queue wait count %v; %d requests completed", c, ok)
	}
	// Histograms: buckets cumulative and +Inf equal to the count.
	for _, f := range snap.Families {
		if f.Type != metrics.Histogram {
			continue
		}
		last := map[string]float64{}
		for _, s := range f.Samples {
			if s.Name != f.Name+"_bucket" {
				continue
			}
			key := s.Labels["model"] + "/" + s.Labels["stage"]
			if s.Value < last[key] {
				t.Errorf("%s%v: bucket le=%s has %v < %v", f.Name, s.Labels, s.Labels["le"], s.Value, last[key])
			}
			last[key] = s.Value
			if s.Labels["le"] == "+Inf" {
				cnt, _ := snap.Value(f.Name+"_count", map[string]string{"model": s.Labels["model"], "stage": s.Labels["stage"]})
				if cnt != s.Value {
					t.Errorf("%s: +Inf bucket %v, count %v", f.Name, s.Value, cnt)
				}
			}
		}
	}
	text, err := metrics.Render(metrics.Options{TritonNames: true})
	testutil.Must(t, "Render", err)
	if !bytes.Contains(text, []byte(`nv_inference_count{model="relu-load",version="1"}`)) {
		t.Errorf("the Triton names are missing")
	}
	checkPromtool(t, text, true)
	checkPython(t, text)
	plain, err := metrics.Render(metrics.Options{})
	testutil.Must(t, "Render", err)
	if bytes.Contains(plain, []byte("nv_inference")) {
		t.Errorf("Triton names without TritonNames")
	}
	checkPromtool(t, plain, false)
	// A server's series go with it.
	testutil.Must(t, "Close", srv.Close())
	snap, err = metrics.Take(metrics.Options{})
	testutil.Must(t, "Take", err)
	if _, ok := snap.Value("cudago_queue_depth", lbl); ok {
		t.Errorf("the series of a closed server are still there")
	}
}

// TestOddNames: a model name with quotes, backslashes and non-ASCII text is escaped.
func TestOddNames(t *testing.T) {
	m := loadModel(t, "relu_c13_13x11.onnx", 2)
	name := "a \"quoted\" \\ név"
	srv, err := serve.New(m, serve.Config{Name: name})
	testutil.Must(t, "serve.New", err)
	defer srv.Close()
	snap, err := metrics.Take(metrics.Options{})
	testutil.Must(t, "Take", err)
	if _, ok := snap.Value("cudago_queue_depth", map[string]string{"model": name}); !ok {
		t.Errorf("no series with the model label %q", name)
	}
	text, _ := metrics.Render(metrics.Options{TritonNames: true})
	checkPromtool(t, text, true)
	text, _ = metrics.Render(metrics.Options{})
	checkPromtool(t, text, false)
	checkPython(t, text)
	_, err = serve.New(m, serve.Config{Name: "bad\x00name"})
	testutil.WantErr(t, "NUL in the name", err, cudago.ErrInvalidArgument, "serve new", "NUL")
	_, err = serve.New(m, serve.Config{Name: strings.Repeat("x", 300)})
	testutil.WantErr(t, "long name", err, cudago.ErrInvalidArgument, "serve new", "256")
}

// TestHandler: GET serves the exposition with its content type; POST is 405.
func TestHandler(t *testing.T) {
	h := metrics.Handler(metrics.Options{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != metrics.ContentType {
		t.Fatalf("GET: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !strings.Contains(rec.Body.String(), "# TYPE cudago_metrics_source_errors_total counter") {
		t.Errorf("body: %q", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/metrics", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

// TestParse: the parser reads escapes and special values and refuses malformed lines.
func TestParse(t *testing.T) {
	s, err := metrics.Parse([]byte("# HELP a_total x\\ny\n# TYPE a_total counter\na_total{l=\"q\\\"\\\\\\n\"} +Inf\n"))
	testutil.Must(t, "Parse", err)
	f := s.Family("a_total")
	if f == nil || f.Help != "x\ny" || f.Type != metrics.Counter || len(f.Samples) != 1 ||
		f.Samples[0].Labels["l"] != "q\"\\\n" || !math.IsInf(f.Samples[0].Value, 1) {
		t.Errorf("parsed %+v", s)
	}
	for _, bad := range []string{"x 1\n", "# TYPE a counter\na{l=\"v} 1\n", "# TYPE a gauge\na zz\n"} {
		if _, err := metrics.Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}
