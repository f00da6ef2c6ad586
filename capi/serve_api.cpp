// Serving (experimental): the dynamic batcher and request queue over a model.
#define CUDAGO_EXPERIMENTAL 1
#include <cstring>
#include <string>
#include <vector>

#include "cudago.h"
#include "cudago/detail/operand.hpp"
#include "cudago/nn/model.hpp"
#include "cudago/nn/server.hpp"
#include "guard.hpp"
#include "nn_handle.hpp"

struct cudago_server_s {
  std::unique_ptr<cudago::nn::Server> impl;
};

using cudago::Error;
using cudago::Status;
using cudago::capi::checked_struct_size;
using cudago::capi::guard;
using cudago::capi::handle;
using cudago::capi::out_param;
using cudago::capi::read_sized;
using cudago::capi::sized_out;
using cudago::capi::write_sized;
namespace nn = cudago::nn;

namespace {

nn::ServerOptions translate(const cudago_server_options_t* in, nn::Server::Callback* cb) {
  cudago_server_options_t o;
  if (in == nullptr) {
    cudago_server_options_init(&o);
  } else {
    o = read_sized(in, "opts");
  }
  constexpr uint32_t known = CUDAGO_SERVER_PRESERVE_ORDERING | CUDAGO_SERVER_CONCURRENT_COMPUTE |
                             CUDAGO_SERVER_CAPTURE_ALL_SIZES;
  if ((o.flags & ~known) != 0) {
    throw Error(Status::kInvalidArgument,
                "opts->flags has unknown bits " + std::to_string(o.flags & ~known));
  }
  nn::ServerOptions s;
  s.preserve_ordering = (o.flags & CUDAGO_SERVER_PRESERVE_ORDERING) != 0;
  s.concurrent_compute = (o.flags & CUDAGO_SERVER_CONCURRENT_COMPUTE) != 0;
  s.capture_all_sizes = (o.flags & CUDAGO_SERVER_CAPTURE_ALL_SIZES) != 0;
  auto count = [](uint64_t v, const char* name, uint64_t limit) {
    if (v > limit) {
      throw Error(Status::kInvalidArgument, std::string("opts->") + name + " = " +
                                                std::to_string(v) + " is above its limit " +
                                                std::to_string(limit));
    }
    return static_cast<int64_t>(v);
  };
  s.max_batch = count(o.max_batch_size, "max_batch_size", uint64_t{1} << 20);
  s.max_queue_delay_ns =
      count(o.max_queue_delay_ns, "max_queue_delay_ns", uint64_t{3600} * 1000000000);
  s.max_queue_size = count(o.max_queue_size, "max_queue_size", uint64_t{1} << 24);
  s.priority_levels = static_cast<int32_t>(count(o.priority_levels, "priority_levels", 64));
  s.default_priority = static_cast<int32_t>(count(o.default_priority, "default_priority", 64));
  s.default_timeout_ns =
      count(o.default_timeout_ns, "default_timeout_ns", static_cast<uint64_t>(INT64_MAX / 2));
  s.max_staging_bytes =
      count(o.max_staging_bytes, "max_staging_bytes", static_cast<uint64_t>(INT64_MAX / 2));
  s.instances_per_device =
      static_cast<int32_t>(count(o.instances_per_device, "instances_per_device", 64));
  uint64_t np = o.num_preferred_batch_sizes;
  count(np, "num_preferred_batch_sizes", 1024);
  if (np > 0 && o.preferred_batch_sizes == nullptr) {
    throw Error(
        Status::kInvalidArgument,
        "opts->preferred_batch_sizes is NULL with num_preferred_batch_sizes " + std::to_string(np));
  }
  for (uint64_t i = 0; i < np; ++i) {
    s.preferred.push_back(
        count(o.preferred_batch_sizes[i], "preferred_batch_sizes[i]", uint64_t{1} << 20));
  }
  uint64_t nd = o.num_devices;
  count(nd, "num_devices", 1024);
  if (nd > 0 && o.devices == nullptr) {
    throw Error(Status::kInvalidArgument,
                "opts->devices is NULL with num_devices " + std::to_string(nd));
  }
  for (uint64_t i = 0; i < nd; ++i) s.devices.push_back(o.devices[i]);
  if (o.name != nullptr) {
    size_t n = strnlen(o.name, 257);
    if (n > 256) throw Error(Status::kInvalidArgument, "opts->name is longer than 256 bytes");
    s.name.assign(o.name, n);
    for (char c : s.name) {
      if (static_cast<unsigned char>(c) < 0x20) {
        throw Error(Status::kInvalidArgument, "opts->name has a control character");
      }
    }
  }
  if (o.callback != nullptr) {
    cudago_serve_callback_t fn = o.callback;
    void* user = o.callback_user;
    *cb = [fn, user](const nn::ServeResult& r) {
      cudago_serve_result_t c;
      cudago_serve_result_init(&c);
      c.status = static_cast<cudago_status_t>(r.status);
      c.id = r.id;
      c.tag = r.tag;
      c.message = r.message.c_str();
      c.close_reason = static_cast<cudago_serve_close_reason_t>(r.reason);
      c.device = r.device;
      c.instance = r.instance;
      c.items = static_cast<uint64_t>(r.items);
      c.batch_items = static_cast<uint64_t>(r.batch_items);
      c.batch_requests = static_cast<uint64_t>(r.batch_requests);
      c.queue_ns = static_cast<uint64_t>(r.queue_ns);
      c.h2d_ns = static_cast<uint64_t>(r.h2d_ns);
      c.compute_ns = static_cast<uint64_t>(r.compute_ns);
      c.d2h_ns = static_cast<uint64_t>(r.d2h_ns);
      c.total_ns = static_cast<uint64_t>(r.total_ns);
      c.num_outputs = r.outputs.size();
      c.outputs = r.outputs.data();
      c.output_bytes = r.output_bytes.data();
      fn(user, &c);
    };
  }
  return s;
}

void fill(const nn::ServeResult& r, cudago_serve_result_t* c) {
  c->status = static_cast<cudago_status_t>(r.status);
  c->id = r.id;
  c->tag = r.tag;
  c->message = r.message.c_str();
  c->close_reason = static_cast<cudago_serve_close_reason_t>(r.reason);
  c->device = r.device;
  c->instance = r.instance;
  c->reserved_ = 0;
  c->items = static_cast<uint64_t>(r.items);
  c->batch_items = static_cast<uint64_t>(r.batch_items);
  c->batch_requests = static_cast<uint64_t>(r.batch_requests);
  c->queue_ns = static_cast<uint64_t>(r.queue_ns);
  c->h2d_ns = static_cast<uint64_t>(r.h2d_ns);
  c->compute_ns = static_cast<uint64_t>(r.compute_ns);
  c->d2h_ns = static_cast<uint64_t>(r.d2h_ns);
  c->total_ns = static_cast<uint64_t>(r.total_ns);
  c->num_outputs = r.outputs.size();
  c->outputs = r.outputs.data();
  c->output_bytes = r.output_bytes.data();
}

// Reads element i of an array of size-tagged structs: the stride is the first element's
// struct_size, which every element must carry.
template <class T>
T read_element(const T* array, uint64_t i, const char* name) {
  const auto* base = reinterpret_cast<const unsigned char*>(array);
  uint32_t stride = array->struct_size;
  std::string elem = std::string(name) + "[" + std::to_string(i) + "]";
  const T* p = reinterpret_cast<const T*>(base + stride * i);
  if (p->struct_size != stride) {
    throw Error(Status::kInvalidArgument,
                elem + "->struct_size is " + std::to_string(p->struct_size) + "; " + name +
                    "[0]'s is " + std::to_string(stride) + " (every element must have the same)");
  }
  return read_sized(p, elem.c_str());
}

// Fills r from t (r's dims keep their memory: the submit's per-thread scratch).
void tensor(const cudago_serve_tensor_t& t, bool input, uint64_t i, const nn::ServeBackend& backend,
            nn::RequestTensor& r) {
  std::string name = std::string(input ? "inputs[" : "outputs[") + std::to_string(i) + "]";
  std::vector<int64_t> dims = std::move(r.dims);  // a fresh tensor that keeps their memory
  r = nn::RequestTensor();
  r.dims = std::move(dims);
  r.dims.clear();
  if (input) {
    if (t.dtype == CUDAGO_DTYPE_F32) {
      r.type = nn::ElemType::kF32;
    } else if (t.dtype == CUDAGO_DTYPE_U8) {
      r.type = nn::ElemType::kU8;
    } else {
      throw Error(Status::kInvalidArgument,
                  name + ".dtype = " + std::to_string(static_cast<int32_t>(t.dtype)) +
                      " is not one a model takes (CUDAGO_DTYPE_F32, or CUDAGO_DTYPE_U8)");
    }
    if (t.rank > CUDAGO_NN_MAX_RANK) {
      throw Error(Status::kInvalidArgument, name + ".rank = " + std::to_string(t.rank) +
                                                " is above " + std::to_string(CUDAGO_NN_MAX_RANK));
    }
    for (uint64_t d = 0; d < t.rank; ++d) {
      r.dims.push_back(static_cast<int64_t>(std::min<uint64_t>(t.dims[d], uint64_t{1} << 62)));
    }
  }
  r.bytes = t.bytes;
  switch (t.memory) {
    case CUDAGO_SERVE_MEMORY_HOST:
      r.kind = nn::MemoryKind::kHost;
      r.data = t.host;
      if (!input && t.host != nullptr) {
        throw Error(Status::kInvalidArgument,
                    name +
                        ": a HOST output is written to staging and given in the result; its "
                        "host pointer must be NULL");
      }
      if (input && t.host == nullptr) {
        throw Error(Status::kInvalidArgument, name + ".host is NULL");
      }
      break;
    case CUDAGO_SERVE_MEMORY_PINNED: {
      r.kind = nn::MemoryKind::kPinned;
      const cudago::HostBufferPtr& hb = handle(t.pinned, (name + ".pinned").c_str()).impl;
      if (t.offset > hb->size() || t.bytes > hb->size() - t.offset) {
        throw Error(Status::kOutOfRange, name + ": bytes [" + std::to_string(t.offset) + ", " +
                                             std::to_string(t.offset) + "+" +
                                             std::to_string(t.bytes) + ") of a host buffer of " +
                                             std::to_string(hb->size()));
      }
      r.data = static_cast<const char*>(hb->host()) + t.offset;
      r.keep = hb;
      break;
    }
    case CUDAGO_SERVE_MEMORY_DEVICE: {
      r.kind = nn::MemoryKind::kDevice;
      if (!backend.gpu()) {
        throw Error(Status::kNotSupported,
                    name + " is in device memory; the model runs on the CPU reference executor");
      }
      const cudago::DeviceBuffer& b = *handle(t.device, (name + ".device").c_str()).impl;
      r.data = cudago::detail::operand_pointer(b, t.offset, t.bytes, 1, "cudago_server_submit",
                                               name.c_str());
      break;
    }
    default:
      throw Error(Status::kInvalidArgument,
                  name + ".memory = " + std::to_string(static_cast<int32_t>(t.memory)) +
                      " is not a cudago_serve_memory_t");
  }
}

}  // namespace

