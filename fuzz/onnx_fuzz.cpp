// onnx_fuzz.cpp: a structure-aware libFuzzer harness for the CNN runtime's model loader
// (cudago_nn_model_load_bytes), its lowering and the CPU reference executor, through the C ABI
// of capi/cudago.h (CUDAGO_EXPERIMENTAL). No GPU: the backend is CUDAGO_NN_BACKEND_REFERENCE.
//
// Input
//   Byte 0 holds the options, the rest is the ONNX file:
//     bits 0-1  max_batch - 1 (so 1 to 4)
//     bit 2     CUDAGO_NN_NO_FUSION
//     bit 3     opts.base_dir = the harness's data directory (external data can load) instead of
//               NULL (a model with external data must then be refused)
//     bits 4-7  seed of the random input values of the runs
//
// Mutator (LLVMFuzzerCustomMutator)
//   The model bytes are parsed as an onnx::ModelProto. If they parse, 1 to 3 semantic mutations
//   are applied and the model is serialized again; otherwise (and 1 time in 16 anyway, so that
//   damaged files keep coming) the bytes go to libFuzzer's own LLVMFuzzerMutate. 1 time in 16 only
//   byte 0 changes. 1 time in 8 the mutator starts from an input that loaded lately (kept in
//   memory) instead of the one it was given. The semantic mutations:
//     - a dimension (graph inputs and outputs, initializers, Constant tensors) set to an edge value
//       (0, -1, 1, 2, 2^31, 2^32, 2^40, 2^40 + 1, 2^62, INT64_MAX, INT64_MIN, small values), made
//       symbolic or unknown, added, removed or swapped with another; for a tensor, 2 times in 3
//       with its data cut or grown to agree (shapes of at most 2^16 elements);
//     - an attribute: its int/ints/float/floats/string/tensor value (edge values; an element of a
//       list set, appended, removed or repeated), its type, its name (from the names the
//       runtime's ops read), added, removed, given twice, or a function reference;
//     - an op_type (any of the supported ops, see supported_ops() in cuda/nn/lower.cpp, or an
//       unsupported one) or a domain;
//     - a node dropped, duplicated (with fresh or clashing output names), swapped or moved;
//     - a node input or output renamed to another value of the graph, to "" or to a missing name,
//       dropped, added or repeated;
//     - a graph input or output dropped, repeated, retyped, stripped of its shape or type, or added
//       (an initializer listed as an input, as IR < 4 does);
//     - an initializer dropped, repeated, swapped, renamed; its data type changed; its raw_data cut
//       or extended; an element set to an edge value; a 1-D tensor grown or shrunk with its data;
//       typed fields turned into raw_data; its data removed; a segment or a sparse initializer
//       added;
//     - external data: a tensor moved to the data directory's file (so that it can load), or given
//       odd locations ("../outside.bin", "/etc/passwd", "missing", "", a directory, an empty file,
//       a name with a NUL) and odd offsets/lengths ("-1", 2^64 - 1, 19 digits, "abc", "");
//     - opset and IR versions set to edge values, opset imports added, removed or moved to another
//       domain.
//
// Oracles, for every input
//   - The load returns CUDAGO_SUCCESS, CUDAGO_ERROR_INVALID_MODEL or CUDAGO_ERROR_INVALID_ARGUMENT
//     (never CUDAGO_ERROR_INTERNAL, which is "a bug in cudago"); a failure leaves *out NULL and an
//     error record with the same status, the function's name and a non-empty message; the options
//     struct is not modified. An empty file is CUDAGO_ERROR_INVALID_ARGUMENT.
//   - A model with external data loads only with a base_dir, and never with a location that
//     leaves it (absolute, or with a ".." component).
//   - A loaded model: cudago_nn_model_info succeeds and reports the reference executor (device -1,
//     FP32), max_batch as asked (1 for a model without a dynamic batch), at least one input and
//     one output. Every input and output description succeeds (index past the last:
//     CUDAGO_ERROR_OUT_OF_RANGE) and has a non-NULL name, rank <= CUDAGO_NN_MAX_RANK, dtype F32, a
//     batch_axis in [-1, rank) (-1 everywhere in a model without a dynamic batch; 0 or -1 for
//     inputs, whose batch dimension is max_batch), and bytes_per_item consistent with the dims:
//     4 * prod(dims) where batch_axis is -1, else 4 * prod(dims) / max_batch, with
//     dims[batch_axis] a multiple of max_batch.
//   - Runs, when the model is small: the inputs and outputs at max_batch plus info.arena_bytes
//     (the reference executor's peak host memory per run; the gate works from the inputs and
//     outputs alone while it is 0) within kRunBudgetBytes (8 MiB), and weights x activations (a
//     bound of a convolution's or GEMM's work) within kRunBudgetMacs (2^28): larger runs take
//     seconds under AddressSanitizer and would starve the search. Then cudago_nn_model_run_host at
//     batch 1 and at max_batch, each twice with the output buffers filled with two different
//     canaries: both succeed (CUDAGO_ERROR_OUT_OF_MEMORY is taken only while arena_bytes is 0),
//     give bit-identical outputs (an element left unwritten, or computed from uninitialised
//     memory, differs) and leave the inputs as they were. Every buffer is its own heap block of
//     exactly its size, so AddressSanitizer sees a read or write past one. Batch 0, a batch past
//     max_batch and an input one element short are CUDAGO_ERROR_INVALID_ARGUMENT.
//   - scripts/fuzz.sh runs with -malloc_limit_mb=2048, -rss_limit_mb=2048 and a 25 s timeout: an
//     allocation sized by a bogus number, or a hang, is a finding too.
//   Any violation prints the options byte, what was being checked, and traps. ONNX_FUZZ_TRACE=1 in
//   the environment prints every load's status and message.
//
// Feedback: besides coverage, a libFuzzer extra counter per (call, status, error message without
// digits and quoted names), so an input that reaches a new refusal is kept. At exit the harness
// prints what it reached ("onnx_fuzz: ..." lines, as scripts/fuzz.sh shows them).
#define CUDAGO_EXPERIMENTAL 1
#include <onnx/onnx_pb.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cudago.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

constexpr uint64_t kRunBudgetBytes = uint64_t{8} << 20;
constexpr uint64_t kRunBudgetMacs = uint64_t{1} << 28;
constexpr uint32_t kCanaryA = 0x7fa5a5a5u;  // NaNs with payloads no computation makes from
constexpr uint32_t kCanaryB = 0xff5a5a5au;  // the harness's finite inputs

// ---- what the run reached ----
struct Stats {
  unsigned long long inputs = 0, loaded = 0, invalid_model = 0, invalid_argument = 0;
  unsigned long long gated = 0, ran = 0, ran_max_batch = 0, with_base_dir_loaded = 0;
  unsigned long long semantic = 0, bytewise = 0, options_only = 0;
} g_stats;

bool g_trace = false;  // ONNX_FUZZ_TRACE=1 in the environment: print every load's status
// Inputs (options byte + model) that loaded lately: 1 time in 8 the mutator starts from one of
// them rather than from the input it was given, so that the search keeps going deeper than the
// loader's checks (most inputs of a corpus are models the loader refuses).
// The entries are allocated once at start-up: a harness that allocated during an input without
// freeing would make libFuzzer run a leak scan after each such input.
constexpr size_t kPoolSize = 256;
constexpr size_t kPoolEntryMax = 16384;
std::vector<std::string> g_loaded_pool;  // kPoolSize strings of capacity kPoolEntryMax
size_t g_pool_count = 0;
uint64_t g_pool_next = 0;

std::string g_base;   // mkdtemp: <base>/outside.bin and <base>/m/ (the data directory)
std::string g_inner;  // <base>/m: w.bin (4096 bytes), sub/w.bin, empty.bin, dir/

// ---- feedback ----
constexpr size_t kFeedback = 4096;
__attribute__((used, section("__libfuzzer_extra_counters"))) uint8_t g_feedback[kFeedback];

