// cuFFT through the C ABI against a naive CPU DFT in float64, on fresh random data.
//
// Error bounds (relative L2 norm of the error over all outputs): an FFT's rounding error grows
// like eps * log2(N) (eps = 6e-8 in float32, 1.1e-16 in float64), and Bluestein-style plans for
// awkward sizes add a constant factor; the bounds are fp32: 1e-5 * max(1, log2 N), fp64: 1e-12.
// The reference computes each output as a direct sum of exactly reduced twiddles in float64
// (error ~ sqrt(N) * 1e-16), far below both. A single wrong or unwritten (NaN-poisoned) element
// of a transform of N <= 2^20 moves the error by at least ~1e-3, above every bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "capi_util.hpp"

namespace {

using cd = std::complex<double>;
constexpr double kPi = 3.14159265358979323846;

// Naive DFT along each axis of a batch of packed row-major arrays (sign -1 forward, +1 inverse).
std::vector<cd> dft(std::vector<cd> x, int rank, const uint64_t* dims, int64_t batch, int sign) {
  int64_t per = 1;
  for (int d = 0; d < rank; ++d) per *= static_cast<int64_t>(dims[d]);
  for (int axis = 0; axis < rank; ++axis) {
    const int64_t n = static_cast<int64_t>(dims[axis]);
    int64_t inner = 1;
    for (int d = axis + 1; d < rank; ++d) inner *= static_cast<int64_t>(dims[d]);
    std::vector<cd> tw(static_cast<size_t>(n));
    for (int64_t m = 0; m < n; ++m) {
      const double a = sign * 2.0 * kPi * static_cast<double>(m) / static_cast<double>(n);
      tw[m] = cd(std::cos(a), std::sin(a));
    }
    std::vector<cd> line(static_cast<size_t>(n));
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t outer = 0; outer < per / (n * inner); ++outer) {
        for (int64_t in = 0; in < inner; ++in) {
          const int64_t base = b * per + outer * n * inner + in;
          for (int64_t k = 0; k < n; ++k) {
            cd s = 0;
            for (int64_t j = 0; j < n; ++j) s += x[base + j * inner] * tw[(j * k) % n];
            line[k] = s;
          }
          for (int64_t k = 0; k < n; ++k) x[base + k * inner] = line[k];
        }
      }
    }
  }
  return x;
}

// A side's layout with defaults resolved the way the header documents them.
struct Side {
  int rank = 1;
  int64_t n[3] = {1, 1, 1}, embed[3] = {1, 1, 1};
  int64_t stride = 1, dist = 0, batch = 1;
  bool complex = false;
  int64_t per() const {
    int64_t p = 1;
    for (int d = 0; d < rank; ++d) p *= n[d];
    return p;
  }
  int64_t offset(int64_t b, int64_t logical) const {  // element offset of a packed index
    int64_t idx[3] = {0, 0, 0};
    for (int d = rank - 1; d >= 0; --d) {
      idx[d] = logical % n[d];
      logical /= n[d];
    }
    int64_t lin = 0;
    for (int d = 0; d < rank; ++d) lin = lin * embed[d] + idx[d];
    return b * dist + stride * lin;
  }
  int64_t extent() const { return offset(batch - 1, per() - 1) + 1; }
};

Side make_side(const cudago_fft_desc_t& d, const cudago_fft_layout_t& l, bool complex,
               bool padded) {
  Side s;
  s.rank = static_cast<int>(d.rank);
  s.batch = static_cast<int64_t>(d.batch);
  s.complex = complex;
  int64_t span = 1;
  for (int i = 0; i < s.rank; ++i) {
    const int64_t di = static_cast<int64_t>(d.dims[i]), ei = static_cast<int64_t>(l.embed[i]);
    s.n[i] = di;
    if (complex && d.type != CUDAGO_FFT_C2C && i == s.rank - 1) s.n[i] = di / 2 + 1;
    s.embed[i] = ei ? ei : s.n[i];
    if (!ei && padded && i == s.rank - 1) s.embed[i] = 2 * (di / 2 + 1);
    span *= s.embed[i];
  }
  s.stride = l.stride ? static_cast<int64_t>(l.stride) : 1;
  s.dist = l.dist ? static_cast<int64_t>(l.dist) : s.stride * span;
  return s;
}

cudago_fft_desc_t make_desc(int rank, std::vector<int64_t> dims, cudago_fft_type_t type,
                            cudago_dtype_t prec, int64_t batch) {
  cudago_fft_desc_t d;
  cudago_fft_desc_init(&d);
  d.rank = static_cast<uint64_t>(rank);
  for (int i = 0; i < rank; ++i) d.dims[i] = static_cast<uint64_t>(dims[i]);
  d.type = type;
  d.precision = prec;
  d.batch = static_cast<uint64_t>(batch);
  return d;
}

struct Case {
  cudago_fft_desc_t desc;
  cudago_fft_direction_t dir = CUDAGO_FFT_FORWARD;
  cudago_fft_norm_t norm = CUDAGO_FFT_NORM_NONE;
  bool in_place = false;
  uint64_t in_off_elems = 0, out_off_elems = 0;
};

