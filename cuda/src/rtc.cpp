#include "cudago/rtc.hpp"

#include <cuda_runtime.h>  // cudaOccupancyMaxPotentialBlockSize (a C++ template)
#include <nvrtc.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <list>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "cudago/detail/rtc_cache.hpp"
#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/graph.hpp"
#include "cudago/library_error.hpp"

namespace cudago {
namespace {

bool valid_arch(const std::string& a) {
  std::string digits;
  if (a.rfind("sm_", 0) == 0) {
    digits = a.substr(3);
  } else if (a.rfind("compute_", 0) == 0) {
    digits = a.substr(8);
  } else {
    return false;
  }
  if (digits.size() < 2) return false;
  for (size_t i = 0; i < digits.size(); ++i) {
    char c = digits[i];
    bool ok = (c >= '0' && c <= '9') || (i >= 2 && (c == 'a' || c == 'f'));
    if (!ok) return false;
  }
  return true;
}

bool is_ptx_arch(const std::string& a) { return a.rfind("compute_", 0) == 0; }

void check_no_nul(const std::string& s, const char* what) {
  CUDAGO_EXPECTS(s.find('\0') == std::string::npos, kInvalidArgument,
                 std::string(what) + " contains a NUL byte");
}

struct ProgramDeleter {
  void operator()(nvrtcProgram p) const noexcept { nvrtcDestroyProgram(&p); }
};
using Program = std::unique_ptr<_nvrtcProgram, ProgramDeleter>;

std::vector<std::string> build_options(const CompileOptions& o, const std::string& arch) {
  std::vector<std::string> opts;
  opts.push_back("-arch=" + arch);
  if (!o.std.empty()) opts.push_back("-std=" + o.std);
  for (const auto& [name, value] : o.defines) {
    CUDAGO_EXPECTS(!name.empty(), kInvalidArgument, "a define has an empty name");
    check_no_nul(name, "a define name");
    check_no_nul(value, "a define value");
    opts.push_back("-D" + name + (value.empty() ? "" : "=" + value));
  }
  for (const auto& e : o.extra) {
    CUDAGO_EXPECTS(!e.empty(), kInvalidArgument, "an extra option is empty");
    check_no_nul(e, "an extra option");
    opts.push_back(e);
  }
  return opts;
}

CompileResult run_nvrtc(const std::string& source, const CompileOptions& o, const std::string& arch,
                        const std::vector<std::string>& opts) {
  std::vector<const char*> names, contents;
  for (const auto& [name, content] : o.headers) {
    CUDAGO_EXPECTS(!name.empty(), kInvalidArgument, "a header has an empty name");
    check_no_nul(name, "a header name");
    check_no_nul(content, "a header's content");
    names.push_back(name.c_str());
    contents.push_back(content.c_str());
  }
  nvrtcProgram raw = nullptr;
  CUDAGO_NVRTC_TRY(nvrtcCreateProgram(&raw, source.c_str(), "rtc_source.cu",
                                      static_cast<int>(names.size()), contents.data(),
                                      names.data()));
  Program prog(raw);
  for (const auto& e : o.name_expressions) {
    CUDAGO_EXPECTS(!e.empty(), kInvalidArgument, "a name expression is empty");
    check_no_nul(e, "a name expression");
    CUDAGO_NVRTC_TRY(nvrtcAddNameExpression(prog.get(), e.c_str()));
  }
  std::vector<const char*> argv;
  for (const auto& s : opts) argv.push_back(s.c_str());
  nvrtcResult rc = nvrtcCompileProgram(prog.get(), static_cast<int>(argv.size()), argv.data());

  CompileResult out;
  out.arch = arch;
  size_t log_size = 0;
  if (nvrtcGetProgramLogSize(prog.get(), &log_size) == NVRTC_SUCCESS && log_size > 1) {
    std::string log(log_size, '\0');
    if (nvrtcGetProgramLog(prog.get(), log.data()) == NVRTC_SUCCESS) {
      log.resize(std::strlen(log.c_str()));
      out.log = std::move(log);
    }
  }
  if (rc != NVRTC_SUCCESS) {
    Status st = rc == NVRTC_ERROR_INVALID_OPTION ? Status::kInvalidArgument : Status::kNvrtc;
    throw CompileError(st,
                       std::string("NVRTC compile for ") + arch + " failed (" +
                           nvrtcGetErrorString(rc) + "):\n" + out.log,
                       static_cast<int32_t>(rc), nvrtcGetErrorString(rc), out.log);
  }
  size_t size = 0;
  if (is_ptx_arch(arch)) {
    CUDAGO_NVRTC_TRY(nvrtcGetPTXSize(prog.get(), &size));
    out.image.resize(size);
    CUDAGO_NVRTC_TRY(nvrtcGetPTX(prog.get(), out.image.data()));
  } else {
    CUDAGO_NVRTC_TRY(nvrtcGetCUBINSize(prog.get(), &size));
    out.image.resize(size);
    CUDAGO_NVRTC_TRY(nvrtcGetCUBIN(prog.get(), out.image.data()));
  }
  for (const auto& e : o.name_expressions) {
    const char* lowered = nullptr;
    CUDAGO_NVRTC_TRY(nvrtcGetLoweredName(prog.get(), e.c_str(), &lowered));
    // NVRTC 13.0 reports success with a NULL name for some sources (one with a 0xFF byte, for
    // one): the expression named nothing that was instantiated.
    CUDAGO_EXPECTS(lowered != nullptr && *lowered != '\0', kNvrtc,
                   "NVRTC lowered no name for the name expression '" + e +
                       "' (it names no __global__ function the source instantiates)");
    out.lowered_names[e] = lowered;
  }
  return out;
}

// ---- the compile cache ----

void put_str(std::string& k, const std::string& s) {
  k += std::to_string(s.size());
  k += ':';
  k += s;
}

std::string cache_key(const std::string& source, const CompileOptions& o, const std::string& arch,
                      const std::vector<std::string>& opts) {
  int major = 0, minor = 0;
  nvrtcVersion(&major, &minor);
  std::string k = "cudago-rtc-1 nvrtc " + std::to_string(major) + "." + std::to_string(minor);
  put_str(k, arch);
  k += "opts" + std::to_string(opts.size());
  for (const auto& s : opts) put_str(k, s);
  k += "hdrs" + std::to_string(o.headers.size());
  for (const auto& [n, c] : o.headers) {
    put_str(k, n);
    put_str(k, c);
  }
  k += "names" + std::to_string(o.name_expressions.size());
  for (const auto& e : o.name_expressions) put_str(k, e);
  k += "src";
  put_str(k, source);
  return k;
}

uint64_t fnv1a(const std::string& s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string key_file_name(const std::string& key) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx",
                static_cast<unsigned long long>(fnv1a(key, 14695981039346656037ULL)),
                static_cast<unsigned long long>(fnv1a(key, 0x9e3779b97f4a7c15ULL)));
  return std::string(buf) + ".cubin-cache";
}

// Version 2 ends with a checksum of everything before it, so a corrupted image (a flipped
// byte that leaves the structure intact) is a miss, never a successful compile.
constexpr char kMagic[] = "CUDAGO-RTC-CACHE-2\n";
constexpr uint64_t kChecksumSeed = 0x6a09e667f3bcc909ULL;

void write_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void write_blob(std::string& out, const std::string& s) {
  write_u64(out, s.size());
  out += s;
}

std::string serialize(const std::string& key, const CompileResult& r) {
  std::string out(kMagic);
  write_blob(out, key);
  write_blob(out, r.arch);
  write_blob(out, std::string(r.image.begin(), r.image.end()));
  write_blob(out, r.log);
  write_u64(out, r.lowered_names.size());
  for (const auto& [e, l] : r.lowered_names) {
    write_blob(out, e);
    write_blob(out, l);
  }
  write_u64(out, fnv1a(out, kChecksumSeed));
  return out;
}

class Reader {
 public:
  explicit Reader(const std::string& s) : s_(s) {}
  bool u64(uint64_t& v) {
    if (s_.size() - pos_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) {
      v |= static_cast<uint64_t>(static_cast<unsigned char>(s_[pos_ + i])) << (8 * i);
    }
    pos_ += 8;
    return true;
  }
  bool blob(std::string& out) {
    uint64_t n = 0;
    if (!u64(n) || s_.size() - pos_ < n) return false;
    out.assign(s_, pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == s_.size(); }
  void skip(size_t n) { pos_ += n; }

 private:
  const std::string& s_;
  size_t pos_ = 0;
};

bool deserialize(const std::string& file, const std::string& key, CompileResult& r) {
  const size_t magic_len = sizeof(kMagic) - 1;
  if (file.size() < magic_len + 8 || file.compare(0, magic_len, kMagic) != 0) return false;
  const std::string data = file.substr(0, file.size() - 8);
  Reader tail(file);
  tail.skip(data.size());
  uint64_t sum = 0;
  if (!tail.u64(sum) || sum != fnv1a(data, kChecksumSeed)) return false;
  Reader rd(data);
  rd.skip(magic_len);
  std::string stored_key, image;
  if (!rd.blob(stored_key) || stored_key != key) return false;
  if (!rd.blob(r.arch) || !rd.blob(image) || !rd.blob(r.log)) return false;
  uint64_t n = 0;
  if (!rd.u64(n) || n > (1u << 20)) return false;
  r.lowered_names.clear();
  for (uint64_t i = 0; i < n; ++i) {
    std::string e, l;
    if (!rd.blob(e) || !rd.blob(l)) return false;
    // The writer stores the names in the map's order, each once: anything else was not written
    // by it.
    if (!r.lowered_names.empty() && !(r.lowered_names.rbegin()->first < e)) return false;
    r.lowered_names.emplace_hint(r.lowered_names.end(), std::move(e), std::move(l));
  }
  if (!rd.done() || image.empty()) return false;
  r.image.assign(image.begin(), image.end());
  return true;
}

class Cache {
 public:
  static Cache& get() {
    static Cache* c = new Cache();  // leaked on purpose: usable during static destruction
    return *c;
  }