void Feed(int call, int32_t status, const std::string& message) {
  uint64_t h =
      0xcbf29ce484222325ull ^ (static_cast<uint64_t>(call) << 8) ^ static_cast<uint32_t>(status);
  bool quoted = false;
  for (char ch : message) {
    if (ch == '\'') {
      quoted = !quoted;
      continue;
    }
    if (quoted || (ch >= '0' && ch <= '9')) continue;
    h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ull;
  }
  uint8_t& c = g_feedback[h % kFeedback];
  if (c < 255) ++c;
}

// ---- the current input, for failure reports ----
struct Current {
  uint8_t ctl = 0;
  size_t model_size = 0;
  const char* what = "";
} g_cur;

[[noreturn]] __attribute__((format(printf, 1, 2))) void Fail(const char* fmt, ...) {
  std::fprintf(stderr,
               "\nonnx_fuzz: ORACLE FAILURE (options byte 0x%02x: max_batch %d%s%s; model of %zu "
               "bytes) while %s\nonnx_fuzz: ",
               g_cur.ctl, 1 + (g_cur.ctl & 3), (g_cur.ctl & 4) ? ", no fusion" : "",
               (g_cur.ctl & 8) ? ", base_dir" : "", g_cur.model_size, g_cur.what);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  __builtin_trap();
}

const char* KnownStatusName(int32_t v) {
  switch (v) {
#define ONNX_FUZZ_STATUS_(suffix, camel, value, text) \
  case value:                                         \
    return "CUDAGO_" #suffix;
    CUDAGO_STATUS_LIST(ONNX_FUZZ_STATUS_)
#undef ONNX_FUZZ_STATUS_
    default:
      return nullptr;
  }
}

struct Record {
  int32_t status = 0;
  std::string operation, message;
};

Record LastError() {
  cudago_error_info_t e;
  cudago_error_info_init(&e);
  if (cudago_error_last(&e) != CUDAGO_SUCCESS) Fail("cudago_error_last failed");
  if (std::memchr(e.operation, '\0', sizeof e.operation) == nullptr ||
      std::memchr(e.message, '\0', sizeof e.message) == nullptr) {
    Fail("the error record has a string without its NUL");
  }
  return Record{e.status, e.operation, e.message};
}

enum Call { kLoad, kInfo, kInput, kOutput, kRun, kRunBad };

// The status contract of every call: a known status, the same one in the error record, and
// after a failure a non-empty message naming the function.
Record Checked(cudago_status_t st, Call call, const char* fn) {
  if (KnownStatusName(st) == nullptr) Fail("%s returned %d, not a cudago_status_t", fn, st);
  if (st == CUDAGO_ERROR_INTERNAL) {
    const Record r = LastError();
    Fail("%s returned CUDAGO_ERROR_INTERNAL (a bug in cudago): %s", fn, r.message.c_str());
  }
  Record r = LastError();
  if (r.status != st) Fail("%s returned %d, the error record says %d", fn, st, r.status);
  if (st != CUDAGO_SUCCESS) {
    if (r.message.empty()) Fail("%s failed (%s) with an empty message", fn, KnownStatusName(st));
    if (r.operation != fn) {
      Fail("%s failed but the record names \"%s\" (%s)", fn, r.operation.c_str(),
           r.message.c_str());
    }
  }
  Feed(call, st, r.message);
  return r;
}

// ---- numbers ----
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull) {}
  uint64_t operator()() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>((*this)() % n); }
  bool one_in(size_t n) { return below(n) == 0; }
};

// A third small values, a third values at the ends of int64 (what overflows size arithmetic), a
// third the sizes around 2^31, 2^32 and 2^40 (the runtime's largest extent) and other edges.
int64_t EdgeInt(Rng& r) {
  static constexpr int64_t kHuge[] = {
      INT64_MAX,        INT64_MIN,           INT64_MIN + 1,         INT64_MAX - 1,
      int64_t{1} << 62, -(int64_t{1} << 62), (int64_t{1} << 62) + 1};
  static constexpr int64_t kEdges[] = {0,
                                       1,
                                       -1,
                                       2,
                                       7,
                                       13,
                                       64,
                                       255,
                                       65536,
                                       INT32_MAX,
                                       int64_t{1} << 31,
                                       int64_t{1} << 32,
                                       int64_t{1} << 40,
                                       (int64_t{1} << 40) + 1,
                                       (int64_t{1} << 40) - 1,
                                       -(int64_t{1} << 40)};
  switch (r.below(3)) {
    case 0:
      return static_cast<int64_t>(r.below(21)) - 4;
    case 1:
      return kHuge[r.below(std::size(kHuge))];
    default:
      return kEdges[r.below(std::size(kEdges))];
  }
}

float EdgeFloat(Rng& r) {
  static const float kEdges[] = {0.0f,
                                 -0.0f,
                                 1.0f,
                                 -1.0f,
                                 0.5f,
                                 2.0f,
                                 1e-5f,
                                 6.0f,
                                 std::numeric_limits<float>::quiet_NaN(),
                                 std::numeric_limits<float>::infinity(),
                                 -std::numeric_limits<float>::infinity(),
                                 std::numeric_limits<float>::denorm_min(),
                                 FLT_MAX,
                                 -FLT_MAX};
  if (r.one_in(4)) {
    const uint32_t bits = static_cast<uint32_t>(r());
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  return kEdges[r.below(std::size(kEdges))];
}

std::string EdgeString(Rng& r) {
  static const char* const kStrings[] = {"NOTSET",   "SAME_UPPER", "SAME_LOWER", "VALID",
                                         "constant", "reflect",    "edge",       "wrap",
                                         "",         "same_upper", "CONSTANT",   "x"};
  if (r.one_in(8)) return std::string("VALID\0x", 7);
  return kStrings[r.below(std::size(kStrings))];
}

// ---- the harness's own seed: Conv + Relu on [N,3,5,5] (an empty or unparsable corpus) ----
void AddFloatInit(onnx::GraphProto* g, const char* name, std::vector<int64_t> dims, float base) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    n *= d;
  }
  for (int64_t i = 0; i < n; ++i) t->add_float_data(base + 0.01f * static_cast<float>(i % 17));
}

void AddValueInfo(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const char* name,
                  std::vector<int64_t> dims) {
  onnx::ValueInfoProto* vi = list->Add();
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) {
    auto* dim = tt->mutable_shape()->add_dim();
    if (d < 0) {
      dim->set_dim_param("N");
    } else {
      dim->set_dim_value(d);
    }
  }
}

std::string SeedModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("onnx_fuzz");
  onnx::OperatorSetIdProto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("seed");
  AddValueInfo(g->mutable_input(), "x", {-1, 3, 5, 5});
  AddFloatInit(g, "w", {4, 3, 3, 3}, -0.05f);
  AddFloatInit(g, "b", {4}, 0.1f);
  onnx::NodeProto* conv = g->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv");
  conv->add_input("x");
  conv->add_input("w");
  conv->add_input("b");
  conv->add_output("c");
  onnx::AttributeProto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  onnx::NodeProto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->set_name("relu");
  relu->add_input("c");
  relu->add_output("y");
  AddValueInfo(g->mutable_output(), "y", {-1, 4, 5, 5});
  std::string s;
  m.SerializeToString(&s);
  return s;
}

// ---- the semantic mutations ----
const char* const kOps[] = {
    // supported (cuda/nn/lower.cpp, op_list())
    "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant",
    "ConstantOfShape", "Conv", "Div", "Dropout", "Flatten", "Gather", "Gemm", "GlobalAveragePool",
    "GlobalMaxPool", "Identity", "MatMul", "MaxPool", "Mul", "Pad", "Relu", "Reshape", "Shape",
    "Sigmoid", "Slice", "Softmax", "Squeeze", "Sub", "Transpose", "Unsqueeze",
    // not supported
    "Resize", "Loop", "If", "LSTM", "ConvTranspose", "Einsum", "conv", "", "Relu ", "Upsample"};
