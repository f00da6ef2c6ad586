// CUDA Graphs (stream capture, replay, update) through the C ABI, against CPU references on fresh
// random data (the seed is printed) with poisoned outputs.
//
// Runs without a GPU: the NULL-handle checks of every graph function.
//
// Exactness: the kernels of the pipeline tests multiply by powers of two (exact in float) or do
// one float multiplication or addition, so the GPU and the CPU agree bit for bit. cuBLAS, cuFFT
// and the reduction use the bounds of blas_test, fft_test and reduce_test: GEMM f32 element-wise
// 1e-6 * sqrt(k) * |alpha| (|A||B|)_ij (above the worst-case k u of a k-term float sum); FFT f32
// relative L2 1e-5 * log2(N); SUM f32 the documented 32 u sum|x_i| (u = 2^-24), plus one u of
// the result for the reference's own rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "capi_util.hpp"

namespace {

uint32_t fresh_seed() {
  uint32_t seed = std::random_device{}();
  std::printf("[ seed     ] %u\n", seed);
  return seed;
}

// A value no call may leave in an out parameter it reports NULL in.
cudago_graph_t sentinel_graph() { return reinterpret_cast<cudago_graph_t>(uintptr_t{0x10}); }

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
constexpr uint32_t kPoison = 0xFFFFFFFFu;  // what 0xFF bytes read as (a NaN)

const char* kKernels = R"(
extern "C" __global__ void axpb(float a, const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}
extern "C" __global__ void scale(float a, const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i];
}
extern "C" __global__ void bump(float* p) { p[0] += 1.0f; }
)";

struct Kernels {
  Module module;
  Kernel axpb, scale, bump;
  bool ok() const { return axpb && scale && bump; }
};

Kernel get_kernel(const Module& m, const char* name) {
  cudago_kernel_t k = nullptr;
  EXPECT_EQ(cudago_module_kernel(&k, m.get(), name), CUDAGO_SUCCESS) << last_error_text();
  return Kernel(k);
}

// Compiled for device 0 (a repeat is served from the compile cache).
Kernels compile_kernels() {
  Kernels k;
  cudago_module_t m = nullptr;
  EXPECT_EQ(cudago_module_compile(&m, 0, kKernels, nullptr), CUDAGO_SUCCESS) << last_error_text();
  k.module.reset(m);
  if (!k.module) return k;
  k.axpb = get_kernel(k.module, "axpb");
  k.scale = get_kernel(k.module, "scale");
  k.bump = get_kernel(k.module, "bump");
  return k;
}

// k(a, x, y, n) over n elements (axpb or scale).
cudago_status_t launch_axy(const Kernel& k, cudago_stream_t s, float a, cudago_buffer_t x,
                           cudago_buffer_t y, uint64_t n) {
  cudago_kernel_arg_t args[4] = {arg_f32(a), arg_buffer(x), arg_buffer(y),
                                 arg_i32(static_cast<int64_t>(n))};
  const uint64_t block[3] = {256, 1, 1};
  const uint64_t grid[3] = {(n + 255) / 256, 1, 1};
  return cudago_kernel_launch(k.get(), s, args, 4, grid, block, 0);
}

cudago_status_t launch_bump(const Kernel& k, cudago_stream_t s, cudago_buffer_t p) {
  cudago_kernel_arg_t arg = arg_buffer(p);
  const uint64_t one[3] = {1, 1, 1};
  return cudago_kernel_launch(k.get(), s, &arg, 1, one, one, 0);
}

// 1 or 0, or -1 when the call fails.
int32_t capturing(cudago_stream_t s) {
  int32_t c = -1;
  EXPECT_EQ(cudago_stream_is_capturing(s, &c), CUDAGO_SUCCESS) << last_error_text();
  return c;
}

Graph end_capture(cudago_stream_t s) {
  cudago_graph_t g = sentinel_graph();
  EXPECT_EQ(cudago_stream_end_capture(s, &g), CUDAGO_SUCCESS) << last_error_text();
  if (g == sentinel_graph()) g = nullptr;
  return Graph(g);
}

uint64_t node_count(const Graph& g) {
  uint64_t n = ~uint64_t{0};
  EXPECT_EQ(cudago_graph_node_count(g.get(), &n), CUDAGO_SUCCESS) << last_error_text();
  return n;
}

Buffer upload(const std::vector<float>& v) {
  Buffer b = make_buffer(v.size() * 4);
  if (b) {
    EXPECT_EQ(cudago_copy_h2d(v.data(), b.get(), 0, v.size() * 4), CUDAGO_SUCCESS)
        << last_error_text();
  }
  return b;
}

std::vector<float> download(const Buffer& b, size_t n) {
  std::vector<float> v(n);
  EXPECT_EQ(cudago_copy_d2h(b.get(), 0, v.data(), n * 4), CUDAGO_SUCCESS) << last_error_text();
  return v;
}

void poison(const Buffer& b, uint64_t bytes) {
  EXPECT_EQ(cudago_memset(0xFF, b.get(), 0, bytes), CUDAGO_SUCCESS) << last_error_text();
}

