// The dynamic batcher (server.hpp): a priority queue of requests, batch formation under the
// Triton knobs on the instance threads, a reaper thread that fails expired requests while
// batches run, staging memory in size classes, and delivery by callback or completion queue.
#include "cudago/nn/server.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <queue>
#include <thread>

#include "cudago/device.hpp"
#include "cudago/event.hpp"
#include "cudago/memory.hpp"
#include "cudago/metrics.hpp"

namespace cudago::nn {

const char* close_reason_name(CloseReason r) noexcept {
  switch (r) {
    case CloseReason::kNone:
      return "none";
    case CloseReason::kFull:
      return "full";
    case CloseReason::kPreferred:
      return "preferred";
    case CloseReason::kDelay:
      return "delay";
    case CloseReason::kDeadline:
      return "deadline";
    case CloseReason::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

bool ServeBackend::accepts(const std::vector<std::vector<int64_t>>& item_dims) const {
  const auto& in = inputs();
  if (item_dims.size() != in.size()) return false;
  for (size_t i = 0; i < in.size(); ++i) {
    if (item_dims[i] != in[i].item_dims) return false;
  }
  return true;
}

namespace {

int64_t ns_between(ServeClock::time_point a, ServeClock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

int64_t elem_size(ElemType t) { return t == ElemType::kU8 ? 1 : 4; }

// ------------------------------------------------------------------------------------------------
// The model backend: one nn::Model (and its replicas on other devices).

class RefInstance : public ServeBackend::Instance {
 public:
  RefInstance(std::shared_ptr<const Model> m, int64_t max_batch) : m_(std::move(m)) {
    for (const TensorDesc& d : m_->inputs())
      in_.emplace_back(static_cast<size_t>(d.bytes_at(max_batch)));
    for (const TensorDesc& d : m_->outputs())
      out_.emplace_back(static_cast<size_t>(d.bytes_at(max_batch)));
  }
  void execute(ServeBackend::Batch& b) override {
    auto t0 = ServeClock::now();
    std::vector<const void*> in(in_.size());
    std::vector<uint64_t> in_bytes(in_.size());
    for (size_t i = 0; i < in_.size(); ++i) {
      uint64_t off = 0;
      for (const auto* r : b.requests) {
        std::memcpy(in_[i].data() + off, r->in[i], r->in_bytes[i]);
        off += r->in_bytes[i];
      }
      in[i] = in_[i].data();
      in_bytes[i] = off;
    }
    std::vector<void*> out(out_.size());
    std::vector<uint64_t> out_bytes(out_.size());
    for (size_t j = 0; j < out_.size(); ++j) {
      out[j] = out_[j].data();
      out_bytes[j] = static_cast<uint64_t>(m_->outputs()[j].bytes_at(b.items));
    }
    auto t1 = ServeClock::now();
    m_->run_host(b.items, in, in_bytes, out, out_bytes);
    auto t2 = ServeClock::now();
    for (size_t j = 0; j < out_.size(); ++j) {
      uint64_t off = 0;
      // An output without a batch dimension is the same for every request.
      bool batched = m_->outputs()[j].batch_axis == 0;
      for (const auto* r : b.requests) {
        std::memcpy(r->out[j], out_[j].data() + off, r->out_bytes[j]);
        if (batched) off += r->out_bytes[j];
      }
    }
    auto t3 = ServeClock::now();
    b.h2d_ns = ns_between(t0, t1);
    b.compute_ns = ns_between(t1, t2);
    b.d2h_ns = ns_between(t2, t3);
  }

 private:
  std::shared_ptr<const Model> m_;
  std::vector<std::vector<uint8_t>> in_, out_;
};

// Orders the compute of one device's instances: each batch's run waits for the run enqueued
// before it on the device, so batches compute one at a time at full speed while the other
// instances' copies overlap them. (Run side by side, two large batches share the SMs, finish
// together and then copy together while the SMs idle: measured, that cost a sixth of the
// throughput.) ServerOptions::concurrent_compute turns it off.
class ComputeChain {
 public:
  explicit ComputeChain(int32_t device) : done_(device, Event::kDisableTiming) {}
  // Enqueues `enqueue`'s work on s after the device's previous run, and marks it the last.
  template <class F>
  void run(cudaStream_t s, F&& enqueue) {
    std::lock_guard<std::mutex> lock(mu_);
    if (used_) CUDAGO_CUDA_TRY(cudaStreamWaitEvent(s, done_.get(), 0));
    enqueue();
    CUDAGO_CUDA_TRY(cudaEventRecord(done_.get(), s));
    used_ = true;
  }

 private:
  std::mutex mu_;
  Event done_;
  bool used_ = false;
};

// The copies of a batch's requests as one cudaMemcpyBatchAsync (one driver call and one
// submission for the whole batch instead of one per request); a driver without it gets one
// cudaMemcpyAsync per copy, and so does a server created with CUDAGO_NO_BATCH_MEMCPY set in the
// environment: compute-sanitizer's initcheck (2025.3.1) does not follow cudaMemcpyBatchAsync and
// reports every byte it wrote as uninitialised when a kernel reads it (bundle/sanitize.sh sets
// it for initcheck).
class CopyList {
 public:
  void clear() {
    dst_.clear();
    src_.clear();
    size_.clear();
  }
  // Adjacent copies (the next bytes of both the last copy's source and destination) merge into
  // one: a batch gathered in host memory goes as one copy.
  void add(void* dst, const void* src, uint64_t bytes) {
    if (bytes == 0) return;
    if (!dst_.empty() && static_cast<char*>(dst_.back()) + size_.back() == dst &&
        static_cast<const char*>(src_.back()) + size_.back() == src) {
      size_.back() += static_cast<size_t>(bytes);
      return;
    }
    dst_.push_back(dst);
    src_.push_back(src);
    size_.push_back(static_cast<size_t>(bytes));
  }
  void enqueue(cudaStream_t s) {
    if (dst_.empty()) return;
    if (batched_) {
      cudaMemcpyAttributes a;
      std::memset(&a, 0, sizeof a);
      a.srcAccessOrder = cudaMemcpySrcAccessOrderStream;
      a.flags = cudaMemcpyFlagPreferOverlapWithCompute;
      size_t first = 0;
      cudaError_t e = cudaMemcpyBatchAsync(dst_.data(), src_.data(), size_.data(), dst_.size(), &a,
                                           &first, 1, s);
      if (e == cudaSuccess) return;
      if (e != cudaErrorNotSupported && e != cudaErrorCallRequiresNewerDriver) {
        CUDAGO_CUDA_TRY(e);
      }
      (void)cudaGetLastError();  // not sticky: copy one by one from now on
      batched_ = false;
    }
    for (size_t i = 0; i < dst_.size(); ++i) {
      CUDAGO_CUDA_TRY(cudaMemcpyAsync(dst_[i], src_[i], size_[i], cudaMemcpyDefault, s));
    }
  }

 private:
  std::vector<void*> dst_;
  std::vector<const void*> src_;
  std::vector<size_t> size_;
  bool batched_ = std::getenv("CUDAGO_NO_BATCH_MEMCPY") == nullptr;
};

// Requests' inputs and outputs of at most this many bytes per batch item are gathered (and
// scattered) in pinned host memory by the instance, so that a batch moves as one copy each way:
// the copy engines' per-copy cost (a few microseconds of the instance's thread each, one per
// request and tensor) would otherwise outweigh a small item's bytes. Larger items are copied
// from (to) each request's memory directly, where the host copy would cost more than it saves.
constexpr int64_t kGatherMaxItemBytes = int64_t{32} << 10;
constexpr int64_t kGatherMaxBytes = int64_t{16} << 20;  // per tensor, at the max batch

class GpuInstance : public ServeBackend::Instance {
 public:
  GpuInstance(std::shared_ptr<const Model> m, int32_t device, int64_t max_batch,
              std::shared_ptr<ComputeChain> chain, const std::vector<int64_t>& capture)
      : m_(std::move(m)),
        device_(device),
        chain_(std::move(chain)),
        stream_(Stream::create(device, Stream::kNonBlocking, 0)),
        e0_(device, Event::kDefault),
        e1_(device, Event::kDefault),
        ec_(device, Event::kDefault),
        e2_(device, Event::kDefault),
        // The instance's thread waits for e3_ asleep: a spinning wait (the runtime's choice on a
        // host with more cores than GPUs) costs a core per instance for the whole compute.
        e3_(device, Event::kBlockingSync) {
    auto host = [&](const TensorDesc& d) -> std::shared_ptr<HostBuffer> {
      const int64_t all = d.bytes_at(max_batch);
      if (d.bytes_at(1) > kGatherMaxItemBytes || all > kGatherMaxBytes) return nullptr;
      return HostBuffer::allocate(device, static_cast<uint64_t>(all), HostBuffer::kPinned);
    };
    for (const TensorDesc& d : m_->inputs()) {
      in_.push_back(DeviceBuffer::allocate(device, static_cast<uint64_t>(d.bytes_at(max_batch))));
      host_in_.push_back(host(d));
    }
    for (const TensorDesc& d : m_->outputs()) {
      out_.push_back(DeviceBuffer::allocate(device, static_cast<uint64_t>(d.bytes_at(max_batch))));
      host_out_.push_back(host(d));
    }
    for (const auto& d : in_) in_ptrs_.push_back(d->data());
    for (const auto& d : out_) out_ptrs_.push_back(d->data());
    // The first batch of these sizes then costs one graph launch, not a capture.
    m_->prepare(stream_, capture);
  }
  ~GpuInstance() override {
    // A batch that failed may have left copies from (to) the gather buffers queued.
    if (pending_) cudaStreamSynchronize(stream_->get());
  }
  void execute(ServeBackend::Batch& b) override {
    DeviceGuard guard(device_);
    cudaStream_t s = stream_->get();
    if (pending_) {
      // The last batch failed before its copies were waited for: they may still read (write)
      // the gather buffers this batch is about to fill.
      (void)cudaStreamSynchronize(s);
      (void)cudaGetLastError();
      pending_ = false;
    }
    // Inputs: small items gathered here, in host memory, at their place in the batch (one copy
    // for the run of them); device inputs copied on the device.
    copies_.clear();
    for (size_t i = 0; i < in_.size(); ++i) {
      char* dst = static_cast<char*>(in_[i]->data());
      char* gather = host_in_[i] ? static_cast<char*>(host_in_[i]->host()) : nullptr;
      for (const auto* r : b.requests) {
        if (gather != nullptr && r->in_kind[i] != MemoryKind::kDevice) {
          std::memcpy(gather, r->in[i], r->in_bytes[i]);
          copies_.add(dst, gather, r->in_bytes[i]);
        } else {
          copies_.add(dst, r->in[i], r->in_bytes[i]);
        }
        dst += r->in_bytes[i];
        if (gather != nullptr) gather += r->in_bytes[i];
      }
    }
    pending_ = true;
    e0_.record(*stream_);
    copies_.enqueue(s);
    e1_.record(*stream_);
    auto compute = [&] {
      ec_.record(*stream_);
      m_->run(stream_, b.items, in_ptrs_, out_ptrs_);
      e2_.record(*stream_);
    };
    if (chain_) {
      chain_->run(s, compute);
    } else {
      compute();
    }
    // Outputs: small items into the gather buffer (one copy), scattered after the wait.
    copies_.clear();
    for (size_t j = 0; j < out_.size(); ++j) {
      const char* src = static_cast<const char*>(out_[j]->data());
      char* gather = host_out_[j] ? static_cast<char*>(host_out_[j]->host()) : nullptr;
      bool batched = m_->outputs()[j].batch_axis == 0;  // else the same for every request
      bool gathered = false;
      for (const auto* r : b.requests) {
        if (gather != nullptr && r->out_kind[j] != MemoryKind::kDevice) {
          if (batched || !gathered) copies_.add(gather, src, r->out_bytes[j]);
          gathered = true;
        } else {
          copies_.add(r->out[j], src, r->out_bytes[j]);
        }
        if (batched) {
          src += r->out_bytes[j];
          if (gather != nullptr) gather += r->out_bytes[j];
        }
      }
    }
    copies_.enqueue(s);
    e3_.record(*stream_);
    e3_.synchronize();
    pending_ = false;
    for (size_t j = 0; j < out_.size(); ++j) {
      if (!host_out_[j]) continue;
      const char* gather = static_cast<const char*>(host_out_[j]->host());
      bool batched = m_->outputs()[j].batch_axis == 0;
      for (const auto* r : b.requests) {
        if (r->out_kind[j] != MemoryKind::kDevice) std::memcpy(r->out[j], gather, r->out_bytes[j]);
        if (batched) gather += r->out_bytes[j];
      }
    }
    b.h2d_ns = static_cast<int64_t>(Event::elapsed_ms(e0_, e1_) * 1e6);
    b.compute_ns = static_cast<int64_t>(Event::elapsed_ms(ec_, e2_) * 1e6);
    b.d2h_ns = static_cast<int64_t>(Event::elapsed_ms(e2_, e3_) * 1e6);
  }

 private:
  std::shared_ptr<const Model> m_;
  int32_t device_;
  std::shared_ptr<ComputeChain> chain_;  // null: runs concurrently with the other instances
  StreamPtr stream_;
  Event e0_, e1_, ec_, e2_, e3_;
  std::vector<std::unique_ptr<DeviceBuffer>> in_, out_;
  // Pinned gather buffers, one per tensor whose items are small (null for the others).
  std::vector<std::shared_ptr<HostBuffer>> host_in_, host_out_;
  std::vector<const void*> in_ptrs_;  // in_ and out_'s device pointers, as the model takes them
  std::vector<void*> out_ptrs_;
  CopyList copies_;
  bool pending_ = false;  // copies queued and not yet waited for
};

class ModelBackend : public ServeBackend {
 public:
  explicit ModelBackend(std::shared_ptr<const Model> m) : m_(std::move(m)) {
    auto spec = [](const TensorDesc& d, bool input) {
      Spec s;
      s.name = d.name;
      s.type = d.type;
      s.batch_axis = d.batch_axis;
      for (size_t i = 0; i < d.dims.size(); ++i) {
        if (static_cast<int>(i) != d.batch_axis) s.item_dims.push_back(d.dims[i]);
      }
      if (d.batch_axis > 0) {
        throw Error(Status::kNotSupported,
                    std::string(input ? "input '" : "output '") + d.name +
                        "' has its batch dimension at axis " + std::to_string(d.batch_axis) +
                        "; a server batches tensors whose batch dimension is the first");
      }
      if (input && d.batch_axis >= 0 && d.batch_mul != 1) {
        throw Error(Status::kNotSupported,
                    "input '" + d.name + "' grows by " + std::to_string(d.batch_mul) +
                        " per batch item; a server batches inputs whose batch dimension is the "
                        "item count");
      }
      s.item_bytes = d.bytes_at(1);
      return s;
    };
    for (const TensorDesc& d : m_->inputs()) in_.push_back(spec(d, true));
    for (const TensorDesc& d : m_->outputs()) out_.push_back(spec(d, false));
  }
  const std::vector<Spec>& inputs() const override { return in_; }
  const std::vector<Spec>& outputs() const override { return out_; }
  int64_t max_batch() const override { return m_->max_batch(); }
  bool gpu() const override { return m_->backend() == Backend::kGpu; }
  int32_t device() const override { return gpu() ? m_->device() : -1; }
  std::unique_ptr<Instance> make_instance(int32_t device, int32_t, int64_t max_batch,
                                          const ServerOptions& o) override {
    if (!gpu()) return std::make_unique<RefInstance>(m_, max_batch);
    std::shared_ptr<const Model> m = m_;
    std::shared_ptr<ComputeChain> chain;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (device != m_->device()) {
        auto it = replicas_.find(device);
        if (it == replicas_.end()) {
          it = replicas_.emplace(device, std::shared_ptr<const Model>(m_->replicate(device))).first;
        }
        m = it->second;
      }
      if (!o.concurrent_compute) {
        auto& c = chains_[device];
        if (!c) c = std::make_shared<ComputeChain>(device);
        chain = c;
      }
    }
    std::vector<int64_t> capture;
    if (o.capture_all_sizes) {
      for (int64_t n = 1; n <= max_batch; ++n) capture.push_back(n);
    } else {
      capture = o.preferred;
      capture.push_back(max_batch);
      std::sort(capture.begin(), capture.end());
      capture.erase(std::unique(capture.begin(), capture.end()), capture.end());
    }
    return std::make_unique<GpuInstance>(m, device, max_batch, std::move(chain), capture);
  }

 private:
  std::shared_ptr<const Model> m_;
  std::vector<Spec> in_, out_;
  std::mutex mu_;
  std::map<int32_t, std::shared_ptr<const Model>> replicas_;
  std::map<int32_t, std::shared_ptr<ComputeChain>> chains_;  // one per device
};

// ------------------------------------------------------------------------------------------------
// Staging memory: slots in size classes (four per power of two), cached once allocated, pinned
// on a GPU server; the total is capped.

class Staging {
 public:
  Staging(bool pinned, int32_t device, int64_t cap) : pinned_(pinned), device_(device), cap_(cap) {}
  ~Staging() {
    for (auto& [cls, list] : free_) {
      for (void* p : list) release(p);
    }
  }

  static int64_t class_of(int64_t bytes) {
    int64_t c = 4096;
    while (c < bytes) {
      // 4 steps per doubling: c, 1.25c, 1.5c, 1.75c.
      int64_t base = c;
      for (int64_t step = 1; step <= 4; ++step) {
        int64_t v = base + base * step / 4;
        if (v >= bytes) return v;
      }
      c = base * 2;
    }
    return c;
  }

  // A slot of at least `bytes`, or nullptr when the cap would be passed.
  void* acquire(int64_t bytes, int64_t* cls_out) {
    int64_t cls = class_of(bytes);
    *cls_out = cls;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& list = free_[cls];
      if (!list.empty()) {
        void* p = list.back();
        list.pop_back();
        return p;
      }
      // Make room by dropping cached slots of other classes.
      for (auto it = free_.begin(); held_ + cls > cap_ && it != free_.end(); ++it) {
        while (!it->second.empty() && held_ + cls > cap_) {
          release(it->second.back());
          it->second.pop_back();
          held_ -= it->first;
        }
      }
      if (held_ + cls > cap_) return nullptr;
      held_ += cls;
    }
    try {
      return allocate(cls);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      held_ -= cls;
      throw;
    }
  }
  void give_back(void* p, int64_t cls) {
    std::lock_guard<std::mutex> lock(mu_);
    free_[cls].push_back(p);
  }
  int64_t held() const {
    std::lock_guard<std::mutex> lock(mu_);
    return held_;
  }

 private:
  void* allocate(int64_t bytes) {
    if (!pinned_) {
      void* p = std::aligned_alloc(256, static_cast<size_t>(bytes));
      if (p == nullptr) throw Error(Status::kOutOfMemory, "staging: host memory exhausted");
      return p;
    }
    DeviceGuard guard(device_);
    void* p = nullptr;
    cudaError_t err = cudaHostAlloc(&p, static_cast<size_t>(bytes), cudaHostAllocPortable);
    if (err != cudaSuccess) {
      cudaGetLastError();
      throw Error(Status::kOutOfMemory, "staging: cudaHostAlloc of " + std::to_string(bytes) +
                                            " bytes failed: " + cudaGetErrorString(err));
    }
    return p;
  }
  void release(void* p) {
    if (pinned_) {
      cudaFreeHost(p);
    } else {
      std::free(p);
    }
  }

  bool pinned_;
  int32_t device_;
  int64_t cap_;
  mutable std::mutex mu_;
  int64_t held_ = 0;
  std::map<int64_t, std::vector<void*>> free_;
};

thread_local const void* tl_in_callback = nullptr;

}  // namespace

// ------------------------------------------------------------------------------------------------

struct Server::Impl {
  // kFree also covers a request being accepted (its inputs copied, not yet in a level): its id
  // is not out yet.
  // kReleasing: listed in a poll's release array being checked.
  enum class State { kFree, kQueued, kRunning, kDone, kPolled, kReleasing };

  struct Req {
    uint32_t index = 0;
    uint32_t gen = 1;  // never 0: no id is 0
    State state = State::kFree;
    uint64_t seq = 0;
    int level = 0;
    int key = 0;
    int64_t items = 0;
    ServeClock::time_point enqueued{}, deadline{}, dispatched{};
    bool has_deadline = false;
    int64_t timeout_ns = 0;
    std::atomic<uint32_t> next_free{0};  // the free stack's link: an index + 1 (0: the bottom)
    void* slot = nullptr;  // its staging, kept while free for the next request of its class
    int64_t slot_cls = 0;
    std::vector<std::vector<int64_t>> item_dims;  // its inputs' (for its key, at enqueue)
    ServeBackend::Batch::Item io;
    std::vector<std::shared_ptr<const void>> keep;
    ServeResult result;
    uint64_t id() const { return (static_cast<uint64_t>(gen) << 32) | index; }
  };

  std::shared_ptr<ServeBackend> backend;
  ServerOptions o;
  Callback cb;
  int64_t max_batch = 1;
  std::vector<int64_t> preferred;  // sorted descending
  std::unique_ptr<Staging> staging;

  mutable std::mutex mu;  // queue, requests, stats
  std::condition_variable reap_cv, idle_cv;
  std::vector<std::deque<Req*>> levels;
  // The requests, in chunks that never move: lookup reads them under mu while a submit takes a
  // free one from a lock-free stack (a submit takes mu once, to enqueue).
  static constexpr uint32_t kChunkBits = 8;
  static constexpr uint32_t kChunk = 1u << kChunkBits;
  static constexpr uint32_t kMaxChunks = 16384;  // 4,194,304 requests outstanding at most
  std::unique_ptr<std::atomic<Req*>[]> chunks = std::make_unique<std::atomic<Req*>[]>(kMaxChunks);
  std::atomic<uint32_t> num_reqs{0};
  // The free stack's head: a tag changed by every update (against ABA) in the high 32 bits, the
  // top request's index + 1 in the low (0: empty).
  std::atomic<uint64_t> free_head{0};
  std::mutex grow_mu;  // the growth of the chunks, and the reclaim of free requests' slots
  std::vector<std::vector<std::vector<int64_t>>> keys;  // distinct item-dims sets seen
  std::priority_queue<std::pair<ServeClock::time_point, uint64_t>,
                      std::vector<std::pair<ServeClock::time_point, uint64_t>>,
                      std::greater<std::pair<ServeClock::time_point, uint64_t>>>
      deadlines;
  int64_t queued = 0, in_flight = 0;
  // Accepted and not yet delivered (a submit counts it in without mu, in the intake).
  std::atomic<int64_t> outstanding{0};
  // Submits between their reservation and their enqueue (a shutdown waits for them), and the
  // requests reserved or queued (against max_queue_size): counted without mu.
  std::atomic<int64_t> reserved{0}, admitted{0};
  int64_t queued_items = 0;  // the batch items of the queued requests
  // The instances' waits. Each instance waits on a condition variable of its own, so that a
  // wake-up reaches the instance it is meant for. At most one instance (the timer) waits until
  // the time the queue's batch is due (the oldest request's delay, or a deadline); the others
  // wait with nothing to time (idle), whether the queue is empty or the timer covers it. A
  // shared condition variable woke whichever waiter the runtime picked: a submit meant for an
  // idle instance woke the timer, which found nothing due and waited again, about ten times a
  // batch at 64 clients.
  struct Waiter {
    std::condition_variable cv;
    bool woken = false;  // under mu: set by whoever wakes it
  };
  std::vector<std::unique_ptr<Waiter>> waiters;  // one per instance
  std::vector<size_t> idle;                      // under mu: the idle instances
  int64_t timer = -1;                            // under mu: the timing instance, or -1
  ServeClock::time_point timer_at;               // under mu: when the timer wakes
  // idle.size() and timer >= 0, read by a submit without mu.
  std::atomic<int> idle_waiters{0};
  std::atomic<bool> timer_armed{false};

  // The intake: every accepted request goes in under in_mu alone (held only to append), and
  // moves into the levels under mu with whoever next looks at the queue (drain_intake): at once
  // by its own submit where it has a deadline or may be sent at once, else by an instance.
  std::mutex in_mu;
  std::vector<Req*> intake;      // under in_mu
  uint64_t next_seq = 0;         // under in_mu
  std::vector<Req*> intake_out;  // under mu: the intake being moved
  // The batch items queued or in the intake: a submit that fills a batch wakes an instance.
  std::atomic<int64_t> pending_items{0};
  std::atomic<bool> stopping{false};  // written under mu; a submit refuses early without it
  bool exiting = false;
  ServerStats st;
  // Execution time estimate per batch size bucket (log2), for deadline-aware dispatch.
  std::vector<int64_t> est_ns;

  // Ordering.
  std::mutex order_mu;
  uint64_t deliver_seq = 0;
  std::map<uint64_t, Req*> reorder;
  bool draining = false;  // a thread is delivering from reorder (it delivers what comes meanwhile)

  // Completion queue.
  std::mutex done_mu;
  std::condition_variable done_cv;
  std::deque<Req*> done;

  // Metrics: histograms observed lock-free; per-request stage sums for Triton's counters.
  std::unique_ptr<metrics::Histogram> h_request, h_queue, h_h2d, h_compute, h_d2h, h_batch;
  std::unique_ptr<metrics::Histogram> h_late;  // timed-out requests: result ready − deadline
  std::atomic<uint64_t> sum_h2d_ns{0}, sum_compute_ns{0}, sum_d2h_ns{0};
  metrics::Registry::Token metrics_token;
  void render(metrics::Writer& w, const metrics::RenderOptions& ro);  // drains the intake

  std::vector<std::unique_ptr<ServeBackend::Instance>> instances;
  std::vector<std::pair<int32_t, int32_t>> instance_ids;  // (device, index)
  // Per instance (under mu): batches run and their items, for the per-device series.
  struct InstanceCount {
    int64_t batches = 0, inferences = 0;
  };
  std::vector<InstanceCount> per_instance;
  std::vector<std::thread> threads;

  ~Impl() {
    metrics_token = metrics::Registry::Token();  // out of the registry before anything goes
    {
      std::lock_guard<std::mutex> lock(mu);
      exiting = true;
      wake_all_locked();
    }
    notify_all_waiters();
    reap_cv.notify_all();
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
    const uint32_t n = num_reqs.load(std::memory_order_acquire);
    for (uint32_t c = 0; c < n / kChunk; ++c) {
      Req* chunk = chunks[c].load(std::memory_order_acquire);
      for (uint32_t k = 0; k < kChunk; ++k) {
        if (chunk[k].slot != nullptr) staging->give_back(chunk[k].slot, chunk[k].slot_cls);
      }
      delete[] chunk;
    }
  }

  Req* req_at(uint32_t index) const {
    return chunks[index >> kChunkBits].load(std::memory_order_acquire) + (index & (kChunk - 1));
  }

  Req* lookup(uint64_t id) const {
    uint32_t index = static_cast<uint32_t>(id & 0xffffffffu);
    uint32_t gen = static_cast<uint32_t>(id >> 32);
    if (index >= num_reqs.load(std::memory_order_acquire)) return nullptr;
    Req* r = req_at(index);
    return r->gen == gen && r->state != State::kFree ? r : nullptr;
  }

  void push_free(Req* r) {
    uint64_t h = free_head.load(std::memory_order_relaxed);
    uint64_t nh;
    do {
      r->next_free.store(static_cast<uint32_t>(h), std::memory_order_relaxed);
      nh = (((h >> 32) + 1) << 32) | (r->index + 1);
    } while (!free_head.compare_exchange_weak(h, nh, std::memory_order_release,
                                              std::memory_order_relaxed));
  }
  Req* pop_free() {
    uint64_t h = free_head.load(std::memory_order_acquire);
    while (static_cast<uint32_t>(h) != 0) {
      Req* r = req_at(static_cast<uint32_t>(h) - 1);
      const uint64_t nh = (((h >> 32) + 1) << 32) | r->next_free.load(std::memory_order_relaxed);
      if (free_head.compare_exchange_weak(h, nh, std::memory_order_acquire,
                                          std::memory_order_acquire)) {
        return r;
      }
    }
    return nullptr;
  }

  // A free request (state kFree, its gen that of its next id), or nullptr at kMaxChunks chunks.
  Req* new_req() {
    if (Req* r = pop_free()) return r;
    std::lock_guard<std::mutex> lock(grow_mu);
    if (Req* r = pop_free()) return r;  // freed, or grown by another submit, meanwhile
    const uint32_t n = num_reqs.load(std::memory_order_relaxed);
    if (n / kChunk >= kMaxChunks) return nullptr;
    Req* chunk = new Req[kChunk];
    for (uint32_t k = 0; k < kChunk; ++k) chunk[k].index = n + k;
    chunks[n / kChunk].store(chunk, std::memory_order_release);
    num_reqs.store(n + kChunk, std::memory_order_release);
    for (uint32_t k = kChunk; k-- > 1;) push_free(&chunk[k]);
    return &chunk[0];
  }

  // Back to the pool, with its staging slot (under mu for a request whose id went out: its id is
  // stale from here on).
  void free_req(Req* r) {
    r->keep.clear();
    if (r->state != State::kFree) {
      r->state = State::kFree;
      if (++r->gen == 0) r->gen = 1;
    }
    push_free(r);
  }

  // A staging slot of `bytes` for r, its own where the class matches. Where the cap leaves no
  // room, the slots kept by free requests are given back (Staging then drops cached slots of
  // other classes) and it is tried once more; nullptr when it still does not fit.
  void* take_slot(Req* r, int64_t bytes) {
    const int64_t cls = Staging::class_of(bytes);
    if (r->slot != nullptr && r->slot_cls == cls) return r->slot;
    if (r->slot != nullptr) {
      staging->give_back(r->slot, r->slot_cls);
      r->slot = nullptr;
    }
    r->slot = staging->acquire(bytes, &r->slot_cls);
    if (r->slot != nullptr) return r->slot;
    {
      // Every free request taken off the stack (each then this thread's alone), stripped of
      // its slot and put back. Under grow_mu: a submit finding the stack empty meanwhile waits
      // here rather than grow the chunks.
      std::lock_guard<std::mutex> lock(grow_mu);
      std::vector<Req*> all;
      while (Req* f = pop_free()) all.push_back(f);
      for (Req* f : all) {
        if (f->slot != nullptr) {
          staging->give_back(f->slot, f->slot_cls);
          f->slot = nullptr;
        }
        push_free(f);
      }
    }
    r->slot = staging->acquire(bytes, &r->slot_cls);
    return r->slot;
  }

  // ---------------------------------------------------------------------------------------------
  // Submission.

  uint64_t submit(const std::vector<RequestTensor>& inputs,
                  const std::vector<RequestTensor>& outputs, const RequestOptions& ro);

  // ---------------------------------------------------------------------------------------------
  // Batch formation (under mu). Returns the chosen requests and the reason, or an empty list and
  // the time to look again (max() for "when something arrives").
  struct Formed {
    std::vector<Req*> reqs;
    int64_t items = 0;
    CloseReason reason = CloseReason::kNone;
    ServeClock::time_point wake = ServeClock::time_point::max();
  };

  int64_t estimate(int64_t items) const {
    size_t b = 0;
    while ((int64_t{1} << b) < items) ++b;
    return b < est_ns.size() ? est_ns[b] : 0;
  }
  void learn(int64_t items, int64_t ns) {
    size_t b = 0;
    while ((int64_t{1} << b) < items) ++b;
    if (b >= est_ns.size()) return;
    est_ns[b] = est_ns[b] == 0 ? ns : (est_ns[b] * 7 + ns) / 8;
  }

  Formed form(ServeClock::time_point now) {
    Formed f;
    Req* head = nullptr;
    for (auto& q : levels) {
      if (!q.empty()) {
        head = q.front();
        break;
      }
    }
    if (head == nullptr) return f;
    int key = head->key;
    std::vector<Req*> cand;
    int64_t total = 0;
    bool full = false;
    ServeClock::time_point oldest = ServeClock::time_point::max();
    ServeClock::time_point first_deadline = ServeClock::time_point::max();
    for (auto& q : levels) {
      for (Req* r : q) {
        if (r->key != key) continue;
        if (total + r->items > max_batch) {
          full = true;
          break;
        }
        cand.push_back(r);
        total += r->items;
        oldest = std::min(oldest, r->enqueued);
        if (r->has_deadline) first_deadline = std::min(first_deadline, r->deadline);
        if (total == max_batch) {
          full = true;
          break;
        }
      }
      if (full) break;
    }
    size_t take = cand.size();
    CloseReason reason = CloseReason::kNone;
    if (full) {
      reason = CloseReason::kFull;
    } else if (stopping) {
      reason = CloseReason::kShutdown;
    }
    if (reason == CloseReason::kNone && !preferred.empty()) {
      // The largest preferred size a prefix of the candidates makes, sent at once.
      int64_t best = 0;
      size_t best_take = 0, n = 0;
      int64_t sum = 0;
      for (Req* r : cand) {
        sum += r->items;
        ++n;
        for (int64_t p : preferred) {
          if (p == sum && p > best) {
            best = p;
            best_take = n;
          }
        }
      }
      if (best > 0) {
        reason = CloseReason::kPreferred;
        take = best_take;
      }
    }
    if (reason == CloseReason::kNone) {
      auto delay = std::chrono::nanoseconds(o.max_queue_delay_ns);
      ServeClock::time_point delay_end = oldest + delay;
      ServeClock::time_point deadline_end = ServeClock::time_point::max();
      if (first_deadline != ServeClock::time_point::max()) {
        // In time for the deadline: its run's estimate and a millisecond of slack early.
        deadline_end = first_deadline - std::chrono::nanoseconds(estimate(total)) -
                       std::chrono::milliseconds(1);
      }
      if (o.max_queue_delay_ns == 0 || now >= delay_end) {
        reason = CloseReason::kDelay;
      } else if (now >= deadline_end) {
        reason = CloseReason::kDeadline;
      } else {
        f.wake = std::min(delay_end, deadline_end);
        return f;
      }
    }
    cand.resize(take);
    for (Req* r : cand) f.items += r->items;
    f.reqs = std::move(cand);
    f.reason = reason;
    // Out of the queue: marked running, then every level filtered once.
    for (Req* r : f.reqs) {
      r->state = State::kRunning;
      r->dispatched = now;
    }
    for (auto& q : levels) {
      q.erase(std::remove_if(q.begin(), q.end(),
                             [](const Req* r) { return r->state == State::kRunning; }),
              q.end());
    }
    queued -= static_cast<int64_t>(f.reqs.size());
    admitted.fetch_sub(static_cast<int64_t>(f.reqs.size()));
    pending_items.fetch_sub(f.items);
    queued_items -= f.items;
    in_flight += static_cast<int64_t>(f.reqs.size());
    return f;
  }

  // Puts an accepted request in its level (under mu): its key (the index of its item dims
  // among those seen), counted as queued and submitted.
  void enqueue_locked(Req* r) {
    int key = -1;
    for (size_t k = 0; k < keys.size() && key < 0; ++k) {
      if (keys[k] == r->item_dims) key = static_cast<int>(k);
    }
    if (key < 0) {
      keys.push_back(r->item_dims);
      key = static_cast<int>(keys.size() - 1);
    }
    r->key = key;
    r->state = State::kQueued;
    levels[static_cast<size_t>(r->level)].push_back(r);
    ++queued;
    queued_items += r->items;
    st.submitted++;
  }
  // Moves the intake into the levels, in the order of submission (under mu). Everything under mu
  // that looks at the queue or the requests by id calls it first.
  void drain_intake() {
    {
      std::lock_guard<std::mutex> lock(in_mu);
      if (intake.empty()) return;
      intake_out.swap(intake);
    }
    for (Req* r : intake_out) enqueue_locked(r);
    intake_out.clear();
  }
  bool intake_empty() {
    std::lock_guard<std::mutex> lock(in_mu);
    return intake.empty();
  }
  // Under mu: picks the instance a wake-up goes to (an idle one first, else the timer) and marks
  // it woken; the caller notifies the returned condition variable (null: every instance is busy
  // and looks at the queue when its batch is done).
  std::condition_variable* wake_locked() {
    if (!idle.empty()) {
      const size_t w = idle.back();
      idle.pop_back();
      idle_waiters.fetch_sub(1);
      return &mark_woken(w);
    }
    return timer >= 0 ? &mark_woken(static_cast<size_t>(timer)) : nullptr;
  }
  // Under mu: instance w, waiting, is woken by whoever notifies the returned variable.
  std::condition_variable& mark_woken(size_t w) {
    waiters[w]->woken = true;
    return waiters[w]->cv;
  }
  // Under mu: every waiting instance woken (shutdown, destruction); notified after the lock.
  void wake_all_locked() {
    for (auto& w : waiters) w->woken = true;
  }
  void notify_all_waiters() {
    for (auto& w : waiters) w->cv.notify_all();
  }
  // Under mu: instance i no longer waits (it was woken, timed out, or saw the intake).
  void leave_wait(size_t i) {
    if (timer == static_cast<int64_t>(i)) {
      timer = -1;
      timer_armed.store(false);
    }
    auto it = std::find(idle.begin(), idle.end(), i);
    if (it != idle.end()) {
      idle.erase(it);
      idle_waiters.fetch_sub(1);
    }
  }

  void instance_loop(size_t i);
  void reaper_loop();

  // Keeps the deadlines of queued requests only (under mu).
  void prune_deadlines() {
    std::vector<std::pair<ServeClock::time_point, uint64_t>> keep;
    while (!deadlines.empty()) {
      Req* r = lookup(deadlines.top().second);
      if (r != nullptr && r->state == State::kQueued) keep.push_back(deadlines.top());
      deadlines.pop();
    }
    for (const auto& e : keep) deadlines.push(e);
  }

  // Removes a queued request from its level (under mu).
  void unqueue(Req* r) {
    auto& q = levels[static_cast<size_t>(r->level)];
    q.erase(std::find(q.begin(), q.end(), r));
    --queued;
    admitted.fetch_sub(1);
    pending_items.fetch_sub(r->items);
    queued_items -= r->items;
  }

  // Counts a finished request's outcome (under mu, where its result is filled in: the counts
  // are up to date before the result is delivered).
  void count_outcome(Status s) {
    st.completed++;
    switch (s) {
      case Status::kSuccess:
        st.succeeded++;
        break;
      case Status::kTimeout:
        st.timed_out++;
        break;
      case Status::kCancelled:
        st.cancelled++;
        break;
      default:
        st.failed++;
        break;
    }
  }

  // Fills a failed result and counts it (under mu).
  void fail(Req* r, Status s, std::string msg, ServeClock::time_point now) {
    r->result.status = s;
    r->result.message = std::move(msg);
    r->result.total_ns = ns_between(r->enqueued, now);
    r->result.queue_ns = r->result.total_ns;
    r->state = State::kDone;
    count_outcome(s);
  }

  // Observes finished requests (counted already) and hands them to delivery (not under mu): a
  // batch's requests together, one lock round trip for all of them where the order is free.
  void finish(Req* const* rs, size_t n);
  void finish(Req* r) { finish(&r, 1); }
  void deliver(Req* r);
  void deliver_in_order(Req* r);
  // Puts results in the completion queue (servers without a callback).
  void queue_done(Req* const* rs, size_t n);
};

uint64_t Server::Impl::submit(const std::vector<RequestTensor>& inputs,
                              const std::vector<RequestTensor>& outputs, const RequestOptions& ro) {
  const auto& ins = backend->inputs();
  const auto& outs = backend->outputs();
  auto reject = [&](Status s, const std::string& msg) {
    {
      std::lock_guard<std::mutex> lock(mu);
      st.rejected++;
      st.rejected_invalid++;
    }
    throw Error(s, msg);
  };
  if (inputs.size() != ins.size()) {
    reject(Status::kInvalidArgument, "the model has " + std::to_string(ins.size()) +
                                         " inputs; the request gives " +
                                         std::to_string(inputs.size()));
  }
  if (!outputs.empty() && outputs.size() != outs.size()) {
    reject(Status::kInvalidArgument, "the model has " + std::to_string(outs.size()) +
                                         " outputs; the request gives " +
                                         std::to_string(outputs.size()) +
                                         " destinations (give none to receive them in staging)");
  }
  if (ro.priority < 0 || ro.priority > static_cast<int32_t>(levels.size())) {
    reject(Status::kInvalidArgument, "priority " + std::to_string(ro.priority) +
                                         " is out of range (0 for the default, 1 to " +
                                         std::to_string(levels.size()) + ")");
  }
  if (ro.timeout_ns < 0) {
    reject(Status::kInvalidArgument,
           "timeout " + std::to_string(ro.timeout_ns) + " ns is negative");
  }
  // Shapes: every input's rank and item dims, one item count for all. The item dims go in this
  // thread's scratch (no allocation once it has seen the model's ranks).
  thread_local std::vector<std::vector<int64_t>> item_dims;
  item_dims.resize(ins.size());
  int64_t items = -1;
  for (size_t i = 0; i < ins.size(); ++i) {
    const auto& s = ins[i];
    const RequestTensor& t = inputs[i];
    item_dims[i].clear();
    // Named only for an error message: no string is built for a good request.
    auto what = [&] { return "input " + std::to_string(i) + " ('" + s.name + "')"; };
    if (t.type != s.type) {
      reject(Status::kInvalidArgument,
             what() + " has element type " + (t.type == ElemType::kU8 ? "uint8" : "float32") +
                 "; the model takes " + (s.type == ElemType::kU8 ? "uint8" : "float32"));
    }
    size_t rank = s.item_dims.size() + (s.batch_axis >= 0 ? 1 : 0);
    if (t.dims.size() != rank) {
      reject(Status::kInvalidArgument, what() + " has rank " + std::to_string(t.dims.size()) +
                                           "; the model takes rank " + std::to_string(rank));
    }
    int64_t count = 1;
    int64_t k = 1;
    for (size_t d = 0; d < t.dims.size(); ++d) {
      int64_t v = t.dims[d];
      if (v < 1 || v > (int64_t{1} << 40)) {
        reject(Status::kInvalidArgument,
               what() + " has dimension " + std::to_string(d) + " = " + std::to_string(v));
      }
      if (static_cast<int>(d) == s.batch_axis) {
        k = v;
      } else {
        item_dims[i].push_back(v);
      }
      if (count > (int64_t{1} << 40) / v) {
        reject(Status::kInvalidArgument, what() + " has too many elements");
      }
      count *= v;
    }
    if (items >= 0 && k != items) {
      reject(Status::kInvalidArgument, what() + " has " + std::to_string(k) +
                                           " batch items; an earlier input has " +
                                           std::to_string(items));
    }
    items = k;
    if (t.bytes != static_cast<uint64_t>(count * elem_size(s.type))) {
      reject(Status::kInvalidArgument, what() + " has " + std::to_string(t.bytes) +
                                           " bytes; its shape needs " +
                                           std::to_string(count * elem_size(s.type)));
    }
    if (t.data == nullptr) reject(Status::kInvalidArgument, what() + " has no data (NULL)");
    if (t.kind == MemoryKind::kDevice && !backend->gpu()) {
      reject(Status::kNotSupported,
             what() + " is in device memory; the model runs on the CPU reference executor");
    }
  }
  if (items < 1) items = 1;
  if (items > max_batch) {
    reject(Status::kInvalidArgument, "the request has " + std::to_string(items) +
                                         " batch items; the server's max batch is " +
                                         std::to_string(max_batch));
  }
  if (!backend->accepts(item_dims)) {
    std::string msg = "the request's shapes do not match the model's:";
    for (size_t i = 0; i < ins.size(); ++i) {
      msg += " input " + std::to_string(i) + " ('" + ins[i].name + "') item shape [";
      for (size_t d = 0; d < item_dims[i].size(); ++d) {
        msg += (d ? " " : "") + std::to_string(item_dims[i][d]);
      }
      msg += "], the model's [";
      for (size_t d = 0; d < ins[i].item_dims.size(); ++d) {
        msg += (d ? " " : "") + std::to_string(ins[i].item_dims[d]);
      }
      msg += "];";
    }
    msg.pop_back();
    reject(Status::kInvalidArgument, msg);
  }
  // Outputs: their sizes at this item count.
  auto out_bytes = [&](size_t j) {
    return static_cast<uint64_t>(outs[j].batch_axis >= 0 ? outs[j].item_bytes * items
                                                         : outs[j].item_bytes);
  };
  for (size_t j = 0; j < outs.size() && !outputs.empty(); ++j) {
    const RequestTensor& t = outputs[j];
    auto what = [&] { return "output " + std::to_string(j) + " ('" + outs[j].name + "')"; };
    if (t.kind == MemoryKind::kHost) {
      if (t.data != nullptr) {
        reject(Status::kInvalidArgument,
               what() +
                   ": a HOST output is written to staging and given in the result; pass data "
                   "NULL, or PINNED or DEVICE memory to receive it in place");
      }
      continue;
    }
    if (t.data == nullptr) reject(Status::kInvalidArgument, what() + " has no data (NULL)");
    if (t.kind == MemoryKind::kDevice && !backend->gpu()) {
      reject(Status::kNotSupported,
             what() + " is in device memory; the model runs on the CPU reference executor");
    }
    if (t.bytes != out_bytes(j)) {
      reject(Status::kInvalidArgument, what() + " has " + std::to_string(t.bytes) + " bytes; at " +
                                           std::to_string(items) + " batch items it needs " +
                                           std::to_string(out_bytes(j)));
    }
  }
  // Staging: HOST inputs and staged outputs, each 256-byte aligned.
  auto align = [](uint64_t b) { return (b + 255) / 256 * 256; };
  uint64_t slot_bytes = 0;
  for (size_t i = 0; i < ins.size(); ++i) {
    if (inputs[i].kind == MemoryKind::kHost) slot_bytes += align(inputs[i].bytes);
  }
  for (size_t j = 0; j < outs.size(); ++j) {
    if (outputs.empty() || outputs[j].kind == MemoryKind::kHost) slot_bytes += align(out_bytes(j));
  }

  // A place in the queue, counted without mu (reserved: a shutdown waits for this submit;
  // admitted: against max_queue_size), a free request and its staging, the copy, and then the
  // intake.
  reserved.fetch_add(1);
  // Ends a refused reservation: counted, and a shutdown waiting for it told (under mu, where it
  // checks).
  auto refuse = [&](int64_t ServerStats::*which, bool holds_place, Req* r) {
    if (holds_place) admitted.fetch_sub(1);
    if (r != nullptr) free_req(r);
    std::lock_guard<std::mutex> lock(mu);
    st.rejected++;
    st.*which += 1;
    if (reserved.fetch_sub(1) == 1 && outstanding == 0) idle_cv.notify_all();
  };
  if (stopping.load()) {
    refuse(&ServerStats::rejected_unavailable, false, nullptr);
    throw Error(Status::kUnavailable, "the server is shut down: it takes no new requests");
  }
  if (admitted.fetch_add(1) >= o.max_queue_size) {
    refuse(&ServerStats::rejected_queue_full, true, nullptr);
    throw Error(Status::kQueueFull, "the queue is full (" + std::to_string(o.max_queue_size) +
                                        " requests waiting); retry later");
  }
  Req* r = nullptr;
  try {
    r = new_req();
    if (r == nullptr) {
      throw Error(Status::kQueueFull,
                  std::to_string(uint64_t{kChunk} * kMaxChunks) +
                      " requests are outstanding (queued, running, or results not released): "
                      "release results, or retry later");
    }
    if (slot_bytes > 0 && take_slot(r, static_cast<int64_t>(slot_bytes)) == nullptr) {
      const int64_t cls = Staging::class_of(static_cast<int64_t>(slot_bytes));
      if (cls > o.max_staging_bytes) {
        throw Error(Status::kQueueFull,
                    "the request needs a staging slot of " + std::to_string(cls) +
                        " bytes, more than max_staging_bytes (" +
                        std::to_string(o.max_staging_bytes) +
                        "): it can never be accepted; send fewer items per request, or give "
                        "PINNED or DEVICE inputs and outputs");
      }
      throw Error(Status::kQueueFull,
                  "the staging memory is full (" + std::to_string(o.max_staging_bytes) +
                      " bytes held by requests waiting or running); retry later");
    }
  } catch (...) {
    refuse(&ServerStats::rejected_queue_full, true, r);
    throw;
  }
  char* slot = static_cast<char*>(r->slot);
  auto& io = r->io;
  io.items = items;
  io.in.assign(ins.size(), nullptr);
  io.in_kind.assign(ins.size(), MemoryKind::kHost);
  io.in_bytes.assign(ins.size(), 0);
  io.out.assign(outs.size(), nullptr);
  io.out_kind.assign(outs.size(), MemoryKind::kHost);
  io.out_bytes.resize(outs.size());
  for (size_t j = 0; j < outs.size(); ++j) io.out_bytes[j] = out_bytes(j);
  r->keep.clear();
  for (size_t i = 0; i < ins.size(); ++i) {
    io.in_kind[i] = inputs[i].kind;
    io.in_bytes[i] = inputs[i].bytes;
    if (inputs[i].kind == MemoryKind::kHost) {
      std::memcpy(slot, inputs[i].data, inputs[i].bytes);
      io.in[i] = slot;
      slot += align(inputs[i].bytes);
    } else {
      io.in[i] = inputs[i].data;
      if (inputs[i].keep) r->keep.push_back(inputs[i].keep);
    }
  }
  for (size_t j = 0; j < outs.size(); ++j) {
    if (outputs.empty() || outputs[j].kind == MemoryKind::kHost) {
      io.out[j] = slot;
      slot += align(io.out_bytes[j]);
    } else {
      io.out_kind[j] = outputs[j].kind;
      io.out[j] = const_cast<void*>(outputs[j].data);
      if (outputs[j].keep) r->keep.push_back(outputs[j].keep);
    }
  }
  // A fresh result that keeps the last one's vectors and message (their memory reused).
  ServeResult& res = r->result;
  ServeResult fresh;
  fresh.outputs = std::move(res.outputs);
  fresh.outputs.assign(io.out.begin(), io.out.end());
  fresh.output_bytes = std::move(res.output_bytes);
  fresh.output_bytes.assign(io.out_bytes.begin(), io.out_bytes.end());
  fresh.message = std::move(res.message);
  fresh.message.clear();
  fresh.tag = ro.tag;
  fresh.items = items;
  res = std::move(fresh);
  r->items = items;
  r->level = (ro.priority == 0 ? o.default_priority : ro.priority) - 1;
  r->timeout_ns = ro.timeout_ns != 0 ? ro.timeout_ns : o.default_timeout_ns;

  r->item_dims = item_dims;  // copied into the request's own vectors (their memory reused)
  r->enqueued = ServeClock::now();
  // A timeout past what the clock can represent (enqueued + timeout would overflow) is none.
  r->has_deadline = r->timeout_ns > 0 && std::chrono::nanoseconds(r->timeout_ns) <
                                             ServeClock::time_point::max() - r->enqueued;
  if (r->has_deadline) r->deadline = r->enqueued + std::chrono::nanoseconds(r->timeout_ns);
  const uint64_t id = r->id();
  res.id = id;
  const int64_t pending = pending_items.fetch_add(items) + items;
  // Read before it goes in: from then on it may run, be released and be reused at any time.
  const bool has_deadline = r->has_deadline;
  const ServeClock::time_point deadline = r->deadline;

  // Into the intake, under in_mu only (a shutdown stops intake under it too).
  bool refused;
  {
    std::lock_guard<std::mutex> lock(in_mu);
    refused = stopping.load();
    if (!refused) {
      r->seq = next_seq++;
      intake.push_back(r);
      outstanding.fetch_add(1);
    }
  }
  if (refused) {
    pending_items.fetch_sub(items);
    refuse(&ServerStats::rejected_unavailable, true, r);
    throw Error(Status::kUnavailable, "the server is shut down: it takes no new requests");
  }
  // A shutdown waiting for this submit is told under mu, where it checks (it set stopping
  // before it looked at reserved: one of the two sees the other).
  if (reserved.fetch_sub(1) == 1 && stopping.load()) {
    std::lock_guard<std::mutex> lock(mu);
    idle_cv.notify_all();
  }

  // No deadline, a queue delay, no preferred sizes: no instance needs to look at it before the
  // requests already queued make it go, and the next look at the queue moves it in. An instance
  // is woken only where no instance times the queue and one waits idle (this request starts a
  // delay), or where this request fills a batch and one waits. (An instance counts itself
  // waiting, then looks at the intake, then waits under mu: it saw this request, or this sees
  // it waiting and wakes it through mu. An instance that stops timing clears timer_armed before
  // it reads pending_items to decide whether to wake another.)
  if (!has_deadline && o.max_queue_delay_ns > 0 && preferred.empty()) {
    const bool full = pending >= max_batch;
    if ((!timer_armed.load() && idle_waiters.load() > 0) ||
        (full && (timer_armed.load() || idle_waiters.load() > 0))) {
      std::condition_variable* cv = nullptr;
      {
        std::lock_guard<std::mutex> lock(mu);
        // Checked again under mu: of many submits that saw an idle instance, one wakes it.
        if ((timer < 0 && !idle.empty()) || full) cv = wake_locked();
      }
      if (cv != nullptr) cv->notify_one();
    }
    return id;
  }

  // Otherwise moved in at once, under mu: its deadline for the reaper, and an instance woken
  // where this request may let a batch go sooner than the instances already planned (the batch
  // may be full, make a preferred size, be due at once or before a deadline). Without that
  // condition every request would wake an instance, each taking the lock to find nothing to
  // send.
  std::condition_variable* cv = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu);
    drain_intake();
    if (has_deadline) {
      bool earliest = deadlines.empty() || deadline < deadlines.top().first;
      deadlines.emplace(deadline, id);  // stale once the request ran: the reaper skips it
      if (earliest) reap_cv.notify_one();
      // Entries of requests that ran or were cancelled stay until their deadline; with long
      // timeouts they would pile up (one per request), so they are dropped now and then.
      if (deadlines.size() > 64 && deadlines.size() > 4 * static_cast<size_t>(queued + 1)) {
        prune_deadlines();
      }
    }
    // A deadline matters where no instance times the queue, or where the batch may have to go
    // before the timer wakes (the deadline's slack: the largest batch's estimate and 1 ms).
    const bool deadline_first =
        has_deadline && (timer < 0 || deadline - std::chrono::nanoseconds(estimate(max_batch)) -
                                              std::chrono::milliseconds(1) <
                                          timer_at);
    if ((timer < 0 && !idle.empty()) || o.max_queue_delay_ns == 0 || !preferred.empty() ||
        deadline_first || queued_items >= max_batch) {
      cv = wake_locked();
    }
  }
  if (cv != nullptr) cv->notify_one();
  return id;
}

