package main

// Tests of the protocol's endpoints through httptest against real generated models on the CPU
// reference executor (no GPU needed): every endpoint, JSON and binary inference compared with the
// model's own RunHost and with onnxruntime's outputs of the test manifest, UINT8 inputs, output
// subsets, a model without a dynamic batch, bad requests (400 with a message), a body over the
// bound (413), unknown models and paths (404), a full queue (503), a passed deadline (504),
// shutting down (503), and concurrent clients. The tests need $CUDAGO_MODELS_DIR (set by meson
// devenv).

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cudago/cudago/go/metrics"
	"github.com/cudago/cudago/go/nn"
	"github.com/cudago/cudago/go/serve"
)

func modelPath(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("CUDAGO_MODELS_DIR")
	if dir == "" {
		t.Fatal("CUDAGO_MODELS_DIR is not set: run the tests through meson " +
			"(cd build && meson devenv --workdir ../examples/go go test ./serve/) or scripts/test.sh")
	}
	return filepath.Join(dir, name)
}

func loadModel(t testing.TB, name string, opts nn.Options) *nn.Model {
	t.Helper()
	opts.Backend = nn.Reference
	m, err := nn.Load(modelPath(t, name), opts)
	if err != nil {
		t.Fatalf("nn.Load %s: %v", name, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// testServer is a model served through the handler by httptest.
type testServer struct {
	*httptest.Server
	m    *nn.Model
	srv  *serve.Server
	h    *handler
	name string
}

// newTestServer serves the model file (on the reference executor, max batch 8) under its name.
func newTestServer(t testing.TB, file string, opts nn.Options, cfg serve.Config, maxBody int64) *testServer {
	t.Helper()
	if opts.MaxBatch == 0 {
		opts.MaxBatch = 8
	}
	m := loadModel(t, file, opts)
	srv, err := serve.New(m, cfg)
	if err != nil {
		t.Fatalf("serve.New: %v", err)
	}
	if maxBody == 0 {
		maxBody = 64 << 20
	}
	name := strings.TrimSuffix(file, ".onnx")
	h := newHandler(m, srv, handlerConfig{Name: name, MaxBodyBytes: maxBody, Batcher: cfg})
	ts := &testServer{Server: httptest.NewServer(h), m: m, srv: srv, h: h, name: name}
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return ts
}

func (ts *testServer) url(path string) string { return ts.URL + path }

func (ts *testServer) inferURL() string { return ts.url("/v2/models/" + ts.name + "/infer") }

// reply is a response read whole.
type reply struct {
	code   int
	header http.Header
	body   []byte
}

func do(t testing.TB, method, url string, header http.Header, body []byte) reply {
	t.Helper()
	r, err := doErr(method, url, header, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// doErr sends a request and reads its response whole (from any goroutine).
func doErr(method, url string, header http.Header, body []byte) (reply, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading the body: %v", method, url, err)
	}
	return reply{resp.StatusCode, resp.Header, b}, nil
}

// getJSON GETs url, wants 200 and decodes the body into v.
func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	r := do(t, "GET", url, nil, nil)
	if r.code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, r.code, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, r.body)
	}
}

// wantError wants the status and an {"error": ...} body holding each of msgs.
func wantError(t testing.TB, what string, r reply, code int, msgs ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: status %d (%.300s), want %d", what, r.code, r.body, code)
		return
	}
	var e struct{ Error string }
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" {
		t.Errorf("%s: body %q is not {\"error\": ...}", what, r.body)
		return
	}
	for _, m := range msgs {
		if !strings.Contains(e.Error, m) {
			t.Errorf("%s: error %q does not say %q", what, e.Error, m)
		}
	}
}

// respOutput is an output of an infer response.
type respOutput struct {
	Name       string
	Datatype   string
	Shape      []int
	Data       []float32
	Parameters map[string]any
}

type inferResponse struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	ID           string
	Outputs      []respOutput
}

