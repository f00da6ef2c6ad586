//go:build cgo

// Package testutil holds the helpers the tests of the public packages share: error matching,
// the GPU requirement (skip without a device, fail with CUDAGO_REQUIRE_GPU=1) and seeded random
// data. It is imported by tests only.
package testutil

import (
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cudago/cudago/go/cudago"
)

// WantErr fails unless err matches target and is a *cudago.Error of the operation op whose
// message contains each of msgs.
func WantErr(t testing.TB, what string, err, target error, op string, msgs ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one matching %v", what, err, target)
		return
	}
	var e *cudago.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: %v (%T) is not a *cudago.Error", what, err, err)
		return
	}
	if e.Op != op {
		t.Errorf("%s: operation %q, want %q (%v)", what, e.Op, op, err)
	}
	for _, m := range msgs {
		if !strings.Contains(e.Msg, m) {
			t.Errorf("%s: message %q does not contain %q", what, e.Msg, m)
		}
	}
}

// WantNil fails unless err is the error of a nil handle whose message contains msg ("nil
// *Stream") in the operation op; such an error must not match ErrClosed.
func WantNil(t testing.TB, what string, err error, op, msg string) {
	t.Helper()
	WantErr(t, what, err, cudago.ErrInvalidHandle, op, msg)
	if errors.Is(err, cudago.ErrClosed) {
		t.Errorf("%s: the error of a nil handle matches ErrClosed: %v", what, err)
	}
}

// Must stops the test when err is not nil.
func Must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// RequireGPU returns device 0. It skips the test where there is no CUDA device, and fails it
// instead with CUDAGO_REQUIRE_GPU=1 (as the GPU bundle runs).
func RequireGPU(t testing.TB) cudago.Device {
	t.Helper()
	n, err := cudago.DeviceCount()
	if err != nil {
		t.Fatalf("DeviceCount: %v", err)
	}
	if n == 0 {
		reason := cudago.NoDeviceReason()
		if os.Getenv("CUDAGO_REQUIRE_GPU") == "1" {
			t.Fatalf("CUDAGO_REQUIRE_GPU=1 but there is no CUDA device: %s", reason)
		}
		t.Skipf("no CUDA device: %s", reason)
	}
	dev, err := cudago.DeviceAt(0)
	Must(t, "DeviceAt(0)", err)
	return dev
}

// Seed returns a test's random seed: from the clock, or from CUDAGO_TEST_SEED. It is logged, so
// that a failure can be replayed.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CUDAGO_TEST_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("CUDAGO_TEST_SEED=%q: %v", v, err)
		}
	}
	t.Logf("random seed %d (replay with CUDAGO_TEST_SEED=%d)", seed, seed)
	return seed
}

// Rand returns a generator seeded with [Seed].
func Rand(t testing.TB) *rand.Rand {
	t.Helper()
	return rand.New(rand.NewPCG(Seed(t), 0x9e3779b97f4a7c15))
}
