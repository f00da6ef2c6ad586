//go:build cgo

package capi

// Tests of the CNN runtime's Go layer against real results: the models, inputs and onnxruntime
// outputs that scripts/gen-models.py writes into $CUDAGO_MODELS_DIR (meson devenv sets it), run
// through RunHost on the reference executor; bad models, options and arguments; the handle's
// lifetime; concurrent runs; the uint8 NHWC input path. The device-buffer Run needs a GPU for its
// stream and buffers; its tests skip without one.

import (
	"bufio"
	binenc "encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// ---- The manifests (see scripts/gen-models.py and tests/nn/manifest.hpp). ----

type nnTensorFile struct {
	name string
	dims []int
	path string
}

func (f nnTensorFile) numel() int {
	n := 1
	for _, d := range f.dims {
		n *= d
	}
	return n
}

// read returns the file's float32 values, checking its size against the dims.
func (f nnTensorFile) read(t testing.TB) []float32 {
	t.Helper()
	b, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatalf("tensor %q: %v", f.name, err)
	}
	if len(b) != 4*f.numel() {
		t.Fatalf("%s: %d bytes, dims %v need %d", f.path, len(b), f.dims, 4*f.numel())
	}
	v := make([]float32, f.numel())
	for i := range v {
		v[i] = math.Float32frombits(binenc.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

type nnRun struct{ inputs, outputs []nnTensorFile }

// batch is the run's batch size: the first input's first dim.
func (r nnRun) batch() int {
	if len(r.inputs) == 0 || len(r.inputs[0].dims) == 0 {
		return 1
	}
	return r.inputs[0].dims[0]
}

type nnCase struct {
	name, dir, model, kind string
	maxBatch               int
	rtol, atol             float64
	runs                   []nnRun
}

func (c *nnCase) modelPath() string { return filepath.Join(c.dir, c.model) }

func readNNCase(dir, file string) (*nnCase, error) {
	c := &nnCase{name: strings.TrimSuffix(file, ".test"), dir: dir, maxBatch: 1, rtol: 1e-4, atol: 1e-5}
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		w := strings.Fields(sc.Text())
		if len(w) == 0 || strings.HasPrefix(w[0], "#") {
			continue
		}
		bad := func(why string) error {
			return errors.New(file + ":" + strconv.Itoa(line) + ": " + why + ": " + sc.Text())
		}
		var err error
		switch w[0] {
		case "model", "kind":
			if len(w) != 2 {
				return nil, bad("want one value")
			}
			if w[0] == "model" {
				c.model = w[1]
			} else {
				c.kind = w[1]
			}
		case "max_batch":
			if len(w) != 2 {
				return nil, bad("want one value")
			}
			c.maxBatch, err = strconv.Atoi(w[1])
		case "tol":
			if len(w) != 3 {
				return nil, bad("want rtol and atol")
			}
			c.rtol, err = strconv.ParseFloat(w[1], 64)
			if err == nil {
				c.atol, err = strconv.ParseFloat(w[2], 64)
			}
		case "run":
			c.runs = append(c.runs, nnRun{})
		case "input", "output":
			if len(c.runs) == 0 {
				return nil, bad(w[0] + " before run")
			}
			if len(w) < 4 || w[2] != "f32" {
				return nil, bad("want NAME f32 DIMS... FILE")
			}
			tf := nnTensorFile{name: w[1], path: filepath.Join(dir, w[len(w)-1])}
			for _, s := range w[3 : len(w)-1] {
				d, err := strconv.Atoi(s)
				if err != nil {
					return nil, bad(err.Error())
				}
				tf.dims = append(tf.dims, d)
			}
			r := &c.runs[len(c.runs)-1]
			if w[0] == "input" {
				r.inputs = append(r.inputs, tf)
			} else {
				r.outputs = append(r.outputs, tf)
			}
		}
		if err != nil {
			return nil, bad(err.Error())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if c.model == "" {
		return nil, errors.New(file + ": no model line")
	}
	return c, nil
}

// nnModelsDir returns $CUDAGO_MODELS_DIR, failing the test when it is not set: a test of no
// models cannot fail, so their absence is a failure.
func nnModelsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CUDAGO_MODELS_DIR")
	if dir == "" {
		t.Fatal("CUDAGO_MODELS_DIR is not set: run the Go tests through meson " +
			"(meson devenv -C build --workdir go go test ./...) or scripts/test.sh, which set it to " +
			"the generated test models (build/tests/nn/models)")
	}
	return dir
}

// nnCases reads every manifest of the models directory, in name order.
func nnCases(t testing.TB) []*nnCase {
	t.Helper()
	dir := nnModelsDir(t)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("CUDAGO_MODELS_DIR: %v", err)
	}
	var cases []*nnCase
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".test") {
			continue
		}
		c, err := readNNCase(dir, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	return cases
}

// nnCaseNamed returns the named case, failing the test when it was not generated.
func nnCaseNamed(t testing.TB, name string) *nnCase {
	t.Helper()
	for _, c := range nnCases(t) {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("model %s was not generated in %s", name, nnModelsDir(t))
	return nil
}

// nnCompare returns the largest ratio |got-want| / (atol + rtol*|want|) (> 1 fails; NaN counts
// as a failure) and where it is.
func nnCompare(got, want []float32, rtol, atol float64) (worst float64, at int) {
	at = -1
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		r := math.Abs(g-w) / (atol + rtol*math.Abs(w))
		if math.IsNaN(r) {
			r = math.Inf(1)
		}
		if r > worst {
			worst, at = r, i
		}
	}
	return worst, at
}

// nnLoadCase loads a case's model on the reference executor at its max batch.
func nnLoadCase(t testing.TB, c *nnCase, opts NNOptions) *NNModel {
	t.Helper()
	opts.Backend = NNBackendReference
	if opts.MaxBatch == 0 {
		opts.MaxBatch = c.maxBatch
	}
	m, err := NNLoad(c.modelPath(), opts)
	if err != nil {
		t.Fatalf("%s: NNLoad: %v", c.name, err)
	}
	closeT(t, c.name, m)
	return m
}

// nnRunBatch is the batch size at which a manifest run is made: a model with fixed dims runs at
// batch 1 (its declared shapes); otherwise the manifest's first dim is the batch.
func nnRunBatch(m *NNModel, r nnRun) int {
	if !m.Info().DynamicBatch {
		return 1
	}
	return r.batch()
}

// nnCheckRun runs one manifest run through RunHost and compares every output with onnxruntime's.
func nnCheckRun(t *testing.T, m *NNModel, c *nnCase, k int) {
	t.Helper()
	r := c.runs[k]
	batch := nnRunBatch(m, r)
	ins := m.Inputs()
	outs := m.Outputs()
	if len(ins) != len(r.inputs) || len(outs) != len(r.outputs) {
		t.Fatalf("run %d: the model has %d inputs and %d outputs, the manifest %d and %d",
			k, len(ins), len(outs), len(r.inputs), len(r.outputs))
	}
	inputs := make([]any, len(ins))
	for i, f := range r.inputs {
		if ins[i].Name != f.name {
			t.Fatalf("input %d is %q, the manifest's %q", i, ins[i].Name, f.name)
		}
		if ins[i].DType != DTypeF32 {
			t.Errorf("input %q: dtype %v, want float32", f.name, ins[i].DType)
		}
		if got := ins[i].Bytes(batch); got != 4*f.numel() {
			t.Errorf("input %q: Bytes(%d) = %d, the manifest's tensor has %d", f.name, batch, got, 4*f.numel())
		}
		inputs[i] = f.read(t)
	}
	outputs := make([][]float32, len(outs))
	for j, f := range r.outputs {
		if outs[j].Name != f.name {
			t.Fatalf("output %d is %q, the manifest's %q", j, outs[j].Name, f.name)
		}
		if got := outs[j].Len(batch); got != f.numel() {
			t.Fatalf("output %q: Len(%d) = %d, the manifest's tensor has %d", f.name, batch, got, f.numel())
		}
		outputs[j] = make([]float32, f.numel())
		for i := range outputs[j] {
			outputs[j][i] = float32(math.NaN())
		}
	}
	if err := m.RunHost(batch, inputs, outputs); err != nil {
		t.Fatalf("run %d (batch %d): %v", k, batch, err)
	}
	for j, f := range r.outputs {
		want := f.read(t)
		if worst, at := nnCompare(outputs[j], want, c.rtol, c.atol); worst > 1 {
			t.Errorf("run %d output %q element %d: got %g, onnxruntime %g (error %.3g times the bound "+
				"rtol %g atol %g)", k, f.name, at, outputs[j][at], want[at], worst, c.rtol, c.atol)
		}
	}
}

// ---- Against onnxruntime. ----

// Every single-op model and three networks, through RunHost on the reference executor.
func TestNNModelsMatchOnnxruntime(t *testing.T) {
	cases := nnCases(t)
	nets := map[string]bool{"mobilenetv2_pt": false, "squeezenet_pt": false, "vgg_cv9": false}
	ops := 0
	for _, c := range cases {
		if _, ok := nets[c.name]; ok {
			nets[c.name] = true
		} else if c.kind != "op" {
			continue
		} else {
			ops++
		}
		t.Run(c.name, func(t *testing.T) {
			if len(c.runs) == 0 {
				t.Fatal("the manifest has no runs")
			}
			m := nnLoadCase(t, c, NNOptions{})
			info := m.Info()
			if info.Backend != NNBackendReference || info.Precision != NNPrecisionFP32 || info.Device != -1 {
				t.Errorf("Info: backend %v, precision %v, device %d; want reference, fp32, -1",
					info.Backend, info.Precision, info.Device)
			}
			if info.Layers < 1 || info.MaxBatch < 1 {
				t.Errorf("Info: %d layers, max batch %d", info.Layers, info.MaxBatch)
			}
			if info.DynamicBatch && info.MaxBatch != c.maxBatch {
				t.Errorf("Info: max batch %d, loaded with %d", info.MaxBatch, c.maxBatch)
			}
			for k := range c.runs {
				nnCheckRun(t, m, c, k)
			}
		})
	}
	if ops < 40 {
		t.Errorf("only %d single-op models in %s", ops, nnModelsDir(t))
	}
	for name, seen := range nets {
		if !seen {
			t.Errorf("%s was not generated", name)
		}
	}
}

// ---- A model built here: the protobuf fields of ONNX, written by hand. ----

func pbVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// pbInt and pbLen append a varint field and a length-delimited field.
func pbInt(b []byte, field int, v int64) []byte {
	return pbVarint(pbVarint(b, uint64(field)<<3), uint64(v))
}

func pbLen(b []byte, field int, v []byte) []byte {
	b = pbVarint(pbVarint(b, uint64(field)<<3|2), uint64(len(v)))
	return append(b, v...)
}

// nnTinyModel returns an ONNX model x -> op (node name nodeName) -> y, opset 13, with x a float
// tensor of dims (a negative dim is the dynamic "N").
func nnTinyModel(op, nodeName string, dims []int64) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		if d < 0 {
			dim = pbLen(nil, 2, []byte("N"))
		} else {
			dim = pbInt(nil, 1, d)
		}
		shape = pbLen(shape, 1, dim)
	}
	tensorType := pbLen(pbInt(nil, 1, 1), 2, shape) // elem_type FLOAT, shape
	input := pbLen(pbLen(nil, 1, []byte("x")), 2, pbLen(nil, 1, tensorType))
	node := pbLen(nil, 1, []byte("x"))
	node = pbLen(node, 2, []byte("y"))
	node = pbLen(node, 3, []byte(nodeName))
	node = pbLen(node, 4, []byte(op))
	graph := pbLen(nil, 1, node)
	graph = pbLen(graph, 2, []byte("tiny"))
	graph = pbLen(graph, 11, input)
	graph = pbLen(graph, 12, pbLen(nil, 1, []byte("y")))
	model := pbInt(nil, 1, 7) // ir_version
	model = pbLen(model, 2, []byte("cudago-go-test"))
	model = pbLen(model, 7, graph)
	model = pbLen(model, 8, pbInt(pbLen(nil, 1, nil), 2, 13)) // opset "" 13
	return model
}

