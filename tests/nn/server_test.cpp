// The dynamic batcher (cuda/nn/server.cpp) on the CPU reference executor, through the core's C++
// API: results against the model's own run_host and onnxruntime; batch formation under each knob
// (max batch, queue delay, preferred sizes, delay 0, deadlines), priorities, ordering, deadline
// expiry while a batch runs, queue-full and staging refusals, cancellation, shutdown draining,
// mixed shapes, bad requests, poll mode, callbacks that submit and cancel, failing batches, and
// the stats after a load of many small requests. Timing is made deterministic by a test backend
// whose instances pass each batch through a gate (held until the test releases it, or slowed by
// a set time) around a real reference-executor instance of the model.
#include "cudago/nn/server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cudago/error.hpp"
#include "cudago/metrics.hpp"
#include "cudago/nn/model.hpp"
#include "manifest.hpp"
#include "serve_util.hpp"

namespace cudago {
inline void PrintTo(Status s, std::ostream* os) { *os << "Status(" << static_cast<int>(s) << ")"; }
namespace nn {
inline void PrintTo(CloseReason r, std::ostream* os) { *os << close_reason_name(r); }
}  // namespace nn
}  // namespace cudago

namespace {

namespace nn = cudago::nn;
using cudago::Error;
using cudago::Status;
using Clock = std::chrono::steady_clock;
using serve_test::make_input;
using serve_test::ms_since;
using std::chrono::milliseconds;

constexpr const char* kConv = "conv_bn_k3_c13_13x11";  // x [N,13,13,11] -> y, max_batch 8
constexpr const char* kRelu = "relu_c13_13x11";        // x [N,13,13,11] -> y, max_batch 8
constexpr const char* kAdd2 = "add_same_c13_13x11";    // x, y [N,13,13,11] -> z
constexpr const char* kMultiOut = "multi_out_relu_sigmoid_c3_7x9";  // x -> relu, sig
constexpr int64_t kItem = 13 * 13 * 11;  // floats of one item of the c13_13x11 models
constexpr int64_t kLongDelay = int64_t{10} * 1000 * 1000 * 1000;  // 10 s: "never" in a test

std::shared_ptr<const nn::Model> load(const std::string& name, int64_t max_batch = 8) {
  nn::ModelOptions o;
  o.backend = nn::Backend::kReference;
  o.max_batch = max_batch;
  return std::shared_ptr<const nn::Model>(
      nn::Model::load_file(nn_test::models_dir() + "/" + name + ".onnx", o));
}

nn_test::Case manifest(const std::string& name) {
  return nn_test::read_case(nn_test::models_dir(), name + ".test");
}

// The model's own result for a request alone.
std::vector<std::vector<float>> run_alone(const nn::Model& m,
                                          const std::vector<std::vector<float>>& in,
                                          int64_t items) {
  std::vector<const void*> ip;
  std::vector<uint64_t> ib;
  for (const auto& v : in) {
    ip.push_back(v.data());
    ib.push_back(v.size() * 4);
  }
  std::vector<std::vector<float>> out;
  std::vector<void*> op;
  std::vector<uint64_t> ob;
  for (const auto& d : m.outputs()) {
    out.emplace_back(static_cast<size_t>(d.bytes_at(items) / 4));
  }
  for (auto& v : out) {
    op.push_back(v.data());
    ob.push_back(v.size() * 4);
  }
  m.run_host(items, ip, ib, op, ob);
  return out;
}

struct Outcome {
  Status status = Status::kSuccess;
  std::string message;
};
template <class F>
Outcome outcome(F&& f) {
  try {
    f();
    return {};
  } catch (const Error& e) {
    return {e.status(), e.what()};
  }
}

// ------------------------------------------------------------------------------------------------
// The gate of the test backend. Closed, a batch waits at its entry until the gate opens or every
// request of the batch has been released (by the marker in its first input element); then it may
// sleep a set time, fail as planted, and runs on the real instance.

struct BatchRecord {
  int32_t instance = -1;
  int64_t items = 0;
  std::vector<float> markers;  // per request, in the batch's order
  std::vector<int64_t> req_items;
  std::vector<uint64_t> in_bytes;
  Clock::time_point entered{}, finished{};
};

class Gate {
 public:
  enum Failure { kNoFailure, kCudagoError, kStdException, kOther };

  explicit Gate(bool open) : open_(open) {}
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void close() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }
  void release(float marker) {
    std::lock_guard<std::mutex> lock(mu_);
    released_.insert(marker);
    cv_.notify_all();
  }
  void set_sleep(milliseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    sleep_ = d;
  }
  void fail_on(float marker, Failure f) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_[marker] = f;
  }
  bool wait_entered(size_t n, milliseconds timeout = milliseconds(10000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return entered_.size() >= n; });
  }
  bool wait_finished(size_t n, milliseconds timeout = milliseconds(10000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return finished_.size() >= n; });
  }
  std::vector<BatchRecord> entered() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entered_;
  }
  std::vector<BatchRecord> finished() const {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_;
  }

  void run(int32_t instance, nn::ServeBackend::Batch& b, nn::ServeBackend::Instance& inner) {
    BatchRecord rec;
    rec.instance = instance;
    rec.items = b.items;
    for (const auto* r : b.requests) {
      float m = 0;
      std::memcpy(&m, r->in[0], sizeof m);
      rec.markers.push_back(m);
      rec.req_items.push_back(r->items);
      rec.in_bytes.push_back(r->in_bytes[0]);
    }
    rec.entered = Clock::now();
    Failure failure = kNoFailure;
    milliseconds sleep{0};
    {
      std::unique_lock<std::mutex> lock(mu_);
      entered_.push_back(rec);
      cv_.notify_all();
      cv_.wait(lock, [&] {
        if (open_) return true;
        for (float m : rec.markers) {
          if (released_.count(m) == 0) return false;
        }
        return true;
      });
      for (float m : rec.markers) {
        auto it = fail_.find(m);
        if (it != fail_.end()) failure = it->second;
      }
      sleep = sleep_;
    }
    if (sleep.count() > 0) std::this_thread::sleep_for(sleep);
    switch (failure) {
      case kCudagoError:
        throw Error(Status::kLaunchFailed, "gate: a planted failure of the batch");
      case kStdException:
        throw std::runtime_error("gate: a planted std::runtime_error");
      case kOther:
        throw 42;  // not an exception class at all
      case kNoFailure:
        break;
    }
    inner.execute(b);
    rec.finished = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    finished_.push_back(rec);
    cv_.notify_all();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool open_;
  std::multiset<float> released_;
  std::map<float, Failure> fail_;
  milliseconds sleep_{0};
  std::vector<BatchRecord> entered_, finished_;
};

class GatedInstance : public nn::ServeBackend::Instance {
 public:
  GatedInstance(std::unique_ptr<nn::ServeBackend::Instance> inner, std::shared_ptr<Gate> gate,
                int32_t index)
      : inner_(std::move(inner)), gate_(std::move(gate)), index_(index) {}
  void execute(nn::ServeBackend::Batch& b) override { gate_->run(index_, b, *inner_); }

 private:
  std::unique_ptr<nn::ServeBackend::Instance> inner_;
  std::shared_ptr<Gate> gate_;
  int32_t index_;
};

// A real model's backend whose instances go through a gate, and which may accept other item
// shapes (run by the model on the same bytes: the tests use element counts equal to the model's).
class GatedBackend : public nn::ServeBackend {
 public:
  GatedBackend(std::shared_ptr<const nn::Model> m, std::shared_ptr<Gate> gate)
      : inner_(nn::model_backend(std::move(m))), gate_(std::move(gate)) {}
  const std::vector<Spec>& inputs() const override { return inner_->inputs(); }
  const std::vector<Spec>& outputs() const override { return inner_->outputs(); }
  int64_t max_batch() const override { return inner_->max_batch(); }
  bool gpu() const override { return false; }
  int32_t device() const override { return -1; }
  bool accepts(const std::vector<std::vector<int64_t>>& item_dims) const override {
    if (inner_->accepts(item_dims)) return true;
    return std::find(also_.begin(), also_.end(), item_dims) != also_.end();
  }
  std::unique_ptr<Instance> make_instance(int32_t device, int32_t index, int64_t max_batch,
                                          const cudago::nn::ServerOptions& o) override {
    return std::make_unique<GatedInstance>(inner_->make_instance(device, index, max_batch, o),
                                           gate_, index);
  }
  std::vector<std::vector<std::vector<int64_t>>> also_;

 private:
  std::shared_ptr<ServeBackend> inner_;
  std::shared_ptr<Gate> gate_;
};

// ------------------------------------------------------------------------------------------------
// Results delivered to a callback: copied (outputs included) with the time they came.

struct Got {
  nn::ServeResult r;
  std::vector<std::vector<float>> out;
  Clock::time_point at{};
  std::thread::id thread;
};

class Collector {
 public:
  nn::Server::Callback callback() {
    return [this](const nn::ServeResult& r) { add(r); };
  }
  void add(const nn::ServeResult& r) {
    Got g;
    g.at = Clock::now();
    g.thread = std::this_thread::get_id();
    g.r = r;
    g.r.outputs.clear();
    for (size_t j = 0; j < r.outputs.size(); ++j) {
      if (r.status != Status::kSuccess) break;
      const float* p = static_cast<const float*>(r.outputs[j]);
      g.out.emplace_back(p, p + r.output_bytes[j] / 4);
    }
    std::function<void(const nn::ServeResult&)> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      hook = hook_;
    }
    if (hook) hook(r);
    std::lock_guard<std::mutex> lock(mu_);
    order_.push_back(r.id);
    got_[r.id] = std::move(g);
    cv_.notify_all();
  }
  // Called in the callback, before the result is recorded.
  void set_hook(std::function<void(const nn::ServeResult&)> h) {
    std::lock_guard<std::mutex> lock(mu_);
    hook_ = std::move(h);
  }
  bool wait(size_t n, milliseconds timeout = milliseconds(20000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
  }
  bool wait_id(uint64_t id, milliseconds timeout = milliseconds(20000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return got_.count(id) != 0; });
  }
  bool has(uint64_t id) const {
    std::lock_guard<std::mutex> lock(mu_);
    return got_.count(id) != 0;
  }
  Got get(uint64_t id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = got_.find(id);
    return it == got_.end() ? Got{} : it->second;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return got_.size();
  }
  std::vector<uint64_t> order() const {
    std::lock_guard<std::mutex> lock(mu_);
    return order_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, Got> got_;
  std::vector<uint64_t> order_;
  std::function<void(const nn::ServeResult&)> hook_;
};

// A gated server over a model with a collector; opens the gate before the server goes (so a
// failed assertion cannot leave a batch held forever).
struct Rig {
  std::shared_ptr<const nn::Model> model;
  Collector col;
  std::shared_ptr<Gate> gate;
  std::shared_ptr<GatedBackend> backend;
  std::unique_ptr<nn::Server> server;

  Rig(const std::string& name, const nn::ServerOptions& o, bool gate_open, bool callback = true,
      std::vector<std::vector<std::vector<int64_t>>> also = {})
      : model(load(name)), gate(std::make_shared<Gate>(gate_open)) {
    backend = std::make_shared<GatedBackend>(model, gate);
    backend->also_ = std::move(also);
    server = nn::Server::create(backend, o, callback ? col.callback() : nn::Server::Callback());
  }
  ~Rig() {
    gate->open();
    server.reset();
  }

