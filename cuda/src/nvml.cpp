// GPU metrics through NVML: the loader, the sampler thread and the series. See cudago/nvml.hpp.
#include "cudago/nvml.hpp"

#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <nvml.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "cudago/device.hpp"
#include "cudago/error.hpp"

namespace cudago::nvml {
namespace {

using Clock = std::chrono::steady_clock;

// nvmlTemperature_v1_t, spelled out: older nvml.h headers lack it, and its layout is ABI.
struct TemperatureV1 {
  unsigned int version;
  int sensor_type;  // nvmlTemperatureSensors_t
  int temperature;
};
constexpr unsigned int kTemperatureV1 = static_cast<unsigned int>(sizeof(TemperatureV1)) | 1u << 24;

// The NVML functions cudago calls, resolved from the loaded library.
struct Api {
  // Required: every driver since long before GPM has them.
  nvmlReturn_t (*Init)();
  nvmlReturn_t (*Shutdown)();
  const char* (*ErrorString)(nvmlReturn_t);
  nvmlReturn_t (*DeviceGetCount)(unsigned int*);
  nvmlReturn_t (*DeviceGetHandleByIndex)(unsigned int, nvmlDevice_t*);
  nvmlReturn_t (*DeviceGetUUID)(nvmlDevice_t, char*, unsigned int);
  nvmlReturn_t (*DeviceGetName)(nvmlDevice_t, char*, unsigned int);
  nvmlReturn_t (*DeviceGetUtilizationRates)(nvmlDevice_t, nvmlUtilization_t*);
  nvmlReturn_t (*DeviceGetMemoryInfo)(nvmlDevice_t, nvmlMemory_t*);
  nvmlReturn_t (*DeviceGetPowerUsage)(nvmlDevice_t, unsigned int*);
  nvmlReturn_t (*DeviceGetEnforcedPowerLimit)(nvmlDevice_t, unsigned int*);
  nvmlReturn_t (*DeviceGetTotalEnergyConsumption)(nvmlDevice_t, unsigned long long*);
  nvmlReturn_t (*DeviceGetClockInfo)(nvmlDevice_t, nvmlClockType_t, unsigned int*);
  // Optional.
  nvmlReturn_t (*DeviceGetMemoryInfo_v2)(nvmlDevice_t, nvmlMemory_v2_t*);
  nvmlReturn_t (*DeviceGetTemperatureV)(nvmlDevice_t, TemperatureV1*);
  nvmlReturn_t (*DeviceGetTemperature)(nvmlDevice_t, nvmlTemperatureSensors_t, unsigned int*);
  // GPM (Hopper and newer; drivers from r520): all or none.
  nvmlReturn_t (*GpmQueryDeviceSupport)(nvmlDevice_t, nvmlGpmSupport_t*);
  nvmlReturn_t (*GpmSampleAlloc)(nvmlGpmSample_t*);
  nvmlReturn_t (*GpmSampleFree)(nvmlGpmSample_t);
  nvmlReturn_t (*GpmSampleGet)(nvmlDevice_t, nvmlGpmSample_t);
  nvmlReturn_t (*GpmMetricsGet)(nvmlGpmMetricsGet_t*);
};

struct Loaded {
  Api api{};
  bool ok = false;   // opened, every required function found, nvmlInit_v2 succeeded
  bool gpm = false;  // the GPM functions are there
  std::string reason;
  // The UUIDs ("GPU-…", NVML's spelling) of the devices CUDA sees, by CUDA ordinal.
  std::vector<std::string> cuda_uuids;
};

template <class F>
bool resolve(void* lib, const char* name, F& fn, std::string* error, const std::string& path) {
  void* sym = dlsym(lib, name);
  if (sym == nullptr) {
    fn = nullptr;
    const char* why = dlerror();
    if (error != nullptr) {
      *error = "NVML library \"" + path + "\" lacks " + name + " (" + (why ? why : "not found") +
               "); cudago needs an NVIDIA driver of release 450 or newer";
    }
    return false;
  }
  static_assert(sizeof(fn) == sizeof(sym), "function and object pointers differ in size");
  std::memcpy(&fn, &sym, sizeof fn);
  return true;
}

std::string error_text(const Api& a, nvmlReturn_t r) {
  const char* t = a.ErrorString != nullptr ? a.ErrorString(r) : nullptr;
  return std::string(t != nullptr ? t : "unknown NVML error") + " (" + std::to_string(r) + ")";
}

std::string uuid_text(const unsigned char* b) {
  char s[64];
  std::snprintf(s, sizeof s,
                "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                b[14], b[15]);
  return s;
}

// The CUDA devices' UUIDs. cudaGetDeviceProperties reads attributes only: no context is made.
std::vector<std::string> cuda_device_uuids() {
  std::vector<std::string> out;
  const int n = device_count();
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) == cudaSuccess) {
      out.push_back(uuid_text(reinterpret_cast<const unsigned char*>(p.uuid.bytes)));
    } else {
      (void)cudaGetLastError();
      out.emplace_back();
    }
  }
  return out;
}

