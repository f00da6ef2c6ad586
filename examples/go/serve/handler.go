package main

// The Open Inference Protocol (KServe v2) endpoints of one model, as an http.Handler: health,
// server and model metadata, Triton's model configuration and statistics extensions, and infer
// with JSON tensors or the binary tensor data extension.

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/nn"
	"github.com/cudago/cudago/go/serve"
)

const (
	// modelVersion is the one version of the model a server has.
	modelVersion = "1"
	// headerLength is the binary tensor data extension's header: the length of the JSON part
	// of a body whose tensors follow it as raw bytes.
	headerLength = "Inference-Header-Content-Length"
	// serverName is what /v2 calls the server.
	serverName = "cudago"
)

// extensions are the protocol extensions /v2 lists.
var extensions = []string{"binary_tensor_data", "model_configuration", "statistics"}

// handlerConfig is what the handler needs besides the model and its server.
type handlerConfig struct {
	// Name is the model's name in the URLs.
	Name string
	// MaxBodyBytes bounds an infer request's body (after decompression): past it, 413.
	MaxBodyBytes int64
	// Batcher is the server's configuration, reported by /config.
	Batcher serve.Config
	// Metrics, when not nil, serves GET /metrics (the Prometheus exposition).
	Metrics http.Handler
}

// handler serves one model. Make it with newHandler.
type handler struct {
	mux     *http.ServeMux
	name    string
	srv     *serve.Server
	info    nn.Info
	ins     []nn.TensorInfo
	outs    []nn.TensorInfo
	batch   int // the most items a request may have
	cfg     handlerConfig
	ready   atomic.Bool
	counter statsCounter
}

// statsCounter holds the per-request figures of the statistics extension.
type statsCounter struct {
	mu                                     sync.Mutex
	success, fail                          duration
	queue, computeInput, computeInfer, out duration
	last                                   time.Time
}

// duration is a count and the nanoseconds of them all, as Triton's statistics give them.
type duration struct {
	Count uint64 `json:"count"`
	NS    uint64 `json:"ns"`
}

func (d *duration) add(t time.Duration) {
	d.Count++
	if t > 0 {
		d.NS += uint64(t)
	}
}

// newHandler returns the protocol's endpoints for the model m, served through srv, under the
// name cfg.Name. It is ready at once; setReady(false) makes it refuse inferences (503) and
// report not ready, as a server does while it shuts down.
func newHandler(m *nn.Model, srv *serve.Server, cfg handlerConfig) *handler {
	h := &handler{
		mux:   http.NewServeMux(),
		name:  cfg.Name,
		srv:   srv,
		info:  m.Info(),
		ins:   m.Inputs(),
		outs:  m.Outputs(),
		batch: srv.MaxBatchSize(),
		cfg:   cfg,
	}
	h.ready.Store(true)
	h.route("GET", "/v2/health/live", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	h.route("GET", "/v2/health/ready", func(w http.ResponseWriter, r *http.Request) {
		if !h.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	h.route("GET", "/v2", h.serverMetadata)
	h.route("GET", "/v2/models/stats", h.modelStats) // every model's, Triton's /v2/models/stats: this one
	for _, base := range []string{"/v2/models/{model}", "/v2/models/{model}/versions/{version}"} {
		h.route("GET", base, h.withModel(h.modelMetadata))
		h.route("GET", base+"/ready", h.withModel(h.modelReady))
		h.route("GET", base+"/config", h.withModel(h.modelConfig))
		h.route("GET", base+"/stats", h.withModel(h.modelStats))
		h.route("POST", base+"/infer", h.withModel(h.infer))
	}
	// The Prometheus exposition (go/metrics), when the configuration carries its handler.
	if cfg.Metrics != nil {
		h.route("GET", "/metrics", cfg.Metrics.ServeHTTP)
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// setReady says whether the server takes inferences.
func (h *handler) setReady(ready bool) { h.ready.Store(ready) }

// route registers f for the path, answering other methods than method (and HEAD for GET) with
// 405 and a JSON error.
func (h *handler) route(method, path string, f http.HandlerFunc) {
	h.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == "GET" && r.Method == "HEAD") {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, method))
			return
		}
		f(w, r)
	})
}

