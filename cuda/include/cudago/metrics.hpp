// Metrics in the Prometheus text exposition format: lock-free counters and fixed-bucket
// histograms for the request path, a writer that groups samples into families (one HELP and
// TYPE each, as the format requires), and the process-wide registry of sources (servers, the
// library's caches and pools, the GPU sampler) that a scrape renders.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cudago::metrics {

// A histogram with fixed upper bounds (+Inf implied): observe() is lock-free (relaxed atomics).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v) noexcept;

  struct Snapshot {
    std::vector<double> bounds;        // the upper bounds, +Inf excluded
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  // A consistent-enough snapshot: cumulative counts are monotone and the last equals count.
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1 buckets
  std::atomic<uint64_t> sum_bits_{0};                // the sum, as a double's bits
};

// Bucket bounds in seconds for sub-millisecond GPU work up to seconds: 25 µs to 10 s, about
// 2.5 per factor of ten.
std::vector<double> latency_buckets();
// 1, 2, 4, … up to max (max included).
std::vector<double> batch_size_buckets(int64_t max);

using Labels = std::vector<std::pair<std::string, std::string>>;

// Collects samples grouped by family and renders the text exposition format (version 0.0.4):
// families in the order first written, each with its HELP and TYPE lines, label values escaped,
// numbers in the shortest exact form ("+Inf", "NaN" where they occur).
class Writer {
 public:
  enum class Type { kCounter, kGauge, kHistogram };
  void counter(const std::string& name, const std::string& help, const Labels& labels, double v);
  void gauge(const std::string& name, const std::string& help, const Labels& labels, double v);
  void histogram(const std::string& name, const std::string& help, const Labels& labels,
                 const Histogram::Snapshot& s, double scale = 1);
  std::string str() const;
  // Appends another writer's samples, family by family (a family's type must agree).
  void merge(const Writer& other);

 private:
  struct Family {
    Type type;
    std::string help;
    std::string body;
  };
  Family& family(const std::string& name, Type type, const std::string& help);
  std::vector<std::string> order_;
  std::map<std::string, Family> families_;
};

std::string format_value(double v);
std::string escape_label(const std::string& v);
// True for a valid metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*; labels without ':').
bool valid_name(const std::string& name, bool label);

// Rendering options.
struct RenderOptions {
  bool triton_names = false;  // add the Triton/DCGM-compatible series (nv_inference_*, nv_gpu_*)
};

// The registry: sources add their samples to a Writer at each scrape. A source is removed when
// the token add() returned is destroyed; rendering and removal exclude each other, so a source
// never runs after its token is gone.
class Registry {
 public:
  using Source = std::function<void(Writer&, const RenderOptions&)>;
  class Token {
   public:
    Token() = default;
    ~Token();
    Token(Token&& o) noexcept : id_(std::exchange(o.id_, 0)) {}
    Token& operator=(Token&& o) noexcept;
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;

   private:
    friend class Registry;
    explicit Token(uint64_t id) : id_(id) {}
    uint64_t id_ = 0;
  };

  static Registry& global();
  Token add(Source s);
  // Renders every source. A source that throws is skipped (its samples dropped) and counted in
  // cudago_metrics_source_errors_total: a bad source never breaks a scrape.
  std::string render(const RenderOptions& o);

 private:
  void remove(uint64_t id);
  std::mutex mu_;
  uint64_t next_ = 1;
  std::map<uint64_t, Source> sources_;
  uint64_t errors_ = 0;
};

}  // namespace cudago::metrics
