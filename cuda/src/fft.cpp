// cuFFT transforms and the plan cache (see cudago/fft.hpp for the layout and the cache rules).
#include "cudago/fft.hpp"

#include <cufft.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/graph.hpp"
#include "cudago/library_error.hpp"

namespace cudago {
namespace {

constexpr int64_t kMaxIndex = INT64_MAX;  // cuFFT's 64-bit API takes long long

const char* type_name(FftType t) {
  switch (t) {
    case FftType::kC2C:
      return "C2C";
    case FftType::kR2C:
      return "R2C";
    case FftType::kC2R:
      return "C2R";
  }
  return "invalid";
}

// a * b, throwing Error(kOutOfRange) beyond kMaxIndex.
int64_t mul(int64_t a, int64_t b, const char* what) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r) || r > kMaxIndex) {
    throw Error(Status::kOutOfRange, std::string("FFT: ") + what + " overflows 64 bits");
  }
  return r;
}
int64_t add(int64_t a, int64_t b, const char* what) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    throw Error(Status::kOutOfRange, std::string("FFT: ") + what + " overflows 64 bits");
  }
  return r;
}

// One side (input or output) of a transform, with every default resolved.
struct Side {
  bool complex = false;
  std::array<int64_t, kFftMaxRank> n{};  // logical sizes of this side
  std::array<int64_t, kFftMaxRank> embed{};
  int64_t stride = 1, dist = 0;
  uint64_t elem_bytes = 0;
  int64_t extent = 0;  // elements from the first to one past the last touched
  bool basic = false;  // packed row-major: cuFFT's basic layout
};

Side resolve_side(const FftDesc& d, const FftLayout& lay, bool complex, bool padded_real,
                  const char* which) {
  Side s;
  s.complex = complex;
  const int r = d.rank;
  const uint64_t real_bytes = d.precision == DType::kF64 ? 8 : 4;
  s.elem_bytes = complex ? 2 * real_bytes : real_bytes;
  const bool half = complex && d.type != FftType::kC2C;  // the Hermitian half of R2C/C2R
  for (int i = 0; i < r; ++i) s.n[i] = d.dims[i];
  if (half) s.n[r - 1] = d.dims[r - 1] / 2 + 1;
  bool default_embed = true;
  for (int i = 0; i < r; ++i) {
    const int64_t e = lay.embed[i];
    CUDAGO_EXPECTS(e >= 0, kInvalidArgument,
                   std::string("FFT: ") + which + " embed[" + std::to_string(i) +
                       "] = " + std::to_string(e) + " is negative");
    if (e == 0) {
      s.embed[i] = s.n[i];
      if (i == r - 1 && padded_real) s.embed[i] = mul(2, d.dims[r - 1] / 2 + 1, "the padded size");
    } else {
      default_embed = false;
      CUDAGO_EXPECTS(e >= s.n[i], kInvalidArgument,
                     std::string("FFT: ") + which + " embed[" + std::to_string(i) +
                         "] = " + std::to_string(e) + " is smaller than the " +
                         (complex ? "complex" : "real") + " size " + std::to_string(s.n[i]) +
                         " of that dimension");
      s.embed[i] = e;
    }
  }
  for (int i = r; i < kFftMaxRank; ++i) {
    CUDAGO_EXPECTS(lay.embed[i] == 0, kInvalidArgument,
                   std::string("FFT: ") + which + " embed[" + std::to_string(i) +
                       "] must be 0 for a rank-" + std::to_string(r) + " transform");
  }
  CUDAGO_EXPECTS(lay.stride >= 0 && lay.dist >= 0, kInvalidArgument,
                 std::string("FFT: ") + which + " stride " + std::to_string(lay.stride) +
                     " and dist " + std::to_string(lay.dist) + " must not be negative");
  s.stride = lay.stride == 0 ? 1 : lay.stride;
  int64_t span = 1;  // prod(embed)
  for (int i = 0; i < r; ++i) span = mul(span, s.embed[i], "the embedded size");
  s.dist = lay.dist == 0 ? mul(s.stride, span, "the default dist") : lay.dist;
  // Linear index of the last element of one transform.
  int64_t last = 0;
  for (int i = 0; i < r; ++i) {
    last = add(mul(last, s.embed[i], "the layout"), s.n[i] - 1, "the layout");
  }
  s.extent = add(add(mul(d.batch - 1, s.dist, "batch * dist"),
                     mul(s.stride, last, "stride * index"), "the layout extent"),
                 1, "the layout extent");
  mul(s.extent, static_cast<int64_t>(s.elem_bytes), "the layout's byte size");
  int64_t per = 1;
  for (int i = 0; i < r; ++i) per = mul(per, s.n[i], "the transform size");
  s.basic = default_embed && !padded_real && s.stride == 1 && s.dist == per;
  return s;
}

