// cuBLAS through the C ABI (GEMM, strided-batched GEMM, GEMV, AXPY, SCAL, DOT, NRM2) against
// naive CPU references accumulated in double, on fresh random data (the seed is printed) at
// awkward sizes, with poisoned outputs, padded leading dimensions and alpha/beta != 1/0.
//
// Error bounds, per precision, on the relative Frobenius norm ||C - C_ref|| / ||C_ref|| (the
// reference uses the exact values the GPU received, so only the GPU's arithmetic is measured):
//   f32 exact: 1e-6 * sqrt(k). Rounding errors of a k-term float32 sum of random-sign terms grow
//              like u * sqrt(k) (u = 6e-8); the bound leaves a factor of ~16. TF32 in this mode
//              would give ~1e-3 and fail it, so the test also proves the exact mode is exact.
//   tf32:      4e-3. Inputs lose 13 mantissa bits (relative 2^-11 rounded, 2^-10 truncated) on
//              each factor, so products carry up to ~2e-3 independent of k.
//   f16/bf16:  1e-2. Inputs are exact (multiples of 1/128); the float32 accumulation is tiny,
//              the rounding of C to 11 (f16) or 8 (bf16) significant bits dominates (<= 2e-3).
//   f64:       1e-12 (u = 1.1e-16; sqrt(k) * u is below 2e-15 for these sizes).
// Besides the norm, each element must satisfy |c - c_ref| <= tol * (|alpha| (|A||B|)_ij +
// |beta| |C0_ij|) + tiny, so that one wrong element of a large matrix cannot hide in the norm.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "capi_util.hpp"

namespace {

// ---- element encoding (host side, written for this test) ----

uint16_t f16_bits_exact(float f) {
  // Only for values exactly representable as normal f16 numbers, or zero.
  uint32_t b;
  std::memcpy(&b, &f, 4);
  uint16_t sign = static_cast<uint16_t>((b >> 16) & 0x8000u);
  if ((b & 0x7fffffffu) == 0) return sign;
  int exp = static_cast<int>((b >> 23) & 0xff) - 127 + 15;
  uint32_t mant = b & 0x7fffffu;
  return static_cast<uint16_t>(sign | (exp << 10) | (mant >> 13));
}

float f16_value(uint16_t h) {
  int exp = (h >> 10) & 0x1f;
  int mant = h & 0x3ff;
  float v;
  if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    v = mant ? NAN : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(mant | 0x400), exp - 25);
  }
  return (h & 0x8000) ? -v : v;
}

float bf16_value(uint16_t h) {
  uint32_t b = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

uint16_t bf16_bits_exact(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return static_cast<uint16_t>(b >> 16);  // exact: the low 16 bits are zero for our values
}

size_t esize(cudago_dtype_t t) { return cudago_dtype_size(t); }

std::vector<uint8_t> encode(const std::vector<double>& v, cudago_dtype_t t) {
  std::vector<uint8_t> out(v.size() * esize(t));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (t) {
      case CUDAGO_DTYPE_F64:
        std::memcpy(&out[i * 8], &v[i], 8);
        break;
      case CUDAGO_DTYPE_F32: {
        float f = static_cast<float>(v[i]);
        std::memcpy(&out[i * 4], &f, 4);
        break;
      }
      case CUDAGO_DTYPE_F16: {
        uint16_t h = f16_bits_exact(static_cast<float>(v[i]));
        std::memcpy(&out[i * 2], &h, 2);
        break;
      }
      default: {
        uint16_t h = bf16_bits_exact(static_cast<float>(v[i]));
        std::memcpy(&out[i * 2], &h, 2);
        break;
      }
    }
  }
  return out;
}

std::vector<double> decode(const std::vector<uint8_t>& bytes, cudago_dtype_t t) {
  size_t n = bytes.size() / esize(t);
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) {
    switch (t) {
      case CUDAGO_DTYPE_F64:
        std::memcpy(&v[i], &bytes[i * 8], 8);
        break;
      case CUDAGO_DTYPE_F32: {
        float f;
        std::memcpy(&f, &bytes[i * 4], 4);
        v[i] = f;
        break;
      }
      case CUDAGO_DTYPE_F16: {
        uint16_t h;
        std::memcpy(&h, &bytes[i * 2], 2);
        v[i] = f16_value(h);
        break;
      }
      default: {
        uint16_t h;
        std::memcpy(&h, &bytes[i * 2], 2);
        v[i] = bf16_value(h);
        break;
      }
    }
  }
  return v;
}

// Random values exactly representable in `t`: f16/bf16 get multiples of 1/128 in [-1, 1].
std::vector<double> random_values(size_t n, cudago_dtype_t t, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::uniform_int_distribution<int> q(-128, 128);
  std::vector<double> v(n);
  for (auto& x : v) {
    if (t == CUDAGO_DTYPE_F16 || t == CUDAGO_DTYPE_BF16) {
      x = q(rng) / 128.0;
    } else if (t == CUDAGO_DTYPE_F32) {
      x = static_cast<float>(u(rng));
    } else {
      x = u(rng);
    }
  }
  return v;
}

Buffer upload(const std::vector<uint8_t>& bytes) {
  Buffer b = make_buffer(bytes.size());
  if (!bytes.empty()) {
    EXPECT_EQ(cudago_copy_h2d(bytes.data(), b.get(), 0, bytes.size()), CUDAGO_SUCCESS)
        << last_error_text();
  }
  return b;
}

std::vector<uint8_t> download(const Buffer& b, size_t bytes) {
  std::vector<uint8_t> out(bytes);
  EXPECT_EQ(cudago_copy_d2h(b.get(), 0, out.data(), bytes), CUDAGO_SUCCESS) << last_error_text();
  return out;
}

unsigned fresh_seed() {
  unsigned seed = std::random_device{}();
  if (const char* s = std::getenv("CUDAGO_TEST_SEED")) seed = static_cast<unsigned>(std::stoul(s));
  std::printf("blas test seed: %u (replay with CUDAGO_TEST_SEED)\n", seed);
  return seed;
}

// ---- GEMM reference ----

struct Case {
  cudago_dtype_t dtype;
  cudago_blas_compute_t compute;
  const char* name;
  double tol;  // relative norm bound; scaled by sqrt(k) for f32 exact
};

const Case kCases[] = {
    {CUDAGO_DTYPE_F32, CUDAGO_BLAS_COMPUTE_DEFAULT, "f32", 1e-6},
    {CUDAGO_DTYPE_F32, CUDAGO_BLAS_COMPUTE_TF32, "tf32", 4e-3},
    {CUDAGO_DTYPE_F16, CUDAGO_BLAS_COMPUTE_DEFAULT, "f16", 1e-2},
    {CUDAGO_DTYPE_BF16, CUDAGO_BLAS_COMPUTE_DEFAULT, "bf16", 1e-2},
    {CUDAGO_DTYPE_F64, CUDAGO_BLAS_COMPUTE_DEFAULT, "f64", 1e-12},
};

double tolerance(const Case& c, uint64_t k) {
  return c.dtype == CUDAGO_DTYPE_F32 && c.compute == CUDAGO_BLAS_COMPUTE_DEFAULT
             ? c.tol * std::sqrt(static_cast<double>(k))
             : c.tol;
}

// Index of element (i, j) of a stored matrix.
size_t at(bool row_major, int64_t ld, int64_t i, int64_t j) {
  return static_cast<size_t>(row_major ? i * ld + j : i + j * ld);
}

