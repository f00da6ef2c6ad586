package cudago

import (
	"github.com/cudago/cudago/go/internal/capi"
)

// CanAccessPeer reports whether d can read and write peer's memory directly (NVLink or PCIe).
// A device always accesses its own memory: d.CanAccessPeer(d) is true.
func (d Device) CanAccessPeer(peer Device) (bool, error) {
	return capi.Device(d).CanAccessPeer(capi.Device(peer))
}

// EnablePeerAccess lets d access peer's memory directly, buffers of peer's pool included, so
// that peer copies issued on d's streams go straight over NVLink or PCIe. It covers one
// direction: enable both d→p and p→d for copies on either device's streams. Enabling twice is
// not an error, and d.EnablePeerAccess(d) does nothing. It fails with ErrNotSupported where
// CanAccessPeer is false. The setting is process-wide.
func (d Device) EnablePeerAccess(peer Device) error {
	return capi.Device(d).EnablePeerAccess(capi.Device(peer))
}

// DisablePeerAccess undoes EnablePeerAccess: later peer copies between the two are staged
// through host memory. Disabling twice is not an error, and d.DisablePeerAccess(d) does
// nothing. Work queued while access was enabled that uses the other device's memory must have
// completed first (synchronise the streams that carry it).
func (d Device) DisablePeerAccess(peer Device) error {
	return capi.Device(d).DisablePeerAccess(capi.Device(peer))
}
