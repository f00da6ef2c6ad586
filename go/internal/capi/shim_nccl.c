/* shim_nccl.c: see shim_nccl.h. Compiled by cgo with the package's pkg-config flags. */
#include "shim_nccl.h"

#include <stdlib.h>
#include <string.h>

cg_int_result cg_nccl_version(void) {
  cg_int_result r;
  r.value = 0;
  r.err = cg_err(cudago_nccl_version(&r.value));
  return r;
}

cg_nccl_id_result cg_comm_unique_id(void) {
  cg_nccl_id_result r;
  memset(&r.id, 0, sizeof r.id);
  r.err = cg_err(cudago_comm_unique_id(&r.id));
  return r;
}

cg_result cg_comm_init_all(cudago_comm_t *comms, uint64_t count, const int32_t *devices) {
  return cg_done(cudago_comm_init_all(comms, count, devices));
}

cg_comm_result cg_comm_info(cudago_comm_t comm) {
  cg_comm_result r;
  cudago_status_t st;
  memset(&r, 0, sizeof r);
  r.handle = comm;
  st = cudago_comm_device(comm, &r.device);
  if (st == CUDAGO_SUCCESS) st = cudago_comm_rank(comm, &r.rank);
  if (st == CUDAGO_SUCCESS) st = cudago_comm_size(comm, &r.size);
  r.err = cg_err(st);
  return r;
}

cg_comm_result cg_comm_init_rank(int32_t device, int32_t nranks, cudago_nccl_unique_id_t id,
                                 int32_t rank, const cudago_wait_options_t *wait) {
  cg_comm_result r;
  cudago_comm_t c = NULL;
  cudago_status_t st = cudago_comm_init_rank(&c, device, nranks, &id, rank, wait);
  if (st != CUDAGO_SUCCESS) {
    memset(&r, 0, sizeof r);
    r.err = cg_err(st);
    return r;
  }
  r = cg_comm_info(c);
  if (r.err != NULL) {
    cudago_comm_destroy(c);
    r.handle = NULL;
  }
  return r;
}

cg_result cg_comm_destroy(cudago_comm_t comm) { return cg_done(cudago_comm_destroy(comm)); }

cg_result cg_comm_all_reduce(cudago_comm_t c, cudago_stream_t s, cudago_buffer_t send,
                             cudago_buffer_t recv, uint64_t count, int32_t dtype, int32_t op) {
  return cg_done(cudago_comm_all_reduce(c, s, send, 0, recv, 0, count, (cudago_dtype_t)dtype,
                                        (cudago_nccl_op_t)op));
}

cg_result cg_comm_broadcast(cudago_comm_t c, cudago_stream_t s, cudago_buffer_t send,
                            cudago_buffer_t recv, uint64_t count, int32_t dtype, int32_t root) {
  return cg_done(cudago_comm_broadcast(c, s, send, 0, recv, 0, count, (cudago_dtype_t)dtype, root));
}

cg_result cg_comm_reduce(cudago_comm_t c, cudago_stream_t s, cudago_buffer_t send,
                         cudago_buffer_t recv, uint64_t count, int32_t dtype, int32_t op,
                         int32_t root) {
  return cg_done(cudago_comm_reduce(c, s, send, 0, recv, 0, count, (cudago_dtype_t)dtype,
                                    (cudago_nccl_op_t)op, root));
}

cg_result cg_comm_all_gather(cudago_comm_t c, cudago_stream_t s, cudago_buffer_t send,
                             cudago_buffer_t recv, uint64_t count, int32_t dtype) {
  return cg_done(cudago_comm_all_gather(c, s, send, 0, recv, 0, count, (cudago_dtype_t)dtype));
}

cg_result cg_comm_reduce_scatter(cudago_comm_t c, cudago_stream_t s, cudago_buffer_t send,
                                 cudago_buffer_t recv, uint64_t count, int32_t dtype, int32_t op) {
  return cg_done(cudago_comm_reduce_scatter(c, s, send, 0, recv, 0, count, (cudago_dtype_t)dtype,
                                            (cudago_nccl_op_t)op));
}

cg_result cg_comm_group_start(void) { return cg_done(cudago_comm_group_start()); }
cg_result cg_comm_group_end(void) { return cg_done(cudago_comm_group_end()); }

cg_err_t *cg_comm_wait(cudago_comm_t c, cudago_stream_t s, const cudago_wait_options_t *wait) {
  return cg_err(cudago_comm_wait(c, s, wait));
}

cg_wait_t *cg_wait_new(uint64_t timeout_ns) {
  cg_wait_t *w = (cg_wait_t *)calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  cudago_wait_options_init(&w->options);
  w->options.timeout_ns = timeout_ns;
  w->options.cancel = &w->cancel;
  return w;
}

void cg_wait_cancel(cg_wait_t *w) { __atomic_store_n(&w->cancel, 1, __ATOMIC_RELEASE); }

void cg_wait_free(cg_wait_t *w) { free(w); }
