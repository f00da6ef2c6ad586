package main

// The two targets: a serve.Server in this process, and a KServe v2 HTTP server sent binary
// tensor requests.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cudago/cudago/examples/go/internal/cli"
	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/metrics"
	"github.com/cudago/cudago/go/nn"
	"github.com/cudago/cudago/go/serve"
)

// ---- in-process ---------------------------------------------------------------------------

type inprocTarget struct {
	timeout time.Duration
	m       *nn.Model
	srv     *serve.Server
	inputs  []any  // shared by every request: the server copies them during the call
	name    string // the model file's base name
	label   string // the server's name: the "model" label of its metrics
	desc    string
}

func newInprocTarget(c config) (*inprocTarget, error) {
	opts := nn.Options{Backend: c.backend, Precision: c.precision, MaxBatch: c.maxBatch}
	cli.ImageInputs(&opts, c.uint8)
	m, err := nn.Load(c.model, opts)
	if err != nil {
		if _, serr := os.Stat(c.model); serr != nil {
			return nil, fmt.Errorf("model: %w", serr)
		}
		return nil, fmt.Errorf("model %s: %w", c.model, err)
	}
	c.batcher.Name = c.name
	if c.batcher.Name == "" {
		c.batcher.Name = defaultInprocName
	}
	t0 := time.Now()
	srv, err := serve.New(m, c.batcher)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("batcher: %w", err)
	}
	started := time.Since(t0)
	t := &inprocTarget{timeout: c.timeout, m: m, srv: srv, name: strings.TrimSuffix(filepath.Base(c.model), ".onnx"),
		label: c.batcher.Name}
	if c.items > srv.MaxBatchSize() {
		t.close()
		return nil, usageError{Msg: fmt.Sprintf("-items %d: the server's max batch size is %d", c.items, srv.MaxBatchSize())}
	}
	rng := rand.New(rand.NewPCG(c.seed, 7))
	for _, in := range m.Inputs() {
		if in.DType == nn.U8 {
			b := make([]byte, in.Len(c.items))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			t.inputs = append(t.inputs, b)
			continue
		}
		x := make([]float32, in.Len(c.items))
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		t.inputs = append(t.inputs, x)
	}
	if c.scrapeInterval > 0 {
		// The GPU sampler reads NVML every second by default: where the scrapes come more
		// often, it samples as often as they come, so that each interval has its own SM
		// activity.
		if err := metrics.SetGPUInterval(max(min(c.scrapeInterval, metrics.DefaultGPUInterval), 10*time.Millisecond)); err != nil {
			t.close()
			return nil, fmt.Errorf("GPU sampling interval: %w", err)
		}
	}
	info := m.Info()
	backend := "reference executor (CPU)"
	if info.Backend == nn.GPU {
		backend = fmt.Sprintf("GPU cuda:%d, %s", info.Device, info.Precision)
	}
	t.desc = fmt.Sprintf("in-process serve.Server, model %s on the %s; max batch %d, max queue delay %v, preferred %v",
		c.model, backend, srv.MaxBatchSize(), c.batcher.MaxQueueDelay, c.batcher.PreferredBatchSizes)
	if graphs, took, err := m.Graphs(); err == nil && info.Backend == nn.GPU {
		t.desc += fmt.Sprintf("; started in %v, %d CUDA graphs captured at start (%v)",
			started.Round(time.Millisecond), graphs, took.Round(time.Millisecond))
	}
	return t, nil
}

func (t *inprocTarget) send(ctx context.Context) (kind, time.Duration, error) {
	if t.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
		defer cancel()
	}
	res, err := t.srv.Do(ctx, &serve.Request{Inputs: t.inputs})
	switch {
	case err == nil:
		return kindOK, res.Stats.Total, nil
	case errors.Is(err, cudago.ErrQueueFull):
		return kindQueueFull, 0, err
	case errors.Is(err, cudago.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return kindTimeout, 0, err
	}
	return kindOther, 0, err
}

func (t *inprocTarget) batchHistogram() ([]uint64, error) {
	st, err := t.srv.Stats()
	return st.BatchHistogram, err
}

// defaultInprocName is the in-process server's name without -name.
const defaultInprocName = "loadgen"

func (t *inprocTarget) scrape(context.Context) (*metrics.Snapshot, error) {
	return metrics.Take(metrics.Options{})
}

func (t *inprocTarget) describe() string     { return t.desc }
func (t *inprocTarget) modelName() string    { return t.name }
func (t *inprocTarget) metricsModel() string { return t.label }