// withModel answers 404 unless the path names this model (and its version, if any).
func (h *handler) withModel(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if name := r.PathValue("model"); name != h.name {
			writeError(w, http.StatusNotFound, fmt.Sprintf("unknown model %q (this server has %q)", name, h.name))
			return
		}
		if v := r.PathValue("version"); v != "" && v != modelVersion {
			writeError(w, http.StatusNotFound, fmt.Sprintf("model %q has no version %q (it has %q)", h.name, v, modelVersion))
			return
		}
		f(w, r)
	}
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// writeError answers code with the protocol's error body, {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	body, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}

// datatype is a tensor's datatype in the protocol ("FP32", "UINT8").
func datatype(d nn.DType) string {
	if d == nn.U8 {
		return "UINT8"
	}
	return "FP32"
}

// perItem is how much the batch axis of t grows per batch item (1, or k where an output merges
// the batch with another axis), or 0 where t has no batch axis.
func (h *handler) perItem(t nn.TensorInfo) int {
	if t.BatchAxis < 0 || t.BatchAxis >= len(t.Dims) || h.info.MaxBatch < 1 {
		return 0
	}
	return max(t.Dims[t.BatchAxis]/h.info.MaxBatch, 1)
}

// shapeAt is t's shape at n batch items: the batch axis n (times its per-item factor), or -1
// where n is 0 (metadata's variable dimension).
func (h *handler) shapeAt(t nn.TensorInfo, n int) []int {
	s := append([]int(nil), t.Dims...)
	if k := h.perItem(t); k > 0 {
		s[t.BatchAxis] = -1
		if n > 0 {
			s[t.BatchAxis] = k * n
		}
	}
	return s
}

type tensorMetadata struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

func (h *handler) serverMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"name": serverName, "version": cudago.Version(), "extensions": extensions})
}

func (h *handler) modelMetadata(w http.ResponseWriter, r *http.Request) {
	md := func(ts []nn.TensorInfo) []tensorMetadata {
		out := make([]tensorMetadata, len(ts))
		for i, t := range ts {
			out[i] = tensorMetadata{t.Name, datatype(t.DType), h.shapeAt(t, 0)}
		}
		return out
	}
	writeJSON(w, map[string]any{
		"name":     h.name,
		"versions": []string{modelVersion},
		"platform": "onnx",
		"inputs":   md(h.ins),
		"outputs":  md(h.outs),
	})
}

