// Bad models and bad arguments: every one is refused at load (or at the run) with a clear error
// that names what is wrong; nothing crashes and nothing is allocated from a bogus size. The
// models are built here with ONNX's protobuf classes, each a small valid model with one defect.
#define CUDAGO_EXPERIMENTAL 1
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "../capi/capi_util.hpp"
#include "cudago.h"

namespace {

struct ModelDel {
  void operator()(cudago_nn_model_s* m) const { cudago_nn_model_destroy(m); }
};
using Model = std::unique_ptr<cudago_nn_model_s, ModelDel>;

using onnx::ModelProto;
using onnx::TensorProto;

void set_input(onnx::ValueInfoProto* v, const std::string& name, std::vector<int64_t> dims,
               int32_t type = TensorProto::FLOAT) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(type);
  auto* sh = tt->mutable_shape();
  for (int64_t d : dims) {
    auto* dim = sh->add_dim();
    if (d < 0) {
      dim->set_dim_param("N");
    } else {
      dim->set_dim_value(d);
    }
  }
}

void add_weight(onnx::GraphProto* g, const std::string& name, std::vector<int64_t> dims) {
  TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    n *= d;
  }
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<float> u(-1, 1);
  for (int64_t i = 0; i < n; ++i) t->add_float_data(u(rng));
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::string& name,
                          std::vector<std::string> in, std::vector<std::string> out) {
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto& s : in) n->add_input(s);
  for (auto& s : out) n->add_output(s);
  return n;
}

void int_attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

// A valid model: x [N,3,9,7] → Conv(4, 3×3, pad 1) → Relu → y.
ModelProto good_model() {
  ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("bad_models_test");
  auto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(17);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("g");
  set_input(g->add_input(), "x", {-1, 3, 9, 7});
  add_weight(g, "w", {4, 3, 3, 3});
  add_weight(g, "b", {4});
  onnx::NodeProto* conv = add_node(g, "Conv", "conv1", {"x", "w", "b"}, {"c"});
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  add_node(g, "Relu", "relu1", {"c"}, {"y"});
  g->add_output()->set_name("y");
  return m;
}

struct Result {
  cudago_status_t status;
  std::string message;
};

Result load_bytes(const std::string& bytes, const char* base_dir = nullptr,
                  uint64_t max_batch = 4) {
  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.backend = CUDAGO_NN_BACKEND_REFERENCE;
  o.max_batch = max_batch;
  o.base_dir = base_dir;
  cudago_nn_model_t m = nullptr;
  cudago_status_t s = cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o);
  Result r{s, last_error_text()};
  if (s == CUDAGO_SUCCESS) {
    EXPECT_NE(m, nullptr);
  }
  cudago_nn_model_destroy(m);
  return r;
}

Result load_model(const ModelProto& m, const char* base_dir = nullptr, uint64_t max_batch = 4) {
  std::string bytes;
  EXPECT_TRUE(m.SerializeToString(&bytes));
  return load_bytes(bytes, base_dir, max_batch);
}

#define EXPECT_REFUSED(result, want_status, fragment)                \
  do {                                                               \
    Result r_ = (result);                                            \
    EXPECT_EQ(r_.status, (want_status)) << r_.message;               \
    EXPECT_NE(r_.message.find(fragment), std::string::npos)          \
        << "message lacks \"" << (fragment) << "\": " << r_.message; \
  } while (0)

TEST(NnBadModels, GoodModelLoads) {
  Result r = load_model(good_model());
  EXPECT_EQ(r.status, CUDAGO_SUCCESS) << r.message;
}

TEST(NnBadModels, NotOnnx) {
  EXPECT_REFUSED(load_bytes("this is not a protobuf message \xff\xff\xff\xff"),
                 CUDAGO_ERROR_INVALID_MODEL, "not an ONNX model");
  // A valid protobuf that is not a model (no graph).
  ModelProto empty;
  empty.set_ir_version(8);
  EXPECT_REFUSED(load_model(empty), CUDAGO_ERROR_INVALID_MODEL, "no graph");
}

