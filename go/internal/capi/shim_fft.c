/* shim_fft.c: see shim_fft.h. */
#include "shim_fft.h"

#include <stdlib.h>
#include <string.h>

cg_result cg_fft_exec(cudago_stream_t s, cudago_buffer_t in, uint64_t in_offset,
                      cudago_buffer_t out, uint64_t out_offset, cudago_fft_desc_t desc,
                      cudago_fft_direction_t direction, cudago_fft_norm_t norm) {
  return cg_done(cudago_fft_exec(s, in, in_offset, out, out_offset, &desc, direction, norm));
}

cg_fft_extent_result cg_fft_extent(cudago_fft_desc_t desc, int32_t in_place) {
  cg_fft_extent_result r;
  cudago_status_t st;
  memset(&r, 0, sizeof r);
  st = cudago_fft_extent(&desc, in_place, &r.in_bytes, &r.out_bytes);
  r.status = (int32_t)st;
  r.err = cg_err(st);
  return r;
}

cg_fft_stats_result cg_fft_cache_stats(void) {
  cg_fft_stats_result r;
  cudago_status_t st;
  memset(&r, 0, sizeof r);
  r.stats.struct_size = (uint32_t)sizeof r.stats;
  st = cudago_fft_cache_stats(&r.stats);
  r.status = (int32_t)st;
  r.err = cg_err(st);
  return r;
}

cg_result cg_fft_cache_set_limits(uint64_t max_entries, uint64_t max_bytes) {
  return cg_done(cudago_fft_cache_set_limits(max_entries, max_bytes));
}

cg_result cg_fft_cache_clear(void) { return cg_done(cudago_fft_cache_clear()); }
