// Command loadgen drives an inference server with load and reports its throughput, latency
// percentiles, errors and batch sizes: the Go API in-process (a model and a serve.Server of its
// own) or a KServe v2 HTTP server (examples/go/serve, or any server of the Open Inference
// Protocol) with binary tensor requests.
//
//	loadgen -mode inproc -model MODEL.onnx [flags]
//	loadgen -mode http -url http://127.0.0.1:8000 -name MODEL [flags]
//
// The load is a closed loop of -concurrency clients, each sending its next request when the last
// one is answered, or with -rate an open loop: requests arrive at that mean rate (a Poisson
// process) whether or not earlier ones were answered, and each one's latency counts from its
// scheduled arrival. Each request carries -items batch items of random data.
//
// It prints, for the -duration of the run: the requests sent and what became of each (ok, queue
// full, timeout, other error: every request sent is counted in exactly one), the throughput in
// requests and items per second, the latency percentiles (p50, p90, p99, max) of the requests
// that succeeded, and the batch sizes the server formed (from serve.Server.Stats in-process, from
// the statistics extension, /v2/models/NAME/stats, over HTTP).
//
// -sweep runs several levels one after the other (concurrencies, or rates with -rate) and prints
// a table; -json writes every figure, -png draws latency (p50 and p99) against throughput.
//
// During each run it scrapes the server's Prometheus metrics every -scrape-interval (default 1 s;
// 0: no scrapes): metrics.Take in-process, GET URL/metrics over HTTP (examples/go/serve serves
// it). For each interval between two scrapes it computes, from the series of the model (the
// "model" label: -name; in-process -name names the server, "loadgen" by default), the
// throughput (Δ cudago_inferences_total and Δ successful cudago_requests_total over Δt), the
// p99 request latency (histogram_quantile's interpolation over the Δ of the
// cudago_request_duration_seconds buckets: every request that finished in the interval, failed
// ones included), the mean batch size (Δ cudago_batch_size_sum / Δ _count) and the GPUs' mean
// cudago_gpu_sm_active_ratio at the interval's end (absent without NVML or GPM). The report
// prints them as a table after each run, -json holds them (null for a figure an interval lacks),
// and -timeseries-png PREFIX draws each over time into PREFIX-throughput.png, PREFIX-p99.png,
// PREFIX-batch.png and PREFIX-sm-active.png (a sweep's runs one after the other on one time
// axis). In-process, scraping also sets the GPU sampler's interval to the scrape interval where
// that is under a second. A failed scrape ends the run's series (the error is reported), not
// the run.
//
// From the repository's build directory, with a model that scripts/gen-models.py generated:
//
//	meson devenv -C build --workdir examples/go go run ./loadgen -mode inproc \
//		-model ../../build/tests/nn/models/conv_bn_k3_c13_13x11.onnx -max-queue-delay 1ms \
//		-sweep 1,2,4,8,16 -duration 3s -png /tmp/latency.png -timeseries-png /tmp/loadgen
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cudago/cudago/examples/go/internal/cli"
	"github.com/cudago/cudago/go/nn"
	"github.com/cudago/cudago/go/serve"
)

func main() {
	cli.Main("loadgen", "loadgen -mode inproc -model FILE | -mode http -url URL -name MODEL [flags] (loadgen -h lists the flags)", func() error { return run(os.Args[1:], os.Stdout) })
}

// usageError is a mistake on the command line: main follows it with a line of usage.
type usageError = cli.UsageError

// config is what the command line asks for.
type config struct {
	mode                string
	model, url, name    string
	backend             nn.Backend
	precision           nn.Precision
	uint8               bool
	maxBatch            int
	batcher             serve.Config
	concurrency         int
	rate                float64
	duration, warmup    time.Duration
	timeout             time.Duration
	items               int
	maxOutstanding      int
	sweep               []float64
	jsonFile, pngFile   string
	pngWidth, pngHeight int
	scrapeInterval      time.Duration
	timeseriesPrefix    string
	seed                uint64
}

