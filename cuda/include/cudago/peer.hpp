// Peer access between devices: whether one device can address another's memory directly
// (NVLink or PCIe), and turning that on and off.
#pragma once

namespace cudago {

// True when `device` can read and write `peer`'s memory directly. A device can always access
// its own memory, so can_access_peer(d, d) is true.
bool can_access_peer(int device, int peer);

// Lets `device` (its kernels and copies) access `peer`'s memory directly, including buffers of
// peer's cudago pool. Idempotent; a no-op when device == peer. Error(kNotSupported) when the
// hardware cannot do it.
void enable_peer_access(int device, int peer);

// Undoes enable_peer_access. Idempotent; a no-op when device == peer. Work queued while access
// was enabled that uses the other device's memory must have completed.
void disable_peer_access(int device, int peer);

}  // namespace cudago
