// Batched transpose: `batch` row-major matrices rows x cols become cols x rows. The 2-D
// transpose and both NHWC <-> NCHW conversions are this one operation (see transpose.hpp).
//
// A transpose is memory-bound: every byte is read once and written once, and the goal is the
// bandwidth of a device-to-device copy. The difficulty is that a naive kernel coalesces only one
// side: if consecutive threads read consecutive elements of an input row, they write elements
// `rows` apart in the output. Three kernels, chosen by shape, make both sides coalesced:
//
//  - transpose_tiled (rows and cols >= 32): the classic shared-memory tile. A block reads a
//    64 x 64 tile row by row (coalesced), then writes it column by column from shared memory
//    (again coalesced rows of the output). The tile has 65 columns: without the padding, the
//    elements of a tile column would be 64 words apart, all in the same shared-memory bank,
//    and the column read would be serialised 32 times. (On an H100, 64 x 64 tiles moved by
//    512 threads reached 95-99% of a same-size copy in our measurements, 32 x 32 tiles moved by
//    256 threads 89-94%.)
//
//  - transpose_narrow_cols (cols < 32, e.g. NHWC -> NCHW with C = 3): a 32-wide tile would leave
//    most of a warp idle. But rows x cols with few columns is contiguous in chunks: a block
//    reads a chunk of `chunk` whole rows (chunk * cols contiguous elements, fully coalesced)
//    into shared memory and then writes `cols` contiguous runs of `chunk` elements, one per
//    output row. Shared memory holds the chunk with a row stride made odd (cols, or cols + 1)
//    so that the column-wise reads of the write phase hit 32 different banks.
//
//  - transpose_narrow_rows (rows < 32, e.g. NCHW -> NHWC with C = 3): the mirror image. A block
//    reads `rows` contiguous runs of `chunk` elements and writes one contiguous output run of
//    chunk * rows elements.
//
// Elements are moved as unsigned integers of their size (1, 2, 4 or 8 bytes): a transpose never
// interprets values, so f16 and bf16 share one kernel, and a NaN's bits are kept.
#include <algorithm>
#include <cstdint>
#include <string>

#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/transpose.hpp"

