/* shim_rtc.c: see shim_rtc.h. Compiled by cgo with the package's pkg-config flags. */
#include "shim_rtc.h"

cg_module_result cg_module_compile(int32_t device, cudago_compile_options_t opts,
                                   const char *source) {
  cg_module_result r = {NULL, NULL, 0};
  opts.log_len = &r.log_len;
  r.err = cg_err(cudago_module_compile(&r.handle, device, &opts, source));
  return r;
}

cg_module_result cg_rtc_compile(cudago_compile_options_t opts, const char *source, void *image,
                                size_t cap, size_t *image_len) {
  cg_module_result r = {NULL, NULL, 0};
  opts.log_len = &r.log_len;
  r.err = cg_err(cudago_rtc_compile(&opts, source, image, cap, image_len));
  return r;
}

cg_err_t *cg_module_destroy(cudago_module_t m) { return cg_err(cudago_module_destroy(m)); }

cg_len_result cg_module_log(cudago_module_t m, char *buf, size_t cap) {
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

cg_occupancy_result cg_kernel_occupancy(cudago_kernel_t k, size_t dyn_smem) {
  cg_occupancy_result r = {NULL, 0, 0};
  r.err = cg_err(cudago_kernel_occupancy(k, dyn_smem, &r.block, &r.min_grid));
  return r;
}

cg_err_t *cg_kernel_launch(cudago_kernel_t k, cudago_stream_t s, uint32_t gx, uint32_t gy,
                           uint32_t gz, uint32_t bx, uint32_t by, uint32_t bz, uint32_t dyn_smem,
                           const cudago_kernel_arg_t *args, int32_t nargs) {
  const uint32_t grid[3] = {gx, gy, gz};
  const uint32_t block[3] = {bx, by, bz};
  return cg_err(cudago_kernel_launch(k, s, grid, block, dyn_smem, args, nargs));
}

cg_err_t *cg_rtc_cache_set_dir(const char *dir) { return cg_err(cudago_rtc_cache_set_dir(dir)); }

cg_err_t *cg_rtc_cache_set_capacity(uint64_t entries) {
  return cg_err(cudago_rtc_cache_set_capacity(entries));
}

cg_err_t *cg_rtc_cache_stats(cudago_rtc_cache_stats_t *out) {
  return cg_err(cudago_rtc_cache_stats(out));
}

cg_err_t *cg_rtc_cache_clear(void) { return cg_err(cudago_rtc_cache_clear()); }