// Elements one matrix spans: (lines - 1) * ld + len.
size_t span(bool row_major, int64_t rows, int64_t cols, int64_t ld) {
  int64_t len = row_major ? cols : rows, lines = row_major ? rows : cols;
  return static_cast<size_t>((lines - 1) * ld + len);
}

struct GemmRun {
  cudago_gemm_params_t p;
  uint64_t a_off = 0, b_off = 0, c_off = 0;  // first element of each (first) matrix
  std::vector<double> a, b, c0;              // full buffers (values as the GPU sees them)
};

// Runs r's GEMM on s, passing its element offsets as the byte offsets of the ABI.
cudago_status_t gemm_of(const Stream& s, const GemmRun& r, const Buffer& a, const Buffer& b,
                        const Buffer& c) {
  const uint64_t es = esize(r.p.dtype);
  return cudago_blas_gemm(s.get(), a.get(), r.a_off * es, b.get(), r.b_off * es, c.get(),
                          r.c_off * es, &r.p);
}

// Checks C (all batches) against the reference; returns a failure description or "".
std::string check_gemm(const GemmRun& r, const Case& cs, const std::vector<uint8_t>& c_bytes,
                       const std::vector<uint8_t>& c0_bytes) {
  const auto& p = r.p;
  const bool row = p.layout == CUDAGO_BLAS_ROW_MAJOR;
  const bool ta = p.trans_a == CUDAGO_BLAS_OP_T, tb = p.trans_b == CUDAGO_BLAS_OP_T;
  const int64_t batch = static_cast<int64_t>(p.batch);
  const int64_t m = static_cast<int64_t>(p.m), n = static_cast<int64_t>(p.n),
                k = static_cast<int64_t>(p.k);
  const int64_t lda = static_cast<int64_t>(p.lda), ldb = static_cast<int64_t>(p.ldb),
                ldc = static_cast<int64_t>(p.ldc);
  std::vector<double> got = decode(c_bytes, p.dtype);
  const size_t es = esize(p.dtype);
  std::vector<bool> inside(got.size(), false);
  double err2 = 0, ref2 = 0;
  const double tol = tolerance(cs, p.k);
  std::string first_bad;
  for (int64_t q = 0; q < batch; ++q) {
    const size_t oa = r.a_off + q * p.stride_a, ob = r.b_off + q * p.stride_b,
                 oc = r.c_off + q * p.stride_c;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0, mag = 0;
        for (int64_t l = 0; l < k; ++l) {
          double x = r.a[oa + (ta ? at(row, lda, l, i) : at(row, lda, i, l))];
          double y = r.b[ob + (tb ? at(row, ldb, j, l) : at(row, ldb, l, j))];
          acc += x * y;
          mag += std::fabs(x * y);
        }
        const size_t ci = oc + at(row, ldc, i, j);
        inside[ci] = true;
        const double c0 = p.beta == 0 ? 0 : r.c0[ci];
        const double ref = p.alpha * acc + p.beta * c0;
        const double scale = std::fabs(p.alpha) * mag + std::fabs(p.beta * c0);
        const double e = got[ci] - ref;
        err2 += e * e;
        ref2 += ref * ref;
        if (!(std::fabs(e) <= tol * scale + 1e-30) && first_bad.empty()) {
          first_bad = "C[" + std::to_string(q) + "](" + std::to_string(i) + ", " +
                      std::to_string(j) + ") = " + std::to_string(got[ci]) + ", want " +
                      std::to_string(ref) + " (tolerance " + std::to_string(tol * scale) + ")";
        }
      }
    }
  }
  if (!first_bad.empty()) return first_bad;
  // An all-zero reference (a 1x1x1 product with a zero factor: f16/bf16 draws include 0) has
  // no relative error: the error itself must then be zero.
  const double rel = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  if (!(rel <= tol)) {
    return "relative norm error " + std::to_string(rel) + " > " + std::to_string(tol);
  }
  // Elements outside the matrices (padding of ld, gaps between batches) are untouched.
  for (size_t i = 0; i < inside.size(); ++i) {
    if (!inside[i] && std::memcmp(&c_bytes[i * es], &c0_bytes[i * es], es) != 0) {
      return "element " + std::to_string(i) + " outside C was written";
    }
  }
  return "";
}

// Runs one GEMM with random data; extra = ld padding, beta_zero poisons C instead of filling it.
void run_gemm(const Stream& s, std::mt19937_64& rng, const Case& cs, cudago_blas_layout_t layout,
              cudago_blas_op_t ta, cudago_blas_op_t tb, int64_t m, int64_t n, int64_t k,
              int64_t extra, bool beta_zero, int64_t batch, bool broadcast_a,
              const std::string& label) {
  GemmRun r;
  cudago_gemm_params_t& p = r.p;
  cudago_gemm_params_init(&p);
  p.layout = layout;
  p.trans_a = ta;
  p.trans_b = tb;
  p.dtype = cs.dtype;
  p.compute = cs.compute;
  p.m = m;
  p.n = n;
  p.k = k;
  p.alpha = 1.5;
  p.beta = beta_zero ? 0.0 : -0.75;
  const bool row = layout == CUDAGO_BLAS_ROW_MAJOR;
  const int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  const int64_t lda = (row ? ac : ar) + extra, ldb = (row ? bc : br) + extra,
                ldc = (row ? n : m) + extra;
  p.lda = lda;
  p.ldb = ldb;
  p.ldc = ldc;
  r.a_off = 3;
  r.b_off = 1;
  r.c_off = 2;
  p.batch = batch;
  const size_t sa = span(row, ar, ac, lda), sb = span(row, br, bc, ldb), sc = span(row, m, n, ldc);
  p.stride_a = broadcast_a ? 0 : sa + 5;
  p.stride_b = sb + 1;
  p.stride_c = sc + 7;
  auto total = [&](size_t one, uint64_t stride, size_t off) {
    return off + static_cast<size_t>(batch - 1) * stride + one + 4;  // 4 spare at the end
  };
  const cudago_dtype_t t = cs.dtype;
  r.a = random_values(total(sa, p.stride_a, r.a_off), t, rng);
  r.b = random_values(total(sb, p.stride_b, r.b_off), t, rng);
  r.c0 = random_values(total(sc, p.stride_c, r.c_off), t, rng);
  Buffer da = upload(encode(r.a, t)), db = upload(encode(r.b, t));
  std::vector<uint8_t> c0_bytes = encode(r.c0, t);
  if (beta_zero) std::fill(c0_bytes.begin(), c0_bytes.end(), 0xFF);  // NaN everywhere
  Buffer dc = upload(c0_bytes);
  CG_OK(gemm_of(s, r, da, db, dc)) << label;
  CG_OK(cudago_stream_synchronize(s.get()));
  std::string bad = check_gemm(r, cs, download(dc, c0_bytes.size()), c0_bytes);
  ASSERT_EQ(bad, "") << label;
}

