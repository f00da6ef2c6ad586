/* shim.c: see shim.h. Compiled by cgo with the package's pkg-config flags. */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

/* Returned when calloc fails: one per status (made from the status table, whose values run from
 * 0 without gaps), so the status still reaches Go. Never freed. */
#define CG_NOMEM(suffix, camel, value, text) \
  {sizeof(cudago_error_info_t), (value), 0, "", "", "(no detail: out of host memory for it)"},
static cg_err_t cg_nomem[] = {CUDAGO_STATUS_LIST(CG_NOMEM)};
#undef CG_NOMEM
#define CG_NNOMEM (sizeof cg_nomem / sizeof cg_nomem[0])

static int cg_is_static(const cg_err_t *e) {
  size_t i;
  for (i = 0; i < CG_NNOMEM; i++) {
    if (e == &cg_nomem[i]) return 1;
  }
  return 0;
}

void cg_err_free(cg_err_t *err) {
  if (err != NULL && !cg_is_static(err)) free(err);
}

/* The failure path: copies the calling thread's detail in this same C call. The returned status
 * is authoritative; the detail's status is overwritten with it. */
static cg_err_t *cg_fail(cudago_status_t st) {
  cg_err_t *e = (cg_err_t *)calloc(1, sizeof *e);
  if (e == NULL) {
    size_t i = (size_t)st < CG_NNOMEM ? (size_t)st : (size_t)CUDAGO_ERROR_INTERNAL;
    return &cg_nomem[i];
  }
  cudago_error_info_init(e);
  if (cudago_error_last(e) != CUDAGO_SUCCESS) cudago_error_info_init(e);
  e->status = (int32_t)st;
  /* Strings are NUL-terminated by the library; make sure of it anyway. */
  e->native_name[sizeof e->native_name - 1] = '\0';
  e->operation[sizeof e->operation - 1] = '\0';
  e->message[sizeof e->message - 1] = '\0';
  return e;
}

cg_err_t *cg_err(cudago_status_t st) { return st == CUDAGO_SUCCESS ? NULL : cg_fail(st); }

cg_result cg_done(cudago_status_t st) {
  cg_result r;
  r.status = (int32_t)st;
  r.err = cg_err(st);
  return r;
}

/* ---- Versions and devices. ---- */

cg_int_result cg_driver_version(void) {
  cg_int_result r = {NULL, 0};
  r.err = cg_err(cudago_driver_version(&r.value));
  return r;
}

cg_int_result cg_runtime_version(void) {
  cg_int_result r = {NULL, 0};
  r.err = cg_err(cudago_runtime_version(&r.value));
  return r;
}

cg_int_result cg_device_count(void) {
  cg_int_result r = {NULL, 0};
  r.err = cg_err(cudago_device_count(&r.value));
  return r;
}

cg_err_t *cg_device_properties(int32_t device, cudago_device_properties_t *out) {
  return cg_err(cudago_device_properties(device, out));
}

cg_meminfo_result cg_device_memory_info(int32_t device) {
  cg_meminfo_result r = {NULL, 0, 0};
  r.err = cg_err(cudago_device_memory_info(device, &r.free_bytes, &r.total_bytes));
  return r;
}

/* ---- Streams and events. ---- */

cg_stream_result cg_stream_create(int32_t device, uint32_t flags, int32_t priority) {
  cg_stream_result r = {NULL, NULL};
  r.err = cg_err(cudago_stream_create(&r.handle, device, flags, priority));
  return r;
}

cg_err_t *cg_stream_destroy(cudago_stream_t s) { return cg_err(cudago_stream_destroy(s)); }

cg_err_t *cg_stream_synchronize(cudago_stream_t s) { return cg_err(cudago_stream_synchronize(s)); }

cg_int_result cg_stream_query(cudago_stream_t s) {
  cg_int_result r = {NULL, 0};
  r.err = cg_err(cudago_stream_query(s, &r.value));
  return r;
}

cg_err_t *cg_stream_wait_event(cudago_stream_t s, cudago_event_t e) {
  return cg_err(cudago_stream_wait_event(s, e));
}

cg_int_result cg_stream_priority(cudago_stream_t s) {
  cg_int_result r = {NULL, 0};
  r.err = cg_err(cudago_stream_priority(s, &r.value));
  return r;
}

