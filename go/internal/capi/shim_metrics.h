/*
 * shim_metrics.h: cgo shims for the GPU metrics' settings (cudago_metrics_*, experimental). Same
 * contract as shim.h: one cudago call per logical operation, the detail of a failure copied in
 * the same C call.
 */
#ifndef CUDAGO_GO_SHIM_METRICS_H
#define CUDAGO_GO_SHIM_METRICS_H

#include "shim_nn.h"

cg_err_t *cg_metrics_set_gpu_interval(uint64_t interval_ns);

typedef struct {
  cg_err_t *err;
  int32_t available;
  char *reason; /* malloc'd, NUL-terminated (Go frees it); NULL when out of memory */
} cg_gpu_status_result;

/* NVML's availability and the reason, in one C call (count, then fill a buffer of that size). */
cg_gpu_status_result cg_metrics_gpu_status(void);

#endif