constexpr size_t kNumSupportedOps = 31;

const char* const kAttrNames[] = {"axis",
                                  "axes",
                                  "perm",
                                  "pads",
                                  "kernel_shape",
                                  "strides",
                                  "dilations",
                                  "group",
                                  "auto_pad",
                                  "ceil_mode",
                                  "count_include_pad",
                                  "storage_order",
                                  "mode",
                                  "value",
                                  "to",
                                  "alpha",
                                  "beta",
                                  "transA",
                                  "transB",
                                  "epsilon",
                                  "min",
                                  "max",
                                  "allowzero",
                                  "start",
                                  "end",
                                  "starts",
                                  "ends",
                                  "ratio",
                                  "training_mode",
                                  "spatial",
                                  "value_float",
                                  "value_floats",
                                  "value_int",
                                  "value_ints",
                                  "saturate",
                                  "seed",
                                  "momentum",
                                  "keepdims",
                                  ""};

struct Mutator {
  onnx::ModelProto& m;
  Rng& r;

  onnx::GraphProto* g() { return m.mutable_graph(); }

  std::vector<std::string> Names() {
    std::vector<std::string> v;
    for (const auto& i : m.graph().input()) v.push_back(i.name());
    for (const auto& t : m.graph().initializer()) v.push_back(t.name());
    for (const auto& n : m.graph().node()) {
      for (const auto& o : n.output()) v.push_back(o);
    }
    v.push_back("");
    v.push_back("missing");
    return v;
  }
  std::string AnyName() {
    std::vector<std::string> v = Names();
    return v[r.below(v.size())];
  }

  // Every tensor of the model: initializers and node attributes' tensors.
  std::vector<onnx::TensorProto*> Tensors() {
    std::vector<onnx::TensorProto*> v;
    for (auto& t : *g()->mutable_initializer()) v.push_back(&t);
    for (auto& n : *g()->mutable_node()) {
      for (auto& a : *n.mutable_attribute()) {
        if (a.has_t()) v.push_back(a.mutable_t());
      }
    }
    return v;
  }

  static size_t ElemSize(int32_t t) {
    switch (t) {
      case onnx::TensorProto::FLOAT:
      case onnx::TensorProto::INT32:
      case onnx::TensorProto::UINT32:
        return 4;
      case onnx::TensorProto::INT64:
      case onnx::TensorProto::UINT64:
      case onnx::TensorProto::DOUBLE:
        return 8;
      case onnx::TensorProto::FLOAT16:
      case onnx::TensorProto::BFLOAT16:
      case onnx::TensorProto::INT16:
      case onnx::TensorProto::UINT16:
        return 2;
      case onnx::TensorProto::INT8:
      case onnx::TensorProto::UINT8:
      case onnx::TensorProto::BOOL:
        return 1;
      default:
        return 0;
    }
  }

  // An edge value encoded as an element of type t (little-endian).
  std::string EdgeElement(int32_t t) {
    const size_t es = ElemSize(t) == 0 ? 4 : ElemSize(t);
    std::string b(es, '\0');
    if (t == onnx::TensorProto::FLOAT) {
      const float f = EdgeFloat(r);
      std::memcpy(&b[0], &f, 4);
    } else if (t == onnx::TensorProto::DOUBLE) {
      const double d = EdgeFloat(r);
      std::memcpy(&b[0], &d, 8);
    } else {
      const int64_t v = EdgeInt(r);
      std::memcpy(&b[0], &v, es);  // little-endian host: the low bytes
    }
    return b;
  }

  void TypedToRaw(onnx::TensorProto* t) {
    std::string raw;
    for (float f : t->float_data()) raw.append(reinterpret_cast<const char*>(&f), 4);
    for (int64_t v : t->int64_data()) raw.append(reinterpret_cast<const char*>(&v), 8);
    for (int32_t v : t->int32_data()) {
      const size_t es = std::max<size_t>(ElemSize(t->data_type()), 1);
      raw.append(reinterpret_cast<const char*>(&v), std::min<size_t>(es, 4));
    }
    for (double d : t->double_data()) raw.append(reinterpret_cast<const char*>(&d), 8);
    t->clear_float_data();
    t->clear_int64_data();
    t->clear_int32_data();
    t->clear_double_data();
    t->set_raw_data(raw);
  }

  void External(onnx::TensorProto* t) {
    static const char* const kLocations[] = {
        "w.bin",    "sub/w.bin", "missing",   "../outside.bin", "../x",         "/etc/passwd",
        "",         "dir",       "empty.bin", "./w.bin",        "sub/../w.bin", "w.bin/",
        "a//w.bin", "..",        "."};
    static const char* const kNumbers[] = {"0",
                                           "4",
                                           "1",
                                           "4096",
                                           "4097",
                                           "-1",
                                           "18446744073709551615",
                                           "999999999999999999",
                                           "9223372036854775807",
                                           "1e3",
                                           "",
                                           "abc",
                                           " 4",
                                           "+4",
                                           "0x10"};
    auto set = [t](const std::string& key, const std::string& value) {
      for (auto& kv : *t->mutable_external_data()) {
        if (kv.key() == key) {
          kv.set_value(value);
          return;
        }
      }
      auto* kv = t->add_external_data();
      kv->set_key(key);
      kv->set_value(value);
    };
    switch (r.below(5)) {
      case 0: {  // into the data directory's file, so that it can load
        int64_t n = 1;
        for (int64_t d : t->dims()) {
          if (d < 0 || (d > 0 && n > (int64_t{1} << 40) / d)) {
            n = -1;
            break;
          }
          n *= d;
        }
        const size_t es = ElemSize(t->data_type());
        t->clear_raw_data();
        t->clear_float_data();
        t->clear_int64_data();
        t->clear_int32_data();
        t->clear_double_data();
        t->clear_external_data();
        t->set_data_location(onnx::TensorProto::EXTERNAL);
        set("location", r.one_in(4) ? "sub/w.bin" : "w.bin");
        if (r.one_in(2)) set("offset", std::to_string(4 * r.below(8)));
        if (n >= 0 && es > 0 && r.one_in(2)) set("length", std::to_string(n * es));
        break;
      }
      case 1:
        t->set_data_location(onnx::TensorProto::EXTERNAL);
        if (r.one_in(6)) {
          set("location", std::string("w.bin\0../x", 10));
        } else {
          set("location", kLocations[r.below(std::size(kLocations))]);
        }
        break;
      case 2:
        t->set_data_location(onnx::TensorProto::EXTERNAL);
        set(r.one_in(2) ? "offset" : "length", kNumbers[r.below(std::size(kNumbers))]);
        break;
      case 3: {  // a key given twice, or an unknown one
        auto* kv = t->add_external_data();
        kv->set_key(r.one_in(2) ? "location" : "checksum");
        kv->set_value(kLocations[r.below(std::size(kLocations))]);
        break;
      }
      default:
        if (r.one_in(2)) {
          t->clear_data_location();
        } else {
          t->clear_external_data();
        }
    }
  }

