package main

// Tests of the classify command: the resize and crop against a brute-force reference, the RGB
// conversion of each image type against image.Image.At, the whole classification of the
// testdata images against a run of the model on float NCHW input computed here, and the
// command's errors. The model tests need $CUDAGO_MODELS_DIR (set by meson devenv) and run on
// the CPU reference executor, so they need no GPU.

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/nn"
)

var testImages = []string{"testdata/gradient.png", "testdata/shapes.jpg", "testdata/rings.png"}

func modelPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("CUDAGO_MODELS_DIR")
	if dir == "" {
		t.Fatal("CUDAGO_MODELS_DIR is not set: run the tests through meson " +
			"(cd build && meson devenv --workdir ../examples/go go test ./classify/) or scripts/test.sh")
	}
	return filepath.Join(dir, name)
}

// randomImage returns a w×h opaque NRGBA image of random colours.
func randomImage(w, h int, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255})
		}
	}
	return img
}

// tent is the bilinear filter: 1 at distance 0, falling to 0 at distance radius.
func tent(d, radius float64) float64 {
	return math.Max(0, 1-math.Abs(d)/radius)
}

// referenceResize computes each pixel of the crop separately, straight from the definition: the
// crop pixel (x, y) is pixel (left+x, top+y) of the image resized to rw×rh, whose centre lies at
// ((left+x+0.5)·srcW/rw, (top+y+0.5)·srcH/rh) in the source; it is the average of every source
// pixel weighted by the tent filter of each axis (radius 1, or the axis's shrink factor), the
// weights normalised over the pixels inside the image. It returns unrounded values.
func referenceResize(img image.Image, rw, rh, left, top, w, h int) []float64 {
	b := img.Bounds()
	sw, sh := float64(b.Dx()), float64(b.Dy())
	rx, ry := math.Max(sw/float64(rw), 1), math.Max(sh/float64(rh), 1)
	out := make([]float64, 0, 3*w*h)
	for y := 0; y < h; y++ {
		cy := (float64(top+y) + 0.5) * sh / float64(rh)
		for x := 0; x < w; x++ {
			cx := (float64(left+x) + 0.5) * sw / float64(rw)
			var sum [3]float64
			total := 0.0
			for j := 0; j < b.Dy(); j++ {
				for i := 0; i < b.Dx(); i++ {
					wt := tent(float64(i)+0.5-cx, rx) * tent(float64(j)+0.5-cy, ry)
					if wt == 0 {
						continue
					}
					c := color.NRGBAModel.Convert(img.At(b.Min.X+i, b.Min.Y+j)).(color.NRGBA)
					sum[0] += wt * float64(c.R)
					sum[1] += wt * float64(c.G)
					sum[2] += wt * float64(c.B)
					total += wt
				}
			}
			out = append(out, sum[0]/total, sum[1]/total, sum[2]/total)
		}
	}
	return out
}

