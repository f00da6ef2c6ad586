// Metrics (experimental): the Prometheus text exposition of the process's metrics, and the GPU
// sampler's interval and NVML status.
#define CUDAGO_EXPERIMENTAL 1
#include <chrono>
#include <cstring>
#include <string>

#include "cudago.h"
#include "cudago/metrics.hpp"
#include "cudago/nvml.hpp"
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

extern "C" cudago_status_t cudago_metrics_set_gpu_interval(uint64_t interval_ns) {
  return guard("cudago_metrics_set_gpu_interval", [&] {
    constexpr uint64_t kMax = static_cast<uint64_t>(cudago::nvml::kMaxInterval.count());
    if (interval_ns > kMax) {  // checked here too: nanoseconds are signed in the core
      throw Error(Status::kInvalidArgument, "GPU metrics interval " + std::to_string(interval_ns) +
                                                " ns is outside [10 ms, 1 h] (0 turns GPU "
                                                "sampling off)");
    }
    cudago::nvml::set_interval(std::chrono::nanoseconds(static_cast<int64_t>(interval_ns)));
  });
}

extern "C" cudago_status_t cudago_metrics_gpu_status(int32_t* available, char* reason_buf,
                                                     uint64_t cap, uint64_t* len) {
  return guard("cudago_metrics_gpu_status", [&] {
    out_param(available, "available");
    if (reason_buf == nullptr && cap > 0) {
      throw Error(Status::kInvalidArgument, "reason_buf is NULL with cap " + std::to_string(cap));
    }
    cudago::nvml::Status s = cudago::nvml::status();
    *available = s.available ? 1 : 0;
    // Count-then-fill: *len gets the reason's length; the text is cut to cap - 1 bytes and
    // NUL-terminated.
    if (len != nullptr) *len = s.reason.size();
    if (reason_buf != nullptr && cap > 0) {
      const size_t n = s.reason.size() < cap - 1 ? s.reason.size() : static_cast<size_t>(cap - 1);
      std::memcpy(reason_buf, s.reason.data(), n);
      reason_buf[n] = '\0';
    }
  });
}