  // A tensor's shape changed: 1 time in 3 alone (the data no longer agrees), otherwise with its
  // data cut or grown to agree (new elements repeat the old bytes, or edge values), for shapes of
  // at most 2^16 elements.
  void TensorDim(onnx::TensorProto* t) {
    const bool alone = r.one_in(3);
    if (alone || t->dims_size() == 0 || r.one_in(4)) {
      if (t->dims_size() > 0 && !r.one_in(4)) {
        t->set_dims(static_cast<int>(r.below(t->dims_size())), alone ? EdgeInt(r) : 1);
      } else if (t->dims_size() > 0 && r.one_in(2)) {
        t->mutable_dims()->RemoveLast();
      } else {
        t->add_dims(alone ? EdgeInt(r) : 1);
      }
      if (alone) return;
    } else if (r.one_in(3) && t->dims_size() > 1) {  // two dimensions swapped
      const int i = static_cast<int>(r.below(t->dims_size()));
      const int j = static_cast<int>(r.below(t->dims_size()));
      const int64_t a = t->dims(i);
      t->set_dims(i, t->dims(j));
      t->set_dims(j, a);
    } else {
      t->set_dims(static_cast<int>(r.below(t->dims_size())),
                  r.one_in(4) ? EdgeInt(r) : static_cast<int64_t>(r.below(9)));
    }
    int64_t n = 1;
    for (int64_t d : t->dims()) {
      if (d < 0 || d > 65536 || (d > 0 && n > 65536 / d)) return;
      n *= d;
    }
    const size_t es = ElemSize(t->data_type());
    if (es == 0 || t->data_location() == onnx::TensorProto::EXTERNAL) return;
    if (!t->has_raw_data()) TypedToRaw(t);
    std::string* raw = t->mutable_raw_data();
    const size_t want = static_cast<size_t>(n) * es;
    if (raw->size() >= want) {
      raw->resize(want);
      return;
    }
    const std::string old = *raw;
    while (raw->size() < want) {
      if (!old.empty() && !r.one_in(4)) {
        raw->append(old, 0, std::min(old.size(), want - raw->size()));
      } else {
        const std::string e = EdgeElement(t->data_type());
        raw->append(e, 0, std::min(e.size(), want - raw->size()));
      }
    }
  }

  bool TensorData(onnx::TensorProto* t) {
    switch (r.below(11)) {
      case 0:  // a dimension
        TensorDim(t);
        return true;
      case 1: {
        static constexpr int32_t kTypes[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,
                                             10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                                             20, 21, 22, 23, 99, -1, 1,  7,  1,  7};
        // Half of the time a type of the same element size (the data still agrees).
        const size_t es = ElemSize(t->data_type());
        if (es != 0 && r.one_in(2)) {
          if (!t->has_raw_data()) TypedToRaw(t);
          std::vector<int32_t> same;
          for (int32_t k : kTypes) {
            if (k != t->data_type() && ElemSize(k) == es) same.push_back(k);
          }
          if (!same.empty()) {
            t->set_data_type(same[r.below(same.size())]);
            return true;
          }
        }
        t->set_data_type(kTypes[r.below(std::size(kTypes))]);
        return true;
      }
      case 2:  // raw_data cut (half of the time an element set instead)
        if (r.one_in(2)) return TensorData(t);
        if (!t->has_raw_data()) TypedToRaw(t);
        if (t->raw_data().empty()) return false;
        t->mutable_raw_data()->resize(r.below(t->raw_data().size()));
        return true;
      case 3:  // raw_data extended (half of the time an element set instead)
        if (r.one_in(2)) return TensorData(t);
        if (!t->has_raw_data()) TypedToRaw(t);
        t->mutable_raw_data()->append(1 + r.below(8), static_cast<char>(r()));
        return true;
      case 4: {  // an element set to an edge value
        if (t->float_data_size() > 0) {
          t->set_float_data(static_cast<int>(r.below(t->float_data_size())), EdgeFloat(r));
        } else if (t->int64_data_size() > 0) {
          t->set_int64_data(static_cast<int>(r.below(t->int64_data_size())), EdgeInt(r));
        } else if (t->int32_data_size() > 0) {
          t->set_int32_data(static_cast<int>(r.below(t->int32_data_size())),
                            static_cast<int32_t>(EdgeInt(r)));
        } else if (t->has_raw_data() && !t->raw_data().empty()) {
          const std::string e = EdgeElement(t->data_type());
          const size_t count = t->raw_data().size() / e.size();
          if (count == 0) return false;
          t->mutable_raw_data()->replace(r.below(count) * e.size(), e.size(), e);
        } else {
          return false;
        }
        return true;
      }
      case 5: {  // a 1-D (or 0-D) tensor grown or shrunk by one element, data and dims agreeing
        if (t->dims_size() > 1 || (t->dims_size() == 1 && t->dims(0) == INT64_MAX)) return false;
        if (!t->has_raw_data()) TypedToRaw(t);
        const std::string e = EdgeElement(t->data_type());
        if (t->dims_size() == 0) t->add_dims(t->raw_data().size() / e.size());
        if (t->dims(0) > 0 && r.one_in(3)) {
          t->set_dims(0, t->dims(0) - 1);
          t->mutable_raw_data()->resize(t->raw_data().size() -
                                        std::min(t->raw_data().size(), e.size()));
        } else {
          t->set_dims(0, t->dims(0) + 1);
          // A repeated element half of the time (repeated axes), an edge value otherwise.
          if (r.one_in(2) && t->raw_data().size() >= e.size()) {
            t->mutable_raw_data()->append(t->raw_data().substr(0, e.size()));
          } else {
            t->mutable_raw_data()->append(e);
          }
        }
        return true;
      }
      case 6:
        TypedToRaw(t);
        return true;
      case 7:
        External(t);
        return true;
      case 8:
        if (r.one_in(2)) return TensorData(t);
        t->clear_raw_data();
        t->clear_float_data();
        t->clear_int64_data();
        t->clear_int32_data();
        return true;
      case 9:  // a segment (rarely: refused outright), or an element again
        if (!r.one_in(4)) return TensorData(t);
        t->mutable_segment()->set_begin(0);
        t->mutable_segment()->set_end(1);
        return true;
      default:  // every dimension set at once to a small value (a consistent reshape, or not)
        for (int i = 0; i < t->dims_size(); ++i) t->set_dims(i, static_cast<int64_t>(r.below(5)));
        return t->dims_size() > 0;
    }
  }

  bool Dim() {
    if (r.one_in(2)) {
      std::vector<onnx::TensorProto*> ts = Tensors();
      if (ts.empty()) return false;
      TensorDim(ts[r.below(ts.size())]);
      return true;
    }
    std::vector<onnx::ValueInfoProto*> vs;
    for (auto& v : *g()->mutable_input()) vs.push_back(&v);
    if (r.one_in(3)) {
      for (auto& v : *g()->mutable_output()) vs.push_back(&v);
    }
    if (vs.empty()) return false;
    onnx::ValueInfoProto* v = vs[r.below(vs.size())];
    auto* shape = v->mutable_type()->mutable_tensor_type()->mutable_shape();
    const int n = shape->dim_size();
    switch (r.below(6)) {
      case 0:
      case 1:
      case 2:
        if (n == 0) return false;
        // A small size half of the time, an edge value otherwise.
        shape->mutable_dim(static_cast<int>(r.below(n)))
            ->set_dim_value(r.one_in(2) ? 1 + static_cast<int64_t>(r.below(16)) : EdgeInt(r));
        return true;
      case 3:
        if (n == 0) return false;
        if (r.one_in(4)) {
          shape->mutable_dim(static_cast<int>(r.below(n)))->clear_value();
        } else {
          shape->mutable_dim(static_cast<int>(r.below(n)))->set_dim_param(r.one_in(2) ? "N" : "");
        }
        return true;
      case 4:
        shape->add_dim()->set_dim_value(r.one_in(2) ? 1 : EdgeInt(r));
        return true;
      default:
        if (n == 0) return false;
        shape->mutable_dim()->RemoveLast();
        return true;
    }
  }