std::string describe(const Case& c) {
  const auto& d = c.desc;
  std::string s = std::string(d.type == CUDAGO_FFT_C2C   ? "C2C"
                              : d.type == CUDAGO_FFT_R2C ? "R2C"
                                                         : "C2R") +
                  (d.precision == CUDAGO_DTYPE_F64 ? " f64" : " f32") + " dims";
  for (uint64_t i = 0; i < d.rank; ++i) s += " " + std::to_string(d.dims[i]);
  s += " batch " + std::to_string(d.batch) + " dir " + std::to_string(static_cast<int>(c.dir)) +
       " norm " + std::to_string(static_cast<int>(c.norm)) + (c.in_place ? " in-place" : "") +
       " in(stride " + std::to_string(d.in.stride) + " dist " + std::to_string(d.in.dist) +
       ") out(stride " + std::to_string(d.out.stride) + " dist " + std::to_string(d.out.dist) + ")";
  return s;
}

// Writes reals to device bytes of precision prec.
std::vector<uint8_t> to_bytes(const std::vector<double>& v, bool f64) {
  std::vector<uint8_t> b(v.size() * (f64 ? 8 : 4));
  for (size_t i = 0; i < v.size(); ++i) {
    if (f64) {
      std::memcpy(&b[i * 8], &v[i], 8);
    } else {
      float f = static_cast<float>(v[i]);
      std::memcpy(&b[i * 4], &f, 4);
    }
  }
  return b;
}

double real_at(const std::vector<uint8_t>& b, size_t i, bool f64, bool* poison) {
  if (f64) {
    uint64_t bits;
    std::memcpy(&bits, &b[i * 8], 8);
    *poison = bits == ~uint64_t{0};
    double x;
    std::memcpy(&x, &bits, 8);
    return x;
  }
  uint32_t bits;
  std::memcpy(&bits, &b[i * 4], 4);
  *poison = bits == 0xFFFFFFFFu;
  float x;
  std::memcpy(&x, &bits, 4);
  return x;
}

double bound_for(const cudago_fft_desc_t& d) {
  uint64_t n = 1;
  for (uint64_t i = 0; i < d.rank; ++i) n *= d.dims[i];
  const double lg = std::max(1.0, std::log2(static_cast<double>(n)));
  return d.precision == CUDAGO_DTYPE_F64 ? 1e-12 : 1e-5 * lg;
}