// floatList parses "1,2,4" into v.
func floatList(s string, v *[]float64) error {
	*v = nil
	for _, f := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(x > 0) || x > 1e9 {
			return fmt.Errorf("%q: want comma-separated positive numbers", s)
		}
		*v = append(*v, x)
	}
	return nil
}

func newFlags(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&c.mode, "mode", "inproc", "what to drive, `inproc|http`: a serve.Server in this process, or a KServe v2 HTTP server")
	fs.StringVar(&c.model, "model", "", "inproc: the ONNX model `file`")
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8000", "http: the server's base `URL`")
	fs.StringVar(&c.name, "name", "", "http: the model's `name` on the server (required); inproc: the server's name, the \"model\" label of its metrics (default \""+defaultInprocName+"\")")
	cli.BackendFlag(fs, &c.backend, "inproc: ")
	cli.PrecisionFlag(fs, &c.precision, "inproc: ")
	cli.Uint8Flag(fs, &c.uint8, "inproc: ")
	cli.BatcherFlags(fs, &c.batcher, &c.maxBatch, "inproc: ")
	fs.IntVar(&c.concurrency, "concurrency", 4, "closed loop: the `clients`, each with one request at a time")
	fs.Float64Var(&c.rate, "rate", 0, "open loop: the mean arrival `rate` in requests per second (Poisson); 0: closed loop")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long each run sends requests (`duration`)")
	fs.DurationVar(&c.warmup, "warmup", 0, "a first run of this `duration` whose figures are dropped")
	fs.DurationVar(&c.timeout, "timeout", 0, "each request's deadline (`duration`; 0: none, though an HTTP request gives up after a minute); over HTTP it is sent as the \"timeout\" parameter too")
	fs.IntVar(&c.items, "items", 1, "batch `items` per request")
	fs.IntVar(&c.maxOutstanding, "max-outstanding", 10000, "open loop: the most `requests` in flight; arrivals past it are skipped (and counted as such), not sent")
	fs.Func("sweep", "run once per `level`, comma-separated: concurrencies, or rates in requests per second with -rate", func(s string) error {
		return floatList(s, &c.sweep)
	})
	fs.StringVar(&c.jsonFile, "json", "", "write the figures to this JSON `file`")
	fs.StringVar(&c.pngFile, "png", "", "draw latency (p50, p99) against throughput into this PNG `file`")
	fs.IntVar(&c.pngWidth, "png-width", 800, "the PNG's width in `pixels`")
	fs.IntVar(&c.pngHeight, "png-height", 500, "the PNG's height in `pixels`")
	fs.DurationVar(&c.scrapeInterval, "scrape-interval", time.Second, "scrape the server's metrics this often during each run (`interval`; 0: never) for the scrape series")
	fs.StringVar(&c.timeseriesPrefix, "timeseries-png", "", "draw the scrape series over time into `PREFIX`-throughput.png, -p99.png, -batch.png and -sm-active.png")
	fs.Uint64Var(&c.seed, "seed", 1, "the random inputs' and arrivals' `seed`")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: loadgen -mode inproc -model FILE | -mode http -url URL -name MODEL [flags]")
		fmt.Fprintln(w, "\nDrives an inference server with load and reports throughput, latency, errors and batch sizes.\n\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

func parseArgs(args []string) (config, error) {
	var c config
	fs := newFlags(&c)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, usageError{Msg: err.Error()}
	}
	switch {
	case fs.NArg() > 0:
		return c, usageError{Msg: fmt.Sprintf("unexpected arguments %q", fs.Args())}
	case c.mode != "inproc" && c.mode != "http":
		return c, usageError{Msg: fmt.Sprintf("-mode %q: want inproc or http", c.mode)}
	case c.mode == "inproc" && c.model == "":
		return c, usageError{Msg: "-mode inproc needs -model FILE"}
	case c.mode == "http" && c.name == "":
		return c, usageError{Msg: "-mode http needs -name MODEL"}
	case c.concurrency < 1 || c.concurrency > 100000:
		return c, usageError{Msg: fmt.Sprintf("-concurrency %d: want 1 to 100000", c.concurrency)}
	case c.rate < 0 || c.rate > 1e9:
		return c, usageError{Msg: fmt.Sprintf("-rate %g: want 0 (closed loop) or a positive rate", c.rate)}
	case c.duration <= 0:
		return c, usageError{Msg: fmt.Sprintf("-duration %v: want a positive duration", c.duration)}
	case c.warmup < 0 || c.timeout < 0:
		return c, usageError{Msg: "-warmup and -timeout may not be negative"}
	case c.items < 1:
		return c, usageError{Msg: fmt.Sprintf("-items %d: want at least 1", c.items)}
	case c.maxBatch < 1:
		return c, usageError{Msg: fmt.Sprintf("-max-batch %d: want at least 1", c.maxBatch)}
	case c.maxOutstanding < 1:
		return c, usageError{Msg: fmt.Sprintf("-max-outstanding %d: want at least 1", c.maxOutstanding)}
	case c.pngWidth < 200 || c.pngHeight < 150 || c.pngWidth > 8000 || c.pngHeight > 8000:
		return c, usageError{Msg: fmt.Sprintf("-png-width %d -png-height %d: want 200x150 to 8000x8000", c.pngWidth, c.pngHeight)}
	case c.scrapeInterval != 0 && (c.scrapeInterval < 10*time.Millisecond || c.scrapeInterval > time.Hour):
		return c, usageError{Msg: fmt.Sprintf("-scrape-interval %v: want 0 (no scrapes) or 10ms to 1h", c.scrapeInterval)}
	case c.timeseriesPrefix != "" && c.scrapeInterval == 0:
		return c, usageError{Msg: "-timeseries-png needs scrapes: -scrape-interval may not be 0"}
	}
	if c.rate == 0 {
		for _, v := range c.sweep {
			if v != float64(int(v)) {
				return c, usageError{Msg: fmt.Sprintf("-sweep %v: concurrencies must be integers (give -rate for rates)", v)}
			}
		}
	}
	return c, nil
}

