// NVRTC run-time compilation, kernel lookup and launch, and the compile cache.
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <type_traits>
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

// NVRTC counts its options (the defines among them) and its headers in an int; the name
// expressions share the limit.
constexpr uint64_t kMaxCompileArray = std::numeric_limits<int32_t>::max();
// CUDA passes at most 32764 bytes of kernel parameters, each parameter taking at least one: no
// kernel has more parameters, nor one larger.
constexpr uint64_t kMaxParamBytes = 32764;

// Checks an array argument and its count (`count_name`, at most `limit`, which `limit_text`
// explains) before anything reads the array or is sized by the count.
template <class T>
const T* array_param(const T* p, uint64_t n, const char* count_name, const char* name,
                     uint64_t limit, const char* limit_text) {
  if (n > limit) {
    throw Error(Status::kInvalidArgument, std::string(count_name) + " = " + std::to_string(n) +
                                              " is above " + std::to_string(limit) + " (" +
                                              limit_text + ")");
  }
  if (n > 0 && p == nullptr) {
    throw Error(Status::kInvalidArgument, std::string(name) + " is NULL with a nonzero count");
  }
  return p;
}

template <class T>
const T* compile_array(const T* p, uint64_t n, const char* count_name, const char* name) {
  return array_param(p, n, count_name, name, kMaxCompileArray,
                     "INT32_MAX: NVRTC counts its options and headers in an int");
}

// Copies text into a caller's buffer: at most cap - 1 bytes and a NUL (when cap > 0).
void fill_text(const std::string& text, char* buf, uint64_t cap, uint64_t* len) {
  if (len != nullptr) *len = text.size();
  if (buf == nullptr || cap == 0) return;
  const size_t n = text.size() < cap - 1 ? text.size() : static_cast<size_t>(cap - 1);
  std::memcpy(buf, text.data(), n);
  buf[n] = '\0';
}

