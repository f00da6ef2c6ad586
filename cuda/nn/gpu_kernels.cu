// The GPU plan's kernels (see gpu_kernels.hpp). Memory-bound elementwise work: one thread per
// output element in grid-stride loops, fp32 arithmetic, loads and stores in the plan's type.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

#include "cudago/error.hpp"
#include "gpu_kernels.hpp"

namespace cudago::nn::gpu {
namespace {

constexpr int kThreads = 256;

template <class T>
struct Cv;
template <>
struct Cv<float> {
  static __device__ __forceinline__ float load(float v) { return v; }
  static __device__ __forceinline__ float store(float v) { return v; }
};
template <>
struct Cv<__half> {
  static __device__ __forceinline__ float load(__half v) { return __half2float(v); }
  static __device__ __forceinline__ __half store(float v) { return __float2half_rn(v); }
};
template <>
struct Cv<__nv_bfloat16> {
  static __device__ __forceinline__ float load(__nv_bfloat16 v) { return __bfloat162float(v); }
  static __device__ __forceinline__ __nv_bfloat16 store(float v) { return __float2bfloat16_rn(v); }
};
__device__ __forceinline__ float apply(float v, const ActParams& a) {
  switch (a.kind) {
    case Act::kNone:
      return v;
    case Act::kRelu:
      return v > 0.f ? v : 0.f;
    case Act::kClip:
      return fminf(fmaxf(v, a.lo), a.hi);
    case Act::kSigmoid:
      return 1.f / (1.f + __expf(-v));
  }
  return v;
}

unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(b, int64_t{1} << 20)));
}

#define GRID_STRIDE(i, n)                                                   \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); \
       i += int64_t{blockDim.x} * gridDim.x)

// Runs f(T{}) for the runtime element type t: the plan's types only (uint8 images have their
// own input kernel), which keeps the instantiations, and the library, small.
template <class F>
void dispatch(DType t, F&& f) {
  switch (t) {
    case DType::kF16:
      f(__half{});
      break;
    case DType::kBF16:
      f(__nv_bfloat16{});
      break;
    case DType::kF32:
      f(float{});
      break;
    case DType::kU8:
      throw Error(Status::kInternal, "no uint8 variant of this kernel");
  }
}

template <class T>
__global__ void epilogue_kernel(T* y, int64_t n, int64_t channels, const float* bias, const T* res,
                                ActParams act) {
  GRID_STRIDE(i, n) {
    float v = Cv<T>::load(y[i]);
    if (bias) v += bias[i % channels];
    if (res) v += Cv<T>::load(res[i]);
    y[i] = Cv<T>::store(apply(v, act));
  }
}

template <class T>
__global__ void affine_kernel(const T* x, T* y, int64_t n, int64_t channels, int64_t inner,
                              const float* scale, const float* shift, bool per_channel,
                              const T* res, ActParams act) {
  GRID_STRIDE(i, n) {
    int64_t c = per_channel ? (i / inner) % channels : 0;
    float v = Cv<T>::load(x[i]) * scale[c] + shift[c];
    if (res) v += Cv<T>::load(res[i]);
    y[i] = Cv<T>::store(apply(v, act));
  }
}

template <class T>
__global__ void activation_kernel(const T* x, T* y, int64_t n, ActParams act) {
  GRID_STRIDE(i, n) { y[i] = Cv<T>::store(apply(Cv<T>::load(x[i]), act)); }
}