struct Resolved {
  Side in, out;
  int64_t n_total = 1;  // prod(dims)
};

Resolved resolve(const FftDesc& d, bool in_place) {
  CUDAGO_EXPECTS(d.rank >= 1 && d.rank <= kFftMaxRank, kInvalidArgument,
                 "FFT: rank " + std::to_string(d.rank) + " is not 1, 2 or 3");
  CUDAGO_EXPECTS(d.type == FftType::kC2C || d.type == FftType::kR2C || d.type == FftType::kC2R,
                 kInvalidArgument,
                 "FFT: type " + std::to_string(static_cast<int>(d.type)) +
                     " is not C2C (0), R2C (1) or C2R (2)");
  if (d.precision != DType::kF32 && d.precision != DType::kF64) {
    const bool known = dtype_size(d.precision) != 0;
    throw Error(known ? Status::kNotSupported : Status::kInvalidArgument,
                std::string("FFT: precision ") + dtype_name(d.precision) +
                    " is not supported; use f32 or f64");
  }
  CUDAGO_EXPECTS(d.batch >= 1, kInvalidArgument,
                 "FFT: batch " + std::to_string(d.batch) + " must be at least 1");
  Resolved r;
  // Every size is checked before any is multiplied: a zero size is reported as such, not as
  // the overflow of the others' product (found by FuzzFFTExtent).
  for (int i = 0; i < d.rank; ++i) {
    CUDAGO_EXPECTS(d.dims[i] >= 1, kInvalidArgument,
                   "FFT: dims[" + std::to_string(i) + "] = " + std::to_string(d.dims[i]) +
                       " must be at least 1");
  }
  for (int i = 0; i < d.rank; ++i) r.n_total = mul(r.n_total, d.dims[i], "the transform size");
  for (int i = d.rank; i < kFftMaxRank; ++i) {
    CUDAGO_EXPECTS(d.dims[i] == 0, kInvalidArgument,
                   "FFT: dims[" + std::to_string(i) + "] = " + std::to_string(d.dims[i]) +
                       " must be 0 for a rank-" + std::to_string(d.rank) + " transform");
  }
  mul(r.n_total, d.batch, "size * batch");
  const bool in_complex = d.type != FftType::kR2C;
  const bool out_complex = d.type != FftType::kC2R;
  r.in = resolve_side(d, d.in, in_complex, in_place && !in_complex, "input");
  r.out = resolve_side(d, d.out, out_complex, in_place && !out_complex, "output");
  return r;
}

cufftType cufft_type(const FftDesc& d) {
  const bool f64 = d.precision == DType::kF64;
  switch (d.type) {
    case FftType::kC2C:
      return f64 ? CUFFT_Z2Z : CUFFT_C2C;
    case FftType::kR2C:
      return f64 ? CUFFT_D2Z : CUFFT_R2C;
    case FftType::kC2R:
      return f64 ? CUFFT_Z2D : CUFFT_C2R;
  }
  return CUFFT_C2C;
}

// ---- the plan cache ----

struct PlanKey {
  int32_t device = 0, rank = 0, type = 0, in_place = 0;
  int64_t batch = 0;
  std::array<int64_t, kFftMaxRank> n{}, in_embed{}, out_embed{};
  int64_t in_stride = 0, in_dist = 0, out_stride = 0, out_dist = 0;
  int32_t in_basic = 0, out_basic = 0;

  bool operator==(const PlanKey& o) const {
    return device == o.device && rank == o.rank && type == o.type && in_place == o.in_place &&
           batch == o.batch && n == o.n && in_embed == o.in_embed && out_embed == o.out_embed &&
           in_stride == o.in_stride && in_dist == o.in_dist && out_stride == o.out_stride &&
           out_dist == o.out_dist && in_basic == o.in_basic && out_basic == o.out_basic;
  }
};

