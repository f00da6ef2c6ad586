// The lowered model: a list of fused layers over activation tensors, with every constant folded
// and every shape inferred for all batch sizes at once (dims affine in the batch N). Both
// executors (the CPU reference and the GPU plan) run a Program; shapes are the model's logical
// NCHW shapes, whatever layout an executor stores them in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cudago/nn/ir.hpp"

namespace cudago::nn {

enum class ActKind : int32_t { kNone, kRelu, kClip, kSigmoid };

struct Activation {
  ActKind kind = ActKind::kNone;
  float lo = 0;  // kClip bounds
  float hi = 0;
  std::string str() const;
};

enum class LayerKind : int32_t {
  kConv,       // 2-D convolution, + bias, + residual, + activation
  kGemm,       // rows × K times weightᵀ (M × K), + bias, + residual, + activation
  kPool,       // max / average pooling, global or windowed
  kAffine,     // x·scale[c] + shift[c] over axis 1 (BatchNormalization, per-channel Mul/Add)
  kBinary,     // Add/Sub/Mul/Div with broadcasting; one operand may be a constant
  kUnary,      // the activation alone
  kSoftmax,    // over one axis (opset ≥ 13) or the flattened trailing axes (older opsets)
  kConcat,     // along an axis
  kTranspose,  // a permutation of the axes
  kReshape,    // same elements, another shape (Reshape, Flatten, Squeeze, Unsqueeze, copies)
  kPad,        // constant, reflect or edge padding
  kConstant,   // a constant graph output
};
const char* layer_kind_name(LayerKind k);

enum class BinaryOp : int32_t { kAdd, kSub, kMul, kDiv };
enum class PadMode : int32_t { kConstant, kReflect, kEdge };

struct TensorInfo {
  std::string name;
  Shape shape;
};

struct Layer {
  LayerKind kind = LayerKind::kReshape;
  std::string name;         // the ONNX node(s) it comes from, "conv1+bn1+relu1"
  std::string ops;          // their op types, "Conv+BatchNormalization+Relu"
  std::vector<int> inputs;  // tensor ids: the operand(s); for kConv/kGemm a residual is last
  int output = -1;

  Activation act;
  bool residual = false;  // kConv/kGemm/kAffine: inputs.back() is added before act

  // kConv: weight [K, C/group, R, S]; kGemm: weight [M, K] (the B operand transposed).
  int64_t k = 0, c = 0, r = 0, s = 0, group = 1;
  int64_t stride[2] = {1, 1}, dilation[2] = {1, 1};
  int64_t pad[4] = {0, 0, 0, 0};  // top, left, bottom, right
  std::vector<float> weight;
  std::vector<float> bias;  // [K] / [M], empty for none

  // kPool
  bool max_pool = true, global = false, count_include_pad = false;
  int64_t kernel[2] = {1, 1};

  // kAffine: scale and shift per channel (axis 1), or one of each for all elements.
  std::vector<float> scale, shift;

  // kBinary: a constant operand (empty dims = scalar) on the side given.
  BinaryOp bop = BinaryOp::kAdd;
  ConstantPtr operand;
  bool operand_first = false;  // constant op x instead of x op constant

  // kSoftmax / kConcat
  int64_t axis = 1;
  bool softmax_legacy = false;  // opset < 13: softmax over the axes from `axis` on, together

  // kTranspose
  std::vector<int64_t> perm;

  // kPad: begin and end per axis
  PadMode pad_mode = PadMode::kConstant;
  std::vector<int64_t> pads;
  float pad_value = 0;

  // kConstant
  ConstantPtr value;
};

struct Program {
  std::vector<TensorInfo> tensors;
  std::vector<Layer> layers;   // in execution order
  std::vector<int> inputs;     // tensor ids, in the model's input order
  std::vector<int> outputs;    // tensor ids, in the model's output order
  bool dynamic_batch = false;  // false: every input has fixed dims; the model runs at batch 1
  int64_t max_batch = 1;
  std::string summary() const;  // one line per layer, for logs and tests
};

struct LowerOptions {
  int64_t max_batch = 1;  // the largest batch any run will use (≥ 1)
  bool fuse = true;       // false: no fusion (tests compare both)
};

// Folds constants and shape chains, lowers every node to layers, infers every shape for
// batch 1..max_batch and fuses (Pad into Conv, BatchNormalization and per-channel affine
// constants into Conv/Gemm, bias, residual Add and ReLU/Clip/Sigmoid into the producer).
// Throws Error(kInvalidModel) naming the node, its op and what is wrong.
Program lower(const Graph& g, const LowerOptions& opts);

// The ops lower() accepts, for messages: "Add, AveragePool, ...".
const std::string& supported_ops();

}  // namespace cudago::nn