  // A request of `items` items of the model's shape (or `item_dims`), its input kept for checks.
  struct Sent {
    uint64_t id = 0;
    float marker = 0;
    int64_t items = 0;
    std::vector<float> x;
  };
  Sent send(int64_t items, float marker, nn::RequestOptions ro = {},
            std::vector<int64_t> item_dims = {13, 13, 11}) {
    Sent s;
    s.marker = marker;
    s.items = items;
    s.x = make_input(items * kItem, static_cast<uint32_t>(marker * 7 + 1), marker);
    nn::RequestTensor t;
    t.dims = {items};
    t.dims.insert(t.dims.end(), item_dims.begin(), item_dims.end());
    t.data = s.x.data();
    t.bytes = s.x.size() * 4;
    s.id = server->submit({t}, {}, ro);
    return s;
  }
  // The result of s (delivered to the callback): successful, and equal to the model's run_host
  // on s alone.
  void expect_right(const Sent& s, const nn_test::Case& c) {
    Got g = col.get(s.id);
    ASSERT_EQ(g.r.id, s.id) << "no result for request " << s.marker;
    ASSERT_EQ(g.out.size(), 1u) << s.marker << ": " << g.r.message;
    check(g.r, g.out[0].data(), g.out[0].size() * 4, s, c);
  }
  void check(const nn::ServeResult& r, const float* y, uint64_t bytes, const Sent& s,
             const nn_test::Case& c) {
    ASSERT_EQ(r.status, Status::kSuccess) << s.marker << ": " << r.message;
    EXPECT_EQ(r.items, s.items);
    auto want = run_alone(*model, {s.x}, s.items);
    ASSERT_EQ(bytes, want[0].size() * 4);
    auto cmp =
        nn_test::compare(y, want[0].data(), static_cast<int64_t>(want[0].size()), c.rtol, c.atol);
    EXPECT_TRUE(cmp.ok()) << "request " << s.marker << " element " << cmp.at << ": got " << cmp.got
                          << ", run_host " << cmp.want;
  }
  // Poll mode: the results of `sent`, checked, then released.
  void poll_check_release(const std::vector<const Sent*>& sent, const nn_test::Case& c) {
    std::map<uint64_t, const nn::ServeResult*> got;
    const nn::ServeResult* out[16];
    auto t0 = Clock::now();
    while (got.size() < sent.size() && ms_since(t0) < 10000) {
      size_t n = server->poll(nullptr, 0, 100 * 1000 * 1000, out, 16);
      for (size_t i = 0; i < n; ++i) got[out[i]->id] = out[i];
    }
    ASSERT_EQ(got.size(), sent.size());
    std::vector<uint64_t> ids;
    for (const Sent* s : sent) {
      ASSERT_EQ(got.count(s->id), 1u) << "no result for request " << s->marker;
      const nn::ServeResult& r = *got[s->id];
      check(r, static_cast<const float*>(r.outputs.at(0)), r.output_bytes.at(0), *s, c);
      ids.push_back(s->id);
    }
    server->poll(ids.data(), ids.size(), 0, out, 0);
  }
};

nn::ServerOptions options(int64_t max_batch, int64_t delay_ns) {
  nn::ServerOptions o;
  o.max_batch = max_batch;
  o.max_queue_delay_ns = delay_ns;
  return o;
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(nn_test::models_dir().empty()) << "CUDAGO_MODELS_DIR is not set (meson sets it)";
  }
};
using ServeResults = ServeTest;
using ServeBatching = ServeTest;
using ServePriority = ServeTest;
using ServeOrdering = ServeTest;
using ServeDeadline = ServeTest;
using ServeQueue = ServeTest;
using ServeCancel = ServeTest;
using ServeShutdown = ServeTest;
using ServeShapes = ServeTest;
using ServeRequests = ServeTest;
using ServePoll = ServeTest;
using ServeCallback = ServeTest;
using ServeFailure = ServeTest;
using ServeOptions = ServeTest;
using ServeLoad = ServeTest;

// ------------------------------------------------------------------------------------------------
// Results.

// Requests of 1 to 4 items from four threads at once on a real model (two instances): each result
// is the model's own run_host on that request alone; the manifest's runs equal onnxruntime's.
TEST_F(ServeResults, MatchRunHostAndOnnxruntimeFromThreads) {
  const nn_test::Case c = manifest(kConv);
  auto model = load(kConv, c.max_batch);
  Collector col;
  nn::ServerOptions o = options(0, 1000 * 1000);  // 1 ms: batches form from the threads' requests
  o.instances_per_device = 2;
  auto server = nn::Server::create(nn::model_backend(model), o, col.callback());
  EXPECT_EQ(server->max_batch(), 8);
  constexpr int kThreads = 4, kPerThread = 25;
  struct Req {
    uint64_t id;
    int64_t items;
    std::vector<float> x;
  };
  std::vector<std::vector<Req>> sent(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Req r;
        r.items = 1 + (t * 7 + i * 3) % 4;
        r.x = make_input(r.items * kItem, static_cast<uint32_t>(t * 1000 + i), 0.5f);
        nn::RequestTensor in;
        in.dims = {r.items, 13, 13, 11};
        in.data = r.x.data();
        in.bytes = r.x.size() * 4;
        nn::RequestOptions ro;
        ro.tag = static_cast<uint64_t>(t * 1000 + i);
        r.id = server->submit({in}, {}, ro);
        sent[static_cast<size_t>(t)].push_back(std::move(r));
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(col.wait(kThreads * kPerThread)) << col.size() << " results";
  int64_t items = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const Req& r = sent[static_cast<size_t>(t)][static_cast<size_t>(i)];
      Got g = col.get(r.id);
      ASSERT_EQ(g.r.status, Status::kSuccess) << g.r.message;
      EXPECT_EQ(g.r.tag, static_cast<uint64_t>(t * 1000 + i));
      EXPECT_EQ(g.r.items, r.items);
      EXPECT_GE(g.r.batch_items, r.items);
      EXPECT_LE(g.r.batch_items, 8);
      EXPECT_GE(g.r.batch_requests, 1);
      EXPECT_EQ(g.r.device, -1);
      EXPECT_TRUE(g.r.instance == 0 || g.r.instance == 1) << g.r.instance;
      EXPECT_GE(g.r.total_ns, g.r.queue_ns);
      ASSERT_EQ(g.out.size(), 1u);
      auto want = run_alone(*model, {r.x}, r.items);
      auto cmp = nn_test::compare(g.out[0].data(), want[0].data(),
                                  static_cast<int64_t>(want[0].size()), c.rtol, c.atol);
      EXPECT_TRUE(cmp.ok()) << "thread " << t << " request " << i << " (" << r.items
                            << " items, in a batch of " << g.r.batch_items << ") element " << cmp.at
                            << ": got " << cmp.got << ", run_host " << cmp.want;
      items += r.items;
    }
  }
  // The manifest's runs (1 and 7 items) against onnxruntime.
  for (size_t k = 0; k < c.runs.size(); ++k) {
    const nn_test::Run& run = c.runs[k];
    std::vector<float> x = run.inputs[0].read();
    nn::RequestTensor in;
    in.dims = run.inputs[0].dims;
    in.data = x.data();
    in.bytes = x.size() * 4;
    uint64_t id = server->submit({in}, {}, {});
    ASSERT_TRUE(col.wait_id(id));
    Got g = col.get(id);
    ASSERT_EQ(g.r.status, Status::kSuccess) << g.r.message;
    std::vector<float> want = run.outputs[0].read();
    ASSERT_EQ(g.out[0].size(), want.size());
    auto cmp = nn_test::compare(g.out[0].data(), want.data(), static_cast<int64_t>(want.size()),
                                c.rtol, c.atol);
    EXPECT_TRUE(cmp.ok()) << "manifest run " << k << " element " << cmp.at << ": got " << cmp.got
                          << ", onnxruntime " << cmp.want;
    items += run.batch();
  }
  server->shutdown(false);
  nn::ServerStats st = server->stats();
  EXPECT_EQ(st.submitted, kThreads * kPerThread + 2);
  EXPECT_EQ(st.completed, st.submitted);
  EXPECT_EQ(st.succeeded, st.submitted);
  EXPECT_EQ(st.inferences, items);
  EXPECT_EQ(st.rejected, 0);
}

// Every output of a model with two outputs, and two inputs (each its own staging copy).
TEST_F(ServeResults, SeveralInputsAndOutputs) {
  for (const char* name : {kAdd2, kMultiOut}) {
    SCOPED_TRACE(name);
    const nn_test::Case c = manifest(name);
    auto model = load(name, c.max_batch);
    Collector col;
    auto server =
        nn::Server::create(nn::model_backend(model), options(0, 2 * 1000 * 1000), col.callback());
    std::vector<std::vector<std::vector<float>>> xs;
    std::vector<uint64_t> ids;
    std::vector<int64_t> items;
    for (int i = 0; i < 6; ++i) {
      int64_t n = 1 + i % 3;
      std::vector<std::vector<float>> x;
      std::vector<nn::RequestTensor> in;
      for (const auto& d : model->inputs()) {
        x.push_back(make_input(d.bytes_at(n) / 4, static_cast<uint32_t>(i * 10 + x.size()), 1));
      }
      for (size_t k = 0; k < x.size(); ++k) {
        nn::RequestTensor t;
        t.dims = model->inputs()[k].dims;
        t.dims[0] = n;
        t.data = x[k].data();
        t.bytes = x[k].size() * 4;
        in.push_back(t);
      }
      ids.push_back(server->submit(in, {}, {}));
      xs.push_back(std::move(x));
      items.push_back(n);
    }
    ASSERT_TRUE(col.wait(ids.size()));
    for (size_t i = 0; i < ids.size(); ++i) {
      Got g = col.get(ids[i]);
      ASSERT_EQ(g.r.status, Status::kSuccess) << g.r.message;
      auto want = run_alone(*model, xs[i], items[i]);
      ASSERT_EQ(g.out.size(), want.size());
      for (size_t j = 0; j < want.size(); ++j) {
        ASSERT_EQ(g.out[j].size(), want[j].size());
        auto cmp = nn_test::compare(g.out[j].data(), want[j].data(),
                                    static_cast<int64_t>(want[j].size()), c.rtol, c.atol);
        EXPECT_TRUE(cmp.ok()) << "request " << i << " output " << j << " element " << cmp.at;
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Batch formation.

// A full batch closes at once (a 10 s delay notwithstanding); a request that would not fit
// closes the batch before it; what is left is sent by the shutdown.
TEST_F(ServeBatching, FullBatchClosesAtOnce) {
  const nn_test::Case c = manifest(kConv);
  Rig rig(kConv, options(4, kLongDelay), true);
  auto t0 = Clock::now();
  std::vector<Rig::Sent> s;
  for (int i = 0; i < 4; ++i) s.push_back(rig.send(1, 10.0f + static_cast<float>(i)));
  for (const auto& r : s) EXPECT_NE(r.id, 0u) << "no id is 0";
  ASSERT_TRUE(rig.col.wait(4, milliseconds(5000))) << "a full batch waited for the queue delay";
  EXPECT_LT(ms_since(t0), 5000.0);
  for (const auto& r : s) {
    Got g = rig.col.get(r.id);
    EXPECT_EQ(g.r.reason, nn::CloseReason::kFull);
    EXPECT_EQ(g.r.batch_items, 4);
    EXPECT_EQ(g.r.batch_requests, 4);
    rig.expect_right(r, c);
  }
  auto batches = rig.gate->finished();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].markers, (std::vector<float>{10, 11, 12, 13}));

  // 3 items, then 2: the second would not fit, so the first closes alone as full.
  Rig::Sent a = rig.send(3, 20), b = rig.send(2, 21);
  ASSERT_TRUE(rig.col.wait_id(a.id, milliseconds(5000)));
  EXPECT_EQ(rig.col.get(a.id).r.reason, nn::CloseReason::kFull);
  EXPECT_EQ(rig.col.get(a.id).r.batch_items, 3);
  EXPECT_FALSE(rig.col.has(b.id));
  rig.server->shutdown(false);  // b waited for the delay: the shutdown sends it
  ASSERT_TRUE(rig.col.has(b.id));
  EXPECT_EQ(rig.col.get(b.id).r.reason, nn::CloseReason::kShutdown);
  rig.expect_right(a, c);
  rig.expect_right(b, c);
  nn::ServerStats st = rig.server->stats();
  EXPECT_EQ(st.closed_full, 2);
  EXPECT_EQ(st.closed_shutdown, 1);
  EXPECT_EQ(st.batches, 3);
  EXPECT_EQ(st.batch_histogram.size(), 5u);
  EXPECT_EQ(st.batch_histogram[4], 1);
  EXPECT_EQ(st.batch_histogram[3], 1);
  EXPECT_EQ(st.batch_histogram[2], 1);
}

// A partial batch waits max_queue_delay from its oldest request, then closes (kDelay).
TEST_F(ServeBatching, PartialBatchClosesAfterTheDelay) {
  const nn_test::Case c = manifest(kConv);
  constexpr int64_t kDelayMs = 60;
  Rig rig(kConv, options(8, kDelayMs * 1000 * 1000), true);
  std::vector<Rig::Sent> s;
  for (int i = 0; i < 3; ++i) s.push_back(rig.send(1, 30.0f + static_cast<float>(i)));
  ASSERT_TRUE(rig.col.wait(3, milliseconds(5000)));
  Got first = rig.col.get(s[0].id);
  EXPECT_EQ(first.r.reason, nn::CloseReason::kDelay);
  EXPECT_GE(first.r.queue_ns, kDelayMs * 1000 * 1000) << "closed before the delay";
  EXPECT_LT(first.r.queue_ns, (kDelayMs + 1000) * 1000 * 1000);
  for (const auto& r : s) {
    Got g = rig.col.get(r.id);
    EXPECT_EQ(g.r.reason, nn::CloseReason::kDelay);
    EXPECT_EQ(g.r.batch_requests, 3);
    EXPECT_EQ(g.r.batch_items, 3);
    rig.expect_right(r, c);
  }
  EXPECT_EQ(rig.server->stats().closed_delay, 1);
}

// Preferred sizes: a prefix of the queue that makes one is sent at once (the largest one);
// otherwise the batch waits.
TEST_F(ServeBatching, PreferredSizesCloseAtOnce) {
  const nn_test::Case c = manifest(kConv);
  nn::ServerOptions o = options(8, kLongDelay);
  o.preferred = {4, 2};
  Rig rig(kConv, o, false);
  Rig::Sent a = rig.send(1, 40);
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_TRUE(rig.gate->entered().empty()) << "1 item is no preferred size";
  Rig::Sent b = rig.send(1, 41);
  ASSERT_TRUE(rig.gate->wait_entered(1)) << "2 items are a preferred size";
  // While that batch is held: four single requests queue; prefixes make 2 and 4: 4 is sent.
  std::vector<Rig::Sent> q;
  for (int i = 0; i < 4; ++i) q.push_back(rig.send(1, 42.0f + static_cast<float>(i)));
  rig.gate->open();
  ASSERT_TRUE(rig.col.wait(6, milliseconds(5000)));
  auto batches = rig.gate->finished();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].markers, (std::vector<float>{40, 41}));
  EXPECT_EQ(batches[1].markers, (std::vector<float>{42, 43, 44, 45}));
  for (const auto* r : {&a, &b, &q[0], &q[3]}) {
    EXPECT_EQ(rig.col.get(r->id).r.reason, nn::CloseReason::kPreferred);
    rig.expect_right(*r, c);
  }
  // 3 items wait; one more item makes 4.
  Rig::Sent g3 = rig.send(3, 50);
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_FALSE(rig.col.has(g3.id));
  Rig::Sent g1 = rig.send(1, 51);
  ASSERT_TRUE(rig.col.wait_id(g1.id, milliseconds(5000)));
  EXPECT_EQ(rig.col.get(g3.id).r.reason, nn::CloseReason::kPreferred);
  EXPECT_EQ(rig.col.get(g3.id).r.batch_items, 4);
  // 3 then 2 items: prefixes 3 and 5, neither preferred: they wait (for the shutdown here).
  Rig::Sent h3 = rig.send(3, 60), h2 = rig.send(2, 61);
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_FALSE(rig.col.has(h3.id));
  rig.server->shutdown(false);
  EXPECT_EQ(rig.col.get(h3.id).r.reason, nn::CloseReason::kShutdown);
  EXPECT_EQ(rig.col.get(h2.id).r.batch_items, 5);
  rig.expect_right(h2, c);
  EXPECT_EQ(rig.server->stats().closed_preferred, 3);
}

