//go:build cgo

package nn_test

// Tests of the facade: every exported function and method of the package is called, and what it
// returns is checked against the implementation's contract: two models run through Load and
// LoadBytes against the onnxruntime references that scripts/gen-models.py wrote into
// $CUDAGO_MODELS_DIR, every field of Options is shown to arrive in its place (by its error
// message or its effect), and errors match the public sentinels with the implementation's
// operation names. Run needs a GPU for its stream; that check skips without one.

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/testutil"
	"github.com/cudago/cudago/go/nn"
)

func modelsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CUDAGO_MODELS_DIR")
	if dir == "" {
		t.Fatal("CUDAGO_MODELS_DIR is not set: run the Go tests through meson " +
			"(meson devenv -C build --workdir go go test ./...) or scripts/test.sh")
	}
	return dir
}

// refRun is the first run of a generated model's manifest (NAME.test).
type refRun struct {
	maxBatch, batch int
	rtol, atol      float64
	inputs, outputs []string // tensor files, in the model's order
}

func readRefRun(t *testing.T, name string) refRun {
	t.Helper()
	dir := modelsDir(t)
	f, err := os.Open(filepath.Join(dir, name+".test"))
	testutil.Must(t, "open manifest", err)
	defer f.Close()
	r := refRun{maxBatch: 1, batch: 1}
	runs := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) == 0 {
			continue
		}
		switch w[0] {
		case "max_batch":
			r.maxBatch, err = strconv.Atoi(w[1])
		case "tol":
			r.rtol, err = strconv.ParseFloat(w[1], 64)
			if err == nil {
				r.atol, err = strconv.ParseFloat(w[2], 64)
			}
		case "run":
			runs++
		case "input", "output":
			if runs != 1 {
				continue
			}
			file := filepath.Join(dir, w[len(w)-1])
			if w[0] == "input" {
				if len(r.inputs) == 0 {
					r.batch, err = strconv.Atoi(w[3])
				}
				r.inputs = append(r.inputs, file)
			} else {
				r.outputs = append(r.outputs, file)
			}
		}
		testutil.Must(t, name+".test: "+sc.Text(), err)
	}
	testutil.Must(t, "read manifest", sc.Err())
	return r
}

func mustFloats(t *testing.T, path string) []float32 {
	t.Helper()
	v, err := readFloats(path)
	testutil.Must(t, "read "+path, err)
	return v
}

// checkAgainst runs r on m and compares with onnxruntime's outputs.
func checkAgainst(t *testing.T, name string, m *nn.Model, r refRun) {
	t.Helper()
	batch := r.batch
	if !m.Info().DynamicBatch {
		batch = 1
	}
	inputs := make([]any, len(r.inputs))
	for i, f := range r.inputs {
		inputs[i] = mustFloats(t, f)
	}
	outs := m.Outputs()
	outputs := make([][]float32, len(outs))
	for j := range outs {
		outputs[j] = make([]float32, outs[j].Len(batch))
	}
	testutil.Must(t, name+" RunHost", m.RunHost(batch, inputs, outputs))
	for j, f := range r.outputs {
		want := mustFloats(t, f)
		if len(want) != len(outputs[j]) {
			t.Fatalf("%s output %d: %d values, onnxruntime %d", name, j, len(outputs[j]), len(want))
		}
		for i := range want {
			g, w := float64(outputs[j][i]), float64(want[i])
			if !(math.Abs(g-w) <= r.atol+r.rtol*math.Abs(w)) {
				t.Fatalf("%s output %d element %d: got %g, onnxruntime %g", name, j, i, g, w)
			}
		}
	}
}

