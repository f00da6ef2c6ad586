// NCCL communicators and collectives.
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

using cudago::capi::guard;
using cudago::capi::handle;
using cudago::capi::out_param;

namespace {

cudago::DType dt(cudago_dtype_t t) { return static_cast<cudago::DType>(t); }
cudago::NcclOp op_of(cudago_nccl_op_t o) { return static_cast<cudago::NcclOp>(o); }

}  // namespace

extern "C" {

cudago_status_t cudago_nccl_version(int32_t* out) {
  return guard("cudago_nccl_version", [&] {
    out_param(out, "out");
    *out = 0;
    *out = cudago::nccl_version();
  });
}

cudago_status_t cudago_comm_init_all(cudago_comm_t* comms, int32_t count, const int32_t* devices) {
  return guard("cudago_comm_init_all", [&] {
    out_param(comms, "comms");
    if (count < 1) {
      throw cudago::Error(cudago::Status::kInvalidArgument,
                          "count = " + std::to_string(count) + "; it must be at least 1");
    }
    // Ranks are distinct devices, so a count above the device count is refused before anything
    // is sized by it.
    const int32_t devices_seen = cudago::device_count();
    if (devices_seen == 0) cudago::require_device(0);  // throws NO_DEVICE with the reason
    if (count > devices_seen) {
      throw cudago::Error(cudago::Status::kInvalidArgument,
                          "count = " + std::to_string(count) + " but this process sees " +
                              std::to_string(devices_seen) +
                              " device(s); NCCL needs one distinct device per rank");
    }
    std::vector<int> devs(static_cast<size_t>(count));
    for (int32_t i = 0; i < count; ++i) devs[static_cast<size_t>(i)] = devices ? devices[i] : i;
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
                                      const cudago_nccl_unique_id_t* id, int32_t rank) {
  return guard("cudago_comm_init_rank", [&] {
    out_param(out, "out");
    out_param(id, "id");
    cudago::NcclUniqueId nid;
    std::memcpy(nid.bytes, id->internal, sizeof nid.bytes);
    auto c = cudago::Comm::init_rank(device, nranks, nid, rank);
    cudago::capi::publish(out, std::move(c));
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
                                       cudago_dtype_t dtype, cudago_nccl_op_t op,
                                       cudago_buffer_t send, uint64_t send_offset,
                                       cudago_buffer_t recv, uint64_t recv_offset, int64_t count) {
  return guard("cudago_comm_all_reduce", [&] {
    cudago::all_reduce(*handle(comm, "comm").impl, handle(stream, "stream").impl, dt(dtype),
                       op_of(op), *handle(send, "send").impl, send_offset,
                       *handle(recv, "recv").impl, recv_offset, count);
  });
}

cudago_status_t cudago_comm_broadcast(cudago_comm_t comm, cudago_stream_t stream,
                                      cudago_dtype_t dtype, cudago_buffer_t send,
                                      uint64_t send_offset, cudago_buffer_t recv,
                                      uint64_t recv_offset, int64_t count, int32_t root) {
  return guard("cudago_comm_broadcast", [&] {
    cudago::broadcast(*handle(comm, "comm").impl, handle(stream, "stream").impl, dt(dtype),
                      *handle(send, "send").impl, send_offset, *handle(recv, "recv").impl,
                      recv_offset, count, root);
  });
}

cudago_status_t cudago_comm_reduce(cudago_comm_t comm, cudago_stream_t stream, cudago_dtype_t dtype,
                                   cudago_nccl_op_t op, cudago_buffer_t send, uint64_t send_offset,
                                   cudago_buffer_t recv, uint64_t recv_offset, int64_t count,
                                   int32_t root) {
  return guard("cudago_comm_reduce", [&] {
    cudago::reduce(*handle(comm, "comm").impl, handle(stream, "stream").impl, dt(dtype), op_of(op),
                   *handle(send, "send").impl, send_offset, *handle(recv, "recv").impl, recv_offset,
                   count, root);
  });
}

cudago_status_t cudago_comm_all_gather(cudago_comm_t comm, cudago_stream_t stream,
                                       cudago_dtype_t dtype, cudago_buffer_t send,
                                       uint64_t send_offset, cudago_buffer_t recv,
                                       uint64_t recv_offset, int64_t count) {
  return guard("cudago_comm_all_gather", [&] {
    cudago::all_gather(*handle(comm, "comm").impl, handle(stream, "stream").impl, dt(dtype),
                       *handle(send, "send").impl, send_offset, *handle(recv, "recv").impl,
                       recv_offset, count);
  });
}

cudago_status_t cudago_comm_reduce_scatter(cudago_comm_t comm, cudago_stream_t stream,
                                           cudago_dtype_t dtype, cudago_nccl_op_t op,
                                           cudago_buffer_t send, uint64_t send_offset,
                                           cudago_buffer_t recv, uint64_t recv_offset,
                                           int64_t count) {
  return guard("cudago_comm_reduce_scatter", [&] {
    cudago::reduce_scatter(*handle(comm, "comm").impl, handle(stream, "stream").impl, dt(dtype),
                           op_of(op), *handle(send, "send").impl, send_offset,
                           *handle(recv, "recv").impl, recv_offset, count);
  });
}

cudago_status_t cudago_comm_group_start(void) {
  return guard("cudago_comm_group_start", [&] { cudago::nccl_group_start(); });
}

cudago_status_t cudago_comm_group_end(void) {
  return guard("cudago_comm_group_end", [&] { cudago::nccl_group_end(); });
}

}  // extern "C"
