package cudago

import (
	"github.com/cudago/cudago/go/internal/capi"
)

// HostBuffer is an array of n elements of T in page-locked (pinned) host memory, allocated by
// C: the source or destination of asynchronous copies, and of the fastest synchronous ones.
// Its memory is an ordinary Go slice (Slice). Close it when done.
type HostBuffer[T Element] capi.HostBuffer[T]

// NewHostBuffer allocates n zero-filled elements of pinned host memory, created through dev
// and usable with every device. n = 0 gives a legal empty buffer.
func NewHostBuffer[T Element](dev Device, n int) (*HostBuffer[T], error) {
	r0, r1 := capi.NewHostBuffer[T](capi.Device(dev), n)
	return (*HostBuffer[T])(r0), r1
}

// Slice returns the buffer's memory as a slice of Len() elements, nil after Close.
//
// The slice points into C memory: it does not keep the buffer alive and is invalid after
// Close (using it then is a use after free). Keep a reference to the buffer, and do not Close
// it, while you use the slice, and do not touch elements that a queued asynchronous copy is
// still reading or writing.
func (hb *HostBuffer[T]) Slice() []T {
	return (*capi.HostBuffer[T])(hb).Slice()
}

// Len returns the number of elements.
func (hb *HostBuffer[T]) Len() int {
	return (*capi.HostBuffer[T])(hb).Len()
}

// Bytes returns the size in bytes.
func (hb *HostBuffer[T]) Bytes() uint64 {
	return (*capi.HostBuffer[T])(hb).Bytes()
}

// Close waits for the copies queued with the buffer to finish, then frees it. It waits for
// method calls in flight on hb to return; later calls return an error matching ErrClosed, and
// Slice returns nil. A second Close returns nil.
func (hb *HostBuffer[T]) Close() error {
	return (*capi.HostBuffer[T])(hb).Close()
}

// MappedBuffer is pinned host memory that is also mapped into a device's address space
// (zero-copy): kernels given its device view (Device) read and write the host memory
// directly, over the bus. The host side is an ordinary slice (Slice), and Host returns
// the buffer as a HostBuffer for the asynchronous copies.
//
// Host writes are visible to work queued after them; results written by the GPU are visible
// in Slice after the stream is synchronised.
type MappedBuffer[T Element] capi.MappedBuffer[T]

// NewMappedBuffer allocates n zero-filled elements of host memory mapped into dev. The device
// must support mapped memory (DeviceProperties.CanMapHostMemory).
func NewMappedBuffer[T Element](dev Device, n int) (*MappedBuffer[T], error) {
	r0, r1 := capi.NewMappedBuffer[T](capi.Device(dev), n)
	return (*MappedBuffer[T])(r0), r1
}

// Slice returns the buffer's memory as a slice; see [HostBuffer.Slice].
func (m *MappedBuffer[T]) Slice() []T {
	return (*capi.MappedBuffer[T])(m).Slice()
}

// Len returns the number of elements.
func (m *MappedBuffer[T]) Len() int {
	return (*capi.MappedBuffer[T])(m).Len()
}

// Bytes returns the size in bytes.
func (m *MappedBuffer[T]) Bytes() uint64 {
	return (*capi.MappedBuffer[T])(m).Bytes()
}

// Close frees the buffer once the copies queued with it are done; device views from Device
// keep the memory allocated until they are closed too. See [HostBuffer.Close].
func (m *MappedBuffer[T]) Close() error {
	return (*capi.MappedBuffer[T])(m).Close()
}

// Host returns m as a HostBuffer, for asynchronous copies.
func (m *MappedBuffer[T]) Host() *HostBuffer[T] {
	r0 := (*capi.MappedBuffer[T])(m).Host()
	return (*HostBuffer[T])(r0)
}

// Device returns a device-buffer view of the mapped memory, for kernels and copies on the
// device: what they write lands in Slice. The caller must Close the view; the host memory
// stays allocated while the view lives, even if m is closed first.
func (m *MappedBuffer[T]) Device() (*DeviceBuffer[T], error) {
	r0, r1 := (*capi.MappedBuffer[T])(m).Device()
	return (*DeviceBuffer[T])(r0), r1
}
