// FFT: descriptor translation and the plan cache.
#include <cstddef>
#include <cstring>
#include <string>

#include "cudago.h"
#include "cudago/fft.hpp"
#include "guard.hpp"

using cudago::capi::guard;
using cudago::capi::handle;
using cudago::capi::out_param;

namespace {

static_assert(CUDAGO_FFT_MAX_RANK == cudago::kFftMaxRank, "FFT ranks must agree");
static_assert(CUDAGO_FFT_C2R == static_cast<int>(cudago::FftType::kC2R), "FFT types must agree");
static_assert(CUDAGO_FFT_NORM_FORWARD == static_cast<int>(cudago::FftNorm::kForward),
              "FFT norms must agree");

cudago::FftLayout layout_of(const cudago_fft_layout_t& l) {
  cudago::FftLayout r;
  for (int i = 0; i < CUDAGO_FFT_MAX_RANK; ++i) r.embed[i] = l.embed[i];
  r.stride = l.stride;
  r.dist = l.dist;
  return r;
}

cudago::FftDesc desc_of(const cudago_fft_desc_t* desc) {
  const cudago_fft_desc_t copy = cudago::capi::read_sized(desc, "desc");
  const cudago_fft_desc_t* d = &copy;
  cudago::FftDesc r;
  r.rank = d->rank;
  for (int i = 0; i < CUDAGO_FFT_MAX_RANK; ++i) r.dims[i] = d->dims[i];
  r.type = static_cast<cudago::FftType>(d->type);
  cudago::checked_dtype_size(d->precision);
  r.precision = static_cast<cudago::DType>(d->precision);
  r.batch = d->batch;
  r.in = layout_of(d->in);
  r.out = layout_of(d->out);
  return r;
}

}  // namespace

extern "C" cudago_status_t cudago_fft_exec(cudago_stream_t stream, const cudago_fft_desc_t* desc,
                                           cudago_buffer_t in, uint64_t in_offset,
                                           cudago_buffer_t out, uint64_t out_offset,
                                           int32_t direction, int32_t norm) {
  return guard("cudago_fft_exec", [&] {
    cudago::fft_exec(handle(stream, "stream").impl, desc_of(desc), *handle(in, "in").impl,
                     in_offset, *handle(out, "out").impl, out_offset,
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
