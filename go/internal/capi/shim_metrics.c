/* shim_metrics.c: see shim_metrics.h. */
#include "shim_metrics.h"

#include <stdlib.h>

cg_err_t *cg_metrics_set_gpu_interval(uint64_t interval_ns) {
  return cg_err(cudago_metrics_set_gpu_interval(interval_ns));
}

cg_gpu_status_result cg_metrics_gpu_status(void) {
  cg_gpu_status_result r = {0};
  uint64_t len = 0;
  int tries;
  cudago_status_t st = cudago_metrics_gpu_status(&r.available, NULL, 0, &len);
  if (st != CUDAGO_SUCCESS) {
    r.err = cg_err(st);
    return r;
  }
  /* The reason is fixed once NVML is loaded (which the first call did); retry only in case a
   * reset between the calls changed it. */
  for (tries = 0; tries < 4; tries++) {
    uint64_t cap = len + 1;
    char *buf = (char *)malloc((size_t)cap);
    if (buf == NULL) return r; /* reason NULL: Go reports out of memory */
    st = cudago_metrics_gpu_status(&r.available, buf, cap, &len);
    if (st != CUDAGO_SUCCESS) {
      free(buf);
      r.err = cg_err(st);
      return r;
    }
    if (len < cap) {
      r.reason = buf;
      return r;
    }
    free(buf);
  }
  return r;
}