// parseReply reads a 200 infer response, JSON or binary, into its outputs with their data
// (binary ones decoded).
func parseReply(t testing.TB, r reply) inferResponse {
	t.Helper()
	res, err := decodeReply(r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// decodeReply is parseReply for any goroutine.
func decodeReply(r reply) (inferResponse, error) {
	var res inferResponse
	if r.code != http.StatusOK {
		return res, fmt.Errorf("infer: status %d: %s", r.code, r.body)
	}
	head, bin := r.body, []byte(nil)
	if s := r.header.Get(headerLength); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n > len(r.body) {
			return res, fmt.Errorf("bad %s %q for %d bytes", headerLength, s, len(r.body))
		}
		head, bin = r.body[:n], r.body[n:]
		if ct := r.header.Get("Content-Type"); ct != "application/octet-stream" {
			return res, fmt.Errorf("binary response with Content-Type %q", ct)
		}
	} else if ct := r.header.Get("Content-Type"); ct != "application/json" {
		return res, fmt.Errorf("JSON response with Content-Type %q", ct)
	}
	if err := json.Unmarshal(head, &res); err != nil {
		return res, fmt.Errorf("infer response: %v in %.300s", err, head)
	}
	for i := range res.Outputs {
		o := &res.Outputs[i]
		size, ok := o.Parameters["binary_data_size"].(float64)
		if !ok {
			continue
		}
		if o.Data != nil {
			return res, fmt.Errorf("output %q has both data and binary_data_size", o.Name)
		}
		if int(size) > len(bin) {
			return res, fmt.Errorf("output %q: binary_data_size %v, %d bytes left", o.Name, size, len(bin))
		}
		o.Data = floatsOf(bin[:int(size)])
		bin = bin[int(size):]
	}
	if len(bin) != 0 {
		return res, fmt.Errorf("%d bytes of binary data left over in the response", len(bin))
	}
	return res, nil
}

func floatsOf(b []byte) []float32 {
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

func bytesOf(x []float32) []byte {
	b := make([]byte, 0, 4*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func randFloats(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = r.Float32()*4 - 2
	}
	return x
}

// runHost runs the model on the inputs at batch n: the expected outputs.
func runHost(t testing.TB, m *nn.Model, n int, inputs ...any) [][]float32 {
	t.Helper()
	outs := make([][]float32, len(m.Outputs()))
	for i, o := range m.Outputs() {
		outs[i] = make([]float32, o.Len(n))
	}
	if err := m.RunHost(n, inputs, outs); err != nil {
		t.Fatalf("RunHost: %v", err)
	}
	return outs
}

// near checks |got - want| <= atol + rtol*|want| everywhere.
func near(t testing.TB, what string, got, want []float32, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= atol+rtol*math.Abs(float64(want[i]))) {
			t.Fatalf("%s: [%d] = %g, want %g", what, i, got[i], want[i])
		}
	}
}

// jsonBody marshals v.
func jsonBody(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// binaryRequest is a request of the binary extension: the JSON header, then the tensors.
func binaryRequest(t testing.TB, head any, tensors ...[]byte) (http.Header, []byte) {
	t.Helper()
	body := jsonBody(t, head)
	hdr := http.Header{headerLength: {strconv.Itoa(len(body))}, "Content-Type": {"application/octet-stream"}}
	for _, b := range tensors {
		body = append(body, b...)
	}
	return hdr, body
}

// nested writes x (of shape) as nested JSON arrays.
func nested(x []float32, shape []int) json.RawMessage {
	var b bytes.Buffer
	var rec func(off, d int) int
	rec = func(off, d int) int {
		b.WriteByte('[')
		for i := 0; i < shape[d]; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			if d == len(shape)-1 {
				b.WriteString(strconv.FormatFloat(float64(x[off]), 'g', -1, 32))
				off++
			} else {
				off = rec(off, d+1)
			}
		}
		b.WriteByte(']')
		return off
	}
	rec(0, 0)
	return b.Bytes()
}

func TestEndpoints(t *testing.T) {
	ts := newTestServer(t, "conv_bn_k3_c13_13x11.onnx", nn.Options{},
		serve.Config{MaxQueueDelay: 250 * time.Microsecond, PreferredBatchSizes: []int{4, 8}, MaxQueueSize: 64}, 0)
	for _, p := range []string{"/v2/health/live", "/v2/health/ready", "/v2/models/" + ts.name + "/ready",
		"/v2/models/" + ts.name + "/versions/1/ready"} {
		if r := do(t, "GET", ts.url(p), nil, nil); r.code != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, r.code, r.body)
		}
	}

	var server struct {
		Name, Version string
		Extensions    []string
	}
	getJSON(t, ts.url("/v2"), &server)
	if server.Name != "cudago" || server.Version == "" || !strings.Contains(strings.Join(server.Extensions, " "), "binary_tensor_data") {
		t.Errorf("/v2: %+v", server)
	}

	type tensor struct {
		Name, Datatype string
		Shape          []int
	}
	var md struct {
		Name, Platform  string
		Versions        []string
		Inputs, Outputs []tensor
	}
	for _, p := range []string{"/v2/models/" + ts.name, "/v2/models/" + ts.name + "/versions/1"} {
		getJSON(t, ts.url(p), &md)
		want := fmt.Sprint([]tensor{{"x", "FP32", []int{-1, 13, 13, 11}}})
		if md.Name != ts.name || md.Platform != "onnx" || fmt.Sprint(md.Versions) != "[1]" ||
			fmt.Sprint(md.Inputs) != want || fmt.Sprint(md.Outputs) != strings.Replace(want, "x", "y", 1) {
			t.Errorf("%s: %+v", p, md)
		}
	}

	var cfg struct {
		Name, Platform string
		MaxBatchSize   int `json:"max_batch_size"`
		Input, Output  []struct {
			Name     string
			DataType string `json:"data_type"`
			Dims     []int
		}
		DynamicBatching struct {
			Delay     int64 `json:"max_queue_delay_microseconds"`
			Preferred []int `json:"preferred_batch_size"`
			Policy    struct {
				MaxQueueSize int `json:"max_queue_size"`
			} `json:"default_queue_policy"`
		} `json:"dynamic_batching"`
	}
	getJSON(t, ts.url("/v2/models/"+ts.name+"/config"), &cfg)
	if cfg.Name != ts.name || cfg.Platform != "onnxruntime_onnx" || cfg.MaxBatchSize != 8 ||
		len(cfg.Input) != 1 || cfg.Input[0].Name != "x" || cfg.Input[0].DataType != "TYPE_FP32" ||
		fmt.Sprint(cfg.Input[0].Dims) != "[13 13 11]" || len(cfg.Output) != 1 || cfg.Output[0].Name != "y" ||
		cfg.DynamicBatching.Delay != 250 || fmt.Sprint(cfg.DynamicBatching.Preferred) != "[4 8]" ||
		cfg.DynamicBatching.Policy.MaxQueueSize != 64 {
		t.Errorf("config: %+v", cfg)
	}

	// One inference, then the statistics count it.
	x := randFloats(rand.New(rand.NewPCG(1, 2)), ts.m.Inputs()[0].Len(2))
	parseReply(t, do(t, "POST", ts.inferURL(), nil, jsonBody(t, map[string]any{
		"inputs": []any{map[string]any{"name": "x", "shape": []int{2, 13, 13, 11}, "datatype": "FP32", "data": x}}})))
	var stats struct {
		ModelStats []struct {
			Name           string
			InferenceCount uint64 `json:"inference_count"`
			ExecutionCount uint64 `json:"execution_count"`
			InferenceStats struct {
				Success, Fail, Queue struct{ Count, NS uint64 }
			} `json:"inference_stats"`
			BatchStats []struct {
				BatchSize    int                    `json:"batch_size"`
				ComputeInfer struct{ Count uint64 } `json:"compute_infer"`
			} `json:"batch_stats"`
		} `json:"model_stats"`
	}
	for _, p := range []string{"/v2/models/" + ts.name + "/stats", "/v2/models/stats"} {
		getJSON(t, ts.url(p), &stats)
		if len(stats.ModelStats) != 1 {
			t.Fatalf("%s: %+v", p, stats)
		}
		s := stats.ModelStats[0]
		if s.Name != ts.name || s.InferenceCount != 2 || s.ExecutionCount != 1 ||
			s.InferenceStats.Success.Count != 1 || s.InferenceStats.Success.NS == 0 ||
			s.InferenceStats.Fail.Count != 0 || len(s.BatchStats) != 1 ||
			s.BatchStats[0].BatchSize != 2 || s.BatchStats[0].ComputeInfer.Count != 1 {
			t.Errorf("%s: %+v", p, s)
		}
	}

	// Unknown models, versions and paths; wrong methods.
	wantError(t, "unknown model", do(t, "GET", ts.url("/v2/models/nope"), nil, nil), http.StatusNotFound, `unknown model "nope"`)
	wantError(t, "unknown model infer", do(t, "POST", ts.url("/v2/models/nope/infer"), nil, []byte("{}")),
		http.StatusNotFound, `unknown model "nope"`)
	wantError(t, "unknown version", do(t, "GET", ts.url("/v2/models/"+ts.name+"/versions/2/ready"), nil, nil),
		http.StatusNotFound, `no version "2"`)
	wantError(t, "unknown path", do(t, "GET", ts.url("/v3/models"), nil, nil), http.StatusNotFound, "no such endpoint")
	wantError(t, "GET infer", do(t, "GET", ts.inferURL(), nil, nil), http.StatusMethodNotAllowed, "use POST")
	wantError(t, "POST metadata", do(t, "POST", ts.url("/v2/models/"+ts.name), nil, nil), http.StatusMethodNotAllowed, "use GET")
}