TEST(NnBadModels, TruncatedEverywhere) {
  std::string bytes;
  ASSERT_TRUE(good_model().SerializeToString(&bytes));
  // Every prefix is refused or (where protobuf happens to see a whole message) loads; none
  // crashes. Most are refused as damaged.
  int refused = 0;
  for (size_t n = 1; n < bytes.size(); n += 7) {
    Result r = load_bytes(bytes.substr(0, n));
    if (r.status != CUDAGO_SUCCESS) {
      ++refused;
      EXPECT_EQ(r.status, CUDAGO_ERROR_INVALID_MODEL) << "prefix " << n << ": " << r.message;
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_REFUSED(load_bytes(bytes.substr(0, bytes.size() - 3)), CUDAGO_ERROR_INVALID_MODEL, "");
}

TEST(NnBadModels, UnsupportedOpListsTheSupportedOnes) {
  ModelProto m = good_model();
  m.mutable_graph()->mutable_node(1)->set_op_type("Elu");
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "node 'relu1' (Elu)");
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "supported ops are: Add");
}

TEST(NnBadModels, MissingInitializer) {
  ModelProto m = good_model();
  m.mutable_graph()->mutable_initializer()->RemoveLast();  // b
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "node 'conv1' (Conv): input 'b'");
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "missing initializer");
}

TEST(NnBadModels, ShapeMismatch) {
  ModelProto m = good_model();
  m.mutable_graph()->mutable_initializer(0)->set_dims(1, 5);  // w [4,5,3,3] for 3 channels
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "its shape needs");  // data count first
  // With data to match, the channel mismatch itself.
  ModelProto m2 = good_model();
  onnx::GraphProto* g = m2.mutable_graph();
  g->mutable_initializer()->DeleteSubrange(0, 1);
  add_weight(g, "w", {4, 5, 3, 3});
  EXPECT_REFUSED(load_model(m2), CUDAGO_ERROR_INVALID_MODEL, "node 'conv1' (Conv): weight");
  // Two activations that do not broadcast.
  ModelProto m3 = good_model();
  g = m3.mutable_graph();
  add_weight(g, "w2", {2, 3, 3, 3});
  add_node(g, "Conv", "conv2", {"x", "w2"}, {"c2"});
  g->mutable_node(1)->set_op_type("Add");
  g->mutable_node(1)->add_input("c2");
  // conv1's output [N,4,9,7] + conv2's [N,2,7,5]
  EXPECT_REFUSED(load_model(m3), CUDAGO_ERROR_INVALID_MODEL, "");
}

TEST(NnBadModels, UnsupportedAttributeIsNamed) {
  ModelProto m = good_model();
  int_attr(m.mutable_graph()->mutable_node(0), "frobnicate", 1);
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "attribute 'frobnicate'");
  ModelProto m2 = good_model();
  auto* a = m2.mutable_graph()->mutable_node(0)->add_attribute();
  a->set_name("auto_pad");
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s("SIDEWAYS");
  EXPECT_REFUSED(load_model(m2), CUDAGO_ERROR_INVALID_MODEL, "SIDEWAYS");
}

TEST(NnBadModels, HugeDimensionsAllocateNothing) {
  // An initializer claiming 2^62 elements with no data behind it.
  ModelProto m = good_model();
  TensorProto* t = m.mutable_graph()->add_initializer();
  t->set_name("huge");
  t->set_data_type(TensorProto::FLOAT);
  t->add_dims(int64_t{1} << 31);
  t->add_dims(int64_t{1} << 31);
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "'huge'");
  // Dimensions whose product overflows 64 bits.
  ModelProto m2 = good_model();
  t = m2.mutable_graph()->add_initializer();
  t->set_name("overflow");
  t->set_data_type(TensorProto::FLOAT);
  for (int i = 0; i < 3; ++i) t->add_dims(int64_t{1} << 30);
  EXPECT_REFUSED(load_model(m2), CUDAGO_ERROR_INVALID_MODEL, "'overflow'");
  // A graph input of 2^41 elements per item.
  ModelProto m3 = good_model();
  m3.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(2)
      ->set_dim_value(int64_t{1} << 39);
  EXPECT_REFUSED(load_model(m3), CUDAGO_ERROR_INVALID_MODEL, "too many elements");
  // raw_data shorter than the shape says.
  ModelProto m4 = good_model();
  t = m4.mutable_graph()->mutable_initializer(1);
  t->clear_float_data();
  t->set_raw_data(std::string(12, '\0'));
  EXPECT_REFUSED(load_model(m4), CUDAGO_ERROR_INVALID_MODEL, "raw_data holds 12 bytes");
  // A Reshape to a shape of 2^40 · 2^40 elements.
  ModelProto m5 = good_model();
  onnx::GraphProto* g = m5.mutable_graph();
  TensorProto* s = g->add_initializer();
  s->set_name("shape");
  s->set_data_type(TensorProto::INT64);
  s->add_dims(2);
  s->add_int64_data(int64_t{1} << 40);
  s->add_int64_data(int64_t{1} << 40);
  add_node(g, "Reshape", "reshape1", {"y", "shape"}, {"z"});
  g->mutable_output(0)->set_name("z");
  EXPECT_REFUSED(load_model(m5), CUDAGO_ERROR_INVALID_MODEL, "node 'reshape1' (Reshape)");
}

