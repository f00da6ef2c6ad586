// Package cli holds what the example commands share on their command lines: the executor and
// precision flags, integer lists, the line that says which executor a model got, and the usage
// error that main follows with a line of usage.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/nn"
	"github.com/cudago/cudago/go/serve"
)

// UsageError is a mistake on the command line.
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

// Main runs run and exits: 0 on success; 1 with "name: error" on stderr otherwise, followed by
// usage for a UsageError.
func Main(name, usage string, run func() error) {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		var u UsageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, "usage:", usage)
		}
		os.Exit(1)
	}
}

// BackendFlag defines -backend (auto|gpu|reference) on fs, stored in *b. prefix starts its help
// text ("inproc: ", or "").
func BackendFlag(fs *flag.FlagSet, b *nn.Backend, prefix string) {
	choiceFlag(fs, "backend", prefix+"the executor, one of `auto|gpu|reference`: auto takes the GPU where one is usable, else the CPU reference executor (default auto)",
		b, []string{"auto", "gpu", "reference"}, []nn.Backend{nn.Auto, nn.GPU, nn.Reference})
}

// PrecisionFlag defines -precision (fp16|bf16|fp32) on fs, stored in *p.
func PrecisionFlag(fs *flag.FlagSet, p *nn.Precision, prefix string) {
	choiceFlag(fs, "precision", prefix+"the GPU's arithmetic, one of `fp16|bf16|fp32` (default fp16 on the GPU; the reference executor computes in fp32 only)",
		p, []string{"fp16", "bf16", "fp32"}, []nn.Precision{nn.FP16, nn.BF16, nn.FP32})
}

// choiceFlag defines -name on fs taking one of names, storing the matching value in *v.
func choiceFlag[T any](fs *flag.FlagSet, name, usage string, v *T, names []string, values []T) {
	fs.Func(name, usage, func(s string) error {
		for i, n := range names {
			if s == n {
				*v = values[i]
				return nil
			}
		}
		last := len(names) - 1
		return fmt.Errorf("%q is not %s or %s", s, strings.Join(names[:last], ", "), names[last])
	})
}

// BatcherFlags defines the batcher's flags shared by the serving commands on fs: -max-batch
// (into *maxBatch, the model's max batch too), -max-queue-delay, -preferred, -max-queue-size,
// -devices, -instances, -concurrent-compute and -capture-all-sizes (into cfg). prefix starts their
// help texts.
func BatcherFlags(fs *flag.FlagSet, cfg *serve.Config, maxBatch *int, prefix string) {
	fs.IntVar(maxBatch, "max-batch", 8, prefix+"the most batch `items` one batch (and one request) holds; a model without a dynamic batch dimension runs at batch 1")
	fs.DurationVar(&cfg.MaxQueueDelay, "max-queue-delay", 0, prefix+"how long the oldest queued request may wait for others to join its batch (`duration`, e.g. 500us)")
	fs.Func("preferred", prefix+"preferred batch `sizes`, comma-separated: a batch of one of them is sent at once", func(s string) error {
		return Ints(s, &cfg.PreferredBatchSizes, 1)
	})
	fs.IntVar(&cfg.MaxQueueSize, "max-queue-size", 0, prefix+"the most `requests` that may wait; past it a request is refused as the queue is full (0: 1024)")
	fs.Func("devices", prefix+"the GPUs to run on, comma-separated `ordinals` (default: the model's), each with -instances instances", func(s string) error {
		return Ints(s, &cfg.Devices, 0)
	})
	fs.IntVar(&cfg.InstancesPerDevice, "instances", 0, prefix+"execution `instances` per GPU (0: 2 on a GPU, 1 on the reference executor)")
	fs.BoolVar(&cfg.ConcurrentCompute, "concurrent-compute", false, prefix+"let a GPU's instances compute side by side (default: one batch at a time, the others copying meanwhile)")
	fs.BoolVar(&cfg.CaptureAllSizes, "capture-all-sizes", false, prefix+"capture the model's CUDA graph for every batch size at start (default: the preferred sizes and the max batch; others at first use)")
}

// Uint8Flag defines -uint8 on fs, stored in *on: see ImageInputs.
func Uint8Flag(fs *flag.FlagSet, on *bool, prefix string) {
	fs.BoolVar(on, "uint8", false, prefix+"take image inputs (NCHW, at most 4 channels) as UINT8 NHWC scaled by 1/255: a quarter of the bytes of FP32")
}

// ImageInputs sets o to take image inputs as uint8 NHWC scaled by 1/255 when on (-uint8).
func ImageInputs(o *nn.Options, on bool) {
	if on {
		o.InputFormat, o.InputScale = nn.Uint8NHWC, 1.0/255
	}
}

// Ints parses a comma-separated list of integers of at least min into *v.
func Ints(s string, v *[]int, min int) error {
	*v = nil
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < min {
			return fmt.Errorf("%q: want comma-separated integers of at least %d", s, min)
		}
		*v = append(*v, n)
	}
	return nil
}

// DescribeBackend says which executor a model got, and why the CPU one.
func DescribeBackend(info nn.Info, asked nn.Backend) string {
	if info.Backend == nn.GPU {
		name := ""
		if d, err := cudago.DeviceAt(info.Device); err == nil {
			if p, err := d.Properties(); err == nil {
				name = " (" + p.Name + ")"
			}
		}
		return fmt.Sprintf("GPU plan on cuda:%d%s, %s", info.Device, name, info.Precision)
	}
	s := fmt.Sprintf("reference executor (CPU, %s; correct but slow)", info.Precision)
	if asked == nn.Reference {
		return s + ": asked for with -backend reference"
	}
	if n, err := cudago.DeviceCount(); err != nil {
		return s + ": no usable GPU: " + err.Error()
	} else if n == 0 {
		return s + ": no usable GPU: " + cudago.NoDeviceReason()
	}
	return s
}
