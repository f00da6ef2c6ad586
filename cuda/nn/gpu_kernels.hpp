// The GPU plan's own kernels (everything but convolutions and GEMMs): input and output
// conversion, epilogues, pooling, per-channel affine, broadcasting binary ops, softmax and the
// index-mapping copies (reshape across layouts, transpose, concat, pad). Element types are the
// plan's precision (fp16, bf16 or fp32); arithmetic is fp32.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#ifdef __CUDACC__
#define CUDAGO_NN_HD __host__ __device__
#else
#define CUDAGO_NN_HD
#endif

namespace cudago::nn::gpu {

enum class DType : int32_t { kF16 = 0, kBF16 = 1, kF32 = 2, kU8 = 3 };
inline int dtype_bytes(DType t) { return t == DType::kF32 ? 4 : t == DType::kU8 ? 1 : 2; }

enum class Act : int32_t { kNone = 0, kRelu = 1, kClip = 2, kSigmoid = 3 };
struct ActParams {
  Act kind = Act::kNone;
  float lo = 0, hi = 0;
};

constexpr int kMaxRank = 6;

// A tensor's logical shape (the model's NCHW order) and the strides, in elements, of its
// physical layout (NHWC for 4-D activations, row-major otherwise).
struct Geom {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};
  CUDAGO_NN_HD int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
};

// y[i] = act(y[i] + bias[c] + residual[i]), c = i mod channels (channels innermost: NHWC or a
// GEMM's [rows, M]); bias (fp32) and residual may be null.
void epilogue(cudaStream_t s, DType t, void* y, int64_t n, int64_t channels, const float* bias,
              const void* residual, ActParams act);

// y = act(x · scale[c] + shift[c] + residual), c = (i / inner) mod channels; scale/shift fp32
// with `channels` entries, or 1 for all.
void affine(cudaStream_t s, DType t, const void* x, void* y, int64_t n, int64_t channels,
            int64_t inner, const float* scale, const float* shift, bool per_channel,
            const void* residual, ActParams act);

void activation(cudaStream_t s, DType t, const void* x, void* y, int64_t n, ActParams act);

struct PoolParams {
  int64_t n, c, h, w, ho, wo;  // NHWC input n×h×w×c, output n×ho×wo×c
  int64_t kernel[2], stride[2], dilation[2], pad[4];
  bool max_pool, global, count_include_pad;
};
void pool(cudaStream_t s, DType t, const void* x, void* y, const PoolParams& p);

// out = a op b with broadcasting over the output's logical coordinates; a and b geometries are
// right-aligned to out's rank with stride 0 on broadcast axes. op: 0 add, 1 sub, 2 mul, 3 div.
void binary(cudaStream_t s, DType t, const void* a, const Geom& ga, const void* b, const Geom& gb,
            void* out, const Geom& go, int op, ActParams act);

// Softmax over one logical axis (len elements `stride` apart), `rows` rows whose first elements
// are at offsets given by the geometry of the other axes (outer geometry, len and stride).
void softmax(cudaStream_t s, DType t, const void* x, void* y, const Geom& rows, int64_t len,
             int64_t stride);

// Index-mapping copies between any two geometries and element types (fp32 ↔ the plan's type):
enum class MapMode : int32_t {
  kReshape = 0,    // same logical elements in row-major order, other shapes
  kTranspose = 1,  // out coordinate k = in coordinate perm[k]
  kPad = 2,        // out = in shifted by pads (constant value, reflect or edge)
  kScatter = 3,    // iterate the input; write at out coordinate + offset on `axis` (Concat)
};
struct MapParams {
  MapMode mode = MapMode::kReshape;
  int64_t perm[kMaxRank] = {};
  int64_t pad_begin[kMaxRank] = {};
  int pad_mode = 0;  // 0 constant, 1 reflect, 2 edge
  float pad_value = 0;
  int axis = 0;
  int64_t offset = 0;
};
void map(cudaStream_t s, DType tin, const void* in, const Geom& gin, DType tout, void* out,
         const Geom& gout, const MapParams& p);

// Model inputs: fp32 NCHW (row-major) → the plan's NHWC with `cp` ≥ c physical channels (the
// extra ones zero); uint8 NHWC → the same, with x = v·scale[c] − shift[c].
void input_nchw(cudaStream_t s, DType t, const float* x, void* y, int64_t n, int64_t c, int64_t h,
                int64_t w, int64_t cp);
void input_u8_nhwc(cudaStream_t s, DType t, const uint8_t* x, void* y, int64_t n, int64_t c,
                   int64_t h, int64_t w, int64_t cp, const float* scale, const float* shift);

// Element type conversion of n contiguous elements (weights: fp32 → the plan's type).
void convert(cudaStream_t s, DType tin, const void* in, DType tout, void* out, int64_t n);

}  // namespace cudago::nn::gpu