template <class T>
__global__ void pool_kernel(const T* x, T* y, PoolParams p) {
  int64_t total = p.n * p.ho * p.wo * p.c;
  GRID_STRIDE(i, total) {
    int64_t c = i % p.c;
    int64_t ox = (i / p.c) % p.wo;
    int64_t oy = (i / (p.c * p.wo)) % p.ho;
    int64_t b = i / (p.c * p.wo * p.ho);
    const T* src = x + b * p.h * p.w * p.c + c;
    int64_t y0 = p.global ? 0 : oy * p.stride[0] - p.pad[0];
    int64_t x0 = p.global ? 0 : ox * p.stride[1] - p.pad[1];
    if (p.max_pool) {
      float m = -INFINITY;
      for (int64_t ky = 0; ky < p.kernel[0]; ++ky) {
        int64_t iy = y0 + ky * p.dilation[0];
        if (iy < 0 || iy >= p.h) continue;
        for (int64_t kx = 0; kx < p.kernel[1]; ++kx) {
          int64_t ix = x0 + kx * p.dilation[1];
          if (ix < 0 || ix >= p.w) continue;
          m = fmaxf(m, Cv<T>::load(src[(iy * p.w + ix) * p.c]));
        }
      }
      y[i] = Cv<T>::store(m);
    } else {
      int64_t y1 = min(y0 + p.kernel[0], p.h + p.pad[2]);
      int64_t x1 = min(x0 + p.kernel[1], p.w + p.pad[3]);
      int64_t pool_size = (y1 - y0) * (x1 - x0);
      int64_t ys = max(y0, int64_t{0}), xs = max(x0, int64_t{0});
      int64_t ye = min(y1, p.h), xe = min(x1, p.w);
      float s = 0.f;
      for (int64_t iy = ys; iy < ye; ++iy) {
        for (int64_t ix = xs; ix < xe; ++ix) s += Cv<T>::load(src[(iy * p.w + ix) * p.c]);
      }
      int64_t count = p.count_include_pad ? pool_size : (ye - ys) * (xe - xs);
      y[i] = Cv<T>::store(count > 0 ? s / static_cast<float>(count) : 0.f);
    }
  }
}

// The physical offset of logical coordinate `coord` (rank ≤ kMaxRank) in g.
__device__ __forceinline__ int64_t offset_of(const Geom& g, const int64_t* coord) {
  int64_t off = 0;
  for (int k = 0; k < g.rank; ++k) off += coord[k] * g.strides[k];
  return off;
}

// The logical coordinate of row-major flat index f over g's dims.
__device__ __forceinline__ void coord_of(const Geom& g, int64_t f, int64_t* coord) {
  for (int k = g.rank - 1; k >= 0; --k) {
    coord[k] = f % g.dims[k];
    f /= g.dims[k];
  }
}

template <class T>
__global__ void binary_kernel(const T* a, Geom ga, const T* b, Geom gb, T* out, Geom go, int op,
                              ActParams act) {
  int64_t n = go.numel();
  GRID_STRIDE(i, n) {
    int64_t coord[kMaxRank];
    coord_of(go, i, coord);
    int64_t oa = 0, ob = 0;
    for (int k = 0; k < go.rank; ++k) {
      int ka = k - (go.rank - ga.rank), kb = k - (go.rank - gb.rank);
      if (ka >= 0 && ga.dims[ka] != 1) oa += coord[k] * ga.strides[ka];
      if (kb >= 0 && gb.dims[kb] != 1) ob += coord[k] * gb.strides[kb];
    }
    float x = Cv<T>::load(a[oa]), z = Cv<T>::load(b[ob]), r;
    switch (op) {
      case 0:
        r = x + z;
        break;
      case 1:
        r = x - z;
        break;
      case 2:
        r = x * z;
        break;
      default:
        r = x / z;
        break;
    }
    out[offset_of(go, coord)] = Cv<T>::store(apply(r, act));
  }
}

// One block per row: max, sum of exponentials, normalisation, with a block reduction.
template <class T>
__global__ void softmax_kernel(const T* x, T* y, Geom rows, int64_t len, int64_t stride) {
  __shared__ float red[kThreads];
  int64_t nrows = rows.numel();
  for (int64_t r = blockIdx.x; r < nrows; r += gridDim.x) {
    int64_t coord[kMaxRank];
    coord_of(rows, r, coord);
    int64_t base = offset_of(rows, coord);
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < len; j += blockDim.x) {
      m = fmaxf(m, Cv<T>::load(x[base + j * stride]));
    }
    red[threadIdx.x] = m;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + s]);
      __syncthreads();
    }
    m = red[0];
    __syncthreads();
    float sum = 0.f;
    for (int64_t j = threadIdx.x; j < len; j += blockDim.x) {
      sum += __expf(Cv<T>::load(x[base + j * stride]) - m);
    }
    red[threadIdx.x] = sum;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) red[threadIdx.x] += red[threadIdx.x + s];
      __syncthreads();
    }
    float inv = 1.f / red[0];
    __syncthreads();
    for (int64_t j = threadIdx.x; j < len; j += blockDim.x) {
      y[base + j * stride] = Cv<T>::store(__expf(Cv<T>::load(x[base + j * stride]) - m) * inv);
    }
  }
}

