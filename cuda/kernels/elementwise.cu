// Elementwise kernels: binary arithmetic, axpy, scale, fill and casts over float32, float64,
// float16 and bfloat16 (see cudago/elementwise.hpp for the numerics).
//
// One kernel template, map_vec, serves every operation: it reads up to two input ranges of TA and
// writes one range of TC. Memory-bound, so each thread handles kUnroll 16-byte vectors per
// round, loading all of them before computing, so several loads are in flight; a block's
// accesses of one round are contiguous (coalesced). The first `head` elements (until every
// operand reaches a vector boundary) and the last few are done by block 0 one by one. When the
// operands cannot share a boundary (different misalignments), map_scalar is used instead.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "cudago/detail/operand.hpp"
#include "cudago/device.hpp"
#include "cudago/elementwise.hpp"
#include "cudago/error.hpp"

namespace cudago {
namespace {

constexpr int kThreads = 256;
constexpr int kUnroll = 4;
constexpr uint64_t kMaxBlocks = 1u << 20;  // grid-stride beyond this

// ---- Conversions between the element types (device side) ----

// float64 -> float32 rounded to odd: truncate, and set the last bit when inexact. Rounding that
// to float16 or bfloat16 (at least 2 bits shorter) to nearest-even then equals rounding the
// float64 directly, so float64 -> 16-bit casts round once.
__device__ __forceinline__ float to_float_round_odd(double d) {
  float f = __double2float_rz(d);
  if (static_cast<double>(f) != d) f = __int_as_float(__float_as_int(f) | 1);
  return f;
}

template <class To>
struct Conv;
template <>
struct Conv<float> {
  static __device__ __forceinline__ float from(float x) { return x; }
  static __device__ __forceinline__ float from(double x) { return __double2float_rn(x); }
  static __device__ __forceinline__ float from(__half x) { return __half2float(x); }
  static __device__ __forceinline__ float from(__nv_bfloat16 x) { return __bfloat162float(x); }
};
template <>
struct Conv<double> {
  static __device__ __forceinline__ double from(float x) { return x; }
  static __device__ __forceinline__ double from(double x) { return x; }
  static __device__ __forceinline__ double from(__half x) { return __half2float(x); }
  static __device__ __forceinline__ double from(__nv_bfloat16 x) { return __bfloat162float(x); }
};
template <>
struct Conv<__half> {
  static __device__ __forceinline__ __half from(float x) { return __float2half_rn(x); }
  static __device__ __forceinline__ __half from(double x) {
    return __float2half_rn(to_float_round_odd(x));
  }
  static __device__ __forceinline__ __half from(__half x) { return x; }
  static __device__ __forceinline__ __half from(__nv_bfloat16 x) {
    return __float2half_rn(__bfloat162float(x));
  }
};
template <>
struct Conv<__nv_bfloat16> {
  static __device__ __forceinline__ __nv_bfloat16 from(float x) { return __float2bfloat16_rn(x); }
  static __device__ __forceinline__ __nv_bfloat16 from(double x) {
    return __float2bfloat16_rn(to_float_round_odd(x));
  }
  static __device__ __forceinline__ __nv_bfloat16 from(__half x) {
    return __float2bfloat16_rn(__half2float(x));
  }
  static __device__ __forceinline__ __nv_bfloat16 from(__nv_bfloat16 x) { return x; }
};

// The type arithmetic on T is done in: float64 for float64, float32 for the rest.
template <class T>
struct ComputeOf {
  using type = float;
};
template <>
struct ComputeOf<double> {
  using type = double;
};
template <class T>
using compute_t = typename ComputeOf<T>::type;

// ---- The operations, as functors f(a, b) -> c ----

template <class T, BinaryOp Op>
struct BinaryF {
  __device__ __forceinline__ T operator()(T a, T b) const {
    using C = compute_t<T>;
    const C x = Conv<C>::from(a), y = Conv<C>::from(b);
    C r;
    if constexpr (Op == BinaryOp::kAdd) {
      r = x + y;
    } else if constexpr (Op == BinaryOp::kSub) {
      r = x - y;
    } else if constexpr (Op == BinaryOp::kMul) {
      r = x * y;
    } else {
      r = x / y;
    }
    return Conv<T>::from(r);
  }
};

__device__ __forceinline__ float fma_rn(float a, float b, float c) { return __fmaf_rn(a, b, c); }
__device__ __forceinline__ double fma_rn(double a, double b, double c) { return __fma_rn(a, b, c); }

template <class T>
struct AxpyF {  // a = x, b = y
  compute_t<T> alpha;
  __device__ __forceinline__ T operator()(T x, T y) const {
    using C = compute_t<T>;
    return Conv<T>::from(fma_rn(alpha, Conv<C>::from(x), Conv<C>::from(y)));
  }
};

template <class T>
struct ScaleF {
  compute_t<T> alpha;
  __device__ __forceinline__ T operator()(T x, T) const {
    using C = compute_t<T>;
    return Conv<T>::from(alpha * Conv<C>::from(x));
  }
};

template <class T>
struct FillF {
  double value;
  __device__ __forceinline__ T operator()(T, T) const { return Conv<T>::from(value); }
};

template <class From, class To>
struct CastF {
  __device__ __forceinline__ To operator()(From x, From) const { return Conv<To>::from(x); }
};

// ---- The kernels ----

template <int Bytes>
struct Raw;
template <>
struct Raw<16> {
  using type = uint4;
};
template <>
struct Raw<8> {
  using type = uint2;
};
template <>
struct Raw<4> {
  using type = unsigned;
};

// Elements per 16-byte vector of the wider of the two types.
template <class TA, class TC>
constexpr int vec_elems() {
  return 16 / static_cast<int>(sizeof(TA) > sizeof(TC) ? sizeof(TA) : sizeof(TC));
}

// One element, for the scalar head and tail and the scalar kernel.
template <class TA, class TC, int kIn, class F>
__device__ __forceinline__ void map_one(const TA* a, const TA* b, TC* c, uint64_t i, const F& f) {
  TA x{}, y{};
  if constexpr (kIn >= 1) x = a[i];
  if constexpr (kIn >= 2) y = b[i];
  c[i] = f(x, y);
}

// a, b, c point at the first element of each range; a + head, b + head and c + head are on
// vector boundaries; nvec vectors follow, then n - head - nvec * V scalar elements.
template <class TA, class TC, int kIn, class F>
__global__ void __launch_bounds__(kThreads)
    map_vec(const TA* a, const TA* b, TC* c, uint64_t head, uint64_t nvec, uint64_t n, F f) {
  constexpr int V = vec_elems<TA, TC>();
  using RA = typename Raw<sizeof(TA) * V>::type;
  using RC = typename Raw<sizeof(TC) * V>::type;
  const RA* av = reinterpret_cast<const RA*>(a + head);
  const RA* bv = reinterpret_cast<const RA*>(b + head);
  RC* cv = reinterpret_cast<RC*>(c + head);
  const uint64_t step = static_cast<uint64_t>(gridDim.x) * kThreads * kUnroll;
  for (uint64_t base = static_cast<uint64_t>(blockIdx.x) * kThreads * kUnroll; base < nvec;
       base += step) {
    RA xa[kUnroll] = {}, xb[kUnroll] = {};
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      const uint64_t i = base + threadIdx.x + static_cast<uint64_t>(k) * kThreads;
      if (i < nvec) {
        if constexpr (kIn >= 1) xa[k] = av[i];
        if constexpr (kIn >= 2) xb[k] = bv[i];
      }
    }
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      const uint64_t i = base + threadIdx.x + static_cast<uint64_t>(k) * kThreads;
      if (i < nvec) {
        const TA* ea = reinterpret_cast<const TA*>(&xa[k]);
        const TA* eb = reinterpret_cast<const TA*>(&xb[k]);
        RC out;
        TC* ec = reinterpret_cast<TC*>(&out);
#pragma unroll
        for (int j = 0; j < V; ++j) ec[j] = f(ea[j], eb[j]);
        cv[i] = out;
      }
    }
  }
  if (blockIdx.x == 0) {  // fewer than V elements each: the head and the tail
    const uint64_t t = threadIdx.x;
    if (t < head) map_one<TA, TC, kIn>(a, b, c, t, f);
    const uint64_t tail = head + nvec * V + t;
    if (tail < n) map_one<TA, TC, kIn>(a, b, c, tail, f);
  }
}

