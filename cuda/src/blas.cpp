// cuBLAS: per-device handle pools, validation of every dimension against the buffers, and the
// GEMM / GEMV / level-1 calls. See cudago/blas.hpp for the handle and workspace design.
#include "cudago/blas.hpp"

#include <cublas_v2.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/event.hpp"
#include "cudago/graph.hpp"
#include "cudago/library_error.hpp"

namespace cudago {
namespace {

// ---------------------------------------------------------------------------------------------
// Handle pools.
// ---------------------------------------------------------------------------------------------

// Everything a GEMM launch depends on, after validation and the layout mapping. Zero-filled
// before use so that it compares with memcmp. The addresses alone do not identify the buffers
// and the stream (a freed buffer's address is reused): GemmIds does.
struct GemmKey {
  int32_t opx, opy, m, n, k, ldx, ldy, ldc, batch, type, compute, reserved;
  const void* stream;  // the caller's Stream
  const void* x;
  const void* y;
  void* c;
  long long sx, sy, sc;
  double alpha, beta;
};

bool operator==(const GemmKey& a, const GemmKey& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The stream and the buffers (in cuBLAS's operand order x, y, c) of the GEMM being launched.
struct GemmOperands {
  const StreamPtr& stream;
  const std::shared_ptr<StreamUses>& x;
  const std::shared_ptr<StreamUses>& y;
  const std::shared_ptr<StreamUses>& c;
};

// The identities of a cached GEMM's stream and buffers, held weakly: the graph keeps nothing
// alive, and an identity is never reused while a weak reference to it exists (its control
// block stays allocated), so a match is the same stream and the same buffers.
struct GemmIds {
  std::weak_ptr<Stream> stream;
  std::weak_ptr<StreamUses> x, y, c;
};

template <class T>
bool same_owner(const std::weak_ptr<T>& w, const std::shared_ptr<T>& s) noexcept {
  return !w.owner_before(s) && !s.owner_before(w);
}

// Whether `ids` are the operands of this call, all alive (the caller holds them).
bool same(const GemmIds& ids, const GemmOperands& ops) noexcept {
  return same_owner(ids.stream, ops.stream) && same_owner(ids.x, ops.x) &&
         same_owner(ids.y, ops.y) && same_owner(ids.c, ops.c) && !ops.x->released() &&
         !ops.y->released() && !ops.c->released();
}

GemmIds ids_of(const GemmOperands& ops) { return {ops.stream, ops.x, ops.y, ops.c}; }

// A cached graph can never match again once its stream is gone or one of its buffers was
// freed (identities are unique): such an entry is dropped when found.
bool stale(const GemmIds& ids) noexcept {
  if (ids.stream.expired()) return true;
  for (const std::weak_ptr<StreamUses>* w : {&ids.x, &ids.y, &ids.c}) {
    std::shared_ptr<StreamUses> u = w->lock();
    if (u == nullptr || u->released()) return true;
  }
  return false;
}

struct GraphEntry {
  GemmKey key;
  GemmIds ids;
  cudaGraphExec_t exec;
  uint64_t used;  // the device's tick at the last launch, for LRU eviction
};

// The process-wide replay setting (set_gemm_graph_replay). Read without a lock by every GEMM;
// `generation` changes with every setting, and a handle whose graphs were cached under
// another generation drops them (see sync_generation_locked).
struct GraphReplaySetting {
  std::atomic<uint64_t> max_entries{0};  // per device; 0 = off (the default)
  std::atomic<uint64_t> max_macs{0};
  std::atomic<uint64_t> generation{0};
};
GraphReplaySetting g_replay;  // constant-initialised

// One cuBLAS handle with its workspace. Touched only by the thread that has it checked out,
// or, while it is idle (in BlasPool::idle), under the pool's mutex.
struct HandleSlot {
  cublasHandle_t handle = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  // The stream the handle is bound to: held, so that it stays valid (and its address unique)
  // until the handle moves on; at most one stream per handle is kept alive this way.
  StreamPtr last;
  cublasPointerMode_t mode = CUBLAS_POINTER_MODE_HOST;
  // Set after a lease inside a capture (which binds the capture's own workspace): the next
  // lease binds the stream and this workspace again.
  bool rebind = false;
  // Graph replay of small GEMMs (see launch_gemm). The graphs use this handle's workspace, so
  // they are launched only with this handle checked out; they count in BlasPool::graphs.
  std::vector<GraphEntry> graphs;
  GemmKey previous{};  // the last small GEMM launched directly
  GemmIds previous_ids;
  bool has_previous = false;
  bool graphs_failed = false;      // capture failed once: launch directly until the setting changes
  uint64_t generation = 0;         // g_replay.generation the graphs were cached under
  cudaStream_t capture = nullptr;  // private stream that only ever captures
};

struct BlasPool {
  std::mutex mutex;
  std::vector<HandleSlot*> idle;  // checked-in slots; slots are never destroyed
  // Under mutex: the graphs cached by all of this device's slots, reserved ones included (at
  // most g_replay.max_entries, the bound being met when one is added).
  uint64_t graphs = 0;
  std::atomic<uint64_t> tick{0};  // the LRU clock of the device's graphs
};

// The pools once created (one per device), for blas_cache_clear; null before the first BLAS call.
std::atomic<BlasPool*> g_pools{nullptr};

BlasPool& blas_pool(int device) {
  require_device(device);
  // Never destroyed: handles live for the process (unless blas_cache_clear releases them), and
  // must not be torn down after the runtime.
  static BlasPool* pools = [] {
    auto* p = new BlasPool[static_cast<size_t>(device_count())];
    g_pools.store(p, std::memory_order_release);
    return p;
  }();
  return pools[device];
}

// ---- The graph cache's bookkeeping; the pool's mutex is held, and each slot touched is idle
// or checked out by the calling thread. ----

void destroy_exec(cudaGraphExec_t exec) noexcept {
  // An executable graph still in flight is freed when it completes.
  if (cudaGraphExecDestroy(exec) != cudaSuccess) (void)cudaGetLastError();
}

void erase_graph_locked(BlasPool& pool, HandleSlot& sl, size_t i) noexcept {
  RelaxedCaptureMode relaxed;
  destroy_exec(sl.graphs[i].exec);
  sl.graphs.erase(sl.graphs.begin() + static_cast<std::ptrdiff_t>(i));
  --pool.graphs;
}

// Drops every graph of `sl` if they were cached under an earlier setting.
void sync_generation_locked(BlasPool& pool, HandleSlot& sl) noexcept {
  const uint64_t generation = g_replay.generation.load(std::memory_order_acquire);
  if (sl.generation == generation) return;
  sl.generation = generation;
  if (!sl.graphs.empty()) {
    RelaxedCaptureMode relaxed;
    for (const GraphEntry& g : sl.graphs) destroy_exec(g.exec);
    pool.graphs -= sl.graphs.size();
    sl.graphs.clear();
  }
  sl.has_previous = false;
  sl.previous_ids = GemmIds{};
  sl.graphs_failed = false;
}

// Makes room for one more graph on the device, under the bound `max`: drops the stale graphs,
// then the least recently used, of `own` (the caller's slot) and of the idle slots. Graphs of
// slots other threads have checked out are never touched (one may be launching). False when
// the bound cannot be met that way.
bool make_room_locked(BlasPool& pool, HandleSlot& own, uint64_t max) {
  if (pool.graphs < max) return true;
  auto each_slot = [&](auto&& fn) {
    fn(own);
    for (HandleSlot* s : pool.idle) fn(*s);
  };
  each_slot([&](HandleSlot& s) {
    for (size_t i = s.graphs.size(); i-- > 0;) {
      if (stale(s.graphs[i].ids)) erase_graph_locked(pool, s, i);
    }
  });
  while (pool.graphs >= max) {
    HandleSlot* victim = nullptr;
    size_t at = 0;
    each_slot([&](HandleSlot& s) {
      for (size_t i = 0; i < s.graphs.size(); ++i) {
        if (victim == nullptr || s.graphs[i].used < victim->graphs[at].used) {
          victim = &s;
          at = i;
        }
      }
    });
    if (victim == nullptr) return false;
    erase_graph_locked(pool, *victim, at);
  }
  return true;
}

// A place for one graph of `sl` under the device's bound, counted in BlasPool::graphs until it
// is committed (the graph joined sl.graphs) or given back by the destructor.
class GraphReservation {
 public:
  GraphReservation(BlasPool& pool, HandleSlot& sl, uint64_t macs) : pool_(pool) {
    std::lock_guard<std::mutex> lock(pool_.mutex);
    sync_generation_locked(pool_, sl);
    const uint64_t max = g_replay.max_entries.load(std::memory_order_relaxed);
    if (max == 0 || macs > g_replay.max_macs.load(std::memory_order_relaxed)) return;
    if (!make_room_locked(pool_, sl, max)) return;
    ++pool_.graphs;
    held_ = true;
  }
  ~GraphReservation() {
    if (!held_) return;
    std::lock_guard<std::mutex> lock(pool_.mutex);
    --pool_.graphs;
  }
  GraphReservation(const GraphReservation&) = delete;
  GraphReservation& operator=(const GraphReservation&) = delete;

  bool held() const noexcept { return held_; }
  void commit() noexcept { held_ = false; }

 private:
  BlasPool& pool_;
  bool held_ = false;
};

HandleSlot* create_slot(int device) {
  DeviceGuard guard(device);
  RelaxedCaptureMode relaxed;  // set-up outside any capture of this thread
  int major = 0;
  CUDAGO_CUDA_TRY(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  auto slot = std::make_unique<HandleSlot>();
  slot->workspace_bytes = major >= 9 ? size_t{32} << 20 : size_t{4} << 20;
  slot->generation = g_replay.generation.load(std::memory_order_acquire);
  CUDAGO_CUBLAS_TRY(cublasCreate(&slot->handle));
  try {
    CUDAGO_CUBLAS_TRY(cublasSetMathMode(slot->handle, CUBLAS_DEFAULT_MATH));
    CUDAGO_CUBLAS_TRY(cublasSetPointerMode(slot->handle, CUBLAS_POINTER_MODE_HOST));
    PooledStream s(device);
    CUDAGO_CUDA_TRY(cudaMallocFromPoolAsync(&slot->workspace, slot->workspace_bytes,
                                            device_pool(device), s->get()));
    CUDAGO_CUDA_TRY(cudaStreamSynchronize(s->get()));
  } catch (...) {
    (void)cublasDestroy(slot->handle);
    throw;
  }
  return slot.release();
}

// Frees an idle slot: waits for the work last queued with it (its workspace may still be in
// use), then destroys its graphs, capture stream and handle, and gives the workspace back to the
// device's pool in stream order (cudaFreeAsync on the slot's last stream, then a wait), so that
// the pool's use has fallen by it when this returns. The slot is gone either way; the first CUDA
// failure is returned (cudaSuccess when none) for blas_cache_clear to report.
cudaError_t destroy_slot(int device, HandleSlot* slot) noexcept {
  cudaError_t first = cudaSuccess;
  auto note = [&first](cudaError_t e) {
    if (e == cudaSuccess) return;
    (void)cudaGetLastError();
    if (first == cudaSuccess) first = e;
  };
  int previous = -1;
  note(cudaGetDevice(&previous));
  note(cudaSetDevice(device));
  RelaxedCaptureMode relaxed;
  cudaStream_t last = slot->last ? slot->last->get() : cudaStreamPerThread;
  note(cudaStreamSynchronize(last));
  for (const GraphEntry& g : slot->graphs) destroy_exec(g.exec);
  if (slot->capture != nullptr) note(cudaStreamDestroy(slot->capture));
  (void)cublasDestroy(slot->handle);
  if (slot->workspace != nullptr) {
    note(cudaFreeAsync(slot->workspace, last));
    note(cudaStreamSynchronize(last));
  }
  delete slot;
  if (previous >= 0 && previous != device) note(cudaSetDevice(previous));
  return first;
}

// A checked-out handle bound to the caller's stream, its workspace and a pointer mode. The
// destructor checks it back in, after success or failure alike: work queued with the handle is
// ordered by the lazy wait in bind(), so nothing needs recording per call.
class Lease {
 public:
  Lease(const StreamPtr& stream, cublasPointerMode_t mode)
      : pool_(blas_pool(stream->device())),
        stream_(stream),
        capturing_(stream->capture() != nullptr) {
    {
      std::lock_guard<std::mutex> lock(pool_.mutex);
      // Prefer the handle bound to this stream: no cross-stream wait, no rebinding.
      for (size_t i = pool_.idle.size(); i-- > 0;) {
        if (pool_.idle[i]->last.get() == stream.get()) {
          slot_ = pool_.idle[i];
          pool_.idle.erase(pool_.idle.begin() + static_cast<std::ptrdiff_t>(i));
          break;
        }
      }
      if (slot_ == nullptr && !pool_.idle.empty()) {
        slot_ = pool_.idle.back();
        pool_.idle.pop_back();
      }
    }
    if (slot_ == nullptr) {
      // Slow, outside the lock, and outside any capture of this thread.
      const int device = stream->device();
      slot_ = outside_capture([device] { return create_slot(device); });
    }
    try {
      bind(mode);
    } catch (...) {
      checkin();
      throw;
    }
  }

  ~Lease() { checkin(); }

  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  cublasHandle_t get() const noexcept { return slot_->handle; }
  HandleSlot& slot() const noexcept { return *slot_; }
  BlasPool& pool() const noexcept { return pool_; }
  // True when the caller's stream is being captured into a graph.
  bool capturing() const noexcept { return capturing_; }

 private:
  void bind(cublasPointerMode_t mode) {
    if (capturing_) {
      // Inside a capture the graph gets a workspace of its own (an allocation node, freed by a
      // free node after the call), so its replays never share the handle's workspace with work
      // outside the graph, and nothing outside the capture is waited on.
      scratch_ = std::make_unique<StreamScratch>(stream_->device(), slot_->workspace_bytes,
                                                 stream_->get());
      slot_->rebind = true;
      CUDAGO_CUBLAS_TRY(cublasSetStream(slot_->handle, stream_->get()));
      CUDAGO_CUBLAS_TRY(
          cublasSetWorkspace(slot_->handle, scratch_->data(), slot_->workspace_bytes));
    } else if (slot_->last.get() != stream_.get() || slot_->rebind) {
      if (slot_->last && slot_->last.get() != stream_.get()) {
        // The workspace may still be in use by work queued on the previous stream: the new
        // stream waits for everything queued there so far (a superset of the handle's calls).
        stream_wait_stream(*stream_, *slot_->last);
      }
      CUDAGO_CUBLAS_TRY(cublasSetStream(slot_->handle, stream_->get()));
      // cublasSetStream resets the workspace to cuBLAS's own pool: set ours again.
      CUDAGO_CUBLAS_TRY(
          cublasSetWorkspace(slot_->handle, slot_->workspace, slot_->workspace_bytes));
      slot_->last = stream_;
      slot_->rebind = false;
    }
    if (slot_->mode != mode) {
      CUDAGO_CUBLAS_TRY(cublasSetPointerMode(slot_->handle, mode));
      slot_->mode = mode;
    }
  }

  void checkin() noexcept {
    HandleSlot* s = slot_;
    if (s == nullptr) return;
    slot_ = nullptr;
    try {
      std::lock_guard<std::mutex> lock(pool_.mutex);
      // A change of the replay setting while the slot was out: its graphs go now, before it is
      // idle (the change dropped the idle slots' own graphs already).
      sync_generation_locked(pool_, *s);
      pool_.idle.push_back(s);
    } catch (...) {
      // Only std::bad_alloc or a mutex error could get here; the slot is then lost (a leak of
      // one handle, never a double use).
    }
  }

  BlasPool& pool_;
  const StreamPtr& stream_;
  const bool capturing_;
  HandleSlot* slot_ = nullptr;
  std::unique_ptr<StreamScratch> scratch_;  // the capture's workspace
};

// ---------------------------------------------------------------------------------------------
// Validation.
// ---------------------------------------------------------------------------------------------

std::string str(int64_t v) { return std::to_string(v); }

void check_dim(const char* op, const char* name, int64_t v) {
  CUDAGO_EXPECTS(v >= 1, kInvalidArgument,
                 std::string(op) + ": " + name + " = " + str(v) + "; it must be at least 1");
  CUDAGO_EXPECTS(v <= INT_MAX, kInvalidArgument,
                 std::string(op) + ": " + name + " = " + str(v) +
                     " exceeds cuBLAS's 32-bit limit " + str(INT_MAX));
}

uint64_t mul(const char* op, uint64_t a, uint64_t b) {
  uint64_t r = 0;
  CUDAGO_EXPECTS(!__builtin_mul_overflow(a, b, &r), kOutOfRange,
                 std::string(op) + ": the matrix extent overflows 64 bits");
  return r;
}

uint64_t add(const char* op, uint64_t a, uint64_t b) {
  uint64_t r = 0;
  CUDAGO_EXPECTS(!__builtin_add_overflow(a, b, &r), kOutOfRange,
                 std::string(op) + ": the matrix extent overflows 64 bits");
  return r;
}

size_t float_dtype_size(const char* op, DType t, bool half_ok) {
  size_t sz = checked_dtype_size(static_cast<int32_t>(t));
  bool ok =
      t == DType::kF32 || t == DType::kF64 || (half_ok && (t == DType::kF16 || t == DType::kBF16));
  CUDAGO_EXPECTS(ok, kNotSupported,
                 std::string(op) + " has no " + dtype_name(t) + " form (it takes " +
                     (half_ok ? "f32, f64, f16 or bf16" : "f32 or f64") + ")");
  return sz;
}

void check_device(const char* op, const StreamPtr& stream,
                  std::initializer_list<const DeviceBuffer*> bufs) {
  for (const DeviceBuffer* b : bufs) {
    CUDAGO_EXPECTS(b->device() == stream->device(), kDeviceMismatch,
                   std::string(op) + ": a buffer of device " + std::to_string(b->device()) +
                       " with a stream of device " + std::to_string(stream->device()));
  }
}

// The element range [begin, end) a strided object occupies in its buffer.
struct Span {
  uint64_t begin = 0, end = 0;
};

// Checks that `span_elems` elements from `offset` fit in `buf`; returns the byte range.
Span fit(const char* op, const char* name, const DeviceBuffer& buf, uint64_t offset,
         uint64_t span_elems, size_t esz) {
  uint64_t end = add(op, offset, span_elems);
  uint64_t end_bytes = mul(op, end, esz);
  CUDAGO_EXPECTS(end_bytes <= buf.size(), kOutOfRange,
                 std::string(op) + ": " + name + " needs elements [" + std::to_string(offset) +
                     ", " + std::to_string(end) + ") of " + std::to_string(esz) + " bytes (" +
                     std::to_string(end_bytes) + " bytes) but its buffer has " +
                     std::to_string(buf.size()) + " bytes");
  return {offset * esz, end_bytes};
}

void check_disjoint(const char* op, const char* out_name, const DeviceBuffer& out, Span out_span,
                    const char* in_name, const DeviceBuffer& in, Span in_span) {
  if (&out != &in) return;
  bool overlap = out_span.begin < in_span.end && in_span.begin < out_span.end;
  CUDAGO_EXPECTS(!overlap, kInvalidArgument,
                 std::string(op) + ": " + out_name + " overlaps " + in_name +
                     " in the same buffer (cuBLAS does not allow it)");
}

struct Matrix {
  int64_t ld;     // effective leading dimension
  uint64_t span;  // elements from the first to one past the last of one matrix
};

// A matrix stored with `rows` x `cols` (as stored, before any transpose) in `layout`.
Matrix matrix(const char* op, const char* name, const char* ld_name, BlasLayout layout,
              int64_t rows, int64_t cols, int64_t ld) {
  const bool row_major = layout == BlasLayout::kRowMajor;
  const int64_t len = row_major ? cols : rows;    // contiguous run
  const int64_t lines = row_major ? rows : cols;  // number of runs
  if (ld == 0) ld = len;
  CUDAGO_EXPECTS(ld >= len, kInvalidArgument,
                 std::string(op) + ": " + ld_name + " = " + str(ld) + " is less than " + str(len) +
                     ", the " + (row_major ? "row length" : "column length") + " of " + name +
                     " (" + (row_major ? "row-major " : "column-major ") + str(rows) + " x " +
                     str(cols) + ")");
  CUDAGO_EXPECTS(ld <= INT_MAX, kInvalidArgument,
                 std::string(op) + ": " + ld_name + " = " + str(ld) +
                     " exceeds cuBLAS's 32-bit limit " + str(INT_MAX));
  uint64_t span = add(op, mul(op, static_cast<uint64_t>(lines - 1), static_cast<uint64_t>(ld)),
                      static_cast<uint64_t>(len));
  return {ld, span};
}

// Extent of `batch` matrices `stride` apart.
uint64_t batch_span(const char* op, const char* name, Matrix m, int64_t batch, int64_t stride) {
  CUDAGO_EXPECTS(
      stride >= 0, kInvalidArgument,
      std::string(op) + ": stride of " + name + " = " + str(stride) + "; it must not be negative");
  if (batch == 1) return m.span;
  return add(op, mul(op, static_cast<uint64_t>(batch - 1), static_cast<uint64_t>(stride)), m.span);
}

cublasOperation_t to_cublas(BlasOp op) { return op == BlasOp::kT ? CUBLAS_OP_T : CUBLAS_OP_N; }

void check_op(const char* op, const char* name, BlasOp v) {
  CUDAGO_EXPECTS(v == BlasOp::kN || v == BlasOp::kT, kInvalidArgument,
                 std::string(op) + ": " + name + " = " + str(static_cast<int32_t>(v)) +
                     " is not a cudago_blas_op_t");
}

void check_layout(const char* op, BlasLayout v) {
  CUDAGO_EXPECTS(v == BlasLayout::kRowMajor || v == BlasLayout::kColMajor, kInvalidArgument,
                 std::string(op) + ": layout = " + str(static_cast<int32_t>(v)) +
                     " is not a cudago_blas_layout_t");
}

cudaDataType cuda_type(DType t) {
  switch (t) {
    case DType::kF64:
      return CUDA_R_64F;
    case DType::kF16:
      return CUDA_R_16F;
    case DType::kBF16:
      return CUDA_R_16BF;
    default:
      return CUDA_R_32F;
  }
}

// Vector of n elements with increment inc (>= 1; 0 means 1) from `offset`.
Span vector(const char* op, const char* name, const DeviceBuffer& buf, uint64_t offset, int64_t n,
            int64_t& inc, size_t esz) {
  if (inc == 0) inc = 1;
  CUDAGO_EXPECTS(inc >= 1 && inc <= INT_MAX, kInvalidArgument,
                 std::string(op) + ": increment of " + name + " = " + str(inc) +
                     "; it must be in [1, " + str(INT_MAX) + "]");
  uint64_t span = add(op, mul(op, static_cast<uint64_t>(n - 1), static_cast<uint64_t>(inc)), 1);
  return fit(op, name, buf, offset, span, esz);
}

// Launches `key`'s GEMM on `stream` with `lease`'s handle: directly, or, with graph replay on
// (set_gemm_graph_replay) and at most max_macs multiply-adds, by replaying the graph of the
// same GEMM on the same operands captured earlier. `direct(handle)` makes the cuBLAS call.
template <class Direct>
void launch_gemm(Lease& lease, const StreamPtr& stream, const GemmKey& key, const GemmOperands& ops,
                 uint64_t macs, Direct&& direct) {
  HandleSlot& sl = lease.slot();
  // The hot path when replay is off (the default): one relaxed load.
  if (g_replay.max_entries.load(std::memory_order_relaxed) == 0 || lease.capturing() ||
      sl.graphs_failed || macs > g_replay.max_macs.load(std::memory_order_relaxed)) {
    CUDAGO_CUBLAS_TRY(direct(lease.get()));
    return;
  }
  BlasPool& pool = lease.pool();
  const uint64_t tick = pool.tick.fetch_add(1, std::memory_order_relaxed) + 1;
  for (size_t i = 0; i < sl.graphs.size(); ++i) {
    GraphEntry& g = sl.graphs[i];
    if (!(g.key == key)) continue;
    if (same(g.ids, ops)) {
      g.used = tick;
      CUDAGO_CUDA_TRY(cudaGraphLaunch(g.exec, stream->get()));
      return;
    }
    // The same addresses but other buffers or another stream: the entry's were freed (or are
    // another view of the same memory). It can never be replayed: drop it.
    {
      std::lock_guard<std::mutex> lock(pool.mutex);
      erase_graph_locked(pool, sl, i);
    }
    break;
  }
  if (!(sl.has_previous && sl.previous == key && same(sl.previous_ids, ops))) {
    // First sight: launch directly and remember it; capture on the second identical call.
    sl.previous = key;
    sl.previous_ids = ids_of(ops);
    sl.has_previous = true;
    CUDAGO_CUBLAS_TRY(direct(lease.get()));
    return;
  }
  sl.has_previous = false;
  GraphReservation room(pool, sl, macs);
  if (!room.held()) {
    // The setting changed, or the device's bound is met by graphs of handles in use.
    CUDAGO_CUBLAS_TRY(direct(lease.get()));
    return;
  }
  // Capture on the handle's private stream (thread-local mode: other threads are unaffected),
  // then rebind the handle to the caller's stream. The graph uses this handle's workspace, so
  // its launches are ordered like direct calls by the lease's wait.
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  RelaxedCaptureMode relaxed;  // a capture of this thread elsewhere must not forbid ours
  bool ok = sl.capture != nullptr ||
            cudaStreamCreateWithFlags(&sl.capture, cudaStreamNonBlocking) == cudaSuccess;
  ok = ok && cublasSetStream(sl.handle, sl.capture) == CUBLAS_STATUS_SUCCESS &&
       cublasSetWorkspace(sl.handle, sl.workspace, sl.workspace_bytes) == CUBLAS_STATUS_SUCCESS;
  if (ok && cudaStreamBeginCapture(sl.capture, cudaStreamCaptureModeThreadLocal) == cudaSuccess) {
    cublasStatus_t st = direct(sl.handle);
    cudaError_t end = cudaStreamEndCapture(sl.capture, &graph);
    ok = st == CUBLAS_STATUS_SUCCESS && end == cudaSuccess && graph != nullptr &&
         cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess;
  } else {
    ok = false;
  }
  if (graph != nullptr) (void)cudaGraphDestroy(graph);
  (void)cudaGetLastError();  // a failed capture leaves nothing sticky; clear it
  // The executable graph (set only when ok), until it joins the slot's list.
  struct ExecOwner {
    cudaGraphExec_t& e;
    ~ExecOwner() {
      if (e != nullptr) destroy_exec(e);
    }
  } owner{exec};
  CUDAGO_CUBLAS_TRY(cublasSetStream(sl.handle, stream->get()));
  CUDAGO_CUBLAS_TRY(cublasSetWorkspace(sl.handle, sl.workspace, sl.workspace_bytes));
  if (!ok) {
    sl.graphs_failed = true;
    CUDAGO_CUBLAS_TRY(direct(lease.get()));
    return;
  }
  sl.graphs.push_back({key, ids_of(ops), exec, tick});
  exec = nullptr;  // owned by the list now
  room.commit();
  CUDAGO_CUDA_TRY(cudaGraphLaunch(sl.graphs.back().exec, stream->get()));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// GEMM.
// ---------------------------------------------------------------------------------------------

void gemm(const StreamPtr& stream, const GemmParams& p, DeviceBuffer& a, DeviceBuffer& b,
          DeviceBuffer& c) {
  const char* op = "gemm";
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "gemm: stream is NULL");
  check_layout(op, p.layout);
  check_op(op, "trans_a", p.trans_a);
  check_op(op, "trans_b", p.trans_b);
  const size_t esz = float_dtype_size(op, p.dtype, true);
  CUDAGO_EXPECTS(p.compute == BlasCompute::kDefault || p.compute == BlasCompute::kTF32,
                 kInvalidArgument,
                 "gemm: compute = " + str(static_cast<int32_t>(p.compute)) +
                     " is not a cudago_blas_compute_t");
  CUDAGO_EXPECTS(p.compute != BlasCompute::kTF32 || p.dtype == DType::kF32, kInvalidArgument,
                 std::string("gemm: TF32 compute applies to f32 data, not ") + dtype_name(p.dtype));
  check_dim(op, "m", p.m);
  check_dim(op, "n", p.n);
  check_dim(op, "k", p.k);
  const int64_t batch = p.batch == 0 ? 1 : p.batch;
  check_dim(op, "batch", batch);
  check_device(op, stream, {&a, &b, &c});

  const bool ta = p.trans_a == BlasOp::kT, tb = p.trans_b == BlasOp::kT;
  Matrix ma = matrix(op, "A", "lda", p.layout, ta ? p.k : p.m, ta ? p.m : p.k, p.lda);
  Matrix mb = matrix(op, "B", "ldb", p.layout, tb ? p.n : p.k, tb ? p.k : p.n, p.ldb);
  Matrix mc = matrix(op, "C", "ldc", p.layout, p.m, p.n, p.ldc);
  if (batch > 1) {
    CUDAGO_EXPECTS(p.stride_c >= 0 && static_cast<uint64_t>(p.stride_c) >= mc.span,
                   kInvalidArgument,
                   "gemm: stride_c = " + str(p.stride_c) + " makes the " + str(batch) +
                       " C matrices overlap (one spans " + std::to_string(mc.span) + " elements)");
  }
  Span sa = fit(op, "A", a, p.a_offset, batch_span(op, "A", ma, batch, p.stride_a), esz);
  Span sb = fit(op, "B", b, p.b_offset, batch_span(op, "B", mb, batch, p.stride_b), esz);
  Span sc = fit(op, "C", c, p.c_offset, batch_span(op, "C", mc, batch, p.stride_c), esz);
  check_disjoint(op, "C", c, sc, "A", a, sa);
  check_disjoint(op, "C", c, sc, "B", b, sb);

  // Column-major operands for cuBLAS (row-major: C^T = op(B)^T op(A)^T, see blas.hpp).
  const char* pa = static_cast<const char*>(a.data()) + p.a_offset * esz;
  const char* pb = static_cast<const char*>(b.data()) + p.b_offset * esz;
  char* pc = static_cast<char*>(c.data()) + p.c_offset * esz;
  const bool row = p.layout == BlasLayout::kRowMajor;
  const void* x = row ? pb : pa;
  const void* y = row ? pa : pb;
  cublasOperation_t opx = to_cublas(row ? p.trans_b : p.trans_a);
  cublasOperation_t opy = to_cublas(row ? p.trans_a : p.trans_b);
  const int cm = static_cast<int>(row ? p.n : p.m), cn = static_cast<int>(row ? p.m : p.n);
  const int ldx = static_cast<int>(row ? mb.ld : ma.ld),
            ldy = static_cast<int>(row ? ma.ld : mb.ld);
  const long long sx = row ? p.stride_b : p.stride_a, sy = row ? p.stride_a : p.stride_b;

  const cudaDataType t = cuda_type(p.dtype);
  cublasComputeType_t ct = CUBLAS_COMPUTE_32F;
  if (p.dtype == DType::kF64) ct = CUBLAS_COMPUTE_64F;
  if (p.compute == BlasCompute::kTF32) ct = CUBLAS_COMPUTE_32F_FAST_TF32;
  const float alpha_f = static_cast<float>(p.alpha), beta_f = static_cast<float>(p.beta);
  const void* alpha = p.dtype == DType::kF64 ? static_cast<const void*>(&p.alpha) : &alpha_f;
  const void* beta = p.dtype == DType::kF64 ? static_cast<const void*>(&p.beta) : &beta_f;

  const int k = static_cast<int>(p.k), ldc = static_cast<int>(mc.ld);
  auto direct = [&](cublasHandle_t h) {
    if (batch == 1) {
      return cublasGemmEx(h, opx, opy, cm, cn, k, alpha, x, t, ldx, y, t, ldy, beta, pc, t, ldc, ct,
                          CUBLAS_GEMM_DEFAULT);
    }
    return cublasGemmStridedBatchedEx(h, opx, opy, cm, cn, k, alpha, x, t, ldx, sx, y, t, ldy, sy,
                                      beta, pc, t, ldc, p.stride_c, static_cast<int>(batch), ct,
                                      CUBLAS_GEMM_DEFAULT);
  };
  GemmKey key;
  std::memset(&key, 0, sizeof key);
  key.stream = stream.get();
  key.opx = opx;
  key.opy = opy;
  key.m = cm;
  key.n = cn;
  key.k = k;
  key.ldx = ldx;
  key.ldy = ldy;
  key.ldc = ldc;
  key.batch = static_cast<int32_t>(batch);
  key.type = t;
  key.compute = ct;
  key.x = x;
  key.y = y;
  key.c = pc;
  key.sx = batch > 1 ? sx : 0;
  key.sy = batch > 1 ? sy : 0;
  key.sc = batch > 1 ? p.stride_c : 0;
  key.alpha = p.alpha;
  key.beta = p.beta;
  // Multiply-adds, saturated at UINT64_MAX.
  uint64_t macs = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(p.m), static_cast<uint64_t>(p.n), &macs) ||
      __builtin_mul_overflow(macs, static_cast<uint64_t>(p.k), &macs) ||
      __builtin_mul_overflow(macs, static_cast<uint64_t>(batch), &macs)) {
    macs = UINT64_MAX;
  }
  const GemmOperands ops{stream, (row ? b : a).uses(), (row ? a : b).uses(), c.uses()};

  DeviceGuard guard(stream->device());
  Lease lease(stream, CUBLAS_POINTER_MODE_HOST);
  launch_gemm(lease, stream, key, ops, macs, direct);
  a.used_on(stream);
  b.used_on(stream);
  c.used_on(stream);
}

void set_gemm_graph_replay(uint64_t max_entries, uint64_t max_macs) {
  CUDAGO_EXPECTS(max_macs <= kGraphReplayMaxMacsLimit, kInvalidArgument,
                 "set_gemm_graph_replay: max_macs = " + std::to_string(max_macs) +
                     " exceeds 2^40 = " + std::to_string(kGraphReplayMaxMacsLimit));
  static std::mutex setting;  // one change at a time: the two values are set together
  std::lock_guard<std::mutex> lock(setting);
  g_replay.max_macs.store(max_macs, std::memory_order_relaxed);
  g_replay.max_entries.store(max_entries, std::memory_order_relaxed);
  g_replay.generation.fetch_add(1, std::memory_order_acq_rel);
  // Drop the graphs cached so far: now for idle slots (nobody can launch them while the pool's
  // mutex is held), at check-in for the slots other threads have out (Lease::checkin).
  for (int d = 0; d < device_count(); ++d) {
    BlasPool& pool = blas_pool(d);
    std::lock_guard<std::mutex> pool_lock(pool.mutex);
    std::optional<DeviceGuard> device;  // only to destroy graphs: no context is created
    if (pool.graphs > 0) device.emplace(d);
    for (HandleSlot* s : pool.idle) sync_generation_locked(pool, *s);
  }
}

void blas_cache_clear() {
  BlasPool* pools = g_pools.load(std::memory_order_acquire);
  if (pools == nullptr) return;  // no BLAS call yet: nothing was created
  cudaError_t failure = cudaSuccess;
  for (int d = 0; d < device_count(); ++d) {
    BlasPool& pool = pools[d];
    std::vector<HandleSlot*> slots;
    {
      std::lock_guard<std::mutex> lock(pool.mutex);
      slots.swap(pool.idle);
      for (HandleSlot* s : slots) pool.graphs -= s->graphs.size();
    }
    // Outside the lock: each destroy waits for the slot's last stream.
    for (HandleSlot* s : slots) {
      const cudaError_t e = destroy_slot(d, s);
      if (e != cudaSuccess && failure == cudaSuccess) failure = e;
    }
  }
  // Every idle slot is gone; a failure on the way (a fault left by earlier work, say) is still
  // the caller's to know.
  if (failure != cudaSuccess) {
    detail::throw_cuda_error(failure, "blas_cache_clear: releasing a cuBLAS handle", __FILE__,
                             __LINE__);
  }
}

// ---------------------------------------------------------------------------------------------
// GEMV.
// ---------------------------------------------------------------------------------------------

void gemv(const StreamPtr& stream, const GemvParams& p, DeviceBuffer& a, DeviceBuffer& x,
          DeviceBuffer& y) {
  const char* op = "gemv";
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "gemv: stream is NULL");
  check_layout(op, p.layout);
  check_op(op, "trans", p.trans);
  const size_t esz = float_dtype_size(op, p.dtype, false);
  check_dim(op, "m", p.m);
  check_dim(op, "n", p.n);
  check_device(op, stream, {&a, &x, &y});
  const bool t = p.trans == BlasOp::kT;
  Matrix ma = matrix(op, "A", "lda", p.layout, p.m, p.n, p.lda);
  Span sa = fit(op, "A", a, p.a_offset, ma.span, esz);
  int64_t incx = p.incx, incy = p.incy;
  Span sx = vector(op, "x", x, p.x_offset, t ? p.m : p.n, incx, esz);
  Span sy = vector(op, "y", y, p.y_offset, t ? p.n : p.m, incy, esz);
  check_disjoint(op, "y", y, sy, "A", a, sa);
  check_disjoint(op, "y", y, sy, "x", x, sx);

  // Row-major A (m x n) is the column-major n x m matrix A^T: flip the op and swap m, n.
  const bool row = p.layout == BlasLayout::kRowMajor;
  const cublasOperation_t cop = (row != t) ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int cm = static_cast<int>(row ? p.n : p.m), cn = static_cast<int>(row ? p.m : p.n);
  const char* pa = static_cast<const char*>(a.data()) + p.a_offset * esz;
  const char* px = static_cast<const char*>(x.data()) + p.x_offset * esz;
  char* py = static_cast<char*>(y.data()) + p.y_offset * esz;

  DeviceGuard guard(stream->device());
  Lease lease(stream, CUBLAS_POINTER_MODE_HOST);
  if (p.dtype == DType::kF64) {
    CUDAGO_CUBLAS_TRY(cublasDgemv(lease.get(), cop, cm, cn, &p.alpha,
                                  reinterpret_cast<const double*>(pa), static_cast<int>(ma.ld),
                                  reinterpret_cast<const double*>(px), static_cast<int>(incx),
                                  &p.beta, reinterpret_cast<double*>(py), static_cast<int>(incy)));
  } else {
    const float alpha = static_cast<float>(p.alpha), beta = static_cast<float>(p.beta);
    CUDAGO_CUBLAS_TRY(cublasSgemv(lease.get(), cop, cm, cn, &alpha,
                                  reinterpret_cast<const float*>(pa), static_cast<int>(ma.ld),
                                  reinterpret_cast<const float*>(px), static_cast<int>(incx), &beta,
                                  reinterpret_cast<float*>(py), static_cast<int>(incy)));
  }
  a.used_on(stream);
  x.used_on(stream);
  y.used_on(stream);
}

// ---------------------------------------------------------------------------------------------
// Level 1.
// ---------------------------------------------------------------------------------------------

void axpy(const StreamPtr& stream, DType dtype, int64_t n, double alpha, DeviceBuffer& x,
          uint64_t x_offset, int64_t incx, DeviceBuffer& y, uint64_t y_offset, int64_t incy) {
  const char* op = "axpy";
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "axpy: stream is NULL");
  const size_t esz = float_dtype_size(op, dtype, false);
  check_dim(op, "n", n);
  check_device(op, stream, {&x, &y});
  Span sx = vector(op, "x", x, x_offset, n, incx, esz);
  Span sy = vector(op, "y", y, y_offset, n, incy, esz);
  // y = a*x + y element by element is fine in place (same elements); any other overlap is not.
  if (!(&x == &y && x_offset == y_offset && incx == incy)) {
    check_disjoint(op, "y", y, sy, "x", x, sx);
  }
  const char* px = static_cast<const char*>(x.data()) + x_offset * esz;
  char* py = static_cast<char*>(y.data()) + y_offset * esz;
  DeviceGuard guard(stream->device());
  Lease lease(stream, CUBLAS_POINTER_MODE_HOST);
  if (dtype == DType::kF64) {
    CUDAGO_CUBLAS_TRY(cublasDaxpy(lease.get(), static_cast<int>(n), &alpha,
                                  reinterpret_cast<const double*>(px), static_cast<int>(incx),
                                  reinterpret_cast<double*>(py), static_cast<int>(incy)));
  } else {
    const float a = static_cast<float>(alpha);
    CUDAGO_CUBLAS_TRY(cublasSaxpy(lease.get(), static_cast<int>(n), &a,
                                  reinterpret_cast<const float*>(px), static_cast<int>(incx),
                                  reinterpret_cast<float*>(py), static_cast<int>(incy)));
  }
  x.used_on(stream);
  y.used_on(stream);
}

void scal(const StreamPtr& stream, DType dtype, int64_t n, double alpha, DeviceBuffer& x,
          uint64_t x_offset, int64_t incx) {
  const char* op = "scal";
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "scal: stream is NULL");
  const size_t esz = float_dtype_size(op, dtype, false);
  check_dim(op, "n", n);
  check_device(op, stream, {&x});
  vector(op, "x", x, x_offset, n, incx, esz);
  char* px = static_cast<char*>(x.data()) + x_offset * esz;
  DeviceGuard guard(stream->device());
  Lease lease(stream, CUBLAS_POINTER_MODE_HOST);
  if (dtype == DType::kF64) {
    CUDAGO_CUBLAS_TRY(cublasDscal(lease.get(), static_cast<int>(n), &alpha,
                                  reinterpret_cast<double*>(px), static_cast<int>(incx)));
  } else {
    const float a = static_cast<float>(alpha);
    CUDAGO_CUBLAS_TRY(cublasSscal(lease.get(), static_cast<int>(n), &a,
                                  reinterpret_cast<float*>(px), static_cast<int>(incx)));
  }
  x.used_on(stream);
}