std::vector<float> random_floats(std::mt19937& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Elements whose bits differ; the first few are reported.
size_t mismatches(const float* got, const std::vector<float>& want, const char* what) {
  size_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (bits_of(got[i]) != bits_of(want[i]) && bad++ < 5) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << " want " << want[i];
    }
  }
  return bad;
}

size_t unpoisoned(const float* p, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += bits_of(p[i]) != kPoison;
  return count;
}

// The stream is out of capture mode and runs a kernel and a synchronous copy correctly.
void expect_stream_works(const Kernels& k, cudago_stream_t s) {
  EXPECT_EQ(capturing(s), 0);
  const std::vector<float> x = {1, 2, 3, 4, 5, -6, 7};
  const std::vector<float> y = {10, 20, 30, 40, 50, 60, -70};
  Buffer dx = upload(x), dy = upload(y);
  ASSERT_TRUE(dx && dy);
  CG_OK(launch_axy(k.axpb, s, 2.0f, dx.get(), dy.get(), x.size()));
  CG_OK(cudago_stream_synchronize(s));
  std::vector<float> got = download(dy, y.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(got[i], 2 * x[i] + y[i]) << "i=" << i;
}

// ---- without a GPU ----

TEST(Graph, NullHandlesAreRefused) {
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_stream_begin_capture(nullptr, CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_stream_begin_capture(nullptr, static_cast<cudago_capture_mode_t>(7)));
  cudago_graph_t g = sentinel_graph();
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_stream_end_capture(nullptr, &g));
  EXPECT_EQ(g, nullptr);
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_stream_end_capture(nullptr, nullptr));
  int32_t c = -1;
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_stream_is_capturing(nullptr, &c));

  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_launch(nullptr, nullptr));
  cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
  ASSERT_EQ(cudago_error_last(&e), CUDAGO_SUCCESS);
  EXPECT_EQ(e.status, CUDAGO_ERROR_INVALID_HANDLE);
  EXPECT_STREQ(e.operation, "cudago_graph_launch");
  EXPECT_NE(e.message[0], '\0');
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_upload(nullptr, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_update(nullptr, nullptr));
  uint64_t nodes = 0;
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_node_count(nullptr, &nodes));
  int32_t dev = -1;
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_device(nullptr, &dev));
  CG_OK(cudago_graph_destroy(nullptr));
}

// ---- on a GPU ----

TEST(GraphGpu, ArgumentValidationWithAStream) {
  NEED_GPU();
  Stream s = make_stream();
  ASSERT_NE(s, nullptr);
  for (int32_t bad : {7, -1, INT32_MAX}) {  // INT32_MAX is the FORCE32 enumerator
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_stream_begin_capture(s.get(), static_cast<cudago_capture_mode_t>(bad)));
  }
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_stream_is_capturing(s.get(), nullptr));
  EXPECT_EQ(capturing(s.get()), 0);

  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  Graph g = end_capture(s.get());
  ASSERT_NE(g, nullptr);
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_launch(g.get(), nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_upload(g.get(), nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_update(g.get(), nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_launch(nullptr, s.get()));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_upload(nullptr, s.get()));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_graph_node_count(g.get(), nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_graph_device(g.get(), nullptr));
  // An update needs a capture in progress.
  CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_graph_update(g.get(), s.get()));

  // A NULL graph for update, or a NULL out for end_capture, still ends the capture.
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  EXPECT_EQ(capturing(s.get()), 1);
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_update(nullptr, s.get()));
  EXPECT_EQ(capturing(s.get()), 0);
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_stream_end_capture(s.get(), nullptr));
  EXPECT_EQ(capturing(s.get()), 0);
}

