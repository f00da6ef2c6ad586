//go:build cgo

package capi

import (
	"errors"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// NNLoadBytes (cudago_nn_model_load_bytes: the ONNX parser, the lowering and shape inference)
// with fuzzed model bytes, loaded on the reference executor at max batch 1. The contract:
//
//   - a load fails only with ErrInvalidModel (not ONNX, damaged, unsupported), ErrInvalidArgument
//     (the documented refusals of arguments) or ErrOutOfMemory, as an *Error of the operation
//     "nn model load bytes" with a message;
//   - a loaded model describes itself consistently: the reference executor in fp32 on no device,
//     max batch 1 unless its dims are fixed, float32 inputs and outputs of rank <= 8 whose sizes
//     are the products of their dims;
//   - a loaded model whose inputs are at most 1 MiB and whose run needs at most 64 MiB of host
//     memory (Info().ArenaBytes, the reference executor's peak) runs at batch 1 on zeros, and
//     succeeds or fails with ErrOutOfMemory;
//   - nothing panics or crashes.
//
// The seeds are small generated models read from $CUDAGO_MODELS_DIR, a model built by hand and
// garbage. Each input is one load and at most one small run, so an iteration is cheap.
// `go test -run '^$' -fuzz '^FuzzLoadBytes$' ./internal/capi/` explores further.

// fuzzNNSeedModels are generated models (a few hundred bytes to a few KB each) that cover
// convolution weights, several inputs, shape chains and a fixed batch.
var fuzzNNSeedModels = []string{
	"relu_c1_7x9", "softmax_axis1_c10", "conv_k3_s2_p1_c1_7x9", "concat_axis1_c3_c13_7x9",
	"chain_flatten_pt_c13_7x9", "chain_cast_reshape_c13_7x9", "add_n1hw_c13_13x11",
	"conv_k3_p1_c13_7x9_fixedb3", "transpose_021_5x13",
}

const (
	fuzzNNMaxInput = 1 << 20  // bytes per input at batch 1
	fuzzNNMaxArena = 64 << 20 // host bytes of a run, and of the weights
)

func FuzzLoadBytes(f *testing.F) {
	dir := nnModelsDir(f)
	for _, name := range fuzzNNSeedModels {
		b, err := os.ReadFile(filepath.Join(dir, name+".onnx"))
		if err != nil {
			f.Fatalf("seed model: %v", err)
		}
		f.Add(b)
	}
	f.Add(nnTinyModel("Relu", "relu_node", []int64{-1, 3, 4, 5}))
	f.Add(nnTinyModel("Relu", "relu_node", []int64{0, 3}))
	f.Add(nnTinyModel("FancyOp", "fancy", []int64{2, 2}))
	f.Add([]byte("not a model"))
	f.Add([]byte{0x08, 0x07, 0x3a, 0x00})
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		const op = "nn model load bytes"
		m, err := NNLoadBytes(data, NNOptions{Backend: NNBackendReference, MaxBatch: 1})
		if err != nil {
			fuzzNNWantErr(t, "load", err, op, StatusInvalidModel, StatusInvalidArgument, StatusOutOfMemory)
			return
		}
		defer func() {
			if err := m.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}()
		info := m.Info()
		if info.Backend != NNBackendReference || info.Precision != NNPrecisionFP32 || info.Device != -1 {
			t.Errorf("Info: backend %v, precision %v, device %d", info.Backend, info.Precision, info.Device)
		}
		if info.MaxBatch < 1 || (info.DynamicBatch && info.MaxBatch != 1) {
			t.Errorf("Info: max batch %d (dynamic %v), loaded with 1", info.MaxBatch, info.DynamicBatch)
		}
		ins, outs := m.Inputs(), m.Outputs()
		small := info.ArenaBytes <= fuzzNNMaxArena && info.WeightBytes <= fuzzNNMaxArena
		for k, d := range slices.Concat(ins, outs) {
			_ = d.String()
			if d.DType != DTypeF32 {
				t.Errorf("tensor %d %v: dtype %v; want float32", k, d, d.DType)
			}
			if len(d.Dims) > 8 || d.BatchAxis < -1 || d.BatchAxis >= max(len(d.Dims), 1) {
				t.Errorf("tensor %d %v: rank %d, batch axis %d", k, d, len(d.Dims), d.BatchAxis)
			}
			// The shape at max batch is the tensor at max batch (at batch 1 where dims are fixed).
			at := 1
			if d.BatchAxis >= 0 {
				at = info.MaxBatch
			}
			n, ok := uint64(d.DType.Size()), true
			for _, x := range d.Dims {
				hi, lo := bits.Mul64(n, uint64(x))
				n, ok = lo, ok && hi == 0
			}
			if !ok || n != uint64(d.Bytes(at)) {
				t.Errorf("tensor %d %v: %d bytes at batch %d; its dims make %d (overflow: %v)",
					k, d, d.Bytes(at), at, n, !ok)
			}
			if k < len(ins) && d.Bytes(1) > fuzzNNMaxInput {
				small = false
			}
			if k >= len(ins) && d.Bytes(1) > fuzzNNMaxArena {
				small = false
			}
		}
		if !small {
			return
		}
		inputs := make([]any, len(ins))
		for i, d := range ins {
			inputs[i] = make([]float32, d.Len(1))
		}
		outputs := make([][]float32, len(outs))
		for j, d := range outs {
			outputs[j] = make([]float32, d.Len(1))
		}
		if err := m.RunHost(1, inputs, outputs); err != nil {
			fuzzNNWantErr(t, "run", err, "nn model run host", StatusOutOfMemory)
		}
	})
}

// fuzzNNWantErr fails unless err is an *Error of operation op with a message and one of the
// statuses.
func fuzzNNWantErr(t *testing.T, what string, err error, op string, statuses ...Status) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: %v (%T) is not an *Error", what, err, err)
	}
	if !slices.Contains(statuses, e.Status) {
		t.Fatalf("%s: %v; want one of %v", what, err, statuses)
	}
	if e.Op != op || e.Msg == "" {
		t.Fatalf("%s: %v; want the operation %q and a message", what, err, op)
	}
}
