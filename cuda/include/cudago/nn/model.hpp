// A loaded model: the ONNX file lowered to a Program, and the executor that runs it (the CPU
// reference executor, or the GPU plan). What the C ABI's cudago_nn_* entry points hold.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cudago/nn/gpu_plan.hpp"
#include "cudago/nn/program.hpp"
#include "cudago/nn/reference.hpp"
#include "cudago/stream.hpp"

namespace cudago::nn {

enum class Backend : int32_t { kAuto = 0, kGpu = 1, kReference = 2 };
enum class Precision : int32_t { kDefault = 0, kFp16 = 1, kBf16 = 2, kFp32 = 3 };
enum class InputFormat : int32_t { kAsDeclared = 0, kUint8Nhwc = 1 };

struct ModelOptions {
  int32_t device = 0;
  Backend backend = Backend::kAuto;
  Precision precision = Precision::kDefault;
  int64_t max_batch = 0;  // 0: 1, or the model's fixed batch
  std::string cache_dir;  // tuning cache; empty: none
  std::string base_dir;   // external data of a model loaded from bytes
  InputFormat input_format = InputFormat::kAsDeclared;
  // uint8 NHWC inputs: x = (v · input_scale − mean[c]) / std[c], per channel (c < 4).
  float input_scale = 1.0f / 255.0f;
  std::array<float, 4> mean{0, 0, 0, 0};
  std::array<float, 4> std{1, 1, 1, 1};
  bool fuse = true;
};

enum class ElemType : int32_t { kF32 = 0, kU8 = 1 };

struct TensorDesc {
  std::string name;
  ElemType type = ElemType::kF32;
  std::vector<int64_t> dims;  // at max batch
  int batch_axis = -1;        // the dimension that grows with the batch, -1 for none
  int64_t batch_mul = 0;      // that dimension is batch_mul · n at batch n
  // Bytes at batch n.
  int64_t bytes_at(int64_t n) const;
};

struct ModelStats {
  double parse_seconds = 0, lower_seconds = 0, plan_seconds = 0, tune_seconds = 0;
  int64_t weight_bytes = 0;
  // The GPU plan's activation arena and its liveness bound; for the reference executor, the
  // peak host memory of a run at max batch (bound 0).
  int64_t arena_bytes = 0, arena_lower_bound = 0;
  int64_t layers = 0;
  int64_t workspace_bytes = 0;  // GPU plan: cuDNN's, per execution context
};

class Model {
 public:
  static std::unique_ptr<Model> load_file(const std::string& path, const ModelOptions& opts);
  static std::unique_ptr<Model> load_bytes(const void* data, size_t size, const ModelOptions& opts);

  Backend backend() const { return backend_; }
  Precision precision() const { return precision_; }
  int32_t device() const { return opts_.device; }
  int64_t max_batch() const { return program_.max_batch; }
  bool dynamic_batch() const { return program_.dynamic_batch; }
  const std::vector<TensorDesc>& inputs() const { return inputs_; }
  const std::vector<TensorDesc>& outputs() const { return outputs_; }
  const ModelStats& stats() const { return stats_; }
  const Program& program() const { return program_; }

  // Runs at batch n on host memory, synchronously: one pointer and byte size per input and
  // output, each exactly inputs()[i].bytes_at(n). The reference backend computes in place; the
  // GPU backend stages through pinned buffers. Safe from several threads at once.
  void run_host(int64_t n, const std::vector<const void*>& in,
                const std::vector<uint64_t>& in_bytes, const std::vector<void*>& out,
                const std::vector<uint64_t>& out_bytes) const;

  // Queues a run on a stream of the model's device with device pointers (sizes checked by the
  // caller). kNotSupported for a model on the reference executor.
  void run(const StreamPtr& stream, int64_t n, const std::vector<const void*>& in,
           const std::vector<void*>& out) const;

  // Captures the GPU plan's graphs for the given batch sizes on `stream` (null: run_host's) now,
  // so that the first run at each of them costs one launch; every size is checked first. The
  // reference executor has nothing to prepare (the sizes are checked all the same).
  void prepare(const StreamPtr& stream, const std::vector<int64_t>& sizes) const;

  // CUDA graphs captured so far and the seconds spent capturing them (0 on the reference).
  int64_t graphs_captured() const { return gpu_ ? gpu_->graphs_captured() : 0; }
  double capture_seconds() const { return gpu_ ? gpu_->capture_seconds() : 0; }

  // Checks a batch size against the model (1..max_batch; exactly 1 for a fixed-batch model).
  void check_batch(int64_t n) const;

  // Host memory a reference run at batch n allocates at its peak.
  int64_t host_bytes(int64_t n) const;

  // The same model planned on another device (a GPU model only; kNotSupported otherwise): the
  // lowered program is reused, the weights are uploaded and the convolutions tuned there.
  std::unique_ptr<Model> replicate(int32_t device) const;

 private:
  Model() = default;
  void init(Graph&& g, const ModelOptions& opts, double parse_seconds);
  void build_gpu();

  ModelOptions opts_;
  Backend backend_ = Backend::kReference;
  Precision precision_ = Precision::kFp32;
  Program program_;
  std::vector<TensorDesc> inputs_, outputs_;
  ModelStats stats_;
  std::unique_ptr<ReferenceExecutor> reference_;
  std::unique_ptr<GpuPlan> gpu_;
};

// Converts a uint8 NHWC image batch to float NCHW with the options' normalisation.
void uint8_nhwc_to_nchw(const uint8_t* src, int64_t n, int64_t h, int64_t w, int64_t c,
                        const ModelOptions& opts, float* dst);

}  // namespace cudago::nn