// Eagerly, then captured and replayed: pinned H2D, D2D, an NVRTC kernel, a partial memset, the
// vector add, an elementwise scale, D2D and a pinned D2H.
TEST(GraphGpu, ReplayEqualsEagerAndCpu) {
  NEED_GPU();
  std::mt19937 rng(fresh_seed());
  const float kScales[] = {0.5f, 2.0f, -4.0f, 0.25f, -2.0f};
  const float a = kScales[rng() % 5];  // a power of two: a * x is exact
  const uint64_t n = 1000003, bytes = n * 4;
  const uint64_t zero_from = 1237 + rng() % 1000, zero_count = 50021;  // floats the memset zeroes
  Kernels k = compile_kernels();
  ASSERT_TRUE(k.ok());
  Stream s = make_stream();
  Host hx = make_host(bytes), hout = make_host(bytes);
  Buffer dx = make_buffer(bytes), dy = make_buffer(bytes), dy0 = make_buffer(bytes);
  Buffer dz = make_buffer(bytes), dout = make_buffer(bytes);
  ASSERT_TRUE(s && hx && hout && dx && dy && dy0 && dz && dout);
  float* px = host_ptr<float>(hx);
  float* pout = host_ptr<float>(hout);
  ASSERT_TRUE(px != nullptr && pout != nullptr);

  std::vector<float> x = random_floats(rng, n, -2.0f, 2.0f);
  std::vector<float> y0 = random_floats(rng, n, -2.0f, 2.0f);
  std::memcpy(px, x.data(), bytes);
  CG_OK(cudago_copy_h2d(y0.data(), dy0.get(), 0, bytes));

  auto reference = [&](const std::vector<float>& xs, const std::vector<float>& ys) {
    std::vector<float> out(n);
    for (uint64_t i = 0; i < n; ++i) {
      const float y = i >= zero_from && i < zero_from + zero_count ? 0.0f : a * xs[i] + ys[i];
      out[i] = (xs[i] + y) * 0.5f;
    }
    return out;
  };
  auto enqueue = [&](cudago_stream_t st) {
    CG_OK(cudago_copy_h2d_async(st, hx.get(), 0, dx.get(), 0, bytes));
    CG_OK(cudago_copy_d2d_async(st, dy0.get(), 0, dy.get(), 0, bytes));
    CG_OK(launch_axy(k.axpb, st, a, dx.get(), dy.get(), n));  // y = a x + y0
    CG_OK(cudago_memset_async(st, 0, dy.get(), zero_from * 4, zero_count * 4));
    CG_OK(add_f32(st, dx.get(), dy.get(), dz.get(), n));  // z = x + y
    CG_OK(cudago_elementwise_scale(st, 0.5, dz.get(), 0, n, CUDAGO_DTYPE_F32));
    CG_OK(cudago_copy_d2d_async(st, dz.get(), 0, dout.get(), 0, bytes));
    CG_OK(cudago_copy_d2h_async(st, dout.get(), 0, hout.get(), 0, bytes));
  };
  constexpr uint64_t kOps = 8;

  // Eagerly.
  std::vector<float> want = reference(x, y0);
  std::memset(pout, 0xFF, bytes);
  ASSERT_NO_FATAL_FAILURE(enqueue(s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  EXPECT_EQ(mismatches(pout, want, "eager"), 0u);
  const std::vector<float> eager(pout, pout + n);

  // Captured: nothing runs until the launch.
  std::memset(pout, 0xFF, bytes);
  poison(dy, bytes);
  poison(dz, bytes);
  poison(dout, bytes);
  EXPECT_EQ(capturing(s.get()), 0);
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  EXPECT_EQ(capturing(s.get()), 1);
  ASSERT_NO_FATAL_FAILURE(enqueue(s.get()));
  EXPECT_EQ(capturing(s.get()), 1);
  Graph g = end_capture(s.get());
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(capturing(s.get()), 0);
  CG_OK(cudago_stream_synchronize(s.get()));
  EXPECT_EQ(unpoisoned(pout, n), 0u) << "captured work ran during the capture";
  std::vector<float> still = download(dout, n);
  EXPECT_EQ(unpoisoned(still.data(), n), 0u) << "captured work ran during the capture";
  EXPECT_GE(node_count(g), kOps);
  int32_t dev = -1;
  CG_OK(cudago_graph_device(g.get(), &dev));
  EXPECT_EQ(dev, 0);

  CG_OK(cudago_graph_upload(g.get(), s.get()));
  CG_OK(cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  EXPECT_EQ(mismatches(pout, eager, "replay vs eager"), 0u);
  EXPECT_EQ(mismatches(pout, want, "replay vs CPU"), 0u);

  // A replay reads memory as it is at launch: new pinned input in place, new y0 on the device.
  x = random_floats(rng, n, -2.0f, 2.0f);
  y0 = random_floats(rng, n, -2.0f, 2.0f);
  std::memcpy(px, x.data(), bytes);
  CG_OK(cudago_copy_h2d(y0.data(), dy0.get(), 0, bytes));
  std::memset(pout, 0xFF, bytes);
  want = reference(x, y0);
  CG_OK(cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  EXPECT_EQ(mismatches(pout, want, "second replay vs CPU"), 0u);
  std::vector<float> z = download(dz, n);
  EXPECT_EQ(mismatches(z.data(), want, "second replay, z on the device"), 0u);
}

// Naive DFT of `batch` transforms of length n (sign -1: forward), in double.
std::vector<std::complex<double>> dft(const std::vector<float>& interleaved, int64_t n,
                                      int64_t batch) {
  constexpr double kPi = 3.14159265358979323846;
  std::vector<std::complex<double>> out(static_cast<size_t>(n * batch));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t f = 0; f < n; ++f) {
      std::complex<double> acc = 0;
      for (int64_t j = 0; j < n; ++j) {
        const double angle = -2.0 * kPi * static_cast<double>((j * f) % n) / n;
        const size_t at = static_cast<size_t>(2 * (b * n + j));
        acc += std::complex<double>(interleaved[at], interleaved[at + 1]) *
               std::complex<double>(std::cos(angle), std::sin(angle));
      }
      out[static_cast<size_t>(b * n + f)] = acc;
    }
  }
  return out;
}

// cuBLAS GEMM, cuFFT and a two-pass reduction (scratch from the pool) inside one capture,
// replayed twice on fresh inputs.
TEST(GraphGpu, BlasFftAndReductionReplay) {
  NEED_GPU();
  std::mt19937 rng(fresh_seed());
  const int64_t m = 37, nn = 29, kk = 53;
  const int64_t fft_n = 1000, fft_batch = 3;
  const uint64_t red_n = (uint64_t{1} << 20) + 4099;  // > 1 Mi: the two-pass path
  const uint64_t red_at = 3;  // the result's element in `rout` (at byte red_at * 4)
  Stream s = make_stream();
  Buffer da = make_buffer(m * kk * 4), db = make_buffer(kk * nn * 4), dc = make_buffer(m * nn * 4);
  Buffer fin = make_buffer(2 * fft_n * fft_batch * 4),
         fout = make_buffer(2 * fft_n * fft_batch * 4);
  Buffer rx = make_buffer(red_n * 4), rout = make_buffer((red_at + 1) * 4);
  ASSERT_TRUE(s && da && db && dc && fin && fout && rx && rout);
  // The eager transform below (which caches the plan) reads fin: zeroed (initcheck).
  CG_OK(cudago_memset(0, fin.get(), 0, 2 * fft_n * fft_batch * 4));

  cudago_gemm_params_t gp = CUDAGO_GEMM_PARAMS_INIT;
  gp.dtype = CUDAGO_DTYPE_F32;
  gp.m = m;
  gp.n = nn;
  gp.k = kk;
  gp.alpha = std::uniform_real_distribution<double>(0.5, 2.0)(rng);
  gp.alpha = static_cast<float>(gp.alpha);  // what the GPU computes with
  gp.beta = 0.0;
  cudago_fft_desc_t fd;
  cudago_fft_desc_init(&fd);
  fd.rank = 1;
  fd.dims[0] = fft_n;
  fd.type = CUDAGO_FFT_C2C;
  fd.precision = CUDAGO_DTYPE_F32;
  fd.batch = fft_batch;

  auto poison_outputs = [&] {
    poison(dc, m * nn * 4);
    poison(fout, 2 * fft_n * fft_batch * 4);
    poison(rout, (red_at + 1) * 4);
  };
  // cuFFT cannot create a plan during a capture: a shape whose plan is not cached is refused
  // before cuFFT runs, and the capture goes on. One eager transform caches the plan.
  CG_OK(cudago_fft_cache_clear());
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_fft_exec(s.get(), fin.get(), 0, fout.get(), 0, &fd,
                                                  CUDAGO_FFT_FORWARD, CUDAGO_FFT_NORM_NONE));
  {
    Graph empty = end_capture(s.get());
    ASSERT_NE(empty, nullptr) << "a refused plan miss failed the capture";
    EXPECT_EQ(node_count(empty), 0u);
  }
  CG_OK(cudago_fft_exec(s.get(), fin.get(), 0, fout.get(), 0, &fd, CUDAGO_FFT_FORWARD,
                        CUDAGO_FFT_NORM_NONE));
  CG_OK(cudago_stream_synchronize(s.get()));
  poison_outputs();
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_OK(cudago_blas_gemm(s.get(), da.get(), 0, db.get(), 0, dc.get(), 0, &gp));
  CG_OK(cudago_fft_exec(s.get(), fin.get(), 0, fout.get(), 0, &fd, CUDAGO_FFT_FORWARD,
                        CUDAGO_FFT_NORM_NONE));
  CG_OK(cudago_reduce_all(s.get(), rx.get(), 0, nullptr, 0, rout.get(), red_at * 4, red_n,
                          CUDAGO_DTYPE_F32, CUDAGO_REDUCE_SUM));
  Graph g = end_capture(s.get());
  ASSERT_NE(g, nullptr);
  EXPECT_GE(node_count(g), 3u);
  CG_OK(cudago_stream_synchronize(s.get()));
  {
    std::vector<float> c = download(dc, m * nn);
    EXPECT_EQ(unpoisoned(c.data(), c.size()), 0u) << "the GEMM ran during the capture";
    std::vector<float> r = download(rout, red_at + 1);
    EXPECT_EQ(unpoisoned(r.data(), r.size()), 0u) << "the reduction ran during the capture";
  }

  for (int replay = 0; replay < 2; ++replay) {
    SCOPED_TRACE("replay " + std::to_string(replay));
    const std::vector<float> a = random_floats(rng, m * kk, -1.0f, 1.0f);
    const std::vector<float> b = random_floats(rng, kk * nn, -1.0f, 1.0f);
    const std::vector<float> f = random_floats(rng, 2 * fft_n * fft_batch, -1.0f, 1.0f);
    const std::vector<float> x = random_floats(rng, red_n, -1.0f, 1.0f);
    CG_OK(cudago_copy_h2d(a.data(), da.get(), 0, a.size() * 4));
    CG_OK(cudago_copy_h2d(b.data(), db.get(), 0, b.size() * 4));
    CG_OK(cudago_copy_h2d(f.data(), fin.get(), 0, f.size() * 4));
    CG_OK(cudago_copy_h2d(x.data(), rx.get(), 0, x.size() * 4));
    poison_outputs();
    CG_OK(cudago_graph_launch(g.get(), s.get()));
    CG_OK(cudago_stream_synchronize(s.get()));

    // GEMM, row-major: C = alpha A B.
    const std::vector<float> c = download(dc, m * nn);
    const double gemm_tol = 1e-6 * std::sqrt(static_cast<double>(kk));
    size_t bad = 0;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < nn; ++j) {
        double ref = 0, mag = 0;
        for (int64_t p = 0; p < kk; ++p) {
          const double prod = static_cast<double>(a[i * kk + p]) * b[p * nn + j];
          ref += prod;
          mag += std::fabs(prod);
        }
        ref *= gp.alpha;
        const double got = c[i * nn + j];
        const double tol = gemm_tol * std::fabs(gp.alpha) * mag + 1e-30;
        if (!(std::fabs(got - ref) <= tol) && bad++ < 5) {
          ADD_FAILURE() << "C[" << i << "," << j << "] = " << got << ", CPU " << ref;
        }
      }
    }
    EXPECT_EQ(bad, 0u) << "GEMM";

    // FFT: relative L2 error of all outputs.
    const std::vector<float> spec = download(fout, 2 * fft_n * fft_batch);
    const std::vector<std::complex<double>> want = dft(f, fft_n, fft_batch);
    double err2 = 0, ref2 = 0;
    size_t nans = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      const std::complex<double> got(spec[2 * i], spec[2 * i + 1]);
      nans += std::isnan(got.real()) || std::isnan(got.imag());
      err2 += std::norm(got - want[i]);
      ref2 += std::norm(want[i]);
    }
    EXPECT_EQ(nans, 0u) << "FFT outputs left unwritten";
    EXPECT_LE(std::sqrt(err2 / ref2), 1e-5 * std::log2(static_cast<double>(fft_n))) << "FFT";

    // SUM: within the documented bound; the elements before the result keep their poison.
    const std::vector<float> r = download(rout, red_at + 1);
    EXPECT_EQ(unpoisoned(r.data(), red_at), 0u) << "the reduction wrote outside its element";
    long double sum = 0, abs_sum = 0;
    for (float v : x) {
      sum += v;
      abs_sum += std::fabs(v);
    }
    const double u = std::ldexp(1.0, -24);
    const double bound = 32 * u * static_cast<double>(abs_sum) + u * std::fabs(double(sum));
    EXPECT_LE(std::fabs(r[red_at] - static_cast<double>(sum)), bound)
        << "sum " << r[red_at] << ", CPU " << static_cast<double>(sum);
  }
}

