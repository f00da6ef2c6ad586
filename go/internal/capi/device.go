package capi

/*
#include "shim.h"
*/
import "C"

import (
	"encoding/hex"
	"strconv"
)

// Device is a CUDA device, named by its ordinal. It is a value: copy it freely. The zero value
// is device 0; [GetDevice] checks that an ordinal exists.
type Device struct {
	ordinal int32
}

// Ordinal returns the device's CUDA ordinal.
func (d Device) Ordinal() int { return int(d.ordinal) }

// String returns "cuda:N".
func (d Device) String() string { return "cuda:" + strconv.Itoa(int(d.ordinal)) }

// DeviceCount returns the number of usable CUDA devices. It is 0, with a nil error, on a
// machine without a GPU or driver; [NoDeviceReason] then says why.
func DeviceCount() (int, error) {
	if err := ready(); err != nil {
		return 0, err
	}
	r := C.cg_device_count()
	if r.err != nil {
		return 0, convertError("device count", r.err)
	}
	return int(r.value), nil
}

// NoDeviceReason says why [DeviceCount] is 0 ("" when there are devices).
func NoDeviceReason() string {
	return C.GoString(C.cudago_no_device_reason())
}

// Devices returns every usable device, in ordinal order (empty without a GPU).
func Devices() ([]Device, error) {
	n, err := DeviceCount()
	if err != nil {
		return nil, err
	}
	ds := make([]Device, n)
	for i := range ds {
		ds[i] = Device{ordinal: int32(i)}
	}
	return ds, nil
}

// GetDevice returns the device with the given ordinal. It fails with ErrNoDevice when the
// machine has no usable device and with ErrInvalidDevice when the ordinal is out of range.
func GetDevice(ordinal int) (Device, error) {
	const op = "device get"
	n, err := DeviceCount()
	if err != nil {
		return Device{}, err
	}
	if n == 0 {
		return Device{}, &Error{Status: StatusNoDevice, Op: op, Msg: "no CUDA device: " + NoDeviceReason()}
	}
	if ordinal < 0 || ordinal >= n {
		return Device{}, &Error{Status: StatusInvalidDevice, Op: op,
			Msg: "device ordinal " + strconv.Itoa(ordinal) + " out of range [0, " + strconv.Itoa(n) + ")"}
	}
	return Device{ordinal: int32(ordinal)}, nil
}

// DeviceProperties describes a device (cudago_device_properties_t).
type DeviceProperties struct {
	Ordinal                       int
	Name                          string
	UUID                          [16]byte
	PCIBusID                      string // "0000:1a:00.0"
	PCIDomain                     int
	PCIBus                        int
	PCIDevice                     int
	ComputeMajor                  int // compute capability, e.g. 9.0 on H100
	ComputeMinor                  int
	MultiprocessorCount           int
	ClockKHz                      int // peak SM clock
	MemoryClockKHz                int // peak memory clock
	MemoryBusWidthBits            int
	L2CacheBytes                  int
	MaxThreadsPerBlock            int
	MaxThreadsPerMultiprocessor   int
	MaxBlocksPerMultiprocessor    int
	RegistersPerMultiprocessor    int
	WarpSize                      int
	AsyncEngineCount              int
	ECCEnabled                    bool
	Integrated                    bool
	CanMapHostMemory              bool
	MemoryPoolsSupported          bool
	StreamPriorityLeast           int // numerically largest = lowest priority
	StreamPriorityGreatest        int // numerically smallest = highest priority
	TotalMemory                   uint64
	FreeMemory                    uint64 // at the time of the call
	SharedMemoryPerBlock          uint64
	SharedMemoryPerBlockOptin     uint64
	SharedMemoryPerMultiprocessor uint64
}

// UUIDString formats the UUID as nvidia-smi does: "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
func (p DeviceProperties) UUIDString() string {
	u := p.UUID[:]
	return "GPU-" + hex.EncodeToString(u[0:4]) + "-" + hex.EncodeToString(u[4:6]) + "-" +
		hex.EncodeToString(u[6:8]) + "-" + hex.EncodeToString(u[8:10]) + "-" +
		hex.EncodeToString(u[10:16])
}