TEST(NnBadModels, Versions) {
  ModelProto m = good_model();
  m.set_ir_version(99);
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "IR version 99");
  ModelProto m2 = good_model();
  m2.mutable_opset_import(0)->set_version(3);
  EXPECT_REFUSED(load_model(m2), CUDAGO_ERROR_INVALID_MODEL, "opset 3");
  ModelProto m3 = good_model();
  m3.mutable_graph()->mutable_node(0)->set_domain("com.example");
  EXPECT_REFUSED(load_model(m3), CUDAGO_ERROR_INVALID_MODEL, "domain 'com.example'");
}

TEST(NnBadModels, DynamicSpatialDimension) {
  ModelProto m = good_model();
  m.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(2)
      ->set_dim_param("H");
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "dimension 2 is 'H'");
}

TEST(NnBadModels, NonFloatInput) {
  ModelProto m = good_model();
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      TensorProto::INT32);
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "INT32");
}

TEST(NnBadModels, UnusedSecondOutputIsFineUsedIsNot) {
  // MaxPool's Indices output: fine while nothing reads it, an error naming it when used.
  ModelProto m = good_model();
  onnx::GraphProto* g = m.mutable_graph();
  onnx::NodeProto* p = add_node(g, "MaxPool", "pool1", {"y"}, {"p", "idx"});
  auto* ks = p->add_attribute();
  ks->set_name("kernel_shape");
  ks->set_type(onnx::AttributeProto::INTS);
  ks->add_ints(2);
  ks->add_ints(2);
  g->mutable_output(0)->set_name("p");
  EXPECT_EQ(load_model(m).status, CUDAGO_SUCCESS) << load_model(m).message;
  g->add_output()->set_name("idx");
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "'idx'");
}

TEST(NnBadModels, OutputNotProduced) {
  ModelProto m = good_model();
  m.mutable_graph()->add_output()->set_name("nowhere");
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "'nowhere'");
}

TEST(NnBadModels, NodesOutOfOrder) {
  ModelProto m = good_model();
  m.mutable_graph()->mutable_node()->SwapElements(0, 1);
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "node 'relu1' (Relu): input 'c'");
}

class ExternalData : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cudago-nn-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::remove((dir_ + "/w.bin").c_str());
    std::remove((dir_ + "/model.onnx").c_str());
    rmdir(dir_.c_str());
  }
  // The good model with w moved to w.bin (written with `file_bytes` of it) at `location`.
  ModelProto with_external(const std::string& location, int64_t offset, size_t file_bytes) {
    ModelProto m = good_model();
    TensorProto* w = m.mutable_graph()->mutable_initializer(0);
    std::string raw(reinterpret_cast<const char*>(w->float_data().data()),
                    static_cast<size_t>(w->float_data_size()) * 4);
    w->clear_float_data();
    w->set_data_location(TensorProto::EXTERNAL);
    auto* kv = w->add_external_data();
    kv->set_key("location");
    kv->set_value(location);
    kv = w->add_external_data();
    kv->set_key("offset");
    kv->set_value(std::to_string(offset));
    std::string file(static_cast<size_t>(offset), '\0');
    file += raw;
    file.resize(file_bytes == 0 ? file.size() : file_bytes);
    std::ofstream(dir_ + "/w.bin", std::ios::binary) << file;
    return m;
  }
  std::string dir_;
};

TEST_F(ExternalData, LoadsFromBytesWithBaseDirAndFromFile) {
  ModelProto m = with_external("w.bin", 64, 0);
  Result r = load_model(m, dir_.c_str());
  EXPECT_EQ(r.status, CUDAGO_SUCCESS) << r.message;
  std::string bytes;
  ASSERT_TRUE(m.SerializeToString(&bytes));
  std::ofstream(dir_ + "/model.onnx", std::ios::binary) << bytes;
  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.backend = CUDAGO_NN_BACKEND_REFERENCE;
  cudago_nn_model_t raw = nullptr;
  CG_OK(cudago_nn_model_load(&raw, (dir_ + "/model.onnx").c_str(), &o));
  Model keep(raw);
  // Without the directory, bytes cannot find the data.
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "directory of the data files");
}

