// The dynamic batcher and request queue of a served model: requests (one or a few batch items
// each) queue by priority, form batches under Triton's knobs (max batch, queue delay, preferred
// sizes, deadlines), and run on execution instances (N per GPU, a stream each, or CPU workers
// on the reference executor). Results are delivered through a callback or a completion queue;
// nothing here calls into the caller's runtime except that callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cudago/error.hpp"
#include "cudago/nn/model.hpp"

namespace cudago::nn {

using ServeClock = std::chrono::steady_clock;

// Why a batch was closed and sent.
enum class CloseReason : int32_t {
  kNone = 0,       // the request never ran (rejected in the queue, cancelled)
  kFull = 1,       // max batch reached, or the next request would not fit
  kPreferred = 2,  // a preferred batch size was formed
  kDelay = 3,      // the oldest request waited max_queue_delay (or the delay is 0)
  kDeadline = 4,   // a member's deadline would pass if the batch waited longer
  kShutdown = 5,   // the server is draining
};

enum class MemoryKind : int32_t {
  kHost = 0,    // inputs: copied into staging at submit; outputs: in the request's staging
  kPinned = 1,  // page-locked host memory the caller keeps valid until the result
  kDevice = 2,  // device memory the caller keeps valid until the result
};

// One input of a request, or one output destination.
struct RequestTensor {
  ElemType type = ElemType::kF32;
  std::vector<int64_t> dims;  // the request's shape, its batch dimension included
  MemoryKind kind = MemoryKind::kHost;
  const void* data = nullptr;  // host or device pointer (outputs: written)
  uint64_t bytes = 0;
  std::shared_ptr<const void> keep;  // keeps a pinned or device buffer alive until the result
};

struct RequestOptions {
  uint64_t tag = 0;        // the caller's, returned in the result
  int32_t priority = 0;    // 1 (highest) to priority_levels; 0: the server's default
  int64_t timeout_ns = 0;  // 0: the server's default timeout (which may be none)
};

struct ServerOptions {
  int64_t max_batch = 0;  // 0: the model's max batch
  int64_t max_queue_delay_ns = 0;
  std::vector<int64_t> preferred;  // preferred batch sizes
  int64_t max_queue_size = 0;      // queued requests; 0: kDefaultQueueSize
  int32_t priority_levels = 0;     // 0 or 1: one level
  int32_t default_priority = 0;    // 0: the lowest level
  int64_t default_timeout_ns = 0;  // 0: none
  bool preserve_ordering = false;
  // false (the default): a device's instances compute one batch at a time, in the order their
  // runs were enqueued, while the others copy (their copies overlap that compute); true: their
  // runs go to the GPU side by side.
  bool concurrent_compute = false;
  // The batch sizes whose graphs each GPU instance captures at create: false, the preferred
  // sizes and max_batch (any other at its first batch); true, every size from 1 to max_batch.
  bool capture_all_sizes = false;
  int64_t max_staging_bytes = 0;     // 0: kDefaultStagingBytes
  std::vector<int32_t> devices;      // empty: the model's device
  int32_t instances_per_device = 0;  // 0: 2 on a GPU, 1 on the reference executor
  std::string name;                  // the model's name in metrics (the "model" label); "": "model"
  static constexpr int64_t kDefaultQueueSize = 1024;
  static constexpr int64_t kDefaultStagingBytes = int64_t{1} << 30;
};

// The result of one request.
struct ServeResult {
  uint64_t id = 0, tag = 0;
  Status status = Status::kSuccess;
  std::string message;
  CloseReason reason = CloseReason::kNone;
  int32_t device = -1, instance = -1;
  int64_t items = 0, batch_items = 0, batch_requests = 0;
  int64_t queue_ns = 0, h2d_ns = 0, compute_ns = 0, d2h_ns = 0, total_ns = 0;
  std::vector<const void*> outputs;  // each output: in staging, or the caller's destination
  std::vector<uint64_t> output_bytes;
};

struct ServerStats {
  int64_t submitted = 0;  // accepted requests
  int64_t rejected = 0;   // refused at submit (bad request, queue full, shut down)
  int64_t rejected_invalid = 0, rejected_queue_full = 0, rejected_unavailable = 0;
  int64_t completed = 0;  // delivered results, successful or not
  int64_t succeeded = 0, failed = 0, timed_out = 0, cancelled = 0;
  int64_t queued = 0;                   // waiting in the queue now
  int64_t in_flight = 0;                // in a running batch now
  int64_t batches = 0, inferences = 0;  // batches run and the items in them
  int64_t closed_full = 0, closed_preferred = 0, closed_delay = 0, closed_deadline = 0,
          closed_shutdown = 0;
  int64_t staging_bytes = 0;             // staging memory held (pinned on a GPU)
  std::vector<int64_t> batch_histogram;  // [b]: batches of b items, 0 ≤ b ≤ max batch
};

// What a server runs: a model's inputs and outputs and the instances that execute batches.
// Server::create wraps an nn::Model in one; tests give their own to control timing.
class ServeBackend {
 public:
  struct Spec {
    std::string name;
    ElemType type = ElemType::kF32;
    std::vector<int64_t> item_dims;  // the shape of one batch item (batch axis removed)
    int batch_axis = 0;              // where the batch count goes in a request's dims; -1: none
    int64_t item_bytes = 0;
  };
  // A batch as an instance sees it: requests' inputs (host, pinned or device memory), their
  // item counts, and where each output goes.
  struct Batch {
    struct Item {
      int64_t items = 0;
      std::vector<MemoryKind> in_kind, out_kind;
      std::vector<const void*> in;
      std::vector<void*> out;
      std::vector<uint64_t> in_bytes, out_bytes;
    };
    std::vector<const Item*> requests;  // the server's, valid during execute
    int64_t items = 0;
    // Filled by the instance.
    int64_t h2d_ns = 0, compute_ns = 0, d2h_ns = 0;
  };
  class Instance {
   public:
    virtual ~Instance() = default;
    // Runs a batch synchronously; throws Error on failure (every request of it fails).
    virtual void execute(Batch& b) = 0;
  };