// The hand-built model runs and computes what it says; an unknown op is refused naming it.
func TestNNTinyModel(t *testing.T) {
	m, err := NNLoadBytes(nnTinyModel("Relu", "relu_node", []int64{-1, 3, 4, 5}),
		NNOptions{Backend: NNBackendReference, MaxBatch: 3})
	must(t, "NNLoadBytes(Relu)", err)
	closeT(t, "model", m)
	ins, outs := m.Inputs(), m.Outputs()
	if len(ins) != 1 || len(outs) != 1 {
		t.Fatalf("%d inputs, %d outputs; want 1 and 1", len(ins), len(outs))
	}
	want := NNTensorInfo{Name: "x", DType: DTypeF32, Dims: []int{3, 3, 4, 5}, BatchAxis: 0, BytesPerItem: 240}
	if !slices.Equal(ins[0].Dims, want.Dims) || ins[0].Name != want.Name || ins[0].DType != want.DType ||
		ins[0].BatchAxis != 0 || ins[0].BytesPerItem != 240 {
		t.Errorf("input %v (%+v), want %+v", ins[0], ins[0], want)
	}
	if s := ins[0].String(); s != `"x" float32[N:3 3 4 5]` {
		t.Errorf("String() = %s", s)
	}
	if outs[0].Name != "y" || outs[0].Len(2) != 120 {
		t.Errorf("output %v: Len(2) = %d, want y and 120", outs[0], outs[0].Len(2))
	}
	if info := m.Info(); !info.DynamicBatch || info.MaxBatch != 3 {
		t.Errorf("Info: dynamic %v, max batch %d; want true, 3", info.DynamicBatch, info.MaxBatch)
	}
	// The cached description is the caller's to change.
	ins[0].Dims[0], ins[0].BytesPerItem = 99, 1
	if again := m.Inputs(); again[0].Dims[0] != 3 || again[0].BytesPerItem != 240 {
		t.Errorf("changing the result of Inputs changed the model's description: %+v", again[0])
	}
	r := newRand(t)
	x := randFloats(r, 120)
	y := make([]float32, 120)
	must(t, "RunHost", m.RunHost(2, []any{x}, [][]float32{y}))
	for i := range x {
		if w := max(x[i], 0); y[i] != w {
			t.Fatalf("relu(%g) = %g at %d", x[i], y[i], i)
		}
	}

	_, err = NNLoadBytes(nnTinyModel("FancyOp", "fancy_node_7", []int64{-1, 3, 4, 5}), NNOptions{})
	wantErr(t, "unknown op", err, ErrInvalidModel)
	var e *Error
	if errors.As(err, &e) && (!strings.Contains(e.Msg, "fancy_node_7") || !strings.Contains(e.Msg, "FancyOp") ||
		e.Op != "nn model load bytes") {
		t.Errorf("unknown op: %v; want the operation \"nn model load bytes\" and a message naming "+
			"the node fancy_node_7 and FancyOp", err)
	}
}

