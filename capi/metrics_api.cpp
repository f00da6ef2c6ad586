// Metrics (experimental): the Prometheus text exposition of the process's metrics.
#define CUDAGO_EXPERIMENTAL 1
#include <cstring>
#include <string>

#include "cudago.h"
#include "cudago/metrics.hpp"
#include "guard.hpp"

using cudago::Error;
using cudago::Status;
using cudago::capi::guard;
using cudago::capi::out_param;

extern "C" cudago_status_t cudago_metrics_render(uint32_t flags, char* buf, uint64_t cap,
                                                 uint64_t* len) {
  return guard("cudago_metrics_render", [&] {
    out_param(len, "len");
    if ((flags & ~CUDAGO_METRICS_TRITON_NAMES) != 0) {
      throw Error(Status::kInvalidArgument,
                  "flags has unknown bits " + std::to_string(flags & ~CUDAGO_METRICS_TRITON_NAMES));
    }
    if (buf == nullptr && cap > 0) {
      throw Error(Status::kInvalidArgument, "buf is NULL with cap " + std::to_string(cap));
    }
    cudago::metrics::RenderOptions o;
    o.triton_names = (flags & CUDAGO_METRICS_TRITON_NAMES) != 0;
    std::string text = cudago::metrics::Registry::global().render(o);
    *len = text.size();
    if (buf != nullptr && cap > text.size()) {
      std::memcpy(buf, text.data(), text.size());
      buf[text.size()] = '\0';
    }
  });
}