  virtual ~ServeBackend() = default;
  virtual const std::vector<Spec>& inputs() const = 0;
  virtual const std::vector<Spec>& outputs() const = 0;
  virtual int64_t max_batch() const = 0;
  virtual bool gpu() const = 0;        // staging is pinned; device inputs and outputs allowed
  virtual int32_t device() const = 0;  // the default device (-1 on the CPU)
  // Shapes a request may have beyond the specs' item_dims (a test backend's "mixed shapes"):
  // true when `item_dims` (one per input) may run. Requests batch together only when their
  // item dims are equal.
  virtual bool accepts(const std::vector<std::vector<int64_t>>& item_dims) const;
  // An execution instance on `device` (-1: the CPU), the index-th there; o: the server's options
  // (concurrent_compute and the like).
  virtual std::unique_ptr<Instance> make_instance(int32_t device, int32_t index, int64_t max_batch,
                                                  const ServerOptions& o) = 0;
};

// A backend over a loaded model (kept alive by the backend).
std::shared_ptr<ServeBackend> model_backend(std::shared_ptr<const Model> model);

class Server {
 public:
  using Callback = std::function<void(const ServeResult&)>;

  // Starts a server: validates the options against the backend, creates the instances (their
  // streams and buffers) and the scheduler threads. With a callback, results are delivered by
  // calling it on a server thread (concurrently from several, unless preserve_ordering); the
  // outputs it points to are valid until it returns. Without, they queue for poll().
  static std::unique_ptr<Server> create(std::shared_ptr<ServeBackend> backend,
                                        const ServerOptions& o, Callback cb);
  ~Server();  // shutdown(false), then frees everything, unreleased results included
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Accepts a request and returns its id, or throws Error: kInvalidArgument (a bad request:
  // nothing queued), kQueueFull (the queue or the staging memory is full), kUnavailable (shut
  // down). HOST inputs are copied before it returns. outputs: empty (every output in staging)
  // or one per model output (kHost with data NULL: in staging).
  uint64_t submit(const std::vector<RequestTensor>& inputs,
                  const std::vector<RequestTensor>& outputs, const RequestOptions& ro);

  // Cancels a queued request (its result, kCancelled, is delivered as any other): true when it
  // was still queued; false when it runs or ran, or the id is not one of this server's.
  bool cancel(uint64_t id);

  // Queue mode: releases the results whose ids are in `release` (delivered earlier by poll),
  // then waits up to timeout_ns (negative: no limit) for results and moves up to `cap` of them
  // into out. Returns how many; throws kUnavailable when the server is shut down and every
  // result has been polled; kNotSupported for a server with a callback.
  size_t poll(const uint64_t* release, size_t num_release, int64_t timeout_ns,
              const ServeResult** out, size_t cap);

  // Stops intake; with cancel_queued the queued requests fail with kCancelled, otherwise they
  // run. Returns when every accepted request's result is delivered (queued for poll, or the
  // callback returned). Safe to call more than once and from several threads.
  void shutdown(bool cancel_queued);

  ServerStats stats() const;
  int64_t max_batch() const;
  const ServeBackend& backend() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

const char* close_reason_name(CloseReason r) noexcept;

}  // namespace cudago::nn
