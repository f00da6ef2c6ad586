package cudago

import (
	"github.com/cudago/cudago/go/internal/capi"
)

// PoolConfig configures a device's pool (cudago_pool_config_t).
type PoolConfig struct {
	// ReleaseThreshold is the number of bytes the pool keeps reserved when streams
	// synchronise; memory above it is returned to the device. 0 means the default: keep all.
	ReleaseThreshold uint64
	// Reserve is a number of bytes to reserve now (allocated and returned to the pool), so
	// that later allocations up to that size do not reach the driver. 0 reserves nothing.
	Reserve uint64
}

// PoolStats are a device pool's figures in bytes (cudago_pool_stats_t).
type PoolStats struct {
	Reserved     uint64 // memory the pool holds from the device
	Used         uint64 // memory handed out to live buffers
	ReservedHigh uint64 // high-water marks since creation or the last ResetPoolHighWater
	UsedHigh     uint64
}

// ConfigurePool sets the release threshold of the device's pool and optionally reserves
// memory in it.
func (d Device) ConfigurePool(cfg PoolConfig) error {
	return capi.Device(d).ConfigurePool(capi.PoolConfig(cfg))
}

// PoolStats returns the device pool's current figures.
func (d Device) PoolStats() (PoolStats, error) {
	r0, r1 := capi.Device(d).PoolStats()
	return PoolStats(r0), r1
}

// TrimPool returns cached memory of the device's pool to the device until at most keep bytes
// stay reserved (only memory no buffer uses can be released).
func (d Device) TrimPool(keep uint64) error {
	return capi.Device(d).TrimPool(keep)
}

// ResetPoolHighWater resets the pool's ReservedHigh and UsedHigh to the current figures.
func (d Device) ResetPoolHighWater() error {
	return capi.Device(d).ResetPoolHighWater()
}
