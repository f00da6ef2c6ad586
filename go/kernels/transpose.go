package kernels

import (
	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/capi"
)

// Transpose2D queues out = the transpose of in: in is rows x cols, out is cols x rows.
func Transpose2D[T cudago.Numeric](s *cudago.Stream, in, out *cudago.DeviceBuffer[T], rows, cols int) error {
	return capi.Transpose2D[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(in), (*capi.DeviceBuffer[T])(out), rows, cols)
}

// NHWCToNCHW queues the conversion of in, an n x h x w x c tensor (channels last, NHWC), to
// out, the same tensor as n x c x h x w (channels first, NCHW).
func NHWCToNCHW[T cudago.Numeric](s *cudago.Stream, in, out *cudago.DeviceBuffer[T], n, h, w, c int) error {
	return capi.NHWCToNCHW[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(in), (*capi.DeviceBuffer[T])(out), n, h, w, c)
}

// NCHWToNHWC queues the conversion of in, an n x c x h x w tensor (NCHW), to out, the same
// tensor as n x h x w x c (NHWC).
func NCHWToNHWC[T cudago.Numeric](s *cudago.Stream, in, out *cudago.DeviceBuffer[T], n, h, w, c int) error {
	return capi.NCHWToNHWC[T]((*capi.Stream)(s), (*capi.DeviceBuffer[T])(in), (*capi.DeviceBuffer[T])(out), n, h, w, c)
}