// Delay 0: a batch is sent as soon as an instance is free, with whatever is queued then.
TEST_F(ServeBatching, DelayZeroSendsWhatIsQueued) {
  const nn_test::Case c = manifest(kConv);
  Rig rig(kConv, options(8, 0), false);
  Rig::Sent a = rig.send(1, 70);
  ASSERT_TRUE(rig.gate->wait_entered(1));
  std::vector<Rig::Sent> q;
  for (int i = 0; i < 3; ++i) q.push_back(rig.send(2, 71.0f + static_cast<float>(i)));
  rig.gate->open();
  ASSERT_TRUE(rig.col.wait(4, milliseconds(5000)));
  auto batches = rig.gate->finished();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].markers, (std::vector<float>{70}));
  EXPECT_EQ(batches[1].markers, (std::vector<float>{71, 72, 73}));
  EXPECT_EQ(batches[1].items, 6);
  EXPECT_EQ(rig.col.get(a.id).r.reason, nn::CloseReason::kDelay);
  for (const auto& r : q) {
    EXPECT_EQ(rig.col.get(r.id).r.reason, nn::CloseReason::kDelay);
    EXPECT_EQ(rig.col.get(r.id).r.batch_requests, 3);
    rig.expect_right(r, c);
  }
}

// A max batch below the model's: batches never pass it.
TEST_F(ServeBatching, MaxBatchBelowTheModels) {
  Rig rig(kRelu, options(3, 0), false);
  Rig::Sent blocker = rig.send(1, 1);
  ASSERT_TRUE(rig.gate->wait_entered(1));
  for (int i = 0; i < 7; ++i) rig.send(1, 2.0f + static_cast<float>(i));
  EXPECT_EQ(outcome([&] { rig.send(4, 99); }).status, Status::kInvalidArgument);
  rig.gate->open();
  ASSERT_TRUE(rig.col.wait(8, milliseconds(5000)));
  for (const auto& b : rig.gate->finished()) EXPECT_LE(b.items, 3);
  nn::ServerStats st = rig.server->stats();
  EXPECT_EQ(st.batch_histogram.size(), 4u);
  EXPECT_EQ(st.batch_histogram[3], 2);  // 2..4 and 5..7 full; then 8 alone
  (void)blocker;
}

// ------------------------------------------------------------------------------------------------
// Priorities.

// Level-1 requests run before level-2 ones queued earlier, and those before the default (lowest)
// level; within a level, in submission order.
TEST_F(ServePriority, HigherLevelsRunFirst) {
  nn::ServerOptions o = options(1, 0);
  o.priority_levels = 3;
  Rig rig(kRelu, o, false);
  auto with = [](int32_t p) {
    nn::RequestOptions ro;
    ro.priority = p;
    return ro;
  };
  rig.send(1, 1, with(1));  // the blocker
  ASSERT_TRUE(rig.gate->wait_entered(1));
  rig.send(1, 2, with(2));
  rig.send(1, 3, with(2));
  rig.send(1, 4, with(0));  // the default: the lowest level, 3
  rig.send(1, 5, with(1));
  rig.send(1, 6, with(1));
  rig.send(1, 7, with(3));
  EXPECT_EQ(outcome([&] { rig.send(1, 8, with(4)); }).status, Status::kInvalidArgument);
  EXPECT_EQ(outcome([&] { rig.send(1, 8, with(-1)); }).status, Status::kInvalidArgument);
  rig.gate->open();
  ASSERT_TRUE(rig.col.wait(7, milliseconds(5000)));
  std::vector<float> order;
  for (const auto& b : rig.gate->finished()) order.push_back(b.markers.at(0));
  EXPECT_EQ(order, (std::vector<float>{1, 5, 6, 2, 3, 4, 7}));
}

// In one batch, the higher level's requests come first (and fill it first).
TEST_F(ServePriority, HigherLevelsFillTheBatchFirst) {
  const nn_test::Case c = manifest(kRelu);
  nn::ServerOptions o = options(4, 0);
  o.priority_levels = 2;
  o.default_priority = 1;  // the highest: requests without a priority go first
  Rig rig(kRelu, o, false);
  nn::RequestOptions low;
  low.priority = 2;
  rig.send(1, 1);
  ASSERT_TRUE(rig.gate->wait_entered(1));
  std::vector<Rig::Sent> s;
  s.push_back(rig.send(1, 2, low));
  s.push_back(rig.send(2, 3, low));
  s.push_back(rig.send(1, 4));
  s.push_back(rig.send(2, 5));
  rig.gate->open();
  ASSERT_TRUE(rig.col.wait(5, milliseconds(5000)));
  auto batches = rig.gate->finished();
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[1].markers, (std::vector<float>{4, 5, 2}));  // 1 + 2 + 1 items: full
  EXPECT_EQ(batches[2].markers, (std::vector<float>{3}));
  for (const auto& r : s) rig.expect_right(r, c);
}

// ------------------------------------------------------------------------------------------------
// Ordering.

// With preserve_ordering, results are delivered in submission order even when a later batch
// finishes first on the other instance; without it, the later one is delivered first.
TEST_F(ServeOrdering, PreservedAcrossTwoInstances) {
  for (bool preserve : {true, false}) {
    SCOPED_TRACE(preserve ? "preserve_ordering" : "no ordering");
    nn::ServerOptions o = options(1, 0);
    o.instances_per_device = 2;
    o.preserve_ordering = preserve;
    Rig rig(kRelu, o, false);
    Rig::Sent r0 = rig.send(1, 100);
    Rig::Sent r1 = rig.send(1, 101);
    ASSERT_TRUE(rig.gate->wait_entered(2)) << "both instances hold a batch";
    auto entered = rig.gate->entered();
    EXPECT_NE(entered[0].instance, entered[1].instance);
    rig.gate->release(101);
    ASSERT_TRUE(rig.gate->wait_finished(1));
    EXPECT_EQ(rig.gate->finished()[0].markers[0], 101.0f);
    if (preserve) {
      std::this_thread::sleep_for(milliseconds(50));
      EXPECT_EQ(rig.col.size(), 0u) << "request 1 was delivered before request 0";
    } else {
      ASSERT_TRUE(rig.col.wait_id(r1.id, milliseconds(5000)));
      EXPECT_FALSE(rig.col.has(r0.id));
    }
    // More, released in reverse order.
    std::vector<Rig::Sent> more;
    for (int i = 0; i < 4; ++i) more.push_back(rig.send(1, 102.0f + static_cast<float>(i)));
    for (int i = 3; i >= 0; --i) rig.gate->release(102.0f + static_cast<float>(i));
    rig.gate->release(100);
    ASSERT_TRUE(rig.col.wait(6, milliseconds(5000)));
    if (preserve) {
      std::vector<uint64_t> want = {r0.id, r1.id};
      for (const auto& m : more) want.push_back(m.id);
      EXPECT_EQ(rig.col.order(), want);
    }
  }
}

// Poll mode with preserve_ordering: poll returns results in submission order.
TEST_F(ServeOrdering, PreservedInPollMode) {
  nn::ServerOptions o = options(1, 0);
  o.instances_per_device = 2;
  o.preserve_ordering = true;
  Rig rig(kRelu, o, false, /*callback=*/false);
  std::vector<Rig::Sent> s;
  for (int i = 0; i < 4; ++i) s.push_back(rig.send(1, 110.0f + static_cast<float>(i)));
  for (int i = 3; i >= 0; --i) rig.gate->release(110.0f + static_cast<float>(i));
  std::vector<uint64_t> got;
  auto t0 = Clock::now();
  while (got.size() < 4 && ms_since(t0) < 10000) {
    const nn::ServeResult* out[8];
    size_t n = rig.server->poll(nullptr, 0, 100 * 1000 * 1000, out, 8);
    for (size_t i = 0; i < n; ++i) got.push_back(out[i]->id);
    if (n > 0) {
      std::vector<uint64_t> rel;
      for (size_t i = 0; i < n; ++i) rel.push_back(out[i]->id);
      rig.server->poll(rel.data(), rel.size(), 0, out, 0);
    }
  }
  std::vector<uint64_t> want;
  for (const auto& r : s) want.push_back(r.id);
  EXPECT_EQ(got, want);
}

// ------------------------------------------------------------------------------------------------
// Deadlines.