func (h *handler) modelReady(w http.ResponseWriter, r *http.Request) {
	if !h.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

type configTensor struct {
	Name     string `json:"name"`
	DataType string `json:"data_type"`
	Dims     []int  `json:"dims"`
}

// modelConfig answers a minimal Triton model configuration: enough for tritonclient and for
// perf_analyzer, which needs max_batch_size, the tensors and the scheduler.
func (h *handler) modelConfig(w http.ResponseWriter, r *http.Request) {
	batched := h.info.DynamicBatch
	tensors := func(ts []nn.TensorInfo) []configTensor {
		out := make([]configTensor, len(ts))
		for i, t := range ts {
			dims := h.shapeAt(t, 0)
			if batched && t.BatchAxis == 0 && h.perItem(t) == 1 {
				dims = dims[1:] // Triton's dims leave the batch dimension out
			}
			out[i] = configTensor{t.Name, "TYPE_" + datatype(t.DType), dims}
		}
		return out
	}
	maxBatch := 0 // Triton's "no batching": the shapes are whole
	if batched {
		maxBatch = h.batch
	}
	preferred := h.cfg.Batcher.PreferredBatchSizes
	if preferred == nil {
		preferred = []int{}
	}
	kind, instances := "KIND_CPU", h.cfg.Batcher.InstancesPerDevice
	group := map[string]any{"kind": kind}
	if h.info.Backend == nn.GPU {
		kind = "KIND_GPU"
		if instances == 0 {
			instances = 2
		}
		devices := h.cfg.Batcher.Devices
		if devices == nil {
			devices = []int{h.info.Device}
		}
		group = map[string]any{"kind": kind, "gpus": devices}
	} else if instances == 0 {
		instances = 1
	}
	group["count"] = instances
	writeJSON(w, map[string]any{
		"name":           h.name,
		"platform":       "onnxruntime_onnx",
		"backend":        "cudago",
		"max_batch_size": maxBatch,
		"input":          tensors(h.ins),
		"output":         tensors(h.outs),
		"dynamic_batching": map[string]any{
			"max_queue_delay_microseconds": h.cfg.Batcher.MaxQueueDelay.Microseconds(),
			"preferred_batch_size":         preferred,
			"preserve_ordering":            h.cfg.Batcher.PreserveOrdering,
			"priority_levels":              h.cfg.Batcher.PriorityLevels,
			"default_priority_level":       h.cfg.Batcher.DefaultPriority,
			"default_queue_policy": map[string]any{
				"default_timeout_microseconds": h.cfg.Batcher.DefaultTimeout.Microseconds(),
				"max_queue_size":               maxQueueSize(h.cfg.Batcher),
			},
		},
		"instance_group": []any{group},
	})
}

// maxQueueSize is the batcher's bound on waiting requests.
func maxQueueSize(c serve.Config) int {
	if c.MaxQueueSize == 0 {
		return 1024 // serve.Config's default
	}
	return c.MaxQueueSize
}

// batchStats is one entry of the statistics extension's batch_stats: the batches of one size.
type batchStats struct {
	BatchSize     int      `json:"batch_size"`
	ComputeInput  duration `json:"compute_input"`
	ComputeInfer  duration `json:"compute_infer"`
	ComputeOutput duration `json:"compute_output"`
}

// modelStatistics is the model's entry of the statistics extension (Triton's shape: times as
// counts and sums of nanoseconds), with the batcher's own counters under "cudago".
func (h *handler) modelStatistics() (map[string]any, error) {
	st, err := h.srv.Stats()
	if err != nil {
		return nil, err
	}
	c := &h.counter
	c.mu.Lock()
	defer c.mu.Unlock()
	var batches []batchStats
	for b, n := range st.BatchHistogram {
		if n > 0 { // counts only: the batcher times requests, not batches of each size
			d := duration{Count: n}
			batches = append(batches, batchStats{b, d, d, d})
		}
	}
	if batches == nil {
		batches = []batchStats{}
	}
	last := int64(0)
	if !c.last.IsZero() {
		last = c.last.UnixMilli()
	}
	zero := duration{}
	return map[string]any{
		"name":            h.name,
		"version":         modelVersion,
		"last_inference":  last,
		"inference_count": st.Inferences,
		"execution_count": st.Batches,
		"inference_stats": map[string]any{
			"success":        c.success,
			"fail":           c.fail,
			"queue":          c.queue,
			"compute_input":  c.computeInput,
			"compute_infer":  c.computeInfer,
			"compute_output": c.out,
			"cache_hit":      zero,
			"cache_miss":     zero,
		},
		"batch_stats": batches,
		"cudago": map[string]any{
			"submitted": st.Submitted, "rejected": st.Rejected, "completed": st.Completed,
			"succeeded": st.Succeeded, "failed": st.Failed, "timed_out": st.TimedOut,
			"cancelled": st.Cancelled, "queued": st.Queued, "in_flight": st.InFlight,
			"batches": st.Batches, "inferences": st.Inferences,
			"closed_full": st.ClosedFull, "closed_preferred": st.ClosedPreferred,
			"closed_delay": st.ClosedDelay, "closed_deadline": st.ClosedDeadline,
			"closed_shutdown": st.ClosedShutdown, "staging_bytes": st.StagingBytes,
			"max_batch_size": st.MaxBatchSize, "batch_histogram": st.BatchHistogram,
		},
	}, nil
}

func (h *handler) modelStats(w http.ResponseWriter, r *http.Request) {
	s, err := h.modelStatistics()
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	writeJSON(w, map[string]any{"model_stats": []any{s}})
}

// ---- infer ----------------------------------------------------------------------------------

// badRequest is a mistake in a request: 400 with its message.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return badRequest{fmt.Sprintf(format, args...)} }

// httpError is an error with its own status.
type httpError struct {
	code int
	msg  string
}

func (e httpError) Error() string { return e.msg }

// parameters are a request's, an input's or an output's "parameters".
type parameters map[string]json.RawMessage

// int reads an integer parameter; ok is false where it is absent.
func (p parameters) int(where, key string) (v int64, ok bool, err error) {
	raw, ok := p[key]
	if !ok || string(raw) == "null" {
		return 0, false, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, false, badf("%s: parameter %q is %s, want an integer", where, key, raw)
	}
	return v, true, nil
}

// bool reads a boolean parameter; ok is false where it is absent.
func (p parameters) bool(where, key string) (v, ok bool, err error) {
	raw, ok := p[key]
	if !ok || string(raw) == "null" {
		return false, false, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, false, badf("%s: parameter %q is %s, want true or false", where, key, raw)
	}
	return v, true, nil
}

type requestInput struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters parameters      `json:"parameters"`
	Data       json.RawMessage `json:"data"`
}

