package main

// Tests of the scrape series: histogram_quantile over bucket deltas against hand-computed
// values, an in-process run scraped with metrics.Take, an HTTP run against a fake /metrics
// serving a scripted sequence of expositions (the series computed exactly), and the plots.

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cudago/cudago/go/metrics"
)

// near reports whether got is want to within 1e-9 (relative), NaN matching NaN.
func near(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func TestHistogramQuantile(t *testing.T) {
	inf := math.Inf(1)
	// 100 observations: 10 up to 1 ms, 40 in (1, 2] ms, 40 in (2, 5], 10 in (5, 10].
	b := []bucket{{0.001, 10}, {0.002, 50}, {0.005, 90}, {0.01, 100}, {inf, 100}}
	for _, c := range []struct {
		q    float64
		bs   []bucket
		want float64
	}{
		{0.99, b, 0.0095}, // rank 99: 9 of the 10 in (5, 10] ms
		{0.95, b, 0.0075}, // rank 95: 5 of the 10 in (5, 10]
		{0.5, b, 0.002},   // rank 50: the last of (1, 2]
		{0.3, b, 0.0015},  // rank 30: 20 of the 40 in (1, 2]
		{0.05, b, 0.0005}, // rank 5: 5 of the 10 in (0, 1], from 0
		{1, b, 0.01},      // rank 100: the top of (5, 10]
		{0.99, []bucket{{0.001, 0}, {0.01, 1}, {inf, 4}}, 0.01},   // in the +Inf bucket: the highest finite bound
		{0.99, []bucket{{0.001, 0}, {inf, 0}}, math.NaN()},        // no observations
		{0.99, []bucket{{0.001, 3}, {0.01, 4}}, math.NaN()},       // no +Inf bucket
		{0.99, []bucket{{inf, 4}}, math.NaN()},                    // one bucket
		{0.5, []bucket{{0.001, 5}, {0.002, 4}, {inf, 10}}, 0.001}, // counts going down are taken as flat: [5 5 10]
		{0.5, []bucket{{-1, 2}, {0, 4}, {inf, 4}}, -1},            // in a first bucket with a bound ≤ 0: that bound
	} {
		if got := histogramQuantile(c.q, c.bs); !near(got, c.want) {
			t.Errorf("histogramQuantile(%v, %v) = %v, want %v", c.q, c.bs, got, c.want)
		}
	}

	// From two scrapes' cumulative buckets: the deltas are [10 40 40 42] (42 observations).
	prev := map[float64]float64{0.001: 100, 0.002: 150, 0.005: 200, inf: 200}
	cur := map[float64]float64{0.001: 110, 0.002: 190, 0.005: 240, inf: 242}
	d := bucketDeltas(prev, cur)
	if fmt.Sprint(d) != "[{0.001 10} {0.002 40} {0.005 40} {+Inf 42}]" {
		t.Fatalf("bucketDeltas: %v", d)
	}
	// p50: rank 21, 11 of the 30 in (1, 2] ms; p90: rank 37.8, 27.8 of the 30; p99: rank
	// 41.58, in the +Inf bucket.
	for _, c := range []struct{ q, want float64 }{{0.5, 0.001 + 0.001*11/30}, {0.9, 0.001 + 0.001*27.8/30}, {0.99, 0.005}} {
		if got := histogramQuantile(c.q, d); !near(got, c.want) {
			t.Errorf("q %v over the deltas: %v, want %v", c.q, got, c.want)
		}
	}
	// A bucket that went back is a reset: the deltas are the new counts.
	d = bucketDeltas(prev, map[float64]float64{0.001: 1, 0.002: 3, 0.005: 3, 0.0075: 3, inf: 4})
	if fmt.Sprint(d) != "[{0.001 1} {0.002 3} {0.005 3} {0.0075 3} {+Inf 4}]" {
		t.Errorf("bucketDeltas after a reset: %v", d)
	}
}

// checkPNGs checks that the four time-series PNGs of prefix decode at width×height.
func checkPNGs(t *testing.T, prefix string, width, height int) {
	t.Helper()
	for _, suffix := range []string{"-throughput.png", "-p99.png", "-batch.png", "-sm-active.png"} {
		f, err := os.Open(prefix + suffix)
		if err != nil {
			t.Error(err)
			continue
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", suffix, err)
			continue
		}
		if got := img.Bounds().Size(); got.X != width || got.Y != height {
			t.Errorf("%s: %v, want %dx%d", suffix, got, width, height)
		}
	}
}

func TestScrapeSeriesInproc(t *testing.T) {
	model := modelPath(t, "relu_c13_13x11.onnx")
	prefix := filepath.Join(t.TempDir(), "ts")
	out, rep := runJSON(t, "-mode", "inproc", "-model", model, "-backend", "reference", "-duration", "2s",
		"-concurrency", "4", "-max-queue-delay", "1ms", "-scrape-interval", "200ms",
		"-timeseries-png", prefix, "-png-width", "640", "-png-height", "400")
	r := rep.Runs[0]
	checkAccounting(t, "scraped run", r)
	s := r.Scrape
	if s == nil {
		t.Fatalf("no scrape series: %+v", r)
	}
	if s.Error != "" || s.Note != "" || s.Model != defaultInprocName || s.Every != 0.2 || s.Offset != 0 {
		t.Errorf("series: %+v", s)
	}
	// Scrapes at 0.2, 0.4, ..., 1.8 s and one after the last answer: 10 intervals.
	if len(s.Points) != 10 {
		t.Fatalf("%d points, want 10: %+v", len(s.Points), s.Points)
	}
	nvml, reason, err := metrics.GPUStatus()
	if err != nil {
		t.Fatal(err)
	}
	last := 0.0
	for i, p := range s.Points {
		if !(p.T > last) || !(p.Interval > 0) || !(p.ItemsPerSec > 0) || !(p.RequestsPerSec > 0) ||
			!(p.MeanBatch >= 1) || !(p.P99 > 0) {
			t.Errorf("point %d: %+v", i, p)
		}
		if !nvml && p.SMActive.ok() {
			t.Errorf("point %d: SM active %v without NVML (%s)", i, p.SMActive, reason)
		}
		if p.SMActive.ok() && (p.SMActive < 0 || p.SMActive > 1) {
			t.Errorf("point %d: SM active %v", i, p.SMActive)
		}
		last = p.T
	}
	if last < 2 || last > 3 {
		t.Errorf("the last point at %v s", last)
	}
	if !nvml {
		if s.SMActiveNote != "no GPU series (NVML unavailable)" {
			t.Errorf("SM-active note %q", s.SMActiveNote)
		}
		if !strings.Contains(out, "sm-active: no GPU series (NVML unavailable)") {
			t.Errorf("output lacks the SM-active note:\n%s", out)
		}
	}
	// Every successful request's items ran, in the scrapes as in the run's own count (which
	// starts a little later and ends a little earlier than the scrapes).
	items := 0.0
	for _, p := range s.Points {
		items += float64(p.ItemsPerSec) * p.Interval
	}
	if math.Abs(items-float64(r.OK)) > 0.5 {
		t.Errorf("the scrapes count %v items, the run %d ok requests of 1 item", items, r.OK)
	}
	for _, h := range []string{`scrapes every 200ms of model "loadgen", 10 intervals:`, "t s", "p99 ms", "sm-active"} {
		if !strings.Contains(out, h) {
			t.Errorf("output lacks %q:\n%s", h, out)
		}
	}
	// The reference executor times its copies and its run too.
	if st := s.Stages; !(st.Queue >= 0) || !(st.H2D >= 0) || !(st.Compute > 0) || !(st.D2H >= 0) {
		t.Errorf("stage means: %+v", st)
	}
	if !strings.Contains(out, "mean ms over the run: queue wait ") {
		t.Errorf("output lacks the stage means:\n%s", out)
	}
	checkPNGs(t, prefix, 640, 400)
	t.Logf("\n%s", out)
}

// TestStageMeans: the run's mean queue wait and stage times are Δ sum / Δ count between the
// first and last scrapes, of the model's own series only; null where nothing ran.
func TestStageMeans(t *testing.T) {
	expo := func(k float64) *metrics.Snapshot {
		var b strings.Builder
		p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
		p("# TYPE cudago_queue_wait_seconds histogram")
		p(`cudago_queue_wait_seconds_bucket{model="fake",le="+Inf"} %g`, 10*k)
		p(`cudago_queue_wait_seconds_sum{model="fake"} %g`, 0.02*k) // 2 ms a request
		p(`cudago_queue_wait_seconds_count{model="fake"} %g`, 10*k)
		p(`cudago_queue_wait_seconds_bucket{model="decoy",le="+Inf"} %g`, 7*k)
		p(`cudago_queue_wait_seconds_sum{model="decoy"} %g`, 70*k)
		p(`cudago_queue_wait_seconds_count{model="decoy"} %g`, 7*k)
		p("# TYPE cudago_stage_duration_seconds histogram")
		for _, st := range []struct {
			stage string
			each  float64
		}{{"h2d", 0.0015}, {"compute", 0.006}, {"d2h", 0.00025}} {
			p(`cudago_stage_duration_seconds_bucket{model="fake",stage=%q,le="+Inf"} %g`, st.stage, 4*k)
			p(`cudago_stage_duration_seconds_sum{model="fake",stage=%q} %g`, st.stage, st.each*4*k)
			p(`cudago_stage_duration_seconds_count{model="fake",stage=%q} %g`, st.stage, 4*k)
		}
		snap, err := metrics.Parse([]byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	start := time.Unix(1000, 0)
	scrapes := []scrapeSample{{start, expo(1)}, {start.Add(time.Second), expo(2)}, {start.Add(2 * time.Second), expo(5)}}
	st := seriesFrom(scrapes, "fake", start, time.Second).Stages
	if !near(float64(st.Queue), 2) || !near(float64(st.H2D), 1.5) || !near(float64(st.Compute), 6) || !near(float64(st.D2H), 0.25) {
		t.Errorf("stage means %+v, want 2, 1.5, 6, 0.25 ms", st)
	}
	if st.TimeoutLate.ok() || st.TimeoutLateP99.ok() {
		t.Errorf("timeout lateness %v, %v without the series", st.TimeoutLate, st.TimeoutLateP99)
	}
	// Nothing ran between the scrapes, or another model: null.
	for _, c := range []struct {
		model string
		s     []scrapeSample
	}{{"fake", []scrapeSample{scrapes[1], scrapes[1]}}, {"nosuch", scrapes}, {"fake", scrapes[:1]}} {
		if st := seriesFrom(c.s, c.model, start, time.Second).Stages; st.Queue.ok() || st.H2D.ok() || st.Compute.ok() || st.D2H.ok() {
			t.Errorf("%s over %d scrapes: stage means %+v, want none", c.model, len(c.s), st)
		}
	}
}

// expo is one scripted exposition of the fake /metrics: the "fake" model's series (and a decoy
// model's) and the GPUs' SM activity.
type expo struct {
	success, inferences, bsum, bcount float64
	dur                               [5]float64 // cumulative, le 0.001, 0.002, 0.005, 0.01, +Inf
	sm                                []float64  // per GPU; nil: no GPU series
}

func (e expo) text(failures float64) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("# HELP cudago_requests_total Requests by outcome.")
	p("# TYPE cudago_requests_total counter")
	p(`cudago_requests_total{model="fake",outcome="success",reason=""} %g`, e.success)
	p(`cudago_requests_total{model="fake",outcome="failure",reason="timeout"} %g`, failures)
	p(`cudago_requests_total{model="decoy",outcome="success",reason=""} %g`, 1e6+failures)
	p("# TYPE cudago_inferences_total counter")
	p(`cudago_inferences_total{model="decoy"} %g`, 1e7+failures)
	p(`cudago_inferences_total{model="fake"} %g`, e.inferences)
	p("# TYPE cudago_batch_size histogram")
	p(`cudago_batch_size_bucket{model="decoy",le="+Inf"} %g`, failures)
	p(`cudago_batch_size_sum{model="decoy"} %g`, 64*failures)
	p(`cudago_batch_size_count{model="decoy"} %g`, failures)
	p(`cudago_batch_size_bucket{model="fake",le="+Inf"} %g`, e.bcount)
	p(`cudago_batch_size_sum{model="fake"} %g`, e.bsum)
	p(`cudago_batch_size_count{model="fake"} %g`, e.bcount)
	p("# HELP cudago_request_duration_seconds From submission to result.")
	p("# TYPE cudago_request_duration_seconds histogram")
	for i, le := range []string{"0.001", "0.002", "0.005", "0.01", "+Inf"} {
		p(`cudago_request_duration_seconds_bucket{model="decoy",le=%q} %g`, le, failures)
		p(`cudago_request_duration_seconds_bucket{model="fake",le=%q} %g`, le, e.dur[i])
	}
	p(`cudago_request_duration_seconds_sum{model="fake"} 1`)
	p(`cudago_request_duration_seconds_count{model="fake"} %g`, e.dur[4])
	p("# TYPE cudago_nvml_available gauge")
	if e.sm == nil {
		p("cudago_nvml_available 0")
		return b.String()
	}
	p("cudago_nvml_available 1")
	p("# TYPE cudago_gpu_sm_active_ratio gauge")
	for i, v := range e.sm {
		p(`cudago_gpu_sm_active_ratio{device="%d",uuid="GPU-%d",name="NVIDIA H100 80GB HBM3"} %g`, i, i, v)
	}
	return b.String()
}

// scriptedMetrics serves the expositions in turn at GET /metrics (the last one again past the
// end), and counts the GETs.
type scriptedMetrics struct {
	mu     sync.Mutex
	script []expo
	gets   int
}

func (s *scriptedMetrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	e := s.script[min(s.gets, len(s.script)-1)]
	s.gets++
	n := s.gets
	s.mu.Unlock()
	w.Header().Set("Content-Type", metrics.ContentType)
	w.Write([]byte(e.text(1000 * float64(n))))
}

func TestScrapeSeriesHTTP(t *testing.T) {
	script := []expo{
		{success: 100, inferences: 200, bsum: 200, bcount: 50, dur: [5]float64{50, 80, 95, 100, 100}, sm: []float64{0.1, 0.3}},
		// +200 requests, +400 items in +100 batches; durations [10 100 190 200 200]: p99 is 8 of
		// the 10 in (5, 10] ms.
		{success: 300, inferences: 600, bsum: 600, bcount: 150, dur: [5]float64{60, 180, 285, 300, 300}, sm: []float64{0.5, 0.7}},
		// Nothing: no p99, no batch.
		{success: 300, inferences: 600, bsum: 600, bcount: 150, dur: [5]float64{60, 180, 285, 300, 300}, sm: []float64{0.2, 0.2}},
		// The server restarted (counters back to small numbers): the deltas are the counts;
		// p99 is 39.6 of the 40 in (0, 1] ms. No GPU series.
		{success: 40, inferences: 80, bsum: 80, bcount: 20, dur: [5]float64{40, 40, 40, 40, 40}},
		// +10 requests, +30 items in +5 batches; durations [0 5 6 7 10]: p99 in the +Inf bucket.
		{success: 50, inferences: 110, bsum: 110, bcount: 25, dur: [5]float64{40, 45, 46, 47, 50}, sm: []float64{0.9}},
	}
	want := []struct{ requests, items, p99, batch, sm float64 }{
		{200, 400, 9, 4, 0.6},
		{0, 0, math.NaN(), math.NaN(), 0.2},
		{40, 80, 0.99, 4, math.NaN()},
		{10, 30, 10, 6, 0.9},
	}
	sm := &scriptedMetrics{script: script}
	f := &fakeServer{counts: map[string]int{}}
	mux := http.NewServeMux()
	mux.Handle("/metrics", sm)
	mux.Handle("/", f)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	prefix := filepath.Join(t.TempDir(), "http")
	out, rep := runJSON(t, "-mode", "http", "-url", ts.URL, "-name", "fake", "-items", "2", "-duration", "1s",
		"-concurrency", "2", "-scrape-interval", "250ms", "-timeseries-png", prefix)
	// Scrapes as the run starts, at 0.25, 0.5 and 0.75 s, and after the last answer.
	sm.mu.Lock()
	if sm.gets != len(script) {
		t.Errorf("%d scrapes, want %d", sm.gets, len(script))
	}
	sm.mu.Unlock()
	s := rep.Runs[0].Scrape
	if s == nil || s.Model != "fake" || s.Error != "" || s.Note != "" || s.SMActiveNote != "" || len(s.Points) != len(want) {
		t.Fatalf("series: %+v", s)
	}
	for i, p := range s.Points {
		w := want[i]
		if !(p.Interval > 0) || i > 0 && math.Abs(p.T-s.Points[i-1].T-p.Interval) > 1e-6 {
			t.Errorf("point %d: t %v, interval %v", i, p.T, p.Interval)
		}
		if !near(float64(p.RequestsPerSec)*p.Interval, w.requests) || !near(float64(p.ItemsPerSec)*p.Interval, w.items) ||
			!near(float64(p.P99), w.p99) || !near(float64(p.MeanBatch), w.batch) || !near(float64(p.SMActive), w.sm) {
			t.Errorf("point %d: %+v (×%v s: %v requests, %v items), want %+v", i, p, p.Interval,
				float64(p.RequestsPerSec)*p.Interval, float64(p.ItemsPerSec)*p.Interval, w)
		}
	}
	if last := s.Points[len(s.Points)-1].T; last < 1 || last > 2 {
		t.Errorf("the last point at %v s", last)
	}
	for _, h := range []string{`scrapes every 250ms of model "fake", 4 intervals:`, "    n/a"} {
		if !strings.Contains(out, h) {
			t.Errorf("output lacks %q:\n%s", h, out)
		}
	}
	checkPNGs(t, prefix, 800, 500)
	t.Logf("\n%s", out)

	// Without GPU series at all, the SM-active figures are null and the series says why.
	sm.mu.Lock()
	for i := range sm.script {
		sm.script[i].sm = nil
	}
	sm.gets = 0
	sm.mu.Unlock()
	out, rep = runJSON(t, "-mode", "http", "-url", ts.URL, "-name", "fake", "-items", "2", "-duration", "300ms",
		"-concurrency", "1", "-scrape-interval", "100ms")
	s = rep.Runs[0].Scrape
	if s == nil || s.SMActiveNote != "no GPU series (NVML unavailable)" || len(s.Points) != 3 || s.Points[0].SMActive.ok() ||
		!strings.Contains(out, "sm-active: no GPU series (NVML unavailable)") {
		t.Errorf("series without GPU series: %+v\n%s", s, out)
	}
}

// TestSeriesFrom: the figures from scrapes at known times, and the notes.
func TestSeriesFrom(t *testing.T) {
	parse := func(e expo, failures float64) *metrics.Snapshot {
		snap, err := metrics.Parse([]byte(e.text(failures)))
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	start := time.Unix(1000, 0)
	scrapes := []scrapeSample{
		{start.Add(-time.Millisecond), parse(expo{success: 10, inferences: 20, bsum: 20, bcount: 10, sm: []float64{0.5}}, 0)},
		{start.Add(499 * time.Millisecond), parse(expo{success: 60, inferences: 120, bsum: 120, bcount: 30,
			dur: [5]float64{0, 10, 20, 40, 50}, sm: []float64{0.25, 0.75, 1}}, 5)},
	}
	s := seriesFrom(scrapes, "fake", start, 500*time.Millisecond)
	// 50 requests and 100 items in 0.5 s; 100 items in 20 batches; durations [0 10 10 20 10]:
	// p99 (rank 49.5) in the +Inf bucket, the highest finite bound; SM active (0.25+0.75+1)/3.
	if len(s.Points) != 1 || s.Every != 0.5 || s.Model != "fake" || s.Note != "" || s.SMActiveNote != "" {
		t.Fatalf("series: %+v", s)
	}
	p := s.Points[0]
	if p.T != 0.499 || p.Interval != 0.5 || p.RequestsPerSec != 100 || p.ItemsPerSec != 200 || !near(float64(p.P99), 10) ||
		p.MeanBatch != 5 || !near(float64(p.SMActive), 2.0/3) {
		t.Errorf("point: %+v", p)
	}
	// p50 of the same deltas: rank 25, 5 of the 20 in (5, 10] ms.
	d := bucketDeltas(histogramBuckets(scrapes[0].snap, seriesDuration, map[string]string{"model": "fake"}),
		histogramBuckets(scrapes[1].snap, seriesDuration, map[string]string{"model": "fake"}))
	if got := histogramQuantile(0.5, d); !near(got, 0.00625) {
		t.Errorf("p50 %v, want 0.00625", got)
	}

	// Another model: no figures, and a note.
	s = seriesFrom(scrapes, "nosuch", start, time.Second)
	if p := s.Points[0]; p.RequestsPerSec.ok() || p.ItemsPerSec.ok() || p.P99.ok() || p.MeanBatch.ok() ||
		!strings.Contains(s.Note, `no scrape has cudago_inferences_total{model="nosuch"}`) {
		t.Errorf("another model: %+v", s)
	}
	// No GPU series: why, from cudago_nvml_available.
	noGPU := parse(expo{}, 0)
	gpm := parse(expo{sm: []float64{}}, 0) // NVML, but no SM-active series
	off, err := metrics.Parse([]byte("# TYPE cudago_inferences_total counter\ncudago_inferences_total{model=\"fake\"} 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		last *metrics.Snapshot
		want string
	}{
		{noGPU, "no GPU series (NVML unavailable)"},
		{gpm, "no SM-active series (NVML has no GPM figures for this GPU)"},
		{off, "no GPU series (GPU sampling off, or not a cudago server)"},
	} {
		s := seriesFrom([]scrapeSample{{start, noGPU}, {start.Add(time.Second), c.last}}, "fake", start, time.Second)
		if s.SMActiveNote != c.want || s.Points[0].SMActive.ok() {
			t.Errorf("SM-active note %q, want %q", s.SMActiveNote, c.want)
		}
	}
	// No scrapes (the first failed): no points.
	if s := seriesFrom(nil, "fake", start, time.Second); len(s.Points) != 0 || s.SMActiveNote != "" {
		t.Errorf("no scrapes: %+v", s)
	}
}

// TestScrapeErrors: a server without /metrics, or one whose exposition does not parse, ends the
// series with the error, and the run goes on.
func TestScrapeErrors(t *testing.T) {
	f := &fakeServer{counts: map[string]int{}}
	var broken atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			w.Write([]byte("cudago_inferences_total{model=\"fake\" 12\n"))
			return
		}
		http.NotFound(w, r)
	})
	mux.Handle("/", f)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	for _, c := range []struct {
		broken bool
		msg    string
	}{{false, "HTTP 404"}, {true, "metrics: line 1"}} {
		broken.Store(c.broken)
		out, rep := runJSON(t, "-mode", "http", "-url", ts.URL, "-name", "fake", "-items", "2", "-duration", "200ms",
			"-concurrency", "1", "-scrape-interval", "50ms")
		r := rep.Runs[0]
		checkAccounting(t, "scrapes failing", r)
		if r.Scrape == nil || len(r.Scrape.Points) != 0 || !strings.Contains(r.Scrape.Error, c.msg) ||
			!strings.Contains(out, "scrapes every 50ms: none: GET "+ts.URL+"/metrics: ") {
			t.Errorf("series %+v\n%s", r.Scrape, out)
		}
	}
	// -scrape-interval 0: no series.
	_, rep := runJSON(t, "-mode", "http", "-url", ts.URL, "-name", "fake", "-items", "2", "-duration", "100ms",
		"-concurrency", "1", "-scrape-interval", "0")
	if rep.Runs[0].Scrape != nil {
		t.Errorf("series with -scrape-interval 0: %+v", rep.Runs[0].Scrape)
	}
}

func TestTimeseriesCharts(t *testing.T) {
	pt := func(t, v float64) scrapePoint {
		return scrapePoint{T: t, Interval: 1, RequestsPerSec: maybe(v / 2), ItemsPerSec: maybe(v), P99: maybe(v / 100),
			MeanBatch: maybe(v / 1000), SMActive: none}
	}
	runs := []runResult{
		{Scrape: &scrapeSeries{Points: []scrapePoint{pt(1, 1000), pt(2, 1200), {T: 3, P99: none, MeanBatch: none, SMActive: none}},
			SMActiveNote: "no GPU series (NVML unavailable)"}},
		{Scrape: &scrapeSeries{Offset: 3.5, Points: []scrapePoint{pt(1, 2000), pt(2, 2500)},
			SMActiveNote: "no GPU series (NVML unavailable)"}},
	}
	charts := timeseriesCharts(runs, "title", 2)
	if len(charts) != 4 {
		t.Fatalf("%d charts", len(charts))
	}
	th := charts[0]
	if len(th.lines) != 2 || th.lines[0].name != "items/s" || th.lines[1].name != "requests/s" || th.note != "" {
		t.Errorf("throughput chart: %+v", th)
	}
	// The two runs' points on one time axis, with a break between them.
	if got := fmt.Sprint(th.lines[0].points); got != "[{1 1000} {2 1200} {3 0} {NaN NaN} {4.5 2000} {5.5 2500}]" {
		t.Errorf("throughput points: %s", got)
	}
	if got := fmt.Sprint(charts[1].lines[0].points); got != "[{1 10} {2 12} {3 NaN} {NaN NaN} {4.5 20} {5.5 25}]" {
		t.Errorf("p99 points: %s", got)
	}
	if charts[3].note != "no GPU series (NVML unavailable)" || charts[1].note != "" || len(charts[1].lines) != 1 {
		t.Errorf("notes: %q %q", charts[3].note, charts[1].note)
	}
	for i, ch := range charts {
		var b bytes.Buffer
		if err := ch.writePNG(&b, 500, 300); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&b)
		if err != nil {
			t.Fatal(err)
		}
		want := [][3]uint32{{31, 119, 180}, {214, 39, 40}, {148, 103, 189}, {255, 127, 14}}[i]
		n := 0
		for y := 0; y < 300; y++ {
			for x := 0; x < 500; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				if [3]uint32{r >> 8, g >> 8, b >> 8} == want {
					n++
				}
			}
		}
		if (i < 3) != (n > 20) { // the SM-active chart has no line
			t.Errorf("chart %d: %d pixels of its colour", i, n)
		}
	}
	// A series of no points (its first scrape failed) draws, with a note.
	prefix := filepath.Join(t.TempDir(), "empty")
	if _, err := writeTimeseries(prefix, []runResult{{Scrape: &scrapeSeries{Points: []scrapePoint{}}}}, "empty", 1, 300, 200); err != nil {
		t.Fatal(err)
	}
	checkPNGs(t, prefix, 300, 200)
}

