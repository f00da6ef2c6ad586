package nn

import (
	"time"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/capi"
)

// Backend is the executor a model runs on.
//
// Its methods (documented with the type it aliases):
//   - String() string
type Backend = capi.NNBackend

const (
	// Auto takes the GPU plan where a device is usable, else the reference executor.
	Auto Backend = capi.NNBackendAuto
	// GPU takes the GPU plan, or fails: [cudago.ErrNoDevice] without a usable device
	// ([cudago.ErrNotSupported] from a libcudago built without the plan).
	GPU Backend = capi.NNBackendGPU
	// Reference takes the CPU reference executor: fp32, host memory, slow, obviously correct.
	Reference Backend = capi.NNBackendReference
)

// Precision is the arithmetic of a model's layers.
//
// Its methods (documented with the type it aliases):
//   - String() string
type Precision = capi.NNPrecision

const (
	// DefaultPrecision is fp16 on the GPU and fp32 on the reference executor.
	DefaultPrecision Precision = capi.NNPrecisionDefault
	// FP16: fp16 activations and weights, fp32 accumulation.
	FP16 Precision = capi.NNPrecisionFP16
	// BF16: bfloat16 activations and weights, fp32 accumulation.
	BF16 Precision = capi.NNPrecisionBF16
	// FP32: fp32 throughout.
	FP32 Precision = capi.NNPrecisionFP32
)

// InputFormat is how a model's inputs are given.
//
// Its methods (documented with the type it aliases):
//   - String() string
type InputFormat = capi.NNInputFormat

const (
	// AsDeclared takes the model's own inputs: float32, NCHW for images.
	AsDeclared InputFormat = capi.NNInputAsDeclared
	// Uint8NHWC takes image inputs (NCHW, at most 4 channels) as uint8 NHWC instead,
	// converted with x = (v*InputScale - Mean[c]) / Std[c].
	Uint8NHWC InputFormat = capi.NNInputUint8NHWC
)

// DType is the element type of a tensor.
//
// Its methods (documented with the type it aliases):
//   - Size() int
//   - String() string
type DType = capi.DType

const (
	F32 DType = capi.DTypeF32 // float32: every output, and inputs as declared
	U8  DType = capi.DTypeU8  // uint8: image inputs taken as Uint8NHWC
)

// Options configure a model load. The zero value asks for every default: device 0, the
// automatic backend, the backend's default precision, max batch 1, no tuning cache, the
// model's own input format.
type Options struct {
	// Device is the GPU the model runs on (a GPU plan only).
	Device int
	// Backend picks the executor; Info().Backend says which one the model got.
	Backend Backend
	// Precision of the layers; the reference executor computes in fp32 only.
	Precision Precision
	// MaxBatch is the largest batch any run uses (0 means 1). A model whose inputs have no
	// dynamic first dimension ignores it: it runs at batch 1, its declared shapes.
	MaxBatch int
	// CacheDir is the directory of the tuning cache ("": none).
	CacheDir string
	// BaseDir is where LoadBytes finds a model's external data files ("": such a model is
	// refused). Load finds them next to the model file and ignores BaseDir.
	BaseDir string
	// InputFormat: Uint8NHWC takes image inputs as uint8 NHWC.
	InputFormat InputFormat
	// InputScale multiplies uint8 values before normalisation (0 means 1/255).
	InputScale float32
	// Mean and Std normalise uint8 image channels: x = (v*InputScale - Mean[c]) / Std[c].
	// Mean defaults to 0, a Std of 0 means 1.
	Mean, Std [4]float32
	// NoFusion lowers the model without fusing layers (for tests and debugging).
	NoFusion bool
}

// Info describes a loaded model: the executor it got and what the load did.
type Info struct {
	Backend      Backend   // GPU or Reference: the executor it runs on
	Precision    Precision // FP16, BF16 or FP32
	Device       int       // the GPU, or -1 on the reference executor
	DynamicBatch bool      // the inputs have a dynamic first dimension
	MaxBatch     int       // the largest batch a run may use (see Options.MaxBatch)
	Layers       int       // layers after fusion
	WeightBytes  uint64    // the weights as the executor holds them
	// ArenaBytes is the GPU plan's activation arena; on the reference executor, the peak host
	// memory of a run at max batch. ArenaLowerBound is the liveness bound the arena is
	// measured against (0 on the reference executor).
	ArenaBytes, ArenaLowerBound uint64
	// Load time, by stage.
	ParseTime, LowerTime, PlanTime, TuneTime time.Duration
}

// TensorInfo describes an input or output of a model.
type TensorInfo struct {
	Name string
	// DType is F32, or U8 for image inputs taken as Uint8NHWC.
	DType DType
	// Dims is the shape at the model's max batch.
	Dims []int
	// BatchAxis is the dimension that grows with the batch size of a run (by a multiple of it:
	// N, or N*k where an output merges the batch with other axes), or -1 for none.
	BatchAxis int
	// BytesPerItem is the size of the tensor per batch item: at batch n it has n times this
	// (the whole tensor where BatchAxis is -1).
	BytesPerItem int
}

// Bytes returns the tensor's size in bytes at the given batch size.
func (t TensorInfo) Bytes(batch int) int { return capi.NNTensorInfo(t).Bytes(batch) }