// Update with the same topology (other scalar, other buffers), then one with another topology.
TEST(GraphGpu, UpdateAppliesParametersAndRefusesAnotherTopology) {
  NEED_GPU();
  std::mt19937 rng(fresh_seed());
  const uint64_t n = 300007;
  Kernels k = compile_kernels();
  ASSERT_TRUE(k.ok());
  Stream s = make_stream();
  const std::vector<float> x1 = random_floats(rng, n, -3.0f, 3.0f);
  const std::vector<float> x2 = random_floats(rng, n, -3.0f, 3.0f);
  Buffer dx1 = upload(x1), dx2 = upload(x2), dy1 = make_buffer(n * 4), dy2 = make_buffer(n * 4);
  ASSERT_TRUE(s && dx1 && dx2 && dy1 && dy2);
  poison(dy1, n * 4);
  poison(dy2, n * 4);
  auto times = [&](float a, const std::vector<float>& x) {
    std::vector<float> r(n);
    for (uint64_t i = 0; i < n; ++i) r[i] = a * x[i];  // one rounding, as on the GPU
    return r;
  };

  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_OK(launch_axy(k.scale, s.get(), 2.0f, dx1.get(), dy1.get(), n));
  Graph g = end_capture(s.get());
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(node_count(g), 1u);
  CG_OK(cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  std::vector<float> y = download(dy1, n);
  EXPECT_EQ(mismatches(y.data(), times(2.0f, x1), "a=2 on buffers 1"), 0u);

  // Same topology: a = 3 on buffers 2.
  poison(dy1, n * 4);
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_OK(launch_axy(k.scale, s.get(), 3.0f, dx2.get(), dy2.get(), n));
  CG_OK(cudago_graph_update(g.get(), s.get()));
  EXPECT_EQ(capturing(s.get()), 0);
  EXPECT_EQ(node_count(g), 1u);
  CG_OK(cudago_stream_synchronize(s.get()));
  y = download(dy2, n);
  EXPECT_EQ(unpoisoned(y.data(), n), 0u) << "the update's capture ran";
  CG_OK(cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  y = download(dy2, n);
  EXPECT_EQ(mismatches(y.data(), times(3.0f, x2), "a=3 on buffers 2"), 0u);
  y = download(dy1, n);
  EXPECT_EQ(unpoisoned(y.data(), n), 0u) << "the updated graph still wrote buffer 1";

  // Two kernels instead of one: refused, the capture ends, the graph is unchanged.
  poison(dy2, n * 4);
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_OK(launch_axy(k.scale, s.get(), 5.0f, dx1.get(), dy1.get(), n));
  CG_OK(launch_axy(k.scale, s.get(), 5.0f, dx1.get(), dy1.get(), n));
  CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_graph_update(g.get(), s.get()));
  EXPECT_EQ(capturing(s.get()), 0);
  EXPECT_EQ(node_count(g), 1u);
  CG_OK(cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  y = download(dy2, n);
  EXPECT_EQ(mismatches(y.data(), times(3.0f, x2), "a=3 after the refused update"), 0u);
  y = download(dy1, n);
  EXPECT_EQ(unpoisoned(y.data(), n), 0u) << "the refused capture ran or was applied";
}

TEST(GraphGpu, EveryModeCapturesAndReplays) {
  NEED_GPU();
  Kernels k = compile_kernels();
  ASSERT_TRUE(k.ok());
  Stream s = make_stream();
  ASSERT_NE(s, nullptr);
  for (cudago_capture_mode_t mode :
       {CUDAGO_CAPTURE_THREAD_LOCAL, CUDAGO_CAPTURE_GLOBAL, CUDAGO_CAPTURE_RELAXED}) {
    SCOPED_TRACE("mode " + std::to_string(static_cast<int32_t>(mode)));
    const std::vector<float> x = {1, -2, 3, 0.5f, 1e6f}, y0 = {4, 5, -6, 7, 8};
    Buffer dx = upload(x), dy = upload(y0);
    ASSERT_TRUE(dx && dy);
    CG_OK(cudago_stream_begin_capture(s.get(), mode));
    EXPECT_EQ(capturing(s.get()), 1);
    CG_OK(launch_axy(k.axpb, s.get(), 4.0f, dx.get(), dy.get(), x.size()));
    Graph g = end_capture(s.get());
    ASSERT_NE(g, nullptr);
    CG_OK(cudago_graph_launch(g.get(), s.get()));
    CG_OK(cudago_graph_launch(g.get(), s.get()));  // y = y0 + 8 x
    CG_OK(cudago_stream_synchronize(s.get()));
    std::vector<float> got = download(dy, x.size());
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(got[i], y0[i] + 8 * x[i]) << "i=" << i;
  }
}

// The relaxed mode refuses nothing: a synchronous copy of other data during the capture runs.
TEST(GraphGpu, RelaxedModeAllowsSynchronousCopiesOfOtherBuffers) {
  NEED_GPU();
  Kernels k = compile_kernels();
  ASSERT_TRUE(k.ok());
  Stream s = make_stream();
  const std::vector<float> x = {1, 2, 3}, y0 = {10, 20, 30}, other = {7, 8, 9};
  Buffer dx = upload(x), dy = upload(y0), dother = upload(other);
  ASSERT_TRUE(s && dx && dy && dother);
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_RELAXED));
  CG_OK(launch_axy(k.axpb, s.get(), 2.0f, dx.get(), dy.get(), x.size()));
  std::vector<float> back(3, -1.0f);
  CG_OK(cudago_copy_d2h(dother.get(), 0, back.data(), 12));
  EXPECT_EQ(back, other);
  Graph g = end_capture(s.get());
  ASSERT_NE(g, nullptr);
  CG_OK(cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  std::vector<float> got = download(dy, 3);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(got[i], y0[i] + 2 * x[i]) << "i=" << i;
}

// (i) A synchronisation of the capturing stream invalidates the capture.
TEST(GraphErrors, SynchronizeInsideCaptureFailsIt) {
  NEED_GPU();
  Kernels k = compile_kernels();
  ASSERT_TRUE(k.ok());
  Stream s = make_stream();
  Buffer dx = upload(std::vector<float>(64, 1.0f)), dy = upload(std::vector<float>(64, 2.0f));
  ASSERT_TRUE(s && dx && dy);
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_OK(launch_axy(k.axpb, s.get(), 1.0f, dx.get(), dy.get(), 64));
  EXPECT_NE(cudago_stream_synchronize(s.get()), CUDAGO_SUCCESS);
  cudago_graph_t g = sentinel_graph();
  CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_stream_end_capture(s.get(), &g));
  EXPECT_EQ(g, nullptr);
  if (g != nullptr && g != sentinel_graph()) cudago_graph_destroy(g);
  expect_stream_works(k, s.get());
  // Nothing of the failed capture ran.
  std::vector<float> y = download(dy, 64);
  for (float v : y) EXPECT_EQ(v, 2.0f);
}

