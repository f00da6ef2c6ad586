// GPU metrics through NVML: per device utilisation, memory, power, energy, temperature, clocks
// and, on Hopper and newer, the GPM figures (SM active, SM occupancy, tensor-pipe active, DRAM
// bandwidth), sampled by a background thread off the request path and rendered by every scrape
// of metrics::Registry::global() (see docs/METRICS.md for the series).
//
// Loading: NVML is opened at run time with dlopen, never linked, so libcudago loads on machines
// without the NVIDIA driver. The library is $CUDAGO_NVML_LIBRARY when that is set, else
// "libnvidia-ml.so.1" from the loader's path; it is opened and initialised (nvmlInit_v2) once,
// by the sampler's first pass or by status(), and never closed. Where it cannot be opened, lacks
// a function cudago needs or fails to initialise, NVML is unavailable: the GPU series are absent,
// cudago_nvml_available is 0, and the reason goes to stderr once and is returned by status().
// The GPM functions are optional (drivers before r520 lack them). nvml.h is used for its types
// only.
//
// Sampling: a thread started by the first rendering (or by set_interval) reads every device
// each interval (default 1 s). A field NVML fails to give is left out for that device; a device
// whose handle or UUID fails is left out entirely. A scrape never calls NVML: it renders the
// last sample under a mutex, with its age.
//
// The "device" label is the CUDA ordinal of this process where the GPU is one CUDA sees (GPUs
// it does not see, e.g. outside CUDA_VISIBLE_DEVICES, are left out, as Triton does); where no
// NVML device matches a CUDA device by UUID (no CUDA driver, MIG instances), every NVML device
// is sampled and labelled with NVML's own index (nvidia-smi's).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cudago/metrics.hpp"

namespace cudago::nvml {

struct Status {
  bool available = false;
  std::string reason;  // why not, where not available
};

// Loads and initialises NVML if that has not happened yet (blocking: dlopen and nvmlInit, which
// can take a second on a large machine), and says whether it is available.
Status status();

// The sampling interval; zero turns GPU sampling off (the thread stops and the GPU series go).
// A non-zero interval starts the sampler now (it would start on the next rendering anyway);
// throws Error(kInvalidArgument) outside [kMinInterval, kMaxInterval].
constexpr std::chrono::nanoseconds kDefaultInterval = std::chrono::seconds(1);
constexpr std::chrono::nanoseconds kMinInterval = std::chrono::milliseconds(10);
constexpr std::chrono::nanoseconds kMaxInterval = std::chrono::hours(1);
void set_interval(std::chrono::nanoseconds interval);
std::chrono::nanoseconds interval();

// One device's sample, in base units; a field NVML did not give is empty.
struct DeviceSample {
  std::string device;  // the "device" label: CUDA ordinal, else NVML index
  unsigned nvml_index = 0;
  std::string uuid, name;
  std::optional<double> utilization;         // ratio 0–1 (NVML utilization.gpu)
  std::optional<double> memory_utilization;  // ratio 0–1 (NVML utilization.memory)
  std::optional<uint64_t> memory_used_bytes, memory_total_bytes;
  std::optional<double> power_watts, power_limit_watts;
  std::optional<uint64_t> energy_millijoules;  // since the driver was loaded
  std::optional<double> temperature_celsius;
  std::optional<double> sm_clock_hertz, memory_clock_hertz;
  // GPM, over the interval between this sample and the previous (ratios 0–1).
  std::optional<double> sm_active, sm_occupancy, tensor_active, dram_bandwidth;
  std::chrono::steady_clock::time_point taken;
};

// Takes a sample now in the calling thread (loading NVML if needed) and makes it the one
// scrapes render; the sampler's next pass comes an interval after it. The GPM figures need a
// previous sample of the device. Blocks on NVML.
void sample_now();

// The last sample (empty before the first, or where NVML is unavailable).
std::vector<DeviceSample> last_sample();

// Writes cudago_nvml_available and the per-device series of the last sample (with o.triton_names
// also Triton's nv_gpu_* and nv_energy_consumption); starts the sampler if it is on and not
// running. Never calls NVML. Registry::render calls it.
void write_metrics(metrics::Writer& w, const metrics::RenderOptions& o);

namespace detail {
// Tests only: stops the sampler, shuts NVML down (its library stays mapped), forgets the load
// and the samples and restores the default interval, so that the next use loads
// $CUDAGO_NVML_LIBRARY afresh.
void reset_for_tests();
}  // namespace detail

}  // namespace cudago::nvml