template <class Ti, class To>
__global__ void map_kernel(const Ti* in, Geom gi, To* out, Geom go, MapParams p) {
  bool scatter = p.mode == MapMode::kScatter;
  int64_t n = scatter ? gi.numel() : go.numel();
  GRID_STRIDE(i, n) {
    int64_t co[kMaxRank], ci[kMaxRank];
    bool inside = true;
    switch (p.mode) {
      case MapMode::kReshape:
        coord_of(go, i, co);
        coord_of(gi, i, ci);
        break;
      case MapMode::kTranspose:
        coord_of(go, i, co);
        for (int k = 0; k < go.rank; ++k) ci[p.perm[k]] = co[k];
        break;
      case MapMode::kPad:
        coord_of(go, i, co);
        for (int k = 0; k < go.rank; ++k) {
          int64_t c = co[k] - p.pad_begin[k], d = gi.dims[k];
          if (c < 0 || c >= d) {
            if (p.pad_mode == 0) {
              inside = false;
              c = 0;
            } else if (p.pad_mode == 2) {
              c = c < 0 ? 0 : d - 1;
            } else {
              c = c < 0 ? -c : 2 * (d - 1) - c;
            }
          }
          ci[k] = c;
        }
        break;
      case MapMode::kScatter:
        coord_of(gi, i, ci);
        for (int k = 0; k < gi.rank; ++k) co[k] = ci[k] + (k == p.axis ? p.offset : 0);
        break;
    }
    float v = inside ? Cv<Ti>::load(in[offset_of(gi, ci)]) : p.pad_value;
    out[offset_of(go, co)] = Cv<To>::store(v);
  }
}

template <class T>
__global__ void input_nchw_kernel(const float* x, T* y, int64_t n, int64_t c, int64_t h, int64_t w,
                                  int64_t cp) {
  int64_t total = n * h * w * cp;
  GRID_STRIDE(i, total) {
    int64_t ch = i % cp;
    int64_t pix = (i / cp) % (h * w);
    int64_t b = i / (cp * h * w);
    float v = ch < c ? x[(b * c + ch) * h * w + pix] : 0.f;
    y[i] = Cv<T>::store(v);
  }
}

struct Norm {
  float scale[4], shift[4];
};

template <class T>
__global__ void input_u8_kernel(const uint8_t* x, T* y, int64_t n, int64_t c, int64_t h, int64_t w,
                                int64_t cp, Norm norm) {
  int64_t total = n * h * w * cp;
  GRID_STRIDE(i, total) {
    int64_t ch = i % cp;
    int64_t pix = i / cp;  // n·h·w index
    float v = ch < c ? static_cast<float>(x[pix * c + ch]) * norm.scale[ch] - norm.shift[ch] : 0.f;
    y[i] = Cv<T>::store(v);
  }
}

template <class Ti, class To>
__global__ void convert_kernel(const Ti* in, To* out, int64_t n) {
  GRID_STRIDE(i, n) { out[i] = Cv<To>::store(Cv<Ti>::load(in[i])); }
}

}  // namespace

void epilogue(cudaStream_t s, DType t, void* y, int64_t n, int64_t channels, const float* bias,
              const void* residual, ActParams act) {
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    epilogue_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(static_cast<T*>(y), n, channels, bias,
                                                          static_cast<const T*>(residual), act);
  });
  CUDAGO_CHECK_LAUNCH();
}

void affine(cudaStream_t s, DType t, const void* x, void* y, int64_t n, int64_t channels,
            int64_t inner, const float* scale, const float* shift, bool per_channel,
            const void* residual, ActParams act) {
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    affine_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(
        static_cast<const T*>(x), static_cast<T*>(y), n, channels, inner, scale, shift, per_channel,
        static_cast<const T*>(residual), act);
  });
  CUDAGO_CHECK_LAUNCH();
}

