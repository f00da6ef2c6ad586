// The GPU plan against onnxruntime's outputs and the reference executor, for every generated model
// in fp32, fp16 and bf16; device-buffer runs on streams (a CUDA graph per batch size), concurrent
// streams, the uint8 NHWC input, the arena against its liveness bound and the tuning cache.
// Skipped without a GPU, failed under CUDAGO_REQUIRE_GPU=1 (the bundle).
#define CUDAGO_EXPERIMENTAL 1
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <utility>

#include "../capi/capi_util.hpp"
#include "cudago.h"
#include "manifest.hpp"

namespace {

struct ModelDel {
  void operator()(cudago_nn_model_s* m) const { cudago_nn_model_destroy(m); }
};
using Model = std::unique_ptr<cudago_nn_model_s, ModelDel>;

const char* precision_name(cudago_nn_precision_t p) {
  return p == CUDAGO_NN_PRECISION_FP16 ? "fp16" : p == CUDAGO_NN_PRECISION_BF16 ? "bf16" : "fp32";
}

Model load_gpu(const nn_test::Case& c, cudago_nn_precision_t prec, const char* cache = nullptr) {
  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.backend = CUDAGO_NN_BACKEND_GPU;
  o.precision = prec;
  o.max_batch = static_cast<uint64_t>(c.max_batch);
  o.cache_dir = cache;
  cudago_nn_model_t m = nullptr;
  cudago_status_t s = cudago_nn_model_load(&m, c.model_path().c_str(), &o);
  EXPECT_EQ(s, CUDAGO_SUCCESS) << c.name << " " << precision_name(prec) << ": "
                               << last_error_text();
  return Model(m);
}

uint64_t batch_of(cudago_nn_model_t m, const nn_test::Run& r) {
  cudago_nn_model_info_t info;
  cudago_nn_model_info_init(&info);
  EXPECT_EQ(cudago_nn_model_info(m, &info), CUDAGO_SUCCESS);
  return info.dynamic_batch ? static_cast<uint64_t>(r.batch()) : 1;
}

std::vector<std::vector<float>> run_host(cudago_nn_model_t m, const nn_test::Run& r,
                                         cudago_status_t* status) {
  std::vector<std::vector<float>> ins, outs(r.outputs.size());
  std::vector<const void*> ip;
  std::vector<void*> op;
  std::vector<uint64_t> ib, ob;
  for (const auto& t : r.inputs) {
    ins.push_back(t.read());
    ip.push_back(ins.back().data());
    ib.push_back(ins.back().size() * 4);
  }
  for (size_t i = 0; i < r.outputs.size(); ++i) {
    outs[i].assign(static_cast<size_t>(r.outputs[i].numel()), std::nanf(""));
    op.push_back(outs[i].data());
    ob.push_back(outs[i].size() * 4);
  }
  *status = cudago_nn_model_run_host(m, ip.data(), ib.data(), ip.size(), op.data(), ob.data(),
                                     op.size(), batch_of(m, r));
  return outs;
}

// Per precision: |got − want| ≤ atol·max(1, max|want|) + rtol·|want|.
struct Bound {
  double rtol, atol;
};
Bound bound_for(cudago_nn_precision_t p, const nn_test::Case& c) {
  bool net = c.kind == "net";
  if (p == CUDAGO_NN_PRECISION_FP32)
    return {std::max(c.rtol * 10, 1e-3), std::max(c.atol * 10, net ? 2e-3 : 1e-4)};
  if (p == CUDAGO_NN_PRECISION_FP16) return {net ? 5e-2 : 1e-2, net ? 5e-2 : 1e-2};
  return {net ? 1.5e-1 : 4e-2, net ? 1.5e-1 : 4e-2};
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, Bound b,
                  const std::string& label) {
  double scale = 1;
  for (float w : want) scale = std::max(scale, static_cast<double>(std::fabs(w)));
  nn_test::Compare cmp = nn_test::compare(
      got.data(), want.data(), static_cast<int64_t>(want.size()), b.rtol, b.atol * scale);
  EXPECT_TRUE(cmp.ok()) << label << ": element " << cmp.at << " got " << cmp.got << ", want "
                        << cmp.want << " (" << cmp.worst << "x the bound)";
}

// Top-1 of each row of a [batch, classes] output agrees, or the two classes are within the
// bound in the reference (a near tie).
void expect_top1(const std::vector<float>& got, const std::vector<float>& want, int64_t rows,
                 Bound b, const std::string& label) {
  int64_t k = static_cast<int64_t>(want.size()) / rows;
  for (int64_t r = 0; r < rows; ++r) {
    auto g =
        std::max_element(got.begin() + r * k, got.begin() + (r + 1) * k) - (got.begin() + r * k);
    auto w =
        std::max_element(want.begin() + r * k, want.begin() + (r + 1) * k) - (want.begin() + r * k);
    if (g == w) continue;
    double gap = want[static_cast<size_t>(r * k + w)] - want[static_cast<size_t>(r * k + g)];
    EXPECT_LE(gap, b.atol * std::fabs(want[static_cast<size_t>(r * k + w)]) + 1e-6)
        << label << " row " << r << ": top-1 " << g << ", reference " << w;
  }
}

class GpuModels : public ::testing::Test {
 protected:
  void SetUp() override {
    NEED_GPU();
    std::string dir = nn_test::models_dir();
    ASSERT_FALSE(dir.empty()) << "CUDAGO_MODELS_DIR is not set";
    cases_ = nn_test::read_cases(dir);
    ASSERT_GE(cases_.size(), 40u);
  }
  const nn_test::Case* find(const std::string& name) {
    for (const auto& c : cases_) {
      if (c.name == name) return &c;
    }
    ADD_FAILURE() << name << " not generated";
    return nullptr;
  }
  std::vector<nn_test::Case> cases_;
};

// CUDAGO_NN_TEST_SHARD=K/N: the *MatchesOnnxruntime tests check only the models whose place in
// the manifest is K modulo N. compute-sanitizer multiplies their time (about 300 s per precision
// on an H100), so bundle/sanitize.sh splits them over N processes; unset, every model.
bool model_shard(size_t* k, size_t* n) {
  *k = 0;
  *n = 1;
  const char* v = std::getenv("CUDAGO_NN_TEST_SHARD");
  if (v == nullptr || *v == '\0') return true;
  char* end = nullptr;
  unsigned long kk = std::strtoul(v, &end, 10);
  if (end == v || *end != '/') return false;
  const char* rest = end + 1;
  unsigned long nn = std::strtoul(rest, &end, 10);
  if (end == rest || *end != '\0' || nn == 0 || nn > 1000 || kk >= nn) return false;
  *k = kk;
  *n = nn;
  return true;
}

void check_all(const std::vector<nn_test::Case>& cases, cudago_nn_precision_t prec) {
  size_t shard = 0, shards = 1;
  ASSERT_TRUE(model_shard(&shard, &shards))
      << "CUDAGO_NN_TEST_SHARD=" << std::getenv("CUDAGO_NN_TEST_SHARD")
      << ": want K/N with 0 <= K < N <= 1000";
  for (size_t idx = 0; idx < cases.size(); ++idx) {
    if (idx % shards != shard) continue;
    const nn_test::Case& c = cases[idx];
    SCOPED_TRACE(c.name);
    Model m = load_gpu(c, prec);
    if (!m) continue;
    cudago_nn_model_info_t info;
    cudago_nn_model_info_init(&info);
    CG_OK(cudago_nn_model_info(m.get(), &info));
    EXPECT_EQ(info.backend, CUDAGO_NN_BACKEND_GPU);
    EXPECT_EQ(info.precision, prec);
    Bound b = bound_for(prec, c);
    for (size_t k = 0; k < c.runs.size(); ++k) {
      const nn_test::Run& r = c.runs[k];
      std::string label = c.name + " " + precision_name(prec) + " run " + std::to_string(k);
      cudago_status_t s;
      auto outs = run_host(m.get(), r, &s);
      ASSERT_EQ(s, CUDAGO_SUCCESS) << label << ": " << last_error_text();
      for (size_t i = 0; i < r.outputs.size(); ++i) {
        std::vector<float> want = r.outputs[i].read();
        expect_close(outs[i], want, b, label + " output " + r.outputs[i].name);
        if (c.kind == "net" && r.outputs[i].dims.size() == 2) {
          expect_top1(outs[i], want, r.outputs[i].dims[0], b, label);
        }
      }
    }
  }
}

// The shard variable's parsing (no GPU needed): a bad value fails the tests rather than run
// every model or none.
TEST(GpuModelsShard, ParsesKOverN) {
  const char* old = std::getenv("CUDAGO_NN_TEST_SHARD");
  const std::string saved = old != nullptr ? old : "";
  size_t k = 9, n = 9;
  struct Case {
    const char* v;
    bool ok;
    size_t k, n;
  };
  for (const Case& c : {Case{"", true, 0, 1}, Case{"0/1", true, 0, 1}, Case{"2/3", true, 2, 3},
                        Case{"3/3", false, 0, 0}, Case{"1/0", false, 0, 0},
                        Case{"x/2", false, 0, 0}, Case{"1/2x", false, 0, 0}, Case{"1", false, 0, 0},
                        Case{"/2", false, 0, 0}, Case{"1/1001", false, 0, 0}}) {
    setenv("CUDAGO_NN_TEST_SHARD", c.v, 1);
    EXPECT_EQ(model_shard(&k, &n), c.ok) << c.v;
    if (c.ok) {
      EXPECT_EQ(k, c.k) << c.v;
      EXPECT_EQ(n, c.n) << c.v;
    }
  }
  unsetenv("CUDAGO_NN_TEST_SHARD");
  EXPECT_TRUE(model_shard(&k, &n));
  EXPECT_EQ(n, 1u);
  if (old != nullptr) setenv("CUDAGO_NN_TEST_SHARD", saved.c_str(), 1);
}

TEST_F(GpuModels, Fp32MatchesOnnxruntime) { check_all(cases_, CUDAGO_NN_PRECISION_FP32); }
TEST_F(GpuModels, Fp16MatchesOnnxruntime) { check_all(cases_, CUDAGO_NN_PRECISION_FP16); }
TEST_F(GpuModels, Bf16MatchesOnnxruntime) { check_all(cases_, CUDAGO_NN_PRECISION_BF16); }

// Device buffers on a stream: batch 1 and the manifest's batch (one graph each), twice each (the
// replay), on two streams from two threads at once; all equal to run_host's result at the same
// batch size (which runs the same algorithms: fp16 results of another batch size's algorithms
// differ in the last bits, by more than this test's bound under compute-sanitizer's timing).
TEST_F(GpuModels, StreamsAndGraphs) {
  const nn_test::Case* c = find("mobilenetv2_pt");
  ASSERT_NE(c, nullptr);
  Model m = load_gpu(*c, CUDAGO_NN_PRECISION_FP16);
  ASSERT_TRUE(m);
  const nn_test::Run& r = c->runs[0];
  cudago_status_t s;
  auto want = run_host(m.get(), r, &s);
  ASSERT_EQ(s, CUDAGO_SUCCESS) << last_error_text();
  std::vector<float> x = r.inputs[0].read();
  int64_t batch = r.batch(), per_in = static_cast<int64_t>(x.size()) / batch,
          per_out = r.outputs[0].numel() / batch;
  std::map<int64_t, std::vector<float>> want_at;  // run_host's output at batch 1 and at batch
  want_at[batch] = want[0];
  {
    std::vector<float> y1(static_cast<size_t>(per_out), std::nanf(""));
    const void* ip = x.data();
    void* op = y1.data();
    uint64_t ib = static_cast<uint64_t>(per_in) * 4, ob = y1.size() * 4;
    CG_OK(cudago_nn_model_run_host(m.get(), &ip, &ib, 1, &op, &ob, 1, 1));
    want_at[1] = y1;
  }

  auto worker = [&](int id, std::string* failure) {
    cudago_stream_t st = nullptr;
    if (cudago_stream_create(&st, 0, 0, 0) != CUDAGO_SUCCESS) {
      *failure = "stream_create: " + last_error_text();
      return;
    }
    Stream stream(st);
    cudago_buffer_t bx = nullptr, by = nullptr;
    // An offset in each buffer, so offsets are exercised.
    uint64_t off = 256;
    cudago_buffer_alloc(&bx, 0, off + x.size() * 4);
    cudago_buffer_alloc(&by, 0, off + static_cast<uint64_t>(r.outputs[0].numel()) * 4);
    Buffer keep_x(bx), keep_y(by);
    if (!bx || !by) {
      *failure = "buffer_alloc: " + last_error_text();
      return;
    }
    for (int round = 0; round < 2; ++round) {
      for (int64_t nb : {int64_t{1}, batch}) {
        std::vector<float> y(static_cast<size_t>(per_out * nb), std::nanf(""));
        if (cudago_copy_h2d(x.data(), bx, off, static_cast<uint64_t>(per_in * nb) * 4) !=
                CUDAGO_SUCCESS ||
            cudago_nn_model_run(m.get(), st, &bx, &off, 1, &by, &off, 1,
                                static_cast<uint64_t>(nb)) != CUDAGO_SUCCESS ||
            cudago_stream_synchronize(st) != CUDAGO_SUCCESS ||
            cudago_copy_d2h(by, off, y.data(), y.size() * 4) != CUDAGO_SUCCESS) {
          *failure = "thread " + std::to_string(id) + ": " + last_error_text();
          return;
        }
        const std::vector<float>& w = std::as_const(want_at).at(nb);
        for (size_t i = 0; i < y.size(); ++i) {
          if (!(std::fabs(y[i] - w[i]) <= 1e-3 * (1 + std::fabs(w[i])))) {
            *failure = "thread " + std::to_string(id) + " batch " + std::to_string(nb) +
                       " element " + std::to_string(i) + ": " + std::to_string(y[i]) + " vs " +
                       std::to_string(w[i]);
            return;
          }
        }
      }
    }
  };
  std::string f1, f2;
  std::thread t1(worker, 1, &f1), t2(worker, 2, &f2);
  t1.join();
  t2.join();
  EXPECT_EQ(f1, "");
  EXPECT_EQ(f2, "");
}

uint64_t graphs_of(cudago_nn_model_t m, double* capture_seconds = nullptr) {
  cudago_nn_model_info_t info;
  cudago_nn_model_info_init(&info);
  EXPECT_EQ(cudago_nn_model_info(m, &info), CUDAGO_SUCCESS) << last_error_text();
  if (capture_seconds) *capture_seconds = info.capture_seconds;
  return info.graphs;
}

// Graphs captured ahead (cudago_nn_model_prepare) for run_host's context and a stream's: later
// runs at those sizes capture nothing more and give run_host's results; another size is captured
// at its first run; bad arguments capture nothing.
TEST_F(GpuModels, PrepareAhead) {
  const nn_test::Case* c = find("mobilenetv2_pt");
  ASSERT_NE(c, nullptr);
  Model m = load_gpu(*c, CUDAGO_NN_PRECISION_FP16);
  ASSERT_TRUE(m);
  EXPECT_EQ(graphs_of(m.get()), 0u) << "tuning's graphs are not the model's";
  const nn_test::Run& r = c->runs[0];
  const uint64_t batch = static_cast<uint64_t>(r.batch());
  ASSERT_GE(batch, 2u);
  const uint64_t host_sizes[] = {1, batch};
  CG_OK(cudago_nn_model_prepare(m.get(), nullptr, host_sizes, 2));
  double secs = 0;
  EXPECT_EQ(graphs_of(m.get(), &secs), 2u);
  EXPECT_GT(secs, 0.0);
  cudago_status_t s;
  auto want = run_host(m.get(), r, &s);  // at batch: prepared, nothing captured
  ASSERT_EQ(s, CUDAGO_SUCCESS) << last_error_text();
  EXPECT_EQ(graphs_of(m.get()), 2u);

  cudago_stream_t st = nullptr;
  CG_OK(cudago_stream_create(&st, 0, 0, 0));
  Stream stream(st);
  const uint64_t sizes[] = {batch, 1, batch};  // a repeat captures once
  CG_OK(cudago_nn_model_prepare(m.get(), st, sizes, 3));
  EXPECT_EQ(graphs_of(m.get()), 4u);
  CG_OK(cudago_nn_model_prepare(m.get(), st, sizes, 3));
  EXPECT_EQ(graphs_of(m.get()), 4u);
  CG_OK(cudago_nn_model_prepare(m.get(), st, nullptr, 0));

  std::vector<float> x = r.inputs[0].read();
  const uint64_t in_bytes = x.size() * 4,
                 out_bytes = static_cast<uint64_t>(r.outputs[0].numel()) * 4;
  // A size prepared nowhere: the first of 2, 3, ... that is not batch.
  const uint64_t other = batch == 2 ? 3 : 2;
  ASSERT_LE(other, static_cast<uint64_t>(c->max_batch));
  const uint64_t most = std::max(batch, other);
  cudago_buffer_t bx = nullptr, by = nullptr;
  CG_OK(cudago_buffer_alloc(&bx, 0, in_bytes / batch * most));
  Buffer kx(bx);
  CG_OK(cudago_buffer_alloc(&by, 0, out_bytes / batch * most));
  Buffer ky(by);
  CG_OK(cudago_memset(0, bx, 0, in_bytes / batch * most));
  CG_OK(cudago_copy_h2d(x.data(), bx, 0, in_bytes));
  uint64_t zero = 0;
  CG_OK(cudago_nn_model_run(m.get(), st, &bx, &zero, 1, &by, &zero, 1, batch));
  CG_OK(cudago_stream_synchronize(st));
  EXPECT_EQ(graphs_of(m.get()), 4u) << "a prepared size was captured again";
  std::vector<float> y(out_bytes / 4);
  CG_OK(cudago_copy_d2h(by, 0, y.data(), out_bytes));
  for (size_t i = 0; i < y.size(); ++i) {
    ASSERT_LE(std::fabs(y[i] - want[0][i]), 1e-3 * (1 + std::fabs(want[0][i]))) << i;
  }
  // A size not prepared: captured at its first run.
  CG_OK(cudago_nn_model_run(m.get(), st, &bx, &zero, 1, &by, &zero, 1, other));
  CG_OK(cudago_stream_synchronize(st));
  EXPECT_EQ(graphs_of(m.get()), 5u);

  // Bad arguments: refused before anything is captured.
  const uint64_t zero_size[] = {1, 0}, past[] = {static_cast<uint64_t>(c->max_batch) + 1},
                 huge[] = {UINT64_MAX};
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_prepare(m.get(), st, zero_size, 2));
  EXPECT_NE(last_error_text().find("batch_sizes[1]"), std::string::npos) << last_error_text();
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_prepare(m.get(), st, past, 1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_prepare(m.get(), st, huge, 1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nn_model_prepare(m.get(), st, nullptr, 1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_prepare(m.get(), st, sizes, (uint64_t{1} << 20) + 1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_nn_model_prepare(nullptr, st, sizes, 1));
  EXPECT_EQ(graphs_of(m.get()), 5u);
}

TEST_F(GpuModels, RunArguments) {
  const nn_test::Case* c = find("conv_k3_d2_p2_c13_13x11");
  ASSERT_NE(c, nullptr);
  Model m = load_gpu(*c, CUDAGO_NN_PRECISION_FP16);
  ASSERT_TRUE(m);
  cudago_stream_t st = nullptr;
  CG_OK(cudago_stream_create(&st, 0, 0, 0));
  Stream stream(st);
  cudago_nn_tensor_info_t ti, to;
  cudago_nn_tensor_info_init(&ti);
  cudago_nn_tensor_info_init(&to);
  CG_OK(cudago_nn_model_input(m.get(), 0, &ti));
  CG_OK(cudago_nn_model_output(m.get(), 0, &to));
  cudago_buffer_t bx = nullptr, by = nullptr;
  CG_OK(cudago_buffer_alloc(&bx, 0, ti.bytes_per_item));
  CG_OK(cudago_buffer_alloc(&by, 0, to.bytes_per_item));
  Buffer kx(bx), ky(by);
  CG_OK(cudago_memset(0, bx, 0, ti.bytes_per_item));
  uint64_t zero = 0, two = 2, four = 4;
  CG_OK(cudago_nn_model_run(m.get(), st, &bx, &zero, 1, &by, &zero, 1, 1));
  CG_OK(cudago_stream_synchronize(st));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_nn_model_run(m.get(), st, &bx, &zero, 1, &by, &zero, 1, 2));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_nn_model_run(m.get(), st, &bx, &four, 1, &by, &zero, 1, 1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run(m.get(), st, &bx, &two, 1, &by, &zero, 1, 1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_nn_model_run(m.get(), st, &bx, &zero, 0, &by, &zero, 1, 1));
}

// uint8 NHWC images give what the float path gives with the same normalisation.
TEST_F(GpuModels, Uint8Input) {
  const nn_test::Case* c = find("resnet50_pt");
  ASSERT_NE(c, nullptr);
  const nn_test::TensorFile& in = c->runs[0].inputs[0];
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
  o.backend = CUDAGO_NN_BACKEND_GPU;
  o.max_batch = static_cast<uint64_t>(c->max_batch);
  o.input_format = CUDAGO_NN_INPUT_UINT8_NHWC;
  for (int k = 0; k < 3; ++k) {
    o.mean[k] = mean[k];
    o.std[k] = stdv[k];
  }
  cudago_nn_model_t raw = nullptr;
  CG_OK(cudago_nn_model_load(&raw, c->model_path().c_str(), &o));
  Model u8(raw);
  Model f16 = load_gpu(*c, CUDAGO_NN_PRECISION_FP16);
  ASSERT_TRUE(f16);
  std::vector<float> ya(static_cast<size_t>(c->runs[0].outputs[0].numel())), yb(ya.size());
  const void* ia = img.data();
  const void* ib = x.data();
  uint64_t na = img.size(), nb = x.size() * 4, no = ya.size() * 4;
  void* oa = ya.data();
  void* ob = yb.data();
  CG_OK(cudago_nn_model_run_host(u8.get(), &ia, &na, 1, &oa, &no, 1, static_cast<uint64_t>(n)));
  CG_OK(cudago_nn_model_run_host(f16.get(), &ib, &nb, 1, &ob, &no, 1, static_cast<uint64_t>(n)));
  expect_close(ya, yb, {2e-2, 2e-2}, "uint8 vs float input");
}

// The activation arena of ResNet-50 is within 1.2x the liveness bound; weights in fp16 take about
// half of fp32's.
TEST_F(GpuModels, ArenaAndWeights) {
  const nn_test::Case* c = find("resnet50_pt");
  ASSERT_NE(c, nullptr);
  Model a = load_gpu(*c, CUDAGO_NN_PRECISION_FP16), b = load_gpu(*c, CUDAGO_NN_PRECISION_FP32);
  ASSERT_TRUE(a && b);
  cudago_nn_model_info_t ia, ib;
  cudago_nn_model_info_init(&ia);
  cudago_nn_model_info_init(&ib);
  CG_OK(cudago_nn_model_info(a.get(), &ia));
  CG_OK(cudago_nn_model_info(b.get(), &ib));
  EXPECT_GT(ia.arena_lower_bound, 0u);
  EXPECT_GE(ia.arena_bytes, ia.arena_lower_bound);
  EXPECT_LE(static_cast<double>(ia.arena_bytes), 1.2 * static_cast<double>(ia.arena_lower_bound));
  EXPECT_NEAR(static_cast<double>(ia.weight_bytes) / static_cast<double>(ib.weight_bytes), 0.5,
              0.05);
  std::printf(
      "resnet50_pt fp16: arena %.1f MiB (bound %.1f MiB), weights %.1f MiB, parse %.3f s, "
      "lower %.3f s, plan %.3f s, tune %.3f s\n",
      ia.arena_bytes / 1048576.0, ia.arena_lower_bound / 1048576.0, ia.weight_bytes / 1048576.0,
      ia.parse_seconds, ia.lower_seconds, ia.plan_seconds, ia.tune_seconds);
}

// The tuning cache: the first load writes one line per timed choice; a second load reads them
// all and writes nothing.
TEST_F(GpuModels, TuningCache) {
  const nn_test::Case* c = find("squeezenet_pt");
  ASSERT_NE(c, nullptr);
  char tmpl[] = "/tmp/cudago-tune-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  { Model m = load_gpu(*c, CUDAGO_NN_PRECISION_FP16, dir.c_str()); }
  std::string file;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') file = dir + "/" + e->d_name;
    }
    closedir(d);
  }
  ASSERT_FALSE(file.empty()) << "no cache file in " << dir;
  auto lines = [&] {
    std::ifstream in(file);
    return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
  };
  auto first = lines();
  EXPECT_GT(first, 0);
  { Model m = load_gpu(*c, CUDAGO_NN_PRECISION_FP16, dir.c_str()); }
  EXPECT_EQ(lines(), first);
  std::remove(file.c_str());
  rmdir(dir.c_str());
}

}  // namespace
