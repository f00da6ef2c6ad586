// The GPU plan's kernels (see gpu_kernels.hpp). Memory-bound elementwise work: one thread per
// output element in grid-stride loops, fp32 arithmetic, loads and stores in the plan's type.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>

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

// 16 bytes of T: the vectorised kernels' unit (8 halves, 4 floats).
template <class T>
struct alignas(16) Vec {
  static constexpr int kN = 16 / sizeof(T);
  T v[kN];
};

// Whether the vectorised kernels apply: every pointer 16-byte aligned and the channel count a
// multiple of the vector width.
bool vec_ok(int64_t channels, int64_t width, std::initializer_list<const void*> ptrs) {
  if (channels % width != 0) return false;
  for (const void* q : ptrs) {
    if (reinterpret_cast<uintptr_t>(q) % 16 != 0) return false;
  }
  return true;
}

// Index arithmetic in 32 bits where every index fits (the grid-stride step included).
bool fits32(int64_t n) { return n < (int64_t{1} << 31) - (int64_t{1} << 29); }

// epilogue_kernel over 16-byte vectors: nv vectors, cv per pixel.
template <class T, class I>
__global__ void epilogue_vec_kernel(T* y, I nv, I cv, const float* bias, const T* res,
                                    ActParams act) {
  using V = Vec<T>;
  for (I i = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; i < nv;
       i += static_cast<I>(blockDim.x) * gridDim.x) {
    V a = reinterpret_cast<const V*>(y)[i];
    V r;
    if (res) r = reinterpret_cast<const V*>(res)[i];
    const I c0 = (i % cv) * V::kN;
#pragma unroll
    for (int k = 0; k < V::kN; ++k) {
      float v = Cv<T>::load(a.v[k]);
      if (bias) v += bias[c0 + k];
      if (res) v += Cv<T>::load(r.v[k]);
      a.v[k] = Cv<T>::store(apply(v, act));
    }
    reinterpret_cast<V*>(y)[i] = a;
  }
}

