//go:build cgo

package metrics_test

// The GPU series without a GPU: the core opens NVML once per process, so each case runs this
// test binary again in a child process with CUDAGO_NVML_LIBRARY set: the fake libnvidia-ml that
// tests/meson.build builds from tests/core/nvml_stub.c (meson devenv gives its folder as
// CUDAGO_NVML_STUB_DIR), or a path that does not exist. The child checks the values and units,
// SetGPUInterval and GPUStatus, and hands every rendering to promtool and prometheus_client.

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/testutil"
	"github.com/cudago/cudago/go/metrics"
)

const gpuChildEnv = "CUDAGO_METRICS_GPU_CHILD"

func TestGPUSeries(t *testing.T) {
	switch os.Getenv(gpuChildEnv) {
	case "stub":
		gpuStubChild(t)
		return
	case "missing":
		gpuMissingChild(t)
		return
	}
	dir := os.Getenv("CUDAGO_NVML_STUB_DIR")
	if dir == "" {
		if os.Getenv("CUDAGO_REQUIRE_TOOLS") == "1" {
			t.Fatal("CUDAGO_NVML_STUB_DIR is not set: run the Go tests through meson devenv")
		}
		t.Skip("CUDAGO_NVML_STUB_DIR is not set: run the Go tests through meson devenv")
	}
	for _, c := range []struct{ name, lib string }{
		{"stub", filepath.Join(dir, "libnvml_stub_full.so")},
		{"missing", "/nonexistent/libnvidia-ml.so.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestGPUSeries$", "-test.v")
			cmd.Env = append(os.Environ(), gpuChildEnv+"="+c.name, "CUDAGO_NVML_LIBRARY="+c.lib)
			out, err := cmd.CombinedOutput()
			if err == nil && strings.Contains(string(out), "--- SKIP: TestGPUSeries") {
				t.Skipf("child (%s) skipped:\n%s", c.name, out) // a checker is not installed
			}
			if err != nil || !strings.Contains(string(out), "--- PASS: TestGPUSeries") {
				t.Fatalf("child (%s): %v\n%s", c.name, err, out)
			}
		})
	}
}

const stubDev0 = "GPU-00000000-1111-2222-3333-444444444444"