TEST(BlasGemm, MatchesTheCpuInEveryPrecisionLayoutAndTranspose) {
  NEED_GPU();
  std::mt19937_64 rng(fresh_seed());
  Stream s = make_stream();
  struct Dims {
    int64_t m, n, k;
  };
  const Dims dims[] = {{1, 1, 1}, {17, 31, 13}, {64, 33, 127}, {130, 67, 257}};
  for (const Case& cs : kCases) {
    for (cudago_blas_layout_t layout : {CUDAGO_BLAS_ROW_MAJOR, CUDAGO_BLAS_COL_MAJOR}) {
      for (cudago_blas_op_t ta : {CUDAGO_BLAS_OP_N, CUDAGO_BLAS_OP_T}) {
        for (cudago_blas_op_t tb : {CUDAGO_BLAS_OP_N, CUDAGO_BLAS_OP_T}) {
          int variant = 0;
          for (const Dims& d : dims) {
            ++variant;
            std::string label = std::string(cs.name) + (layout ? " col" : " row") +
                                (ta ? " T" : " N") + (tb ? "T" : "N") + " " + std::to_string(d.m) +
                                "x" + std::to_string(d.n) + "x" + std::to_string(d.k);
            // Alternate tight and padded leading dimensions, beta = 0 (poisoned C) and not.
            run_gemm(s, rng, cs, layout, ta, tb, d.m, d.n, d.k, variant % 2 ? 0 : 3,
                     variant % 2 == 1, 1, false, label);
            if (HasFatalFailure()) return;
          }
        }
      }
    }
  }
}

TEST(BlasGemm, LargerSquareAndTheExactModeIsNotTF32) {
  NEED_GPU();
  std::mt19937_64 rng(fresh_seed());
  Stream s = make_stream();
  for (const Case& cs : kCases) {
    run_gemm(s, rng, cs, CUDAGO_BLAS_ROW_MAJOR, CUDAGO_BLAS_OP_N, CUDAGO_BLAS_OP_N, 515, 509, 1031,
             0, true, 1, false, std::string(cs.name) + " 515x509x1031");
    if (HasFatalFailure()) return;
  }
}

// Clearing the handle cache frees the workspaces (the device pool's used bytes fall by at
// least one workspace), and the next GEMM creates a handle again and is still right.
TEST(BlasGemm, CacheClearFreesTheHandlesAndTheNextCallWorks) {
  CG_OK(cudago_blas_cache_clear());  // no BLAS call yet, or handles from earlier tests: fine
  NEED_GPU();
  std::mt19937_64 rng(fresh_seed());
  Stream s = make_stream();
  const Case& cs = kCases[0];
  run_gemm(s, rng, cs, CUDAGO_BLAS_ROW_MAJOR, CUDAGO_BLAS_OP_N, CUDAGO_BLAS_OP_T, 37, 29, 41, 0,
           true, 1, false, "before the clear");
  if (HasFatalFailure()) return;
  CG_OK(cudago_stream_synchronize(s.get()));
  cudago_pool_stats_t before, after;
  cudago_pool_stats_init(&before);
  cudago_pool_stats_init(&after);
  CG_OK(cudago_pool_stats(0, &before));
  CG_OK(cudago_blas_cache_clear());
  CG_OK(cudago_pool_stats(0, &after));
  // A workspace is 4 MiB (32 MiB from Hopper on), taken from the device's pool.
  EXPECT_GE(before.used_bytes - after.used_bytes, uint64_t{4} << 20)
      << "used " << before.used_bytes << " -> " << after.used_bytes;
  run_gemm(s, rng, cs, CUDAGO_BLAS_ROW_MAJOR, CUDAGO_BLAS_OP_T, CUDAGO_BLAS_OP_N, 31, 43, 17, 0,
           true, 1, false, "after the clear");
  CG_OK(cudago_blas_cache_clear());
  CG_OK(cudago_blas_cache_clear());  // twice: nothing left to free
}

TEST(BlasGemm, StridedBatched) {
  NEED_GPU();
  std::mt19937_64 rng(fresh_seed());
  Stream s = make_stream();
  for (const Case& cs : kCases) {
    for (cudago_blas_layout_t layout : {CUDAGO_BLAS_ROW_MAJOR, CUDAGO_BLAS_COL_MAJOR}) {
      run_gemm(s, rng, cs, layout, CUDAGO_BLAS_OP_T, CUDAGO_BLAS_OP_N, 19, 23, 29, 2, true, 7,
               false, std::string(cs.name) + " batch 7");
      if (HasFatalFailure()) return;
      run_gemm(s, rng, cs, layout, CUDAGO_BLAS_OP_N, CUDAGO_BLAS_OP_T, 33, 5, 41, 0, false, 4, true,
               std::string(cs.name) + " batch 4, A broadcast");
      if (HasFatalFailure()) return;
    }
  }
}

TEST(BlasGemm, BadArgumentsAreRefusedBeforeCuBLAS) {
  NEED_GPU();
  Stream s = make_stream();
  // 4 x 5 times 5 x 6, row-major f32, tight: A 20, B 30, C 24 floats.
  Buffer a = make_buffer(20 * 4), b = make_buffer(30 * 4), c = make_buffer(24 * 4);
  Buffer small = make_buffer(24 * 4 - 1);
  CG_OK(cudago_memset(0, a.get(), 0, 20 * 4));
  CG_OK(cudago_memset(0, b.get(), 0, 30 * 4));
  CG_OK(cudago_memset(0xFF, c.get(), 0, 24 * 4));
  auto base = [] {
    cudago_gemm_params_t p;
    cudago_gemm_params_init(&p);
    p.m = 4;
    p.n = 6;
    p.k = 5;
    return p;
  };
  cudago_gemm_params_t p = base();
  // Byte offsets of A, B and C.
  struct Offsets {
    uint64_t a = 0, b = 0, c = 0;
  };
  auto gemm = [&](const cudago_gemm_params_t& q, cudago_buffer_t cc = nullptr, Offsets o = {}) {
    return cudago_blas_gemm(s.get(), a.get(), o.a, b.get(), o.b, cc ? cc : c.get(), o.c, &q);
  };
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_gemm(s.get(), a.get(), 0, b.get(), 0, c.get(), 0, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_blas_gemm(nullptr, a.get(), 0, b.get(), 0, c.get(), 0, &p));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_blas_gemm(s.get(), a.get(), 0, nullptr, 0, c.get(), 0, &p));
  p.struct_size = 0;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p));
  // 0, above cuBLAS's 32-bit limit, and above INT64_MAX (refused before anything is sized).
  for (uint64_t bad : {uint64_t{0}, uint64_t{INT_MAX} + 1, uint64_t{1} << 63, UINT64_MAX}) {
    p = base();
    p.m = bad;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p)) << "m = " << bad;
    p = base();
    p.n = bad;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p)) << "n = " << bad;
    p = base();
    p.k = bad;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p)) << "k = " << bad;
  }
  // batch 0 is refused (it is not taken as 1), and so are huge batches.
  for (uint64_t bad : {uint64_t{0}, uint64_t{INT_MAX} + 1, uint64_t{1} << 63, UINT64_MAX - 1}) {
    p = base();
    p.batch = bad;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p)) << "batch = " << bad;
  }
  p = base();
  p.lda = 4;  // row length of A is 5
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p));
  p = base();
  p.ldc = 5;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p));
  p = base();
  p.layout = CUDAGO_BLAS_COL_MAJOR;
  p.lda = 3;  // column length of A is 4
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p));
  for (uint64_t bad : {uint64_t{1} << 63, UINT64_MAX}) {
    p = base();
    p.ldb = bad;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p)) << "ldb = " << bad;
    p = base();
    p.batch = 2;
    p.stride_a = bad;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p)) << "stride_a = " << bad;
  }
  // Values that are not enumerators.
  p = base();
  p.layout = static_cast<cudago_blas_layout_t>(7);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p));
  p = base();
  p.trans_b = static_cast<cudago_blas_op_t>(2);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p));
  p = base();
  p.compute = static_cast<cudago_blas_compute_t>(9);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p));
  for (int32_t bad : {99, -1}) {
    p = base();
    p.layout = static_cast<cudago_blas_layout_t>(bad);
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p)) << "layout = " << bad;
    p = base();
    p.trans_a = static_cast<cudago_blas_op_t>(bad);
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p)) << "trans_a = " << bad;
    p = base();
    p.compute = static_cast<cudago_blas_compute_t>(bad);
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p)) << "compute = " << bad;
    p = base();
    p.dtype = static_cast<cudago_dtype_t>(bad);
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p)) << "dtype = " << bad;
  }
  p = base();
  p.dtype = CUDAGO_DTYPE_I32;
  CG_EXPECT(CUDAGO_ERROR_NOT_SUPPORTED, gemm(p));
  p = base();
  p.dtype = CUDAGO_DTYPE_F16;
  p.compute = CUDAGO_BLAS_COMPUTE_TF32;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p));
  // Byte offsets that are not a multiple of the element size (4 bytes, 2 for f16).
  p = base();
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p, nullptr, {2, 0, 0}));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p, nullptr, {0, 1, 0}));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p, nullptr, {0, 0, 6}));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p, nullptr, {UINT64_MAX, 0, 0}));
  p.dtype = CUDAGO_DTYPE_F16;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p, nullptr, {0, 0, 1}));
  // Undersized by one element, through the size, a larger ld, an offset or the batch.
  p = base();
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, gemm(p, small.get()));
  p.dtype = CUDAGO_DTYPE_F64;  // twice the bytes
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, gemm(p));
  p = base();
  p.ldb = 7;
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, gemm(p));
  p = base();
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, gemm(p, nullptr, {4, 0, 0}));  // A from element 1
  p = base();
  p.batch = 2;
  p.stride_c = 24;
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, gemm(p));
  p.stride_c = 23;  // the two C matrices would overlap
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemm(p));
  p = base();
  // The largest multiple of 4: its element offset plus A's extent overflows the byte size.
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, gemm(p, nullptr, {UINT64_MAX - 3, 0, 0}));
  p = base();
  p.batch = INT_MAX;
  p.stride_a = INT64_MAX;
  p.stride_c = INT64_MAX;
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, gemm(p));
  // C overlapping A in one buffer.
  p = base();
  p.m = 2;
  p.n = 2;
  p.k = 2;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_gemm(s.get(), a.get(), 0, b.get(), 0, a.get(), 0, &p));
  // A uses bytes [0, 16): C from byte 16 is disjoint, which is fine.
  CG_OK(cudago_blas_gemm(s.get(), a.get(), 0, b.get(), 0, a.get(), 16, &p));
  // Nothing above wrote C: it still holds the poison.
  CG_OK(cudago_stream_synchronize(s.get()));
  std::vector<uint8_t> cb = download(c, 24 * 4);
  for (size_t i = 0; i < cb.size(); ++i) ASSERT_EQ(cb[i], 0xFF) << "byte " << i;
  // And the valid call works.
  CG_OK(gemm(base()));
  CG_OK(cudago_stream_synchronize(s.get()));
  cb = download(c, 24 * 4);
  for (size_t i = 0; i < cb.size(); ++i) ASSERT_EQ(cb[i], 0) << "byte " << i;
}