// While the only instance is held, a queued request with a 20 ms timeout fails with kTimeout
// within a few ms of its deadline (a timer, not a check at dispatch).
TEST_F(ServeDeadline, ExpiresWhileTheBatchRuns) {
  nn::ServerOptions o = options(8, 0);
  o.name = "expires_while_the_batch_runs";
  Rig rig(kRelu, o, false);
  Rig::Sent blocker = rig.send(1, 1);
  ASSERT_TRUE(rig.gate->wait_entered(1));
  nn::RequestOptions ro;
  ro.timeout_ns = 20 * 1000 * 1000;
  auto before = Clock::now();
  Rig::Sent r = rig.send(1, 2, ro);
  ASSERT_TRUE(rig.col.wait_id(r.id, milliseconds(5000))) << "no timeout while the batch ran";
  Got g = rig.col.get(r.id);
  double late_ms =
      std::chrono::duration<double, std::milli>(g.at - before).count() - 20.0;  // an upper bound
  EXPECT_EQ(g.r.status, Status::kTimeout) << g.r.message;
  EXPECT_NE(g.r.message.find("deadline"), std::string::npos) << g.r.message;
  EXPECT_EQ(g.r.reason, nn::CloseReason::kNone);
  EXPECT_GE(g.r.total_ns, 20 * 1000 * 1000) << "timed out early";
  EXPECT_LT(late_ms, 50.0) << "the timeout came " << late_ms << " ms after the deadline";
  EXPECT_TRUE(rig.gate->finished().empty()) << "the blocker ran before the timeout";
  RecordProperty("timeout_lateness_us", static_cast<int>(late_ms * 1000));
  std::printf("[ ServeDeadline ] the timeout came at most %.2f ms after the deadline\n", late_ms);
  rig.gate->open();
  ASSERT_TRUE(rig.col.wait_id(blocker.id));
  EXPECT_EQ(rig.col.get(blocker.id).r.status, Status::kSuccess);
  EXPECT_EQ(rig.gate->finished().size(), 1u) << "the timed-out request ran";
  nn::ServerStats st = rig.server->stats();
  EXPECT_EQ(st.timed_out, 1);
  EXPECT_EQ(st.succeeded, 1);
  // The metrics hold the lateness: one observation, no later than what the test saw.
  std::string text = cudago::metrics::Registry::global().render(cudago::metrics::RenderOptions{});
  const std::string label = "{model=\"" + o.name + "\"}";
  auto value = [&](const std::string& series) {
    size_t at = text.find(series + label + " ");
    if (at == std::string::npos) return -1.0;
    return std::strtod(text.c_str() + at + series.size() + label.size() + 1, nullptr);
  };
  EXPECT_EQ(value("cudago_timeout_lateness_seconds_count"), 1.0) << text;
  double late_s = value("cudago_timeout_lateness_seconds_sum");
  EXPECT_GE(late_s, 0.0);
  EXPECT_LE(late_s * 1e3, std::max(late_ms, 0.0) + 1.0);
}

// A request that runs before its deadline succeeds; the server's default timeout applies to a
// request without one; a timeout of INT64_MAX ns is no deadline (it does not overflow).
TEST_F(ServeDeadline, DefaultAndHugeTimeouts) {
  nn::ServerOptions o = options(8, 0);
  o.default_timeout_ns = 20 * 1000 * 1000;
  Rig rig(kRelu, o, false);
  nn::RequestOptions never;
  never.timeout_ns = INT64_MAX;
  Rig::Sent blocker = rig.send(1, 1, never);
  ASSERT_TRUE(rig.gate->wait_entered(1));
  Rig::Sent d = rig.send(1, 2);  // the default 20 ms
  Rig::Sent huge = rig.send(1, 3, never);
  nn::RequestOptions long_one;
  long_one.timeout_ns = int64_t{3600} * 1000 * 1000 * 1000;
  Rig::Sent hour = rig.send(1, 4, long_one);
  ASSERT_TRUE(rig.col.wait_id(d.id, milliseconds(5000)));
  EXPECT_EQ(rig.col.get(d.id).r.status, Status::kTimeout);
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_FALSE(rig.col.has(huge.id)) << rig.col.get(huge.id).r.message;
  EXPECT_FALSE(rig.col.has(hour.id));
  rig.gate->open();
  ASSERT_TRUE(rig.col.wait(4, milliseconds(5000)));
  EXPECT_EQ(rig.col.get(blocker.id).r.status, Status::kSuccess);
  EXPECT_EQ(rig.col.get(huge.id).r.status, Status::kSuccess) << rig.col.get(huge.id).r.message;
  EXPECT_EQ(rig.col.get(hour.id).r.status, Status::kSuccess);
  nn::RequestOptions neg;
  neg.timeout_ns = -1;
  EXPECT_EQ(outcome([&] { rig.send(1, 5, neg); }).status, Status::kInvalidArgument);
}

// A batch waiting for its delay closes early when a member's deadline would pass otherwise
// (kDeadline), given the run time the server has measured for that batch size.
TEST_F(ServeDeadline, CloseInTimeForADeadline) {
  const nn_test::Case c = manifest(kRelu);
  Rig rig(kRelu, options(4, kLongDelay), true);
  rig.gate->set_sleep(milliseconds(40));
  // The run time of batches of 3 to 4 items: two full batches of 4.
  for (int i = 0; i < 2; ++i) {
    Rig::Sent a = rig.send(2, 1.0f + static_cast<float>(2 * i));
    Rig::Sent b = rig.send(2, 2.0f + static_cast<float>(2 * i));
    ASSERT_TRUE(rig.col.wait_id(b.id, milliseconds(5000)));
    ASSERT_EQ(rig.col.get(a.id).r.reason, nn::CloseReason::kFull);
  }
  constexpr int64_t kTimeoutMs = 400;
  nn::RequestOptions ro;
  ro.timeout_ns = kTimeoutMs * 1000 * 1000;
  Rig::Sent r = rig.send(3, 10, ro);  // 3 items: not full, no preferred size, a 10 s delay
  ASSERT_TRUE(rig.col.wait_id(r.id, milliseconds(5000)));
  Got g = rig.col.get(r.id);
  ASSERT_EQ(g.r.status, Status::kSuccess) << g.r.message;
  EXPECT_EQ(g.r.reason, nn::CloseReason::kDeadline);
  EXPECT_LT(g.r.queue_ns, kTimeoutMs * 1000 * 1000) << "dispatched after its deadline";
  EXPECT_GT(g.r.queue_ns, 150 * 1000 * 1000) << "closed long before its deadline needed it";
  rig.expect_right(r, c);
  EXPECT_EQ(rig.server->stats().closed_deadline, 1);
}

// ------------------------------------------------------------------------------------------------
// Refusals: the queue and the staging memory.

TEST_F(ServeQueue, FullQueueRefusesAtOnce) {
  const nn_test::Case c = manifest(kRelu);
  nn::ServerOptions o = options(1, 0);
  o.max_queue_size = 3;
  Rig rig(kRelu, o, false);
  std::vector<Rig::Sent> s;
  s.push_back(rig.send(1, 1));  // runs: not in the queue
  ASSERT_TRUE(rig.gate->wait_entered(1));
  for (int i = 0; i < 3; ++i) s.push_back(rig.send(1, 2.0f + static_cast<float>(i)));
  auto t0 = Clock::now();
  Outcome full = outcome([&] { rig.send(1, 9); });
  double took = ms_since(t0);
  EXPECT_EQ(full.status, Status::kQueueFull) << full.message;
  EXPECT_NE(full.message.find("queue is full"), std::string::npos) << full.message;
  EXPECT_LT(took, 500.0) << "the refusal waited";
  nn::ServerStats st = rig.server->stats();
  EXPECT_EQ(st.rejected, 1);
  EXPECT_EQ(st.queued, 3);
  EXPECT_EQ(st.in_flight, 1);
  EXPECT_EQ(st.submitted, 4);
  rig.gate->open();
  ASSERT_TRUE(rig.col.wait(4, milliseconds(5000)));
  for (const auto& r : s) rig.expect_right(r, c);
  Rig::Sent later = rig.send(1, 10);  // room again
  ASSERT_TRUE(rig.col.wait_id(later.id));
  rig.expect_right(later, c);
  st = rig.server->stats();
  EXPECT_EQ(st.completed, 5);
  EXPECT_EQ(st.succeeded, 5);
}

// The staging cap: a request whose staging would pass max_staging_bytes is refused at once
// (kQueueFull); freed slots are reused; a slot of another size class drops cached ones.
TEST_F(ServeQueue, StagingCapRefuses) {
  const nn_test::Case c = manifest(kRelu);
  // One item: input and output of 7436 bytes, 256-aligned: 15360, in the 16 KiB class. Poll
  // mode: a result holds its staging until released.
  nn::ServerOptions o = options(8, 0);
  o.max_staging_bytes = 40000;
  Rig rig(kRelu, o, false, /*callback=*/false);
  Rig::Sent x = rig.send(1, 1);
  ASSERT_TRUE(rig.gate->wait_entered(1));
  Rig::Sent y = rig.send(1, 2);
  EXPECT_EQ(rig.server->stats().staging_bytes, 32768);
  Outcome full = outcome([&] { rig.send(1, 3); });
  EXPECT_EQ(full.status, Status::kQueueFull) << full.message;
  EXPECT_NE(full.message.find("staging"), std::string::npos) << full.message;
  nn::ServerStats st = rig.server->stats();
  EXPECT_EQ(st.rejected, 1);
  EXPECT_EQ(st.staging_bytes, 32768);
  rig.gate->open();
  rig.poll_check_release({&x, &y}, c);
  // The two cached slots are reused.
  Rig::Sent a = rig.send(1, 4), b = rig.send(1, 5);
  rig.poll_check_release({&a, &b}, c);
  EXPECT_EQ(rig.server->stats().staging_bytes, 32768);
  // Two items need a 32 KiB slot: the cached 16 KiB ones are dropped to make room.
  Rig::Sent two = rig.send(2, 6);
  EXPECT_EQ(rig.server->stats().staging_bytes, 32768);
  // ... and while it holds it, one item does not fit.
  EXPECT_EQ(outcome([&] { rig.send(1, 7); }).status, Status::kQueueFull);
  rig.poll_check_release({&two}, c);
  // Three items can never fit (a 48 KiB slot).
  Outcome never = outcome([&] { rig.send(3, 8); });
  EXPECT_EQ(never.status, Status::kQueueFull) << never.message;
  EXPECT_NE(never.message.find("staging"), std::string::npos) << never.message;
  EXPECT_LE(rig.server->stats().staging_bytes, 40000);
  EXPECT_EQ(rig.server->stats().rejected, 3);
}

// ------------------------------------------------------------------------------------------------
// Cancellation.

TEST_F(ServeCancel, OnlyQueuedRequests) {
  const nn_test::Case c = manifest(kRelu);
  Rig rig(kRelu, options(8, 0), false);
  Rig::Sent blocker = rig.send(1, 1);
  ASSERT_TRUE(rig.gate->wait_entered(1));
  Rig::Sent a = rig.send(1, 2), b = rig.send(1, 3);
  EXPECT_TRUE(rig.server->cancel(a.id));
  ASSERT_TRUE(rig.col.wait_id(a.id, milliseconds(5000))) << "the cancelled result waited";
  Got g = rig.col.get(a.id);
  EXPECT_EQ(g.r.status, Status::kCancelled);
  EXPECT_EQ(g.r.reason, nn::CloseReason::kNone);
  EXPECT_EQ(g.r.instance, -1);
  EXPECT_FALSE(g.r.message.empty());
  EXPECT_TRUE(rig.gate->finished().empty());
  EXPECT_FALSE(rig.server->cancel(a.id)) << "cancelled twice";
  EXPECT_FALSE(rig.server->cancel(blocker.id)) << "a running request was cancelled";
  EXPECT_FALSE(rig.server->cancel(0x123456789abcull)) << "an unknown id";
  EXPECT_FALSE(rig.server->cancel(b.id + (uint64_t{1} << 32))) << "an id of another generation";
  rig.gate->open();
  ASSERT_TRUE(rig.col.wait(3, milliseconds(5000)));
  rig.expect_right(blocker, c);
  rig.expect_right(b, c);
  EXPECT_FALSE(rig.server->cancel(b.id)) << "a request that ran";
  auto batches = rig.gate->finished();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[1].markers, (std::vector<float>{3}));
  nn::ServerStats st = rig.server->stats();
  EXPECT_EQ(st.cancelled, 1);
  EXPECT_EQ(st.succeeded, 2);
  EXPECT_EQ(st.completed, 3);
}

