//go:build cgo

package capi

import (
	"math"
	"sort"
	"sync"
	"testing"
)

// The conversions to Float16 and BFloat16 against an independent reference: the nearest
// representable value found by search among all of them, in float64 (which holds every float32
// and every 16-bit value exactly), ties to the even bit pattern. `go test` runs the seeds;
// `go test -fuzz FuzzFloat16From` explores further.

// halfMagnitudes holds every finite non-negative binary16 value in increasing order, then +Inf
// as the value 2^16 (where the next binade would start): a float32 at or above the midpoint
// 65520 rounds to it.
var halfMagnitudes = sync.OnceValue(func() []struct {
	v    float64
	bits uint16
} {
	var out []struct {
		v    float64
		bits uint16
	}
	for b := uint16(0); b < 0x7c00; b++ {
		out = append(out, struct {
			v    float64
			bits uint16
		}{float64(Float16(b).Float32()), b})
	}
	out = append(out, struct {
		v    float64
		bits uint16
	}{65536, 0x7c00})
	sort.Slice(out, func(i, j int) bool { return out[i].v < out[j].v })
	return out
})

// nearestEven returns the bits of the candidate nearest to x among lo and hi (lo <= x <= hi),
// the one with an even pattern on a tie.
func nearestEven(x, lo, hi float64, loBits, hiBits uint32) uint32 {
	dl, dh := x-lo, hi-x
	switch {
	case dl < dh:
		return loBits
	case dh < dl:
		return hiBits
	case loBits&1 == 0:
		return loBits
	}
	return hiBits
}

func refFloat16(f float32) (bits uint16, isNaN bool) {
	if f != f {
		return 0, true
	}
	sign := uint16(0)
	if math.Signbit(float64(f)) {
		sign = 0x8000
	}
	x := math.Abs(float64(f))
	tab := halfMagnitudes()
	if x >= tab[len(tab)-1].v || math.IsInf(x, 1) {
		return sign | 0x7c00, false
	}
	i := sort.Search(len(tab), func(i int) bool { return tab[i].v >= x })
	if tab[i].v == x {
		return sign | tab[i].bits, false
	}
	lo, hi := tab[i-1], tab[i]
	return sign | uint16(nearestEven(x, lo.v, hi.v, uint32(lo.bits), uint32(hi.bits))), false
}

func refBFloat16(f float32) (bits uint16, isNaN bool) {
	if f != f {
		return 0, true
	}
	b := math.Float32bits(f)
	sign := b & 0x80000000
	mag := b &^ 0x80000000
	lo := mag &^ 0xffff
	if lo == mag {
		return uint16((sign | mag) >> 16), false
	}
	hi := lo + 0x10000 // the next bfloat16 magnitude (0x7f800000 is +Inf: the carry is right)
	x := math.Abs(float64(f))
	loV := float64(math.Float32frombits(lo))
	var hiV float64
	if hi >= 0x7f800000 {
		hiV = math.Ldexp(1, 128) // where +Inf stands in the rounding
	} else {
		hiV = float64(math.Float32frombits(hi))
	}
	r := nearestEven(x, loV, hiV, lo>>16, hi>>16)
	return uint16(sign>>16 | r), false
}

// fuzzSeeds are the cases at the edges: zeros, the largest finite values and the midpoints
// above them, subnormal boundaries, exact ties, NaN and infinities.
var fuzzSeeds = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 65504, 65519.998, 65520, -65520,
	6.1035156e-05, 6.097555e-05, 5.9604645e-08, 2.9802322e-08, 2.9802326e-08, 1.0009766,
	1.0004883, 1.0014648, 3.4028235e+38, -3.4028235e+38, 1e38, 1.7014118e+38,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1.00390625, 1.01171875,
	1e-45, 3.3895314e+38}

// fuzzConversion checks to (a 16-bit conversion) against ref, and that widening back with
// from and converting again gives the same bits.
func fuzzConversion(f *testing.F, name string, to func(float32) uint16, from func(uint16) float32,
	ref func(float32) (uint16, bool)) {
	for _, s := range fuzzSeeds {
		f.Add(math.Float32bits(s))
	}
	f.Fuzz(func(t *testing.T, bits uint32) {
		x := math.Float32frombits(bits)
		got := to(x)
		want, nan := ref(x)
		if nan {
			if y := from(got); y == y {
				t.Fatalf("%s(NaN %#08x) = %#04x, not a NaN", name, bits, got)
			}
			return
		}
		if got != want {
			t.Fatalf("%s(%g = %#08x) = %#04x (%g), want %#04x (%g)", name, x, bits, got, from(got),
				want, from(want))
		}
		// Widening is exact: the value converts back to itself.
		if back := to(from(got)); back != got {
			t.Fatalf("%s: %#04x round trip gives %#04x", name, got, back)
		}
	})
}

func FuzzFloat16From(f *testing.F) {
	fuzzConversion(f, "Float16From", func(x float32) uint16 { return uint16(Float16From(x)) },
		func(h uint16) float32 { return Float16(h).Float32() }, refFloat16)
}

func FuzzBFloat16From(f *testing.F) {
	fuzzConversion(f, "BFloat16From", func(x float32) uint16 { return uint16(BFloat16From(x)) },
		func(h uint16) float32 { return BFloat16(h).Float32() }, refBFloat16)
}
