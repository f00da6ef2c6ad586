//go:build !cgo

// Package cudago needs cgo: it calls libcudago through its C header. Build with
// CGO_ENABLED=1 and a C compiler, with pkg-config able to find cudago.pc.
package capi

// This reference fails to compile on purpose, so that a build without cgo stops with a message
// naming the cause instead of a list of undefined symbols.
var _ = cudago_requires_cgo_set_CGO_ENABLED_1
