// cuBLAS behind cudago: GEMM (f32 exact or tf32, f16, bf16, f64; strided-batched), GEMV and
// level-1 AXPY, DOT, NRM2, SCAL, queued on the caller's stream.
//
// Handles: cuBLAS handles are created lazily per device and kept for the life of the process
// (like the memory pools). A cuBLAS handle must not be used by two threads at once, so each
// device keeps a small pool of handles, checked out under a mutex for the duration of one call
// and returned after it. The pool grows to the largest number of concurrent callers of that
// device and never shrinks. A pool (rather than one handle per thread) suits Go, whose
// goroutines move between OS threads and whose thread count is unbounded, and it keeps the
// number of workspaces at the real concurrency instead of the number of threads ever seen.
//
// Workspaces: each handle owns one workspace allocated once from the device's memory pool
// (cublasSetWorkspace; 32 MiB on Hopper and newer, 4 MiB before, as cuBLAS recommends). The
// workspace is used in stream order by the calls queued with the handle. A handle stays bound
// to the last stream it ran on (and keeps that stream alive). When a caller on another stream
// checks it out, an event is recorded on the previous stream and the caller's stream waits for
// it, so two streams never use one workspace at the same time; then the handle is rebound
// (cublasSetStream resets the workspace, so both are set again). Nothing is recorded per call:
// a call on the handle's own stream costs no CUDA call besides cuBLAS's. Checkout prefers a
// free handle bound to the caller's stream, so a steady state of N threads on N streams never
// adds cross-stream waits.
//
// Graph replay (opt-in, off by default; set_gemm_graph_replay): cuBLAS spends ~13 us of host
// time per call (H100 host, CUDA 13), more than a small GEMM takes on the GPU. With replay on,
// a GEMM of at most max_macs multiply-adds that comes again with the same parameters, scalars,
// buffers and stream is captured once into a CUDA graph on the handle's private stream
// (thread-local capture mode) and later identical calls launch the graph. Buffers and stream
// are matched by identity, not only by address: an entry holds them weakly (the buffer's
// StreamUses, the Stream), so a buffer freed and another allocated at the same address never
// replays the old graph, and an entry whose buffer was freed or whose stream was destroyed is
// dropped when it is found (on a lookup at the same addresses, or when room is made). The
// graph uses the handle's workspace and lives with the handle, so it is only ever launched by
// the thread that has the handle checked out, ordered by the same fence as direct calls. At
// most max_entries graphs are cached per device (over all its handles); to add one beyond the
// bound, stale graphs and then the least recently used of the caller's handle and of the idle
// handles are destroyed (never one of a handle another thread has checked out; if only those
// remain, the GEMM runs directly). If capture fails, the handle runs GEMMs directly until the
// setting changes. Each change of the setting drops every cached graph: those of idle handles
// at once, those of handles checked out by other threads when they are checked in, so no
// graph is destroyed while another thread may be launching it.
//
// Dimensions and leading dimensions are validated against the buffers (size, offsets, batch
// strides, overflow, cuBLAS's 32-bit limits) before any cuBLAS call. Every dimension must be at
// least 1 (Error(kInvalidArgument) otherwise).
//
// Layout: both layouts are accepted. A row-major matrix with leading dimension ld is the
// column-major matrix of its transpose with the same ld, so a row-major C = op(A)·op(B) runs as
// the column-major C^T = op(B)^T·op(A)^T: cuBLAS gets (transB, transA, n, m, k, B, ldb, A, lda,
// C, ldc). No data moves.
#pragma once

#include <cstdint>

#include "cudago/dtype.hpp"
#include "cudago/memory.hpp"