// A model with its weights in an external data file: Load finds it next to the model file,
// LoadBytes in Options.BaseDir only.
func TestNNExternalData(t *testing.T) {
	c := nnCaseNamed(t, "mobilenetv2_cv")
	data, err := os.ReadFile(c.modelPath())
	must(t, "read model", err)
	_, err = NNLoadBytes(data, NNOptions{Backend: NNBackendReference, MaxBatch: c.maxBatch})
	wantErr(t, "external data without BaseDir", err, ErrInvalidModel)
	if err == nil || !strings.Contains(err.Error(), "external data") {
		t.Errorf("external data without BaseDir: %v; want a message saying so", err)
	}
	m, err := NNLoadBytes(data, NNOptions{Backend: NNBackendReference, MaxBatch: c.maxBatch, BaseDir: c.dir})
	must(t, "NNLoadBytes with BaseDir", err)
	closeT(t, "model", m)
	nnCheckRun(t, m, c, 0)
	f := nnLoadCase(t, c, NNOptions{})
	nnCheckRun(t, f, c, 0)
}

// ---- Bad models and bad options. ----

func TestNNBadModels(t *testing.T) {
	c := nnCaseNamed(t, "conv_k3_p1_c3_13x11")
	good, err := os.ReadFile(c.modelPath())
	must(t, "read model", err)
	r := newRand(t)
	for _, n := range []int{1, 16, 1000, 100000} {
		junk := make([]byte, n)
		for i := range junk {
			junk[i] = byte(r.Uint32())
		}
		_, err := NNLoadBytes(junk, NNOptions{})
		wantErr(t, strconv.Itoa(n)+" random bytes", err, ErrInvalidModel)
	}
	for _, cut := range []int{len(good) / 2, len(good) - 1, 10} {
		_, err := NNLoadBytes(good[:cut], NNOptions{})
		wantErr(t, "model cut at "+strconv.Itoa(cut)+" bytes", err, ErrInvalidModel)
		path := filepath.Join(t.TempDir(), "cut.onnx")
		must(t, "write", os.WriteFile(path, good[:cut], 0o644))
		_, err = NNLoad(path, NNOptions{})
		wantErr(t, "model file cut at "+strconv.Itoa(cut)+" bytes", err, ErrInvalidModel)
		var e *Error
		if errors.As(err, &e) && (e.Op != "nn model load" || e.Msg == "") {
			t.Errorf("cut file: %v; want the operation \"nn model load\" and a message", err)
		}
	}
	_, err = NNLoad(filepath.Join(t.TempDir(), "missing.onnx"), NNOptions{})
	wantErr(t, "missing file", err, ErrInvalidArgument)
	_, err = NNLoadBytes(nil, NNOptions{})
	wantErr(t, "no bytes", err, ErrInvalidArgument)
	_, err = NNLoad("a\x00b.onnx", NNOptions{})
	wantErr(t, "NUL in path", err, ErrInvalidArgument)
}

