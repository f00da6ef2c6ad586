// Package metrics exposes cudago's metrics the way Prometheus scrapes them: every server's
// requests by outcome, batches, batch-size histogram, batch close reasons, queue depth and the
// histograms of request duration, queue wait and each stage; the library's memory pools and
// caches; and each GPU's utilisation, memory, power, energy, temperature and clocks (with, on
// Hopper and newer, SM activity, occupancy, tensor-pipe activity and DRAM bandwidth), in the text
// exposition format the C++ core renders (so C programs serve the same text). Names follow
// Prometheus' rules: one cudago_ prefix, base units (seconds, bytes, joules, watts, hertz,
// celsius, ratios 0–1), _total on counters, histograms rather than summaries, low-cardinality
// labels ("model", "outcome", "reason", "stage"; "device", "uuid", "name" for GPUs).
// Options.TritonNames adds Triton's series (nv_inference_*, nv_gpu_*) for dashboards and tools
// built for Triton. docs/METRICS.md lists every series.
//
// # GPU series
//
// They come from NVML, which the core opens at run time (libnvidia-ml.so.1, or the path in
// CUDAGO_NVML_LIBRARY) and never links, so a program runs where there is no NVIDIA driver: there
// the GPU series are absent, cudago_nvml_available is 0 and the reason is printed to stderr once
// (GPUStatus returns it). A background thread, started by the first rendering, samples every
// device each second (SetGPUInterval changes that, or turns sampling off); a scrape renders the
// last sample and never waits on NVML. The "device" label is the CUDA ordinal of the GPU in this
// process (GPUs this process's CUDA does not see are left out); where CUDA sees none of NVML's
// devices it is NVML's index.
//
// Mount the handler next to your own:
//
//	mux.Handle("/metrics", metrics.Handler(metrics.Options{}))
//
// Take returns a typed Snapshot of one rendering (families, samples, labels, values), for tests,
// reports and bridges.
//
// # With client_golang
//
// The module depends on nothing outside the standard library, so it does not import
// github.com/prometheus/client_golang. A program that has a prometheus.Registry can add cudago's
// metrics to it with a Gatherer that parses the rendering with expfmt:
//
//	type cudagoGatherer struct{}
//
//	func (cudagoGatherer) Gather() ([]*dto.MetricFamily, error) {
//		text, err := metrics.Render(metrics.Options{})
//		if err != nil {
//			return nil, err
//		}
//		var p expfmt.TextParser
//		fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
//		if err != nil {
//			return nil, err
//		}
//		out := make([]*dto.MetricFamily, 0, len(fams))
//		for _, f := range fams {
//			out = append(out, f)
//		}
//		return out, nil
//	}
//
//	// Serve both registries on one endpoint:
//	gatherers := prometheus.Gatherers{prometheus.DefaultGatherer, cudagoGatherer{}}
//	http.Handle("/metrics", promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{}))
//
// (dto is github.com/prometheus/client_model/go, expfmt github.com/prometheus/common/expfmt.)
package metrics
