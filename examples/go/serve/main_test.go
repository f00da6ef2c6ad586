package main

// Tests of the command: a whole run on a free port (start, the backend line, requests, a
// graceful stop that answers the request in flight), and its errors.

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lineWriter hands each complete line written to it to a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	lines chan string
	all   strings.Builder
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case w.lines <- string(w.buf[:i]):
		default:
		}
		w.buf = w.buf[i+1:]
	}
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// TestRun: the command on port 0 says which backend it got and where it listens, serves, and on
// SIGTERM answers the request in flight (held in the queue by a long queue delay), then
// refuses new ones and returns nil.
func TestRun(t *testing.T) {
	model := modelPath(t, "relu_c13_13x11.onnx")
	out := &lineWriter{lines: make(chan string, 100)}
	var stderr strings.Builder
	stop := make(chan os.Signal, 2)
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"-addr", "127.0.0.1:0", "-name", "relu", "-max-queue-delay", "400ms",
			"-backend", "reference", model}, out, &stderr, stop)
	}()
	var base string
	for base == "" {
		select {
		case line := <-out.lines:
			if strings.HasPrefix(line, "listening on ") {
				base = strings.TrimSuffix(strings.TrimPrefix(line, "listening on "), "/v2/models/relu")
			}
		case err := <-done:
			t.Fatalf("run returned %v before listening; output:\n%s%s", err, out, stderr.String())
		case <-time.After(30 * time.Second):
			t.Fatalf("no listening line in 30 s; output:\n%s", out)
		}
	}
	if !strings.Contains(out.String(), "backend: reference executor") {
		t.Errorf("no backend line naming the reference executor:\n%s", out)
	}
	if r := do(t, "GET", base+"/v2/models/relu/ready", nil, nil); r.code != http.StatusOK {
		t.Fatalf("ready: %d", r.code)
	}
	x := make([]float32, 13*13*11)
	for i := range x {
		x[i] = float32(i%5) - 2
	}
	body := jsonBody(t, map[string]any{"inputs": []any{map[string]any{"name": "x", "shape": []int{1, 13, 13, 11}, "datatype": "FP32", "data": x}}})
	inflight := make(chan reply, 1)
	go func() {
		r, err := doErr("POST", base+"/v2/models/relu/infer", nil, body)
		if err != nil {
			r = reply{code: -1, body: []byte(err.Error())}
		}
		inflight <- r
	}()
	time.Sleep(100 * time.Millisecond) // the request waits in the queue
	stop <- syscall.SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return 30 s after SIGTERM")
	}
	r := <-inflight
	res := parseReply(t, r)
	for i, v := range res.Outputs[0].Data {
		if want := max(x[i], 0); v != want {
			t.Fatalf("in-flight request: y[%d] = %v, want %v", i, v, want)
		}
	}
	if _, err := doErr("GET", base+"/v2/health/live", nil, nil); err == nil {
		t.Error("the server still answers after run returned")
	}
	if s := out.String(); !strings.Contains(s, "terminated: shutting down") || !strings.Contains(s, "served 1 requests (1 succeeded)") {
		t.Errorf("output:\n%s", s)
	}
}

func TestRunErrors(t *testing.T) {
	model := modelPath(t, "relu_c13_13x11.onnx")
	cases := []struct {
		args  []string
		msg   string
		usage bool
	}{
		{nil, "no model", true},
		{[]string{model, model}, "one model only", true},
		{[]string{"-max-batch", "0", model}, "-max-batch 0", true},
		{[]string{"-backend", "tpu", model}, `"tpu" is not auto, gpu or reference`, true},
		{[]string{"-preferred", "4,x", model}, "comma-separated integers", true},
		{[]string{"-name", "a/b", model}, `-name "a/b"`, true},
		{[]string{"-bogus", model}, "flag provided but not defined", true},
		{[]string{"/nonexistent/model.onnx"}, "no such file", false},
		{[]string{"-addr", "127.0.0.1:-5", model}, "127.0.0.1:-5", false},
	}
	for _, c := range cases {
		err := run(c.args, io.Discard, io.Discard, make(chan os.Signal))
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: error %v, want %q", c.args, err, c.msg)
			continue
		}
		var u usageError
		if errors.As(err, &u) != c.usage {
			t.Errorf("%q: %v is a usage error: %v, want %v", c.args, err, !c.usage, c.usage)
		}
	}
	var help strings.Builder
	if err := run([]string{"-h"}, &help, io.Discard, nil); err != nil {
		t.Fatalf("-h: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(help.String()))
	sc.Scan()
	if sc.Text() != "usage: serve [flags] MODEL.onnx" || !strings.Contains(help.String(), "-max-body-bytes") {
		t.Errorf("-h:\n%s", help.String())
	}
}
