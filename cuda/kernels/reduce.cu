// Reductions: sum, min, max, argmax, dot and L2 norm over whole ranges and along rows, float32
// and float64 (see cudago/reduce.hpp for the numerics and the error bound).
//
// Every kernel is built from three pieces:
//   accumulate()   a group of lanes (a whole grid, a block or a warp) walks one range: the
//                  elements before the first 16-byte boundary and after the last one one by one,
//                  the rest as 16-byte vectors, kUnroll vectors in flight per lane; each lane
//                  keeps kUnroll separate (compensated) accumulators, one per vector in flight,
//                  and folds them by a tree at the end;
//   warp_reduce()  a shuffle tree over the 32 lanes of a warp;
//   block_reduce() warp results through shared memory, then one warp.
// A whole range uses a grid of one resident wave of blocks (from the kernel's occupancy); each
// block writes a partial to a scratch array that a second, single-block kernel reduces (one block:
// written directly). Rows use a warp per row when rows are short and a block per row otherwise.
#include <cuda_runtime.h>
#include <math_constants.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "cudago/detail/operand.hpp"
#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/reduce.hpp"

namespace cudago {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kUnroll = 4;
constexpr unsigned kMaxPartials = 2048;       // pass-1 blocks of a whole-range reduction
constexpr uint64_t kMaxBlocks = 1u << 20;     // grid-stride beyond this (rows)
constexpr uint64_t kWarpRowMaxCols = 1024;    // up to this, one warp per row
constexpr uint64_t kSinglePassMax = 1 << 15;  // up to this, whole ranges take one block

// ---- Rounded arithmetic that the compiler may not contract or reorder ----

__device__ __forceinline__ float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ double add_rn(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ float sub_rn(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ double sub_rn(double a, double b) { return __dsub_rn(a, b); }
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }

template <class T>
__device__ __forceinline__ T shfl_down(T v, int offset) {
  return __shfl_down_sync(0xffffffffu, v, offset);
}

// ---- The operations: an accumulator type and how to add an element, combine two accumulators
// (tree), merge a partial from the first pass, move one through a shuffle and finish ----

template <class T>
struct Kahan {
  T s, c;  // running sum and the negated low part it lost
};

template <class T>
__device__ __forceinline__ void kahan_add(Kahan<T>& k, T x) {
  const T y = sub_rn(x, k.c);
  const T t = add_rn(k.s, y);
  k.c = sub_rn(sub_rn(t, k.s), y);
  k.s = t;
}

template <class T>
__device__ __forceinline__ T kahan_value(const Kahan<T>& k) {
  return sub_rn(k.s, k.c);
}

template <class T, ReduceOp Op>
struct SumLike {  // sum, dot, norm2
  using Acc = Kahan<T>;
  using Out = T;
  static __device__ __forceinline__ Acc identity() { return {T(0), T(0)}; }
  static __device__ __forceinline__ void add(Acc& a, T x, T y, int64_t) {
    if constexpr (Op == ReduceOp::kSum) {
      kahan_add(a, x);
    } else if constexpr (Op == ReduceOp::kDot) {
      kahan_add(a, mul_rn(x, y));
    } else {
      kahan_add(a, mul_rn(x, x));
    }
  }
  static __device__ __forceinline__ Acc combine(const Acc& a, const Acc& b) {
    return {add_rn(kahan_value(a), kahan_value(b)), T(0)};
  }
  static __device__ __forceinline__ void merge(Acc& a, const Acc& partial) {
    kahan_add(a, kahan_value(partial));
  }
  static __device__ __forceinline__ Acc shuffle(const Acc& a, int offset) {
    return {shfl_down(a.s, offset), shfl_down(a.c, offset)};
  }
  static __device__ __forceinline__ Out finish(const Acc& a) {
    const T v = kahan_value(a);
    if constexpr (Op == ReduceOp::kNorm2) {
      return sqrt(v);
    } else {
      return v;
    }
  }
};

template <class T, bool kMax>
struct MinMax {
  using Acc = T;
  using Out = T;
  static __device__ __forceinline__ Acc identity() { return kMax ? T(-CUDART_INF) : T(CUDART_INF); }
  // NaN wins and stays.
  static __device__ __forceinline__ Acc combine(Acc a, Acc b) {
    if (isnan(a)) return a;
    if (isnan(b)) return b;
    return (kMax ? b > a : b < a) ? b : a;
  }
  static __device__ __forceinline__ void add(Acc& a, T x, T, int64_t) { a = combine(a, x); }
  static __device__ __forceinline__ void merge(Acc& a, const Acc& p) { a = combine(a, p); }
  static __device__ __forceinline__ Acc shuffle(Acc a, int offset) { return shfl_down(a, offset); }
  static __device__ __forceinline__ Out finish(Acc a) { return a; }
};

template <class T>
struct ArgAcc {
  T v;
  int64_t i;
};

template <class T>
struct ArgMax {
  using Acc = ArgAcc<T>;
  using Out = int64_t;
  static __device__ __forceinline__ Acc identity() { return {T(-CUDART_INF), INT64_MAX}; }
  // The larger value wins, NaN above all numbers; equal values (or two NaNs): the lower index.
  static __device__ __forceinline__ Acc combine(const Acc& a, const Acc& b) {
    const bool an = isnan(a.v), bn = isnan(b.v);
    bool take_b;
    if (an || bn) {
      take_b = bn && (!an || b.i < a.i);
    } else {
      take_b = b.v > a.v || (b.v == a.v && b.i < a.i);
    }
    return take_b ? b : a;
  }
  static __device__ __forceinline__ void add(Acc& a, T x, T, int64_t i) { a = combine(a, {x, i}); }
  static __device__ __forceinline__ void merge(Acc& a, const Acc& p) { a = combine(a, p); }
  static __device__ __forceinline__ Acc shuffle(const Acc& a, int offset) {
    return {shfl_down(a.v, offset),
            static_cast<int64_t>(shfl_down(static_cast<long long>(a.i), offset))};
  }
  static __device__ __forceinline__ Out finish(const Acc& a) { return a.i; }
};

template <class T, ReduceOp Op>
struct PolicyOf {
  using type = SumLike<T, Op>;
};
template <class T>
struct PolicyOf<T, ReduceOp::kMin> {
  using type = MinMax<T, false>;
};
template <class T>
struct PolicyOf<T, ReduceOp::kMax> {
  using type = MinMax<T, true>;
};
template <class T>
struct PolicyOf<T, ReduceOp::kArgMax> {
  using type = ArgMax<T>;
};

// ---- The building blocks ----

template <class T>
struct VecOf;  // 16 bytes of T
template <>
struct VecOf<float> {
  using type = float4;
  static constexpr int kElems = 4;
};
template <>
struct VecOf<double> {
  using type = double2;
  static constexpr int kElems = 2;
};

__device__ __forceinline__ float elem(const float4& v, int j) {
  return j == 0 ? v.x : j == 1 ? v.y : j == 2 ? v.z : v.w;
}
__device__ __forceinline__ double elem(const double2& v, int j) { return j == 0 ? v.x : v.y; }

// Elements from p to the next 16-byte boundary; UINT64_MAX when p is not aligned to T.
template <class T>
__device__ __forceinline__ uint64_t head_elems(const T* p) {
  const auto addr = reinterpret_cast<uintptr_t>(p);
  if (addr % sizeof(T) != 0) return UINT64_MAX;
  return ((16 - addr % 16) % 16) / sizeof(T);
}

// Lane `lane` of `lanes` accumulates its share of [x, x + len) (and y, for dot); indices are
// counted from x. Returns the lane's folded accumulator.
template <class T, class P, int kIn>
__device__ __forceinline__ typename P::Acc accumulate(const T* x, const T* y, uint64_t len,
                                                      uint64_t lane, uint64_t lanes) {
  using Acc = typename P::Acc;
  using Vec = typename VecOf<T>::type;
  constexpr int V = VecOf<T>::kElems;
  constexpr int kAcc = kUnroll;
  Acc acc[kAcc];
#pragma unroll
  for (int k = 0; k < kAcc; ++k) acc[k] = P::identity();

  const uint64_t head = head_elems(x);
  const bool vectorise = head != UINT64_MAX && head <= len && (kIn < 2 || head_elems(y) == head);
  if (vectorise) {
    const uint64_t nvec = (len - head) / V;
    const Vec* xv = reinterpret_cast<const Vec*>(x + head);
    const Vec* yv = reinterpret_cast<const Vec*>(y + head);
    for (uint64_t i = lane; i < nvec; i += lanes * kUnroll) {
      Vec vx[kUnroll], vy[kUnroll];
#pragma unroll
      for (int k = 0; k < kUnroll; ++k) {
        const uint64_t j = i + k * lanes;
        if (j < nvec) {
          vx[k] = xv[j];
          if constexpr (kIn == 2) vy[k] = yv[j];
        }
      }
#pragma unroll
      for (int k = 0; k < kUnroll; ++k) {
        const uint64_t j = i + k * lanes;
        if (j < nvec) {
#pragma unroll
          for (int e = 0; e < V; ++e) {
            T b = T(0);
            if constexpr (kIn == 2) b = elem(vy[k], e);
            P::add(acc[k], elem(vx[k], e), b, static_cast<int64_t>(head + j * V + e));
          }
        }
      }
    }
    // Fewer than V elements before the first boundary and after the last one.
    if (lane < head) {
      P::add(acc[0], x[lane], kIn == 2 ? y[lane] : T(0), static_cast<int64_t>(lane));
    }
    const uint64_t t = head + nvec * V + lane;
    if (t < len) P::add(acc[1], x[t], kIn == 2 ? y[t] : T(0), static_cast<int64_t>(t));
  } else {
    for (uint64_t i = lane; i < len; i += lanes * kUnroll) {
      T vx[kUnroll], vy[kUnroll];
#pragma unroll
      for (int k = 0; k < kUnroll; ++k) {
        const uint64_t j = i + k * lanes;
        vx[k] = j < len ? x[j] : T(0);
        vy[k] = (kIn == 2 && j < len) ? y[j] : T(0);
      }
#pragma unroll
      for (int k = 0; k < kUnroll; ++k) {
        const uint64_t j = i + k * lanes;
        if (j < len) P::add(acc[k], vx[k], vy[k], static_cast<int64_t>(j));
      }
    }
  }
  // Fold the accumulators by a tree.
#pragma unroll
  for (int w = kAcc / 2; w > 0; w /= 2) {
#pragma unroll
    for (int k = 0; k < w; ++k) acc[k] = P::combine(acc[k], acc[k + w]);
  }
  return acc[0];
}

template <class P>
__device__ __forceinline__ typename P::Acc warp_reduce(typename P::Acc a) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) a = P::combine(a, P::shuffle(a, offset));
  return a;
}