struct PlanKeyHash {
  size_t operator()(const PlanKey& k) const noexcept {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](uint64_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
    mix(static_cast<uint64_t>(k.device));
    mix(static_cast<uint64_t>(k.rank));
    mix(static_cast<uint64_t>(k.type));
    mix(static_cast<uint64_t>(k.in_place));
    mix(static_cast<uint64_t>(k.batch));
    for (int i = 0; i < kFftMaxRank; ++i) {
      mix(static_cast<uint64_t>(k.n[i]));
      mix(static_cast<uint64_t>(k.in_embed[i]));
      mix(static_cast<uint64_t>(k.out_embed[i]));
    }
    mix(static_cast<uint64_t>(k.in_stride));
    mix(static_cast<uint64_t>(k.in_dist));
    mix(static_cast<uint64_t>(k.out_stride));
    mix(static_cast<uint64_t>(k.out_dist));
    return static_cast<size_t>(h);
  }
};

struct Plan {
  PlanKey key;
  cufftHandle handle = 0;
  size_t work_bytes = 0;
  StreamPtr last_stream;  // the stream of its last transform, waited for before destruction
};

// Destroys a plan after its last transform: synchronises the stream it ran on (GPU work may
// still read the plan's device data), then cufftDestroy on its device. Errors are ignored: a
// destroyed plan has nobody left to report to, and a fault resurfaces at the user's next call.
void destroy_plan(Plan& p) noexcept {
  try {
    DeviceGuard guard(p.key.device);
    RelaxedCaptureMode relaxed;
    if (p.last_stream) p.last_stream->host_wait();
    (void)cufftDestroy(p.handle);
  } catch (...) {
  }
  p.last_stream.reset();
}

