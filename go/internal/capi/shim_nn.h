/*
 * shim_nn.h: cgo shims for the CNN inference runtime (cudago_nn_*, experimental). Same contract
 * as shim.h: one cudago call per logical operation, and the detail of a failure is copied in the
 * same C call (so on the same OS thread).
 *
 * The runtime is declared by cudago.h only under CUDAGO_EXPERIMENTAL. The package defines it for
 * every one of its C files and preambles (`#cgo CFLAGS: -DCUDAGO_EXPERIMENTAL` in nn.go), so that
 * whichever file includes cudago.h first, the include guard keeps the full header. A build where
 * cudago.h was seen without it stops here instead of failing on missing declarations.
 *
 * Memory: options reach the shims by value, their strings in C memory. The data pointers of a
 * host run are Go memory pinned by the caller (runtime.Pinner) for the call; the pointer and size
 * arrays are Go memory holding only pinned pointers and numbers. Nothing is kept after a call.
 */
#ifndef CUDAGO_GO_SHIM_NN_H
#define CUDAGO_GO_SHIM_NN_H

#ifndef CUDAGO_EXPERIMENTAL
#define CUDAGO_EXPERIMENTAL 1
#endif

#include "shim.h"

#ifndef CUDAGO_NN_MAX_RANK
#error "cudago.h was included without CUDAGO_EXPERIMENTAL (nn.go's #cgo CFLAGS defines it)"
#endif

/* A loaded model with its whole description, read in the same C call as the load: the model
 * info and num_inputs + num_outputs tensor descriptions (inputs first) in a calloc'd array that
 * Go releases with free(). The names in it are borrowed from the model. On failure handle and
 * tensors are NULL and nothing needs releasing but err. */
typedef struct {
  cg_err_t *err;
  cudago_nn_model_t handle;
  cudago_nn_model_info_t info;
  cudago_nn_tensor_info_t *tensors;
} cg_nn_model_result;

cg_nn_model_result cg_nn_model_load(const char *path, cudago_nn_options_t opts);
cg_nn_model_result cg_nn_model_load_bytes(const void *data, uint64_t size,
                                          cudago_nn_options_t opts);
cg_err_t *cg_nn_model_destroy(cudago_nn_model_t m);
cg_err_t *cg_nn_model_run_host(cudago_nn_model_t m, const void *const *inputs,
                               const uint64_t *input_bytes, uint64_t num_inputs,
                               void *const *outputs, const uint64_t *output_bytes,
                               uint64_t num_outputs, uint64_t batch);
cg_err_t *cg_nn_model_run(cudago_nn_model_t m, cudago_stream_t s, const cudago_buffer_t *inputs,
                          const uint64_t *input_offsets, uint64_t num_inputs,
                          const cudago_buffer_t *outputs, const uint64_t *output_offsets,
                          uint64_t num_outputs, uint64_t batch);
cg_err_t *cg_nn_model_prepare(cudago_nn_model_t m, cudago_stream_t s, const uint64_t *sizes,
                              uint64_t count);
/* The model's info as it is now (the graph counters change as runs capture). */
cg_err_t *cg_nn_model_info(cudago_nn_model_t m, cudago_nn_model_info_t *out);

#endif /* CUDAGO_GO_SHIM_NN_H */