func TestItemsPerDevice(t *testing.T) {
	expo := func(a0, a1, b0 int) *metrics.Snapshot {
		text := "# HELP cudago_instance_inferences_total Batch items run by each execution instance.\n" +
			"# TYPE cudago_instance_inferences_total counter\n" +
			fmt.Sprintf("cudago_instance_inferences_total{model=\"m\",device=\"0\",instance=\"0\"} %d\n", a0) +
			fmt.Sprintf("cudago_instance_inferences_total{model=\"m\",device=\"0\",instance=\"1\"} %d\n", a1) +
			fmt.Sprintf("cudago_instance_inferences_total{model=\"m\",device=\"1\",instance=\"0\"} %d\n", b0) +
			"cudago_instance_inferences_total{model=\"other\",device=\"1\",instance=\"0\"} 1000\n"
		s, err := metrics.Parse([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	got := itemsPerDevice(expo(10, 20, 5), expo(110, 70, 105), "m")
	if len(got) != 2 || got["0"] != 150 || got["1"] != 100 {
		t.Errorf("itemsPerDevice = %v, want map[0:150 1:100]", got)
	}
	if got := itemsPerDevice(expo(1, 1, 1), expo(1, 1, 1), "absent"); got != nil {
		t.Errorf("another model's series: %v, want nil", got)
	}
}
