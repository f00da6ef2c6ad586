// Command serve serves an ONNX model over HTTP with the Open Inference Protocol (KServe v2, the
// protocol of Triton's HTTP endpoint), batching concurrent requests with cudago's dynamic
// batcher (package serve).
//
//	serve [flags] MODEL.onnx
//
// Endpoints, for the model named by -name (default: the file's name without .onnx):
//
//	GET  /v2/health/live, /v2/health/ready      200, or 503 while shutting down
//	GET  /v2                                    server metadata and extensions
//	GET  /v2/models/NAME                        model metadata: inputs and outputs, -1 for the batch
//	GET  /v2/models/NAME/ready                  200 while it takes inferences
//	GET  /v2/models/NAME/config                 a minimal Triton model configuration
//	GET  /v2/models/NAME/stats                  Triton's statistics extension, with the batch sizes
//	POST /v2/models/NAME/infer                  inference
//
// each model path also under /v2/models/NAME/versions/1/. Inference takes JSON tensors ("data"
// flat or nested) or the binary tensor data extension (the Inference-Header-Content-Length
// header: the JSON, then the raw little-endian tensors), and answers binary outputs where the
// request asks for them ("binary_data" on an output, "binary_data_output" on the request), as
// tritonclient does by default. A request's "timeout" parameter (microseconds) bounds its wait in
// the queue (-timeout otherwise), its "priority" parameter picks its priority level.
//
// Statuses: 400 for a bad request, with {"error": "..."} saying what is wrong; 404 for an
// unknown model or path; 413 for a body over -max-body-bytes; 503 when the queue is full or the
// server is shutting down; 504 when the request's deadline passed in the queue.
//
// Without a usable GPU the model runs on the CPU reference executor (correct but slow); the first
// line of output says which executor it got. SIGTERM or SIGINT stops it gracefully: it stops
// accepting, answers every request it accepted, and exits 0.
//
// From the repository's build directory, with a model that scripts/gen-models.py generated:
//
//	meson devenv -C build --workdir examples/go go run ./serve \
//		-addr 127.0.0.1:8000 ../../build/tests/nn/models/squeezenet_pt.onnx
//	curl localhost:8000/v2/models/squeezenet_pt
//
// and drive it with examples/go/loadgen or any KServe v2 client (tritonclient.http, say).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cudago/cudago/examples/go/internal/cli"
	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/metrics"
	"github.com/cudago/cudago/go/nn"
	"github.com/cudago/cudago/go/serve"
)

func main() {
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	cli.Main("serve", "serve [flags] MODEL.onnx (serve -h lists the flags)", func() error {
		return run(os.Args[1:], os.Stdout, os.Stderr, stop)
	})
}

// usageError is a mistake on the command line: main follows it with a line of usage.
type usageError = cli.UsageError

// config is what the command line asks for.
type config struct {
	model, name, addr string
	backend           nn.Backend
	precision         nn.Precision
	maxBatch          int
	uint8             bool
	batcher           serve.Config
	tritonMetrics     bool
	maxBody           int64
	drain             time.Duration
}

// newFlags returns the command's flag set, writing to c.
func newFlags(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.name, "name", "", "the model's `name` in the URLs (default: the file's name without .onnx)")
	fs.StringVar(&c.addr, "addr", ":8000", "the `host:port` to listen on (port 0: any free port, printed at start)")
	cli.BackendFlag(fs, &c.backend, "")
	cli.PrecisionFlag(fs, &c.precision, "")
	cli.BatcherFlags(fs, &c.batcher, &c.maxBatch, "")
	fs.IntVar(&c.batcher.PriorityLevels, "priority-levels", 0, "priority `levels` a request may pick with its \"priority\" parameter (0: one)")
	fs.DurationVar(&c.batcher.DefaultTimeout, "timeout", 0, "the deadline of a request that gives no \"timeout\" parameter (`duration`; 0: none): past it in the queue, 504")
	cli.Uint8Flag(fs, &c.uint8, "")
	fs.Int64Var(&c.maxBody, "max-body-bytes", 64<<20, "the largest infer request body in `bytes` (after decompression); past it, 413")
	fs.BoolVar(&c.tritonMetrics, "triton-metrics", false, "add Triton's metric names (nv_inference_*, microseconds) to /metrics, for dashboards built for Triton")
	fs.DurationVar(&c.drain, "drain-timeout", 30*time.Second, "at shutdown, how long to wait for requests in flight (`duration`)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: serve [flags] MODEL.onnx")
		fmt.Fprintln(w, "\nServes an ONNX model over HTTP with the Open Inference Protocol (KServe v2).\n\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs reads the command line. -h and -help are flag.ErrHelp; other mistakes are
// usageErrors.
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
	case fs.NArg() == 0:
		return c, usageError{Msg: "no model: give the ONNX file"}
	case fs.NArg() > 1:
		return c, usageError{Msg: fmt.Sprintf("one model only, got %d arguments", fs.NArg())}
	case c.maxBatch < 1:
		return c, usageError{Msg: fmt.Sprintf("-max-batch %d: want at least 1", c.maxBatch)}
	case c.maxBody < 1:
		return c, usageError{Msg: fmt.Sprintf("-max-body-bytes %d: want at least 1", c.maxBody)}
	case c.batcher.MaxQueueDelay < 0 || c.batcher.DefaultTimeout < 0:
		return c, usageError{Msg: "-max-queue-delay and -timeout may not be negative"}
	}
	c.model = fs.Arg(0)
	if c.name == "" {
		c.name = strings.TrimSuffix(filepath.Base(c.model), ".onnx")
	}
	if c.name == "" || strings.ContainsAny(c.name, "/?#") {
		return c, usageError{Msg: fmt.Sprintf("-name %q: want a name without /, ? or #", c.name)}
	}
	return c, nil
}