// ------------------------------------------------------------------------------------------------
// Shutdown.

// shutdown(false): intake stops at once (kUnavailable) and every accepted request runs; what
// waits for its delay is sent (kShutdown); the call returns when all are delivered.
TEST_F(ServeShutdown, DrainsEveryAcceptedRequest) {
  const nn_test::Case c = manifest(kRelu);
  Rig rig(kRelu, options(4, kLongDelay), false);
  std::vector<Rig::Sent> s;
  s.push_back(rig.send(4, 1));  // full: runs, held
  ASSERT_TRUE(rig.gate->wait_entered(1));
  for (int i = 0; i < 5; ++i) s.push_back(rig.send(1, 2.0f + static_cast<float>(i)));
  std::atomic<bool> returned{false};
  std::thread stopper([&] {
    rig.server->shutdown(false);
    returned = true;
  });
  // Intake stops: a submit eventually fails with kUnavailable (those before it are accepted).
  Outcome refused;
  auto t0 = Clock::now();
  for (float m = 20; ms_since(t0) < 5000; m += 1) {
    refused = outcome([&] { s.push_back(rig.send(1, m)); });
    if (refused.status != Status::kSuccess) break;
    std::this_thread::sleep_for(milliseconds(1));
  }
  EXPECT_EQ(refused.status, Status::kUnavailable) << refused.message;
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(returned) << "shutdown returned while a batch was held";
  rig.gate->open();
  stopper.join();
  EXPECT_EQ(rig.col.size(), s.size()) << "shutdown returned before every result was delivered";
  bool some_shutdown = false;
  for (const auto& r : s) {
    rig.expect_right(r, c);
    some_shutdown |= rig.col.get(r.id).r.reason == nn::CloseReason::kShutdown;
  }
  // The single requests went in fours (full); a remainder waited for its delay: the shutdown
  // sent it.
  const bool remainder = (s.size() - 1) % 4 != 0;
  EXPECT_EQ(some_shutdown, remainder);
  EXPECT_EQ(outcome([&] { rig.send(1, 99); }).status, Status::kUnavailable);
  nn::ServerStats st = rig.server->stats();
  EXPECT_EQ(st.submitted, static_cast<int64_t>(s.size()));
  EXPECT_EQ(st.completed, st.submitted);
  EXPECT_EQ(st.queued, 0);
  EXPECT_EQ(st.in_flight, 0);
  EXPECT_GE(st.rejected, 2);
  EXPECT_EQ(st.closed_shutdown, remainder ? 1 : 0);
  rig.server->shutdown(false);  // again: returns at once
  rig.server->shutdown(true);
}

// shutdown(true): the queued requests fail with kCancelled at once; the running batch completes.
TEST_F(ServeShutdown, CancelQueued) {
  const nn_test::Case c = manifest(kRelu);
  Rig rig(kRelu, options(8, 0), false);
  Rig::Sent blocker = rig.send(2, 1);
  ASSERT_TRUE(rig.gate->wait_entered(1));
  std::vector<Rig::Sent> q;
  for (int i = 0; i < 3; ++i) q.push_back(rig.send(1, 2.0f + static_cast<float>(i)));
  std::thread stopper([&] { rig.server->shutdown(true); });
  ASSERT_TRUE(rig.col.wait(3, milliseconds(5000))) << "the queued requests were not cancelled";
  for (const auto& r : q) {
    Got g = rig.col.get(r.id);
    EXPECT_EQ(g.r.status, Status::kCancelled);
    EXPECT_NE(g.r.message.find("shut down"), std::string::npos) << g.r.message;
  }
  EXPECT_FALSE(rig.col.has(blocker.id));
  rig.gate->open();
  stopper.join();
  rig.expect_right(blocker, c);
  nn::ServerStats st = rig.server->stats();
  EXPECT_EQ(st.cancelled, 3);
  EXPECT_EQ(st.succeeded, 1);
  EXPECT_EQ(st.queued, 0);
}

// Several threads shut down at once, and the destructor after them: all return.
TEST_F(ServeShutdown, ConcurrentShutdowns) {
  Rig rig(kRelu, options(8, kLongDelay), false);
  for (int i = 0; i < 3; ++i) rig.send(1, static_cast<float>(i));
  std::vector<std::thread> t;
  for (int i = 0; i < 3; ++i) {
    t.emplace_back([&, i] { rig.server->shutdown(i == 1); });
  }
  rig.gate->open();
  for (auto& x : t) x.join();
  EXPECT_EQ(rig.col.size(), 3u);
  EXPECT_EQ(rig.server->stats().completed, 3);
}

// A backend with one huge input (64 MiB), whose copy into staging takes a while: a shutdown that
// starts while a submit copies must not wait forever for that submit (it is refused or accepted
// and drained).
class BigBackend : public nn::ServeBackend {
 public:
  static constexpr int64_t kFloats = int64_t{16} << 20;
  BigBackend() {
    Spec s;
    s.name = "x";
    s.item_dims = {kFloats};
    s.item_bytes = kFloats * 4;
    in_ = {s};
    s.name = "y";
    s.item_dims = {1};
    s.item_bytes = 4;
    out_ = {s};
  }
  const std::vector<Spec>& inputs() const override { return in_; }
  const std::vector<Spec>& outputs() const override { return out_; }
  int64_t max_batch() const override { return 1; }
  bool gpu() const override { return false; }
  int32_t device() const override { return -1; }
  class Inst : public Instance {
   public:
    void execute(Batch& b) override {
      for (const auto* r : b.requests) {
        float v = static_cast<const float*>(r->in[0])[kFloats - 1];
        std::memcpy(r->out[0], &v, 4);
      }
    }
  };
  std::unique_ptr<Instance> make_instance(int32_t, int32_t, int64_t,
                                          const cudago::nn::ServerOptions&) override {
    return std::make_unique<Inst>();
  }

 private:
  std::vector<Spec> in_, out_;
};

TEST_F(ServeShutdown, WhileASubmitCopiesItsInput) {
  std::vector<float> x(static_cast<size_t>(BigBackend::kFloats), 1.5f);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    auto col = std::make_shared<Collector>();
    std::shared_ptr<nn::Server> server =
        nn::Server::create(std::make_shared<BigBackend>(), options(1, 0), col->callback());
    std::atomic<int> accepted{0};
    std::atomic<bool> started{false};
    std::thread submitter([&] {
      nn::RequestTensor t;
      t.dims = {1, BigBackend::kFloats};
      t.data = x.data();
      t.bytes = x.size() * 4;
      for (int i = 0; i < 4; ++i) {
        started = true;
        Outcome out = outcome([&] { server->submit({t}, {}, {}); });
        if (out.status == Status::kSuccess) {
          accepted++;
        } else {
          EXPECT_EQ(out.status, Status::kUnavailable) << out.message;
          break;
        }
      }
    });
    while (!started) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::microseconds(500 + 2000 * round));
    bool ok =
        serve_test::finishes_within([server] { server->shutdown(false); }, milliseconds(20000));
    submitter.join();
    if (!ok) {
      ADD_FAILURE() << "shutdown hung while a submit copied its input";
      new std::shared_ptr<nn::Server>(server);  // leaked: its threads are stuck
      new std::shared_ptr<Collector>(col);
      return;
    }
    EXPECT_EQ(static_cast<int>(col->size()), accepted.load());
    EXPECT_EQ(server->stats().completed, accepted.load());
  }
}

// ------------------------------------------------------------------------------------------------
// Mixed shapes.

// A backend that takes two item shapes: requests of different shapes never share a batch, those
// of one shape do (the queue's head picks the shape of the next batch).
TEST_F(ServeShapes, DifferentShapesNeverShareABatch) {
  const nn_test::Case c = manifest(kRelu);
  const std::vector<int64_t> kA = {13, 13, 11}, kB = {11, 13, 13};  // same element count
  std::vector<std::vector<std::vector<int64_t>>> also;
  also.push_back({kB});  // one input: its other item shape
  Rig rig(kRelu, options(8, 0), false, true, also);
  Rig::Sent blocker = rig.send(1, 1);
  ASSERT_TRUE(rig.gate->wait_entered(1));
  std::vector<Rig::Sent> s;
  std::map<float, bool> is_b;
  for (int i = 0; i < 7; ++i) {
    bool b = i % 2 == 1;
    float m = 10.0f + static_cast<float>(i);
    s.push_back(rig.send(1 + i % 2, m, {}, b ? kB : kA));
    is_b[m] = b;
  }
  rig.gate->open();
  ASSERT_TRUE(rig.col.wait(8, milliseconds(5000)));
  auto batches = rig.gate->finished();
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[1].markers, (std::vector<float>{10, 12, 14, 16}));
  EXPECT_EQ(batches[2].markers, (std::vector<float>{11, 13, 15}));
  for (const auto& b : batches) {
    for (float m : b.markers) {
      if (is_b.count(m)) {
        EXPECT_EQ(is_b[m], is_b[b.markers[0]]) << "shapes mixed in a batch";
      }
    }
  }
  for (const auto& r : s) {
    Got g = rig.col.get(r.id);
    EXPECT_EQ(g.r.batch_requests, is_b[r.marker] ? 3 : 4);
    rig.expect_right(r, c);  // the same bytes through the model
  }
  rig.expect_right(blocker, c);
  // The model's own backend takes only its shape.
  Collector col;
  auto plain = nn::Server::create(nn::model_backend(rig.model), options(8, 0), col.callback());
  std::vector<float> x(static_cast<size_t>(kItem));
  nn::RequestTensor t;
  t.dims = {1, 11, 13, 13};
  t.data = x.data();
  t.bytes = x.size() * 4;
  Outcome o = outcome([&] { plain->submit({t}, {}, {}); });
  EXPECT_EQ(o.status, Status::kInvalidArgument);
  EXPECT_NE(o.message.find("input 0 ('x') item shape [11 13 13], the model's [13 13 11]"),
            std::string::npos)
      << o.message;
}

