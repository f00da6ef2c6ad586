// ONNX (protobuf) → IR. The only translation unit that includes protobuf's and ONNX's headers.
#include <onnx/onnx_pb.h>
#include <sys/stat.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <unordered_map>

#include "cudago/nn/onnx.hpp"

namespace cudago::nn {
namespace {

using onnx::TensorProto;

// Bytes per element of a TensorProto data type in raw_data, 0 for types the loader refuses.
size_t raw_size(int32_t t) {
  switch (t) {
    case TensorProto::FLOAT:
      return 4;
    case TensorProto::UINT8:
      return 1;
    case TensorProto::INT8:
      return 1;
    case TensorProto::UINT16:
      return 2;
    case TensorProto::INT16:
      return 2;
    case TensorProto::INT32:
      return 4;
    case TensorProto::INT64:
      return 8;
    case TensorProto::BOOL:
      return 1;
    case TensorProto::FLOAT16:
      return 2;
    case TensorProto::DOUBLE:
      return 8;
    case TensorProto::UINT32:
      return 4;
    case TensorProto::UINT64:
      return 8;
    case TensorProto::BFLOAT16:
      return 2;
    default:
      return 0;
  }
}

bool is_float_type(int32_t t) {
  return t == TensorProto::FLOAT || t == TensorProto::FLOAT16 || t == TensorProto::DOUBLE ||
         t == TensorProto::BFLOAT16;
}

std::string type_name(int32_t t) {
  if (TensorProto::DataType_IsValid(t)) {
    return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(t));
  }
  return "data type " + std::to_string(t);
}

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while ((man & 0x400u) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (man & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | man << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_float(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Converts n little-endian elements of type t at p into the constant.
void convert_raw(const unsigned char* p, int64_t n, int32_t t, Constant& c) {
  auto rd = [p](size_t off, size_t bytes) {
    uint64_t v = 0;
    for (size_t k = 0; k < bytes; ++k) v |= static_cast<uint64_t>(p[off + k]) << (8 * k);
    return v;
  };
  size_t es = raw_size(t);
  if (c.dtype == DType::kF32) {
    c.f.resize(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) {
      uint64_t v = rd(static_cast<size_t>(k) * es, es);
      float f;
      if (t == TensorProto::FLOAT) {
        uint32_t u = static_cast<uint32_t>(v);
        std::memcpy(&f, &u, 4);
      } else if (t == TensorProto::DOUBLE) {
        double d;
        std::memcpy(&d, &v, 8);
        f = static_cast<float>(d);
      } else if (t == TensorProto::FLOAT16) {
        f = half_to_float(static_cast<uint16_t>(v));
      } else {
        f = bf16_to_float(static_cast<uint16_t>(v));
      }
      c.f[static_cast<size_t>(k)] = f;
    }
  } else {
    c.i.resize(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) {
      uint64_t v = rd(static_cast<size_t>(k) * es, es);
      int64_t x;
      switch (t) {
        case TensorProto::INT8:
          x = static_cast<int8_t>(v);
          break;
        case TensorProto::INT16:
          x = static_cast<int16_t>(v);
          break;
        case TensorProto::INT32:
          x = static_cast<int32_t>(v);
          break;
        case TensorProto::INT64:
          x = static_cast<int64_t>(v);
          break;
        case TensorProto::BOOL:
          x = v != 0;
          break;
        default:
          x = static_cast<int64_t>(v);
          break;  // unsigned (UINT64 above 2^63 wraps)
      }
      c.i[static_cast<size_t>(k)] = Affine::constant(x);
    }
  }
}

bool safe_relative_path(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find('\0') != std::string::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string part = p.substr(start, end - start);
    if (part == "..") return false;
    start = end + 1;
  }
  return true;
}

class Loader {
 public:
  explicit Loader(std::string base_dir) : base_dir_(std::move(base_dir)) {}

  Graph load(const onnx::ModelProto& m);

 private:
  ConstantPtr tensor(const TensorProto& t, const std::string& where);
  void read_external(const TensorProto& t, const std::string& where, int64_t n, Constant& c);
  Attribute attribute(const onnx::AttributeProto& a, const std::string& where);
  int value_of(const std::string& name) {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? -1 : it->second;
  }
  int define(const std::string& name, const std::string& where) {
    if (name.empty()) model_error(where + ": a value has an empty name");
    if (by_name_.count(name)) model_error(where + ": value '" + name + "' is defined twice");
    int id = g_.add_value(name);
    by_name_[name] = id;
    return id;
  }

  std::string base_dir_;
  Graph g_;
  std::unordered_map<std::string, int> by_name_;
};

ConstantPtr Loader::tensor(const TensorProto& t, const std::string& where) {
  std::string w = where + " tensor '" + t.name() + "'";
  int32_t dt = t.data_type();
  if (raw_size(dt) == 0) {
    model_error(w + ": element type " + type_name(dt) +
                " is not supported (float, float16, "
                "bfloat16, double, the integer types and bool are)");
  }
  if (t.has_segment()) model_error(w + ": segmented tensors are not supported");
  auto c = std::make_shared<Constant>();
  c->dtype = is_float_type(dt) ? DType::kF32 : DType::kI64;
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) model_error(w + ": negative dimension " + std::to_string(d));
    if (d > kMaxExtent) model_error(w + ": dimension " + std::to_string(d) + " is too large");
    n = checked_mul(n, d, w);
    if (n > kMaxExtent) model_error(w + ": too many elements");
    c->dims.push_back(d);
  }
  size_t es = raw_size(dt);
  if (t.data_location() == TensorProto::EXTERNAL) {
    read_external(t, w, n, *c);
    return c;
  }
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (static_cast<uint64_t>(raw.size()) != static_cast<uint64_t>(n) * es) {
      model_error(w + ": raw_data holds " + std::to_string(raw.size()) +
                  " bytes, its shape needs " + std::to_string(static_cast<uint64_t>(n) * es));
    }
    convert_raw(reinterpret_cast<const unsigned char*>(raw.data()), n, dt, *c);
    return c;
  }
  // Typed fields: which one holds the data depends on the type.
  auto count_mismatch = [&](int64_t have) {
    model_error(w + ": holds " + std::to_string(have) + " elements, its shape needs " +
                std::to_string(n));
  };
  switch (dt) {
    case TensorProto::FLOAT:
      if (t.float_data_size() != n) count_mismatch(t.float_data_size());
      c->f.assign(t.float_data().begin(), t.float_data().end());
      break;
    case TensorProto::DOUBLE:
      if (t.double_data_size() != n) count_mismatch(t.double_data_size());
      for (double d : t.double_data()) c->f.push_back(static_cast<float>(d));
      break;
    case TensorProto::INT64:
      if (t.int64_data_size() != n) count_mismatch(t.int64_data_size());
      for (int64_t v : t.int64_data()) c->i.push_back(Affine::constant(v));
      break;
    case TensorProto::UINT32:
    case TensorProto::UINT64:
      if (t.uint64_data_size() != n) count_mismatch(t.uint64_data_size());
      for (uint64_t v : t.uint64_data()) c->i.push_back(Affine::constant(static_cast<int64_t>(v)));
      break;
    default:  // int32_data holds int32, int16, int8, uint16, uint8, bool, float16, bfloat16
      if (t.int32_data_size() != n) count_mismatch(t.int32_data_size());
      for (int32_t v : t.int32_data()) {
        if (dt == TensorProto::FLOAT16) {
          c->f.push_back(half_to_float(static_cast<uint16_t>(v)));
        } else if (dt == TensorProto::BFLOAT16) {
          c->f.push_back(bf16_to_float(static_cast<uint16_t>(v)));
        } else if (dt == TensorProto::BOOL) {
          c->i.push_back(Affine::constant(v != 0));
        } else {
          c->i.push_back(Affine::constant(v));
        }
      }
      break;
  }
  return c;
}