func TestNNBadOptions(t *testing.T) {
	c := nnCaseNamed(t, "conv_k3_p1_c13_7x9_fixedb3")
	conv13 := c.modelPath()
	c3 := nnCaseNamed(t, "conv_k3_p1_c3_13x11").modelPath()
	nan := float32(math.NaN())
	for _, tc := range []struct {
		what   string
		path   string
		opts   NNOptions
		target error
		msg    string // in the message, when not ""
	}{
		{"negative MaxBatch", c3, NNOptions{MaxBatch: -1}, ErrInvalidArgument, "Options.MaxBatch = -1"},
		{"MaxBatch past the limit", c3, NNOptions{MaxBatch: 1 << 40}, ErrInvalidArgument, "max_batch"},
		{"unknown Backend", c3, NNOptions{Backend: 3}, ErrInvalidArgument, "Options.Backend = 3"},
		{"negative Backend", c3, NNOptions{Backend: -1}, ErrInvalidArgument, "Options.Backend = -1"},
		{"unknown Precision", c3, NNOptions{Precision: 4}, ErrInvalidArgument, "Options.Precision = 4"},
		{"unknown InputFormat", c3, NNOptions{InputFormat: 2}, ErrInvalidArgument, "Options.InputFormat = 2"},
		{"negative Device", c3, NNOptions{Device: -1}, ErrInvalidDevice, "Options.Device = -1"},
		{"NaN Mean", c3, NNOptions{Mean: [4]float32{0, nan}}, ErrInvalidArgument, "Options.Mean[1]"},
		{"infinite Std", c3, NNOptions{Std: [4]float32{float32(math.Inf(1))}}, ErrInvalidArgument, "Options.Std[0]"},
		{"NaN InputScale", c3, NNOptions{InputScale: nan}, ErrInvalidArgument, "Options.InputScale"},
		{"NUL in CacheDir", c3, NNOptions{CacheDir: "/tmp/a\x00"}, ErrInvalidArgument, "Options.CacheDir"},
		{"NUL in BaseDir", c3, NNOptions{BaseDir: "\x00"}, ErrInvalidArgument, "Options.BaseDir"},
		{"fp16 on the reference", c3, NNOptions{Backend: NNBackendReference, Precision: NNPrecisionFP16},
			ErrInvalidArgument, "fp32"},
		{"uint8 NHWC with 13 channels", conv13, NNOptions{InputFormat: NNInputUint8NHWC},
			ErrInvalidArgument, `'x'`},
	} {
		m, err := NNLoad(tc.path, tc.opts)
		if err == nil {
			m.Close()
		}
		wantErr(t, tc.what, err, tc.target)
		var e *Error
		if errors.As(err, &e) && (e.Op != "nn model load" || !strings.Contains(e.Msg, tc.msg)) {
			t.Errorf("%s: %v; want the operation \"nn model load\" and %q in the message", tc.what, err, tc.msg)
		}
	}
	// The GPU backend: ErrNoDevice without a device; with one, a model on the GPU (or
	// ErrNotSupported from a library built without the GPU plan).
	n, err := DeviceCount()
	must(t, "DeviceCount", err)
	m, err := NNLoad(c3, NNOptions{Backend: NNBackendGPU})
	switch {
	case n == 0 && !errors.Is(err, ErrNoDevice):
		t.Errorf("Backend GPU without a device: %v; want ErrNoDevice", err)
	case n > 0 && err != nil && !errors.Is(err, ErrNotSupported):
		t.Errorf("Backend GPU: %v", err)
	case err == nil:
		if m.Info().Backend != NNBackendGPU {
			t.Errorf("Backend GPU: the model got %v", m.Info().Backend)
		}
		must(t, "Close", m.Close())
	}
	for _, s := range []string{NNBackend(7).String(), NNPrecision(7).String(), NNInputFormat(7).String(),
		DType(42).String()} {
		if !strings.HasSuffix(s, ")") {
			t.Errorf("String of an unknown value: %q", s)
		}
	}
	if NNBackendReference.String() != "reference" || NNPrecisionBF16.String() != "bf16" ||
		NNInputUint8NHWC.String() != "uint8 NHWC" || DTypeU8.String() != "uint8" {
		t.Error("String of a known value is wrong")
	}
}

