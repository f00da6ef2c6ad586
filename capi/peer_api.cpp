// Peer access between devices. (Peer copies are cudago_copy_d2d and cudago_copy_d2d_async.)
#include "cudago.h"
#include "cudago/peer.hpp"
#include "guard.hpp"

using cudago::capi::guard;
using cudago::capi::out_param;

extern "C" {

cudago_status_t cudago_device_can_access_peer(int32_t device, int32_t peer, int32_t* out) {
  return guard("cudago_device_can_access_peer", [&] {
    out_param(out, "out");
    *out = cudago::can_access_peer(device, peer) ? 1 : 0;
  });
}

cudago_status_t cudago_device_enable_peer_access(int32_t device, int32_t peer) {
  return guard("cudago_device_enable_peer_access",
               [&] { cudago::enable_peer_access(device, peer); });
}

cudago_status_t cudago_device_disable_peer_access(int32_t device, int32_t peer) {
  return guard("cudago_device_disable_peer_access",
               [&] { cudago::disable_peer_access(device, peer); });
}

}  // extern "C"
