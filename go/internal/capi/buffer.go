package capi

/*
#include "shim.h"
*/
import "C"

import (
	"math"
	"reflect"
	"runtime"
	"strconv"
	"unsafe"
)

// Numeric is the set of element types of typed buffers: fixed-size numbers that contain no
// pointers, so their memory can be handed to C and copied byte for byte to and from the GPU.
type Numeric interface {
	~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64 | ~float32 | ~float64
}

// Complex is the complex element types, for FFT data.
type Complex interface {
	~complex64 | ~complex128
}

// Element is every element type a buffer can hold: the Numeric types and the Complex ones.
// Kernels take Numeric (or narrower) types; copies, memsets and FFTs take any Element.
type Element interface {
	Numeric | Complex
}

func sizeOf[T Element]() uint64 {
	var z T
	return uint64(unsafe.Sizeof(z))
}

// byteSize returns n*sizeof(T), refusing negative n and sizes beyond math.MaxInt64.
func byteSize[T Element](op string, n int) (uint64, error) {
	if n < 0 {
		return 0, errArg(op, "negative length "+strconv.Itoa(n))
	}
	sz := sizeOf[T]()
	if uint64(n) > math.MaxInt64/sz {
		return 0, errArg(op, "length "+strconv.Itoa(n)+" times "+strconv.FormatUint(sz, 10)+
			"-byte elements overflows the byte size")
	}
	return uint64(n) * sz, nil
}

// typeLabel names a buffer type for leak reports ("DeviceBuffer[float32]"); computed only in
// debug mode.
func typeLabel[T Element](kind string) string {
	if !debugLeaks {
		return kind
	}
	return kind + "[" + reflect.TypeFor[T]().String() + "]"
}

// devBuf is the untyped state of a DeviceBuffer.
type devBuf struct {
	x     *handle[C.cudago_buffer_t]
	dev   int32
	n     int
	bytes uint64
}

// newDevBuf wraps a buffer of n elements; label ("DeviceBuffer[float32]") is for leak reports.
func newDevBuf(h C.cudago_buffer_t, dev int32, n int, bytes uint64, label string) *devBuf {
	return &devBuf{x: newHandle(h, "device buffer", destroyBuffer,
		leakInfo{what: label, dev: dev, buffer: true, n: n, bytes: bytes}), dev: dev, n: n, bytes: bytes}
}

func destroyBuffer(h C.cudago_buffer_t) *C.cg_err_t { return C.cg_buffer_free(h) }

// DeviceBuffer is an array of n elements of T in device memory, allocated from the device's
// pool. Methods are safe for concurrent use (the data is not: order conflicting copies with
// streams and events). Close it when done.
type DeviceBuffer[T Element] struct {
	c *devBuf
}

// NewDeviceBuffer allocates n elements on dev. The buffer is usable on any stream when the
// call returns. Its content is undefined. n = 0 gives a legal empty buffer.
func NewDeviceBuffer[T Element](dev Device, n int) (*DeviceBuffer[T], error) {
	const op = "buffer alloc"
	if err := ready(); err != nil {
		return nil, err
	}
	bytes, err := byteSize[T](op, n)
	if err != nil {
		return nil, err
	}
	r := C.cg_buffer_alloc(C.int32_t(dev.ordinal), C.uint64_t(bytes))
	if r.err != nil {
		return nil, convertError(op, r.err)
	}
	return &DeviceBuffer[T]{c: newDevBuf(r.handle, dev.ordinal, n, bytes, typeLabel[T]("DeviceBuffer"))}, nil
}

// NewDeviceBufferAsync allocates n elements on s's device, in stream order: the buffer is
// usable by work queued on s after this call; work on other streams must first wait for an
// event recorded on s after it. The call does not block.
func NewDeviceBufferAsync[T Element](s *Stream, n int) (*DeviceBuffer[T], error) {
	const op = "buffer alloc async"
	bytes, err := byteSize[T](op, n)
	if err != nil {
		return nil, err
	}
	if err := s.use(op); err != nil {
		return nil, err
	}
	r := C.cg_buffer_alloc_async(s.x.h, C.uint64_t(bytes))
	s.drop()
	runtime.KeepAlive(s)
	if r.err != nil {
		return nil, convertError(op, r.err)
	}
	return &DeviceBuffer[T]{c: newDevBuf(r.handle, s.dev, n, bytes, typeLabel[T]("DeviceBuffer"))}, nil
}

// View returns b's memory as a buffer of To elements, for data that is both: a complex64
// buffer as float32 pairs, the real input of an in-place R2C FFT inside its complex output.
// The view shares b's handle: it is valid while b is open, and closing either closes both. The
// size in bytes must be a multiple of To's (ErrInvalidArgument otherwise).
func View[To, From Element](b *DeviceBuffer[From]) (*DeviceBuffer[To], error) {
	const op = "buffer view"
	if err := b.use(op); err != nil {
		return nil, err
	}
	defer b.drop()
	if b.c.bytes%sizeOf[To]() != 0 {
		return nil, errArg(op, strconv.FormatUint(b.c.bytes, 10)+" bytes are not a whole number of "+
			strconv.FormatUint(sizeOf[To](), 10)+"-byte elements")
	}
	return viewAs[To](b), nil
}