// (ii) Synchronous copies and memsets by the capturing thread are refused and fail the capture.
TEST(GraphErrors, SynchronousCopyInsideCaptureFailsIt) {
  NEED_GPU();
  Kernels k = compile_kernels();
  ASSERT_TRUE(k.ok());
  Stream s = make_stream();
  const std::vector<float> ones(64, 1.0f);
  Buffer dx = upload(ones), dy = upload(ones);
  ASSERT_TRUE(s && dx && dy);
  for (int which = 0; which < 3; ++which) {
    SCOPED_TRACE(which == 0 ? "d2h" : which == 1 ? "h2d" : "memset");
    CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
    CG_OK(launch_axy(k.axpb, s.get(), 1.0f, dx.get(), dy.get(), 64));
    std::vector<float> host(64, -5.0f);
    if (which == 0) {
      CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_copy_d2h(dx.get(), 0, host.data(), 64 * 4));
      for (float v : host) EXPECT_EQ(v, -5.0f) << "the refused copy wrote host memory";
    } else if (which == 1) {
      CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_copy_h2d(host.data(), dx.get(), 0, 64 * 4));
    } else {
      CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_memset(0, dx.get(), 0, 64 * 4));
    }
    EXPECT_EQ(capturing(s.get()), 1) << "the capture goes on until end_capture";
    cudago_graph_t g = sentinel_graph();
    CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_stream_end_capture(s.get(), &g));
    EXPECT_EQ(g, nullptr);
    if (g != nullptr && g != sentinel_graph()) cudago_graph_destroy(g);
    ASSERT_NO_FATAL_FAILURE(expect_stream_works(k, s.get()));
    // Neither the captured kernel nor the refused h2d or memset touched x or y.
    EXPECT_EQ(download(dx, 64), ones);
    EXPECT_EQ(download(dy, 64), ones);
  }
}

