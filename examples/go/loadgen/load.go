package main

// The load: closed or open loop over a target, every request counted once by its outcome.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/cudago/cudago/go/metrics"
)

// kind is the outcome of a request.
type kind int

const (
	kindOK kind = iota
	kindQueueFull
	kindTimeout
	kindOther
	numKinds
)

var kindNames = [numKinds]string{"ok", "queue_full", "timeout", "other"}

// target is what the load drives.
type target interface {
	// send sends one request, with -timeout as its deadline, and returns its outcome (and the
	// error, for kinds other than ok).
	// send sends one request and waits for its answer; server is the server's own time for it
	// (submission to result ready, from the result), or 0 where the target does not report it.
	send(ctx context.Context) (k kind, server time.Duration, err error)
	// batchHistogram returns the server's batch-size histogram so far ([b]: batches of b
	// items), or nil where the server does not report it.
	batchHistogram() ([]uint64, error)
	// scrape returns the server's metrics now (metrics.Take in-process, GET /metrics over
	// HTTP).
	scrape(ctx context.Context) (*metrics.Snapshot, error)
	// metricsModel is the model's "model" label in the server's metrics.
	metricsModel() string
	describe() string
	modelName() string
	close() error
}

// latency holds percentiles of the successful requests' latencies, in milliseconds.
type latency struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// runResult holds the figures of one run.
type runResult struct {
	Concurrency    int               `json:"concurrency,omitempty"`
	Rate           float64           `json:"rate,omitempty"` // offered, requests per second
	Seconds        float64           `json:"seconds"`        // from the first request to the last answer
	Submitted      uint64            `json:"submitted"`
	OK             uint64            `json:"ok"`
	QueueFull      uint64            `json:"queue_full"`
	Timeout        uint64            `json:"timeout"`
	Other          uint64            `json:"other"`
	Skipped        uint64            `json:"skipped,omitempty"` // open loop: arrivals not sent
	FirstErrors    map[string]string `json:"first_errors,omitempty"`
	RequestsPerSec float64           `json:"requests_per_sec"` // successful
	ItemsPerSec    float64           `json:"items_per_sec"`
	Latency        latency           `json:"latency"`
	// With -timeout: how long after its deadline each timed-out request was answered (the time
	// from its send to its answer, less the timeout; the deadline is set a few microseconds
	// after the send starts, so this bounds the lateness from above). Absent without timeouts.
	TimeoutLateness *latency `json:"timeout_lateness,omitempty"`
	// The server's own time for each successful request (submission to result ready, from its
	// result): the latency less the client's side (its goroutine's scheduling, the Go hand-off).
	// In-process only; absent over HTTP.
	ServerLatency  *latency      `json:"server_latency,omitempty"`
	Batches        uint64        `json:"batches"`
	MeanBatch      float64       `json:"mean_batch_size"`
	BatchHistogram []uint64      `json:"batch_histogram"`  // [b]: batches of b items in this run; null: not reported
	Scrape         *scrapeSeries `json:"scrape,omitempty"` // the server's metrics over the run; absent: -scrape-interval 0
	started        time.Time     // when the load began
}

// recorder collects the outcomes of a run's requests.
type recorder struct {
	mu        sync.Mutex
	submitted uint64
	counts    [numKinds]uint64
	first     [numKinds]string
	lat       []time.Duration
	server    []time.Duration // the server's own time of the successful requests that report it
	timeout   time.Duration   // the requests' deadline (-timeout; 0: none)
	late      []time.Duration // timed-out requests: time in flight - timeout
}

func (r *recorder) sent() {
	r.mu.Lock()
	r.submitted++
	r.mu.Unlock()
}

// done records a request's outcome: d its latency (from its scheduled arrival), inFlight the
// time from its send to its answer.
func (r *recorder) done(k kind, err error, d, inFlight, server time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[k]++
	if k == kindOK {
		r.lat = append(r.lat, d)
		if server > 0 {
			r.server = append(r.server, server)
		}
	} else if k == kindTimeout && r.timeout > 0 {
		r.late = append(r.late, inFlight-r.timeout)
	}
	if k != kindOK && r.first[k] == "" && err != nil {
		r.first[k] = err.Error()
	}
}