cg_event_result cg_event_create(int32_t device, uint32_t flags) {
  cg_event_result r = {NULL, NULL};
  r.err = cg_err(cudago_event_create(&r.handle, device, flags));
  return r;
}

cg_err_t *cg_event_destroy(cudago_event_t e) { return cg_err(cudago_event_destroy(e)); }

cg_err_t *cg_event_record(cudago_event_t e, cudago_stream_t s) {
  return cg_err(cudago_event_record(e, s));
}

cg_err_t *cg_event_synchronize(cudago_event_t e) { return cg_err(cudago_event_synchronize(e)); }

cg_int_result cg_event_query(cudago_event_t e) {
  cg_int_result r = {NULL, 0};
  r.err = cg_err(cudago_event_query(e, &r.value));
  return r;
}

cg_float_result cg_event_elapsed_ms(cudago_event_t start, cudago_event_t end) {
  cg_float_result r = {NULL, 0.0f};
  r.err = cg_err(cudago_event_elapsed_ms(start, end, &r.value));
  return r;
}

/* ---- Pools. ---- */

cg_err_t *cg_pool_configure(int32_t device, const cudago_pool_config_t *config) {
  return cg_err(cudago_pool_configure(device, config));
}

cg_err_t *cg_pool_stats(int32_t device, cudago_pool_stats_t *out) {
  return cg_err(cudago_pool_stats(device, out));
}

cg_err_t *cg_pool_trim(int32_t device, uint64_t keep_bytes) {
  return cg_err(cudago_pool_trim(device, keep_bytes));
}

cg_err_t *cg_pool_reset_high_water(int32_t device) {
  return cg_err(cudago_pool_reset_high_water(device));
}

/* ---- Buffers. ---- */

cg_buffer_result cg_buffer_alloc(int32_t device, uint64_t bytes) {
  cg_buffer_result r = {NULL, NULL};
  r.err = cg_err(cudago_buffer_alloc(&r.handle, device, bytes));
  return r;
}

cg_buffer_result cg_buffer_alloc_async(cudago_stream_t s, uint64_t bytes) {
  cg_buffer_result r = {NULL, NULL};
  r.err = cg_err(cudago_buffer_alloc_async(&r.handle, s, bytes));
  return r;
}

cg_err_t *cg_buffer_free(cudago_buffer_t b) { return cg_err(cudago_buffer_free(b)); }

cg_buffer_result cg_buffer_from_mapped(cudago_host_buffer_t h) {
  cg_buffer_result r = {NULL, NULL};
  r.err = cg_err(cudago_buffer_from_mapped(&r.handle, h));
  return r;
}

cg_host_result cg_host_buffer_alloc(int32_t device, uint64_t bytes, uint32_t flags) {
  cg_host_result r = {NULL, NULL, NULL};
  cudago_status_t st = cudago_host_buffer_alloc(&r.handle, device, bytes, flags);
  if (st == CUDAGO_SUCCESS) {
    st = cudago_host_buffer_host_pointer(r.handle, &r.host);
    if (st != CUDAGO_SUCCESS) {
      r.err = cg_fail(st);
      cudago_host_buffer_free(r.handle);
      r.handle = NULL;
      r.host = NULL;
      return r;
    }
  }
  r.err = cg_err(st);
  return r;
}

cg_err_t *cg_host_buffer_free(cudago_host_buffer_t h) { return cg_err(cudago_host_buffer_free(h)); }

/* ---- Copies and memset. ---- */

cg_err_t *cg_copy_h2d(const void *src, cudago_buffer_t dst, uint64_t dst_offset, uint64_t bytes) {
  return cg_err(cudago_copy_h2d(src, dst, dst_offset, bytes));
}

cg_err_t *cg_copy_d2h(cudago_buffer_t src, uint64_t src_offset, void *dst, uint64_t bytes) {
  return cg_err(cudago_copy_d2h(src, src_offset, dst, bytes));
}

cg_err_t *cg_copy_d2d(cudago_buffer_t src, uint64_t src_offset, cudago_buffer_t dst,
                      uint64_t dst_offset, uint64_t bytes) {
  return cg_err(cudago_copy_d2d(src, src_offset, dst, dst_offset, bytes));
}

