/*
 * shim.h: the C side of the Go package's cgo calls.
 *
 * libcudago keeps the detail of a failed call per OS thread, and a goroutine may move to another
 * thread between two cgo calls. Each shim therefore makes one cudago call and, when it fails,
 * copies the calling thread's detail (cudago_error_last) into a calloc'd cudago_error_info_t in
 * the same C call. The shim returns that pointer (NULL on success); Go converts it to *Error and
 * releases it with cg_err_free. Success costs one cgo crossing and no allocation.
 *
 * Values that a call produces come back in small structs returned by value, so that no Go
 * pointer crosses for them. Go memory reaches C only in the synchronous copies (borrowed for the
 * call) and in the property/stats/config structs (filled or read during the call).
 */
#ifndef CUDAGO_GO_SHIM_H
#define CUDAGO_GO_SHIM_H

#include <cudago.h>
#include <stddef.h>
#include <stdint.h>

typedef cudago_error_info_t cg_err_t;

/* Releases an error detail returned by a shim (NULL and the static fallbacks are no-ops). */
void cg_err_free(cg_err_t *err);

/* The detail of a failed call, copied from the calling thread in the same C call: NULL on
 * success, never NULL on failure (a static per-status record when calloc fails). Every shim,
 * the areas' too, ends its call with it. */
cg_err_t *cg_err(cudago_status_t st);

/* The status beside its detail, for shims that return nothing else. */
typedef struct {
  int32_t status; /* cudago_status_t */
  cg_err_t *err;  /* NULL exactly when status is CUDAGO_SUCCESS */
} cg_result;
cg_result cg_done(cudago_status_t st);

typedef struct {
  cg_err_t *err;
  int32_t value;
} cg_int_result;
typedef struct {
  cg_err_t *err;
  float value;
} cg_float_result;
typedef struct {
  cg_err_t *err;
  uint64_t free_bytes, total_bytes;
} cg_meminfo_result;
typedef struct {
  cg_err_t *err;
  cudago_stream_t handle;
} cg_stream_result;
typedef struct {
  cg_err_t *err;
  cudago_event_t handle;
} cg_event_result;
typedef struct {
  cg_err_t *err;
  cudago_buffer_t handle;
} cg_buffer_result;
typedef struct {
  cg_err_t *err;
  cudago_host_buffer_t handle;
  void *host;
} cg_host_result;

/* Versions and devices. */
cg_int_result cg_driver_version(void);
cg_int_result cg_runtime_version(void);
cg_int_result cg_device_count(void);
cg_err_t *cg_device_properties(int32_t device, cudago_device_properties_t *out);
cg_meminfo_result cg_device_memory_info(int32_t device);

/* Streams and events. */
cg_stream_result cg_stream_create(int32_t device, uint32_t flags, int32_t priority);
cg_err_t *cg_stream_destroy(cudago_stream_t s);
cg_err_t *cg_stream_synchronize(cudago_stream_t s);
cg_int_result cg_stream_query(cudago_stream_t s);
cg_err_t *cg_stream_wait_event(cudago_stream_t s, cudago_event_t e);
cg_int_result cg_stream_priority(cudago_stream_t s);

cg_event_result cg_event_create(int32_t device, uint32_t flags);
cg_err_t *cg_event_destroy(cudago_event_t e);
cg_err_t *cg_event_record(cudago_event_t e, cudago_stream_t s);
cg_err_t *cg_event_synchronize(cudago_event_t e);
cg_int_result cg_event_query(cudago_event_t e);
cg_float_result cg_event_elapsed_ms(cudago_event_t start, cudago_event_t end);

/* Pools. */
cg_err_t *cg_pool_configure(int32_t device, const cudago_pool_config_t *config);
cg_err_t *cg_pool_stats(int32_t device, cudago_pool_stats_t *out);
cg_err_t *cg_pool_trim(int32_t device, uint64_t keep_bytes);
cg_err_t *cg_pool_reset_high_water(int32_t device);

/* Buffers. */
cg_buffer_result cg_buffer_alloc(int32_t device, uint64_t bytes);
cg_buffer_result cg_buffer_alloc_async(cudago_stream_t s, uint64_t bytes);
cg_err_t *cg_buffer_free(cudago_buffer_t b);
cg_buffer_result cg_buffer_from_mapped(cudago_host_buffer_t h);
/* Allocates a host buffer and reads its host address in the same call. */
cg_host_result cg_host_buffer_alloc(int32_t device, uint64_t bytes, uint32_t flags);
cg_err_t *cg_host_buffer_free(cudago_host_buffer_t h);

/* Copies and memset: source before destination, byte offsets, as in cudago.h. */
cg_err_t *cg_copy_h2d(const void *src, cudago_buffer_t dst, uint64_t dst_offset, uint64_t bytes);
cg_err_t *cg_copy_d2h(cudago_buffer_t src, uint64_t src_offset, void *dst, uint64_t bytes);
cg_err_t *cg_copy_d2d(cudago_buffer_t src, uint64_t src_offset, cudago_buffer_t dst,
                      uint64_t dst_offset, uint64_t bytes);
cg_err_t *cg_memset(uint8_t value, cudago_buffer_t dst, uint64_t dst_offset, uint64_t bytes);
cg_err_t *cg_copy_h2d_async(cudago_stream_t s, cudago_host_buffer_t src, uint64_t src_offset,
                            cudago_buffer_t dst, uint64_t dst_offset, uint64_t bytes);
cg_err_t *cg_copy_d2h_async(cudago_stream_t s, cudago_buffer_t src, uint64_t src_offset,
                            cudago_host_buffer_t dst, uint64_t dst_offset, uint64_t bytes);
cg_err_t *cg_copy_d2d_async(cudago_stream_t s, cudago_buffer_t src, uint64_t src_offset,
                            cudago_buffer_t dst, uint64_t dst_offset, uint64_t bytes);
cg_err_t *cg_memset_async(cudago_stream_t s, uint8_t value, cudago_buffer_t dst,
                          uint64_t dst_offset, uint64_t bytes);

/* Kernels. */

/* ---- For the package's tests (no GPU needed). ---- */

/* Fills every field of *p with a distinct value, to test the Go conversion. */
void cg_test_fill_properties(cudago_device_properties_t *p);
void cg_test_fill_pool_stats(cudago_pool_stats_t *p);
/* Builds an error detail the way a failed shim does; with_detail = 0 leaves only the status. */
cg_err_t *cg_test_error(int32_t status, int32_t with_detail);

#endif /* CUDAGO_GO_SHIM_H */