// use checks b and takes a reference for one C call; the caller must call b.drop.
func (b *DeviceBuffer[T]) use(op string) error {
	if b == nil || b.c == nil {
		return errNil(op, "*DeviceBuffer")
	}
	if !b.c.x.acquire() {
		return errClosed(op, "device buffer")
	}
	return nil
}

// drop releases the reference taken by use.
func (b *DeviceBuffer[T]) drop() { b.c.x.release() }

// Len returns the number of elements.
func (b *DeviceBuffer[T]) Len() int {
	if b == nil || b.c == nil {
		return 0
	}
	return b.c.n
}

// Bytes returns the size in bytes.
func (b *DeviceBuffer[T]) Bytes() uint64 {
	if b == nil || b.c == nil {
		return 0
	}
	return b.c.bytes
}

// Device returns the buffer's device.
func (b *DeviceBuffer[T]) Device() Device {
	if b == nil || b.c == nil {
		return Device{}
	}
	return Device{ordinal: b.c.dev}
}

// checkRange validates the element range [off, off+n) of a buffer of length size.
func checkRange(op string, off, n, size int) error {
	if off < 0 || off > size || n > size-off {
		return errRange(op, "elements ["+strconv.Itoa(off)+", "+strconv.Itoa(off)+"+"+
			strconv.Itoa(n)+") are outside a buffer of "+strconv.Itoa(size))
	}
	return nil
}

// checkSameLen validates that the other side of a whole-buffer operation has the buffer's
// length.
func checkSameLen(op string, what string, n, want int) error {
	if n != want {
		return errRange(op, what+" has "+strconv.Itoa(n)+" elements, the device buffer "+
			strconv.Itoa(want)+"; they must be equal")
	}
	return nil
}

// CopyFromHost copies src, which must have Len() elements, into the buffer. It returns when
// the copy is complete; src is not used after that.
func (b *DeviceBuffer[T]) CopyFromHost(src []T) error {
	return b.copyIn("copy h2d", 0, src, true)
}

// CopyFromHostAt copies src into the elements [off, off+len(src)) of the buffer. It returns
// when the copy is complete.
func (b *DeviceBuffer[T]) CopyFromHostAt(off int, src []T) error {
	return b.copyIn("copy h2d", off, src, false)
}

func (b *DeviceBuffer[T]) copyIn(op string, off int, src []T, whole bool) error {
	if err := b.use(op); err != nil {
		return err
	}
	var err error
	if whole {
		err = checkSameLen(op, "source slice", len(src), b.c.n)
	} else {
		err = checkRange(op, off, len(src), b.c.n)
	}
	if err != nil {
		b.drop()
		return err
	}
	var info *C.cg_err_t
	if len(src) > 0 {
		// Byte offset and length: the range was checked against the buffer, whose byte size
		// fits in an int64, so neither product overflows.
		sz := sizeOf[T]()
		info = C.cg_copy_h2d(unsafe.Pointer(unsafe.SliceData(src)), b.c.x.h,
			C.uint64_t(uint64(off)*sz), C.uint64_t(uint64(len(src))*sz))
	}
	b.drop()
	runtime.KeepAlive(b)
	return errorFrom(op, info)
}

// CopyToHost copies the buffer into dst, which must have Len() elements. It returns when the
// copy is complete. Like every synchronous copy it is ordered after all work queued with the
// buffer on any stream, so it can read back a kernel's result without a Synchronize first.
func (b *DeviceBuffer[T]) CopyToHost(dst []T) error {
	return b.copyOut("copy d2h", dst, 0, true)
}

// CopyToHostAt copies the elements [off, off+len(dst)) of the buffer into dst. It returns when
// the copy is complete.
func (b *DeviceBuffer[T]) CopyToHostAt(dst []T, off int) error {
	return b.copyOut("copy d2h", dst, off, false)
}

func (b *DeviceBuffer[T]) copyOut(op string, dst []T, off int, whole bool) error {
	if err := b.use(op); err != nil {
		return err
	}
	var err error
	if whole {
		err = checkSameLen(op, "destination slice", len(dst), b.c.n)
	} else {
		err = checkRange(op, off, len(dst), b.c.n)
	}
	if err != nil {
		b.drop()
		return err
	}
	var info *C.cg_err_t
	if len(dst) > 0 {
		sz := sizeOf[T]() // as in copyIn: the checked range cannot overflow
		info = C.cg_copy_d2h(b.c.x.h, C.uint64_t(uint64(off)*sz),
			unsafe.Pointer(unsafe.SliceData(dst)), C.uint64_t(uint64(len(dst))*sz))
	}
	b.drop()
	runtime.KeepAlive(b)
	return errorFrom(op, info)
}

