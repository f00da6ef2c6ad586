// GPU metrics through NVML. Without a GPU: fake libnvidia-ml libraries built from
// core/nvml_stub.c (tests/meson.build; one per variant) are loaded through CUDAGO_NVML_LIBRARY,
// and nvml::detail::reset_for_tests() makes the loader forget the previous one, so that each
// test loads its own: the values and units of the series, a field or device NVML fails, a
// device that disappears, a missing library, a missing function, a failing nvmlInit, the
// interval's bounds and the sampler thread. Every rendering goes through promtool check metrics
// where promtool is installed (CUDAGO_REQUIRE_TOOLS=1 requires it). On a GPU (NvmlGpu): the real
// library's samples for device 0 against nvidia-smi --query-gpu read in the same test.
#include "cudago/nvml.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/metrics.hpp"
#include "gpu_skip.hpp"

#ifndef CUDAGO_NVML_STUB_DIR
#define CUDAGO_NVML_STUB_DIR ""
#endif

namespace {

using cudago::metrics::Registry;
using cudago::metrics::RenderOptions;
namespace nvml = cudago::nvml;

// The stub of that variant: in $CUDAGO_NVML_STUB_DIR (meson test and meson devenv set it), else
// in the build directory compiled in, else in ../lib beside this executable (a bundle that
// carries them). Empty when there is none and no CUDAGO_NVML_STUB_DIR asks for them.
std::string stub_path(const char* variant) {
  const std::string file = std::string("/libnvml_stub_") + variant + ".so";
  const char* env = std::getenv("CUDAGO_NVML_STUB_DIR");
  if (env != nullptr && env[0] != '\0') return env + file;
  std::vector<std::string> dirs{CUDAGO_NVML_STUB_DIR};
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    std::string e(exe, static_cast<size_t>(n));
    dirs.push_back(e.substr(0, e.find_last_of('/')) + "/../lib");
  }
  for (const std::string& d : dirs) {
    if (!d.empty() && access((d + file).c_str(), R_OK) == 0) return d + file;
  }
  return "";
}

std::string render(bool triton = false) {
  RenderOptions o;
  o.triton_names = triton;
  return Registry::global().render(o);
}