namespace cudago {
namespace {

constexpr int kTile = 64;      // tiled kernel: 64 x 64 tile ...
constexpr int kTileRows = 16;  // ... moved by 32 x 16 threads, 8 elements each
constexpr int kTiledThreads = 32 * kTileRows;
constexpr int kThreads = 256;              // narrow kernels
constexpr int kNarrowBytes = 16384;        // narrow kernels: bytes of data per chunk
constexpr int kNarrow = 32;                // a dimension below this takes a narrow kernel
constexpr uint64_t kMaxBlocks = 1u << 20;  // grid-stride beyond this

// q = n / d for the small n and d of the narrow kernels, without a hardware division (which
// would cost more than the memory traffic): q = floor(n * m / 2^32) with m = ceil(2^32 / d).
// Exact while n * (m * d - 2^32) < 2^32, i.e. for n < 2^32 / d; here n < 2^15 and d < 32.
struct FastDiv {
  uint32_t d, m;
  __host__ explicit FastDiv(uint32_t div)
      : d(div), m(div == 1 ? 0u : static_cast<uint32_t>(((uint64_t{1} << 32) + div - 1) / div)) {}
  __device__ uint32_t div(uint32_t n) const { return d == 1 ? n : __umulhi(n, m); }
};

// Rows of the chunk a narrow kernel moves per step: kNarrowBytes of data, rounded down to a
// multiple of the block size (so no lane idles in the long loops) when that is possible.
template <class T>
uint32_t narrow_chunk(uint32_t narrow_dim) {
  uint32_t chunk = kNarrowBytes / sizeof(T) / narrow_dim;
  return chunk >= kThreads ? chunk / kThreads * kThreads : chunk / 32 * 32;
}

// Padded stride of the narrow dimension in shared memory: odd, so 32 consecutive chunk rows
// fall in 32 different banks (for 4-byte elements; 2-way at most for the others).
__host__ __device__ constexpr uint32_t odd_stride(uint32_t n) { return n | 1u; }

template <class T>
__global__ void __launch_bounds__(kTiledThreads)
    transpose_tiled(const T* __restrict__ in, T* __restrict__ out, uint64_t rows, uint64_t cols,
                    uint64_t tiles_r, uint64_t tiles_c, uint64_t total_tiles) {
  __shared__ T tile[kTile][kTile + 1];               // +1: a tile column spans all banks
  constexpr int kRowsPerThread = kTile / kTileRows;  // 4
  constexpr int kColsPerLane = kTile / 32;           // 2
  const uint64_t tiles_per_matrix = tiles_r * tiles_c;
  const uint64_t matrix = rows * cols;
  const unsigned tx = threadIdx.x, ty = threadIdx.y;
  for (uint64_t t = blockIdx.x; t < total_tiles; t += gridDim.x) {
    // Consecutive blocks take consecutive tiles along a row of tiles: their reads are adjacent.
    const uint64_t b = t / tiles_per_matrix;
    const uint64_t rem = t - b * tiles_per_matrix;
    const uint64_t tr = rem / tiles_c;
    const uint64_t r0 = tr * kTile, c0 = (rem - tr * tiles_c) * kTile;
    const T* src = in + b * matrix;
    T* dst = out + b * matrix;

    // Read: lane tx takes columns c0 + tx and c0 + 32 + tx of rows r0 + ty + 16j. All eight
    // loads are issued before the first store to shared memory, so they are in flight together
    // (a copy-speed transpose needs many bytes in flight per SM).
    T v[kRowsPerThread][kColsPerLane];
#pragma unroll
    for (int j = 0; j < kRowsPerThread; ++j) {
#pragma unroll
      for (int q = 0; q < kColsPerLane; ++q) {
        const uint64_t r = r0 + ty + j * kTileRows, c = c0 + tx + 32 * q;
        v[j][q] = (r < rows && c < cols) ? src[r * cols + c] : T(0);
      }
    }
#pragma unroll
    for (int j = 0; j < kRowsPerThread; ++j) {
#pragma unroll
      for (int q = 0; q < kColsPerLane; ++q) tile[ty + j * kTileRows][tx + 32 * q] = v[j][q];
    }
    __syncthreads();

    // Write: output row c0 + ty + 16j is input column c0 + ty + 16j; lane tx writes its
    // elements r0 + tx and r0 + 32 + tx, so a warp writes 32 consecutive output elements at a
    // time. Unwritten tile slots (past the edges) are never read: the same bounds guard them.
#pragma unroll
    for (int j = 0; j < kRowsPerThread; ++j) {
#pragma unroll
      for (int q = 0; q < kColsPerLane; ++q) {
        const uint64_t oc = c0 + ty + j * kTileRows, r = r0 + tx + 32 * q;
        if (oc < cols && r < rows) dst[oc * rows + r] = tile[tx + 32 * q][ty + j * kTileRows];
      }
    }
    __syncthreads();  // the tile is overwritten by the next iteration
  }
}

// cols < 32. Work item = (matrix b, chunk of rows [r0, r0 + chunk)).
template <class T>
__global__ void __launch_bounds__(kThreads)
    transpose_narrow_cols(const T* __restrict__ in, T* __restrict__ out, uint64_t rows,
                          uint32_t cols, uint32_t chunk, uint64_t chunks_per_matrix, uint64_t total,
                          FastDiv by_cols) {
  extern __shared__ unsigned char smem_raw[];
  T* s = reinterpret_cast<T*>(smem_raw);
  const uint32_t stride = odd_stride(cols);
  for (uint64_t w = blockIdx.x; w < total; w += gridDim.x) {
    const uint64_t b = w / chunks_per_matrix;
    const uint64_t r0 = (w - b * chunks_per_matrix) * chunk;
    const uint32_t nr = static_cast<uint32_t>(min(static_cast<uint64_t>(chunk), rows - r0));
    // Read nr * cols contiguous elements: element i is (row i / cols, column i % cols).
    const T* src = in + (b * rows + r0) * cols;
    const uint32_t n = nr * cols;
    // Each thread issues U loads before its first store to shared memory. The compiler unrolls
    // the plain loop by 4 too, but then takes the last n / 256 % 4 elements one load at a time,
    // each waiting out the memory latency (f32, C = 3: 15 per thread, 3 of them alone): on an
    // H100 the explicit groups moved 256 x 224 x 224 x 3 f32 at 95.6% of a D2D copy against
    // 92.5%; for 2-byte elements they were 1% slower, so those keep the plain loop (U = 1).
    constexpr int U = sizeof(T) >= 4 ? 4 : 1;
    for (uint32_t i0 = threadIdx.x; i0 < n; i0 += kThreads * U) {
      T v[U];
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const uint32_t i = i0 + u * kThreads;
        if (i < n) v[u] = src[i];
      }
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const uint32_t i = i0 + u * kThreads;
        if (i < n) {
          const uint32_t r = by_cols.div(i);
          s[r * stride + (i - r * cols)] = v[u];
        }
      }
    }
    __syncthreads();
    // Write cols runs of nr elements: output row c holds input column c.
    T* dst = out + b * rows * cols + r0;
    for (uint32_t c = 0; c < cols; ++c) {
      for (uint32_t r = threadIdx.x; r < nr; r += kThreads) dst[c * rows + r] = s[r * stride + c];
    }
    __syncthreads();
  }
}