namespace {
// Names the calling thread (at most 15 bytes shown) for top, perf and /proc/self/task.
void name_thread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}
}  // namespace

void Server::Impl::instance_loop(size_t i) {
  ServeBackend::Instance& inst = *instances[i];
  auto [device, index] = instance_ids[i];
  name_thread(device < 0 ? "cudago-cpu" + std::to_string(index)
                         : "cudago-gpu" + std::to_string(device) + "." + std::to_string(index));
  ServeBackend::Batch b;
  Waiter& me = *waiters[i];
  for (;;) {
    Formed f;
    std::condition_variable* next = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu);
      for (;;) {
        if (exiting) return;
        drain_intake();
        f = form(ServeClock::now());
        if (!f.reqs.empty()) break;
        // Idle where nothing is due or the timer wakes in time for it; else this times the
        // queue (an instance timing it until later is woken, and goes idle). This instance is
        // not the timer here: it stopped timing when its wait ended (leave_wait).
        const bool timed =
            f.wake != ServeClock::time_point::max() && (timer < 0 || f.wake < timer_at);
        me.woken = false;
        if (timed) {
          if (timer >= 0) mark_woken(static_cast<size_t>(timer)).notify_one();
          timer = static_cast<int64_t>(i);
          timer_at = f.wake;
          timer_armed.store(true);
        } else {
          idle.push_back(i);
          idle_waiters.fetch_add(1);
        }
        // Counted as waiting before the last look at the intake (a submit appends to it, then
        // looks at the counts): a request that came meanwhile is formed now, or wakes this.
        if (!intake_empty()) {
          leave_wait(i);
          continue;
        }
        auto woken = [&] { return me.woken || exiting; };
        if (timed) {
          me.cv.wait_until(lock, f.wake, woken);
        } else {
          me.cv.wait(lock, woken);
        }
        leave_wait(i);
      }
      // Another instance may form the next batch now, where none times the queue.
      if (timer < 0 && (queued > 0 || pending_items.load() > 0)) next = wake_locked();
    }
    if (next != nullptr) next->notify_one();
    b.requests.clear();
    b.items = f.items;
    b.h2d_ns = b.compute_ns = b.d2h_ns = 0;
    for (Req* r : f.reqs) b.requests.push_back(&r->io);
    Status status = Status::kSuccess;
    std::string message;
    auto t0 = ServeClock::now();
    try {
      inst.execute(b);
    } catch (const Error& e) {
      status = e.status();
      message = e.what();
    } catch (const std::exception& e) {
      status = Status::kInternal;
      message = e.what();
    } catch (...) {  // not an exception class: still only this batch's requests fail
      status = Status::kInternal;
      message = "the batch's run threw an exception of an unknown type";
    }
    auto t1 = ServeClock::now();
    h_batch->observe(static_cast<double>(f.items));
    if (status == Status::kSuccess) {
      h_h2d->observe(static_cast<double>(b.h2d_ns) * 1e-9);
      h_compute->observe(static_cast<double>(b.compute_ns) * 1e-9);
      h_d2h->observe(static_cast<double>(b.d2h_ns) * 1e-9);
    }
    // The results, filled before the lock: a running request is this thread's alone (cancel,
    // the reaper and shutdown touch queued ones; lookup reads only the id and state).
    for (Req* r : f.reqs) {
      ServeResult& res = r->result;
      res.status = status;
      res.message = message;
      res.reason = f.reason;
      res.device = device;
      res.instance = index;
      res.batch_items = f.items;
      res.batch_requests = static_cast<int64_t>(f.reqs.size());
      res.queue_ns = ns_between(r->enqueued, r->dispatched);
      res.h2d_ns = b.h2d_ns;
      res.compute_ns = b.compute_ns;
      res.d2h_ns = b.d2h_ns;
      res.total_ns = ns_between(r->enqueued, t1);
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      if (status == Status::kSuccess) learn(f.items, ns_between(t0, t1));
      st.batches++;
      st.inferences += f.items;
      per_instance[i].batches++;
      per_instance[i].inferences += f.items;
      if (static_cast<size_t>(f.items) < st.batch_histogram.size()) {
        st.batch_histogram[static_cast<size_t>(f.items)]++;
      }
      switch (f.reason) {
        case CloseReason::kFull:
          st.closed_full++;
          break;
        case CloseReason::kPreferred:
          st.closed_preferred++;
          break;
        case CloseReason::kDelay:
          st.closed_delay++;
          break;
        case CloseReason::kDeadline:
          st.closed_deadline++;
          break;
        case CloseReason::kShutdown:
          st.closed_shutdown++;
          break;
        case CloseReason::kNone:
          break;
      }
      in_flight -= static_cast<int64_t>(f.reqs.size());
      for (Req* r : f.reqs) {
        r->state = State::kDone;
        count_outcome(status);
      }
    }
    finish(f.reqs.data(), f.reqs.size());
  }
}

