package capi

/*
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// hostBuf is the untyped state of a HostBuffer or MappedBuffer.
type hostBuf struct {
	x      *handle[C.cudago_host_buffer_t]
	ptr    unsafe.Pointer // host address, C memory
	dev    int32
	n      int
	bytes  uint64
	mapped bool
}

func destroyHostBuffer(h C.cudago_host_buffer_t) *C.cg_err_t { return C.cg_host_buffer_free(h) }

// HostBuffer is an array of n elements of T in page-locked (pinned) host memory, allocated by
// C: the source or destination of asynchronous copies, and of the fastest synchronous ones.
// Its memory is an ordinary Go slice (Slice). Close it when done.
type HostBuffer[T Element] struct {
	c *hostBuf
	s []T
}

// NewHostBuffer allocates n zero-filled elements of pinned host memory, created through dev
// and usable with every device. n = 0 gives a legal empty buffer.
func NewHostBuffer[T Element](dev Device, n int) (*HostBuffer[T], error) {
	hb := new(HostBuffer[T])
	if err := hb.init(dev, n, false, typeLabel[T]("HostBuffer")); err != nil {
		return nil, err
	}
	return hb, nil
}

func (hb *HostBuffer[T]) init(dev Device, n int, mapped bool, label string) error {
	const op = "host buffer alloc"
	if err := ready(); err != nil {
		return err
	}
	bytes, err := byteSize[T](op, n)
	if err != nil {
		return err
	}
	flags := C.uint32_t(C.CUDAGO_HOST_PINNED)
	if mapped {
		flags = C.CUDAGO_HOST_MAPPED
	}
	r := C.cg_host_buffer_alloc(C.int32_t(dev.ordinal), C.uint64_t(bytes), flags)
	if r.err != nil {
		return convertError(op, r.err)
	}
	c := &hostBuf{ptr: r.host, dev: dev.ordinal, n: n, bytes: bytes, mapped: mapped}
	c.x = newHandle(r.handle, "host buffer", destroyHostBuffer,
		leakInfo{what: label, dev: dev.ordinal, buffer: true, n: n, bytes: bytes})
	hb.c = c
	if n > 0 && c.ptr != nil {
		hb.s = unsafe.Slice((*T)(c.ptr), n)
	} else {
		hb.s = []T{}
	}
	return nil
}

// use checks hb and takes a reference for one C call; the caller must call hb.drop.
func (hb *HostBuffer[T]) use(op string) error {
	if hb == nil || hb.c == nil {
		return errNil(op, "*HostBuffer")
	}
	if !hb.c.x.acquire() {
		return errClosed(op, "host buffer")
	}
	return nil
}

// drop releases the reference taken by use.
func (hb *HostBuffer[T]) drop() { hb.c.x.release() }

// Slice returns the buffer's memory as a slice of Len() elements, nil after Close.
//
// The slice points into C memory: it does not keep the buffer alive and is invalid after
// Close (using it then is a use after free). Keep a reference to the buffer, and do not Close
// it, while you use the slice, and do not touch elements that a queued asynchronous copy is
// still reading or writing.
func (hb *HostBuffer[T]) Slice() []T {
	if hb == nil || hb.c == nil || hb.c.x.isClosed() {
		return nil
	}
	return hb.s
}

// Len returns the number of elements.
func (hb *HostBuffer[T]) Len() int {
	if hb == nil || hb.c == nil {
		return 0
	}
	return hb.c.n
}

// Bytes returns the size in bytes.
func (hb *HostBuffer[T]) Bytes() uint64 {
	if hb == nil || hb.c == nil {
		return 0
	}
	return hb.c.bytes
}

// Close waits for the copies queued with the buffer to finish, then frees it. It waits for
// method calls in flight on hb to return; later calls return an error matching ErrClosed, and
// Slice returns nil. A second Close returns nil.
func (hb *HostBuffer[T]) Close() error {
	if hb == nil || hb.c == nil {
		return nil
	}
	return hb.c.x.close("host buffer free")
}

// MappedBuffer is pinned host memory that is also mapped into a device's address space
// (zero-copy): kernels given its device view (Device) read and write the host memory
// directly, over the bus. The host side is an ordinary slice (Slice), and Host returns
// the buffer as a HostBuffer for the asynchronous copies.
//
// Host writes are visible to work queued after them; results written by the GPU are visible
// in Slice after the stream is synchronised.
type MappedBuffer[T Element] struct {
	host HostBuffer[T]
}

// NewMappedBuffer allocates n zero-filled elements of host memory mapped into dev. The device
// must support mapped memory (DeviceProperties.CanMapHostMemory).
func NewMappedBuffer[T Element](dev Device, n int) (*MappedBuffer[T], error) {
	m := new(MappedBuffer[T])
	if err := m.host.init(dev, n, true, typeLabel[T]("MappedBuffer")); err != nil {
		return nil, err
	}
	return m, nil
}

// Slice returns the buffer's memory as a slice; see [HostBuffer.Slice].
func (m *MappedBuffer[T]) Slice() []T {
	if m == nil {
		return nil
	}
	return m.host.Slice()
}

// Len returns the number of elements.
func (m *MappedBuffer[T]) Len() int {
	if m == nil {
		return 0
	}
	return m.host.Len()
}

// Bytes returns the size in bytes.
func (m *MappedBuffer[T]) Bytes() uint64 {
	if m == nil {
		return 0
	}
	return m.host.Bytes()
}

// Close frees the buffer once the copies queued with it are done; device views from Device
// keep the memory allocated until they are closed too. See [HostBuffer.Close].
func (m *MappedBuffer[T]) Close() error {
	if m == nil {
		return nil
	}
	return m.host.Close()
}

// Host returns m as a HostBuffer, for asynchronous copies.
func (m *MappedBuffer[T]) Host() *HostBuffer[T] {
	if m == nil {
		return nil
	}
	return &m.host
}

// Device returns a device-buffer view of the mapped memory, for kernels and copies on the
// device: what they write lands in Slice. The caller must Close the view; the host memory
// stays allocated while the view lives, even if m is closed first.
func (m *MappedBuffer[T]) Device() (*DeviceBuffer[T], error) {
	const op = "buffer from mapped"
	var hb *HostBuffer[T]
	if m != nil {
		hb = &m.host
	}
	if err := hb.use(op); err != nil {
		return nil, err
	}
	r := C.cg_buffer_from_mapped(hb.c.x.h)
	c := hb.c
	hb.drop()
	runtime.KeepAlive(m)
	if r.err != nil {
		return nil, convertError(op, r.err)
	}
	return &DeviceBuffer[T]{c: newDevBuf(r.handle, c.dev, c.n, c.bytes, typeLabel[T]("DeviceBuffer (mapped view)"))}, nil
}