Loaded load() {
  Loaded l;
  const char* env = std::getenv("CUDAGO_NVML_LIBRARY");
  const bool chosen = env != nullptr && env[0] != '\0';
  const std::string path = chosen ? env : "libnvidia-ml.so.1";
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    l.reason = "NVML could not be loaded: dlopen(\"" + path +
               "\") failed: " + (why ? why : "unknown reason") +
               (chosen ? " (the path comes from CUDAGO_NVML_LIBRARY)"
                       : "; the NVIDIA driver is not installed here (or set CUDAGO_NVML_LIBRARY "
                         "to its libnvidia-ml.so.1)");
    return l;
  }
  Api& a = l.api;
  std::string* e = &l.reason;
  bool ok =
      resolve(lib, "nvmlInit_v2", a.Init, e, path) &&
      resolve(lib, "nvmlShutdown", a.Shutdown, e, path) &&
      resolve(lib, "nvmlErrorString", a.ErrorString, e, path) &&
      resolve(lib, "nvmlDeviceGetCount_v2", a.DeviceGetCount, e, path) &&
      resolve(lib, "nvmlDeviceGetHandleByIndex_v2", a.DeviceGetHandleByIndex, e, path) &&
      resolve(lib, "nvmlDeviceGetUUID", a.DeviceGetUUID, e, path) &&
      resolve(lib, "nvmlDeviceGetName", a.DeviceGetName, e, path) &&
      resolve(lib, "nvmlDeviceGetUtilizationRates", a.DeviceGetUtilizationRates, e, path) &&
      resolve(lib, "nvmlDeviceGetMemoryInfo", a.DeviceGetMemoryInfo, e, path) &&
      resolve(lib, "nvmlDeviceGetPowerUsage", a.DeviceGetPowerUsage, e, path) &&
      resolve(lib, "nvmlDeviceGetEnforcedPowerLimit", a.DeviceGetEnforcedPowerLimit, e, path) &&
      resolve(lib, "nvmlDeviceGetTotalEnergyConsumption", a.DeviceGetTotalEnergyConsumption, e,
              path) &&
      resolve(lib, "nvmlDeviceGetClockInfo", a.DeviceGetClockInfo, e, path);
  if (!ok) {
    // Keep the library open: it is harmless, and closing could run its destructors for nothing.
    l.api = Api{};
    return l;
  }
  resolve(lib, "nvmlDeviceGetMemoryInfo_v2", a.DeviceGetMemoryInfo_v2, nullptr, path);
  resolve(lib, "nvmlDeviceGetTemperatureV", a.DeviceGetTemperatureV, nullptr, path);
  resolve(lib, "nvmlDeviceGetTemperature", a.DeviceGetTemperature, nullptr, path);
  l.gpm = resolve(lib, "nvmlGpmQueryDeviceSupport", a.GpmQueryDeviceSupport, nullptr, path) &&
          resolve(lib, "nvmlGpmSampleAlloc", a.GpmSampleAlloc, nullptr, path) &&
          resolve(lib, "nvmlGpmSampleFree", a.GpmSampleFree, nullptr, path) &&
          resolve(lib, "nvmlGpmSampleGet", a.GpmSampleGet, nullptr, path) &&
          resolve(lib, "nvmlGpmMetricsGet", a.GpmMetricsGet, nullptr, path);
  const nvmlReturn_t r = a.Init();
  if (r != NVML_SUCCESS) {
    l.reason =
        "NVML (\"" + path + "\") could not be initialised: nvmlInit_v2 failed: " + error_text(a, r);
    return l;
  }
  l.ok = true;
  l.cuda_uuids = cuda_device_uuids();
  return l;
}