// checkRounded checks that got holds want rounded to bytes; where want is within 1e-9 of a
// half, either neighbour is right (the two computations add in different orders).
func checkRounded(t *testing.T, what string, got []uint8, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bad := 0
	for i, v := range want {
		g := float64(got[i])
		if g == math.Round(v) || (math.Abs(v-math.Floor(v)-0.5) < 1e-9 && math.Abs(g-v) <= 0.5+1e-9) {
			continue
		}
		if bad++; bad <= 5 {
			t.Errorf("%s: value %d (pixel %d, channel %d) is %v, want %.6f", what, i, i/3, i%3, got[i], v)
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d values wrong in all", what, bad)
	}
}

func TestCropGeometry(t *testing.T) {
	// Worked out by hand: the shorter side to round(max(w,h)·256/224), the longer one
	// truncated to keep the aspect ratio, the crop offset (resized - crop)/2 rounded down.
	cases := []struct {
		srcW, srcH, w, h int
		mode             string
		want             geometry
	}{
		{640, 480, 224, 224, resizeShorter, geometry{341, 256, 58, 16}}, // 341.33: torchvision's 341x256
		{480, 640, 224, 224, resizeShorter, geometry{256, 341, 16, 58}},
		{120, 90, 96, 96, resizeShorter, geometry{146, 110, 25, 7}}, // 96·256/224 = 109.7 → 110
		{90, 120, 96, 96, resizeShorter, geometry{110, 146, 7, 25}},
		{37, 23, 13, 11, resizeShorter, geometry{24, 15, 5, 2}}, // 13·256/224 = 14.86 → 15
		{1, 1, 7, 9, resizeShorter, geometry{10, 10, 1, 0}},     // 9·256/224 = 10.29 → 10
		{96, 96, 96, 96, resizeShorter, geometry{110, 110, 7, 7}},
		{37, 23, 13, 11, resizeStretch, geometry{13, 11, 0, 0}},
	}
	for _, c := range cases {
		if got := cropGeometry(c.srcW, c.srcH, c.w, c.h, c.mode); got != c.want {
			t.Errorf("%dx%d to %dx%d (%s): %+v, want %+v", c.srcW, c.srcH, c.w, c.h, c.mode, got, c.want)
		}
	}
}

func TestResizeCrop(t *testing.T) {
	cases := []struct {
		srcW, srcH, w, h int
		mode             string
	}{
		{37, 23, 13, 11, resizeShorter},  // shrink ×1.5 both ways, odd sizes
		{5, 300, 7, 9, resizeShorter},    // enlarge one axis ×2, shrink the other ×0.5
		{300, 5, 9, 7, resizeStretch},    // shrink ×33 one way, enlarge ×1.4 the other
		{1, 1, 7, 9, resizeShorter},      // one pixel
		{101, 67, 32, 24, resizeShorter}, // a non-square input
		{64, 48, 96, 96, resizeShorter},  // enlarge both ways
		{31, 29, 29, 31, resizeStretch},  // nearly the same size
		{3, 200, 1, 1, resizeStretch},    // one output pixel averaging a whole column band
	}
	for k, c := range cases {
		name := fmt.Sprintf("%dx%d to %dx%d %s", c.srcW, c.srcH, c.w, c.h, c.mode)
		img := randomImage(c.srcW, c.srcH, uint64(k))
		g := cropGeometry(c.srcW, c.srcH, c.w, c.h, c.mode)
		got := make([]uint8, 3*c.w*c.h)
		resizeCrop(toRGB(img), g, c.w, c.h, got)
		checkRounded(t, name, got, referenceResize(img, g.rw, g.rh, g.left, g.top, c.w, c.h))
	}

	// Resizing to the same size copies the image exactly.
	img := randomImage(17, 13, 99)
	got := make([]uint8, 3*17*13)
	resizeCrop(toRGB(img), cropGeometry(17, 13, 17, 13, resizeStretch), 17, 13, got)
	if want := toRGB(img).pix; !bytes.Equal(got, want) {
		t.Errorf("17x13 to 17x13 is not a copy")
	}

	// A flat image stays flat, whatever the scale.
	flat := image.NewUniform(color.NRGBA{12, 200, 77, 255})
	src := toRGB(&boundedImage{flat, image.Rect(0, 0, 53, 31)})
	got = make([]uint8, 3*5*7)
	resizeCrop(src, cropGeometry(53, 31, 5, 7, resizeShorter), 5, 7, got)
	for i, v := range got {
		if want := []uint8{12, 200, 77}[i%3]; v != want {
			t.Fatalf("flat image: value %d is %d, want %d", i, v, want)
		}
	}
}

// boundedImage gives an image other bounds, and hides its type from toRGB's fast paths.
type boundedImage struct {
	image.Image
	r image.Rectangle
}

func (b *boundedImage) Bounds() image.Rectangle { return b.r }

// TestToRGB checks each of toRGB's fast paths (and the generic one) against image.At on images
// whose bounds do not start at the origin.
func TestToRGB(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	fill := func(p []uint8) {
		for i := range p {
			p[i] = uint8(rng.IntN(256))
		}
	}
	r := image.Rect(3, 5, 3+19, 5+13)
	var imgs []image.Image
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444,
		image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440,
		image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		m := image.NewYCbCr(r, ratio)
		fill(m.Y)
		fill(m.Cb)
		fill(m.Cr)
		imgs = append(imgs, m, m.SubImage(image.Rect(4, 6, 20, 17)))
	}
	rgba := image.NewRGBA(r) // premultiplied: keep each colour at most its alpha
	fill(rgba.Pix)
	for i := 0; i < len(rgba.Pix); i += 4 {
		a := rgba.Pix[i+3]
		if i%8 == 0 {
			a = 255
		}
		rgba.Pix[i+3] = a
		for c := 0; c < 3; c++ {
			rgba.Pix[i+c] = uint8(int(rgba.Pix[i+c]) * int(a) / 255)
		}
	}
	nrgba := image.NewNRGBA(r)
	fill(nrgba.Pix)
	gray := image.NewGray(r)
	fill(gray.Pix)
	pal := image.NewPaletted(r, color.Palette{color.Black, color.NRGBA{200, 10, 30, 128},
		color.Gray{90}, color.RGBA{0, 0, 255, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(rng.IntN(4))
	}
	gray16 := image.NewGray16(r)
	fill(gray16.Pix)
	cmyk := image.NewCMYK(r)
	fill(cmyk.Pix)
	imgs = append(imgs, rgba, rgba.SubImage(image.Rect(5, 6, 9, 17)), nrgba,
		nrgba.SubImage(image.Rect(5, 6, 9, 17)), gray, gray.SubImage(image.Rect(5, 6, 9, 17)),
		pal, pal.SubImage(image.Rect(5, 6, 9, 17)), gray16, cmyk)

	for _, img := range imgs {
		b := img.Bounds()
		got := toRGB(img)
		if got.w != b.Dx() || got.h != b.Dy() {
			t.Fatalf("%T %v: %dx%d", img, b, got.w, got.h)
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				o := 3 * ((y-b.Min.Y)*got.w + x - b.Min.X)
				if g := got.pix[o : o+3]; g[0] != c.R || g[1] != c.G || g[2] != c.B {
					t.Fatalf("%T %v: pixel (%d, %d) is %v, At gives %v", img, b, x, y, g, c)
				}
			}
		}
	}
}

// TestDecodeTestdata checks the test images: a colour PNG, a JPEG and a grayscale PNG.
func TestDecodeTestdata(t *testing.T) {
	want := []struct {
		typ  string
		w, h int
	}{{"*image.RGBA", 96, 80}, {"*image.YCbCr", 120, 90}, {"*image.Gray", 64, 72}}
	for i, p := range testImages {
		img, err := decodeFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if typ, b := fmt.Sprintf("%T", img), img.Bounds(); typ != want[i].typ || b.Dx() != want[i].w || b.Dy() != want[i].h {
			t.Errorf("%s: %s %dx%d, want %s %dx%d", p, typ, b.Dx(), b.Dy(), want[i].typ, want[i].w, want[i].h)
		}
	}
	// Grayscale becomes R = G = B.
	img, _ := decodeFile("testdata/rings.png")
	rgb := toRGB(img)
	for i := 0; i < len(rgb.pix); i += 3 {
		if rgb.pix[i] != rgb.pix[i+1] || rgb.pix[i] != rgb.pix[i+2] {
			t.Fatalf("rings.png: pixel %d is %v, not gray", i/3, rgb.pix[i:i+3])
		}
	}
}

// expected is the top of the test's own computation for one image.
type expected struct {
	class []int
	prob  []float64
}

// referenceTop classifies the images without the command's model options and arithmetic: the
// same decoding and resizing, then the normalisation to float NCHW done here, the model loaded
// with its own (float) input on the reference executor, and the softmax and ranking done here.
func referenceTop(t *testing.T, model string, paths []string, k int) []expected {
	t.Helper()
	m, err := nn.Load(model, nn.Options{Backend: nn.Reference, MaxBatch: len(paths)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	in, out := m.Inputs()[0], m.Outputs()[0]
	if in.DType != nn.F32 || len(in.Dims) != 4 || in.Dims[1] != 3 {
		t.Fatalf("model input %s: want float32 NCHW with 3 channels", in)
	}
	n, h, w := len(paths), in.Dims[2], in.Dims[3]
	mean, std := []float64{0.485, 0.456, 0.406}, []float64{0.229, 0.224, 0.225}
	x := make([]float32, in.Len(n))
	crop := make([]uint8, h*w*3)
	for i, p := range paths {
		if err := prepareImage(p, w, h, resizeShorter, crop); err != nil {
			t.Fatal(err)
		}
		for c := 0; c < 3; c++ {
			for y := 0; y < h; y++ {
				for xx := 0; xx < w; xx++ {
					v := float64(crop[(y*w+xx)*3+c]) / 255
					x[((i*3+c)*h+y)*w+xx] = float32((v - mean[c]) / std[c])
				}
			}
		}
	}
	logits := make([]float32, out.Len(n))
	if err := m.RunHost(n, []any{x}, [][]float32{logits}); err != nil {
		t.Fatal(err)
	}
	classes := len(logits) / n
	res := make([]expected, n)
	for i := range res {
		row := logits[i*classes : (i+1)*classes]
		// softmax as exp(x - logsumexp(x))
		hi := math.Inf(-1)
		for _, v := range row {
			hi = math.Max(hi, float64(v))
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(float64(v) - hi)
		}
		lse := hi + math.Log(s)
		idx := make([]int, classes)
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
		for _, j := range idx[:k] {
			res[i].class = append(res[i].class, j)
			res[i].prob = append(res[i].prob, math.Exp(float64(row[j])-lse))
		}
	}
	return res
}

// TestClassify runs the command's own steps (arguments, load, decode and resize, run,
// probabilities, ranking) on the testdata images and compares them with referenceTop.
func TestClassify(t *testing.T) {
	model := modelPath(t, "mobilenetv2_pt.onnx")
	want := referenceTop(t, model, testImages, 5)

	cfg, err := parseArgs(append([]string{"-model", model, "-backend", "reference"}, testImages...))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := newClassifier(cfg, len(cfg.images))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if cl.info.Backend != nn.Reference || cl.info.Precision != nn.FP32 {
		t.Errorf("executor %v %v, want reference fp32", cl.info.Backend, cl.info.Precision)
	}
	if cl.h != 96 || cl.w != 96 || cl.classes != 1000 || cl.batch() != 3 {
		t.Errorf("input %dx%d, %d classes, batch %d; want 96x96, 1000, 3", cl.w, cl.h, cl.classes, cl.batch())
	}
	pixels, err := cl.prepare(cfg.images)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := cl.classify(pixels, len(cfg.images))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range testImages {
		sum := 0.0
		for _, v := range probs[i] {
			sum += v
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("%s: the probabilities sum to %v", p, sum)
		}
		top := topK(probs[i], 5)
		for r := range top {
			if top[r].class != want[i].class[r] || math.Abs(top[r].prob-want[i].prob[r]) > 1e-3 {
				t.Errorf("%s: rank %d is class %d (%.5f), the reference's class %d (%.5f)",
					p, r+1, top[r].class, top[r].prob, want[i].class[r], want[i].prob[r])
			}
		}
	}
}

// TestRunOutput runs the command with a labels file and checks every line it prints for the
// images against referenceTop.
func TestRunOutput(t *testing.T) {
	model := modelPath(t, "mobilenetv2_pt.onnx")
	want := referenceTop(t, model, testImages, 3)
	labels := filepath.Join(t.TempDir(), "labels.txt")
	var lb strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&lb, "label number %d\r\n", i)
	}
	if err := os.WriteFile(labels, []byte(lb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	args := append([]string{"-model", model, "-backend", "reference", "-labels", labels, "-top", "3"}, testImages...)
	if err := run(args, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Log("\n" + text)
	if !strings.HasPrefix(text, "backend: reference executor (CPU, fp32") {
		t.Errorf("the output does not start with the executor:\n%s", text)
	}
	for _, s := range []string{"load: ", "parse ", "lower ", "run: 3 images"} {
		if !strings.Contains(text, s) {
			t.Errorf("the output lacks %q", s)
		}
	}
	lines := strings.Split(text, "\n")
	for i, p := range testImages {
		at := -1
		for j, l := range lines {
			if l == p+":" {
				at = j
			}
		}
		if at < 0 || at+3 >= len(lines) {
			t.Fatalf("no results for %s in:\n%s", p, text)
		}
		for r := 0; r < 3; r++ {
			var rank, class int
			var prob float64
			var label string
			l := lines[at+1+r]
			if _, err := fmt.Sscanf(l, "  %d. %f  label number %s (%d)", &rank, &prob, &label, &class); err != nil {
				t.Fatalf("%s: line %q: %v", p, l, err)
			}
			if rank != r+1 || class != want[i].class[r] || label != fmt.Sprint(class) ||
				math.Abs(prob-want[i].prob[r]) > 1e-3 {
				t.Errorf("%s: line %q; the reference has class %d at %.5f", p, l, want[i].class[r], want[i].prob[r])
			}
		}
	}
}

func TestProbabilities(t *testing.T) {
	dist := []float32{0.25, 0, 0.7, 0.0505}
	if p := probabilities(dist); p[0] != 0.25 || p[2] != float64(float32(0.7)) {
		t.Errorf("a distribution was changed: %v", p)
	}
	for _, row := range [][]float32{{0.5, 0.6}, {-0.1, 1.1}, {1, 2, 3}} {
		p := probabilities(row)
		// softmax: p[i]/p[j] = e^(x[i]-x[j])
		if r := p[1] / p[0]; math.Abs(r-math.Exp(float64(row[1])-float64(row[0]))) > 1e-12 {
			t.Errorf("%v: %v is not the softmax", row, p)
		}
	}
	got := topK([]float64{0.1, 0.4, 0.1, 0.3, 0.1}, 3)
	if want := []ranked{{1, 0.4}, {3, 0.3}, {0, 0.1}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("topK: %v, want %v", got, want)
	}
}

// TestRunErrors checks that each mistake is an error that names it.
func TestRunErrors(t *testing.T) {
	model := modelPath(t, "mobilenetv2_pt.onnx")
	img := testImages[0]
	dir := t.TempDir()
	notImage := filepath.Join(dir, "notes.png")
	if err := os.WriteFile(notImage, []byte("these are notes, not a picture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var full bytes.Buffer
	if err := png.Encode(&full, randomImage(40, 30, 3)); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.png")
	if err := os.WriteFile(truncated, full.Bytes()[:full.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}
	labels := filepath.Join(dir, "labels.txt")
	if err := os.WriteFile(labels, []byte("cat\ndog\nbird\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.onnx")

	cases := []struct {
		args  []string
		usage bool     // a usageError
		want  []string // in the message
		is    error    // matched with errors.Is, if set
	}{
		{args: nil, usage: true, want: []string{"no model", "-model"}},
		{args: []string{"-model", model}, usage: true, want: []string{"no images"}},
		{args: []string{"-bogus", "-model", model, img}, usage: true, want: []string{"-bogus"}},
		{args: []string{"-model"}, usage: true, want: []string{"-model"}},
		{args: []string{"-backend", "tpu", "-model", model, img}, usage: true, want: []string{"tpu", "-backend"}},
		{args: []string{"-precision", "fp8", "-model", model, img}, usage: true, want: []string{"fp8", "-precision"}},
		{args: []string{"-top", "0", "-model", model, img}, usage: true, want: []string{"-top 0"}},
		{args: []string{"-mean", "0.5,0.5", "-model", model, img}, usage: true, want: []string{"-mean", "0.5,0.5"}},
		{args: []string{"-std", "0.2,0,0.2", "-model", model, img}, usage: true, want: []string{"-std", "positive"}},
		{args: []string{"-resize", "fit", "-model", model, img}, usage: true, want: []string{"-resize", "fit"}},
		{args: []string{"-model", missing, img}, want: []string{missing, "no such file"}},
		{args: []string{"-model", img, img}, want: []string{img, "not an ONNX model"}, is: cudago.ErrInvalidModel},
		{args: []string{"-model", modelPath(t, "conv_k3_s2_p1_c1_7x9.onnx"), img}, want: []string{"C = 1 channels", "needs 3"}},
		{args: []string{"-model", model, "-backend", "reference", "-precision", "fp16", img}, want: []string{"fp32 only"},
			is: cudago.ErrInvalidArgument},
		{args: []string{"-model", model, "-backend", "reference", img, notImage}, want: []string{notImage, "not a JPEG or PNG"}},
		{args: []string{"-model", model, "-backend", "reference", truncated}, want: []string{truncated, "png: "}},
		{args: []string{"-model", model, "-backend", "reference", "nowhere.jpg"}, want: []string{"nowhere.jpg", "no such file"}},
		{args: []string{"-model", model, "-backend", "reference", "-labels", labels, img},
			want: []string{labels, "has 3 labels", "1000 classes"}},
		{args: []string{"-model", model, "-labels", filepath.Join(dir, "nolabels.txt"), img},
			want: []string{"nolabels.txt", "no such file"}},
	}
	for _, c := range cases {
		var out bytes.Buffer
		err := run(c.args, &out)
		if err == nil {
			t.Errorf("%q: no error; printed\n%s", c.args, out.String())
			continue
		}
		var u usageError
		if errors.As(err, &u) != c.usage {
			t.Errorf("%q: %v: usage error %v, want %v", c.args, err, !c.usage, c.usage)
		}
		for _, s := range c.want {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%q: error %q does not say %q", c.args, err, s)
			}
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%q: error %v is not %v", c.args, err, c.is)
		}
	}

	var out bytes.Buffer
	if err := run([]string{"-h"}, &out); err != nil || !strings.Contains(out.String(), "usage: classify") {
		t.Errorf("-h: %v, printed %q", err, out.String())
	}
}
