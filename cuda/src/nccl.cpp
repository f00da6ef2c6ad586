// NCCL through dlopen: the loader, the result mapping, communicators and collectives. See
// cudago/nccl.hpp.
#include "cudago/nccl.hpp"

#include <dlfcn.h>
#include <nccl.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cudago/device.hpp"
#include "cudago/error.hpp"

static_assert(sizeof(cudago::NcclUniqueId) == sizeof(ncclUniqueId),
              "NcclUniqueId must have the size of ncclUniqueId");

namespace cudago {
namespace {

// The NCCL functions cudago calls, resolved from the loaded library.
struct NcclApi {
  ncclResult_t (*GetVersion)(int*);
  ncclResult_t (*GetUniqueId)(ncclUniqueId*);
  ncclResult_t (*CommInitRank)(ncclComm_t*, int, ncclUniqueId, int);
  ncclResult_t (*CommInitRankConfig)(ncclComm_t*, int, ncclUniqueId, int, ncclConfig_t*);
  ncclResult_t (*CommInitAll)(ncclComm_t*, int, const int*);
  ncclResult_t (*CommDestroy)(ncclComm_t);
  ncclResult_t (*CommAbort)(ncclComm_t);
  ncclResult_t (*CommGetAsyncError)(ncclComm_t, ncclResult_t*);
  ncclResult_t (*CommCount)(const ncclComm_t, int*);
  ncclResult_t (*CommCuDevice)(const ncclComm_t, int*);
  ncclResult_t (*CommUserRank)(const ncclComm_t, int*);
  ncclResult_t (*AllReduce)(const void*, void*, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t,
                            cudaStream_t);
  ncclResult_t (*Broadcast)(const void*, void*, size_t, ncclDataType_t, int, ncclComm_t,
                            cudaStream_t);
  ncclResult_t (*Reduce)(const void*, void*, size_t, ncclDataType_t, ncclRedOp_t, int, ncclComm_t,
                         cudaStream_t);
  ncclResult_t (*AllGather)(const void*, void*, size_t, ncclDataType_t, ncclComm_t, cudaStream_t);
  ncclResult_t (*ReduceScatter)(const void*, void*, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t,
                                cudaStream_t);
  ncclResult_t (*GroupStart)();
  ncclResult_t (*GroupEnd)();
  const char* (*GetErrorString)(ncclResult_t);
};

struct Loaded {
  NcclApi api{};
  std::string error;  // empty when loaded
};

template <class F>
bool resolve(void* lib, const char* name, F& fn, std::string& error, const std::string& path) {
  void* sym = dlsym(lib, name);
  if (sym == nullptr) {
    const char* why = dlerror();
    error = "NCCL library \"" + path + "\" lacks " + name + " (" + (why ? why : "not found") +
            "); cudago needs NCCL 2.12 or newer";
    return false;
  }
  static_assert(sizeof(fn) == sizeof(sym), "function and object pointers differ in size");
  std::memcpy(&fn, &sym, sizeof fn);
  return true;
}

Loaded load() {
  Loaded l;
  const char* env = std::getenv("CUDAGO_NCCL_LIBRARY");
  const std::string path = env != nullptr && env[0] != '\0' ? env : "libnccl.so.2";
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    l.error = "NCCL could not be loaded: dlopen(\"" + path +
              "\") failed: " + (why ? why : "unknown reason") +
              (env != nullptr && env[0] != '\0'
                   ? " (the path comes from CUDAGO_NCCL_LIBRARY)"
                   : "; install NCCL (libnccl2) or set CUDAGO_NCCL_LIBRARY to its path");
    return l;
  }
  NcclApi& a = l.api;
  std::string& e = l.error;
  bool ok = resolve(lib, "ncclGetVersion", a.GetVersion, e, path) &&
            resolve(lib, "ncclGetUniqueId", a.GetUniqueId, e, path) &&
            resolve(lib, "ncclCommInitRank", a.CommInitRank, e, path) &&
            resolve(lib, "ncclCommInitRankConfig", a.CommInitRankConfig, e, path) &&
            resolve(lib, "ncclCommInitAll", a.CommInitAll, e, path) &&
            resolve(lib, "ncclCommDestroy", a.CommDestroy, e, path) &&
            resolve(lib, "ncclCommAbort", a.CommAbort, e, path) &&
            resolve(lib, "ncclCommGetAsyncError", a.CommGetAsyncError, e, path) &&
            resolve(lib, "ncclCommCount", a.CommCount, e, path) &&
            resolve(lib, "ncclCommCuDevice", a.CommCuDevice, e, path) &&
            resolve(lib, "ncclCommUserRank", a.CommUserRank, e, path) &&
            resolve(lib, "ncclAllReduce", a.AllReduce, e, path) &&
            resolve(lib, "ncclBroadcast", a.Broadcast, e, path) &&
            resolve(lib, "ncclReduce", a.Reduce, e, path) &&
            resolve(lib, "ncclAllGather", a.AllGather, e, path) &&
            resolve(lib, "ncclReduceScatter", a.ReduceScatter, e, path) &&
            resolve(lib, "ncclGroupStart", a.GroupStart, e, path) &&
            resolve(lib, "ncclGroupEnd", a.GroupEnd, e, path) &&
            resolve(lib, "ncclGetErrorString", a.GetErrorString, e, path);
  if (!ok) {
    // Keep the library open: it is harmless, and closing could run its destructors for nothing.
    l.api = NcclApi{};
  }
  return l;
}

// The loaded API; throws Error(kNccl) with the reason where NCCL is unavailable.
const NcclApi& nccl() {
  static const Loaded loaded = load();  // once per process, thread-safe
  if (!loaded.error.empty()) throw Error(Status::kNccl, loaded.error);
  return loaded.api;
}

std::string where(const char* file, int line) {
  std::string f(file);
  auto slash = f.find_last_of('/');
  if (slash != std::string::npos) f = f.substr(slash + 1);
  return f + ":" + std::to_string(line);
}

[[noreturn]] void throw_nccl(ncclResult_t r, const char* call, const char* file, int line) {
  const char* text = nullptr;
  try {
    text = nccl().GetErrorString(r);
  } catch (...) {
  }
  throw Error(status_from_nccl(r),
              std::string(call) + " failed: " + (text != nullptr ? text : "unknown NCCL error") +
                  " (" + where(file, line) + ")",
              static_cast<int32_t>(r), nccl_result_name(r));
}

#define CUDAGO_NCCL_TRY(call)                            \
  do {                                                   \
    ncclResult_t cudago_nr_ = (call);                    \
    if (cudago_nr_ != ncclSuccess) {                     \
      throw_nccl(cudago_nr_, #call, __FILE__, __LINE__); \
    }                                                    \
  } while (0)

// Polls `state` (which returns true when the wait is over) about every millisecond within
// `limits`; throws Error(kTimeout) or Error(kCancelled) naming `what` when they end it first.
template <class State>
void poll_within(const WaitLimits& limits, const std::string& what, State state) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  for (;;) {
    if (state()) return;
    if (limits.cancel != nullptr && *limits.cancel != 0) {
      throw Error(Status::kCancelled, what + " was cancelled");
    }
    if (limits.timeout_ns != 0 &&
        static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count()) >=
            limits.timeout_ns) {
      throw Error(Status::kTimeout, what + " did not finish within " +
                                        std::to_string(limits.timeout_ns / 1000000) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
}

// Like CUDAGO_NCCL_TRY for calls that queue work: a non-blocking communicator may answer
// ncclInProgress (the work is being queued); Comm::settle() waits for it before the next call.
#define CUDAGO_NCCL_QUEUE(call)                                      \
  do {                                                               \
    ncclResult_t cudago_nr_ = (call);                                \
    if (cudago_nr_ != ncclSuccess && cudago_nr_ != ncclInProgress) { \
      throw_nccl(cudago_nr_, #call, __FILE__, __LINE__);             \
    }                                                                \
  } while (0)

ncclDataType_t nccl_type(const char* op, DType t) {
  switch (t) {
    case DType::kF32:
      return ncclFloat32;
    case DType::kF64:
      return ncclFloat64;
    case DType::kF16:
      return ncclFloat16;
    case DType::kBF16:
      return ncclBfloat16;
    case DType::kI32:
      return ncclInt32;
    default:
      break;
  }
  checked_dtype_size(static_cast<int32_t>(t));  // INVALID_ARGUMENT for a value that is no DType
  throw Error(Status::kNotSupported, std::string(op) +
                                         ": NCCL collectives take f32, f64, f16, "
                                         "bf16 or i32 elements, not " +
                                         dtype_name(t));
}

ncclRedOp_t nccl_op(const char* op, NcclOp o, DType t) {
  switch (o) {
    case NcclOp::kSum:
      return ncclSum;
    case NcclOp::kProd:
      return ncclProd;
    case NcclOp::kMin:
      return ncclMin;
    case NcclOp::kMax:
      return ncclMax;
    case NcclOp::kAvg:
      // NCCL's float64 average left the last element of a 65537-element all-reduce unwritten
      // on an H200 (NCCL 2.28, one rank; every other type and op was right): refuse it rather
      // than return a wrong answer. SUM followed by a scale gives the same result.
      if (t == DType::kF64) {
        throw Error(Status::kNotSupported,
                    std::string(op) +
                        ": CUDAGO_NCCL_AVG is not supported for f64 (NCCL's f64 "
                        "average was seen to skip elements); use CUDAGO_NCCL_SUM "
                        "and scale by 1/size");
      }
      return ncclAvg;
  }
  throw Error(Status::kInvalidArgument, std::string(op) +
                                            ": op = " + std::to_string(static_cast<int32_t>(o)) +
                                            " is not a cudago_nccl_op_t");
}

// The byte range a collective touches in one buffer.
struct Range {
  uint64_t begin, end;
};

Range fit(const char* op, const char* name, const DeviceBuffer& buf, uint64_t offset,
          uint64_t elems, size_t esz) {
  uint64_t end = 0, begin = 0, end_bytes = 0;
  bool overflow = __builtin_add_overflow(offset, elems, &end) ||
                  __builtin_mul_overflow(end, static_cast<uint64_t>(esz), &end_bytes) ||
                  __builtin_mul_overflow(offset, static_cast<uint64_t>(esz), &begin);
  CUDAGO_EXPECTS(!overflow, kOutOfRange, std::string(op) + ": " + name + " range overflows");
  CUDAGO_EXPECTS(end_bytes <= buf.size(), kOutOfRange,
                 std::string(op) + ": " + name + " needs elements [" + std::to_string(offset) +
                     ", " + std::to_string(end) + ") of " + std::to_string(esz) + " bytes (" +
                     std::to_string(end_bytes) + " bytes) but its buffer holds " +
                     std::to_string(buf.size()) + " bytes");
  return {begin, end_bytes};
}

struct Checked {
  ncclDataType_t type;
  size_t esz;
};

// Validates everything common to the collectives. `send_elems` and `recv_elems` are the ranges
// the call touches; in place is send == recv with send's range starting at `inplace_send_offset`
// (given as an offset in recv).
Checked check(const char* op, const Comm& comm, const StreamPtr& stream, DType dtype,
              DeviceBuffer& send, uint64_t send_offset, uint64_t send_elems, DeviceBuffer& recv,
              uint64_t recv_offset, uint64_t recv_elems, uint64_t inplace_send_offset,
              int64_t count) {
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, std::string(op) + ": stream is NULL");
  CUDAGO_EXPECTS(
      count >= 1, kInvalidArgument,
      std::string(op) + ": count = " + std::to_string(count) + "; it must be at least 1");
  comm.settle(op);  // a non-blocking communicator's previous call (or group) has been issued
  Checked c{nccl_type(op, dtype), dtype_size(dtype)};
  const int dev = comm.device();
  CUDAGO_EXPECTS(stream->device() == dev, kDeviceMismatch,
                 std::string(op) + ": a stream of device " + std::to_string(stream->device()) +
                     " with a communicator of device " + std::to_string(dev));
  CUDAGO_EXPECTS(send.device() == dev && recv.device() == dev, kDeviceMismatch,
                 std::string(op) + ": buffers of devices " + std::to_string(send.device()) +
                     " (send) and " + std::to_string(recv.device()) +
                     " (recv) with a communicator of device " + std::to_string(dev));
  Range s = fit(op, "send", send, send_offset, send_elems, c.esz);
  Range r = fit(op, "recv", recv, recv_offset, recv_elems, c.esz);
  if (&send == &recv) {
    const bool in_place = send_offset == inplace_send_offset;
    CUDAGO_EXPECTS(in_place || s.end <= r.begin || r.end <= s.begin, kInvalidArgument,
                   std::string(op) +
                       ": send and recv overlap in one buffer without being in "
                       "place (send at element " +
                       std::to_string(send_offset) + ", in place would be " +
                       std::to_string(inplace_send_offset) + ")");
  }
  return c;
}

void check_root(const char* op, const Comm& comm, int root) {
  CUDAGO_EXPECTS(root >= 0 && root < comm.size(), kInvalidArgument,
                 std::string(op) + ": root = " + std::to_string(root) + " is not a rank of a " +
                     std::to_string(comm.size()) + "-rank communicator");
}

void finish(Comm& comm, const char* op, const StreamPtr& stream, DeviceBuffer& send,
            DeviceBuffer& recv) {
  send.used_on(stream);
  recv.used_on(stream);
  comm.check_async(op);
}

char* at(DeviceBuffer& b, uint64_t offset, size_t esz) {
  return static_cast<char*>(b.data()) + offset * esz;
}

}  // namespace

std::string nccl_result_name(int result) {
  switch (result) {
    case ncclSuccess:
      return "ncclSuccess";
    case ncclUnhandledCudaError:
      return "ncclUnhandledCudaError";
    case ncclSystemError:
      return "ncclSystemError";
    case ncclInternalError:
      return "ncclInternalError";
    case ncclInvalidArgument:
      return "ncclInvalidArgument";
    case ncclInvalidUsage:
      return "ncclInvalidUsage";
    case ncclRemoteError:
      return "ncclRemoteError";
    case ncclInProgress:
      return "ncclInProgress";
    default:
      return "ncclResult(" + std::to_string(result) + ")";
  }
}

Status status_from_nccl(int result) noexcept {
  switch (result) {
    case ncclSuccess:
      return Status::kSuccess;
    case ncclUnhandledCudaError:
      return Status::kCuda;
    case ncclInvalidArgument:
    case ncclInvalidUsage:
      return Status::kInvalidArgument;
    default:  // system, internal, remote errors, in-progress (never expected: blocking comms)
      return Status::kNccl;
  }
}

int nccl_version() {
  int v = 0;
  CUDAGO_NCCL_TRY(nccl().GetVersion(&v));
  return v;
}

NcclUniqueId nccl_unique_id() {
  ncclUniqueId id;
  CUDAGO_NCCL_TRY(nccl().GetUniqueId(&id));
  NcclUniqueId out;
  std::memcpy(out.bytes, id.internal, sizeof out.bytes);
  return out;
}

std::unique_ptr<Comm> Comm::wrap(ncclComm* comm, int device, bool nonblocking) {
  const NcclApi& a = nccl();
  int rank = 0, size = 0;
  ncclResult_t r1 = a.CommUserRank(comm, &rank);
  ncclResult_t r2 = r1 == ncclSuccess ? a.CommCount(comm, &size) : r1;
  if (r2 != ncclSuccess) {
    (void)a.CommDestroy(comm);
    throw_nccl(r2, "ncclCommUserRank/ncclCommCount", __FILE__, __LINE__);
  }
  return std::unique_ptr<Comm>(new Comm(comm, device, rank, size, nonblocking));
}

std::vector<std::unique_ptr<Comm>> Comm::init_all(const std::vector<int>& devices) {
  const char* op = "comm init all";
  CUDAGO_EXPECTS(!devices.empty(), kInvalidArgument, std::string(op) + ": no devices");
  for (size_t i = 0; i < devices.size(); ++i) {
    require_device(devices[i]);
    for (size_t j = 0; j < i; ++j) {
      CUDAGO_EXPECTS(devices[j] != devices[i], kInvalidArgument,
                     std::string(op) + ": device " + std::to_string(devices[i]) +
                         " is listed twice; NCCL needs one rank per device");
    }
  }
  const NcclApi& a = nccl();
  std::vector<ncclComm_t> raw(devices.size(), nullptr);
  {
    DeviceGuard guard(devices[0]);  // restores the caller's current device after NCCL's init
    CUDAGO_NCCL_TRY(a.CommInitAll(raw.data(), static_cast<int>(devices.size()), devices.data()));
  }
  std::vector<std::unique_ptr<Comm>> out;
  try {
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      out.push_back(wrap(raw[i], devices[i], false));
      raw[i] = nullptr;
    }
  } catch (...) {
    for (ncclComm_t c : raw) {
      if (c != nullptr) (void)a.CommDestroy(c);
    }
    throw;
  }
  return out;
}

std::unique_ptr<Comm> Comm::init_rank(int device, int nranks, const NcclUniqueId& id, int rank,
                                      const WaitLimits& limits) {
  const char* op = "comm init rank";
  CUDAGO_EXPECTS(
      nranks >= 1, kInvalidArgument,
      std::string(op) + ": nranks = " + std::to_string(nranks) + "; it must be at least 1");
  CUDAGO_EXPECTS(rank >= 0 && rank < nranks, kInvalidArgument,
                 std::string(op) + ": rank = " + std::to_string(rank) + " is outside [0, " +
                     std::to_string(nranks) + ")");
  require_device(device);
  const NcclApi& a = nccl();
  ncclUniqueId nid;
  std::memcpy(nid.internal, id.bytes, sizeof nid.internal);
  ncclComm_t comm = nullptr;
  DeviceGuard guard(device);  // ncclCommInitRank uses the current device
  if (!limits.bounded()) {
    CUDAGO_NCCL_TRY(a.CommInitRank(&comm, nranks, nid, rank));
    return wrap(comm, device, false);
  }
  // Non-blocking: the call returns at once and the set-up goes on in NCCL's threads; poll it
  // within the limits, and abort the half-made communicator when they end the wait.
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  ncclResult_t r = a.CommInitRankConfig(&comm, nranks, nid, rank, &config);
  if (r != ncclSuccess && r != ncclInProgress) {
    if (comm != nullptr) (void)a.CommAbort(comm);
    throw_nccl(r, "ncclCommInitRankConfig", __FILE__, __LINE__);
  }
  ncclResult_t state = ncclInProgress;
  try {
    poll_within(limits,
                std::string(op) + " (rank " + std::to_string(rank) + " of " +
                    std::to_string(nranks) + ", waiting for the other ranks)",
                [&] {
                  if (a.CommGetAsyncError(comm, &state) != ncclSuccess) state = ncclInternalError;
                  return state != ncclInProgress;
                });
  } catch (...) {
    (void)a.CommAbort(comm);
    throw;
  }
  if (state != ncclSuccess) {
    (void)a.CommAbort(comm);
    throw_nccl(state, "ncclCommInitRankConfig (asynchronous set-up)", __FILE__, __LINE__);
  }
  return wrap(comm, device, true);
}

ncclComm* Comm::get() const {
  CUDAGO_EXPECTS(!aborted_, kInvalidHandle,
                 "the communicator was aborted (a failed or abandoned wait); only destroy remains");
  return comm_;
}

void Comm::check_async(const char* op) const {
  ncclResult_t async = ncclSuccess;
  const NcclApi& a = nccl();
  CUDAGO_NCCL_TRY(a.CommGetAsyncError(get(), &async));
  if (async != ncclSuccess && async != ncclInProgress) {
    throw Error(
        status_from_nccl(async),
        std::string(op) + ": the communicator failed asynchronously: " + a.GetErrorString(async),
        static_cast<int32_t>(async), nccl_result_name(async));
  }
}

void Comm::settle(const char* op) const {
  if (!nonblocking_) return;
  ncclComm_t c = get();
  const NcclApi& a = nccl();
  ncclResult_t state = ncclInProgress;
  for (;;) {
    CUDAGO_NCCL_TRY(a.CommGetAsyncError(c, &state));
    if (state != ncclInProgress) break;
    std::this_thread::yield();
  }
  if (state != ncclSuccess) {
    throw Error(
        status_from_nccl(state),
        std::string(op) + ": the communicator failed asynchronously: " + a.GetErrorString(state),
        static_cast<int32_t>(state), nccl_result_name(state));
  }
}

void Comm::abort() noexcept {
  if (comm_ == nullptr || aborted_) return;
  aborted_ = true;
  try {
    DeviceGuard guard(device_);
    (void)nccl().CommAbort(comm_);
  } catch (...) {
  }
  comm_ = nullptr;
}

void Comm::wait(const StreamPtr& stream, const WaitLimits& limits) {
  const char* op = "comm wait";
  CUDAGO_EXPECTS(stream != nullptr, kInvalidHandle, std::string(op) + ": stream is NULL");
  CUDAGO_EXPECTS(stream->device() == device_, kDeviceMismatch,
                 std::string(op) + ": a stream of device " + std::to_string(stream->device()) +
                     " with a communicator of device " + std::to_string(device_));
  ncclComm_t c = get();
  const NcclApi& a = nccl();
  DeviceGuard guard(device_);
  try {
    poll_within(limits, "waiting for the communicator's work on the stream", [&] {
      ncclResult_t async = ncclSuccess;
      if (a.CommGetAsyncError(c, &async) == ncclSuccess && async != ncclSuccess &&
          async != ncclInProgress) {
        throw Error(status_from_nccl(async),
                    std::string(op) +
                        ": the communicator failed asynchronously (a peer may have "
                        "died): " +
                        a.GetErrorString(async) + "; it was aborted",
                    static_cast<int32_t>(async), nccl_result_name(async));
      }
      return stream->query();
    });
  } catch (const Error& e) {
    if (e.status() != Status::kKernelFault) abort();
    throw;
  }
}

void Comm::destroy() {
  if (comm_ == nullptr) return;
  ncclComm_t c = comm_;
  comm_ = nullptr;
  const NcclApi& a = nccl();  // loaded: the communicator exists
  DeviceGuard guard(device_);
  ncclResult_t async = ncclSuccess;
  if (a.CommGetAsyncError(c, &async) == ncclSuccess && async != ncclSuccess &&
      async != ncclInProgress) {
    CUDAGO_NCCL_TRY(a.CommAbort(c));  // a failed communicator may never finish its work
    return;
  }
  CUDAGO_NCCL_TRY(a.CommDestroy(c));
}

Comm::~Comm() {
  try {
    destroy();
  } catch (...) {
  }
}

void all_reduce(Comm& comm, const StreamPtr& stream, DType dtype, NcclOp op, DeviceBuffer& send,
                uint64_t send_offset, DeviceBuffer& recv, uint64_t recv_offset, int64_t count) {
  const char* name = "all_reduce";
  const uint64_t n = static_cast<uint64_t>(count);
  Checked c = check(name, comm, stream, dtype, send, send_offset, n, recv, recv_offset, n,
                    recv_offset, count);
  ncclRedOp_t o = nccl_op(name, op, dtype);
  DeviceGuard guard(comm.device());
  CUDAGO_NCCL_QUEUE(nccl().AllReduce(at(send, send_offset, c.esz), at(recv, recv_offset, c.esz), n,
                                     c.type, o, comm.get(), stream->get()));
  finish(comm, name, stream, send, recv);
}

void broadcast(Comm& comm, const StreamPtr& stream, DType dtype, DeviceBuffer& send,
               uint64_t send_offset, DeviceBuffer& recv, uint64_t recv_offset, int64_t count,
               int root) {
  const char* name = "broadcast";
  const uint64_t n = static_cast<uint64_t>(count);
  Checked c = check(name, comm, stream, dtype, send, send_offset, n, recv, recv_offset, n,
                    recv_offset, count);
  check_root(name, comm, root);
  DeviceGuard guard(comm.device());
  CUDAGO_NCCL_QUEUE(nccl().Broadcast(at(send, send_offset, c.esz), at(recv, recv_offset, c.esz), n,
                                     c.type, root, comm.get(), stream->get()));
  finish(comm, name, stream, send, recv);
}

void reduce(Comm& comm, const StreamPtr& stream, DType dtype, NcclOp op, DeviceBuffer& send,
            uint64_t send_offset, DeviceBuffer& recv, uint64_t recv_offset, int64_t count,
            int root) {
  const char* name = "reduce";
  const uint64_t n = static_cast<uint64_t>(count);
  Checked c = check(name, comm, stream, dtype, send, send_offset, n, recv, recv_offset, n,
                    recv_offset, count);
  check_root(name, comm, root);
  ncclRedOp_t o = nccl_op(name, op, dtype);
  DeviceGuard guard(comm.device());
  CUDAGO_NCCL_QUEUE(nccl().Reduce(at(send, send_offset, c.esz), at(recv, recv_offset, c.esz), n,
                                  c.type, o, root, comm.get(), stream->get()));
  finish(comm, name, stream, send, recv);
}

void all_gather(Comm& comm, const StreamPtr& stream, DType dtype, DeviceBuffer& send,
                uint64_t send_offset, DeviceBuffer& recv, uint64_t recv_offset, int64_t count) {
  const char* name = "all_gather";
  const uint64_t n = static_cast<uint64_t>(count);
  uint64_t total = 0, slot = 0;
  CUDAGO_EXPECTS(
      count < 1 || (!__builtin_mul_overflow(n, static_cast<uint64_t>(comm.size()), &total) &&
                    !__builtin_mul_overflow(n, static_cast<uint64_t>(comm.rank()), &slot) &&
                    !__builtin_add_overflow(slot, recv_offset, &slot)),
      kOutOfRange, "all_gather: count x ranks overflows");
  Checked c =
      check(name, comm, stream, dtype, send, send_offset, n, recv, recv_offset, total, slot, count);
  DeviceGuard guard(comm.device());
  CUDAGO_NCCL_QUEUE(nccl().AllGather(at(send, send_offset, c.esz), at(recv, recv_offset, c.esz), n,
                                     c.type, comm.get(), stream->get()));
  finish(comm, name, stream, send, recv);
}

void reduce_scatter(Comm& comm, const StreamPtr& stream, DType dtype, NcclOp op, DeviceBuffer& send,
                    uint64_t send_offset, DeviceBuffer& recv, uint64_t recv_offset, int64_t count) {
  const char* name = "reduce_scatter";
  const uint64_t n = static_cast<uint64_t>(count);
  uint64_t total = 0, slot = 0;
  CUDAGO_EXPECTS(
      count < 1 || (!__builtin_mul_overflow(n, static_cast<uint64_t>(comm.size()), &total) &&
                    !__builtin_mul_overflow(n, static_cast<uint64_t>(comm.rank()), &slot)),
      kOutOfRange, "reduce_scatter: count x ranks overflows");
  // In place: recv is this rank's slice of send (recv_offset == send_offset + rank * count),
  // i.e. send_offset == recv_offset - rank * count.
  const uint64_t inplace = recv_offset >= slot ? recv_offset - slot : ~uint64_t{0};
  Checked c = check(name, comm, stream, dtype, send, send_offset, total, recv, recv_offset, n,
                    inplace, count);
  ncclRedOp_t o = nccl_op(name, op, dtype);
  DeviceGuard guard(comm.device());
  CUDAGO_NCCL_QUEUE(nccl().ReduceScatter(at(send, send_offset, c.esz), at(recv, recv_offset, c.esz),
                                         n, c.type, o, comm.get(), stream->get()));
  finish(comm, name, stream, send, recv);
}

void nccl_group_start() { CUDAGO_NCCL_TRY(nccl().GroupStart()); }
void nccl_group_end() { CUDAGO_NCCL_QUEUE(nccl().GroupEnd()); }

}  // namespace cudago