TEST(BlasGemm, ManyThreadsOnManyStreams) {
  NEED_GPU();
  const unsigned seed = fresh_seed();
  constexpr int kThreads = 8, kIters = 12;
  std::atomic<int> failures{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + t);
      cudago_stream_t s = nullptr;
      if (cudago_stream_create(&s, 0, CUDAGO_STREAM_NON_BLOCKING, 0) != CUDAGO_SUCCESS) {
        errors[t] = "stream create: " + last_error_text();
        ++failures;
        return;
      }
      for (int it = 0; it < kIters && errors[t].empty(); ++it) {
        const int64_t m = 33 + 7 * t + it, n = 65 - t, k = 129 + 3 * it;
        std::vector<double> a = random_values(m * k, CUDAGO_DTYPE_F32, rng);
        std::vector<double> b = random_values(k * n, CUDAGO_DTYPE_F32, rng);
        cudago_buffer_t da = nullptr, db = nullptr, dc = nullptr;
        auto ea = encode(a, CUDAGO_DTYPE_F32), eb = encode(b, CUDAGO_DTYPE_F32);
        std::vector<uint8_t> got(static_cast<size_t>(m * n) * 4);
        cudago_gemm_params_t p;
        cudago_gemm_params_init(&p);
        p.m = m;
        p.n = n;
        p.k = k;
        bool ok = cudago_buffer_alloc_async(&da, s, ea.size()) == CUDAGO_SUCCESS &&
                  cudago_buffer_alloc_async(&db, s, eb.size()) == CUDAGO_SUCCESS &&
                  cudago_buffer_alloc_async(&dc, s, got.size()) == CUDAGO_SUCCESS &&
                  cudago_stream_synchronize(s) == CUDAGO_SUCCESS &&
                  cudago_copy_h2d(ea.data(), da, 0, ea.size()) == CUDAGO_SUCCESS &&
                  cudago_copy_h2d(eb.data(), db, 0, eb.size()) == CUDAGO_SUCCESS &&
                  cudago_memset_async(s, 0xFF, dc, 0, got.size()) == CUDAGO_SUCCESS &&
                  cudago_blas_gemm(s, da, 0, db, 0, dc, 0, &p) == CUDAGO_SUCCESS &&
                  cudago_copy_d2h(dc, 0, got.data(), got.size()) == CUDAGO_SUCCESS;
        if (!ok) errors[t] = last_error_text();
        cudago_buffer_free(da);
        cudago_buffer_free(db);
        cudago_buffer_free(dc);
        if (!ok) break;
        GemmRun r;
        r.p = p;
        r.p.lda = k;
        r.p.ldb = n;
        r.p.ldc = n;
        r.a = a;
        r.b = b;
        r.c0.assign(static_cast<size_t>(m * n), 0);
        std::vector<uint8_t> poison(got.size(), 0xFF);
        std::string bad = check_gemm(r, kCases[0], got, poison);
        if (!bad.empty()) errors[t] = "iteration " + std::to_string(it) + ": " + bad;
      }
      if (!errors[t].empty()) ++failures;
      cudago_stream_destroy(s);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
  EXPECT_EQ(failures.load(), 0);
}

// One thread moving between streams: the handle (and its workspace) follows it, ordered.
TEST(BlasGemm, OneThreadAlternatingStreams) {
  NEED_GPU();
  std::mt19937_64 rng(fresh_seed());
  Stream s1 = make_stream(), s2 = make_stream();
  for (int it = 0; it < 6; ++it) {
    const Stream& s = it % 2 ? s2 : s1;
    run_gemm(s, rng, kCases[it % 2 ? 1 : 0], CUDAGO_BLAS_ROW_MAJOR, CUDAGO_BLAS_OP_N,
             CUDAGO_BLAS_OP_T, 257, 255, 513, 1, true, 1, false,
             "alternating " + std::to_string(it));
    if (HasFatalFailure()) return;
  }
}

// ---- Graph replay of small GEMMs (cudago_blas_set_graph_replay) ----

// Turns the graph replay of small GEMMs on for a scope, and off (the default) after it.
struct GraphReplayOn {
  GraphReplayOn(uint64_t max_entries, uint64_t max_macs) {
    EXPECT_EQ(cudago_blas_set_graph_replay(max_entries, max_macs), CUDAGO_SUCCESS)
        << last_error_text();
  }
  ~GraphReplayOn() {
    EXPECT_EQ(cudago_blas_set_graph_replay(0, 0), CUDAGO_SUCCESS) << last_error_text();
  }
  GraphReplayOn(const GraphReplayOn&) = delete;
  GraphReplayOn& operator=(const GraphReplayOn&) = delete;
};