  bool lookup(const std::string& key, CompileResult& out) {
    std::string dir;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = index_.find(key);
      if (it != index_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second);
        out = it->second->second;
        ++stats_.hits;
        return true;
      }
      dir = dir_;
    }
    if (dir.empty()) return false;
    std::ifstream in(std::filesystem::path(dir) / key_file_name(key), std::ios::binary);
    if (!in) return false;
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CompileResult r;
    if (!deserialize(data, key, r)) return false;
    insert_memory(key, r);
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.disk_hits;
    out = std::move(r);
    return true;
  }

  void store(const std::string& key, const CompileResult& r) {
    std::string dir;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.misses;
      dir = dir_;
    }
    insert_memory(key, r);
    if (dir.empty()) return;
    // Best effort: a cache that cannot be written only costs a later compile.
    namespace fs = std::filesystem;
    static std::atomic<uint64_t> counter{0};
    fs::path final_path = fs::path(dir) / key_file_name(key);
    fs::path tmp = final_path;
    tmp += ".tmp." + std::to_string(static_cast<unsigned long long>(::getpid())) + "." +
           std::to_string(counter.fetch_add(1));
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) return;
      std::string data = serialize(key, r);
      out.write(data.data(), static_cast<std::streamsize>(data.size()));
      out.flush();
      if (!out) {
        out.close();
        std::error_code ec;
        fs::remove(tmp, ec);
        return;
      }
    }
    std::error_code ec;
    fs::rename(tmp, final_path, ec);
    if (ec) fs::remove(tmp, ec);
  }

  void set_dir(const std::string& dir) {
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      CUDAGO_EXPECTS(!ec && std::filesystem::is_directory(dir), kInvalidArgument,
                     "cache directory '" + dir + "' cannot be created: " + ec.message());
    }
    std::lock_guard<std::mutex> lock(mutex_);
    dir_ = dir;
  }
  std::string dir() {
    std::lock_guard<std::mutex> lock(mutex_);
    return dir_;
  }
  void set_capacity(size_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    capacity_ = n;
    trim();
  }
  CacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    CacheStats s = stats_;
    s.entries = lru_.size();
    return s;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    lru_.clear();
    index_.clear();
    stats_ = CacheStats{};
  }

 private:
  using Entry = std::pair<std::string, CompileResult>;

  void insert_memory(const std::string& key, const CompileResult& r) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (capacity_ == 0) return;
    auto it = index_.find(key);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return;
    }
    lru_.emplace_front(key, r);
    index_[key] = lru_.begin();
    trim();
  }
  void trim() {  // mutex_ held
    while (lru_.size() > capacity_) {
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }

  std::mutex mutex_;
  std::list<Entry> lru_;
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t capacity_ = 256;
  std::string dir_;
  CacheStats stats_;
};

}  // namespace

