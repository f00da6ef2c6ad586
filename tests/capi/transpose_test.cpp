// Transposes and NHWC <-> NCHW through the C ABI, against a CPU loop, on fresh random bits at
// awkward shapes (1, primes, C = 1, 3, 64, 1000, odd H and W, shapes that are not multiples of
// the 32 x 32 tile). A layout change moves bytes, so results must equal the CPU's bit for bit;
// the output is poisoned (0xFF) first so an element the kernel skips fails, and the bytes before
// and past the tensor must stay poisoned.
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
// and compares with the CPU. The input tensor starts at element in_off of its buffer and the
// output at element out_off of its own (the calls take byte offsets).
template <class T>
void check(cudago_stream_t s, cudago_dtype_t dt, Op op, uint64_t n, uint64_t h, uint64_t w,
           uint64_t c, std::mt19937_64& rng, uint64_t in_off = 0, uint64_t out_off = 0) {
  uint64_t batch = 1, rows = h, cols = w;  // k2d: h = rows, w = cols
  if (op == Op::kNhwcToNchw) batch = n, rows = h * w, cols = c;
  if (op == Op::kNchwToNhwc) batch = n, rows = c, cols = h * w;
  const uint64_t elems = batch * rows * cols, bytes = elems * sizeof(T);
  const uint64_t in_at = in_off * sizeof(T), out_at = out_off * sizeof(T);  // byte offsets
  const std::string what =
      "op=" + std::to_string(static_cast<int>(op)) + " n=" + std::to_string(n) +
      " h=" + std::to_string(h) + " w=" + std::to_string(w) + " c=" + std::to_string(c) +
      " elem=" + std::to_string(sizeof(T)) + " in_off=" + std::to_string(in_off) +
      " out_off=" + std::to_string(out_off) + " seed=" + std::to_string(seed_once());
  auto in = random_bits<T>(elems, rng);
  const uint64_t slack = 64;  // poisoned bytes past the output tensor that must stay poisoned
  const uint64_t out_total = out_at + bytes + slack;
  Buffer din = make_buffer(in_at + bytes), dout = make_buffer(out_total);
  if (bytes > 0) {
    CG_OK(cudago_copy_h2d(in.data(), din.get(), in_at, bytes)) << what;
  }
  CG_OK(cudago_memset(0xFF, dout.get(), 0, out_total));
  switch (op) {
    case Op::k2d:
      CG_OK(cudago_layout_transpose_2d(s, din.get(), in_at, dout.get(), out_at, h, w, dt)) << what;
      break;
    case Op::kNhwcToNchw:
      CG_OK(cudago_layout_nhwc_to_nchw(s, din.get(), in_at, dout.get(), out_at, n, h, w, c, dt))
          << what;
      break;
    case Op::kNchwToNhwc:
      CG_OK(cudago_layout_nchw_to_nhwc(s, din.get(), in_at, dout.get(), out_at, n, h, w, c, dt))
          << what;
      break;
  }
  std::vector<unsigned char> raw(out_total);
  CG_OK(cudago_copy_d2h(dout.get(), 0, raw.data(), out_total));
  const auto want = cpu_transpose(in, batch, rows, cols);
  std::vector<T> got(elems);
  if (bytes > 0) std::memcpy(got.data(), raw.data() + out_at, bytes);
  for (uint64_t i = 0; i < elems; ++i) {
    ASSERT_EQ(got[i], want[i]) << what << " at element " << i;
  }
  for (uint64_t i = 0; i < out_at; ++i) {
    ASSERT_EQ(raw[i], 0xFF) << what << ": byte " << i << " before the tensor was written";
  }
  for (uint64_t i = out_at + bytes; i < out_total; ++i) {
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

// The kernel is chosen by rows and cols (narrow rows below 32 rows, narrow columns below 32
// columns, 64 x 64 tiles otherwise), and the tiles' remainders depend on rows % 64. Rows on both
// sides of 32 and of multiples of 64 up to 1025, for every element size, with columns that are
// and are not a multiple of 32.
TEST(Layout, EveryKernelAtItsThresholds) {
  NEED_GPU();
  std::mt19937_64 rng(seed_once());
  Stream s = make_stream();
  const uint64_t rows[] = {31,  32,  33,  63,  64,  65,  127,  128,  129, 196,
                           255, 256, 257, 511, 512, 513, 1023, 1024, 1025};
  for (uint64_t r : rows) {
    for (uint64_t c : {uint64_t{32}, uint64_t{33}, uint64_t{97}}) {
      check<uint32_t>(s.get(), CUDAGO_DTYPE_F32, Op::kNhwcToNchw, 2, r, 1, c, rng);
      check<uint16_t>(s.get(), CUDAGO_DTYPE_F16, Op::kNhwcToNchw, 2, r, 1, c, rng);
      check<uint8_t>(s.get(), CUDAGO_DTYPE_U8, Op::kNhwcToNchw, 2, r, 1, c, rng);
      check<uint64_t>(s.get(), CUDAGO_DTYPE_F64, Op::kNhwcToNchw, 2, r, 1, c, rng);
      if (HasFatalFailure()) return;
    }
  }
}

// Byte offsets (multiples of the element size) place each tensor anywhere in its buffer, for
// every kernel (tiled, narrow columns, narrow rows) and element size.
TEST(Layout, TensorsAtByteOffsets) {
  NEED_GPU();
  std::mt19937_64 rng(seed_once());
  Stream s = make_stream();
  const uint64_t offsets[][2] = {{1, 0}, {0, 1}, {3, 5}, {17, 2}};
  for (const auto& o : offsets) {
    check<uint32_t>(s.get(), CUDAGO_DTYPE_F32, Op::k2d, 1, 97, 131, 1, rng, o[0], o[1]);
    check<uint32_t>(s.get(), CUDAGO_DTYPE_F32, Op::k2d, 1, 128, 131, 1, rng, o[0], o[1]);
    check<uint64_t>(s.get(), CUDAGO_DTYPE_I64, Op::k2d, 1, 192, 70, 1, rng, o[0], o[1]);
    check<uint16_t>(s.get(), CUDAGO_DTYPE_F16, Op::kNhwcToNchw, 2, 7, 5, 3, rng, o[0], o[1]);
    check<uint8_t>(s.get(), CUDAGO_DTYPE_U8, Op::kNchwToNhwc, 3, 17, 19, 3, rng, o[0], o[1]);
    check<uint64_t>(s.get(), CUDAGO_DTYPE_F64, Op::kNhwcToNchw, 2, 9, 11, 40, rng, o[0], o[1]);
    if (HasFatalFailure()) return;
  }
}

TEST(Layout, EmptyTensorsAreNoOps) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer in = make_buffer(16), out = make_buffer(16);
  CG_OK(cudago_memset(0xAB, out.get(), 0, 16));
  CG_OK(cudago_layout_transpose_2d(s.get(), in.get(), 0, out.get(), 0, 0, 5, CUDAGO_DTYPE_F32));
  CG_OK(cudago_layout_transpose_2d(s.get(), in.get(), 0, out.get(), 0, 5, 0, CUDAGO_DTYPE_F32));
  CG_OK(
      cudago_layout_nhwc_to_nchw(s.get(), in.get(), 0, out.get(), 0, 0, 3, 3, 3, CUDAGO_DTYPE_F32));
  CG_OK(
      cudago_layout_nchw_to_nhwc(s.get(), in.get(), 0, out.get(), 0, 4, 0, 9, 3, CUDAGO_DTYPE_F16));
  // Empty tensors need no memory at all, and may even use one buffer for both sides.
  Buffer none = make_buffer(0);
  CG_OK(cudago_layout_nhwc_to_nchw(s.get(), none.get(), 0, none.get(), 0, 3, 3, 3, 0,
                                   CUDAGO_DTYPE_F32));
  CG_OK(cudago_stream_synchronize(s.get()));
  unsigned char got[16];
  CG_OK(cudago_copy_d2h(out.get(), 0, got, 16));
  for (unsigned char b : got) ASSERT_EQ(b, 0xAB);
}

TEST(Layout, BadArgumentsAreRefused) {
  NEED_GPU();
  Stream s = make_stream();
  Buffer a = make_buffer(4 * 60), b = make_buffer(4 * 60), small = make_buffer(4 * 59);
  const auto f32 = CUDAGO_DTYPE_F32;
  // Written first: the calls that succeed below read them (initcheck names never-written reads).
  CG_OK(cudago_memset(0, a.get(), 0, 4 * 60));
  CG_OK(cudago_memset(0, small.get(), 0, 4 * 59));
  // NULL handles.
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_layout_transpose_2d(nullptr, a.get(), 0, b.get(), 0, 6, 10, f32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_layout_transpose_2d(s.get(), nullptr, 0, b.get(), 0, 6, 10, f32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_layout_nhwc_to_nchw(s.get(), a.get(), 0, nullptr, 0, 1, 3, 4, 5, f32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_layout_nchw_to_nhwc(nullptr, a.get(), 0, b.get(), 0, 1, 3, 4, 5, f32));
  // Not an element type.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_layout_transpose_2d(s.get(), a.get(), 0, b.get(), 0, 6, 10,
                                       static_cast<cudago_dtype_t>(99)));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_layout_nhwc_to_nchw(s.get(), a.get(), 0, b.get(), 0, 1, 3, 4, 5,
                                       static_cast<cudago_dtype_t>(-1)));
  // Buffers too small for the dims (either side), and by a single element.
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_transpose_2d(s.get(), small.get(), 0, b.get(), 0, 6, 10, f32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_nhwc_to_nchw(s.get(), a.get(), 0, small.get(), 0, 1, 3, 4, 5, f32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_nchw_to_nhwc(s.get(), a.get(), 0, b.get(), 0, 1, 3, 4, 6, f32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_layout_nchw_to_nhwc(s.get(), a.get(), 0, b.get(), 0,
                                                                  1, 3, 4, 5, CUDAGO_DTYPE_F64));
  // Products that overflow 64 bits (also what a negative dimension becomes in uint64_t).
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_transpose_2d(s.get(), a.get(), 0, b.get(), 0, uint64_t{1} << 32,
                                       uint64_t{1} << 32, f32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_transpose_2d(s.get(), a.get(), 0, b.get(), 0, uint64_t{1} << 31,
                                       uint64_t{1} << 31, f32));  // 2^62 elements: bytes overflow
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_nhwc_to_nchw(s.get(), a.get(), 0, b.get(), 0, 1, UINT64_MAX, 2, 1, f32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_nchw_to_nhwc(s.get(), a.get(), 0, b.get(), 0, static_cast<uint64_t>(-2),
                                       3, 4, 5, f32));
  // In place is refused.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_layout_transpose_2d(s.get(), a.get(), 0, a.get(), 0, 6, 10, f32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_layout_nhwc_to_nchw(s.get(), a.get(), 0, a.get(), 0, 1, 3, 4, 5, f32));
  // Byte offsets: not a multiple of the element size (either side, any op).
  for (uint64_t bad : {uint64_t{1}, uint64_t{2}, uint64_t{6}}) {
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_layout_transpose_2d(s.get(), a.get(), bad, b.get(), 0, 2, 3, f32));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_layout_transpose_2d(s.get(), a.get(), 0, b.get(), bad, 2, 3, f32));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_layout_nhwc_to_nchw(s.get(), a.get(), bad, b.get(), 0, 1, 2, 2, 2, f32));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_layout_nchw_to_nhwc(s.get(), a.get(), 0, b.get(), bad, 1, 2, 2, 2, f32));
  }
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_layout_transpose_2d(s.get(), a.get(), 3, b.get(), 0, 2, 3, CUDAGO_DTYPE_F16));
  CG_EXPECT(CUDAGO_SUCCESS,
            cudago_layout_transpose_2d(s.get(), a.get(), 2, b.get(), 6, 2, 3, CUDAGO_DTYPE_F16));
  CG_EXPECT(CUDAGO_SUCCESS,
            cudago_layout_transpose_2d(s.get(), a.get(), 3, b.get(), 5, 2, 3, CUDAGO_DTYPE_U8));
  {
    cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
    ASSERT_EQ(cudago_layout_transpose_2d(s.get(), a.get(), 0, b.get(), 2, 2, 3, f32),
              CUDAGO_ERROR_INVALID_ARGUMENT);
    CG_OK(cudago_error_last(&e));
    EXPECT_NE(std::string(e.message).find("out_offset"), std::string::npos) << e.message;
  }
  // Byte offsets that leave too little of the buffer (a and b hold exactly 6 x 10 floats), also
  // where offset + tensor bytes would overflow, and for an empty tensor (its offset must still
  // lie within the buffer, as for the elementwise calls).
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_transpose_2d(s.get(), a.get(), 4, b.get(), 0, 6, 10, f32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_nhwc_to_nchw(s.get(), a.get(), 0, b.get(), 4, 1, 3, 4, 5, f32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE, cudago_layout_nchw_to_nhwc(s.get(), a.get(), UINT64_MAX - 3,
                                                                  b.get(), 0, 1, 1, 1, 1, f32));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_layout_transpose_2d(s.get(), a.get(), 4 * 61, b.get(), 0, 0, 10, f32));
  CG_EXPECT(CUDAGO_SUCCESS,
            cudago_layout_transpose_2d(s.get(), a.get(), 4 * 60, b.get(), 4 * 60, 0, 10, f32));
  // One buffer, two disjoint ranges: fine; ranges that overlap by one element: refused.
  Buffer two = make_buffer(2 * 4 * 60);
  CG_OK(cudago_memset(0, two.get(), 0, 2 * 4 * 60));
  CG_EXPECT(CUDAGO_SUCCESS,
            cudago_layout_transpose_2d(s.get(), two.get(), 0, two.get(), 4 * 60, 6, 10, f32));
  CG_EXPECT(CUDAGO_SUCCESS,
            cudago_layout_transpose_2d(s.get(), two.get(), 4 * 60, two.get(), 0, 6, 10, f32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_layout_transpose_2d(s.get(), two.get(), 0, two.get(), 4 * 59, 6, 10, f32));
  // Values that are not element types, for each call.
  for (int32_t bad : {99, -1}) {
    const auto dt = static_cast<cudago_dtype_t>(bad);
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_layout_transpose_2d(s.get(), a.get(), 0, b.get(), 0, 6, 10, dt));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_layout_nhwc_to_nchw(s.get(), a.get(), 0, b.get(), 0, 1, 3, 4, 5, dt));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_layout_nchw_to_nhwc(s.get(), a.get(), 0, b.get(), 0, 1, 3, 4, 5, dt));
  }
  // The error detail names the operation.
  cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
  ASSERT_EQ(cudago_layout_nhwc_to_nchw(s.get(), a.get(), 0, a.get(), 0, 1, 3, 4, 5, f32),
            CUDAGO_ERROR_INVALID_ARGUMENT);
  CG_OK(cudago_error_last(&e));
  EXPECT_STREQ(e.operation, "cudago_layout_nhwc_to_nchw");
  EXPECT_NE(std::string(e.message).find("overlaps"), std::string::npos) << e.message;
  // Nothing was queued by the refused calls; a good call still works.
  CG_OK(cudago_layout_transpose_2d(s.get(), a.get(), 0, b.get(), 0, 6, 10, f32));
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
            cudago_layout_transpose_2d(s0.get(), b0.get(), 0, b1.get(), 0, 4, 4, CUDAGO_DTYPE_F32));
}

}  // namespace