void dot(const StreamPtr& stream, DType dtype, int64_t n, DeviceBuffer& x, uint64_t x_offset,
         int64_t incx, DeviceBuffer& y, uint64_t y_offset, int64_t incy, DeviceBuffer& result,
         uint64_t result_offset) {
  const char* op = "dot";
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "dot: stream is NULL");
  const size_t esz = float_dtype_size(op, dtype, false);
  check_dim(op, "n", n);
  check_device(op, stream, {&x, &y, &result});
  Span sx = vector(op, "x", x, x_offset, n, incx, esz);
  Span sy = vector(op, "y", y, y_offset, n, incy, esz);
  Span sr = fit(op, "result", result, result_offset, 1, esz);
  check_disjoint(op, "result", result, sr, "x", x, sx);
  check_disjoint(op, "result", result, sr, "y", y, sy);
  const char* px = static_cast<const char*>(x.data()) + x_offset * esz;
  const char* py = static_cast<const char*>(y.data()) + y_offset * esz;
  char* pr = static_cast<char*>(result.data()) + result_offset * esz;
  DeviceGuard guard(stream->device());
  Lease lease(stream, CUBLAS_POINTER_MODE_DEVICE);
  if (dtype == DType::kF64) {
    CUDAGO_CUBLAS_TRY(cublasDdot(lease.get(), static_cast<int>(n),
                                 reinterpret_cast<const double*>(px), static_cast<int>(incx),
                                 reinterpret_cast<const double*>(py), static_cast<int>(incy),
                                 reinterpret_cast<double*>(pr)));
  } else {
    CUDAGO_CUBLAS_TRY(cublasSdot(lease.get(), static_cast<int>(n),
                                 reinterpret_cast<const float*>(px), static_cast<int>(incx),
                                 reinterpret_cast<const float*>(py), static_cast<int>(incy),
                                 reinterpret_cast<float*>(pr)));
  }
  x.used_on(stream);
  y.used_on(stream);
  result.used_on(stream);
}