// The Go table of element sizes is the library's.
func TestNNDTypeSizes(t *testing.T) {
	for d := DType(0); int(d) < len(dtypeSizes); d++ {
		if got, want := d.Size(), dtypeSizeFromC(d); got != want || got == 0 {
			t.Errorf("%v: Size() = %d, cudago_dtype_size %d", d, got, want)
		}
	}
	if DType(-1).Size() != 0 || DType(99).Size() != 0 {
		t.Error("the size of an unknown DType is not 0")
	}
}

// ---- Bad arguments to a run. ----

func TestNNRunHostArguments(t *testing.T) {
	c := nnCaseNamed(t, "add_same_c13_13x11") // two inputs x, y; output z; max batch 8
	m := nnLoadCase(t, c, NNOptions{})
	const op = "nn model run host"
	per := m.Inputs()[0].Len(1)
	x, y, z := make([]float32, 2*per), make([]float32, 2*per), make([]float32, 2*per)
	must(t, "good run", m.RunHost(2, []any{x, y}, [][]float32{z}))
	for _, tc := range []struct {
		what    string
		batch   int
		inputs  []any
		outputs [][]float32
		msg     string
	}{
		{"batch 0", 0, []any{x, y}, [][]float32{z}, "batch 0 is out of range (1 to the model's max batch 8)"},
		{"negative batch", -3, []any{x, y}, [][]float32{z}, "batch -3 is out of range"},
		{"batch past max", 9, []any{x, y}, [][]float32{z}, "batch 9 is out of range"},
		{"one input", 2, []any{x}, [][]float32{z}, `1 inputs given; the model has 2 ("x", "y")`},
		{"three inputs", 2, []any{x, y, y}, [][]float32{z}, "3 inputs given"},
		{"no outputs", 2, []any{x, y}, nil, `0 outputs given; the model has 1 ("z")`},
		{"nil input", 2, []any{x, nil}, [][]float32{z}, `input 1 ("y") is nil`},
		{"[]float64 input", 2, []any{x, make([]float64, 2*per)}, [][]float32{z}, `input 1 ("y") is a []float64`},
		{"[]byte for float32", 2, []any{make([]byte, 2*per), y}, [][]float32{z},
			`input 0 ("x") is a []uint8; the model takes float32`},
		{"short input", 2, []any{x[:2*per-1], y}, [][]float32{z},
			`input 0 ("x") has ` + strconv.Itoa(2*per-1) + " values; at batch 2 it needs " + strconv.Itoa(2*per)},
		{"input for batch 2 at batch 1", 1, []any{x, y[:per]}, [][]float32{z[:per]}, `input 0 ("x") has`},
		{"long output", 2, []any{x, y}, [][]float32{append(z, 0)}, `output 0 ("z") has`},
		{"output over an input", 2, []any{x, y}, [][]float32{y}, `output 0 ("z") overlaps input 1 ("y")`},
		{"output inside an input", 1, []any{x[:per], x[per:]}, [][]float32{x[per/2 : per/2+per]},
			`output 0 ("z") overlaps input 0 ("x")`},
	} {
		err := m.RunHost(tc.batch, tc.inputs, tc.outputs)
		wantErr(t, tc.what, err, ErrInvalidArgument)
		var e *Error
		if errors.As(err, &e) && (e.Op != op || !strings.Contains(e.Msg, tc.msg)) {
			t.Errorf("%s: %v; want %q in the message", tc.what, err, tc.msg)
		}
	}
	// Inputs may overlap each other (they are only read).
	must(t, "the same slice for both inputs", m.RunHost(2, []any{x, x}, [][]float32{z}))

	// A model with fixed dims runs at batch 1 only, whatever its declared batch.
	fixed := nnLoadCase(t, nnCaseNamed(t, "conv_k3_p1_c13_7x9_fixedb3"), NNOptions{})
	if fixed.Info().DynamicBatch {
		t.Fatal("conv_k3_p1_c13_7x9_fixedb3 has a dynamic batch")
	}
	fin := make([]float32, fixed.Inputs()[0].Len(1))
	fout := make([]float32, fixed.Outputs()[0].Len(1))
	err := fixed.RunHost(2, []any{fin}, [][]float32{fout})
	wantErr(t, "fixed model at batch 2", err, ErrInvalidArgument)
	if err == nil || !strings.Contains(err.Error(), "no dynamic batch dimension") {
		t.Errorf("fixed model at batch 2: %v", err)
	}
	must(t, "fixed model at batch 1", fixed.RunHost(1, []any{fin}, [][]float32{fout}))
	if fixed.Inputs()[0].BatchAxis != -1 || fixed.Inputs()[0].Bytes(1) != fixed.Inputs()[0].Bytes(5) {
		t.Errorf("fixed input: %+v; want batch axis -1 and a size independent of the batch", fixed.Inputs()[0])
	}
}

