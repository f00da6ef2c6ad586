// NCCL collectives behind cudago: communicators over the GPUs of a process (ncclCommInitAll) or
// over processes (a unique id and ncclCommInitRank), and all-reduce, broadcast, reduce,
// all-gather and reduce-scatter queued on a cudago stream.
//
// Loading: NCCL is opened at run time with dlopen, never linked, so libcudago loads on machines
// without it. The library is $CUDAGO_NCCL_LIBRARY when that is set, else "libnccl.so.2" from the
// loader's path; it is opened once per process, on the first NCCL call (thread-safe), and never
// closed. Where it cannot be opened, or lacks a function cudago needs, every NCCL call throws
// Error(kNccl) whose message names the library and gives dlerror's reason. nccl.h is used for
// its types only.
//
// Errors: an ncclResult_t maps to a Status (invalid argument or usage -> kInvalidArgument, an
// unhandled CUDA error -> kCuda, system, internal and remote errors -> kNccl) with the result as
// native code and its enumerator name ("ncclInvalidUsage") as native name.
//
// Groups: a thread that drives several communicators of one clique (several GPUs of this
// process) must bracket the calls for the different communicators between group_start() and
// group_end(); without a group the first call can wait forever for its peers. NCCL keeps the
// group state per OS thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cudago/dtype.hpp"
#include "cudago/error.hpp"
#include "cudago/memory.hpp"
#include "cudago/stream.hpp"

struct ncclComm;  // NCCL's opaque communicator (ncclComm_t is struct ncclComm*)

namespace cudago {

// Values of cudago_nccl_op_t.
enum class NcclOp : int32_t { kSum = 0, kProd = 1, kMin = 2, kMax = 3, kAvg = 4 };

constexpr size_t kNcclUniqueIdBytes = 128;
struct NcclUniqueId {
  char bytes[kNcclUniqueIdBytes];
};

// NCCL's version code (e.g. 22803 for 2.28.3); loads NCCL. Throws Error(kNccl) when NCCL cannot
// be loaded.
int nccl_version();

// A new unique id for init_rank (ncclGetUniqueId): made by one process, sent to the others.
NcclUniqueId nccl_unique_id();

class Comm {
 public:
  // One communicator per device, ranks in the order of `devices` (distinct, valid ordinals).
  static std::vector<std::unique_ptr<Comm>> init_all(const std::vector<int>& devices);
  // Rank `rank` of `nranks` on `device`; blocks until every rank has joined, within `limits`
  // (a bounded wait creates the communicator in NCCL's non-blocking mode and aborts it when it
  // gives up).
  static std::unique_ptr<Comm> init_rank(int device, int nranks, const NcclUniqueId& id, int rank,
                                         const WaitLimits& limits = {});

  ~Comm();  // destroy(), errors ignored
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  // ncclCommDestroy (ncclCommAbort when the communicator holds an asynchronous error).
  void destroy();
  // Throws the communicator's asynchronous error, if any (ncclCommGetAsyncError).
  void check_async(const char* op) const;
  // Waits for the work queued on `stream`, within `limits`, watching the communicator: on its
  // asynchronous failure, the deadline or the cancel flag, aborts it (ncclCommAbort ends its
  // collectives) and throws. An aborted communicator refuses every call but destroy.
  void wait(const StreamPtr& stream, const WaitLimits& limits);
  // Waits until a non-blocking communicator's last call has been issued (ncclInProgress is
  // over); throws its error, if any. A no-op for a blocking communicator.
  void settle(const char* op) const;

  int device() const noexcept { return device_; }
  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  // The NCCL communicator; Error(kInvalidHandle) once it was aborted.
  ncclComm* get() const;

 private:
  Comm(ncclComm* comm, int device, int rank, int size, bool nonblocking)
      : comm_(comm), device_(device), rank_(rank), size_(size), nonblocking_(nonblocking) {}
  static std::unique_ptr<Comm> wrap(ncclComm* comm, int device, bool nonblocking);
  void abort() noexcept;
  ncclComm* comm_;
  int device_, rank_, size_;
  bool nonblocking_;
  bool aborted_ = false;
};

// Collectives, queued on `stream` (which must belong to the communicator's device, like both
// buffers). Element types f32, f64, f16, bf16, i32; offsets and counts are in elements; count
// >= 1. send and recv may be the same buffer only in place (see cudago.h); other overlaps are
// refused. Each call records the buffers' use on the stream and reports an asynchronous error
// of the communicator.
void all_reduce(Comm& comm, const StreamPtr& stream, DType dtype, NcclOp op, DeviceBuffer& send,
                uint64_t send_offset, DeviceBuffer& recv, uint64_t recv_offset, int64_t count);
void broadcast(Comm& comm, const StreamPtr& stream, DType dtype, DeviceBuffer& send,
               uint64_t send_offset, DeviceBuffer& recv, uint64_t recv_offset, int64_t count,
               int root);
void reduce(Comm& comm, const StreamPtr& stream, DType dtype, NcclOp op, DeviceBuffer& send,
            uint64_t send_offset, DeviceBuffer& recv, uint64_t recv_offset, int64_t count,
            int root);
// recv receives size() * count elements: rank r's count elements at recv_offset + r * count.
void all_gather(Comm& comm, const StreamPtr& stream, DType dtype, DeviceBuffer& send,
                uint64_t send_offset, DeviceBuffer& recv, uint64_t recv_offset, int64_t count);
// send holds size() * count elements; rank r receives the reduction of slice r.
void reduce_scatter(Comm& comm, const StreamPtr& stream, DType dtype, NcclOp op, DeviceBuffer& send,
                    uint64_t send_offset, DeviceBuffer& recv, uint64_t recv_offset, int64_t count);

void nccl_group_start();
void nccl_group_end();

// The enumerator name of an ncclResult_t value ("ncclSystemError"), "ncclResult(n)" otherwise.
std::string nccl_result_name(int result);
// The Status an ncclResult_t value maps to.
Status status_from_nccl(int result) noexcept;

}  // namespace cudago
