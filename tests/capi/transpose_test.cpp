// Transposes and NHWC <-> NCHW through the C ABI, against a CPU loop, on fresh random bits at
// awkward shapes (1, primes, C = 1, 3, 64, 1000, odd H and W, shapes that are not multiples of
// the 32 x 32 tile). A layout change moves bytes, so results must equal the CPU's bit for bit;
// the output is poisoned (0xFF) first so an element the kernel skips fails, and the bytes past
// the tensor must stay poisoned.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "capi_util.hpp"

namespace {

// out[b][c][r] = in[b][r][c] for `batch` matrices rows x cols of T.
template <class T>
std::vector<T> cpu_transpose(const std::vector<T>& in, uint64_t batch, uint64_t rows,
                             uint64_t cols) {
  std::vector<T> out(in.size());
  for (uint64_t b = 0; b < batch; ++b) {
    for (uint64_t r = 0; r < rows; ++r) {
      for (uint64_t c = 0; c < cols; ++c) {
        out[(b * cols + c) * rows + r] = in[(b * rows + r) * cols + c];
      }
    }
  }
  return out;
}

template <class T>
std::vector<T> random_bits(size_t n, std::mt19937_64& rng) {
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(rng());
  return v;
}

unsigned seed_once() {
  static const unsigned seed = [] {
    unsigned s = std::random_device{}();
    std::printf("transpose tests: random seed %u\n", s);
    return s;
  }();
  return seed;
}

enum class Op { k2d, kNhwcToNchw, kNchwToNhwc };

// Runs op on fresh random T data of the given shape (batch, d1, d2, d3 as the op reads them)
// and compares with the CPU.
template <class T>
void check(cudago_stream_t s, cudago_dtype_t dt, Op op, uint64_t n, uint64_t h, uint64_t w,
           uint64_t c, std::mt19937_64& rng) {
  uint64_t batch = 1, rows = h, cols = w;  // k2d: h = rows, w = cols
  if (op == Op::kNhwcToNchw) batch = n, rows = h * w, cols = c;
  if (op == Op::kNchwToNhwc) batch = n, rows = c, cols = h * w;
  const uint64_t elems = batch * rows * cols, bytes = elems * sizeof(T);
  const std::string what =
      "op=" + std::to_string(static_cast<int>(op)) + " n=" + std::to_string(n) +
      " h=" + std::to_string(h) + " w=" + std::to_string(w) + " c=" + std::to_string(c) +
      " elem=" + std::to_string(sizeof(T)) + " seed=" + std::to_string(seed_once());
  auto in = random_bits<T>(elems, rng);
  const uint64_t slack = 64;  // poisoned bytes past the output tensor that must stay poisoned
  Buffer din = make_buffer(bytes), dout = make_buffer(bytes + slack);
  if (bytes > 0) {
    CG_OK(cudago_copy_h2d(din.get(), 0, in.data(), bytes)) << what;
  }
  CG_OK(cudago_memset(dout.get(), 0, 0xFF, bytes + slack));
  switch (op) {
    case Op::k2d:
      CG_OK(cudago_layout_transpose_2d(s, dt, din.get(), dout.get(), h, w)) << what;
      break;
    case Op::kNhwcToNchw:
      CG_OK(cudago_layout_nhwc_to_nchw(s, dt, din.get(), dout.get(), n, h, w, c)) << what;
      break;
    case Op::kNchwToNhwc:
      CG_OK(cudago_layout_nchw_to_nhwc(s, dt, din.get(), dout.get(), n, h, w, c)) << what;
      break;
  }
  std::vector<unsigned char> raw(bytes + slack);
  CG_OK(cudago_copy_d2h(raw.data(), dout.get(), 0, bytes + slack));
  const auto want = cpu_transpose(in, batch, rows, cols);
  std::vector<T> got(elems);
  if (bytes > 0) std::memcpy(got.data(), raw.data(), bytes);
  for (uint64_t i = 0; i < elems; ++i) {
    ASSERT_EQ(got[i], want[i]) << what << " at element " << i;
  }
  for (uint64_t i = bytes; i < bytes + slack; ++i) {
    ASSERT_EQ(raw[i], 0xFF) << what << ": byte " << i << " past the tensor was written";
  }
}

struct Shape {
  uint64_t n, h, w, c;
};

// NHWC shapes: C = 1, 3, 64, 1000 and others around the kernels' thresholds (32) and the
// narrow kernels' chunking; odd H and W; N = 1.
const Shape kLayoutShapes[] = {
    {1, 1, 1, 1},     {1, 1, 1, 3},    {2, 7, 5, 3},      {1, 13, 17, 1}, {3, 5, 7, 64},
    {2, 3, 5, 1000},  {1, 1, 1, 1000}, {5, 31, 29, 3},    {1, 57, 53, 3}, {2, 9, 11, 31},
    {2, 9, 11, 32},   {3, 9, 11, 33},  {1, 3, 3, 2},      {4, 1, 1, 7},   {2, 45, 47, 16},
    {1, 224, 224, 3}, {2, 56, 56, 64}, {1, 14, 14, 1024}, {7, 2, 3, 257},
};

TEST(Layout, NhwcNchwMatchTheCpu) {
  NEED_GPU();
  std::mt19937_64 rng(seed_once());
  Stream s = make_stream();
  for (const Shape& sh : kLayoutShapes) {
    for (Op op : {Op::kNhwcToNchw, Op::kNchwToNhwc}) {
      check<uint32_t>(s.get(), CUDAGO_DTYPE_F32, op, sh.n, sh.h, sh.w, sh.c, rng);
      check<uint16_t>(s.get(), CUDAGO_DTYPE_F16, op, sh.n, sh.h, sh.w, sh.c, rng);
      if (HasFatalFailure()) return;
    }
  }
  // Other element sizes go through the same kernels with other widths.
  check<uint16_t>(s.get(), CUDAGO_DTYPE_BF16, Op::kNhwcToNchw, 2, 5, 7, 3, rng);
  check<uint64_t>(s.get(), CUDAGO_DTYPE_F64, Op::kNhwcToNchw, 2, 5, 7, 3, rng);
  check<uint64_t>(s.get(), CUDAGO_DTYPE_F64, Op::kNchwToNhwc, 2, 9, 11, 40, rng);
  check<uint8_t>(s.get(), CUDAGO_DTYPE_U8, Op::kNchwToNhwc, 3, 17, 19, 3, rng);
  check<uint8_t>(s.get(), CUDAGO_DTYPE_I8, Op::kNhwcToNchw, 3, 17, 19, 67, rng);
}

TEST(Layout, Transpose2DMatchesTheCpu) {
  NEED_GPU();
  std::mt19937_64 rng(seed_once());
  Stream s = make_stream();
  const uint64_t shapes[][2] = {{1, 1},      {1, 1000},   {1000, 1},  {31, 33},  {32, 32},
                                {33, 31},    {97, 1031},  {4099, 3},  {3, 4099}, {1024, 1024},
                                {2, 100003}, {100003, 2}, {257, 255}, {1, 33},   {33, 1}};
  for (const auto& sh : shapes) {
    check<uint32_t>(s.get(), CUDAGO_DTYPE_F32, Op::k2d, 1, sh[0], sh[1], 1, rng);
    check<uint16_t>(s.get(), CUDAGO_DTYPE_F16, Op::k2d, 1, sh[0], sh[1], 1, rng);
    if (HasFatalFailure()) return;
  }
  check<uint64_t>(s.get(), CUDAGO_DTYPE_I64, Op::k2d, 1, 67, 131, 1, rng);
  check<uint8_t>(s.get(), CUDAGO_DTYPE_U8, Op::k2d, 1, 67, 131, 1, rng);
  check<uint32_t>(s.get(), CUDAGO_DTYPE_I32, Op::k2d, 1, 5003, 4001, 1, rng);  // 80 MB
}

TEST(Layout, EmptyTensorsAreNoOps) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer in = make_buffer(16), out = make_buffer(16);
  CG_OK(cudago_memset(out.get(), 0, 0xAB, 16));
  CG_OK(cudago_layout_transpose_2d(s.get(), CUDAGO_DTYPE_F32, in.get(), out.get(), 0, 5));
  CG_OK(cudago_layout_transpose_2d(s.get(), CUDAGO_DTYPE_F32, in.get(), out.get(), 5, 0));
  CG_OK(cudago_layout_nhwc_to_nchw(s.get(), CUDAGO_DTYPE_F32, in.get(), out.get(), 0, 3, 3, 3));
  CG_OK(cudago_layout_nchw_to_nhwc(s.get(), CUDAGO_DTYPE_F16, in.get(), out.get(), 4, 0, 9, 3));
  // Empty tensors need no memory at all, and may even use one buffer for both sides.
  Buffer none = make_buffer(0);
  CG_OK(cudago_layout_nhwc_to_nchw(s.get(), CUDAGO_DTYPE_F32, none.get(), none.get(), 3, 3, 3, 0));
  CG_OK(cudago_stream_synchronize(s.get()));
  unsigned char got[16];
  CG_OK(cudago_copy_d2h(got, out.get(), 0, 16));
  for (unsigned char b : got) ASSERT_EQ(b, 0xAB);
}