// Runs one transform through the C ABI and checks it against the CPU reference; gaps of the
// output layout must keep their poison.
void run_case(const Case& c, cudago_stream_t stream, std::mt19937& rng, unsigned seed) {
  SCOPED_TRACE(describe(c) + " seed=" + std::to_string(seed));
  const auto& d = c.desc;
  const bool f64 = d.precision == CUDAGO_DTYPE_F64;
  const size_t rb = f64 ? 8 : 4;
  const bool in_cx = d.type != CUDAGO_FFT_R2C, out_cx = d.type != CUDAGO_FFT_C2R;
  const Side in = make_side(d, d.in, in_cx, c.in_place && !in_cx);
  const Side out = make_side(d, d.out, out_cx, c.in_place && !out_cx);
  const int rank = static_cast<int>(d.rank);
  int64_t n_total = 1;
  for (int i = 0; i < rank; ++i) n_total *= static_cast<int64_t>(d.dims[i]);
  const int64_t batch = static_cast<int64_t>(d.batch);

  // Logical data (rounded to the precision) and the expected output.
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  auto round_p = [&](double x) { return f64 ? x : static_cast<double>(static_cast<float>(x)); };
  const int64_t full = n_total * batch;
  std::vector<cd> x(static_cast<size_t>(full));
  for (auto& v : x)
    v = cd(round_p(u(rng)), in_cx && d.type == CUDAGO_FFT_C2C ? round_p(u(rng)) : 0.0);
  double scale = 1.0;
  if (c.norm == CUDAGO_FFT_NORM_INVERSE && c.dir == CUDAGO_FFT_INVERSE) scale = 1.0 / n_total;
  if (c.norm == CUDAGO_FFT_NORM_FORWARD && c.dir == CUDAGO_FFT_FORWARD) scale = 1.0 / n_total;
  if (c.norm == CUDAGO_FFT_NORM_ORTHO) scale = 1.0 / std::sqrt(static_cast<double>(n_total));

  std::vector<cd> in_logical, want;  // packed over in.n / out.n
  auto half_of = [&](const std::vector<cd>& f) {
    const int64_t h = out_cx ? out.per() : in.per();  // per-transform size of the half side
    const int64_t nl = static_cast<int64_t>(d.dims[rank - 1]), hl = nl / 2 + 1;
    std::vector<cd> r(static_cast<size_t>(h * batch));
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < h; ++i) r[b * h + i] = f[b * n_total + (i / hl) * nl + i % hl];
    }
    return r;
  };
  if (d.type == CUDAGO_FFT_C2C) {
    in_logical = x;
    want = dft(x, rank, d.dims, batch, c.dir == CUDAGO_FFT_FORWARD ? -1 : 1);
  } else if (d.type == CUDAGO_FFT_R2C) {
    in_logical = x;
    want = half_of(dft(x, rank, d.dims, batch, -1));
  } else {
    std::vector<cd> spec = half_of(dft(x, rank, d.dims, batch, -1));
    for (auto& v : spec) v = cd(round_p(v.real()), round_p(v.imag()));
    in_logical = spec;
    want = x;
    for (auto& v : want) v *= static_cast<double>(n_total);
  }
  for (auto& v : want) v *= scale;

  // Scatter the input into its layout; gaps hold random junk a wrong layout would read.
  const int ic = in_cx ? 2 : 1, oc = out_cx ? 2 : 1;
  const uint64_t in_bytes = static_cast<uint64_t>(in.extent()) * ic * rb;
  const uint64_t out_bytes = static_cast<uint64_t>(out.extent()) * oc * rb;
  uint64_t check_in = 0, check_out = 0;
  CG_OK(cudago_fft_extent(&d, c.in_place, &check_in, &check_out));
  ASSERT_EQ(check_in, in_bytes);
  ASSERT_EQ(check_out, out_bytes);
  std::vector<double> in_reals(static_cast<size_t>(in.extent() * ic));
  for (auto& v : in_reals) v = 1e3 * u(rng);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < in.per(); ++i) {
      const int64_t o = in.offset(b, i) * ic;
      const cd v = in_logical[b * in.per() + i];
      in_reals[o] = v.real();
      if (ic == 2) in_reals[o + 1] = v.imag();
    }
  }
  const uint64_t in_off = c.in_off_elems * ic * rb, out_off = c.out_off_elems * oc * rb;
  std::vector<uint8_t> in_host = to_bytes(in_reals, f64);
  Buffer bin, bout;
  if (c.in_place) {
    const uint64_t size = in_off + std::max(in_bytes, out_bytes);
    bin = make_buffer(size);
    CG_OK(cudago_memset(0xFF, bin.get(), 0, size));
    CG_OK(cudago_copy_h2d(in_host.data(), bin.get(), in_off, in_bytes));
  } else {
    bin = make_buffer(in_off + in_bytes);
    bout = make_buffer(out_off + out_bytes + 13);
    CG_OK(cudago_copy_h2d(in_host.data(), bin.get(), in_off, in_bytes));
    CG_OK(cudago_memset(0xFF, bout.get(), 0, out_off + out_bytes + 13));  // NaN poison
  }
  cudago_buffer_t ob = c.in_place ? bin.get() : bout.get();
  CG_OK(cudago_fft_exec(stream, bin.get(), in_off, ob, c.in_place ? in_off : out_off, &d, c.dir,
                        c.norm));
  std::vector<uint8_t> got(out_bytes);
  CG_OK(cudago_copy_d2h(ob, c.in_place ? in_off : out_off, got.data(), out_bytes));

  // Gather the output, and check that the gaps of an out-of-place layout are untouched.
  std::vector<char> covered(static_cast<size_t>(out.extent() * oc), 0);
  double err2 = 0, ref2 = 0;
  int64_t poisoned = 0;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < out.per(); ++i) {
      const int64_t o = out.offset(b, i) * oc;
      bool p0 = false, p1 = false;
      const double re = real_at(got, static_cast<size_t>(o), f64, &p0);
      const double im = oc == 2 ? real_at(got, static_cast<size_t>(o + 1), f64, &p1) : 0.0;
      poisoned += p0 || p1;
      covered[o] = 1;
      if (oc == 2) covered[o + 1] = 1;
      const cd w = want[b * out.per() + i];
      const cd g(re, oc == 2 ? im : 0.0);
      err2 += std::norm(g - (oc == 2 ? w : cd(w.real(), 0.0)));
      ref2 += std::norm(oc == 2 ? w : cd(w.real(), 0.0));
    }
  }
  EXPECT_EQ(poisoned, 0) << "output elements left unwritten";
  const double rel = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  EXPECT_LE(rel, bound_for(d)) << "relative L2 error";
  if (!c.in_place) {
    int64_t touched = 0;
    for (size_t i = 0; i < covered.size(); ++i) {
      bool p = false;
      real_at(got, i, f64, &p);
      if (!covered[i] && !p) ++touched;
    }
    EXPECT_EQ(touched, 0) << "values between the output layout's elements were written";
  }
}

class Fft : public ::testing::Test {
 protected:
  void SetUp() override {
    NEED_GPU();
    seed_ = std::random_device{}();
    rng_.seed(seed_);
    stream_ = make_stream();
  }
  void run(const Case& c) { run_case(c, stream_.get(), rng_, seed_); }
  unsigned seed_ = 0;
  std::mt19937 rng_;
  Stream stream_;
};

const cudago_dtype_t kPrecisions[] = {CUDAGO_DTYPE_F32, CUDAGO_DTYPE_F64};

TEST_F(Fft, OneDimensionalAllTypesAndPrecisions) {
  for (cudago_dtype_t p : kPrecisions) {
    for (int64_t n : {1, 2, 3, 7, 16, 17, 100, 1024}) {
      for (int64_t batch : {1, 3}) {
        Case c{make_desc(1, {n}, CUDAGO_FFT_C2C, p, batch)};
        run(c);
        c.dir = CUDAGO_FFT_INVERSE;
        run(c);
        c.norm = CUDAGO_FFT_NORM_INVERSE;
        run(c);
        Case r{make_desc(1, {n}, CUDAGO_FFT_R2C, p, batch)};
        run(r);
        Case i{make_desc(1, {n}, CUDAGO_FFT_C2R, p, batch)};
        i.dir = CUDAGO_FFT_INVERSE;
        i.norm = CUDAGO_FFT_NORM_INVERSE;
        run(i);
      }
    }
  }
}