TEST_F(ExternalData, Refusals) {
  EXPECT_REFUSED(load_model(with_external("../w.bin", 0, 0), dir_.c_str()),
                 CUDAGO_ERROR_INVALID_MODEL, "relative path inside");
  EXPECT_REFUSED(load_model(with_external("/etc/passwd", 0, 0), dir_.c_str()),
                 CUDAGO_ERROR_INVALID_MODEL, "relative path inside");
  EXPECT_REFUSED(load_model(with_external("missing.bin", 0, 0), dir_.c_str()),
                 CUDAGO_ERROR_INVALID_MODEL, "cannot be read");
  EXPECT_REFUSED(load_model(with_external("w.bin", 0, 100), dir_.c_str()),
                 CUDAGO_ERROR_INVALID_MODEL, "runs past the end");
  EXPECT_REFUSED(load_model(with_external("w.bin", 1 << 20, 64), dir_.c_str()),
                 CUDAGO_ERROR_INVALID_MODEL, "runs past the end");
}

// ---- arguments of the C ABI ----

std::string good_bytes() {
  std::string b;
  good_model().SerializeToString(&b);
  return b;
}

TEST(NnArguments, Load) {
  std::string bytes = good_bytes();
  cudago_nn_model_t m = nullptr;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_load(nullptr, "x.onnx", nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_load(&m, nullptr, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_load(&m, "/nonexistent.onnx", nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_load(&m, "/tmp", nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_load_bytes(&m, nullptr, 10, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_load_bytes(&m, bytes.data(), 0, nullptr));
  EXPECT_EQ(m, nullptr);

  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.backend = static_cast<cudago_nn_backend_t>(7);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  cudago_nn_options_init(&o);
  o.precision = static_cast<cudago_nn_precision_t>(-1);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  cudago_nn_options_init(&o);
  o.input_format = static_cast<cudago_nn_input_format_t>(2);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  cudago_nn_options_init(&o);
  o.flags = 0x80;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  cudago_nn_options_init(&o);
  o.struct_size = 0;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  cudago_nn_options_init(&o);
  o.struct_size += 8;
  CG_EXPECT(CUDAGO_ERROR_NOT_SUPPORTED,
            cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  cudago_nn_options_init(&o);
  o.max_batch = uint64_t{1} << 40;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  cudago_nn_options_init(&o);
  o.device = -1;
  CG_EXPECT(CUDAGO_ERROR_INVALID_DEVICE,
            cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  cudago_nn_options_init(&o);
  o.backend = CUDAGO_NN_BACKEND_REFERENCE;
  o.precision = CUDAGO_NN_PRECISION_FP16;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  cudago_nn_options_init(&o);
  o.std[1] = std::nanf("");
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  // A graph input that is not an image cannot take uint8 NHWC.
  cudago_nn_options_init(&o);
  o.input_format = CUDAGO_NN_INPUT_UINT8_NHWC;  // x has 3 channels: fine
  CG_OK(cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  CG_OK(cudago_nn_model_destroy(m));
  EXPECT_EQ(cudago_nn_model_destroy(nullptr), CUDAGO_SUCCESS);
}

TEST(NnArguments, Run) {
  std::string bytes = good_bytes();
  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.max_batch = 3;
  cudago_nn_model_t raw = nullptr;
  CG_OK(cudago_nn_model_load_bytes(&raw, bytes.data(), bytes.size(), &o));
  Model m(raw);
  std::vector<float> x(2 * 3 * 9 * 7, 0.5f), y(2 * 4 * 9 * 7);
  const void* in[1] = {x.data()};
  void* out[1] = {y.data()};
  uint64_t inb[1] = {x.size() * 4}, outb[1] = {y.size() * 4};
  CG_OK(cudago_nn_model_run_host(m.get(), in, inb, 1, out, outb, 1, 2));
  for (float v : y) EXPECT_GE(v, 0.0f);  // after the ReLU
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_nn_model_run_host(nullptr, in, inb, 1, out, outb, 1, 2));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run_host(m.get(), in, inb, 2, out, outb, 1, 2));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run_host(m.get(), nullptr, inb, 1, out, outb, 1, 2));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run_host(m.get(), in, nullptr, 1, out, outb, 1, 2));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run_host(m.get(), in, inb, 1, out, outb, 0, 2));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run_host(m.get(), in, inb, 1, out, outb, 1, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run_host(m.get(), in, inb, 1, out, outb, 1, 4));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run_host(m.get(), in, inb, 1, out, outb, 1, UINT64_MAX));
  // Sizes that do not match the batch.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run_host(m.get(), in, inb, 1, out, outb, 1, 1));
  uint64_t short_out[1] = {outb[0] - 4};
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run_host(m.get(), in, inb, 1, out, short_out, 1, 2));
  const void* null_in[1] = {nullptr};
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run_host(m.get(), null_in, inb, 1, out, outb, 1, 2));
  // An output overlapping an input or another output.
  std::vector<float> both(y.size() + x.size());
  const void* in_alias[1] = {both.data()};
  void* out_alias[1] = {both.data() + x.size() / 2};
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run_host(m.get(), in_alias, inb, 1, out_alias, outb, 1, 2));
  // Device buffers: the reference executor takes host memory only.
  cudago_buffer_t bufs[1] = {nullptr};
  uint64_t offs[1] = {0};
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_nn_model_run(m.get(), nullptr, bufs, offs, 1, bufs, offs, 1, 1));

  cudago_nn_model_info_t info;
  cudago_nn_model_info_init(&info);
  info.struct_size = 3;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_info(m.get(), &info));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_info(m.get(), nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_nn_model_info(nullptr, &info));
}