// The value of the sample `name{labels}` (labels: the exact text between the braces, or empty
// for none); empty when there is no such line.
std::optional<double> value(const std::string& text, const std::string& name,
                            const std::string& labels) {
  const std::string prefix = labels.empty() ? name + " " : name + "{" + labels + "} ";
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, prefix.size(), prefix) == 0) {
      return std::strtod(line.c_str() + prefix.size(), nullptr);
    }
  }
  return std::nullopt;
}

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// Runs a command with `input` on its stdin; returns its exit status and output.
int run_with_input(const std::string& cmd, const std::string& input, std::string* out) {
  char path[] = "/tmp/cudago_nvml_test_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  FILE* f = fdopen(fd, "w");
  std::fwrite(input.data(), 1, input.size(), f);
  std::fclose(f);
  FILE* p = popen((cmd + " < " + path + " 2>&1").c_str(), "r");
  std::string o;
  if (p != nullptr) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) o.append(buf, n);
  }
  int st = p != nullptr ? pclose(p) : -1;
  unlink(path);
  if (out != nullptr) *out = o;
  return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool tools_required() {
  const char* v = std::getenv("CUDAGO_REQUIRE_TOOLS");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

// promtool check metrics must accept the text without a lint finding (cudago's names only).
void check_promtool(const std::string& text) {
  std::string where;
  if (run_with_input("command -v promtool", "", &where) != 0) {
    if (tools_required()) ADD_FAILURE() << "promtool not found (CUDAGO_REQUIRE_TOOLS=1)";
    return;
  }
  std::string out;
  int st = run_with_input("promtool check metrics", text, &out);
  EXPECT_EQ(st, 0) << "promtool check metrics: " << out << "\n--- exposition ---\n" << text;
}

// Loads the stub of that variant; the test ends there when it is skipped or failed.
#define USE(variant)                              \
  do {                                            \
    use(variant);                                 \
    if (IsSkipped() || HasFatalFailure()) return; \
  } while (0)

const char* const kDev0 =
    "device=\"0\",uuid=\"GPU-00000000-1111-2222-3333-444444444444\",name=\"NVIDIA H100 80GB HBM3\"";
const char* const kDev1 =
    "device=\"1\",uuid=\"GPU-00000001-1111-2222-3333-444444444444\",name=\"Fake \\\"GPU\\\" "
    "\\\\1\"";

class NvmlStub : public ::testing::Test {
 protected:
  void use(const char* variant) {
    path_ = stub_path(variant);
    if (path_.empty()) {
      GTEST_SKIP() << "no libnvml_stub_" << variant << ".so (tests/meson.build builds them; "
                   << "meson test and meson devenv set CUDAGO_NVML_STUB_DIR)";
    }
    ASSERT_EQ(access(path_.c_str(), R_OK), 0)
        << path_ << " is missing (built by tests/meson.build)";
    setenv("CUDAGO_NVML_LIBRARY", path_.c_str(), 1);
    nvml::detail::reset_for_tests();
  }
  void TearDown() override {
    unsetenv("CUDAGO_NVML_LIBRARY");
    nvml::detail::reset_for_tests();
  }
  // The stub's own control of its device count (the loader opened the same library).
  void set_devices(unsigned n) {
    // The same handle as the loader's (it stays open: closing could reset the stub's state).
    void* h = dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(h, nullptr) << dlerror();
    void* sym = dlsym(h, "nvml_stub_set_devices");
    ASSERT_NE(sym, nullptr);
    void (*fn)(unsigned);
    std::memcpy(&fn, &sym, sizeof fn);
    fn(n);
  }
  std::string path_;
};

TEST_F(NvmlStub, ValuesInBaseUnits) {
  USE("full");
  set_devices(2);
  nvml::Status st = nvml::status();
  ASSERT_TRUE(st.available) << st.reason;
  EXPECT_EQ(st.reason, "");
  nvml::sample_now();
  nvml::sample_now();  // GPM needs two
  const std::string t = render();
  EXPECT_EQ(value(t, "cudago_nvml_available", ""), 1.0) << t;
  EXPECT_EQ(value(t, "cudago_gpu_utilization_ratio", kDev0), 0.75) << t;
  EXPECT_EQ(value(t, "cudago_gpu_memory_copy_utilization_ratio", kDev0), 0.3);
  EXPECT_EQ(value(t, "cudago_gpu_memory_used_bytes", kDev0), 1073741824.0);  // v2: no reserve
  EXPECT_EQ(value(t, "cudago_gpu_memory_total_bytes", kDev0), 85899345920.0);
  EXPECT_EQ(value(t, "cudago_gpu_power_watts", kDev0), 250.0);  // 250000 mW
  EXPECT_EQ(value(t, "cudago_gpu_power_limit_watts", kDev0), 700.0);
  EXPECT_EQ(value(t, "cudago_gpu_energy_joules_total", kDev0), 123456.789);  // 123456789 mJ
  EXPECT_EQ(value(t, "cudago_gpu_temperature_celsius", kDev0), 45.0);  // nvmlDeviceGetTemperatureV
  EXPECT_EQ(value(t, "cudago_gpu_sm_clock_hertz", kDev0), 1980e6);
  EXPECT_EQ(value(t, "cudago_gpu_memory_clock_hertz", kDev0), 2619e6);
  EXPECT_EQ(value(t, "cudago_gpu_sm_active_ratio", kDev0), 0.5);
  EXPECT_EQ(value(t, "cudago_gpu_sm_occupancy_ratio", kDev0), 0.25);
  EXPECT_EQ(value(t, "cudago_gpu_tensor_active_ratio", kDev0), 0.125);
  EXPECT_EQ(value(t, "cudago_gpu_dram_bandwidth_ratio", kDev0), 0.75);
  std::optional<double> age = value(t, "cudago_gpu_sample_age_seconds", kDev0);
  ASSERT_TRUE(age.has_value());
  EXPECT_GE(*age, 0.0);
  EXPECT_LT(*age, 60.0);
  // Device 1: an escaped name, no GPM.
  EXPECT_EQ(value(t, "cudago_gpu_power_watts", kDev1), 60.5) << t;
  EXPECT_EQ(value(t, "cudago_gpu_energy_joules_total", kDev1), 0.0);
  EXPECT_EQ(value(t, "cudago_gpu_utilization_ratio", kDev1), 0.0);
  EXPECT_FALSE(value(t, "cudago_gpu_sm_active_ratio", kDev1).has_value());
  EXPECT_TRUE(has(t, "# TYPE cudago_gpu_energy_joules_total counter\n"));
  EXPECT_TRUE(has(t, "# TYPE cudago_gpu_power_watts gauge\n"));
  EXPECT_FALSE(has(t, "nv_gpu_"));
  check_promtool(t);
  // The C++ view.
  std::vector<nvml::DeviceSample> s = nvml::last_sample();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].device, "0");
  EXPECT_EQ(s[1].name, "Fake \"GPU\" \\1");
  EXPECT_EQ(s[0].energy_millijoules, 123456789u);
}

