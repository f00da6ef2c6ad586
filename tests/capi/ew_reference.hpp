// CPU references for the elementwise and reduction tests: element access by dtype, rounding to
// float16 and bfloat16 written independently of the library (scaling and nearbyint in double),
// random data and a compensated long double sum.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "cudago.h"

namespace ew_ref {

inline size_t elem_size(cudago_dtype_t t) { return cudago_dtype_size(t); }

// Rounds x to a binary format with p significand bits, minimum normal exponent emin and largest
// finite value max_finite: to nearest, ties to even (nearbyint in the default rounding mode),
// exact in double for the formats used here.
inline double round_to_format(double x, int p, int emin, double max_finite) {
  if (std::isnan(x) || std::isinf(x) || x == 0) return x;
  const int e = std::max(std::ilogb(x), emin);
  const double r = std::nearbyint(std::ldexp(x, p - 1 - e));
  const double v = std::ldexp(r, e - (p - 1));
  if (std::fabs(v) > max_finite) return std::copysign(std::numeric_limits<double>::infinity(), x);
  return v;
}

inline double round_f16(double x) { return round_to_format(x, 11, -14, 65504.0); }
inline double round_bf16(double x) { return round_to_format(x, 8, -126, 3.3895313892515355e38); }

inline double f16_to_double(uint16_t h) {
  const int sign = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v;
  if (e == 0x1f) {
    v = m ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else if (e == 0) {
    v = std::ldexp(m, -24);
  } else {
    v = std::ldexp(1024 + m, e - 25);
  }
  return sign ? -v : v;
}

// v must already be on the float16 grid (or NaN/Inf).
inline uint16_t double_to_f16_bits(double v) {
  const uint16_t sign = std::signbit(v) ? 0x8000 : 0;
  const double a = std::fabs(v);
  if (std::isnan(v)) return 0x7e00;
  if (std::isinf(v)) return sign | 0x7c00;
  if (a < std::ldexp(1.0, -14)) return sign | static_cast<uint16_t>(std::ldexp(a, 24));
  const int e = std::ilogb(a);
  const auto m = static_cast<uint16_t>(std::ldexp(a, 10 - e) - 1024);
  return sign | static_cast<uint16_t>((e + 15) << 10) | m;
}

inline double bf16_to_double(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t double_to_bf16_bits(double v) {  // v on the bfloat16 grid
  if (std::isnan(v)) return 0x7fc0;
  const float f = static_cast<float>(v);
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return static_cast<uint16_t>(bits >> 16);
}

// Element i of a host array of dtype t, exactly, as a double.
inline double get(cudago_dtype_t t, const std::vector<uint8_t>& v, size_t i) {
  switch (t) {
    case CUDAGO_DTYPE_F32: {
      float f;
      std::memcpy(&f, &v[i * 4], 4);
      return f;
    }
    case CUDAGO_DTYPE_F64: {
      double d;
      std::memcpy(&d, &v[i * 8], 8);
      return d;
    }
    case CUDAGO_DTYPE_F16: {
      uint16_t h;
      std::memcpy(&h, &v[i * 2], 2);
      return f16_to_double(h);
    }
    default: {
      uint16_t h;
      std::memcpy(&h, &v[i * 2], 2);
      return bf16_to_double(h);
    }
  }
}

// Stores x rounded to dtype t (one rounding from double) as element i.
inline void put(cudago_dtype_t t, std::vector<uint8_t>& v, size_t i, double x) {
  switch (t) {
    case CUDAGO_DTYPE_F32: {
      const float f = static_cast<float>(x);
      std::memcpy(&v[i * 4], &f, 4);
      return;
    }
    case CUDAGO_DTYPE_F64:
      std::memcpy(&v[i * 8], &x, 8);
      return;
    case CUDAGO_DTYPE_F16: {
      const uint16_t h = double_to_f16_bits(round_f16(x));
      std::memcpy(&v[i * 2], &h, 2);
      return;
    }
    default: {
      const uint16_t h = double_to_bf16_bits(round_bf16(x));
      std::memcpy(&v[i * 2], &h, 2);
      return;
    }
  }
}

// Bits of element i equal (any NaN matches any NaN).
inline bool same_element(cudago_dtype_t t, const std::vector<uint8_t>& a,
                         const std::vector<uint8_t>& b, size_t i) {
  const size_t es = elem_size(t);
  if (std::memcmp(&a[i * es], &b[i * es], es) == 0) return true;
  return std::isnan(get(t, a, i)) && std::isnan(get(t, b, i));
}

// Random finite values of varied magnitude: every bit pattern of the 16-bit types except Inf and
// NaN; for float32 and float64 random significands with exponents in [-40, 40] and a few zeros
// and subnormal-range values of float32.
inline void fill_random(cudago_dtype_t t, std::vector<uint8_t>& v, size_t n, std::mt19937_64& rng) {
  v.resize(n * elem_size(t));
  for (size_t i = 0; i < n; ++i) {
    if (t == CUDAGO_DTYPE_F16 || t == CUDAGO_DTYPE_BF16) {
      uint16_t h;
      do {
        h = static_cast<uint16_t>(rng());
      } while ((t == CUDAGO_DTYPE_F16 ? (h & 0x7c00) == 0x7c00 : (h & 0x7f80) == 0x7f80));
      std::memcpy(&v[i * 2], &h, 2);
      continue;
    }
    const double m = std::ldexp(static_cast<double>(rng() >> 11), -53) + 0.5;  // [0.5, 1.5)
    const int e = static_cast<int>(rng() % 81) - 40;
    double x = std::ldexp(m, e) * ((rng() & 1) ? -1 : 1);
    if (rng() % 1000 == 0) x = 0;
    if (t == CUDAGO_DTYPE_F32 && rng() % 1000 == 1) x = std::ldexp(m, -140);  // subnormal
    put(t, v, i, x);
  }
}

// Uniform values in [-1, 1) rounded to t, for the reductions (real-valued data).
inline void fill_uniform(cudago_dtype_t t, std::vector<uint8_t>& v, size_t n,
                         std::mt19937_64& rng) {
  v.resize(n * elem_size(t));
  std::uniform_real_distribution<double> d(-1.0, 1.0);
  for (size_t i = 0; i < n; ++i) put(t, v, i, d(rng));
}

// Neumaier-compensated sum in long double: error far below the bounds under test.
struct Sum {
  long double s = 0, c = 0;
  void add(long double x) {
    const long double t = s + x;
    if (std::fabs(s) >= std::fabs(x)) {
      c += (s - t) + x;
    } else {
      c += (x - t) + s;
    }
    s = t;
  }
  long double value() const { return s + c; }
};

}  // namespace ew_ref