// load loads the model of c.
func load(c config) (*nn.Model, error) {
	opts := nn.Options{Backend: c.backend, Precision: c.precision, MaxBatch: c.maxBatch}
	cli.ImageInputs(&opts, c.uint8)
	m, err := nn.Load(c.model, opts)
	if err != nil {
		if errors.Is(err, cudago.ErrInvalidArgument) {
			if _, serr := os.Stat(c.model); serr != nil {
				return nil, fmt.Errorf("model: %w", serr)
			}
		}
		return nil, fmt.Errorf("model %s: %w", c.model, err)
	}
	return m, nil
}

// run is the command: args are the arguments after the program name. It serves until stop
// receives, then shuts down gracefully: it stops accepting connections, waits (up to
// -drain-timeout) for the requests in flight, drains the batcher, and returns nil. A second
// value on stop while it waits cuts the wait short.
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) error {
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
	start := time.Now()
	m, err := load(c)
	if err != nil {
		return err
	}
	defer m.Close()
	info := m.Info()
	fmt.Fprintf(stdout, "backend: %s\n", cli.DescribeBackend(info, c.backend))
	c.batcher.Name = c.name // the "model" label of its metrics
	srv, err := serve.New(m, c.batcher)
	if err != nil {
		return fmt.Errorf("batcher: %w", err)
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "model %q: %s, loaded in %.1f ms; inputs", c.name, c.model, float64(time.Since(start))/1e6)
	for _, t := range m.Inputs() {
		fmt.Fprintf(stdout, " %s", t)
	}
	fmt.Fprint(stdout, "; outputs")
	for _, t := range m.Outputs() {
		fmt.Fprintf(stdout, " %s", t)
	}
	fmt.Fprintf(stdout, "\nbatcher: max batch %d, max queue delay %v, preferred %v, max queue %d, timeout %v\n",
		srv.MaxBatchSize(), c.batcher.MaxQueueDelay, c.batcher.PreferredBatchSizes,
		maxQueueSize(c.batcher), c.batcher.DefaultTimeout)

	h := newHandler(m, srv, handlerConfig{Name: c.name, MaxBodyBytes: c.maxBody, Batcher: c.batcher,
		Metrics: metrics.Handler(metrics.Options{TritonNames: c.tritonMetrics})})
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("-addr %s: %w", c.addr, err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "listening on http://%s/v2/models/%s\n", ln.Addr(), c.name)

	select {
	case err := <-served:
		return fmt.Errorf("http: %w", err)
	case sig := <-stop:
		fmt.Fprintf(stdout, "%v: shutting down\n", sig)
	}
	h.setReady(false)
	ctx, cancel := context.WithTimeout(context.Background(), c.drain)
	defer cancel()
	go func() { // a second signal: stop waiting
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := hs.Shutdown(ctx); err != nil {
		fmt.Fprintf(stderr, "serve: requests still in flight at shutdown (%v): closing their connections\n", err)
		hs.Close()
		srv.Shutdown(true) // fail what is still queued
	}
	if err := srv.Shutdown(false); err != nil {
		return fmt.Errorf("batcher: %w", err)
	}
	if st, err := srv.Stats(); err == nil {
		fmt.Fprintf(stdout, "served %d requests (%d succeeded) in %d batches\n", st.Completed, st.Succeeded, st.Batches)
	}
	if err := srv.Close(); err != nil {
		return fmt.Errorf("batcher: %w", err)
	}
	return nil
}
