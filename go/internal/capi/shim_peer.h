/*
 * shim_peer.h: cgo shims for peer access between devices. Same contract as shim.h: one cudago
 * call each, and the detail of a failure is copied in the same C call (so on the same OS thread).
 * Peer copies go through cg_copy_d2d and cg_copy_d2d_async (shim.h).
 */
#ifndef CUDAGO_GO_SHIM_PEER_H
#define CUDAGO_GO_SHIM_PEER_H

#include "shim.h"

cg_int_result cg_device_can_access_peer(int32_t device, int32_t peer);
cg_result cg_device_enable_peer_access(int32_t device, int32_t peer);
cg_result cg_device_disable_peer_access(int32_t device, int32_t peer);

#endif /* CUDAGO_GO_SHIM_PEER_H */
