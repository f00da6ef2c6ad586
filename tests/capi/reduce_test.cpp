// Reductions through the C ABI against CPU loops (compensated long double sums), on fresh random
// data at awkward sizes, offsets and shapes.
//
// Bounds, from the documented error analysis (u = 2^-24 for f32, 2^-53 for f64): sum within
// 32 u sum|x|, dot within 33 u sum|x y|, norm2 within 18 u of the norm; the reference's own error
// (below 1e-18 relative) is covered by one extra u. min, max and argmax must be exact. Sums of
// small integers are exact in any order, so a second test demands bit equality there: it fails
// for any element dropped or counted twice. Outputs are poisoned (0xFF: NaN, or -1 for indices)
// inside larger buffers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "capi_util.hpp"
#include "ew_reference.hpp"

namespace {

using ew_ref::elem_size;
using ew_ref::get;

constexpr cudago_reduce_op_t kOps[] = {CUDAGO_REDUCE_SUM,    CUDAGO_REDUCE_MIN, CUDAGO_REDUCE_MAX,
                                       CUDAGO_REDUCE_ARGMAX, CUDAGO_REDUCE_DOT, CUDAGO_REDUCE_NRM2};
const char* op_name(cudago_reduce_op_t op) {
  static const char* names[] = {"sum", "min", "max", "argmax", "dot", "nrm2"};
  return names[op];
}

double unit(cudago_dtype_t t) {
  return t == CUDAGO_DTYPE_F32 ? std::ldexp(1.0, -24) : std::ldexp(1.0, -53);
}

// The CPU result of `op` over x[0, n) (and y) with the bound the GPU must meet. For argmax the
// value is the index.
struct Expected {
  double value;
  double bound;
};

Expected reference(cudago_reduce_op_t op, cudago_dtype_t t, const std::vector<uint8_t>& x,
                   size_t xo, const std::vector<uint8_t>& y, size_t yo, size_t n) {
  const double u = unit(t);
  ew_ref::Sum sum, abs;
  double best = 0;
  size_t best_i = 0;
  for (size_t i = 0; i < n; ++i) {
    const double v = get(t, x, xo + i);
    switch (op) {
      case CUDAGO_REDUCE_SUM:
        sum.add(v);
        abs.add(std::fabs(v));
        break;
      case CUDAGO_REDUCE_DOT: {
        const long double p = static_cast<long double>(v) * get(t, y, yo + i);  // exact
        sum.add(p);
        abs.add(std::fabs(p));
        break;
      }
      case CUDAGO_REDUCE_NRM2:
        sum.add(static_cast<long double>(v) * v);
        break;
      case CUDAGO_REDUCE_MIN:
        if (i == 0 || std::isnan(v) || (!std::isnan(best) && v < best)) best = v;
        break;
      case CUDAGO_REDUCE_MAX:
        if (i == 0 || std::isnan(v) || (!std::isnan(best) && v > best)) best = v;
        break;
      default:  // argmax: NaN above all, first index wins
        if (i == 0 || (std::isnan(v) && !std::isnan(best)) || (!std::isnan(best) && v > best)) {
          best = v;
          best_i = i;
        }
        break;
    }
  }
  switch (op) {
    case CUDAGO_REDUCE_SUM:
      return {static_cast<double>(sum.value()), 33 * u * static_cast<double>(abs.value())};
    case CUDAGO_REDUCE_DOT:
      return {static_cast<double>(sum.value()), 34 * u * static_cast<double>(abs.value())};
    case CUDAGO_REDUCE_NRM2: {
      const double norm = std::sqrt(static_cast<double>(sum.value()));
      return {norm, 19 * u * norm};
    }
    case CUDAGO_REDUCE_ARGMAX:
      return {static_cast<double>(best_i), 0};
    default:
      return {best, 0};
  }
}

Buffer upload(const std::vector<uint8_t>& bytes) {
  Buffer b = make_buffer(bytes.size());
  EXPECT_EQ(cudago_copy_h2d(bytes.data(), b.get(), 0, bytes.size()), CUDAGO_SUCCESS)
      << last_error_text();
  return b;
}

// Reads result r of a reduction from a buffer of doubles/floats/int64.
double read_result(cudago_reduce_op_t op, cudago_dtype_t t, const std::vector<uint8_t>& out,
                   size_t i) {
  if (op == CUDAGO_REDUCE_ARGMAX) {
    int64_t v;
    std::memcpy(&v, &out[i * 8], 8);
    return static_cast<double>(v);
  }
  return get(t, out, i);
}

::testing::AssertionResult within(double got, const Expected& e) {
  const bool exact_ok =
      e.bound == 0 && (got == e.value || (std::isnan(got) && std::isnan(e.value)));
  const bool bound_ok = e.bound > 0 && std::fabs(got - e.value) <= e.bound;
  // Also accept the exact value when the bound is 0 (empty or all-zero data).
  const bool zero_ok = e.bound == 0 && e.value == 0 && got == 0;
  if (exact_ok || bound_ok || zero_ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << got << ", want " << e.value << " within "
                                       << e.bound << " (error " << std::fabs(got - e.value) << ")";
}

size_t out_size(cudago_reduce_op_t op, cudago_dtype_t t) {
  return op == CUDAGO_REDUCE_ARGMAX ? 8 : elem_size(t);
}

class Reduce : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = std::random_device{}();
    rng_.seed(seed_);
    RecordProperty("seed", std::to_string(seed_));
    std::printf("reduce seed: %llu\n", static_cast<unsigned long long>(seed_));
  }
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
};

