// Run-time compilation (NVRTC) and launch of user kernels.
//
// compile() turns CUDA C++ source into SASS for one architecture (nvrtcGetCUBIN). By default the
// architecture is the device's compute capability (-arch=sm_XY); an explicit `arch` (e.g.
// "sm_90") compiles without touching a device, which works on a machine with no GPU. A failed
// compile throws Error(kNvrtc) whose message carries the compiler's full log; the log is also kept
// on the CompileResult of a successful compile (warnings).
//
// A Module is compiled code loaded on one device through the runtime API (cudaLibraryLoadData),
// so libcudago does not link the driver API. Kernels are looked up by name, or by the name
// expression given at compile time (its lowered name is used). A Kernel keeps its Module alive.
//
// Launch arguments are checked against the kernel's parameter layout (cudaFuncGetParamInfo,
// CUDA 12.4+): the count and each argument's size must match, before anything is queued. Where
// the driver cannot report the layout, num_params is -1 and arguments are passed unchecked.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cudago/error.hpp"
#include "cudago/memory.hpp"
#include "cudago/stream.hpp"

namespace cudago {

struct CompileOptions {
  std::string arch;  // "sm_90" or "compute_90"; empty = the device's compute capability
  std::string std = "c++17";
  std::vector<std::pair<std::string, std::string>> defines;  // -DNAME=VALUE (VALUE may be "")
  std::vector<std::string> extra;                            // passed to NVRTC as they are
  std::vector<std::pair<std::string, std::string>> headers;  // include name, content
  std::vector<std::string> name_expressions;                 // e.g. "block_sum<float, 256>"
  bool use_cache = true;  // false: always run NVRTC, and neither read nor fill the cache
};

struct CompileResult {
  std::string arch;                                  // the architecture compiled for
  std::vector<char> image;                           // CUBIN (sm_) or PTX (compute_)
  std::string log;                                   // the compiler's log (warnings)
  std::map<std::string, std::string> lowered_names;  // name expression -> mangled name
};

// A failed compile: Error(kNvrtc) (kInvalidArgument for an option NVRTC refused) whose message
// ends with the log, which log() also gives whole.
class CompileError : public Error {
 public:
  CompileError(Status status, const std::string& message, int32_t native_code,
               std::string native_name, std::string log)
      : Error(status, message, native_code, std::move(native_name)), log_(std::move(log)) {}
  const std::string& log() const noexcept { return log_; }

 private:
  std::string log_;
};

// The architecture option for `device`: "sm_XY" from its compute capability.
std::string device_arch(int device);

// Compiles `source`. Uses `device` only when options.arch is empty. Throws Error(kNvrtc) with the
// full log on a compile error, Error(kInvalidArgument) on bad options.
CompileResult compile(int device, const std::string& source, const CompileOptions& options);

// The compile cache, shared by the process. The key holds the source, every option, the headers,
// the name expressions, the architecture and the NVRTC version, so a hit is exactly what NVRTC
// would have produced. In memory: at most `capacity` results (least recently used evicted; 0
// turns the memory cache off). On disk, when a directory is set: one file per key, named by a
// 128-bit hash of the key and holding the whole key, written to a temporary file and renamed
// into place; a file that cannot be read, is truncated or holds another key is ignored (and
// overwritten by the fresh compile). A hit never runs NVRTC.
struct CacheStats {
  uint64_t hits = 0;       // served from memory
  uint64_t disk_hits = 0;  // served from the disk directory
  uint64_t misses = 0;     // compiled by NVRTC (with the cache on)
  uint64_t entries = 0;    // results held in memory now
};
void cache_set_dir(const std::string& dir);  // "" turns the disk cache off; created if missing
std::string cache_dir();
void cache_set_capacity(size_t entries);  // default 256
CacheStats cache_stats();
void cache_clear();  // empties the memory cache and zeroes the stats (the disk is left alone)

struct KernelAttributes {
  int32_t num_regs = 0;
  int64_t shared_bytes = 0;  // static shared memory
  int64_t const_bytes = 0;
  int64_t local_bytes = 0;
  int32_t max_threads_per_block = 0;
  int32_t ptx_version = 0, binary_version = 0;
  int32_t num_params = 0;  // -1 when the driver cannot tell (launches are then not checked)
};

class Module {
 public:
  // Loads a compile result on `device`.
  static std::shared_ptr<Module> load(int device, CompileResult result);
  ~Module();  // waits for the streams its kernels ran on, then unloads
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  int device() const noexcept { return device_; }
  const CompileResult& result() const noexcept { return result_; }
  cudaLibrary_t library() const noexcept { return library_; }

 private:
  Module(int device, CompileResult result, cudaLibrary_t library)
      : device_(device), result_(std::move(result)), library_(library) {}
  friend class Kernel;
  int device_;
  CompileResult result_;
  cudaLibrary_t library_;
  StreamUses uses_;  // streams that launched its kernels: synchronized before unloading
};

using ModulePtr = std::shared_ptr<Module>;

// One launch argument, built without allocating: a scalar (its bytes in `inline_value`), a plain
// struct (`value` points at the caller's bytes, borrowed for the launch) or a device pointer
// taken from a buffer (plus a byte offset) whose use is recorded on the launch stream.
struct KernelArg {
  const void* value = nullptr;  // a struct's bytes, or null: the bytes are inline_value
  uint64_t size = 0;            // bytes of the value (filled at launch for buffers)
  DeviceBuffer* buffer = nullptr;
  HostBuffer* host = nullptr;  // a mapped host buffer (its device pointer is passed)
  uint64_t offset = 0;         // bytes into the buffer
  alignas(8) unsigned char inline_value[8] = {};  // a scalar, or a buffer's address at launch

  template <class T>
  void set_scalar(T v) noexcept {
    static_assert(sizeof(T) <= sizeof inline_value, "scalars are at most 8 bytes");
    std::memcpy(inline_value, &v, sizeof v);
    size = sizeof v;
  }
};

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
};

class Kernel {
 public:
  // Looks `name` up; a name expression given at compile time is replaced by its lowered name.
  static std::shared_ptr<Kernel> get(const ModulePtr& module, const std::string& name);

  const ModulePtr& module() const noexcept { return module_; }
  const std::string& name() const noexcept { return name_; }
  const KernelAttributes& attributes() const noexcept { return attrs_; }
  const std::vector<size_t>& param_sizes() const noexcept { return param_sizes_; }

  // cudaOccupancyMaxPotentialBlockSize: the block size with the best occupancy and the minimum
  // grid that fills the device with it.
  std::pair<int, int> occupancy(size_t dynamic_smem) const;

  // Checks the arguments against the parameter layout, then launches on `stream`. Allocates
  // nothing for up to kInlineArgs arguments.
  static constexpr size_t kInlineArgs = 32;
  void launch(const StreamPtr& stream, Dim3 grid, Dim3 block, uint32_t dynamic_smem,
              KernelArg* args, size_t nargs) const;

 private:
  Kernel(ModulePtr module, std::string name, cudaKernel_t kernel)
      : module_(std::move(module)), name_(std::move(name)), kernel_(kernel) {}
  ModulePtr module_;
  std::string name_;
  cudaKernel_t kernel_;
  KernelAttributes attrs_;
  std::vector<size_t> param_sizes_;
  bool params_known_ = true;
};

using KernelPtr = std::shared_ptr<Kernel>;

}  // namespace cudago
