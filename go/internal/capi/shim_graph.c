/* shim_graph.c: see shim_graph.h. Compiled by cgo with the package's pkg-config flags. */
#include "shim_graph.h"

cg_err_t *cg_stream_begin_capture(cudago_stream_t s, cudago_capture_mode_t mode) {
  return cg_err(cudago_stream_begin_capture(s, mode));
}

cg_graph_result cg_stream_end_capture(cudago_stream_t s) {
  cg_graph_result r = {NULL, NULL};
  r.err = cg_err(cudago_stream_end_capture(s, &r.handle));
  return r;
}

cg_int_result cg_stream_is_capturing(cudago_stream_t s) {
  cg_int_result r = {NULL, 0};
  r.err = cg_err(cudago_stream_is_capturing(s, &r.value));
  return r;
}

cg_err_t *cg_graph_launch(cudago_graph_t g, cudago_stream_t s) {
  return cg_err(cudago_graph_launch(g, s));
}

cg_err_t *cg_graph_upload(cudago_graph_t g, cudago_stream_t s) {
  return cg_err(cudago_graph_upload(g, s));
}

cg_err_t *cg_graph_update(cudago_graph_t g, cudago_stream_t s) {
  return cg_err(cudago_graph_update(g, s));
}

cg_u64_result cg_graph_node_count(cudago_graph_t g) {
  cg_u64_result r = {NULL, 0};
  r.err = cg_err(cudago_graph_node_count(g, &r.value));
  return r;
}

cg_err_t *cg_graph_destroy(cudago_graph_t g) { return cg_err(cudago_graph_destroy(g)); }