template <class TA, class TC, int kIn, class F>
__global__ void __launch_bounds__(kThreads)
    map_scalar(const TA* a, const TA* b, TC* c, uint64_t n, F f) {
  const uint64_t step = static_cast<uint64_t>(gridDim.x) * kThreads;
  for (uint64_t i = static_cast<uint64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n; i += step) {
    map_one<TA, TC, kIn>(a, b, c, i, f);
  }
}

unsigned blocks_for(uint64_t work_items, uint64_t per_block) {
  const uint64_t blocks = (work_items + per_block - 1) / per_block;
  return static_cast<unsigned>(std::max<uint64_t>(1, std::min(blocks, kMaxBlocks)));
}

// Elements from p to the next boundary of V elements of T, or UINT64_MAX when p is not even
// aligned to T (then no element count reaches a boundary).
template <class T, int V>
uint64_t elems_to_boundary(const void* p) {
  const auto addr = reinterpret_cast<uintptr_t>(p);
  constexpr uintptr_t vb = sizeof(T) * V;
  if (addr % sizeof(T) != 0) return UINT64_MAX;
  return ((vb - addr % vb) % vb) / sizeof(T);
}

template <class TA, class TC, int kIn, class F>
void launch_map(const TA* a, const TA* b, TC* c, uint64_t n, const F& f, cudaStream_t stream) {
  if (n == 0) return;
  constexpr int V = vec_elems<TA, TC>();
  const uint64_t head = elems_to_boundary<TC, V>(c);
  bool vectorise = head != UINT64_MAX && head <= n;
  if constexpr (kIn >= 1) vectorise = vectorise && elems_to_boundary<TA, V>(a) == head;
  if constexpr (kIn >= 2) vectorise = vectorise && elems_to_boundary<TA, V>(b) == head;
  if (vectorise) {
    const uint64_t nvec = (n - head) / V;
    map_vec<TA, TC, kIn><<<blocks_for(nvec, uint64_t{kThreads} * kUnroll), kThreads, 0, stream>>>(
        a, b, c, head, nvec, n, f);
  } else {
    map_scalar<TA, TC, kIn><<<blocks_for(n, kThreads), kThreads, 0, stream>>>(a, b, c, n, f);
  }
  CUDAGO_CHECK_LAUNCH();
}