TEST_F(NvmlStub, TritonNames) {
  USE("full");
  set_devices(2);
  nvml::sample_now();
  const std::string t = render(true);
  const std::string l = "gpu_uuid=\"GPU-00000000-1111-2222-3333-444444444444\"";
  EXPECT_EQ(value(t, "nv_gpu_utilization", l), 0.75) << t;
  EXPECT_EQ(value(t, "nv_gpu_memory_total_bytes", l), 85899345920.0);
  EXPECT_EQ(value(t, "nv_gpu_memory_used_bytes", l), 1073741824.0);
  EXPECT_EQ(value(t, "nv_gpu_power_usage", l), 250.0);
  EXPECT_EQ(value(t, "nv_gpu_power_limit", l), 700.0);
  EXPECT_EQ(value(t, "nv_energy_consumption", l), 123456.789);
  EXPECT_TRUE(has(t, "# TYPE nv_energy_consumption counter\n"));
  EXPECT_EQ(value(t, "cudago_gpu_power_watts", kDev0), 250.0);  // cudago's names stay
}

TEST_F(NvmlStub, GpmNeedsTwoSamples) {
  USE("full");
  set_devices(2);
  nvml::sample_now();
  std::string t = render();
  EXPECT_TRUE(value(t, "cudago_gpu_power_watts", kDev0).has_value());
  EXPECT_FALSE(has(t, "\ncudago_gpu_sm_active_ratio{")) << t;
  nvml::sample_now();
  t = render();
  EXPECT_EQ(value(t, "cudago_gpu_sm_active_ratio", kDev0), 0.5);
}

TEST_F(NvmlStub, DeviceDisappears) {
  USE("full");
  set_devices(2);
  nvml::sample_now();
  nvml::sample_now();
  std::string t = render();
  ASSERT_TRUE(value(t, "cudago_gpu_power_watts", kDev1).has_value());
  set_devices(1);
  nvml::sample_now();
  t = render();
  EXPECT_FALSE(has(t, "uuid=\"GPU-00000001")) << t;
  EXPECT_EQ(value(t, "cudago_gpu_power_watts", kDev0), 250.0);
  EXPECT_EQ(value(t, "cudago_gpu_sm_active_ratio", kDev0), 0.5);  // its GPM state stays
  check_promtool(t);
  set_devices(0);
  nvml::sample_now();
  t = render();
  EXPECT_EQ(value(t, "cudago_nvml_available", ""), 1.0);
  EXPECT_FALSE(has(t, "cudago_gpu_")) << t;
  check_promtool(t);
  set_devices(2);  // back: device 1 again, its GPM from scratch
  nvml::sample_now();
  t = render();
  EXPECT_EQ(value(t, "cudago_gpu_power_watts", kDev1), 60.5);
}