namespace detail {
std::string rtc_cache_serialize(const std::string& key, const CompileResult& r) {
  return serialize(key, r);
}
bool rtc_cache_deserialize(const std::string& file, const std::string& key, CompileResult& r) {
  return deserialize(file, key, r);
}
uint64_t rtc_cache_checksum(const std::string& data) { return fnv1a(data, kChecksumSeed); }
}  // namespace detail

std::string device_arch(int device) {
  require_device(device);
  int major = 0, minor = 0;
  CUDAGO_CUDA_TRY(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  CUDAGO_CUDA_TRY(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  return "sm_" + std::to_string(major) + std::to_string(minor);
}

CompileResult compile(int device, const std::string& source, const CompileOptions& options) {
  check_no_nul(source, "source");
  std::string arch = options.arch;
  if (arch.empty()) {
    arch = device_arch(device);
  } else {
    CUDAGO_EXPECTS(valid_arch(arch), kInvalidArgument,
                   "arch '" + arch + "' is not of the form sm_XY or compute_XY");
  }
  std::vector<std::string> opts = build_options(options, arch);
  if (!options.use_cache) return run_nvrtc(source, options, arch, opts);
  std::string key = cache_key(source, options, arch, opts);
  CompileResult r;
  if (Cache::get().lookup(key, r)) return r;
  r = run_nvrtc(source, options, arch, opts);
  Cache::get().store(key, r);
  return r;
}

void cache_set_dir(const std::string& dir) { Cache::get().set_dir(dir); }
std::string cache_dir() { return Cache::get().dir(); }
void cache_set_capacity(size_t entries) { Cache::get().set_capacity(entries); }
CacheStats cache_stats() { return Cache::get().stats(); }
void cache_clear() { Cache::get().clear(); }

// ---- modules and kernels ----

std::shared_ptr<Module> Module::load(int device, CompileResult result) {
  require_device(device);
  CUDAGO_EXPECTS(!result.image.empty(), kInvalidArgument, "the compile result has no code");
  DeviceGuard guard(device);
  cudaLibrary_t lib = nullptr;
  CUDAGO_CUDA_TRY(
      cudaLibraryLoadData(&lib, result.image.data(), nullptr, nullptr, 0, nullptr, nullptr, 0));
  return std::shared_ptr<Module>(new Module(device, std::move(result), lib));
}

Module::~Module() {
  RelaxedCaptureMode relaxed;
  for (const StreamPtr& s : uses_.snapshot()) s->host_wait();
  // Libraries are context-independent: no current device is needed to unload one.
  if (cudaLibraryUnload(library_) != cudaSuccess) (void)cudaGetLastError();
}

std::shared_ptr<Kernel> Kernel::get(const ModulePtr& module, const std::string& name) {
  CUDAGO_EXPECTS(module != nullptr, kInvalidHandle, "module is NULL");
  CUDAGO_EXPECTS(!name.empty(), kInvalidArgument, "kernel name is empty");
  check_no_nul(name, "kernel name");
  std::string symbol = name;
  const auto& lowered = module->result().lowered_names;
  if (auto it = lowered.find(name); it != lowered.end()) symbol = it->second;

  DeviceGuard guard(module->device());
  cudaKernel_t k = nullptr;
  cudaError_t err = cudaLibraryGetKernel(&k, module->library(), symbol.c_str());
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    throw Error(Status::kInvalidArgument,
                "no kernel named '" + name + "' in the module (" + cudaGetErrorName(err) +
                    "); a template needs its name expression at compile time and extern \"C\" "
                    "avoids mangling",
                static_cast<int32_t>(err), cudaGetErrorName(err));
  }
  std::shared_ptr<Kernel> kernel(new Kernel(module, name, k));
  const void* fn = reinterpret_cast<const void*>(k);
  cudaFuncAttributes fa{};
  CUDAGO_CUDA_TRY(cudaFuncGetAttributes(&fa, fn));
  kernel->attrs_.num_regs = fa.numRegs;
  kernel->attrs_.shared_bytes = static_cast<int64_t>(fa.sharedSizeBytes);
  kernel->attrs_.const_bytes = static_cast<int64_t>(fa.constSizeBytes);
  kernel->attrs_.local_bytes = static_cast<int64_t>(fa.localSizeBytes);
  kernel->attrs_.max_threads_per_block = fa.maxThreadsPerBlock;
  kernel->attrs_.ptx_version = fa.ptxVersion;
  kernel->attrs_.binary_version = fa.binaryVersion;
  // The parameter layout: indices are queried until CUDA answers "invalid value" (past the
  // end). Any other answer means the driver cannot tell: launches are then not checked.
  for (size_t i = 0;; ++i) {
    size_t offset = 0, size = 0;
    cudaError_t e = cudaFuncGetParamInfo(fn, i, &offset, &size);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      if (e != cudaErrorInvalidValue) {
        kernel->params_known_ = false;
        kernel->param_sizes_.clear();
      }
      break;
    }
    kernel->param_sizes_.push_back(size);
  }
  kernel->attrs_.num_params =
      kernel->params_known_ ? static_cast<int32_t>(kernel->param_sizes_.size()) : -1;
  return kernel;
}