// Calls fn(T{}) with T the storage type of a float dtype.
template <class Fn>
void with_float_type(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kF32:
      fn(float{});
      return;
    case DType::kF64:
      fn(double{});
      return;
    case DType::kF16:
      fn(__half{});
      return;
    case DType::kBF16:
      fn(__nv_bfloat16{});
      return;
    default:
      break;
  }
  throw Error(Status::kInvalidArgument, "not a float dtype");  // checked by callers first
}

template <class T>
void launch_binary(BinaryOp op, const void* a, const void* b, void* c, uint64_t n, cudaStream_t s) {
  const T* ta = static_cast<const T*>(a);
  const T* tb = static_cast<const T*>(b);
  T* tc = static_cast<T*>(c);
  switch (op) {
    case BinaryOp::kAdd:
      return launch_map<T, T, 2>(ta, tb, tc, n, BinaryF<T, BinaryOp::kAdd>{}, s);
    case BinaryOp::kSub:
      return launch_map<T, T, 2>(ta, tb, tc, n, BinaryF<T, BinaryOp::kSub>{}, s);
    case BinaryOp::kMul:
      return launch_map<T, T, 2>(ta, tb, tc, n, BinaryF<T, BinaryOp::kMul>{}, s);
    case BinaryOp::kDiv:
      return launch_map<T, T, 2>(ta, tb, tc, n, BinaryF<T, BinaryOp::kDiv>{}, s);
  }
}

template <class From, class To>
void launch_cast(const void* src, void* dst, uint64_t n, cudaStream_t s) {
  const From* x = static_cast<const From*>(src);
  launch_map<From, To, 1>(x, x, static_cast<To*>(dst), n, CastF<From, To>{}, s);
}

void check_stream(const StreamPtr& stream) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
}

}  // namespace

const char* binary_op_name(BinaryOp op) noexcept {
  switch (op) {
    case BinaryOp::kAdd:
      return "add";
    case BinaryOp::kSub:
      return "sub";
    case BinaryOp::kMul:
      return "mul";
    case BinaryOp::kDiv:
      return "div";
  }
  return "invalid";
}

void check_float_dtype(DType dtype, const char* what) {
  if (dtype != DType::kF32 && dtype != DType::kF64 && dtype != DType::kF16 &&
      dtype != DType::kBF16) {
    throw Error(Status::kInvalidArgument,
                std::string(what) + ": element type " + std::to_string(static_cast<int>(dtype)) +
                    " (" + dtype_name(dtype) + ") is not supported; use f32, f64, f16 or bf16");
  }
}

void elementwise_binary(const StreamPtr& stream, BinaryOp op, DType dtype, DeviceBuffer& a,
                        uint64_t a_offset, DeviceBuffer& b, uint64_t b_offset, DeviceBuffer& c,
                        uint64_t c_offset, uint64_t n) {
  const char* what = "elementwise binary";
  check_stream(stream);
  const auto op_value = static_cast<int32_t>(op);
  CUDAGO_EXPECTS(op_value >= 0 && op_value <= 3, kInvalidArgument,
                 std::string(what) + ": op " + std::to_string(op_value) + " is not a binary op");
  check_float_dtype(dtype, what);
  const int dev = stream->device();
  detail::check_device(a, dev, what, "a");
  detail::check_device(b, dev, what, "b");
  detail::check_device(c, dev, what, "c");
  const uint64_t es = dtype_size(dtype);
  const void* pa = detail::operand_pointer(a, a_offset, n, es, what, "a");
  const void* pb = detail::operand_pointer(b, b_offset, n, es, what, "b");
  void* pc = detail::operand_pointer(c, c_offset, n, es, what, "c");
  detail::check_no_partial_overlap(a, pa, n * es, c, pc, n * es, what, "a", "c");
  detail::check_no_partial_overlap(b, pb, n * es, c, pc, n * es, what, "b", "c");
  if (n == 0) return;
  DeviceGuard guard(dev);
  with_float_type(
      dtype, [&](auto zero) { launch_binary<decltype(zero)>(op, pa, pb, pc, n, stream->get()); });
  a.used_on(stream);
  b.used_on(stream);
  c.used_on(stream);
}