TEST_F(Fft, MultiDimensionalAllTypes) {
  const std::vector<std::vector<int64_t>> shapes = {{5, 7},    {4, 6},    {1, 9},   {16, 3},
                                                    {4, 6, 8}, {3, 5, 7}, {2, 1, 3}};
  for (cudago_dtype_t p : kPrecisions) {
    for (const auto& s : shapes) {
      const int rank = static_cast<int>(s.size());
      Case c{make_desc(rank, s, CUDAGO_FFT_C2C, p, 2)};
      run(c);
      c.dir = CUDAGO_FFT_INVERSE;
      c.norm = CUDAGO_FFT_NORM_ORTHO;
      run(c);
      Case r{make_desc(rank, s, CUDAGO_FFT_R2C, p, 3)};
      r.norm = CUDAGO_FFT_NORM_FORWARD;
      run(r);
      Case i{make_desc(rank, s, CUDAGO_FFT_C2R, p, 2)};
      i.dir = CUDAGO_FFT_INVERSE;
      run(i);
    }
  }
}

TEST_F(Fft, BatchedWithStridesDistancesAndOffsets) {
  for (cudago_dtype_t p : kPrecisions) {
    // 1-D, interleaved input (stride 3) and spread output (stride 2, extra dist).
    Case a{make_desc(1, {17}, CUDAGO_FFT_C2C, p, 5)};
    a.desc.in.stride = 3;
    a.desc.in.dist = 17 * 3 + 4;
    a.desc.out.stride = 2;
    a.desc.out.dist = 17 * 2 + 1;
    a.in_off_elems = 3;
    a.out_off_elems = 5;
    run(a);
    a.norm = CUDAGO_FFT_NORM_ORTHO;  // the scale pass must skip the gaps too
    run(a);
    // Batches interleaved element by element: stride = batch, dist = 1.
    Case b{make_desc(1, {16}, CUDAGO_FFT_C2C, p, 4)};
    b.desc.in.stride = 4;
    b.desc.in.dist = 1;
    b.desc.out.stride = 4;
    b.desc.out.dist = 1;
    b.dir = CUDAGO_FFT_INVERSE;
    b.norm = CUDAGO_FFT_NORM_INVERSE;
    run(b);
    // 2-D with padded rows (embed) on both sides.
    Case c{make_desc(2, {5, 7}, CUDAGO_FFT_C2C, p, 3)};
    c.desc.in.embed[0] = 6;
    c.desc.in.embed[1] = 9;
    c.desc.in.stride = 2;
    c.desc.out.embed[1] = 8;
    c.desc.out.dist = 5 * 8 + 3;
    run(c);
    // R2C and C2R with strides on the real and the complex side.
    Case r{make_desc(2, {6, 10}, CUDAGO_FFT_R2C, p, 3)};
    r.desc.in.embed[1] = 11;
    r.desc.in.stride = 2;
    r.desc.out.embed[1] = 7;
    r.desc.out.dist = 6 * 7 + 2;
    r.norm = CUDAGO_FFT_NORM_ORTHO;
    run(r);
    Case i{make_desc(1, {100}, CUDAGO_FFT_C2R, p, 4)};
    i.desc.in.stride = 2;
    i.desc.out.dist = 103;
    i.dir = CUDAGO_FFT_INVERSE;
    i.norm = CUDAGO_FFT_NORM_INVERSE;
    i.in_off_elems = 1;
    run(i);
  }
}

TEST_F(Fft, InPlace) {
  for (cudago_dtype_t p : kPrecisions) {
    Case c{make_desc(1, {1024}, CUDAGO_FFT_C2C, p, 3)};
    c.in_place = true;
    run(c);
    Case c2{make_desc(2, {5, 7}, CUDAGO_FFT_C2C, p, 2)};
    c2.in_place = true;
    c2.dir = CUDAGO_FFT_INVERSE;
    c2.norm = CUDAGO_FFT_NORM_INVERSE;
    run(c2);
    // R2C/C2R in place use the padded real layout by default.
    for (int64_t n : {16, 17}) {
      Case r{make_desc(1, {n}, CUDAGO_FFT_R2C, p, 3)};
      r.in_place = true;
      run(r);
      Case i{make_desc(2, {4, n}, CUDAGO_FFT_C2R, p, 2)};
      i.in_place = true;
      i.dir = CUDAGO_FFT_INVERSE;
      run(i);
    }
  }
}