extern "C" cudago_status_t cudago_server_create(cudago_server_t* out, cudago_nn_model_t model,
                                                const cudago_server_options_t* opts) {
  return guard("cudago_server_create", [&] {
    out_param(out, "out");
    std::shared_ptr<nn::Model> m = handle(model, "model").impl;
    nn::Server::Callback cb;
    nn::ServerOptions o = translate(opts, &cb);
    auto server = nn::Server::create(nn::model_backend(m), o, std::move(cb));
    *out = new cudago_server_s{std::move(server)};
  });
}

extern "C" cudago_status_t cudago_server_destroy(cudago_server_t server) {
  return guard("cudago_server_destroy", [&] {
    if (server == nullptr) return;
    // The shutdown first: from a result callback it is refused (CUDAGO_ERROR_NOT_SUPPORTED) and
    // the server stays; the destructor would wait for that callback, on its own thread.
    if (server->impl) server->impl->shutdown(false);
    delete server;
  });
}

extern "C" cudago_status_t cudago_server_submit(
    cudago_server_t server, const cudago_serve_tensor_t* inputs, uint64_t num_inputs,
    const cudago_serve_tensor_t* outputs, uint64_t num_outputs,
    const cudago_serve_request_options_t* opts, uint64_t* id) {
  return guard("cudago_server_submit", [&] {
    nn::Server& s = *handle(server, "server").impl;
    out_param(id, "id");
    const nn::ServeBackend& be = s.backend();
    if (num_inputs != be.inputs().size()) {
      throw Error(Status::kInvalidArgument, "num_inputs = " + std::to_string(num_inputs) +
                                                "; the model has " +
                                                std::to_string(be.inputs().size()) + " inputs");
    }
    if (num_inputs > 0 && inputs == nullptr) {
      throw Error(Status::kInvalidArgument, "inputs is NULL");
    }
    if (num_outputs != 0 && num_outputs != be.outputs().size()) {
      throw Error(Status::kInvalidArgument, "num_outputs = " + std::to_string(num_outputs) +
                                                "; the model has " +
                                                std::to_string(be.outputs().size()) +
                                                " outputs (0: every output in staging)");
    }
    if (num_outputs > 0 && outputs == nullptr) {
      throw Error(Status::kInvalidArgument, "outputs is NULL");
    }
    // This thread's scratch (sized by the model, checked above): no allocation per request once
    // warm. The buffers it keeps alive are dropped when the submit returns.
    thread_local std::vector<nn::RequestTensor> in, out;
    struct Drop {
      ~Drop() {
        for (auto& t : in) t.keep.reset();
        for (auto& t : out) t.keep.reset();
      }
    } drop;
    in.resize(static_cast<size_t>(num_inputs));
    out.resize(static_cast<size_t>(num_outputs));
    for (uint64_t i = 0; i < num_inputs; ++i) {
      tensor(read_element(inputs, i, "inputs"), true, i, be, in[i]);
    }
    for (uint64_t i = 0; i < num_outputs; ++i) {
      tensor(read_element(outputs, i, "outputs"), false, i, be, out[i]);
    }
    nn::RequestOptions ro;
    if (opts != nullptr) {
      cudago_serve_request_options_t r = read_sized(opts, "opts");
      if (r.priority > 64) {
        throw Error(Status::kInvalidArgument,
                    "opts->priority = " + std::to_string(r.priority) + " is above 64");
      }
      ro.tag = r.tag;
      ro.priority = static_cast<int32_t>(r.priority);
      ro.timeout_ns = cudago::capi::signed_count(r.timeout_ns, "opts->timeout_ns");
    }
    *id = s.submit(in, out, ro);
  });
}