void Loader::read_external(const TensorProto& t, const std::string& w, int64_t n, Constant& c) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const auto& kv : t.external_data()) {
    auto number = [&](const std::string& s) {
      if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
        model_error(w + ": external data " + kv.key() + " '" + s + "' is not a number");
      }
      return static_cast<int64_t>(std::stoll(s));
    };
    if (kv.key() == "location") location = kv.value();
    if (kv.key() == "offset") offset = number(kv.value());
    if (kv.key() == "length") length = number(kv.value());
  }
  if (location.empty()) model_error(w + ": external data without a location");
  if (base_dir_.empty()) {
    model_error(w + ": stored as external data ('" + location +
                "'); loading from bytes needs the directory of the data files");
  }
  if (!safe_relative_path(location)) {
    model_error(w + ": external data location '" + location +
                "' must be a relative path inside the model's directory");
  }
  size_t es = raw_size(t.data_type());
  int64_t bytes = checked_mul(n, static_cast<int64_t>(es), w);
  if (length >= 0 && length != bytes) {
    model_error(w + ": external data length " + std::to_string(length) + ", its shape needs " +
                std::to_string(bytes));
  }
  std::string path = base_dir_ + "/" + location;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    model_error(w + ": external data file '" + path + "' cannot be read");
  }
  if (offset > st.st_size || bytes > st.st_size - offset) {
    model_error(w + ": external data [" + std::to_string(offset) + ", +" + std::to_string(bytes) +
                ") runs past the end of '" + path + "' (" + std::to_string(st.st_size) + " bytes)");
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> buf(static_cast<size_t>(bytes));
  in.seekg(offset);
  if (!in || !in.read(reinterpret_cast<char*>(buf.data()), bytes)) {
    model_error(w + ": reading external data from '" + path + "' failed");
  }
  convert_raw(buf.data(), n, t.data_type(), c);
}

