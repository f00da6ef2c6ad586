package capi

/*
#include "shim.h"
*/
import "C"

// Each device has one memory pool, from which every DeviceBuffer is allocated (CUDA's
// stream-ordered allocator). By default the pool keeps memory that buffers free, so a steady
// state of allocations never calls cudaMalloc.

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
	if err := ready(); err != nil {
		return err
	}
	var c C.cudago_pool_config_t
	C.cudago_pool_config_init(&c)
	c.release_threshold_bytes = C.uint64_t(cfg.ReleaseThreshold)
	c.reserve_bytes = C.uint64_t(cfg.Reserve)
	return errorFrom("pool configure", C.cg_pool_configure(C.int32_t(d.ordinal), &c))
}

// PoolStats returns the device pool's current figures.
func (d Device) PoolStats() (PoolStats, error) {
	if err := ready(); err != nil {
		return PoolStats{}, err
	}
	var s C.cudago_pool_stats_t
	C.cudago_pool_stats_init(&s)
	if err := errorFrom("pool stats", C.cg_pool_stats(C.int32_t(d.ordinal), &s)); err != nil {
		return PoolStats{}, err
	}
	return poolStatsFromC(&s), nil
}

func poolStatsFromC(s *C.cudago_pool_stats_t) PoolStats {
	return PoolStats{
		Reserved:     uint64(s.reserved_bytes),
		Used:         uint64(s.used_bytes),
		ReservedHigh: uint64(s.reserved_high_bytes),
		UsedHigh:     uint64(s.used_high_bytes),
	}
}

// TrimPool returns cached memory of the device's pool to the device until at most keep bytes
// stay reserved (only memory no buffer uses can be released).
func (d Device) TrimPool(keep uint64) error {
	if err := ready(); err != nil {
		return err
	}
	return errorFrom("pool trim", C.cg_pool_trim(C.int32_t(d.ordinal), C.uint64_t(keep)))
}

// ResetPoolHighWater resets the pool's ReservedHigh and UsedHigh to the current figures.
func (d Device) ResetPoolHighWater() error {
	if err := ready(); err != nil {
		return err
	}
	return errorFrom("pool reset high water", C.cg_pool_reset_high_water(C.int32_t(d.ordinal)))
}
