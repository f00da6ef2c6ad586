//go:build cgo

package capi

// The CNN inference runtime (cudago_nn_*, experimental in the C ABI). cudago.h declares it only
// under CUDAGO_EXPERIMENTAL; the CFLAGS directive below defines it for every C file and preamble
// of the package (cgo concatenates the package's CFLAGS), so the declarations are there whichever
// file includes cudago.h first.

/*
#cgo CFLAGS: -DCUDAGO_EXPERIMENTAL
#include <stdlib.h>
#include "shim_nn.h"
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// DType is the element type of a tensor (cudago_dtype_t).
type DType int32

const (
	DTypeF32  DType = C.CUDAGO_DTYPE_F32
	DTypeF64  DType = C.CUDAGO_DTYPE_F64
	DTypeF16  DType = C.CUDAGO_DTYPE_F16
	DTypeBF16 DType = C.CUDAGO_DTYPE_BF16
	DTypeI8   DType = C.CUDAGO_DTYPE_I8
	DTypeU8   DType = C.CUDAGO_DTYPE_U8
	DTypeI32  DType = C.CUDAGO_DTYPE_I32
	DTypeU32  DType = C.CUDAGO_DTYPE_U32
	DTypeI64  DType = C.CUDAGO_DTYPE_I64
	DTypeU64  DType = C.CUDAGO_DTYPE_U64
)

var dtypeNames = [...]string{
	DTypeF32: "float32", DTypeF64: "float64", DTypeF16: "float16", DTypeBF16: "bfloat16",
	DTypeI8: "int8", DTypeU8: "uint8", DTypeI32: "int32", DTypeU32: "uint32", DTypeI64: "int64",
	DTypeU64: "uint64",
}

// dtypeSizes is cudago_dtype_size's table, kept in Go so that sizes cost no cgo call (a test
// compares the two).
var dtypeSizes = [len(dtypeNames)]int{
	DTypeF32: 4, DTypeF64: 8, DTypeF16: 2, DTypeBF16: 2, DTypeI8: 1, DTypeU8: 1, DTypeI32: 4,
	DTypeU32: 4, DTypeI64: 8, DTypeU64: 8,
}

// String returns the Go name of the element type ("float32", "uint8"; "float16" and
// "bfloat16" for the half types), or "DType(n)".
func (d DType) String() string {
	if d >= 0 && int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return "DType(" + strconv.Itoa(int(d)) + ")"
}

// Size returns the size of one element in bytes, 0 for an unknown type.
func (d DType) Size() int {
	if d < 0 || int(d) >= len(dtypeSizes) {
		return 0
	}
	return dtypeSizes[d]
}

// NNBackend is the executor a model runs on (cudago_nn_backend_t).
type NNBackend int32

const (
	// NNBackendAuto takes the GPU plan where a device is usable, else the reference executor.
	NNBackendAuto NNBackend = C.CUDAGO_NN_BACKEND_AUTO
	// NNBackendGPU takes the GPU plan, or fails.
	NNBackendGPU NNBackend = C.CUDAGO_NN_BACKEND_GPU
	// NNBackendReference takes the CPU reference executor (fp32, host memory).
	NNBackendReference NNBackend = C.CUDAGO_NN_BACKEND_REFERENCE
)

// String returns "auto", "gpu", "reference" or "Backend(n)".
func (b NNBackend) String() string {
	switch b {
	case NNBackendAuto:
		return "auto"
	case NNBackendGPU:
		return "gpu"
	case NNBackendReference:
		return "reference"
	}
	return "Backend(" + strconv.Itoa(int(b)) + ")"
}

// NNPrecision is the arithmetic of a model's layers (cudago_nn_precision_t).
type NNPrecision int32

const (
	// NNPrecisionDefault is fp16 on the GPU and fp32 on the reference executor.
	NNPrecisionDefault NNPrecision = C.CUDAGO_NN_PRECISION_DEFAULT
	// NNPrecisionFP16: fp16 activations and weights, fp32 accumulation.
	NNPrecisionFP16 NNPrecision = C.CUDAGO_NN_PRECISION_FP16
	// NNPrecisionBF16: bfloat16 activations and weights, fp32 accumulation.
	NNPrecisionBF16 NNPrecision = C.CUDAGO_NN_PRECISION_BF16
	// NNPrecisionFP32: fp32 throughout.
	NNPrecisionFP32 NNPrecision = C.CUDAGO_NN_PRECISION_FP32
)

// String returns "default", "fp16", "bf16", "fp32" or "Precision(n)".
func (p NNPrecision) String() string {
	switch p {
	case NNPrecisionDefault:
		return "default"
	case NNPrecisionFP16:
		return "fp16"
	case NNPrecisionBF16:
		return "bf16"
	case NNPrecisionFP32:
		return "fp32"
	}
	return "Precision(" + strconv.Itoa(int(p)) + ")"
}

// NNInputFormat is how a model's inputs are given (cudago_nn_input_format_t).
type NNInputFormat int32

const (
	// NNInputAsDeclared takes the model's own inputs: float32, NCHW for images.
	NNInputAsDeclared NNInputFormat = C.CUDAGO_NN_INPUT_AS_DECLARED
	// NNInputUint8NHWC takes image inputs (NCHW, at most 4 channels) as uint8 NHWC instead,
	// converted with x = (v*InputScale - Mean[c]) / Std[c].
	NNInputUint8NHWC NNInputFormat = C.CUDAGO_NN_INPUT_UINT8_NHWC
)

// String returns "as declared", "uint8 NHWC" or "InputFormat(n)".
func (f NNInputFormat) String() string {
	switch f {
	case NNInputAsDeclared:
		return "as declared"
	case NNInputUint8NHWC:
		return "uint8 NHWC"
	}
	return "InputFormat(" + strconv.Itoa(int(f)) + ")"
}

// NNOptions configure a model load. The zero value asks for every default: device 0, the
// automatic backend, the backend's default precision, max batch 1, no tuning cache, the
// model's own input format.
type NNOptions struct {
	// Device is the GPU the model runs on (a GPU plan only).
	Device int
	// Backend picks the executor; Info().Backend says which one the model got.
	Backend NNBackend
	// Precision of the layers; the reference executor computes in fp32 only.
	Precision NNPrecision
	// MaxBatch is the largest batch any run uses (0 means 1). A model whose inputs have no
	// dynamic first dimension ignores it: it runs at batch 1, its declared shapes.
	MaxBatch int
	// CacheDir is the directory of the tuning cache ("": none).
	CacheDir string
	// BaseDir is where LoadBytes finds a model's external data files ("": such a model is
	// refused). Load finds them next to the model file and ignores BaseDir.
	BaseDir string
	// InputFormat: NNInputUint8NHWC takes image inputs as uint8 NHWC.
	InputFormat NNInputFormat
	// InputScale multiplies uint8 values before normalisation (0 means 1/255).
	InputScale float32
	// Mean and Std normalise uint8 image channels: x = (v*InputScale - Mean[c]) / Std[c].
	// Mean defaults to 0, a Std of 0 means 1.
	Mean, Std [4]float32
	// NoFusion lowers the model without fusing layers (for tests and debugging).
	NoFusion bool
}

// nnCOptions is an NNOptions in C memory; free releases its strings.
type nnCOptions struct {
	o     C.cudago_nn_options_t
	frees []unsafe.Pointer
}

func (c *nnCOptions) free() {
	for _, p := range c.frees {
		C.free(p)
	}
	c.frees = nil
}

// nnOptionsToC validates opts (the checks that need no model) and converts them.
func nnOptionsToC(op string, opts NNOptions) (*nnCOptions, error) {
	if opts.Device < 0 {
		return nil, &Error{Status: StatusInvalidDevice, Op: op,
			Msg: "Options.Device = " + strconv.Itoa(opts.Device) + " is negative"}
	}
	if opts.Device > math.MaxInt32 {
		return nil, &Error{Status: StatusInvalidDevice, Op: op,
			Msg: "Options.Device = " + strconv.Itoa(opts.Device) + " does not fit in int32"}
	}
	switch opts.Backend {
	case NNBackendAuto, NNBackendGPU, NNBackendReference:
	default:
		return nil, errArg(op, "Options.Backend = "+strconv.Itoa(int(opts.Backend))+" is not a Backend")
	}
	switch opts.Precision {
	case NNPrecisionDefault, NNPrecisionFP16, NNPrecisionBF16, NNPrecisionFP32:
	default:
		return nil, errArg(op, "Options.Precision = "+strconv.Itoa(int(opts.Precision))+
			" is not a Precision")
	}
	switch opts.InputFormat {
	case NNInputAsDeclared, NNInputUint8NHWC:
	default:
		return nil, errArg(op, "Options.InputFormat = "+strconv.Itoa(int(opts.InputFormat))+
			" is not an InputFormat")
	}
	if opts.MaxBatch < 0 {
		return nil, errArg(op, "Options.MaxBatch = "+strconv.Itoa(opts.MaxBatch)+" is negative")
	}
	if s := opts.InputScale; math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
		return nil, errArg(op, "Options.InputScale = "+fmtFloat(s)+" is not finite")
	}
	for c := 0; c < 4; c++ {
		if v := opts.Mean[c]; math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, errArg(op, "Options.Mean["+strconv.Itoa(c)+"] = "+fmtFloat(v)+" is not finite")
		}
		if v := opts.Std[c]; math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, errArg(op, "Options.Std["+strconv.Itoa(c)+"] = "+fmtFloat(v)+" is not finite")
		}
	}
	dirs := [2]struct{ what, v string }{{"CacheDir", opts.CacheDir}, {"BaseDir", opts.BaseDir}}
	for _, s := range dirs {
		if strings.IndexByte(s.v, 0) >= 0 {
			return nil, errArg(op, "Options."+s.what+" "+strconv.Quote(s.v)+" contains a NUL byte")
		}
	}
	c := &nnCOptions{}
	o := &c.o
	C.cudago_nn_options_init(o)
	o.device = C.int32_t(opts.Device)
	o.backend = C.cudago_nn_backend_t(opts.Backend)
	o.precision = C.cudago_nn_precision_t(opts.Precision)
	o.max_batch = C.uint64_t(opts.MaxBatch)
	if opts.CacheDir != "" {
		p := C.CString(opts.CacheDir)
		c.frees = append(c.frees, unsafe.Pointer(p))
		o.cache_dir = p
	}
	if opts.BaseDir != "" {
		p := C.CString(opts.BaseDir)
		c.frees = append(c.frees, unsafe.Pointer(p))
		o.base_dir = p
	}
	o.input_format = C.cudago_nn_input_format_t(opts.InputFormat)
	if opts.NoFusion {
		o.flags |= C.CUDAGO_NN_NO_FUSION
	}
	o.input_scale = C.float(opts.InputScale)
	for i := 0; i < 4; i++ {
		o.mean[i] = C.float(opts.Mean[i])
		o.std[i] = C.float(opts.Std[i])
	}
	return c, nil
}

func fmtFloat(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }

// NNTensorInfo describes an input or output of a model.
type NNTensorInfo struct {
	Name string
	// DType is DTypeF32, or DTypeU8 for image inputs taken as uint8 NHWC.
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
func (t NNTensorInfo) Bytes(batch int) int {
	if t.BatchAxis < 0 {
		return t.BytesPerItem
	}
	return t.BytesPerItem * batch
}

// Len returns the tensor's number of elements at the given batch size: the length of the
// []float32 (or []byte) that holds it.
func (t NNTensorInfo) Len(batch int) int {
	if s := t.DType.Size(); s > 0 {
		return t.Bytes(batch) / s
	}
	return 0
}

// String returns the name, type and shape at max batch, the batch axis marked with "N:" ("x
// float32[N:8 3 224 224]").
func (t NNTensorInfo) String() string {
	var b strings.Builder
	b.WriteString(strconv.Quote(t.Name))
	b.WriteByte(' ')
	b.WriteString(t.DType.String())
	b.WriteByte('[')
	for i, d := range t.Dims {
		if i > 0 {
			b.WriteByte(' ')
		}
		if i == t.BatchAxis {
			b.WriteString("N:")
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(']')
	return b.String()
}

// clone returns a copy that shares nothing with t.
func (t NNTensorInfo) clone() NNTensorInfo {
	t.Dims = append([]int(nil), t.Dims...)
	return t
}

// NNModelInfo describes a loaded model: the executor it got and what the load did.
type NNModelInfo struct {
	Backend      NNBackend   // NNBackendGPU or NNBackendReference: the executor it runs on
	Precision    NNPrecision // FP16, BF16 or FP32
	Device       int         // the GPU, or -1 on the reference executor
	DynamicBatch bool        // the inputs have a dynamic first dimension
	MaxBatch     int         // the largest batch a run may use (see Options.MaxBatch)
	Layers       int         // layers after fusion
	WeightBytes  uint64      // the weights as the executor holds them
	// ArenaBytes is the GPU plan's activation arena; on the reference executor, the peak host
	// memory of a run at max batch. ArenaLowerBound is the liveness bound the arena is
	// measured against (0 on the reference executor).
	ArenaBytes, ArenaLowerBound uint64
	// Load time, by stage.
	ParseTime, LowerTime, PlanTime, TuneTime time.Duration
}

func seconds(s C.double) time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

// NNModel is a loaded ONNX model, ready to run. Its methods are safe for concurrent use, and
// runs of one model from several goroutines proceed at once. Close it when done.
type NNModel struct {
	x       *handle[C.cudago_nn_model_t]
	info    NNModelInfo
	inputs  []NNTensorInfo
	outputs []NNTensorInfo
}

// NNLoad loads the ONNX model file at path (external data files next to it). A damaged file,
// one that is not ONNX, or a model using what the runtime does not support is ErrInvalidModel,
// with a message naming the node, its op and what is wrong; a missing file or bad options are
// ErrInvalidArgument.
func NNLoad(path string, opts NNOptions) (*NNModel, error) {
	const op = "nn model load"
	if err := ready(); err != nil {
		return nil, err
	}
	if strings.IndexByte(path, 0) >= 0 {
		return nil, errArg(op, "path "+strconv.Quote(path)+" contains a NUL byte")
	}
	co, err := nnOptionsToC(op, opts)
	if err != nil {
		return nil, err
	}
	defer co.free()
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return newNNModel(op, C.cg_nn_model_load(cpath, co.o), path)
}

// NNLoadBytes loads a model from the bytes of an ONNX file (copied during the call; at most
// 2 GiB: larger models keep their weights in external data, found in opts.BaseDir). Errors as
// for NNLoad; empty data is ErrInvalidArgument.
func NNLoadBytes(data []byte, opts NNOptions) (*NNModel, error) {
	const op = "nn model load bytes"
	if err := ready(); err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, errArg(op, "no model data (empty slice)")
	}
	co, err := nnOptionsToC(op, opts)
	if err != nil {
		return nil, err
	}
	defer co.free()
	// data holds no pointers and C copies it during the call.
	r := C.cg_nn_model_load_bytes(unsafe.Pointer(unsafe.SliceData(data)), C.uint64_t(len(data)), co.o)
	return newNNModel(op, r, "from "+strconv.Itoa(len(data))+" bytes")
}

// newNNModel wraps a load's result: the handle and the description read with it, copied into Go
// (the names are borrowed from the model, so they are copied before anything can free it).
func newNNModel(op string, r C.cg_nn_model_result, label string) (*NNModel, error) {
	if r.err != nil {
		return nil, convertError(op, r.err)
	}
	if r.tensors == nil {
		C.cg_err_free(C.cg_nn_model_destroy(r.handle))
		return nil, &Error{Status: StatusOutOfMemory, Op: op,
			Msg: "out of C memory for the model's description"}
	}
	defer C.free(unsafe.Pointer(r.tensors))
	ci := &r.info
	m := &NNModel{info: NNModelInfo{
		Backend:         NNBackend(ci.backend),
		Precision:       NNPrecision(ci.precision),
		Device:          int(ci.device),
		DynamicBatch:    ci.dynamic_batch != 0,
		MaxBatch:        clampInt(uint64(ci.max_batch)),
		Layers:          clampInt(uint64(ci.num_layers)),
		WeightBytes:     uint64(ci.weight_bytes),
		ArenaBytes:      uint64(ci.arena_bytes),
		ArenaLowerBound: uint64(ci.arena_lower_bound),
		ParseTime:       seconds(ci.parse_seconds),
		LowerTime:       seconds(ci.lower_seconds),
		PlanTime:        seconds(ci.plan_seconds),
		TuneTime:        seconds(ci.tune_seconds),
	}}
	ni, no := uint64(ci.num_inputs), uint64(ci.num_outputs)
	all := unsafe.Slice(r.tensors, ni+no)
	var bad error
	conv := func(t *C.cudago_nn_tensor_info_t) NNTensorInfo {
		d := NNTensorInfo{
			Name:         C.GoString(t.name),
			DType:        DType(t.dtype),
			BatchAxis:    int(t.batch_axis),
			BytesPerItem: clampInt(uint64(t.bytes_per_item)),
		}
		rank := min(uint64(t.rank), uint64(len(t.dims)))
		d.Dims = make([]int, rank)
		for i := range d.Dims {
			d.Dims[i] = clampInt(uint64(t.dims[i]))
		}
		// Every size a run computes is BytesPerItem * batch with batch <= MaxBatch: refuse a
		// model where that overflows int (the C side reports sizes as uint64).
		per := uint64(t.bytes_per_item)
		if bad == nil && (per > math.MaxInt || (d.BatchAxis >= 0 && m.info.MaxBatch > 0 &&
			per > uint64(math.MaxInt)/uint64(m.info.MaxBatch))) {
			bad = &Error{Status: StatusInvalidModel, Op: op, Msg: "tensor " + strconv.Quote(d.Name) +
				" has " + strconv.FormatUint(per, 10) + " bytes per batch item; at max batch " +
				strconv.Itoa(m.info.MaxBatch) + " its size does not fit in an int"}
		}
		return d
	}
	m.inputs = make([]NNTensorInfo, ni)
	for i := range m.inputs {
		m.inputs[i] = conv(&all[i])
	}
	m.outputs = make([]NNTensorInfo, no)
	for i := range m.outputs {
		m.outputs[i] = conv(&all[ni+uint64(i)])
	}
	if bad != nil {
		C.cg_err_free(C.cg_nn_model_destroy(r.handle))
		return nil, bad
	}
	m.x = newHandle(r.handle, "model", destroyNNModel,
		leakInfo{what: "nn Model (" + label + ")", dev: int32(m.info.Device)})
	return m, nil
}

// clampInt converts a size reported by C to int, saturating at math.MaxInt.
func clampInt(v uint64) int {
	if v > math.MaxInt {
		return math.MaxInt
	}
	return int(v)
}

func destroyNNModel(h C.cudago_nn_model_t) *C.cg_err_t { return C.cg_nn_model_destroy(h) }

func (m *NNModel) use(op string) error {
	if m == nil || m.x == nil {
		return errNil(op, "*Model")
	}
	return m.x.use(op)
}

func (m *NNModel) drop() { m.x.drop() }

// Close frees the model after its runs in flight have returned. A second Close returns nil;
// other methods called after Close return an error matching ErrClosed.
func (m *NNModel) Close() error {
	if m == nil || m.x == nil {
		return nil
	}
	return m.x.close("nn model destroy")
}

// Info describes the model as it was loaded (read once at load; it stays readable after Close).
func (m *NNModel) Info() NNModelInfo {
	if m == nil {
		return NNModelInfo{}
	}
	return m.info
}

// Inputs describes the model's inputs, in the order runs take them (a copy the caller may
// keep; read once at load, it stays readable after Close).
func (m *NNModel) Inputs() []NNTensorInfo {
	if m == nil {
		return nil
	}
	return cloneTensorInfos(m.inputs)
}

// Outputs describes the model's outputs, in the order runs take them (a copy, as Inputs).
func (m *NNModel) Outputs() []NNTensorInfo {
	if m == nil {
		return nil
	}
	return cloneTensorInfos(m.outputs)
}

func cloneTensorInfos(ts []NNTensorInfo) []NNTensorInfo {
	out := make([]NNTensorInfo, len(ts))
	for i, t := range ts {
		out[i] = t.clone()
	}
	return out
}

// checkBatch refuses a batch size the model cannot run (the C side's rule, checked before the
// sizes that depend on it).
func (m *NNModel) checkBatch(op string, batch int) error {
	if !m.info.DynamicBatch && batch != 1 {
		return errArg(op, "batch "+strconv.Itoa(batch)+": the model has no dynamic batch dimension, "+
			"so it runs at batch 1 (its declared shapes)")
	}
	if batch < 1 || batch > m.info.MaxBatch {
		return errArg(op, "batch "+strconv.Itoa(batch)+" is out of range (1 to the model's max batch "+
			strconv.Itoa(m.info.MaxBatch)+")")
	}
	return nil
}

// checkStreamDevice refuses a stream on another device than a GPU model's.
func (m *NNModel) checkStreamDevice(op string, s *Stream) error {
	if m.info.Backend == NNBackendGPU && int(s.dev) != m.info.Device {
		return &Error{Status: StatusDeviceMismatch, Op: op, Msg: "the stream is on device " +
			strconv.Itoa(int(s.dev)) + ", the model on device " + strconv.Itoa(m.info.Device)}
	}
	return nil
}

// checkCounts refuses input and output lists of the wrong length, naming what the model has.
func (m *NNModel) checkCounts(op string, nin, nout int) error {
	names := func(ts []NNTensorInfo) string {
		q := make([]string, len(ts))
		for i, t := range ts {
			q[i] = strconv.Quote(t.Name)
		}
		return strings.Join(q, ", ")
	}
	if nin != len(m.inputs) {
		return errArg(op, strconv.Itoa(nin)+" inputs given; the model has "+
			strconv.Itoa(len(m.inputs))+" ("+names(m.inputs)+")")
	}
	if nout != len(m.outputs) {
		return errArg(op, strconv.Itoa(nout)+" outputs given; the model has "+
			strconv.Itoa(len(m.outputs))+" ("+names(m.outputs)+")")
	}
	return nil
}

// tensorName names input or output i for errors: `input 0 ("x")`.
func tensorName(what string, i int, t *NNTensorInfo) string {
	return what + " " + strconv.Itoa(i) + " (" + strconv.Quote(t.Name) + ")"
}

// nnEmpty is a non-NULL C address for tensors of zero bytes (C refuses NULL data pointers, and a
// zero-length Go slice may have no address or one that cannot be pinned).
var nnEmpty = sync.OnceValue(func() unsafe.Pointer {
	p := C.malloc(1)
	if p == nil {
		panic("cudago: out of C memory")
	}
	return p
})

// RunHost runs the model on host memory at the given batch size and returns when the outputs
// are written. inputs holds one []float32, or []byte for an image input taken as uint8 NHWC,
// per model input, in the model's order; outputs one []float32 per output. Each must have
// exactly the tensor's size at that batch (NNTensorInfo.Len). Everything is checked before the
// run (ErrInvalidArgument, naming the input or output at fault); an output may not overlap an
// input or another output. The slices are used only during the call.
func (m *NNModel) RunHost(batch int, inputs []any, outputs [][]float32) error {
	const op = "nn model run host"
	if err := m.use(op); err != nil {
		return err
	}
	defer m.drop()
	if err := m.checkBatch(op, batch); err != nil {
		return err
	}
	if err := m.checkCounts(op, len(inputs), len(outputs)); err != nil {
		return err
	}
	n := len(inputs) + len(outputs)
	ptrs := make([]unsafe.Pointer, n)
	sizes := make([]C.uint64_t, n)
	type span struct{ lo, hi uintptr }
	spans := make([]span, n)
	for i, in := range inputs {
		d := &m.inputs[i]
		var p unsafe.Pointer
		var count int
		var given DType
		switch v := in.(type) {
		case []float32:
			p, count, given = unsafe.Pointer(unsafe.SliceData(v)), len(v), DTypeF32
		case []byte:
			p, count, given = unsafe.Pointer(unsafe.SliceData(v)), len(v), DTypeU8
		case nil:
			return errArg(op, tensorName("input", i, d)+" is nil; want a []"+d.DType.String())
		default:
			return errArg(op, fmt.Sprintf("%s is a %T; want a []%s", tensorName("input", i, d), in, d.DType))
		}
		if given != d.DType {
			return errArg(op, tensorName("input", i, d)+" is a []"+given.String()+"; the model takes "+
				d.DType.String()+" for it")
		}
		if want := d.Len(batch); count != want {
			return errArg(op, fmt.Sprintf("%s has %d values; at batch %d it needs %d (%d bytes)",
				tensorName("input", i, d), count, batch, want, d.Bytes(batch)))
		}
		bytes := count * given.Size()
		ptrs[i], sizes[i] = p, C.uint64_t(bytes)
		spans[i] = span{uintptr(p), uintptr(p) + uintptr(bytes)}
	}
	for j, out := range outputs {
		d := &m.outputs[j]
		k := len(inputs) + j
		if d.DType != DTypeF32 { // not in this release: outputs are float32
			return errArg(op, tensorName("output", j, d)+" is "+d.DType.String()+
				", which RunHost cannot take as a []float32")
		}
		if want := d.Len(batch); len(out) != want {
			return errArg(op, fmt.Sprintf("%s has %d values; at batch %d it needs %d (%d bytes)",
				tensorName("output", j, d), len(out), batch, want, d.Bytes(batch)))
		}
		p := unsafe.Pointer(unsafe.SliceData(out))
		bytes := len(out) * 4
		ptrs[k], sizes[k] = p, C.uint64_t(bytes)
		spans[k] = span{uintptr(p), uintptr(p) + uintptr(bytes)}
		for o := 0; o < k && bytes > 0; o++ {
			if s := spans[o]; s.lo < s.hi && s.lo < spans[k].hi && spans[k].lo < s.hi {
				var other string
				if o < len(inputs) {
					other = tensorName("input", o, &m.inputs[o])
				} else {
					other = tensorName("output", o-len(inputs), &m.outputs[o-len(inputs)])
				}
				return errArg(op, tensorName("output", j, d)+" overlaps "+other)
			}
		}
	}
	// C may not hold Go pointers in memory it is given unless they are pinned: pin every data
	// slice for the call. The arrays are Go memory holding only pinned pointers and numbers.
	var pin runtime.Pinner
	defer pin.Unpin()
	for k := range ptrs {
		if sizes[k] == 0 {
			ptrs[k] = nnEmpty()
			continue
		}
		pin.Pin(ptrs[k])
	}
	var inP, outP *unsafe.Pointer
	var inB, outB *C.uint64_t
	if len(inputs) > 0 {
		inP, inB = &ptrs[0], &sizes[0]
	}
	if len(outputs) > 0 {
		outP, outB = &ptrs[len(inputs)], &sizes[len(inputs)]
	}
	return errorFrom(op, C.cg_nn_model_run_host(m.x.h, inP, inB, C.uint64_t(len(inputs)), outP, outB,
		C.uint64_t(len(outputs)), C.uint64_t(batch)))
}

// NNDeviceTensor is an input or output of a run on device memory: a device buffer and the element
// where the tensor starts. Make one with NNAt.
type NNDeviceTensor struct {
	buf   *devBuf
	off   int    // in elements of the buffer's type
	esize uint64 // that type's size
	dtype DType
}

// NNAt names the tensor that starts at element off of b, for Run: a float32 buffer for float32
// tensors, a uint8 buffer for image inputs taken as uint8 NHWC.
func NNAt[T ~float32 | ~uint8](b *DeviceBuffer[T], off int) NNDeviceTensor {
	t := NNDeviceTensor{off: off, esize: sizeOf[T](), dtype: DTypeU8}
	if t.esize == 4 {
		t.dtype = DTypeF32
	}
	if b != nil {
		t.buf = b.c
	}
	return t
}

// Run queues a run of the model on s with device buffers (of s's device, which must be the
// model's), in the model's input and output order, at the given batch size; it does not wait
// for the run. Each tensor must fit its buffer from its offset (ErrOutOfRange otherwise) and have
// the tensor's element type (ErrInvalidArgument). A model on the reference executor runs on host
// memory only: ErrNotSupported (use RunHost).
func (m *NNModel) Run(s *Stream, batch int, inputs, outputs []NNDeviceTensor) error {
	const op = "nn model run"
	if err := useAll(op, m, s); err != nil {
		return err
	}
	defer dropAll(m, s)
	if err := m.checkBatch(op, batch); err != nil {
		return err
	}
	if err := m.checkCounts(op, len(inputs), len(outputs)); err != nil {
		return err
	}
	if err := m.checkStreamDevice(op, s); err != nil {
		return err
	}
	n := len(inputs) + len(outputs)
	hs := make([]C.cudago_buffer_t, n)
	offs := make([]C.uint64_t, n)
	held := make([]*devBuf, 0, n)
	defer func() {
		for _, b := range held {
			b.x.release()
		}
	}()
	for k := 0; k < n; k++ {
		t, d, name := nnTensorAt(m, inputs, outputs, k)
		if t.buf == nil {
			return errNil(op, "*DeviceBuffer for "+name)
		}
		if !t.buf.x.acquire() {
			return errClosed(op, "device buffer for "+name)
		}
		held = append(held, t.buf)
		if t.dtype != d.DType {
			return errArg(op, name+" is a buffer of "+t.dtype.String()+"; the model takes "+
				d.DType.String()+" for it")
		}
		if t.buf.dev != s.dev {
			return &Error{Status: StatusDeviceMismatch, Op: op, Msg: "the buffer for " + name +
				" is on device " + strconv.Itoa(int(t.buf.dev)) + ", the stream on device " +
				strconv.Itoa(int(s.dev))}
		}
		if t.off < 0 {
			return errArg(op, "negative offset "+strconv.Itoa(t.off)+" for "+name)
		}
		need := uint64(d.Bytes(batch))
		// The offset is checked against the length before it is scaled to bytes.
		if t.off > t.buf.n || need > t.buf.bytes-uint64(t.off)*t.esize {
			return errRange(op, fmt.Sprintf("%s needs %d bytes at batch %d from element %d; the buffer "+
				"has %d elements (%d bytes)", name, need, batch, t.off, t.buf.n, t.buf.bytes))
		}
		hs[k], offs[k] = t.buf.x.h, C.uint64_t(uint64(t.off)*t.esize)
	}
	var inH, outH *C.cudago_buffer_t
	var inO, outO *C.uint64_t
	if len(inputs) > 0 {
		inH, inO = &hs[0], &offs[0]
	}
	if len(outputs) > 0 {
		outH, outO = &hs[len(inputs)], &offs[len(inputs)]
	}
	return errorFrom(op, C.cg_nn_model_run(m.x.h, s.x.h, inH, inO, C.uint64_t(len(inputs)), outH,
		outO, C.uint64_t(len(outputs)), C.uint64_t(batch)))
}

// Prepare captures the GPU plan's CUDA graphs for the given batch sizes now, for runs on s (nil:
// for RunHost), instead of at the first run of each size; it returns when done. Every size must
// be a valid batch (ErrInvalidArgument otherwise, before anything is captured). On the reference
// executor there is nothing to capture.
func (m *NNModel) Prepare(s *Stream, sizes ...int) error {
	const op = "nn model prepare"
	if s == nil {
		if err := useAll(op, m); err != nil {
			return err
		}
		defer dropAll(m)
	} else {
		if err := useAll(op, m, s); err != nil {
			return err
		}
		defer dropAll(m, s)
		if err := m.checkStreamDevice(op, s); err != nil {
			return err
		}
	}
	cs := make([]C.uint64_t, len(sizes))
	for i, n := range sizes {
		if err := m.checkBatch(op, n); err != nil {
			return err
		}
		cs[i] = C.uint64_t(n)
	}
	var p *C.uint64_t
	if len(cs) > 0 {
		p = &cs[0]
	}
	var sh C.cudago_stream_t
	if s != nil {
		sh = s.x.h
	}
	return errorFrom(op, C.cg_nn_model_prepare(m.x.h, sh, p, C.uint64_t(len(cs))))
}

// Graphs returns how many CUDA graphs the model has captured so far (one per batch size and
// stream it ran on or was prepared for; 0 on the reference executor) and the time spent
// capturing them.
func (m *NNModel) Graphs() (int, time.Duration, error) {
	const op = "nn model graphs"
	if err := useAll(op, m); err != nil {
		return 0, 0, err
	}
	defer dropAll(m)
	var info C.cudago_nn_model_info_t
	if err := errorFrom(op, C.cg_nn_model_info(m.x.h, &info)); err != nil {
		return 0, 0, err
	}
	return int(info.graphs), seconds(info.capture_seconds), nil
}

// nnTensorAt returns tensor k of a run (inputs first), its description and its name for errors.
func nnTensorAt(m *NNModel, inputs, outputs []NNDeviceTensor,
	k int) (NNDeviceTensor, *NNTensorInfo, string) {
	if k < len(inputs) {
		return inputs[k], &m.inputs[k], tensorName("input", k, &m.inputs[k])
	}
	j := k - len(inputs)
	return outputs[j], &m.outputs[j], tensorName("output", j, &m.outputs[j])
}

// dtypeSizeFromC is cudago_dtype_size, for the test that checks dtypeSizes against it.
func dtypeSizeFromC(d DType) int { return int(C.cudago_dtype_size(C.cudago_dtype_t(d))) }