void elementwise_axpy(const StreamPtr& stream, DType dtype, double alpha, DeviceBuffer& x,
                      uint64_t x_offset, DeviceBuffer& y, uint64_t y_offset, uint64_t n) {
  const char* what = "elementwise axpy";
  check_stream(stream);
  check_float_dtype(dtype, what);
  const int dev = stream->device();
  detail::check_device(x, dev, what, "x");
  detail::check_device(y, dev, what, "y");
  const uint64_t es = dtype_size(dtype);
  const void* px = detail::operand_pointer(x, x_offset, n, es, what, "x");
  void* py = detail::operand_pointer(y, y_offset, n, es, what, "y");
  detail::check_no_partial_overlap(x, px, n * es, y, py, n * es, what, "x", "y");
  if (n == 0) return;
  DeviceGuard guard(dev);
  with_float_type(dtype, [&](auto zero) {
    using T = decltype(zero);
    using C = compute_t<T>;
    launch_map<T, T, 2>(static_cast<const T*>(px), static_cast<const T*>(py), static_cast<T*>(py),
                        n, AxpyF<T>{static_cast<C>(alpha)}, stream->get());
  });
  x.used_on(stream);
  y.used_on(stream);
}

void elementwise_scale(const StreamPtr& stream, DType dtype, double alpha, DeviceBuffer& x,
                       uint64_t x_offset, uint64_t n) {
  const char* what = "elementwise scale";
  check_stream(stream);
  check_float_dtype(dtype, what);
  const int dev = stream->device();
  detail::check_device(x, dev, what, "x");
  void* px = detail::operand_pointer(x, x_offset, n, dtype_size(dtype), what, "x");
  if (n == 0) return;
  DeviceGuard guard(dev);
  with_float_type(dtype, [&](auto zero) {
    using T = decltype(zero);
    using C = compute_t<T>;
    launch_map<T, T, 1>(static_cast<const T*>(px), static_cast<const T*>(px), static_cast<T*>(px),
                        n, ScaleF<T>{static_cast<C>(alpha)}, stream->get());
  });
  x.used_on(stream);
}

void elementwise_fill(const StreamPtr& stream, DType dtype, double value, DeviceBuffer& x,
                      uint64_t x_offset, uint64_t n) {
  const char* what = "elementwise fill";
  check_stream(stream);
  check_float_dtype(dtype, what);
  const int dev = stream->device();
  detail::check_device(x, dev, what, "x");
  void* px = detail::operand_pointer(x, x_offset, n, dtype_size(dtype), what, "x");
  if (n == 0) return;
  DeviceGuard guard(dev);
  with_float_type(dtype, [&](auto zero) {
    using T = decltype(zero);
    launch_map<T, T, 0>(static_cast<const T*>(nullptr), static_cast<const T*>(nullptr),
                        static_cast<T*>(px), n, FillF<T>{value}, stream->get());
  });
  x.used_on(stream);
}

void elementwise_cast(const StreamPtr& stream, DType src_dtype, DeviceBuffer& src,
                      uint64_t src_offset, DType dst_dtype, DeviceBuffer& dst, uint64_t dst_offset,
                      uint64_t n) {
  const char* what = "elementwise cast";
  check_stream(stream);
  check_float_dtype(src_dtype, what);
  check_float_dtype(dst_dtype, what);
  const int dev = stream->device();
  detail::check_device(src, dev, what, "src");
  detail::check_device(dst, dev, what, "dst");
  const uint64_t ss = dtype_size(src_dtype), ds = dtype_size(dst_dtype);
  const void* ps = detail::operand_pointer(src, src_offset, n, ss, what, "src");
  void* pd = detail::operand_pointer(dst, dst_offset, n, ds, what, "dst");
  detail::check_no_partial_overlap(src, ps, n * ss, dst, pd, n * ds, what, "src", "dst");
  if (n == 0) return;
  DeviceGuard guard(dev);
  with_float_type(src_dtype, [&](auto from) {
    with_float_type(dst_dtype, [&](auto to) {
      launch_cast<decltype(from), decltype(to)>(ps, pd, n, stream->get());
    });
  });
  src.used_on(stream);
  dst.used_on(stream);
}

}  // namespace cudago
