/*
 * shim_rtc.h: cgo shims for run-time compilation (NVRTC), kernel lookup and launch, and the
 * compile cache. Same contract as shim.h: one cudago call each, and the detail of a failure is
 * copied in the same C call (so on the same OS thread).
 *
 * Every string and array reaches these shims in C memory (Go allocates it with C.CString or
 * C.malloc and frees it after the call), except the kernel argument array of a launch: a Go
 * array of cudago_kernel_arg_t, which holds no Go pointers (its byte payloads are C memory) and
 * is copied by cudago_kernel_launch during the call.
 */
#ifndef CUDAGO_GO_SHIM_RTC_H
#define CUDAGO_GO_SHIM_RTC_H

#include "shim.h"

typedef struct {
  cg_err_t *err;
  cudago_module_t handle;
  uint64_t log_len; /* the compile log's full length (the log is in opts.log) */
} cg_module_result;
typedef struct {
  cg_err_t *err;
  cudago_kernel_t handle;
} cg_kernel_result;
typedef struct {
  cg_err_t *err;
  uint64_t len;
} cg_len_result;
typedef struct {
  cg_err_t *err;
  int32_t block, min_grid;
} cg_occupancy_result;

cg_module_result cg_module_compile(int32_t device, const char *source,
                                   cudago_compile_options_t opts);
/* opts.log_len is set by the shim; the image goes to image when cap is large enough. */
cg_module_result cg_rtc_compile(const char *source, cudago_compile_options_t opts, void *image,
                                uint64_t cap, uint64_t *image_len);
cg_err_t *cg_module_destroy(cudago_module_t m);
cg_len_result cg_module_log(cudago_module_t m, char *buf, uint64_t cap);
cg_kernel_result cg_module_kernel(cudago_module_t m, const char *name);
cg_err_t *cg_kernel_destroy(cudago_kernel_t k);
cg_err_t *cg_kernel_attributes(cudago_kernel_t k, cudago_kernel_attributes_t *out);
cg_occupancy_result cg_kernel_occupancy(cudago_kernel_t k, uint64_t dyn_smem);
cg_err_t *cg_kernel_launch(cudago_kernel_t k, cudago_stream_t s, const cudago_kernel_arg_t *args,
                           uint64_t nargs, uint64_t gx, uint64_t gy, uint64_t gz, uint64_t bx,
                           uint64_t by, uint64_t bz, uint64_t dyn_smem);
cg_err_t *cg_rtc_cache_set_dir(const char *dir);
cg_err_t *cg_rtc_cache_set_capacity(uint64_t entries);
cg_err_t *cg_rtc_cache_stats(cudago_rtc_cache_stats_t *out);
cg_err_t *cg_rtc_cache_clear(void);

#endif /* CUDAGO_GO_SHIM_RTC_H */
