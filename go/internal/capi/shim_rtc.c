/* shim_rtc.c: see shim_rtc.h. Compiled by cgo with the package's pkg-config flags. */
#include "shim_rtc.h"

cg_module_result cg_module_compile(int32_t device, const char *source,
                                   cudago_compile_options_t opts) {
  cg_module_result r = {NULL, NULL, 0};
  opts.log_len = &r.log_len;
  r.err = cg_err(cudago_module_compile(&r.handle, device, source, &opts));
  return r;
}

cg_module_result cg_rtc_compile(const char *source, cudago_compile_options_t opts, void *image,
                                uint64_t cap, uint64_t *image_len) {
  cg_module_result r = {NULL, NULL, 0};
  opts.log_len = &r.log_len;
  r.err = cg_err(cudago_rtc_compile(source, &opts, image, cap, image_len));
  return r;
}

cg_err_t *cg_module_destroy(cudago_module_t m) { return cg_err(cudago_module_destroy(m)); }

cg_len_result cg_module_log(cudago_module_t m, char *buf, uint64_t cap) {
  cg_len_result r = {NULL, 0};
  r.err = cg_err(cudago_module_log(m, buf, cap, &r.len));
  return r;
}

cg_kernel_result cg_module_kernel(cudago_module_t m, const char *name) {
  cg_kernel_result r = {NULL, NULL};
  r.err = cg_err(cudago_module_kernel(&r.handle, m, name));
  return r;
}

cg_err_t *cg_kernel_destroy(cudago_kernel_t k) { return cg_err(cudago_kernel_destroy(k)); }

cg_err_t *cg_kernel_attributes(cudago_kernel_t k, cudago_kernel_attributes_t *out) {
  return cg_err(cudago_kernel_attributes(k, out));
}

cg_occupancy_result cg_kernel_occupancy(cudago_kernel_t k, uint64_t dyn_smem) {
  cg_occupancy_result r = {NULL, 0, 0};
  r.err = cg_err(cudago_kernel_occupancy(k, dyn_smem, &r.block, &r.min_grid));
  return r;
}

cg_err_t *cg_kernel_launch(cudago_kernel_t k, cudago_stream_t s, const cudago_kernel_arg_t *args,
                           uint64_t nargs, uint64_t gx, uint64_t gy, uint64_t gz, uint64_t bx,
                           uint64_t by, uint64_t bz, uint64_t dyn_smem) {
  const uint64_t grid[3] = {gx, gy, gz};
  const uint64_t block[3] = {bx, by, bz};
  return cg_err(cudago_kernel_launch(k, s, args, nargs, grid, block, dyn_smem));
}

cg_err_t *cg_rtc_cache_set_dir(const char *dir) { return cg_err(cudago_rtc_cache_set_dir(dir)); }

cg_err_t *cg_rtc_cache_set_capacity(uint64_t entries) {
  return cg_err(cudago_rtc_cache_set_capacity(entries));
}

cg_err_t *cg_rtc_cache_stats(cudago_rtc_cache_stats_t *out) {
  return cg_err(cudago_rtc_cache_stats(out));
}

cg_err_t *cg_rtc_cache_clear(void) { return cg_err(cudago_rtc_cache_clear()); }