// The instance timing the queue hands over where it must (one and two instances):
// - a request with a deadline that comes while an instance times a long delay makes the batch go
//   in time for it (kDeadline), with the request already waiting;
// - a request of another shape, queued while the first shape's batch waits for its delay, goes
//   after its own delay, while that batch runs: an instance times it, though none was woken for
//   it (no deadline, the queue already timed).
TEST_F(ServeShapes, TheTimerHandsOver) {
  const nn_test::Case c = manifest(kRelu);
  const std::vector<int64_t> kA = {13, 13, 11}, kB = {11, 13, 13};
  std::vector<std::vector<std::vector<int64_t>>> also;
  also.push_back({kB});
  for (int instances : {1, 2}) {
    SCOPED_TRACE("instances " + std::to_string(instances));
    {
      nn::ServerOptions o = options(8, int64_t{1000} * 1000 * 1000);  // a 1 s delay
      o.instances_per_device = instances;
      Rig rig(kRelu, o, true, true, also);
      // A batch of two items first, run 40 ms long: the estimate the deadline's slack takes for
      // two items (the batch below). Without it the slack is 1 ms, which a busy machine's
      // scheduler overshot (the sanitizer build on two cores): the reaper then expired the
      // request at its deadline, as it would have with no hand-over at all.
      rig.gate->set_sleep(milliseconds(40));
      Rig::Sent prime = rig.send(2, 3);
      ASSERT_TRUE(rig.col.wait_id(prime.id, milliseconds(5000)));  // after the 1 s delay
      rig.gate->set_sleep(milliseconds(0));
      Rig::Sent first = rig.send(1, 1);
      std::this_thread::sleep_for(milliseconds(30));  // an instance times the delay now
      nn::RequestOptions ro;
      ro.timeout_ns = int64_t{150} * 1000 * 1000;
      auto t0 = Clock::now();
      Rig::Sent due = rig.send(1, 2, ro);
      ASSERT_TRUE(rig.col.wait_id(due.id, milliseconds(5000)));
      const double waited = ms_since(t0);
      Got g = rig.col.get(due.id);
      ASSERT_EQ(g.r.status, Status::kSuccess) << g.r.message;
      EXPECT_EQ(g.r.reason, nn::CloseReason::kDeadline);
      EXPECT_EQ(g.r.batch_requests, 2) << "the waiting request went with it";
      EXPECT_LT(g.r.queue_ns, int64_t{140} * 1000 * 1000) << "sent later than its slack allows";
      EXPECT_LT(waited, 600) << "the batch went at the timer, not for the deadline";
      ASSERT_TRUE(rig.col.wait_id(first.id, milliseconds(100)));
      rig.expect_right(prime, c);
      rig.expect_right(first, c);
      rig.expect_right(due, c);
    }
    {
      constexpr int64_t kDelayMs = 150;
      nn::ServerOptions o = options(8, kDelayMs * 1000 * 1000);
      o.instances_per_device = instances;
      Rig rig(kRelu, o, true, true, also);
      // With two instances, A's batch runs long: only the other instance can time B.
      if (instances == 2) rig.gate->set_sleep(milliseconds(400));
      auto t0 = Clock::now();
      Rig::Sent a = rig.send(1, 1, {}, kA);
      std::this_thread::sleep_for(milliseconds(50));
      Rig::Sent b = rig.send(1, 2, {}, kB);
      ASSERT_TRUE(rig.col.wait(2, milliseconds(5000)));
      const double all = ms_since(t0);
      Got ga = rig.col.get(a.id), gb = rig.col.get(b.id);
      EXPECT_EQ(ga.r.reason, nn::CloseReason::kDelay);
      EXPECT_EQ(gb.r.reason, nn::CloseReason::kDelay);
      EXPECT_EQ(ga.r.batch_requests, 1);
      EXPECT_EQ(gb.r.batch_requests, 1);
      EXPECT_GE(gb.r.queue_ns, (kDelayMs - 1) * 1000 * 1000);
      // Its own delay after it came: not left until A's instance is free again (two instances),
      // or until a next request that never comes (the wait above would fail).
      EXPECT_LT(gb.r.queue_ns, (kDelayMs + 150) * 1000 * 1000) << "B waited past its delay";
      EXPECT_LT(all, 50 + kDelayMs + (instances == 2 ? 400 : 0) + 400);
      rig.expect_right(a, c);
      rig.expect_right(b, c);
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Bad requests.

// Each bad request fails alone with kInvalidArgument (kNotSupported for device memory on the
// reference executor) and a message naming what is wrong; a batch forming meanwhile is whole.
TEST_F(ServeRequests, BadRequestsFailAlone) {
  const nn_test::Case c = manifest(kConv);
  Rig rig(kConv, options(8, kLongDelay), true);
  std::vector<Rig::Sent> good;
  for (int i = 0; i < 3; ++i) good.push_back(rig.send(1, 1.0f + static_cast<float>(i)));
  std::vector<float> x(static_cast<size_t>(2 * kItem), 0.25f);
  auto tensor = [&](std::vector<int64_t> dims) {
    nn::RequestTensor t;
    t.dims = std::move(dims);
    int64_t n = 1;
    for (int64_t d : t.dims) n *= d;
    t.data = x.data();
    t.bytes = static_cast<uint64_t>(n) * 4;
    return t;
  };
  struct Bad {
    const char* what;
    std::vector<nn::RequestTensor> in, out;
    nn::RequestOptions ro;
    Status status;
    const char* message;
  };
  std::vector<Bad> bad;
  bad.push_back({"no inputs", {}, {}, {}, Status::kInvalidArgument, "the model has 1 inputs"});
  bad.push_back({"two inputs",
                 {tensor({1, 13, 13, 11}), tensor({1, 13, 13, 11})},
                 {},
                 {},
                 Status::kInvalidArgument,
                 "the request gives 2"});
  bad.push_back({"rank",
                 {tensor({1, 13, 143})},
                 {},
                 {},
                 Status::kInvalidArgument,
                 "input 0 ('x') has rank 3; the model takes rank 4"});
  bad.push_back({"shape",
                 {tensor({1, 13, 11, 13})},
                 {},
                 {},
                 Status::kInvalidArgument,
                 "input 0 ('x') item shape [13 11 13]"});
  {
    Bad b{"dtype", {tensor({1, 13, 13, 11})}, {},
          {},      Status::kInvalidArgument,  "input 0 ('x') has element type uint8"};
    b.in[0].type = nn::ElemType::kU8;
    bad.push_back(b);
  }
  {
    Bad b{"bytes", {tensor({1, 13, 13, 11})}, {},
          {},      Status::kInvalidArgument,  "input 0 ('x') has 7432 bytes; its shape needs 7436"};
    b.in[0].bytes -= 4;
    bad.push_back(b);
  }
  {
    Bad b{"NULL data", {tensor({1, 13, 13, 11})}, {},
          {},          Status::kInvalidArgument,  "input 0 ('x') has no data"};
    b.in[0].data = nullptr;
    bad.push_back(b);
  }
  bad.push_back({"dimension 0",
                 {tensor({0, 13, 13, 11})},
                 {},
                 {},
                 Status::kInvalidArgument,
                 "input 0 ('x') has dimension 0 = 0"});
  bad.push_back({"negative dimension",
                 {tensor({1, -13, 13, 11})},
                 {},
                 {},
                 Status::kInvalidArgument,
                 "input 0 ('x') has dimension 1 = -13"});
  {
    Bad b{"too many items",
          {tensor({9, 13, 13, 11})},
          {},
          {},
          Status::kInvalidArgument,
          "the request has 9 batch items; the server's max batch is 8"};
    bad.push_back(b);
  }
  {
    Bad b{"priority", {tensor({1, 13, 13, 11})}, {},
          {},         Status::kInvalidArgument,  "priority 2 is out of range"};
    b.ro.priority = 2;
    bad.push_back(b);
  }
  {
    Bad b{"device memory",       {tensor({1, 13, 13, 11})},          {}, {},
          Status::kNotSupported, "input 0 ('x') is in device memory"};
    b.in[0].kind = nn::MemoryKind::kDevice;
    bad.push_back(b);
  }
  {
    nn::RequestTensor out;
    Bad b{"two outputs",
          {tensor({1, 13, 13, 11})},
          {out, out},
          {},
          Status::kInvalidArgument,
          "the model has 1 outputs; the request gives 2 destinations"};
    bad.push_back(b);
  }
  {
    nn::RequestTensor out;
    out.data = x.data();
    Bad b{"host output with data",
          {tensor({1, 13, 13, 11})},
          {out},
          {},
          Status::kInvalidArgument,
          "output 0 ('y'): a HOST output is written to staging"};
    bad.push_back(b);
  }
  {
    nn::RequestTensor out;
    out.kind = nn::MemoryKind::kPinned;
    out.data = x.data();
    out.bytes = 4;
    Bad b{"pinned output of the wrong size",
          {tensor({1, 13, 13, 11})},
          {out},
          {},
          Status::kInvalidArgument,
          "output 0 ('y') has 4 bytes; at 1 batch items it needs 7436"};
    bad.push_back(b);
  }
  {
    nn::RequestTensor out;
    out.kind = nn::MemoryKind::kDevice;
    out.data = x.data();
    out.bytes = kItem * 4;
    Bad b{"device output",       {tensor({1, 13, 13, 11})},           {out}, {},
          Status::kNotSupported, "output 0 ('y') is in device memory"};
    bad.push_back(b);
  }
  for (const Bad& b : bad) {
    Outcome o = outcome([&] { rig.server->submit(b.in, b.out, b.ro); });
    EXPECT_EQ(o.status, b.status) << b.what << ": " << o.message;
    EXPECT_NE(o.message.find(b.message), std::string::npos)
        << b.what << ": \"" << o.message << "\" does not say \"" << b.message << "\"";
  }
  nn::ServerStats st = rig.server->stats();
  EXPECT_EQ(st.rejected, static_cast<int64_t>(bad.size()));
  EXPECT_EQ(st.queued, 3);
  EXPECT_EQ(st.submitted, 3);
  // The batch fills up with good requests only.
  for (int i = 0; i < 5; ++i) good.push_back(rig.send(1, 10.0f + static_cast<float>(i)));
  ASSERT_TRUE(rig.col.wait(8, milliseconds(5000)));
  for (const auto& r : good) {
    EXPECT_EQ(rig.col.get(r.id).r.batch_requests, 8);
    EXPECT_EQ(rig.col.get(r.id).r.reason, nn::CloseReason::kFull);
    rig.expect_right(r, c);
  }
  // A PINNED input (host memory the caller keeps) runs in place on the reference executor.
  Rig::Sent p;
  p.marker = 50;
  p.items = 1;
  p.x = make_input(kItem, 5, 50);
  nn::RequestTensor pin = tensor({1, 13, 13, 11});
  pin.kind = nn::MemoryKind::kPinned;
  pin.data = p.x.data();
  std::vector<float> dst(static_cast<size_t>(kItem), -7.0f);
  nn::RequestTensor out;
  out.kind = nn::MemoryKind::kPinned;
  out.data = dst.data();
  out.bytes = dst.size() * 4;
  for (int i = 0; i < 7; ++i) rig.send(1, 60.0f + static_cast<float>(i));  // fills the batch
  p.id = rig.server->submit({pin}, {out}, {});
  ASSERT_TRUE(rig.col.wait_id(p.id, milliseconds(5000)));
  Got g = rig.col.get(p.id);
  ASSERT_EQ(g.r.status, Status::kSuccess) << g.r.message;
  EXPECT_EQ(g.out[0], dst) << "the result's output is not the destination given";
  rig.expect_right(p, c);
}

// A model with two inputs: each input is named in its refusal; item counts must agree.
TEST_F(ServeRequests, TwoInputsNamed) {
  auto model = load(kAdd2);
  Collector col;
  auto server = nn::Server::create(nn::model_backend(model), options(8, 0), col.callback());
  std::vector<float> x(static_cast<size_t>(2 * kItem), 1.0f);
  auto t = [&](int64_t n) {
    nn::RequestTensor r;
    r.dims = {n, 13, 13, 11};
    r.data = x.data();
    r.bytes = static_cast<uint64_t>(n * kItem * 4);
    return r;
  };
  Outcome o = outcome([&] { server->submit({t(1), t(2)}, {}, {}); });
  EXPECT_EQ(o.status, Status::kInvalidArgument);
  EXPECT_NE(o.message.find("input 1 ('y') has 2 batch items; an earlier input has 1"),
            std::string::npos)
      << o.message;
  nn::RequestTensor bad = t(1);
  bad.data = nullptr;
  o = outcome([&] { server->submit({t(1), bad}, {}, {}); });
  EXPECT_NE(o.message.find("input 1 ('y') has no data"), std::string::npos) << o.message;
  uint64_t id = server->submit({t(2), t(2)}, {}, {});
  ASSERT_TRUE(col.wait_id(id));
  Got g = col.get(id);
  ASSERT_EQ(g.r.status, Status::kSuccess);
  for (float v : g.out[0]) ASSERT_EQ(v, 2.0f);
}

// ------------------------------------------------------------------------------------------------
// Poll mode.

TEST_F(ServePoll, RoundTripWithReleases) {
  const nn_test::Case c = manifest(kConv);
  Rig rig(kConv, options(8, 1000 * 1000), true, /*callback=*/false);
  const nn::ServeResult* out[16];
  // Nothing yet: no wait returns 0 at once; a 20 ms wait returns 0 after about that.
  EXPECT_EQ(rig.server->poll(nullptr, 0, 0, out, 16), 0u);
  auto t0 = Clock::now();
  EXPECT_EQ(rig.server->poll(nullptr, 0, 20 * 1000 * 1000, out, 16), 0u);
  EXPECT_GE(ms_since(t0), 19.0);
  std::vector<Rig::Sent> s;
  for (int i = 0; i < 10; ++i) s.push_back(rig.send(1 + i % 3, 1.0f + static_cast<float>(i)));
  std::map<uint64_t, const nn::ServeResult*> got;
  t0 = Clock::now();
  while (got.size() < s.size() && ms_since(t0) < 10000) {
    size_t n = rig.server->poll(nullptr, 0, 100 * 1000 * 1000, out, 3);  // 3 at most
    EXPECT_LE(n, 3u);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(got.count(out[i]->id), 0u) << "a result polled twice";
      got[out[i]->id] = out[i];
    }
  }
  ASSERT_EQ(got.size(), s.size());
  // Results stay valid until released: check them all now.
  for (const auto& r : s) {
    const nn::ServeResult* g = got[r.id];
    ASSERT_EQ(g->status, Status::kSuccess) << g->message;
    auto want = run_alone(*rig.model, {r.x}, r.items);
    ASSERT_EQ(g->output_bytes.at(0), want[0].size() * 4);
    auto cmp = nn_test::compare(static_cast<const float*>(g->outputs[0]), want[0].data(),
                                static_cast<int64_t>(want[0].size()), c.rtol, c.atol);
    EXPECT_TRUE(cmp.ok()) << "request " << r.marker << " element " << cmp.at;
  }
  // Release: a bogus id, a duplicate, or one released already releases nothing.
  uint64_t first = s[0].id, second = s[1].id;
  uint64_t bogus[2] = {first, 0xdeadbeefull};
  Outcome o = outcome([&] { rig.server->poll(bogus, 2, 0, out, 0); });
  EXPECT_EQ(o.status, Status::kInvalidArgument);
  EXPECT_NE(o.message.find("release[1]"), std::string::npos) << o.message;
  uint64_t twice[2] = {second, second};
  o = outcome([&] { rig.server->poll(twice, 2, 0, out, 0); });
  EXPECT_EQ(o.status, Status::kInvalidArgument);
  EXPECT_NE(o.message.find("twice"), std::string::npos) << o.message;
  uint64_t apart[3] = {first, second, first};  // not side by side
  o = outcome([&] { rig.server->poll(apart, 3, 0, out, 0); });
  EXPECT_EQ(o.status, Status::kInvalidArgument);
  EXPECT_NE(o.message.find("twice"), std::string::npos) << o.message;
  EXPECT_EQ(rig.server->poll(&first, 1, 0, out, 0), 0u);  // first was not released above
  o = outcome([&] { rig.server->poll(&first, 1, 0, out, 0); });
  EXPECT_EQ(o.status, Status::kInvalidArgument) << "released twice";
  uint64_t pending = s[9].id;  // an id in flight or done is not a polled result either
  Rig::Sent later = rig.send(1, 90);
  o = outcome([&] { rig.server->poll(&later.id, 1, 0, out, 0); });
  EXPECT_EQ(o.status, Status::kInvalidArgument) << "released a result not polled";
  std::vector<uint64_t> rest;
  for (size_t i = 1; i < s.size(); ++i) rest.push_back(s[i].id);
  EXPECT_EQ(rig.server->poll(rest.data(), rest.size(), 0, out, 0), 0u);
  (void)pending;
  // Shutdown: the last result is still polled, then kUnavailable.
  rig.server->shutdown(false);
  size_t n = rig.server->poll(nullptr, 0, 0, out, 16);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(out[0]->id, later.id);
  o = outcome([&] { rig.server->poll(nullptr, 0, -1, out, 16); });
  EXPECT_EQ(o.status, Status::kUnavailable) << o.message;
  EXPECT_EQ(rig.server->poll(&later.id, 1, 0, out, 0), 0u) << "a release after the shutdown";
  o = outcome([&] { rig.server->poll(nullptr, 0, 0, out, 16); });
  EXPECT_EQ(o.status, Status::kUnavailable);
  EXPECT_EQ(rig.server->stats().completed, 11);
}

// A callback server refuses poll.
TEST_F(ServePoll, CallbackServerRefusesPoll) {
  Rig rig(kRelu, options(8, 0), true);
  const nn::ServeResult* out[1];
  EXPECT_EQ(outcome([&] { rig.server->poll(nullptr, 0, 0, out, 1); }).status,
            Status::kNotSupported);
}

// A poll waiting without a limit returns when the server shuts down (kUnavailable), from
// another thread; results left unreleased are freed by the destructor.
TEST_F(ServePoll, WaiterSeesTheShutdown) {
  for (int round = 0; round < 20; ++round) {
    Rig rig(kRelu, options(8, 0), true, /*callback=*/false);
    Rig::Sent r = rig.send(1, 1);
    std::atomic<int> polled{0};
    std::atomic<int> status{-1};
    std::thread poller([&] {
      const nn::ServeResult* out[4];
      for (;;) {
        Outcome o =
            outcome([&] { polled += static_cast<int>(rig.server->poll(nullptr, 0, -1, out, 4)); });
        if (o.status != Status::kSuccess) {
          status = static_cast<int>(o.status);
          return;
        }
      }
    });
    if (round % 2 == 0) std::this_thread::sleep_for(milliseconds(2));
    bool ok =
        serve_test::finishes_within([&] { rig.server->shutdown(false); }, milliseconds(10000));
    ASSERT_TRUE(ok);
    auto t0 = Clock::now();
    while (status.load() < 0 && ms_since(t0) < 10000) std::this_thread::sleep_for(milliseconds(1));
    if (status.load() < 0) {
      ADD_FAILURE() << "round " << round << ": a poll without limit did not see the shutdown";
      poller.detach();
      rig.server.release();  // leaked: the poller still uses it
      return;
    }
    poller.join();
    EXPECT_EQ(status.load(), static_cast<int>(Status::kUnavailable));
    EXPECT_EQ(polled.load(), 1);
    (void)r;
  }
}

// ------------------------------------------------------------------------------------------------
// Callbacks.

// A callback may submit and cancel (the header says so), with and without preserve_ordering; it
// may not shut the server down (kNotSupported, even after a nested delivery).
TEST_F(ServeCallback, MaySubmitAndCancelButNotShutDown) {
  for (bool preserve : {false, true}) {
    SCOPED_TRACE(preserve ? "preserve_ordering" : "no ordering");
    nn::ServerOptions o = options(1, 0);
    o.preserve_ordering = preserve;
    auto rig = std::make_unique<Rig>(kRelu, o, false);
    Rig::Sent x = rig->send(1, 1);
    ASSERT_TRUE(rig->gate->wait_entered(1));
    Rig::Sent y = rig->send(1, 2);  // queued behind x (one instance, max batch 1)
    std::atomic<bool> cancelled{false};
    std::atomic<int> shutdown_status{-1};
    std::atomic<uint64_t> z_id{0};
    std::vector<float> zx(static_cast<size_t>(kItem), 3.0f);
    Rig* r = rig.get();
    rig->col.set_hook([&, r](const nn::ServeResult& res) {
      if (res.id != x.id) return;
      cancelled = r->server->cancel(y.id);
      nn::RequestTensor t;
      t.dims = {1, 13, 13, 11};
      t.data = zx.data();
      t.bytes = zx.size() * 4;
      z_id = r->server->submit({t}, {}, {});
      Outcome s = outcome([&] { r->server->shutdown(false); });
      shutdown_status = static_cast<int>(s.status);
    });
    rig->gate->open();
    bool ok = serve_test::finishes_within([&] { rig->col.wait(3, milliseconds(10000)); },
                                          milliseconds(15000));
    if (!ok || rig->col.size() < 3) {
      ADD_FAILURE() << "the callback's cancel or submit deadlocked (" << rig->col.size()
                    << " results)";
      rig->server.release();  // leaked: its threads are stuck
      rig.release();
      return;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(shutdown_status.load(), static_cast<int>(Status::kNotSupported));
    EXPECT_EQ(rig->col.get(y.id).r.status, Status::kCancelled);
    EXPECT_EQ(rig->col.get(z_id).r.status, Status::kSuccess);
    if (preserve) {
      EXPECT_EQ(rig->col.order(), (std::vector<uint64_t>{x.id, y.id, z_id}));
    }
  }
}

// A callback that throws: the server goes on.
TEST_F(ServeCallback, ThrowingCallbackIsContained) {
  std::atomic<int> calls{0};
  auto model = load(kRelu);
  auto server =
      nn::Server::create(nn::model_backend(model), options(8, 0), [&](const nn::ServeResult&) {
        calls++;
        throw std::runtime_error("the callback throws");
      });
  std::vector<float> x(static_cast<size_t>(kItem), 1.0f);
  nn::RequestTensor t;
  t.dims = {1, 13, 13, 11};
  t.data = x.data();
  t.bytes = x.size() * 4;
  for (int i = 0; i < 5; ++i) server->submit({t}, {}, {});
  server->shutdown(false);
  EXPECT_EQ(calls.load(), 5);
  EXPECT_EQ(server->stats().completed, 5);
}

// ------------------------------------------------------------------------------------------------
// A batch whose run fails: each of its requests gets the error; other batches are unaffected.

TEST_F(ServeFailure, FailedBatchFailsItsRequests) {
  const nn_test::Case c = manifest(kRelu);
  Rig rig(kRelu, options(2, 0), false);
  rig.gate->fail_on(3, Gate::kCudagoError);
  rig.gate->fail_on(5, Gate::kStdException);
  rig.gate->fail_on(7, Gate::kOther);
  rig.send(1, 0);
  ASSERT_TRUE(rig.gate->wait_entered(1));
  std::vector<Rig::Sent> s;
  for (int i = 1; i <= 8; ++i) s.push_back(rig.send(1, static_cast<float>(i)));
  rig.gate->open();
  ASSERT_TRUE(rig.col.wait(9, milliseconds(5000)));
  // Batches: {1,2} {3,4} {5,6} {7,8}.
  for (const auto& r : s) {
    Got g = rig.col.get(r.id);
    if (r.marker == 3 || r.marker == 4) {
      EXPECT_EQ(g.r.status, Status::kLaunchFailed);
      EXPECT_NE(g.r.message.find("planted failure"), std::string::npos) << g.r.message;
      EXPECT_EQ(g.r.batch_requests, 2);
    } else if (r.marker >= 5) {
      EXPECT_EQ(g.r.status, Status::kInternal) << g.r.message;
      EXPECT_FALSE(g.r.message.empty());
    } else {
      rig.expect_right(r, c);
    }
  }
  nn::ServerStats st = rig.server->stats();
  EXPECT_EQ(st.failed, 6);
  EXPECT_EQ(st.succeeded, 3);
  // The server still serves.
  Rig::Sent after = rig.send(1, 20);
  ASSERT_TRUE(rig.col.wait_id(after.id));
  rig.expect_right(after, c);
}

// ------------------------------------------------------------------------------------------------
// Options.

TEST_F(ServeOptions, Validation) {
  auto be = nn::model_backend(load(kRelu));
  struct Case {
    const char* what;
    nn::ServerOptions o;
    Status status;
    const char* message;
  };
  std::vector<Case> cases;
  auto add = [&](const char* what, Status s, const char* msg, auto set) {
    nn::ServerOptions o;
    set(o);
    cases.push_back({what, o, s, msg});
  };
  add("max_batch", Status::kInvalidArgument, "max_batch 9", [](auto& o) { o.max_batch = 9; });
  add("max_batch<0", Status::kInvalidArgument, "max_batch -1", [](auto& o) { o.max_batch = -1; });
  add("preferred", Status::kInvalidArgument, "preferred batch size 9", [](auto& o) {
    o.preferred = {2, 9};
  });
  add("preferred 0", Status::kInvalidArgument, "preferred batch size 0",
      [](auto& o) { o.preferred = {0}; });
  add("delay", Status::kInvalidArgument, "max_queue_delay",
      [](auto& o) { o.max_queue_delay_ns = -1; });
  add("timeout", Status::kInvalidArgument, "default_timeout",
      [](auto& o) { o.default_timeout_ns = -1; });
  add("queue", Status::kInvalidArgument, "max_queue_size",
      [](auto& o) { o.max_queue_size = (int64_t{1} << 24) + 1; });
  add("levels", Status::kInvalidArgument, "priority_levels 65",
      [](auto& o) { o.priority_levels = 65; });
  add("default priority", Status::kInvalidArgument, "default_priority 3", [](auto& o) {
    o.priority_levels = 2;
    o.default_priority = 3;
  });
  add("staging", Status::kInvalidArgument, "max_staging_bytes",
      [](auto& o) { o.max_staging_bytes = -1; });
  add("instances", Status::kInvalidArgument, "instances_per_device 65",
      [](auto& o) { o.instances_per_device = 65; });
  add("devices", Status::kNotSupported, "reference executor", [](auto& o) { o.devices = {0}; });
  for (const auto& k : cases) {
    Outcome o = outcome([&] { nn::Server::create(be, k.o, nullptr); });
    EXPECT_EQ(o.status, k.status) << k.what << ": " << o.message;
    EXPECT_NE(o.message.find(k.message), std::string::npos) << k.what << ": " << o.message;
  }
  EXPECT_EQ(outcome([&] { nn::Server::create(nullptr, {}, nullptr); }).status,
            Status::kInvalidArgument);
  // Valid edge values.
  nn::ServerOptions o;
  o.devices = {-1};
  o.preferred = {8, 8, 1};
  o.priority_levels = 64;
  o.default_priority = 64;
  o.instances_per_device = 3;
  auto s = nn::Server::create(be, o, nullptr);
  EXPECT_EQ(s->max_batch(), 8);
  EXPECT_EQ(s->stats().batch_histogram.size(), 9u);
}

// ------------------------------------------------------------------------------------------------
// Load: many thousand small requests from several threads, with timeouts and cancels mixed in;
// every accepted request gets exactly one result, the stats add up after each round, and the
// staging memory stays bounded (no growth across rounds).

TEST_F(ServeLoad, StatsAddUpAndNothingGrows) {
  // Without a queue delay every submit enqueues under the server's lock; with one, requests
  // without a deadline go through the intake (and those with one under the lock, mixed).
  for (int64_t delay_ns : {int64_t{0}, int64_t{50} * 1000}) {
    SCOPED_TRACE("max_queue_delay_ns " + std::to_string(delay_ns));
    auto model = load(kRelu);
    constexpr int kThreads = 4, kPerThread = 1000, kRounds = 3, kWindow = 16;
    std::mutex mu;
    std::condition_variable cv;
    std::map<uint64_t, int> results;  // id -> count
    std::atomic<int64_t> in_window[kThreads] = {};
    std::atomic<int64_t> bad_outputs{0}, ran_items{0};
    // Inputs are regenerated from the tag: (thread << 32) | index, items = 1 + index % 3.
    auto input_of = [](uint64_t tag) {
      int64_t items = 1 + static_cast<int64_t>(tag & 0xffffffffu) % 3;
      return make_input(items * kItem, static_cast<uint32_t>(tag * 31 + 7), 1.0f);
    };
    nn::ServerOptions o = options(8, delay_ns);
    o.instances_per_device = 2;
    o.priority_levels = 2;
    auto server = nn::Server::create(nn::model_backend(model), o, [&](const nn::ServeResult& r) {
      if (r.status == Status::kSuccess) {
        ran_items += r.items;
        std::vector<float> x = input_of(r.tag);
        const float* y = static_cast<const float*>(r.outputs[0]);
        if (r.output_bytes[0] != x.size() * 4) {
          bad_outputs++;
        } else {
          for (size_t k = 0; k < x.size(); ++k) {
            if (y[k] != std::max(x[k], 0.0f)) {
              bad_outputs++;
              break;
            }
          }
        }
      }
      in_window[r.tag >> 32]--;
      std::lock_guard<std::mutex> lock(mu);
      results[r.id]++;
      cv.notify_all();
    });
    int64_t accepted = 0, staging_first = -1;
    std::atomic<int64_t> accepted_round{0}, rejected_full{0};
    for (int round = 0; round < kRounds; ++round) {
      auto t0 = Clock::now();
      accepted_round = 0;
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          uint64_t last = 0;
          for (int i = 0; i < kPerThread; ++i) {
            while (in_window[t].load() >= kWindow) std::this_thread::yield();
            uint64_t tag =
                (static_cast<uint64_t>(t) << 32) | static_cast<uint64_t>(round * kPerThread + i);
            std::vector<float> x = input_of(tag);
            nn::RequestTensor in;
            in.dims = {static_cast<int64_t>(x.size()) / kItem, 13, 13, 11};
            in.data = x.data();
            in.bytes = x.size() * 4;
            nn::RequestOptions ro;
            ro.tag = tag;
            ro.priority = 1 + i % 2;
            if (i % 97 == 0) ro.timeout_ns = 1;  // times out, or runs first
            in_window[t]++;
            try {
              last = server->submit({in}, {}, ro);
              accepted_round++;
            } catch (const Error& e) {
              in_window[t]--;
              if (e.status() == Status::kQueueFull) {
                rejected_full++;
              } else {
                ADD_FAILURE() << e.what();
              }
            }
            if (i % 53 == 0 && last != 0) server->cancel(last);  // queued or not
          }
        });
      }
      for (auto& th : threads) th.join();
      accepted += accepted_round;
      {
        std::unique_lock<std::mutex> lock(mu);
        ASSERT_TRUE(cv.wait_for(lock, milliseconds(30000),
                                [&] { return static_cast<int64_t>(results.size()) == accepted; }))
            << results.size() << " results for " << accepted << " accepted requests";
      }
      // The last callback may still be returning: wait for the stats to settle.
      nn::ServerStats st;
      for (auto t1 = Clock::now(); ms_since(t1) < 5000;) {
        st = server->stats();
        if (st.completed == accepted && st.in_flight == 0 && st.queued == 0) break;
        std::this_thread::sleep_for(milliseconds(1));
      }
      EXPECT_EQ(st.submitted, accepted);
      EXPECT_EQ(st.completed, accepted);
      EXPECT_EQ(st.succeeded + st.failed + st.timed_out + st.cancelled, st.completed);
      EXPECT_EQ(st.failed, 0);
      EXPECT_EQ(st.queued, 0);
      EXPECT_EQ(st.in_flight, 0);
      EXPECT_EQ(st.rejected, rejected_full.load());
      int64_t hist_items = 0, hist_batches = 0;
      for (size_t b = 0; b < st.batch_histogram.size(); ++b) {
        hist_items += st.batch_histogram[b] * static_cast<int64_t>(b);
        hist_batches += st.batch_histogram[b];
      }
      EXPECT_EQ(hist_items, st.inferences);
      EXPECT_EQ(hist_batches, st.batches);
      EXPECT_EQ(st.inferences, ran_items.load());
      EXPECT_EQ(st.closed_full + st.closed_preferred + st.closed_delay + st.closed_deadline +
                    st.closed_shutdown,
                st.batches);
      EXPECT_EQ(bad_outputs.load(), 0);
      // At most kThreads * kWindow requests hold staging at once, of the 48 KiB class at most.
      // (cached slots of each of the three size classes included).
      EXPECT_LE(st.staging_bytes, int64_t{kThreads * kWindow + 8} * (16384 + 32768 + 49152));
      if (staging_first < 0) staging_first = st.staging_bytes;
      // Every round reaches the same peak (the submitters' windows): the cache does not grow.
      EXPECT_LE(st.staging_bytes, 2 * staging_first) << "round " << round;
      std::printf(
          "[ ServeLoad ] round %d: %lld requests in %.0f ms, %lld batches, staging %lld B\n", round,
          static_cast<long long>(accepted_round.load()), ms_since(t0),
          static_cast<long long>(st.batches), static_cast<long long>(st.staging_bytes));
    }
    for (const auto& [id, n] : results) ASSERT_EQ(n, 1) << "id " << id << " delivered " << n;
    server->shutdown(false);
  }
}

