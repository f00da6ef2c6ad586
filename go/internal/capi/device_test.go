//go:build cgo

package capi

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestDeviceProperties(t *testing.T) {
	dev := requireGPU(t)
	n, err := DeviceCount()
	must(t, "DeviceCount", err)
	ds, err := Devices()
	must(t, "Devices", err)
	if len(ds) != n {
		t.Fatalf("Devices() has %d devices, DeviceCount() %d", len(ds), n)
	}
	if NoDeviceReason() != "" {
		t.Errorf("NoDeviceReason() = %q with %d devices", NoDeviceReason(), n)
	}
	busID := regexp.MustCompile(`^([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$`)
	uuid := regexp.MustCompile(`^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	seen := map[[16]byte]bool{}
	for i, d := range ds {
		if d.Ordinal() != i {
			t.Errorf("Devices()[%d].Ordinal() = %d", i, d.Ordinal())
		}
		p, err := d.Properties()
		must(t, "Properties", err)
		t.Logf("device %d: %s, sm_%d%d, %d SMs, %d MiB, %s, %s", i, p.Name, p.ComputeMajor,
			p.ComputeMinor, p.MultiprocessorCount, p.TotalMemory>>20, p.PCIBusID, p.UUIDString())
		if p.Ordinal != i || p.Name == "" || p.ComputeMajor < 5 || p.MultiprocessorCount <= 0 ||
			p.WarpSize != 32 || p.MaxThreadsPerBlock < 512 || p.TotalMemory == 0 ||
			p.FreeMemory > p.TotalMemory || p.StreamPriorityGreatest > p.StreamPriorityLeast ||
			p.ClockKHz <= 0 || p.MemoryBusWidthBits <= 0 || p.L2CacheBytes <= 0 ||
			p.SharedMemoryPerBlock == 0 || p.SharedMemoryPerBlockOptin < p.SharedMemoryPerBlock ||
			p.SharedMemoryPerMultiprocessor < p.SharedMemoryPerBlock {
			t.Errorf("implausible properties of device %d: %+v", i, p)
		}
		m := busID.FindStringSubmatch(p.PCIBusID)
		if m == nil {
			t.Errorf("PCIBusID %q", p.PCIBusID)
		} else {
			var dom, bus, devno int
			fmt.Sscanf(m[1]+" "+m[2]+" "+m[3], "%x %x %x", &dom, &bus, &devno)
			if dom != p.PCIDomain || bus != p.PCIBus || devno != p.PCIDevice {
				t.Errorf("PCIBusID %q vs domain %d bus %d device %d", p.PCIBusID, p.PCIDomain, p.PCIBus, p.PCIDevice)
			}
		}
		if !uuid.MatchString(p.UUIDString()) || p.UUID == ([16]byte{}) || seen[p.UUID] {
			t.Errorf("UUID %s (zero or duplicate?)", p.UUIDString())
		}
		seen[p.UUID] = true

		free, total, err := d.MemoryInfo()
		must(t, "MemoryInfo", err)
		if total != p.TotalMemory || free == 0 || free > total {
			t.Errorf("MemoryInfo() = %d free, %d total; properties say total %d", free, total, p.TotalMemory)
		}
	}
	_ = dev

	drv, err := DriverVersion()
	must(t, "DriverVersion", err)
	rt, err := RuntimeVersion()
	must(t, "RuntimeVersion", err)
	if drv < 12000 || rt < 12000 {
		t.Errorf("driver %d, runtime %d", drv, rt)
	}
}

func TestGetDeviceOutOfRange(t *testing.T) {
	requireGPU(t)
	n, err := DeviceCount()
	must(t, "DeviceCount", err)
	for _, ord := range []int{n, n + 1, -1, 1 << 40} {
		_, err := GetDevice(ord)
		wantErr(t, fmt.Sprintf("GetDevice(%d)", ord), err, ErrInvalidDevice)
	}
	// A Device value made for an ordinal that does not exist fails in C with the same status.
	bad := Device{ordinal: int32(n)}
	_, err = bad.Properties()
	wantErr(t, "Properties of a missing device", err, ErrInvalidDevice)
	_, err = NewStream(bad, StreamOptions{})
	wantErr(t, "NewStream on a missing device", err, ErrInvalidDevice)
	_, err = NewDeviceBuffer[float32](bad, 4)
	wantErr(t, "NewDeviceBuffer on a missing device", err, ErrInvalidDevice)
	var e *Error
	if errors.As(err, &e) && (e.Op != "buffer alloc" || e.Msg == "" || !strings.Contains(e.Error(), "INVALID_DEVICE")) {
		t.Errorf("error text: %q", e.Error())
	}
}