func (t *inprocTarget) close() error {
	err := t.srv.Close()
	if e := t.m.Close(); err == nil {
		err = e
	}
	return err
}

// ---- HTTP -----------------------------------------------------------------------------------

type httpTarget struct {
	client  *http.Client
	base    string // the server's URL
	name    string
	infer   string // the infer URL
	stats   string // the statistics URL
	header  string // Inference-Header-Content-Length
	body    []byte // the request: the JSON, then the tensors
	timeout time.Duration
}

// tensorMetadata is an input or output in the model's metadata.
type tensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

func newHTTPTarget(c config) (*httpTarget, error) {
	base := strings.TrimSuffix(c.url, "/")
	tr := &http.Transport{
		Proxy:               nil, // the target is named directly, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: max(c.concurrency, 64),
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	if c.rate > 0 {
		tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, min(c.maxOutstanding, 1024))
	}
	t := &httpTarget{
		client:  &http.Client{Transport: tr},
		base:    base,
		name:    c.name,
		infer:   base + "/v2/models/" + c.name + "/infer",
		stats:   base + "/v2/models/" + c.name + "/stats",
		timeout: c.timeout,
	}
	var md struct {
		Inputs  []tensorMetadata `json:"inputs"`
		Outputs []tensorMetadata `json:"outputs"`
	}
	if err := t.getJSON(base+"/v2/models/"+c.name, &md); err != nil {
		return nil, fmt.Errorf("model metadata: %w", err)
	}
	if len(md.Inputs) == 0 {
		return nil, fmt.Errorf("model metadata of %q lists no inputs", c.name)
	}
	if err := t.buildRequest(md.Inputs, c); err != nil {
		return nil, err
	}
	return t, nil
}

// buildRequest makes the one request every client sends: random tensors of -items items.
func (t *httpTarget) buildRequest(inputs []tensorMetadata, c config) error {
	rng := rand.New(rand.NewPCG(c.seed, 7))
	type input struct {
		Name       string         `json:"name"`
		Shape      []int64        `json:"shape"`
		Datatype   string         `json:"datatype"`
		Parameters map[string]int `json:"parameters"`
	}
	var ins []input
	var data []byte
	for _, in := range inputs {
		shape := append([]int64(nil), in.Shape...)
		batched := false
		n := int64(1)
		for d, v := range shape {
			switch {
			case v == -1 && !batched:
				shape[d], batched = int64(c.items), true
			case v < 1:
				return fmt.Errorf("input %q: shape %v has a variable dimension besides the batch", in.Name, in.Shape)
			}
			n *= shape[d]
		}
		if !batched && c.items != 1 {
			return usageError{Msg: fmt.Sprintf("-items %d: input %q has no batch dimension (shape %v)", c.items, in.Name, in.Shape)}
		}
		if n > 1<<28 {
			return fmt.Errorf("input %q: %d elements is too many", in.Name, n)
		}
		size := 0
		switch in.Datatype {
		case "FP32":
			for range n {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(rng.Float32()*2-1))
			}
			size = 4 * int(n)
		case "UINT8":
			for range n {
				data = append(data, byte(rng.IntN(256)))
			}
			size = int(n)
		default:
			return fmt.Errorf("input %q: datatype %s; loadgen sends FP32 and UINT8", in.Name, in.Datatype)
		}
		ins = append(ins, input{in.Name, shape, in.Datatype, map[string]int{"binary_data_size": size}})
	}
	params := map[string]any{"binary_data_output": true}
	if c.timeout > 0 {
		params["timeout"] = max(c.timeout.Microseconds(), 1)
	}
	head, err := json.Marshal(map[string]any{"inputs": ins, "parameters": params})
	if err != nil {
		return err
	}
	t.header = strconv.Itoa(len(head))
	t.body = append(head, data...)
	return nil
}

// statusError is an HTTP error answer.
type statusError struct {
	code int
	msg  string
}

func (e statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.msg) }

// errorMessage reads the protocol's {"error": "..."} body, or the body itself.
func errorMessage(body []byte) string {
	var e struct{ Error string }
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	if len(body) > 200 {
		body = body[:200]
	}
	return strings.TrimSpace(string(body))
}

func (t *httpTarget) getJSON(url string, v any) error {
	resp, err := t.client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return statusError{resp.StatusCode, errorMessage(body)}
	}
	return json.Unmarshal(body, v)
}

// noTimeoutGuard is how long an HTTP request may take without -timeout: a server that never
// answers is a timeout, not a hang.
const noTimeoutGuard = time.Minute

