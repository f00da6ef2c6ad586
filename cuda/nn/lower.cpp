// Graph → Program: constant and shape folding, lowering of every supported op, shape inference
// with the batch kept symbolic, and fusion.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <unordered_map>

#include "cudago/nn/program.hpp"
#include "cudago/nn/reference.hpp"

namespace cudago::nn {

const char* layer_kind_name(LayerKind k) {
  switch (k) {
    case LayerKind::kConv:
      return "conv";
    case LayerKind::kGemm:
      return "gemm";
    case LayerKind::kPool:
      return "pool";
    case LayerKind::kAffine:
      return "affine";
    case LayerKind::kBinary:
      return "binary";
    case LayerKind::kUnary:
      return "unary";
    case LayerKind::kSoftmax:
      return "softmax";
    case LayerKind::kConcat:
      return "concat";
    case LayerKind::kTranspose:
      return "transpose";
    case LayerKind::kReshape:
      return "reshape";
    case LayerKind::kPad:
      return "pad";
    case LayerKind::kConstant:
      return "constant";
  }
  return "?";
}

std::string Activation::str() const {
  switch (kind) {
    case ActKind::kNone:
      return "none";
    case ActKind::kRelu:
      return "relu";
    case ActKind::kSigmoid:
      return "sigmoid";
    case ActKind::kClip:
      return "clip(" + std::to_string(lo) + "," + std::to_string(hi) + ")";
  }
  return "?";
}

std::string Program::summary() const {
  std::string s;
  for (const Layer& l : layers) {
    s += std::string(layer_kind_name(l.kind)) + " " + l.ops + " -> " +
         shape_str(tensors[l.output].shape);
    if (l.residual) s += " +residual";
    if (l.act.kind != ActKind::kNone) s += " act=" + l.act.str();
    s += "\n";
  }
  return s;
}

namespace {

const std::vector<std::string>& op_list() {
  static const std::vector<std::string> ops = {"Add",
                                               "AveragePool",
                                               "BatchNormalization",
                                               "Cast",
                                               "Clip",
                                               "Concat",
                                               "Constant",
                                               "ConstantOfShape",
                                               "Conv",
                                               "Div",
                                               "Dropout",
                                               "Flatten",
                                               "Gather",
                                               "Gemm",
                                               "GlobalAveragePool",
                                               "GlobalMaxPool",
                                               "Identity",
                                               "MatMul",
                                               "MaxPool",
                                               "Mul",
                                               "Pad",
                                               "Relu",
                                               "Reshape",
                                               "Shape",
                                               "Sigmoid",
                                               "Slice",
                                               "Softmax",
                                               "Squeeze",
                                               "Sub",
                                               "Transpose",
                                               "Unsqueeze"};
  return ops;
}

}  // namespace

const std::string& supported_ops() {
  static const std::string s = [] {
    std::string r;
    for (const auto& o : op_list()) r += (r.empty() ? "" : ", ") + o;
    return r;
  }();
  return s;
}

namespace {

using ref::Dims;

// What a graph value is while lowering.
struct Sym {
  ConstantPtr c;         // known at load
  int t = -1;            // an activation tensor of the program
  std::string unusable;  // why it cannot be used (an output the runtime does not compute)
};

bool is_int(const Constant& c) { return c.dtype == DType::kI64; }

class Lowerer {
 public:
  Lowerer(const Graph& g, const LowerOptions& o) : g_(g), o_(o), sym_(g.values.size()) {}
  Program run();

 private:
  // ---- messages ----
  [[noreturn]] void fail(const std::string& msg) const { model_error(node_->where() + ": " + msg); }
  std::string vname(int v) const { return "'" + g_.values[v].name + "'"; }

  // ---- attributes ----
  void allow(std::initializer_list<const char*> names) const {
    for (const auto& kv : node_->attrs) {
      bool ok = false;
      for (const char* n : names) ok = ok || kv.first == n;
      if (!ok) fail("attribute '" + kv.first + "' is not supported");
    }
  }
  const Attribute* attr(const char* name, Attribute::Kind kind) const {
    auto it = node_->attrs.find(name);
    if (it == node_->attrs.end()) return nullptr;
    if (it->second.kind != kind) {
      fail(std::string("attribute '") + name + "' has type " + it->second.type_name);
    }
    return &it->second;
  }
  int64_t attr_i(const char* name, int64_t def) const {
    const Attribute* a = attr(name, Attribute::kInt);
    return a ? a->i : def;
  }
  float attr_f(const char* name, float def) const {
    const Attribute* a = attr(name, Attribute::kFloat);
    return a ? a->f : def;
  }
  std::string attr_s(const char* name, const std::string& def) const {
    const Attribute* a = attr(name, Attribute::kString);
    return a ? a->s : def;
  }
  bool has_attr(const char* name) const { return node_->attrs.count(name) > 0; }
  std::vector<int64_t> attr_ints(const char* name, std::vector<int64_t> def) const {
    const Attribute* a = attr(name, Attribute::kInts);
    return a ? a->ints : def;
  }

  // ---- inputs and outputs ----
  size_t nin() const { return node_->inputs.size(); }
  bool present(size_t i) const { return i < nin() && node_->inputs[i] >= 0; }
  const Sym& in(size_t i) const {
    if (!present(i)) fail("input " + std::to_string(i) + " is missing");
    const Sym& s = sym_[node_->inputs[i]];
    if (!s.unusable.empty()) fail("input " + vname(node_->inputs[i]) + " " + s.unusable);
    return s;
  }
  bool is_const(size_t i) const { return present(i) && in(i).c != nullptr; }
  const Constant& cin(size_t i, const char* what) const {
    const Sym& s = in(i);
    if (!s.c) {
      fail(std::string(what) + " (input " + vname(node_->inputs[i]) +
           ") must be a constant (an initializer or computable at load)");
    }
    return *s.c;
  }
  int tin(size_t i) const {
    const Sym& s = in(i);
    if (s.t < 0) fail("input " + vname(node_->inputs[i]) + " must be an activation here");
    return s.t;
  }
  const Shape& shape_of(int t) const { return p_.tensors[t].shape; }
  void expect_inputs(size_t lo, size_t hi) const {
    if (nin() < lo || nin() > hi) {
      fail("has " + std::to_string(nin()) + " inputs, expected " + std::to_string(lo) +
           (lo == hi ? "" : " to " + std::to_string(hi)));
    }
  }
  // Optional outputs after the first (Dropout's mask, MaxPool's indices, BatchNormalization's
  // training statistics) are not computed: using one is an error naming it.
  void single_output() {
    for (size_t i = 1; i < node_->outputs.size(); ++i) {
      if (node_->outputs[i] >= 0) {
        sym_[node_->outputs[i]].unusable =
            "is output " + std::to_string(i) + " of " + node_->where() +
            ", which the runtime does not compute (only the first output is)";
      }
    }
    if (node_->outputs.empty() || node_->outputs[0] < 0) fail("has no output");
  }
  void set_const(ConstantPtr c, size_t out = 0) {
    if (out < node_->outputs.size() && node_->outputs[out] >= 0) sym_[node_->outputs[out]].c = c;
  }
  void set_tensor(int t, size_t out = 0) {
    if (out < node_->outputs.size() && node_->outputs[out] >= 0) sym_[node_->outputs[out]].t = t;
  }
  int new_tensor(const Shape& shape) {
    for (const Affine& d : shape) {
      if (d.b < 0 || d.a < 0 || (d.a == 0 && d.b == 0)) {
        fail("output shape " + shape_str(shape) + " has an empty or negative dimension");
      }
      if (d.a != 0 && d.b != 0) {
        fail("output shape " + shape_str(shape) + " has a dimension of " + d.str() +
             ": a dimension may be a multiple of the batch size or a constant, not both");
      }
    }
    int64_t n = shape_numel(shape, node_->where()).at(p_.max_batch);
    if (n > kMaxExtent) {
      fail("output shape " + shape_str(shape) + " has too many elements at batch " +
           std::to_string(p_.max_batch));
    }
    TensorInfo ti;
    ti.name = node_->outputs.empty() || node_->outputs[0] < 0 ? node_->name
                                                              : g_.values[node_->outputs[0]].name;
    ti.shape = shape;
    p_.tensors.push_back(std::move(ti));
    return static_cast<int>(p_.tensors.size()) - 1;
  }
  // Adds a layer whose parameters are already set, with the node's name and a new output.
  void add_built(Layer&& l, std::vector<int> inputs, const Shape& out_shape) {
    Layer& added = add_layer(l.kind, std::move(inputs), out_shape);
    l.name = added.name;
    l.ops = added.ops;
    l.inputs = added.inputs;
    l.output = added.output;
    added = std::move(l);
  }
  Layer& add_layer(LayerKind kind, std::vector<int> inputs, const Shape& out_shape) {
    Layer l;
    l.kind = kind;
    l.name = node_->name;
    l.ops = node_->op;
    l.inputs = std::move(inputs);
    l.output = new_tensor(out_shape);
    set_tensor(l.output);
    p_.layers.push_back(std::move(l));
    return p_.layers.back();
  }
  int64_t const_dim(const Affine& d, const char* what) const {
    if (!d.is_constant()) {
      fail(std::string(what) + " depends on the batch size (" + d.str() +
           "); only the first dimension may");
    }
    return d.b;
  }
  int64_t norm_axis(int64_t axis, size_t rank, const char* what) const {
    int64_t r = static_cast<int64_t>(rank);
    if (axis < -r || axis >= r) {
      fail(std::string(what) + " " + std::to_string(axis) + " is out of range for rank " +
           std::to_string(r));
    }
    return axis < 0 ? axis + r : axis;
  }

