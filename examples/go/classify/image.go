package main

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers the JPEG decoder with image.Decode
	_ "image/png"  // registers the PNG decoder with image.Decode
	"math"
	"os"
)

// rgbImage is an image as 8-bit R, G, B triples, row by row, with no padding.
type rgbImage struct {
	w, h int
	pix  []uint8 // len 3*w*h
}

// decodeFile reads a JPEG or PNG file. Errors name the file.
func decodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	img, format, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		if err == image.ErrFormat {
			return nil, fmt.Errorf("image %s: not a JPEG or PNG file", path)
		}
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	if b := img.Bounds(); b.Empty() {
		return nil, fmt.Errorf("image %s: the %s image is empty (%dx%d)", path, format, b.Dx(), b.Dy())
	}
	return img, nil
}

// toRGB converts any image to R, G, B bytes. Alpha is dropped, as PIL's convert("RGB") does:
// each pixel keeps its colour as it is without premultiplication (a fully transparent pixel of
// a premultiplied image is black). Grayscale images give R = G = B; paletted ones their palette
// colours. The common decoder outputs (*image.YCbCr from JPEG; *image.RGBA, *image.NRGBA,
// *image.Gray and *image.Paletted from PNG) are read directly, anything else through At.
func toRGB(img image.Image) *rgbImage {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := &rgbImage{w: w, h: h, pix: make([]uint8, 3*w*h)}
	p := out.pix
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				o := 3 * (y*w + x)
				p[o], p[o+1], p[o+2] = r, g, bl
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				o := 3 * (y*w + x)
				p[o], p[o+1], p[o+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				o := 3 * (y*w + x)
				s := row[4*x : 4*x+4 : 4*x+4]
				if s[3] == 0xff {
					p[o], p[o+1], p[o+2] = s[0], s[1], s[2]
				} else {
					c := color.NRGBAModel.Convert(color.RGBA{s[0], s[1], s[2], s[3]}).(color.NRGBA)
					p[o], p[o+1], p[o+2] = c.R, c.G, c.B
				}
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				o := 3 * (y*w + x)
				v := row[x]
				p[o], p[o+1], p[o+2] = v, v, v
			}
		}
	case *image.Paletted:
		var lut [256][3]uint8
		for i, c := range m.Palette[:min(len(m.Palette), 256)] {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			lut[i] = [3]uint8{n.R, n.G, n.B}
		}
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				o := 3 * (y*w + x)
				c := lut[row[x]] // black for an index past the palette (the PNG decoder's choice)
				p[o], p[o+1], p[o+2] = c[0], c[1], c[2]
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				o := 3 * (y*w + x)
				p[o], p[o+1], p[o+2] = c.R, c.G, c.B
			}
		}
	}
	return out
}

// Resize modes.
const (
	resizeShorter = "shorter" // the shorter side to max(H, W)×256/224, then a center crop
	resizeStretch = "stretch" // straight to H×W, ignoring the aspect ratio
)

// shorterSide is the size resizeShorter gives the shorter side of an image for an h×w input:
// round(max(h, w)·256/224).
func shorterSide(w, h int) int { return (max(w, h)*256 + 112) / 224 }

// geometry is where the model's H×W input comes from: the source is resized to rw×rh and the
// crop starts at (left, top) of the resized image.
type geometry struct {
	rw, rh, left, top int
}

// cropGeometry returns the resize and crop that make an h×w input from a srcW×srcH image.
// With resizeShorter it is torchvision's Resize(256) + CenterCrop(224) scaled to the model:
// the shorter side becomes round(max(h, w)·256/224) (256 for 224), the longer one keeps the
// aspect ratio (truncated, as torchvision does), and the crop is centred (the odd pixel, if
// any, left over on the right or bottom). Both resized sides are at least max(h, w).
func cropGeometry(srcW, srcH, w, h int, mode string) geometry {
	if mode == resizeStretch {
		return geometry{rw: w, rh: h}
	}
	side := shorterSide(w, h)
	var g geometry
	if srcW <= srcH {
		g.rw, g.rh = side, side*srcH/srcW
	} else {
		g.rw, g.rh = side*srcW/srcH, side
	}
	g.left, g.top = (g.rw-w)/2, (g.rh-h)/2
	return g
}