extern "C" cudago_status_t cudago_server_cancel(cudago_server_t server, uint64_t id,
                                                int32_t* cancelled) {
  return guard("cudago_server_cancel", [&] {
    nn::Server& s = *handle(server, "server").impl;
    out_param(cancelled, "cancelled");
    *cancelled = s.cancel(id) ? 1 : 0;
  });
}

extern "C" cudago_status_t cudago_server_poll(cudago_server_t server, const uint64_t* release,
                                              uint64_t num_release, uint64_t timeout_ns,
                                              cudago_serve_result_t* results, uint64_t cap,
                                              uint64_t* len) {
  return guard("cudago_server_poll", [&] {
    nn::Server& s = *handle(server, "server").impl;
    out_param(len, "len");
    if (num_release > 0 && release == nullptr) {
      throw Error(Status::kInvalidArgument,
                  "release is NULL with num_release " + std::to_string(num_release));
    }
    if (num_release > (uint64_t{1} << 24)) {
      throw Error(Status::kInvalidArgument, "num_release is too large");
    }
    if (cap > 0 && results == nullptr) {
      throw Error(Status::kInvalidArgument, "results is NULL with cap " + std::to_string(cap));
    }
    if (cap > 65536) cap = 65536;  // results are written in bounded rounds
    uint32_t stride = 0;
    if (cap > 0) {
      stride = sized_out(results, "results")->struct_size;
      // A newer header's struct is a multiple of its alignment: any other stride would place
      // the elements (and their uint64_t fields) at misaligned addresses.
      if (stride % alignof(cudago_serve_result_t) != 0) {
        throw Error(Status::kInvalidArgument,
                    "results->struct_size is " + std::to_string(stride) + ", not a multiple of " +
                        std::to_string(alignof(cudago_serve_result_t)) +
                        ": it is no cudago.h's cudago_serve_result_t (initialise every element "
                        "with cudago_serve_result_init)");
      }
      // Every element is checked before anything is released or taken.
      for (uint64_t i = 1; i < cap; ++i) {
        const unsigned char* p =
            reinterpret_cast<const unsigned char*>(results) + uint64_t{stride} * i;
        uint32_t size = 0;
        std::memcpy(&size, p, sizeof size);
        if (size != stride) {
          throw Error(Status::kInvalidArgument, "results[" + std::to_string(i) +
                                                    "]->struct_size is " + std::to_string(size) +
                                                    "; results[0]'s is " + std::to_string(stride) +
                                                    " (initialise every element)");
        }
      }
    }
    *len = 0;
    int64_t timeout = timeout_ns == UINT64_MAX ? -1
                      : timeout_ns > static_cast<uint64_t>(INT64_MAX)
                          ? INT64_MAX
                          : static_cast<int64_t>(timeout_ns);
    thread_local std::vector<const nn::ServeResult*> got;
    got.assign(static_cast<size_t>(cap), nullptr);
    size_t n = s.poll(release, static_cast<size_t>(num_release), timeout, got.data(),
                      static_cast<size_t>(cap));
    for (size_t i = 0; i < n; ++i) {
      auto* p = reinterpret_cast<cudago_serve_result_t*>(reinterpret_cast<unsigned char*>(results) +
                                                         uint64_t{stride} * i);
      cudago_serve_result_t c;
      cudago_serve_result_init(&c);
      fill(*got[i], &c);
      write_sized(p, "results[i]", c);
    }
    *len = n;
  });
}