// rows < 32. Work item = (matrix b, chunk of columns [c0, c0 + chunk)).
template <class T>
__global__ void __launch_bounds__(kThreads)
    transpose_narrow_rows(const T* __restrict__ in, T* __restrict__ out, uint32_t rows,
                          uint64_t cols, uint32_t chunk, uint64_t chunks_per_matrix, uint64_t total,
                          FastDiv by_rows) {
  extern __shared__ unsigned char smem_raw[];
  T* s = reinterpret_cast<T*>(smem_raw);
  const uint32_t stride = odd_stride(rows);
  for (uint64_t w = blockIdx.x; w < total; w += gridDim.x) {
    const uint64_t b = w / chunks_per_matrix;
    const uint64_t c0 = (w - b * chunks_per_matrix) * chunk;
    const uint32_t nc = static_cast<uint32_t>(min(static_cast<uint64_t>(chunk), cols - c0));
    // Read rows runs of nc elements; shared memory holds them as output rows (column-major).
    const T* src = in + b * rows * cols + c0;
    for (uint32_t r = 0; r < rows; ++r) {
      for (uint32_t c = threadIdx.x; c < nc; c += kThreads) s[c * stride + r] = src[r * cols + c];
    }
    __syncthreads();
    // Write nc * rows contiguous elements: element i is (output row i / rows, column i % rows).
    T* dst = out + (b * cols + c0) * rows;
    const uint32_t n = nc * rows;
    for (uint32_t i = threadIdx.x; i < n; i += kThreads) {
      const uint32_t c = by_rows.div(i);
      dst[i] = s[c * stride + (i - c * rows)];
    }
    __syncthreads();
  }
}

unsigned grid_for(uint64_t work) {
  return static_cast<unsigned>(std::max<uint64_t>(1, std::min(work, kMaxBlocks)));
}

template <class T>
void launch(const void* in_v, void* out_v, uint64_t batch, uint64_t rows, uint64_t cols,
            cudaStream_t stream) {
  const T* in = static_cast<const T*>(in_v);
  T* out = static_cast<T*>(out_v);
  if (cols < kNarrow && cols <= rows) {
    const uint32_t nc = static_cast<uint32_t>(cols);
    const uint32_t chunk = narrow_chunk<T>(nc);
    const uint64_t per = (rows + chunk - 1) / chunk;
    const size_t smem = size_t{chunk} * odd_stride(nc) * sizeof(T);
    transpose_narrow_cols<T><<<grid_for(per * batch), kThreads, smem, stream>>>(
        in, out, rows, nc, chunk, per, per * batch, FastDiv(nc));
  } else if (rows < kNarrow) {
    const uint32_t nr = static_cast<uint32_t>(rows);
    const uint32_t chunk = narrow_chunk<T>(nr);
    const uint64_t per = (cols + chunk - 1) / chunk;
    const size_t smem = size_t{chunk} * odd_stride(nr) * sizeof(T);
    transpose_narrow_rows<T><<<grid_for(per * batch), kThreads, smem, stream>>>(
        in, out, nr, cols, chunk, per, per * batch, FastDiv(nr));
  } else {
    const uint64_t tr = (rows + kTile - 1) / kTile, tc = (cols + kTile - 1) / kTile;
    const uint64_t total = tr * tc * batch;
    transpose_tiled<T>
        <<<grid_for(total), dim3(32, kTileRows), 0, stream>>>(in, out, rows, cols, tr, tc, total);
  }
  CUDAGO_CHECK_LAUNCH();
}

// Validates a transpose of `batch` matrices rows x cols of `dtype` from in to out, each starting
// at its element offset; returns false for an empty tensor (nothing to do).
bool validate(const char* op, const StreamPtr& stream, DType dtype, const DeviceBuffer& in,
              uint64_t in_offset, const DeviceBuffer& out, uint64_t out_offset, uint64_t batch,
              uint64_t rows, uint64_t cols, const std::string& shape) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, std::string(op) + ": stream is NULL");
  const size_t es = dtype_size(dtype);
  CUDAGO_EXPECTS(es != 0, kInvalidArgument,
                 std::string(op) + ": element type " + std::to_string(static_cast<int32_t>(dtype)) +
                     " is not a cudago dtype");
  const int dev = stream->device();
  CUDAGO_EXPECTS(in.device() == dev && out.device() == dev, kDeviceMismatch,
                 std::string(op) + ": buffers on devices " + std::to_string(in.device()) + " and " +
                     std::to_string(out.device()) + " and a stream on device " +
                     std::to_string(dev));
  // elements = batch * rows * cols, bytes = elements * es, without overflow.
  uint64_t elems = 0;
  const bool empty = batch == 0 || rows == 0 || cols == 0;
  if (!empty) {
    bool overflow = rows > UINT64_MAX / cols;
    if (!overflow) overflow = batch > UINT64_MAX / (rows * cols);
    if (!overflow) {
      elems = batch * rows * cols;
      overflow = elems > UINT64_MAX / es;
    }
    CUDAGO_EXPECTS(!overflow, kOutOfRange,
                   std::string(op) + ": shape " + shape + " overflows the byte size");
  }
  const uint64_t bytes = elems * es;
  // A buffer holds the tensor when offset * es + bytes <= its size (checked without overflow).
  const auto holds = [&](const DeviceBuffer& b, uint64_t offset) {
    return offset <= b.size() / es && bytes <= b.size() - offset * es;
  };
  CUDAGO_EXPECTS(holds(in, in_offset) && holds(out, out_offset), kOutOfRange,
                 std::string(op) + ": shape " + shape + " of " + dtype_name(dtype) + " needs " +
                     std::to_string(bytes) + " bytes from element offsets " +
                     std::to_string(in_offset) + " (input) and " + std::to_string(out_offset) +
                     " (output); input has " + std::to_string(in.size()) + " bytes, output " +
                     std::to_string(out.size()));
  if (empty) return false;
  const auto* ib = static_cast<const unsigned char*>(in.data()) + in_offset * es;
  const auto* ob = static_cast<const unsigned char*>(out.data()) + out_offset * es;
  CUDAGO_EXPECTS(ib + bytes <= ob || ob + bytes <= ib, kInvalidArgument,
                 std::string(op) + ": output overlaps the input (a transpose is not in place)");
  return true;
}

