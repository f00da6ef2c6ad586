// The reference executor against onnxruntime on every generated model (scripts/gen-models.py),
// fused and unfused, through the C ABI; the descriptions of inputs and outputs; the uint8 NHWC
// input path; concurrent runs of one model.
#define CUDAGO_EXPERIMENTAL 1
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "../capi/capi_util.hpp"
#include "cudago.h"
#include "manifest.hpp"

namespace {

struct ModelDel {
  void operator()(cudago_nn_model_s* m) const { cudago_nn_model_destroy(m); }
};
using Model = std::unique_ptr<cudago_nn_model_s, ModelDel>;

Model load(const nn_test::Case& c, uint32_t flags = 0, uint64_t max_batch = 0) {
  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.backend = CUDAGO_NN_BACKEND_REFERENCE;
  o.max_batch = max_batch ? max_batch : static_cast<uint64_t>(c.max_batch);
  o.flags = flags;
  cudago_nn_model_t m = nullptr;
  cudago_status_t s = cudago_nn_model_load(&m, c.model_path().c_str(), &o);
  EXPECT_EQ(s, CUDAGO_SUCCESS) << c.name << ": " << last_error_text();
  return Model(m);
}

// Runs one manifest run on the model and compares every output with onnxruntime's.
void check_run(cudago_nn_model_t m, const nn_test::Case& c, const nn_test::Run& r,
               const std::string& label) {
  std::vector<std::vector<float>> ins, outs(r.outputs.size());
  std::vector<const void*> in_ptrs;
  std::vector<uint64_t> in_bytes, out_bytes;
  std::vector<void*> out_ptrs;
  for (const auto& t : r.inputs) {
    ins.push_back(t.read());
    in_ptrs.push_back(ins.back().data());
    in_bytes.push_back(ins.back().size() * 4);
  }
  for (size_t i = 0; i < r.outputs.size(); ++i) {
    outs[i].assign(static_cast<size_t>(r.outputs[i].numel()), std::nanf(""));
    out_ptrs.push_back(outs[i].data());
    out_bytes.push_back(outs[i].size() * 4);
  }
  // A model with fixed dims runs at batch 1 (its declared shapes); the manifest's first dim is
  // the batch otherwise.
  cudago_nn_model_info_t info;
  cudago_nn_model_info_init(&info);
  ASSERT_EQ(cudago_nn_model_info(m, &info), CUDAGO_SUCCESS);
  uint64_t batch = info.dynamic_batch ? static_cast<uint64_t>(r.batch()) : 1;
  cudago_status_t s =
      cudago_nn_model_run_host(m, in_ptrs.data(), in_bytes.data(), in_ptrs.size(), out_ptrs.data(),
                               out_bytes.data(), out_ptrs.size(), batch);
  ASSERT_EQ(s, CUDAGO_SUCCESS) << label << ": " << last_error_text();
  for (size_t i = 0; i < r.outputs.size(); ++i) {
    std::vector<float> want = r.outputs[i].read();
    nn_test::Compare cmp =
        nn_test::compare(outs[i].data(), want.data(), r.outputs[i].numel(), c.rtol, c.atol);
    EXPECT_TRUE(cmp.ok()) << label << " output '" << r.outputs[i].name << "' element " << cmp.at
                          << ": got " << cmp.got << ", onnxruntime " << cmp.want << " (error "
                          << cmp.worst << "x the bound rtol " << c.rtol << " atol " << c.atol
                          << ")";
  }
}

class GeneratedModels : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = nn_test::models_dir();
    if (!dir_.empty()) cases_ = nn_test::read_cases(dir_);
  }
  static std::string dir_;
  static std::vector<nn_test::Case> cases_;
};
std::string GeneratedModels::dir_;
std::vector<nn_test::Case> GeneratedModels::cases_;

// The models exist: a test of zero models cannot fail, so their absence is a failure.
TEST_F(GeneratedModels, Present) {
  ASSERT_FALSE(dir_.empty()) << "CUDAGO_MODELS_DIR is not set (meson test sets it)";
  ASSERT_GE(cases_.size(), 40u) << "too few generated models in " << dir_;
  std::map<std::string, bool> want = {{"resnet50_pt", false}, {"mobilenetv2_pt", false}};
  for (const auto& c : cases_) {
    if (want.count(c.name)) want[c.name] = true;
    EXPECT_FALSE(c.runs.empty()) << c.name << " has no runs";
  }
  for (const auto& kv : want) EXPECT_TRUE(kv.second) << kv.first << " is missing";
}