// send reports no server time: the HTTP response carries none.
func (t *httpTarget) send(ctx context.Context) (kind, time.Duration, error) {
	k, err := t.post(ctx)
	return k, 0, err
}

func (t *httpTarget) post(ctx context.Context) (kind, error) {
	// The server's own deadline is the "timeout" parameter: give its 504 time to come back
	// before the client gives up.
	limit := noTimeoutGuard
	if t.timeout > 0 {
		limit = t.timeout + time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", t.infer, bytes.NewReader(t.body))
	if err != nil {
		return kindOther, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Inference-Header-Content-Length", t.header)
	resp, err := t.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return kindTimeout, err
		}
		return kindOther, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return kindTimeout, err
		}
		return kindOther, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return checkResponse(resp.Header, body)
	case http.StatusServiceUnavailable:
		msg := errorMessage(body)
		if strings.Contains(msg, "shutting down") || strings.Contains(msg, "unavailable") {
			return kindOther, statusError{resp.StatusCode, msg}
		}
		return kindQueueFull, statusError{resp.StatusCode, msg}
	case http.StatusGatewayTimeout:
		return kindTimeout, statusError{resp.StatusCode, errorMessage(body)}
	}
	return kindOther, statusError{resp.StatusCode, errorMessage(body)}
}

// checkResponse checks that a 200 answer is an infer response with its outputs.
func checkResponse(h http.Header, body []byte) (kind, error) {
	head, bin := body, 0
	if s := h.Get("Inference-Header-Content-Length"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > len(body) {
			return kindOther, fmt.Errorf("response: Inference-Header-Content-Length %q for %d bytes", s, len(body))
		}
		head, bin = body[:n], len(body)-n
	}
	var res struct {
		Outputs []struct {
			Name       string
			Parameters struct {
				Size *int `json:"binary_data_size"`
			}
		}
	}
	if err := json.Unmarshal(head, &res); err != nil {
		return kindOther, fmt.Errorf("response: %v", err)
	}
	if len(res.Outputs) == 0 {
		return kindOther, errors.New("response: no outputs")
	}
	for _, o := range res.Outputs {
		if o.Parameters.Size != nil {
			bin -= *o.Parameters.Size
		}
	}
	if bin != 0 {
		return kindOther, fmt.Errorf("response: the outputs' binary_data_size do not add up to the %d bytes after the header", len(body)-len(head))
	}
	return kindOK, nil
}

// batchHistogram reads the batch sizes from the statistics extension (Triton's batch_stats:
// the batches of each size); nil where the server has no statistics.
func (t *httpTarget) batchHistogram() ([]uint64, error) {
	var st struct {
		ModelStats []struct {
			Name       string `json:"name"`
			BatchStats []struct {
				BatchSize    int `json:"batch_size"`
				ComputeInfer struct {
					Count uint64 `json:"count"`
				} `json:"compute_infer"`
			} `json:"batch_stats"`
		} `json:"model_stats"`
	}
	if err := t.getJSON(t.stats, &st); err != nil {
		var se statusError
		if errors.As(err, &se) && (se.code == http.StatusNotFound || se.code == http.StatusNotImplemented ||
			se.code == http.StatusMethodNotAllowed) {
			return nil, nil
		}
		return nil, err
	}
	var hist []uint64
	for _, ms := range st.ModelStats {
		if ms.Name != "" && ms.Name != t.name {
			continue
		}
		for _, b := range ms.BatchStats {
			if b.BatchSize < 0 || b.BatchSize > 1<<20 {
				continue
			}
			for len(hist) <= b.BatchSize {
				hist = append(hist, 0)
			}
			hist[b.BatchSize] += b.ComputeInfer.Count
		}
	}
	if hist == nil {
		hist = []uint64{}
	}
	return hist, nil
}

// scrapeTimeout is how long a GET /metrics may take.
const scrapeTimeout = 10 * time.Second

// scrape reads the server's Prometheus exposition, GET /metrics.
func (t *httpTarget) scrape(ctx context.Context) (*metrics.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", t.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s/metrics: %w", t.base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/metrics: %w", t.base, statusError{resp.StatusCode, errorMessage(body)})
	}
	snap, err := metrics.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s/metrics: %w", t.base, err)
	}
	return snap, nil
}

func (t *httpTarget) metricsModel() string { return t.name }

func (t *httpTarget) describe() string {
	return fmt.Sprintf("KServe v2 HTTP server %s, model %q, binary tensor requests", t.base, t.name)
}
func (t *httpTarget) modelName() string { return t.name }

func (t *httpTarget) close() error {
	t.client.CloseIdleConnections()
	return nil
}