// axisTaps holds, for each output sample along one axis, the source samples that contribute
// to it and their weights (normalised to sum to 1).
type axisTaps struct {
	first   []int       // the first source index of each output sample
	weights [][]float64 // the weights of source first[i], first[i]+1, ...
}

// makeTaps computes the bilinear filter of an axis resized from srcLen to dstLen samples, for
// the n output samples starting at off (the crop). Sample k covers [k, k+1): output sample j
// is centred at (j+0.5)·srcLen/dstLen in source coordinates. The filter is a triangle of
// radius 1 when enlarging (plain bilinear interpolation between the two nearest pixels,
// clamped at the edges) and of radius srcLen/dstLen when shrinking, so that every source pixel
// contributes: the antialiased bilinear resize of PIL and of torchvision's Resize. Source
// samples outside the image are left out and the weights renormalised.
func makeTaps(srcLen, dstLen, off, n int) axisTaps {
	scale := float64(srcLen) / float64(dstLen)
	radius := max(scale, 1)
	t := axisTaps{first: make([]int, n), weights: make([][]float64, n)}
	for i := 0; i < n; i++ {
		center := (float64(off+i) + 0.5) * scale
		lo := max(int(math.Ceil(center-radius-0.5)), 0)
		hi := min(int(math.Floor(center+radius-0.5)), srcLen-1)
		ws := make([]float64, 0, hi-lo+1)
		sum := 0.0
		for k := lo; k <= hi; k++ {
			wt := 1 - math.Abs(float64(k)+0.5-center)/radius
			if wt < 0 {
				wt = 0
			}
			ws = append(ws, wt)
			sum += wt
		}
		for k := range ws {
			ws[k] /= sum
		}
		t.first[i], t.weights[i] = lo, ws
	}
	return t
}

// resizeCrop resizes src as g says with the bilinear filter of makeTaps and writes the w×h
// crop, as R, G, B bytes row by row, to dst (len 3·w·h). Only the crop is computed: first
// along rows (of the source rows the crop needs), then along columns, rounding once at the end.
func resizeCrop(src *rgbImage, g geometry, w, h int, dst []uint8) {
	tx := makeTaps(src.w, g.rw, g.left, w)
	ty := makeTaps(src.h, g.rh, g.top, h)
	y0 := ty.first[0]
	y1 := ty.first[h-1] + len(ty.weights[h-1]) // the source rows [y0, y1) the crop reads
	rows := make([]float64, (y1-y0)*w*3)       // the rows resized horizontally
	for y := y0; y < y1; y++ {
		srow := src.pix[3*y*src.w : 3*(y+1)*src.w]
		drow := rows[(y-y0)*w*3 : (y-y0+1)*w*3]
		for x := 0; x < w; x++ {
			var r, gr, b float64
			s := srow[3*tx.first[x]:]
			for k, wt := range tx.weights[x] {
				r += wt * float64(s[3*k])
				gr += wt * float64(s[3*k+1])
				b += wt * float64(s[3*k+2])
			}
			drow[3*x], drow[3*x+1], drow[3*x+2] = r, gr, b
		}
	}
	acc := make([]float64, 3*w)
	for y := 0; y < h; y++ {
		clear(acc)
		for k, wt := range ty.weights[y] {
			row := rows[(ty.first[y]+k-y0)*w*3:]
			for i := range acc {
				acc[i] += wt * row[i]
			}
		}
		out := dst[3*y*w : 3*(y+1)*w]
		for i, v := range acc {
			out[i] = toByte(v)
		}
	}
}

// toByte rounds to the nearest byte, halves up, clamping to 0..255.
func toByte(v float64) uint8 {
	v = math.Floor(v + 0.5)
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}

// prepareImage decodes the image file at path and writes the model's h×w RGB input for it to
// dst (len 3·w·h): resized and cropped as mode says.
func prepareImage(path string, w, h int, mode string, dst []uint8) error {
	img, err := decodeFile(path)
	if err != nil {
		return err
	}
	src := toRGB(img)
	resizeCrop(src, cropGeometry(src.w, src.h, w, h, mode), w, h, dst)
	return nil
}
