//go:build cgo

package capi

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// Every binary16 value survives a trip through float32 (NaNs stay NaN).
func TestFloat16RoundTripIsExact(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := Float16(i)
		f := h.Float32()
		back := Float16From(f)
		if f != f { // NaN
			if back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", i, back)
			}
			continue
		}
		if back != h {
			t.Fatalf("%#04x -> %g -> %#04x", i, f, back)
		}
	}
}

// Known values, including subnormals, the largest finite value and rounding to even.
func TestFloat16KnownValues(t *testing.T) {
	cases := []struct {
		f float32
		h Float16
	}{
		{0, 0}, {float32(math.Copysign(0, -1)), 0x8000}, {1, 0x3c00}, {-2, 0xc000},
		{65504, 0x7bff}, {65520, 0x7c00}, {1e9, 0x7c00}, {float32(math.Inf(-1)), 0xfc00},
		{6.103515625e-05, 0x0400},    // smallest normal
		{5.960464477539063e-08, 1},   // smallest subnormal
		{2.98023223876953125e-08, 0}, // half of it: ties to even, 0
		{4.470348358154297e-08, 1},   // 0.75 of it rounds up
		{1 + 1.0/2048, 0x3c00},       // halfway between 1 and the next: to even (1)
		{1 + 3.0/2048, 0x3c02},       // halfway, odd below: up to even
		{0.1, 0x2e66},
	}
	for _, c := range cases {
		if got := Float16From(c.f); got != c.h {
			t.Errorf("Float16From(%g) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
}

// On random float32 inputs across the binary16 range, the result is a nearest value.
func TestFloat16IsNearest(t *testing.T) {
	seed := rand.Uint64()
	r := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < 200000; i++ {
		f := float32(math.Ldexp(r.Float64()*2-1, r.IntN(44)-26))
		if math.Abs(float64(f)) >= 65520 {
			continue // rounds to ±Inf by IEEE rules (TestFloat16KnownValues checks it)
		}
		h := Float16From(f)
		got := math.Abs(float64(h.Float32()) - float64(f))
		for _, nb := range []Float16{h - 1, h + 1} {
			if nb&0x7c00 == 0x7c00 || (nb^h)&0x8000 != 0 {
				continue // past Inf or across the sign
			}
			if d := math.Abs(float64(nb.Float32()) - float64(f)); d < got {
				t.Fatalf("seed %d: %g -> %#04x (%g) but %#04x (%g) is nearer", seed, f, h,
					h.Float32(), nb, nb.Float32())
			}
		}
	}
}

func TestBFloat16(t *testing.T) {
	cases := []struct {
		f float32
		h BFloat16
	}{
		{0, 0}, {1, 0x3f80}, {-1, 0xbf80}, {3.140625, 0x4049},
		{1 + 1.0/256, 0x3f80}, // halfway: to even
		{1 + 3.0/256, 0x3f82}, // halfway: to even, up
		{float32(math.Inf(1)), 0x7f80},
		{math.MaxFloat32, 0x7f80}, // rounds up to Inf
	}
	for _, c := range cases {
		if got := BFloat16From(c.f); got != c.h {
			t.Errorf("BFloat16From(%g) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
	nan := BFloat16From(float32(math.NaN()))
	if f := nan.Float32(); f == f {
		t.Errorf("NaN became %g", f)
	}
	for i := 0; i < 1<<16; i++ {
		h := BFloat16(i)
		if f := h.Float32(); f == f && BFloat16From(f) != h {
			t.Fatalf("%#04x does not round-trip", i)
		}
	}
}

type celsius float32

func TestDTypeMapping(t *testing.T) {
	check := func(name string, size, want uintptr) {
		t.Helper()
		if size != want {
			t.Errorf("%s: C element size %d, Go size %d", name, size, want)
		}
	}
	check("float32", elemSizeC[float32](), unsafe.Sizeof(float32(0)))
	check("float64", elemSizeC[float64](), 8)
	check("Float16", elemSizeC[Float16](), 2)
	check("BFloat16", elemSizeC[BFloat16](), 2)
	check("int8", elemSizeC[int8](), 1)
	check("uint8", elemSizeC[uint8](), 1)
	check("int32", elemSizeC[int32](), 4)
	check("uint64", elemSizeC[uint64](), 8)
	check("celsius", elemSizeC[celsius](), 4)
	if dt, _ := dtypeOf[Float16](); dt != dtF16 {
		t.Errorf("Float16 maps to %d", dt)
	}
	if dt, _ := dtypeOf[BFloat16](); dt != dtBF16 {
		t.Errorf("BFloat16 maps to %d", dt)
	}
	if dt, _ := dtypeOf[celsius](); dt != dtF32 {
		t.Errorf("celsius maps to %d", dt)
	}
	if dt, _ := dtypeOf[int32](); dt != dtI32 {
		t.Errorf("int32 maps to %d", dt)
	}
	if dt, _ := dtypeOf[uint32](); dt != dtU32 {
		t.Errorf("uint32 maps to %d", dt)
	}
	if _, ok := dtypeOf[int16](); ok {
		t.Error("int16 must have no element type")
	}
}
