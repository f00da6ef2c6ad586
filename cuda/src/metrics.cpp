#include "cudago/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/fft.hpp"
#include "cudago/memory.hpp"
#include "cudago/nvml.hpp"
#include "cudago/rtc.hpp"

namespace cudago::metrics {

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  bounds_.erase(
      std::remove_if(bounds_.begin(), bounds_.end(), [](double b) { return !std::isfinite(b); }),
      bounds_.end());
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) noexcept {
  if (std::isnan(v)) return;
  size_t i =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  // The sum first, so that a snapshot never sees a count without its value's share... nearly:
  // the two are separate atomics, and the format tolerates the tiny skew.
  uint64_t old = sum_bits_.load(std::memory_order_relaxed);
  for (;;) {
    double s;
    std::memcpy(&s, &old, sizeof s);
    s += v;
    uint64_t bits;
    std::memcpy(&bits, &s, sizeof bits);
    if (sum_bits_.compare_exchange_weak(old, bits, std::memory_order_relaxed)) break;
  }
  counts_[i].fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  uint64_t acc = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    acc += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(acc);
  }
  s.count = acc;
  uint64_t bits = sum_bits_.load(std::memory_order_relaxed);
  std::memcpy(&s.sum, &bits, sizeof s.sum);
  return s;
}

std::vector<double> latency_buckets() {
  std::vector<double> b;
  for (double decade = 1e-5; decade < 10; decade *= 10) {
    for (double m : {2.5, 5.0, 10.0}) b.push_back(decade * m);
  }
  return b;  // 25 µs … 10 s
}

std::vector<double> batch_size_buckets(int64_t max) {
  std::vector<double> b;
  for (int64_t v = 1; v < max; v *= 2) b.push_back(static_cast<double>(v));
  b.push_back(static_cast<double>(std::max<int64_t>(max, 1)));
  return b;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // The shortest form that reads back the same.
  for (int p = 6; p < 17; ++p) {
    char t[32];
    std::snprintf(t, sizeof t, "%.*g", p, v);
    if (std::strtod(t, nullptr) == v) return t;
  }
  return buf;
}

std::string escape_label(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool valid_name(const std::string& name, bool label) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (!label && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return !(label && name.size() >= 2 && name[0] == '_' && name[1] == '_');
}

namespace {

// Help text: backslashes and newlines escaped.
std::string escape_help(const std::string& h) {
  std::string out;
  for (char c : h) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void append_labels(std::string& out, const Labels& labels, const char* extra_name = nullptr,
                   const std::string& extra_value = {}) {
  if (labels.empty() && extra_name == nullptr) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!valid_name(k, true)) throw Error(Status::kInternal, "metrics: bad label name '" + k + "'");
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += escape_label(v);
    out += '"';
  }
  if (extra_name != nullptr) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

}  // namespace

Writer::Family& Writer::family(const std::string& name, Type type, const std::string& help) {
  if (!valid_name(name, false)) throw Error(Status::kInternal, "metrics: bad name '" + name + "'");
  auto it = families_.find(name);
  if (it == families_.end()) {
    order_.push_back(name);
    it = families_.emplace(name, Family{type, help, {}}).first;
  } else if (it->second.type != type) {
    throw Error(Status::kInternal, "metrics: family '" + name + "' written with two types");
  }
  return it->second;
}

void Writer::counter(const std::string& name, const std::string& help, const Labels& labels,
                     double v) {
  Family& f = family(name, Type::kCounter, help);
  f.body += name;
  append_labels(f.body, labels);
  f.body += ' ';
  f.body += format_value(v);
  f.body += '\n';
}

void Writer::gauge(const std::string& name, const std::string& help, const Labels& labels,
                   double v) {
  Family& f = family(name, Type::kGauge, help);
  f.body += name;
  append_labels(f.body, labels);
  f.body += ' ';
  f.body += format_value(v);
  f.body += '\n';
}

void Writer::histogram(const std::string& name, const std::string& help, const Labels& labels,
                       const Histogram::Snapshot& s, double scale) {
  Family& f = family(name, Type::kHistogram, help);
  for (size_t i = 0; i <= s.bounds.size(); ++i) {
    f.body += name;
    f.body += "_bucket";
    append_labels(f.body, labels, "le",
                  i < s.bounds.size() ? format_value(s.bounds[i] * scale) : "+Inf");
    f.body += ' ';
    f.body += format_value(static_cast<double>(s.cumulative[i]));
    f.body += '\n';
  }
  f.body += name + "_sum";
  append_labels(f.body, labels);
  f.body += ' ' + format_value(s.sum * scale) + '\n';
  f.body += name + "_count";
  append_labels(f.body, labels);
  f.body += ' ' + format_value(static_cast<double>(s.count)) + '\n';
}

void Writer::merge(const Writer& other) {
  for (const std::string& name : other.order_) {  // every type checked before anything moves
    auto it = families_.find(name);
    if (it != families_.end() && it->second.type != other.families_.at(name).type) {
      throw Error(Status::kInternal, "metrics: family '" + name + "' written with two types");
    }
  }
  for (const std::string& name : other.order_) {
    const Family& f = other.families_.at(name);
    family(name, f.type, f.help).body += f.body;
  }
}

std::string Writer::str() const {
  std::string out;
  for (const std::string& name : order_) {
    const Family& f = families_.at(name);
    out += "# HELP " + name + ' ' + escape_help(f.help) + '\n';
    out += "# TYPE " + name + ' ';
    out += f.type == Type::kCounter ? "counter" : f.type == Type::kGauge ? "gauge" : "histogram";
    out += '\n';
    out += f.body;
  }
  return out;
}

Registry::Token::~Token() {
  if (id_ != 0) Registry::global().remove(id_);
}

Registry::Token& Registry::Token::operator=(Token&& o) noexcept {
  if (this != &o) {
    if (id_ != 0) Registry::global().remove(id_);
    id_ = std::exchange(o.id_, 0);
  }
  return *this;
}

Registry& Registry::global() {
  static Registry* r = new Registry();  // never destroyed: sources may go at exit
  return *r;
}

Registry::Token Registry::add(Source s) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = next_++;
  sources_.emplace(id, std::move(s));
  return Token(id);
}

