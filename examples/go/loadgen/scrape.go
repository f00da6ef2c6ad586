package main

// The scrape series: the server's metrics scraped every -scrape-interval during a run, and per
// interval between two scrapes the throughput, the p99 request latency, the mean batch size and
// the GPUs' SM activity, computed the way Prometheus' rate() and histogram_quantile() would.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/cudago/cudago/go/metrics"
)

// The series the scrape series are computed from (docs/METRICS.md).
const (
	seriesRequests   = "cudago_requests_total"            // {model, outcome, reason}
	seriesInferences = "cudago_inferences_total"          // {model}
	seriesBatchSize  = "cudago_batch_size"                // histogram {model}
	seriesDuration   = "cudago_request_duration_seconds"  // histogram {model}
	seriesSMActive   = "cudago_gpu_sm_active_ratio"       // gauge {device, uuid, name}
	seriesQueueWait  = "cudago_queue_wait_seconds"        // histogram {model}
	seriesStage      = "cudago_stage_duration_seconds"    // histogram {model, stage}
	seriesLate       = "cudago_timeout_lateness_seconds"  // histogram {model}
	seriesNVML       = "cudago_nvml_available"            // gauge
	seriesInstance   = "cudago_instance_inferences_total" // {model, device, instance}
)

// maybe is a figure that may be missing (NaN), written as null in JSON: the p99 of an interval
// in which no request finished, the SM activity where there are no GPU series.
type maybe float64

func (m maybe) ok() bool { return !math.IsNaN(float64(m)) && !math.IsInf(float64(m), 0) }

func (m maybe) MarshalJSON() ([]byte, error) {
	if !m.ok() {
		return []byte("null"), nil
	}
	return json.Marshal(float64(m))
}

func (m *maybe) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*m = maybe(math.NaN())
		return nil
	}
	var f float64
	err := json.Unmarshal(b, &f)
	*m = maybe(f)
	return err
}

// none is a missing figure.
var none = maybe(math.NaN())

// scrapePoint holds the figures of one interval between two scrapes.
type scrapePoint struct {
	T              float64 `json:"t_s"`              // the interval's end, in seconds from the run's start
	Interval       float64 `json:"interval_s"`       // its length, from the scrape before
	RequestsPerSec maybe   `json:"requests_per_sec"` // Δ successful requests / Δt
	ItemsPerSec    maybe   `json:"items_per_sec"`    // Δ cudago_inferences_total / Δt
	P99            maybe   `json:"p99_ms"`           // from the Δ of the request duration buckets; null: no request finished
	MeanBatch      maybe   `json:"mean_batch_size"`  // Δ batch_size_sum / Δ batch_size_count; null: no batch ran
	SMActive       maybe   `json:"sm_active_ratio"`  // the GPUs' mean at the interval's end; null: no GPU series
}

// scrapeSeries is a run's scrape series.
type scrapeSeries struct {
	Every  float64       `json:"every_s"`  // -scrape-interval
	Model  string        `json:"model"`    // the "model" label the figures are filtered by
	Offset float64       `json:"offset_s"` // the run's start, in seconds from the first run's
	Points []scrapePoint `json:"points"`
	// The run's mean time per request in the queue and per batch in each stage (host-to-device
	// copy, compute, device-to-host copy), in ms, from the first scrape to the last.
	Stages stageMeans `json:"stage_mean_ms"`
	// Batch items each device ran from the first scrape to the last (the device label: a GPU
	// ordinal, or "cpu"): how the load spread over the server's GPUs.
	ItemsPerDevice map[string]float64 `json:"items_per_device,omitempty"`
	SMActiveNote   string             `json:"sm_active_note,omitempty"` // why there is no SM activity
	Note           string             `json:"note,omitempty"`           // e.g. that no scrape had the model's series
	Error          string             `json:"error,omitempty"`          // the scrape that failed, ending the series
}

// scrapeSample is one scrape and when it was taken.
type scrapeSample struct {
	at   time.Time
	snap *metrics.Snapshot
}