class PlanCache {
 public:
  // A plan for `key`: an idle cached one (a hit) or a new one (a miss). The caller owns it
  // until give_back() or discard(). Inside a capture a miss is Error(kCapture): cuFFT cannot
  // create a plan while a stream is being captured (it fails, and the capture with it).
  Plan checkout(const PlanKey& key, const Resolved& r, bool capturing) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = index_.find(key);
      if (it != index_.end()) {
        auto node = it->second;
        index_.erase(it);
        Plan p = std::move(*node);
        lru_.erase(node);
        bytes_ -= p.work_bytes;
        ++hits_;
        ++in_use_;
        return p;
      }
      ++misses_;
      if (capturing) {
        throw Error(Status::kCapture,
                    "FFT: no idle cached plan for this transform, and cuFFT cannot create one "
                    "while a stream is being captured: run the same transform once before the "
                    "capture (plans are cached by shape and layout)");
      }
      ++in_use_;
    }
    try {
      return create(key, r);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      --in_use_;
      throw;
    }
  }

  void give_back(Plan p) {
    std::vector<Plan> victims;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --in_use_;
      lru_.push_front(std::move(p));
      index_.emplace(lru_.front().key, lru_.begin());
      bytes_ += lru_.front().work_bytes;
      evict_locked(victims);
    }
    for (Plan& v : victims) destroy_plan(v);
  }

  // For a plan captured into a graph: the graph owns it from now on (it is destroyed with the
  // graph, never evicted while the graph may replay it).
  Plan detach(Plan p) {
    std::lock_guard<std::mutex> lock(mutex_);
    --in_use_;
    return p;
  }

  // For a plan whose transform failed: it is not reused.
  void discard(Plan p) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --in_use_;
    }
    destroy_plan(p);
  }

  FftCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    FftCacheStats s;
    s.hits = hits_;
    s.misses = misses_;
    s.evictions = evictions_;
    s.entries = lru_.size();
    s.bytes = bytes_;
    s.in_use = in_use_;
    s.max_entries = max_entries_;
    s.max_bytes = max_bytes_;
    return s;
  }

  void set_limits(uint64_t max_entries, uint64_t max_bytes) {
    std::vector<Plan> victims;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      max_entries_ = max_entries;
      max_bytes_ = max_bytes;
      evict_locked(victims);
    }
    for (Plan& v : victims) destroy_plan(v);
  }

  void clear() {
    std::vector<Plan> victims;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (!lru_.empty()) pop_oldest_locked(victims);
    }
    for (Plan& v : victims) destroy_plan(v);
  }

 private:
  static Plan create(const PlanKey& key, const Resolved& r) {
    RelaxedCaptureMode relaxed;  // cuFFT allocates plan data: allowed while this thread captures
    Plan p;
    p.key = key;
    CUDAGO_CUFFT_TRY(cufftCreate(&p.handle));
    try {
      CUDAGO_CUFFT_TRY(cufftSetAutoAllocation(p.handle, 0));
      long long n[kFftMaxRank], ie[kFftMaxRank], oe[kFftMaxRank];
      for (int i = 0; i < key.rank; ++i) {
        n[i] = key.n[i];
        ie[i] = r.in.embed[i];
        oe[i] = r.out.embed[i];
      }
      // Basic layouts on both sides go to cuFFT as NULL embeds (its packed default).
      const bool basic = key.in_basic && key.out_basic;
      CUDAGO_CUFFT_TRY(cufftMakePlanMany64(
          p.handle, key.rank, n, basic ? nullptr : ie, r.in.stride, r.in.dist, basic ? nullptr : oe,
          r.out.stride, r.out.dist, static_cast<cufftType>(key.type), key.batch, &p.work_bytes));
    } catch (...) {
      (void)cufftDestroy(p.handle);
      throw;
    }
    return p;
  }

  void pop_oldest_locked(std::vector<Plan>& victims) {
    Plan& old = lru_.back();
    auto range = index_.equal_range(old.key);
    for (auto it = range.first; it != range.second; ++it) {
      if (&*it->second == &old) {
        index_.erase(it);
        break;
      }
    }
    bytes_ -= old.work_bytes;
    ++evictions_;
    victims.push_back(std::move(old));
    lru_.pop_back();
  }

  void evict_locked(std::vector<Plan>& victims) {
    while (!lru_.empty() && (lru_.size() > max_entries_ || bytes_ > max_bytes_)) {
      pop_oldest_locked(victims);
    }
  }

  std::mutex mutex_;
  std::list<Plan> lru_;  // idle plans, most recently returned first
  std::unordered_multimap<PlanKey, std::list<Plan>::iterator, PlanKeyHash> index_;
  uint64_t bytes_ = 0, hits_ = 0, misses_ = 0, evictions_ = 0, in_use_ = 0;
  uint64_t max_entries_ = kFftCacheDefaultEntries, max_bytes_ = kFftCacheDefaultBytes;
};

PlanCache& cache() {
  // Never destroyed: plans must not be destroyed after the CUDA runtime has shut down.
  static PlanCache* c = new PlanCache();
  return *c;
}

void run_exec(cufftHandle h, const FftDesc& d, void* in, void* out, FftDirection dir) {
  const int sign = dir == FftDirection::kForward ? CUFFT_FORWARD : CUFFT_INVERSE;
  const bool f64 = d.precision == DType::kF64;
  switch (d.type) {
    case FftType::kC2C:
      if (f64) {
        CUDAGO_CUFFT_TRY(cufftExecZ2Z(h, static_cast<cufftDoubleComplex*>(in),
                                      static_cast<cufftDoubleComplex*>(out), sign));
      } else {
        CUDAGO_CUFFT_TRY(
            cufftExecC2C(h, static_cast<cufftComplex*>(in), static_cast<cufftComplex*>(out), sign));
      }
      return;
    case FftType::kR2C:
      if (f64) {
        CUDAGO_CUFFT_TRY(cufftExecD2Z(h, static_cast<cufftDoubleReal*>(in),
                                      static_cast<cufftDoubleComplex*>(out)));
      } else {
        CUDAGO_CUFFT_TRY(
            cufftExecR2C(h, static_cast<cufftReal*>(in), static_cast<cufftComplex*>(out)));
      }
      return;
    case FftType::kC2R:
      if (f64) {
        CUDAGO_CUFFT_TRY(cufftExecZ2D(h, static_cast<cufftDoubleComplex*>(in),
                                      static_cast<cufftDoubleReal*>(out)));
      } else {
        CUDAGO_CUFFT_TRY(
            cufftExecC2R(h, static_cast<cufftComplex*>(in), static_cast<cufftReal*>(out)));
      }
      return;
  }
}