// The block's result, valid in thread 0. Every thread of the block must call it.
template <class P>
__device__ __forceinline__ typename P::Acc block_reduce(typename P::Acc a) {
  using Acc = typename P::Acc;
  __shared__ Acc warp_results[kWarps];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  a = warp_reduce<P>(a);
  if (lane == 0) warp_results[warp] = a;
  __syncthreads();
  if (warp == 0) {
    a = lane < kWarps ? warp_results[lane] : P::identity();
    a = warp_reduce<P>(a);
  }
  __syncthreads();  // warp_results may be written again by the caller's next round
  return a;
}

// ---- The kernels ----

template <class T, ReduceOp Op, int kIn>
__global__ void __launch_bounds__(kThreads)
    reduce_all_pass1(const T* x, const T* y, uint64_t n,
                     typename PolicyOf<T, Op>::type::Acc* partials,
                     typename PolicyOf<T, Op>::type::Out* out) {
  using P = typename PolicyOf<T, Op>::type;
  const uint64_t lane = static_cast<uint64_t>(blockIdx.x) * kThreads + threadIdx.x;
  typename P::Acc a =
      accumulate<T, P, kIn>(x, y, n, lane, static_cast<uint64_t>(gridDim.x) * kThreads);
  a = block_reduce<P>(a);
  if (threadIdx.x == 0) {
    if (gridDim.x == 1) {
      *out = P::finish(a);
    } else {
      partials[blockIdx.x] = a;
    }
  }
}

