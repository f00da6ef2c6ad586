package main

// The latency-versus-throughput plot, drawn with the standard library only: axes with ticks and
// labels in a built-in 5×7 bitmap font, and the p50 and p99 latencies of each run as points
// joined by lines.

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// glyphs is a 5×7 bitmap font: each glyph is 7 rows of 5 pixels ('#' set). Upper-case letters
// are drawn as lower-case; anything else missing as '?'.
var glyphs = map[rune][7]string{
	'0': {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."},
	'1': {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'2': {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"},
	'3': {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."},
	'4': {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."},
	'5': {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."},
	'6': {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."},
	'7': {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."},
	'8': {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."},
	'9': {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."},
	'a': {".....", ".....", ".###.", "....#", ".####", "#...#", ".####"},
	'b': {"#....", "#....", "#.##.", "##..#", "#...#", "#...#", "####."},
	'c': {".....", ".....", ".###.", "#....", "#....", "#...#", ".###."},
	'd': {"....#", "....#", ".##.#", "#..##", "#...#", "#...#", ".####"},
	'e': {".....", ".....", ".###.", "#...#", "#####", "#....", ".###."},
	'f': {"..##.", ".#..#", ".#...", "###..", ".#...", ".#...", ".#..."},
	'g': {".....", ".####", "#...#", "#...#", ".####", "....#", ".###."},
	'h': {"#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#"},
	'i': {"..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."},
	'j': {"...#.", ".....", "..##.", "...#.", "...#.", "#..#.", ".##.."},
	'k': {"#....", "#....", "#..#.", "#.#..", "##...", "#.#..", "#..#."},
	'l': {".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."},
	'm': {".....", ".....", "##.#.", "#.#.#", "#.#.#", "#...#", "#...#"},
	'n': {".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#"},
	'o': {".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."},
	'p': {".....", "####.", "#...#", "#...#", "####.", "#....", "#...."},
	'q': {".....", ".####", "#...#", "#...#", ".####", "....#", "....#"},
	'r': {".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."},
	's': {".....", ".....", ".###.", "#....", ".###.", "....#", "####."},
	't': {".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##."},
	'u': {".....", ".....", "#...#", "#...#", "#...#", "#...#", ".###."},
	'v': {".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.."},
	'w': {".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#."},
	'x': {".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"},
	'y': {".....", ".....", "#...#", "#...#", ".####", "....#", ".###."},
	'z': {".....", ".....", "#####", "...#.", "..#..", ".#...", "#####"},
	'.': {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."},
	',': {".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."},
	'-': {".....", ".....", ".....", "#####", ".....", ".....", "....."},
	'+': {".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."},
	'(': {"...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."},
	')': {".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."},
	'/': {".....", "....#", "...#.", "..#..", ".#...", "#....", "....."},
	':': {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."},
	'_': {".....", ".....", ".....", ".....", ".....", ".....", "#####"},
	'=': {".....", ".....", "#####", ".....", "#####", ".....", "....."},
	'%': {"##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"},
	'?': {".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."},
	' ': {".....", ".....", ".....", ".....", ".....", ".....", "....."},
}

// fontScale is the size of a font pixel in image pixels.
const fontScale = 2

// textWidth is the width of s in pixels.
func textWidth(s string) int { return len([]rune(s)) * 6 * fontScale }

// textHeight is the height of a line of text in pixels.
const textHeight = 7 * fontScale

// drawText draws s with its top-left corner at (x, y).
func drawText(img *image.RGBA, x, y int, s string, c color.Color) {
	for _, r := range s {
		g, ok := glyphs[unicode.ToLower(r)]
		if !ok {
			g = glyphs['?']
		}
		for row, line := range g {
			for col, p := range line {
				if p == '#' {
					fillRect(img, x+col*fontScale, y+row*fontScale, fontScale, fontScale, c)
				}
			}
		}
		x += 6 * fontScale
	}
}

// drawTextUp draws s rotated a quarter turn anticlockwise (reading upwards), its baseline's
// start at the bottom-left corner (x, y).
func drawTextUp(img *image.RGBA, x, y int, s string, c color.Color) {
	for _, r := range s {
		g, ok := glyphs[unicode.ToLower(r)]
		if !ok {
			g = glyphs['?']
		}
		for row, line := range g {
			for col, p := range line {
				if p == '#' {
					fillRect(img, x+row*fontScale, y-(col+1)*fontScale, fontScale, fontScale, c)
				}
			}
		}
		y -= 6 * fontScale
	}
}

func fillRect(img *image.RGBA, x, y, w, h int, c color.Color) {
	draw.Draw(img, image.Rect(x, y, x+w, y+h).Intersect(img.Bounds()), &image.Uniform{c}, image.Point{}, draw.Src)
}

// drawLine draws a line of the given width from (x0, y0) to (x1, y1).
func drawLine(img *image.RGBA, x0, y0, x1, y1, width int, c color.Color) {
	dx, dy := math.Abs(float64(x1-x0)), math.Abs(float64(y1-y0))
	steps := int(math.Max(dx, dy))
	for i := 0; i <= steps; i++ {
		t := 0.0
		if steps > 0 {
			t = float64(i) / float64(steps)
		}
		x := int(math.Round(float64(x0) + t*float64(x1-x0)))
		y := int(math.Round(float64(y0) + t*float64(y1-y0)))
		fillRect(img, x-width/2, y-width/2, width, width, c)
	}
}

// niceTicks returns tick values from 0 covering hi: steps of 1, 2 or 5 times a power of ten,
// about n of them.
func niceTicks(hi float64, n int) []float64 {
	if !(hi > 0) || math.IsInf(hi, 0) {
		hi = 1
	}
	raw := hi / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := p
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	var ticks []float64
	for i := 0; ; i++ {
		v := float64(i) * step
		ticks = append(ticks, v)
		if v >= hi {
			break
		}
	}
	return ticks
}

// tickLabel formats a tick value with no more decimals than it needs.
func tickLabel(v float64) string {
	s := strconv.FormatFloat(v, 'f', 6, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

var (
	colBackground = color.RGBA{255, 255, 255, 255}
	colAxis       = color.RGBA{0, 0, 0, 255}
	colGrid       = color.RGBA{225, 225, 225, 255}
	colText       = color.RGBA{30, 30, 30, 255}
	colP50        = color.RGBA{31, 119, 180, 255} // blue
	colP99        = color.RGBA{214, 39, 40, 255}  // red
)

// writePlot draws latency (p50 and p99, in ms) against throughput (items/s) of the runs, in
// their order, as a width×height PNG.
func writePlot(w io.Writer, runs []runResult, title string, width, height int) error {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), &image.Uniform{colBackground}, image.Point{}, draw.Src)
	xmax, ymax := 0.0, 0.0
	for _, r := range runs {
		if r.OK > 0 {
			xmax = math.Max(xmax, r.ItemsPerSec)
			ymax = math.Max(ymax, math.Max(r.Latency.P99, r.Latency.P50))
		}
	}
	yt := niceTicks(ymax*1.05, max((height-100)/60, 2))
	ywidest := 0
	for _, v := range yt {
		ywidest = max(ywidest, textWidth(tickLabel(v)))
	}
	// Room for the y labels on the left, for half the last x label on the right.
	left, top, bottom := 30+ywidest+textHeight, 24+2*textHeight, 30+2*textHeight
	xt := niceTicks(xmax*1.05, max((width-left-60)/110, 2))
	right := max(24, textWidth(tickLabel(xt[len(xt)-1]))/2+8)
	pw, ph := width-left-right, height-top-bottom
	xhi, yhi := xt[len(xt)-1], yt[len(yt)-1]
	px := func(v float64) int { return left + int(math.Round(v/xhi*float64(pw))) }
	py := func(v float64) int { return top + ph - int(math.Round(v/yhi*float64(ph))) }

	for _, v := range xt {
		x := px(v)
		drawLine(img, x, top, x, top+ph, 1, colGrid)
		drawLine(img, x, top+ph, x, top+ph+5, 1, colAxis)
		l := tickLabel(v)
		drawText(img, x-textWidth(l)/2, top+ph+9, l, colText)
	}
	for _, v := range yt {
		y := py(v)
		drawLine(img, left, y, left+pw, y, 1, colGrid)
		drawLine(img, left-5, y, left, y, 1, colAxis)
		l := tickLabel(v)
		drawText(img, left-9-textWidth(l), y-textHeight/2, l, colText)
	}
	drawLine(img, left, top, left, top+ph, 2, colAxis)
	drawLine(img, left, top+ph, left+pw, top+ph, 2, colAxis)

	xl := "throughput (items/s)"
	drawText(img, left+pw/2-textWidth(xl)/2, height-textHeight-8, xl, colText)
	yl := "latency (ms)"
	drawTextUp(img, 8, top+ph/2+textWidth(yl)/2, yl, colText)
	if textWidth(title) > width-16 {
		title = string([]rune(title)[:max((width-16)/(6*fontScale)-1, 1)]) + "."
	}
	drawText(img, 8, 8, title, colText)

	// Legend, top right inside the plot.
	lx, ly := left+pw-textWidth("p99")-40, top+8
	for i, s := range []struct {
		name string
		c    color.Color
	}{{"p50", colP50}, {"p99", colP99}} {
		y := ly + i*(textHeight+6)
		drawLine(img, lx, y+textHeight/2, lx+24, y+textHeight/2, 3, s.c)
		drawText(img, lx+30, y, s.name, colText)
	}

	for _, s := range []struct {
		v func(runResult) float64
		c color.Color
	}{{func(r runResult) float64 { return r.Latency.P50 }, colP50}, {func(r runResult) float64 { return r.Latency.P99 }, colP99}} {
		havePrev := false
		var x0, y0 int
		for _, r := range runs {
			if r.OK == 0 {
				continue
			}
			x, y := px(r.ItemsPerSec), py(s.v(r))
			if havePrev {
				drawLine(img, x0, y0, x, y, 2, s.c)
			}
			fillRect(img, x-4, y-4, 9, 9, s.c)
			x0, y0, havePrev = x, y, true
		}
	}
	return png.Encode(w, img)
}
