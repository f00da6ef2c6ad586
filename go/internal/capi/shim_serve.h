/*
 * shim_serve.h: cgo shims for serving (cudago_server_*, experimental). Same contract as shim.h:
 * one cudago call per logical operation, the detail of a failure copied in the same C call.
 *
 * Memory: the tensor descriptions of a submit are Go memory whose host pointers are pinned by
 * the caller for the call (HOST inputs are copied during it). The result array of a poll is C
 * memory (cg_serve_results_new) that the poller goroutine owns; the release array is Go memory
 * holding numbers only. Nothing Go owns is kept after a call.
 */
#ifndef CUDAGO_GO_SHIM_SERVE_H
#define CUDAGO_GO_SHIM_SERVE_H

#include "shim_nn.h"

typedef struct {
  cg_err_t *err;
  cudago_server_t handle;
} cg_server_result;

cg_server_result cg_server_create(cudago_nn_model_t model, cudago_server_options_t opts);
cg_err_t *cg_server_destroy(cudago_server_t s);
cg_err_t *cg_server_shutdown(cudago_server_t s, uint32_t flags);
/* Submits with request options built here from tag, priority and timeout_ns. */
cg_err_t *cg_server_submit(cudago_server_t s, const cudago_serve_tensor_t *inputs,
                           uint64_t num_inputs, const cudago_serve_tensor_t *outputs,
                           uint64_t num_outputs, uint64_t tag, uint64_t priority,
                           uint64_t timeout_ns, uint64_t *id);
cg_err_t *cg_server_cancel(cudago_server_t s, uint64_t id, int32_t *cancelled);
cg_err_t *cg_server_poll(cudago_server_t s, const uint64_t *release, uint64_t num_release,
                         uint64_t timeout_ns, cudago_serve_result_t *results, uint64_t cap,
                         uint64_t *len);
cg_err_t *cg_server_stats(cudago_server_t s, cudago_server_stats_t *out, uint64_t *hist,
                          uint64_t cap, uint64_t *len);
/* Renders the metrics into a buffer grown as needed (malloc'd, released with free()): *out and
 * *len. A failed render returns its error; *out NULL without one means out of C memory. */
cg_err_t *cg_metrics_render(uint32_t flags, char **out, uint64_t *len);

/* An array of n results, each initialised; NULL when out of memory. Released with free(). */
cudago_serve_result_t *cg_serve_results_new(uint64_t n);

#endif /* CUDAGO_GO_SHIM_SERVE_H */