// cudago_nn_model_prepare on the reference executor: nothing to capture, but every argument is
// checked as on the GPU.
TEST(NnArguments, PrepareOnReference) {
  std::string bytes = good_bytes();
  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.backend = CUDAGO_NN_BACKEND_REFERENCE;
  o.max_batch = 3;
  cudago_nn_model_t raw = nullptr;
  CG_OK(cudago_nn_model_load_bytes(&raw, bytes.data(), bytes.size(), &o));
  Model m(raw);
  const uint64_t good[] = {1, 3, 2, 3}, zero[] = {2, 0}, past[] = {4}, huge[] = {UINT64_MAX};
  CG_OK(cudago_nn_model_prepare(m.get(), nullptr, good, 4));
  CG_OK(cudago_nn_model_prepare(m.get(), nullptr, nullptr, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_prepare(m.get(), nullptr, zero, 2));
  EXPECT_NE(last_error_text().find("batch_sizes[1]"), std::string::npos) << last_error_text();
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_prepare(m.get(), nullptr, past, 1));
  EXPECT_NE(last_error_text().find("max_batch 3"), std::string::npos) << last_error_text();
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_prepare(m.get(), nullptr, huge, 1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_prepare(m.get(), nullptr, nullptr, 2));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_prepare(m.get(), nullptr, good, (uint64_t{1} << 20) + 1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_nn_model_prepare(nullptr, nullptr, good, 1));
  cudago_nn_model_info_t info;
  cudago_nn_model_info_init(&info);
  CG_OK(cudago_nn_model_info(m.get(), &info));
  EXPECT_EQ(info.graphs, 0u);
  EXPECT_EQ(info.capture_seconds, 0.0);
}

// A model whose inputs have fixed dimensions runs at batch 1 only.
TEST(NnArguments, FixedBatch) {
  ModelProto mp = good_model();
  mp.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(0)
      ->set_dim_value(2);
  std::string bytes;
  ASSERT_TRUE(mp.SerializeToString(&bytes));
  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.max_batch = 16;
  cudago_nn_model_t raw = nullptr;
  CG_OK(cudago_nn_model_load_bytes(&raw, bytes.data(), bytes.size(), &o));
  Model m(raw);
  cudago_nn_model_info_t info;
  cudago_nn_model_info_init(&info);
  CG_OK(cudago_nn_model_info(m.get(), &info));
  EXPECT_EQ(info.dynamic_batch, 0);
  EXPECT_EQ(info.max_batch, 1u);
  cudago_nn_tensor_info_t ti;
  cudago_nn_tensor_info_init(&ti);
  CG_OK(cudago_nn_model_input(m.get(), 0, &ti));
  EXPECT_EQ(ti.batch_axis, -1);
  EXPECT_EQ(ti.dims[0], 2u);
  EXPECT_EQ(ti.bytes_per_item, 2u * 3 * 9 * 7 * 4);
  std::vector<float> x(2 * 3 * 9 * 7, 1.0f), y(2 * 4 * 9 * 7);
  const void* in[1] = {x.data()};
  void* out[1] = {y.data()};
  uint64_t inb[1] = {x.size() * 4}, outb[1] = {y.size() * 4};
  CG_OK(cudago_nn_model_run_host(m.get(), in, inb, 1, out, outb, 1, 1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run_host(m.get(), in, inb, 1, out, outb, 1, 2));
}

}  // namespace

