// cuFFT transforms on device buffers, planned through a process-wide plan cache.
//
// A transform is described by an FftDesc (rank, sizes, type, precision, batch and the advanced
// layout of both sides) and queued on the caller's stream with fft_exec(). Everything is
// validated before cuFFT is called: sizes, the layout against the buffers' byte sizes, devices,
// alignment and the direction/type pairing.
//
// Layouts (cuFFT's advanced layout, in elements of each side's element type):
//   element (b, i0, .., i[r-1]) lives at  b * dist + stride * linear(i, embed)
//   where linear() is the row-major index of i in an array of sizes embed (embed[0] only sets
//   the default dist). Defaults (a zero field): embed = the side's logical sizes, stride = 1,
//   dist = stride * prod(embed).
// Real/complex sides: C2C has complex on both sides with logical sizes `dims`. R2C reads reals
// of sizes dims and writes the non-redundant half of the Hermitian spectrum, whose last
// dimension is dims[r-1]/2 + 1 (X[k] = conj(X[n-k]) gives the rest); C2R reads that half and
// writes reals of sizes dims. The default layout of the real side of an *in-place* R2C/C2R
// (same buffer and offset) is padded: its last embed is 2 * (dims[r-1]/2 + 1) reals, so that
// both sides occupy the same bytes.
//
// C2R overwrites its input: cuFFT uses the input array as scratch for complex-to-real
// transforms (also out of place, for multi-dimensional and some 1-D sizes). cudago does not copy
// to protect it (that would cost a full extra read and write); keep a copy if you need it.
//
// Normalisation is a separate scale pass on the stream over the output's layout elements only.
#pragma once

#include <array>
#include <cstdint>

#include "cudago/dtype.hpp"
#include "cudago/memory.hpp"

namespace cudago {

enum class FftType : int32_t { kC2C = 0, kR2C = 1, kC2R = 2 };
enum class FftDirection : int32_t { kForward = 0, kInverse = 1 };
// kNone: no scaling. kInverse: 1/N on inverse transforms (NumPy "backward", the default there).
// kOrtho: 1/sqrt(N) both ways. kForward: 1/N on forward transforms. N = prod(dims).
enum class FftNorm : int32_t { kNone = 0, kInverse = 1, kOrtho = 2, kForward = 3 };

constexpr int kFftMaxRank = 3;

struct FftLayout {
  std::array<int64_t, kFftMaxRank> embed{};  // 0 = default (the side's logical size)
  int64_t stride = 0;                        // 0 = 1
  int64_t dist = 0;                          // 0 = stride * prod(embed)
};

struct FftDesc {
  int32_t rank = 1;                         // 1, 2 or 3
  std::array<int64_t, kFftMaxRank> dims{};  // sizes, outermost first; unused ones 0
  FftType type = FftType::kC2C;
  DType precision = DType::kF32;  // kF32 (C2C/R2C/C2R) or kF64 (Z2Z/D2Z/Z2D)
  int64_t batch = 1;
  FftLayout in, out;
};

// Queues the transform of `desc` on `stream`, reading `in` from byte in_offset and writing
// `out` from byte out_offset. in == out with equal offsets is in place; other overlaps are
// refused. Both buffers must be on the stream's device. Offsets must be multiples of the element
// size of their side. Plans come from the plan cache; work areas are allocated from the device
// pool on `stream` and freed in stream order after the transform.
void fft_exec(const StreamPtr& stream, const FftDesc& desc, DeviceBuffer& in, uint64_t in_offset,
              DeviceBuffer& out, uint64_t out_offset, FftDirection direction, FftNorm norm);

// Bytes that `desc` reads from `in` and writes to `out` (after defaults, in-place or not):
// what the buffers must hold past their offsets. Validates desc like fft_exec.
struct FftExtent {
  uint64_t in_bytes = 0, out_bytes = 0;
};
FftExtent fft_extent(const FftDesc& desc, bool in_place);

// ---- The plan cache ----
//
// Keyed by (device, rank, sizes, type, precision, batch, resolved layouts, in-place). Plans are
// checked out for the duration of one fft_exec call and returned after it, under a mutex: a
// cached plan is never used by two threads at once (a cuFFT plan holds its stream and work area,
// so concurrent cufftSetStream/exec on one plan would race). Two threads that need the same
// shape at once get two plans; both are cached afterwards (the key is a multimap key). Only idle
// plans are counted and evicted. A plan whose last transform may still run on the GPU is
// evicted by synchronising its last stream before cufftDestroy. Plans do not own work areas
// (cufftSetAutoAllocation(0)); "bytes" is the sum of the cached plans' work-area sizes, the
// pool memory each needs while it runs.
struct FftCacheStats {
  uint64_t hits = 0, misses = 0, evictions = 0;
  uint64_t entries = 0;  // idle cached plans
  uint64_t bytes = 0;    // sum of their work-area sizes
  uint64_t in_use = 0;   // plans checked out by running fft_exec calls
  uint64_t max_entries = 0, max_bytes = 0;
};

FftCacheStats fft_cache_stats();
// Sets the bounds (max_entries = 0 disables caching) and evicts down to them at once.
void fft_cache_set_limits(uint64_t max_entries, uint64_t max_bytes);
// Destroys every idle plan (counted as evictions); counters are kept.
void fft_cache_clear();

constexpr uint64_t kFftCacheDefaultEntries = 64;
constexpr uint64_t kFftCacheDefaultBytes = uint64_t{4} << 30;

namespace detail {
// Multiplies the `count` values of `kind` (1 real or 2 for complex) of precision `real` found at
// data + b*dist + stride*linear(i, embed) by factor, for b < batch and i < dims.
void launch_fft_scale(void* data, DType real, int comps, int rank, const int64_t* dims,
                      const int64_t* embed, int64_t stride, int64_t dist, int64_t batch,
                      double factor, cudaStream_t stream);
}  // namespace detail

}  // namespace cudago