type requestOutput struct {
	Name       string     `json:"name"`
	Parameters parameters `json:"parameters"`
}

type inferRequest struct {
	ID         string          `json:"id"`
	Parameters parameters      `json:"parameters"`
	Inputs     []requestInput  `json:"inputs"`
	Outputs    []requestOutput `json:"outputs"`
}

// readBody reads an infer request's body, bounded by MaxBodyBytes (413 past it) after any
// gzip or deflate Content-Encoding.
func (h *handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := h.cfg.MaxBodyBytes
	tooLarge := httpError{http.StatusRequestEntityTooLarge,
		fmt.Sprintf("the request body is larger than %d bytes (the server's -max-body-bytes)", limit)}
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, limit)
	size := 0
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		size = int(max(r.ContentLength, 0))
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, readError(err, tooLarge, "gzip body")
		}
		body = io.LimitReader(zr, limit+1)
	case "deflate":
		zr, err := zlib.NewReader(body)
		if err != nil {
			return nil, readError(err, tooLarge, "deflate body")
		}
		body = io.LimitReader(zr, limit+1)
	default:
		return nil, httpError{http.StatusUnsupportedMediaType,
			fmt.Sprintf("Content-Encoding %q is not supported (gzip, deflate or none)", enc)}
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, readError(err, tooLarge, "request body")
	}
	if int64(buf.Len()) > limit {
		return nil, tooLarge
	}
	return buf.Bytes(), nil
}

// readError is the error of reading a body: tooLarge past the bound, else a bad request.
func readError(err error, tooLarge error, what string) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return tooLarge
	}
	return badf("reading the %s: %v", what, err)
}

// statusOf is the HTTP status of an error of the batcher or of the request.
func statusOf(err error) int {
	var he httpError
	var br badRequest
	switch {
	case errors.As(err, &he):
		return he.code
	case errors.As(err, &br), errors.Is(err, cudago.ErrInvalidArgument):
		return http.StatusBadRequest
	case errors.Is(err, cudago.ErrQueueFull), errors.Is(err, cudago.ErrUnavailable),
		errors.Is(err, cudago.ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, cudago.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, cudago.ErrCancelled), errors.Is(err, context.Canceled):
		return 499 // the client went away: nobody reads it
	}
	return http.StatusInternalServerError
}

// output is one output the response carries.
type output struct {
	index  int // in the model's outputs
	binary bool
}

// infer runs one inference request.
func (h *handler) infer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	res, req, outs, err := h.runInfer(w, r)
	h.count(start, res, err)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	h.writeResponse(w, req, res, outs)
}