constexpr uint64_t kReplayMacs = uint64_t{512} * 512 * 512;

// The setting is validated before anything touches a device: the same with or without a GPU.
TEST(BlasGraphReplay, SettingIsValidatedWithoutAGpu) {
  const uint64_t limit = uint64_t{1} << 40;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_blas_set_graph_replay(16, limit + 1));
  EXPECT_NE(last_error_text().find("max_macs"), std::string::npos) << last_error_text();
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_blas_set_graph_replay(0, UINT64_MAX));
  CG_OK(cudago_blas_set_graph_replay(0, 0));
  CG_OK(cudago_blas_set_graph_replay(16, limit));
  CG_OK(cudago_blas_set_graph_replay(UINT64_MAX, kReplayMacs));
  CG_OK(cudago_blas_set_graph_replay(0, 0));
}

// With replay on, a small GEMM repeated on the same buffers and stream is captured on its
// second call and replayed after: every call must give the direct call's result, read the
// buffers' current contents, and never replay a graph whose buffer was freed, even when a new
// buffer gets its address. max_entries = 0 goes back to direct calls.
TEST(BlasGemm, GraphReplayMatchesTheCpu) {
  NEED_GPU();
  std::mt19937_64 rng(fresh_seed());
  Stream s = make_stream();
  GraphReplayOn replay(16, kReplayMacs);
  const Case& cs = kCases[0];
  GemmRun r;
  cudago_gemm_params_t& p = r.p;
  cudago_gemm_params_init(&p);
  p.m = 33;
  p.n = 47;
  p.k = 65;
  p.alpha = 1.25;
  p.beta = 0.5;
  p.lda = 65;
  p.ldb = 47;
  p.ldc = 47;
  const size_t na = 33 * 65, nb = 65 * 47, nc = 33 * 47, es = esize(cs.dtype);
  r.a = random_values(na, cs.dtype, rng);
  r.b = random_values(nb, cs.dtype, rng);
  r.c0 = random_values(nc, cs.dtype, rng);
  Buffer da = upload(encode(r.a, cs.dtype)), db = upload(encode(r.b, cs.dtype));
  Buffer dc = make_buffer(nc * es);
  // C is written back to c0 before each call (beta != 0 reads it); "" on success.
  auto call = [&](const std::string& label) -> std::string {
    const std::vector<uint8_t> ec = encode(r.c0, cs.dtype);
    if (cudago_copy_h2d(ec.data(), dc.get(), 0, ec.size()) != CUDAGO_SUCCESS ||
        gemm_of(s, r, da, db, dc) != CUDAGO_SUCCESS) {
      return label + ": " + last_error_text();
    }
    const std::string bad = check_gemm(r, cs, download(dc, nc * es), ec);
    return bad.empty() ? bad : label + ": " + bad;
  };
  for (int it = 0; it < 5; ++it) ASSERT_EQ(call("repeat " + std::to_string(it)), "");
  for (int it = 0; it < 3; ++it) {
    r.a = random_values(na, cs.dtype, rng);
    const std::vector<uint8_t> ea = encode(r.a, cs.dtype);
    CG_OK(cudago_copy_h2d(ea.data(), da.get(), 0, ea.size()));
    ASSERT_EQ(call("changed A " + std::to_string(it)), "");
  }
  for (int it = 0; it < 3; ++it) {
    db.reset();  // freed: its graph must never run again
    r.b = random_values(nb, cs.dtype, rng);
    db = upload(encode(r.b, cs.dtype));  // likely at the freed buffer's address
    for (int rep = 0; rep < 3; ++rep) {
      ASSERT_EQ(call("new B " + std::to_string(it) + ", call " + std::to_string(rep)), "");
    }
  }
  CG_OK(cudago_blas_set_graph_replay(0, 0));
  for (int it = 0; it < 3; ++it) {
    r.a = random_values(na, cs.dtype, rng);
    const std::vector<uint8_t> ea = encode(r.a, cs.dtype);
    CG_OK(cudago_copy_h2d(ea.data(), da.get(), 0, ea.size()));
    ASSERT_EQ(call("replay off " + std::to_string(it)), "");
  }
}

// Replay under concurrency: threads on their own streams repeat their own GEMMs while the
// device's bound (3) is below their number, so graphs are evicted from idle handles, and the
// main thread changes the setting meanwhile, which drops graphs of idle handles at once and of
// handles in use when they are checked in. Every result must stay right.
TEST(BlasGemm, GraphReplayManyThreadsSmallBoundWhileTheSettingChanges) {
  NEED_GPU();
  const unsigned seed = fresh_seed();
  GraphReplayOn replay(3, kReplayMacs);
  constexpr int kThreads = 6, kIters = 24;
  std::vector<std::string> errors(kThreads);
  std::atomic<int> running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + t);
      const int64_t m = 17 + t, n = 29, k = 41 + 2 * t;
      GemmRun r;
      cudago_gemm_params_init(&r.p);
      r.p.m = m;
      r.p.n = n;
      r.p.k = k;
      r.p.lda = k;
      r.p.ldb = n;
      r.p.ldc = n;
      r.a = random_values(m * k, CUDAGO_DTYPE_F32, rng);
      r.b = random_values(k * n, CUDAGO_DTYPE_F32, rng);
      r.c0.assign(static_cast<size_t>(m * n), 0);
      std::vector<uint8_t> ea = encode(r.a, CUDAGO_DTYPE_F32), eb = encode(r.b, CUDAGO_DTYPE_F32);
      const std::vector<uint8_t> c0_bytes(static_cast<size_t>(m * n) * 4, 0);
      std::vector<uint8_t> got(c0_bytes.size());
      cudago_stream_t s = nullptr;
      cudago_buffer_t da = nullptr, db = nullptr, dc = nullptr;
      bool ok = cudago_stream_create(&s, 0, CUDAGO_STREAM_NON_BLOCKING, 0) == CUDAGO_SUCCESS &&
                cudago_buffer_alloc(&da, 0, ea.size()) == CUDAGO_SUCCESS &&
                cudago_buffer_alloc(&db, 0, eb.size()) == CUDAGO_SUCCESS &&
                cudago_buffer_alloc(&dc, 0, got.size()) == CUDAGO_SUCCESS &&
                cudago_copy_h2d(eb.data(), db, 0, eb.size()) == CUDAGO_SUCCESS;
      for (int it = 0; ok && it < kIters; ++it) {
        if (it % 6 == 0) {  // new contents of A now and then: replays read them
          r.a = random_values(m * k, CUDAGO_DTYPE_F32, rng);
          ea = encode(r.a, CUDAGO_DTYPE_F32);
          ok = cudago_copy_h2d(ea.data(), da, 0, ea.size()) == CUDAGO_SUCCESS;
        }
        ok = ok && cudago_blas_gemm(s, da, 0, db, 0, dc, 0, &r.p) == CUDAGO_SUCCESS &&
             cudago_copy_d2h(dc, 0, got.data(), got.size()) == CUDAGO_SUCCESS;
        if (!ok) break;
        const std::string bad = check_gemm(r, kCases[0], got, c0_bytes);
        if (!bad.empty()) {
          errors[t] = "iteration " + std::to_string(it) + ": " + bad;
          break;
        }
      }
      if (!ok) errors[t] = last_error_text();
      cudago_buffer_free(da);
      cudago_buffer_free(db);
      cudago_buffer_free(dc);
      cudago_stream_destroy(s);
      --running;
    });
  }
  for (int i = 0; running.load() > 0 && i < 50; ++i) {
    EXPECT_EQ(cudago_blas_set_graph_replay(3 + i % 2, kReplayMacs), CUDAGO_SUCCESS)
        << last_error_text();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
}