std::pair<int, int> Kernel::occupancy(size_t dynamic_smem) const {
  DeviceGuard guard(module_->device());
  int min_grid = 0, block = 0;
  CUDAGO_CUDA_TRY(cudaOccupancyMaxPotentialBlockSize(
      &min_grid, &block, reinterpret_cast<const void*>(kernel_), dynamic_smem, 0));
  return {block, min_grid};
}

void Kernel::launch(const StreamPtr& stream, Dim3 grid, Dim3 block, uint32_t dynamic_smem,
                    KernelArg* args, size_t nargs) const {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "stream is NULL");
  CUDAGO_EXPECTS(stream->device() == module_->device(), kDeviceMismatch,
                 "the stream is on device " + std::to_string(stream->device()) +
                     ", the kernel's module on device " + std::to_string(module_->device()));
  CUDAGO_EXPECTS(
      grid.x >= 1 && grid.y >= 1 && grid.z >= 1 && block.x >= 1 && block.y >= 1 && block.z >= 1,
      kInvalidArgument, "every grid and block dimension must be at least 1");
  uint64_t threads = uint64_t{block.x} * block.y * block.z;
  CUDAGO_EXPECTS(threads <= static_cast<uint64_t>(attrs_.max_threads_per_block), kInvalidArgument,
                 "block of " + std::to_string(threads) + " threads exceeds the kernel's maximum " +
                     std::to_string(attrs_.max_threads_per_block));
  CUDAGO_EXPECTS(!params_known_ || nargs == param_sizes_.size(), kInvalidArgument,
                 "kernel '" + name_ + "' takes " + std::to_string(param_sizes_.size()) +
                     " arguments, " + std::to_string(nargs) + " given");
  // The parameter pointers: on the stack for the usual few, on the heap beyond.
  void* inline_ptrs[kInlineArgs];
  std::vector<void*> heap_ptrs;
  void** ptrs = inline_ptrs;
  if (nargs > kInlineArgs) {
    heap_ptrs.resize(nargs);
    ptrs = heap_ptrs.data();
  }
  for (size_t i = 0; i < nargs; ++i) {
    KernelArg& a = args[i];
    if (a.buffer != nullptr || a.host != nullptr) {
      uint64_t avail = 0;
      unsigned char* base = nullptr;
      if (a.buffer != nullptr) {
        CUDAGO_EXPECTS(a.buffer->device() == module_->device(), kDeviceMismatch,
                       "argument " + std::to_string(i) + ": the buffer is on device " +
                           std::to_string(a.buffer->device()) + ", the kernel on device " +
                           std::to_string(module_->device()));
        base = static_cast<unsigned char*>(a.buffer->data());
        avail = a.buffer->size();
      } else {
        base = static_cast<unsigned char*>(a.host->device_pointer());
        avail = a.host->size();
      }
      CUDAGO_EXPECTS(a.offset <= avail, kOutOfRange,
                     "argument " + std::to_string(i) + ": offset " + std::to_string(a.offset) +
                         " is past the buffer's " + std::to_string(avail) + " bytes");
      a.set_scalar(static_cast<void*>(base + a.offset));
      a.value = nullptr;
    }
    CUDAGO_EXPECTS(!params_known_ || a.size == param_sizes_[i], kInvalidArgument,
                   "argument " + std::to_string(i) + " of kernel '" + name_ + "' has " +
                       std::to_string(a.size) + " bytes, the parameter takes " +
                       std::to_string(param_sizes_[i]));
    ptrs[i] = a.value != nullptr ? const_cast<void*>(a.value) : a.inline_value;
  }

  DeviceGuard guard(module_->device());
  module_->uses_.note(stream);
  // A graph replays the kernel: it keeps the module loaded.
  if (stream->capturing()) {
    if (std::shared_ptr<Capture> cap = stream->capture()) cap->keep(module_);
  }
  // cudaLaunchKernel reports configuration errors (and earlier sticky faults) itself.
  CUDAGO_CUDA_TRY(cudaLaunchKernel(reinterpret_cast<const void*>(kernel_),
                                   dim3(grid.x, grid.y, grid.z), dim3(block.x, block.y, block.z),
                                   nargs == 0 ? nullptr : ptrs, dynamic_smem, stream->get()));
  for (size_t i = 0; i < nargs; ++i) {
    if (args[i].buffer != nullptr) args[i].buffer->used_on(stream);
    if (args[i].host != nullptr) args[i].host->used_on(stream);
  }
}

}  // namespace cudago
