// The hand-written tiled SGEMM through the C ABI, against a CPU reference in double precision,
// on fresh random data at awkward shapes (1, primes, non-multiples of the 128 x 128 x 8 tile,
// shapes that take the scalar-load path).
//
// Error bound: the kernel accumulates k products in float32 (fma), so each element's error is
// at most gamma_(k+2) = (k + 2) u / (1 - (k + 2) u), u = 2^-24, times
// |alpha| * sum_k |a_ik b_kj| + |beta c_ij| (the standard bound for a recursive dot product plus
// the two scalings). It is rigorous, so the test cannot fail on a correct kernel, and it is
// small enough to catch any missing, doubled or misplaced term (each such term is of the order
// of the sum divided by k, well above k * 6e-8 of it for every k used here).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "capi_util.hpp"

namespace {

unsigned seed_once() {
  static const unsigned seed = [] {
    unsigned s = std::random_device{}();
    std::printf("sgemm tests: random seed %u\n", s);
    return s;
  }();
  return seed;
}

std::vector<float> random_floats(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Checks C = alpha A B + beta C0 for one shape; beta == 0 runs with C poisoned (NaN), which
// must not reach the result.
void check(cudago_stream_t s, uint64_t m, uint64_t n, uint64_t k, float alpha, float beta,
           std::mt19937& rng) {
  const std::string what = "m=" + std::to_string(m) + " n=" + std::to_string(n) +
                           " k=" + std::to_string(k) + " alpha=" + std::to_string(alpha) +
                           " beta=" + std::to_string(beta) + " seed=" + std::to_string(seed_once());
  auto a = random_floats(m * k, rng), b = random_floats(k * n, rng), c0 = random_floats(m * n, rng);
  const uint64_t slack = 64;
  Buffer da = make_buffer(a.size() * 4), db = make_buffer(b.size() * 4),
         dc = make_buffer(c0.size() * 4 + slack);
  if (!a.empty()) {
    CG_OK(cudago_copy_h2d(a.data(), da.get(), 0, a.size() * 4));
  }
  if (!b.empty()) {
    CG_OK(cudago_copy_h2d(b.data(), db.get(), 0, b.size() * 4));
  }
  CG_OK(cudago_memset(0xFF, dc.get(), 0, c0.size() * 4 + slack));
  if (beta != 0.0f) {
    CG_OK(cudago_copy_h2d(c0.data(), dc.get(), 0, c0.size() * 4));
  }
  CG_OK(cudago_gemm_tiled_f32(s, m, n, k, alpha, da.get(), db.get(), beta, dc.get())) << what;
  std::vector<float> got(m * n + slack / 4);
  CG_OK(cudago_copy_d2h(dc.get(), 0, got.data(), got.size() * 4));

  const double u = std::ldexp(1.0, -24);
  const double gamma = (k + 2) * u / (1 - (k + 2) * u);
  double err2 = 0, ref2 = 0;
  int bad = 0;
  for (uint64_t i = 0; i < m; ++i) {
    for (uint64_t j = 0; j < n; ++j) {
      double sum = 0, abs_sum = 0;
      for (uint64_t p = 0; p < k; ++p) {
        const double t = double(a[i * k + p]) * b[p * n + j];
        sum += t;
        abs_sum += std::fabs(t);
      }
      const double c_old = beta != 0.0f ? c0[i * n + j] : 0.0;
      const double want = alpha * sum + beta * c_old;
      const double bound = gamma * (std::fabs(alpha) * abs_sum + std::fabs(beta * c_old)) + 1e-30;
      const double g = got[i * n + j];
      err2 += (g - want) * (g - want);
      ref2 += want * want;
      if (!(std::fabs(g - want) <= bound)) {  // also catches NaN
        if (bad++ < 5) {
          ADD_FAILURE() << what << ": C[" << i << "][" << j << "] = " << g << ", want " << want
                        << " (bound " << bound << ")";
        }
      }
    }
  }
  ASSERT_EQ(bad, 0) << what << ": " << bad << " of " << m * n << " elements wrong";
  for (uint64_t i = m * n; i < got.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &got[i], 4);
    ASSERT_EQ(bits, 0xFFFFFFFFu) << what << ": float " << i << " past C was written";
  }
  // The relative norm error is typically ~sqrt(k) u, far inside the elementwise bound.
  if (ref2 > 0 && k >= 1000) {
    std::printf("%s: relative norm error %.3g\n", what.c_str(), std::sqrt(err2 / ref2));
  }
}

TEST(GemmTiled, MatchesTheCpuAtAwkwardShapes) {
  NEED_GPU();
  std::mt19937 rng(seed_once());
  Stream s = make_stream();
  const uint64_t shapes[][3] = {{1, 1, 1},      {1, 1, 7},       {7, 1, 1},        {1, 9, 1},
                                {2, 3, 5},      {127, 129, 131}, {128, 128, 128},  {129, 67, 257},
                                {253, 509, 3},  {5, 1000, 4},    {256, 260, 132},  {131, 128, 8},
                                {64, 1028, 12}, {300, 4, 1024},  {513, 517, 1031}, {1, 4096, 64},
                                {4096, 1, 64},  {257, 384, 9}};
  for (const auto& sh : shapes) {
    check(s.get(), sh[0], sh[1], sh[2], 1.0f, 0.0f, rng);
    if (HasFatalFailure()) return;
  }
  // alpha and beta, on the vector and the scalar paths.
  check(s.get(), 200, 136, 72, -1.5f, 0.5f, rng);
  check(s.get(), 201, 135, 71, 2.0f, -1.0f, rng);
  check(s.get(), 129, 131, 17, 0.0f, 1.0f, rng);  // alpha = 0: C = beta C
}

TEST(GemmTiled, KZeroScalesC) {
  NEED_GPU();
  std::mt19937 rng(seed_once());
  Stream s = make_stream();
  check(s.get(), 37, 41, 0, 1.0f, 0.25f, rng);
  check(s.get(), 37, 41, 0, 1.0f, 0.0f, rng);  // C = 0 over a poisoned C
}

TEST(GemmTiled, BadArgumentsAreRefused) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer a = make_buffer(4 * 6 * 5), b = make_buffer(4 * 5 * 7), c = make_buffer(4 * 6 * 7);
  Buffer small = make_buffer(4 * 6 * 7 - 4);
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_gemm_tiled_f32(nullptr, 6, 7, 5, 1, a.get(), b.get(), 0, c.get()));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_gemm_tiled_f32(s.get(), 6, 7, 5, 1, nullptr, b.get(), 0, c.get()));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_gemm_tiled_f32(s.get(), 6, 7, 5, 1, a.get(), nullptr, 0, c.get()));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_gemm_tiled_f32(s.get(), 6, 7, 5, 1, a.get(), b.get(), 0, nullptr));
  // Each buffer too small by one element.
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_gemm_tiled_f32(s.get(), 6, 7, 5, 1, a.get(), b.get(), 0, small.get()));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_gemm_tiled_f32(s.get(), 6, 7, 6, 1, a.get(), b.get(), 0, c.get()));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_gemm_tiled_f32(s.get(), 7, 7, 5, 1, a.get(), b.get(), 0, c.get()));
  // Overflowing products (what negative sizes become in uint64_t).
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_gemm_tiled_f32(s.get(), uint64_t{1} << 33, 7, uint64_t{1} << 33, 1, a.get(),
                                  b.get(), 0, c.get()));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_gemm_tiled_f32(s.get(), static_cast<uint64_t>(-1), 7,
                                                             5, 1, a.get(), b.get(), 0, c.get()));
  // C aliasing A or B (square shapes, so that every size check passes).
  Buffer sq = make_buffer(4 * 64), sq2 = make_buffer(4 * 64);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_gemm_tiled_f32(s.get(), 8, 8, 8, 1, sq.get(), sq2.get(), 0, sq.get()));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_gemm_tiled_f32(s.get(), 8, 8, 8, 1, sq2.get(), sq.get(), 0, sq.get()));
  CG_OK(cudago_gemm_tiled_f32(s.get(), 8, 8, 8, 1, sq.get(), sq.get(), 0, sq2.get()));
  // A and B may be the same buffer; m = 0 or n = 0 are no-ops.
  CG_OK(cudago_gemm_tiled_f32(s.get(), 5, 5, 5, 1, a.get(), a.get(), 0, c.get()));
  CG_OK(cudago_gemm_tiled_f32(s.get(), 0, 7, 5, 1, a.get(), b.get(), 0, c.get()));
  CG_OK(cudago_gemm_tiled_f32(s.get(), 6, 0, 5, 1, a.get(), b.get(), 0, c.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
}

}  // namespace