// Len returns the tensor's number of elements at the given batch size: the length of the
// []float32 (or []byte) that holds it.
func (t TensorInfo) Len(batch int) int { return capi.NNTensorInfo(t).Len(batch) }

// String returns the name, type and shape at max batch, the batch axis marked with "N:"
// (`"x" float32[N:8 3 224 224]`).
func (t TensorInfo) String() string { return capi.NNTensorInfo(t).String() }

// Model is a loaded ONNX model, ready to run. Its methods are safe for concurrent use, and
// runs of one model from several goroutines proceed at once. Close it when done.
type Model capi.NNModel

// Load loads the ONNX model file at path (external data files next to it). A damaged file,
// one that is not ONNX, or a model using what the runtime does not support is
// [cudago.ErrInvalidModel], with a message naming the node, its op and what is wrong; a missing
// file or bad options are [cudago.ErrInvalidArgument].
func Load(path string, opts Options) (*Model, error) {
	m, err := capi.NNLoad(path, capi.NNOptions(opts))
	return (*Model)(m), err
}

// LoadBytes loads a model from the bytes of an ONNX file (copied during the call; at most
// 2 GiB: larger models keep their weights in external data, found in opts.BaseDir). Errors as
// for Load; empty data is [cudago.ErrInvalidArgument].
func LoadBytes(data []byte, opts Options) (*Model, error) {
	m, err := capi.NNLoadBytes(data, capi.NNOptions(opts))
	return (*Model)(m), err
}

// Close frees the model after its runs in flight have returned. A second Close returns nil;
// other methods called after Close return an error matching [cudago.ErrClosed].
func (m *Model) Close() error {
	return (*capi.NNModel)(m).Close()
}

// Info describes the model as it was loaded (read once at load; it stays readable after Close).
func (m *Model) Info() Info {
	return Info((*capi.NNModel)(m).Info())
}

// Inputs describes the model's inputs, in the order runs take them (a copy the caller may
// keep; read once at load, it stays readable after Close).
func (m *Model) Inputs() []TensorInfo {
	return capi.CastSlice[capi.NNTensorInfo, TensorInfo]((*capi.NNModel)(m).Inputs())
}

// Outputs describes the model's outputs, in the order runs take them (a copy, as Inputs).
func (m *Model) Outputs() []TensorInfo {
	return capi.CastSlice[capi.NNTensorInfo, TensorInfo]((*capi.NNModel)(m).Outputs())
}

// RunHost runs the model on host memory at the given batch size and returns when the outputs
// are written. inputs holds one []float32, or []byte for an image input taken as Uint8NHWC,
// per model input, in the model's order; outputs one []float32 per output. Each must have
// exactly the tensor's size at that batch ([TensorInfo.Len]). Everything is checked before the
// run ([cudago.ErrInvalidArgument], naming the input or output at fault); an output may not
// overlap an input or another output. The slices are used only during the call.
func (m *Model) RunHost(batch int, inputs []any, outputs [][]float32) error {
	return (*capi.NNModel)(m).RunHost(batch, inputs, outputs)
}

// DeviceTensor is an input or output of a run on device memory: a device buffer and the
// element where the tensor starts. Make one with [At].
type DeviceTensor capi.NNDeviceTensor

// Prepare captures the GPU plan's CUDA graphs for the given batch sizes now, for runs on s (nil:
// for RunHost), instead of at the first run of each size (which then costs one graph launch, not
// a capture of milliseconds); it returns when done. A server that knows its batch sizes prepares
// them before its first request. Every size must be a valid batch ([cudago.ErrInvalidArgument]
// otherwise, before anything is captured); s must be on the model's device. On the reference
// executor there is nothing to capture.
func (m *Model) Prepare(s *cudago.Stream, sizes ...int) error {
	return (*capi.NNModel)(m).Prepare((*capi.Stream)(s), sizes...)
}

// Graphs returns how many CUDA graphs the model has captured so far (one per batch size and
// stream it ran on or was prepared for; 0 on the reference executor) and the time spent
// capturing and instantiating them.
func (m *Model) Graphs() (n int, capture time.Duration, err error) {
	return (*capi.NNModel)(m).Graphs()
}

// At names the tensor that starts at element off of b, for Run: a float32 buffer for float32
// tensors, a uint8 buffer for image inputs taken as Uint8NHWC.
func At[T ~float32 | ~uint8](b *cudago.DeviceBuffer[T], off int) DeviceTensor {
	return DeviceTensor(capi.NNAt((*capi.DeviceBuffer[T])(b), off))
}

// Run queues a run of the model on s with device buffers (of s's device, which must be the
// model's), in the model's input and output order, at the given batch size; it does not wait
// for the run. Each tensor must fit its buffer from its offset ([cudago.ErrOutOfRange]
// otherwise) and have the tensor's element type ([cudago.ErrInvalidArgument]). A model on the
// reference executor runs on host memory only: [cudago.ErrNotSupported] (use RunHost).
func (m *Model) Run(s *cudago.Stream, batch int, inputs, outputs []DeviceTensor) error {
	return (*capi.NNModel)(m).Run((*capi.Stream)(s), batch,
		capi.CastSlice[DeviceTensor, capi.NNDeviceTensor](inputs),
		capi.CastSlice[DeviceTensor, capi.NNDeviceTensor](outputs))
}