TEST_F(NvmlStub, FieldAndDeviceErrors) {
  USE("errors");
  ASSERT_TRUE(nvml::status().available);
  nvml::sample_now();
  nvml::sample_now();
  const std::string t = render(true);
  const std::string d0 =
      "device=\"0\",uuid=\"GPU-00000000-1111-2222-3333-444444444444\",name=\"NVIDIA H100 80GB "
      "HBM3\"";
  const std::string d3 =
      "device=\"3\",uuid=\"GPU-00000003-1111-2222-3333-444444444444\",name=\"Fake \\\"GPU\\\" "
      "\\\\1\"";
  // Device 0: power and temperature failed, the rest is there (memory from v1: reserve included).
  EXPECT_FALSE(value(t, "cudago_gpu_power_watts", d0).has_value()) << t;
  EXPECT_FALSE(value(t, "cudago_gpu_temperature_celsius", d0).has_value());
  EXPECT_EQ(value(t, "cudago_gpu_utilization_ratio", d0), 0.75);
  EXPECT_EQ(value(t, "cudago_gpu_memory_used_bytes", d0), 1610612736.0);
  EXPECT_EQ(value(t, "cudago_gpu_power_limit_watts", d0), 700.0);
  EXPECT_EQ(value(t, "cudago_gpu_sm_active_ratio", d0), 0.5);
  EXPECT_FALSE(value(t, "cudago_gpu_sm_occupancy_ratio", d0).has_value());  // that metric failed
  // An energy counter near 2^64 mJ is still a number.
  std::optional<double> e = value(t, "cudago_gpu_energy_joules_total", d0);
  ASSERT_TRUE(e.has_value()) << t;
  EXPECT_NEAR(*e / 18446744073709551.0, 1.0, 1e-12);
  // Devices 1 (handle) and 2 (UUID) are left out; 3 keeps NVML's index.
  EXPECT_FALSE(has(t, "device=\"1\""));
  EXPECT_FALSE(has(t, "device=\"2\""));
  EXPECT_EQ(value(t, "cudago_gpu_temperature_celsius", d3), 33.0) << t;
  EXPECT_EQ(value(t, "cudago_gpu_power_watts", d3), 60.5);
  EXPECT_FALSE(has(t, "nv_gpu_power_usage{gpu_uuid=\"GPU-00000000"));
  check_promtool(render());
}

