// The exception firewall of the C ABI and the handle types behind the opaque pointers.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "cudago.h"
#include "cudago/dtype.hpp"
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

// ---- Size-tagged structs: the one policy of docs/ABI.md ("Size-tagged structs") ----
//
// A struct_size is the size of a released version of the struct (SizeTag<T>::released, the last
// one being sizeof(T)); any other value, 0 included, is CUDAGO_ERROR_INVALID_ARGUMENT: an odd size
// would cut a field (a pointer) in two. A size above sizeof(T) comes from a newer header:
//  - inputs: CUDAGO_ERROR_NOT_SUPPORTED (this library cannot honour fields it does not know);
//    a released older size is copied over the struct's defaults (its cudago_*_init()), so the
//    fields that caller lacks take their defaults;
//  - outputs: sizeof(T) bytes are written and the caller's newer fields are left as they were
//    (its _init zeroes them); a smaller released size gets the fields it has.
// struct_size keeps the caller's value. Nothing past min(struct_size, sizeof(T)) is ever read
// or written.
template <class T>
struct SizeTag;

#define CUDAGO_SIZE_TAG_(type, init_fn, ...)                                          \
  template <>                                                                         \
  struct SizeTag<type> {                                                              \
    static constexpr const char* kName = #type;                                       \
    static constexpr uint32_t released[] = {__VA_ARGS__};                             \
    static void init(type* p) { init_fn(p); }                                         \
    static_assert(released[sizeof released / sizeof released[0] - 1] == sizeof(type), \
                  "the last released size of " #type " must be its sizeof");          \
  }
// Released sizes, oldest first. 0.2.0 started the list over (the ABI broke); append the new
// sizeof each time a struct grows in a release.
CUDAGO_SIZE_TAG_(cudago_error_info_t, cudago_error_info_init, sizeof(cudago_error_info_t));
CUDAGO_SIZE_TAG_(cudago_device_properties_t, cudago_device_properties_init,
                 sizeof(cudago_device_properties_t));
CUDAGO_SIZE_TAG_(cudago_pool_config_t, cudago_pool_config_init, sizeof(cudago_pool_config_t));
CUDAGO_SIZE_TAG_(cudago_pool_stats_t, cudago_pool_stats_init, sizeof(cudago_pool_stats_t));
CUDAGO_SIZE_TAG_(cudago_gemm_params_t, cudago_gemm_params_init, sizeof(cudago_gemm_params_t));
CUDAGO_SIZE_TAG_(cudago_gemv_params_t, cudago_gemv_params_init, sizeof(cudago_gemv_params_t));
CUDAGO_SIZE_TAG_(cudago_fft_desc_t, cudago_fft_desc_init, sizeof(cudago_fft_desc_t));
CUDAGO_SIZE_TAG_(cudago_fft_cache_stats_t, cudago_fft_cache_stats_init,
                 sizeof(cudago_fft_cache_stats_t));
CUDAGO_SIZE_TAG_(cudago_compile_options_t, cudago_compile_options_init,
                 sizeof(cudago_compile_options_t));
CUDAGO_SIZE_TAG_(cudago_kernel_attributes_t, cudago_kernel_attributes_init,
                 sizeof(cudago_kernel_attributes_t));
CUDAGO_SIZE_TAG_(cudago_rtc_cache_stats_t, cudago_rtc_cache_stats_init,
                 sizeof(cudago_rtc_cache_stats_t));
CUDAGO_SIZE_TAG_(cudago_wait_options_t, cudago_wait_options_init, sizeof(cudago_wait_options_t));
#ifdef CUDAGO_EXPERIMENTAL  // the CNN runtime (nn_api.cpp)
CUDAGO_SIZE_TAG_(cudago_nn_options_t, cudago_nn_options_init, sizeof(cudago_nn_options_t));
CUDAGO_SIZE_TAG_(cudago_nn_tensor_info_t, cudago_nn_tensor_info_init,
                 sizeof(cudago_nn_tensor_info_t));
CUDAGO_SIZE_TAG_(cudago_nn_model_info_t, cudago_nn_model_info_init, sizeof(cudago_nn_model_info_t));
// serving (serve_api.cpp)
CUDAGO_SIZE_TAG_(cudago_server_options_t, cudago_server_options_init,
                 sizeof(cudago_server_options_t));
CUDAGO_SIZE_TAG_(cudago_serve_tensor_t, cudago_serve_tensor_init, sizeof(cudago_serve_tensor_t));
CUDAGO_SIZE_TAG_(cudago_serve_request_options_t, cudago_serve_request_options_init,
                 sizeof(cudago_serve_request_options_t));
CUDAGO_SIZE_TAG_(cudago_serve_result_t, cudago_serve_result_init, sizeof(cudago_serve_result_t));
CUDAGO_SIZE_TAG_(cudago_server_stats_t, cudago_server_stats_init, sizeof(cudago_server_stats_t));
#endif
#undef CUDAGO_SIZE_TAG_

// Validates a caller's struct_size for T; returns the bytes of T to copy. Larger sizes are
// allowed only where `newer_ok` (outputs).
template <class T>
size_t checked_struct_size(uint32_t size, const char* name, bool newer_ok) {
  using Tag = SizeTag<T>;
  if (size > sizeof(T)) {
    if (newer_ok) return sizeof(T);
    throw Error(Status::kNotSupported,
                std::string(name) + "->struct_size is " + std::to_string(size) + " but this " +
                    "libcudago's " + Tag::kName + " has " + std::to_string(sizeof(T)) +
                    " bytes: the caller was built against a newer cudago.h; use a libcudago at "
                    "least as new as that header");
  }
  for (uint32_t r : Tag::released) {
    if (size == r) return size;
  }
  std::string sizes;
  for (uint32_t r : Tag::released) sizes += (sizes.empty() ? "" : ", ") + std::to_string(r);
  throw Error(Status::kInvalidArgument,
              std::string(name) + "->struct_size is " + std::to_string(size) +
                  "; it must be the size of a released " + Tag::kName + " (" + sizes +
                  " bytes): initialise the struct with its _init function");
}

// Copies a caller's size-tagged input struct under the policy above.
template <class T>
T read_sized(const T* in, const char* name) {
  out_param(in, name);
  const size_t n = checked_struct_size<T>(in->struct_size, name, false);
  T copy;
  SizeTag<T>::init(&copy);
  std::memcpy(&copy, in, n);
  copy.struct_size = static_cast<uint32_t>(sizeof(T));
  return copy;
}

// Checks a caller's output struct before the work that fills it, so a bad size fails first.
template <class T>
T* sized_out(T* out, const char* name) {
  out_param(out, name);
  checked_struct_size<T>(out->struct_size, name, true);
  return out;
}

// Writes `value` to a caller's size-tagged output struct under the policy above.
template <class T>
void write_sized(T* out, const char* name, const T& value) {
  const uint32_t size = out_param(out, name)->struct_size;
  std::memcpy(out, &value, checked_struct_size<T>(size, name, true));
  out->struct_size = size;
}

// ---- Units (docs/ABI.md, section 5) ----

// The core's element type for a cudago_dtype_t (any int32_t value is defined: the core validates
// it where it is used).
inline DType dtype_of(cudago_dtype_t t) { return static_cast<DType>(t); }

// A byte offset of the ABI as an element index of `dtype` (which is validated first): refuses an
// offset that is not a multiple of the element size, naming the parameter.
inline uint64_t element_offset(uint64_t bytes, cudago_dtype_t dtype, const char* name) {
  const size_t size = dtype_size(dtype_of(dtype));
  if (size == 0) {
    throw Error(Status::kInvalidArgument, "the element type of " + std::string(name) + ", " +
                                              std::to_string(static_cast<int32_t>(dtype)) +
                                              ", is not a cudago_dtype_t");
  }
  if (bytes % size != 0) {
    throw Error(Status::kInvalidArgument, std::string(name) + " = " + std::to_string(bytes) +
                                              " bytes is not a multiple of " + "the " +
                                              std::to_string(size) + "-byte element size of " +
                                              dtype_name(dtype_of(dtype)));
  }
  return bytes / size;
}

// A uint64_t count of the ABI as the int64_t the core takes: refuses values above INT64_MAX (they
// would turn negative), naming the parameter.
inline int64_t signed_count(uint64_t v, const char* name) {
  if (v > static_cast<uint64_t>(INT64_MAX)) {
    throw Error(Status::kInvalidArgument,
                std::string(name) + " = " + std::to_string(v) + " is too large");
  }
  return static_cast<int64_t>(v);
}

// The limits of a bounded wait (cudago_wait_options_t, copied; NULL: no limit).
inline WaitLimits wait_limits(const cudago_wait_options_t* wait) {
  if (wait == nullptr) return {};
  const cudago_wait_options_t w = read_sized(wait, "wait");
  if (w.reserved0 != 0) {
    throw Error(Status::kInvalidArgument,
                "wait->reserved0 = " + std::to_string(w.reserved0) + "; it must be 0");
  }
  return WaitLimits{w.timeout_ns, w.cancel};
}

// Takes ownership of a freshly built handle and stores it in *out.
template <class H, class Impl>
void publish(H** out, Impl impl) {
  *out = new H{std::move(impl)};
}

}  // namespace cudago::capi
