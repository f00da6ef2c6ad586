/* shim_graph.h: the cgo shims of CUDA Graphs (see shim.h for the error convention). */
#ifndef CUDAGO_GO_SHIM_GRAPH_H
#define CUDAGO_GO_SHIM_GRAPH_H

#include "shim.h"

typedef struct {
  cg_err_t *err;
  cudago_graph_t handle;
} cg_graph_result;

typedef struct {
  cg_err_t *err;
  uint64_t value;
} cg_u64_result;

cg_err_t *cg_stream_begin_capture(cudago_stream_t s, cudago_capture_mode_t mode);
/* Ends the capture (always) and instantiates it. */
cg_graph_result cg_stream_end_capture(cudago_stream_t s);
cg_int_result cg_stream_is_capturing(cudago_stream_t s);
cg_err_t *cg_graph_launch(cudago_graph_t g, cudago_stream_t s);
cg_err_t *cg_graph_upload(cudago_graph_t g, cudago_stream_t s);
cg_err_t *cg_graph_update(cudago_graph_t g, cudago_stream_t s);
cg_u64_result cg_graph_node_count(cudago_graph_t g);
cg_err_t *cg_graph_destroy(cudago_graph_t g);

#endif