template <class T, ReduceOp Op>
__global__ void __launch_bounds__(kThreads)
    reduce_all_pass2(const typename PolicyOf<T, Op>::type::Acc* partials, unsigned count,
                     typename PolicyOf<T, Op>::type::Out* out) {
  using P = typename PolicyOf<T, Op>::type;
  typename P::Acc a = P::identity();
  for (unsigned i = threadIdx.x; i < count; i += kThreads) P::merge(a, partials[i]);
  a = block_reduce<P>(a);
  if (threadIdx.x == 0) *out = P::finish(a);
}

template <class T, ReduceOp Op, int kIn>
__global__ void __launch_bounds__(kThreads)
    reduce_rows_block(const T* x, const T* y, uint64_t rows, uint64_t cols,
                      typename PolicyOf<T, Op>::type::Out* out) {
  using P = typename PolicyOf<T, Op>::type;
  for (uint64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* yr = kIn == 2 ? y + r * cols : nullptr;
    typename P::Acc a = accumulate<T, P, kIn>(x + r * cols, yr, cols, threadIdx.x, kThreads);
    a = block_reduce<P>(a);
    if (threadIdx.x == 0) out[r] = P::finish(a);
  }
}

template <class T, ReduceOp Op, int kIn>
__global__ void __launch_bounds__(kThreads)
    reduce_rows_warp(const T* x, const T* y, uint64_t rows, uint64_t cols,
                     typename PolicyOf<T, Op>::type::Out* out) {
  using P = typename PolicyOf<T, Op>::type;
  const unsigned lane = threadIdx.x % 32;
  const uint64_t step = static_cast<uint64_t>(gridDim.x) * kWarps;
  // All lanes of a warp take the same rows, so the shuffles see full warps.
  for (uint64_t r = static_cast<uint64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; r < rows;
       r += step) {
    const T* yr = kIn == 2 ? y + r * cols : nullptr;
    typename P::Acc a = accumulate<T, P, kIn>(x + r * cols, yr, cols, lane, 32);
    a = warp_reduce<P>(a);
    if (lane == 0) out[r] = P::finish(a);
  }
}