// With replay on, small GEMMs repeated with identical parameters are replayed from a captured
// CUDA graph (one per stream) after the second call: every replay must read the buffers'
// current data.
TEST(BlasGemm, RepeatedCallsOnFreshDataAndAlternatingStreams) {
  NEED_GPU();
  std::mt19937_64 rng(fresh_seed());
  Stream s1 = make_stream(), s2 = make_stream();
  GraphReplayOn replay(16, kReplayMacs);
  for (const Case& cs : {kCases[0], kCases[1], kCases[2], kCases[4]}) {
    GemmRun r;
    cudago_gemm_params_t& p = r.p;
    cudago_gemm_params_init(&p);
    p.dtype = cs.dtype;
    p.compute = cs.compute;
    p.trans_a = CUDAGO_BLAS_OP_T;
    p.m = 37;
    p.n = 29;
    p.k = 53;
    p.alpha = 1.25;
    p.beta = 0.5;
    p.lda = 37;
    p.ldb = 29;
    p.ldc = 29;
    p.batch = 2;
    p.stride_a = 53 * 37;
    p.stride_b = 53 * 29;
    p.stride_c = 37 * 29;
    const size_t na = 2 * 53 * 37, nb = 2 * 53 * 29, nc = 2 * 37 * 29, es = esize(cs.dtype);
    Buffer da = make_buffer(na * es), db = make_buffer(nb * es), dc = make_buffer(nc * es);
    for (int it = 0; it < 8; ++it) {
      r.a = random_values(na, cs.dtype, rng);
      r.b = random_values(nb, cs.dtype, rng);
      r.c0 = random_values(nc, cs.dtype, rng);
      auto ea = encode(r.a, cs.dtype), eb = encode(r.b, cs.dtype), ec = encode(r.c0, cs.dtype);
      CG_OK(cudago_copy_h2d(ea.data(), da.get(), 0, ea.size()));
      CG_OK(cudago_copy_h2d(eb.data(), db.get(), 0, eb.size()));
      CG_OK(cudago_copy_h2d(ec.data(), dc.get(), 0, ec.size()));
      const Stream& s = it % 3 == 2 ? s2 : s1;
      CG_OK(gemm_of(s, r, da, db, dc));
      std::string bad = check_gemm(r, cs, download(dc, nc * es), ec);
      ASSERT_EQ(bad, "") << cs.name << " iteration " << it;
    }
  }
}

// ---- GEMV ----

TEST(BlasGemv, MatchesTheCpu) {
  NEED_GPU();
  std::mt19937_64 rng(fresh_seed());
  Stream s = make_stream();
  struct Dims {
    int64_t m, n;
  };
  for (cudago_dtype_t t : {CUDAGO_DTYPE_F32, CUDAGO_DTYPE_F64}) {
    const double tol = t == CUDAGO_DTYPE_F32 ? 1e-5 : 1e-12;
    for (cudago_blas_layout_t layout : {CUDAGO_BLAS_ROW_MAJOR, CUDAGO_BLAS_COL_MAJOR}) {
      for (cudago_blas_op_t trans : {CUDAGO_BLAS_OP_N, CUDAGO_BLAS_OP_T}) {
        for (Dims d : {Dims{1, 1}, Dims{17, 31}, Dims{257, 130}, Dims{1000, 3}}) {
          const bool row = layout == CUDAGO_BLAS_ROW_MAJOR, tr = trans == CUDAGO_BLAS_OP_T;
          cudago_gemv_params_t p;
          cudago_gemv_params_init(&p);
          p.layout = layout;
          p.trans = trans;
          p.dtype = t;
          p.m = d.m;
          p.n = d.n;
          p.alpha = 0.5;
          p.beta = d.m % 2 ? 0.0 : 2.0;
          const int64_t lda = (row ? d.n : d.m) + 2;
          p.lda = lda;
          p.incx = 2;
          p.incy = 3;
          // A from element 1, x from element 2, y from element 1 (byte offsets below).
          const int64_t xl = tr ? d.m : d.n, yl = tr ? d.n : d.m;
          auto a = random_values(1 + span(row, d.m, d.n, lda), t, rng);
          auto x = random_values(2 + (xl - 1) * 2 + 1, t, rng);
          auto y0 = random_values(1 + (yl - 1) * 3 + 1 + 2, t, rng);
          auto ey0 = encode(y0, t);
          if (p.beta == 0) std::fill(ey0.begin(), ey0.end(), 0xFF);
          Buffer da = upload(encode(a, t)), dx = upload(encode(x, t)), dy = upload(ey0);
          const size_t es = esize(t);
          CG_OK(
              cudago_blas_gemv(s.get(), da.get(), 1 * es, dx.get(), 2 * es, dy.get(), 1 * es, &p));
          CG_OK(cudago_stream_synchronize(s.get()));
          auto gb = download(dy, ey0.size());
          auto got = decode(gb, t);
          std::vector<bool> inside(got.size(), false);
          for (int64_t i = 0; i < yl; ++i) {
            double acc = 0, mag = 0;
            for (int64_t l = 0; l < xl; ++l) {
              double av = a[1 + (tr ? at(row, lda, l, i) : at(row, lda, i, l))];
              double xv = x[2 + l * 2];
              acc += av * xv;
              mag += std::fabs(av * xv);
            }
            size_t yi = static_cast<size_t>(1 + i * 3);
            inside[yi] = true;
            double c0 = p.beta == 0 ? 0 : y0[yi];
            double ref = p.alpha * acc + p.beta * c0;
            double scale = std::fabs(p.alpha) * mag + std::fabs(p.beta * c0);
            ASSERT_LE(std::fabs(got[yi] - ref), tol * scale + 1e-30)
                << "y[" << i << "] m=" << d.m << " n=" << d.n << " layout=" << layout
                << " trans=" << trans << " dtype=" << t;
          }
          for (size_t i = 0; i < inside.size(); ++i) {
            if (!inside[i]) {
              ASSERT_EQ(std::memcmp(&gb[i * es], &ey0[i * es], es), 0) << "y element " << i;
            }
          }
        }
      }
    }
  }
}

