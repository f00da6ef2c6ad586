package cli

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cudago/cudago/go/nn"
	"github.com/cudago/cudago/go/serve"
)

func TestFlags(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var b nn.Backend
	var p nn.Precision
	BackendFlag(fs, &b, "")
	PrecisionFlag(fs, &p, "inproc: ")
	if err := fs.Parse([]string{"-backend", "reference", "-precision", "bf16"}); err != nil {
		t.Fatal(err)
	}
	if b != nn.Reference || p != nn.BF16 {
		t.Errorf("backend %v, precision %v", b, p)
	}
	for _, bad := range [][]string{{"-backend", "cpu"}, {"-precision", "fp8"}} {
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%v parsed", bad)
		}
	}
}

func TestInts(t *testing.T) {
	var v []int
	if err := Ints(" 1, 8,64", &v, 1); err != nil || !reflect.DeepEqual(v, []int{1, 8, 64}) {
		t.Errorf("Ints: %v %v", v, err)
	}
	for _, bad := range []string{"", "1,,2", "0", "x", "3,-1"} {
		if err := Ints(bad, &v, 1); err == nil || !strings.Contains(err.Error(), "at least 1") {
			t.Errorf("Ints(%q): %v", bad, err)
		}
	}
}

func TestDescribeBackend(t *testing.T) {
	s := DescribeBackend(nn.Info{Backend: nn.Reference, Precision: nn.FP32}, nn.Reference)
	if !strings.Contains(s, "reference executor") || !strings.Contains(s, "-backend reference") {
		t.Errorf("%q", s)
	}
}

func TestBatcherFlags(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg serve.Config
	maxBatch := 0
	BatcherFlags(fs, &cfg, &maxBatch, "")
	args := []string{"-max-batch", "64", "-max-queue-delay", "2ms", "-preferred", "16,32",
		"-devices", "0,1", "-instances", "3", "-capture-all-sizes"}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if maxBatch != 64 || cfg.MaxQueueDelay != 2*time.Millisecond ||
		!reflect.DeepEqual(cfg.PreferredBatchSizes, []int{16, 32}) ||
		!reflect.DeepEqual(cfg.Devices, []int{0, 1}) || cfg.InstancesPerDevice != 3 ||
		!cfg.CaptureAllSizes {
		t.Errorf("max batch %d, config %+v", maxBatch, cfg)
	}
	for _, bad := range []string{"-1", "0,x", ""} {
		if err := fs.Parse([]string{"-devices", bad}); err == nil {
			t.Errorf("-devices %q parsed", bad)
		}
	}
}