// ---- Host side ----

// Blocks of pass 1 that fit on the current device at once (one wave, from the kernel's
// occupancy, cached per device), capped at kMaxPartials.
template <class T, ReduceOp Op, int kIn>
unsigned pass1_blocks(int device) {
  constexpr int kCachedDevices = 64;
  static std::atomic<int> per_sm_cache[kCachedDevices];
  int per_sm = device < kCachedDevices ? per_sm_cache[device].load(std::memory_order_relaxed) : 0;
  if (per_sm == 0) {
    CUDAGO_CUDA_TRY(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
        &per_sm, reduce_all_pass1<T, Op, kIn>, kThreads, 0));
    per_sm = std::max(per_sm, 1);
    if (device < kCachedDevices) per_sm_cache[device].store(per_sm, std::memory_order_relaxed);
  }
  int sms = 0;
  CUDAGO_CUDA_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const unsigned blocks = static_cast<unsigned>(sms) * static_cast<unsigned>(per_sm);
  return std::max(1u, std::min(blocks, kMaxPartials));
}

template <class T, ReduceOp Op, int kIn>
void launch_all(int device, const T* x, const T* y, uint64_t n, void* out, cudaStream_t stream) {
  using P = typename PolicyOf<T, Op>::type;
  using Out = typename P::Out;
  using Acc = typename P::Acc;
  Out* o = static_cast<Out*>(out);
  constexpr uint64_t per_block = uint64_t{kThreads} * kUnroll * VecOf<T>::kElems;
  if (n <= kSinglePassMax) {
    reduce_all_pass1<T, Op, kIn><<<1, kThreads, 0, stream>>>(x, y, n, nullptr, o);
    CUDAGO_CHECK_LAUNCH();
    return;
  }
  const uint64_t wanted = (n + per_block - 1) / per_block;
  const unsigned blocks = static_cast<unsigned>(
      std::max<uint64_t>(2, std::min<uint64_t>(wanted, pass1_blocks<T, Op, kIn>(device))));
  StreamScratch partials(device, uint64_t{blocks} * sizeof(Acc), stream);
  Acc* pp = static_cast<Acc*>(partials.data());
  reduce_all_pass1<T, Op, kIn><<<blocks, kThreads, 0, stream>>>(x, y, n, pp, o);
  CUDAGO_CHECK_LAUNCH();
  reduce_all_pass2<T, Op><<<1, kThreads, 0, stream>>>(pp, blocks, o);
  CUDAGO_CHECK_LAUNCH();
}

