//go:build cgo

package capi

import (
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// requireGPU returns device 0, or skips the test where there is no CUDA device (fails instead
// with CUDAGO_REQUIRE_GPU=1).
func requireGPU(t testing.TB) Device {
	t.Helper()
	n, err := DeviceCount()
	if err != nil {
		t.Fatalf("DeviceCount: %v", err)
	}
	if n == 0 {
		reason := NoDeviceReason()
		if os.Getenv("CUDAGO_REQUIRE_GPU") == "1" {
			t.Fatalf("CUDAGO_REQUIRE_GPU=1 but there is no CUDA device: %s", reason)
		}
		t.Skipf("no CUDA device: %s", reason)
	}
	dev, err := GetDevice(0)
	if err != nil {
		t.Fatalf("GetDevice(0): %v", err)
	}
	return dev
}

// requireNoGPU skips tests of the behaviour of machines without a GPU where there is one.
func requireNoGPU(t testing.TB) {
	t.Helper()
	n, err := DeviceCount()
	if err != nil {
		t.Fatalf("DeviceCount: %v", err)
	}
	if n > 0 {
		t.Skipf("%d CUDA device(s) present; this test checks the no-GPU behaviour", n)
	}
}

// newRand returns a generator seeded from the clock, or from CUDAGO_TEST_SEED; the seed is
// logged when the test fails, so a failure can be replayed.
func newRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CUDAGO_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CUDAGO_TEST_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("random seed: %d (replay with CUDAGO_TEST_SEED=%d)", seed, seed)
		}
	})
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// randFloats returns n normal (never denormal, NaN or infinite) float32 values of varied sign
// and magnitude, so that sums are exactly rounded the same way on CPU and GPU, flush-to-zero
// or not.
func randFloats(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	fillFloats(r, v)
	return v
}

func fillFloats(r *rand.Rand, v []float32) {
	for i := range v {
		x := float32(r.Float64()*2 - 1)
		scale := float32(int32(1) << r.IntN(24))
		if r.IntN(2) == 0 {
			x *= scale
		} else {
			x /= scale
		}
		if x == 0 {
			x = 1
		}
		v[i] = x
	}
}

// wantErr fails unless err matches target.
func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one matching %v", what, err, target)
	}
}

// must fails the test at once on an error.
func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// closeT closes c at the end of the test, failing it on an error.
func closeT(t testing.TB, what string, c interface{ Close() error }) {
	t.Helper()
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("%s.Close: %v", what, err)
		}
	})
}