  void AttrValue(onnx::AttributeProto* a) {
    using AP = onnx::AttributeProto;
    switch (a->type()) {
      case AP::INT:
        a->set_i(EdgeInt(r));
        return;
      case AP::FLOAT:
        a->set_f(EdgeFloat(r));
        return;
      case AP::STRING:
        a->set_s(EdgeString(r));
        return;
      case AP::TENSOR:
        TensorData(a->mutable_t());
        return;
      case AP::FLOATS: {
        auto* v = a->mutable_floats();
        const int k = static_cast<int>(r.below(4));
        if (v->empty() || k == 0) {
          v->Add(EdgeFloat(r));
        } else if (k == 1) {
          v->Set(static_cast<int>(r.below(v->size())), EdgeFloat(r));
        } else {
          v->RemoveLast();
        }
        return;
      }
      default: {  // INTS, or any other type: work on its ints
        auto* v = a->mutable_ints();
        const int k = static_cast<int>(r.below(6));
        if (v->empty() || k == 0) {
          v->Add(EdgeInt(r));
        } else if (k == 1 || k == 2) {
          v->Set(static_cast<int>(r.below(v->size())), EdgeInt(r));
        } else if (k == 3) {
          v->RemoveLast();
        } else if (k == 4) {
          v->Add(v->Get(static_cast<int>(r.below(v->size()))));  // a repeated entry
        } else {
          for (int i = 0; i < v->size(); ++i) v->Set(i, static_cast<int64_t>(r.below(4)));
        }
        return;
      }
    }
  }

  bool Attr() {
    if (g()->node_size() == 0) return false;
    onnx::NodeProto* n = g()->mutable_node(static_cast<int>(r.below(g()->node_size())));
    using AP = onnx::AttributeProto;
    const int na = n->attribute_size();
    const int k = static_cast<int>(r.below(12));
    if (na == 0 || k >= 9) {
      if (na > 0 && k == 9) {  // removed
        n->mutable_attribute()->DeleteSubrange(static_cast<int>(r.below(na)), 1);
        return true;
      }
      if (na > 0 && k == 10) {  // given twice
        *n->add_attribute() = n->attribute(static_cast<int>(r.below(na)));
        return true;
      }
      AP* a = n->add_attribute();  // added
      a->set_name(kAttrNames[r.below(std::size(kAttrNames))]);
      static constexpr AP::AttributeType kTypes[] = {AP::INT,    AP::INTS, AP::FLOAT,
                                                     AP::STRING, AP::INTS, AP::INT};
      a->set_type(kTypes[r.below(std::size(kTypes))]);
      AttrValue(a);
      return true;
    }
    AP* a = n->mutable_attribute(static_cast<int>(r.below(na)));
    if (k < 6) {
      AttrValue(a);
    } else if (k == 6) {
      static constexpr AP::AttributeType kAll[] = {
          AP::UNDEFINED, AP::FLOAT,         AP::INT,       AP::STRING,  AP::TENSOR,
          AP::GRAPH,     AP::FLOATS,        AP::INTS,      AP::STRINGS, AP::TENSORS,
          AP::GRAPHS,    AP::SPARSE_TENSOR, AP::TYPE_PROTO};
      a->set_type(kAll[r.below(std::size(kAll))]);
    } else if (k == 7) {
      a->set_name(kAttrNames[r.below(std::size(kAttrNames))]);
    } else {
      if (r.one_in(4)) {
        a->set_ref_attr_name("outer");
      } else {
        AttrValue(a);
        AttrValue(a);
      }
    }
    return true;
  }

  bool OpType() {
    if (g()->node_size() == 0) return false;
    onnx::NodeProto* n = g()->mutable_node(static_cast<int>(r.below(g()->node_size())));
    if (r.one_in(8)) {
      static const char* const kDomains[] = {"", "ai.onnx", "com.microsoft", "ai.onnx.ml"};
      n->set_domain(kDomains[r.below(std::size(kDomains))]);
    } else {
      // Supported ops three times in four.
      const size_t i = r.one_in(4) ? r.below(std::size(kOps)) : r.below(kNumSupportedOps);
      n->set_op_type(kOps[i]);
    }
    return true;
  }

  bool NodeStructure() {
    auto* nodes = g()->mutable_node();
    const int n = nodes->size();
    if (n == 0) return false;
    const int i = static_cast<int>(r.below(n));
    switch (r.below(5)) {
      case 0:
        nodes->DeleteSubrange(i, 1);
        return true;
      case 1: {  // duplicated, right after itself
        onnx::NodeProto copy = nodes->Get(i);
        if (r.one_in(2)) {
          for (auto& o : *copy.mutable_output()) o += "_dup";
        }
        *nodes->Add() = copy;
        for (int j = n; j > i + 1; --j) nodes->SwapElements(j, j - 1);
        return true;
      }
      case 2:
        nodes->SwapElements(i, static_cast<int>(r.below(n)));
        return true;
      case 3:  // moved to the end
        for (int j = i; j + 1 < n; ++j) nodes->SwapElements(j, j + 1);
        return true;
      default:
        nodes->Mutable(i)->set_name(r.one_in(2) ? ""
                                                : nodes->Get(static_cast<int>(r.below(n))).name());
        return true;
    }
  }

  bool NodeIO() {
    if (g()->node_size() == 0) return false;
    onnx::NodeProto* n = g()->mutable_node(static_cast<int>(r.below(g()->node_size())));
    const bool outputs = r.one_in(4);
    auto* list = outputs ? n->mutable_output() : n->mutable_input();
    const int k = list->size();
    switch (r.below(5)) {
      case 0:
      case 1:
        if (k == 0) return false;
        *list->Mutable(static_cast<int>(r.below(k))) = AnyName();
        return true;
      case 2:
        if (k == 0) return false;
        list->DeleteSubrange(static_cast<int>(r.below(k)), 1);
        return true;
      case 3:
        *list->Add() = AnyName();
        return true;
      default:
        if (k == 0) return false;
        *list->Add() = list->Get(static_cast<int>(r.below(k)));
        return true;
    }
  }

  bool GraphIO() {
    const bool outputs = r.one_in(3);
    auto* list = outputs ? g()->mutable_output() : g()->mutable_input();
    const int k = list->size();
    const int i = static_cast<int>(r.below(std::max(k, 1)));
    switch (r.below(7)) {
      case 0:
        if (k == 0) return false;
        list->DeleteSubrange(i, 1);
        return true;
      case 1:
        if (k == 0) return false;
        *list->Add() = list->Get(i);
        return true;
      case 2: {
        if (k == 0) return false;
        static constexpr int32_t kTypes[] = {0, 1, 2, 6, 7, 10, 11, 16, 99, -1};
        list->Mutable(i)->mutable_type()->mutable_tensor_type()->set_elem_type(
            kTypes[r.below(std::size(kTypes))]);
        return true;
      }
      case 3:
        if (k == 0) return false;
        if (r.one_in(2)) {
          list->Mutable(i)->mutable_type()->mutable_tensor_type()->clear_shape();
        } else {
          list->Mutable(i)->clear_type();
        }
        return true;
      case 4:
        if (k == 0) return false;
        list->Mutable(i)->set_name(AnyName());
        return true;
      default: {  // added: an initializer as an input (IR < 4), or any value as an output
        std::string name = AnyName();
        std::vector<int64_t> dims = {-1, 3};
        if (!outputs && g()->initializer_size() > 0) {
          const auto& t = g()->initializer(static_cast<int>(r.below(g()->initializer_size())));
          name = t.name();
          dims.assign(t.dims().begin(), t.dims().end());
        }
        AddValueInfo(list, name.c_str(), dims);
        return true;
      }
    }
  }

  bool Initializer() {
    auto* inits = g()->mutable_initializer();
    const int k = inits->size();
    if (k == 0) return false;
    const int i = static_cast<int>(r.below(k));
    switch (r.below(8)) {
      case 0:
        inits->DeleteSubrange(i, 1);
        return true;
      case 1:
        *inits->Add() = inits->Get(i);
        return true;
      case 2:
        inits->SwapElements(i, static_cast<int>(r.below(k)));
        return true;
      case 3:
        inits->Mutable(i)->set_name(AnyName());
        return true;
      case 4: {  // a sparse initializer (rarely: the loader refuses them outright)
        if (!r.one_in(4)) return TensorData(inits->Mutable(i));
        onnx::SparseTensorProto* s = g()->add_sparse_initializer();
        *s->mutable_values() = inits->Get(i);
        s->add_dims(1);
        return true;
      }
      default:
        return TensorData(inits->Mutable(i));
    }
  }