// count adds a request to the statistics.
func (h *handler) count(start time.Time, res serve.Result, err error) {
	c := &h.counter
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.fail.add(now.Sub(start))
		return
	}
	c.success.add(now.Sub(start))
	c.queue.add(res.Stats.Queue)
	c.computeInput.add(res.Stats.HostToDevice)
	c.computeInfer.add(res.Stats.Compute)
	c.out.add(res.Stats.DeviceToHost)
	c.last = now
}

// runInfer reads, checks and runs a request.
func (h *handler) runInfer(w http.ResponseWriter, r *http.Request) (serve.Result, *inferRequest, []output, error) {
	if !h.ready.Load() {
		return serve.Result{}, nil, nil, httpError{http.StatusServiceUnavailable, "the server is shutting down"}
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return serve.Result{}, nil, nil, err
	}
	head, bin := body, []byte(nil)
	if s := r.Header.Get(headerLength); s != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n < 0 || n > int64(len(body)) {
			return serve.Result{}, nil, nil, badf("%s: %q is not a length within the body's %d bytes", headerLength, s, len(body))
		}
		head, bin = body[:n], body[n:]
	}
	req := new(inferRequest)
	if err := json.Unmarshal(head, req); err != nil {
		return serve.Result{}, nil, nil, badf("the request's JSON: %v", err)
	}
	inputs, items, err := h.inputs(req, bin, bin != nil)
	if err != nil {
		return serve.Result{}, req, nil, err
	}
	outs, err := h.outputs(req)
	if err != nil {
		return serve.Result{}, req, nil, err
	}
	sreq := &serve.Request{Inputs: inputs, Items: items}
	if p, ok, err := req.Parameters.int("request", "priority"); err != nil {
		return serve.Result{}, req, nil, err
	} else if ok {
		if p < 0 || p > math.MaxInt32 {
			return serve.Result{}, req, nil, badf("request: priority %d is out of range", p)
		}
		sreq.Priority = int(p)
	}
	ctx := r.Context()
	if us, ok, err := req.Parameters.int("request", "timeout"); err != nil {
		return serve.Result{}, req, nil, err
	} else if ok {
		if us <= 0 || us > int64(math.MaxInt64/time.Microsecond) {
			return serve.Result{}, req, nil, badf("request: timeout %d µs: want a positive number of microseconds", us)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(us)*time.Microsecond)
		defer cancel()
	}
	res, err := h.srv.Do(ctx, sreq)
	if err == nil {
		err = res.Err
	}
	return res, req, outs, err
}

