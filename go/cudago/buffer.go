package cudago

import (
	"github.com/cudago/cudago/go/internal/capi"
)

// Numeric is the set of element types of typed buffers: fixed-size numbers that contain no
// pointers, so their memory can be handed to C and copied byte for byte to and from the GPU.
type Numeric = capi.Numeric

// Complex is the complex element types, for FFT data.
type Complex = capi.Complex

// Element is every element type a buffer can hold: the Numeric types and the Complex ones.
// Kernels take Numeric (or narrower) types; copies, memsets and FFTs take any Element.
type Element = capi.Element

// DeviceBuffer is an array of n elements of T in device memory, allocated from the device's
// pool. Methods are safe for concurrent use (the data is not: order conflicting copies with
// streams and events). Close it when done.
type DeviceBuffer[T Element] capi.DeviceBuffer[T]

// NewDeviceBuffer allocates n elements on dev. The buffer is usable on any stream when the
// call returns. Its content is undefined. n = 0 gives a legal empty buffer.
func NewDeviceBuffer[T Element](dev Device, n int) (*DeviceBuffer[T], error) {
	r0, r1 := capi.NewDeviceBuffer[T](capi.Device(dev), n)
	return (*DeviceBuffer[T])(r0), r1
}

// NewDeviceBufferAsync allocates n elements on s's device, in stream order: the buffer is
// usable by work queued on s after this call; work on other streams must first wait for an
// event recorded on s after it. The call does not block.
func NewDeviceBufferAsync[T Element](s *Stream, n int) (*DeviceBuffer[T], error) {
	r0, r1 := capi.NewDeviceBufferAsync[T]((*capi.Stream)(s), n)
	return (*DeviceBuffer[T])(r0), r1
}

// View returns b's memory as a buffer of To elements, for data that is both: a complex64
// buffer as float32 pairs, the real input of an in-place R2C FFT inside its complex output.
// The view shares b's handle: it is valid while b is open, and closing either closes both. The
// size in bytes must be a multiple of To's (ErrInvalidArgument otherwise).
func View[To, From Element](b *DeviceBuffer[From]) (*DeviceBuffer[To], error) {
	r0, r1 := capi.View[To, From]((*capi.DeviceBuffer[From])(b))
	return (*DeviceBuffer[To])(r0), r1
}

// Len returns the number of elements.
func (b *DeviceBuffer[T]) Len() int {
	return (*capi.DeviceBuffer[T])(b).Len()
}

// Bytes returns the size in bytes.
func (b *DeviceBuffer[T]) Bytes() uint64 {
	return (*capi.DeviceBuffer[T])(b).Bytes()
}

// Device returns the buffer's device.
func (b *DeviceBuffer[T]) Device() Device {
	r0 := (*capi.DeviceBuffer[T])(b).Device()
	return Device(r0)
}

// CopyFromHost copies src, which must have Len() elements, into the buffer. It returns when
// the copy is complete; src is not used after that.
func (b *DeviceBuffer[T]) CopyFromHost(src []T) error {
	return (*capi.DeviceBuffer[T])(b).CopyFromHost(src)
}

// CopyFromHostAt copies src into the elements [off, off+len(src)) of the buffer. It returns
// when the copy is complete.
func (b *DeviceBuffer[T]) CopyFromHostAt(off int, src []T) error {
	return (*capi.DeviceBuffer[T])(b).CopyFromHostAt(off, src)
}

// CopyToHost copies the buffer into dst, which must have Len() elements. It returns when the
// copy is complete. Like every synchronous copy it is ordered after all work queued with the
// buffer on any stream, so it can read back a kernel's result without a Synchronize first.
func (b *DeviceBuffer[T]) CopyToHost(dst []T) error {
	return (*capi.DeviceBuffer[T])(b).CopyToHost(dst)
}

// CopyToHostAt copies the elements [off, off+len(dst)) of the buffer into dst. It returns when
// the copy is complete.
func (b *DeviceBuffer[T]) CopyToHostAt(dst []T, off int) error {
	return (*capi.DeviceBuffer[T])(b).CopyToHostAt(dst, off)
}

// CopyFrom copies src, which must have the same length, into the buffer. It returns when the
// copy is complete. src may live on another device (a peer copy): the copy then goes directly
// over NVLink or PCIe where peer access is enabled ([Device.EnablePeerAccess]) and is staged
// through host memory by the driver otherwise. Like every synchronous copy it is ordered after
// all work queued with both buffers on any stream.
func (b *DeviceBuffer[T]) CopyFrom(src *DeviceBuffer[T]) error {
	return (*capi.DeviceBuffer[T])(b).CopyFrom((*capi.DeviceBuffer[T])(src))
}

// CopyFromAsync queues a copy of src, which must have the same length, into the buffer on s.
// With both buffers on one device, s must be on that device and the copy is ordered on s only.
// Across devices (a peer copy, see CopyFrom) s may be on either buffer's device, and the copy
// is also ordered after all work queued with both buffers on any stream, so a result written
// on the other device's stream needs no event first.
func (b *DeviceBuffer[T]) CopyFromAsync(s *Stream, src *DeviceBuffer[T]) error {
	return (*capi.DeviceBuffer[T])(b).CopyFromAsync((*capi.Stream)(s), (*capi.DeviceBuffer[T])(src))
}

// CopyFromHostAsync queues a copy of the pinned host buffer src, which must have Len()
// elements, into the buffer on s. Do not write src.Slice() until s has passed the copy.
func (b *DeviceBuffer[T]) CopyFromHostAsync(s *Stream, src *HostBuffer[T]) error {
	return (*capi.DeviceBuffer[T])(b).CopyFromHostAsync((*capi.Stream)(s), (*capi.HostBuffer[T])(src))
}

// CopyToHostAsync queues a copy of the buffer into the pinned host buffer dst, which must have
// Len() elements, on s. Read dst.Slice() only after s has passed the copy (Synchronize, Wait,
// or an event).
func (b *DeviceBuffer[T]) CopyToHostAsync(s *Stream, dst *HostBuffer[T]) error {
	return (*capi.DeviceBuffer[T])(b).CopyToHostAsync((*capi.Stream)(s), (*capi.HostBuffer[T])(dst))
}

// Memset sets every byte of the buffer to value and returns when done.
func (b *DeviceBuffer[T]) Memset(value byte) error {
	return (*capi.DeviceBuffer[T])(b).Memset(value)
}

// MemsetAsync queues, on s, the setting of every byte of the buffer to value.
func (b *DeviceBuffer[T]) MemsetAsync(s *Stream, value byte) error {
	return (*capi.DeviceBuffer[T])(b).MemsetAsync((*capi.Stream)(s), value)
}

// Close frees the buffer, in stream order after all work queued with it, so closing a buffer
// that queued work still uses is safe. Close waits for method calls in flight on b to return;
// later calls return an error matching ErrClosed. A second Close returns nil.
func (b *DeviceBuffer[T]) Close() error {
	return (*capi.DeviceBuffer[T])(b).Close()
}
