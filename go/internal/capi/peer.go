//go:build cgo

package capi

/*
#include "shim_peer.h"
*/
import "C"

// Peer access and peer copies.
//
// A DeviceBuffer's CopyFrom and CopyFromAsync work between buffers of two devices (peer
// copies). With peer access enabled from the copying stream's device to the other one
// ([Device.EnablePeerAccess]) the data moves directly over NVLink or PCIe; without it the CUDA
// driver stages it through host memory, which works between any two devices but is several
// times slower.

// CanAccessPeer reports whether d can read and write peer's memory directly (NVLink or PCIe).
// A device always accesses its own memory: d.CanAccessPeer(d) is true.
func (d Device) CanAccessPeer(peer Device) (bool, error) {
	if err := ready(); err != nil {
		return false, err
	}
	r := C.cg_device_can_access_peer(C.int32_t(d.ordinal), C.int32_t(peer.ordinal))
	if r.err != nil {
		return false, convertError("device can access peer", r.err)
	}
	return r.value != 0, nil
}

// EnablePeerAccess lets d access peer's memory directly, buffers of peer's pool included, so
// that peer copies issued on d's streams go straight over NVLink or PCIe. It covers one
// direction: enable both d→p and p→d for copies on either device's streams. Enabling twice is
// not an error, and d.EnablePeerAccess(d) does nothing. It fails with ErrNotSupported where
// CanAccessPeer is false. The setting is process-wide.
func (d Device) EnablePeerAccess(peer Device) error {
	if err := ready(); err != nil {
		return err
	}
	r := C.cg_device_enable_peer_access(C.int32_t(d.ordinal), C.int32_t(peer.ordinal))
	return errorFrom("device enable peer access", r.err)
}

// DisablePeerAccess undoes EnablePeerAccess: later peer copies between the two are staged
// through host memory. Disabling twice is not an error, and d.DisablePeerAccess(d) does
// nothing. Work queued while access was enabled that uses the other device's memory must have
// completed first (synchronise the streams that carry it).
func (d Device) DisablePeerAccess(peer Device) error {
	if err := ready(); err != nil {
		return err
	}
	r := C.cg_device_disable_peer_access(C.int32_t(d.ordinal), C.int32_t(peer.ordinal))
	return errorFrom("device disable peer access", r.err)
}