extern "C" cudago_status_t cudago_server_shutdown(cudago_server_t server, uint32_t flags) {
  return guard("cudago_server_shutdown", [&] {
    nn::Server& s = *handle(server, "server").impl;
    if ((flags & ~CUDAGO_SERVER_CANCEL_QUEUED) != 0) {
      throw Error(Status::kInvalidArgument,
                  "flags has unknown bits " + std::to_string(flags & ~CUDAGO_SERVER_CANCEL_QUEUED));
    }
    s.shutdown((flags & CUDAGO_SERVER_CANCEL_QUEUED) != 0);
  });
}

extern "C" cudago_status_t cudago_server_stats(cudago_server_t server, cudago_server_stats_t* out) {
  return guard("cudago_server_stats", [&] {
    nn::Server& s = *handle(server, "server").impl;
    sized_out(out, "out");
    nn::ServerStats st = s.stats();
    cudago_server_stats_t c;
    cudago_server_stats_init(&c);
    c.submitted = static_cast<uint64_t>(st.submitted);
    c.rejected = static_cast<uint64_t>(st.rejected);
    c.completed = static_cast<uint64_t>(st.completed);
    c.succeeded = static_cast<uint64_t>(st.succeeded);
    c.failed = static_cast<uint64_t>(st.failed);
    c.timed_out = static_cast<uint64_t>(st.timed_out);
    c.cancelled = static_cast<uint64_t>(st.cancelled);
    c.queued = static_cast<uint64_t>(st.queued);
    c.in_flight = static_cast<uint64_t>(st.in_flight);
    c.batches = static_cast<uint64_t>(st.batches);
    c.inferences = static_cast<uint64_t>(st.inferences);
    c.closed_full = static_cast<uint64_t>(st.closed_full);
    c.closed_preferred = static_cast<uint64_t>(st.closed_preferred);
    c.closed_delay = static_cast<uint64_t>(st.closed_delay);
    c.closed_deadline = static_cast<uint64_t>(st.closed_deadline);
    c.closed_shutdown = static_cast<uint64_t>(st.closed_shutdown);
    c.staging_bytes = static_cast<uint64_t>(st.staging_bytes);
    c.max_batch_size = static_cast<uint64_t>(s.max_batch());
    write_sized(out, "out", c);
  });
}

extern "C" cudago_status_t cudago_server_batch_histogram(cudago_server_t server, uint64_t* hist,
                                                         uint64_t cap, uint64_t* len) {
  return guard("cudago_server_batch_histogram", [&] {
    nn::Server& s = *handle(server, "server").impl;
    out_param(len, "len");
    if (cap > 0 && hist == nullptr) {
      throw Error(Status::kInvalidArgument, "hist is NULL with cap " + std::to_string(cap));
    }
    nn::ServerStats st = s.stats();
    *len = st.batch_histogram.size();
    for (size_t i = 0; i < st.batch_histogram.size() && i < cap; ++i) {
      hist[i] = static_cast<uint64_t>(st.batch_histogram[i]);
    }
  });
}