TEST(BlasGemv, BadArguments) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer a = make_buffer(12 * 4), x = make_buffer(4 * 4), y = make_buffer(3 * 4);
  cudago_gemv_params_t p;
  cudago_gemv_params_init(&p);
  p.m = 3;
  p.n = 4;
  CG_OK(cudago_memset(0, a.get(), 0, 48));
  CG_OK(cudago_memset(0, x.get(), 0, 16));
  auto gemv = [&](const cudago_gemv_params_t& q, uint64_t ao = 0, uint64_t xo = 0,
                  uint64_t yo = 0) {
    return cudago_blas_gemv(s.get(), a.get(), ao, x.get(), xo, y.get(), yo, &q);
  };
  CG_OK(gemv(p));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_gemv(s.get(), a.get(), 0, x.get(), 0, y.get(), 0, nullptr));
  p.trans = CUDAGO_BLAS_OP_T;  // x needs 3, y needs 4 elements
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, gemv(p));
  p.trans = CUDAGO_BLAS_OP_N;
  // Increments: 0 is refused (it is not taken as 1), and so are huge ones.
  for (uint64_t bad : {uint64_t{0}, uint64_t{INT_MAX} + 1, uint64_t{1} << 63, UINT64_MAX}) {
    p.incx = bad;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemv(p)) << "incx = " << bad;
    p.incx = 1;
    p.incy = bad;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemv(p)) << "incy = " << bad;
    p.incy = 1;
  }
  p.lda = 3;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemv(p));
  p.lda = UINT64_MAX;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemv(p));
  p.lda = 0;
  p.dtype = CUDAGO_DTYPE_F16;
  CG_EXPECT(CUDAGO_ERROR_NOT_SUPPORTED, gemv(p));
  for (int32_t bad : {99, -1}) {
    p.dtype = static_cast<cudago_dtype_t>(bad);
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemv(p)) << "dtype = " << bad;
    p.dtype = CUDAGO_DTYPE_F32;
    p.layout = static_cast<cudago_blas_layout_t>(bad);
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemv(p)) << "layout = " << bad;
    p.layout = CUDAGO_BLAS_ROW_MAJOR;
    p.trans = static_cast<cudago_blas_op_t>(bad);
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemv(p)) << "trans = " << bad;
    p.trans = CUDAGO_BLAS_OP_N;
  }
  for (uint64_t bad : {uint64_t{0}, uint64_t{1} << 63, UINT64_MAX}) {
    p.m = bad;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemv(p)) << "m = " << bad;
  }
  p.m = 3;
  // Byte offsets: not a multiple of the 4-byte element, and past the end.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemv(p, 2, 0, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemv(p, 0, 1, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, gemv(p, 0, 0, 3));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, gemv(p, 0, 4, 0));  // x from element 1 needs 5
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, gemv(p, UINT64_MAX - 3, 0, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_gemv(s.get(), a.get(), 0, x.get(), 0, x.get(), 0, &p));  // y overlaps x
  CG_OK(cudago_stream_synchronize(s.get()));
}

// ---- Level 1 ----

TEST(BlasLevel1, MatchesTheCpu) {
  NEED_GPU();
  std::mt19937_64 rng(fresh_seed());
  Stream s = make_stream();
  for (cudago_dtype_t t : {CUDAGO_DTYPE_F32, CUDAGO_DTYPE_F64}) {
    const size_t es = esize(t);
    // f32: sums of up to 1e6 terms by cuBLAS's blocked reduction: error well below 1e-5 of
    // sum |x y|; f64: 1e-13.
    const double tol = t == CUDAGO_DTYPE_F32 ? 1e-5 : 1e-13;
    for (uint64_t n : {uint64_t{1}, uint64_t{17}, uint64_t{1000}, uint64_t{1000003}}) {
      for (uint64_t inc : {uint64_t{1}, uint64_t{3}}) {
        const size_t len = static_cast<size_t>((n - 1) * inc + 1);
        auto x = random_values(len, t, rng), y = random_values(len, t, rng);
        Buffer dx = upload(encode(x, t)), dy = upload(encode(y, t));
        // DOT and NRM2 into elements 5 and 6 of a poisoned result buffer.
        Buffer dr = make_buffer(8 * es);
        CG_OK(cudago_memset(0xFF, dr.get(), 0, 8 * es));
        CG_OK(cudago_blas_dot(s.get(), dx.get(), 0, dy.get(), 0, dr.get(), 5 * es, n, inc, inc, t));
        CG_OK(cudago_blas_nrm2(s.get(), dx.get(), 0, dr.get(), 6 * es, n, inc, t));
        // y = 0.25 x + y, then x = -3 x.
        CG_OK(cudago_blas_axpy(s.get(), 0.25, dx.get(), 0, dy.get(), 0, n, inc, inc, t));
        CG_OK(cudago_blas_scal(s.get(), -3.0, dx.get(), 0, n, inc, t));
        CG_OK(cudago_stream_synchronize(s.get()));
        auto rb = download(dr, 8 * es);
        auto r = decode(rb, t);
        double dref = 0, dmag = 0, nref = 0;
        for (size_t i = 0; i < len; i += static_cast<size_t>(inc)) {
          dref += x[i] * y[i];
          dmag += std::fabs(x[i] * y[i]);
          nref += x[i] * x[i];
        }
        nref = std::sqrt(nref);
        std::string where = " n=" + std::to_string(n) + " inc=" + std::to_string(inc) +
                            " dtype=" + std::to_string(t);
        ASSERT_LE(std::fabs(r[5] - dref), tol * dmag + 1e-30) << "dot" << where;
        ASSERT_LE(std::fabs(r[6] - nref), tol * nref) << "nrm2" << where;
        for (int i : {0, 1, 2, 3, 4, 7}) {
          for (size_t bi = 0; bi < es; ++bi) ASSERT_EQ(rb[i * es + bi], 0xFF) << i << where;
        }
        auto gx = decode(download(dx, len * es), t), gy = decode(download(dy, len * es), t);
        for (size_t i = 0; i < len; ++i) {
          const bool used = i % static_cast<size_t>(inc) == 0;
          const double wy = used ? 0.25 * x[i] + y[i] : y[i];
          const double wx = used ? -3.0 * x[i] : x[i];
          ASSERT_LE(std::fabs(gy[i] - wy), tol * (std::fabs(0.25 * x[i]) + std::fabs(y[i])))
              << "axpy y[" << i << "]" << where;
          ASSERT_LE(std::fabs(gx[i] - wx), tol * std::fabs(wx)) << "scal x[" << i << "]" << where;
        }
      }
    }
  }
}

// Each vector starts at its byte offset: x from element 2, y from element 1, every 2 and 3
// elements; the elements around them are left alone.
TEST(BlasLevel1, OffsetsAreInBytes) {
  NEED_GPU();
  std::mt19937_64 rng(fresh_seed());
  Stream s = make_stream();
  for (cudago_dtype_t t : {CUDAGO_DTYPE_F32, CUDAGO_DTYPE_F64}) {
    const uint64_t es = esize(t), n = 5, xo = 2, yo = 1, incx = 2, incy = 3;
    const double tol = t == CUDAGO_DTYPE_F32 ? 1e-6 : 1e-14;
    const size_t xlen = xo + (n - 1) * incx + 1 + 2, ylen = yo + (n - 1) * incy + 1 + 2;
    auto x = random_values(xlen, t, rng), y = random_values(ylen, t, rng);
    Buffer dx = upload(encode(x, t)), dy = upload(encode(y, t)), dr = make_buffer(4 * es);
    CG_OK(cudago_memset(0xFF, dr.get(), 0, 4 * es));
    CG_OK(cudago_blas_dot(s.get(), dx.get(), xo * es, dy.get(), yo * es, dr.get(), 1 * es, n, incx,
                          incy, t));
    CG_OK(cudago_blas_nrm2(s.get(), dy.get(), yo * es, dr.get(), 2 * es, n, incy, t));
    CG_OK(cudago_blas_axpy(s.get(), 0.5, dx.get(), xo * es, dy.get(), yo * es, n, incx, incy, t));
    CG_OK(cudago_blas_scal(s.get(), 4.0, dx.get(), xo * es, n, incx, t));
    CG_OK(cudago_stream_synchronize(s.get()));
    auto rb = download(dr, 4 * es);
    auto r = decode(rb, t);
    double dref = 0, dmag = 0, nref = 0;
    for (uint64_t i = 0; i < n; ++i) {
      dref += x[xo + i * incx] * y[yo + i * incy];
      dmag += std::fabs(x[xo + i * incx] * y[yo + i * incy]);
      nref += y[yo + i * incy] * y[yo + i * incy];
    }
    nref = std::sqrt(nref);
    const std::string where = std::string(" dtype=") + dtype_label(t);
    ASSERT_LE(std::fabs(r[1] - dref), tol * dmag + 1e-30) << "dot" << where;
    ASSERT_LE(std::fabs(r[2] - nref), tol * nref) << "nrm2" << where;
    for (int i : {0, 3}) {
      for (size_t bi = 0; bi < es; ++bi) ASSERT_EQ(rb[i * es + bi], 0xFF) << i << where;
    }
    auto gx = decode(download(dx, xlen * es), t), gy = decode(download(dy, ylen * es), t);
    for (size_t i = 0; i < xlen; ++i) {
      const bool used = i >= xo && (i - xo) % incx == 0 && (i - xo) / incx < n;
      const double wx = used ? 4.0 * x[i] : x[i];
      ASSERT_LE(std::fabs(gx[i] - wx), tol * std::fabs(wx)) << "scal x[" << i << "]" << where;
    }
    for (size_t i = 0; i < ylen; ++i) {
      const bool used = i >= yo && (i - yo) % incy == 0 && (i - yo) / incy < n;
      const size_t xi = used ? xo + (i - yo) / incy * incx : 0;
      const double wy = used ? 0.5 * x[xi] + y[i] : y[i];
      ASSERT_LE(std::fabs(gy[i] - wy), tol * (std::fabs(0.5 * x[xi]) + std::fabs(y[i])))
          << "axpy y[" << i << "]" << where;
    }
  }
}

