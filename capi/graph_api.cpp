// CUDA Graphs: stream capture, instantiation, launch and update.
#include "cudago.h"
#include "cudago/graph.hpp"
#include "guard.hpp"

struct cudago_graph_s {
  std::unique_ptr<cudago::Graph> impl;
};

using cudago::capi::guard;
using cudago::capi::handle;
using cudago::capi::out_param;
using cudago::capi::publish;

static_assert(CUDAGO_CAPTURE_RELAXED == static_cast<int>(cudago::CaptureMode::kRelaxed) &&
                  CUDAGO_CAPTURE_GLOBAL == static_cast<int>(cudago::CaptureMode::kGlobal),
              "capture modes must agree");

extern "C" {

cudago_status_t cudago_stream_begin_capture(cudago_stream_t stream, cudago_capture_mode_t mode) {
  return guard("cudago_stream_begin_capture", [&] {
    const auto& s = handle(stream, "stream").impl;
    if (mode < CUDAGO_CAPTURE_THREAD_LOCAL || mode > CUDAGO_CAPTURE_RELAXED) {
      throw cudago::Error(cudago::Status::kInvalidArgument,
                          "mode = " + std::to_string(static_cast<int32_t>(mode)) +
                              " is not a cudago_capture_mode_t (CUDAGO_CAPTURE_THREAD_LOCAL, "
                              "_GLOBAL or _RELAXED)");
    }
    cudago::Graph::begin_capture(s, static_cast<cudago::CaptureMode>(mode));
  });
}

cudago_status_t cudago_stream_end_capture(cudago_stream_t stream, cudago_graph_t* out) {
  if (out != nullptr) *out = nullptr;
  return guard("cudago_stream_end_capture", [&] {
    const auto& s = handle(stream, "stream").impl;
    // A NULL out still ends the capture (and drops the graph), so the stream never stays stuck.
    auto g = cudago::Graph::end_capture(s);
    out_param(out, "out");
    publish(out, std::move(g));
  });
}

cudago_status_t cudago_stream_is_capturing(cudago_stream_t stream, int32_t* capturing) {
  return guard("cudago_stream_is_capturing", [&] {
    out_param(capturing, "capturing");
    *capturing = handle(stream, "stream").impl->capture() != nullptr ? 1 : 0;
  });
}

cudago_status_t cudago_graph_launch(cudago_graph_t graph, cudago_stream_t stream) {
  return guard("cudago_graph_launch",
               [&] { handle(graph, "graph").impl->launch(handle(stream, "stream").impl); });
}

cudago_status_t cudago_graph_upload(cudago_graph_t graph, cudago_stream_t stream) {
  return guard("cudago_graph_upload",
               [&] { handle(graph, "graph").impl->upload(handle(stream, "stream").impl); });
}

cudago_status_t cudago_graph_update(cudago_graph_t graph, cudago_stream_t stream) {
  return guard("cudago_graph_update", [&] {
    const auto& s = handle(stream, "stream").impl;
    if (graph == nullptr || !graph->impl) {
      // End the capture anyway: the caller is done with it.
      try {
        (void)cudago::Graph::end_capture(s);
      } catch (...) {
      }
      handle(graph, "graph");
    }
    graph->impl->update(s);
  });
}

cudago_status_t cudago_graph_node_count(cudago_graph_t graph, uint64_t* count) {
  return guard("cudago_graph_node_count",
               [&] { *out_param(count, "count") = handle(graph, "graph").impl->node_count(); });
}

cudago_status_t cudago_graph_device(cudago_graph_t graph, int32_t* device) {
  return guard("cudago_graph_device",
               [&] { *out_param(device, "device") = handle(graph, "graph").impl->device(); });
}

cudago_status_t cudago_graph_destroy(cudago_graph_t graph) {
  return guard("cudago_graph_destroy", [&] { delete graph; });
}

}  // extern "C"