// TestInferJSON: JSON requests of flat and nested data, an id echoed, the outputs as JSON,
// equal to RunHost of the same input.
func TestInferJSON(t *testing.T) {
	ts := newTestServer(t, "conv_bn_k3_c13_13x11.onnx", nn.Options{}, serve.Config{}, 0)
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 3, 8} {
		x := randFloats(r, ts.m.Inputs()[0].Len(n))
		shape := []int{n, 13, 13, 11}
		want := runHost(t, ts.m, n, x)[0]
		for _, data := range []any{x, nested(x, shape)} {
			res := parseReply(t, do(t, "POST", ts.inferURL(), http.Header{"Content-Type": {"application/json"}},
				jsonBody(t, map[string]any{"id": "req-" + strconv.Itoa(n),
					"inputs": []any{map[string]any{"name": "x", "shape": shape, "datatype": "FP32", "data": data}}})))
			if res.ID != "req-"+strconv.Itoa(n) || res.ModelName != ts.name || res.ModelVersion != "1" {
				t.Errorf("response head: %+v", res)
			}
			if len(res.Outputs) != 1 || res.Outputs[0].Name != "y" || res.Outputs[0].Datatype != "FP32" ||
				fmt.Sprint(res.Outputs[0].Shape) != fmt.Sprint(shape) {
				t.Fatalf("outputs: %+v", res.Outputs)
			}
			near(t, fmt.Sprintf("batch %d", n), res.Outputs[0].Data, want, 1e-6, 1e-6)
		}
	}
}