// (iii) No stream-ordered allocation on the capturing stream.
TEST(GraphErrors, AllocOnCapturingStreamIsRefused) {
  NEED_GPU();
  Kernels k = compile_kernels();
  ASSERT_TRUE(k.ok());
  Stream s = make_stream();
  ASSERT_NE(s, nullptr);
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  cudago_buffer_t b = nullptr;
  CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_buffer_alloc_async(&b, s.get(), 1024));
  EXPECT_EQ(b, nullptr);
  if (b != nullptr) cudago_buffer_free(b);
  EXPECT_EQ(capturing(s.get()), 1);
  Graph g = end_capture(s.get());  // the refused call queued nothing
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(node_count(g), 0u);
  expect_stream_works(k, s.get());
  // After the capture the same call works.
  CG_OK(cudago_buffer_alloc_async(&b, s.get(), 1024));
  EXPECT_NE(b, nullptr);
  CG_OK(cudago_buffer_free(b));
}

// (iv) and (v): begin twice, end without begin.
TEST(GraphErrors, BeginTwiceAndEndWithoutBegin) {
  NEED_GPU();
  Kernels k = compile_kernels();
  ASSERT_TRUE(k.ok());
  Stream s = make_stream();
  Buffer dx = upload({1, 2, 3}), dy = upload({0, 0, 0});
  ASSERT_TRUE(s && dx && dy);

  cudago_graph_t g = sentinel_graph();
  CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_stream_end_capture(s.get(), &g));
  EXPECT_EQ(g, nullptr);
  EXPECT_EQ(capturing(s.get()), 0);

  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_RELAXED));
  EXPECT_EQ(capturing(s.get()), 1) << "the first capture goes on";
  CG_OK(launch_axy(k.axpb, s.get(), 3.0f, dx.get(), dy.get(), 3));
  Graph graph = end_capture(s.get());
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(node_count(graph), 1u);
  CG_OK(cudago_graph_launch(graph.get(), s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  EXPECT_EQ(download(dy, 3), (std::vector<float>{3, 6, 9}));

  g = sentinel_graph();
  CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_stream_end_capture(s.get(), &g));  // already ended
  EXPECT_EQ(g, nullptr);
}

