// Streams and events.
#include "cudago.h"
#include "cudago/event.hpp"
#include "cudago/graph.hpp"
#include "cudago/stream.hpp"
#include "guard.hpp"

using cudago::capi::guard;
using cudago::capi::handle;
using cudago::capi::out_param;
using cudago::capi::publish;

extern "C" {

cudago_status_t cudago_stream_create(cudago_stream_t* out, int32_t device, uint32_t flags,
                                     int32_t priority) {
  return guard("cudago_stream_create", [&] {
    out_param(out, "out");
    publish(out, cudago::Stream::create(device, flags, priority));
  });
}

cudago_status_t cudago_stream_destroy(cudago_stream_t stream) {
  return guard("cudago_stream_destroy", [&] {
    if (stream != nullptr) cudago::Graph::abandon_capture(stream->impl);
    delete stream;
  });
}

cudago_status_t cudago_stream_synchronize(cudago_stream_t stream) {
  return guard("cudago_stream_synchronize", [&] { handle(stream, "stream").impl->synchronize(); });
}

cudago_status_t cudago_stream_query(cudago_stream_t stream, int32_t* done) {
  return guard("cudago_stream_query", [&] {
    out_param(done, "done");
    *done = handle(stream, "stream").impl->query() ? 1 : 0;
  });
}

cudago_status_t cudago_stream_wait_event(cudago_stream_t stream, cudago_event_t event) {
  return guard("cudago_stream_wait_event",
               [&] { handle(stream, "stream").impl->wait(*handle(event, "event").impl); });
}

cudago_status_t cudago_stream_device(cudago_stream_t stream, int32_t* device) {
  return guard("cudago_stream_device",
               [&] { *out_param(device, "device") = handle(stream, "stream").impl->device(); });
}

cudago_status_t cudago_stream_priority(cudago_stream_t stream, int32_t* priority) {
  return guard("cudago_stream_priority", [&] {
    *out_param(priority, "priority") = handle(stream, "stream").impl->priority();
  });
}

cudago_status_t cudago_stream_native(cudago_stream_t stream, void** out) {
  return guard("cudago_stream_native", [&] {
    *out_param(out, "out") = static_cast<void*>(handle(stream, "stream").impl->get());
  });
}

cudago_status_t cudago_event_create(cudago_event_t* out, int32_t device, uint32_t flags) {
  return guard("cudago_event_create", [&] {
    out_param(out, "out");
    publish(out, std::make_unique<cudago::Event>(device, flags));
  });
}

cudago_status_t cudago_event_destroy(cudago_event_t event) {
  return guard("cudago_event_destroy", [&] { delete event; });
}

cudago_status_t cudago_event_record(cudago_event_t event, cudago_stream_t stream) {
  return guard("cudago_event_record",
               [&] { handle(event, "event").impl->record(*handle(stream, "stream").impl); });
}

cudago_status_t cudago_event_synchronize(cudago_event_t event) {
  return guard("cudago_event_synchronize", [&] { handle(event, "event").impl->synchronize(); });
}

cudago_status_t cudago_event_query(cudago_event_t event, int32_t* done) {
  return guard("cudago_event_query", [&] {
    out_param(done, "done");
    *done = handle(event, "event").impl->query() ? 1 : 0;
  });
}

cudago_status_t cudago_event_elapsed_ms(cudago_event_t start, cudago_event_t end, float* ms) {
  return guard("cudago_event_elapsed_ms", [&] {
    out_param(ms, "ms");
    *ms = cudago::Event::elapsed_ms(*handle(start, "start").impl, *handle(end, "end").impl);
  });
}

}  // extern "C"