// inputs checks the request's inputs against the model's and returns them in the model's
// order, with the request's batch items. bin is the binary part of the body (hasBin: the request
// had one), which the inputs with a binary_data_size take in the order they appear.
func (h *handler) inputs(req *inferRequest, bin []byte, hasBin bool) ([]any, int, error) {
	inputs := make([]any, len(h.ins))
	seen := make([]bool, len(h.ins))
	items := -1
	for _, in := range req.Inputs {
		i := h.inputIndex(in.Name)
		where := fmt.Sprintf("input %q", in.Name)
		if i < 0 {
			return nil, 0, badf("unknown input %q: the model's inputs are %s", in.Name, names(h.ins))
		}
		if seen[i] {
			return nil, 0, badf("%s is given twice", where)
		}
		seen[i] = true
		t := h.ins[i]
		if in.Datatype != datatype(t.DType) {
			return nil, 0, badf("%s: datatype %q, the model takes %s", where, in.Datatype, datatype(t.DType))
		}
		n, err := h.items(t, in.Shape)
		if err != nil {
			return nil, 0, badf("%s: %v", where, err)
		}
		if items >= 0 && n != items {
			return nil, 0, badf("%s: shape %s has %d batch items, another input has %d", where, fmtShape(in.Shape), n, items)
		}
		items = n
		elems, size := t.Len(n), t.Bytes(n)
		binSize, hasSize, err := in.Parameters.int(where, "binary_data_size")
		if err != nil {
			return nil, 0, err
		}
		switch {
		case hasSize && len(in.Data) > 0:
			return nil, 0, badf("%s has both data and binary_data_size", where)
		case hasSize && !hasBin:
			return nil, 0, badf("%s: binary_data_size given, but the request has no %s header", where, headerLength)
		case hasSize:
			if binSize != int64(size) {
				return nil, 0, badf("%s: binary_data_size %d, but shape %s of %s needs %d bytes", where, binSize, fmtShape(in.Shape), in.Datatype, size)
			}
			if int64(len(bin)) < binSize {
				return nil, 0, badf("%s: binary_data_size %d, but only %d bytes of binary data are left", where, binSize, len(bin))
			}
			raw := bin[:size]
			bin = bin[size:]
			if t.DType == nn.U8 {
				inputs[i] = raw
			} else {
				x := make([]float32, elems)
				for k := range x {
					x[k] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:]))
				}
				inputs[i] = x
			}
		case len(in.Data) == 0 || string(in.Data) == "null":
			return nil, 0, badf("%s has no data (neither \"data\" nor a binary_data_size parameter)", where)
		case t.DType == nn.U8:
			x, err := parseData(in.Data, elems, parseUint8)
			if err != nil {
				return nil, 0, badf("%s: %v (shape %s)", where, err, fmtShape(in.Shape))
			}
			inputs[i] = x
		default:
			x, err := parseData(in.Data, elems, parseFloat32)
			if err != nil {
				return nil, 0, badf("%s: %v (shape %s)", where, err, fmtShape(in.Shape))
			}
			inputs[i] = x
		}
	}
	for i, ok := range seen {
		if !ok {
			return nil, 0, badf("input %q is missing: the model's inputs are %s", h.ins[i].Name, names(h.ins))
		}
	}
	if len(bin) > 0 {
		return nil, 0, badf("%d bytes of binary data are left over after the inputs' binary_data_size", len(bin))
	}
	return inputs, items, nil
}

func (h *handler) inputIndex(name string) int {
	for i, t := range h.ins {
		if t.Name == name {
			return i
		}
	}
	return -1
}

// names lists the tensors' names, quoted.
func names(ts []nn.TensorInfo) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = strconv.Quote(t.Name)
	}
	return strings.Join(s, ", ")
}

// items checks a request's shape of input t and returns its batch items.
func (h *handler) items(t nn.TensorInfo, shape []int64) (int, error) {
	want := h.shapeAt(t, 0)
	if len(shape) != len(want) {
		return 0, fmt.Errorf("shape %s has %d dimensions, the model's %s has %d", fmtShape(shape), len(shape), fmtShape(want), len(want))
	}
	n := 1
	for d, v := range shape {
		if d == t.BatchAxis && want[d] == -1 {
			k := int64(h.perItem(t))
			if v < 1 || v%k != 0 || v/k > int64(h.batch) {
				return 0, fmt.Errorf("shape %s: dimension %d (the batch) is %d; want 1 to %d", fmtShape(shape), d, v, int64(h.batch)*k)
			}
			n = int(v / k)
		} else if v != int64(want[d]) {
			return 0, fmt.Errorf("shape %s: dimension %d is %d, the model's shape is %s", fmtShape(shape), d, v, fmtShape(want))
		}
	}
	return n, nil
}

// outputs returns the outputs the response carries, in the order the request names them (all
// of the model's where it names none), each binary or JSON.
func (h *handler) outputs(req *inferRequest) ([]output, error) {
	all, _, err := req.Parameters.bool("request", "binary_data_output")
	if err != nil {
		return nil, err
	}
	if len(req.Outputs) == 0 {
		outs := make([]output, len(h.outs))
		for i := range outs {
			outs[i] = output{i, all}
		}
		return outs, nil
	}
	outs := make([]output, 0, len(req.Outputs))
	seen := make(map[int]bool)
	for _, o := range req.Outputs {
		i := -1
		for j, t := range h.outs {
			if t.Name == o.Name {
				i = j
			}
		}
		if i < 0 {
			return nil, badf("unknown output %q: the model's outputs are %s", o.Name, names(h.outs))
		}
		if seen[i] {
			return nil, badf("output %q is asked for twice", o.Name)
		}
		seen[i] = true
		b, ok, err := o.Parameters.bool(fmt.Sprintf("output %q", o.Name), "binary_data")
		if err != nil {
			return nil, err
		}
		if !ok {
			b = all
		}
		outs = append(outs, output{i, b})
	}
	return outs, nil
}

