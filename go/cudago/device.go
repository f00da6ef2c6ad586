package cudago

import (
	"github.com/cudago/cudago/go/internal/capi"
)

// Device is a CUDA device, named by its ordinal. It is a value: copy it freely. The zero value
// is device 0; [DeviceAt] checks that an ordinal exists.
type Device capi.Device

// Ordinal returns the device's CUDA ordinal.
func (d Device) Ordinal() int {
	return capi.Device(d).Ordinal()
}

// String returns "cuda:N".
func (d Device) String() string {
	return capi.Device(d).String()
}

// DeviceCount returns the number of usable CUDA devices. It is 0, with a nil error, on a
// machine without a GPU or driver; [NoDeviceReason] then says why.
func DeviceCount() (int, error) {
	return capi.DeviceCount()
}

// NoDeviceReason says why [DeviceCount] is 0 ("" when there are devices).
func NoDeviceReason() string {
	return capi.NoDeviceReason()
}

// Devices returns every usable device, in ordinal order (empty without a GPU).
func Devices() ([]Device, error) {
	r0, r1 := capi.Devices()
	return capi.CastSlice[capi.Device, Device](r0), r1
}

// DeviceAt returns the device with the given ordinal. It fails with ErrNoDevice when the
// machine has no usable device and with ErrInvalidDevice when the ordinal is out of range.
func DeviceAt(ordinal int) (Device, error) {
	r0, r1 := capi.GetDevice(ordinal)
	return Device(r0), r1
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
	return capi.DeviceProperties(p).UUIDString()
}

// Properties returns the device's properties.
func (d Device) Properties() (DeviceProperties, error) {
	r0, r1 := capi.Device(d).Properties()
	return DeviceProperties(r0), r1
}

// MemoryInfo returns the device's free and total memory in bytes, as cudaMemGetInfo reports
// them.
func (d Device) MemoryInfo() (free, total uint64, err error) {
	return capi.Device(d).MemoryInfo()
}

// DriverVersion returns the CUDA driver version (e.g. 13000 for 13.0), 0 where no driver is
// installed.
func DriverVersion() (int, error) {
	return capi.DriverVersion()
}

// RuntimeVersion returns the version of the CUDA runtime inside libcudago (e.g. 13000).
func RuntimeVersion() (int, error) {
	return capi.RuntimeVersion()
}