template <class T, ReduceOp Op, int kIn>
void launch_rows(const T* x, const T* y, uint64_t rows, uint64_t cols, void* out,
                 cudaStream_t stream) {
  using Out = typename PolicyOf<T, Op>::type::Out;
  Out* o = static_cast<Out*>(out);
  if (cols <= kWarpRowMaxCols) {
    const uint64_t blocks = std::min<uint64_t>((rows + kWarps - 1) / kWarps, kMaxBlocks);
    reduce_rows_warp<T, Op, kIn>
        <<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(x, y, rows, cols, o);
  } else {
    const uint64_t blocks = std::min<uint64_t>(rows, kMaxBlocks);
    reduce_rows_block<T, Op, kIn>
        <<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(x, y, rows, cols, o);
  }
  CUDAGO_CHECK_LAUNCH();
}

// Calls fn(T{}, std::integral_constant<ReduceOp, op>{}) for the runtime (dtype, op).
template <class T, class Fn>
void with_op(ReduceOp op, Fn&& fn) {
  switch (op) {
    case ReduceOp::kSum:
      return fn(T{}, std::integral_constant<ReduceOp, ReduceOp::kSum>{});
    case ReduceOp::kMin:
      return fn(T{}, std::integral_constant<ReduceOp, ReduceOp::kMin>{});
    case ReduceOp::kMax:
      return fn(T{}, std::integral_constant<ReduceOp, ReduceOp::kMax>{});
    case ReduceOp::kArgMax:
      return fn(T{}, std::integral_constant<ReduceOp, ReduceOp::kArgMax>{});
    case ReduceOp::kDot:
      return fn(T{}, std::integral_constant<ReduceOp, ReduceOp::kDot>{});
    case ReduceOp::kNorm2:
      return fn(T{}, std::integral_constant<ReduceOp, ReduceOp::kNorm2>{});
  }
}

template <class Fn>
void with_type_and_op(DType dtype, ReduceOp op, Fn&& fn) {
  if (dtype == DType::kF32) {
    with_op<float>(op, fn);
  } else {
    with_op<double>(op, fn);
  }
}

// Validated operands of a reduction.
struct Operands {
  const void* x = nullptr;
  const void* y = nullptr;
  void* out = nullptr;
  uint64_t out_bytes = 0;
};

Operands check_operands(const char* what, const StreamPtr& stream, ReduceOp op, DType dtype,
                        DeviceBuffer& x, uint64_t x_offset, DeviceBuffer* y, uint64_t y_offset,
                        uint64_t n_in, uint64_t n_out, DeviceBuffer& out, uint64_t out_offset) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
  const auto op_value = static_cast<int32_t>(op);
  CUDAGO_EXPECTS(op_value >= 0 && op_value <= 5, kInvalidArgument,
                 std::string(what) + ": op " + std::to_string(op_value) + " is not a reduction");
  CUDAGO_EXPECTS(dtype == DType::kF32 || dtype == DType::kF64, kInvalidArgument,
                 std::string(what) + ": element type " + std::to_string(static_cast<int>(dtype)) +
                     " (" + dtype_name(dtype) + ") is not supported; use f32 or f64");
  const bool dot = op == ReduceOp::kDot;
  CUDAGO_EXPECTS(!dot || y != nullptr, kInvalidHandle, std::string(what) + ": dot needs y");
  CUDAGO_EXPECTS(
      dot || y == nullptr, kInvalidArgument,
      std::string(what) + ": y is only used by dot; pass NULL for " + reduce_op_name(op));
  const int dev = stream->device();
  detail::check_device(x, dev, what, "x");
  if (y != nullptr) detail::check_device(*y, dev, what, "y");
  detail::check_device(out, dev, what, "out");
  const uint64_t es = dtype_size(dtype);
  const uint64_t os = dtype_size(reduce_out_dtype(op, dtype));
  Operands r;
  r.x = detail::operand_pointer(x, x_offset, n_in, es, what, "x");
  if (y != nullptr) r.y = detail::operand_pointer(*y, y_offset, n_in, es, what, "y");
  r.out = detail::operand_pointer(out, out_offset, n_out, os, what, "out");
  r.out_bytes = n_out * os;
  detail::check_disjoint(x, r.x, n_in * es, out, r.out, r.out_bytes, what, "x", "out");
  if (y != nullptr) {
    detail::check_disjoint(*y, r.y, n_in * es, out, r.out, r.out_bytes, what, "y", "out");
  }
  return r;
}

}  // namespace