void activation(cudaStream_t s, DType t, const void* x, void* y, int64_t n, ActParams act) {
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    activation_kernel<T>
        <<<blocks_for(n), kThreads, 0, s>>>(static_cast<const T*>(x), static_cast<T*>(y), n, act);
  });
  CUDAGO_CHECK_LAUNCH();
}

void pool(cudaStream_t s, DType t, const void* x, void* y, const PoolParams& p) {
  int64_t total = p.n * p.ho * p.wo * p.c;
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    pool_kernel<T>
        <<<blocks_for(total), kThreads, 0, s>>>(static_cast<const T*>(x), static_cast<T*>(y), p);
  });
  CUDAGO_CHECK_LAUNCH();
}

void binary(cudaStream_t s, DType t, const void* a, const Geom& ga, const void* b, const Geom& gb,
            void* out, const Geom& go, int op, ActParams act) {
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    binary_kernel<T><<<blocks_for(go.numel()), kThreads, 0, s>>>(static_cast<const T*>(a), ga,
                                                                 static_cast<const T*>(b), gb,
                                                                 static_cast<T*>(out), go, op, act);
  });
  CUDAGO_CHECK_LAUNCH();
}

void softmax(cudaStream_t s, DType t, const void* x, void* y, const Geom& rows, int64_t len,
             int64_t stride) {
  unsigned blocks =
      static_cast<unsigned>(std::min<int64_t>(std::max<int64_t>(rows.numel(), 1), 65535));
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    softmax_kernel<T><<<blocks, kThreads, 0, s>>>(static_cast<const T*>(x), static_cast<T*>(y),
                                                  rows, len, stride);
  });
  CUDAGO_CHECK_LAUNCH();
}

void map(cudaStream_t s, DType tin, const void* in, const Geom& gin, DType tout, void* out,
         const Geom& gout, const MapParams& p) {
  int64_t n = p.mode == MapMode::kScatter ? gin.numel() : gout.numel();
  dispatch(tin, [&](auto itag) {
    using Ti = decltype(itag);
    dispatch(tout, [&](auto otag) {
      using To = decltype(otag);
      map_kernel<Ti, To><<<blocks_for(n), kThreads, 0, s>>>(static_cast<const Ti*>(in), gin,
                                                            static_cast<To*>(out), gout, p);
    });
  });
  CUDAGO_CHECK_LAUNCH();
}

void input_nchw(cudaStream_t s, DType t, const float* x, void* y, int64_t n, int64_t c, int64_t h,
                int64_t w, int64_t cp) {
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    input_nchw_kernel<T>
        <<<blocks_for(n * h * w * cp), kThreads, 0, s>>>(x, static_cast<T*>(y), n, c, h, w, cp);
  });
  CUDAGO_CHECK_LAUNCH();
}

void input_u8_nhwc(cudaStream_t s, DType t, const uint8_t* x, void* y, int64_t n, int64_t c,
                   int64_t h, int64_t w, int64_t cp, const float* scale, const float* shift) {
  Norm norm{};
  for (int i = 0; i < 4 && i < c; ++i) {
    norm.scale[i] = scale[i];
    norm.shift[i] = shift[i];
  }
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    input_u8_kernel<T><<<blocks_for(n * h * w * cp), kThreads, 0, s>>>(x, static_cast<T*>(y), n, c,
                                                                       h, w, cp, norm);
  });
  CUDAGO_CHECK_LAUNCH();
}

void convert(cudaStream_t s, DType tin, const void* in, DType tout, void* out, int64_t n) {
  dispatch(tin, [&](auto itag) {
    using Ti = decltype(itag);
    dispatch(tout, [&](auto otag) {
      using To = decltype(otag);
      convert_kernel<Ti, To>
          <<<blocks_for(n), kThreads, 0, s>>>(static_cast<const Ti*>(in), static_cast<To*>(out), n);
    });
  });
  CUDAGO_CHECK_LAUNCH();
}

}  // namespace cudago::nn::gpu