// A lone request on an idle server (no deadline, a queue delay: the intake, without the server's
// lock) goes after its delay, never waiting for a next request: thousands in a row from one
// thread, each waited for before the next, so that an instance is often just going to sleep as
// the next arrives (it counts itself waiting, then looks at the intake once more; the submit
// wakes it through the lock). A lost wake-up would leave a request queued until the 2 s limit.
TEST_F(ServeLoad, LoneRequestsNeverWaitForANextOne) {
  auto model = load(kRelu);
  for (int instances : {1, 2}) {
    SCOPED_TRACE("instances " + std::to_string(instances));
    nn::ServerOptions o = options(8, 20 * 1000);  // 20 µs
    o.instances_per_device = instances;
    std::mutex mu;
    std::condition_variable cv;
    uint64_t got = 0;
    Status last = Status::kSuccess;
    auto server = nn::Server::create(nn::model_backend(model), o, [&](const nn::ServeResult& r) {
      std::lock_guard<std::mutex> lock(mu);
      got = r.tag;
      last = r.status;
      cv.notify_all();
    });
    std::vector<float> x = make_input(kItem, 5, 0);
    nn::RequestTensor in;
    in.dims = {1, 13, 13, 11};
    in.data = x.data();
    in.bytes = x.size() * 4;
    double worst_ms = 0;
    for (uint64_t i = 1; i <= 3000; ++i) {
      nn::RequestOptions ro;
      ro.tag = i;
      auto t0 = Clock::now();
      server->submit({in}, {}, ro);
      std::unique_lock<std::mutex> lock(mu);
      ASSERT_TRUE(cv.wait_for(lock, milliseconds(2000), [&] { return got == i; }))
          << "request " << i << " waited 2 s: no instance took it";
      ASSERT_EQ(last, Status::kSuccess);
      worst_ms = std::max(worst_ms, ms_since(t0));
    }
    std::printf("[ ServeLoad ] %d instance(s): 3000 lone requests, the slowest %.2f ms\n",
                instances, worst_ms);
    nn::ServerStats st = server->stats();
    EXPECT_EQ(st.submitted, 3000);
    EXPECT_EQ(st.batches, 3000);  // each alone in its batch
    EXPECT_EQ(st.closed_delay, 3000);
  }
}