// ---- Lifetime. ----

func TestNNClose(t *testing.T) {
	c := nnCaseNamed(t, "relu_c1_7x9")
	m, err := NNLoad(c.modelPath(), NNOptions{Backend: NNBackendReference, MaxBatch: 2})
	must(t, "NNLoad", err)
	in := make([]float32, m.Inputs()[0].Len(1))
	out := make([]float32, m.Outputs()[0].Len(1))
	must(t, "RunHost", m.RunHost(1, []any{in}, [][]float32{out}))
	must(t, "Close", m.Close())
	must(t, "second Close", m.Close())
	err = m.RunHost(1, []any{in}, [][]float32{out})
	wantErr(t, "RunHost after Close", err, ErrClosed)
	err = m.Run(nil, 1, nil, nil)
	wantErr(t, "Run after Close", err, ErrClosed)
	if m.Info().MaxBatch != 2 || len(m.Inputs()) != 1 {
		t.Error("the description is gone after Close")
	}
	var nilModel *NNModel
	wantErr(t, "RunHost on nil", nilModel.RunHost(1, nil, nil), ErrInvalidHandle)
	if errors.Is(nilModel.RunHost(1, nil, nil), ErrClosed) {
		t.Error("a nil model's error matches ErrClosed")
	}
	must(t, "Close of nil", nilModel.Close())
}

// Close while runs are in flight: each run succeeds or sees ErrClosed, every Close returns nil
// and exactly one frees the model (the race detector and the C side would see a second free).
func TestNNCloseConcurrent(t *testing.T) {
	c := nnCaseNamed(t, "conv_k3_p1_c3_13x11")
	m, err := NNLoad(c.modelPath(), NNOptions{Backend: NNBackendReference, MaxBatch: 1})
	must(t, "NNLoad", err)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	start := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := make([]float32, m.Inputs()[0].Len(1))
			out := make([]float32, m.Outputs()[0].Len(1))
			<-start
			for {
				err := m.RunHost(1, []any{in}, [][]float32{out})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := m.Close(); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("concurrent Close: %v; want nil or ErrClosed", err)
		}
	}
}

// ---- Concurrency and the uint8 input path. ----

// Eight goroutines run one model at once and all get the results of a single run, bit for bit.
func TestNNConcurrentRunHost(t *testing.T) {
	c := nnCaseNamed(t, "mobilenetv2_pt")
	m := nnLoadCase(t, c, NNOptions{})
	r := c.runs[0]
	batch := nnRunBatch(m, r)
	in := r.inputs[0].read(t)
	ref := make([]float32, m.Outputs()[0].Len(batch))
	must(t, "single run", m.RunHost(batch, []any{in}, [][]float32{ref}))
	if worst, at := nnCompare(ref, r.outputs[0].read(t), c.rtol, c.atol); worst > 1 {
		t.Fatalf("single run: element %d off by %.3g times the bound", at, worst)
	}
	const workers = 8
	results := make([][]float32, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for g := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[g] = make([]float32, len(ref))
			// Each its own input copy too: inputs are read only, but the copy keeps the check
			// honest about whose memory a run reads.
			errs[g] = m.RunHost(batch, []any{slices.Clone(in)}, [][]float32{results[g]})
		}()
	}
	wg.Wait()
	for g := range results {
		if errs[g] != nil {
			t.Errorf("goroutine %d: %v", g, errs[g])
			continue
		}
		for i := range ref {
			if math.Float32bits(results[g][i]) != math.Float32bits(ref[i]) {
				t.Errorf("goroutine %d: element %d is %g, the single run's %g", g, i, results[g][i], ref[i])
				break
			}
		}
	}
}

// Image input taken as uint8 NHWC gives what the float path gives on the same image normalised
// in Go: x[n][c][h][w] = (v[n][h][w][c]*scale - mean[c]) / std[c].
func TestNNUint8Input(t *testing.T) {
	c := nnCaseNamed(t, "conv_k3_p1_c3_13x11")
	mean := [4]float32{0.485, 0.456, 0.406}
	std := [4]float32{0.229, 0.224, 0.225}
	for _, scale := range []float32{0, 1.0 / 128} {
		u8 := nnLoadCase(t, c, NNOptions{InputFormat: NNInputUint8NHWC, InputScale: scale, Mean: mean, Std: std})
		f32 := nnLoadCase(t, c, NNOptions{})
		in := u8.Inputs()[0]
		fin := f32.Inputs()[0]
		if in.DType != DTypeU8 || len(in.Dims) != 4 || in.BatchAxis != 0 {
			t.Fatalf("uint8 input: %v; want uint8 with the batch on axis 0", in)
		}
		n, ch, h, w := fin.Dims[0], fin.Dims[1], fin.Dims[2], fin.Dims[3]
		if !slices.Equal(in.Dims, []int{n, h, w, ch}) || in.BytesPerItem*4 != fin.BytesPerItem {
			t.Fatalf("uint8 input %v (%d bytes per item) is not the NHWC form of %v (%d)", in,
				in.BytesPerItem, fin, fin.BytesPerItem)
		}
		const batch = 3
		r := newRand(t)
		img := make([]byte, in.Len(batch))
		for i := range img {
			img[i] = byte(r.Uint32())
		}
		s := scale
		if s == 0 {
			s = 1.0 / 255
		}
		x := make([]float32, fin.Len(batch))
		for b := 0; b < batch; b++ {
			for k := 0; k < ch; k++ {
				for i := 0; i < h*w; i++ {
					v := float32(img[(b*h*w+i)*ch+k])
					x[(b*ch+k)*h*w+i] = (v*s - mean[k]) / std[k]
				}
			}
		}
		got := make([]float32, u8.Outputs()[0].Len(batch))
		want := make([]float32, len(got))
		must(t, "uint8 run", u8.RunHost(batch, []any{img}, [][]float32{got}))
		must(t, "float run", f32.RunHost(batch, []any{x}, [][]float32{want}))
		// The runtime folds the normalisation into one multiply-add; a few ulp of the inputs.
		if worst, at := nnCompare(got, want, 1e-5, 1e-5); worst > 1 {
			t.Errorf("scale %g: element %d: uint8 path %g, float path %g", scale, at, got[at], want[at])
		}
		err := u8.RunHost(batch, []any{x}, [][]float32{got})
		wantErr(t, "float32 for a uint8 input", err, ErrInvalidArgument)
		if err == nil || !strings.Contains(err.Error(), `input 0 ("x") is a []float32; the model takes uint8`) {
			t.Errorf("float32 for a uint8 input: %v", err)
		}
	}
}