void Server::Impl::reaper_loop() {
  // Every request whose deadline has passed is taken out of the queue in one hold of the lock,
  // and their results are delivered after it: under overload thousands expire each second, and
  // a lock round trip each (against submits and dispatch) made the last of a burst late.
  name_thread("cudago-reaper");
  std::vector<Req*> expired;
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    if (exiting) return;
    if (deadlines.empty()) {
      reap_cv.wait(lock);
      continue;
    }
    auto now = ServeClock::now();
    // A copy: wait_until reads its argument after the lock is released and retaken, when a
    // submit may have moved the queue's storage.
    const ServeClock::time_point next = deadlines.top().first;
    if (next > now) {
      reap_cv.wait_until(lock, next);
      continue;
    }
    while (!deadlines.empty() && deadlines.top().first <= now) {
      uint64_t id = deadlines.top().second;
      deadlines.pop();
      Req* r = lookup(id);
      if (r == nullptr || r->state != State::kQueued) continue;  // ran, or was cancelled
      unqueue(r);
      fail(r, Status::kTimeout,
           "deadline exceeded: the request waited " +
               std::to_string(ns_between(r->enqueued, now) / 1000) + " µs in the queue (timeout " +
               std::to_string(r->timeout_ns / 1000) + " µs)",
           now);
      expired.push_back(r);
    }
    if (expired.empty()) continue;
    lock.unlock();
    finish(expired.data(), expired.size());
    expired.clear();
    lock.lock();
  }
}