// Whole ranges: sizes around the vector, warp, block and single-pass limits, primes, and sizes
// of many blocks; offsets that keep, shift or mismatch the 16-byte alignment of x and y.
TEST_F(Reduce, WholeRangesMatchTheCpu) {
  NEED_GPU();
  Stream s = make_stream();
  const uint64_t sizes[] = {1,   2,    3,    5,     31,    32,    33,      255,
                            257, 1021, 4099, 32768, 32769, 65537, 1000003, 10000019};
  for (cudago_dtype_t t : {CUDAGO_DTYPE_F32, CUDAGO_DTYPE_F64}) {
    const size_t es = elem_size(t);
    for (uint64_t n : sizes) {
      std::vector<uint8_t> x, y;
      ew_ref::fill_uniform(t, x, n + 3, rng_);
      ew_ref::fill_uniform(t, y, n + 3, rng_);
      Buffer dx = upload(x), dy = upload(y);
      const size_t out_elems = 4;
      Buffer dout = make_buffer(out_elems * 8);
      for (cudago_reduce_op_t op : kOps) {
        for (uint64_t xo : {uint64_t{0}, uint64_t{1}, uint64_t{3}}) {
          for (uint64_t yo : {uint64_t{0}, uint64_t{1}}) {
            if (op != CUDAGO_REDUCE_DOT && yo != 0) continue;
            if (n > 100000 && xo == 3) continue;  // keep the large cases few
            const bool dot = op == CUDAGO_REDUCE_DOT;
            const size_t os = out_size(op, t);
            CG_OK(cudago_memset(0xFF, dout.get(), 0, out_elems * 8));
            // Byte offsets: elements xo and yo of x and y, result 1 of out.
            CG_OK(cudago_reduce_all(s.get(), dx.get(), xo * es, dot ? dy.get() : nullptr, yo * es,
                                    dout.get(), os, n, t, op));
            std::vector<uint8_t> out(out_elems * 8);
            CG_OK(cudago_copy_d2h(dout.get(), 0, out.data(), out.size()));
            const Expected e = reference(op, t, x, xo, y, yo, n);
            ASSERT_TRUE(within(read_result(op, t, out, 1), e))
                << op_name(op) << " " << (es == 4 ? "f32" : "f64") << " n=" << n << " xo=" << xo
                << " yo=" << yo << " seed=" << seed_;
            for (size_t k = 0; k < out.size(); ++k) {
              if (k >= os && k < 2 * os) continue;
              ASSERT_EQ(out[k], 0xFF) << "byte " << k << " outside the result was written";
            }
          }
        }
      }
    }
  }
}

