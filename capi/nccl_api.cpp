// NCCL communicators and collectives.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cudago.h"
#include "cudago/device.hpp"
#include "cudago/nccl.hpp"
#include "guard.hpp"

struct cudago_comm_s {
  std::unique_ptr<cudago::Comm> impl;
};

static_assert(sizeof(cudago_nccl_unique_id_t) == sizeof(cudago::NcclUniqueId),
              "cudago_nccl_unique_id_t must match NcclUniqueId");
static_assert(static_cast<int>(CUDAGO_NCCL_AVG) == static_cast<int>(cudago::NcclOp::kAvg),
              "cudago_nccl_op_t must match NcclOp");

using cudago::capi::dtype_of;
using cudago::capi::guard;
using cudago::capi::handle;
using cudago::capi::out_param;

namespace {

cudago::NcclOp op_of(cudago_nccl_op_t o) { return static_cast<cudago::NcclOp>(o); }

// The operands of a collective in the core's terms: the handles (checked first), the ABI's byte
// offsets as element offsets of dtype (multiples of its size) and the count as the core's
// int64_t (NCCL takes a size_t). The core checks the rest: dtype support, count >= 1, devices,
// ranges and overlaps.
struct Operands {
  cudago::Comm& comm;
  const cudago::StreamPtr& stream;
  cudago::DeviceBuffer& send;
  uint64_t send_offset;
  cudago::DeviceBuffer& recv;
  uint64_t recv_offset;
  int64_t count;
};

Operands operands(cudago_comm_t comm, cudago_stream_t stream, cudago_buffer_t send,
                  uint64_t send_offset, cudago_buffer_t recv, uint64_t recv_offset, uint64_t count,
                  cudago_dtype_t dtype) {
  cudago::Comm& c = *handle(comm, "comm").impl;
  const cudago::StreamPtr& s = handle(stream, "stream").impl;
  cudago::DeviceBuffer& sb = *handle(send, "send").impl;
  cudago::DeviceBuffer& rb = *handle(recv, "recv").impl;
  const uint64_t so = cudago::capi::element_offset(send_offset, dtype, "send_offset");
  const uint64_t ro = cudago::capi::element_offset(recv_offset, dtype, "recv_offset");
  return Operands{c, s, sb, so, rb, ro, cudago::capi::signed_count(count, "count")};
}

}  // namespace

