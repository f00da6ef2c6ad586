// FFT: descriptor translation and the plan cache.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "cudago.h"
#include "cudago/fft.hpp"
#include "guard.hpp"

using cudago::capi::guard;
using cudago::capi::handle;
using cudago::capi::out_param;
using cudago::capi::signed_count;

namespace {

static_assert(CUDAGO_FFT_MAX_RANK == cudago::kFftMaxRank, "FFT ranks must agree");
static_assert(CUDAGO_FFT_C2R == static_cast<int>(cudago::FftType::kC2R), "FFT types must agree");
static_assert(CUDAGO_FFT_NORM_FORWARD == static_cast<int>(cudago::FftNorm::kForward),
              "FFT norms must agree");

// A uint64_t field of the descriptor as the core's int64_t; the parameter's name ("desc->in.dist",
// "desc->dims[1]") is built only to refuse a value above INT64_MAX.
int64_t field(uint64_t v, const char* prefix, const char* name, int index = -1) {
  if (v <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v);
  std::string full = std::string(prefix) + name;
  if (index >= 0) full += "[" + std::to_string(index) + "]";
  return signed_count(v, full.c_str());  // throws
}

cudago::FftLayout layout_of(const cudago_fft_layout_t& l, const char* prefix) {
  cudago::FftLayout r;
  for (int i = 0; i < CUDAGO_FFT_MAX_RANK; ++i) r.embed[i] = field(l.embed[i], prefix, "embed", i);
  r.stride = field(l.stride, prefix, "stride");
  r.dist = field(l.dist, prefix, "dist");
  return r;
}

cudago::FftDesc desc_of(const cudago_fft_desc_t* desc) {
  const cudago_fft_desc_t d = cudago::capi::read_sized(desc, "desc");
  if (d.reserved0 != 0) {
    throw cudago::Error(cudago::Status::kInvalidArgument,
                        "desc->reserved0 = " + std::to_string(d.reserved0) + "; it must be 0");
  }
  if (d.rank > CUDAGO_FFT_MAX_RANK) {
    throw cudago::Error(cudago::Status::kInvalidArgument,
                        "desc->rank = " + std::to_string(d.rank) + " is not 1, 2 or 3");
  }
  cudago::FftDesc r;
  r.rank = static_cast<int32_t>(d.rank);  // 0 is refused by the core
  for (int i = 0; i < CUDAGO_FFT_MAX_RANK; ++i) {
    r.dims[i] = field(d.dims[i], "desc->", "dims", i);
  }
  r.type = static_cast<cudago::FftType>(d.type);
  cudago::checked_dtype_size(d.precision);
  r.precision = cudago::capi::dtype_of(d.precision);
  r.batch = field(d.batch, "desc->", "batch");
  r.in = layout_of(d.in, "desc->in.");
  r.out = layout_of(d.out, "desc->out.");
  return r;
}

}  // namespace

extern "C" cudago_status_t cudago_fft_exec(cudago_stream_t stream, cudago_buffer_t in,
                                           uint64_t in_offset, cudago_buffer_t out,
                                           uint64_t out_offset, const cudago_fft_desc_t* desc,
                                           cudago_fft_direction_t direction,
                                           cudago_fft_norm_t norm) {
  return guard("cudago_fft_exec", [&] {
    const cudago::FftDesc d = desc_of(desc);
    cudago::fft_exec(handle(stream, "stream").impl, d, *handle(in, "in").impl, in_offset,
                     *handle(out, "out").impl, out_offset,
                     static_cast<cudago::FftDirection>(direction),
                     static_cast<cudago::FftNorm>(norm));
  });
}

extern "C" cudago_status_t cudago_fft_extent(const cudago_fft_desc_t* desc, int32_t in_place,
                                             uint64_t* in_bytes, uint64_t* out_bytes) {
  return guard("cudago_fft_extent", [&] {
    out_param(in_bytes, "in_bytes");
    out_param(out_bytes, "out_bytes");
    if (in_place != 0 && in_place != 1) {
      throw cudago::Error(cudago::Status::kInvalidArgument,
                          "in_place is " + std::to_string(in_place) + "; use 0 or 1");
    }
    cudago::FftExtent e = cudago::fft_extent(desc_of(desc), in_place == 1);
    *in_bytes = e.in_bytes;
    *out_bytes = e.out_bytes;
  });
}

extern "C" cudago_status_t cudago_fft_cache_stats(cudago_fft_cache_stats_t* out) {
  return guard("cudago_fft_cache_stats", [&] {
    cudago::capi::sized_out(out, "out");
    const cudago::FftCacheStats s = cudago::fft_cache_stats();
    cudago_fft_cache_stats_t full{};
    full.hits = s.hits;
    full.misses = s.misses;
    full.evictions = s.evictions;
    full.entries = s.entries;
    full.bytes = s.bytes;
    full.in_use = s.in_use;
    full.max_entries = s.max_entries;
    full.max_bytes = s.max_bytes;
    cudago::capi::write_sized(out, "out", full);
  });
}

extern "C" cudago_status_t cudago_fft_cache_set_limits(uint64_t max_entries, uint64_t max_bytes) {
  return guard("cudago_fft_cache_set_limits",
               [&] { cudago::fft_cache_set_limits(max_entries, max_bytes); });
}

extern "C" cudago_status_t cudago_fft_cache_clear(void) {
  return guard("cudago_fft_cache_clear", [&] { cudago::fft_cache_clear(); });
}