// report is what -json writes.
type report struct {
	Target string      `json:"target"`
	Mode   string      `json:"mode"`
	Model  string      `json:"model"`
	Items  int         `json:"items_per_request"`
	Loop   string      `json:"loop"`
	Runs   []runResult `json:"runs"`
}

func run(args []string, stdout io.Writer) error {
	c, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fs := newFlags(&config{})
		fs.SetOutput(stdout)
		fs.Usage()
		return nil
	}
	if err != nil {
		return err
	}
	var tg target
	if c.mode == "inproc" {
		tg, err = newInprocTarget(c)
	} else {
		tg, err = newHTTPTarget(c)
	}
	if err != nil {
		return err
	}
	defer tg.close()
	loop := "closed"
	if c.rate > 0 {
		loop = "open (Poisson)"
	}
	fmt.Fprintf(stdout, "target: %s\n", tg.describe())
	fmt.Fprintf(stdout, "load: %s loop, %d items per request, %v per run\n", loop, c.items, c.duration)
	if c.warmup > 0 {
		wc := c
		wc.scrapeInterval = 0
		if _, err := runLoad(tg, wc, level(c), c.warmup, c.seed+1000); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	levels := c.sweep
	if levels == nil {
		levels = []float64{level(c)}
	}
	rep := report{Target: tg.describe(), Mode: c.mode, Model: tg.modelName(), Items: c.items, Loop: loop}
	var first time.Time // the first run's start, the scrape series' time 0
	for i, lv := range levels {
		r, err := runLoad(tg, c, lv, c.duration, c.seed+uint64(i))
		if err != nil {
			return err
		}
		if i == 0 {
			first = r.started
		}
		if r.Scrape != nil {
			r.Scrape.Offset = r.started.Sub(first).Seconds()
		}
		rep.Runs = append(rep.Runs, r)
		if len(levels) == 1 {
			printRun(stdout, r)
			printScrapes(stdout, r.Scrape)
		}
	}
	if len(levels) > 1 {
		printTable(stdout, rep.Runs, c.rate > 0)
		for _, r := range rep.Runs {
			if r.Scrape != nil {
				lv := fmt.Sprintf("concurrency %d", r.Concurrency)
				if r.Rate > 0 {
					lv = fmt.Sprintf("rate %g", r.Rate)
				}
				fmt.Fprintf(stdout, "\n%s: ", lv)
				printScrapes(stdout, r.Scrape)
			}
		}
	}
	if c.jsonFile != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.jsonFile, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	title := fmt.Sprintf("%s %s, %s loop, %d items/request", c.mode, tg.modelName(), loop, c.items)
	if c.timeseriesPrefix != "" {
		if _, err := writeTimeseries(c.timeseriesPrefix, rep.Runs, title, c.items, c.pngWidth, c.pngHeight); err != nil {
			return err
		}
	}
	if c.pngFile != "" {
		f, err := os.Create(c.pngFile)
		if err != nil {
			return err
		}
		if err := writePlot(f, rep.Runs, title, c.pngWidth, c.pngHeight); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// level is the load level of a run without -sweep: the rate, or the concurrency.
func level(c config) float64 {
	if c.rate > 0 {
		return c.rate
	}
	return float64(c.concurrency)
}

// ms formats a duration in milliseconds.
func ms(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) + " ms" }

func printRun(w io.Writer, r runResult) {
	if r.Rate > 0 {
		fmt.Fprintf(w, "offered: %.1f req/s; %d arrivals skipped (over -max-outstanding)\n", r.Rate, r.Skipped)
	} else {
		fmt.Fprintf(w, "concurrency: %d\n", r.Concurrency)
	}
	fmt.Fprintf(w, "requests: %d sent in %.2f s: %d ok, %d queue full, %d timeout, %d other errors\n",
		r.Submitted, r.Seconds, r.OK, r.QueueFull, r.Timeout, r.Other)
	for _, k := range []string{"queue_full", "timeout", "other"} {
		if m := r.FirstErrors[k]; m != "" {
			fmt.Fprintf(w, "  first %s error: %s\n", strings.ReplaceAll(k, "_", " "), m)
		}
	}
	fmt.Fprintf(w, "throughput: %.1f req/s, %.1f items/s\n", r.RequestsPerSec, r.ItemsPerSec)
	l := r.Latency
	if r.OK > 0 {
		fmt.Fprintf(w, "latency: p50 %s, p90 %s, p99 %s, max %s, mean %s\n", ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), ms(l.Mean))
	}
	if l := r.ServerLatency; l != nil {
		fmt.Fprintf(w, "server's own time (submission to result): p50 %s, p90 %s, p99 %s, max %s, mean %s\n",
			ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), ms(l.Mean))
	}
	if t := r.TimeoutLateness; t != nil {
		fmt.Fprintf(w, "timed-out requests answered after their deadline by: p50 %s, p99 %s, max %s\n", ms(t.P50), ms(t.P99), ms(t.Max))
	}
	if r.BatchHistogram == nil {
		fmt.Fprintln(w, "batches: not reported by the server")
		return
	}
	fmt.Fprintf(w, "batches: %d, mean size %.2f; size:count", r.Batches, r.MeanBatch)
	for b, n := range r.BatchHistogram {
		if n > 0 {
			fmt.Fprintf(w, " %d:%d", b, n)
		}
	}
	fmt.Fprintln(w)
}