void Server::Impl::finish(Req* const* rs, size_t n) {
  const ServeClock::time_point now = ServeClock::now();  // the results are ready
  for (size_t i = 0; i < n; ++i) {
    const Req* r = rs[i];
    const ServeResult& res = r->result;
    if (res.status == Status::kTimeout && r->has_deadline) {
      h_late->observe(static_cast<double>(std::max<int64_t>(0, ns_between(r->deadline, now))) *
                      1e-9);
    }
    h_request->observe(static_cast<double>(res.total_ns) * 1e-9);
    h_queue->observe(static_cast<double>(res.queue_ns) * 1e-9);
    sum_h2d_ns.fetch_add(static_cast<uint64_t>(res.h2d_ns), std::memory_order_relaxed);
    sum_compute_ns.fetch_add(static_cast<uint64_t>(res.compute_ns), std::memory_order_relaxed);
    sum_d2h_ns.fetch_add(static_cast<uint64_t>(res.d2h_ns), std::memory_order_relaxed);
  }
  if (o.preserve_ordering) {
    for (size_t i = 0; i < n; ++i) deliver_in_order(rs[i]);
    return;
  }
  if (cb) {
    for (size_t i = 0; i < n; ++i) deliver(rs[i]);
    return;
  }
  queue_done(rs, n);  // the completion queue: the batch's results together
}