TEST(Layout, BadArgumentsAreRefused) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer a = make_buffer(4 * 60), b = make_buffer(4 * 60), small = make_buffer(4 * 59);
  const auto f32 = CUDAGO_DTYPE_F32;
  // NULL handles.
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_layout_transpose_2d(nullptr, f32, a.get(), b.get(), 6, 10));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_layout_transpose_2d(s.get(), f32, nullptr, b.get(), 6, 10));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_layout_nhwc_to_nchw(s.get(), f32, a.get(), nullptr, 1, 3, 4, 5));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_layout_nchw_to_nhwc(nullptr, f32, a.get(), b.get(), 1, 3, 4, 5));
  // Not an element type.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_layout_transpose_2d(s.get(), static_cast<cudago_dtype_t>(99), a.get(), b.get(),
                                       6, 10));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_layout_nhwc_to_nchw(s.get(), static_cast<cudago_dtype_t>(-1), a.get(), b.get(),
                                       1, 3, 4, 5));
  // Buffers too small for the dims (either side), and by a single element.
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_transpose_2d(s.get(), f32, small.get(), b.get(), 6, 10));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_nhwc_to_nchw(s.get(), f32, a.get(), small.get(), 1, 3, 4, 5));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_nchw_to_nhwc(s.get(), f32, a.get(), b.get(), 1, 3, 4, 6));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_nchw_to_nhwc(s.get(), CUDAGO_DTYPE_F64, a.get(), b.get(), 1, 3, 4, 5));
  // Products that overflow 64 bits (also what a negative dimension becomes in uint64_t).
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_transpose_2d(s.get(), f32, a.get(), b.get(), uint64_t{1} << 32,
                                       uint64_t{1} << 32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_transpose_2d(s.get(), f32, a.get(), b.get(), uint64_t{1} << 31,
                                       uint64_t{1} << 31));  // 2^62 elements: bytes overflow
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_nhwc_to_nchw(s.get(), f32, a.get(), b.get(), 1, UINT64_MAX, 2, 1));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_nchw_to_nhwc(s.get(), f32, a.get(), b.get(), static_cast<uint64_t>(-2), 3,
                                       4, 5));
  // In place is refused.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_layout_transpose_2d(s.get(), f32, a.get(), a.get(), 6, 10));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_layout_nhwc_to_nchw(s.get(), f32, a.get(), a.get(), 1, 3, 4, 5));
  // The error detail names the operation.
  cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
  ASSERT_EQ(cudago_layout_nhwc_to_nchw(s.get(), f32, a.get(), a.get(), 1, 3, 4, 5),
            CUDAGO_ERROR_INVALID_ARGUMENT);
  CG_OK(cudago_error_last(&e));
  EXPECT_STREQ(e.operation, "cudago_layout_nhwc_to_nchw");
  EXPECT_NE(std::string(e.message).find("overlaps"), std::string::npos) << e.message;
  // Nothing was queued by the refused calls; a good call still works.
  CG_OK(cudago_layout_transpose_2d(s.get(), f32, a.get(), b.get(), 6, 10));
  CG_OK(cudago_stream_synchronize(s.get()));
}

TEST(Layout, BuffersOfAnotherDeviceAreRefused) {
  NEED_GPU();
  int32_t n = 0;
  CG_OK(cudago_device_count(&n));
  if (n < 2) GTEST_SKIP() << "needs 2 devices, this machine has " << n;
  Stream s0 = make_stream(0);
  Buffer b0 = make_buffer(64, 0), b1 = make_buffer(64, 1);
  CG_EXPECT(CUDAGO_ERROR_DEVICE_MISMATCH,
            cudago_layout_transpose_2d(s0.get(), CUDAGO_DTYPE_F32, b0.get(), b1.get(), 4, 4));
}

}  // namespace