void nrm2(const StreamPtr& stream, DType dtype, int64_t n, DeviceBuffer& x, uint64_t x_offset,
          int64_t incx, DeviceBuffer& result, uint64_t result_offset) {
  const char* op = "nrm2";
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, "nrm2: stream is NULL");
  const size_t esz = float_dtype_size(op, dtype, false);
  check_dim(op, "n", n);
  check_device(op, stream, {&x, &result});
  Span sx = vector(op, "x", x, x_offset, n, incx, esz);
  Span sr = fit(op, "result", result, result_offset, 1, esz);
  check_disjoint(op, "result", result, sr, "x", x, sx);
  const char* px = static_cast<const char*>(x.data()) + x_offset * esz;
  char* pr = static_cast<char*>(result.data()) + result_offset * esz;
  DeviceGuard guard(stream->device());
  Lease lease(stream, CUBLAS_POINTER_MODE_DEVICE);
  if (dtype == DType::kF64) {
    CUDAGO_CUBLAS_TRY(cublasDnrm2(lease.get(), static_cast<int>(n),
                                  reinterpret_cast<const double*>(px), static_cast<int>(incx),
                                  reinterpret_cast<double*>(pr)));
  } else {
    CUDAGO_CUBLAS_TRY(cublasSnrm2(lease.get(), static_cast<int>(n),
                                  reinterpret_cast<const float*>(px), static_cast<int>(incx),
                                  reinterpret_cast<float*>(pr)));
  }
  x.used_on(stream);
  result.used_on(stream);
}

}  // namespace cudago
