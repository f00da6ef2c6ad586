//go:build cgo

package nn_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/cudago/cudago/go/nn"
)

// readFloats reads a file of little-endian float32 values.
func readFloats(path string) ([]float32, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v := make([]float32, len(raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v, nil
}

// argmax returns the index of the largest value.
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Loads MobileNetV2 on the reference executor (no GPU needed), runs it on a batch of two images
// and reads the class of each. The model and the images are the test models that
// scripts/gen-models.py generates (random weights); meson devenv points CUDAGO_MODELS_DIR at
// them. Both images are class 755 for onnxruntime too, by a wide margin.
func Example() {
	dir := os.Getenv("CUDAGO_MODELS_DIR")
	m, err := nn.Load(filepath.Join(dir, "mobilenetv2_pt.onnx"),
		nn.Options{Backend: nn.Reference, MaxBatch: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	info := m.Info()
	fmt.Println("executor:", info.Backend, info.Precision)
	in, out := m.Inputs()[0], m.Outputs()[0]
	fmt.Println("input: ", in)
	fmt.Println("output:", out)

	const batch = 2
	x, err := readFloats(filepath.Join(dir, "mobilenetv2_pt.r0.input.bin")) // 2 images, NCHW
	if err != nil {
		fmt.Println(err)
		return
	}
	logits := make([]float32, out.Len(batch))
	if err := m.RunHost(batch, []any{x}, [][]float32{logits}); err != nil {
		fmt.Println(err)
		return
	}
	classes := len(logits) / batch
	for i := 0; i < batch; i++ {
		fmt.Println("image", i, "class", argmax(logits[i*classes:(i+1)*classes]))
	}
	// Output:
	// executor: reference fp32
	// input:  "input" float32[N:4 3 96 96]
	// output: "logits" float32[N:4 1000]
	// image 0 class 755
	// image 1 class 755
}

// Image inputs as bytes: with Uint8NHWC the model's NCHW float input is given as uint8 NHWC
// (height, width, then the channels of each pixel, as decoders write them), and the runtime
// normalises it: x = (v/255 - Mean[c]) / Std[c].
func ExampleOptions_uint8() {
	m, err := nn.Load("mobilenetv2.onnx", nn.Options{
		MaxBatch:    8,
		InputFormat: nn.Uint8NHWC,
		Mean:        [4]float32{0.485, 0.456, 0.406},
		Std:         [4]float32{0.229, 0.224, 0.225},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	in := m.Inputs()[0] // "input" uint8[N:8 224 224 3]
	pixels := make([]byte, in.Len(1))
	// ... decode an image into pixels ...
	logits := make([]float32, m.Outputs()[0].Len(1))
	err = m.RunHost(1, []any{pixels}, [][]float32{logits})
	fmt.Println(err)
}
