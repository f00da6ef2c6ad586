package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/cudago/cudago/go/nn"
	"github.com/cudago/cudago/go/serve"
)

// FuzzInfer feeds the infer endpoint arbitrary bodies, with and without the binary tensor
// extension's header: every answer is one of the statuses the handler documents, with a JSON
// error body for the failures, and nothing panics or hangs. Under plain `go test` it runs the
// seeds (valid JSON and binary requests, and broken ones); `go test -fuzz FuzzInfer` explores.
func FuzzInfer(f *testing.F) {
	x := make([]float32, 13*13*11)
	for i := range x {
		x[i] = float32(i%17) - 8
	}
	js, _ := json.Marshal(map[string]any{"id": "1", "inputs": []any{map[string]any{
		"name": "x", "shape": []int{1, 13, 13, 11}, "datatype": "FP32", "data": x}}})
	f.Add(js, int64(-1))
	hdr, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{
		"name": "x", "shape": []int{1, 13, 13, 11}, "datatype": "FP32",
		"parameters": map[string]any{"binary_data_size": len(x) * 4}}},
		"outputs": []any{map[string]any{"name": "y", "parameters": map[string]any{"binary_data": true}}}})
	raw := make([]byte, len(x)*4)
	for i, v := range x {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	f.Add(append(append([]byte{}, hdr...), raw...), int64(len(hdr)))
	f.Add(append(append([]byte{}, hdr...), raw[:100]...), int64(len(hdr)))
	f.Add(hdr, int64(len(hdr)+5))
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[1,13,13,-1],"datatype":"FP32","data":[1]}]}`), int64(-1))
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[99999999999,13,13,11],"datatype":"FP32","data":[]}]}`), int64(-1))
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[1,13,13,11],"datatype":"BYTES","data":[[[[1]]]]}]}`), int64(-1))
	f.Add([]byte(`{`), int64(-1))

	m := loadModel(f, "relu_c13_13x11.onnx", nn.Options{MaxBatch: 4})
	srv, err := serve.New(m, serve.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	h := newHandler(m, srv, handlerConfig{Name: "relu", MaxBodyBytes: 1 << 20})
	ok := map[int]bool{200: true, 400: true, 413: true, 415: true, 503: true, 504: true}
	f.Fuzz(func(t *testing.T, body []byte, headerLen int64) {
		req := httptest.NewRequest(http.MethodPost, "/v2/models/relu/infer", bytes.NewReader(body))
		if headerLen >= 0 {
			req.Header.Set("Inference-Header-Content-Length", strconv.FormatInt(headerLen, 10))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !ok[rec.Code] {
			t.Fatalf("status %d for a %d-byte body: %s", rec.Code, len(body), rec.Body.String())
		}
		if rec.Code != 200 {
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("status %d without a JSON error message: %q", rec.Code, rec.Body.String())
			}
		}
	})
}