struct ParsedOptions {
  cudago::CompileOptions options;
  char* log = nullptr;
  uint64_t log_cap = 0;
  uint64_t* log_len = nullptr;
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
  // Every count is checked before any array is read.
  compile_array(in.defines, in.num_defines, "opts->num_defines", "opts->defines");
  compile_array(in.options, in.num_options, "opts->num_options", "opts->options");
  compile_array(in.headers, in.num_headers, "opts->num_headers", "opts->headers");
  compile_array(in.name_expressions, in.num_name_expressions, "opts->num_name_expressions",
                "opts->name_expressions");
  // The defines and the options are one list of NVRTC options, with two of the core's own.
  if (in.num_defines + in.num_options > kMaxCompileArray - 2) {
    throw Error(Status::kInvalidArgument,
                "opts->num_defines + opts->num_options = " +
                    std::to_string(in.num_defines + in.num_options) + " is above " +
                    std::to_string(kMaxCompileArray - 2) +
                    " (NVRTC counts its options in an int, two of them cudago's)");
  }
  for (uint64_t i = 0; i < in.num_defines; ++i) {
    std::string idx = "opts->defines[" + std::to_string(i) + "]";
    o.defines.emplace_back(required_string(in.defines[i].name, idx + ".name"),
                           in.defines[i].value != nullptr ? in.defines[i].value : "");
  }
  for (uint64_t i = 0; i < in.num_options; ++i) {
    o.extra.push_back(required_string(in.options[i], "opts->options[" + std::to_string(i) + "]"));
  }
  for (uint64_t i = 0; i < in.num_headers; ++i) {
    std::string idx = "opts->headers[" + std::to_string(i) + "]";
    o.headers.emplace_back(required_string(in.headers[i].name, idx + ".name"),
                           required_string(in.headers[i].content, idx + ".content"));
  }
  for (uint64_t i = 0; i < in.num_name_expressions; ++i) {
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

// A grid or block of the ABI (x, y, z sizes) as the core's Dim3: each in [1, UINT32_MAX], the
// range of CUDA's dim3.
cudago::Dim3 dims(const uint64_t* d, const char* name) {
  if (d == nullptr) throw Error(Status::kInvalidArgument, std::string(name) + " is NULL");
  uint32_t v[3];
  for (int i = 0; i < 3; ++i) {
    if (d[i] < 1 || d[i] > std::numeric_limits<uint32_t>::max()) {
      throw Error(Status::kInvalidArgument, std::string(name) + "[" + std::to_string(i) +
                                                "] = " + std::to_string(d[i]) +
                                                " is outside [1, UINT32_MAX]");
    }
    v[i] = static_cast<uint32_t>(d[i]);
  }
  return cudago::Dim3{v[0], v[1], v[2]};
}

// Converts args[i] into k without allocating on success; messages are built only on failure.
void convert_arg(const cudago_kernel_arg_t& a, uint64_t i, cudago::KernelArg& k) {
  auto fail = [i](const std::string& what) {
    throw Error(Status::kInvalidArgument, "args[" + std::to_string(i) + "]" + what);
  };
  if (a.reserved0 != 0) fail(".reserved0 = " + std::to_string(a.reserved0) + "; it must be 0");
  switch (a.kind) {
    case CUDAGO_ARG_BUFFER:
      if (a.buffer == nullptr || !a.buffer->impl) {
        throw Error(Status::kInvalidHandle,
                    "args[" + std::to_string(i) + "].buffer handle is NULL");
      }
      k.buffer = a.buffer->impl.get();
      k.offset = a.offset;
      break;
    case CUDAGO_ARG_HOST_BUFFER:
      if (a.host == nullptr || !a.host->impl) {
        throw Error(Status::kInvalidHandle, "args[" + std::to_string(i) + "].host handle is NULL");
      }
      k.host = a.host->impl.get();
      k.offset = a.offset;
      break;
    case CUDAGO_ARG_I32:
      if (a.v.i < std::numeric_limits<int32_t>::min() ||
          a.v.i > std::numeric_limits<int32_t>::max()) {
        fail(": value does not fit in int32");
      }
      k.set_scalar(static_cast<int32_t>(a.v.i));
      break;
    case CUDAGO_ARG_U32:
      if (a.v.u > std::numeric_limits<uint32_t>::max()) fail(": value does not fit in uint32");
      k.set_scalar(static_cast<uint32_t>(a.v.u));
      break;
    case CUDAGO_ARG_I64:
      k.set_scalar(a.v.i);
      break;
    case CUDAGO_ARG_U64:
      k.set_scalar(a.v.u);
      break;
    case CUDAGO_ARG_F32:
      k.set_scalar(static_cast<float>(a.v.f));
      break;
    case CUDAGO_ARG_F64:
      k.set_scalar(a.v.f);
      break;
    case CUDAGO_ARG_BYTES:
      if (a.size == 0) fail(": size is 0");
      if (a.size > kMaxParamBytes) {
        fail(".size = " + std::to_string(a.size) + " is above " + std::to_string(kMaxParamBytes) +
             ", CUDA's limit on a kernel's parameter bytes");
      }
      if (a.bytes == nullptr) fail(".bytes is NULL");
      k.value = a.bytes;  // borrowed for the call
      k.size = a.size;
      break;
    default:
      fail(".kind = " + std::to_string(static_cast<int32_t>(a.kind)) +
           " is not a cudago_arg_kind_t");
  }
}

}  // namespace

extern "C" {

cudago_status_t cudago_module_compile(cudago_module_t* out, int32_t device, const char* source,
                                      const cudago_compile_options_t* opts) {
  return guard("cudago_module_compile", [&] {
    out_param(out, "out");
    *out = nullptr;
    ParsedOptions p = parse_options(opts);
    std::string src = required_string(source, "source");
    cudago::CompileResult r = compile_with_log(device, p, src);
    publish(out, cudago::Module::load(device, std::move(r)));
  });
}

cudago_status_t cudago_rtc_compile(const char* source, const cudago_compile_options_t* opts,
                                   void* image, uint64_t cap, uint64_t* len) {
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

cudago_status_t cudago_module_log(cudago_module_t module, char* buf, uint64_t cap, uint64_t* len) {
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

cudago_status_t cudago_kernel_occupancy(cudago_kernel_t kernel, uint64_t dyn_smem, int32_t* block,
                                        int32_t* min_grid) {
  return guard("cudago_kernel_occupancy", [&] {
    const cudago::Kernel& k = *handle(kernel, "kernel").impl;
    out_param(block, "block");
    out_param(min_grid, "min_grid");
    if (dyn_smem > std::numeric_limits<size_t>::max()) {
      throw Error(Status::kInvalidArgument, "dyn_smem is too large");
    }
    auto [b, g] = k.occupancy(static_cast<size_t>(dyn_smem));
    *block = b;
    *min_grid = g;
  });
}

cudago_status_t cudago_kernel_launch(cudago_kernel_t kernel, cudago_stream_t stream,
                                     const cudago_kernel_arg_t* args, uint64_t nargs,
                                     const uint64_t grid[3], const uint64_t block[3],
                                     uint64_t dyn_smem) {
  return guard("cudago_kernel_launch", [&] {
    // The launch shape and the arguments are checked (and converted) first, so that their
    // errors do not depend on the handles; nothing is sized by nargs before it is checked.
    const cudago::Dim3 g = dims(grid, "grid");
    const cudago::Dim3 b = dims(block, "block");
    if (dyn_smem > std::numeric_limits<uint32_t>::max()) {
      throw Error(Status::kInvalidArgument,
                  "dyn_smem = " + std::to_string(dyn_smem) + " is above UINT32_MAX bytes");
    }
    array_param(args, nargs, "nargs", "args", kMaxParamBytes,
                "a kernel's parameters take at most 32764 bytes, at least 1 each");
    // Converted on the stack for the usual few arguments: the launch allocates nothing (and
    // only the nargs slots in use are initialised).
    static_assert(std::is_trivially_destructible_v<cudago::KernelArg>, "raw storage");
    alignas(cudago::KernelArg) unsigned char
        inline_args[sizeof(cudago::KernelArg) * cudago::Kernel::kInlineArgs];
    std::vector<cudago::KernelArg> heap_args;
    auto* converted = reinterpret_cast<cudago::KernelArg*>(inline_args);
    if (nargs > cudago::Kernel::kInlineArgs) {
      heap_args.resize(static_cast<size_t>(nargs));
      converted = heap_args.data();
    }
    for (uint64_t i = 0; i < nargs; ++i) {
      convert_arg(args[i], i, *new (&converted[i]) cudago::KernelArg{});
    }
    const cudago::Kernel& k = *handle(kernel, "kernel").impl;
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    k.launch(s, g, b, static_cast<uint32_t>(dyn_smem), converted, static_cast<size_t>(nargs));
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
