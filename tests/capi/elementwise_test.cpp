// Elementwise operations through the C ABI against CPU loops, on fresh random data at awkward
// sizes and offsets. Results must be bit-exact: every operation rounds once (or is exact) on
// both sides, the GPU without flush-to-zero or fast math, so any difference is a bug. Outputs
// live inside larger poisoned (0xFF) buffers, so an unwritten element or a write outside the
// range fails.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "capi_util.hpp"
#include "ew_reference.hpp"

namespace {

using ew_ref::elem_size;
using ew_ref::get;
using ew_ref::put;

constexpr cudago_dtype_t kFloatTypes[] = {CUDAGO_DTYPE_F32, CUDAGO_DTYPE_F64, CUDAGO_DTYPE_F16,
                                          CUDAGO_DTYPE_BF16};
// One, a vector's worth and its neighbours, the block size and its neighbours, primes, many
// blocks.
constexpr uint64_t kSizes[] = {1, 2, 3, 7, 8, 9, 255, 256, 257, 1021, 4099, 65537, 1000003};

// Offsets (a, b, c) in elements (the calls take them in bytes): all aligned; all equally
// misaligned (vector path after a scalar head); different misalignments (scalar path).
struct Offsets {
  uint64_t a, b, c;
};
constexpr Offsets kOffsets[] = {{0, 0, 0}, {1, 1, 1}, {3, 3, 3}, {0, 1, 2}, {5, 0, 0}};
constexpr uint64_t kPad = 8;  // elements of poison after every range

struct Device {
  Buffer buf;
  std::vector<uint8_t> host;  // what was uploaded (for inputs) or read back
};

Buffer upload(const std::vector<uint8_t>& bytes) {
  Buffer b = make_buffer(bytes.size());
  EXPECT_EQ(cudago_copy_h2d(bytes.data(), b.get(), 0, bytes.size()), CUDAGO_SUCCESS)
      << last_error_text();
  return b;
}

std::vector<uint8_t> download(const Buffer& b, size_t bytes) {
  std::vector<uint8_t> out(bytes);
  EXPECT_EQ(cudago_copy_d2h(b.get(), 0, out.data(), bytes), CUDAGO_SUCCESS) << last_error_text();
  return out;
}

// Compares the whole output buffer: inside [off, off + n) with `want`, elsewhere still 0xFF.
::testing::AssertionResult check_output(cudago_dtype_t t, const std::vector<uint8_t>& got,
                                        const std::vector<uint8_t>& want, uint64_t off,
                                        uint64_t n) {
  const size_t es = elem_size(t);
  const size_t total = got.size() / es;
  int bad = 0;
  std::string msg;
  for (size_t i = 0; i < total; ++i) {
    bool ok;
    if (i >= off && i < off + n) {
      ok = ew_ref::same_element(t, got, want, i);
    } else {
      ok = true;
      for (size_t k = 0; k < es; ++k) ok = ok && got[i * es + k] == 0xFF;
    }
    if (!ok && bad++ < 5) {
      msg += " [" + std::to_string(i) + "] got " + std::to_string(get(t, got, i)) + " want " +
             (i >= off && i < off + n ? std::to_string(get(t, want, i)) : std::string("poison"));
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " wrong elements:" << msg;
}

// The compute type of the 16-bit types and float32 is float32.
double compute(cudago_dtype_t t, double x) {
  return t == CUDAGO_DTYPE_F64 ? x : static_cast<double>(static_cast<float>(x));
}

double binary_ref(cudago_binary_op_t op, cudago_dtype_t t, double a, double b) {
  if (t == CUDAGO_DTYPE_F64) {
    switch (op) {
      case CUDAGO_BINARY_ADD:
        return a + b;
      case CUDAGO_BINARY_SUB:
        return a - b;
      case CUDAGO_BINARY_MUL:
        return a * b;
      default:
        return a / b;
    }
  }
  const float x = static_cast<float>(a), y = static_cast<float>(b);  // exact: a, b are floats
  switch (op) {
    case CUDAGO_BINARY_ADD:
      return x + y;
    case CUDAGO_BINARY_SUB:
      return x - y;
    case CUDAGO_BINARY_MUL:
      return x * y;
    default:
      return x / y;
  }
}

class Elementwise : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = std::random_device{}();
    rng_.seed(seed_);
    RecordProperty("seed", std::to_string(seed_));
    std::printf("elementwise seed: %llu\n", static_cast<unsigned long long>(seed_));
  }
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
};

TEST_F(Elementwise, BinaryOpsMatchTheCpuBitForBit) {
  NEED_GPU();
  Stream s = make_stream();
  for (cudago_dtype_t t : kFloatTypes) {
    const size_t es = elem_size(t);
    for (uint64_t n : kSizes) {
      for (const Offsets& o : kOffsets) {
        std::vector<uint8_t> a, b;
        ew_ref::fill_random(t, a, o.a + n, rng_);
        ew_ref::fill_random(t, b, o.b + n, rng_);
        Buffer da = upload(a), db = upload(b);
        const size_t c_elems = o.c + n + kPad;
        Buffer dc = make_buffer(c_elems * es);
        for (cudago_binary_op_t op :
             {CUDAGO_BINARY_ADD, CUDAGO_BINARY_SUB, CUDAGO_BINARY_MUL, CUDAGO_BINARY_DIV}) {
          CG_OK(cudago_memset(0xFF, dc.get(), 0, c_elems * es));
          CG_OK(cudago_elementwise_binary(s.get(), da.get(), o.a * es, db.get(), o.b * es, dc.get(),
                                          o.c * es, n, t, op));
          std::vector<uint8_t> want(c_elems * es, 0xFF);
          for (uint64_t i = 0; i < n; ++i) {
            put(t, want, o.c + i, binary_ref(op, t, get(t, a, o.a + i), get(t, b, o.b + i)));
          }
          ASSERT_TRUE(check_output(t, download(dc, c_elems * es), want, o.c, n))
              << dtype_label(t) << " op " << op << " n=" << n << " offsets " << o.a << "," << o.b
              << "," << o.c << " seed=" << seed_;
        }
      }
    }
  }
}

TEST_F(Elementwise, InPlaceAliasing) {
  NEED_GPU();
  Stream s = make_stream();
  for (cudago_dtype_t t : kFloatTypes) {
    const uint64_t n = 4099, off = 1, boff = off * elem_size(t);
    std::vector<uint8_t> a, b;
    ew_ref::fill_random(t, a, off + n, rng_);
    ew_ref::fill_random(t, b, off + n, rng_);
    Buffer da = upload(a), db = upload(b);
    // a = a * b, then a = a + a.
    CG_OK(cudago_elementwise_binary(s.get(), da.get(), boff, db.get(), boff, da.get(), boff, n, t,
                                    CUDAGO_BINARY_MUL));
    CG_OK(cudago_elementwise_binary(s.get(), da.get(), boff, da.get(), boff, da.get(), boff, n, t,
                                    CUDAGO_BINARY_ADD));
    std::vector<uint8_t> want = a;
    for (uint64_t i = off; i < off + n; ++i) {
      put(t, want, i, binary_ref(CUDAGO_BINARY_MUL, t, get(t, a, i), get(t, b, i)));
      const double m = get(t, want, i);
      put(t, want, i, binary_ref(CUDAGO_BINARY_ADD, t, m, m));
    }
    std::vector<uint8_t> got = download(da, want.size());
    for (uint64_t i = 0; i < off + n; ++i) {
      ASSERT_TRUE(ew_ref::same_element(t, got, want, i))
          << dtype_label(t) << " i=" << i << " got " << get(t, got, i) << " want "
          << get(t, want, i) << " seed=" << seed_;
    }
  }
}

TEST_F(Elementwise, AxpyScaleFillMatchTheCpu) {
  NEED_GPU();
  Stream s = make_stream();
  std::uniform_real_distribution<double> alpha_dist(-3.0, 3.0);
  for (cudago_dtype_t t : kFloatTypes) {
    const size_t es = elem_size(t);
    for (uint64_t n : kSizes) {
      for (const Offsets& o : kOffsets) {
        const double alpha = alpha_dist(rng_);
        const double ca = compute(t, alpha);
        std::vector<uint8_t> x, y;
        ew_ref::fill_random(t, x, o.a + n, rng_);
        ew_ref::fill_random(t, y, o.c + n, rng_);
        y.resize((o.c + n + kPad) * es, 0xFF);  // poison after the range
        Buffer dx = upload(x), dy = upload(y);
        // Make the prefix of y poison too, so its untouched part is checkable.
        CG_OK(cudago_memset(0xFF, dy.get(), 0, o.c * es));
        CG_OK(
            cudago_elementwise_axpy(s.get(), alpha, dx.get(), o.a * es, dy.get(), o.c * es, n, t));
        std::vector<uint8_t> want(y.size(), 0xFF);
        for (uint64_t i = 0; i < n; ++i) {
          const double xi = get(t, x, o.a + i), yi = get(t, y, o.c + i);
          const double r =
              t == CUDAGO_DTYPE_F64
                  ? std::fma(ca, xi, yi)
                  : static_cast<double>(std::fma(static_cast<float>(ca), static_cast<float>(xi),
                                                 static_cast<float>(yi)));
          put(t, want, o.c + i, r);
        }
        ASSERT_TRUE(check_output(t, download(dy, y.size()), want, o.c, n))
            << "axpy " << dtype_label(t) << " alpha=" << alpha << " n=" << n << " offsets " << o.a
            << "," << o.c << " seed=" << seed_;

        // scale, in place on x's range inside a poisoned buffer.
        std::vector<uint8_t> xs(x);
        xs.resize((o.a + n + kPad) * es, 0xFF);
        Buffer dxs = upload(xs);
        CG_OK(cudago_memset(0xFF, dxs.get(), 0, o.a * es));
        CG_OK(cudago_elementwise_scale(s.get(), alpha, dxs.get(), o.a * es, n, t));
        std::vector<uint8_t> want_s(xs.size(), 0xFF);
        for (uint64_t i = 0; i < n; ++i) {
          const double xi = get(t, x, o.a + i);
          put(t, want_s, o.a + i,
              t == CUDAGO_DTYPE_F64
                  ? ca * xi
                  : static_cast<double>(static_cast<float>(ca) * static_cast<float>(xi)));
        }
        ASSERT_TRUE(check_output(t, download(dxs, xs.size()), want_s, o.a, n))
            << "scale " << dtype_label(t) << " n=" << n << " seed=" << seed_;

        // fill with a value that needs rounding in every type.
        const double value = alpha * 1.0000001234567;
        CG_OK(cudago_memset(0xFF, dxs.get(), 0, xs.size()));
        CG_OK(cudago_elementwise_fill(s.get(), value, dxs.get(), o.a * es, n, t));
        std::vector<uint8_t> want_f(xs.size(), 0xFF);
        for (uint64_t i = 0; i < n; ++i) put(t, want_f, o.a + i, value);
        ASSERT_TRUE(check_output(t, download(dxs, xs.size()), want_f, o.a, n))
            << "fill " << dtype_label(t) << " n=" << n << " seed=" << seed_;
      }
    }
  }
}

// Values that probe the rounding of casts: ties between two 16-bit values, points just above
// and below them (where rounding through float32 first would go wrong from float64), the range
// limits, zeros of both signs, Inf and NaN.
std::vector<double> cast_probes(std::mt19937_64& rng, size_t random_count) {
  std::vector<double> v = {0.0,
                           -0.0,
                           1.0,
                           -1.0,
                           65504.0,
                           65519.0,
                           65520.0,
                           -65520.0,
                           1e-8,
                           -3e-8,
                           6e-8,
                           1e-40,
                           3.4e38,
                           3.4028234663852886e38,
                           3.5e38,
                           1e300,
                           -1e300,
                           1e-300,
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN()};
  std::uniform_int_distribution<int> e(-30, 20);
  for (size_t i = 0; i < random_count; ++i) {
    const double m = std::ldexp(static_cast<double>(rng() >> 11), -53) + 0.5;
    const double x = std::ldexp(m, e(rng)) * ((rng() & 1) ? -1 : 1);
    v.push_back(x);
    // A float16 tie, a bfloat16 tie and points one float64 ulp away from each.
    const double h = ew_ref::round_f16(x), hb = ew_ref::round_bf16(x);
    const double ulp_h = std::ldexp(1.0, std::max(std::ilogb(h == 0 ? 1e-8 : h), -14) - 10);
    const double ulp_b = std::ldexp(1.0, std::ilogb(hb == 0 ? 1e-30 : hb) - 7);
    for (double tie : {h + ulp_h / 2, hb + ulp_b / 2}) {
      v.push_back(tie);
      v.push_back(std::nextafter(tie, 1e308));
      v.push_back(std::nextafter(tie, -1e308));
    }
  }
  return v;
}

TEST_F(Elementwise, CastsBetweenEveryPairRoundOnce) {
  NEED_GPU();
  Stream s = make_stream();
  const std::vector<double> probes = cast_probes(rng_, 20000);
  for (cudago_dtype_t from : kFloatTypes) {
    // Source values: the probes rounded to `from` (exactly representable there).
    const uint64_t n = probes.size(), off = 3;
    std::vector<uint8_t> src((off + n) * elem_size(from), 0);
    for (uint64_t i = 0; i < n; ++i) put(from, src, off + i, probes[i]);
    Buffer dsrc = upload(src);
    for (cudago_dtype_t to : kFloatTypes) {
      for (uint64_t dst_off : {uint64_t{0}, uint64_t{1}}) {
        const size_t es = elem_size(to), total = dst_off + n + kPad;
        Buffer ddst = make_buffer(total * es);
        CG_OK(cudago_memset(0xFF, ddst.get(), 0, total * es));
        CG_OK(cudago_elementwise_cast(s.get(), dsrc.get(), off * elem_size(from), ddst.get(),
                                      dst_off * es, n, from, to));
        std::vector<uint8_t> want(total * es, 0xFF);
        for (uint64_t i = 0; i < n; ++i) put(to, want, dst_off + i, get(from, src, off + i));
        ASSERT_TRUE(check_output(to, download(ddst, total * es), want, dst_off, n))
            << dtype_label(from) << " -> " << dtype_label(to) << " dst_off=" << dst_off
            << " seed=" << seed_;
      }
    }
  }
}

TEST(ElementwiseArgs, BadArgumentsAreRefused) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer a = make_buffer(400), c = make_buffer(400), small = make_buffer(396);
  CG_OK(cudago_memset(0, a.get(), 0, 400));  // the accepted calls read them (initcheck)
  CG_OK(cudago_memset(0, c.get(), 0, 400));
  // Offsets are in bytes: 100 F32 elements per 400-byte buffer.
  auto bin = [&](cudago_binary_op_t op, cudago_dtype_t t, cudago_buffer_t x, uint64_t xo,
                 cudago_buffer_t y, uint64_t yo, cudago_buffer_t z, uint64_t zo, uint64_t n) {
    return cudago_elementwise_binary(s.get(), x, xo, y, yo, z, zo, n, t, op);
  };
  const auto F32 = CUDAGO_DTYPE_F32;
  CG_EXPECT(CUDAGO_SUCCESS, bin(CUDAGO_BINARY_ADD, F32, a.get(), 0, a.get(), 0, c.get(), 0, 100));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            bin(CUDAGO_BINARY_ADD, F32, a.get(), 0, a.get(), 0, small.get(), 0, 100));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            bin(CUDAGO_BINARY_ADD, F32, a.get(), 4, a.get(), 0, c.get(), 0, 100));
  // The largest multiple of 4 (element 2^62 - 1): one element from there ends at byte 2^64.
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            bin(CUDAGO_BINARY_ADD, F32, a.get(), UINT64_MAX - 3, a.get(), 0, c.get(), 0, 1));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            bin(CUDAGO_BINARY_ADD, F32, a.get(), 0, a.get(), 0, c.get(), 0, uint64_t{1} << 62));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            bin(CUDAGO_BINARY_ADD, CUDAGO_DTYPE_I32, a.get(), 0, a.get(), 0, c.get(), 0, 10));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, bin(CUDAGO_BINARY_ADD, static_cast<cudago_dtype_t>(77),
                                               a.get(), 0, a.get(), 0, c.get(), 0, 10));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            bin(static_cast<cudago_binary_op_t>(4), F32, a.get(), 0, a.get(), 0, c.get(), 0, 10));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            bin(static_cast<cudago_binary_op_t>(-1), F32, a.get(), 0, a.get(), 0, c.get(), 0, 10));
  // Partial overlap of an input and the output in one buffer.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            bin(CUDAGO_BINARY_ADD, F32, a.get(), 0, c.get(), 0, a.get(), 4, 10));
  CG_EXPECT(CUDAGO_SUCCESS, bin(CUDAGO_BINARY_ADD, F32, a.get(), 0, c.get(), 0, a.get(), 40, 10));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            bin(CUDAGO_BINARY_ADD, F32, nullptr, 0, a.get(), 0, c.get(), 0, 10));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_elementwise_binary(nullptr, a.get(), 0, a.get(), 0, c.get(), 0, 10, F32,
                                      CUDAGO_BINARY_ADD));
  CG_EXPECT(CUDAGO_SUCCESS, bin(CUDAGO_BINARY_ADD, F32, a.get(), 0, a.get(), 0, small.get(), 0, 0));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_elementwise_axpy(s.get(), 2.0, a.get(), 0, small.get(), 0, 100, F32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_elementwise_axpy(s.get(), 2.0, a.get(), 0, a.get(), 12, 10, F32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_elementwise_axpy(s.get(), 2.0, a.get(), 0, nullptr, 0, 10, F32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_elementwise_scale(s.get(), 2.0, a.get(), 0, 51, CUDAGO_DTYPE_F64));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_elementwise_scale(s.get(), 2.0, a.get(), 0, 5, CUDAGO_DTYPE_U8));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_elementwise_fill(s.get(), 1.0, a.get(), 2, 200, CUDAGO_DTYPE_F16));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_elementwise_fill(s.get(), 1.0, nullptr, 0, 1, CUDAGO_DTYPE_F16));
  // Casts: the destination is measured in its own element size (F16 element 100 is byte 200).
  CG_EXPECT(CUDAGO_SUCCESS,
            cudago_elementwise_cast(s.get(), a.get(), 0, c.get(), 200, 100, F32, CUDAGO_DTYPE_F16));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_elementwise_cast(s.get(), a.get(), 0, c.get(), 0, 100, F32, CUDAGO_DTYPE_F64));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_elementwise_cast(s.get(), a.get(), 0, c.get(), 0, 10, F32, CUDAGO_DTYPE_I64));
  // In place between types of different sizes overlaps partially.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_elementwise_cast(s.get(), a.get(), 0, a.get(), 0, 10, F32, CUDAGO_DTYPE_F16));
  CG_EXPECT(CUDAGO_SUCCESS, cudago_elementwise_cast(s.get(), a.get(), 0, a.get(), 0, 10,
                                                    CUDAGO_DTYPE_F16, CUDAGO_DTYPE_BF16));
  // Byte offsets that are not a multiple of the element size, for each operand.
  for (uint64_t bad : {uint64_t{1}, uint64_t{2}, uint64_t{6}}) {
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              bin(CUDAGO_BINARY_ADD, F32, a.get(), bad, a.get(), 0, c.get(), 0, 10));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              bin(CUDAGO_BINARY_ADD, F32, a.get(), 0, a.get(), bad, c.get(), 0, 10));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              bin(CUDAGO_BINARY_ADD, F32, a.get(), 0, a.get(), 0, c.get(), bad, 10));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_elementwise_axpy(s.get(), 2.0, a.get(), bad, c.get(), 0, 10, F32));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_elementwise_axpy(s.get(), 2.0, a.get(), 0, c.get(), bad, 10, F32));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_elementwise_scale(s.get(), 2.0, a.get(), bad, 10, F32));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_elementwise_fill(s.get(), 1.0, a.get(), bad, 10, CUDAGO_DTYPE_F64));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_elementwise_cast(s.get(), a.get(), bad, c.get(),
                                                                     0, 10, F32, CUDAGO_DTYPE_F16));
  }
  // F16 offsets count 2-byte elements: byte 2 is fine, byte 3 is not; the cast's destination
  // offset is checked against the destination's element size.
  CG_EXPECT(CUDAGO_SUCCESS,
            cudago_elementwise_fill(s.get(), 1.0, a.get(), 2, 10, CUDAGO_DTYPE_F16));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_elementwise_fill(s.get(), 1.0, a.get(), 3, 10, CUDAGO_DTYPE_F16));
  CG_EXPECT(CUDAGO_SUCCESS,
            cudago_elementwise_cast(s.get(), a.get(), 0, c.get(), 2, 10, F32, CUDAGO_DTYPE_F16));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_elementwise_cast(s.get(), a.get(), 0, c.get(), 2, 10, F32, CUDAGO_DTYPE_F64));
  {
    cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
    ASSERT_EQ(bin(CUDAGO_BINARY_ADD, F32, a.get(), 0, a.get(), 0, c.get(), 2, 10),
              CUDAGO_ERROR_INVALID_ARGUMENT);
    CG_OK(cudago_error_last(&e));
    EXPECT_STREQ(e.operation, "cudago_elementwise_binary");
    EXPECT_NE(std::string(e.message).find("c_offset"), std::string::npos) << e.message;
  }
  // Values that are not enumerators.
  for (int32_t bad : {99, -1}) {
    const auto bad_dtype = static_cast<cudago_dtype_t>(bad);
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, bin(static_cast<cudago_binary_op_t>(bad), F32, a.get(),
                                                 0, a.get(), 0, c.get(), 0, 10));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              bin(CUDAGO_BINARY_ADD, bad_dtype, a.get(), 0, a.get(), 0, c.get(), 0, 10));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_elementwise_axpy(s.get(), 2.0, a.get(), 0, c.get(), 0, 10, bad_dtype));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_elementwise_scale(s.get(), 2.0, a.get(), 0, 10, bad_dtype));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_elementwise_fill(s.get(), 1.0, a.get(), 0, 10, bad_dtype));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_elementwise_cast(s.get(), a.get(), 0, c.get(), 0, 10, bad_dtype, F32));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_elementwise_cast(s.get(), a.get(), 0, c.get(), 0, 10, F32, bad_dtype));
  }
  CG_OK(cudago_stream_synchronize(s.get()));
}

TEST(ElementwiseArgs, BuffersOfAnotherDeviceAreRefused) {
  NEED_GPU();
  int32_t count = 0;
  CG_OK(cudago_device_count(&count));
  if (count < 2) GTEST_SKIP() << "needs 2 devices, this machine has " << count;
  Stream s0 = make_stream(0);
  Buffer b0 = make_buffer(64, 0), b1 = make_buffer(64, 1);
  CG_EXPECT(CUDAGO_ERROR_DEVICE_MISMATCH,
            cudago_elementwise_binary(s0.get(), b0.get(), 0, b1.get(), 0, b0.get(), 0, 16,
                                      CUDAGO_DTYPE_F32, CUDAGO_BINARY_ADD));
  CG_EXPECT(CUDAGO_ERROR_DEVICE_MISMATCH,
            cudago_elementwise_fill(s0.get(), 1.0, b1.get(), 0, 16, CUDAGO_DTYPE_F32));
}

}  // namespace