namespace {

// A model whose intermediate activation is 2^38 floats (1 TiB): it loads (nothing is allocated
// at load), reports that peak, and a run is refused with OUT_OF_MEMORY before it allocates.
TEST(NnArguments, HostMemoryBeyondTheMachine) {
  ModelProto m;
  m.set_ir_version(8);
  auto* os = m.add_opset_import();
  os->set_version(17);
  onnx::GraphProto* g = m.mutable_graph();
  set_input(g->add_input(), "x", {-1, 1, 1, 1});
  TensorProto* pads = g->add_initializer();
  pads->set_name("pads");
  pads->set_data_type(TensorProto::INT64);
  pads->add_dims(8);
  for (int64_t v : {0, 0, 1 << 18, 1 << 18, 0, 0, 1 << 18, 1 << 18}) pads->add_int64_data(v);
  add_node(g, "Pad", "pad1", {"x", "pads"}, {"p"});
  add_node(g, "GlobalMaxPool", "gmp", {"p"}, {"y"});
  g->add_output()->set_name("y");
  std::string bytes;
  ASSERT_TRUE(m.SerializeToString(&bytes));
  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.backend = CUDAGO_NN_BACKEND_REFERENCE;  // host memory (the GPU plan refuses it at load)
  cudago_nn_model_t raw = nullptr;
  CG_OK(cudago_nn_model_load_bytes(&raw, bytes.data(), bytes.size(), &o));
  Model model(raw);
  cudago_nn_model_info_t info;
  cudago_nn_model_info_init(&info);
  CG_OK(cudago_nn_model_info(model.get(), &info));
  EXPECT_GE(info.arena_bytes, (uint64_t{1} << 38) * 4);
  float x = 1, y = 0;
  const void* in[1] = {&x};
  void* out[1] = {&y};
  uint64_t nb[1] = {4};
  EXPECT_EQ(cudago_nn_model_run_host(model.get(), in, nb, 1, out, nb, 1, 1),
            CUDAGO_ERROR_OUT_OF_MEMORY)
      << last_error_text();
  EXPECT_NE(last_error_text().find("host memory"), std::string::npos) << last_error_text();
}

// Folding is bounded too: a ConstantOfShape of 2^30 elements is refused at load.
TEST(NnBadModels, FoldedConstantTooLarge) {
  ModelProto m = good_model();
  onnx::GraphProto* g = m.mutable_graph();
  TensorProto* s = g->add_initializer();
  s->set_name("big_shape");
  s->set_data_type(TensorProto::INT64);
  s->add_dims(2);
  s->add_int64_data(1 << 15);
  s->add_int64_data(1 << 15);
  add_node(g, "ConstantOfShape", "cos", {"big_shape"}, {"big"});
  add_node(g, "Add", "add_big", {"y", "big"}, {"z"});
  g->mutable_output(0)->set_name("z");
  EXPECT_REFUSED(load_model(m), CUDAGO_ERROR_INVALID_MODEL, "node 'cos' (ConstantOfShape)");
}

}  // namespace

namespace {

// Without a GPU: the GPU backend is NO_DEVICE and AUTO takes the reference executor.
TEST(NnArguments, BackendsWithoutAGpu) {
  int32_t devices = 0;
  ASSERT_EQ(cudago_device_count(&devices), CUDAGO_SUCCESS);
  if (devices > 0) GTEST_SKIP() << "this machine has a GPU (the GPU tests cover it)";
  std::string bytes;
  ASSERT_TRUE(good_model().SerializeToString(&bytes));
  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.backend = CUDAGO_NN_BACKEND_GPU;
  cudago_nn_model_t m = nullptr;
  CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  EXPECT_EQ(m, nullptr);
  o.backend = CUDAGO_NN_BACKEND_AUTO;
  CG_OK(cudago_nn_model_load_bytes(&m, bytes.data(), bytes.size(), &o));
  Model keep(m);
  cudago_nn_model_info_t info;
  cudago_nn_model_info_init(&info);
  CG_OK(cudago_nn_model_info(m, &info));
  EXPECT_EQ(info.backend, CUDAGO_NN_BACKEND_REFERENCE);
}

}  // namespace