// Properties returns the device's properties.
func (d Device) Properties() (DeviceProperties, error) {
	if err := ready(); err != nil {
		return DeviceProperties{}, err
	}
	var p C.cudago_device_properties_t
	C.cudago_device_properties_init(&p)
	if err := errorFrom("device properties", C.cg_device_properties(C.int32_t(d.ordinal), &p)); err != nil {
		return DeviceProperties{}, err
	}
	return propertiesFromC(&p), nil
}

func propertiesFromC(p *C.cudago_device_properties_t) DeviceProperties {
	var uuid [16]byte
	for i := range uuid {
		uuid[i] = byte(p.uuid[i])
	}
	return DeviceProperties{
		Ordinal:                       int(p.ordinal),
		Name:                          cArrayString(p.name[:]),
		UUID:                          uuid,
		PCIBusID:                      cArrayString(p.pci_bus_id[:]),
		PCIDomain:                     int(p.pci_domain),
		PCIBus:                        int(p.pci_bus),
		PCIDevice:                     int(p.pci_device),
		ComputeMajor:                  int(p.compute_major),
		ComputeMinor:                  int(p.compute_minor),
		MultiprocessorCount:           int(p.multiprocessor_count),
		ClockKHz:                      int(p.clock_khz),
		MemoryClockKHz:                int(p.memory_clock_khz),
		MemoryBusWidthBits:            int(p.memory_bus_width_bits),
		L2CacheBytes:                  int(p.l2_cache_bytes),
		MaxThreadsPerBlock:            int(p.max_threads_per_block),
		MaxThreadsPerMultiprocessor:   int(p.max_threads_per_multiprocessor),
		MaxBlocksPerMultiprocessor:    int(p.max_blocks_per_multiprocessor),
		RegistersPerMultiprocessor:    int(p.registers_per_multiprocessor),
		WarpSize:                      int(p.warp_size),
		AsyncEngineCount:              int(p.async_engine_count),
		ECCEnabled:                    p.ecc_enabled != 0,
		Integrated:                    p.integrated != 0,
		CanMapHostMemory:              p.can_map_host_memory != 0,
		MemoryPoolsSupported:          p.memory_pools_supported != 0,
		StreamPriorityLeast:           int(p.stream_priority_least),
		StreamPriorityGreatest:        int(p.stream_priority_greatest),
		TotalMemory:                   uint64(p.total_memory_bytes),
		FreeMemory:                    uint64(p.free_memory_bytes),
		SharedMemoryPerBlock:          uint64(p.shared_memory_per_block_bytes),
		SharedMemoryPerBlockOptin:     uint64(p.shared_memory_per_block_optin_bytes),
		SharedMemoryPerMultiprocessor: uint64(p.shared_memory_per_multiprocessor_bytes),
	}
}

// MemoryInfo returns the device's free and total memory in bytes, as cudaMemGetInfo reports
// them.
func (d Device) MemoryInfo() (free, total uint64, err error) {
	if err := ready(); err != nil {
		return 0, 0, err
	}
	r := C.cg_device_memory_info(C.int32_t(d.ordinal))
	if r.err != nil {
		return 0, 0, convertError("device memory info", r.err)
	}
	return uint64(r.free_bytes), uint64(r.total_bytes), nil
}

// DriverVersion returns the CUDA driver version (e.g. 13000 for 13.0), 0 where no driver is
// installed.
func DriverVersion() (int, error) {
	if err := ready(); err != nil {
		return 0, err
	}
	r := C.cg_driver_version()
	if r.err != nil {
		return 0, convertError("driver version", r.err)
	}
	return int(r.value), nil
}

// RuntimeVersion returns the version of the CUDA runtime inside libcudago (e.g. 13000).
func RuntimeVersion() (int, error) {
	if err := ready(); err != nil {
		return 0, err
	}
	r := C.cg_runtime_version()
	if r.err != nil {
		return 0, convertError("runtime version", r.err)
	}
	return int(r.value), nil
}
