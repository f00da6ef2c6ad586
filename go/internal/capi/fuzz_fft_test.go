//go:build cgo

package capi

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

// FFTExtent against a big-integer model of the layout rules of cudago.h (default layouts):
// each side spans (batch - 1) * dist + (index of the last element) + 1 elements, with
// dist = prod(embed); the complex side of R2C/C2R has dims[last]/2 + 1 in the last dimension,
// and in place the real side's last dimension is padded to 2 * (dims[last]/2 + 1). A size
// below 1 is ErrInvalidArgument; any quantity beyond int64 (element counts, or their bytes) is
// ErrOutOfRange. No GPU is needed.

type fftModelSide struct{ n, embed []*big.Int }

// fftModel returns the T values each side spans, or the sentinel error the library must give.
func fftModel(typ FFTType, dims []int64, batch int64, inPlace bool, realBytes int64) (in, out *big.Int, err error) {
	if len(dims) < 1 || len(dims) > 3 || batch < 0 {
		return nil, nil, ErrInvalidArgument
	}
	if batch == 0 {
		batch = 1
	}
	for _, d := range dims {
		if d < 1 {
			return nil, nil, ErrInvalidArgument
		}
	}
	limit := big.NewInt(math.MaxInt64)
	over := func(x *big.Int) bool { return x.Cmp(limit) > 0 }
	side := func(complexSide, padded bool) fftModelSide {
		var s fftModelSide
		r := len(dims)
		for i, d := range dims {
			n := big.NewInt(d)
			if complexSide && typ != FFTC2C && i == r-1 {
				n = big.NewInt(d/2 + 1)
			}
			e := new(big.Int).Set(n)
			if padded && i == r-1 {
				e = big.NewInt(2 * (d/2 + 1))
			}
			s.n, s.embed = append(s.n, n), append(s.embed, e)
		}
		return s
	}
	// extent in elements of the side's type, or nil when a quantity overflows.
	extent := func(s fftModelSide, elemBytes int64) *big.Int {
		span, last, prod := big.NewInt(1), big.NewInt(0), big.NewInt(1)
		for i := range s.n {
			span.Mul(span, s.embed[i])
			prod.Mul(prod, s.n[i])
			last.Mul(last, s.embed[i])
			last.Add(last, new(big.Int).Sub(s.n[i], big.NewInt(1)))
			if over(span) || over(prod) || over(last) {
				return nil
			}
		}
		ext := new(big.Int).Mul(big.NewInt(batch-1), span)
		if over(ext) {
			return nil
		}
		ext.Add(ext, last).Add(ext, big.NewInt(1))
		if over(ext) || over(new(big.Int).Mul(ext, big.NewInt(elemBytes))) {
			return nil
		}
		return ext
	}
	inComplex, outComplex := typ != FFTR2C, typ != FFTC2R
	inSide := side(inComplex, inPlace && !inComplex)
	outSide := side(outComplex, inPlace && !outComplex)
	elem := func(c bool) int64 {
		if c {
			return 2 * realBytes
		}
		return realBytes
	}
	ie, oe := extent(inSide, elem(inComplex)), extent(outSide, elem(outComplex))
	// The padded real row itself, 2 * (d/2 + 1), must fit (it did not before: UBSan).
	for _, d := range dims {
		if inPlace && typ != FFTC2C && d/2+1 > math.MaxInt64/2 {
			return nil, nil, ErrOutOfRange
		}
	}
	if ie == nil || oe == nil {
		return nil, nil, ErrOutOfRange
	}
	values := func(x *big.Int, c bool) *big.Int {
		if c {
			return new(big.Int).Mul(x, big.NewInt(2))
		}
		return x
	}
	return values(ie, inComplex), values(oe, outComplex), nil
}

func FuzzFFTExtent(f *testing.F) {
	// type, rank, three dims, batch, in place, float64
	f.Add(uint8(0), uint8(1), int64(8), int64(0), int64(0), int64(2), false, false)
	f.Add(uint8(1), uint8(2), int64(4), int64(10), int64(0), int64(3), true, true)
	f.Add(uint8(2), uint8(3), int64(5), int64(6), int64(7), int64(1), true, false)
	f.Add(uint8(1), uint8(1), int64(math.MaxInt64), int64(0), int64(0), int64(1), true, false)
	f.Add(uint8(0), uint8(2), int64(1<<40), int64(1<<40), int64(0), int64(1), false, false)
	f.Add(uint8(0), uint8(1), int64(1<<40), int64(0), int64(0), int64(1<<30), false, true)
	f.Add(uint8(2), uint8(1), int64(-5), int64(0), int64(0), int64(1), false, false)
	f.Add(uint8(1), uint8(3), int64(1<<21), int64(1<<21), int64(1<<20), int64(1), true, false)
	f.Add(uint8(0), uint8(1), int64(1), int64(0), int64(0), int64(-1), false, false)
	f.Fuzz(func(t *testing.T, typ, rank uint8, d0, d1, d2, batch int64, inPlace, f64 bool) {
		r := int(rank%3) + 1
		dims := []int64{d0, d1, d2}[:r]
		ft := FFTType(typ % 3)
		desc := FFTDesc{Type: ft, Batch: int(batch)}
		for _, d := range dims {
			desc.Dims = append(desc.Dims, int(d))
		}
		var in, out int
		var err error
		realBytes := int64(4)
		if f64 {
			realBytes = 8
			in, out, err = FFTExtent[float64](desc, inPlace)
		} else {
			in, out, err = FFTExtent[float32](desc, inPlace)
		}
		wantIn, wantOut, wantErr := fftModel(ft, dims, batch, inPlace, realBytes)
		if wantErr != nil {
			if !errors.Is(err, wantErr) {
				t.Fatalf("%+v in place %v f64 %v: got %d, %d, %v; want %v", desc, inPlace, f64, in,
					out, err, wantErr)
			}
			return
		}
		if err != nil || big.NewInt(int64(in)).Cmp(wantIn) != 0 || big.NewInt(int64(out)).Cmp(wantOut) != 0 {
			t.Fatalf("%+v in place %v f64 %v: got %d, %d, %v; want %v, %v", desc, inPlace, f64, in,
				out, err, wantIn, wantOut)
		}
	})
}