namespace cudago {

enum class BlasLayout : int32_t { kRowMajor = 0, kColMajor = 1 };
enum class BlasOp : int32_t { kN = 0, kT = 1 };
// kDefault: exact accumulation in the inputs' compute type (f32 for f32/f16/bf16, f64 for
// f64); kTF32: float32 data through TF32 tensor cores (inputs rounded to 10-bit mantissas).
enum class BlasCompute : int32_t { kDefault = 0, kTF32 = 1 };

struct GemmParams {
  BlasLayout layout = BlasLayout::kRowMajor;
  BlasOp trans_a = BlasOp::kN, trans_b = BlasOp::kN;
  DType dtype = DType::kF32;  // of A, B and C
  BlasCompute compute = BlasCompute::kDefault;
  int64_t m = 0, n = 0, k = 0;                        // C is m x n, op(A) m x k, op(B) k x n
  double alpha = 1, beta = 0;                         // converted to the compute type
  int64_t lda = 0, ldb = 0, ldc = 0;                  // 0 = the minimum (tight)
  uint64_t a_offset = 0, b_offset = 0, c_offset = 0;  // in elements
  int64_t batch = 1;                                  // 0 is taken as 1
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;   // elements; 0 broadcasts A or B
};

// C = alpha·op(A)·op(B) + beta·C for each of `batch` matrices. C must not overlap A or B.
void gemm(const StreamPtr& stream, const GemmParams& p, DeviceBuffer& a, DeviceBuffer& b,
          DeviceBuffer& c);

// The largest max_macs set_gemm_graph_replay accepts (2^40 multiply-adds).
constexpr uint64_t kGraphReplayMaxMacsLimit = uint64_t{1} << 40;

// Process-wide graph replay of small GEMMs (see the top of this file): at most `max_entries`
// graphs per device, for GEMMs of at most `max_macs` multiply-adds (m·n·k·batch).
// max_entries = 0 (the default) turns it off. Every call drops the graphs cached so far.
// Error(kInvalidArgument) when max_macs exceeds kGraphReplayMaxMacsLimit. The setting is read
// without a lock by each GEMM: a GEMM concurrent with a change may still use the old one.
void set_gemm_graph_replay(uint64_t max_entries, uint64_t max_macs);

// Releases the cuBLAS handles no call is using (each with its workspace and cached graphs),
// after the work last queued with each is done; the next BLAS call creates handles anew. For a
// program that is done with BLAS, or that checks device memory for leaks at exit.
void blas_cache_clear();

struct GemvParams {
  BlasLayout layout = BlasLayout::kRowMajor;
  BlasOp trans = BlasOp::kN;
  DType dtype = DType::kF32;  // f32 or f64
  int64_t m = 0, n = 0;       // A is m x n (as stored, before op)
  double alpha = 1, beta = 0;
  int64_t lda = 0;                                    // 0 = tight
  int64_t incx = 1, incy = 1;                         // 0 is taken as 1; must be positive
  uint64_t a_offset = 0, x_offset = 0, y_offset = 0;  // in elements
};

// y = alpha·op(A)·x + beta·y; x has n elements (m when transposed), y has m (n). y must not
// overlap A or x.
void gemv(const StreamPtr& stream, const GemvParams& p, DeviceBuffer& a, DeviceBuffer& x,
          DeviceBuffer& y);

// Level 1, f32 or f64, n >= 1 elements with positive increments, each vector starting at its
// element offset in its buffer. DOT and NRM2 write their result into `result` at element
// `result_offset` (device pointer mode: asynchronous, no host synchronisation).
void axpy(const StreamPtr& stream, DType dtype, int64_t n, double alpha, DeviceBuffer& x,
          uint64_t x_offset, int64_t incx, DeviceBuffer& y, uint64_t y_offset, int64_t incy);
void scal(const StreamPtr& stream, DType dtype, int64_t n, double alpha, DeviceBuffer& x,
          uint64_t x_offset, int64_t incx);
void dot(const StreamPtr& stream, DType dtype, int64_t n, DeviceBuffer& x, uint64_t x_offset,
         int64_t incx, DeviceBuffer& y, uint64_t y_offset, int64_t incy, DeviceBuffer& result,
         uint64_t result_offset);
void nrm2(const StreamPtr& stream, DType dtype, int64_t n, DeviceBuffer& x, uint64_t x_offset,
          int64_t incx, DeviceBuffer& result, uint64_t result_offset);

}  // namespace cudago