// pool_kernel over 16-byte vectors of channels: total = n·ho·wo·(c / width) threads' work.
template <class T, class I>
__global__ void pool_vec_kernel(const T* x, T* y, PoolParams p, I total) {
  using V = Vec<T>;
  const I cv = static_cast<I>(p.c / V::kN);
  const I h = static_cast<I>(p.h), w = static_cast<I>(p.w);
  const I ho = static_cast<I>(p.ho), wo = static_cast<I>(p.wo);
  for (I i = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<I>(blockDim.x) * gridDim.x) {
    const I c = (i % cv) * V::kN;
    const I pix = i / cv;
    const I ox = pix % wo, rest = pix / wo;
    const I oy = rest % ho, b = rest / ho;
    const T* src = x + static_cast<int64_t>(b) * h * w * p.c + c;
    const I y0 = p.global ? 0 : oy * static_cast<I>(p.stride[0]) - static_cast<I>(p.pad[0]);
    const I x0 = p.global ? 0 : ox * static_cast<I>(p.stride[1]) - static_cast<I>(p.pad[1]);
    const I kh = static_cast<I>(p.kernel[0]), kw = static_cast<I>(p.kernel[1]);
    float acc[V::kN];
    V out;
    if (p.max_pool) {
      const I dh = static_cast<I>(p.dilation[0]), dw = static_cast<I>(p.dilation[1]);
#pragma unroll
      for (int k = 0; k < V::kN; ++k) acc[k] = -INFINITY;
      for (I ky = 0; ky < kh; ++ky) {
        const I iy = y0 + ky * dh;
        if (iy < 0 || iy >= h) continue;
        for (I kx = 0; kx < kw; ++kx) {
          const I ix = x0 + kx * dw;
          if (ix < 0 || ix >= w) continue;
          V v = *reinterpret_cast<const V*>(src + (static_cast<int64_t>(iy) * w + ix) * p.c);
#pragma unroll
          for (int k = 0; k < V::kN; ++k) acc[k] = fmaxf(acc[k], Cv<T>::load(v.v[k]));
        }
      }
#pragma unroll
      for (int k = 0; k < V::kN; ++k) out.v[k] = Cv<T>::store(acc[k]);
    } else {
      const I y1 = min(y0 + kh, h + static_cast<I>(p.pad[2]));
      const I x1 = min(x0 + kw, w + static_cast<I>(p.pad[3]));
      const I ys = max(y0, I{0}), xs = max(x0, I{0});
      const I ye = min(y1, h), xe = min(x1, w);
#pragma unroll
      for (int k = 0; k < V::kN; ++k) acc[k] = 0.f;
      for (I iy = ys; iy < ye; ++iy) {
        for (I ix = xs; ix < xe; ++ix) {
          V v = *reinterpret_cast<const V*>(src + (static_cast<int64_t>(iy) * w + ix) * p.c);
#pragma unroll
          for (int k = 0; k < V::kN; ++k) acc[k] += Cv<T>::load(v.v[k]);
        }
      }
      const int64_t count =
          p.count_include_pad ? int64_t{y1 - y0} * (x1 - x0) : int64_t{ye - ys} * (xe - xs);
      const float inv = count > 0 ? 1.f / static_cast<float>(count) : 0.f;
#pragma unroll
      for (int k = 0; k < V::kN; ++k) out.v[k] = Cv<T>::store(acc[k] * inv);
    }
    reinterpret_cast<V*>(y)[i] = out;
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

// The input conversion where a pixel has at most kMaxPixelChannels physical channels (the padded
// stem, small images): one thread per pixel, 32- or 64-bit indices (I), reading the pixel's
// channels (NCHW planes: consecutive threads read consecutive floats of each plane; uint8 NHWC:
// consecutive bytes) and writing its cp values with 16- or 8-byte stores where vw (bytes per
// store) allows, else one by one.
constexpr int kMaxPixelChannels = 8;

template <class T, class I, bool kU8>
__global__ void input_pixel_kernel(const void* xv, T* y, I pixels, I hw, int c, int cp, int vw,
                                   Norm norm) {
  const I step = static_cast<I>(blockDim.x) * static_cast<I>(gridDim.x);
  for (I p = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       p < pixels; p += step) {
    alignas(16) T out[kMaxPixelChannels];
    const I b = p / hw, pix = p - b * hw;
#pragma unroll
    for (int ch = 0; ch < kMaxPixelChannels; ++ch) {
      float v = 0.f;
      if (ch < c) {
        if constexpr (kU8) {
          if (ch < 4) {
            v = static_cast<float>(static_cast<const uint8_t*>(xv)[p * c + ch]) * norm.scale[ch] -
                norm.shift[ch];
          }
        } else {
          v = static_cast<const float*>(xv)[(b * c + ch) * hw + pix];
        }
      }
      out[ch] = Cv<T>::store(v);
    }
    T* dst = y + p * cp;
    if (vw == 16) {
      for (int k = 0; k < cp * static_cast<int>(sizeof(T)) / 16; ++k) {
        reinterpret_cast<uint4*>(dst)[k] = reinterpret_cast<const uint4*>(out)[k];
      }
    } else if (vw == 8) {
      for (int k = 0; k < cp * static_cast<int>(sizeof(T)) / 8; ++k) {
        reinterpret_cast<uint2*>(dst)[k] = reinterpret_cast<const uint2*>(out)[k];
      }
    } else {
      for (int ch = 0; ch < cp; ++ch) dst[ch] = out[ch];
    }
  }
}

// Launches input_pixel_kernel; false where cp is past kMaxPixelChannels (the caller then runs the
// element-wise kernel).
template <class T, bool kU8>
bool input_pixels(cudaStream_t s, const void* x, T* y, int64_t n, int64_t c, int64_t h, int64_t w,
                  int64_t cp, const Norm& norm) {
  if (cp > kMaxPixelChannels || c > cp) return false;
  const int64_t pixels = n * h * w;
  const int64_t row = cp * static_cast<int64_t>(sizeof(T));
  const auto addr = reinterpret_cast<uintptr_t>(y);
  const int vw = row % 16 == 0 && addr % 16 == 0 ? 16 : row % 8 == 0 && addr % 8 == 0 ? 8 : 0;
  const int ci = static_cast<int>(c), cpi = static_cast<int>(cp);
  if (fits32(pixels * cp) && fits32(n * c * h * w)) {
    input_pixel_kernel<T, int32_t, kU8><<<blocks_for(pixels), kThreads, 0, s>>>(
        x, y, static_cast<int32_t>(pixels), static_cast<int32_t>(h * w), ci, cpi, vw, norm);
  } else {
    input_pixel_kernel<T, int64_t, kU8>
        <<<blocks_for(pixels), kThreads, 0, s>>>(x, y, pixels, h * w, ci, cpi, vw, norm);
  }
  return true;
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
    constexpr int64_t kW = Vec<T>::kN;
    if (vec_ok(channels, kW, {y, residual})) {
      const int64_t nv = n / kW, cv = channels / kW;
      if (fits32(nv)) {
        epilogue_vec_kernel<T, int32_t><<<blocks_for(nv), kThreads, 0, s>>>(
            static_cast<T*>(y), static_cast<int32_t>(nv), static_cast<int32_t>(cv), bias,
            static_cast<const T*>(residual), act);
      } else {
        epilogue_vec_kernel<T, int64_t><<<blocks_for(nv), kThreads, 0, s>>>(
            static_cast<T*>(y), nv, cv, bias, static_cast<const T*>(residual), act);
      }
      return;
    }
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
    constexpr int64_t kW = Vec<T>::kN;
    // The vectorised kernel where the channels allow it (and every index fits its type: the
    // input's too, whose pixel offsets it computes in 32 bits before scaling by c).
    if (vec_ok(p.c, kW, {x, y}) && fits32(p.n * p.h * p.w) && fits32(p.n * p.ho * p.wo)) {
      const int64_t tv = total / kW;
      if (fits32(tv)) {
        pool_vec_kernel<T, int32_t><<<blocks_for(tv), kThreads, 0, s>>>(
            static_cast<const T*>(x), static_cast<T*>(y), p, static_cast<int32_t>(tv));
      } else {
        pool_vec_kernel<T, int64_t><<<blocks_for(tv), kThreads, 0, s>>>(static_cast<const T*>(x),
                                                                        static_cast<T*>(y), p, tv);
      }
      return;
    }
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
    if (input_pixels<T, false>(s, x, static_cast<T*>(y), n, c, h, w, cp, Norm{})) return;
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
    if (input_pixels<T, true>(s, x, static_cast<T*>(y), n, c, h, w, cp, norm)) return;
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