// Large transforms, checked by identities (the O(N^2) reference would be too slow).
TEST_F(Fft, IdentitiesAtLargeSizes) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t n : {int64_t{1} << 20, int64_t{1000003}, int64_t{4099}}) {
    SCOPED_TRACE("n=" + std::to_string(n) + " seed=" + std::to_string(seed_));
    const uint64_t bytes = static_cast<uint64_t>(n) * 8;
    std::vector<float> x(2 * n), y(2 * n);
    for (auto& v : x) v = u(rng_);
    for (auto& v : y) v = u(rng_);
    Buffer bx = make_buffer(bytes), by = make_buffer(bytes), bf = make_buffer(bytes),
           bg = make_buffer(bytes), bb = make_buffer(bytes);
    CG_OK(cudago_copy_h2d(x.data(), bx.get(), 0, bytes));
    CG_OK(cudago_copy_h2d(y.data(), by.get(), 0, bytes));
    cudago_fft_desc_t d = make_desc(1, {n}, CUDAGO_FFT_C2C, CUDAGO_DTYPE_F32, 1);
    for (Buffer* b : {&bf, &bg, &bb}) CG_OK(cudago_memset(0xFF, b->get(), 0, bytes));
    CG_OK(cudago_fft_exec(stream_.get(), bx.get(), 0, bf.get(), 0, &d, CUDAGO_FFT_FORWARD,
                          CUDAGO_FFT_NORM_NONE));
    CG_OK(cudago_fft_exec(stream_.get(), by.get(), 0, bg.get(), 0, &d, CUDAGO_FFT_FORWARD,
                          CUDAGO_FFT_NORM_NONE));
    CG_OK(cudago_fft_exec(stream_.get(), bf.get(), 0, bb.get(), 0, &d, CUDAGO_FFT_INVERSE,
                          CUDAGO_FFT_NORM_INVERSE));
    std::vector<float> fx(2 * n), fy(2 * n), back(2 * n);
    CG_OK(cudago_copy_d2h(bf.get(), 0, fx.data(), bytes));
    CG_OK(cudago_copy_d2h(bg.get(), 0, fy.data(), bytes));
    CG_OK(cudago_copy_d2h(bb.get(), 0, back.data(), bytes));
    const double bound = 1e-5 * std::log2(static_cast<double>(n));
    // Inverse of forward (with 1/N) is the identity.
    double e2 = 0, r2 = 0;
    for (int64_t i = 0; i < 2 * n; ++i) {
      e2 += (back[i] - static_cast<double>(x[i])) * (back[i] - static_cast<double>(x[i]));
      r2 += static_cast<double>(x[i]) * x[i];
    }
    EXPECT_LE(std::sqrt(e2 / r2), bound) << "inverse(forward(x)) != x";
    // Parseval: sum |X|^2 = N sum |x|^2.
    double ex = 0, ef = 0;
    for (int64_t i = 0; i < 2 * n; ++i) {
      ex += static_cast<double>(x[i]) * x[i];
      ef += static_cast<double>(fx[i]) * fx[i];
    }
    EXPECT_LE(std::fabs(ef / (static_cast<double>(n) * ex) - 1.0), bound) << "Parseval";
    // Linearity: F(2x - 3y) = 2F(x) - 3F(y).
    std::vector<float> z(2 * n), fz(2 * n);
    for (int64_t i = 0; i < 2 * n; ++i) z[i] = 2.0f * x[i] - 3.0f * y[i];
    CG_OK(cudago_copy_h2d(z.data(), bx.get(), 0, bytes));
    CG_OK(cudago_memset(0xFF, bf.get(), 0, bytes));
    CG_OK(cudago_fft_exec(stream_.get(), bx.get(), 0, bf.get(), 0, &d, CUDAGO_FFT_FORWARD,
                          CUDAGO_FFT_NORM_NONE));
    CG_OK(cudago_copy_d2h(bf.get(), 0, fz.data(), bytes));
    e2 = r2 = 0;
    for (int64_t i = 0; i < 2 * n; ++i) {
      const double w = 2.0 * fx[i] - 3.0 * fy[i];
      e2 += (fz[i] - w) * (fz[i] - w);
      r2 += w * w;
    }
    EXPECT_LE(std::sqrt(e2 / r2), bound) << "linearity";
  }
}

// The C2C transform of real data is Hermitian, and R2C returns its first n/2+1 entries.
TEST_F(Fft, RealInputGivesAHermitianSpectrum) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int64_t n : {2, 7, 16, 17, 100, 1024}) {
    SCOPED_TRACE("n=" + std::to_string(n) + " seed=" + std::to_string(seed_));
    std::vector<double> x(n), xc(2 * n, 0.0);
    for (int64_t i = 0; i < n; ++i) xc[2 * i] = x[i] = u(rng_);
    Buffer br = make_buffer(n * 8), bc = make_buffer(2 * n * 8), bfull = make_buffer(2 * n * 8),
           bhalf = make_buffer((n / 2 + 1) * 16);
    CG_OK(cudago_copy_h2d(x.data(), br.get(), 0, n * 8));
    CG_OK(cudago_copy_h2d(xc.data(), bc.get(), 0, 2 * n * 8));
    CG_OK(cudago_memset(0xFF, bfull.get(), 0, 2 * n * 8));
    CG_OK(cudago_memset(0xFF, bhalf.get(), 0, (n / 2 + 1) * 16));
    cudago_fft_desc_t c2c = make_desc(1, {n}, CUDAGO_FFT_C2C, CUDAGO_DTYPE_F64, 1);
    cudago_fft_desc_t r2c = make_desc(1, {n}, CUDAGO_FFT_R2C, CUDAGO_DTYPE_F64, 1);
    CG_OK(cudago_fft_exec(stream_.get(), bc.get(), 0, bfull.get(), 0, &c2c, CUDAGO_FFT_FORWARD,
                          CUDAGO_FFT_NORM_NONE));
    CG_OK(cudago_fft_exec(stream_.get(), br.get(), 0, bhalf.get(), 0, &r2c, CUDAGO_FFT_FORWARD,
                          CUDAGO_FFT_NORM_NONE));
    std::vector<cd> full(n), half(n / 2 + 1);
    CG_OK(cudago_copy_d2h(bfull.get(), 0, full.data(), n * 16));
    CG_OK(cudago_copy_d2h(bhalf.get(), 0, half.data(), (n / 2 + 1) * 16));
    double scale = 0;
    for (const cd& v : full) scale = std::max(scale, std::abs(v));
    for (int64_t k = 0; k < n; ++k) {
      EXPECT_LE(std::abs(full[k] - std::conj(full[(n - k) % n])), 1e-12 * scale) << "k=" << k;
    }
    for (int64_t k = 0; k <= n / 2; ++k) {
      EXPECT_LE(std::abs(half[k] - full[k]), 1e-12 * scale) << "k=" << k;
    }
  }
}