const char* reduce_op_name(ReduceOp op) noexcept {
  switch (op) {
    case ReduceOp::kSum:
      return "sum";
    case ReduceOp::kMin:
      return "min";
    case ReduceOp::kMax:
      return "max";
    case ReduceOp::kArgMax:
      return "argmax";
    case ReduceOp::kDot:
      return "dot";
    case ReduceOp::kNorm2:
      return "norm2";
  }
  return "invalid";
}

DType reduce_out_dtype(ReduceOp op, DType dtype) noexcept {
  return op == ReduceOp::kArgMax ? DType::kI64 : dtype;
}

void reduce_all(const StreamPtr& stream, ReduceOp op, DType dtype, DeviceBuffer& x,
                uint64_t x_offset, DeviceBuffer* y, uint64_t y_offset, uint64_t n,
                DeviceBuffer& out, uint64_t out_offset) {
  const char* what = "reduce";
  Operands o =
      check_operands(what, stream, op, dtype, x, x_offset, y, y_offset, n, 1, out, out_offset);
  const bool needs_elements =
      op == ReduceOp::kMin || op == ReduceOp::kMax || op == ReduceOp::kArgMax;
  CUDAGO_EXPECTS(n > 0 || !needs_elements, kInvalidArgument,
                 std::string(what) + ": " + reduce_op_name(op) + " of zero elements");
  const int dev = stream->device();
  DeviceGuard guard(dev);
  if (n == 0) {  // the empty sum is +0, all zero bits
    CUDAGO_CUDA_TRY(cudaMemsetAsync(o.out, 0, o.out_bytes, stream->get()));
  } else {
    with_type_and_op(dtype, op, [&](auto zero, auto op_c) {
      using T = decltype(zero);
      constexpr ReduceOp kOp = decltype(op_c)::value;
      const T* px = static_cast<const T*>(o.x);
      if constexpr (kOp == ReduceOp::kDot) {
        launch_all<T, kOp, 2>(dev, px, static_cast<const T*>(o.y), n, o.out, stream->get());
      } else {
        launch_all<T, kOp, 1>(dev, px, nullptr, n, o.out, stream->get());
      }
    });
  }
  x.used_on(stream);
  if (y != nullptr) y->used_on(stream);
  out.used_on(stream);
}

void reduce_rows(const StreamPtr& stream, ReduceOp op, DType dtype, DeviceBuffer& x,
                 uint64_t x_offset, DeviceBuffer* y, uint64_t y_offset, uint64_t rows,
                 uint64_t cols, DeviceBuffer& out, uint64_t out_offset) {
  const char* what = "reduce rows";
  CUDAGO_EXPECTS(cols == 0 || rows <= UINT64_MAX / cols, kOutOfRange,
                 std::string(what) + ": " + std::to_string(rows) + " x " + std::to_string(cols) +
                     " elements overflow");
  const uint64_t n = rows * cols;
  Operands o =
      check_operands(what, stream, op, dtype, x, x_offset, y, y_offset, n, rows, out, out_offset);
  const bool needs_elements =
      op == ReduceOp::kMin || op == ReduceOp::kMax || op == ReduceOp::kArgMax;
  CUDAGO_EXPECTS(cols > 0 || rows == 0 || !needs_elements, kInvalidArgument,
                 std::string(what) + ": " + reduce_op_name(op) + " of rows of zero elements");
  if (rows == 0) return;
  const int dev = stream->device();
  DeviceGuard guard(dev);
  if (cols == 0) {
    CUDAGO_CUDA_TRY(cudaMemsetAsync(o.out, 0, o.out_bytes, stream->get()));
  } else {
    with_type_and_op(dtype, op, [&](auto zero, auto op_c) {
      using T = decltype(zero);
      constexpr ReduceOp kOp = decltype(op_c)::value;
      const T* px = static_cast<const T*>(o.x);
      if constexpr (kOp == ReduceOp::kDot) {
        launch_rows<T, kOp, 2>(px, static_cast<const T*>(o.y), rows, cols, o.out, stream->get());
      } else {
        launch_rows<T, kOp, 1>(px, nullptr, rows, cols, o.out, stream->get());
      }
    });
  }
  x.used_on(stream);
  if (y != nullptr) y->used_on(stream);
  out.used_on(stream);
}

}  // namespace cudago