TEST_F(GeneratedModels, ReferenceMatchesOnnxruntime) {
  for (const auto& c : cases_) {
    SCOPED_TRACE(c.name);
    Model m = load(c);
    ASSERT_TRUE(m) << c.name;
    for (size_t k = 0; k < c.runs.size(); ++k) {
      check_run(m.get(), c, c.runs[k], c.name + " run " + std::to_string(k));
    }
  }
}

// Without fusion the same results: fusion changes no semantics (the single-op models; the
// networks are covered fused).
TEST_F(GeneratedModels, UnfusedMatchesOnnxruntime) {
  for (const auto& c : cases_) {
    if (c.kind == "net") continue;
    SCOPED_TRACE(c.name);
    Model m = load(c, CUDAGO_NN_NO_FUSION);
    ASSERT_TRUE(m);
    check_run(m.get(), c, c.runs[0], c.name + " unfused");
  }
}

// Inputs and outputs are described as the manifest has them, with the batch marked.
TEST_F(GeneratedModels, Describe) {
  for (const auto& c : cases_) {
    SCOPED_TRACE(c.name);
    Model m = load(c);
    ASSERT_TRUE(m);
    cudago_nn_model_info_t info;
    cudago_nn_model_info_init(&info);
    CG_OK(cudago_nn_model_info(m.get(), &info));
    EXPECT_EQ(info.backend, CUDAGO_NN_BACKEND_REFERENCE);
    EXPECT_EQ(info.precision, CUDAGO_NN_PRECISION_FP32);
    EXPECT_EQ(info.device, -1);
    const nn_test::Run& r = c.runs[0];
    ASSERT_EQ(info.num_inputs, r.inputs.size());
    ASSERT_EQ(info.num_outputs, r.outputs.size());
    EXPECT_GE(info.num_layers, 1u);
    for (size_t i = 0; i < r.inputs.size() + r.outputs.size(); ++i) {
      bool is_in = i < r.inputs.size();
      const nn_test::TensorFile& t = is_in ? r.inputs[i] : r.outputs[i - r.inputs.size()];
      cudago_nn_tensor_info_t ti;
      cudago_nn_tensor_info_init(&ti);
      CG_OK(is_in ? cudago_nn_model_input(m.get(), i, &ti)
                  : cudago_nn_model_output(m.get(), i - r.inputs.size(), &ti));
      EXPECT_EQ(std::string(ti.name), t.name);
      EXPECT_EQ(ti.dtype, CUDAGO_DTYPE_F32);
      ASSERT_EQ(ti.rank, t.dims.size());
      uint64_t per_item = 4;
      for (size_t d = 0; d < t.dims.size(); ++d) {
        if (static_cast<int32_t>(d) == ti.batch_axis) {
          // A multiple of the batch: the manifest's run is at batch r.batch().
          uint64_t per = static_cast<uint64_t>(t.dims[d] / r.batch());
          EXPECT_EQ(static_cast<int64_t>(per) * r.batch(), t.dims[d]) << t.name << " dim " << d;
          EXPECT_EQ(ti.dims[d], per * info.max_batch) << t.name << " dim " << d;
          per_item *= per;
        } else {
          EXPECT_EQ(ti.dims[d], static_cast<uint64_t>(t.dims[d])) << t.name << " dim " << d;
          per_item *= static_cast<uint64_t>(t.dims[d]);
        }
      }
      EXPECT_EQ(ti.bytes_per_item, per_item) << t.name;
      if (info.dynamic_batch && is_in) {
        EXPECT_EQ(ti.batch_axis, 0) << t.name;
      }
    }
    cudago_nn_tensor_info_t ti;
    cudago_nn_tensor_info_init(&ti);
    CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_nn_model_input(m.get(), r.inputs.size(), &ti));
    CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_nn_model_output(m.get(), r.outputs.size(), &ti));
  }
}

// The fused ResNet-50 has one layer per convolution (BN, bias, residual and ReLU folded in),
// plus the pools and the classifier; unfused it has the ONNX graph's nodes.
TEST_F(GeneratedModels, ResNetFusion) {
  for (const auto& c : cases_) {
    if (c.name != "resnet50_pt") continue;
    Model fused = load(c), plain = load(c, CUDAGO_NN_NO_FUSION);
    ASSERT_TRUE(fused && plain);
    cudago_nn_model_info_t a, b;
    cudago_nn_model_info_init(&a);
    cudago_nn_model_info_init(&b);
    CG_OK(cudago_nn_model_info(fused.get(), &a));
    CG_OK(cudago_nn_model_info(plain.get(), &b));
    // 53 convolutions, the max pool, the global pool, a flatten/reshape and the FC.
    EXPECT_LE(a.num_layers, 58u);
    EXPECT_GE(a.num_layers, 55u);
    EXPECT_GT(b.num_layers, 150u);  // + 53 BN, 49 ReLU, 16 Add
    return;
  }
  FAIL() << "resnet50_pt not generated";
}