// Validation that needs no GPU: cudago_fft_extent checks a descriptor like exec does.
TEST(FftDesc, InvalidDescriptorsAreRefused) {
  uint64_t ib = 0, ob = 0;
  cudago_fft_desc_t ok = make_desc(1, {8}, CUDAGO_FFT_C2C, CUDAGO_DTYPE_F32, 2);
  CG_OK(cudago_fft_extent(&ok, 0, &ib, &ob));
  EXPECT_EQ(ib, 2u * 8 * 8);
  EXPECT_EQ(ob, 2u * 8 * 8);
  cudago_fft_desc_t r2c = make_desc(2, {4, 10}, CUDAGO_FFT_R2C, CUDAGO_DTYPE_F64, 3);
  CG_OK(cudago_fft_extent(&r2c, 0, &ib, &ob));
  EXPECT_EQ(ib, 3u * 4 * 10 * 8);
  EXPECT_EQ(ob, 3u * 4 * 6 * 16);
  CG_OK(cudago_fft_extent(&r2c, 1, &ib, &ob));  // in place: padded real rows of 12
  EXPECT_EQ(ib, 3u * 4 * 12 * 8 - 2 * 8);
  EXPECT_EQ(ob, 3u * 4 * 6 * 16);
  // The defaults of cudago_fft_desc_init: one C2C f32 transform, packed layouts.
  cudago_fft_desc_t def;
  cudago_fft_desc_init(&def);
  EXPECT_EQ(def.struct_size, sizeof def);
  EXPECT_EQ(def.type, CUDAGO_FFT_C2C);
  EXPECT_EQ(def.precision, CUDAGO_DTYPE_F32);
  EXPECT_EQ(def.batch, 1u);
  def.rank = 1;
  def.dims[0] = 8;
  CG_OK(cudago_fft_extent(&def, 0, &ib, &ob));
  EXPECT_EQ(ib, 8u * 8);
  EXPECT_EQ(ob, 8u * 8);

  auto expect = [&](cudago_status_t st, cudago_fft_desc_t d, const char* what) {
    EXPECT_EQ(cudago_fft_extent(&d, 0, &ib, &ob), st) << what << " -> " << last_error_text();
  };
  cudago_fft_desc_t d = ok;
  d.rank = 0;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "rank 0");
  d.rank = 4;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "rank 4");
  d.rank = (uint64_t{1} << 32) + 1;  // 1 if it were cut to 32 bits
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "rank 2^32 + 1");
  d.rank = uint64_t{1} << 63;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "rank 2^63");
  d.rank = UINT64_MAX;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "rank UINT64_MAX");
  d = ok;
  d.dims[0] = 0;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "zero size");
  d.dims[0] = uint64_t{1} << 63;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "size 2^63");
  d.dims[0] = UINT64_MAX;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "size UINT64_MAX");
  d = ok;
  d.dims[1] = 3;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "size beyond the rank");
  d = ok;
  d.dims[1] = UINT64_MAX;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "huge size beyond the rank");
  d = ok;
  d.batch = 0;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "batch 0");
  d.batch = uint64_t{1} << 63;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "batch 2^63");
  d.batch = UINT64_MAX;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "batch UINT64_MAX");
  d = ok;
  d.reserved0 = 1;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "reserved0 1");
  d.reserved0 = UINT32_MAX;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "reserved0 UINT32_MAX");
  for (int32_t bad : {7, 99, -1}) {
    d = ok;
    d.type = static_cast<cudago_fft_type_t>(bad);
    expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, ("type " + std::to_string(bad)).c_str());
  }
  d = ok;
  d.precision = CUDAGO_DTYPE_F16;
  expect(CUDAGO_ERROR_NOT_SUPPORTED, d, "f16");
  d.precision = CUDAGO_DTYPE_I32;
  expect(CUDAGO_ERROR_NOT_SUPPORTED, d, "i32");
  for (int32_t bad : {99, -1}) {
    d.precision = static_cast<cudago_dtype_t>(bad);
    expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, ("precision " + std::to_string(bad)).c_str());
  }
  d = ok;
  d.struct_size = 8;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "small struct_size");
  d = ok;
  d.in.embed[0] = 4;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "embed below the size");
  d = ok;
  d.in.embed[0] = UINT64_MAX;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "embed UINT64_MAX");
  d = ok;
  d.out.stride = UINT64_MAX;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "stride UINT64_MAX");
  d = ok;
  d.in.stride = uint64_t{1} << 63;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "stride 2^63");
  d = ok;
  d.out.dist = uint64_t{1} << 63;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "dist 2^63");
  d = ok;
  d.in.embed[2] = 3;
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "embed beyond the rank");
  d = make_desc(2, {int64_t{1} << 40, int64_t{1} << 40}, CUDAGO_FFT_C2C, CUDAGO_DTYPE_F32, 1);
  expect(CUDAGO_ERROR_OUT_OF_RANGE, d, "size overflow");
  // Regression (FuzzFFTExtent): a zero size after two huge ones is the zero size's error, not
  // the overflow of the others' product.
  d = make_desc(3, {int64_t{1} << 40, int64_t{1} << 40, 0}, CUDAGO_FFT_C2C, CUDAGO_DTYPE_F32, 1);
  expect(CUDAGO_ERROR_INVALID_ARGUMENT, d, "zero size after huge ones");
  d = make_desc(1, {int64_t{1} << 40}, CUDAGO_FFT_C2C, CUDAGO_DTYPE_F32, int64_t{1} << 30);
  expect(CUDAGO_ERROR_OUT_OF_RANGE, d, "batch overflow");
  d = ok;
  d.in.stride = INT64_MAX;  // a legal int64 whose extent overflows
  expect(CUDAGO_ERROR_OUT_OF_RANGE, d, "stride INT64_MAX");
  // Regression (UBSan): the padded real row of an in-place R2C, 2 * (dims/2 + 1), overflowed.
  d = make_desc(1, {INT64_MAX}, CUDAGO_FFT_R2C, CUDAGO_DTYPE_F32, 1);
  EXPECT_EQ(cudago_fft_extent(&d, 1, &ib, &ob), CUDAGO_ERROR_OUT_OF_RANGE) << last_error_text();
  d = make_desc(3, {INT64_MAX, INT64_MAX, 2}, CUDAGO_FFT_C2R, CUDAGO_DTYPE_F64, 1);
  EXPECT_EQ(cudago_fft_extent(&d, 1, &ib, &ob), CUDAGO_ERROR_OUT_OF_RANGE) << last_error_text();
  EXPECT_EQ(cudago_fft_extent(nullptr, 0, &ib, &ob), CUDAGO_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(cudago_fft_extent(&ok, 0, nullptr, &ob), CUDAGO_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(cudago_fft_extent(&ok, 2, &ib, &ob), CUDAGO_ERROR_INVALID_ARGUMENT);

  cudago_fft_cache_stats_t st;
  std::memset(&st, 0, sizeof st);
  EXPECT_EQ(cudago_fft_cache_stats(&st), CUDAGO_ERROR_INVALID_ARGUMENT);  // struct_size 0
  EXPECT_EQ(cudago_fft_cache_stats(nullptr), CUDAGO_ERROR_INVALID_ARGUMENT);
  cudago_fft_cache_stats_init(&st);
  CG_OK(cudago_fft_cache_stats(&st));
  EXPECT_GT(st.max_entries, 0u);
}

TEST_F(Fft, BadExecArgumentsAreRefused) {
  cudago_stream_t s = stream_.get();
  cudago_fft_desc_t d = make_desc(1, {64}, CUDAGO_FFT_C2C, CUDAGO_DTYPE_F32, 2);
  const uint64_t need = 64 * 2 * 8;
  Buffer in = make_buffer(need), out = make_buffer(need), small = make_buffer(need - 1);
  CG_OK(cudago_memset(0, in.get(), 0, need));  // the accepted calls read it (initcheck)
  CG_OK(
      cudago_fft_exec(s, in.get(), 0, out.get(), 0, &d, CUDAGO_FFT_FORWARD, CUDAGO_FFT_NORM_NONE));
  auto ex = [&](cudago_status_t st, cudago_stream_t ss, cudago_buffer_t i, uint64_t io,
                cudago_buffer_t o, uint64_t oo, const cudago_fft_desc_t* dd,
                cudago_fft_direction_t dir, cudago_fft_norm_t norm, const char* what) {
    EXPECT_EQ(cudago_fft_exec(ss, i, io, o, oo, dd, dir, norm), st)
        << what << " -> " << last_error_text();
  };
  const cudago_fft_direction_t F = CUDAGO_FFT_FORWARD;
  const cudago_fft_norm_t N = CUDAGO_FFT_NORM_NONE;
  ex(CUDAGO_ERROR_OUT_OF_RANGE, s, small.get(), 0, out.get(), 0, &d, F, N, "small input");
  ex(CUDAGO_ERROR_OUT_OF_RANGE, s, in.get(), 0, small.get(), 0, &d, F, N, "small output");
  ex(CUDAGO_ERROR_OUT_OF_RANGE, s, in.get(), 8, out.get(), 0, &d, F, N, "offset past the end");
  ex(CUDAGO_ERROR_INVALID_ARGUMENT, s, in.get(), 4, out.get(), 0, &d, F, N, "misaligned offset");
  ex(CUDAGO_ERROR_INVALID_ARGUMENT, s, in.get(), 0, out.get(), 12, &d, F, N,
     "misaligned output offset");
  ex(CUDAGO_ERROR_INVALID_ARGUMENT, s, in.get(), UINT64_MAX, out.get(), 0, &d, F, N,
     "offset UINT64_MAX (misaligned)");
  ex(CUDAGO_ERROR_OUT_OF_RANGE, s, in.get(), UINT64_MAX - 7, out.get(), 0, &d, F, N,
     "offset UINT64_MAX - 7");
  ex(CUDAGO_ERROR_OUT_OF_RANGE, s, in.get(), 0, out.get(), uint64_t{1} << 63, &d, F, N,
     "offset 2^63");
  // The real side of R2C and C2R starts on a complex element: an offset of one float is refused
  // before cuFFT (which fails on it with CUFFT_INVALID_VALUE).
  cudago_fft_desc_t r2c = make_desc(1, {64}, CUDAGO_FFT_R2C, CUDAGO_DTYPE_F32, 2);
  ex(CUDAGO_SUCCESS, s, in.get(), 8, out.get(), 0, &r2c, F, N, "R2C, real input at 2 floats");
  ex(CUDAGO_ERROR_INVALID_ARGUMENT, s, in.get(), 4, out.get(), 0, &r2c, F, N,
     "R2C, real input at 1 float");
  cudago_fft_desc_t c2r = make_desc(1, {64}, CUDAGO_FFT_C2R, CUDAGO_DTYPE_F32, 2);
  ex(CUDAGO_ERROR_INVALID_ARGUMENT, s, in.get(), 0, out.get(), 12, &c2r, CUDAGO_FFT_INVERSE, N,
     "C2R, real output at 3 floats");
  ex(CUDAGO_ERROR_INVALID_HANDLE, nullptr, in.get(), 0, out.get(), 0, &d, F, N, "NULL stream");
  ex(CUDAGO_ERROR_INVALID_HANDLE, s, nullptr, 0, out.get(), 0, &d, F, N, "NULL in");
  ex(CUDAGO_ERROR_INVALID_HANDLE, s, in.get(), 0, nullptr, 0, &d, F, N, "NULL out");
  ex(CUDAGO_ERROR_INVALID_ARGUMENT, s, in.get(), 0, out.get(), 0, nullptr, F, N, "NULL desc");
  for (int32_t bad : {2, 99, -1}) {
    ex(CUDAGO_ERROR_INVALID_ARGUMENT, s, in.get(), 0, out.get(), 0, &d,
       static_cast<cudago_fft_direction_t>(bad), N, ("direction " + std::to_string(bad)).c_str());
  }
  for (int32_t bad : {4, 99, -1}) {
    ex(CUDAGO_ERROR_INVALID_ARGUMENT, s, in.get(), 0, out.get(), 0, &d, F,
       static_cast<cudago_fft_norm_t>(bad), ("norm " + std::to_string(bad)).c_str());
  }
  cudago_fft_desc_t rz = d;
  rz.reserved0 = 1;
  ex(CUDAGO_ERROR_INVALID_ARGUMENT, s, in.get(), 0, out.get(), 0, &rz, F, N, "reserved0 1");
  // Wrong precision for the buffers: f64 needs twice the bytes.
  cudago_fft_desc_t z = d;
  z.precision = CUDAGO_DTYPE_F64;
  ex(CUDAGO_ERROR_OUT_OF_RANGE, s, in.get(), 0, out.get(), 0, &z, F, N, "f64 on f32 buffers");
  // Direction/type pairing.
  cudago_fft_desc_t r = make_desc(1, {64}, CUDAGO_FFT_R2C, CUDAGO_DTYPE_F32, 1);
  ex(CUDAGO_ERROR_INVALID_ARGUMENT, s, in.get(), 0, out.get(), 0, &r, CUDAGO_FFT_INVERSE, N,
     "inverse R2C");
  cudago_fft_desc_t cr = make_desc(1, {64}, CUDAGO_FFT_C2R, CUDAGO_DTYPE_F32, 1);
  ex(CUDAGO_ERROR_INVALID_ARGUMENT, s, in.get(), 0, out.get(), 0, &cr, F, N, "forward C2R");
  // Overlap in one buffer that is not in place.
  Buffer big = make_buffer(3 * need);
  CG_OK(cudago_memset(0, big.get(), 0, 3 * need));  // the accepted call reads it (initcheck)
  ex(CUDAGO_ERROR_INVALID_ARGUMENT, s, big.get(), 0, big.get(), 8, &d, F, N, "overlap");
  CG_OK(cudago_fft_exec(s, big.get(), 0, big.get(), need, &d, F, N));  // disjoint halves
  // Too large: a transform of 2^40 points is refused before cuFFT (buffers too small).
  cudago_fft_desc_t huge = make_desc(1, {int64_t{1} << 40}, CUDAGO_FFT_C2C, CUDAGO_DTYPE_F32, 1);
  ex(CUDAGO_ERROR_OUT_OF_RANGE, s, in.get(), 0, out.get(), 0, &huge, F, N, "2^40 points");
  CG_OK(cudago_stream_synchronize(s));
}

TEST_F(Fft, CacheHitsOnTheSecondUseOfAShape) {
  CG_OK(cudago_fft_cache_clear());
  cudago_fft_cache_stats_t a, b;
  cudago_fft_cache_stats_init(&a);
  cudago_fft_cache_stats_init(&b);
  CG_OK(cudago_fft_cache_stats(&a));
  Case c{make_desc(2, {12, 20}, CUDAGO_FFT_R2C, CUDAGO_DTYPE_F32, 7)};
  run(c);
  run(c);
  CG_OK(cudago_fft_cache_stats(&b));
  EXPECT_EQ(b.misses - a.misses, 1u);
  EXPECT_EQ(b.hits - a.hits, 1u);
  EXPECT_EQ(b.entries, 1u);
  EXPECT_EQ(b.in_use, 0u);
  CG_OK(cudago_fft_cache_set_limits(0, 0));  // caching off: every use is a miss
  run(c);
  CG_OK(cudago_fft_cache_stats(&a));
  EXPECT_EQ(a.entries, 0u);
  EXPECT_EQ(a.misses - b.misses, 1u);
  CG_OK(cudago_fft_cache_set_limits(64, uint64_t{4} << 30));
}

}  // namespace
