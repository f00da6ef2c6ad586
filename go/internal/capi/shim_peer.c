/* shim_peer.c: see shim_peer.h. Compiled by cgo with the package's pkg-config flags. */
#include "shim_peer.h"

cg_int_result cg_device_can_access_peer(int32_t device, int32_t peer) {
  cg_int_result r = {NULL, 0};
  r.err = cg_err(cudago_device_can_access_peer(device, peer, &r.value));
  return r;
}

cg_result cg_device_enable_peer_access(int32_t device, int32_t peer) {
  return cg_done(cudago_device_enable_peer_access(device, peer));
}

cg_result cg_device_disable_peer_access(int32_t device, int32_t peer) {
  return cg_done(cudago_device_disable_peer_access(device, peer));
}