// A device's GPM samples: the previous one and a spare, by NVML index.
struct Gpm {
  std::string uuid;
  bool supported = false;
  nvmlGpmSample_t prev = nullptr, spare = nullptr;
  bool have_prev = false;
};

constexpr unsigned int kGpmIds[4] = {NVML_GPM_METRIC_SM_UTIL, NVML_GPM_METRIC_SM_OCCUPANCY,
                                     NVML_GPM_METRIC_ANY_TENSOR_UTIL, NVML_GPM_METRIC_DRAM_BW_UTIL};

double ratio(double percent) { return std::clamp(percent / 100.0, 0.0, 1.0); }

class Sampler {
 public:
  static Sampler& get() {
    static Sampler* s = new Sampler();  // never destroyed: its thread is stopped at exit
    return *s;
  }

  Status status() {
    ensure_loaded();
    std::lock_guard<std::mutex> lock(load_mu_);
    return Status{lib_.ok, lib_.reason};
  }

  void set_interval(std::chrono::nanoseconds d) {
    if (d.count() != 0 && (d < kMinInterval || d > kMaxInterval)) {
      throw Error(cudago::Status::kInvalidArgument,
                  "GPU metrics interval " + std::to_string(d.count()) +
                      " ns is outside [10 ms, 1 h] (0 turns GPU sampling off)");
    }
    if (d.count() == 0) {
      stop(true);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    interval_ = d;
    changed_ = true;
    cv_.notify_all();
    start_locked();
  }

  std::chrono::nanoseconds interval() {
    std::lock_guard<std::mutex> lock(mu_);
    return interval_;
  }

  void sample_now() {
    std::lock_guard<std::mutex> sl(sample_mu_);
    const Clock::time_point start = Clock::now();
    ensure_loaded();
    std::vector<DeviceSample> s;
    if (load_state_.load(std::memory_order_acquire) == kAvailable) s = take();
    std::lock_guard<std::mutex> lock(mu_);
    samples_ = std::move(s);
    last_pass_ = start;
  }

  std::vector<DeviceSample> last_sample() {
    std::lock_guard<std::mutex> lock(mu_);
    return samples_;
  }

  void write(metrics::Writer& w, const metrics::RenderOptions& o) {
    std::vector<DeviceSample> samples;
    int state;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (interval_.count() == 0) return;  // sampling off: no GPU series at all
      start_locked();
      state = load_state_.load(std::memory_order_acquire);
      if (state == kNotLoaded) return;  // the first pass is still loading NVML
      samples = samples_;
    }
    w.gauge("cudago_nvml_available",
            "1 when NVML (libnvidia-ml) is loaded and initialised, 0 when it is not (no NVIDIA "
            "driver: the reason is in the log, and the GPU series are absent).",
            {}, state == kAvailable ? 1 : 0);
    const Clock::time_point now = Clock::now();
    write_devices(w, o, samples, now);
  }

  void reset_for_tests() {
    stop(true);
    std::lock_guard<std::mutex> sl(sample_mu_);
    std::lock_guard<std::mutex> ll(load_mu_);
    free_gpm_all();
    if (load_state_.load() == kAvailable) lib_.api.Shutdown();
    lib_ = Loaded{};
    load_state_.store(kNotLoaded);
    std::lock_guard<std::mutex> lock(mu_);
    samples_.clear();
    last_pass_.reset();
    interval_ = kDefaultInterval;
  }

 private:
  enum { kNotLoaded = 0, kAvailable = 1, kUnavailable = 2 };

  void ensure_loaded() {
    if (load_state_.load(std::memory_order_acquire) != kNotLoaded) return;
    std::lock_guard<std::mutex> lock(load_mu_);
    if (load_state_.load(std::memory_order_relaxed) != kNotLoaded) return;
    lib_ = load();
    if (!lib_.ok)
      std::fprintf(stderr, "cudago: GPU metrics unavailable: %s\n", lib_.reason.c_str());
    // Stop the thread before exit() runs NVML's destructors: handlers run in reverse order of
    // registration, and NVML registered its own when it was loaded, just before.
    register_at_exit(after_load_registered_);
    load_state_.store(lib_.ok ? kAvailable : kUnavailable, std::memory_order_release);
  }