extern "C" {

cudago_status_t cudago_nccl_version(int32_t* out) {
  return guard("cudago_nccl_version", [&] {
    out_param(out, "out");
    *out = 0;
    *out = cudago::nccl_version();
  });
}

cudago_status_t cudago_comm_init_all(cudago_comm_t* comms, uint64_t count, const int32_t* devices) {
  return guard("cudago_comm_init_all", [&] {
    out_param(comms, "comms");
    if (count < 1) {
      throw cudago::Error(cudago::Status::kInvalidArgument, "count = 0; it must be at least 1");
    }
    // NCCL counts ranks in an int.
    if (count > static_cast<uint64_t>(INT32_MAX)) {
      throw cudago::Error(cudago::Status::kInvalidArgument,
                          "count = " + std::to_string(count) +
                              " is above INT32_MAX, NCCL's limit on the number of ranks");
    }
    // Ranks are distinct devices, so a count above the device count is refused before anything
    // is sized by it.
    const int32_t devices_seen = cudago::device_count();
    if (devices_seen == 0) cudago::require_device(0);  // throws NO_DEVICE with the reason
    if (count > static_cast<uint64_t>(devices_seen)) {
      throw cudago::Error(cudago::Status::kInvalidArgument,
                          "count = " + std::to_string(count) + " but this process sees " +
                              std::to_string(devices_seen) +
                              " device(s); NCCL needs one distinct device per rank");
    }
    const size_t n = static_cast<size_t>(count);
    std::vector<int> devs(n);
    for (size_t i = 0; i < n; ++i) devs[i] = devices ? devices[i] : static_cast<int>(i);
    auto made = cudago::Comm::init_all(devs);
    // Build every handle before writing any, so a failure leaves comms untouched.
    std::vector<std::unique_ptr<cudago_comm_s>> hs;
    hs.reserve(made.size());
    for (auto& c : made)
      hs.push_back(std::unique_ptr<cudago_comm_s>(new cudago_comm_s{std::move(c)}));
    for (size_t i = 0; i < hs.size(); ++i) comms[i] = hs[i].release();
  });
}

cudago_status_t cudago_comm_unique_id(cudago_nccl_unique_id_t* out) {
  return guard("cudago_comm_unique_id", [&] {
    out_param(out, "out");
    cudago::NcclUniqueId id = cudago::nccl_unique_id();
    static_assert(sizeof out->internal == sizeof id.bytes, "unique id sizes");
    std::memcpy(out->internal, id.bytes, sizeof id.bytes);
  });
}

cudago_status_t cudago_comm_init_rank(cudago_comm_t* out, int32_t device, int32_t nranks,
                                      const cudago_nccl_unique_id_t* id, int32_t rank,
                                      const cudago_wait_options_t* wait) {
  return guard("cudago_comm_init_rank", [&] {
    out_param(out, "out");
    out_param(id, "id");
    const cudago::WaitLimits limits = cudago::capi::wait_limits(wait);
    cudago::NcclUniqueId nid;
    std::memcpy(nid.bytes, id->internal, sizeof nid.bytes);
    auto c = cudago::Comm::init_rank(device, nranks, nid, rank, limits);
    cudago::capi::publish(out, std::move(c));
  });
}

cudago_status_t cudago_comm_wait(cudago_comm_t comm, cudago_stream_t stream,
                                 const cudago_wait_options_t* wait) {
  return guard("cudago_comm_wait", [&] {
    const cudago::WaitLimits limits = cudago::capi::wait_limits(wait);
    handle(comm, "comm").impl->wait(handle(stream, "stream").impl, limits);
  });
}

cudago_status_t cudago_comm_destroy(cudago_comm_t comm) {
  return guard("cudago_comm_destroy", [&] {
    if (comm == nullptr) return;
    std::unique_ptr<cudago_comm_s> owned(comm);
    if (owned->impl) owned->impl->destroy();
  });
}

cudago_status_t cudago_comm_device(cudago_comm_t comm, int32_t* device) {
  return guard("cudago_comm_device", [&] {
    auto& c = handle(comm, "comm");
    *out_param(device, "device") = c.impl->device();
  });
}

cudago_status_t cudago_comm_rank(cudago_comm_t comm, int32_t* rank) {
  return guard("cudago_comm_rank", [&] {
    auto& c = handle(comm, "comm");
    *out_param(rank, "rank") = c.impl->rank();
  });
}

cudago_status_t cudago_comm_size(cudago_comm_t comm, int32_t* size) {
  return guard("cudago_comm_size", [&] {
    auto& c = handle(comm, "comm");
    *out_param(size, "size") = c.impl->size();
  });
}

cudago_status_t cudago_comm_all_reduce(cudago_comm_t comm, cudago_stream_t stream,
                                       cudago_buffer_t send, uint64_t send_offset,
                                       cudago_buffer_t recv, uint64_t recv_offset, uint64_t count,
                                       cudago_dtype_t dtype, cudago_nccl_op_t op) {
  return guard("cudago_comm_all_reduce", [&] {
    Operands a = operands(comm, stream, send, send_offset, recv, recv_offset, count, dtype);
    cudago::all_reduce(a.comm, a.stream, dtype_of(dtype), op_of(op), a.send, a.send_offset, a.recv,
                       a.recv_offset, a.count);
  });
}

cudago_status_t cudago_comm_broadcast(cudago_comm_t comm, cudago_stream_t stream,
                                      cudago_buffer_t send, uint64_t send_offset,
                                      cudago_buffer_t recv, uint64_t recv_offset, uint64_t count,
                                      cudago_dtype_t dtype, int32_t root) {
  return guard("cudago_comm_broadcast", [&] {
    Operands a = operands(comm, stream, send, send_offset, recv, recv_offset, count, dtype);
    cudago::broadcast(a.comm, a.stream, dtype_of(dtype), a.send, a.send_offset, a.recv,
                      a.recv_offset, a.count, root);
  });
}

cudago_status_t cudago_comm_reduce(cudago_comm_t comm, cudago_stream_t stream, cudago_buffer_t send,
                                   uint64_t send_offset, cudago_buffer_t recv, uint64_t recv_offset,
                                   uint64_t count, cudago_dtype_t dtype, cudago_nccl_op_t op,
                                   int32_t root) {
  return guard("cudago_comm_reduce", [&] {
    Operands a = operands(comm, stream, send, send_offset, recv, recv_offset, count, dtype);
    cudago::reduce(a.comm, a.stream, dtype_of(dtype), op_of(op), a.send, a.send_offset, a.recv,
                   a.recv_offset, a.count, root);
  });
}

cudago_status_t cudago_comm_all_gather(cudago_comm_t comm, cudago_stream_t stream,
                                       cudago_buffer_t send, uint64_t send_offset,
                                       cudago_buffer_t recv, uint64_t recv_offset, uint64_t count,
                                       cudago_dtype_t dtype) {
  return guard("cudago_comm_all_gather", [&] {
    Operands a = operands(comm, stream, send, send_offset, recv, recv_offset, count, dtype);
    cudago::all_gather(a.comm, a.stream, dtype_of(dtype), a.send, a.send_offset, a.recv,
                       a.recv_offset, a.count);
  });
}

cudago_status_t cudago_comm_reduce_scatter(cudago_comm_t comm, cudago_stream_t stream,
                                           cudago_buffer_t send, uint64_t send_offset,
                                           cudago_buffer_t recv, uint64_t recv_offset,
                                           uint64_t count, cudago_dtype_t dtype,
                                           cudago_nccl_op_t op) {
  return guard("cudago_comm_reduce_scatter", [&] {
    Operands a = operands(comm, stream, send, send_offset, recv, recv_offset, count, dtype);
    cudago::reduce_scatter(a.comm, a.stream, dtype_of(dtype), op_of(op), a.send, a.send_offset,
                           a.recv, a.recv_offset, a.count);
  });
}

cudago_status_t cudago_comm_group_start(void) {
  return guard("cudago_comm_group_start", [&] { cudago::nccl_group_start(); });
}

cudago_status_t cudago_comm_group_end(void) {
  return guard("cudago_comm_group_end", [&] { cudago::nccl_group_end(); });
}

}  // extern "C"