cg_err_t *cg_memset(uint8_t value, cudago_buffer_t dst, uint64_t dst_offset, uint64_t bytes) {
  return cg_err(cudago_memset(value, dst, dst_offset, bytes));
}

cg_err_t *cg_copy_h2d_async(cudago_stream_t s, cudago_host_buffer_t src, uint64_t src_offset,
                            cudago_buffer_t dst, uint64_t dst_offset, uint64_t bytes) {
  return cg_err(cudago_copy_h2d_async(s, src, src_offset, dst, dst_offset, bytes));
}

cg_err_t *cg_copy_d2h_async(cudago_stream_t s, cudago_buffer_t src, uint64_t src_offset,
                            cudago_host_buffer_t dst, uint64_t dst_offset, uint64_t bytes) {
  return cg_err(cudago_copy_d2h_async(s, src, src_offset, dst, dst_offset, bytes));
}

cg_err_t *cg_copy_d2d_async(cudago_stream_t s, cudago_buffer_t src, uint64_t src_offset,
                            cudago_buffer_t dst, uint64_t dst_offset, uint64_t bytes) {
  return cg_err(cudago_copy_d2d_async(s, src, src_offset, dst, dst_offset, bytes));
}

cg_err_t *cg_memset_async(cudago_stream_t s, uint8_t value, cudago_buffer_t dst,
                          uint64_t dst_offset, uint64_t bytes) {
  return cg_err(cudago_memset_async(s, value, dst, dst_offset, bytes));
}

/* ---- Kernels. ---- */

/* ---- For the tests. ---- */

void cg_test_fill_properties(cudago_device_properties_t *p) {
  int i;
  cudago_device_properties_init(p);
  p->ordinal = 3;
  strcpy(p->name, "NVIDIA Test GPU");
  for (i = 0; i < 16; i++) p->uuid[i] = (uint8_t)(0xa0 + i);
  strcpy(p->pci_bus_id, "0000:1a:00.0");
  p->pci_domain = 101;
  p->pci_bus = 102;
  p->pci_device = 103;
  p->compute_major = 104;
  p->compute_minor = 105;
  p->multiprocessor_count = 106;
  p->clock_khz = 107;
  p->memory_clock_khz = 108;
  p->memory_bus_width_bits = 109;
  p->l2_cache_bytes = 110;
  p->max_threads_per_block = 111;
  p->max_threads_per_multiprocessor = 112;
  p->max_blocks_per_multiprocessor = 113;
  p->registers_per_multiprocessor = 114;
  p->warp_size = 115;
  p->async_engine_count = 116;
  p->ecc_enabled = 1;
  p->integrated = 0;
  p->can_map_host_memory = 1;
  p->memory_pools_supported = 1;
  p->stream_priority_least = 117;
  p->stream_priority_greatest = -118;
  p->total_memory_bytes = UINT64_C(1) << 40;
  p->free_memory_bytes = (UINT64_C(1) << 40) - 119;
  p->shared_memory_per_block_bytes = UINT64_C(120) << 32;
  p->shared_memory_per_block_optin_bytes = UINT64_C(121) << 32;
  p->shared_memory_per_multiprocessor_bytes = UINT64_C(122) << 32;
}

void cg_test_fill_pool_stats(cudago_pool_stats_t *p) {
  cudago_pool_stats_init(p);
  p->reserved_bytes = UINT64_C(1) << 33;
  p->used_bytes = (UINT64_C(1) << 33) + 1;
  p->reserved_high_bytes = (UINT64_C(1) << 33) + 2;
  p->used_high_bytes = (UINT64_C(1) << 33) + 3;
}

cg_err_t *cg_test_error(int32_t status, int32_t with_detail) {
  cg_err_t *e = (cg_err_t *)calloc(1, sizeof *e);
  if (e == NULL) return &cg_nomem[CUDAGO_ERROR_INTERNAL];
  cudago_error_info_init(e);
  e->status = status;
  if (with_detail) {
    e->native_code = 2;
    strcpy(e->native_name, "cudaErrorMemoryAllocation");
    strcpy(e->operation, "cudago_buffer_alloc");
    strcpy(e->message, "cudaMallocFromPoolAsync(...) failed: out of memory");
  }
  return e;
}