// summarize sorts ds (not empty) and returns their percentiles, maximum and mean in ms.
func summarize(ds []time.Duration) latency {
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return latency{P50: percentile(ds, 50), P90: percentile(ds, 90), P99: percentile(ds, 99),
		Max: float64(ds[len(ds)-1]) / 1e6, Mean: float64(sum) / float64(len(ds)) / 1e6}
}

// percentile is the p-th percentile (nearest rank) of sorted durations, in milliseconds.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return float64(sorted[min(max(i, 0), len(sorted)-1)]) / 1e6
}

// runLoad runs one level of load (a concurrency, or a rate with -rate) for the duration and
// returns its figures, with the scrape series every c.scrapeInterval (0: none). Every request
// sent is counted in exactly one outcome: it fails if not.
func runLoad(tg target, c config, lv float64, duration time.Duration, seed uint64) (runResult, error) {
	before, err := tg.batchHistogram()
	if err != nil {
		return runResult{}, fmt.Errorf("batch statistics: %w", err)
	}
	rec := &recorder{timeout: c.timeout}
	one := func(scheduled time.Time) {
		sent := time.Now() // the request's deadline is -timeout from about now
		k, server, err := tg.send(context.Background())
		now := time.Now()
		rec.done(k, err, now.Sub(scheduled), now.Sub(sent), server)
	}
	res := runResult{}
	var sc *scraper
	if c.scrapeInterval > 0 {
		sc = startScraper(tg, c.scrapeInterval, duration)
	}
	start := time.Now()
	res.started = start
	if sc != nil {
		sc.begin(start)
	}
	end := start.Add(duration)
	var wg sync.WaitGroup
	if c.rate > 0 {
		res.Rate = lv
		rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
		outstanding := make(chan struct{}, c.maxOutstanding)
		next := start
		for {
			next = next.Add(time.Duration(rng.ExpFloat64() / lv * float64(time.Second)))
			if !next.Before(end) {
				break
			}
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			select {
			case outstanding <- struct{}{}:
			default:
				res.Skipped++
				continue
			}
			rec.sent()
			wg.Add(1)
			go func(at time.Time) {
				defer wg.Done()
				one(at)
				<-outstanding
			}(next)
		}
	} else {
		res.Concurrency = int(lv)
		for range res.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(end) {
					rec.sent()
					one(time.Now())
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	if sc != nil {
		res.Scrape = sc.finish(tg.metricsModel())
	}

	after, err := tg.batchHistogram()
	if err != nil {
		return runResult{}, fmt.Errorf("batch statistics: %w", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	res.Seconds = elapsed.Seconds()
	res.Submitted = rec.submitted
	res.OK, res.QueueFull, res.Timeout, res.Other = rec.counts[kindOK], rec.counts[kindQueueFull],
		rec.counts[kindTimeout], rec.counts[kindOther]
	if sum := res.OK + res.QueueFull + res.Timeout + res.Other; sum != res.Submitted {
		return res, fmt.Errorf("accounting: %d requests sent, %d outcomes", res.Submitted, sum)
	}
	for k := kindQueueFull; k < numKinds; k++ {
		if rec.first[k] != "" {
			if res.FirstErrors == nil {
				res.FirstErrors = map[string]string{}
			}
			res.FirstErrors[kindNames[k]] = rec.first[k]
		}
	}
	res.RequestsPerSec = float64(res.OK) / res.Seconds
	res.ItemsPerSec = res.RequestsPerSec * float64(c.items)
	if len(rec.lat) > 0 {
		res.Latency = summarize(rec.lat)
	}
	if len(rec.late) > 0 {
		l := summarize(rec.late)
		res.TimeoutLateness = &l
	}
	if len(rec.server) > 0 {
		l := summarize(rec.server)
		res.ServerLatency = &l
	}
	if after != nil {
		res.BatchHistogram = make([]uint64, len(after))
		items := uint64(0)
		for b, n := range after {
			if b < len(before) && before[b] <= n {
				n -= before[b]
			}
			res.BatchHistogram[b] = n
			res.Batches += n
			items += n * uint64(b)
		}
		if res.Batches > 0 {
			res.MeanBatch = float64(items) / float64(res.Batches)
		}
	}
	return res, nil
}