// Load and LoadBytes, Info, Inputs, Outputs and RunHost against onnxruntime on two models.
func TestFacadeRunsMatchOnnxruntime(t *testing.T) {
	for _, name := range []string{"conv_k3_p1_c3_13x11", "vgg_cv9"} {
		r := readRefRun(t, name)
		path := filepath.Join(modelsDir(t), name+".onnx")
		m, err := nn.Load(path, nn.Options{Backend: nn.Reference, MaxBatch: r.maxBatch})
		testutil.Must(t, name+" Load", err)
		info := m.Info()
		if info.Backend != nn.Reference || info.Precision != nn.FP32 || info.Device != -1 ||
			info.MaxBatch != r.maxBatch || !info.DynamicBatch || info.Layers < 1 || info.WeightBytes == 0 {
			t.Errorf("%s Info: %+v", name, info)
		}
		if len(m.Inputs()) != len(r.inputs) || len(m.Outputs()) != len(r.outputs) {
			t.Fatalf("%s: %d inputs and %d outputs, the manifest %d and %d", name, len(m.Inputs()),
				len(m.Outputs()), len(r.inputs), len(r.outputs))
		}
		in := m.Inputs()[0]
		if in.DType != nn.F32 || in.BatchAxis != 0 || in.Dims[0] != r.maxBatch ||
			in.Bytes(3) != 3*in.BytesPerItem || in.Len(2) != in.Bytes(2)/4 ||
			!strings.HasPrefix(in.String(), strconv.Quote(in.Name)+" float32[N:") {
			t.Errorf("%s input: %+v (%v)", name, in, in)
		}
		checkAgainst(t, name+" (Load)", m, r)
		testutil.Must(t, name+" Close", m.Close())

		data, err := os.ReadFile(path)
		testutil.Must(t, "read model", err)
		m, err = nn.LoadBytes(data, nn.Options{Backend: nn.Reference, MaxBatch: r.maxBatch})
		testutil.Must(t, name+" LoadBytes", err)
		checkAgainst(t, name+" (LoadBytes)", m, r)
		testutil.Must(t, name+" Close", m.Close())
	}
}

