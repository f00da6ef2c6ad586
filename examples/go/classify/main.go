// Command classify runs an ONNX image classifier on JPEG and PNG images with cudago's CNN
// runtime (package nn) and prints the top classes of each image.
//
//	classify [flags] IMAGE...
//
// It decodes the images with Go's standard library, converts them to RGB, resizes and crops
// them to the model's input size the way torchvision's Resize(256) + CenterCrop(224) does
// (bilinear, antialiased when shrinking; the 256/224 ratio kept for other input sizes), and
// runs them as one batch of uint8 NHWC images: the runtime normalises them with -mean and
// -std on a 0-1 scale. It prints the executor the model got (the GPU plan, or the CPU reference
// executor where there is no usable GPU: correct but slow), the load time of each stage, the
// run time, and for each image its top classes with their probabilities (the softmax of the
// model's output, unless that already is a probability distribution).
//
// From the repository's build directory, with a model that scripts/gen-models.py generated
// (random weights: the classes mean nothing):
//
//	meson devenv -C build --workdir examples/go go run ./classify \
//		-model ../../build/tests/nn/models/mobilenetv2_pt.onnx \
//		classify/testdata/gradient.png classify/testdata/shapes.jpg classify/testdata/rings.png
//
// For a real classifier, export one (torchvision's resnet50 with torch.onnx.export, say) and
// pass its labels with -labels, one per line in class order.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cudago/cudago/examples/go/internal/cli"
	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/nn"
)

// maxBatch is the largest batch one run takes; more images run in several batches.
const maxBatch = 64

func main() {
	cli.Main("classify", "classify [flags] IMAGE... (classify -h lists the flags)", func() error { return run(os.Args[1:], os.Stdout) })
}

// usageError is a mistake on the command line: main follows it with a line of usage.
type usageError = cli.UsageError

// config is what the command line asks for.
type config struct {
	model, labels string
	backend       nn.Backend
	precision     nn.Precision
	mean, std     [3]float32
	top           int
	resize        string
	images        []string
}