// readBin reads a little-endian float32 file of the test manifest.
func readBin(t testing.TB, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile(modelPath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return floatsOf(b)
}

// TestInferBinary: binary tensor data in and out, against onnxruntime's outputs of the test
// manifest (conv_bn: 7 items) and against RunHost.
func TestInferBinary(t *testing.T) {
	ts := newTestServer(t, "conv_bn_k3_c13_13x11.onnx", nn.Options{}, serve.Config{}, 0)
	x, y := readBin(t, "conv_bn_k3_c13_13x11.r1.x.bin"), readBin(t, "conv_bn_k3_c13_13x11.r1.y.bin")
	shape := []int{7, 13, 13, 11}
	hdr, body := binaryRequest(t, map[string]any{
		"inputs":     []any{map[string]any{"name": "x", "shape": shape, "datatype": "FP32", "parameters": map[string]any{"binary_data_size": 4 * len(x)}}},
		"parameters": map[string]any{"binary_data_output": true},
	}, bytesOf(x))
	r := do(t, "POST", ts.inferURL(), hdr, body)
	res := parseReply(t, r)
	if r.header.Get(headerLength) == "" || len(res.Outputs) != 1 || fmt.Sprint(res.Outputs[0].Shape) != fmt.Sprint(shape) {
		t.Fatalf("binary response: %v %+v", r.header, res)
	}
	near(t, "against onnxruntime", res.Outputs[0].Data, y, 1e-4, 3.24e-4) // the manifest's tol
	near(t, "against RunHost", res.Outputs[0].Data, runHost(t, ts.m, 7, x)[0], 1e-6, 1e-6)

	// Binary in, JSON out (no binary_data asked for).
	hdr, body = binaryRequest(t, map[string]any{
		"inputs": []any{map[string]any{"name": "x", "shape": shape, "datatype": "FP32", "parameters": map[string]any{"binary_data_size": 4 * len(x)}}},
	}, bytesOf(x))
	r = do(t, "POST", ts.inferURL(), hdr, body)
	if r.header.Get(headerLength) != "" {
		t.Errorf("a response without binary outputs has %s", headerLength)
	}
	near(t, "binary in, JSON out", parseReply(t, r).Outputs[0].Data, y, 1e-4, 3.24e-4)

	// A gzip-compressed binary request.
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(body)
	zw.Close()
	hdr.Set("Content-Encoding", "gzip")
	near(t, "gzip", parseReply(t, do(t, "POST", ts.inferURL(), hdr, z.Bytes())).Outputs[0].Data, y, 1e-4, 3.24e-4)
}

// TestOutputs: a model of two outputs; all of them, a subset, one binary and one JSON, in the
// order asked for.
func TestOutputs(t *testing.T) {
	ts := newTestServer(t, "multi_out_relu_sigmoid_c3_7x9.onnx", nn.Options{}, serve.Config{}, 0)
	x := readBin(t, "multi_out_relu_sigmoid_c3_7x9.r1.x.bin")
	relu, sig := readBin(t, "multi_out_relu_sigmoid_c3_7x9.r1.relu.bin"), readBin(t, "multi_out_relu_sigmoid_c3_7x9.r1.sig.bin")
	want := map[string][]float32{"relu": relu, "sig": sig}
	in := map[string]any{"name": "x", "shape": []int{7, 3, 7, 9}, "datatype": "FP32", "data": x}
	bin := map[string]any{"binary_data": true}
	cases := []struct {
		what    string
		outputs []any
		names   string
		binary  string
	}{
		{"all", nil, "relu sig", ""},
		{"sig only", []any{map[string]any{"name": "sig"}}, "sig", ""},
		{"reversed, sig binary", []any{map[string]any{"name": "sig", "parameters": bin}, map[string]any{"name": "relu"}}, "sig relu", "sig"},
		{"relu binary", []any{map[string]any{"name": "relu", "parameters": bin}}, "relu", "relu"},
	}
	for _, c := range cases {
		req := map[string]any{"inputs": []any{in}}
		if c.outputs != nil {
			req["outputs"] = c.outputs
		}
		res := parseReply(t, do(t, "POST", ts.inferURL(), nil, jsonBody(t, req)))
		var names, binary []string
		for _, o := range res.Outputs {
			names = append(names, o.Name)
			if o.Parameters["binary_data_size"] != nil {
				binary = append(binary, o.Name)
			}
			near(t, c.what+" "+o.Name, o.Data, want[o.Name], 1e-4, 1e-5)
		}
		if strings.Join(names, " ") != c.names || strings.Join(binary, " ") != c.binary {
			t.Errorf("%s: outputs %v, binary %v; want %s, binary %q", c.what, names, binary, c.names, c.binary)
		}
	}
	// binary_data false on one output overrides binary_data_output.
	res := parseReply(t, do(t, "POST", ts.inferURL(), nil, jsonBody(t, map[string]any{
		"inputs": []any{in}, "parameters": map[string]any{"binary_data_output": true},
		"outputs": []any{map[string]any{"name": "relu"}, map[string]any{"name": "sig", "parameters": map[string]any{"binary_data": false}}}})))
	if res.Outputs[0].Parameters["binary_data_size"] == nil || res.Outputs[1].Parameters["binary_data_size"] != nil {
		t.Errorf("binary_data_output with an override: %+v", res.Outputs)
	}
}

// TestUint8: image inputs taken as UINT8 NHWC, in JSON and binary.
func TestUint8(t *testing.T) {
	ts := newTestServer(t, "multi_out_relu_sigmoid_c3_7x9.onnx",
		nn.Options{InputFormat: nn.Uint8NHWC, InputScale: 1.0 / 255}, serve.Config{}, 0)
	in := ts.m.Inputs()[0]
	if in.DType != nn.U8 {
		t.Fatalf("input %s is not uint8", in)
	}
	var md struct{ Inputs []struct{ Datatype string } }
	getJSON(t, ts.url("/v2/models/"+ts.name), &md)
	if md.Inputs[0].Datatype != "UINT8" {
		t.Errorf("metadata: %+v", md)
	}
	n := 2
	px := make([]byte, in.Len(n))
	ints := make([]int, len(px))
	for i := range px {
		px[i] = byte(i * 37)
		ints[i] = int(px[i])
	}
	want := runHost(t, ts.m, n, px)
	shape := []int{n, 7, 9, 3}
	res := parseReply(t, do(t, "POST", ts.inferURL(), nil, jsonBody(t, map[string]any{
		"inputs": []any{map[string]any{"name": "x", "shape": shape, "datatype": "UINT8", "data": ints}}})))
	near(t, "UINT8 JSON", res.Outputs[0].Data, want[0], 1e-6, 1e-6)
	hdr, body := binaryRequest(t, map[string]any{"inputs": []any{map[string]any{"name": "x", "shape": shape,
		"datatype": "UINT8", "parameters": map[string]any{"binary_data_size": len(px)}}}}, px)
	res = parseReply(t, do(t, "POST", ts.inferURL(), hdr, body))
	near(t, "UINT8 binary", res.Outputs[1].Data, want[1], 1e-6, 1e-6)
	ints[5] = 256
	wantError(t, "UINT8 out of range", do(t, "POST", ts.inferURL(), nil, jsonBody(t, map[string]any{
		"inputs": []any{map[string]any{"name": "x", "shape": shape, "datatype": "UINT8", "data": ints}}})),
		http.StatusBadRequest, "256 is not a UINT8")
	wantError(t, "FP32 for UINT8", do(t, "POST", ts.inferURL(), nil, jsonBody(t, map[string]any{
		"inputs": []any{map[string]any{"name": "x", "shape": shape, "datatype": "FP32", "data": ints}}})),
		http.StatusBadRequest, `datatype "FP32", the model takes UINT8`)
}

// TestBadRequests: each mistake is 400 with a message saying what is wrong, and the server
// goes on serving good requests.
func TestBadRequests(t *testing.T) {
	ts := newTestServer(t, "relu_c13_13x11.onnx", nn.Options{MaxBatch: 4}, serve.Config{}, 0)
	per := ts.m.Inputs()[0].Len(1)
	x := make([]float32, per)
	xb := bytesOf(x)
	good := func(extra map[string]any) map[string]any {
		in := map[string]any{"name": "x", "shape": []int{1, 13, 13, 11}, "datatype": "FP32", "data": x}
		for k, v := range extra {
			in[k] = v
		}
		return map[string]any{"inputs": []any{in}}
	}
	binIn := func(size int, shape []int) map[string]any {
		return map[string]any{"inputs": []any{map[string]any{"name": "x", "shape": shape, "datatype": "FP32",
			"parameters": map[string]any{"binary_data_size": size}}}}
	}
	jsonCases := []struct {
		what string
		body []byte
		msg  []string
	}{
		{"malformed JSON", []byte(`{"inputs": [`), []string{"the request's JSON"}},
		{"not an object", []byte(`[1,2]`), []string{"the request's JSON"}},
		{"numeric id", []byte(`{"id": 5, "inputs": []}`), []string{"the request's JSON"}},
		{"no inputs", []byte(`{"inputs": []}`), []string{`input "x" is missing`}},
		{"unknown input", jsonBody(t, map[string]any{"inputs": []any{map[string]any{"name": "z", "shape": []int{1}, "datatype": "FP32", "data": []int{1}}}}),
			[]string{`unknown input "z"`, `"x"`}},
		{"input twice", jsonBody(t, map[string]any{"inputs": []any{good(nil)["inputs"].([]any)[0], good(nil)["inputs"].([]any)[0]}}),
			[]string{`input "x" is given twice`}},
		{"wrong datatype", jsonBody(t, good(map[string]any{"datatype": "INT32"})), []string{`datatype "INT32", the model takes FP32`}},
		{"wrong rank", jsonBody(t, good(map[string]any{"shape": []int{13, 13, 11}})), []string{"shape [13,13,11] has 3 dimensions", "[-1,13,13,11]"}},
		{"wrong dim", jsonBody(t, good(map[string]any{"shape": []int{1, 13, 11, 13}})), []string{"dimension 2 is 11"}},
		{"batch too large", jsonBody(t, good(map[string]any{"shape": []int{5, 13, 13, 11}})), []string{"(the batch) is 5; want 1 to 4"}},
		{"batch 0", jsonBody(t, good(map[string]any{"shape": []int{0, 13, 13, 11}})), []string{"(the batch) is 0"}},
		{"negative dim", jsonBody(t, good(map[string]any{"shape": []int{1, -13, 13, 11}})), []string{"dimension 1 is -13"}},
		{"too few values", jsonBody(t, good(map[string]any{"data": x[1:]})), []string{"data has 1858 values, want 1859"}},
		{"too many values", jsonBody(t, good(map[string]any{"data": append(x, 1)})), []string{"more than 1859 values"}},
		{"string values", jsonBody(t, good(map[string]any{"data": []string{"a"}})), []string{"data holds a string"}},
		{"data not an array", jsonBody(t, good(map[string]any{"data": 3})), []string{"data is a number"}},
		{"no data", jsonBody(t, good(map[string]any{"data": nil})), []string{`input "x" has no data`}},
		{"float out of range", jsonBody(t, good(map[string]any{"data": json.RawMessage(`[1e39]`)})), []string{"1e39 is not an FP32"}},
		{"unknown output", jsonBody(t, map[string]any{"inputs": good(nil)["inputs"], "outputs": []any{map[string]any{"name": "q"}}}),
			[]string{`unknown output "q"`}},
		{"output twice", jsonBody(t, map[string]any{"inputs": good(nil)["inputs"], "outputs": []any{map[string]any{"name": "y"}, map[string]any{"name": "y"}}}),
			[]string{`output "y" is asked for twice`}},
		{"bad binary_data", jsonBody(t, map[string]any{"inputs": good(nil)["inputs"], "outputs": []any{map[string]any{"name": "y", "parameters": map[string]any{"binary_data": "yes"}}}}),
			[]string{`parameter "binary_data" is "yes"`}},
		{"bad timeout", jsonBody(t, map[string]any{"inputs": good(nil)["inputs"], "parameters": map[string]any{"timeout": -5}}),
			[]string{"timeout -5"}},
		{"bad priority", jsonBody(t, map[string]any{"inputs": good(nil)["inputs"], "parameters": map[string]any{"priority": 3}}),
			[]string{"priority 3"}},
		{"binary size without header", jsonBody(t, binIn(len(xb), []int{1, 13, 13, 11})), []string{"no Inference-Header-Content-Length"}},
	}
	for _, c := range jsonCases {
		wantError(t, c.what, do(t, "POST", ts.inferURL(), nil, c.body), http.StatusBadRequest, c.msg...)
	}

	binCases := []struct {
		what    string
		header  string // Inference-Header-Content-Length; "" is the JSON's length
		head    any
		tensors [][]byte
		msg     string
	}{
		{"binary size too small", "", binIn(len(xb)-4, []int{1, 13, 13, 11}), [][]byte{xb[4:]}, "binary_data_size 7432, but shape [1,13,13,11] of FP32 needs 7436 bytes"},
		{"binary data short", "", binIn(len(xb), []int{1, 13, 13, 11}), [][]byte{xb[:100]}, "only 100 bytes of binary data are left"},
		{"binary data left over", "", binIn(len(xb), []int{1, 13, 13, 11}), [][]byte{xb, xb[:8]}, "8 bytes of binary data are left over"},
		{"data and binary size", "", good(map[string]any{"parameters": map[string]any{"binary_data_size": len(xb)}}), [][]byte{xb}, "both data and binary_data_size"},
		{"header length past the body", "999999", binIn(len(xb), []int{1, 13, 13, 11}), [][]byte{xb}, "is not a length within the body"},
		{"header length not a number", "abc", binIn(len(xb), []int{1, 13, 13, 11}), [][]byte{xb}, "is not a length"},
		{"header length cuts the JSON", "10", binIn(len(xb), []int{1, 13, 13, 11}), [][]byte{xb}, "the request's JSON"},
	}
	for _, c := range binCases {
		hdr, body := binaryRequest(t, c.head, c.tensors...)
		if c.header != "" {
			hdr.Set(headerLength, c.header)
		}
		wantError(t, c.what, do(t, "POST", ts.inferURL(), hdr, body), http.StatusBadRequest, c.msg)
	}
	wantError(t, "unknown Content-Encoding", do(t, "POST", ts.inferURL(), http.Header{"Content-Encoding": {"br"}}, jsonBody(t, good(nil))),
		http.StatusUnsupportedMediaType, `"br" is not supported`)
	wantError(t, "bad gzip", do(t, "POST", ts.inferURL(), http.Header{"Content-Encoding": {"gzip"}}, []byte("not gzip")),
		http.StatusBadRequest, "gzip")

	// The server still serves.
	res := parseReply(t, do(t, "POST", ts.inferURL(), nil, jsonBody(t, good(nil))))
	near(t, "good request after bad ones", res.Outputs[0].Data, x, 0, 0)
	var stats struct {
		ModelStats []struct {
			InferenceStats struct{ Success, Fail struct{ Count uint64 } } `json:"inference_stats"`
		} `json:"model_stats"`
	}
	getJSON(t, ts.url("/v2/models/"+ts.name+"/stats"), &stats)
	if s := stats.ModelStats[0].InferenceStats; s.Success.Count != 1 || s.Fail.Count != uint64(len(jsonCases)+len(binCases)+2) {
		t.Errorf("statistics after the bad requests: %+v", s)
	}
}

// TestBodyTooLarge: a body over the bound is 413, as is one that only inflates past it.
func TestBodyTooLarge(t *testing.T) {
	ts := newTestServer(t, "relu_c13_13x11.onnx", nn.Options{}, serve.Config{}, 2048)
	x := make([]float32, ts.m.Inputs()[0].Len(1))
	body := jsonBody(t, map[string]any{"inputs": []any{map[string]any{"name": "x", "shape": []int{1, 13, 13, 11}, "datatype": "FP32", "data": x}}})
	wantError(t, "large body", do(t, "POST", ts.inferURL(), nil, body), http.StatusRequestEntityTooLarge, "larger than 2048 bytes")
	// Without a Content-Length (chunked), the bound holds while reading.
	resp, err := http.Post(ts.inferURL(), "application/json", io.MultiReader(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantError(t, "chunked large body", reply{resp.StatusCode, resp.Header, b}, http.StatusRequestEntityTooLarge, "larger than 2048")
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(body)
	zw.Close()
	if z.Len() >= 2048 {
		t.Fatalf("the compressed body is %d bytes", z.Len())
	}
	wantError(t, "inflating body", do(t, "POST", ts.inferURL(), http.Header{"Content-Encoding": {"gzip"}}, z.Bytes()),
		http.StatusRequestEntityTooLarge, "larger than 2048")
}

// TestQueueFull: with room for one waiting request, a second one while the first waits is 503.
func TestQueueFull(t *testing.T) {
	ts := newTestServer(t, "relu_c13_13x11.onnx", nn.Options{MaxBatch: 4},
		serve.Config{MaxQueueSize: 1, MaxQueueDelay: 300 * time.Millisecond}, 0)
	x := make([]float32, ts.m.Inputs()[0].Len(1))
	body := jsonBody(t, map[string]any{"inputs": []any{map[string]any{"name": "x", "shape": []int{1, 13, 13, 11}, "datatype": "FP32", "data": x}}})
	type result struct {
		r   reply
		err error
	}
	first := make(chan result, 1)
	go func() {
		r, err := doErr("POST", ts.inferURL(), nil, body)
		first <- result{r, err}
	}()
	for deadline := time.Now().Add(5 * time.Second); ; {
		st, err := ts.srv.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Queued == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first request was never queued")
		}
		time.Sleep(time.Millisecond)
	}
	wantError(t, "second request", do(t, "POST", ts.inferURL(), nil, body), http.StatusServiceUnavailable, "queue is full")
	f := <-first
	if f.err != nil {
		t.Fatal(f.err)
	}
	parseReply(t, f.r)
}

// TestTimeout: a request whose "timeout" passes in the queue is 504.
func TestTimeout(t *testing.T) {
	ts := newTestServer(t, "relu_c13_13x11.onnx", nn.Options{}, serve.Config{MaxQueueDelay: 10 * time.Second}, 0)
	x := make([]float32, ts.m.Inputs()[0].Len(1))
	body := jsonBody(t, map[string]any{"parameters": map[string]any{"timeout": 1},
		"inputs": []any{map[string]any{"name": "x", "shape": []int{1, 13, 13, 11}, "datatype": "FP32", "data": x}}})
	wantError(t, "1 µs timeout", do(t, "POST", ts.inferURL(), nil, body), http.StatusGatewayTimeout, "deadline")
}

// TestNotReady: a server shutting down reports not ready and refuses inferences with 503.
func TestNotReady(t *testing.T) {
	ts := newTestServer(t, "relu_c13_13x11.onnx", nn.Options{}, serve.Config{}, 0)
	ts.h.setReady(false)
	for _, p := range []string{"/v2/health/ready", "/v2/models/" + ts.name + "/ready"} {
		if r := do(t, "GET", ts.url(p), nil, nil); r.code != http.StatusServiceUnavailable {
			t.Errorf("GET %s while shutting down: %d", p, r.code)
		}
	}
	if r := do(t, "GET", ts.url("/v2/health/live"), nil, nil); r.code != http.StatusOK {
		t.Errorf("live while shutting down: %d", r.code)
	}
	wantError(t, "infer while shutting down", do(t, "POST", ts.inferURL(), nil, []byte("{}")),
		http.StatusServiceUnavailable, "shutting down")
	// A batcher that is shut down: 503 too.
	ts.h.setReady(true)
	ts.srv.Shutdown(false)
	x := make([]float32, ts.m.Inputs()[0].Len(1))
	wantError(t, "infer after the batcher's shutdown", do(t, "POST", ts.inferURL(), nil, jsonBody(t, map[string]any{
		"inputs": []any{map[string]any{"name": "x", "shape": []int{1, 13, 13, 11}, "datatype": "FP32", "data": x}}})),
		http.StatusServiceUnavailable)
}

// TestConcurrentClients: many clients at once, JSON and binary, batch sizes 1 to 3: every
// result equals RunHost of its own input, and batches of several requests formed.
func TestConcurrentClients(t *testing.T) {
	ts := newTestServer(t, "conv_bn_k3_c13_13x11.onnx", nn.Options{},
		serve.Config{MaxQueueDelay: 2 * time.Millisecond}, 0)
	const clients, each = 8, 6
	type call struct {
		hdr  http.Header
		body []byte
		want []float32
	}
	calls := make([][]call, clients)
	for c := range calls {
		r := rand.New(rand.NewPCG(uint64(c), 9))
		for i := range each {
			n := 1 + (c+i)%3
			x := randFloats(r, ts.m.Inputs()[0].Len(n))
			cl := call{want: runHost(t, ts.m, n, x)[0]}
			shape := []int{n, 13, 13, 11}
			if i%2 == 0 {
				cl.body = jsonBody(t, map[string]any{"inputs": []any{map[string]any{"name": "x", "shape": shape, "datatype": "FP32", "data": x}}})
			} else {
				cl.hdr, cl.body = binaryRequest(t, map[string]any{"parameters": map[string]any{"binary_data_output": true},
					"inputs": []any{map[string]any{"name": "x", "shape": shape, "datatype": "FP32", "parameters": map[string]any{"binary_data_size": 4 * len(x)}}}}, bytesOf(x))
			}
			calls[c] = append(calls[c], cl)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients*each)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, cl := range calls[c] {
				r, err := doErr("POST", ts.inferURL(), cl.hdr, cl.body)
				var res inferResponse
				if err == nil {
					res, err = decodeReply(r)
				}
				if err != nil {
					errs <- fmt.Errorf("client %d request %d: %v", c, i, err)
					continue
				}
				got := res.Outputs[0].Data
				if len(got) != len(cl.want) {
					errs <- fmt.Errorf("client %d request %d: %d values, want %d", c, i, len(got), len(cl.want))
					continue
				}
				for k := range got {
					if d := math.Abs(float64(got[k] - cl.want[k])); d > 1e-6*(1+math.Abs(float64(cl.want[k]))) {
						errs <- fmt.Errorf("client %d request %d: [%d] = %g, want %g", c, i, k, got[k], cl.want[k])
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, err := ts.srv.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Succeeded != clients*each {
		t.Errorf("%d requests succeeded, want %d", st.Succeeded, clients*each)
	}
	t.Logf("%d requests in %d batches; histogram %v", st.Succeeded, st.Batches, st.BatchHistogram)
}

func TestParseData(t *testing.T) {
	cases := []struct {
		raw  string
		want int
		out  string
		err  string
	}{
		{"[1, 2.5, -3e2]", 3, "[1 2.5 -300]", ""},
		{"[[1,2],[3,4]]", 4, "[1 2 3 4]", ""},
		{"[[[1]],[[2]]]", 2, "[1 2]", ""},
		{" [ 1 , 2 ] ", 2, "[1 2]", ""},
		{"[1,2]", 3, "", "data has 2 values, want 3"},
		{"[1,2,3]", 2, "", "more than 2 values"},
		{`[1,"2"]`, 2, "", "holds a string"},
		{"[1,null]", 2, "", "holds null"},
		{"[true]", 1, "", "holds true"},
		{"[{}]", 1, "", "holds an object"},
		{"{}", 1, "", "data is an object"},
		{"7", 1, "", "data is a number"},
	}
	for _, c := range cases {
		got, err := parseData([]byte(c.raw), c.want, parseFloat32)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.raw, err)
		case c.err == "" && fmt.Sprint(got) != c.out:
			t.Errorf("%s: %v, want %s", c.raw, got, c.out)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", c.raw, err, c.err)
		}
	}
	if got, err := parseData([]byte("[0, 255, 7]"), 3, parseUint8); err != nil || fmt.Sprint(got) != "[0 255 7]" {
		t.Errorf("uint8: %v %v", got, err)
	}
	for _, bad := range []string{"[-1]", "[256]", "[1.5]"} {
		if _, err := parseData([]byte(bad), 1, parseUint8); err == nil || !strings.Contains(err.Error(), "not a UINT8") {
			t.Errorf("uint8 %s: %v", bad, err)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	for _, c := range []struct {
		v    float32
		want string
	}{{1, "1"}, {0.1, "0.1"}, {-2.5e-8, "-2.5e-08"}, {float32(math.NaN()), "NaN"},
		{float32(math.Inf(1)), "Infinity"}, {float32(math.Inf(-1)), "-Infinity"}, {math.MaxFloat32, "3.4028235e+38"}} {
		if got := string(appendFloat(nil, c.v)); got != c.want {
			t.Errorf("appendFloat(%v) = %s, want %s", c.v, got, c.want)
		}
	}
}

// TestFixedBatch: a model without a dynamic batch dimension takes its declared shape only; its
// configuration says no batching (max_batch_size 0, whole shapes).
func TestFixedBatch(t *testing.T) {
	ts := newTestServer(t, "conv_k3_p1_c13_7x9_fixedb3.onnx", nn.Options{}, serve.Config{}, 0)
	var md struct{ Inputs, Outputs []struct{ Shape []int } }
	getJSON(t, ts.url("/v2/models/"+ts.name), &md)
	if fmt.Sprint(md.Inputs[0].Shape) != "[3 13 7 9]" || fmt.Sprint(md.Outputs[0].Shape) != "[3 8 7 9]" {
		t.Errorf("metadata: %+v", md)
	}
	var cfg struct {
		MaxBatchSize int `json:"max_batch_size"`
		Input        []struct{ Dims []int }
	}
	getJSON(t, ts.url("/v2/models/"+ts.name+"/config"), &cfg)
	if cfg.MaxBatchSize != 0 || fmt.Sprint(cfg.Input[0].Dims) != "[3 13 7 9]" {
		t.Errorf("config: %+v", cfg)
	}
	x, y := readBin(t, "conv_k3_p1_c13_7x9_fixedb3.r0.x.bin"), readBin(t, "conv_k3_p1_c13_7x9_fixedb3.r0.y.bin")
	hdr, body := binaryRequest(t, map[string]any{"inputs": []any{map[string]any{"name": "x", "shape": []int{3, 13, 7, 9},
		"datatype": "FP32", "parameters": map[string]any{"binary_data_size": 4 * len(x)}}}}, bytesOf(x))
	res := parseReply(t, do(t, "POST", ts.inferURL(), hdr, body))
	if fmt.Sprint(res.Outputs[0].Shape) != "[3 8 7 9]" {
		t.Errorf("output shape %v", res.Outputs[0].Shape)
	}
	near(t, "fixed batch against onnxruntime", res.Outputs[0].Data, y, 1e-4, 3.24e-4) // the manifest's tol
	wantError(t, "another batch", do(t, "POST", ts.inferURL(), nil, jsonBody(t, map[string]any{"inputs": []any{
		map[string]any{"name": "x", "shape": []int{1, 13, 7, 9}, "datatype": "FP32", "data": x[:13*7*9]}}})),
		http.StatusBadRequest, "dimension 0 is 1, the model's shape is [3,13,7,9]")
}

// TestMetricsEndpoint: /metrics serves the exposition with this model's series under its name.
func TestMetricsEndpoint(t *testing.T) {
	m := loadModel(t, "relu_c13_13x11.onnx", nn.Options{MaxBatch: 4})
	srv, err := serve.New(m, serve.Config{Name: "relu-metrics"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h := newHandler(m, srv, handlerConfig{Name: "relu-metrics", MaxBodyBytes: 1 << 20,
		Metrics: metrics.Handler(metrics.Options{})})
	x := make([]float32, m.Inputs()[0].Len(1))
	if _, err := srv.Infer(context.Background(), x); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(),
		`cudago_requests_total{model="relu-metrics",outcome="success",reason=""} 1`) {
		t.Errorf("/metrics: %d\n%s", rec.Code, rec.Body.String())
	}
}