// Several threads run one model at once and get the same results as one thread.
TEST_F(GeneratedModels, ConcurrentRuns) {
  for (const auto& c : cases_) {
    if (c.name != "mobilenetv2_pt") continue;
    Model m = load(c);
    ASSERT_TRUE(m);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back(
          [&, t] { check_run(m.get(), c, c.runs[0], "thread " + std::to_string(t)); });
    }
    for (auto& t : threads) t.join();
    return;
  }
  FAIL() << "mobilenetv2_pt not generated";
}

// uint8 NHWC images with mean/std give what the float NCHW input normalised by hand gives.
TEST_F(GeneratedModels, Uint8NhwcInput) {
  for (const auto& c : cases_) {
    if (c.name != "mobilenetv2_pt") continue;
    const nn_test::TensorFile& in = c.runs[0].inputs[0];
    ASSERT_EQ(in.dims.size(), 4u);
    int64_t n = in.dims[0], ch = in.dims[1], h = in.dims[2], w = in.dims[3];
    std::mt19937 rng(std::random_device{}());
    std::vector<uint8_t> img(static_cast<size_t>(n * h * w * ch));
    for (auto& v : img) v = static_cast<uint8_t>(rng() & 0xff);
    const float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};
    std::vector<float> x(img.size());
    for (int64_t b = 0; b < n; ++b)
      for (int64_t k = 0; k < ch; ++k)
        for (int64_t i = 0; i < h * w; ++i)
          x[static_cast<size_t>((b * ch + k) * h * w + i)] =
              static_cast<float>(img[static_cast<size_t>((b * h * w + i) * ch + k)]) *
                  ((1.0f / 255.0f) / stdv[k]) -
              mean[k] / stdv[k];

    cudago_nn_options_t o;
    cudago_nn_options_init(&o);
    o.backend = CUDAGO_NN_BACKEND_REFERENCE;
    o.max_batch = static_cast<uint64_t>(c.max_batch);
    o.input_format = CUDAGO_NN_INPUT_UINT8_NHWC;
    for (int k = 0; k < 3; ++k) {
      o.mean[k] = mean[k];
      o.std[k] = stdv[k];
    }
    cudago_nn_model_t raw = nullptr;
    CG_OK(cudago_nn_model_load(&raw, c.model_path().c_str(), &o));
    Model u8(raw);
    Model f32 = load(c);
    cudago_nn_tensor_info_t ti;
    cudago_nn_tensor_info_init(&ti);
    CG_OK(cudago_nn_model_input(u8.get(), 0, &ti));
    EXPECT_EQ(ti.dtype, CUDAGO_DTYPE_U8);
    EXPECT_EQ(ti.dims[1], static_cast<uint64_t>(h));
    EXPECT_EQ(ti.dims[3], static_cast<uint64_t>(ch));
    EXPECT_EQ(ti.bytes_per_item, static_cast<uint64_t>(h * w * ch));

    const nn_test::TensorFile& out = c.runs[0].outputs[0];
    std::vector<float> ya(static_cast<size_t>(out.numel())), yb(ya.size());
    const void* ia = img.data();
    const void* ib = x.data();
    uint64_t na = img.size(), nb = x.size() * 4, no = ya.size() * 4;
    void* oa = ya.data();
    void* ob = yb.data();
    CG_OK(cudago_nn_model_run_host(u8.get(), &ia, &na, 1, &oa, &no, 1, static_cast<uint64_t>(n)));
    CG_OK(cudago_nn_model_run_host(f32.get(), &ib, &nb, 1, &ob, &no, 1, static_cast<uint64_t>(n)));
    nn_test::Compare cmp = nn_test::compare(ya.data(), yb.data(), out.numel(), 1e-5, 1e-5);
    EXPECT_TRUE(cmp.ok()) << "element " << cmp.at << ": uint8 path " << cmp.got << ", float path "
                          << cmp.want;
    return;
  }
  FAIL() << "mobilenetv2_pt not generated";
}

}  // namespace