  // Registers at_exit once per flag: once when the first thread starts (an exit during the
  // first load), once after the first load; running it twice does no harm.
  static void register_at_exit(std::atomic<bool>& done) {
    if (!done.exchange(true)) std::atexit([] { Sampler::get().at_exit(); });
  }

  void at_exit() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      exiting_ = true;
    }
    stop(false);
  }

  // Starts the thread where sampling is on and it is not running; mu_ held.
  void start_locked() {
    if (thread_.joinable() || interval_.count() == 0 || exiting_) return;
    register_at_exit(start_registered_);
    thread_ = std::thread(&Sampler::run, this, run_id_);
  }

  // Stops the thread (and, with off, turns sampling off and drops the samples).
  void stop(bool off) {
    std::thread t;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++run_id_;
      if (off) {
        interval_ = std::chrono::nanoseconds(0);
        samples_.clear();
        last_pass_.reset();
      }
      cv_.notify_all();
      t = std::move(thread_);
    }
    if (!t.joinable()) return;
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else {
      t.join();
    }
  }

  // The thread: a pass whenever the last one (its own or sample_now's) is an interval old.
  void run(uint64_t id) {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        for (;;) {
          if (run_id_ != id || interval_.count() == 0) return;
          if (!last_pass_) break;
          const Clock::time_point due =
              *last_pass_ + std::chrono::duration_cast<Clock::duration>(interval_);
          if (Clock::now() >= due) break;
          changed_ = false;
          cv_.wait_until(lock, due, [&] { return run_id_ != id || changed_; });
        }
      }
      try {
        sample_now();
      } catch (...) {  // out of memory: try again next time
      }
    }
  }

  void free_gpm(Gpm& g) {
    if (g.prev != nullptr) lib_.api.GpmSampleFree(g.prev);
    if (g.spare != nullptr) lib_.api.GpmSampleFree(g.spare);
    g.prev = g.spare = nullptr;
    g.have_prev = false;
  }

  void free_gpm_all() {
    for (auto& [index, g] : gpm_) free_gpm(g);
    gpm_.clear();
  }

  // One pass over the devices; sample_mu_ held, NVML available.
  std::vector<DeviceSample> take() {
    const Api& a = lib_.api;
    struct Found {
      unsigned index;
      nvmlDevice_t handle;
      std::string uuid;
    };
    std::vector<Found> found;
    unsigned n = 0;
    if (a.DeviceGetCount(&n) != NVML_SUCCESS) n = 0;
    for (unsigned i = 0; i < n; ++i) {
      nvmlDevice_t h{};
      if (a.DeviceGetHandleByIndex(i, &h) != NVML_SUCCESS) continue;
      char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
      if (a.DeviceGetUUID(h, uuid, sizeof uuid) != NVML_SUCCESS) continue;
      uuid[sizeof uuid - 1] = '\0';
      found.push_back(Found{i, h, uuid});
    }
    // CUDA ordinals where the devices are CUDA's; NVML's indices where none is.
    auto ordinal = [&](const std::string& uuid) {
      auto it = std::find(lib_.cuda_uuids.begin(), lib_.cuda_uuids.end(), uuid);
      return it == lib_.cuda_uuids.end() ? -1 : static_cast<int>(it - lib_.cuda_uuids.begin());
    };
    const bool by_cuda = std::any_of(found.begin(), found.end(),
                                     [&](const Found& f) { return ordinal(f.uuid) >= 0; });
    std::vector<DeviceSample> out;
    std::map<unsigned, Gpm> gpm;
    for (const Found& f : found) {
      DeviceSample s;
      if (by_cuda) {
        const int o = ordinal(f.uuid);
        if (o < 0) continue;
        s.device = std::to_string(o);
      } else {
        s.device = std::to_string(f.index);
      }
      s.nvml_index = f.index;
      s.uuid = f.uuid;
      read_fields(f.handle, s);
      if (lib_.gpm) {
        auto it = gpm_.find(f.index);
        Gpm g;
        if (it != gpm_.end()) {
          g = it->second;
          gpm_.erase(it);
          if (g.uuid != f.uuid) {  // another device at that index now
            free_gpm(g);
            g = Gpm{};
          }
        } else {
          g.supported = gpm_supported(f.handle);
        }
        g.uuid = f.uuid;
        if (g.supported) read_gpm(f.handle, g, s);
        gpm.emplace(f.index, g);
      }
      s.taken = Clock::now();
      out.push_back(std::move(s));
    }
    free_gpm_all();  // devices gone since the last pass
    gpm_ = std::move(gpm);
    std::sort(out.begin(), out.end(), [](const DeviceSample& x, const DeviceSample& y) {
      return std::stoi(x.device) < std::stoi(y.device);
    });
    return out;
  }

  void read_fields(nvmlDevice_t h, DeviceSample& s) {
    const Api& a = lib_.api;
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = {};
    if (a.DeviceGetName(h, name, sizeof name) == NVML_SUCCESS) {
      name[sizeof name - 1] = '\0';
      s.name = name;
    }
    nvmlUtilization_t u{};
    if (a.DeviceGetUtilizationRates(h, &u) == NVML_SUCCESS) {
      s.utilization = ratio(u.gpu);
      s.memory_utilization = ratio(u.memory);
    }
    bool mem = false;
    if (a.DeviceGetMemoryInfo_v2 != nullptr) {
      // v2's "used" leaves out the memory the driver reserves, as nvidia-smi's memory.used does.
      nvmlMemory_v2_t m{};
      m.version = nvmlMemory_v2;
      if (a.DeviceGetMemoryInfo_v2(h, &m) == NVML_SUCCESS) {
        s.memory_used_bytes = m.used;
        s.memory_total_bytes = m.total;
        mem = true;
      }
    }
    if (!mem) {
      nvmlMemory_t m{};
      if (a.DeviceGetMemoryInfo(h, &m) == NVML_SUCCESS) {
        s.memory_used_bytes = m.used;
        s.memory_total_bytes = m.total;
      }
    }
    unsigned int v = 0;
    if (a.DeviceGetPowerUsage(h, &v) == NVML_SUCCESS) s.power_watts = v / 1000.0;  // mW
    if (a.DeviceGetEnforcedPowerLimit(h, &v) == NVML_SUCCESS) s.power_limit_watts = v / 1000.0;
    unsigned long long mj = 0;
    if (a.DeviceGetTotalEnergyConsumption(h, &mj) == NVML_SUCCESS) s.energy_millijoules = mj;
    bool temp = false;
    if (a.DeviceGetTemperatureV != nullptr) {
      TemperatureV1 t{};
      t.version = kTemperatureV1;
      t.sensor_type = NVML_TEMPERATURE_GPU;
      if (a.DeviceGetTemperatureV(h, &t) == NVML_SUCCESS) {
        s.temperature_celsius = t.temperature;
        temp = true;
      }
    }
    if (!temp && a.DeviceGetTemperature != nullptr &&
        a.DeviceGetTemperature(h, NVML_TEMPERATURE_GPU, &v) == NVML_SUCCESS) {
      s.temperature_celsius = v;
    }
    if (a.DeviceGetClockInfo(h, NVML_CLOCK_SM, &v) == NVML_SUCCESS) s.sm_clock_hertz = v * 1e6;
    if (a.DeviceGetClockInfo(h, NVML_CLOCK_MEM, &v) == NVML_SUCCESS) {
      s.memory_clock_hertz = v * 1e6;
    }
  }

  bool gpm_supported(nvmlDevice_t h) {
    nvmlGpmSupport_t sup{};
    sup.version = NVML_GPM_SUPPORT_VERSION;
    return lib_.api.GpmQueryDeviceSupport(h, &sup) == NVML_SUCCESS && sup.isSupportedDevice != 0;
  }

  // Takes a GPM sample; with a previous one, the metrics over the interval between them.
  void read_gpm(nvmlDevice_t h, Gpm& g, DeviceSample& s) {
    const Api& a = lib_.api;
    if (g.spare == nullptr && a.GpmSampleAlloc(&g.spare) != NVML_SUCCESS) {
      g.spare = nullptr;
      return;
    }
    if (a.GpmSampleGet(h, g.spare) != NVML_SUCCESS) {
      g.have_prev = false;
      return;
    }
    if (g.have_prev) {
      if (!metrics_get_) metrics_get_ = std::make_unique<nvmlGpmMetricsGet_t>();
      nvmlGpmMetricsGet_t& m = *metrics_get_;
      std::memset(&m, 0, sizeof m);
      m.version = NVML_GPM_METRICS_GET_VERSION;
      m.numMetrics = 4;
      m.sample1 = g.prev;
      m.sample2 = g.spare;
      for (unsigned k = 0; k < 4; ++k) m.metrics[k].metricId = kGpmIds[k];
      if (a.GpmMetricsGet(&m) == NVML_SUCCESS) {
        std::optional<double>* dst[4] = {&s.sm_active, &s.sm_occupancy, &s.tensor_active,
                                         &s.dram_bandwidth};
        for (unsigned k = 0; k < 4; ++k) {
          if (m.metrics[k].nvmlReturn == NVML_SUCCESS) *dst[k] = ratio(m.metrics[k].value);
        }
      }
    }
    std::swap(g.prev, g.spare);
    g.have_prev = true;
  }

  // The series of every device, family by family (so that the families' order does not
  // depend on which fields the first device lacks).
  static void write_devices(metrics::Writer& w, const metrics::RenderOptions& o,
                            const std::vector<DeviceSample>& samples, Clock::time_point now) {
    using Get = std::optional<double> (*)(const DeviceSample&);
    auto each = [&](const char* name, const char* help, Get get, bool counter = false) {
      for (const DeviceSample& d : samples) {
        std::optional<double> v = get(d);
        if (!v) continue;
        const metrics::Labels l{{"device", d.device}, {"uuid", d.uuid}, {"name", d.name}};
        if (counter) {
          w.counter(name, help, l, *v);
        } else {
          w.gauge(name, help, l, *v);
        }
      }
    };
    each("cudago_gpu_utilization_ratio",
         "Fraction of the last sample period (1/6 s to 1 s) in which a kernel ran (NVML "
         "utilization.gpu): busy, not necessarily doing much; see cudago_gpu_sm_active_ratio.",
         [](const DeviceSample& d) { return d.utilization; });
    each("cudago_gpu_memory_copy_utilization_ratio",
         "Fraction of the last sample period in which device memory was read or written (NVML "
         "utilization.memory).",
         [](const DeviceSample& d) { return d.memory_utilization; });
    each("cudago_gpu_memory_used_bytes",
         "Device memory allocated, by every process (the driver's reserve left out).",
         [](const DeviceSample& d) { return as_double(d.memory_used_bytes); });
    each("cudago_gpu_memory_total_bytes", "Device memory in all.",
         [](const DeviceSample& d) { return as_double(d.memory_total_bytes); });
    each("cudago_gpu_power_watts",
         "Power draw (NVML's power usage: a 1 s average on Ampere and newer).",
         [](const DeviceSample& d) { return d.power_watts; });
    each("cudago_gpu_power_limit_watts", "The enforced power limit.",
         [](const DeviceSample& d) { return d.power_limit_watts; });
    each(
        "cudago_gpu_energy_joules_total", "Energy the GPU used since the driver was loaded.",
        [](const DeviceSample& d) { return joules(d.energy_millijoules); }, true);
    each("cudago_gpu_temperature_celsius", "GPU die temperature.",
         [](const DeviceSample& d) { return d.temperature_celsius; });
    each("cudago_gpu_sm_clock_hertz", "SM clock.",
         [](const DeviceSample& d) { return d.sm_clock_hertz; });
    each("cudago_gpu_memory_clock_hertz", "Memory clock.",
         [](const DeviceSample& d) { return d.memory_clock_hertz; });
    each("cudago_gpu_sm_active_ratio",
         "Fraction of SMs busy over the last sampling interval (NVML GPM SM_UTIL; Hopper and "
         "newer).",
         [](const DeviceSample& d) { return d.sm_active; });
    each("cudago_gpu_sm_occupancy_ratio",
         "Resident warps over the SMs' maximum, over the last sampling interval (NVML GPM "
         "SM_OCCUPANCY; Hopper and newer).",
         [](const DeviceSample& d) { return d.sm_occupancy; });
    each("cudago_gpu_tensor_active_ratio",
         "Fraction of the last sampling interval in which the SMs ran tensor-core operations "
         "(NVML GPM ANY_TENSOR_UTIL; Hopper and newer).",
         [](const DeviceSample& d) { return d.tensor_active; });
    each("cudago_gpu_dram_bandwidth_ratio",
         "DRAM bandwidth used over its peak, over the last sampling interval (NVML GPM "
         "DRAM_BW_UTIL; Hopper and newer).",
         [](const DeviceSample& d) { return d.dram_bandwidth; });
    for (const DeviceSample& d : samples) {
      w.gauge("cudago_gpu_sample_age_seconds", "Time since the device's series were sampled.",
              {{"device", d.device}, {"uuid", d.uuid}, {"name", d.name}},
              std::max(0.0, std::chrono::duration<double>(now - d.taken).count()));
    }
    if (!o.triton_names) return;
    // Triton's names, units and label (gpu_uuid), for existing dashboards.
    auto triton = [&](const char* name, const char* help, Get get, bool counter = false) {
      for (const DeviceSample& d : samples) {
        std::optional<double> v = get(d);
        if (!v) continue;
        if (counter) {
          w.counter(name, help, {{"gpu_uuid", d.uuid}}, *v);
        } else {
          w.gauge(name, help, {{"gpu_uuid", d.uuid}}, *v);
        }
      }
    };
    triton("nv_gpu_utilization", "GPU utilization rate [0.0 - 1.0) (Triton).",
           [](const DeviceSample& d) { return d.utilization; });
    triton("nv_gpu_memory_total_bytes", "GPU total memory, in bytes (Triton).",
           [](const DeviceSample& d) { return as_double(d.memory_total_bytes); });
    triton("nv_gpu_memory_used_bytes", "GPU used memory, in bytes (Triton).",
           [](const DeviceSample& d) { return as_double(d.memory_used_bytes); });
    triton("nv_gpu_power_usage", "GPU power usage in watts (Triton).",
           [](const DeviceSample& d) { return d.power_watts; });
    triton("nv_gpu_power_limit", "GPU power management limit in watts (Triton).",
           [](const DeviceSample& d) { return d.power_limit_watts; });
    triton(
        "nv_energy_consumption", "GPU energy consumption in joules (Triton).",
        [](const DeviceSample& d) { return joules(d.energy_millijoules); }, true);
  }

  static std::optional<double> as_double(const std::optional<uint64_t>& v) {
    if (!v) return std::nullopt;
    return static_cast<double>(*v);
  }
  static std::optional<double> joules(const std::optional<uint64_t>& mj) {
    if (!mj) return std::nullopt;
    return static_cast<double>(*mj) / 1000.0;
  }

  // Loading: lib_ is written under load_mu_ before load_state_ says it is loaded, and then only
  // by reset_for_tests (with every user stopped).
  std::mutex load_mu_;
  std::atomic<int> load_state_{kNotLoaded};
  Loaded lib_;
  std::atomic<bool> start_registered_{false}, after_load_registered_{false};
  // One pass at a time (the GPM samples are its state).
  std::mutex sample_mu_;
  std::map<unsigned, Gpm> gpm_;
  std::unique_ptr<nvmlGpmMetricsGet_t> metrics_get_;  // ~19 KB: not on the stack
  // The thread and what scrapes read.
  std::mutex mu_;
  std::condition_variable cv_;
  std::chrono::nanoseconds interval_ = kDefaultInterval;
  bool changed_ = false;
  bool exiting_ = false;
  uint64_t run_id_ = 0;  // a thread runs while this is the id it started with
  std::thread thread_;
  std::vector<DeviceSample> samples_;
  std::optional<Clock::time_point> last_pass_;  // when the last pass began
};

}  // namespace

Status status() { return Sampler::get().status(); }

void set_interval(std::chrono::nanoseconds interval) { Sampler::get().set_interval(interval); }

std::chrono::nanoseconds interval() { return Sampler::get().interval(); }

void sample_now() { Sampler::get().sample_now(); }

std::vector<DeviceSample> last_sample() { return Sampler::get().last_sample(); }

void write_metrics(metrics::Writer& w, const metrics::RenderOptions& o) {
  Sampler::get().write(w, o);
}

namespace detail {
void reset_for_tests() { Sampler::get().reset_for_tests(); }
}  // namespace detail

}  // namespace cudago::nvml
