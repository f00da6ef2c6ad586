// Package nn runs convolutional networks stored as ONNX files: load a model once, then run it
// on batches of inputs, from any number of goroutines at once.
//
// The runtime is experimental in the C ABI (cudago.h declares it under CUDAGO_EXPERIMENTAL):
// its Go API may change in any release.
//
// # A short tour
//
// [Load] reads an ONNX file (opsets 7 to 25, weights inline or in external data files next to
// it) and does all the work up front: it folds constants and shape chains, folds
// BatchNormalization into the layer before it, fuses bias, residual additions and ReLU/Clip into
// the layer that produces them, and infers every shape for each batch size from 1 to
// [Options].MaxBatch. [LoadBytes] does the same from the bytes of a file. [Model.Info] tells
// what the load chose (the executor, the precision, the number of layers after fusion, the
// memory a run needs, the load time of each stage); [Model.Inputs] and [Model.Outputs]
// describe the tensors a run takes and returns, with their shapes and sizes.
//
// [Model.RunHost] runs the model on Go slices at a batch size from 1 to the max batch:
//
//	m, err := nn.Load("mobilenetv2.onnx", nn.Options{MaxBatch: 8})
//	...
//	defer m.Close()
//	in := m.Inputs()[0]   // "input" float32[N:8 3 224 224]
//	out := m.Outputs()[0] // "logits" float32[N:8 1000]
//	x := make([]float32, in.Len(4))
//	y := make([]float32, out.Len(4))
//	// ... fill x with 4 images, NCHW ...
//	err = m.RunHost(4, []any{x}, [][]float32{y})
//
// A model whose inputs have fixed dims (no dynamic first dimension) runs at batch 1: its
// declared shapes. Camera and decoder images are usually bytes in NHWC order: with
// [Options].InputFormat set to [Uint8NHWC], image inputs are given as []byte and normalised by
// the runtime with InputScale, Mean and Std.
//
// # Which call
//
// [Model.RunHost] is the canonical run: it works on every executor (the GPU plan stages the
// slices through pinned buffers). [Model.Run] takes device buffers with element offsets ([At])
// and queues the run on a [cudago.Stream] without waiting, for pipelines that keep their data on
// the GPU; it needs the GPU plan.
//
// On the GPU plan, each stream a model runs on captures the run at a batch size as a CUDA graph
// the first time that size is used (milliseconds for a ResNet), then replays it. [Model.Prepare]
// captures given sizes ahead, for a stream or (nil) for RunHost, so that no request pays for a
// capture; [Model.Graphs] counts the graphs captured and the time they took.
//
// # Executors
//
// A model runs on the CPU reference executor (plain fp32, obviously correct, slow: the oracle
// the GPU plan is tested against, and what runs on a machine without a GPU) or on the GPU plan.
// [Auto] takes the GPU plan where a device is usable and the reference executor otherwise;
// [Model.Info] says which one a model got. [GPU] insists on the GPU plan: without a usable
// device it is [cudago.ErrNoDevice] (and [cudago.ErrNotSupported] from a libcudago built
// without the plan). [Model.Run] needs the GPU plan: for a model on the reference executor it
// returns [cudago.ErrNotSupported].
//
// # Errors
//
// Errors are [*cudago.Error] values; match them with errors.Is against the sentinels of the
// cudago package. A model that is damaged, is not ONNX or uses what the runtime does not support
// is [cudago.ErrInvalidModel], whose message names the node, its op and what is wrong (for an
// unsupported op, the ops that are supported). Bad options, a missing file, and inputs or
// outputs of the wrong number, type or size are [cudago.ErrInvalidArgument], with a message
// naming the option, the input or the output; they are checked before anything runs. Methods of
// a closed model return an error matching [cudago.ErrClosed].
//
// # Lifetimes and memory
//
// Close a Model when done; Close waits for the runs in flight, a second Close returns nil, and
// a finalizer frees a model that was never closed only as a safety net. RunHost uses the Go
// slices during the call only (they are pinned for it): the runtime keeps no Go pointer.
package nn