void Server::Impl::deliver_in_order(Req* r) {
  // One thread delivers at a time, in sequence order, and not under order_mu: a callback may
  // cancel (finishing another request on this very thread) or submit. What finishes while a
  // thread delivers is delivered by that thread.
  std::unique_lock<std::mutex> lock(order_mu);
  reorder.emplace(r->seq, r);
  if (draining) return;
  draining = true;
  for (;;) {
    auto it = reorder.begin();
    if (it == reorder.end() || it->first != deliver_seq) break;
    Req* next = it->second;
    reorder.erase(it);
    ++deliver_seq;
    lock.unlock();
    deliver(next);
    lock.lock();
  }
  draining = false;
}

void Server::Impl::deliver(Req* r) {
  if (cb) {
    // Saved and restored: a callback that cancels a request has its result delivered inside it
    // (nested), and is still in its callback after that one returns.
    const void* outer = tl_in_callback;
    tl_in_callback = this;
    try {
      cb(r->result);
    } catch (...) {
      // A callback must not throw; what it threw is dropped, the server goes on.
    }
    tl_in_callback = outer;
    std::lock_guard<std::mutex> lock(mu);
    free_req(r);
    if (--outstanding == 0) idle_cv.notify_all();
    return;
  }
  queue_done(&r, 1);
}