// newFlags returns the command's flag set, writing to c; its Usage prints to stderr.
func newFlags(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.StringVar(&c.model, "model", "", "the ONNX classifier `file` (required): one image input, NCHW float32 with 3 channels (RGB)")
	fs.StringVar(&c.labels, "labels", "", "a `file` of class labels, one per line in class order (default: print class indices)")
	cli.BackendFlag(fs, &c.backend, "")
	cli.PrecisionFlag(fs, &c.precision, "")
	c.mean, c.std = [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
	fs.Func("mean", "the `R,G,B` means on a 0-1 scale (default 0.485,0.456,0.406: ImageNet's)", func(s string) error {
		return parseTriple(s, &c.mean, false)
	})
	fs.Func("std", "the `R,G,B` standard deviations on a 0-1 scale (default 0.229,0.224,0.225: ImageNet's)", func(s string) error {
		return parseTriple(s, &c.std, true)
	})
	fs.IntVar(&c.top, "top", 5, "print the top `N` classes of each image")
	fs.StringVar(&c.resize, "resize", resizeShorter, "how images become the model's H×W, one of `shorter|stretch`: shorter resizes the shorter side to max(H,W)×256/224, then crops the center; stretch resizes to H×W")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: classify [flags] IMAGE...")
		fmt.Fprintln(w, "\nClassifies JPEG and PNG images with an ONNX model and prints the top classes of each.\n\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseTriple parses "a,b,c" (or one value for all three channels) into v.
func parseTriple(s string, v *[3]float32, positive bool) error {
	parts := strings.Split(s, ",")
	if len(parts) != 1 && len(parts) != 3 {
		return fmt.Errorf("%q: want 3 comma-separated values (R,G,B) or one for all channels", s)
	}
	for i := range v {
		f, err := strconv.ParseFloat(strings.TrimSpace(parts[i%len(parts)]), 32)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("%q: %q is not a finite number", s, parts[i%len(parts)])
		}
		if positive && f <= 0 {
			return fmt.Errorf("%q: a standard deviation must be positive", s)
		}
		v[i] = float32(f)
	}
	return nil
}

// parseArgs reads the command line. -h and -help are flag.ErrHelp; other mistakes are
// usageErrors.
func parseArgs(args []string) (config, error) {
	var c config
	fs := newFlags(&c)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, usageError{Msg: err.Error()}
	}
	c.images = fs.Args()
	switch {
	case c.model == "":
		return c, usageError{Msg: "no model: give the ONNX file with -model"}
	case len(c.images) == 0:
		return c, usageError{Msg: "no images to classify"}
	case c.top < 1:
		return c, usageError{Msg: fmt.Sprintf("-top %d: want at least 1", c.top)}
	case c.resize != resizeShorter && c.resize != resizeStretch:
		return c, usageError{Msg: fmt.Sprintf("-resize %q: want shorter or stretch", c.resize)}
	}
	return c, nil
}

// readLabels reads a labels file: one label per line, in class order.
func readLabels(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	text := strings.TrimSuffix(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	if text == "" {
		return nil, fmt.Errorf("labels %s: the file is empty", path)
	}
	return strings.Split(text, "\n"), nil
}

// classifier is a loaded model with what classify needs to know about it.
type classifier struct {
	model    *nn.Model
	info     nn.Info
	loadTime time.Duration // the whole of nn.Load
	in, out  nn.TensorInfo // the image input and the first output
	h, w     int           // the input's image size
	classes  int           // the first output's values per image
	resize   string
}

// newClassifier loads the model of c for batches of up to maxBatch images given as uint8
// NHWC, and checks that it is a classifier of RGB images.
func newClassifier(c config, maxBatch int) (*classifier, error) {
	opts := nn.Options{
		Backend:     c.backend,
		Precision:   c.precision,
		MaxBatch:    maxBatch,
		InputFormat: nn.Uint8NHWC,
		InputScale:  1.0 / 255,
		Mean:        [4]float32{c.mean[0], c.mean[1], c.mean[2], 0},
		Std:         [4]float32{c.std[0], c.std[1], c.std[2], 1},
	}
	start := time.Now()
	m, err := nn.Load(c.model, opts)
	if err != nil {
		if errors.Is(err, cudago.ErrInvalidArgument) {
			if _, serr := os.Stat(c.model); serr != nil {
				return nil, fmt.Errorf("model: %w", serr) // names the file and says why
			}
		}
		return nil, fmt.Errorf("model %s: %w", c.model, err)
	}
	cl := &classifier{model: m, info: m.Info(), loadTime: time.Since(start), resize: c.resize}
	if err := cl.check(c.model); err != nil {
		m.Close()
		return nil, err
	}
	return cl, nil
}

// check reads the input and output shapes: one uint8 NHWC input of 3 channels, a first output
// with the batch first (or no batch axis).
func (cl *classifier) check(path string) error {
	ins, outs := cl.model.Inputs(), cl.model.Outputs()
	if len(ins) != 1 {
		return fmt.Errorf("model %s has %d inputs; classify needs a model with one image input", path, len(ins))
	}
	cl.in, cl.out = ins[0], outs[0]
	d := cl.in.Dims // [N H W C] as uint8 NHWC
	if cl.in.DType != nn.U8 || len(d) != 4 {
		return fmt.Errorf("model %s: input %s is not an image", path, cl.in)
	}
	if d[3] != 3 {
		return fmt.Errorf("model %s: input %s has C = %d channels (as uint8 NHWC); classify feeds RGB images and needs 3", path, cl.in, d[3])
	}
	cl.h, cl.w = d[1], d[2]
	if cl.out.BatchAxis > 0 {
		return fmt.Errorf("model %s: output %s does not have the batch first", path, cl.out)
	}
	cl.classes = cl.out.Len(1)
	if cl.classes < 1 {
		return fmt.Errorf("model %s: output %s is empty", path, cl.out)
	}
	return nil
}

// Close frees the model.
func (cl *classifier) Close() error { return cl.model.Close() }

// batch is the largest number of images one run takes.
func (cl *classifier) batch() int { return cl.info.MaxBatch }

// prepare decodes the images and returns them resized and cropped to the model's input, as
// one uint8 NHWC batch.
func (cl *classifier) prepare(paths []string) ([]byte, error) {
	per := cl.h * cl.w * 3
	pixels := make([]byte, len(paths)*per)
	for i, p := range paths {
		if err := prepareImage(p, cl.w, cl.h, cl.resize, pixels[i*per:(i+1)*per]); err != nil {
			return nil, err
		}
	}
	return pixels, nil
}

// classify runs the model on a batch of n prepared images (at most batch()) and returns the
// class probabilities of each.
func (cl *classifier) classify(pixels []byte, n int) ([][]float64, error) {
	outs := cl.model.Outputs()
	ys := make([][]float32, len(outs))
	for j, o := range outs {
		ys[j] = make([]float32, o.Len(n))
	}
	if err := cl.model.RunHost(n, []any{pixels}, ys); err != nil {
		return nil, err
	}
	probs := make([][]float64, n)
	for i := range probs {
		probs[i] = probabilities(ys[0][i*cl.classes : (i+1)*cl.classes])
	}
	return probs, nil
}

// probabilities returns the row as probabilities: as it is if it already is a distribution
// (every value at least 0, summing to 1 within 1e-3), else its softmax.
func probabilities(row []float32) []float64 {
	p := make([]float64, len(row))
	sum, nonNegative := 0.0, true
	for i, v := range row {
		p[i] = float64(v)
		sum += p[i]
		nonNegative = nonNegative && v >= 0
	}
	if nonNegative && math.Abs(sum-1) <= 1e-3 {
		return p
	}
	hi := slices.Max(p)
	sum = 0
	for i := range p {
		p[i] = math.Exp(p[i] - hi)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// ranked is a class and its probability.
type ranked struct {
	class int
	prob  float64
}

// topK returns the k most probable classes, most probable first (ties: lower class first).
func topK(p []float64, k int) []ranked {
	r := make([]ranked, len(p))
	for i, v := range p {
		r[i] = ranked{i, v}
	}
	slices.SortStableFunc(r, func(a, b ranked) int {
		switch {
		case a.prob > b.prob:
			return -1
		case a.prob < b.prob:
			return 1
		}
		return 0
	})
	return r[:min(k, len(r))]
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + " ms"
}

// run is the command: args are the arguments after the program name.
func run(args []string, stdout io.Writer) error {
	c, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fs := newFlags(&config{})
		fs.SetOutput(stdout)
		fs.Usage()
		return nil
	}
	if err != nil {
		return err
	}
	var labels []string
	if c.labels != "" {
		if labels, err = readLabels(c.labels); err != nil {
			return err
		}
	}
	for _, p := range c.images { // fail before the load for a file that is not there
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("image: %w", err)
		}
	}

	cl, err := newClassifier(c, min(len(c.images), maxBatch))
	if err != nil {
		return err
	}
	defer cl.Close()
	if labels != nil && len(labels) != cl.classes {
		return fmt.Errorf("labels %s has %d labels; the model's output %s has %d classes",
			c.labels, len(labels), cl.out, cl.classes)
	}
	info := cl.info
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	fmt.Fprintf(w, "backend: %s\n", cli.DescribeBackend(info, c.backend))
	fmt.Fprintf(w, "model: %s: input %s, output %s; %d layers, %.1f MiB of weights\n",
		c.model, cl.in, cl.out, info.Layers, float64(info.WeightBytes)/(1<<20))
	fmt.Fprintf(w, "load: %s (parse %s, lower %s, plan %s, tune %s)\n", ms(cl.loadTime),
		ms(info.ParseTime), ms(info.LowerTime), ms(info.PlanTime), ms(info.TuneTime))
	how := fmt.Sprintf("shorter side to %d, center crop %dx%d", shorterSide(cl.w, cl.h), cl.w, cl.h)
	if c.resize == resizeStretch {
		how = fmt.Sprintf("stretched to %dx%d", cl.w, cl.h)
	}
	fmt.Fprintf(w, "images: RGB, %s, mean %v, std %v (0-1 scale)\n", how, c.mean, c.std)
	w.Flush()

	for start := 0; start < len(c.images); start += cl.batch() {
		paths := c.images[start:min(start+cl.batch(), len(c.images))]
		t0 := time.Now()
		pixels, err := cl.prepare(paths)
		if err != nil {
			return err
		}
		t1 := time.Now()
		probs, err := cl.classify(pixels, len(paths))
		if err != nil {
			return fmt.Errorf("run: %w", err)
		}
		t2 := time.Now()
		fmt.Fprintf(w, "run: %d images in one batch: %s (%s per image); decoding and resizing %s\n",
			len(paths), ms(t2.Sub(t1)), ms(t2.Sub(t1)/time.Duration(len(paths))), ms(t1.Sub(t0)))
		for i, p := range paths {
			fmt.Fprintf(w, "%s:\n", p)
			for k, r := range topK(probs[i], c.top) {
				name := fmt.Sprintf("class %d", r.class)
				if labels != nil {
					name = fmt.Sprintf("%s (%d)", labels[r.class], r.class)
				}
				fmt.Fprintf(w, "  %d. %.4f  %s\n", k+1, r.prob, name)
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}