TEST_F(NvmlStub, MissingLibrary) {
  setenv("CUDAGO_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
  nvml::detail::reset_for_tests();
  nvml::Status st = nvml::status();
  EXPECT_FALSE(st.available);
  EXPECT_TRUE(has(st.reason, "dlopen(\"/nonexistent/libnvidia-ml.so.1\")")) << st.reason;
  EXPECT_TRUE(has(st.reason, "CUDAGO_NVML_LIBRARY")) << st.reason;
  nvml::sample_now();
  const std::string t = render(true);
  EXPECT_EQ(value(t, "cudago_nvml_available", ""), 0.0) << t;
  EXPECT_FALSE(has(t, "cudago_gpu_"));
  EXPECT_FALSE(has(t, "nv_gpu_"));
  EXPECT_TRUE(nvml::last_sample().empty());
  check_promtool(render());
}

TEST_F(NvmlStub, MissingRequiredFunction) {
  USE("missing");
  nvml::Status st = nvml::status();
  EXPECT_FALSE(st.available);
  EXPECT_TRUE(has(st.reason, "lacks nvmlDeviceGetPowerUsage")) << st.reason;
  EXPECT_TRUE(has(st.reason, path_)) << st.reason;
  nvml::sample_now();
  const std::string t = render();
  EXPECT_EQ(value(t, "cudago_nvml_available", ""), 0.0);
  EXPECT_FALSE(has(t, "cudago_gpu_"));
}

TEST_F(NvmlStub, InitFails) {
  USE("initfail");
  nvml::Status st = nvml::status();
  EXPECT_FALSE(st.available);
  EXPECT_TRUE(has(st.reason, "nvmlInit_v2 failed: Driver Not Loaded")) << st.reason;
  nvml::sample_now();
  const std::string t = render();
  EXPECT_EQ(value(t, "cudago_nvml_available", ""), 0.0);
  EXPECT_FALSE(has(t, "cudago_gpu_"));
}

TEST_F(NvmlStub, IntervalBoundsAndOff) {
  USE("full");
  set_devices(2);
  EXPECT_EQ(nvml::interval(), nvml::kDefaultInterval);
  for (auto bad : {std::chrono::nanoseconds(1), std::chrono::nanoseconds(9'999'999),
                   std::chrono::nanoseconds(std::chrono::hours(2))}) {
    try {
      nvml::set_interval(bad);
      ADD_FAILURE() << bad.count() << " ns accepted";
    } catch (const cudago::Error& e) {
      EXPECT_EQ(e.status(), cudago::Status::kInvalidArgument);
      EXPECT_TRUE(has(e.what(), "10 ms")) << e.what();
    }
  }
  nvml::sample_now();
  ASSERT_TRUE(has(render(), "cudago_gpu_power_watts"));
  nvml::set_interval(std::chrono::nanoseconds(0));  // off: no NVML series at all
  EXPECT_EQ(nvml::interval().count(), 0);
  std::string t = render();
  EXPECT_FALSE(has(t, "cudago_nvml_available")) << t;
  EXPECT_FALSE(has(t, "cudago_gpu_"));
  EXPECT_TRUE(has(t, "cudago_metrics_source_errors_total"));
}

// The thread: started by a rendering, it samples every interval without anyone calling
// sample_now, and scrapes running beside interval changes stay valid.
TEST_F(NvmlStub, SamplerThread) {
  USE("full");
  set_devices(2);
  nvml::set_interval(std::chrono::milliseconds(20));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string t;
  while (std::chrono::steady_clock::now() < deadline) {
    t = render();
    if (value(t, "cudago_gpu_sm_active_ratio", kDev0).has_value()) break;  // two passes
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(value(t, "cudago_gpu_sm_active_ratio", kDev0), 0.5) << t;
  // The sample keeps being renewed: its age stays around the interval.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::optional<double> age = value(render(), "cudago_gpu_sample_age_seconds", kDev0);
  ASSERT_TRUE(age.has_value());
  EXPECT_LT(*age, 1.0);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> scrapers;
  for (int i = 0; i < 3; ++i) {
    scrapers.emplace_back([&] {
      while (!stop.load()) {
        std::string x = render(true);
        if (!has(x, "cudago_metrics_source_errors_total")) ++bad;
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    nvml::set_interval(std::chrono::milliseconds(10 + i));
    if (i % 5 == 4) nvml::set_interval(std::chrono::nanoseconds(0));
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  stop = true;
  for (auto& s : scrapers) s.join();
  EXPECT_EQ(bad.load(), 0);
  nvml::set_interval(std::chrono::hours(1));
  nvml::sample_now();
  check_promtool(render());
}

// ---- on a GPU: the real NVML against nvidia-smi ---------------------------------------------

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(line);
  while (std::getline(in, cur, ',')) {
    size_t a = cur.find_first_not_of(" \t\r\n");
    size_t b = cur.find_last_not_of(" \t\r\n");
    out.push_back(a == std::string::npos ? "" : cur.substr(a, b - a + 1));
  }
  return out;
}

std::optional<double> number(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end == s.c_str() || *end != '\0') return std::nullopt;
  return v;
}

TEST(NvmlGpu, MatchesNvidiaSmi) {
  CUDAGO_NEED_GPU(cudago::device_count(), cudago::no_device_reason());
  unsetenv("CUDAGO_NVML_LIBRARY");
  nvml::detail::reset_for_tests();
  nvml::Status st = nvml::status();
  ASSERT_TRUE(st.available) << "NVML on a GPU machine: " << st.reason;
  nvml::sample_now();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  nvml::sample_now();
  const std::vector<nvml::DeviceSample> all = nvml::last_sample();
  const nvml::DeviceSample* d = nullptr;
  for (const auto& s : all) {
    if (s.device == "0") d = &s;
  }
  ASSERT_NE(d, nullptr) << "no sample for CUDA device 0 (" << all.size() << " devices)";
  std::printf(
      "[ info ] device 0: %s %s, util %.2f, mem %.0f/%.0f MiB, %.1f W (limit %.0f W), "
      "%.0f C, SM %.0f MHz, mem %.0f MHz, GPM %s\n",
      d->name.c_str(), d->uuid.c_str(), d->utilization.value_or(-1),
      d->memory_used_bytes.value_or(0) / 1048576.0, d->memory_total_bytes.value_or(0) / 1048576.0,
      d->power_watts.value_or(-1), d->power_limit_watts.value_or(-1),
      d->temperature_celsius.value_or(-1), d->sm_clock_hertz.value_or(0) / 1e6,
      d->memory_clock_hertz.value_or(0) / 1e6, d->sm_active ? "yes" : "no");
  // Plausible on their own.
  ASSERT_TRUE(d->utilization && d->memory_used_bytes && d->memory_total_bytes && d->power_watts &&
              d->sm_clock_hertz && d->memory_clock_hertz && d->energy_millijoules);
  EXPECT_GE(*d->utilization, 0.0);
  EXPECT_LE(*d->utilization, 1.0);
  EXPECT_GT(*d->memory_total_bytes, 0u);
  EXPECT_LE(*d->memory_used_bytes, *d->memory_total_bytes);
  EXPECT_GT(*d->power_watts, 0.0);
  EXPECT_GT(*d->sm_clock_hertz, 0.0);
  EXPECT_GT(*d->memory_clock_hertz, 0.0);
  EXPECT_GT(*d->energy_millijoules, 0u);
  if (d->temperature_celsius) {
    EXPECT_GT(*d->temperature_celsius, 0.0);
    EXPECT_LT(*d->temperature_celsius, 120.0);
  }
  for (const std::optional<double>* g :
       {&d->sm_active, &d->sm_occupancy, &d->tensor_active, &d->dram_bandwidth}) {
    if (*g) {
      EXPECT_GE(**g, 0.0);
      EXPECT_LE(**g, 1.0);
    }
  }
  // The exposition has them, valid.
  const std::string t = render();
  EXPECT_TRUE(has(t, "cudago_gpu_memory_total_bytes{device=\"0\",uuid=\"" + d->uuid + "\"")) << t;
  check_promtool(t);
  // nvidia-smi, read now, on the same GPU (by UUID: its indices are NVML's, not CUDA's).
  std::string out;
  int rc = run_with_input(
      "nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total,power.draw,clocks.sm,"
      "clocks.mem --format=csv,noheader,nounits -i " +
          d->uuid,
      "", &out);
  ASSERT_EQ(rc, 0) << "nvidia-smi: " << out;
  std::printf("[ info ] nvidia-smi: %s", out.c_str());
  std::vector<std::string> f = split_csv(out.substr(0, out.find('\n')));
  ASSERT_EQ(f.size(), 6u) << out;
  const double mib = 1048576.0;
  if (auto v = number(f[0])) {
    EXPECT_GE(*v, 0.0);
    EXPECT_LE(*v, 100.0);
  }
  auto used = number(f[1]), total = number(f[2]), power = number(f[3]), sm = number(f[4]),
       mem = number(f[5]);
  ASSERT_TRUE(total.has_value()) << out;
  EXPECT_NEAR(*d->memory_total_bytes / mib, *total, 1.0);
  if (used) {
    EXPECT_NEAR(*d->memory_used_bytes / mib, *used, std::max(1024.0, 0.1 * *total)) << "MiB used";
  }
  if (power) {
    EXPECT_NEAR(*d->power_watts, *power, std::max(100.0, 0.5 * *power)) << "watts";
  }
  if (sm) {
    EXPECT_NEAR(*d->sm_clock_hertz / 1e6, *sm, std::max(600.0, 0.5 * *sm)) << "SM MHz";
  }
  if (mem) {
    EXPECT_NEAR(*d->memory_clock_hertz / 1e6, *mem, std::max(100.0, 0.1 * *mem)) << "memory MHz";
  }
  nvml::detail::reset_for_tests();
}

}  // namespace