// writeResponse writes the result: a JSON body, or the JSON header followed by the binary
// outputs (Inference-Header-Content-Length saying where they start).
func (h *handler) writeResponse(w http.ResponseWriter, req *inferRequest, res serve.Result, outs []output) {
	n := res.Stats.Items
	var js bytes.Buffer
	var bin [][]float32
	js.WriteString(`{"model_name":`)
	writeString(&js, h.name)
	js.WriteString(`,"model_version":"` + modelVersion + `"`)
	if req.ID != "" {
		js.WriteString(`,"id":`)
		writeString(&js, req.ID)
	}
	js.WriteString(`,"outputs":[`)
	for k, o := range outs {
		t, data := h.outs[o.index], res.Outputs[o.index]
		shape := h.shapeAt(t, n)
		if prod(shape) != len(data) {
			shape = []int{len(data)} // cannot happen: the batcher's outputs have the shape's size
		}
		if k > 0 {
			js.WriteByte(',')
		}
		js.WriteString(`{"name":`)
		writeString(&js, t.Name)
		js.WriteString(`,"datatype":"FP32","shape":[`)
		for d, v := range shape {
			if d > 0 {
				js.WriteByte(',')
			}
			js.WriteString(strconv.Itoa(v))
		}
		js.WriteByte(']')
		if o.binary {
			js.WriteString(`,"parameters":{"binary_data_size":` + strconv.Itoa(4*len(data)) + `}}`)
			bin = append(bin, data)
			continue
		}
		js.WriteString(`,"data":[`)
		b := js.AvailableBuffer()
		for i, v := range data {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendFloat(b, v)
		}
		js.Write(b)
		js.WriteString("]}")
	}
	js.WriteString("]}")
	hdr := w.Header()
	if bin == nil {
		hdr.Set("Content-Type", "application/json")
		hdr.Set("Content-Length", strconv.Itoa(js.Len()))
		w.WriteHeader(http.StatusOK)
		w.Write(js.Bytes())
		return
	}
	size := js.Len()
	for _, d := range bin {
		size += 4 * len(d)
	}
	hdr.Set("Content-Type", "application/octet-stream")
	hdr.Set(headerLength, strconv.Itoa(js.Len()))
	hdr.Set("Content-Length", strconv.Itoa(size))
	w.WriteHeader(http.StatusOK)
	out := append(make([]byte, 0, size), js.Bytes()...)
	for _, d := range bin {
		out = appendFloats(out, d)
	}
	w.Write(out)
}

// appendFloats appends the values as little-endian float32s.
func appendFloats(b []byte, v []float32) []byte {
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

// appendFloat appends a float32 as a JSON number: the shortest decimal that reads back as the
// same float32. JSON has no NaN or infinities: they are written NaN, Infinity and -Infinity, as
// Python's json module (and so tritonclient) reads them.
func appendFloat(b []byte, v float32) []byte {
	switch {
	case v != v:
		return append(b, "NaN"...)
	case math.IsInf(float64(v), 1):
		return append(b, "Infinity"...)
	case math.IsInf(float64(v), -1):
		return append(b, "-Infinity"...)
	}
	return strconv.AppendFloat(b, float64(v), 'g', -1, 32)
}

// writeString writes s as a JSON string.
func writeString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}

// fmtShape formats a shape as JSON does: [1,13,13,11].
func fmtShape[T int | int64](s []T) string {
	b := []byte{'['}
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return string(append(b, ']'))
}

func prod(s []int) int {
	p := 1
	for _, v := range s {
		p *= v
	}
	return p
}
