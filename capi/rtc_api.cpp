// NVRTC run-time compilation, kernel lookup and launch, and the compile cache.
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cudago.h"
#include "cudago/rtc.hpp"
#include "guard.hpp"

struct cudago_module_s {
  cudago::ModulePtr impl;
};
struct cudago_kernel_s {
  cudago::KernelPtr impl;
};

using cudago::Error;
using cudago::Status;
using cudago::capi::guard;
using cudago::capi::handle;
using cudago::capi::out_param;
using cudago::capi::publish;
using cudago::capi::read_sized;

namespace {

std::string required_string(const char* s, const std::string& what) {
  if (s == nullptr) throw Error(Status::kInvalidArgument, what + " is NULL");
  return s;
}

template <class T>
const T* array_param(const T* p, int32_t n, const char* name) {
  if (n < 0)
    throw Error(Status::kInvalidArgument, std::string("the count of ") + name + " is negative");
  if (n > 0 && p == nullptr) {
    throw Error(Status::kInvalidArgument, std::string(name) + " is NULL with a nonzero count");
  }
  return p;
}

// Copies text into a caller's buffer: at most cap - 1 bytes and a NUL (when cap > 0).
void fill_text(const std::string& text, char* buf, size_t cap, size_t* len) {
  if (len != nullptr) *len = text.size();
  if (buf == nullptr || cap == 0) return;
  size_t n = text.size() < cap - 1 ? text.size() : cap - 1;
  std::memcpy(buf, text.data(), n);
  buf[n] = '\0';
}

struct ParsedOptions {
  cudago::CompileOptions options;
  char* log = nullptr;
  size_t log_cap = 0;
  size_t* log_len = nullptr;
};

ParsedOptions parse_options(const cudago_compile_options_t* opts) {
  ParsedOptions p;
  if (opts == nullptr) return p;
  cudago_compile_options_t in = read_sized(opts, "opts");
  if ((in.flags & ~CUDAGO_COMPILE_NO_CACHE) != 0) {
    throw Error(Status::kInvalidArgument, "opts->flags has unknown bits");
  }
  cudago::CompileOptions& o = p.options;
  o.use_cache = (in.flags & CUDAGO_COMPILE_NO_CACHE) == 0;
  if (in.arch != nullptr) o.arch = in.arch;
  if (in.std != nullptr) o.std = in.std;
  array_param(in.defines, in.num_defines, "opts->defines");
  for (int32_t i = 0; i < in.num_defines; ++i) {
    std::string idx = "opts->defines[" + std::to_string(i) + "]";
    o.defines.emplace_back(required_string(in.defines[i].name, idx + ".name"),
                           in.defines[i].value != nullptr ? in.defines[i].value : "");
  }
  array_param(in.options, in.num_options, "opts->options");
  for (int32_t i = 0; i < in.num_options; ++i) {
    o.extra.push_back(required_string(in.options[i], "opts->options[" + std::to_string(i) + "]"));
  }
  array_param(in.headers, in.num_headers, "opts->headers");
  for (int32_t i = 0; i < in.num_headers; ++i) {
    std::string idx = "opts->headers[" + std::to_string(i) + "]";
    o.headers.emplace_back(required_string(in.headers[i].name, idx + ".name"),
                           required_string(in.headers[i].content, idx + ".content"));
  }
  array_param(in.name_expressions, in.num_name_expressions, "opts->name_expressions");
  for (int32_t i = 0; i < in.num_name_expressions; ++i) {
    o.name_expressions.push_back(required_string(
        in.name_expressions[i], "opts->name_expressions[" + std::to_string(i) + "]"));
  }
  p.log = in.log;
  p.log_cap = in.log_cap;
  p.log_len = in.log_len;
  if (p.log == nullptr && p.log_cap > 0) {
    throw Error(Status::kInvalidArgument, "opts->log is NULL with a nonzero log_cap");
  }
  return p;
}

// Compiles, filling the caller's log on success and on a compile error.
cudago::CompileResult compile_with_log(int device, const ParsedOptions& p,
                                       const std::string& source) {
  try {
    cudago::CompileResult r = cudago::compile(device, source, p.options);
    fill_text(r.log, p.log, p.log_cap, p.log_len);
    return r;
  } catch (const cudago::CompileError& e) {
    fill_text(e.log(), p.log, p.log_cap, p.log_len);
    throw;
  }
}

uint32_t dim(const uint32_t* d, int i, const char* name) {
  if (d == nullptr) throw Error(Status::kInvalidArgument, std::string(name) + " is NULL");
  return d[i];
}

cudago::KernelArg convert_arg(const cudago_kernel_arg_t& a, int32_t i) {
  std::string idx = "args[" + std::to_string(i) + "]";
  cudago::KernelArg k;
  auto put = [&k](const auto& value) {
    k.bytes.resize(sizeof value);
    std::memcpy(k.bytes.data(), &value, sizeof value);
  };
  switch (a.kind) {
    case CUDAGO_ARG_BUFFER:
      k.buffer = handle(a.buffer, (idx + ".buffer").c_str()).impl.get();
      k.offset = a.offset;
      break;
    case CUDAGO_ARG_HOST_BUFFER:
      k.host = handle(a.host, (idx + ".host").c_str()).impl;
      k.offset = a.offset;
      break;
    case CUDAGO_ARG_I32:
      if (a.v.i < std::numeric_limits<int32_t>::min() ||
          a.v.i > std::numeric_limits<int32_t>::max()) {
        throw Error(Status::kInvalidArgument, idx + ": value does not fit in int32");
      }
      put(static_cast<int32_t>(a.v.i));
      break;
    case CUDAGO_ARG_U32:
      if (a.v.u > std::numeric_limits<uint32_t>::max()) {
        throw Error(Status::kInvalidArgument, idx + ": value does not fit in uint32");
      }
      put(static_cast<uint32_t>(a.v.u));
      break;
    case CUDAGO_ARG_I64:
      put(a.v.i);
      break;
    case CUDAGO_ARG_U64:
      put(a.v.u);
      break;
    case CUDAGO_ARG_F32:
      put(static_cast<float>(a.v.f));
      break;
    case CUDAGO_ARG_F64:
      put(a.v.f);
      break;
    case CUDAGO_ARG_BYTES:
      if (a.size == 0) throw Error(Status::kInvalidArgument, idx + ": size is 0");
      if (a.bytes == nullptr) throw Error(Status::kInvalidArgument, idx + ".bytes is NULL");
      k.bytes.assign(static_cast<const unsigned char*>(a.bytes),
                     static_cast<const unsigned char*>(a.bytes) + a.size);
      break;
    default:
      throw Error(Status::kInvalidArgument, idx + ": unknown kind " + std::to_string(a.kind));
  }
  return k;
}

}  // namespace

