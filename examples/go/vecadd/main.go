// Command vecadd prints the cudago, driver and runtime versions and every CUDA device, then
// compares vector addition of 10M float32 on the CPU (a Go loop) and on the GPU, with the data
// resident on the device and with the transfers included, and checks the GPU result against
// the CPU one.
//
//	meson devenv -C build --workdir examples/go go run ./vecadd
package main

import (
	"fmt"
	"math"
	"os"
	"time"

	cudago "github.com/cudago/cudago/go"
)

const (
	n    = 10_000_000
	reps = 20
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
	fmt.Println()
	return compare(devs[0])
}

func compare(dev cudago.Device) error {
	a, b := make([]float32, n), make([]float32, n)
	for i := range a {
		a[i] = float32(i%1000) * 0.5
		b[i] = float32(i%777) * 0.25
	}
	const bytesPerPass = 12 * n // read a and b, write c

	// CPU: best of reps.
	want := make([]float32, n)
	cpu := time.Duration(math.MaxInt64)
	for r := 0; r < reps; r++ {
		t0 := time.Now()
		for i := range a {
			want[i] = a[i] + b[i]
		}
		cpu = min(cpu, time.Since(t0))
	}

	s, err := cudago.NewStream(dev, cudago.StreamOptions{NonBlocking: true})
	if err != nil {
		return err
	}
	defer s.Close()
	start, err := cudago.NewEvent(dev, cudago.EventOptions{})
	if err != nil {
		return err
	}
	defer start.Close()
	end, err := cudago.NewEvent(dev, cudago.EventOptions{})
	if err != nil {
		return err
	}
	defer end.Close()

	var bufs [3]*cudago.DeviceBuffer[float32]
	for i := range bufs {
		if bufs[i], err = cudago.NewDeviceBufferAsync[float32](s, n); err != nil {
			return err
		}
		defer bufs[i].Close()
	}
	da, db, dc := bufs[0], bufs[1], bufs[2]
	var hosts [3]*cudago.HostBuffer[float32]
	for i := range hosts {
		if hosts[i], err = cudago.NewHostBuffer[float32](dev, n); err != nil {
			return err
		}
		defer hosts[i].Close()
	}
	ha, hb, hc := hosts[0], hosts[1], hosts[2]
	copy(ha.Slice(), a)
	copy(hb.Slice(), b)

	// timed runs body reps times between two events, after one warm-up run.
	timed := func(body func() error) (time.Duration, error) {
		if err := body(); err != nil {
			return 0, err
		}
		if err := start.Record(s); err != nil {
			return 0, err
		}
		for r := 0; r < reps; r++ {
			if err := body(); err != nil {
				return 0, err
			}
		}
		if err := end.Record(s); err != nil {
			return 0, err
		}
		if err := end.Synchronize(); err != nil {
			return 0, err
		}
		el, err := cudago.Elapsed(start, end)
		return el / reps, err
	}

	// GPU, device-resident: the inputs are already on the device; only the kernel is timed.
	if err := da.CopyFromHostAsync(s, ha); err != nil {
		return err
	}
	if err := db.CopyFromHostAsync(s, hb); err != nil {
		return err
	}
	kernel, err := timed(func() error { return cudago.VectorAdd(s, da, db, dc) })
	if err != nil {
		return err
	}
	got := make([]float32, n)
	if err := dc.CopyToHost(got); err != nil {
		return err
	}
	if err := verify("device-resident", got, want); err != nil {
		return err
	}

	// GPU with transfers: pinned H2D of a and b, the kernel, D2H of c.
	clear(hc.Slice())
	whole, err := timed(func() error {
		if err := da.CopyFromHostAsync(s, ha); err != nil {
			return err
		}
		if err := db.CopyFromHostAsync(s, hb); err != nil {
			return err
		}
		if err := cudago.VectorAdd(s, da, db, dc); err != nil {
			return err
		}
		return dc.CopyToHostAsync(s, hc)
	})
	if err != nil {
		return err
	}
	if err := verify("with transfers", hc.Slice(), want); err != nil {
		return err
	}

	gbps := func(d time.Duration) float64 { return bytesPerPass / d.Seconds() / 1e9 }
	fmt.Printf("vector add, n = %d float32 (%d MB per pass: a and b read, c written)\n\n", n, bytesPerPass/1_000_000)
	fmt.Printf("%-34s %12s %10s %10s\n", "", "time/pass", "GB/s", "speed-up")
	row := func(name string, d time.Duration) {
		fmt.Printf("%-34s %9.3f ms %10.1f %9.1fx\n", name, float64(d.Nanoseconds())/1e6, gbps(d),
			cpu.Seconds()/d.Seconds())
	}
	row("CPU (Go loop)", cpu)
	row("GPU, device-resident (kernel)", kernel)
	row("GPU, pinned H2D + kernel + D2H", whole)
	fmt.Printf("\nGPU results match the CPU exactly (%d elements, both runs)\n", n)
	return nil
}

func verify(what string, got, want []float32) error {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return fmt.Errorf("%s: GPU c[%d] = %v, CPU %v", what, i, got[i], want[i])
		}
	}
	return nil
}
