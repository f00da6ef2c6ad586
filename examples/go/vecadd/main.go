// Command vecadd prints the cudago, driver and runtime versions and every CUDA device, then
// compares vector addition of 10M float32 on the CPU (a Go loop) and on the GPU, with the data
// resident on the device and with the transfers included, and checks the GPU result against
// the CPU one. It ends with a table of each of cudago's compute operations (elementwise,
// reductions, layout change, GEMM, FFT), on the CPU in Go and on the GPU with the data already
// there, each GPU result checked against the CPU one; it exits with status 1 if any check fails.
//
//	meson devenv -C build --workdir examples/go go run ./vecadd
package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/kernels"
)

const (
	vecLen = 10_000_000 // elements of the vector operations
	reps   = 20         // GPU runs timed per operation (at least); CPU runs of vector add
	seed   = 2025       // of the random inputs: rand.NewPCG(seed, 0)
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vecadd:", err)
		os.Exit(1)
	}
}

func cudaVersion(v int) string {
	if v == 0 {
		return "none"
	}
	return fmt.Sprintf("%d.%d", v/1000, v%1000/10)
}

func run() error {
	drv, err := cudago.DriverVersion()
	if err != nil {
		return err
	}
	rt, err := cudago.RuntimeVersion()
	if err != nil {
		return err
	}
	fmt.Printf("cudago %s, CUDA driver %s, CUDA runtime %s\n", cudago.Version(), cudaVersion(drv), cudaVersion(rt))

	devs, err := cudago.Devices()
	if err != nil {
		return err
	}
	if len(devs) == 0 {
		fmt.Fprintln(os.Stderr, "no CUDA device:", cudago.NoDeviceReason())
		os.Exit(1)
	}
	for _, d := range devs {
		p, err := d.Properties()
		if err != nil {
			return err
		}
		fmt.Printf("device %d: %s, compute capability %d.%d, %d SMs, %.1f GiB, PCI %s, %s\n",
			d.Ordinal(), p.Name, p.ComputeMajor, p.ComputeMinor, p.MultiprocessorCount,
			float64(p.TotalMemory)/(1<<30), p.PCIBusID, p.UUIDString())
	}
	fmt.Printf("inputs: random float32, uniform in ±[0.5, 1.5), from math/rand/v2 rand.NewPCG(%d, 0)\n", seed)
	fmt.Println()

	g, err := newGPUBench(devs[0])
	if err != nil {
		return err
	}
	defer g.Close()
	rng := rand.New(rand.NewPCG(seed, 0))
	vecadd, err := compare(g, rng)
	if err != nil {
		return err
	}
	return opTable(g, rng, vecadd)
}

// compare prints the vector-add table and returns its device-resident result as a row of the
// op table.
func compare(g *gpuBench, rng *rand.Rand) (row, error) {
	const n = vecLen
	a, b := randomFloats(rng, n), randomFloats(rng, n)
	const bytesPerPass = 12 * n // read a and b, write c

	// CPU: best of reps.
	want := make([]float32, n)
	cpu := cpuTime(reps, func() { addInto(want, a, b) })

	s := g.s
	var err error
	var bufs [3]*cudago.DeviceBuffer[float32]
	for i := range bufs {
		if bufs[i], err = cudago.NewDeviceBufferAsync[float32](s, n); err != nil {
			return row{}, err
		}
		defer bufs[i].Close()
	}
	da, db, dc := bufs[0], bufs[1], bufs[2]
	var hosts [3]*cudago.HostBuffer[float32]
	for i := range hosts {
		if hosts[i], err = cudago.NewHostBuffer[float32](g.dev, n); err != nil {
			return row{}, err
		}
		defer hosts[i].Close()
	}
	ha, hb, hc := hosts[0], hosts[1], hosts[2]
	copy(ha.Slice(), a)
	copy(hb.Slice(), b)

	// GPU, device-resident: the inputs are already on the device; only the kernel is timed.
	if err := da.CopyFromHostAsync(s, ha); err != nil {
		return row{}, err
	}
	if err := db.CopyFromHostAsync(s, hb); err != nil {
		return row{}, err
	}
	kernel, err := g.time(func() error { return kernels.Add(s, da, db, dc) })
	if err != nil {
		return row{}, err
	}
	got := make([]float32, n)
	if err := dc.CopyToHost(got); err != nil {
		return row{}, err
	}
	if err := verify("device-resident", got, want); err != nil {
		return row{}, err
	}

	// GPU with transfers: pinned H2D of a and b, the kernel, D2H of c.
	clear(hc.Slice())
	whole, err := g.time(func() error {
		if err := da.CopyFromHostAsync(s, ha); err != nil {
			return err
		}
		if err := db.CopyFromHostAsync(s, hb); err != nil {
			return err
		}
		if err := kernels.Add(s, da, db, dc); err != nil {
			return err
		}
		return dc.CopyToHostAsync(s, hc)
	})
	if err != nil {
		return row{}, err
	}
	if err := verify("with transfers", hc.Slice(), want); err != nil {
		return row{}, err
	}

	gbps := func(d time.Duration) float64 { return bytesPerPass / d.Seconds() / 1e9 }
	fmt.Printf("vector add, n = %d float32 (%d MB per pass: a and b read, c written)\n\n", n, bytesPerPass/1_000_000)
	fmt.Printf("%-34s %12s %10s %10s\n", "", "time/pass", "GB/s", "speed-up")
	line := func(name string, d time.Duration) {
		fmt.Printf("%-34s %9.3f ms %10.1f %9.1fx\n", name, float64(d.Nanoseconds())/1e6, gbps(d),
			cpu.Seconds()/d.Seconds())
	}
	line("CPU (Go loop)", cpu)
	line("GPU, device-resident (kernel)", kernel)
	line("GPU, pinned H2D + kernel + D2H", whole)
	fmt.Printf("\nGPU results match the CPU exactly (%d elements, both runs)\n", n)
	return row{op: "vector add f32", size: vecSize, cpu: cpu, gpu: kernel, work: bytesPerPass}, nil
}

func verify(what string, got, want []float32) error {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return fmt.Errorf("%s: GPU c[%d] = %v, CPU %v", what, i, got[i], want[i])
		}
	}
	return nil
}