void run(const char* op, const StreamPtr& stream, DType dtype, DeviceBuffer& in, uint64_t in_offset,
         DeviceBuffer& out, uint64_t out_offset, uint64_t batch, uint64_t rows, uint64_t cols,
         const std::string& shape) {
  if (!validate(op, stream, dtype, in, in_offset, out, out_offset, batch, rows, cols, shape)) {
    return;
  }
  const size_t es = dtype_size(dtype);
  DeviceGuard guard(stream->device());
  detail::launch_batched_transpose(static_cast<const unsigned char*>(in.data()) + in_offset * es,
                                   static_cast<unsigned char*>(out.data()) + out_offset * es, batch,
                                   rows, cols, es, stream->get());
  in.used_on(stream);
  out.used_on(stream);
}

std::string dims(std::initializer_list<uint64_t> d) {
  std::string s;
  for (uint64_t x : d) s += (s.empty() ? "" : "x") + std::to_string(x);
  return s;
}

// h * w without overflow (the product is checked again with n and c by validate).
uint64_t spatial(const char* op, uint64_t h, uint64_t w) {
  CUDAGO_EXPECTS(w == 0 || h <= UINT64_MAX / w, kOutOfRange,
                 std::string(op) + ": H x W = " + dims({h, w}) + " overflows");
  return h * w;
}

}  // namespace

namespace detail {

void launch_batched_transpose(const void* in, void* out, uint64_t batch, uint64_t rows,
                              uint64_t cols, size_t elem_size, cudaStream_t stream) {
  switch (elem_size) {
    case 1:
      return launch<uint8_t>(in, out, batch, rows, cols, stream);
    case 2:
      return launch<uint16_t>(in, out, batch, rows, cols, stream);
    case 4:
      return launch<uint32_t>(in, out, batch, rows, cols, stream);
    case 8:
      return launch<uint64_t>(in, out, batch, rows, cols, stream);
  }
  throw Error(Status::kInvalidArgument,
              "transpose: element size " + std::to_string(elem_size) + " is not 1, 2, 4 or 8");
}

}  // namespace detail

void transpose_2d(const StreamPtr& stream, DType dtype, DeviceBuffer& in, uint64_t in_offset,
                  DeviceBuffer& out, uint64_t out_offset, uint64_t rows, uint64_t cols) {
  run("transpose 2d", stream, dtype, in, in_offset, out, out_offset, 1, rows, cols,
      dims({rows, cols}));
}

void nhwc_to_nchw(const StreamPtr& stream, DType dtype, DeviceBuffer& in, uint64_t in_offset,
                  DeviceBuffer& out, uint64_t out_offset, uint64_t n, uint64_t h, uint64_t w,
                  uint64_t c) {
  const char* op = "nhwc to nchw";
  run(op, stream, dtype, in, in_offset, out, out_offset, n, spatial(op, h, w), c,
      "NHWC " + dims({n, h, w, c}));
}

void nchw_to_nhwc(const StreamPtr& stream, DType dtype, DeviceBuffer& in, uint64_t in_offset,
                  DeviceBuffer& out, uint64_t out_offset, uint64_t n, uint64_t h, uint64_t w,
                  uint64_t c) {
  const char* op = "nchw to nhwc";
  run(op, stream, dtype, in, in_offset, out, out_offset, n, c, spatial(op, h, w),
      "NCHW " + dims({n, c, h, w}));
}

}  // namespace cudago
