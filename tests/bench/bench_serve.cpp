// The batcher's CPU cost per request (not a test): C threads submit 1-item requests to a server
// over a model, closed loop, while one thread polls the results (releasing them in the next
// poll), for a few seconds; the process's CPU time (user + system, getrusage) divided by the
// requests answered is the cost per request of everything on the host: the clients' submits
// (their input copied into staging), batch formation, the instances' hand-offs, the poller, and
// the model's run where it runs on the CPU (the reference executor: give a tiny model, e.g.
// relu_c13_13x11.onnx; on a GPU the run is the GPU's and the CPU only waits for it).
// library_cpu_us_per_request leaves out the harness's own work: what the client threads do
// outside cudago_server_submit (their wake-ups) and the poller outside cudago_server_poll (waking
// the clients), each thread's CPU time read with CLOCK_THREAD_CPUTIME_ID.
//
//   bench_serve MODEL.onnx [clients] [seconds] [max_batch] [queue_delay_us] [backend]
//
// backend: auto (the GPU where there is one), gpu or reference. One JSON line per run.
#define CUDAGO_EXPERIMENTAL 1
#define BENCH_NAME "bench_serve"
#include <dirent.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "cudago.h"

namespace {

double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// CPU seconds of a harness thread: all of it, and the part inside cudago calls.
struct ThreadCpu {
  double total = 0, in_library = 0;
};

// CPU seconds of every thread of the process, summed by thread name (/proc/self/task/*/stat:
// the server names its threads cudago-gpuD.K, cudago-reaper; the CUDA runtime's have theirs).
std::map<std::string, double> cpu_by_thread_name() {
  std::map<std::string, double> out;
  const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(f, line)) continue;
    const size_t open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    std::string name = line.substr(open + 1, close - open - 1);
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int k = 3; k <= 15 && rest >> field; ++k) {  // fields 14 and 15: utime, stime
      if (k == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
      if (k == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
    }
    out[name] += static_cast<double>(utime + stime) * tick;
  }
  closedir(d);
  return out;
}

double cpu_seconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