void Server::Impl::queue_done(Req* const* rs, size_t n) {
  // Every result in one hold of done_mu and one wake-up, then one hold of mu to count them out
  // (after they are in the queue: a poller that sees a stopped server with nothing outstanding
  // finds every result already queued).
  {
    std::lock_guard<std::mutex> lock(done_mu);
    done.insert(done.end(), rs, rs + n);
  }
  if (n > 1) {
    done_cv.notify_all();
  } else {
    done_cv.notify_one();
  }
  std::lock_guard<std::mutex> lock(mu);
  outstanding -= static_cast<int64_t>(n);
  if (outstanding == 0) idle_cv.notify_all();
}

void Server::Impl::render(metrics::Writer& w, const metrics::RenderOptions& ro) {
  ServerStats s;
  int64_t q, fl, staged;
  std::vector<InstanceCount> inst;
  {
    std::lock_guard<std::mutex> lock(mu);
    drain_intake();  // the requests accepted so far counted
    s = st;
    q = queued;
    fl = in_flight;
    inst = per_instance;
  }
  staged = staging->held();
  const std::string& m = o.name;
  auto d = [](int64_t v) { return static_cast<double>(v); };
  const char* req_help =
      "Requests by outcome (success, failure, rejected) and reason; a request of several batch "
      "items counts once.";
  w.counter("cudago_requests_total", req_help,
            {{"model", m}, {"outcome", "success"}, {"reason", ""}}, d(s.succeeded));
  w.counter("cudago_requests_total", req_help,
            {{"model", m}, {"outcome", "failure"}, {"reason", "timeout"}}, d(s.timed_out));
  w.counter("cudago_requests_total", req_help,
            {{"model", m}, {"outcome", "failure"}, {"reason", "cancelled"}}, d(s.cancelled));
  w.counter("cudago_requests_total", req_help,
            {{"model", m}, {"outcome", "failure"}, {"reason", "error"}}, d(s.failed));
  w.counter("cudago_requests_total", req_help,
            {{"model", m}, {"outcome", "rejected"}, {"reason", "queue_full"}},
            d(s.rejected_queue_full));
  w.counter("cudago_requests_total", req_help,
            {{"model", m}, {"outcome", "rejected"}, {"reason", "invalid"}}, d(s.rejected_invalid));
  w.counter("cudago_requests_total", req_help,
            {{"model", m}, {"outcome", "rejected"}, {"reason", "unavailable"}},
            d(s.rejected_unavailable));
  w.counter("cudago_inferences_total", "Batch items run (a batch of n counts n).", {{"model", m}},
            d(s.inferences));
  w.counter("cudago_batch_executions_total", "Batches run.", {{"model", m}}, d(s.batches));
  const char* close_help = "Batches by the reason they were closed and sent.";
  w.counter("cudago_batch_close_total", close_help, {{"model", m}, {"reason", "full"}},
            d(s.closed_full));
  w.counter("cudago_batch_close_total", close_help, {{"model", m}, {"reason", "preferred"}},
            d(s.closed_preferred));
  w.counter("cudago_batch_close_total", close_help, {{"model", m}, {"reason", "delay"}},
            d(s.closed_delay));
  w.counter("cudago_batch_close_total", close_help, {{"model", m}, {"reason", "deadline"}},
            d(s.closed_deadline));
  w.counter("cudago_batch_close_total", close_help, {{"model", m}, {"reason", "shutdown"}},
            d(s.closed_shutdown));
  // Per execution instance: how a server's batches spread over its GPUs (device "cpu": the
  // reference executor's workers).
  auto inst_labels = [&](size_t i) {
    const auto [dev, index] = instance_ids[i];
    return metrics::Labels{{"model", m},
                           {"device", dev < 0 ? std::string("cpu") : std::to_string(dev)},
                           {"instance", std::to_string(index)}};
  };
  for (size_t i = 0; i < inst.size(); ++i) {
    w.counter("cudago_instance_inferences_total", "Batch items run by each execution instance.",
              inst_labels(i), d(inst[i].inferences));
  }
  for (size_t i = 0; i < inst.size(); ++i) {
    w.counter("cudago_instance_batch_executions_total", "Batches run by each execution instance.",
              inst_labels(i), d(inst[i].batches));
  }
  w.gauge("cudago_queue_depth", "Requests waiting in the queue.", {{"model", m}}, d(q));
  w.gauge("cudago_requests_in_flight", "Requests in a running batch.", {{"model", m}}, d(fl));
  w.gauge("cudago_staging_bytes",
          "Staging memory held by the server (pinned on a GPU), cached slots included.",
          {{"model", m}}, d(staged));
  w.histogram("cudago_batch_size", "Items per batch run.", {{"model", m}}, h_batch->snapshot());
  w.histogram("cudago_request_duration_seconds",
              "Requests from submission to result, every outcome but refusals at submit.",
              {{"model", m}}, h_request->snapshot());
  w.histogram("cudago_queue_wait_seconds",
              "Requests' time in the queue (to dispatch, or to failure for one that never ran).",
              {{"model", m}}, h_queue->snapshot());
  w.histogram("cudago_timeout_lateness_seconds",
              "Requests that timed out in the queue: from the deadline to the result being ready "
              "(delivered to the callback or queued for poll).",
              {{"model", m}}, h_late->snapshot());
  const char* stage_help =
      "Batches' stages: host-to-device copies, compute, device-to-host copies (CUDA events on a "
      "GPU).";
  w.histogram("cudago_stage_duration_seconds", stage_help, {{"model", m}, {"stage", "h2d"}},
              h_h2d->snapshot());
  w.histogram("cudago_stage_duration_seconds", stage_help, {{"model", m}, {"stage", "compute"}},
              h_compute->snapshot());
  w.histogram("cudago_stage_duration_seconds", stage_help, {{"model", m}, {"stage", "d2h"}},
              h_d2h->snapshot());
  if (!ro.triton_names) return;
  // Triton's names and units (microseconds, counters without _total), for existing dashboards.
  metrics::Labels tl{{"model", m}, {"version", "1"}};
  auto with = [&](const char* k, const char* v) {
    metrics::Labels l = tl;
    l.emplace_back(k, v);
    return l;
  };
  w.counter("nv_inference_request_success", "Number of successful inference requests (Triton).", tl,
            d(s.succeeded));
  const char* fail_help = "Number of failed inference requests (Triton).";
  w.counter("nv_inference_request_failure", fail_help, with("reason", "REJECTED"),
            d(s.timed_out + s.rejected_queue_full));
  w.counter("nv_inference_request_failure", fail_help, with("reason", "CANCELED"), d(s.cancelled));
  w.counter("nv_inference_request_failure", fail_help, with("reason", "BACKEND"), d(s.failed));
  w.counter("nv_inference_request_failure", fail_help, with("reason", "OTHER"),
            d(s.rejected_invalid + s.rejected_unavailable));
  w.counter("nv_inference_count", "Number of inferences performed (Triton).", tl, d(s.inferences));
  w.counter("nv_inference_exec_count", "Number of model executions performed (Triton).", tl,
            d(s.batches));
  w.gauge("nv_inference_pending_request_count",
          "Instantaneous number of pending requests (Triton).", tl, d(q));
  auto us = [](double seconds) { return std::floor(seconds * 1e6); };
  w.counter("nv_inference_request_duration_us",
            "Cumulative request duration in microseconds (Triton).", tl,
            us(h_request->snapshot().sum));
  w.counter("nv_inference_queue_duration_us", "Cumulative queue duration in microseconds (Triton).",
            tl, us(h_queue->snapshot().sum));
  w.counter("nv_inference_compute_input_duration_us",
            "Cumulative compute input duration in microseconds (Triton).", tl,
            std::floor(static_cast<double>(sum_h2d_ns.load(std::memory_order_relaxed)) / 1e3));
  w.counter("nv_inference_compute_infer_duration_us",
            "Cumulative compute inference duration in microseconds (Triton).", tl,
            std::floor(static_cast<double>(sum_compute_ns.load(std::memory_order_relaxed)) / 1e3));
  w.counter("nv_inference_compute_output_duration_us",
            "Cumulative inference compute output duration in microseconds (Triton).", tl,
            std::floor(static_cast<double>(sum_d2h_ns.load(std::memory_order_relaxed)) / 1e3));
}

