/* shim_serve.c: see shim_serve.h. */
#include "shim_serve.h"

#include <stdlib.h>

cg_server_result cg_server_create(cudago_nn_model_t model, cudago_server_options_t opts) {
  cg_server_result r = {0};
  r.err = cg_err(cudago_server_create(&r.handle, model, &opts));
  return r;
}

cg_err_t *cg_server_destroy(cudago_server_t s) { return cg_err(cudago_server_destroy(s)); }

cg_err_t *cg_server_shutdown(cudago_server_t s, uint32_t flags) {
  return cg_err(cudago_server_shutdown(s, flags));
}

cg_err_t *cg_server_submit(cudago_server_t s, const cudago_serve_tensor_t *inputs,
                           uint64_t num_inputs, const cudago_serve_tensor_t *outputs,
                           uint64_t num_outputs, uint64_t tag, uint64_t priority,
                           uint64_t timeout_ns, uint64_t *id) {
  cudago_serve_request_options_t o;
  cudago_serve_request_options_init(&o);
  o.tag = tag;
  o.priority = priority;
  o.timeout_ns = timeout_ns;
  return cg_err(cudago_server_submit(s, inputs, num_inputs, outputs, num_outputs, &o, id));
}

cg_err_t *cg_server_cancel(cudago_server_t s, uint64_t id, int32_t *cancelled) {
  return cg_err(cudago_server_cancel(s, id, cancelled));
}

cg_err_t *cg_server_poll(cudago_server_t s, const uint64_t *release, uint64_t num_release,
                         uint64_t timeout_ns, cudago_serve_result_t *results, uint64_t cap,
                         uint64_t *len) {
  return cg_err(cudago_server_poll(s, release, num_release, timeout_ns, results, cap, len));
}

cg_err_t *cg_server_stats(cudago_server_t s, cudago_server_stats_t *out, uint64_t *hist,
                          uint64_t cap, uint64_t *len) {
  cudago_status_t st;
  cudago_server_stats_init(out);
  st = cudago_server_stats(s, out);
  if (st == CUDAGO_SUCCESS) st = cudago_server_batch_histogram(s, hist, cap, len);
  return cg_err(st);
}

cudago_serve_result_t *cg_serve_results_new(uint64_t n) {
  uint64_t i;
  cudago_serve_result_t *r = (cudago_serve_result_t *)calloc((size_t)n, sizeof *r);
  if (r == NULL) return NULL;
  for (i = 0; i < n; i++) cudago_serve_result_init(&r[i]);
  return r;
}

cg_err_t *cg_metrics_render(uint32_t flags, char **out, uint64_t *len) {
  uint64_t cap = 1 << 16;
  int tries;
  *out = NULL;
  for (tries = 0; tries < 8; tries++) {
    cudago_status_t st;
    char *buf = (char *)malloc((size_t)cap);
    if (buf == NULL) return NULL; /* *out NULL, no error: Go makes it (out of memory) */
    st = cudago_metrics_render(flags, buf, cap, len);
    if (st != CUDAGO_SUCCESS) {
      free(buf);
      return cg_err(st);
    }
    if (*len < cap) {
      *out = buf;
      return NULL;
    }
    free(buf);
    cap = *len + *len / 4 + 4096; /* it may have grown since: some room */
  }
  return NULL; /* *out NULL: it kept growing faster than the buffer */
}