Attribute Loader::attribute(const onnx::AttributeProto& a, const std::string& where) {
  Attribute r;
  std::string w = where + " attribute '" + a.name() + "'";
  if (!a.ref_attr_name().empty()) {
    model_error(w + ": references a function attribute, which is not supported");
  }
  using AP = onnx::AttributeProto;
  r.type_name = AP::AttributeType_IsValid(a.type())
                    ? AP::AttributeType_Name(static_cast<AP::AttributeType>(a.type()))
                    : "type " + std::to_string(a.type());
  switch (a.type()) {
    case AP::INT:
      r.kind = Attribute::kInt;
      r.i = a.i();
      break;
    case AP::FLOAT:
      r.kind = Attribute::kFloat;
      r.f = a.f();
      break;
    case AP::INTS:
      r.kind = Attribute::kInts;
      r.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case AP::FLOATS:
      r.kind = Attribute::kFloats;
      r.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case AP::STRING:
      r.kind = Attribute::kString;
      r.s = a.s();
      break;
    case AP::TENSOR:
      r.kind = Attribute::kTensor;
      r.t = tensor(a.t(), w);
      break;
    case AP::UNDEFINED:
      // Old exporters leave the type out; infer it from the one field that is set.
      if (a.has_i()) {
        r.kind = Attribute::kInt;
        r.i = a.i();
      } else if (a.has_f()) {
        r.kind = Attribute::kFloat;
        r.f = a.f();
      } else if (a.ints_size() > 0) {
        r.kind = Attribute::kInts;
        r.ints.assign(a.ints().begin(), a.ints().end());
      } else if (a.floats_size() > 0) {
        r.kind = Attribute::kFloats;
        r.floats.assign(a.floats().begin(), a.floats().end());
      } else if (a.has_s()) {
        r.kind = Attribute::kString;
        r.s = a.s();
      } else if (a.has_t()) {
        r.kind = Attribute::kTensor;
        r.t = tensor(a.t(), w);
      }
      break;
    default:
      r.kind = Attribute::kOther;
      break;  // graphs, sparse tensors, strings, types
  }
  return r;
}