// ------------------------------------------------------------------------------------------------

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (!impl_) return;
  try {
    shutdown(false);
  } catch (...) {
  }
  {
    std::lock_guard<std::mutex> lock(impl_->done_mu);
    impl_->done.clear();
  }
  impl_.reset();
}

std::unique_ptr<Server> Server::create(std::shared_ptr<ServeBackend> backend,
                                       const ServerOptions& opts, Callback cb) {
  if (!backend) throw Error(Status::kInvalidArgument, "no backend");
  auto impl = std::make_unique<Impl>();
  Impl& s = *impl;
  s.backend = backend;
  s.o = opts;
  s.cb = std::move(cb);
  int64_t model_max = backend->max_batch();
  if (opts.max_batch < 0 || opts.max_batch > model_max) {
    throw Error(Status::kInvalidArgument, "max_batch " + std::to_string(opts.max_batch) +
                                              " is out of range (1 to the model's max batch " +
                                              std::to_string(model_max) + ", 0 for the model's)");
  }
  s.max_batch = opts.max_batch == 0 ? model_max : opts.max_batch;
  for (int64_t p : opts.preferred) {
    if (p < 1 || p > s.max_batch) {
      throw Error(Status::kInvalidArgument, "preferred batch size " + std::to_string(p) +
                                                " is out of range (1 to max_batch " +
                                                std::to_string(s.max_batch) + ")");
    }
    s.preferred.push_back(p);
  }
  std::sort(s.preferred.rbegin(), s.preferred.rend());
  s.preferred.erase(std::unique(s.preferred.begin(), s.preferred.end()), s.preferred.end());
  if (opts.max_queue_delay_ns < 0 || opts.max_queue_delay_ns > int64_t{3600} * 1000000000) {
    throw Error(Status::kInvalidArgument, "max_queue_delay " +
                                              std::to_string(opts.max_queue_delay_ns) +
                                              " ns is out of range (0 to one hour)");
  }
  if (opts.default_timeout_ns < 0) {
    throw Error(Status::kInvalidArgument, "default_timeout is negative");
  }
  if (opts.max_queue_size < 0 || opts.max_queue_size > (int64_t{1} << 24)) {
    throw Error(Status::kInvalidArgument, "max_queue_size " + std::to_string(opts.max_queue_size) +
                                              " is out of range (1 to 2^24, 0 for " +
                                              std::to_string(ServerOptions::kDefaultQueueSize) +
                                              ")");
  }
  s.o.max_queue_size =
      opts.max_queue_size == 0 ? ServerOptions::kDefaultQueueSize : opts.max_queue_size;
  if (opts.priority_levels < 0 || opts.priority_levels > 64) {
    throw Error(Status::kInvalidArgument, "priority_levels " +
                                              std::to_string(opts.priority_levels) +
                                              " is out of range (1 to 64, 0 for one level)");
  }
  int32_t levels = std::max(opts.priority_levels, 1);
  if (opts.default_priority < 0 || opts.default_priority > levels) {
    throw Error(Status::kInvalidArgument, "default_priority " +
                                              std::to_string(opts.default_priority) +
                                              " is out of range (1 to priority_levels " +
                                              std::to_string(levels) + ", 0 for the lowest)");
  }
  s.o.default_priority = opts.default_priority == 0 ? levels : opts.default_priority;
  s.levels.resize(static_cast<size_t>(levels));
  if (opts.max_staging_bytes < 0) {
    throw Error(Status::kInvalidArgument, "max_staging_bytes is negative");
  }
  s.o.max_staging_bytes =
      opts.max_staging_bytes == 0 ? ServerOptions::kDefaultStagingBytes : opts.max_staging_bytes;
  if (opts.instances_per_device < 0 || opts.instances_per_device > 64) {
    throw Error(Status::kInvalidArgument, "instances_per_device " +
                                              std::to_string(opts.instances_per_device) +
                                              " is out of range (1 to 64, 0 for the default)");
  }
  int32_t per = opts.instances_per_device != 0 ? opts.instances_per_device : backend->gpu() ? 2 : 1;
  std::vector<int32_t> devices = opts.devices;
  if (devices.empty()) devices.push_back(backend->device());
  if (!backend->gpu()) {
    for (int32_t d : devices) {
      if (d != -1 && d != backend->device()) {
        throw Error(Status::kNotSupported,
                    "devices: the model runs on the CPU reference executor, which takes no "
                    "device list");
      }
    }
    devices = {-1};
  } else {
    int count = device_count();
    for (size_t i = 0; i < devices.size(); ++i) {
      if (devices[i] < 0 || devices[i] >= count) {
        throw Error(Status::kInvalidDevice,
                    "devices[" + std::to_string(i) + "] = " + std::to_string(devices[i]) +
                        "; this machine has " + std::to_string(count) + " devices");
      }
      for (size_t j = 0; j < i; ++j) {
        if (devices[j] == devices[i]) {
          throw Error(Status::kInvalidArgument,
                      "devices lists device " + std::to_string(devices[i]) + " twice");
        }
      }
    }
  }
  s.staging =
      std::make_unique<Staging>(backend->gpu(), std::max(devices[0], 0), s.o.max_staging_bytes);
  s.st.batch_histogram.assign(static_cast<size_t>(s.max_batch + 1), 0);
  for (auto* h : {&s.h_request, &s.h_queue, &s.h_h2d, &s.h_compute, &s.h_d2h, &s.h_late}) {
    *h = std::make_unique<metrics::Histogram>(metrics::latency_buckets());
  }
  s.h_batch = std::make_unique<metrics::Histogram>(metrics::batch_size_buckets(s.max_batch));
  if (s.o.name.empty()) s.o.name = "model";
  if (s.o.name.size() > 256) {
    throw Error(Status::kInvalidArgument,
                "the server's name has " + std::to_string(s.o.name.size()) + " bytes; at most 256");
  }
  s.est_ns.assign(64, 0);
  for (int32_t d : devices) {
    for (int32_t k = 0; k < per; ++k) {
      s.instances.push_back(backend->make_instance(d, k, s.max_batch, s.o));
      s.instance_ids.emplace_back(d, k);
    }
  }
  s.per_instance.resize(s.instances.size());
  for (size_t i = 0; i < s.instances.size(); ++i)
    s.waiters.push_back(std::make_unique<Impl::Waiter>());
  Impl* p = impl.get();
  s.metrics_token = metrics::Registry::global().add(
      [p](metrics::Writer& w, const metrics::RenderOptions& ro) { p->render(w, ro); });
  try {
    for (size_t i = 0; i < s.instances.size(); ++i) {
      s.threads.emplace_back([p, i] { p->instance_loop(i); });
    }
    s.threads.emplace_back([p] { p->reaper_loop(); });
  } catch (const std::system_error& e) {
    throw Error(Status::kOutOfMemory, std::string("server threads: ") + e.what());
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint64_t Server::submit(const std::vector<RequestTensor>& inputs,
                        const std::vector<RequestTensor>& outputs, const RequestOptions& ro) {
  return impl_->submit(inputs, outputs, ro);
}

bool Server::cancel(uint64_t id) {
  Impl& s = *impl_;
  Impl::Req* r;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.drain_intake();
    r = s.lookup(id);
    if (r == nullptr || r->state != Impl::State::kQueued) return false;
    s.unqueue(r);
    s.fail(r, Status::kCancelled, "cancelled while queued", ServeClock::now());
  }
  s.finish(r);
  return true;
}

size_t Server::poll(const uint64_t* release, size_t num_release, int64_t timeout_ns,
                    const ServeResult** out, size_t cap) {
  Impl& s = *impl_;
  if (s.cb) {
    throw Error(Status::kNotSupported,
                "the server delivers results to its callback; poll is for servers without one");
  }
  if (num_release > 0) {
    // Every id checked before any is released, in one pass: each is marked kReleasing as it
    // passes (a second mention of it then fails), and the marks are undone on a failure.
    std::lock_guard<std::mutex> lock(s.mu);
    size_t i = 0;
    Impl::Req* bad = nullptr;
    for (; i < num_release; ++i) {
      bad = s.lookup(release[i]);
      if (bad == nullptr || bad->state != Impl::State::kPolled) break;
      bad->state = Impl::State::kReleasing;
    }
    if (i < num_release) {
      const bool twice = bad != nullptr && bad->state == Impl::State::kReleasing;
      for (size_t j = 0; j < i; ++j) s.lookup(release[j])->state = Impl::State::kPolled;
      if (twice) {
        throw Error(Status::kInvalidArgument,
                    "release lists " + std::to_string(release[i]) + " twice");
      }
      throw Error(Status::kInvalidArgument,
                  "release[" + std::to_string(i) + "] = " + std::to_string(release[i]) +
                      " is not a result poll returned and not yet released");
    }
    for (i = 0; i < num_release; ++i) s.free_req(s.lookup(release[i]));
  }
  if (cap == 0) return 0;
  std::unique_lock<std::mutex> lock(s.done_mu);
  auto ready = [&] {
    if (!s.done.empty()) return true;
    std::lock_guard<std::mutex> l2(s.mu);
    return s.stopping && s.outstanding == 0;
  };
  // A timeout past what the clock can represent (now + timeout would overflow) is no limit.
  const auto now = ServeClock::now();
  if (timeout_ns < 0 ||
      std::chrono::nanoseconds(timeout_ns) >= ServeClock::time_point::max() - now) {
    s.done_cv.wait(lock, ready);
  } else if (timeout_ns > 0) {
    s.done_cv.wait_until(lock, now + std::chrono::nanoseconds(timeout_ns), ready);
  }
  if (s.done.empty()) {
    std::lock_guard<std::mutex> l2(s.mu);
    if (s.stopping && s.outstanding == 0) {
      throw Error(Status::kUnavailable,
                  "the server is shut down and every result has been delivered");
    }
    return 0;
  }
  size_t n = 0;
  std::vector<Impl::Req*> taken;
  while (n < cap && !s.done.empty()) {
    taken.push_back(s.done.front());
    s.done.pop_front();
    ++n;
  }
  lock.unlock();
  std::lock_guard<std::mutex> l2(s.mu);
  for (size_t i = 0; i < n; ++i) {
    taken[i]->state = Impl::State::kPolled;
    out[i] = &taken[i]->result;
  }
  return n;
}

void Server::shutdown(bool cancel_queued) {
  Impl& s = *impl_;
  if (tl_in_callback == &s) {
    throw Error(Status::kNotSupported,
                "shutdown from a result callback would wait for the callback itself");
  }
  std::vector<Impl::Req*> cancelled;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    {
      // Under in_mu too: a submit appending to the intake sees it, or is in the intake drained
      // here.
      std::lock_guard<std::mutex> l2(s.in_mu);
      s.stopping = true;
    }
    s.drain_intake();
    s.wake_all_locked();  // every instance looks at the queue again: its batches go at once
    if (cancel_queued) {
      auto now = ServeClock::now();
      for (auto& q : s.levels) {
        for (Impl::Req* r : q) {
          s.fail(r, Status::kCancelled, "cancelled: the server shut down before it ran", now);
          cancelled.push_back(r);
        }
        q.clear();
      }
      s.admitted.fetch_sub(s.queued);
      s.pending_items.fetch_sub(s.queued_items);
      s.queued = 0;
      s.queued_items = 0;
    }
  }
  s.notify_all_waiters();
  std::sort(cancelled.begin(), cancelled.end(),
            [](const Impl::Req* a, const Impl::Req* b) { return a->seq < b->seq; });
  s.finish(cancelled.data(), cancelled.size());
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.idle_cv.wait(lock, [&] { return s.outstanding == 0 && s.reserved.load() == 0; });
  }
  // Pollers waiting see the end. Under done_mu: a poller holds it from its check of `stopping`
  // to its wait, so the notification cannot fall between the two.
  std::lock_guard<std::mutex> lock(s.done_mu);
  s.done_cv.notify_all();
}

ServerStats Server::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->drain_intake();  // the requests accepted so far counted
  ServerStats st = impl_->st;
  st.queued = impl_->queued;
  st.in_flight = impl_->in_flight;
  st.staging_bytes = impl_->staging->held();
  return st;
}

int64_t Server::max_batch() const { return impl_->max_batch; }
const ServeBackend& Server::backend() const { return *impl_->backend; }

std::shared_ptr<ServeBackend> model_backend(std::shared_ptr<const Model> model) {
  if (!model) throw Error(Status::kInvalidArgument, "no model");
  return std::make_shared<ModelBackend>(std::move(model));
}

}  // namespace cudago::nn
