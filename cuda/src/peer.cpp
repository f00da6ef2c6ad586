#include "cudago/peer.hpp"

#include <cuda_runtime_api.h>

#include <mutex>
#include <string>

#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/memory.hpp"

namespace cudago {
namespace {

// Serialises enable/disable so the device flag and the pool's access always agree.
std::mutex& peer_mutex() {
  static std::mutex* m = new std::mutex;  // never destroyed: usable during process exit
  return *m;
}

std::string pair_name(int device, int peer) {
  return "device " + std::to_string(device) + " -> device " + std::to_string(peer);
}

void set_pool_access(int device, int peer, cudaMemAccessFlags flags) {
  cudaMemPool_t pool = device_pool(peer);
  cudaMemLocation where{};
  where.type = cudaMemLocationTypeDevice;
  where.id = device;
  cudaMemAccessFlags current = cudaMemAccessFlagsProtNone;
  CUDAGO_CUDA_TRY(cudaMemPoolGetAccess(&current, pool, &where));
  if (current == flags) return;
  cudaMemAccessDesc desc{};
  desc.location.type = cudaMemLocationTypeDevice;
  desc.location.id = device;
  desc.flags = flags;
  CUDAGO_CUDA_TRY(cudaMemPoolSetAccess(pool, &desc, 1));
}

}  // namespace

bool can_access_peer(int device, int peer) {
  require_device(device);
  require_device(peer);
  if (device == peer) return true;
  int can = 0;
  CUDAGO_CUDA_TRY(cudaDeviceCanAccessPeer(&can, device, peer));
  return can != 0;
}

void enable_peer_access(int device, int peer) {
  if (!can_access_peer(device, peer)) {
    throw Error(Status::kNotSupported,
                pair_name(device, peer) + ": the hardware does not support peer access");
  }
  if (device == peer) return;
  std::lock_guard<std::mutex> lock(peer_mutex());
  DeviceGuard guard(device);
  cudaError_t err = cudaDeviceEnablePeerAccess(peer, 0);
  if (err == cudaErrorPeerAccessAlreadyEnabled) {
    (void)cudaGetLastError();  // not an error for us: enabling is idempotent
  } else {
    CUDAGO_CUDA_TRY(err);
  }
  // Pool allocations do not follow cudaDeviceEnablePeerAccess: grant the pool's access too.
  set_pool_access(device, peer, cudaMemAccessFlagsProtReadWrite);
}

void disable_peer_access(int device, int peer) {
  require_device(device);
  require_device(peer);
  if (device == peer) return;
  std::lock_guard<std::mutex> lock(peer_mutex());
  DeviceGuard guard(device);
  int can = 0;
  CUDAGO_CUDA_TRY(cudaDeviceCanAccessPeer(&can, device, peer));
  if (can) set_pool_access(device, peer, cudaMemAccessFlagsProtNone);
  cudaError_t err = cudaDeviceDisablePeerAccess(peer);
  if (err == cudaErrorPeerAccessNotEnabled) {
    (void)cudaGetLastError();  // already disabled (or never enabled): idempotent
  } else {
    CUDAGO_CUDA_TRY(err);
  }
}

}  // namespace cudago