// (vi) A graph cannot be launched into a stream that is capturing.
TEST(GraphErrors, LaunchIntoCapturingStreamIsRefused) {
  NEED_GPU();
  Kernels k = compile_kernels();
  ASSERT_TRUE(k.ok());
  Stream s = make_stream(), other = make_stream();
  Buffer dx = upload({1, 2, 3}), dy = upload({1, 1, 1});
  ASSERT_TRUE(s && other && dx && dy);
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_OK(launch_axy(k.axpb, s.get(), 1.0f, dx.get(), dy.get(), 3));
  Graph g = end_capture(s.get());
  ASSERT_NE(g, nullptr);

  for (cudago_stream_t target : {s.get(), other.get()}) {
    CG_OK(cudago_stream_begin_capture(target, CUDAGO_CAPTURE_THREAD_LOCAL));
    CG_EXPECT(CUDAGO_ERROR_CAPTURE, cudago_graph_launch(g.get(), target));
    EXPECT_EQ(capturing(target), 1);
    Graph empty = end_capture(target);  // the refused launch queued nothing
    ASSERT_NE(empty, nullptr);
    EXPECT_EQ(node_count(empty), 0u);
  }
  CG_OK(cudago_stream_synchronize(s.get()));
  EXPECT_EQ(download(dy, 3), (std::vector<float>{1, 1, 1})) << "a refused launch ran";
  CG_OK(cudago_graph_launch(g.get(), other.get()));
  CG_OK(cudago_stream_synchronize(other.get()));
  EXPECT_EQ(download(dy, 3), (std::vector<float>{2, 3, 4}));
}