namespace {

// A model with a fixed batch of 2 images takes both as uint8 NHWC (the fuzzer found only the
// first converted).
TEST(NnArguments, FixedBatchUint8) {
  ModelProto mp = good_model();
  mp.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(0)
      ->set_dim_value(2);
  std::string bytes;
  ASSERT_TRUE(mp.SerializeToString(&bytes));
  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.backend = CUDAGO_NN_BACKEND_REFERENCE;
  cudago_nn_model_t raw = nullptr;
  CG_OK(cudago_nn_model_load_bytes(&raw, bytes.data(), bytes.size(), &o));
  Model f32(raw);
  o.input_format = CUDAGO_NN_INPUT_UINT8_NHWC;
  CG_OK(cudago_nn_model_load_bytes(&raw, bytes.data(), bytes.size(), &o));
  Model u8(raw);
  const int n = 2, c = 3, h = 9, w = 7;
  std::mt19937 rng(std::random_device{}());
  std::vector<uint8_t> img(n * h * w * c);
  for (auto& v : img) v = static_cast<uint8_t>(rng() & 0xff);
  std::vector<float> x(img.size());
  for (int b = 0; b < n; ++b)
    for (int k = 0; k < c; ++k)
      for (int i = 0; i < h * w; ++i)
        x[(b * c + k) * h * w + i] = static_cast<float>(img[(b * h * w + i) * c + k]) / 255.0f;
  std::vector<float> ya(n * 4 * h * w), yb(ya.size());
  const void* ia[1] = {img.data()};
  const void* ib[1] = {x.data()};
  void* oa[1] = {ya.data()};
  void* ob[1] = {yb.data()};
  uint64_t na[1] = {img.size()}, nb[1] = {x.size() * 4}, no[1] = {ya.size() * 4};
  CG_OK(cudago_nn_model_run_host(u8.get(), ia, na, 1, oa, no, 1, 1));
  CG_OK(cudago_nn_model_run_host(f32.get(), ib, nb, 1, ob, no, 1, 1));
  for (size_t i = 0; i < ya.size(); ++i) {
    ASSERT_NEAR(ya[i], yb[i], 1e-4f * (1 + std::fabs(yb[i]))) << "element " << i;
  }
}

}  // namespace

namespace {

// A max pool whose window is almost all padding: each output visits only the input rows in its
// window (the fuzzer's input took 2^40 steps before).
TEST(NnArguments, MaxPoolWindowOfPadding) {
  ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  onnx::GraphProto* g = m.mutable_graph();
  set_input(g->add_input(), "x", {-1, 1, 1, 1});
  onnx::NodeProto* pool = add_node(g, "MaxPool", "pool", {"x"}, {"y"});
  const int64_t k = int64_t{1} << 20;
  auto* ks = pool->add_attribute();
  ks->set_name("kernel_shape");
  ks->set_type(onnx::AttributeProto::INTS);
  ks->add_ints(k);
  ks->add_ints(1);
  auto* pads = pool->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : {k - 1, int64_t{0}, k - 1, int64_t{0}}) pads->add_ints(v);
  g->add_output()->set_name("y");
  std::string bytes;
  ASSERT_TRUE(m.SerializeToString(&bytes));
  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.backend = CUDAGO_NN_BACKEND_REFERENCE;
  cudago_nn_model_t raw = nullptr;
  CG_OK(cudago_nn_model_load_bytes(&raw, bytes.data(), bytes.size(), &o));
  Model model(raw);
  float x = 0.75f;
  std::vector<float> y(static_cast<size_t>(k), 0.0f);
  const void* in[1] = {&x};
  void* out[1] = {y.data()};
  uint64_t nb[1] = {4}, ob[1] = {y.size() * 4};
  CG_OK(cudago_nn_model_run_host(model.get(), in, nb, 1, out, ob, 1, 1));
  for (size_t i = 0; i < y.size(); i += 4099) ASSERT_EQ(y[i], x) << "row " << i;
  EXPECT_EQ(y.back(), x);
}

}  // namespace