  bool Version() {
    static constexpr int64_t kOpsets[] = {0,  1,  6,  7,  8,  9,  10, 11, 12,  13, 14,       15,
                                          16, 17, 18, 19, 21, 23, 25, 26, 100, -1, INT64_MAX};
    static constexpr int64_t kIr[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, -1, INT64_MAX};
    switch (r.below(6)) {
      case 0:
      case 1:
        if (m.opset_import_size() == 0) {
          m.add_opset_import()->set_version(13);
          return true;
        }
        m.mutable_opset_import(static_cast<int>(r.below(m.opset_import_size())))
            ->set_version(kOpsets[r.below(std::size(kOpsets))]);
        return true;
      case 2: {
        onnx::OperatorSetIdProto* os = m.add_opset_import();
        os->set_domain(r.one_in(2) ? "" : "ai.onnx");
        os->set_version(kOpsets[r.below(std::size(kOpsets))]);
        return true;
      }
      case 3:
        if (m.opset_import_size() == 0) return false;
        if (r.one_in(2)) {
          m.clear_opset_import();
        } else {
          m.mutable_opset_import(0)->set_domain(r.one_in(2) ? "com.microsoft" : "ai.onnx");
        }
        return true;
      default:
        m.set_ir_version(kIr[r.below(std::size(kIr))]);
        return true;
    }
  }

  bool Once() {
    switch (r.below(20)) {
      case 0:
      case 1:
      case 2:
      case 3:
        return Dim();
      case 4:
      case 5:
      case 6:
      case 7:
      case 8:
        return Attr();
      case 9:
      case 10:
        return OpType();
      case 11:
        return NodeStructure();
      case 12:
        return NodeIO();
      case 13:
        return GraphIO();
      case 14:
      case 15:
        return Initializer();
      case 16:
      case 17: {
        std::vector<onnx::TensorProto*> ts = Tensors();
        if (ts.empty()) return false;
        return TensorData(ts[r.below(ts.size())]);
      }
      case 18:
        return Version();
      default:
        if (r.one_in(16)) {
          m.clear_graph();
          return true;
        }
        return r.one_in(2) ? NodeIO() : NodeStructure();
    }
  }
};

// ---- checks of a loaded model ----
struct Desc {
  std::string name;
  uint64_t rank = 0;
  uint64_t dims[8] = {};
  int32_t batch_axis = -1;
  uint64_t bytes_per_item = 0;
  uint64_t BytesAt(uint64_t n) const {
    return batch_axis < 0 ? bytes_per_item : bytes_per_item * n;
  }
};

Desc Describe(cudago_nn_model_t m, bool input, uint64_t index, const cudago_nn_model_info_t& info) {
  const char* fn = input ? "cudago_nn_model_input" : "cudago_nn_model_output";
  g_cur.what = fn;
  cudago_nn_tensor_info_t t;
  cudago_nn_tensor_info_init(&t);
  const cudago_status_t st =
      input ? cudago_nn_model_input(m, index, &t) : cudago_nn_model_output(m, index, &t);
  Checked(st, input ? kInput : kOutput, fn);
  if (st != CUDAGO_SUCCESS) {
    Fail("%s(%" PRIu64 ") failed with a valid struct: %s", fn, index, LastError().message.c_str());
  }
  if (t.struct_size != sizeof t) Fail("%s changed struct_size", fn);
  if (t.name == nullptr) Fail("%s(%" PRIu64 ") has a NULL name", fn, index);
  Desc d;
  d.name = t.name;  // reads it: ASan checks it is a string
  if (t.rank > CUDAGO_NN_MAX_RANK) Fail("'%s' has rank %" PRIu64, d.name.c_str(), t.rank);
  if (t.dtype != CUDAGO_DTYPE_F32) Fail("'%s' has dtype %d, not F32", d.name.c_str(), t.dtype);
  if (t.batch_axis < -1 || t.batch_axis >= static_cast<int64_t>(t.rank)) {
    Fail("'%s' has batch_axis %d for rank %" PRIu64, d.name.c_str(), t.batch_axis, t.rank);
  }
  if (info.dynamic_batch == 0 && t.batch_axis != -1) {
    Fail("'%s' has batch_axis %d in a model without a dynamic batch", d.name.c_str(), t.batch_axis);
  }
  const uint64_t mb = info.max_batch;
  if (input && t.batch_axis > 0) Fail("input '%s' has batch_axis %d", d.name.c_str(), t.batch_axis);
  if (input && t.batch_axis == 0 && t.dims[0] != mb) {
    Fail("input '%s' has batch dimension %" PRIu64 " at max_batch %" PRIu64, d.name.c_str(),
         t.dims[0], mb);
  }
  unsigned __int128 elems = 1;
  for (uint64_t k = 0; k < t.rank; ++k) {
    elems *= t.dims[k];
    if (elems > (static_cast<unsigned __int128>(1) << 64))
      elems = static_cast<unsigned __int128>(1) << 64;
  }
  std::string shape;
  for (uint64_t k = 0; k < t.rank; ++k) shape += (k ? "," : "") + std::to_string(t.dims[k]);
  const unsigned __int128 bytes = elems * 4;
  if (t.batch_axis < 0) {
    if (bytes != t.bytes_per_item) {
      Fail("'%s' [%s] without a batch axis has bytes_per_item %" PRIu64 ", not 4 * prod(dims)",
           d.name.c_str(), shape.c_str(), t.bytes_per_item);
    }
  } else {
    const uint64_t bd = t.dims[t.batch_axis];
    if (bd % mb != 0 || bytes != static_cast<unsigned __int128>(t.bytes_per_item) * mb) {
      Fail("'%s' [%s], batch_axis %d, max_batch %" PRIu64 ": bytes_per_item %" PRIu64
           " is not 4 * prod(dims) / max_batch (or dims[batch_axis] is not a multiple of "
           "max_batch), so a run at batch n and a buffer of n * bytes_per_item disagree",
           d.name.c_str(), shape.c_str(), t.batch_axis, mb, t.bytes_per_item);
    }
  }
  d.rank = t.rank;
  std::memcpy(d.dims, t.dims, sizeof d.dims);
  d.batch_axis = t.batch_axis;
  d.bytes_per_item = t.bytes_per_item;
  return d;
}

struct Buffer {
  std::unique_ptr<unsigned char[]> p;  // its own heap block of exactly `bytes` (ASan)
  uint64_t bytes = 0;
  explicit Buffer(uint64_t n) : p(new unsigned char[n]), bytes(n) {}
};

void Fill(Buffer& b, uint32_t pattern) {
  for (uint64_t i = 0; i < b.bytes; ++i)
    b.p[i] = static_cast<unsigned char>(pattern >> (8 * (i % 4)));
}

cudago_status_t RunHost(cudago_nn_model_t m, std::vector<Buffer>& in, std::vector<Buffer>& out,
                        uint64_t batch, const uint64_t* in_bytes_override = nullptr) {
  std::vector<const void*> ip;
  std::vector<uint64_t> ib;
  std::vector<void*> op;
  std::vector<uint64_t> ob;
  for (size_t i = 0; i < in.size(); ++i) {
    ip.push_back(in[i].p.get());
    ib.push_back(in_bytes_override != nullptr && i == 0 ? *in_bytes_override : in[i].bytes);
  }
  for (Buffer& b : out) {
    op.push_back(b.p.get());
    ob.push_back(b.bytes);
  }
  return cudago_nn_model_run_host(m, ip.data(), ib.data(), ip.size(), op.data(), ob.data(),
                                  op.size(), batch);
}

