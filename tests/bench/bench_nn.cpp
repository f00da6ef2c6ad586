// The CNN runtime's benchmark (not a test): a model (ResNet-50 v1.5 by default, as
// scripts/gen-models.py writes it) in fp16, bf16 and fp32 at batch 1, 8, 32, 128 and 256:
// images per second, latency per batch, GPU memory and load/plan/tune time, one JSON object per
// line, over the C ABI with device buffers on one stream (the run as a server would queue it:
// input conversion, the CUDA graph, output conversion).
//
//   bench_nn MODEL.onnx [PRECISIONS] [BATCHES]     e.g. bench_nn resnet50_pt.onnx fp16,bf16 1,256
//
// A precision with the suffix "u8" (fp16u8) takes the images as uint8 NHWC (the runtime's fused
// normalisation kernel in place of the float input's layout conversion).
//
// Timing: events around `reps` back-to-back runs after warm-up (which includes the first run of
// each batch size: its graph capture); the median of 5 such rounds.
#define CUDAGO_EXPERIMENTAL 1
#define BENCH_NAME "bench_nn"
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "cudago.h"

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> r;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) r.push_back(item);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_nn MODEL.onnx [fp16,bf16,fp32] [1,8,32,128,256]\n");
    return 2;
  }
  std::string model = argv[1];
  std::vector<std::string> precisions = split(argc > 2 ? argv[2] : "fp16,bf16,fp32");
  std::vector<uint64_t> batches;
  for (const auto& b : split(argc > 3 ? argv[3] : "1,8,32,128,256"))
    batches.push_back(std::stoull(b));
  uint64_t max_batch = *std::max_element(batches.begin(), batches.end());

  int32_t count = 0;
  CG(cudago_device_count(&count));
  if (count == 0) {
    std::printf("{\"skip\": \"no CUDA device: %s\"}\n", cudago_no_device_reason());
    const char* req = std::getenv("CUDAGO_REQUIRE_GPU");
    return req && std::strcmp(req, "1") == 0 ? 1 : 0;
  }
  cudago_device_properties_t props;
  cudago_device_properties_init(&props);
  CG(cudago_device_properties(0, &props));
  std::printf("{\"device\": \"%s\", \"cudago\": \"%s\", \"model\": \"%s\"}\n", props.name,
              cudago_version_string(), model.c_str());
  std::fflush(stdout);

  const char* cache = std::getenv("CUDAGO_NN_CACHE_DIR");
  std::string op_base = model.substr(model.rfind('/') + 1);
  op_base = op_base.substr(0, op_base.find('.'));
  for (const std::string& prec : precisions) {
    cudago_nn_options_t o;
    cudago_nn_options_init(&o);
    o.backend = CUDAGO_NN_BACKEND_GPU;
    const bool u8 = prec.size() > 2 && prec.compare(prec.size() - 2, 2, "u8") == 0;
    const std::string p = u8 ? prec.substr(0, prec.size() - 2) : prec;
    if (p != "fp16" && p != "bf16" && p != "fp32") {
      std::fprintf(stderr, "bench_nn: precision %s: want fp16, bf16 or fp32 (u8 suffix optional)\n",
                   prec.c_str());
      return 2;
    }
    o.precision = p == "fp16"   ? CUDAGO_NN_PRECISION_FP16
                  : p == "bf16" ? CUDAGO_NN_PRECISION_BF16
                                : CUDAGO_NN_PRECISION_FP32;
    if (u8) o.input_format = CUDAGO_NN_INPUT_UINT8_NHWC;
    o.max_batch = max_batch;
    o.cache_dir = cache;
    // The pool keeps freed memory (release threshold UINT64_MAX): without the trim, a precision
    // after the first reuses the memory the one before freed, and its "gpu_mem_bytes" counts only
    // the growth (on an H100, 2026-12-06: bf16 132 MiB after fp16's 2,202, with an 882 MiB
    // arena). The device synchronise lets the stream-ordered frees of the last model complete.
    if (const cudaError_t e = cudaDeviceSynchronize(); e != cudaSuccess) {
      std::fprintf(stderr, "bench_nn: cudaDeviceSynchronize: %s\n", cudaGetErrorString(e));
      return 1;
    }
    CG(cudago_pool_trim(0, 0));
    uint64_t free0 = 0, total = 0, free1 = 0;
    CG(cudago_device_memory_info(0, &free0, &total));
    cudago_nn_model_t m = nullptr;
    CG(cudago_nn_model_load(&m, model.c_str(), &o));
    cudago_nn_model_info_t info;
    cudago_nn_model_info_init(&info);
    CG(cudago_nn_model_info(m, &info));
    cudago_nn_tensor_info_t ti, to;
    cudago_nn_tensor_info_init(&ti);
    cudago_nn_tensor_info_init(&to);
    CG(cudago_nn_model_input(m, 0, &ti));
    CG(cudago_nn_model_output(m, 0, &to));
    cudago_stream_t s = nullptr;
    CG(cudago_stream_create(&s, 0, 1, 0));
    cudago_buffer_t x = nullptr, y = nullptr;
    CG(cudago_buffer_alloc(&x, 0, ti.bytes_per_item * max_batch));
    CG(cudago_buffer_alloc(&y, 0, to.bytes_per_item * max_batch));
    CG(cudago_memset(0, x, 0, ti.bytes_per_item * max_batch));
    cudago_event_t e0 = nullptr, e1 = nullptr;
    CG(cudago_event_create(&e0, 0, 0));
    CG(cudago_event_create(&e1, 0, 0));
    uint64_t zero = 0;
    for (uint64_t b : batches) {
      for (int w = 0; w < 3; ++w) CG(cudago_nn_model_run(m, s, &x, &zero, 1, &y, &zero, 1, b));
      CG(cudago_stream_synchronize(s));
      int reps = b <= 8 ? 50 : b <= 32 ? 20 : 5;
      std::vector<float> ms;
      for (int round = 0; round < 5; ++round) {
        CG(cudago_event_record(e0, s));
        for (int r = 0; r < reps; ++r) CG(cudago_nn_model_run(m, s, &x, &zero, 1, &y, &zero, 1, b));
        CG(cudago_event_record(e1, s));
        CG(cudago_stream_synchronize(s));
        float t = 0;
        CG(cudago_event_elapsed_ms(e0, e1, &t));
        ms.push_back(t / static_cast<float>(reps));
      }
      std::sort(ms.begin(), ms.end());
      float med = ms[ms.size() / 2];
      CG(cudago_device_memory_info(0, &free1, &total));
      std::printf(
          "{\"op\": \"%s_%s\", \"impl\": \"cudago\", \"params\": {\"batch\": %llu}, \"ms\": %.4f, "
          "\"img_per_s\": %.0f, \"gpu_mem_bytes\": %llu, \"arena_bytes\": %llu, "
          "\"arena_lower_bound\": %llu, \"weight_bytes\": %llu, \"layers\": %llu, "
          "\"parse_s\": %.3f, \"lower_s\": %.3f, \"plan_s\": %.3f, \"tune_s\": %.3f}\n",
          op_base.c_str(), prec.c_str(), static_cast<unsigned long long>(b), med,
          static_cast<double>(b) / med * 1e3, static_cast<unsigned long long>(free0 - free1),
          static_cast<unsigned long long>(info.arena_bytes),
          static_cast<unsigned long long>(info.arena_lower_bound),
          static_cast<unsigned long long>(info.weight_bytes),
          static_cast<unsigned long long>(info.num_layers), info.parse_seconds, info.lower_seconds,
          info.plan_seconds, info.tune_seconds);
      std::fflush(stdout);
    }
    cudago_event_destroy(e0);
    cudago_event_destroy(e1);
    cudago_buffer_free(x);
    cudago_buffer_free(y);
    CG(cudago_stream_synchronize(s));
    cudago_stream_destroy(s);
    cudago_nn_model_destroy(m);
  }
  return 0;
}