double norm_factor(FftNorm norm, FftDirection dir, int64_t n) {
  switch (norm) {
    case FftNorm::kNone:
      return 1.0;
    case FftNorm::kInverse:
      return dir == FftDirection::kInverse ? 1.0 / static_cast<double>(n) : 1.0;
    case FftNorm::kForward:
      return dir == FftDirection::kForward ? 1.0 / static_cast<double>(n) : 1.0;
    case FftNorm::kOrtho:
      return 1.0 / std::sqrt(static_cast<double>(n));
  }
  return 1.0;
}

}  // namespace

FftExtent fft_extent(const FftDesc& desc, bool in_place) {
  Resolved r = resolve(desc, in_place);
  return FftExtent{static_cast<uint64_t>(r.in.extent) * r.in.elem_bytes,
                   static_cast<uint64_t>(r.out.extent) * r.out.elem_bytes};
}

void fft_exec(const StreamPtr& stream, const FftDesc& desc, DeviceBuffer& in, uint64_t in_offset,
              DeviceBuffer& out, uint64_t out_offset, FftDirection direction, FftNorm norm) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
  CUDAGO_EXPECTS(direction == FftDirection::kForward || direction == FftDirection::kInverse,
                 kInvalidArgument,
                 "FFT: direction " + std::to_string(static_cast<int>(direction)) +
                     " is not forward (0) or inverse (1)");
  CUDAGO_EXPECTS(static_cast<int>(norm) >= 0 && static_cast<int>(norm) <= 3, kInvalidArgument,
                 "FFT: normalisation " + std::to_string(static_cast<int>(norm)) +
                     " is not none (0), inverse (1), ortho (2) or forward (3)");
  const bool same = &in == &out;
  const bool in_place = same && in_offset == out_offset;
  const Resolved r = resolve(desc, in_place);
  CUDAGO_EXPECTS(desc.type != FftType::kR2C || direction == FftDirection::kForward,
                 kInvalidArgument, "FFT: an R2C transform is always forward");
  CUDAGO_EXPECTS(desc.type != FftType::kC2R || direction == FftDirection::kInverse,
                 kInvalidArgument, "FFT: a C2R transform is always inverse");
  const int dev = stream->device();
  CUDAGO_EXPECTS(in.device() == dev && out.device() == dev, kDeviceMismatch,
                 "FFT: buffers on devices " + std::to_string(in.device()) + " and " +
                     std::to_string(out.device()) + " with a stream on device " +
                     std::to_string(dev));
  CUDAGO_EXPECTS(in_offset % r.in.elem_bytes == 0 && out_offset % r.out.elem_bytes == 0,
                 kInvalidArgument,
                 "FFT: offsets " + std::to_string(in_offset) + " and " +
                     std::to_string(out_offset) + " must be multiples of the element sizes " +
                     std::to_string(r.in.elem_bytes) + " and " + std::to_string(r.out.elem_bytes));
  const uint64_t in_bytes = static_cast<uint64_t>(r.in.extent) * r.in.elem_bytes;
  const uint64_t out_bytes = static_cast<uint64_t>(r.out.extent) * r.out.elem_bytes;
  auto fits = [](uint64_t size, uint64_t off, uint64_t bytes) {
    return off <= size && bytes <= size - off;
  };
  const std::string shape = std::string(type_name(desc.type)) + " " + dtype_name(desc.precision) +
                            " rank " + std::to_string(desc.rank) + " batch " +
                            std::to_string(desc.batch);
  CUDAGO_EXPECTS(fits(in.size(), in_offset, in_bytes), kOutOfRange,
                 "FFT " + shape + ": the input layout needs " + std::to_string(in_bytes) +
                     " bytes from offset " + std::to_string(in_offset) + ", the buffer has " +
                     std::to_string(in.size()));
  CUDAGO_EXPECTS(fits(out.size(), out_offset, out_bytes), kOutOfRange,
                 "FFT " + shape + ": the output layout needs " + std::to_string(out_bytes) +
                     " bytes from offset " + std::to_string(out_offset) + ", the buffer has " +
                     std::to_string(out.size()));
  // cuFFT wants every pointer aligned to the complex element (8 or 16 bytes), the real side of
  // an R2C or C2R included: at an odd real offset it fails with CUFFT_INVALID_VALUE (seen on an
  // H200, CUDA 13). Refused here, with the reason.
  const uint64_t complex_bytes = std::max(r.in.elem_bytes, r.out.elem_bytes);
  auto aligned = [complex_bytes](const DeviceBuffer& b, uint64_t off) {
    return (reinterpret_cast<uintptr_t>(b.data()) + off) % complex_bytes == 0;
  };
  CUDAGO_EXPECTS(aligned(in, in_offset) && aligned(out, out_offset), kInvalidArgument,
                 "FFT " + shape + ": offsets " + std::to_string(in_offset) + " and " +
                     std::to_string(out_offset) + " bytes must start on a complex element (" +
                     std::to_string(complex_bytes) +
                     " bytes): cuFFT refuses a real side at an odd element");
  if (same && !in_place) {
    const bool disjoint = in_offset + in_bytes <= out_offset || out_offset + out_bytes <= in_offset;
    CUDAGO_EXPECTS(disjoint, kInvalidArgument,
                   "FFT: input and output overlap in one buffer without being in place (equal "
                   "offsets)");
  }

  PlanKey key;
  key.device = dev;
  key.rank = desc.rank;
  key.type = static_cast<int32_t>(cufft_type(desc));
  key.in_place = in_place ? 1 : 0;
  key.batch = desc.batch;
  for (int i = 0; i < desc.rank; ++i) {
    key.n[i] = desc.dims[i];
    key.in_embed[i] = r.in.embed[i];
    key.out_embed[i] = r.out.embed[i];
  }
  key.in_stride = r.in.stride;
  key.in_dist = r.in.dist;
  key.out_stride = r.out.stride;
  key.out_dist = r.out.dist;
  key.in_basic = r.in.basic ? 1 : 0;
  key.out_basic = r.out.basic ? 1 : 0;

  DeviceGuard guard(dev);
  PlanCache& c = cache();
  Plan plan = c.checkout(key, r, stream->capture() != nullptr);
  try {
    CUDAGO_CUFFT_TRY(cufftSetStream(plan.handle, stream->get()));
    plan.last_stream = stream;
    // The work area is stream-ordered scratch (an allocation node inside a capture).
    std::unique_ptr<StreamScratch> work;
    if (plan.work_bytes > 0) {
      work = std::make_unique<StreamScratch>(dev, plan.work_bytes, stream->get());
      CUDAGO_CUFFT_TRY(cufftSetWorkArea(plan.handle, work->data()));
    }
    void* pin = static_cast<char*>(in.data()) + in_offset;
    void* pout = static_cast<char*>(out.data()) + out_offset;
    run_exec(plan.handle, desc, pin, pout, direction);
    in.used_on(stream);
    out.used_on(stream);
    work.reset();  // freed in stream order after the transform
    const double factor = norm_factor(norm, direction, r.n_total);
    if (factor != 1.0) {
      detail::launch_fft_scale(pout, desc.precision, r.out.complex ? 2 : 1, desc.rank,
                               r.out.n.data(), r.out.embed.data(), r.out.stride, r.out.dist,
                               desc.batch, factor, stream->get());
    }
  } catch (...) {
    c.discard(std::move(plan));
    throw;
  }
  if (std::shared_ptr<Capture> cap = stream->capture()) {
    // The graph's nodes read the plan's device data at every replay: the graph owns the plan
    // (destroyed after the graph's launches, so no stream wait is needed then).
    auto owned = std::shared_ptr<Plan>(new Plan(c.detach(std::move(plan))), [](Plan* p) {
      p->last_stream.reset();
      destroy_plan(*p);
      delete p;
    });
    cap->keep(std::move(owned));
    return;
  }
  c.give_back(std::move(plan));
}

FftCacheStats fft_cache_stats() { return cache().stats(); }

void fft_cache_set_limits(uint64_t max_entries, uint64_t max_bytes) {
  cache().set_limits(max_entries, max_bytes);
}

void fft_cache_clear() { cache().clear(); }

}  // namespace cudago