// Every field of Options reaches the implementation: those it refuses by their messages, the
// others by their effect.
func TestFacadeOptions(t *testing.T) {
	dir := modelsDir(t)
	c3 := filepath.Join(dir, "conv_k3_p1_c3_13x11.onnx")
	nan := float32(math.NaN())
	for _, c := range []struct {
		what   string
		opts   nn.Options
		target error
		msg    string
	}{
		{"Device", nn.Options{Device: -1}, cudago.ErrInvalidDevice, "Options.Device = -1"},
		{"Backend", nn.Options{Backend: 9}, cudago.ErrInvalidArgument, "Options.Backend = 9"},
		{"Precision", nn.Options{Precision: 9}, cudago.ErrInvalidArgument, "Options.Precision = 9"},
		{"Precision on the reference", nn.Options{Backend: nn.Reference, Precision: nn.BF16},
			cudago.ErrInvalidArgument, "fp32 only"},
		{"MaxBatch", nn.Options{MaxBatch: -2}, cudago.ErrInvalidArgument, "Options.MaxBatch = -2"},
		{"CacheDir", nn.Options{CacheDir: "\x00"}, cudago.ErrInvalidArgument, "Options.CacheDir"},
		{"BaseDir", nn.Options{BaseDir: "\x00"}, cudago.ErrInvalidArgument, "Options.BaseDir"},
		{"InputFormat", nn.Options{InputFormat: 9}, cudago.ErrInvalidArgument, "Options.InputFormat = 9"},
		{"InputScale", nn.Options{InputScale: nan}, cudago.ErrInvalidArgument, "Options.InputScale"},
		{"Mean", nn.Options{Mean: [4]float32{2: nan}}, cudago.ErrInvalidArgument, "Options.Mean[2]"},
		{"Std", nn.Options{Std: [4]float32{3: nan}}, cudago.ErrInvalidArgument, "Options.Std[3]"},
	} {
		_, err := nn.Load(c3, c.opts)
		testutil.WantErr(t, c.what, err, c.target, "nn model load", c.msg)
	}
	if n, err := cudago.DeviceCount(); err == nil && n == 0 {
		_, err := nn.Load(c3, nn.Options{Backend: nn.GPU})
		testutil.WantErr(t, "Backend GPU without a device", err, cudago.ErrNoDevice, "nn model load")
	}

	// MaxBatch and NoFusion, by the model's description.
	mob := filepath.Join(dir, "mobilenetv2_pt.onnx")
	fused, err := nn.Load(mob, nn.Options{Backend: nn.Reference, MaxBatch: 3})
	testutil.Must(t, "Load", err)
	defer fused.Close()
	plain, err := nn.Load(mob, nn.Options{Backend: nn.Reference, MaxBatch: 3, NoFusion: true})
	testutil.Must(t, "Load NoFusion", err)
	defer plain.Close()
	if fused.Info().MaxBatch != 3 || fused.Inputs()[0].Dims[0] != 3 {
		t.Errorf("MaxBatch 3: Info %+v, input %v", fused.Info(), fused.Inputs()[0])
	}
	if a, b := fused.Info().Layers, plain.Info().Layers; a >= b {
		t.Errorf("NoFusion: %d layers fused, %d unfused; want more unfused", a, b)
	}

	// BaseDir: LoadBytes finds the external data there, and only there.
	ext := filepath.Join(dir, "mobilenetv2_cv.onnx")
	data, err := os.ReadFile(ext)
	testutil.Must(t, "read", err)
	_, err = nn.LoadBytes(data, nn.Options{})
	testutil.WantErr(t, "external data without BaseDir", err, cudago.ErrInvalidModel,
		"nn model load bytes", "external data")
	m, err := nn.LoadBytes(data, nn.Options{Backend: nn.Reference, BaseDir: dir})
	testutil.Must(t, "LoadBytes with BaseDir", err)
	testutil.Must(t, "Close", m.Close())

	// InputFormat, InputScale, Mean and Std: the uint8 path against the float path normalised
	// here, with a distinct value for each channel.
	opts := nn.Options{Backend: nn.Reference, MaxBatch: 2, InputFormat: nn.Uint8NHWC, InputScale: 1.0 / 64,
		Mean: [4]float32{0.5, -1, 2}, Std: [4]float32{0.25, 2, 0.5}}
	u8, err := nn.Load(c3, opts)
	testutil.Must(t, "Load Uint8NHWC", err)
	defer u8.Close()
	f32, err := nn.Load(c3, nn.Options{Backend: nn.Reference, MaxBatch: 2})
	testutil.Must(t, "Load", err)
	defer f32.Close()
	in, fin := u8.Inputs()[0], f32.Inputs()[0]
	if in.DType != nn.U8 || in.DType.Size() != 1 {
		t.Fatalf("Uint8NHWC input: %v", in)
	}
	const batch = 2
	ch, h, w := fin.Dims[1], fin.Dims[2], fin.Dims[3]
	img := make([]byte, in.Len(batch))
	x := make([]float32, fin.Len(batch))
	for b := 0; b < batch; b++ {
		for i := 0; i < h*w; i++ {
			for k := 0; k < ch; k++ {
				v := byte((b*131 + i*7 + k*61) % 256)
				img[(b*h*w+i)*ch+k] = v
				x[(b*ch+k)*h*w+i] = (float32(v)*opts.InputScale - opts.Mean[k]) / opts.Std[k]
			}
		}
	}
	got := make([]float32, u8.Outputs()[0].Len(batch))
	want := make([]float32, len(got))
	testutil.Must(t, "uint8 run", u8.RunHost(batch, []any{img}, [][]float32{got}))
	testutil.Must(t, "float run", f32.RunHost(batch, []any{x}, [][]float32{want}))
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-4+1e-4*math.Abs(float64(want[i])) {
			t.Fatalf("element %d: uint8 path %g, float path %g", i, got[i], want[i])
		}
	}
}

