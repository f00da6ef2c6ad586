// A tiled SGEMM written to teach: C = alpha * A * B + beta * C, float32, row-major.
//
// This file is CUDA C++ source that the sgemm package compiles at run time with NVRTC
// (rtc.Compile): device code only, no includes. sgemm.go launches it.
//
// 1. Why tiling. C[i][j] is the dot product of row i of A and column j of B. A naive kernel
//    (one thread per C element, reading A and B from global memory) reads 2 * K floats per
//    2 * K flops: 1 flop per 4 bytes, and an H100 does about 60 fp32 TFLOP/s against 3 TB/s,
//    so it would run at 1/80 of the arithmetic peak. Every element of A is needed by N threads
//    and every element of B by M threads: the cure is reuse. A block of threads computes a
//    BM x BN tile of C. It walks along K in steps of BK, and at each step copies a BM x BK
//    slice of A and a BK x BN slice of B into shared memory once; then every thread reads
//    them from there many times. Each float loaded from global memory is now used BN (or BM)
//    times.
//
// 2. Register blocking. Shared memory is fast but not free: one load per FMA would still cap
//    the kernel at the shared-memory bandwidth. So each thread computes a TM x TN = 8 x 8
//    sub-tile of C held in 64 registers. At each k it loads 8 values of A's column and 8 of
//    B's row from shared memory (4 loads of 16 bytes) and does 64 FMAs with them: an outer
//    product. 16 x 16 = 256 threads times 8 x 8 give the 128 x 128 block tile.
//
// 3. Coalesced, vectorised global loads. A warp's loads should cover whole 128-byte lines.
//    Each thread loads one float4 (16 bytes) of A and one of B per K step: the A slice is
//    128 rows x 8 floats (each row 32 contiguous bytes, 2 threads per row), the B slice is
//    8 rows x 128 floats (each row 512 contiguous bytes, 32 threads per row).
//
// 4. A transposed in shared memory. The outer product needs A's *column* k (8 rows of the
//    thread) and B's *row* k. B's row is contiguous in shared memory already; A is stored
//    transposed (As[k][m]) so that a thread's 4 A values are contiguous too and come in one
//    16-byte shared load, like B's.
//
// 5. Which C elements a thread owns. Thread (ty, tx) of the 16 x 16 grid owns rows
//    ty*4 .. ty*4+3 and 64+ty*4 .. 64+ty*4+3, and the same pattern of columns with tx. Split
//    in two halves 64 apart, the 16 threads of a half-warp read 16 consecutive float4 of a
//    shared row (256 contiguous bytes: no bank conflict), and the stores of C are float4s
//    that a half-warp issues contiguously.
//
// 6. Double buffering. While the block computes on the slices of step t, the global loads of
//    step t + 1 are already in flight (into registers), and are stored into the *other*
//    shared-memory buffer after the compute. One __syncthreads() per step separates "everyone
//    has finished reading buffer b" from "someone overwrites buffer b".
//
// 7. Edges. M, N and K need not be multiples of the tile: loads outside A or B read as 0 (so
//    they add nothing to the sums) and stores outside C are skipped. The float4 loads need
//    K and N multiples of 4 (so a float4 never straddles the edge of a row) and 16-byte aligned
//    buffers; other shapes take the same kernel with scalar loads (kVec = false).
//
// Measured on an H100 80GB HBM3 at M = N = K = 4096, against cuBLAS fp32 (pedantic, no tensor
// cores) at 51.6 TFLOP/s in the same process:
//   this kernel, predicated float4 loads, beta == 0 as its own instantiation   44.8 TFLOP/s
//   the same with loads written as early-return helpers (more branches)        40.8
//   the same with a run-time beta test in the epilogue                         44.2
//   a warp holding 4 x 8 threads instead of 2 x 16                             45.1 (vs 45.9)
//   BK = 16 (32 KiB of shared memory; 128 registers were not enough: spills)   35.4
// The remaining gap to cuBLAS is mostly instruction issue: per k, each thread runs 64 FMAs and
// 4 shared loads plus the loop's bookkeeping; cuBLAS uses larger warp tiles and hand-scheduled
// code.

constexpr int BM = 128;                          // rows of C per block
constexpr int BN = 128;                          // columns of C per block
constexpr int BK = 8;                            // depth of one K step
constexpr int TM = 8;                            // rows of C per thread
constexpr int TN = 8;                            // columns of C per thread
constexpr int kThreads = (BM / TM) * (BN / TN);  // 256
static_assert(BM * BK == 4 * kThreads, "one float4 of A per thread per step");
static_assert(BK * BN == 4 * kThreads, "one float4 of B per thread per step");

// Loads the float4 at (row, col .. col+3) of a matrix with `rows` x `cols` elements; zeros
// outside it. The vector form is one predicated 16-byte load (cols % 4 == 0 and col % 4 == 0, so
// the float4 is entirely inside the row or entirely outside).
template <bool kVec>
__device__ __forceinline__ float4 load4(const float* __restrict__ p, int rows, int cols, int row,
                                        int col) {
  if (kVec) {
    return (row < rows && col < cols)
               ? *reinterpret_cast<const float4*>(p + static_cast<long long>(row) * cols + col)
               : make_float4(0.f, 0.f, 0.f, 0.f);
  }
  const float* q = p + static_cast<long long>(row) * cols + col;
  const bool in_row = row < rows;
  return make_float4(in_row && col + 0 < cols ? q[0] : 0.f, in_row && col + 1 < cols ? q[1] : 0.f,
                     in_row && col + 2 < cols ? q[2] : 0.f, in_row && col + 3 < cols ? q[3] : 0.f);
}

