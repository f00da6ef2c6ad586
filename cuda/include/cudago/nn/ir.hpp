// The CNN runtime's model IR: what the ONNX loader produces and the lowering consumes.
//
// A Graph is ONNX's graph with its initializers turned into constants of two element types
// (float32 for data, int64 for shape arithmetic) and the batch dimension kept symbolic: every
// dimension and every int64 constant is an affine function a·N + b of the batch size N, so the
// shape chains exporters emit (Shape → Gather → Unsqueeze → Concat → Reshape) fold at load
// for every batch size at once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cudago/error.hpp"

namespace cudago::nn {

// The largest dimension, element count and byte size a model may have (2^40): every size
// computed from a model is checked against it before anything is allocated.
constexpr int64_t kMaxExtent = int64_t{1} << 40;

// The most elements a constant computed at load may have (2^24): real models fold only shape
// arithmetic and small tensors; their weights are initializers, backed by the file's bytes.
constexpr int64_t kMaxFoldedElements = int64_t{1} << 24;

// a·N + b, N the batch size.
struct Affine {
  int64_t a = 0;
  int64_t b = 0;

  static Affine constant(int64_t v) { return {0, v}; }
  static Affine batch(int64_t mul = 1) { return {mul, 0}; }
  bool is_constant() const { return a == 0; }
  int64_t at(int64_t n) const;  // a·n + b, checked
  bool operator==(const Affine& o) const { return a == o.a && b == o.b; }
  bool operator!=(const Affine& o) const { return !(*this == o); }
  std::string str() const;
};

// Checked arithmetic (throws Error(kInvalidModel, what + ...) on overflow or when the result
// is not affine in N).
Affine affine_add(Affine x, Affine y, const std::string& what);
Affine affine_sub(Affine x, Affine y, const std::string& what);
Affine affine_mul(Affine x, Affine y, const std::string& what);
Affine affine_div(Affine x, Affine y, const std::string& what);  // exact or floor for constants
int64_t checked_mul(int64_t x, int64_t y, const std::string& what);
int64_t checked_add(int64_t x, int64_t y, const std::string& what);

// A tensor shape: dimension i is a·N (the batch dimension, a ≥ 1) or a constant ≥ 0.
using Shape = std::vector<Affine>;
std::string shape_str(const Shape& s);
// Element count as a·N (checked against kMaxExtent at n = max_batch by the caller).
Affine shape_numel(const Shape& s, const std::string& what);
// The concrete dims at batch n.
std::vector<int64_t> shape_at(const Shape& s, int64_t n);

enum class DType : int32_t { kF32, kI64 };
const char* dtype_name(DType t);

// A value known at load: an initializer, a Constant, or the result of folding. Its shape is
// concrete; int64 elements are affine in N (a shape read from an activation), float ones are
// plain numbers.
struct Constant {
  DType dtype = DType::kF32;
  std::vector<int64_t> dims;
  std::vector<float> f;   // dtype kF32
  std::vector<Affine> i;  // dtype kI64
  int64_t numel() const;
  static std::shared_ptr<Constant> scalar_i64(Affine v);
};
using ConstantPtr = std::shared_ptr<const Constant>;

struct Attribute {
  enum Kind { kInt, kFloat, kInts, kFloats, kString, kTensor, kOther } kind = kOther;
  int64_t i = 0;
  float f = 0;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::string s;
  ConstantPtr t;
  std::string type_name;  // ONNX's name of the attribute type, for messages
};

struct Value {
  std::string name;
  DType dtype = DType::kF32;
  bool has_shape = false;  // set by the loader for graph inputs, by inference for the rest
  Shape shape;
  ConstantPtr constant;  // known at load
  int producer = -1;     // node index; -1 for graph inputs and initializers
};

struct Node {
  std::string name;  // ONNX node name, or "#<index>" when it has none
  std::string op;    // ONNX op_type
  std::string domain;
  std::vector<int> inputs;   // value ids; -1 for an omitted optional input
  std::vector<int> outputs;  // value ids; -1 for an omitted optional output
  std::map<std::string, Attribute> attrs;

  // "node 'conv1' (Conv)", the prefix of every message about it.
  std::string where() const { return "node '" + name + "' (" + op + ")"; }
};

struct GraphInput {
  int value = -1;
  int batch_axis = -1;  // the dynamic dimension, -1 when every dimension is fixed
};

struct Graph {
  std::vector<Value> values;
  std::vector<Node> nodes;  // in ONNX's (topological) order
  std::vector<GraphInput> inputs;
  std::vector<int> outputs;
  int64_t ir_version = 0;
  int64_t opset = 0;  // of the default ("" / "ai.onnx") domain
  std::string producer;

  int add_value(const std::string& name);
};

// Throws Error(kInvalidModel, message).
[[noreturn]] void model_error(const std::string& message);

}  // namespace cudago::nn
