/* shim_nn.c: see shim_nn.h. Compiled by cgo with the package's pkg-config flags. */
#include "shim_nn.h"

#include <stdlib.h>

/* Describes the freshly loaded model r->handle into r->info and r->tensors. When a describe
 * call fails, the model is destroyed and r carries that call's error. When the array cannot be
 * allocated, r keeps the model and NULL tensors with no error: that failure has no detail of its
 * own in the library's record, so Go makes the error (and destroys the model). */
static void cg_nn_describe(cg_nn_model_result *r) {
  cudago_status_t st;
  uint64_t i, n;
  cudago_nn_model_info_init(&r->info);
  st = cudago_nn_model_info(r->handle, &r->info);
  if (st == CUDAGO_SUCCESS) {
    n = r->info.num_inputs + r->info.num_outputs;
    /* One spare element, so that a model without inputs and outputs still gets a non-NULL
     * array (Go tells a failed allocation by NULL). */
    r->tensors = (cudago_nn_tensor_info_t *)calloc((size_t)n + 1, sizeof *r->tensors);
    if (r->tensors == NULL) return;
    for (i = 0; st == CUDAGO_SUCCESS && i < n; i++) {
      cudago_nn_tensor_info_init(&r->tensors[i]);
      st = i < r->info.num_inputs
               ? cudago_nn_model_input(r->handle, i, &r->tensors[i])
               : cudago_nn_model_output(r->handle, i - r->info.num_inputs, &r->tensors[i]);
    }
  }
  if (st != CUDAGO_SUCCESS) {
    r->err = cg_err(st); /* before destroy, which resets the thread's error record */
    free(r->tensors);
    r->tensors = NULL;
    cudago_nn_model_destroy(r->handle);
    r->handle = NULL;
  }
}

cg_nn_model_result cg_nn_model_load(const char *path, cudago_nn_options_t opts) {
  cg_nn_model_result r = {0};
  r.err = cg_err(cudago_nn_model_load(&r.handle, path, &opts));
  if (r.err == NULL) cg_nn_describe(&r);
  return r;
}

cg_nn_model_result cg_nn_model_load_bytes(const void *data, uint64_t size,
                                          cudago_nn_options_t opts) {
  cg_nn_model_result r = {0};
  r.err = cg_err(cudago_nn_model_load_bytes(&r.handle, data, size, &opts));
  if (r.err == NULL) cg_nn_describe(&r);
  return r;
}

cg_err_t *cg_nn_model_destroy(cudago_nn_model_t m) { return cg_err(cudago_nn_model_destroy(m)); }

cg_err_t *cg_nn_model_run_host(cudago_nn_model_t m, const void *const *inputs,
                               const uint64_t *input_bytes, uint64_t num_inputs,
                               void *const *outputs, const uint64_t *output_bytes,
                               uint64_t num_outputs, uint64_t batch) {
  return cg_err(cudago_nn_model_run_host(m, inputs, input_bytes, num_inputs, outputs, output_bytes,
                                         num_outputs, batch));
}

cg_err_t *cg_nn_model_run(cudago_nn_model_t m, cudago_stream_t s, const cudago_buffer_t *inputs,
                          const uint64_t *input_offsets, uint64_t num_inputs,
                          const cudago_buffer_t *outputs, const uint64_t *output_offsets,
                          uint64_t num_outputs, uint64_t batch) {
  return cg_err(cudago_nn_model_run(m, s, inputs, input_offsets, num_inputs, outputs,
                                    output_offsets, num_outputs, batch));
}

cg_err_t *cg_nn_model_prepare(cudago_nn_model_t m, cudago_stream_t s, const uint64_t *sizes,
                              uint64_t count) {
  return cg_err(cudago_nn_model_prepare(m, s, sizes, count));
}

cg_err_t *cg_nn_model_info(cudago_nn_model_t m, cudago_nn_model_info_t *out) {
  cudago_nn_model_info_init(out);
  return cg_err(cudago_nn_model_info(m, out));
}