void RunAndCompare(cudago_nn_model_t m, const std::vector<Desc>& ins, const std::vector<Desc>& outs,
                   uint64_t batch, bool oom_allowed, uint64_t seed) {
  g_cur.what = batch == 1 ? "running at batch 1" : "running at max_batch";
  Rng r(seed ^ batch);
  std::vector<Buffer> in, out_a, out_b;
  for (const Desc& d : ins) {
    in.emplace_back(d.BytesAt(batch));
    Buffer& b = in.back();
    for (uint64_t i = 0; i + 4 <= b.bytes; i += 4) {
      const float f = static_cast<float>(static_cast<int64_t>(r.below(4001)) - 2000) / 1000.0f;
      std::memcpy(&b.p[i], &f, 4);
    }
  }
  std::vector<std::string> saved;
  for (const Buffer& b : in) saved.emplace_back(reinterpret_cast<const char*>(b.p.get()), b.bytes);
  for (const Desc& d : outs) {
    out_a.emplace_back(d.BytesAt(batch));
    Fill(out_a.back(), kCanaryA);
    out_b.emplace_back(d.BytesAt(batch));
    Fill(out_b.back(), kCanaryB);
  }
  for (int pass = 0; pass < 2; ++pass) {
    const cudago_status_t st = RunHost(m, in, pass == 0 ? out_a : out_b, batch);
    const Record rec = Checked(st, kRun, "cudago_nn_model_run_host");
    if (st == CUDAGO_ERROR_OUT_OF_MEMORY && oom_allowed) return;
    if (st != CUDAGO_SUCCESS) {
      Fail("a run at batch %" PRIu64 " with exact buffers failed: %s: %s", batch,
           KnownStatusName(st), rec.message.c_str());
    }
    for (size_t i = 0; i < in.size(); ++i) {
      if (std::memcmp(in[i].p.get(), saved[i].data(), saved[i].size()) != 0) {
        Fail("the run at batch %" PRIu64 " wrote into input %zu ('%s')", batch, i,
             ins[i].name.c_str());
      }
    }
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    if (std::memcmp(out_a[i].p.get(), out_b[i].p.get(), out_a[i].bytes) == 0) continue;
    uint64_t e = 0;
    while (e + 4 <= out_a[i].bytes && std::memcmp(&out_a[i].p[e], &out_b[i].p[e], 4) == 0) e += 4;
    uint32_t a = 0, b = 0;
    std::memcpy(&a, &out_a[i].p[e], std::min<uint64_t>(4, out_a[i].bytes - e));
    std::memcpy(&b, &out_b[i].p[e], std::min<uint64_t>(4, out_b[i].bytes - e));
    Fail("two runs at batch %" PRIu64
         " on the same inputs differ in output %zu ('%s') at float "
         "%" PRIu64 " of %" PRIu64
         ": 0x%08x vs 0x%08x (the buffers were filled with 0x%08x and "
         "0x%08x before: an element not written, or computed from uninitialised memory)",
         batch, i, outs[i].name.c_str(), e / 4, out_a[i].bytes / 4, a, b, kCanaryA, kCanaryB);
  }
}

bool SafeRelative(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find('\0') != std::string::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    if (p.compare(start, end - start, "..") == 0) return false;
    start = end + 1;
  }
  return true;
}

// A model that loaded: its external data must have been allowed (a base_dir, a location inside
// it).
void CheckExternal(const uint8_t* model, size_t size, bool base_dir) {
  static const char kKey[] = "location";
  if (memmem(model, size, kKey, sizeof kKey - 1) == nullptr) return;
  onnx::ModelProto m;
  if (!m.ParseFromArray(model, static_cast<int>(size))) return;
  auto check = [base_dir](const onnx::TensorProto& t) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL) return;
    std::string location;
    for (const auto& kv : t.external_data()) {
      if (kv.key() == "location") location = kv.value();
    }
    if (!base_dir) {
      Fail("loaded a model whose tensor '%s' is external data ('%s') without a base_dir",
           t.name().c_str(), location.c_str());
    }
    if (!SafeRelative(location)) {
      Fail("loaded a model whose tensor '%s' reads external data at '%s', outside base_dir",
           t.name().c_str(), location.c_str());
    }
  };
  for (const auto& t : m.graph().initializer()) check(t);
  for (const auto& n : m.graph().node()) {
    for (const auto& a : n.attribute()) {
      if (a.has_t()) check(a.t());
    }
  }
}

