package main

// The plots, drawn with the standard library only: a chart (axes from 0 with ticks, grid and
// labels in a built-in 5×7 bitmap font, a title, a legend, and lines through points) that both
// the latency-versus-throughput plot and the scrape series' plots over time are drawn with.

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
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
	colP50        = color.RGBA{31, 119, 180, 255}  // blue
	colP99        = color.RGBA{214, 39, 40, 255}   // red
	colRequests   = color.RGBA{44, 160, 44, 255}   // green
	colBatch      = color.RGBA{148, 103, 189, 255} // purple
	colSM         = color.RGBA{255, 127, 14, 255}  // orange
)

// xy is a point of a chart.
type xy struct{ x, y float64 }

// line is one series of a chart: its points in order, joined by lines; a point whose x or y is
// not finite (NaN) is not drawn and breaks the line.
type line struct {
	name   string // in the legend; "" for none
	color  color.Color
	points []xy
	marker int // the side of the square drawn at each point, in pixels (0: none)
}

// chart is a plot of lines against two axes from 0.
type chart struct {
	title, xLabel, yLabel string
	lines                 []line
	yAtLeast              float64 // the y axis reaches at least this (0: whatever the points need)
	note                  string  // written in the middle of the plot area, e.g. why it is empty
}

// finite reports whether p can be drawn.
func (p xy) finite() bool {
	return !math.IsNaN(p.x) && !math.IsInf(p.x, 0) && !math.IsNaN(p.y) && !math.IsInf(p.y, 0)
}

// fit shortens s, ending it with '.', to at most px pixels wide.
func fit(s string, px int) string {
	if textWidth(s) <= px {
		return s
	}
	return string([]rune(s)[:max(px/(6*fontScale)-1, 1)]) + "."
}

// writePNG draws the chart as a width×height PNG.
func (ch chart) writePNG(w io.Writer, width, height int) error {
	return png.Encode(w, ch.draw(width, height))
}

