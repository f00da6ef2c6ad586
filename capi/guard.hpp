// The exception firewall of the C ABI and the handle types behind the opaque pointers.
#pragma once

#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "cudago.h"
#include "cudago/error.hpp"
#include "cudago/event.hpp"
#include "cudago/memory.hpp"
#include "cudago/stream.hpp"

struct cudago_stream_s {
  cudago::StreamPtr impl;
};
struct cudago_event_s {
  std::unique_ptr<cudago::Event> impl;
};
struct cudago_buffer_s {
  std::unique_ptr<cudago::DeviceBuffer> impl;
};
struct cudago_host_buffer_s {
  cudago::HostBufferPtr impl;
};

namespace cudago::capi {

// Records an error for the calling thread and returns its status.
cudago_status_t record_error(const char* op, Status status, int32_t native_code,
                             const std::string& native_name, const char* message) noexcept;
// Marks the calling thread's last call as successful.
void clear_error() noexcept;

// Runs `body` and maps every exception to a status; nothing propagates across the ABI.
template <class Body>
cudago_status_t guard(const char* op, Body&& body) noexcept {
  clear_error();
  try {
    body();
    return CUDAGO_SUCCESS;
  } catch (const Error& e) {
    return record_error(op, e.status(), e.native_code(), e.native_name(), e.what());
  } catch (const std::bad_alloc&) {
    return record_error(op, Status::kOutOfMemory, 0, "", "out of host memory");
  } catch (const std::exception& e) {
    return record_error(op, Status::kInternal, 0, "", e.what());
  } catch (...) {
    return record_error(op, Status::kInternal, 0, "", "unknown exception");
  }
}

// Validation helpers: each throws Error with a message naming the parameter.
template <class T>
T& handle(T* h, const char* name) {
  if (h == nullptr || !h->impl) {
    throw Error(Status::kInvalidHandle, std::string(name) + " handle is NULL");
  }
  return *h;
}

template <class T>
T* out_param(T* p, const char* name) {
  if (p == nullptr) throw Error(Status::kInvalidArgument, std::string(name) + " is NULL");
  return p;
}

// Copies a caller's size-tagged input struct: only the bytes its struct_size declares (an older,
// smaller struct leaves the newer fields at their zero defaults). Refuses a size that is unset
// or larger than this library's struct.
template <class T>
T read_sized(const T* in, const char* name) {
  out_param(in, name);
  if (in->struct_size < sizeof(uint32_t) * 2 || in->struct_size > sizeof(T)) {
    throw Error(Status::kInvalidArgument,
                std::string(name) + "->struct_size must be set to sizeof(*" + name + ")");
  }
  T copy{};
  std::memcpy(&copy, in, in->struct_size);
  return copy;
}

// Takes ownership of a freshly built handle and stores it in *out.
template <class H, class Impl>
void publish(H** out, Impl impl) {
  *out = new H{std::move(impl)};
}

}  // namespace cudago::capi