// (vii) A launch after a buffer of the graph was freed is refused.
TEST(GraphErrors, LaunchAfterBufferFreedIsRefused) {
  NEED_GPU();
  Kernels k = compile_kernels();
  ASSERT_TRUE(k.ok());
  Stream s = make_stream();
  Buffer dx = upload({1, 2, 3}), dy = upload({0, 0, 0});
  ASSERT_TRUE(s && dx && dy);
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_OK(launch_axy(k.axpb, s.get(), 1.0f, dx.get(), dy.get(), 3));
  Graph g = end_capture(s.get());
  ASSERT_NE(g, nullptr);
  CG_OK(cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  EXPECT_EQ(download(dy, 3), (std::vector<float>{1, 2, 3}));

  CG_OK(cudago_buffer_free(dx.release()));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  EXPECT_EQ(download(dy, 3), (std::vector<float>{1, 2, 3})) << "the refused launch ran";
  // The output buffer freed instead: refused as well.
  Buffer dx2 = upload({1, 1, 1}), dy2 = upload({0, 0, 0});
  ASSERT_TRUE(dx2 && dy2);
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_OK(launch_axy(k.axpb, s.get(), 1.0f, dx2.get(), dy2.get(), 3));
  Graph g2 = end_capture(s.get());
  ASSERT_NE(g2, nullptr);
  CG_OK(cudago_buffer_free(dy2.release()));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_launch(g2.get(), s.get()));
  CG_OK(cudago_graph_destroy(g2.release()));
  expect_stream_works(k, s.get());
}

// (viii) Freeing, during the capture, buffers the capture uses: the free of one owned by the
// capturing stream waits for the end of the capture; the capture still succeeds; the graph then
// refuses to launch.
TEST(GraphErrors, FreeDuringCaptureIsDeferredAndTheGraphRefusesToLaunch) {
  NEED_GPU();
  Kernels k = compile_kernels();
  ASSERT_TRUE(k.ok());
  Stream s = make_stream();
  ASSERT_NE(s, nullptr);
  cudago_buffer_t own = nullptr;  // allocated on (owned by) the stream that will be captured
  CG_OK(cudago_buffer_alloc_async(&own, s.get(), 64 * 4));
  Buffer owned(own);
  CG_OK(cudago_memset_async(s.get(), 0, owned.get(), 0, 64 * 4));
  Buffer dx = upload(std::vector<float>(64, 1.0f));
  ASSERT_NE(dx, nullptr);
  CG_OK(cudago_stream_synchronize(s.get()));

  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  CG_OK(launch_axy(k.axpb, s.get(), 1.0f, dx.get(), owned.get(), 64));
  CG_OK(cudago_buffer_free(owned.release()));
  CG_OK(cudago_buffer_free(dx.release()));
  EXPECT_EQ(capturing(s.get()), 1);
  Graph g = end_capture(s.get());
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(node_count(g), 1u) << "a free became part of the graph";
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  expect_stream_works(k, s.get());
}

// (ix) An empty capture is a valid graph.
TEST(GraphErrors, EmptyCaptureIsAValidGraph) {
  NEED_GPU();
  Stream s = make_stream();
  ASSERT_NE(s, nullptr);
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  Graph g = end_capture(s.get());
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(node_count(g), 0u);
  int32_t dev = -1;
  CG_OK(cudago_graph_device(g.get(), &dev));
  EXPECT_EQ(dev, 0);
  CG_OK(cudago_graph_upload(g.get(), s.get()));
  CG_OK(cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  int32_t done = 0;
  CG_OK(cudago_stream_query(s.get(), &done));
  EXPECT_EQ(done, 1);
}

// 1000 one-thread kernels that each add 1 to the same float, in one graph.
TEST(GraphGpu, ThousandTinyKernelsReplayInOrder) {
  NEED_GPU();
  Kernels k = compile_kernels();
  ASSERT_TRUE(k.ok());
  Stream s = make_stream();
  Buffer p = make_buffer(4);
  ASSERT_TRUE(s && p);
  CG_OK(cudago_memset(0, p.get(), 0, 4));
  CG_OK(cudago_stream_begin_capture(s.get(), CUDAGO_CAPTURE_THREAD_LOCAL));
  for (int i = 0; i < 1000; ++i) CG_OK(launch_bump(k.bump, s.get(), p.get()));
  Graph g = end_capture(s.get());
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(node_count(g), 1000u);
  CG_OK(cudago_stream_synchronize(s.get()));
  EXPECT_EQ(download(p, 1)[0], 0.0f) << "captured kernels ran during the capture";

  CG_OK(cudago_graph_upload(g.get(), s.get()));
  CG_OK(cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_stream_synchronize(s.get()));
  EXPECT_EQ(download(p, 1)[0], 1000.0f);

  CG_OK(cudago_graph_launch(g.get(), s.get()));
  CG_OK(cudago_graph_launch(g.get(), s.get()));
  // Destroying the graph waits for its launches; the synchronous copy is ordered after them.
  CG_OK(cudago_graph_destroy(g.release()));
  EXPECT_EQ(download(p, 1)[0], 3000.0f);
}

}  // namespace