// Stores one row segment of 4 results: C = alpha * acc (+ beta * C).
// Stores one row segment of 4 results: C = alpha * acc, plus beta * C when kBeta. beta == 0 is
// a separate instantiation that never reads C (BLAS semantics), which also keeps the C loads
// out of the register budget of the main loop.
template <bool kVec, bool kBeta>
__device__ __forceinline__ void store_c(float* __restrict__ c, int m, int n, int row, int col,
                                        float4 acc, float alpha, float beta) {
  if (row >= m) return;
  float* p = c + static_cast<long long>(row) * n + col;
  float r[4] = {alpha * acc.x, alpha * acc.y, alpha * acc.z, alpha * acc.w};
  if (kVec) {
    if (col >= n) return;  // n % 4 == 0: all four columns exist
    if (kBeta) {
      const float4 old = *reinterpret_cast<const float4*>(p);
      r[0] += beta * old.x;
      r[1] += beta * old.y;
      r[2] += beta * old.z;
      r[3] += beta * old.w;
    }
    *reinterpret_cast<float4*>(p) = make_float4(r[0], r[1], r[2], r[3]);
  } else {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      if (col + j < n) p[j] = kBeta ? r[j] + beta * p[j] : r[j];
    }
  }
}

template <bool kVec, bool kBeta>
__global__ void __launch_bounds__(kThreads, 2)
    sgemm_tiled(int m, int n, int k, float alpha, const float* __restrict__ a,
                const float* __restrict__ b, float beta, float* __restrict__ c) {
  // Two buffers of each slice (6. double buffering); A transposed (4.). 16 KiB in all.
  __shared__ __align__(16) float As[2][BK][BM];
  __shared__ __align__(16) float Bs[2][BK][BN];

  const int tid = threadIdx.x;
  const int m0 = blockIdx.y * BM;  // this block's tile of C starts at (m0, n0)
  const int n0 = blockIdx.x * BN;

  // Global-load assignment (3.): A slice row a_r, columns a_c..a_c+3; B slice row b_r,
  // columns b_c..b_c+3.
  const int a_r = tid >> 1, a_c = (tid & 1) * 4;
  const int b_r = tid >> 5, b_c = (tid & 31) * 4;

  // Compute assignment (5.): this thread's rows ty*4 + {0..3} and 64 + ty*4 + {0..3}.
  const int ty = tid >> 4, tx = tid & 15;

  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i) {
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.f;
  }

  // Puts the staged float4s into buffer `buf`; A's goes in transposed: 4 rows of As.
  auto stage = [&](int buf, float4 va, float4 vb) {
    As[buf][a_c + 0][a_r] = va.x;
    As[buf][a_c + 1][a_r] = va.y;
    As[buf][a_c + 2][a_r] = va.z;
    As[buf][a_c + 3][a_r] = va.w;
    *reinterpret_cast<float4*>(&Bs[buf][b_r][b_c]) = vb;
  };

  float4 next_a, next_b;  // the next step's slices, in flight during the compute
  const int steps = (k + BK - 1) / BK;
  if (steps > 0) {
    stage(0, load4<kVec>(a, m, k, m0 + a_r, a_c), load4<kVec>(b, k, n, b_r, n0 + b_c));
  }
  __syncthreads();

  for (int t = 0; t < steps; ++t) {
    const int cur = t & 1;
    // Issue the next step's global loads now; they complete while we compute below.
    const bool more = t + 1 < steps;
    if (more) {
      const int k0 = (t + 1) * BK;
      next_a = load4<kVec>(a, m, k, m0 + a_r, k0 + a_c);
      next_b = load4<kVec>(b, k, n, k0 + b_r, n0 + b_c);
    }

    // The outer products (2.): for each k of the slice, 8 A values x 8 B values.
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      const float4 a_lo = *reinterpret_cast<const float4*>(&As[cur][kk][ty * 4]);
      const float4 a_hi = *reinterpret_cast<const float4*>(&As[cur][kk][64 + ty * 4]);
      const float4 b_lo = *reinterpret_cast<const float4*>(&Bs[cur][kk][tx * 4]);
      const float4 b_hi = *reinterpret_cast<const float4*>(&Bs[cur][kk][64 + tx * 4]);
      const float av[TM] = {a_lo.x, a_lo.y, a_lo.z, a_lo.w, a_hi.x, a_hi.y, a_hi.z, a_hi.w};
      const float bv[TN] = {b_lo.x, b_lo.y, b_lo.z, b_lo.w, b_hi.x, b_hi.y, b_hi.z, b_hi.w};
#pragma unroll
      for (int i = 0; i < TM; ++i) {
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
      }
    }

    // Nobody reads buffer cur ^ 1 during this step (it was last read in step t - 1, before
    // that step's barrier), so it can be filled now; the barrier below publishes it and also
    // guarantees that everyone is done with buffer cur before step t + 1 overwrites it.
    if (more) stage(cur ^ 1, next_a, next_b);
    __syncthreads();
  }

  // Epilogue: 8 rows x 2 float4 per thread (7. edges are guarded in store_c).
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int row = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
    store_c<kVec, kBeta>(c, m, n, row, n0 + tx * 4,
                         make_float4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]), alpha, beta);
    store_c<kVec, kBeta>(c, m, n, row, n0 + 64 + tx * 4,
                         make_float4(acc[i][4], acc[i][5], acc[i][6], acc[i][7]), alpha, beta);
  }
}