// Sums of values in {-1, 0, 1} are exact in any order while partial sums stay below 2^24, so
// the result must equal the integer sum: any element dropped or counted twice shows.
TEST_F(Reduce, IntegerSumsAreExact) {
  NEED_GPU();
  Stream s = make_stream();
  for (uint64_t n :
       {uint64_t{1}, uint64_t{4097}, uint64_t{32769}, uint64_t{1000003}, uint64_t{16000057}}) {
    std::vector<float> x(n), y(n);
    int64_t sum = 0, dot = 0;
    for (uint64_t i = 0; i < n; ++i) {
      x[i] = static_cast<float>(static_cast<int>(rng_() % 3) - 1);
      y[i] = static_cast<float>(static_cast<int>(rng_() % 3) - 1);
      sum += static_cast<int64_t>(x[i]);
      dot += static_cast<int64_t>(x[i] * y[i]);
    }
    Buffer dx = make_buffer(n * 4), dy = make_buffer(n * 4), dout = make_buffer(8);
    CG_OK(cudago_copy_h2d(x.data(), dx.get(), 0, n * 4));
    CG_OK(cudago_copy_h2d(y.data(), dy.get(), 0, n * 4));
    CG_OK(cudago_memset(0xFF, dout.get(), 0, 8));
    CG_OK(cudago_reduce_all(s.get(), dx.get(), 0, nullptr, 0, dout.get(), 0, n, CUDAGO_DTYPE_F32,
                            CUDAGO_REDUCE_SUM));
    CG_OK(cudago_reduce_all(s.get(), dx.get(), 0, dy.get(), 0, dout.get(), 4, n, CUDAGO_DTYPE_F32,
                            CUDAGO_REDUCE_DOT));
    float got[2];
    CG_OK(cudago_copy_d2h(dout.get(), 0, got, 8));
    EXPECT_EQ(got[0], static_cast<float>(sum)) << "sum n=" << n << " seed=" << seed_;
    EXPECT_EQ(got[1], static_cast<float>(dot)) << "dot n=" << n << " seed=" << seed_;
  }
}

TEST_F(Reduce, RowsMatchTheCpu) {
  NEED_GPU();
  Stream s = make_stream();
  struct Shape {
    uint64_t rows, cols;
  };
  const Shape shapes[] = {{1, 1},    {3, 1},     {1, 5},    {7, 33},     {5, 1024},
                          {3, 1025}, {17, 4099}, {1000, 3}, {2, 100003}, {300, 257}};
  for (cudago_dtype_t t : {CUDAGO_DTYPE_F32, CUDAGO_DTYPE_F64}) {
    for (const Shape& sh : shapes) {
      const uint64_t n = sh.rows * sh.cols;
      std::vector<uint8_t> x, y;
      ew_ref::fill_uniform(t, x, n + 1, rng_);
      ew_ref::fill_uniform(t, y, n + 1, rng_);
      Buffer dx = upload(x), dy = upload(y);
      const size_t out_elems = sh.rows + 2;
      Buffer dout = make_buffer(out_elems * 8);
      for (cudago_reduce_op_t op : kOps) {
        for (uint64_t xo : {uint64_t{0}, uint64_t{1}}) {
          const bool dot = op == CUDAGO_REDUCE_DOT;
          const size_t os = out_size(op, t);
          CG_OK(cudago_memset(0xFF, dout.get(), 0, out_elems * 8));
          // Byte offsets: element xo of x, result 1 of out.
          CG_OK(cudago_reduce_rows(s.get(), dx.get(), xo * elem_size(t), dot ? dy.get() : nullptr,
                                   0, dout.get(), os, sh.rows, sh.cols, t, op));
          std::vector<uint8_t> out(out_elems * 8);
          CG_OK(cudago_copy_d2h(dout.get(), 0, out.data(), out.size()));
          for (uint64_t r = 0; r < sh.rows; ++r) {
            const Expected e = reference(op, t, x, xo + r * sh.cols, y, r * sh.cols, sh.cols);
            ASSERT_TRUE(within(read_result(op, t, out, 1 + r), e))
                << op_name(op) << " rows " << sh.rows << "x" << sh.cols << " row " << r
                << " xo=" << xo << " seed=" << seed_;
          }
          for (size_t k = 0; k < os; ++k) ASSERT_EQ(out[k], 0xFF) << "before the results";
          for (size_t k = (1 + sh.rows) * os; k < out.size(); ++k) {
            ASSERT_EQ(out[k], 0xFF) << "after the results";
          }
        }
      }
    }
  }
}