func gpuStubChild(t *testing.T) {
	ok, reason, err := metrics.GPUStatus()
	testutil.Must(t, "GPUStatus", err)
	if !ok || reason != "" {
		t.Fatalf("GPUStatus = %v, %q with the stub", ok, reason)
	}
	for _, bad := range []time.Duration{-time.Second, time.Millisecond, 2 * time.Hour} {
		err := metrics.SetGPUInterval(bad)
		if !errors.Is(err, cudago.ErrInvalidArgument) {
			t.Errorf("SetGPUInterval(%v) = %v, want ErrInvalidArgument", bad, err)
		}
	}
	testutil.Must(t, "SetGPUInterval", metrics.SetGPUInterval(20*time.Millisecond))
	// The sampler's second pass brings the GPM figures.
	var snap *metrics.Snapshot
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		snap, err = metrics.Take(metrics.Options{})
		testutil.Must(t, "Take", err)
		if _, ok := snap.Value("cudago_gpu_sm_active_ratio", map[string]string{"uuid": stubDev0}); ok {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	dev0 := map[string]string{"device": "0", "uuid": stubDev0, "name": "NVIDIA H100 80GB HBM3"}
	for name, want := range map[string]float64{
		"cudago_nvml_available":                    1,
		"cudago_gpu_utilization_ratio":             0.75,
		"cudago_gpu_memory_copy_utilization_ratio": 0.3,
		"cudago_gpu_memory_used_bytes":             1 << 30,
		"cudago_gpu_memory_total_bytes":            80 << 30,
		"cudago_gpu_power_watts":                   250,
		"cudago_gpu_power_limit_watts":             700,
		"cudago_gpu_energy_joules_total":           123456.789,
		"cudago_gpu_temperature_celsius":           45,
		"cudago_gpu_sm_clock_hertz":                1980e6,
		"cudago_gpu_memory_clock_hertz":            2619e6,
		"cudago_gpu_sm_active_ratio":               0.5,
		"cudago_gpu_sm_occupancy_ratio":            0.25,
		"cudago_gpu_tensor_active_ratio":           0.125,
		"cudago_gpu_dram_bandwidth_ratio":          0.75,
	} {
		match := dev0
		if name == "cudago_nvml_available" {
			match = nil
		}
		if got, ok := snap.Value(name, match); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if f := snap.Family("cudago_gpu_energy_joules_total"); f == nil || f.Type != metrics.Counter {
		t.Errorf("cudago_gpu_energy_joules_total is not a counter: %+v", f)
	}
	if age, ok := snap.Value("cudago_gpu_sample_age_seconds", dev0); !ok || age < 0 || age > 5 {
		t.Errorf("sample age %v (present %v)", age, ok)
	}
	name1 := "Fake \"GPU\" \\1" // escaped in the text, read back whole
	if p, ok := snap.Value("cudago_gpu_power_watts", map[string]string{"device": "1", "name": name1}); !ok || p != 60.5 {
		t.Errorf("device 1's power %v (present %v)", p, ok)
	}
	text, err := metrics.Render(metrics.Options{TritonNames: true})
	testutil.Must(t, "Render", err)
	for _, want := range []string{
		`nv_gpu_utilization{gpu_uuid="` + stubDev0 + `"} 0.75`,
		`nv_gpu_power_usage{gpu_uuid="` + stubDev0 + `"} 250`,
		`nv_energy_consumption{gpu_uuid="` + stubDev0 + `"} 123456.789`,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("no %q in the Triton rendering", want)
		}
	}
	checkPromtool(t, text, true)
	if n := checkPython(t, text); n == 0 {
		t.Errorf("prometheus_client read nothing")
	}
	plain, err := metrics.Render(metrics.Options{})
	testutil.Must(t, "Render", err)
	if strings.Contains(string(plain), "nv_gpu_") {
		t.Errorf("Triton's GPU names without TritonNames")
	}
	checkPromtool(t, plain, false)
	checkPython(t, plain)
	// Off: no NVML series at all.
	testutil.Must(t, "SetGPUInterval(0)", metrics.SetGPUInterval(0))
	plain, err = metrics.Render(metrics.Options{})
	testutil.Must(t, "Render", err)
	if strings.Contains(string(plain), "cudago_nvml_available") || strings.Contains(string(plain), "cudago_gpu_") {
		t.Errorf("NVML series with sampling off:\n%s", plain)
	}
	testutil.Must(t, "SetGPUInterval", metrics.SetGPUInterval(metrics.DefaultGPUInterval))
}

func gpuMissingChild(t *testing.T) {
	ok, reason, err := metrics.GPUStatus()
	testutil.Must(t, "GPUStatus", err)
	if ok || !strings.Contains(reason, "dlopen") || !strings.Contains(reason, "CUDAGO_NVML_LIBRARY") {
		t.Fatalf("GPUStatus = %v, %q without a library", ok, reason)
	}
	var snap *metrics.Snapshot
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		snap, err = metrics.Take(metrics.Options{})
		testutil.Must(t, "Take", err)
		if _, ok := snap.Value("cudago_nvml_available", nil); ok {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v, ok := snap.Value("cudago_nvml_available", nil); !ok || v != 0 {
		t.Errorf("cudago_nvml_available = %v (present %v), want 0", v, ok)
	}
	for _, f := range snap.Families {
		if strings.HasPrefix(f.Name, "cudago_gpu_") || strings.HasPrefix(f.Name, "nv_gpu_") {
			t.Errorf("GPU series without NVML: %s", f.Name)
		}
	}
	text, err := metrics.Render(metrics.Options{TritonNames: true})
	testutil.Must(t, "Render", err)
	checkPromtool(t, text, true)
	checkPython(t, text)
}
