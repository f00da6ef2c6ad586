/*
 * shim_nccl.h: cgo shims for the NCCL communicators and collectives. Same contract as shim.h:
 * one cudago call each (a communicator's creation also reads its rank and size in the same C
 * call), and the detail of a failure is copied in the same C call into the result.
 */
#ifndef CUDAGO_GO_SHIM_NCCL_H
#define CUDAGO_GO_SHIM_NCCL_H

#include "shim.h"

typedef struct {
  cg_err_t *err;
  cudago_comm_t handle;
  int32_t device, rank, size;
} cg_comm_result;

typedef struct {
  cg_err_t *err;
  cudago_nccl_unique_id_t id;
} cg_nccl_id_result;

cg_int_result cg_nccl_version(void);
cg_nccl_id_result cg_comm_unique_id(void);
/* comms has count slots (C handles written into Go memory: no Go pointer is stored). */
cg_result cg_comm_init_all(cudago_comm_t *comms, uint64_t count, const int32_t *devices);
cg_comm_result cg_comm_info(cudago_comm_t comm);
cg_comm_result cg_comm_init_rank(int32_t device, int32_t nranks, cudago_nccl_unique_id_t id,
                                 int32_t rank, const cudago_wait_options_t *wait);
cg_err_t *cg_comm_wait(cudago_comm_t c, cudago_stream_t s, const cudago_wait_options_t *wait);

/* Wait options with their own cancel flag, in C memory (Go sets the flag from a goroutine that
 * watches a context while the C call polls it). */
typedef struct {
  cudago_wait_options_t options;
  volatile int32_t cancel;
} cg_wait_t;
cg_wait_t *cg_wait_new(uint64_t timeout_ns); /* NULL when out of memory */
void cg_wait_cancel(cg_wait_t *w);
void cg_wait_free(cg_wait_t *w);
cg_result cg_comm_destroy(cudago_comm_t comm);

/* The collectives on whole buffers (offsets 0); count in elements, dtype a cudago_dtype_t, op a
 * cudago_nccl_op_t. */
cg_result cg_comm_all_reduce(cudago_comm_t c, cudago_stream_t s, cudago_buffer_t send,
                             cudago_buffer_t recv, uint64_t count, int32_t dtype, int32_t op);
cg_result cg_comm_broadcast(cudago_comm_t c, cudago_stream_t s, cudago_buffer_t send,
                            cudago_buffer_t recv, uint64_t count, int32_t dtype, int32_t root);
cg_result cg_comm_reduce(cudago_comm_t c, cudago_stream_t s, cudago_buffer_t send,
                         cudago_buffer_t recv, uint64_t count, int32_t dtype, int32_t op,
                         int32_t root);
cg_result cg_comm_all_gather(cudago_comm_t c, cudago_stream_t s, cudago_buffer_t send,
                             cudago_buffer_t recv, uint64_t count, int32_t dtype);
cg_result cg_comm_reduce_scatter(cudago_comm_t c, cudago_stream_t s, cudago_buffer_t send,
                                 cudago_buffer_t recv, uint64_t count, int32_t dtype, int32_t op);
cg_result cg_comm_group_start(void);
cg_result cg_comm_group_end(void);

#endif /* CUDAGO_GO_SHIM_NCCL_H */