uint64_t arg(int argc, char** argv, int i, uint64_t def) {
  return argc > i ? std::strtoull(argv[i], nullptr, 10) : def;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_serve MODEL.onnx [clients=8] [seconds=3] [max_batch=32] "
                 "[queue_delay_us=100] [auto|gpu|reference]\n");
    return 2;
  }
  const uint64_t clients = arg(argc, argv, 2, 8), seconds = arg(argc, argv, 3, 3),
                 max_batch = arg(argc, argv, 4, 32), delay_us = arg(argc, argv, 5, 100);
  const std::string backend = argc > 6 ? argv[6] : "auto";
  if (clients < 1 || clients > 4096 || seconds < 1 || seconds > 600 || max_batch < 1) {
    std::fprintf(stderr, "bench_serve: clients 1 to 4096, seconds 1 to 600, max_batch ≥ 1\n");
    return 2;
  }

  cudago_nn_options_t o;
  cudago_nn_options_init(&o);
  o.backend = backend == "gpu"         ? CUDAGO_NN_BACKEND_GPU
              : backend == "reference" ? CUDAGO_NN_BACKEND_REFERENCE
                                       : CUDAGO_NN_BACKEND_AUTO;
  o.precision = CUDAGO_NN_PRECISION_DEFAULT;  // fp16 on the GPU, fp32 on the reference
  o.max_batch = max_batch;
  cudago_nn_model_t m = nullptr;
  CG(cudago_nn_model_load(&m, argv[1], &o));
  cudago_nn_model_info_t info;
  cudago_nn_model_info_init(&info);
  CG(cudago_nn_model_info(m, &info));
  cudago_nn_tensor_info_t ti;
  cudago_nn_tensor_info_init(&ti);
  CG(cudago_nn_model_input(m, 0, &ti));
  if (info.num_inputs != 1 || ti.batch_axis != 0) {
    std::fprintf(stderr, "bench_serve: give a model of one input with its batch axis first\n");
    return 2;
  }

  cudago_server_options_t so;
  cudago_server_options_init(&so);
  so.max_batch_size = max_batch;
  so.max_queue_delay_ns = delay_us * 1000;
  so.max_queue_size = clients * 2;
  so.name = "bench_serve";
  cudago_server_t srv = nullptr;
  CG(cudago_server_create(&srv, m, &so));

  std::vector<uint8_t> item(ti.bytes_per_item);
  for (size_t i = 0; i < item.size(); ++i) item[i] = static_cast<uint8_t>(i * 7);
  if (ti.dtype == CUDAGO_DTYPE_F32) {
    auto* f = reinterpret_cast<float*>(item.data());
    for (size_t i = 0; i < item.size() / 4; ++i) f[i] = static_cast<float>(i % 13) * 0.25f - 1.0f;
  }
  cudago_serve_tensor_t in;
  cudago_serve_tensor_init(&in);
  in.dtype = ti.dtype;
  in.rank = ti.rank;
  for (uint64_t k = 0; k < ti.rank; ++k) in.dims[k] = ti.dims[k];
  in.dims[0] = 1;
  in.memory = CUDAGO_SERVE_MEMORY_HOST;
  in.host = item.data();
  in.bytes = item.size();

  // Closed loop: each client keeps one request in flight and sleeps until the poller hands its
  // result back (through the tag, the client's index): no spinning to count as CPU time.
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    bool ready = true;
  };
  std::vector<Slot> ready(clients);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0}, failed{0};
  std::vector<ThreadCpu> client_cpu(clients);
  ThreadCpu poller_cpu;
  std::thread poller([&] {
    pthread_setname_np(pthread_self(), "bench-poller");
    const double start = thread_cpu_seconds();
    std::vector<cudago_serve_result_t> res(256);
    std::vector<uint64_t> release;
    for (;;) {
      for (auto& r : res) cudago_serve_result_init(&r);
      uint64_t n = 0;
      const double c0 = thread_cpu_seconds();
      cudago_status_t st = cudago_server_poll(srv, release.data(), release.size(), 50 * 1000 * 1000,
                                              res.data(), res.size(), &n);
      const double c1 = thread_cpu_seconds();
      poller_cpu.in_library += c1 - c0;
      release.clear();
      if (st == CUDAGO_ERROR_UNAVAILABLE) {
        poller_cpu.total = c1 - start;
        return;
      }
      if (st != CUDAGO_SUCCESS) bench::die(BENCH_NAME, "cudago_server_poll");
      for (uint64_t i = 0; i < n; ++i) {
        release.push_back(res[i].id);
        (res[i].status == CUDAGO_SUCCESS ? done : failed).fetch_add(1);
        Slot& sl = ready[res[i].tag];
        {
          std::lock_guard<std::mutex> lock(sl.mu);
          sl.ready = true;
        }
        sl.cv.notify_one();
      }
    }
  });
  auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  std::vector<std::thread> th;
  for (uint64_t c = 0; c < clients; ++c) {
    th.emplace_back([&, c] {
      cudago_serve_request_options_t ro;
      cudago_serve_request_options_init(&ro);
      ro.tag = c;
      Slot& sl = ready[c];
      ThreadCpu& tc = client_cpu[c];
      pthread_setname_np(pthread_self(), "bench-client");
      const double start = thread_cpu_seconds();
      while (!stop.load(std::memory_order_relaxed)) {
        {
          std::unique_lock<std::mutex> lock(sl.mu);
          sl.cv.wait(lock, [&] { return sl.ready; });
          sl.ready = false;
        }
        if (stop.load(std::memory_order_relaxed)) break;
        uint64_t id = 0;
        const double c0 = thread_cpu_seconds();
        if (cudago_server_submit(srv, &in, 1, nullptr, 0, &ro, &id) != CUDAGO_SUCCESS) {
          bench::die(BENCH_NAME, "cudago_server_submit");
        }
        tc.in_library += thread_cpu_seconds() - c0;
      }
      tc.total = thread_cpu_seconds() - start;
    });
  }
  const std::map<std::string, double> threads0 = cpu_by_thread_name();
  const uint64_t done0 = done.load();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const std::map<std::string, double> threads1 = cpu_by_thread_name();
  const uint64_t in_window = done.load() - done0;
  stop.store(true);
  for (auto& t : th) t.join();
  CG(cudago_server_shutdown(srv, 0));  // every accepted request answered
  poller.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  double harness = poller_cpu.total - poller_cpu.in_library;
  for (const ThreadCpu& t : client_cpu) harness += t.total - t.in_library;
  cudago_server_stats_t st;
  cudago_server_stats_init(&st);
  CG(cudago_server_stats(srv, &st));
  const uint64_t n = done.load() + failed.load();
  // Per thread name over the timed window (the clients' threads carry the program's name).
  std::string by_thread;
  for (const auto& [name, secs] : threads1) {
    auto it = threads0.find(name);
    const double d = secs - (it == threads0.end() ? 0.0 : it->second);
    if (d <= 0 || in_window == 0) continue;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s\"%s\": %.2f", by_thread.empty() ? "" : ", ", name.c_str(),
                  d / static_cast<double>(in_window) * 1e6);
    by_thread += buf;
  }
  std::printf(
      "{\"op\": \"serve_cpu_per_request\", \"model\": \"%s\", \"executor\": \"%s\", \"clients\": "
      "%llu, \"max_batch\": %llu, \"queue_delay_us\": %llu, \"requests\": %llu, \"failed\": %llu, "
      "\"req_per_s\": %.0f, \"mean_batch\": %.2f, \"cpu_us_per_request\": %.2f, "
      "\"library_cpu_us_per_request\": %.2f, \"cores_busy\": %.2f, \"threads_us_per_request\": "
      "{%s}}\n",
      argv[1], info.backend == CUDAGO_NN_BACKEND_GPU ? "gpu" : "reference",
      static_cast<unsigned long long>(clients), static_cast<unsigned long long>(max_batch),
      static_cast<unsigned long long>(delay_us), static_cast<unsigned long long>(n),
      static_cast<unsigned long long>(failed.load()), static_cast<double>(n) / wall,
      st.batches ? static_cast<double>(st.inferences) / static_cast<double>(st.batches) : 0.0,
      n ? cpu / static_cast<double>(n) * 1e6 : 0.0,
      n ? (cpu - harness) / static_cast<double>(n) * 1e6 : 0.0, cpu / wall, by_thread.c_str());
  CG(cudago_server_destroy(srv));
  cudago_nn_model_destroy(m);
  return failed.load() == 0 ? 0 : 1;
}
