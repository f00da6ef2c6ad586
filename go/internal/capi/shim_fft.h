/*
 * shim_fft.h: cgo shims for cuFFT transforms and the plan cache. Same contract as shim.h (one
 * cudago call each; the detail of a failure is copied in the same C call into a calloc'd
 * cg_err_t that Go frees with cg_err_free; see cg_err and cg_result there). Descriptors are passed
 * by value, so no Go pointer crosses and nothing escapes to the heap.
 */
#ifndef CUDAGO_GO_SHIM_FFT_H
#define CUDAGO_GO_SHIM_FFT_H

#include "shim.h"

typedef struct {
  int32_t status;
  cg_err_t *err;
  uint64_t in_bytes, out_bytes;
} cg_fft_extent_result;

typedef struct {
  int32_t status;
  cg_err_t *err;
  cudago_fft_cache_stats_t stats;
} cg_fft_stats_result;

cg_result cg_fft_exec(cudago_stream_t s, cudago_buffer_t in, uint64_t in_offset,
                      cudago_buffer_t out, uint64_t out_offset, cudago_fft_desc_t desc,
                      cudago_fft_direction_t direction, cudago_fft_norm_t norm);
cg_fft_extent_result cg_fft_extent(cudago_fft_desc_t desc, int32_t in_place);
cg_fft_stats_result cg_fft_cache_stats(void);
cg_result cg_fft_cache_set_limits(uint64_t max_entries, uint64_t max_bytes);
cg_result cg_fft_cache_clear(void);

#endif /* CUDAGO_GO_SHIM_FFT_H */
