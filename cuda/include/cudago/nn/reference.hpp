// The CPU reference executor: every layer of a Program in plain fp32 C++ on NCHW tensors (im2col
// and a blocked, multithreaded GEMM for convolutions). It is the oracle of the GPU tests and
// runs models on machines without a GPU. The kernels are also used to fold constants at load.
#pragma once

#include <cstdint>
#include <vector>

#include "cudago/nn/program.hpp"

namespace cudago::nn {

namespace ref {

using Dims = std::vector<int64_t>;

int64_t numel(const Dims& d);
// Numpy broadcasting of two shapes (throws Error(kInvalidModel) naming `what` when they do not
// broadcast).
Dims broadcast(const Dims& a, const Dims& b, const char* what);
void binary(const float* a, const Dims& ad, const float* b, const Dims& bd, float* out,
            const Dims& od, BinaryOp op);
void activation(float* x, int64_t n, const Activation& act);
void transpose(const float* x, const Dims& xd, const std::vector<int64_t>& perm, float* y);
// y = x · wᵀ (+ bias) (+ residual), x [rows, k], w [m, k]; activation applied after.
void gemm_layer(const float* x, int64_t rows, const Layer& l, const float* residual, float* y);
// C[m × n] = A[m × k] · B[k × n] (+ C when accumulate), row-major, threaded.
void gemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
          bool accumulate, bool threaded = true);

}  // namespace ref

class ReferenceExecutor {
 public:
  // Keeps a reference to the program, which must outlive the executor.
  explicit ReferenceExecutor(const Program& p);

  // Runs the program at batch n on host float32 tensors of the shapes shape_at(n): one pointer
  // per program input and output. Safe to call from several threads at once.
  void run(int64_t n, const std::vector<const float*>& inputs,
           const std::vector<float*>& outputs) const;

  // The host memory one run at batch n allocates at its peak (activations between layers and the
  // im2col scratch; not the caller's inputs and outputs).
  int64_t peak_bytes(int64_t n) const;

 private:
  const Program& p_;
  std::vector<int> last_use_;  // per tensor: the last layer reading it
};

}  // namespace cudago::nn