// hasLabels reports whether labels include every pair of match.
func hasLabels(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// sumOf is the sum of the samples of that name whose labels include match, and whether there is
// one.
func sumOf(s *metrics.Snapshot, name string, match map[string]string) (float64, bool) {
	if _, ok := s.Value(name, match); !ok {
		return 0, false
	}
	return s.Sum(name, match), true
}

// counterDelta is a counter's increase from prev to cur: cur where it went back (a restarted
// server, read as Prometheus' rate() reads a reset), false where cur lacks it.
func counterDelta(prev, cur *metrics.Snapshot, name string, match map[string]string) (float64, bool) {
	c, ok := sumOf(cur, name, match)
	if !ok {
		return 0, false
	}
	p, _ := sumOf(prev, name, match)
	if c < p {
		return c, true
	}
	return c - p, true
}

// bucket is a histogram bucket: the observations up to le (cumulative).
type bucket struct{ le, count float64 }

// histogramBuckets returns a histogram's cumulative bucket counts by upper bound, summed over
// the samples whose labels include match (nil where there are none).
func histogramBuckets(s *metrics.Snapshot, name string, match map[string]string) map[float64]float64 {
	f := s.Family(name)
	if f == nil {
		return nil
	}
	var m map[float64]float64
	for _, smp := range f.Samples {
		if smp.Name != name+"_bucket" || !hasLabels(smp.Labels, match) {
			continue
		}
		le, err := strconv.ParseFloat(smp.Labels["le"], 64) // "+Inf" included
		if err != nil {
			continue
		}
		if m == nil {
			m = map[float64]float64{}
		}
		m[le] += smp.Value
	}
	return m
}

// bucketDeltas returns the buckets of the observations between two scrapes, in order of their
// bounds: cur - prev, or cur where any bucket went back (a reset).
func bucketDeltas(prev, cur map[float64]float64) []bucket {
	reset := false
	for le, c := range cur {
		if c < prev[le] {
			reset = true
		}
	}
	var out []bucket
	for le, c := range cur {
		if !reset {
			c -= prev[le]
		}
		out = append(out, bucket{le, c})
	}
	slices.SortFunc(out, func(a, b bucket) int {
		switch {
		case a.le < b.le:
			return -1
		case a.le > b.le:
			return 1
		}
		return 0
	})
	return out
}

// histogramQuantile is Prometheus' histogram_quantile over cumulative buckets sorted by bound:
// the q-quantile interpolated linearly within the bucket it falls in (from 0 in the first
// bucket), the highest finite bound where it falls in the +Inf bucket, and NaN where there are
// no observations or no +Inf bucket.
func histogramQuantile(q float64, buckets []bucket) float64 {
	n := len(buckets)
	if n < 2 || !math.IsInf(buckets[n-1].le, 1) || math.IsNaN(q) || q < 0 || q > 1 {
		return math.NaN()
	}
	// Counts that go down (a scrape between two buckets' updates) are taken as flat.
	counts := make([]float64, n)
	for i, b := range buckets {
		counts[i] = b.count
		if i > 0 {
			counts[i] = math.Max(counts[i], counts[i-1])
		}
	}
	total := counts[n-1]
	if !(total > 0) {
		return math.NaN()
	}
	rank := q * total
	b := 0
	for b < n-1 && counts[b] < rank {
		b++
	}
	switch {
	case b == n-1:
		return buckets[n-2].le
	case b == 0 && buckets[0].le <= 0:
		return buckets[0].le
	}
	start, end, count := 0.0, buckets[b].le, counts[b]
	if b > 0 {
		start = buckets[b-1].le
		count -= counts[b-1]
		rank -= counts[b-1]
	}
	if count == 0 {
		return end
	}
	return start + (end-start)*rank/count
}

// smActive is the mean of the GPUs' SM-active gauges in s, or none where there are none.
func smActive(s *metrics.Snapshot) maybe {
	f := s.Family(seriesSMActive)
	if f == nil {
		return none
	}
	sum, n := 0.0, 0
	for _, smp := range f.Samples {
		if smp.Name == seriesSMActive && !math.IsNaN(smp.Value) {
			sum += smp.Value
			n++
		}
	}
	if n == 0 {
		return none
	}
	return maybe(sum / float64(n))
}

// scrapeInterval computes the figures of the interval between two scrapes for one model; t is
// the interval's end in seconds from the run's start.
func scrapeInterval(prev, cur scrapeSample, model string, t float64) scrapePoint {
	dt := cur.at.Sub(prev.at).Seconds()
	p := scrapePoint{T: t, Interval: dt, RequestsPerSec: none, ItemsPerSec: none, P99: none, MeanBatch: none,
		SMActive: smActive(cur.snap)}
	m := map[string]string{"model": model}
	if dt > 0 {
		if d, ok := counterDelta(prev.snap, cur.snap, seriesRequests, map[string]string{"model": model, "outcome": "success"}); ok {
			p.RequestsPerSec = maybe(d / dt)
		}
		if d, ok := counterDelta(prev.snap, cur.snap, seriesInferences, m); ok {
			p.ItemsPerSec = maybe(d / dt)
		}
	}
	if cb := histogramBuckets(cur.snap, seriesDuration, m); cb != nil {
		p.P99 = maybe(histogramQuantile(0.99, bucketDeltas(histogramBuckets(prev.snap, seriesDuration, m), cb)) * 1e3)
	}
	p.MeanBatch = histogramMean(prev.snap, cur.snap, seriesBatchSize, m)
	return p
}

// stageMeans are a run's mean queue wait and stage durations, in ms (null: none in the run).
type stageMeans struct {
	Queue   maybe `json:"queue"`
	H2D     maybe `json:"h2d"`
	Compute maybe `json:"compute"`
	D2H     maybe `json:"d2h"`
	// Requests that timed out in the queue: from the deadline to the server having the result
	// (the server's own promptness, before delivery to the client), mean and p99.
	TimeoutLate    maybe `json:"timeout_lateness"`
	TimeoutLateP99 maybe `json:"timeout_lateness_p99"`
}

// histogramMean is Δ name_sum / Δ name_count between two scrapes (none where nothing was
// observed between them; a counter reset counts from 0).
func histogramMean(prev, cur *metrics.Snapshot, name string, match map[string]string) maybe {
	cs, ok1 := sumOf(cur, name+"_sum", match)
	cc, ok2 := sumOf(cur, name+"_count", match)
	if !ok1 || !ok2 {
		return none
	}
	ps, _ := sumOf(prev, name+"_sum", match)
	pc, _ := sumOf(prev, name+"_count", match)
	if cc < pc || cs < ps { // a reset
		ps, pc = 0, 0
	}
	if cc <= pc {
		return none
	}
	return maybe((cs - ps) / (cc - pc))
}

// msMean is histogramMean of a histogram in seconds, in ms.
func msMean(prev, cur *metrics.Snapshot, name string, match map[string]string) maybe {
	return histogramMean(prev, cur, name, match) * 1e3
}

// seriesFrom computes a run's scrape series from its scrapes (the first taken as the run
// starts), start being the run's start.
func seriesFrom(scrapes []scrapeSample, model string, start time.Time, every time.Duration) *scrapeSeries {
	s := &scrapeSeries{Every: every.Seconds(), Model: model, Points: []scrapePoint{},
		Stages: stageMeans{none, none, none, none, none, none}}
	for i := 1; i < len(scrapes); i++ {
		s.Points = append(s.Points, scrapeInterval(scrapes[i-1], scrapes[i], model, scrapes[i].at.Sub(start).Seconds()))
	}
	if len(scrapes) == 0 {
		return s
	}
	if n := len(scrapes); n > 1 {
		first, last := scrapes[0].snap, scrapes[n-1].snap
		stage := func(name string) maybe {
			return msMean(first, last, seriesStage, map[string]string{"model": model, "stage": name})
		}
		m := map[string]string{"model": model}
		s.Stages = stageMeans{msMean(first, last, seriesQueueWait, m),
			stage("h2d"), stage("compute"), stage("d2h"), msMean(first, last, seriesLate, m), none}
		if s.Stages.TimeoutLate.ok() {
			d := bucketDeltas(histogramBuckets(first, seriesLate, m), histogramBuckets(last, seriesLate, m))
			s.Stages.TimeoutLateP99 = maybe(histogramQuantile(0.99, d) * 1e3)
		}
		s.ItemsPerDevice = itemsPerDevice(first, last, model)
	}
	found, sm := false, false
	for _, sc := range scrapes {
		if _, ok := sc.snap.Value(seriesInferences, map[string]string{"model": model}); ok {
			found = true
		}
		if smActive(sc.snap).ok() {
			sm = true
		}
	}
	if !found {
		s.Note = fmt.Sprintf("no scrape has %s{model=%q}: is that the server's name for the model?", seriesInferences, model)
	}
	if !sm {
		last := scrapes[len(scrapes)-1].snap
		switch v, ok := last.Value(seriesNVML, nil); {
		case !ok:
			s.SMActiveNote = "no GPU series (GPU sampling off, or not a cudago server)"
		case v == 0:
			s.SMActiveNote = "no GPU series (NVML unavailable)"
		default:
			s.SMActiveNote = "no SM-active series (NVML has no GPM figures for this GPU)"
		}
	}
	return s
}

// scraper scrapes a target during a run: once as it starts, at every interval while the load
// runs, and once after the last answer.
type scraper struct {
	tg       target
	every    time.Duration
	duration time.Duration
	scrapes  []scrapeSample
	err      error
	start    time.Time
	loadDone chan struct{}
	finished chan struct{}
}

// scrapeOnce scrapes the target, the time of the scrape being the middle of the call.
func scrapeOnce(tg target) (scrapeSample, error) {
	t0 := time.Now()
	snap, err := tg.scrape(context.Background())
	t1 := time.Now()
	return scrapeSample{at: t0.Add(t1.Sub(t0) / 2), snap: snap}, err
}

// startScraper takes the first scrape; begin starts the others.
func startScraper(tg target, every, duration time.Duration) *scraper {
	sc := &scraper{tg: tg, every: every, duration: duration, loadDone: make(chan struct{}), finished: make(chan struct{})}
	s, err := scrapeOnce(tg)
	if err != nil {
		sc.err = err
	} else {
		sc.scrapes = append(sc.scrapes, s)
	}
	return sc
}

// begin scrapes at start + k×every for every k×every < duration, until the load is done.
func (sc *scraper) begin(start time.Time) {
	sc.start = start
	go func() {
		defer close(sc.finished)
		if sc.err != nil {
			return
		}
		for k := time.Duration(1); k*sc.every < sc.duration; k++ {
			slot := start.Add(k * sc.every)
			timer := time.NewTimer(time.Until(slot))
			select {
			case <-sc.loadDone:
				timer.Stop()
				if time.Now().Before(slot) { // the load ended first (an open loop's last answer)
					return
				}
			case <-timer.C:
			}
			s, err := scrapeOnce(sc.tg)
			if err != nil {
				sc.err = err
				return
			}
			sc.scrapes = append(sc.scrapes, s)
		}
	}()
}

// finish takes the last scrape, once the load is done, and returns the series.
func (sc *scraper) finish(model string) *scrapeSeries {
	close(sc.loadDone)
	<-sc.finished
	if sc.err == nil {
		if s, err := scrapeOnce(sc.tg); err != nil {
			sc.err = err
		} else {
			sc.scrapes = append(sc.scrapes, s)
		}
	}
	s := seriesFrom(sc.scrapes, model, sc.start, sc.every)
	if sc.err != nil {
		s.Error = sc.err.Error()
	}
	return s
}

// itemsPerDevice sums, by device, the growth of the model's per-instance item counters between
// two scrapes (nil when the server reports none).
func itemsPerDevice(first, last *metrics.Snapshot, model string) map[string]float64 {
	out := map[string]float64{}
	for _, f := range last.Families {
		for _, smp := range f.Samples {
			if smp.Name != seriesInstance || smp.Labels["model"] != model {
				continue
			}
			before, _ := first.Value(seriesInstance, smp.Labels)
			out[smp.Labels["device"]] += smp.Value - before
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