extern "C" {

cudago_status_t cudago_module_compile(cudago_module_t* out, int32_t device,
                                      const cudago_compile_options_t* opts, const char* source) {
  return guard("cudago_module_compile", [&] {
    out_param(out, "out");
    *out = nullptr;
    ParsedOptions p = parse_options(opts);
    std::string src = required_string(source, "source");
    cudago::CompileResult r = compile_with_log(device, p, src);
    publish(out, cudago::Module::load(device, std::move(r)));
  });
}

cudago_status_t cudago_rtc_compile(const cudago_compile_options_t* opts, const char* source,
                                   void* image, size_t cap, size_t* len) {
  return guard("cudago_rtc_compile", [&] {
    out_param(len, "len");
    ParsedOptions p = parse_options(opts);
    if (p.options.arch.empty()) {
      throw Error(Status::kInvalidArgument, "compiling without a device needs opts->arch");
    }
    std::string src = required_string(source, "source");
    cudago::CompileResult r = compile_with_log(-1, p, src);
    *len = r.image.size();
    if (image != nullptr && cap >= r.image.size()) {
      std::memcpy(image, r.image.data(), r.image.size());
    }
  });
}

cudago_status_t cudago_module_destroy(cudago_module_t module) {
  return guard("cudago_module_destroy", [&] { delete module; });
}

cudago_status_t cudago_module_log(cudago_module_t module, char* buf, size_t cap, size_t* len) {
  return guard("cudago_module_log", [&] {
    const cudago::Module& m = *handle(module, "module").impl;
    out_param(len, "len");
    if (buf == nullptr && cap > 0) throw Error(Status::kInvalidArgument, "buf is NULL");
    fill_text(m.result().log, buf, cap, len);
  });
}

cudago_status_t cudago_module_device(cudago_module_t module, int32_t* out) {
  return guard("cudago_module_device", [&] {
    const cudago::Module& m = *handle(module, "module").impl;
    *out_param(out, "out") = m.device();
  });
}

cudago_status_t cudago_module_kernel(cudago_kernel_t* out, cudago_module_t module,
                                     const char* name) {
  return guard("cudago_module_kernel", [&] {
    out_param(out, "out");
    *out = nullptr;
    const cudago::ModulePtr& m = handle(module, "module").impl;
    publish(out, cudago::Kernel::get(m, required_string(name, "name")));
  });
}

cudago_status_t cudago_kernel_destroy(cudago_kernel_t kernel) {
  return guard("cudago_kernel_destroy", [&] { delete kernel; });
}

cudago_status_t cudago_kernel_attributes(cudago_kernel_t kernel, cudago_kernel_attributes_t* out) {
  return guard("cudago_kernel_attributes", [&] {
    const cudago::Kernel& k = *handle(kernel, "kernel").impl;
    cudago::capi::sized_out(out, "out");
    const cudago::KernelAttributes& a = k.attributes();
    cudago_kernel_attributes_t c{};
    c.num_regs = a.num_regs;
    c.max_threads_per_block = a.max_threads_per_block;
    c.num_params = a.num_params;
    c.shared_bytes = a.shared_bytes;
    c.const_bytes = a.const_bytes;
    c.local_bytes = a.local_bytes;
    c.ptx_version = a.ptx_version;
    c.binary_version = a.binary_version;
    cudago::capi::write_sized(out, "out", c);
  });
}

cudago_status_t cudago_kernel_occupancy(cudago_kernel_t kernel, size_t dyn_smem, int32_t* block,
                                        int32_t* min_grid) {
  return guard("cudago_kernel_occupancy", [&] {
    const cudago::Kernel& k = *handle(kernel, "kernel").impl;
    out_param(block, "block");
    out_param(min_grid, "min_grid");
    auto [b, g] = k.occupancy(dyn_smem);
    *block = b;
    *min_grid = g;
  });
}

cudago_status_t cudago_kernel_launch(cudago_kernel_t kernel, cudago_stream_t stream,
                                     const uint32_t grid[3], const uint32_t block[3],
                                     uint32_t dyn_smem, const cudago_kernel_arg_t* args,
                                     int32_t nargs) {
  return guard("cudago_kernel_launch", [&] {
    const cudago::Kernel& k = *handle(kernel, "kernel").impl;
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    cudago::Dim3 g{dim(grid, 0, "grid"), dim(grid, 1, "grid"), dim(grid, 2, "grid")};
    cudago::Dim3 b{dim(block, 0, "block"), dim(block, 1, "block"), dim(block, 2, "block")};
    array_param(args, nargs, "args");
    std::vector<cudago::KernelArg> converted;
    converted.reserve(static_cast<size_t>(nargs));
    for (int32_t i = 0; i < nargs; ++i) converted.push_back(convert_arg(args[i], i));
    k.launch(s, g, b, dyn_smem, converted);
  });
}

cudago_status_t cudago_rtc_cache_set_dir(const char* dir) {
  return guard("cudago_rtc_cache_set_dir",
               [&] { cudago::cache_set_dir(dir != nullptr ? dir : ""); });
}

cudago_status_t cudago_rtc_cache_set_capacity(uint64_t entries) {
  return guard("cudago_rtc_cache_set_capacity", [&] {
    if (entries > std::numeric_limits<size_t>::max()) {
      throw Error(Status::kInvalidArgument, "entries is too large");
    }
    cudago::cache_set_capacity(static_cast<size_t>(entries));
  });
}

cudago_status_t cudago_rtc_cache_stats(cudago_rtc_cache_stats_t* out) {
  return guard("cudago_rtc_cache_stats", [&] {
    cudago::capi::sized_out(out, "out");
    cudago::CacheStats s = cudago::cache_stats();
    cudago_rtc_cache_stats_t c{};
    c.hits = s.hits;
    c.disk_hits = s.disk_hits;
    c.misses = s.misses;
    c.entries = s.entries;
    cudago::capi::write_sized(out, "out", c);
  });
}

cudago_status_t cudago_rtc_cache_clear(void) {
  return guard("cudago_rtc_cache_clear", [] { cudago::cache_clear(); });
}

}  // extern "C"