// The same in poll mode: one poller thread releases what it polled on its next poll.
TEST_F(ServeLoad, PollModeUnderLoad) {
  // Without a queue delay, and with one (the intake).
  for (int64_t delay_ns : {int64_t{0}, int64_t{50} * 1000}) {
    SCOPED_TRACE("max_queue_delay_ns " + std::to_string(delay_ns));
    auto model = load(kRelu);
    nn::ServerOptions o = options(8, delay_ns);
    o.instances_per_device = 2;
    o.max_queue_size = 64;
    o.max_staging_bytes = 4 << 20;  // results not yet polled hold staging: this bounds them
    auto server = nn::Server::create(nn::model_backend(model), o, nullptr);
    constexpr int kThreads = 2, kPerThread = 1500;
    std::atomic<int64_t> accepted{0}, polled{0}, wrong{0};
    std::atomic<bool> stop{false};
    std::thread poller([&] {
      const nn::ServeResult* out[32];
      std::vector<uint64_t> rel;
      for (;;) {
        size_t n = 0;
        try {
          n = server->poll(rel.data(), rel.size(), 5 * 1000 * 1000, out, 32);
        } catch (const Error& e) {
          if (e.status() != Status::kUnavailable) ADD_FAILURE() << e.what();
          return;
        }
        rel.clear();
        for (size_t i = 0; i < n; ++i) {
          if (out[i]->status != Status::kSuccess) wrong++;
          const float* y = static_cast<const float*>(out[i]->outputs[0]);
          if (y[1] != std::max(make_input(2, static_cast<uint32_t>(out[i]->tag), 0)[1], 0.0f)) {
            wrong++;
          }
          rel.push_back(out[i]->id);
        }
        polled += static_cast<int64_t>(n);
      }
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          uint32_t seed = static_cast<uint32_t>(t * 100000 + i);
          std::vector<float> x = make_input(kItem, seed, 0);
          nn::RequestTensor in;
          in.dims = {1, 13, 13, 11};
          in.data = x.data();
          in.bytes = x.size() * 4;
          nn::RequestOptions ro;
          ro.tag = seed;
          for (;;) {
            Outcome r = outcome([&] { server->submit({in}, {}, ro); });
            if (r.status == Status::kSuccess) break;
            ASSERT_EQ(r.status, Status::kQueueFull) << r.message;
            std::this_thread::sleep_for(std::chrono::microseconds(100));
          }
          accepted++;
        }
      });
    }
    for (auto& t : threads) t.join();
    server->shutdown(false);
    poller.join();
    (void)stop;
    EXPECT_EQ(polled.load(), accepted.load());
    EXPECT_EQ(wrong.load(), 0);
    nn::ServerStats st = server->stats();
    EXPECT_EQ(st.completed, accepted.load());
    EXPECT_EQ(st.succeeded, accepted.load());
    EXPECT_LE(st.staging_bytes, int64_t{4} << 20);
  }
}

}  // namespace