func TestFacadeErrors(t *testing.T) {
	dir := modelsDir(t)
	_, err := nn.LoadBytes([]byte("certainly not an ONNX model"), nn.Options{})
	testutil.WantErr(t, "LoadBytes garbage", err, cudago.ErrInvalidModel, "nn model load bytes")
	_, err = nn.LoadBytes(nil, nn.Options{})
	testutil.WantErr(t, "LoadBytes nil", err, cudago.ErrInvalidArgument, "nn model load bytes")
	_, err = nn.Load(filepath.Join(t.TempDir(), "none.onnx"), nn.Options{})
	testutil.WantErr(t, "Load missing file", err, cudago.ErrInvalidArgument, "nn model load")

	m, err := nn.Load(filepath.Join(dir, "add_same_c13_13x11.onnx"),
		nn.Options{Backend: nn.Reference, MaxBatch: 2})
	testutil.Must(t, "Load", err)
	n := m.Inputs()[0].Len(1)
	x, z := make([]float32, n), make([]float32, n)
	testutil.Must(t, "RunHost", m.RunHost(1, []any{x, x}, [][]float32{z}))
	testutil.WantErr(t, "RunHost batch 3", m.RunHost(3, []any{x, x}, [][]float32{z}),
		cudago.ErrInvalidArgument, "nn model run host", "batch 3 is out of range")
	testutil.WantErr(t, "RunHost one input", m.RunHost(1, []any{x}, [][]float32{z}),
		cudago.ErrInvalidArgument, "nn model run host", "1 inputs given")
	testutil.WantErr(t, "RunHost short output", m.RunHost(1, []any{x, x}, [][]float32{z[1:]}),
		cudago.ErrInvalidArgument, "nn model run host", `output 0 ("z") has`)
	testutil.WantNil(t, "Run nil stream", m.Run(nil, 1, nil, nil), "nn model run", "nil *Stream")

	testutil.Must(t, "Close", m.Close())
	testutil.Must(t, "second Close", m.Close())
	testutil.WantErr(t, "RunHost after Close", m.RunHost(1, []any{x, x}, [][]float32{z}),
		cudago.ErrClosed, "nn model run host", "use of closed model")
	testutil.WantErr(t, "Run after Close", m.Run(nil, 1, nil, nil), cudago.ErrClosed, "nn model run")
	if m.Info().MaxBatch != 2 || len(m.Outputs()) != 1 {
		t.Error("the description is gone after Close")
	}
	var none *nn.Model
	testutil.WantNil(t, "RunHost nil model", none.RunHost(1, nil, nil), "nn model run host", "nil *Model")
}

// Run forwards the stream, the batch and the tensors: on the reference executor every argument
// is checked and the run is refused for host memory.
func TestFacadeRun(t *testing.T) {
	dev := testutil.RequireGPU(t)
	m, err := nn.Load(filepath.Join(modelsDir(t), "add_same_c13_13x11.onnx"),
		nn.Options{Backend: nn.Reference, MaxBatch: 2})
	testutil.Must(t, "Load", err)
	defer m.Close()
	s, err := cudago.NewStream(dev, cudago.StreamOptions{})
	testutil.Must(t, "NewStream", err)
	defer s.Close()
	n := m.Inputs()[0].Len(2)
	buf, err := cudago.NewDeviceBuffer[float32](dev, 3*n)
	testutil.Must(t, "alloc", err)
	defer buf.Close()
	in := []nn.DeviceTensor{nn.At(buf, 0), nn.At(buf, n)}
	testutil.WantErr(t, "Run out of range", m.Run(s, 2, in, []nn.DeviceTensor{nn.At(buf, 2*n+1)}),
		cudago.ErrOutOfRange, "nn model run", `output 0 ("z") needs`, "at batch 2 from element "+strconv.Itoa(2*n+1))
	testutil.WantErr(t, "Run nil buffer", m.Run(s, 2, in, []nn.DeviceTensor{nn.At[float32](nil, 0)}),
		cudago.ErrInvalidHandle, "nn model run", `nil *DeviceBuffer for output 0 ("z")`)
	testutil.WantErr(t, "Run", m.Run(s, 2, in, []nn.DeviceTensor{nn.At(buf, 2*n)}),
		cudago.ErrNotSupported, "nn model run", "host memory")
}
