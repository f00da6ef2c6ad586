// Helpers for the C ABI tests: status checks that print the thread's error detail.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "cudago.h"
#include "gpu_skip.hpp"

#define NEED_GPU()                                       \
  do {                                                   \
    int32_t n_ = 0;                                      \
    ASSERT_EQ(cudago_device_count(&n_), CUDAGO_SUCCESS); \
    CUDAGO_NEED_GPU(n_, cudago_no_device_reason());      \
  } while (0)

inline std::string last_error_text() {
  cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
  if (cudago_error_last(&e) != CUDAGO_SUCCESS) return "<cudago_error_last failed>";
  return std::string(e.operation) + ": " + e.native_name + ": " + e.message;
}

// Whether the tests run under compute-sanitizer (bundle/sanitize.sh sets CUDAGO_SANITIZER=1): its
// tracking takes device memory of its own, and it slows CUDA calls (NCCL's set-up most) many
// times over.
inline bool under_sanitizer() {
  const char* v = std::getenv("CUDAGO_SANITIZER");
  return v != nullptr && std::string(v) == "1";
}

#define CG_OK(call) ASSERT_EQ((call), CUDAGO_SUCCESS) << #call << " -> " << last_error_text()
#define CG_EXPECT(status, call) EXPECT_EQ((call), (status)) << #call << " -> " << last_error_text()

#include <memory>

// Owning wrappers so a failed assertion does not leak handles.
struct StreamDel {
  void operator()(cudago_stream_s* s) const { cudago_stream_destroy(s); }
};
struct EventDel {
  void operator()(cudago_event_s* e) const { cudago_event_destroy(e); }
};
struct BufferDel {
  void operator()(cudago_buffer_s* b) const { cudago_buffer_free(b); }
};
struct HostDel {
  void operator()(cudago_host_buffer_s* h) const { cudago_host_buffer_free(h); }
};
using Stream = std::unique_ptr<cudago_stream_s, StreamDel>;
using Event = std::unique_ptr<cudago_event_s, EventDel>;
using Buffer = std::unique_ptr<cudago_buffer_s, BufferDel>;
using Host = std::unique_ptr<cudago_host_buffer_s, HostDel>;
struct ModuleDel {
  void operator()(cudago_module_s* m) const { cudago_module_destroy(m); }
};
struct KernelDel {
  void operator()(cudago_kernel_s* k) const { cudago_kernel_destroy(k); }
};
struct GraphDel {
  void operator()(cudago_graph_s* g) const { cudago_graph_destroy(g); }
};
using Module = std::unique_ptr<cudago_module_s, ModuleDel>;
using Kernel = std::unique_ptr<cudago_kernel_s, KernelDel>;
using Graph = std::unique_ptr<cudago_graph_s, GraphDel>;

// `source` compiled for device 0 and its kernel `name`; null members (and a test failure with
// the detail) when either step fails.
struct CompiledKernel {
  Module module;
  Kernel kernel;
};
inline CompiledKernel compile_kernel(const char* source, const char* name) {
  CompiledKernel c;
  cudago_module_t m = nullptr;
  EXPECT_EQ(cudago_module_compile(&m, 0, source, nullptr), CUDAGO_SUCCESS) << last_error_text();
  c.module.reset(m);
  if (!c.module) return c;
  cudago_kernel_t k = nullptr;
  EXPECT_EQ(cudago_module_kernel(&k, m, name), CUDAGO_SUCCESS) << last_error_text();
  c.kernel.reset(k);
  return c;
}

inline Stream make_stream(int32_t device = 0, uint32_t flags = CUDAGO_STREAM_NON_BLOCKING,
                          int32_t priority = 0) {
  cudago_stream_t s = nullptr;
  EXPECT_EQ(cudago_stream_create(&s, device, flags, priority), CUDAGO_SUCCESS) << last_error_text();
  return Stream(s);
}
inline Buffer make_buffer(uint64_t bytes, int32_t device = 0) {
  cudago_buffer_t b = nullptr;
  EXPECT_EQ(cudago_buffer_alloc(&b, device, bytes), CUDAGO_SUCCESS) << last_error_text();
  return Buffer(b);
}
inline Host make_host(uint64_t bytes, uint32_t flags = CUDAGO_HOST_PINNED, int32_t device = 0) {
  cudago_host_buffer_t h = nullptr;
  EXPECT_EQ(cudago_host_buffer_alloc(&h, device, bytes, flags), CUDAGO_SUCCESS)
      << last_error_text();
  return Host(h);
}
template <class T>
T* host_ptr(const Host& h) {
  void* p = nullptr;
  EXPECT_EQ(cudago_host_buffer_host_pointer(h.get(), &p), CUDAGO_SUCCESS);
  return static_cast<T*>(p);
}

// Kernel launch arguments (cudago_kernel_launch): value-initialised, so reserved0 is 0; a
// buffer's offset is in bytes.
inline cudago_kernel_arg_t arg_buffer(cudago_buffer_t b, uint64_t offset = 0) {
  cudago_kernel_arg_t a{};
  a.kind = CUDAGO_ARG_BUFFER;
  a.buffer = b;
  a.offset = offset;
  return a;
}
inline cudago_kernel_arg_t arg_f32(double v) {
  cudago_kernel_arg_t a{};
  a.kind = CUDAGO_ARG_F32;
  a.v.f = v;
  return a;
}
inline cudago_kernel_arg_t arg_u64(uint64_t v) {
  cudago_kernel_arg_t a{};
  a.kind = CUDAGO_ARG_U64;
  a.v.u = v;
  return a;
}
inline cudago_kernel_arg_t arg_i32(int64_t v) {
  cudago_kernel_arg_t a{};
  a.kind = CUDAGO_ARG_I32;
  a.v.i = v;
  return a;
}

// A short name of an element type, for test messages ("f32", "bf16", ...).
// c = a + b over n float32 elements from the start of each buffer (the general elementwise
// operation; the tests' stand-in for "some kernel that reads a and b and writes c").
inline cudago_status_t add_f32(cudago_stream_t s, cudago_buffer_t a, cudago_buffer_t b,
                               cudago_buffer_t c, uint64_t n) {
  return cudago_elementwise_binary(s, a, 0, b, 0, c, 0, n, CUDAGO_DTYPE_F32, CUDAGO_BINARY_ADD);
}

inline const char* dtype_label(cudago_dtype_t t) {
  switch (t) {
    case CUDAGO_DTYPE_F32:
      return "f32";
    case CUDAGO_DTYPE_F64:
      return "f64";
    case CUDAGO_DTYPE_F16:
      return "f16";
    case CUDAGO_DTYPE_BF16:
      return "bf16";
    case CUDAGO_DTYPE_I8:
      return "i8";
    case CUDAGO_DTYPE_U8:
      return "u8";
    case CUDAGO_DTYPE_I32:
      return "i32";
    case CUDAGO_DTYPE_U32:
      return "u32";
    case CUDAGO_DTYPE_I64:
      return "i64";
    case CUDAGO_DTYPE_U64:
      return "u64";
    case CUDAGO_DTYPE_FORCE32:
      break;
  }
  return "?";
}