TEST_F(Reduce, NaNInfinityAndTies) {
  NEED_GPU();
  Stream s = make_stream();
  const uint64_t n = 100003;
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  Buffer dx = make_buffer(n * 4), dout = make_buffer(8);
  auto run = [&](cudago_reduce_op_t op, const std::vector<float>& x) {
    CG_EXPECT(CUDAGO_SUCCESS, cudago_copy_h2d(x.data(), dx.get(), 0, n * 4));
    CG_EXPECT(CUDAGO_SUCCESS, cudago_memset(0xFF, dout.get(), 0, 8));
    CG_EXPECT(CUDAGO_SUCCESS, cudago_reduce_all(s.get(), dx.get(), 0, nullptr, 0, dout.get(), 0, n,
                                                CUDAGO_DTYPE_F32, op));
    uint8_t raw[8];
    EXPECT_EQ(cudago_copy_d2h(dout.get(), 0, raw, 8), CUDAGO_SUCCESS);
    std::vector<uint8_t> v(raw, raw + 8);
    return read_result(op, CUDAGO_DTYPE_F32, v, 0);
  };
  std::vector<float> x(n);
  for (uint64_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 1000) - 500.0f;
  // Ties: the maximum 499 first appears at 999; min -500 at 0.
  EXPECT_EQ(run(CUDAGO_REDUCE_ARGMAX, x), 999);
  EXPECT_EQ(run(CUDAGO_REDUCE_MAX, x), 499);
  EXPECT_EQ(run(CUDAGO_REDUCE_MIN, x), -500);
  x[77777] = inf;
  x[88888] = inf;
  x[5] = -inf;
  EXPECT_EQ(run(CUDAGO_REDUCE_ARGMAX, x), 77777);
  EXPECT_EQ(run(CUDAGO_REDUCE_MAX, x), inf);
  EXPECT_EQ(run(CUDAGO_REDUCE_MIN, x), -inf);
  EXPECT_TRUE(std::isnan(run(CUDAGO_REDUCE_SUM, x)));  // +inf + -inf = NaN
  x[99999] = nan;
  x[60000] = nan;
  EXPECT_EQ(run(CUDAGO_REDUCE_ARGMAX, x), 60000);
  EXPECT_TRUE(std::isnan(run(CUDAGO_REDUCE_MAX, x)));
  EXPECT_TRUE(std::isnan(run(CUDAGO_REDUCE_MIN, x)));
  EXPECT_TRUE(std::isnan(run(CUDAGO_REDUCE_SUM, x)));
  EXPECT_TRUE(std::isnan(run(CUDAGO_REDUCE_NRM2, x)));
  // All -inf: argmax is 0.
  std::fill(x.begin(), x.end(), -inf);
  EXPECT_EQ(run(CUDAGO_REDUCE_ARGMAX, x), 0);
}

TEST(ReduceArgs, EmptyInputs) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer x = make_buffer(64), out = make_buffer(64);
  for (cudago_reduce_op_t op : {CUDAGO_REDUCE_SUM, CUDAGO_REDUCE_NRM2}) {
    CG_OK(cudago_memset(0xFF, out.get(), 0, 64));
    CG_OK(
        cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 0, CUDAGO_DTYPE_F64, op));
    // Three F32 results from byte 16 (element 4).
    CG_OK(cudago_reduce_rows(s.get(), x.get(), 0, nullptr, 0, out.get(), 16, 3, 0, CUDAGO_DTYPE_F32,
                             op));
    double d;
    float f[3];
    CG_OK(cudago_copy_d2h(out.get(), 0, &d, 8));
    CG_OK(cudago_copy_d2h(out.get(), 16, f, 12));
    EXPECT_EQ(d, 0.0);
    EXPECT_EQ(f[0], 0.0f);
    EXPECT_EQ(f[2], 0.0f);
  }
  for (cudago_reduce_op_t op : {CUDAGO_REDUCE_MIN, CUDAGO_REDUCE_MAX, CUDAGO_REDUCE_ARGMAX}) {
    CG_EXPECT(
        CUDAGO_ERROR_INVALID_ARGUMENT,
        cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 0, CUDAGO_DTYPE_F32, op));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_reduce_rows(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 2, 0,
                                 CUDAGO_DTYPE_F32, op));
  }
  CG_OK(cudago_reduce_rows(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 0, 5, CUDAGO_DTYPE_F32,
                           CUDAGO_REDUCE_MAX));
}