Graph Loader::load(const onnx::ModelProto& m) {
  if (!m.has_graph()) model_error("the file is not an ONNX model: it has no graph");
  g_.ir_version = m.ir_version();
  if (g_.ir_version < kMinIrVersion || g_.ir_version > kMaxIrVersion) {
    model_error("ONNX IR version " + std::to_string(g_.ir_version) + " is not supported (" +
                std::to_string(kMinIrVersion) + " to " + std::to_string(kMaxIrVersion) + " are)");
  }
  g_.producer = m.producer_name();
  bool have_opset = false;
  for (const auto& os : m.opset_import()) {
    if (os.domain().empty() || os.domain() == "ai.onnx") {
      g_.opset = os.version();
      have_opset = true;
    }
  }
  if (!have_opset) model_error("the model imports no version of the ONNX operator set");
  if (g_.opset < kMinOpset || g_.opset > kMaxOpset) {
    model_error("ONNX opset " + std::to_string(g_.opset) + " is not supported (" +
                std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + " are)");
  }
  const onnx::GraphProto& gp = m.graph();
  if (gp.sparse_initializer_size() > 0) model_error("sparse initializers are not supported");

  for (const TensorProto& t : gp.initializer()) {
    int id = define(t.name(), "initializer");
    g_.values[id].constant = tensor(t, "initializer");
    g_.values[id].dtype = g_.values[id].constant->dtype;
  }
  for (const onnx::ValueInfoProto& vi : gp.input()) {
    std::string w = "graph input '" + vi.name() + "'";
    if (by_name_.count(vi.name())) continue;  // IR < 4 lists initializers as inputs too
    if (!vi.type().has_tensor_type()) model_error(w + ": is not a tensor");
    const auto& tt = vi.type().tensor_type();
    if (tt.elem_type() != TensorProto::FLOAT) {
      model_error(w + ": element type " + type_name(tt.elem_type()) +
                  " is not supported (inputs are float32)");
    }
    if (!tt.has_shape()) model_error(w + ": has no shape");
    int id = define(vi.name(), w);
    GraphInput in{id, -1};
    Value& v = g_.values[id];
    v.has_shape = true;
    for (int k = 0; k < tt.shape().dim_size(); ++k) {
      const auto& d = tt.shape().dim(k);
      if (d.has_dim_value() && d.dim_value() > 0) {
        if (d.dim_value() > kMaxExtent) {
          model_error(w + ": dimension " + std::to_string(k) + " (" +
                      std::to_string(d.dim_value()) + ") is too large");
        }
        v.shape.push_back(Affine::constant(d.dim_value()));
      } else if (k == 0) {
        v.shape.push_back(Affine::batch());
        in.batch_axis = 0;
      } else {
        std::string label = d.has_dim_param()   ? "'" + d.dim_param() + "'"
                            : d.has_dim_value() ? std::to_string(d.dim_value())
                                                : "unknown";
        model_error(w + ": dimension " + std::to_string(k) + " is " + label +
                    "; only the first (batch) dimension may be dynamic: export the model with "
                    "fixed sizes for the others");
      }
    }
    g_.inputs.push_back(in);
  }
  if (g_.inputs.empty()) model_error("the model has no inputs (besides initializers)");

  g_.nodes.reserve(static_cast<size_t>(gp.node_size()));
  for (int k = 0; k < gp.node_size(); ++k) {
    const onnx::NodeProto& np = gp.node(k);
    Node n;
    n.name = np.name().empty() ? "#" + std::to_string(k) : np.name();
    n.op = np.op_type();
    n.domain = np.domain();
    if (!n.domain.empty() && n.domain != "ai.onnx") {
      model_error(n.where() + ": operator domain '" + n.domain +
                  "' is not supported (only the default ONNX domain is)");
    }
    for (const std::string& in : np.input()) {
      if (in.empty()) {
        n.inputs.push_back(-1);
        continue;
      }
      int id = value_of(in);
      if (id < 0) {
        model_error(n.where() + ": input '" + in +
                    "' is neither a graph input, an initializer nor the output of an earlier node "
                    "(a missing initializer, or nodes out of order)");
      }
      n.inputs.push_back(id);
    }
    for (const auto& a : np.attribute()) {
      if (n.attrs.count(a.name())) {
        model_error(n.where() + ": attribute '" + a.name() + "' is given twice");
      }
      n.attrs[a.name()] = attribute(a, n.where());
    }
    for (const std::string& out : np.output()) {
      if (out.empty()) {
        n.outputs.push_back(-1);
        continue;
      }
      int id = define(out, n.where());
      g_.values[id].producer = static_cast<int>(g_.nodes.size());
      n.outputs.push_back(id);
    }
    g_.nodes.push_back(std::move(n));
  }
  for (const onnx::ValueInfoProto& vi : gp.output()) {
    int id = value_of(vi.name());
    if (id < 0) {
      model_error("graph output '" + vi.name() + "' is not produced by any node");
    }
    g_.outputs.push_back(id);
  }
  if (g_.outputs.empty()) model_error("the model has no outputs");
  return std::move(g_);
}

}  // namespace

Graph parse_onnx(const void* data, size_t size, const std::string& base_dir) {
  if (data == nullptr || size == 0) model_error("the model is empty");
  if (size > static_cast<size_t>(INT_MAX)) {
    model_error("the model file is " + std::to_string(size) +
                " bytes; protobuf reads at most 2 GiB: store the weights as external data");
  }
  onnx::ModelProto m;
  if (!m.ParseFromArray(data, static_cast<int>(size))) {
    model_error(
        "the file is not an ONNX model, or it is truncated or damaged (protobuf parse "
        "failed)");
  }
  return Loader(base_dir).load(m);
}

Graph load_onnx_file(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    throw Error(Status::kInvalidArgument, "model file '" + path + "' does not exist");
  }
  if (!S_ISREG(st.st_mode)) {
    throw Error(Status::kInvalidArgument, "model path '" + path + "' is not a regular file");
  }
  if (st.st_size > INT_MAX) {
    model_error("the model file is " + std::to_string(st.st_size) +
                " bytes; protobuf reads at most 2 GiB: store the weights as external data");
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  if (!in || !in.read(&bytes[0], st.st_size)) {
    throw Error(Status::kInvalidArgument, "model file '" + path + "' cannot be read");
  }
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  return parse_onnx(bytes.data(), bytes.size(), dir);
}

}  // namespace cudago::nn
