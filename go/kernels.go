package cudago

/*
#include "shim.h"
*/
import "C"

import (
	"io"
	"strconv"
)

// VectorAdd queues c[i] = a[i] + b[i] (float32) on s. The three buffers must have equal
// lengths and live on s's device; c may be a or b. It is one cgo call and does not block.
func VectorAdd(s *Stream, a, b, c *DeviceBuffer[float32]) error {
	const op = "vector add"
	if err := useAll(op, s, a, b, c); err != nil {
		return err
	}
	var info *C.cg_err_t
	n := a.c.n
	same := b.c.n == n && c.c.n == n
	if same {
		info = C.cg_vector_add_f32(s.h, a.c.h, b.c.h, c.c.h, C.uint64_t(n))
	}
	nb, nc := b.c.n, c.c.n
	dropAll(s, a, b, c)
	if !same {
		return errRange(op, "buffer lengths differ: a has "+strconv.Itoa(n)+", b "+
			strconv.Itoa(nb)+", c "+strconv.Itoa(nc))
	}
	return errorFrom(op, info)
}

// AddOnGPU computes c[i] = a[i] + b[i] on device 0: it copies a and b to the GPU, adds them
// there with VectorAdd and copies the sum back into c. The slices must have equal lengths
// (ErrOutOfRange otherwise); empty slices are fine. It is the hello world of the package,
// written with the general API: a stream, three device buffers, copies and a kernel.
func AddOnGPU(a, b, c []float32) (err error) {
	const op = "AddOnGPU"
	if len(a) != len(b) || len(a) != len(c) {
		return errRange(op, "slice lengths differ: a has "+strconv.Itoa(len(a))+", b "+
			strconv.Itoa(len(b))+", c "+strconv.Itoa(len(c)))
	}
	dev, err := GetDevice(0)
	if err != nil {
		return err
	}
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	if err != nil {
		return err
	}
	defer closeInto(&err, s)

	n := len(a)
	da, err := NewDeviceBuffer[float32](dev, n)
	if err != nil {
		return err
	}
	defer closeInto(&err, da)
	db, err := NewDeviceBuffer[float32](dev, n)
	if err != nil {
		return err
	}
	defer closeInto(&err, db)
	dc, err := NewDeviceBuffer[float32](dev, n)
	if err != nil {
		return err
	}
	defer closeInto(&err, dc)

	// Synchronous copies: complete when they return, so the kernel queued next sees the data.
	if err := da.CopyFromHost(a); err != nil {
		return err
	}
	if err := db.CopyFromHost(b); err != nil {
		return err
	}
	if err := VectorAdd(s, da, db, dc); err != nil {
		return err
	}
	// A synchronous copy is ordered after the work queued with the buffer on any stream, so it
	// waits for the kernel and returns the sum.
	return dc.CopyToHost(c)
}

// closeInto closes c and, when *err is nil, stores the Close error in it: the first error wins.
func closeInto(err *error, c io.Closer) {
	if cerr := c.Close(); *err == nil {
		*err = cerr
	}
}