  // ---- the ops ----
  void lower_node();
  bool try_fold();
  void fold_binary();
  void fold_gather();
  void fold_slice();
  std::vector<int64_t> axes_arg(size_t input, const char* attr_name, bool required);
  Shape reshape_target(const Shape& in_shape, const Constant& target, bool allowzero);
  void lower_conv();
  void lower_gemm();
  void lower_matmul();
  void lower_bn();
  void lower_unary();
  void lower_binary();
  void lower_pool(bool max, bool global);
  void lower_softmax();
  void lower_concat();
  void lower_transpose();
  void lower_pad();
  void spatial_out(const Shape& xs, const int64_t kernel[2], const int64_t stride[2],
                   const int64_t dil[2], int64_t pad[4], bool ceil_mode, const char* pads_attr,
                   int64_t out[2]);
  Activation clip_bounds();

  // ---- fusion ----
  void fuse();
  std::vector<int> consumers_count() const;
  void outputs_and_cleanup();

  const Graph& g_;
  LowerOptions o_;
  std::vector<Sym> sym_;
  Program p_;
  const Node* node_ = nullptr;
};

// ------------------------------------------------------------------------------------------
Program Lowerer::run() {
  p_.dynamic_batch = false;
  for (const GraphInput& gi : g_.inputs) p_.dynamic_batch |= gi.batch_axis >= 0;
  if (o_.max_batch < 1) model_error("the maximum batch size must be at least 1");
  p_.max_batch = p_.dynamic_batch ? o_.max_batch : 1;

  for (size_t v = 0; v < g_.values.size(); ++v) {
    if (g_.values[v].constant) sym_[v].c = g_.values[v].constant;
  }
  for (const GraphInput& gi : g_.inputs) {
    const Value& v = g_.values[gi.value];
    TensorInfo ti{v.name, v.shape};
    int64_t n = shape_numel(v.shape, "graph input '" + v.name + "'").at(p_.max_batch);
    if (n > kMaxExtent) {
      model_error("graph input '" + v.name + "': shape " + shape_str(v.shape) +
                  " has too many elements at batch " + std::to_string(p_.max_batch));
    }
    p_.tensors.push_back(ti);
    sym_[gi.value].t = static_cast<int>(p_.tensors.size()) - 1;
    p_.inputs.push_back(sym_[gi.value].t);
  }
  for (const Node& n : g_.nodes) {
    node_ = &n;
    lower_node();
  }
  node_ = nullptr;
  outputs_and_cleanup();
  if (o_.fuse) fuse();
  outputs_and_cleanup();
  return std::move(p_);
}

void Lowerer::lower_node() {
  const std::string& op = node_->op;
  if (std::find(op_list().begin(), op_list().end(), op) == op_list().end()) {
    fail("op '" + op + "' is not supported; the supported ops are: " + supported_ops());
  }
  single_output();
  if (try_fold()) return;
  if (op == "Conv") return lower_conv();
  if (op == "Gemm") return lower_gemm();
  if (op == "MatMul") return lower_matmul();
  if (op == "BatchNormalization") return lower_bn();
  if (op == "Relu" || op == "Sigmoid" || op == "Clip") return lower_unary();
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return lower_binary();
  if (op == "MaxPool") return lower_pool(true, false);
  if (op == "AveragePool") return lower_pool(false, false);
  if (op == "GlobalMaxPool") return lower_pool(true, true);
  if (op == "GlobalAveragePool") return lower_pool(false, true);
  if (op == "Softmax") return lower_softmax();
  if (op == "Concat") return lower_concat();
  if (op == "Transpose") return lower_transpose();
  if (op == "Pad") return lower_pad();
  if (op == "Identity" || op == "Dropout" || op == "Cast") {
    if (op == "Cast") {
      allow({"to", "saturate"});
      const Attribute* to = attr("to", Attribute::kInt);
      if (!to) fail("attribute 'to' is missing");
      if (to->i != 1 && to->i != 10 && to->i != 11 && to->i != 16) {
        fail("casting an activation to an integer type is not supported");
      }
    } else if (op == "Dropout") {
      allow({"ratio", "seed"});
      if (present(2) && !is_const(2)) fail("training_mode must be a constant");
      if (present(2) && !cin(2, "training_mode").i.empty() && cin(2, "training_mode").i[0].b != 0) {
        fail("training_mode must be false: only inference is supported");
      }
    } else {
      allow({});
    }
    set_tensor(tin(0));
    return;
  }
  if (op == "Flatten") {
    allow({"axis"});
    const Shape& xs = shape_of(tin(0));
    int64_t axis = attr_i("axis", 1);
    int64_t r = static_cast<int64_t>(xs.size());
    if (axis < -r || axis > r) fail("axis " + std::to_string(axis) + " is out of range");
    if (axis < 0) axis += r;
    Shape a(xs.begin(), xs.begin() + axis), b(xs.begin() + axis, xs.end());
    Shape out = {shape_numel(a, node_->where()), shape_numel(b, node_->where())};
    add_layer(LayerKind::kReshape, {tin(0)}, out);
    return;
  }
  if (op == "Reshape") {
    allow({"allowzero"});
    const Constant& target = cin(1, "the shape");
    Shape out = reshape_target(shape_of(tin(0)), target, attr_i("allowzero", 0) != 0);
    add_layer(LayerKind::kReshape, {tin(0)}, out);
    return;
  }
  if (op == "Squeeze" || op == "Unsqueeze") {
    allow({"axes"});
    const Shape& xs = shape_of(tin(0));
    std::vector<int64_t> axes = axes_arg(1, "axes", op == "Unsqueeze");
    Shape out;
    if (op == "Squeeze") {
      std::set<int64_t> drop;
      for (int64_t a : axes) drop.insert(norm_axis(a, xs.size(), "axis"));
      for (size_t i = 0; i < xs.size(); ++i) {
        bool one = xs[i] == Affine::constant(1);
        if (drop.count(static_cast<int64_t>(i)) && !one) {
          fail("cannot squeeze axis " + std::to_string(i) + " of size " + xs[i].str());
        }
        if ((axes.empty() && one) || drop.count(static_cast<int64_t>(i))) continue;
        out.push_back(xs[i]);
      }
    } else {
      size_t r = xs.size() + axes.size();
      std::vector<bool> ins(r, false);
      for (int64_t a : axes) {
        int64_t k = norm_axis(a, r, "axis");
        if (ins[static_cast<size_t>(k)]) fail("axis " + std::to_string(a) + " is repeated");
        ins[static_cast<size_t>(k)] = true;
      }
      size_t j = 0;
      for (size_t i = 0; i < r; ++i) out.push_back(ins[i] ? Affine::constant(1) : xs[j++]);
    }
    add_layer(LayerKind::kReshape, {tin(0)}, out);
    return;
  }
  if (op == "Shape" || op == "Constant" || op == "ConstantOfShape" || op == "Gather" ||
      op == "Slice") {
    fail("needs constant inputs here (it is supported only as shape arithmetic folded at load)");
  }
  fail("op '" + op + "' is not supported here");
}

// ------------------------------------------------------------------------------------------
// Constant folding. Returns true when the node's outputs are now constants.
bool Lowerer::try_fold() {
  const std::string& op = node_->op;
  if (op == "Constant") {
    allow({"value", "value_float", "value_floats", "value_int", "value_ints"});
    if (node_->attrs.size() != 1) fail("needs exactly one value attribute");
    auto c = std::make_shared<Constant>();
    const auto& kv = *node_->attrs.begin();
    const Attribute& a = kv.second;
    if (kv.first == "value") {
      if (a.kind != Attribute::kTensor) fail("attribute 'value' is not a tensor");
      set_const(a.t);
      return true;
    }
    if (kv.first == "value_float" && a.kind == Attribute::kFloat) {
      c->f = {a.f};
    } else if (kv.first == "value_floats" && a.kind == Attribute::kFloats) {
      c->f = a.floats;
      c->dims = {static_cast<int64_t>(a.floats.size())};
    } else if (kv.first == "value_int" && a.kind == Attribute::kInt) {
      c->dtype = DType::kI64;
      c->i = {Affine::constant(a.i)};
    } else if (kv.first == "value_ints" && a.kind == Attribute::kInts) {
      c->dtype = DType::kI64;
      for (int64_t v : a.ints) c->i.push_back(Affine::constant(v));
      c->dims = {static_cast<int64_t>(a.ints.size())};
    } else {
      fail("attribute '" + kv.first + "' has type " + a.type_name);
    }
    set_const(c);
    return true;
  }
  if (op == "Shape") {
    allow({"start", "end"});
    expect_inputs(1, 1);
    const Sym& s = in(0);
    Shape xs;
    if (s.c) {
      for (int64_t d : s.c->dims) xs.push_back(Affine::constant(d));
    } else {
      xs = shape_of(s.t);
    }
    int64_t r = static_cast<int64_t>(xs.size());
    int64_t start = attr_i("start", 0), end = attr_i("end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<int64_t>(start, 0, r);
    end = std::clamp<int64_t>(end, 0, r);
    auto c = std::make_shared<Constant>();
    c->dtype = DType::kI64;
    for (int64_t i = start; i < end; ++i) c->i.push_back(xs[static_cast<size_t>(i)]);
    c->dims = {static_cast<int64_t>(c->i.size())};
    set_const(c);
    return true;
  }
  // Every other op folds only when all its present inputs are constants.
  if (nin() == 0 && op != "ConstantOfShape") return false;
  for (size_t i = 0; i < nin(); ++i) {
    if (present(i) && !in(i).c) return false;
  }
  if (op == "ConstantOfShape") {
    allow({"value"});
    const Constant& sh = cin(0, "the shape");
    if (!is_int(sh)) fail("the shape must be int64");
    auto c = std::make_shared<Constant>();
    c->dtype = DType::kF32;
    float fv = 0;
    Affine iv{};
    if (const Attribute* a = attr("value", Attribute::kTensor)) {
      if (a->t->numel() != 1) fail("attribute 'value' must hold one element");
      c->dtype = a->t->dtype;
      if (c->dtype == DType::kF32) fv = a->t->f[0];
      if (c->dtype == DType::kI64) iv = a->t->i[0];
    }
    int64_t n = 1;
    for (const Affine& d : sh.i) {
      int64_t v = const_dim(d, "the shape");
      if (v < 0) fail("negative dimension " + std::to_string(v));
      n = checked_mul(n, v, node_->where());
      if (n > kMaxFoldedElements) {
        fail("the constant would have more than " + std::to_string(kMaxFoldedElements) +
             " elements");
      }
      c->dims.push_back(v);
    }
    if (c->dtype == DType::kF32) c->f.assign(static_cast<size_t>(n), fv);
    if (c->dtype == DType::kI64) c->i.assign(static_cast<size_t>(n), iv);
    set_const(c);
    return true;
  }
  if (op == "Identity" || op == "Dropout") {
    if (op == "Dropout") allow({"ratio", "seed"});
    set_const(in(0).c);
    return true;
  }
  if (op == "Cast") {
    allow({"to", "saturate"});
    const Attribute* to = attr("to", Attribute::kInt);
    if (!to) fail("attribute 'to' is missing");
    const Constant& x = cin(0, "the input");
    auto c = std::make_shared<Constant>();
    c->dims = x.dims;
    bool to_float = to->i == 1 || to->i == 10 || to->i == 11 || to->i == 16;
    bool to_int = (to->i >= 2 && to->i <= 7) || to->i == 9 || to->i == 12 || to->i == 13;
    if (!to_float && !to_int) fail("cast to type " + std::to_string(to->i) + " is not supported");
    c->dtype = to_float ? DType::kF32 : DType::kI64;
    if (is_int(x) && to_float) {
      for (const Affine& v : x.i) c->f.push_back(static_cast<float>(const_dim(v, "the value")));
    } else if (!is_int(x) && to_int) {
      for (float v : x.f) {
        if (!(std::fabs(v) < 9.2e18f)) fail("a value does not fit an integer");
        c->i.push_back(Affine::constant(static_cast<int64_t>(v)));
      }
    } else {
      c->f = x.f;
      c->i = x.i;
    }
    set_const(c);
    return true;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    fold_binary();
    return true;
  }
  if (op == "Gather") {
    fold_gather();
    return true;
  }
  if (op == "Slice") {
    fold_slice();
    return true;
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    allow({"axes"});
    const Constant& x = cin(0, "the input");
    std::vector<int64_t> axes = axes_arg(1, "axes", op == "Unsqueeze");
    auto c = std::make_shared<Constant>(x);
    c->dims.clear();
    if (op == "Unsqueeze") {
      size_t r = x.dims.size() + axes.size();
      std::vector<bool> ins(r, false);
      for (int64_t a : axes) {
        size_t k = static_cast<size_t>(norm_axis(a, r, "axis"));
        if (ins[k]) fail("axis " + std::to_string(a) + " is repeated");
        ins[k] = true;
      }
      size_t j = 0;
      for (size_t i = 0; i < r; ++i) c->dims.push_back(ins[i] ? 1 : x.dims[j++]);
    } else {
      std::set<int64_t> drop;
      for (int64_t a : axes) drop.insert(norm_axis(a, x.dims.size(), "axis"));
      for (size_t i = 0; i < x.dims.size(); ++i) {
        bool d = axes.empty() ? x.dims[i] == 1 : drop.count(static_cast<int64_t>(i)) > 0;
        if (d && x.dims[i] != 1)
          fail("cannot squeeze an axis of size " + std::to_string(x.dims[i]));
        if (!d) c->dims.push_back(x.dims[i]);
      }
    }
    set_const(c);
    return true;
  }
  if (op == "Concat") {
    allow({"axis"});
    const Constant& x0 = cin(0, "input 0");
    int64_t axis = norm_axis(attr_i("axis", 0), x0.dims.size(), "axis");
    auto c = std::make_shared<Constant>();
    c->dtype = x0.dtype;
    c->dims = x0.dims;
    c->dims[static_cast<size_t>(axis)] = 0;
    std::vector<const Constant*> parts;
    for (size_t i = 0; i < nin(); ++i) {
      const Constant& x = cin(i, "every input");
      if (x.dtype != x0.dtype || x.dims.size() != x0.dims.size()) {
        fail("inputs differ in type or rank");
      }
      for (size_t d = 0; d < x.dims.size(); ++d) {
        if (static_cast<int64_t>(d) != axis && x.dims[d] != x0.dims[d]) {
          fail("inputs differ outside the concatenation axis");
        }
      }
      c->dims[static_cast<size_t>(axis)] = checked_add(
          c->dims[static_cast<size_t>(axis)], x.dims[static_cast<size_t>(axis)], node_->where());
      parts.push_back(&x);
    }
    if (c->numel() > kMaxFoldedElements) {
      fail("the folded constant would have more than " + std::to_string(kMaxFoldedElements) +
           " elements");
    }
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x0.dims[static_cast<size_t>(d)];
    for (int64_t o = 0; o < outer; ++o) {
      for (const Constant* x : parts) {
        int64_t chunk = x->numel() / std::max<int64_t>(outer, 1);
        size_t from = static_cast<size_t>(o * chunk);
        if (is_int(*x)) {
          c->i.insert(c->i.end(), x->i.begin() + from, x->i.begin() + from + chunk);
        } else {
          c->f.insert(c->f.end(), x->f.begin() + from, x->f.begin() + from + chunk);
        }
      }
    }
    set_const(c);
    return true;
  }
  if (op == "Reshape" || op == "Flatten") {
    const Constant& x = cin(0, "the input");
    Shape xs;
    for (int64_t d : x.dims) xs.push_back(Affine::constant(d));
    Shape out;
    if (op == "Reshape") {
      allow({"allowzero"});
      out = reshape_target(xs, cin(1, "the shape"), attr_i("allowzero", 0) != 0);
    } else {
      allow({"axis"});
      int64_t r = static_cast<int64_t>(xs.size());
      int64_t axis = attr_i("axis", 1);
      if (axis < -r || axis > r) fail("axis is out of range");
      if (axis < 0) axis += r;
      out = {shape_numel(Shape(xs.begin(), xs.begin() + axis), "flatten"),
             shape_numel(Shape(xs.begin() + axis, xs.end()), "flatten")};
    }
    auto c = std::make_shared<Constant>(x);
    c->dims.clear();
    for (const Affine& d : out) c->dims.push_back(d.b);
    set_const(c);
    return true;
  }
  if (op == "Transpose") {
    allow({"perm"});
    const Constant& x = cin(0, "the input");
    if (is_int(x)) fail("transposing int64 constants is not supported");
    std::vector<int64_t> perm = attr_ints("perm", {});
    if (perm.empty()) {
      for (size_t i = x.dims.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
    }
    if (perm.size() != x.dims.size()) fail("perm has the wrong length");
    std::vector<bool> seen(perm.size(), false);
    for (int64_t& v : perm) {
      v = norm_axis(v, perm.size(), "perm entry");
      if (seen[static_cast<size_t>(v)]) fail("perm repeats an axis");
      seen[static_cast<size_t>(v)] = true;
    }
    auto c = std::make_shared<Constant>();
    for (int64_t v : perm) c->dims.push_back(x.dims[static_cast<size_t>(v)]);
    c->f.resize(x.f.size());
    ref::transpose(x.f.data(), x.dims, perm, c->f.data());
    set_const(c);
    return true;
  }
  if (op == "Relu" || op == "Sigmoid" || op == "Clip") {
    const Constant& x = cin(0, "the input");
    if (is_int(x)) fail("int64 inputs are not supported");
    Activation act;
    if (op == "Relu") {
      allow({});
      act.kind = ActKind::kRelu;
    } else if (op == "Sigmoid") {
      allow({});
      act.kind = ActKind::kSigmoid;
    } else {
      act = clip_bounds();
    }
    auto c = std::make_shared<Constant>(x);
    ref::activation(c->f.data(), c->numel(), act);
    set_const(c);
    return true;
  }
  return false;  // the other ops never fold (a fully constant Conv is not worth it)
}

void Lowerer::fold_binary() {
  allow({});
  const Constant& a = cin(0, "input A");
  const Constant& b = cin(1, "input B");
  if (a.dtype != b.dtype) fail("inputs have different element types");
  Dims od = ref::broadcast(a.dims, b.dims, node_->where().c_str());
  auto c = std::make_shared<Constant>();
  c->dtype = a.dtype;
  c->dims = od;
  BinaryOp op = node_->op == "Add"   ? BinaryOp::kAdd
                : node_->op == "Sub" ? BinaryOp::kSub
                : node_->op == "Mul" ? BinaryOp::kMul
                                     : BinaryOp::kDiv;
  int64_t n = ref::numel(od);
  if (n > kMaxFoldedElements) {
    fail("the folded constant would have more than " + std::to_string(kMaxFoldedElements) +
         " elements");
  }
  if (!is_int(a)) {
    c->f.resize(static_cast<size_t>(n));
    ref::binary(a.f.data(), a.dims, b.f.data(), b.dims, c->f.data(), od, op);
  } else {
    // Broadcast by index arithmetic over the output.
    size_t r = od.size();
    auto index_of = [&](const Dims& d, int64_t flat) {
      int64_t idx = 0, stride = 1;
      int64_t rem = flat;
      std::vector<int64_t> coord(r);
      for (size_t k = r; k-- > 0;) {
        coord[k] = rem % od[k];
        rem /= od[k];
      }
      size_t off = r - d.size();
      for (size_t k = d.size(); k-- > 0;) {
        int64_t ck = d[k] == 1 ? 0 : coord[k + off];
        idx += ck * stride;
        stride *= d[k];
      }
      return static_cast<size_t>(idx);
    };
    std::string w = node_->where();
    for (int64_t k = 0; k < n; ++k) {
      Affine x = a.i[index_of(a.dims, k)], y = b.i[index_of(b.dims, k)];
      switch (op) {
        case BinaryOp::kAdd:
          c->i.push_back(affine_add(x, y, w));
          break;
        case BinaryOp::kSub:
          c->i.push_back(affine_sub(x, y, w));
          break;
        case BinaryOp::kMul:
          c->i.push_back(affine_mul(x, y, w));
          break;
        case BinaryOp::kDiv:
          c->i.push_back(affine_div(x, y, w));
          break;
      }
    }
  }
  set_const(c);
}

void Lowerer::fold_gather() {
  allow({"axis"});
  const Constant& x = cin(0, "the data");
  const Constant& idx = cin(1, "the indices");
  if (!is_int(idx)) fail("indices must be integers");
  if (x.dims.empty()) fail("cannot gather from a scalar");
  int64_t axis = norm_axis(attr_i("axis", 0), x.dims.size(), "axis");
  int64_t len = x.dims[static_cast<size_t>(axis)];
  auto c = std::make_shared<Constant>();
  c->dtype = x.dtype;
  for (int64_t d = 0; d < axis; ++d) c->dims.push_back(x.dims[static_cast<size_t>(d)]);
  for (int64_t d : idx.dims) c->dims.push_back(d);
  for (size_t d = static_cast<size_t>(axis) + 1; d < x.dims.size(); ++d)
    c->dims.push_back(x.dims[d]);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dims[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < x.dims.size(); ++d) inner *= x.dims[d];
  if (checked_mul(checked_mul(outer, idx.numel(), "gather"), inner, "gather") >
      kMaxFoldedElements) {
    fail("the result is too large");
  }
  for (int64_t o = 0; o < outer; ++o) {
    for (const Affine& iv : idx.i) {
      int64_t k = const_dim(iv, "an index");
      if (k < -len || k >= len) fail("index " + std::to_string(k) + " is out of range");
      if (k < 0) k += len;
      size_t from = static_cast<size_t>((o * len + k) * inner);
      if (is_int(x)) {
        c->i.insert(c->i.end(), x.i.begin() + from, x.i.begin() + from + inner);
      } else {
        c->f.insert(c->f.end(), x.f.begin() + from, x.f.begin() + from + inner);
      }
    }
  }
  set_const(c);
}

void Lowerer::fold_slice() {
  const Constant& x = cin(0, "the data");
  std::vector<int64_t> starts, ends, axes, steps;
  auto ints_of = [&](size_t i, const char* what) {
    std::vector<int64_t> r;
    if (!present(i)) return r;
    const Constant& c = cin(i, what);
    if (!is_int(c)) fail(std::string(what) + " must be integers");
    for (const Affine& v : c.i) r.push_back(const_dim(v, what));
    return r;
  };
  if (g_.opset < 10) {
    allow({"starts", "ends", "axes"});
    starts = attr_ints("starts", {});
    ends = attr_ints("ends", {});
    axes = attr_ints("axes", {});
  } else {
    allow({});
    starts = ints_of(1, "starts");
    ends = ints_of(2, "ends");
    axes = ints_of(3, "axes");
    steps = ints_of(4, "steps");
  }
  if (starts.size() != ends.size()) fail("starts and ends differ in length");
  if (axes.empty()) {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size()) {
    fail("starts, ends, axes and steps differ in length");
  }
  size_t r = x.dims.size();
  std::vector<int64_t> st(r, 0), sp(r, 1), cnt(x.dims);
  for (size_t k = 0; k < axes.size(); ++k) {
    size_t a = static_cast<size_t>(norm_axis(axes[k], r, "axis"));
    int64_t dim = x.dims[a], step = steps[k];
    if (step == 0) fail("a step is 0");
    if (step == INT64_MIN) fail("a step is out of range");
    int64_t s = starts[k], e = ends[k];
    if (s < 0) s = s < -dim ? -1 : s + dim;
    if (e < 0) e = e < -dim ? -1 : e + dim;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      cnt[a] = e > s ? (e - s - 1) / step + 1 : 0;
    } else {
      s = std::clamp<int64_t>(s, -1, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      cnt[a] = s > e ? (s - e - 1) / (-step) + 1 : 0;
    }
    st[a] = s;
    sp[a] = step;
  }
  auto c = std::make_shared<Constant>();
  c->dtype = x.dtype;
  c->dims = cnt;
  int64_t n = c->numel();
  std::vector<int64_t> coord(r, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t rem = k, src = 0, stride = 1;
    for (size_t d = r; d-- > 0;) {
      coord[d] = rem % cnt[d];
      rem /= cnt[d];
    }
    for (size_t d = r; d-- > 0;) {
      src += (st[d] + coord[d] * sp[d]) * stride;
      stride *= x.dims[d];
    }
    if (is_int(x)) {
      c->i.push_back(x.i[static_cast<size_t>(src)]);
    } else {
      c->f.push_back(x.f[static_cast<size_t>(src)]);
    }
  }
  set_const(c);
}

std::vector<int64_t> Lowerer::axes_arg(size_t input, const char* attr_name, bool required) {
  std::vector<int64_t> axes;
  if (g_.opset >= 13) {
    if (has_attr(attr_name))
      fail(std::string("attribute '") + attr_name + "' is an input from opset 13");
    if (present(input)) {
      const Constant& c = cin(input, attr_name);
      if (!is_int(c)) fail(std::string(attr_name) + " must be integers");
      for (const Affine& v : c.i) axes.push_back(const_dim(v, attr_name));
    }
  } else {
    axes = attr_ints(attr_name, {});
  }
  if (required && axes.empty()) fail(std::string(attr_name) + " are required");
  return axes;
}

Shape Lowerer::reshape_target(const Shape& xs, const Constant& target, bool allowzero) {
  if (!is_int(target)) fail("the shape must be int64");
  if (target.dims.size() != 1) fail("the shape must be a 1-D tensor");
  Shape out;
  int infer = -1;
  for (size_t i = 0; i < target.i.size(); ++i) {
    Affine d = target.i[i];
    if (d == Affine::constant(-1)) {
      if (infer >= 0) fail("the shape has more than one -1");
      infer = static_cast<int>(i);
      out.push_back(Affine::constant(1));
    } else if (d == Affine::constant(0) && !allowzero) {
      if (i >= xs.size())
        fail("the shape copies dimension " + std::to_string(i) + " (0), which the input lacks");
      out.push_back(xs[i]);
    } else {
      if (d.a < 0 || d.b < 0 || (d.a > 0 && d.b != 0)) {
        fail("shape entry " + d.str() + " is not supported");
      }
      out.push_back(d);
    }
  }
  std::string w = node_->where();
  Affine total = shape_numel(xs, w);
  Affine known = shape_numel(out, w);
  if (infer >= 0) {
    if (known == Affine::constant(0)) fail("the shape has a 0 beside a -1");
    Affine q = affine_div(total, known, w);
    if (affine_mul(q, known, w) != total) {
      fail("cannot reshape " + shape_str(xs) + " to " + shape_str(out) + " with a -1");
    }
    out[static_cast<size_t>(infer)] = q;
  }
  if (shape_numel(out, w) != total) {
    fail("cannot reshape " + shape_str(xs) + " (" + total.str() + " elements) to " +
         shape_str(out));
  }
  return out;
}

// ------------------------------------------------------------------------------------------
void Lowerer::spatial_out(const Shape& xs, const int64_t kernel[2], const int64_t stride[2],
                          const int64_t dil[2], int64_t pad[4], bool ceil_mode,
                          const char* pads_attr, int64_t out[2]) {
  std::string auto_pad = attr_s("auto_pad", "NOTSET");
  std::vector<int64_t> pads = attr_ints(pads_attr, {0, 0, 0, 0});
  if (pads.size() != 4) fail(std::string("attribute '") + pads_attr + "' must have 4 entries");
  for (int64_t v : pads) {
    if (v < 0) fail(std::string("attribute '") + pads_attr + "' has a negative entry");
    if (v > kMaxExtent) fail(std::string("attribute '") + pads_attr + "' has an entry too large");
  }
  for (int i = 0; i < 2; ++i) {
    int64_t in = const_dim(xs[static_cast<size_t>(2 + i)], "a spatial dimension");
    if (kernel[i] < 1 || stride[i] < 1 || dil[i] < 1) {
      fail("kernel, strides and dilations must be positive");
    }
    if (kernel[i] > kMaxExtent || stride[i] > kMaxExtent || dil[i] > kMaxExtent) {
      fail("kernel, strides and dilations must be at most " + std::to_string(kMaxExtent));
    }
    int64_t eff = checked_mul(kernel[i] - 1, dil[i], node_->where()) + 1;
    if (eff > kMaxExtent) fail("the dilated window is too large");
    if (auto_pad == "NOTSET") {
      pad[i] = pads[static_cast<size_t>(i)];
      pad[i + 2] = pads[static_cast<size_t>(i + 2)];
    } else if (auto_pad == "VALID") {
      pad[i] = pad[i + 2] = 0;
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      if (has_attr(pads_attr)) fail("auto_pad " + auto_pad + " with explicit pads");
      int64_t o = (in + stride[i] - 1) / stride[i];
      int64_t total = std::max<int64_t>((o - 1) * stride[i] + eff - in, 0);
      int64_t small = total / 2, big = total - small;
      pad[i] = auto_pad == "SAME_UPPER" ? small : big;
      pad[i + 2] = auto_pad == "SAME_UPPER" ? big : small;
    } else {
      fail("auto_pad '" + auto_pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
    }
    int64_t span = checked_add(in, pad[i] + pad[i + 2], node_->where()) - eff;
    if (span < 0) {
      fail("the window (" + std::to_string(eff) + ") is larger than the padded input (" +
           std::to_string(in + pad[i] + pad[i + 2]) + ")");
    }
    int64_t o = ceil_mode ? (span + stride[i] - 1) / stride[i] + 1 : span / stride[i] + 1;
    // A last window that would start in the end padding is dropped (ONNX, PyTorch).
    if (ceil_mode && (o - 1) * stride[i] >= in + pad[i]) --o;
    out[i] = o;
  }
}

void Lowerer::lower_conv() {
  allow({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
  expect_inputs(2, 3);
  int x = tin(0);
  const Shape& xs = shape_of(x);
  if (xs.size() != 4)
    fail("only 2-D convolutions (4-D inputs) are supported; input is " + shape_str(xs));
  const Constant& w = cin(1, "the weight");
  if (is_int(w) || w.dims.size() != 4) fail("the weight must be a 4-D float tensor");
  Layer l;
  l.kind = LayerKind::kConv;
  l.group = attr_i("group", 1);
  l.k = w.dims[0];
  l.c = const_dim(xs[1], "the channel count");
  l.r = w.dims[2];
  l.s = w.dims[3];
  if (l.group < 1 || l.c % l.group != 0 || l.k % l.group != 0 || w.dims[1] != l.c / l.group) {
    fail("weight " +
         shape_str({Affine::constant(w.dims[0]), Affine::constant(w.dims[1]),
                    Affine::constant(w.dims[2]), Affine::constant(w.dims[3])}) +
         " does not match " + std::to_string(l.c) + " input channels in " +
         std::to_string(l.group) + " groups");
  }
  std::vector<int64_t> ks = attr_ints("kernel_shape", {l.r, l.s});
  if (ks.size() != 2 || ks[0] != l.r || ks[1] != l.s)
    fail("kernel_shape does not match the weight");
  std::vector<int64_t> st = attr_ints("strides", {1, 1}), dl = attr_ints("dilations", {1, 1});
  if (st.size() != 2) fail("attribute 'strides' must have 2 entries");
  if (dl.size() != 2) fail("attribute 'dilations' must have 2 entries");
  l.stride[0] = st[0];
  l.stride[1] = st[1];
  l.dilation[0] = dl[0];
  l.dilation[1] = dl[1];
  int64_t kern[2] = {l.r, l.s}, out[2];
  spatial_out(xs, kern, l.stride, l.dilation, l.pad, false, "pads", out);
  l.weight = w.f;
  if (present(2)) {
    const Constant& b = cin(2, "the bias");
    if (is_int(b) || b.numel() != l.k)
      fail("the bias must hold " + std::to_string(l.k) + " floats");
    l.bias = b.f;
  }
  add_built(std::move(l), {x},
            {xs[0], Affine::constant(l.k), Affine::constant(out[0]), Affine::constant(out[1])});
}

void Lowerer::lower_gemm() {
  allow({"alpha", "beta", "transA", "transB"});
  expect_inputs(2, 3);
  if (attr_i("transA", 0) != 0) fail("attribute 'transA' = 1 on an activation is not supported");
  int a = tin(0);
  const Shape& as = shape_of(a);
  if (as.size() != 2) fail("input A must be 2-D; it is " + shape_str(as));
  const Constant& b = cin(1, "input B");
  if (is_int(b) || b.dims.size() != 2) fail("input B must be a 2-D float tensor");
  bool tb = attr_i("transB", 0) != 0;
  int64_t kdim = const_dim(as[1], "the inner dimension");
  int64_t bk = tb ? b.dims[1] : b.dims[0], m = tb ? b.dims[0] : b.dims[1];
  if (bk != kdim)
    fail("A has " + std::to_string(kdim) + " columns, B " + std::to_string(bk) + " rows");
  float alpha = attr_f("alpha", 1), beta = attr_f("beta", 1);
  Layer l;
  l.kind = LayerKind::kGemm;
  l.k = m;
  l.c = kdim;
  l.weight.resize(static_cast<size_t>(m * kdim));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < kdim; ++j) {
      float v = tb ? b.f[static_cast<size_t>(i * kdim + j)] : b.f[static_cast<size_t>(j * m + i)];
      l.weight[static_cast<size_t>(i * kdim + j)] = alpha * v;
    }
  }
  if (present(2)) {
    const Constant& c = cin(2, "input C");
    if (is_int(c)) fail("input C must be float");
    int64_t cn = c.numel();
    bool row = (c.dims.size() == 1 && c.dims[0] == m) ||
               (c.dims.size() == 2 && c.dims[0] == 1 && c.dims[1] == m);
    if (!(row || cn == 1)) {
      fail("input C must broadcast over the rows (shape [" + std::to_string(m) + "], [1," +
           std::to_string(m) + "] or a scalar)");
    }
    l.bias.resize(static_cast<size_t>(m));
    for (int64_t i = 0; i < m; ++i)
      l.bias[static_cast<size_t>(i)] = beta * c.f[row ? static_cast<size_t>(i) : 0];
  }
  add_built(std::move(l), {a}, {as[0], Affine::constant(m)});
}

void Lowerer::lower_matmul() {
  allow({});
  expect_inputs(2, 2);
  if (is_const(0)) fail("a constant A times an activation B is not supported");
  int a = tin(0);
  const Shape& as = shape_of(a);
  if (as.size() < 2) fail("input A must have rank 2 or more; it is " + shape_str(as));
  const Constant& b = cin(1, "input B");
  if (is_int(b) || b.dims.size() != 2) fail("input B must be a 2-D float tensor");
  int64_t kdim = const_dim(as.back(), "the inner dimension");
  if (b.dims[0] != kdim)
    fail("A has " + std::to_string(kdim) + " columns, B " + std::to_string(b.dims[0]) + " rows");
  int64_t m = b.dims[1];
  Layer l;
  l.kind = LayerKind::kGemm;
  l.k = m;
  l.c = kdim;
  l.weight.resize(static_cast<size_t>(m * kdim));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < kdim; ++j) {
      l.weight[static_cast<size_t>(i * kdim + j)] = b.f[static_cast<size_t>(j * m + i)];
    }
  }
  Shape os = as;
  os.back() = Affine::constant(m);
  add_built(std::move(l), {a}, os);
}

void Lowerer::lower_bn() {
  allow({"epsilon", "momentum", "spatial", "training_mode", "is_test", "consumed_inputs"});
  expect_inputs(5, 5);
  if (attr_i("training_mode", 0) != 0) fail("training_mode = 1 is not supported (inference only)");
  if (attr_i("spatial", 1) != 1) fail("spatial = 0 is not supported");
  int x = tin(0);
  const Shape& xs = shape_of(x);
  if (xs.size() < 2) fail("the input must have rank 2 or more");
  int64_t c = const_dim(xs[1], "the channel count");
  const char* names[4] = {"scale", "B", "input_mean", "input_var"};
  const Constant* p[4];
  for (int i = 0; i < 4; ++i) {
    p[i] = &cin(static_cast<size_t>(i + 1), names[i]);
    if (is_int(*p[i]) || p[i]->numel() != c) {
      fail(std::string(names[i]) + " must hold " + std::to_string(c) + " floats");
    }
  }
  float eps = attr_f("epsilon", 1e-5f);
  Layer& l = add_layer(LayerKind::kAffine, {x}, xs);
  l.scale.resize(static_cast<size_t>(c));
  l.shift.resize(static_cast<size_t>(c));
  for (size_t i = 0; i < static_cast<size_t>(c); ++i) {
    double s = p[0]->f[i] / std::sqrt(static_cast<double>(p[3]->f[i]) + eps);
    l.scale[i] = static_cast<float>(s);
    l.shift[i] = static_cast<float>(p[1]->f[i] - p[2]->f[i] * s);
  }
}

Activation Lowerer::clip_bounds() {
  Activation act;
  act.kind = ActKind::kClip;
  act.lo = -std::numeric_limits<float>::infinity();
  act.hi = std::numeric_limits<float>::infinity();
  if (g_.opset < 11) {
    allow({"min", "max"});
    act.lo = attr_f("min", act.lo);
    act.hi = attr_f("max", act.hi);
  } else {
    allow({});
    for (size_t i = 1; i <= 2; ++i) {
      if (!present(i)) continue;
      const Constant& b = cin(i, i == 1 ? "min" : "max");
      if (is_int(b) || b.numel() != 1)
        fail(std::string(i == 1 ? "min" : "max") + " must be a float scalar");
      (i == 1 ? act.lo : act.hi) = b.f[0];
    }
  }
  return act;
}

void Lowerer::lower_unary() {
  Activation act;
  if (node_->op == "Relu") {
    allow({});
    expect_inputs(1, 1);
    act.kind = ActKind::kRelu;
  } else if (node_->op == "Sigmoid") {
    allow({});
    expect_inputs(1, 1);
    act.kind = ActKind::kSigmoid;
  } else {
    expect_inputs(1, 3);
    act = clip_bounds();
  }
  int x = tin(0);
  Layer& l = add_layer(LayerKind::kUnary, {x}, shape_of(x));
  l.act = act;
}

void Lowerer::lower_binary() {
  allow({});
  expect_inputs(2, 2);
  BinaryOp op = node_->op == "Add"   ? BinaryOp::kAdd
                : node_->op == "Sub" ? BinaryOp::kSub
                : node_->op == "Mul" ? BinaryOp::kMul
                                     : BinaryOp::kDiv;
  if (in(0).c || in(1).c) {
    bool first = in(0).c != nullptr;
    const Constant& c = *(first ? in(0).c : in(1).c);
    if (is_int(c)) fail("int64 operands of activations are not supported");
    int x = tin(first ? 1 : 0);
    const Shape& xs = shape_of(x);
    if (c.dims.size() > xs.size()) fail("the constant has a higher rank than the activation");
    // Output shape: the activation's, unless the constant broadcasts it larger.
    Shape os = xs;
    size_t off = xs.size() - c.dims.size();
    for (size_t i = 0; i < c.dims.size(); ++i) {
      Affine& d = os[off + i];
      int64_t cd = c.dims[i];
      if (d == Affine::constant(cd) || cd == 1) continue;
      if (d == Affine::constant(1)) {
        d = Affine::constant(cd);
      } else {
        fail("shapes " + shape_str(xs) + " and the constant's do not broadcast");
      }
    }
    // A per-channel (axis 1) or scalar Mul/Add/Sub with x first (or Add/Mul either way) is an
    // affine layer, which fuses into a preceding Conv/Gemm.
    bool per_channel = os == xs && xs.size() >= 2;
    int64_t channels = 1;
    if (per_channel) {
      for (size_t i = 0; i < c.dims.size(); ++i) {
        size_t axis = off + i;
        if (c.dims[i] != 1 && axis != 1) per_channel = false;
        if (axis == 1) channels = c.dims[i];
      }
    }
    if (per_channel && op != BinaryOp::kDiv && !(op == BinaryOp::kSub && first)) {
      Layer& l = add_layer(LayerKind::kAffine, {x}, xs);
      for (int64_t k = 0; k < channels; ++k) {
        float v = c.f[static_cast<size_t>(k)];
        l.scale.push_back(op == BinaryOp::kMul ? v : 1.0f);
        l.shift.push_back(op == BinaryOp::kAdd ? v : op == BinaryOp::kSub ? -v : 0.0f);
      }
      return;
    }
    Layer& l = add_layer(LayerKind::kBinary, {x}, os);
    l.bop = op;
    l.operand = first ? in(0).c : in(1).c;
    l.operand_first = first;
    return;
  }
  int a = tin(0), b = tin(1);
  Shape os;
  const Shape &as = shape_of(a), &bs = shape_of(b);
  size_t r = std::max(as.size(), bs.size());
  for (size_t i = 0; i < r; ++i) {
    Affine x = i + as.size() >= r ? as[i + as.size() - r] : Affine::constant(1);
    Affine y = i + bs.size() >= r ? bs[i + bs.size() - r] : Affine::constant(1);
    if (x == y || y == Affine::constant(1)) {
      os.push_back(x);
    } else if (x == Affine::constant(1)) {
      os.push_back(y);
    } else {
      fail("shapes " + shape_str(as) + " and " + shape_str(bs) + " do not broadcast");
    }
  }
  Layer& l = add_layer(LayerKind::kBinary, {a, b}, os);
  l.bop = op;
}

void Lowerer::lower_pool(bool max, bool global) {
  expect_inputs(1, 1);
  int x = tin(0);
  const Shape& xs = shape_of(x);
  if (xs.size() != 4) fail("only 2-D pooling (4-D inputs) is supported; input is " + shape_str(xs));
  Layer l;
  l.kind = LayerKind::kPool;
  l.max_pool = max;
  l.global = global;
  int64_t out[2] = {1, 1};
  if (global) {
    allow({});
    l.kernel[0] = const_dim(xs[2], "a spatial dimension");
    l.kernel[1] = const_dim(xs[3], "a spatial dimension");
  } else {
    if (max) {
      allow({"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order",
             "strides"});
      if (attr_i("storage_order", 0) != 0) fail("attribute 'storage_order' = 1 is not supported");
    } else {
      allow({"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads",
             "strides"});
      l.count_include_pad = attr_i("count_include_pad", 0) != 0;
    }
    std::vector<int64_t> ks = attr_ints("kernel_shape", {});
    if (ks.size() != 2) fail("attribute 'kernel_shape' must have 2 entries");
    std::vector<int64_t> st = attr_ints("strides", {1, 1}), dl = attr_ints("dilations", {1, 1});
    if (st.size() != 2 || dl.size() != 2) fail("strides and dilations must have 2 entries");
    if (!max && (dl[0] != 1 || dl[1] != 1))
      fail("attribute 'dilations' other than 1 is not supported for AveragePool");
    l.kernel[0] = ks[0];
    l.kernel[1] = ks[1];
    l.stride[0] = st[0];
    l.stride[1] = st[1];
    l.dilation[0] = dl[0];
    l.dilation[1] = dl[1];
    spatial_out(xs, l.kernel, l.stride, l.dilation, l.pad, attr_i("ceil_mode", 0) != 0, "pads",
                out);
    for (int i = 0; i < 2; ++i) {
      if (l.pad[i] >= (l.kernel[i] - 1) * l.dilation[i] + 1 ||
          l.pad[i + 2] >= (l.kernel[i] - 1) * l.dilation[i] + 1) {
        fail("a pad is as large as the window, so a window would hold only padding");
      }
    }
  }
  add_built(std::move(l), {x}, {xs[0], xs[1], Affine::constant(out[0]), Affine::constant(out[1])});
}

void Lowerer::lower_softmax() {
  allow({"axis"});
  expect_inputs(1, 1);
  int x = tin(0);
  const Shape& xs = shape_of(x);
  bool legacy = g_.opset < 13;
  int64_t axis = norm_axis(attr_i("axis", legacy ? 1 : -1), xs.size(), "axis");
  if (legacy) {
    for (size_t i = static_cast<size_t>(axis); i < xs.size(); ++i)
      const_dim(xs[i], "a softmax dimension");
  } else {
    const_dim(xs[static_cast<size_t>(axis)], "the softmax axis");
  }
  Layer& l = add_layer(LayerKind::kSoftmax, {x}, xs);
  l.axis = axis;
  l.softmax_legacy = legacy;
}

void Lowerer::lower_concat() {
  allow({"axis"});
  if (nin() < 1) fail("has no inputs");
  std::vector<int> ts;
  for (size_t i = 0; i < nin(); ++i) {
    if (is_const(i)) fail("a constant input beside activations is not supported");
    ts.push_back(tin(i));
  }
  Shape os = shape_of(ts[0]);
  int64_t axis = norm_axis(attr_i("axis", 1), os.size(), "axis");
  Affine total = Affine::constant(0);
  for (int t : ts) {
    const Shape& s = shape_of(t);
    if (s.size() != os.size()) fail("inputs differ in rank");
    for (size_t d = 0; d < s.size(); ++d) {
      if (static_cast<int64_t>(d) != axis && s[d] != os[d]) {
        fail("input shapes " + shape_str(s) + " and " + shape_str(os) + " differ outside axis " +
             std::to_string(axis));
      }
    }
    total = affine_add(total, s[static_cast<size_t>(axis)], node_->where());
  }
  os[static_cast<size_t>(axis)] = total;
  Layer& l = add_layer(LayerKind::kConcat, ts, os);
  l.axis = axis;
}

void Lowerer::lower_transpose() {
  allow({"perm"});
  expect_inputs(1, 1);
  int x = tin(0);
  const Shape& xs = shape_of(x);
  std::vector<int64_t> perm = attr_ints("perm", {});
  if (perm.empty()) {
    for (size_t i = xs.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
  }
  if (perm.size() != xs.size())
    fail("perm has " + std::to_string(perm.size()) + " entries for rank " +
         std::to_string(xs.size()));
  std::vector<bool> seen(perm.size(), false);
  Shape os;
  for (int64_t& v : perm) {
    v = norm_axis(v, perm.size(), "perm entry");
    if (seen[static_cast<size_t>(v)]) fail("perm repeats axis " + std::to_string(v));
    seen[static_cast<size_t>(v)] = true;
    os.push_back(xs[static_cast<size_t>(v)]);
  }
  Layer& l = add_layer(LayerKind::kTranspose, {x}, os);
  l.perm = perm;
}

void Lowerer::lower_pad() {
  int x = tin(0);
  const Shape& xs = shape_of(x);
  size_t r = xs.size();
  std::string mode;
  std::vector<int64_t> pads;
  float value = 0;
  if (g_.opset < 11) {
    allow({"mode", "pads", "value"});
    expect_inputs(1, 1);
    mode = attr_s("mode", "constant");
    pads = attr_ints("pads", {});
    value = attr_f("value", 0);
  } else {
    allow({"mode"});
    expect_inputs(2, 4);
    mode = attr_s("mode", "constant");
    const Constant& pc = cin(1, "pads");
    if (!is_int(pc)) fail("pads must be int64");
    for (const Affine& v : pc.i) pads.push_back(const_dim(v, "a pad"));
    if (present(2)) {
      const Constant& cv = cin(2, "constant_value");
      if (is_int(cv) || cv.numel() != 1) fail("constant_value must be a float scalar");
      value = cv.f[0];
    }
    if (present(3)) {
      const Constant& ac = cin(3, "axes");
      if (!is_int(ac)) fail("axes must be int64");
      if (pads.size() != 2 * ac.i.size()) fail("pads must have two entries per axis");
      std::vector<int64_t> full(2 * r, 0);
      for (size_t k = 0; k < ac.i.size(); ++k) {
        size_t a = static_cast<size_t>(norm_axis(const_dim(ac.i[k], "an axis"), r, "axis"));
        full[a] = pads[k];
        full[a + r] = pads[k + ac.i.size()];
      }
      pads = full;
    }
  }
  if (pads.size() != 2 * r) fail("pads must have " + std::to_string(2 * r) + " entries");
  Layer l;
  l.kind = LayerKind::kPad;
  if (mode == "constant") {
    l.pad_mode = PadMode::kConstant;
  } else if (mode == "reflect") {
    l.pad_mode = PadMode::kReflect;
  } else if (mode == "edge") {
    l.pad_mode = PadMode::kEdge;
  } else {
    fail("mode '" + mode + "' is not supported (constant, reflect and edge are)");
  }
  Shape os = xs;
  for (size_t i = 0; i < r; ++i) {
    if (pads[i] < 0 || pads[i + r] < 0) fail("negative pads (cropping) are not supported");
    if (pads[i] > kMaxExtent || pads[i + r] > kMaxExtent) fail("a pad is too large");
    if (pads[i] == 0 && pads[i + r] == 0) continue;
    int64_t d = const_dim(xs[i], "a padded dimension");
    if (l.pad_mode == PadMode::kReflect && (pads[i] >= d || pads[i + r] >= d)) {
      fail("reflect pads must be smaller than the dimension");
    }
    os[i] = Affine::constant(d + pads[i] + pads[i + r]);
  }
  l.pads = pads;
  l.pad_value = value;
  add_built(std::move(l), {x}, os);
}

// ------------------------------------------------------------------------------------------
void Lowerer::outputs_and_cleanup() {
  if (p_.outputs.empty()) {
    std::set<int> used;
    for (int v : g_.outputs) {
      const Sym& s = sym_[v];
      if (!s.unusable.empty())
        model_error("graph output '" + g_.values[v].name + "' " + s.unusable);
      int t = s.t;
      bool is_input = std::find(p_.inputs.begin(), p_.inputs.end(), t) != p_.inputs.end();
      if (s.c || is_input || used.count(t)) {
        // A constant, a graph input or a repeated output gets a layer of its own.
        Layer l;
        l.name = g_.values[v].name;
        TensorInfo ti;
        ti.name = g_.values[v].name;
        if (s.c) {
          if (is_int(*s.c))
            model_error("graph output '" + ti.name + "' is an int64 constant; outputs are float32");
          l.kind = LayerKind::kConstant;
          l.ops = "Constant";
          l.value = s.c;
          for (int64_t d : s.c->dims) ti.shape.push_back(Affine::constant(d));
        } else {
          l.kind = LayerKind::kReshape;
          l.ops = "Copy";
          l.inputs = {t};
          ti.shape = p_.tensors[t].shape;
        }
        p_.tensors.push_back(ti);
        l.output = static_cast<int>(p_.tensors.size()) - 1;
        t = l.output;
        p_.layers.push_back(std::move(l));
      }
      used.insert(t);
      p_.outputs.push_back(t);
    }
  }
  // Dead layers: outputs nobody reads.
  bool changed = true;
  while (changed) {
    changed = false;
    std::vector<int> uses = consumers_count();
    for (size_t i = 0; i < p_.layers.size(); ++i) {
      if (uses[p_.layers[i].output] == 0) {
        p_.layers.erase(p_.layers.begin() + static_cast<long>(i));
        changed = true;
        break;
      }
    }
  }
}

std::vector<int> Lowerer::consumers_count() const {
  std::vector<int> uses(p_.tensors.size(), 0);
  for (const Layer& l : p_.layers) {
    for (int t : l.inputs) ++uses[t];
  }
  for (int t : p_.outputs) uses[t] += 1000;  // never fused away
  return uses;
}

void Lowerer::fuse() {
  bool changed = true;
  while (changed) {
    changed = false;
    std::vector<int> uses = consumers_count();
    std::vector<int> producer(p_.tensors.size(), -1);
    for (size_t i = 0; i < p_.layers.size(); ++i)
      producer[p_.layers[i].output] = static_cast<int>(i);
    auto merge_names = [](Layer& into, const Layer& from) {
      into.name += "+" + from.name;
      into.ops += "+" + from.ops;
    };
    for (size_t i = 0; i < p_.layers.size() && !changed; ++i) {
      Layer& l = p_.layers[i];
      // Pad (zeros, spatial only) → Conv.
      if (l.kind == LayerKind::kConv) {
        int pi = producer[l.inputs[0]];
        if (pi >= 0 && uses[l.inputs[0]] == 1) {
          Layer& pad = p_.layers[static_cast<size_t>(pi)];
          if (pad.kind == LayerKind::kPad && pad.pad_mode == PadMode::kConstant &&
              pad.pad_value == 0 && pad.pads.size() == 8 && pad.pads[0] == 0 && pad.pads[1] == 0 &&
              pad.pads[4] == 0 && pad.pads[5] == 0) {
            l.pad[0] += pad.pads[2];
            l.pad[1] += pad.pads[3];
            l.pad[2] += pad.pads[6];
            l.pad[3] += pad.pads[7];
            l.inputs[0] = pad.inputs[0];
            l.name = pad.name + "+" + l.name;
            l.ops = pad.ops + "+" + l.ops;
            p_.layers.erase(p_.layers.begin() + pi);
            changed = true;
            break;
          }
        }
      }
      if (l.inputs.empty()) continue;
      int pi = producer[l.inputs[0]];
      if (pi < 0 || uses[l.inputs[0]] != 1) {
        pi = -1;
      }
      // Affine → the Conv/Gemm before it.
      if (l.kind == LayerKind::kAffine && !l.residual && l.act.kind == ActKind::kNone && pi >= 0) {
        Layer& p = p_.layers[static_cast<size_t>(pi)];
        int64_t ch = static_cast<int64_t>(l.scale.size());
        bool channel_axis_ok =
            p.kind == LayerKind::kConv ||
            (p.kind == LayerKind::kGemm && p_.tensors[p.output].shape.size() == 2);
        if ((p.kind == LayerKind::kConv || p.kind == LayerKind::kGemm) && channel_axis_ok &&
            !p.residual && p.act.kind == ActKind::kNone && (ch == p.k || ch == 1)) {
          int64_t per = static_cast<int64_t>(p.weight.size()) / p.k;
          if (p.bias.empty()) p.bias.assign(static_cast<size_t>(p.k), 0.0f);
          for (int64_t o = 0; o < p.k; ++o) {
            size_t c = static_cast<size_t>(ch == 1 ? 0 : o);
            for (int64_t j = 0; j < per; ++j)
              p.weight[static_cast<size_t>(o * per + j)] *= l.scale[c];
            p.bias[static_cast<size_t>(o)] =
                p.bias[static_cast<size_t>(o)] * l.scale[c] + l.shift[c];
          }
          p.output = l.output;
          merge_names(p, l);
          p_.layers.erase(p_.layers.begin() + static_cast<long>(i));
          changed = true;
          break;
        }
      }
      // Residual Add → the Conv/Gemm that makes one of its operands, run at the Add's place.
      if (l.kind == LayerKind::kBinary && l.bop == BinaryOp::kAdd && !l.operand &&
          l.act.kind == ActKind::kNone) {
        const Shape& os = p_.tensors[l.output].shape;
        for (int side = 0; side < 2; ++side) {
          int t = l.inputs[static_cast<size_t>(side)],
              other = l.inputs[static_cast<size_t>(1 - side)];
          int qi = producer[t];
          if (qi < 0 || uses[t] != 1 || t == other) continue;
          Layer& q = p_.layers[static_cast<size_t>(qi)];
          if ((q.kind != LayerKind::kConv && q.kind != LayerKind::kGemm) || q.residual ||
              q.act.kind != ActKind::kNone || p_.tensors[t].shape != os ||
              p_.tensors[other].shape != os) {
            continue;
          }
          Layer fused = q;
          fused.residual = true;
          fused.inputs.push_back(other);
          fused.output = l.output;
          merge_names(fused, l);
          p_.layers[i] = std::move(fused);
          p_.layers.erase(p_.layers.begin() + qi);
          changed = true;
          break;
        }
        if (changed) break;
      }
      // Activation → its producer.
      if (l.kind == LayerKind::kUnary && pi >= 0) {
        Layer& p = p_.layers[static_cast<size_t>(pi)];
        if ((p.kind == LayerKind::kConv || p.kind == LayerKind::kGemm ||
             p.kind == LayerKind::kAffine || p.kind == LayerKind::kBinary) &&
            p.act.kind == ActKind::kNone) {
          p.act = l.act;
          p.output = l.output;
          merge_names(p, l);
          p_.layers.erase(p_.layers.begin() + static_cast<long>(i));
          changed = true;
          break;
        }
      }
    }
  }
}

}  // namespace

Program lower(const Graph& g, const LowerOptions& opts) { return Lowerer(g, opts).run(); }

}  // namespace cudago::nn
