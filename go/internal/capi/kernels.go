package capi

import (
	"io"
	"strconv"
)

// AddOnGPU computes c[i] = a[i] + b[i] on device 0: it copies a and b to the GPU, adds them
// there with the elementwise [Add] and copies the sum back into c. The slices must have equal lengths
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
	if err := Add(s, da, db, dc); err != nil {
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