// ---- Device buffers (need a GPU for the stream and the buffers). ----

func TestNNRunDeviceArguments(t *testing.T) {
	c := nnCaseNamed(t, "add_same_c13_13x11")
	m := nnLoadCase(t, c, NNOptions{})
	const op = "nn model run"
	err := m.Run(nil, 1, nil, nil)
	wantErr(t, "nil stream", err, ErrInvalidHandle)

	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	per := m.Inputs()[0].Len(1)
	x, err := NewDeviceBuffer[float32](dev, 2*per)
	must(t, "alloc x", err)
	closeT(t, "x", x)
	z, err := NewDeviceBuffer[float32](dev, 2*per+5)
	must(t, "alloc z", err)
	closeT(t, "z", z)
	b8, err := NewDeviceBuffer[uint8](dev, 8*per)
	must(t, "alloc b8", err)
	closeT(t, "b8", b8)
	in := []NNDeviceTensor{NNAt(x, 0), NNAt(x, 0)}
	out := []NNDeviceTensor{NNAt(z, 5)}

	// Everything right: the reference executor takes host memory only.
	err = m.Run(s, 2, in, out)
	wantErr(t, "Run on the reference executor", err, ErrNotSupported)
	if err == nil || !strings.Contains(err.Error(), "host memory") {
		t.Errorf("Run on the reference executor: %v; want a message pointing to host memory", err)
	}
	for _, tc := range []struct {
		what    string
		batch   int
		in, out []NNDeviceTensor
		target  error
		msg     string
	}{
		{"batch 0", 0, in, out, ErrInvalidArgument, "batch 0 is out of range"},
		{"one input", 2, in[:1], out, ErrInvalidArgument, "1 inputs given"},
		{"no outputs", 2, in, nil, ErrInvalidArgument, "0 outputs given"},
		{"nil buffer", 2, []NNDeviceTensor{NNAt[float32](nil, 0), in[1]}, out, ErrInvalidHandle,
			`nil *DeviceBuffer for input 0 ("x")`},
		{"uint8 buffer", 2, []NNDeviceTensor{in[0], NNAt(b8, 0)}, out, ErrInvalidArgument,
			`input 1 ("y") is a buffer of uint8; the model takes float32`},
		{"negative offset", 2, in, []NNDeviceTensor{NNAt(z, -1)}, ErrInvalidArgument,
			`negative offset -1 for output 0 ("z")`},
		{"offset past the end", 2, in, []NNDeviceTensor{NNAt(z, 2*per+6)}, ErrOutOfRange, `output 0 ("z") needs`},
		{"range past the end", 2, in, []NNDeviceTensor{NNAt(z, 6)}, ErrOutOfRange, `output 0 ("z") needs`},
		{"input too short", 2, []NNDeviceTensor{NNAt(x, 1), in[1]}, out, ErrOutOfRange, `input 0 ("x") needs`},
	} {
		err := m.Run(s, tc.batch, tc.in, tc.out)
		wantErr(t, tc.what, err, tc.target)
		var e *Error
		if errors.As(err, &e) && (e.Op != op || !strings.Contains(e.Msg, tc.msg)) {
			t.Errorf("%s: %v; want %q in the message", tc.what, err, tc.msg)
		}
	}
	// A closed buffer.
	gone, err := NewDeviceBuffer[float32](dev, 2*per)
	must(t, "alloc", err)
	must(t, "close", gone.Close())
	err = m.Run(s, 2, []NNDeviceTensor{NNAt(gone, 0), in[1]}, out)
	wantErr(t, "closed buffer", err, ErrClosed)
}

