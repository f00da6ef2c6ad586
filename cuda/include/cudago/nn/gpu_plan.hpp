// The GPU executor of a Program: activations in NHWC at fp16, bf16 or fp32 (fp32 accumulation),
// convolutions through cuDNN (the algorithm of each chosen by timing at load, cached on disk),
// GEMMs through cuBLAS, everything else in cudago's kernels (gpu_kernels.hpp); all activations in
// one arena sized by liveness; a CUDA graph per batch size and execution context, captured on the
// first run of that size or ahead of it (prepare).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cudago/nn/program.hpp"
#include "cudago/stream.hpp"

namespace cudago::nn {

struct GpuOptions {
  int device = 0;
  int precision = 0;  // gpu::DType: 0 fp16, 1 bf16, 2 fp32
  bool uint8_input = false;
  std::array<float, 4> input_scale{1, 1, 1, 1};  // uint8 input: x = v·scale[c] − shift[c]
  std::array<float, 4> input_shift{0, 0, 0, 0};
  std::string cache_dir;  // the tuning cache; empty: none
};

struct GpuPlanStats {
  int64_t weight_bytes = 0, arena_bytes = 0, arena_lower_bound = 0, workspace_bytes = 0;
  double plan_seconds = 0, tune_seconds = 0;
  int64_t tuned = 0, tune_cache_hits = 0;  // convolution choices timed now / read from the cache
};

class GpuPlan {
 public:
  // Uploads the weights, plans the arena, loads cuDNN when the program has convolutions and
  // chooses their algorithms. Throws Error: kNotSupported for a program the GPU plan cannot run
  // (naming the layer), kCudnn where cuDNN is missing, kOutOfMemory.
  static std::unique_ptr<GpuPlan> build(const Program& p, const GpuOptions& o);
  ~GpuPlan();
  GpuPlan(const GpuPlan&) = delete;
  GpuPlan& operator=(const GpuPlan&) = delete;

  const GpuPlanStats& stats() const;

  // Queues a run at batch n on `stream` (of the plan's device): device pointers to the inputs as
  // the model takes them (fp32 NCHW, or uint8 NHWC) and to fp32 outputs, sizes checked by the
  // caller. Several streams may run at once (each gets its own arena); runs on one stream are
  // serialised.
  void run(const StreamPtr& stream, int64_t n, const std::vector<const void*>& in,
           const std::vector<void*>& out) const;

  // Captures the graphs of the given batch sizes (each 1..max batch, checked by the caller) for
  // runs on `stream` (null: run_host's), so the first run at each of them costs one launch:
  // creates the stream's execution context (its arena) where it has none. Returns when done;
  // safe beside runs on other streams (a run on `stream` itself waits for it).
  void prepare(const StreamPtr& stream, const std::vector<int64_t>& sizes) const;

  // CUDA graphs captured so far (every context, every batch size) and the time spent capturing
  // and instantiating them.
  int64_t graphs_captured() const;
  double capture_seconds() const;

  // Synchronous run on host memory: staged through device buffers on a stream of the plan's.
  void run_host(int64_t n, const std::vector<const void*>& in, const std::vector<int64_t>& in_bytes,
                const std::vector<void*>& out, const std::vector<int64_t>& out_bytes) const;

  struct Impl;

 private:
  explicit GpuPlan(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cudago::nn
