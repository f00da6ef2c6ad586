package metrics

import (
	"time"

	"github.com/cudago/cudago/go/internal/capi"
)

// DefaultGPUInterval is the GPU sampler's interval until SetGPUInterval changes it.
const DefaultGPUInterval = time.Second

// SetGPUInterval sets how often the GPU series are sampled through NVML, from 10 ms to 1 h
// (ErrInvalidArgument outside, as for a negative d), and starts the sampler now rather than at
// the first rendering. Zero turns GPU sampling off: the sampler stops and the NVML series
// (cudago_nvml_available and cudago_gpu_*) leave the exposition until an interval is set again.
//
// The sampler is a background thread of the C++ core: it reads every device each interval, and
// a rendering writes its last sample without calling NVML, so a scrape never waits on the
// driver. Each device's series carry cudago_gpu_sample_age_seconds, the time since they were
// read.
func SetGPUInterval(d time.Duration) error { return capi.MetricsSetGPUInterval(d) }

// GPUStatus says whether NVML (libnvidia-ml.so.1, or $CUDAGO_NVML_LIBRARY, opened at run time)
// is available, and where it is not, why: no driver, a library that lacks a function cudago
// needs, or nvmlInit failing. It loads NVML first if nothing has yet, so it may block for as long
// as nvmlInit takes (up to seconds on a large machine). Without NVML the exposition has
// cudago_nvml_available 0 and no GPU series; nothing else changes.
func GPUStatus() (available bool, reason string, err error) { return capi.MetricsGPUStatus() }