// CopyFrom copies src, which must have the same length, into the buffer. It returns when the
// copy is complete. src may live on another device (a peer copy): the copy then goes directly
// over NVLink or PCIe where peer access is enabled ([Device.EnablePeerAccess]) and is staged
// through host memory by the driver otherwise. Like every synchronous copy it is ordered after
// all work queued with both buffers on any stream.
func (b *DeviceBuffer[T]) CopyFrom(src *DeviceBuffer[T]) error {
	const op = "copy d2d"
	if err := useAll(op, b, src); err != nil {
		return err
	}
	var info *C.cg_err_t
	n, want := src.c.n, b.c.n
	if n == want {
		info = C.cg_copy_d2d(src.c.x.h, 0, b.c.x.h, 0, C.uint64_t(b.c.bytes))
	}
	dropAll(b, src)
	if n != want {
		return checkSameLen(op, "source buffer", n, want)
	}
	return errorFrom(op, info)
}

// CopyFromAsync queues a copy of src, which must have the same length, into the buffer on s.
// With both buffers on one device, s must be on that device and the copy is ordered on s only.
// Across devices (a peer copy, see CopyFrom) s may be on either buffer's device, and the copy
// is also ordered after all work queued with both buffers on any stream, so a result written
// on the other device's stream needs no event first.
func (b *DeviceBuffer[T]) CopyFromAsync(s *Stream, src *DeviceBuffer[T]) error {
	const op = "copy d2d async"
	if err := useAll(op, b, src, s); err != nil {
		return err
	}
	var info *C.cg_err_t
	n, want := src.c.n, b.c.n
	if n == want {
		info = C.cg_copy_d2d_async(s.x.h, src.c.x.h, 0, b.c.x.h, 0, C.uint64_t(b.c.bytes))
	}
	dropAll(b, src, s)
	if n != want {
		return checkSameLen(op, "source buffer", n, want)
	}
	return errorFrom(op, info)
}

// CopyFromHostAsync queues a copy of the pinned host buffer src, which must have Len()
// elements, into the buffer on s. Do not write src.Slice() until s has passed the copy.
func (b *DeviceBuffer[T]) CopyFromHostAsync(s *Stream, src *HostBuffer[T]) error {
	const op = "copy h2d async"
	if err := useAll(op, b, src, s); err != nil {
		return err
	}
	var info *C.cg_err_t
	n, want := src.c.n, b.c.n
	if n == want {
		info = C.cg_copy_h2d_async(s.x.h, src.c.x.h, 0, b.c.x.h, 0, C.uint64_t(b.c.bytes))
	}
	dropAll(b, src, s)
	if n != want {
		return checkSameLen(op, "host buffer", n, want)
	}
	return errorFrom(op, info)
}

// CopyToHostAsync queues a copy of the buffer into the pinned host buffer dst, which must have
// Len() elements, on s. Read dst.Slice() only after s has passed the copy (Synchronize, Wait,
// or an event).
func (b *DeviceBuffer[T]) CopyToHostAsync(s *Stream, dst *HostBuffer[T]) error {
	const op = "copy d2h async"
	if err := useAll(op, b, dst, s); err != nil {
		return err
	}
	var info *C.cg_err_t
	n, want := dst.c.n, b.c.n
	if n == want {
		info = C.cg_copy_d2h_async(s.x.h, b.c.x.h, 0, dst.c.x.h, 0, C.uint64_t(b.c.bytes))
	}
	dropAll(b, dst, s)
	if n != want {
		return checkSameLen(op, "host buffer", n, want)
	}
	return errorFrom(op, info)
}

// Memset sets every byte of the buffer to value and returns when done.
func (b *DeviceBuffer[T]) Memset(value byte) error {
	const op = "memset"
	if err := b.use(op); err != nil {
		return err
	}
	info := C.cg_memset(C.uint8_t(value), b.c.x.h, 0, C.uint64_t(b.c.bytes))
	b.drop()
	runtime.KeepAlive(b)
	return errorFrom(op, info)
}

// MemsetAsync queues, on s, the setting of every byte of the buffer to value.
func (b *DeviceBuffer[T]) MemsetAsync(s *Stream, value byte) error {
	const op = "memset async"
	if err := useAll(op, b, s); err != nil {
		return err
	}
	info := C.cg_memset_async(s.x.h, C.uint8_t(value), b.c.x.h, 0, C.uint64_t(b.c.bytes))
	dropAll(b, s)
	return errorFrom(op, info)
}

// Close frees the buffer, in stream order after all work queued with it, so closing a buffer
// that queued work still uses is safe. Close waits for method calls in flight on b to return;
// later calls return an error matching ErrClosed. A second Close returns nil.
func (b *DeviceBuffer[T]) Close() error {
	if b == nil || b.c == nil {
		return nil
	}
	return b.c.x.close("buffer free")
}