// The GPU plan through both runs, at fp32, against onnxruntime with the bound of the C++ GPU
// tests (tests/nn/gpu_test.cpp): RunHost, and Run on device buffers with the tensors at element
// offsets. Skips without a GPU, or with a library built without the GPU plan.
func TestNNRunGPU(t *testing.T) {
	dev := requireGPU(t)
	s, err := NewStream(dev, StreamOptions{})
	must(t, "NewStream", err)
	closeT(t, "stream", s)
	for _, name := range []string{"conv_k3_p1_c3_13x11", "add_same_c13_13x11", "vgg_cv9"} {
		c := nnCaseNamed(t, name)
		m, err := NNLoad(c.modelPath(), NNOptions{Backend: NNBackendGPU, Precision: NNPrecisionFP32,
			MaxBatch: c.maxBatch})
		if errors.Is(err, ErrNotSupported) {
			t.Skipf("this libcudago has no GPU plan: %v", err)
		}
		must(t, name+": NNLoad", err)
		closeT(t, name, m)
		info := m.Info()
		if info.Backend != NNBackendGPU || info.Precision != NNPrecisionFP32 || info.Device != dev.Ordinal() {
			t.Errorf("%s: Info %+v; want the GPU plan in fp32 on device %d", name, info, dev.Ordinal())
		}
		r := c.runs[len(c.runs)-1]
		batch := nnRunBatch(m, r)
		inputs := make([]any, len(r.inputs))
		for i, f := range r.inputs {
			inputs[i] = f.read(t)
		}
		want := make([][]float32, len(r.outputs))
		got := make([][]float32, len(r.outputs))
		for j, f := range r.outputs {
			want[j] = f.read(t)
			got[j] = make([]float32, len(want[j]))
		}
		rtol := max(c.rtol*10, 1e-3)
		atol := max(c.atol*10, 1e-4)
		if c.kind == "net" {
			atol = max(c.atol*10, 2e-3)
		}
		check := func(how string) {
			t.Helper()
			for j := range want {
				scale := 1.0
				for _, w := range want[j] {
					scale = max(scale, math.Abs(float64(w)))
				}
				if worst, at := nnCompare(got[j], want[j], rtol, atol*scale); worst > 1 {
					t.Errorf("%s %s output %d element %d: got %g, onnxruntime %g (%.3g times the bound)",
						name, how, j, at, got[j][at], want[j][at], worst)
				}
			}
		}
		// The graphs of RunHost's and s's batch size, captured ahead: the runs capture none.
		must(t, name+": Prepare", m.Prepare(nil, batch))
		must(t, name+": Prepare", m.Prepare(s, batch, batch))
		wantGraphs := func(how string, want int) {
			t.Helper()
			n, took, err := m.Graphs()
			must(t, "Graphs", err)
			if n != want || took <= 0 {
				t.Errorf("%s %s: %d graphs captured in %v; want %d, in a positive time", name, how, n, took, want)
			}
		}
		wantGraphs("after Prepare", 2)
		must(t, name+": RunHost", m.RunHost(batch, inputs, got))
		check("RunHost")
		wantGraphs("after RunHost", 2)

		// Run: each tensor 3 elements into a buffer of its own.
		const pad = 3
		var ins, outs []NNDeviceTensor
		for i := range inputs {
			x := inputs[i].([]float32)
			b, err := NewDeviceBuffer[float32](dev, pad+len(x))
			must(t, "alloc", err)
			closeT(t, "input buffer", b)
			must(t, "copy in", b.CopyFromHostAt(pad, x))
			ins = append(ins, NNAt(b, pad))
		}
		outBufs := make([]*DeviceBuffer[float32], len(got))
		for j := range got {
			b, err := NewDeviceBuffer[float32](dev, pad+len(got[j]))
			must(t, "alloc", err)
			closeT(t, "output buffer", b)
			outBufs[j] = b
			outs = append(outs, NNAt(b, pad))
			clear(got[j])
		}
		must(t, name+": Run", m.Run(s, batch, ins, outs))
		must(t, "Synchronize", s.Synchronize())
		for j, b := range outBufs {
			must(t, "copy out", b.CopyToHostAt(got[j], pad))
		}
		check("Run")
		wantGraphs("after Run", 2)
	}
}

// Prepare on the reference executor captures nothing but checks its arguments as on the GPU.
func TestNNPrepareArguments(t *testing.T) {
	c := nnCaseNamed(t, "add_same_c13_13x11")
	m := nnLoadCase(t, c, NNOptions{Backend: NNBackendReference, MaxBatch: 4})
	const op = "nn model prepare"
	must(t, "Prepare", m.Prepare(nil, 1, 4, 2, 4))
	must(t, "Prepare none", m.Prepare(nil))
	for _, tc := range []struct {
		what  string
		sizes []int
		msg   string
	}{
		{"batch 0", []int{1, 0}, "batch 0 is out of range"},
		{"past max batch", []int{5}, "batch 5 is out of range (1 to the model's max batch 4)"},
		{"negative", []int{-1}, "batch -1 is out of range"},
	} {
		err := m.Prepare(nil, tc.sizes...)
		wantErr(t, tc.what, err, ErrInvalidArgument)
		var e *Error
		if errors.As(err, &e) && (e.Op != op || !strings.Contains(e.Msg, tc.msg)) {
			t.Errorf("%s: %v; want %q in the message", tc.what, err, tc.msg)
		}
	}
	n, took, err := m.Graphs()
	if err != nil || n != 0 || took != 0 {
		t.Errorf("Graphs on the reference executor: %d, %v, %v; want 0, 0, nil", n, took, err)
	}
	var none *NNModel
	wantErr(t, "nil model", none.Prepare(nil, 1), ErrInvalidHandle)
	must(t, "Close", m.Close())
	wantErr(t, "closed model", m.Prepare(nil, 1), ErrClosed)
	_, _, err = m.Graphs()
	wantErr(t, "closed model Graphs", err, ErrClosed)
}