TEST(BlasLevel1, BadArguments) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer x = make_buffer(10 * 4), y = make_buffer(10 * 4), r = make_buffer(4);
  // The calls that fit run: their operands hold zeros (initcheck reports reads of fresh memory).
  CG_OK(cudago_memset(0, x.get(), 0, 10 * 4));
  CG_OK(cudago_memset(0, y.get(), 0, 10 * 4));
  const cudago_dtype_t F32 = CUDAGO_DTYPE_F32;
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_blas_axpy(s.get(), 1.0, x.get(), 0, y.get(), 0, 11, 1, 1, F32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_blas_axpy(s.get(), 1.0, x.get(), 0, y.get(), 0, 4, 4, 1, F32));
  CG_OK(cudago_blas_axpy(s.get(), 1.0, x.get(), 0, y.get(), 0, 4, 3, 1, F32));  // fits
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_blas_axpy(s.get(), 1.0, x.get(), 0, y.get(), 0, 6, 1, 1, CUDAGO_DTYPE_F64));
  // Offsets: x from element 7 holds 3 elements, not 4; y from element 6 holds 4.
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_blas_axpy(s.get(), 1.0, x.get(), 28, y.get(), 0, 4, 1, 1, F32));
  CG_OK(cudago_blas_axpy(s.get(), 1.0, x.get(), 0, y.get(), 24, 4, 1, 1, F32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_blas_axpy(s.get(), 1.0, x.get(), 0, y.get(), 28, 4, 1, 1, F32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_blas_scal(s.get(), 1.0, x.get(), UINT64_MAX - 3, 4, 1, F32));
  // Byte offsets that are not a multiple of the element size.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_axpy(s.get(), 1.0, x.get(), 2, y.get(), 0, 4, 1, 1, F32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_axpy(s.get(), 1.0, x.get(), 0, y.get(), 1, 4, 1, 1, F32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_scal(s.get(), 1.0, x.get(), UINT64_MAX, 4, 1, F32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_axpy(s.get(), 1.0, x.get(), 4, y.get(), 0, 4, 1, 1, CUDAGO_DTYPE_F64));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_dot(s.get(), x.get(), 0, y.get(), 6, r.get(), 0, 4, 1, 1, F32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_dot(s.get(), x.get(), 0, y.get(), 0, r.get(), 2, 4, 1, 1, F32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_nrm2(s.get(), x.get(), 3, r.get(), 0, 4, 1, F32));
  // n: 0 and huge counts.
  for (uint64_t bad : {uint64_t{0}, uint64_t{INT_MAX} + 1, uint64_t{1} << 63, UINT64_MAX}) {
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_blas_axpy(s.get(), 1.0, x.get(), 0, y.get(), 0, bad, 1, 1, F32))
        << "n = " << bad;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_blas_nrm2(s.get(), x.get(), 0, r.get(), 0, bad, 1, F32))
        << "n = " << bad;
  }
  // Increments: 0 is refused (it is not taken as 1), and so are huge ones.
  for (uint64_t bad : {uint64_t{0}, uint64_t{INT_MAX} + 1, uint64_t{1} << 63, UINT64_MAX}) {
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_blas_scal(s.get(), 1.0, x.get(), 0, 4, bad, F32))
        << "incx = " << bad;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_blas_dot(s.get(), x.get(), 0, y.get(), 0, r.get(), 0, 4, 1, bad, F32))
        << "incy = " << bad;
  }
  // x and y in one buffer: in place (same offset and increment) is fine, other overlaps not.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_axpy(s.get(), 1.0, x.get(), 0, x.get(), 0, 4, 1, 2, F32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_axpy(s.get(), 1.0, x.get(), 0, x.get(), 4, 4, 2, 2, F32));
  CG_OK(cudago_blas_axpy(s.get(), 1.0, x.get(), 0, x.get(), 0, 4, 2, 2, F32));
  CG_OK(cudago_blas_axpy(s.get(), 1.0, x.get(), 4, x.get(), 4, 4, 2, 2, F32));
  CG_OK(cudago_blas_axpy(s.get(), 1.0, x.get(), 0, x.get(), 20, 4, 1, 1, F32));  // disjoint
  // Element types.
  CG_EXPECT(CUDAGO_ERROR_NOT_SUPPORTED,
            cudago_blas_scal(s.get(), 1.0, x.get(), 0, 4, 1, CUDAGO_DTYPE_BF16));
  CG_EXPECT(CUDAGO_ERROR_NOT_SUPPORTED,
            cudago_blas_scal(s.get(), 1.0, x.get(), 0, 4, 1, CUDAGO_DTYPE_I64));
  for (int32_t bad : {99, -1}) {
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_blas_scal(s.get(), 1.0, x.get(), 0, 4, 1, static_cast<cudago_dtype_t>(bad)))
        << "dtype = " << bad;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_blas_dot(s.get(), x.get(), 0, y.get(), 0, r.get(), 0, 4, 1, 1,
                              static_cast<cudago_dtype_t>(bad)))
        << "dtype = " << bad;
  }
  // The result element: past the end, too small for f64, overlapping x.
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_blas_dot(s.get(), x.get(), 0, y.get(), 0, r.get(), 4, 4, 1, 1, F32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_blas_dot(s.get(), x.get(), 0, y.get(), 0, r.get(), 0,
                                                       4, 1, 1, CUDAGO_DTYPE_F64));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_blas_dot(s.get(), x.get(), 0, y.get(), 0, x.get(), 8, 4, 1, 1, F32));
  CG_OK(cudago_blas_dot(s.get(), x.get(), 0, y.get(), 0, x.get(), 16, 4, 1, 1, F32));  // after x
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_blas_nrm2(s.get(), x.get(), 0, nullptr, 0, 4, 1, F32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_blas_nrm2(nullptr, x.get(), 0, r.get(), 0, 4, 1, F32));
  CG_OK(cudago_stream_synchronize(s.get()));
}

}  // namespace