void Inspect(cudago_nn_model_t m, uint64_t max_batch, uint64_t seed) {
  g_cur.what = "cudago_nn_model_info";
  cudago_nn_model_info_t info;
  cudago_nn_model_info_init(&info);
  const cudago_status_t st = cudago_nn_model_info(m, &info);
  Checked(st, kInfo, "cudago_nn_model_info");
  if (st != CUDAGO_SUCCESS) Fail("cudago_nn_model_info failed: %s", LastError().message.c_str());
  if (info.struct_size != sizeof info) Fail("cudago_nn_model_info changed struct_size");
  if (info.backend != CUDAGO_NN_BACKEND_REFERENCE || info.device != -1 ||
      info.precision != CUDAGO_NN_PRECISION_FP32) {
    Fail("info: backend %d, device %d, precision %d for a model on the reference executor",
         info.backend, info.device, info.precision);
  }
  if (info.dynamic_batch != 0 && info.dynamic_batch != 1) {
    Fail("info.dynamic_batch = %d", info.dynamic_batch);
  }
  const uint64_t want = info.dynamic_batch ? max_batch : 1;
  if (info.max_batch != want) {
    Fail("info.max_batch = %" PRIu64 ", expected %" PRIu64, info.max_batch, want);
  }
  if (info.num_inputs == 0 || info.num_outputs == 0) {
    Fail("info: %" PRIu64 " inputs, %" PRIu64 " outputs", info.num_inputs, info.num_outputs);
  }
  if (info.num_inputs > 4096 || info.num_outputs > 4096) return;  // a model of inputs: no run
  std::vector<Desc> ins, outs;
  for (uint64_t i = 0; i < info.num_inputs; ++i) ins.push_back(Describe(m, true, i, info));
  for (uint64_t i = 0; i < info.num_outputs; ++i) outs.push_back(Describe(m, false, i, info));
  for (int side = 0; side < 2; ++side) {
    const char* fn = side == 0 ? "cudago_nn_model_input" : "cudago_nn_model_output";
    g_cur.what = fn;
    cudago_nn_tensor_info_t t;
    cudago_nn_tensor_info_init(&t);
    const uint64_t past = side == 0 ? info.num_inputs : info.num_outputs;
    const cudago_status_t s2 =
        side == 0 ? cudago_nn_model_input(m, past, &t) : cudago_nn_model_output(m, past, &t);
    Checked(s2, side == 0 ? kInput : kOutput, fn);
    if (s2 != CUDAGO_ERROR_OUT_OF_RANGE)
      Fail("%s(%" PRIu64 ") (past the last) returned %d", fn, past, s2);
  }

  // The size gate.
  unsigned __int128 total = info.arena_bytes;
  for (const auto* list : {&ins, &outs}) {
    for (const Desc& d : *list) {
      total += static_cast<unsigned __int128>(d.bytes_per_item) *
               (d.batch_axis < 0 ? 1 : info.max_batch);
    }
  }
  const unsigned __int128 macs =
      (static_cast<unsigned __int128>(info.weight_bytes / 4) + 16) * (total / 4);
  if (total > kRunBudgetBytes || macs > kRunBudgetMacs) {
    ++g_stats.gated;
    return;
  }
  const bool oom_allowed = info.arena_bytes == 0;
  RunAndCompare(m, ins, outs, 1, oom_allowed, seed);
  ++g_stats.ran;
  if (info.max_batch > 1) {
    RunAndCompare(m, ins, outs, info.max_batch, oom_allowed, seed);
    ++g_stats.ran_max_batch;
  }

  // Documented refusals: batch 0, a batch past max_batch, an input of the wrong size.
  g_cur.what = "checking run_host's refusals";
  std::vector<Buffer> in, out;
  for (const Desc& d : ins) {
    in.emplace_back(d.BytesAt(1));
    std::memset(in.back().p.get(), 0, in.back().bytes);
  }
  for (const Desc& d : outs) out.emplace_back(d.BytesAt(1));
  const uint64_t bad_batches[] = {0, info.max_batch + 1};
  for (uint64_t b : bad_batches) {
    const cudago_status_t s3 = RunHost(m, in, out, b);
    Checked(s3, kRunBad, "cudago_nn_model_run_host");
    if (s3 != CUDAGO_ERROR_INVALID_ARGUMENT) {
      Fail("run_host at batch %" PRIu64 " (max_batch %" PRIu64 ") returned %d", b, info.max_batch,
           s3);
    }
  }
  if (ins[0].BytesAt(1) >= 4) {
    const uint64_t short_bytes = ins[0].BytesAt(1) - 4;
    const cudago_status_t s4 = RunHost(m, in, out, 1, &short_bytes);
    Checked(s4, kRunBad, "cudago_nn_model_run_host");
    if (s4 != CUDAGO_ERROR_INVALID_ARGUMENT) {
      Fail("run_host with input 0 one element short returned %d", s4);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  g_loaded_pool.resize(kPoolSize);
  for (std::string& e : g_loaded_pool) e.reserve(kPoolEntryMax);
  const char* trace = std::getenv("ONNX_FUZZ_TRACE");
  g_trace = trace != nullptr && trace[0] != '\0' && trace[0] != '0';
  char templ[] = "/tmp/onnx_fuzz.XXXXXX";
  if (::mkdtemp(templ) != nullptr) {
    g_base = templ;
    g_inner = g_base + "/m";
    std::filesystem::create_directories(g_inner + "/sub");
    std::filesystem::create_directories(g_inner + "/dir");
    auto write = [](const std::string& path, size_t n, unsigned char salt) {
      std::ofstream f(path, std::ios::binary);
      for (size_t i = 0; i < n; i += 4) {
        const float v = static_cast<float>((i / 4 + salt) % 13) / 8.0f - 0.75f;
        f.write(reinterpret_cast<const char*>(&v), 4);
      }
    };
    write(g_inner + "/w.bin", 4096, 0);
    write(g_inner + "/sub/w.bin", 1024, 5);
    write(g_inner + "/empty.bin", 0, 0);
    write(g_base + "/outside.bin", 4096, 9);
  }
  std::atexit([] {
    std::fprintf(stderr,
                 "onnx_fuzz: %llu inputs: %llu loaded (%llu with external data allowed), %llu "
                 "CUDAGO_ERROR_INVALID_MODEL, %llu CUDAGO_ERROR_INVALID_ARGUMENT\n",
                 g_stats.inputs, g_stats.loaded, g_stats.with_base_dir_loaded,
                 g_stats.invalid_model, g_stats.invalid_argument);
    std::fprintf(stderr,
                 "onnx_fuzz: %llu models ran at batch 1 and %llu at max_batch > 1 (twice each), "
                 "%llu loaded models over the size gate\n",
                 g_stats.ran, g_stats.ran_max_batch, g_stats.gated);
    std::fprintf(stderr,
                 "onnx_fuzz: mutations: %llu semantic, %llu byte-level, %llu of the options byte\n",
                 g_stats.semantic, g_stats.bytewise, g_stats.options_only);
    if (!g_base.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(g_base, ec);
    }
  });
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  Rng r(seed);
  if (max_size < 2) return size;
  if (size == 0) {
    data[0] = static_cast<uint8_t>(r());
    size = 1;
  }
  const size_t pick = r.below(16);
  if (pick == 0) {
    data[0] = static_cast<uint8_t>(r());
    ++g_stats.options_only;
    return size;
  }
  auto bytewise = [&]() -> size_t {
    ++g_stats.bytewise;
    if (size == 1) {
      data[1] = static_cast<uint8_t>(r());
      size = 2;
    }
    return 1 + LLVMFuzzerMutate(data + 1, size - 1, max_size - 1);
  };
  if (pick == 1) return bytewise();
  if (g_pool_count > 0 && r.one_in(8)) {
    const std::string& from = g_loaded_pool[r.below(g_pool_count)];
    if (from.size() <= max_size) {
      std::memcpy(data, from.data(), from.size());
      size = from.size();
    }
  }
  onnx::ModelProto m;
  if (!m.ParseFromArray(data + 1, static_cast<int>(size - 1))) return bytewise();
  if (!m.has_graph() || m.graph().node_size() == 0 || r.one_in(512)) {
    if (!m.ParseFromString(SeedModel())) return bytewise();
  }
  Mutator mu{m, r};
  const int rounds = r.below(3) != 0 ? 1 : 2 + static_cast<int>(r.below(2));
  for (int i = 0, tries = 0; i < rounds && tries < 16; ++tries) {
    if (mu.Once()) ++i;
  }
  std::string out;
  if (!m.SerializeToString(&out) || out.size() + 1 > max_size) return bytewise();
  ++g_stats.semantic;
  std::memcpy(data + 1, out.data(), out.size());
  return out.size() + 1;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  ++g_stats.inputs;
  g_cur.ctl = data[0];
  g_cur.model_size = size - 1;
  g_cur.what = "loading";
  const uint8_t ctl = data[0];
  const uint8_t* model = data + 1;
  const size_t model_size = size - 1;
  const bool base_dir = (ctl & 8) != 0 && !g_inner.empty();

  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.backend = CUDAGO_NN_BACKEND_REFERENCE;
  o.max_batch = 1 + (ctl & 3);
  o.flags = (ctl & 4) != 0 ? CUDAGO_NN_NO_FUSION : 0u;
  o.base_dir = base_dir ? g_inner.c_str() : nullptr;
  const cudago_nn_options_t snap = o;
  static const unsigned char kEmpty[1] = {0};
  cudago_nn_model_t m = nullptr;
  const cudago_status_t st = cudago_nn_model_load_bytes(
      &m, model_size > 0 ? static_cast<const void*>(model) : kEmpty, model_size, &o);
  const Record rec = Checked(st, kLoad, "cudago_nn_model_load_bytes");
  if (g_trace) {
    std::fprintf(stderr, "onnx_fuzz: load (0x%02x, %zu bytes) -> %s %s\n", ctl, model_size,
                 KnownStatusName(st), rec.message.substr(0, 160).c_str());
  }
  if (std::memcmp(&o, &snap, sizeof o) != 0) Fail("the load modified its options struct");
  if (st != CUDAGO_SUCCESS) {
    if (m != nullptr)
      Fail("a failed load (%d) wrote a model %p to *out", st, static_cast<void*>(m));
    if (st == CUDAGO_ERROR_INVALID_MODEL) {
      ++g_stats.invalid_model;
    } else if (st == CUDAGO_ERROR_INVALID_ARGUMENT) {
      ++g_stats.invalid_argument;
    } else {
      Fail("the load returned %s: %s", KnownStatusName(st), rec.message.c_str());
    }
    if (model_size == 0 && st != CUDAGO_ERROR_INVALID_ARGUMENT) {
      Fail("an empty file gave %s, not CUDAGO_ERROR_INVALID_ARGUMENT", KnownStatusName(st));
    }
    return 0;
  }
  if (m == nullptr) Fail("the load succeeded without a model");
  if (model_size == 0) Fail("an empty file loaded");
  ++g_stats.loaded;
  if (base_dir) ++g_stats.with_base_dir_loaded;
  if (size <= kPoolEntryMax && !g_loaded_pool.empty()) {  // no allocation: see g_loaded_pool
    g_loaded_pool[g_pool_next++ % kPoolSize].assign(reinterpret_cast<const char*>(data), size);
    g_pool_count = std::min(kPoolSize, g_pool_count + 1);
  }
  CheckExternal(model, model_size, base_dir);
  Inspect(m, o.max_batch, (ctl >> 4) * 0x1000193u + model_size);
  g_cur.what = "cudago_nn_model_destroy";
  const cudago_status_t sd = cudago_nn_model_destroy(m);
  Checked(sd, kLoad, "cudago_nn_model_destroy");
  if (sd != CUDAGO_SUCCESS) Fail("cudago_nn_model_destroy failed");
  return 0;
}