func printTable(w io.Writer, runs []runResult, open bool) {
	head := "concurrency"
	if open {
		head = "rate"
	}
	fmt.Fprintf(w, "%11s %10s %10s %9s %9s %9s %9s %8s %8s %8s %8s %7s\n", head, "req/s", "items/s",
		"p50 ms", "p90 ms", "p99 ms", "max ms", "ok", "qfull", "timeout", "other", "batch")
	for _, r := range runs {
		lv := strconv.Itoa(r.Concurrency)
		if open {
			lv = strconv.FormatFloat(r.Rate, 'g', 6, 64)
		}
		batch := "n/a"
		if r.BatchHistogram != nil {
			batch = strconv.FormatFloat(r.MeanBatch, 'f', 2, 64)
		}
		fmt.Fprintf(w, "%11s %10.1f %10.1f %9.3f %9.3f %9.3f %9.3f %8d %8d %8d %8d %7s\n", lv, r.RequestsPerSec,
			r.ItemsPerSec, r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.OK, r.QueueFull,
			r.Timeout, r.Other, batch)
	}
}

// printScrapes prints a run's scrape series as a table: each interval's end (seconds from the
// run's start), throughput, p99 latency, mean batch size and SM activity.
func printScrapes(w io.Writer, s *scrapeSeries) {
	if s == nil {
		return
	}
	every := time.Duration(s.Every * float64(time.Second))
	if len(s.Points) == 0 {
		fmt.Fprintf(w, "scrapes every %v: none: %s\n", every, s.Error)
		return
	}
	fmt.Fprintf(w, "scrapes every %v of model %q, %d intervals:\n", every, s.Model, len(s.Points))
	fmt.Fprintf(w, "%8s %10s %10s %9s %7s %9s\n", "t s", "req/s", "items/s", "p99 ms", "batch", "sm-active")
	f := func(v maybe, prec int) string {
		if !v.ok() {
			return "n/a"
		}
		return strconv.FormatFloat(float64(v), 'f', prec, 64)
	}
	for _, p := range s.Points {
		fmt.Fprintf(w, "%8.3f %10s %10s %9s %7s %9s\n", p.T, f(p.RequestsPerSec, 1), f(p.ItemsPerSec, 1), f(p.P99, 3),
			f(p.MeanBatch, 2), f(p.SMActive, 3))
	}
	if st := s.Stages; st.Queue.ok() || st.Compute.ok() {
		fmt.Fprintf(w, "mean ms over the run: queue wait %s per request; per batch h2d %s, compute %s, d2h %s\n",
			f(st.Queue, 3), f(st.H2D, 3), f(st.Compute, 3), f(st.D2H, 3))
	}
	if len(s.ItemsPerDevice) > 0 {
		devs := make([]string, 0, len(s.ItemsPerDevice))
		total := 0.0
		for d, n := range s.ItemsPerDevice {
			devs = append(devs, d)
			total += n
		}
		sort.Strings(devs)
		fmt.Fprint(w, "items per device over the run:")
		for _, d := range devs {
			n := s.ItemsPerDevice[d]
			share := 0.0
			if total > 0 {
				share = 100 * n / total
			}
			fmt.Fprintf(w, " %s: %.0f (%.1f%%)", d, n, share)
		}
		fmt.Fprintln(w)
	}
	if st := s.Stages; st.TimeoutLate.ok() {
		fmt.Fprintf(w, "server side: timed-out requests' results ready after their deadline by: mean %s ms, p99 %s ms\n",
			f(st.TimeoutLate, 3), f(st.TimeoutLateP99, 3))
	}
	if s.SMActiveNote != "" {
		fmt.Fprintf(w, "sm-active: %s\n", s.SMActiveNote)
	}
	if s.Note != "" {
		fmt.Fprintf(w, "scrapes: %s\n", s.Note)
	}
	if s.Error != "" {
		fmt.Fprintf(w, "scrapes stopped: %s\n", s.Error)
	}
}