// draw draws the chart into a width×height image.
func (ch chart) draw(width, height int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), &image.Uniform{colBackground}, image.Point{}, draw.Src)
	xmax, ymax := 0.0, ch.yAtLeast/1.05
	for _, l := range ch.lines {
		for _, p := range l.points {
			if (xy{p.x, 0}).finite() { // a point without its figure still spans the x axis
				xmax = math.Max(xmax, p.x)
			}
			if p.finite() {
				ymax = math.Max(ymax, p.y)
			}
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

	drawText(img, left+pw/2-textWidth(ch.xLabel)/2, height-textHeight-8, ch.xLabel, colText)
	drawTextUp(img, 8, top+ph/2+textWidth(ch.yLabel)/2, ch.yLabel, colText)
	drawText(img, 8, 8, fit(ch.title, width-16), colText)
	if ch.note != "" {
		note := fit(ch.note, pw-16)
		drawText(img, left+pw/2-textWidth(note)/2, top+ph/2-textHeight/2, note, colText)
	}

	// Legend, top right inside the plot.
	widest := 0
	for _, l := range ch.lines {
		if l.name != "" {
			widest = max(widest, textWidth(l.name))
		}
	}
	lx, ly := left+pw-widest-40, top+8
	for _, l := range ch.lines {
		if l.name == "" {
			continue
		}
		drawLine(img, lx, ly+textHeight/2, lx+24, ly+textHeight/2, 3, l.color)
		drawText(img, lx+30, ly, l.name, colText)
		ly += textHeight + 6
	}

	for _, l := range ch.lines {
		havePrev := false
		var x0, y0 int
		for _, p := range l.points {
			if !p.finite() {
				havePrev = false
				continue
			}
			x, y := px(p.x), py(p.y)
			if havePrev {
				drawLine(img, x0, y0, x, y, 2, l.color)
			}
			if l.marker > 0 {
				fillRect(img, x-l.marker/2, y-l.marker/2, l.marker, l.marker, l.color)
			}
			x0, y0, havePrev = x, y, true
		}
	}
	return img
}

// writePlot draws latency (p50 and p99, in ms) against throughput (items/s) of the runs, in
// their order, as a width×height PNG.
func writePlot(w io.Writer, runs []runResult, title string, width, height int) error {
	p50 := line{name: "p50", color: colP50, marker: 9}
	p99 := line{name: "p99", color: colP99, marker: 9}
	for _, r := range runs {
		if r.OK > 0 {
			p50.points = append(p50.points, xy{r.ItemsPerSec, r.Latency.P50})
			p99.points = append(p99.points, xy{r.ItemsPerSec, r.Latency.P99})
		}
	}
	ch := chart{title: title, xLabel: "throughput (items/s)", yLabel: "latency (ms)", lines: []line{p50, p99}}
	return ch.writePNG(w, width, height)
}

// timeseriesPlots are the plots of the scrape series: each file's suffix, y label, lines' colour
// and figure.
var timeseriesPlots = []struct {
	suffix, yLabel string
	color          color.Color
	figure         func(scrapePoint) maybe
	yAtLeast       float64
}{
	{"-throughput.png", "throughput (items/s)", colP50, func(p scrapePoint) maybe { return p.ItemsPerSec }, 0},
	{"-p99.png", "p99 latency (ms)", colP99, func(p scrapePoint) maybe { return p.P99 }, 0},
	{"-batch.png", "mean batch size (items)", colBatch, func(p scrapePoint) maybe { return p.MeanBatch }, 1},
	{"-sm-active.png", "sm active (ratio)", colSM, func(p scrapePoint) maybe { return p.SMActive }, 1},
}

// timeseriesCharts makes the charts of the runs' scrape series over time (one time axis from the
// first run's start, each run's line apart), in timeseriesPlots' order. With more than one item
// per request the throughput chart has requests/s too.
func timeseriesCharts(runs []runResult, title string, items int) []chart {
	var charts []chart
	for i, tp := range timeseriesPlots {
		ch := chart{title: title, xLabel: "time (s)", yLabel: tp.yLabel, yAtLeast: tp.yAtLeast}
		l := line{color: tp.color, marker: 5}
		req := line{name: "requests/s", color: colRequests, marker: 5}
		havePoints, noteSM := false, ""
		for _, r := range runs {
			s := r.Scrape
			if s == nil {
				continue
			}
			if len(l.points) > 0 { // a break between runs
				l.points = append(l.points, xy{math.NaN(), math.NaN()})
				req.points = append(req.points, xy{math.NaN(), math.NaN()})
			}
			for _, p := range s.Points {
				l.points = append(l.points, xy{s.Offset + p.T, float64(tp.figure(p))})
				req.points = append(req.points, xy{s.Offset + p.T, float64(p.RequestsPerSec)})
				havePoints = havePoints || tp.figure(p).ok()
			}
			if noteSM == "" {
				noteSM = s.SMActiveNote
			}
		}
		ch.lines = []line{l}
		if i == 0 && items > 1 {
			ch.lines[0].name = "items/s"
			ch.lines = append(ch.lines, req)
			ch.yLabel = "throughput (per second)"
		}
		switch {
		case havePoints:
		case tp.suffix == "-sm-active.png" && noteSM != "":
			ch.note = noteSM
		default:
			ch.note = "no figures in the scrape series"
		}
		charts = append(charts, ch)
	}
	return charts
}

// writeTimeseries draws the runs' scrape series over time into PREFIX-throughput.png,
// PREFIX-p99.png, PREFIX-batch.png and PREFIX-sm-active.png, and returns the files' names.
func writeTimeseries(prefix string, runs []runResult, title string, items, width, height int) ([]string, error) {
	var files []string
	for i, ch := range timeseriesCharts(runs, title, items) {
		name := prefix + timeseriesPlots[i].suffix
		f, err := os.Create(name)
		if err != nil {
			return files, err
		}
		if err := ch.writePNG(f, width, height); err != nil {
			f.Close()
			return files, fmt.Errorf("%s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return files, err
		}
		files = append(files, name)
	}
	return files, nil
}