TEST(ReduceArgs, BadArgumentsAreRefused) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer x = make_buffer(400), y = make_buffer(400), out = make_buffer(16);
  // Zeroed: the valid calls below read them (compute-sanitizer's initcheck).
  CG_OK(cudago_memset(0, x.get(), 0, 400));
  CG_OK(cudago_memset(0, y.get(), 0, 400));
  const cudago_dtype_t F32 = CUDAGO_DTYPE_F32;
  const cudago_reduce_op_t SUM = CUDAGO_REDUCE_SUM;
  // Offsets are in bytes: out's last F32 element starts at byte 12.
  CG_EXPECT(CUDAGO_SUCCESS,
            cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 12, 100, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 101, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 16, 100, F32, SUM));
  // ARGMAX writes an int64: byte 16 is past out's end.
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(),
                                                         16, 100, F32, CUDAGO_REDUCE_ARGMAX));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, UINT64_MAX, F32, SUM));
  CG_EXPECT(
      CUDAGO_ERROR_INVALID_ARGUMENT,
      cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 10, CUDAGO_DTYPE_F16, SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 10, F32,
                              static_cast<cudago_reduce_op_t>(6)));
  CG_EXPECT(
      CUDAGO_ERROR_INVALID_HANDLE,
      cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 10, F32, CUDAGO_REDUCE_DOT));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_reduce_all(s.get(), x.get(), 0, y.get(), 0, out.get(), 0, 10, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_reduce_all(s.get(), x.get(), 0, y.get(), 4, out.get(),
                                                         0, 100, F32, CUDAGO_REDUCE_DOT));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,  // out inside x (element 5)
            cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, x.get(), 20, 10, F32, SUM));
  CG_EXPECT(CUDAGO_SUCCESS,
            cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, x.get(), 40, 10, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_reduce_all(nullptr, x.get(), 0, nullptr, 0, out.get(), 0, 10, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_reduce_all(s.get(), nullptr, 0, nullptr, 0, out.get(), 0, 10, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, nullptr, 0, 10, F32, SUM));
  // Byte offsets that are not a multiple of the element size: x's and y's of dtype, out's of the
  // result type (int64 for ARGMAX, so byte 4 is refused there and byte 8 is fine).
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_reduce_all(s.get(), x.get(), 2, nullptr, 0, out.get(), 0, 10, F32, SUM));
  CG_EXPECT(
      CUDAGO_ERROR_INVALID_ARGUMENT,
      cudago_reduce_all(s.get(), x.get(), 4, nullptr, 0, out.get(), 0, 10, CUDAGO_DTYPE_F64, SUM));
  CG_EXPECT(
      CUDAGO_ERROR_INVALID_ARGUMENT,
      cudago_reduce_all(s.get(), x.get(), 0, y.get(), 6, out.get(), 0, 10, F32, CUDAGO_REDUCE_DOT));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 1, 10, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 4, 10, F32,
                              CUDAGO_REDUCE_ARGMAX));
  CG_EXPECT(CUDAGO_SUCCESS, cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 8, 10,
                                              F32, CUDAGO_REDUCE_ARGMAX));
  {
    cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
    ASSERT_EQ(cudago_reduce_all(s.get(), x.get(), 6, nullptr, 0, out.get(), 0, 10, F32, SUM),
              CUDAGO_ERROR_INVALID_ARGUMENT);
    CG_OK(cudago_error_last(&e));
    EXPECT_STREQ(e.operation, "cudago_reduce_all");
    EXPECT_NE(std::string(e.message).find("x_offset"), std::string::npos) << e.message;
  }
  // Values that are not enumerators.
  for (int32_t bad : {99, -1}) {
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 10,
                                static_cast<cudago_dtype_t>(bad), SUM));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_reduce_all(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 10, F32,
                                static_cast<cudago_reduce_op_t>(bad)));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_reduce_rows(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 2, 2,
                                 static_cast<cudago_dtype_t>(bad), SUM));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_reduce_rows(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 2, 2, F32,
                                 static_cast<cudago_reduce_op_t>(bad)));
  }
  // Rows: sizes, outputs per row, overflow.
  CG_EXPECT(CUDAGO_SUCCESS,
            cudago_reduce_rows(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 4, 25, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_reduce_rows(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 5, 25, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_reduce_rows(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 4, 26, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_reduce_rows(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, uint64_t{1} << 40,
                               uint64_t{1} << 40, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_reduce_rows(s.get(), x.get(), 0, nullptr, 0, out.get(), 0, 2, 2,
                               CUDAGO_DTYPE_I64, SUM));
  // Rows: byte offsets that are not a multiple of the element size.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_reduce_rows(s.get(), x.get(), 1, nullptr, 0, out.get(), 0, 2, 2, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_reduce_rows(s.get(), x.get(), 0, nullptr, 0, out.get(), 2, 2, 2, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_reduce_rows(s.get(), x.get(), 0, y.get(), 3, out.get(), 0, 2, 2, F32,
                               CUDAGO_REDUCE_DOT));
  CG_OK(cudago_stream_synchronize(s.get()));
}

}  // namespace