void Registry::remove(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  sources_.erase(id);
}

namespace {

// The library's own series: memory pools (those already made: a scrape creates nothing), the
// run-time compilation cache and the FFT plan cache.
void library_metrics(Writer& w) {
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  int n = device_count();
  for (int dev = 0; dev < n; ++dev) {
    PoolStats s;
    if (!pool_stats_if_created(dev, &s)) continue;
    Labels l{{"device", std::to_string(dev)}};
    w.gauge("cudago_memory_pool_reserved_bytes", "Device memory the cudago pool holds.", l,
            d(s.reserved_bytes));
    w.gauge("cudago_memory_pool_used_bytes", "Pool memory handed out to live buffers.", l,
            d(s.used_bytes));
    w.gauge("cudago_memory_pool_reserved_high_water_bytes",
            "The most the pool held since it was made or its high-water marks were reset.", l,
            d(s.reserved_high_bytes));
    w.gauge("cudago_memory_pool_used_high_water_bytes",
            "The most pool memory in live buffers since the last reset.", l, d(s.used_high_bytes));
  }
  CacheStats c = cache_stats();
  w.counter("cudago_compile_cache_hits_total", "Run-time compilations served from the cache.",
            {{"tier", "memory"}}, d(c.hits));
  w.counter("cudago_compile_cache_hits_total", "Run-time compilations served from the cache.",
            {{"tier", "disk"}}, d(c.disk_hits));
  w.counter("cudago_compile_cache_misses_total", "Run-time compilations NVRTC ran.", {},
            d(c.misses));
  w.gauge("cudago_compile_cache_entries", "Compilation results held in memory.", {}, d(c.entries));
  FftCacheStats f = fft_cache_stats();
  w.counter("cudago_fft_plan_cache_hits_total", "FFT plans served from the cache.", {}, d(f.hits));
  w.counter("cudago_fft_plan_cache_misses_total", "FFT plans made.", {}, d(f.misses));
  w.counter("cudago_fft_plan_cache_evictions_total", "FFT plans evicted from the cache.", {},
            d(f.evictions));
  w.gauge("cudago_fft_plan_cache_entries", "Idle FFT plans cached.", {}, d(f.entries));
  w.gauge("cudago_fft_plan_cache_bytes", "Work-area bytes the cached FFT plans need.", {},
          d(f.bytes));
}

}  // namespace

std::string Registry::render(const RenderOptions& o) {
  std::lock_guard<std::mutex> lock(mu_);
  Writer all;
  {
    Writer w;
    try {
      library_metrics(w);
      all.merge(w);
    } catch (...) {
      ++errors_;
    }
  }
  {
    Writer w;  // the GPU series: the sampler's last pass (never NVML itself)
    try {
      nvml::write_metrics(w, o);
      all.merge(w);
    } catch (...) {
      ++errors_;
    }
  }
  for (auto& [id, source] : sources_) {
    // Each source writes into its own writer first, so one that throws half-way leaves nothing.
    Writer w;
    try {
      source(w, o);
      all.merge(w);
    } catch (...) {
      ++errors_;
    }
  }
  all.counter("cudago_metrics_source_errors_total",
              "Metric sources that failed during a scrape (their samples were left out).", {},
              static_cast<double>(errors_));
  return all.str();
}

}  // namespace cudago::metrics
