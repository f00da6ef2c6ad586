//go:build cgo

package capi

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const wildStoreSource = `
extern "C" __global__ void wild_store(unsigned long long address) {
  *reinterpret_cast<volatile float*>(address) = 1.0f;
}
`

// TestKernelFault runs an out-of-bounds store in a child process (the fault poisons the
// process's CUDA context) and checks that the child saw ErrKernelFault at the synchronisation
// and at the next allocation, never a crash.
func TestKernelFault(t *testing.T) {
	requireGPU(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKernelFaultChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "CUDAGO_FAULT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "fault child: ok") {
		t.Fatalf("child did not run the fault checks:\n%s", out)
	}
}

// TestKernelFaultChild is the child of TestKernelFault; it does nothing in a normal run.
func TestKernelFaultChild(t *testing.T) {
	if os.Getenv("CUDAGO_FAULT_CHILD") != "1" {
		t.Skip("the child process of TestKernelFault")
	}
	dev := requireGPU(t)
	m, err := Compile(dev, wildStoreSource, CompileOptions{})
	must(t, "Compile", err)
	k, err := m.Kernel("wild_store")
	must(t, "Kernel", err)
	s, err := NewStream(dev, StreamOptions{NonBlocking: true})
	must(t, "NewStream", err)
	// The first page is never mapped.
	must(t, "Launch", k.Launch(s, Dim3{X: 1}, Dim3{X: 1}, 0, Uint64(16)))
	err = s.Synchronize()
	if !errors.Is(err, ErrKernelFault) {
		t.Fatalf("Synchronize after the wild store: %v, want ErrKernelFault", err)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Op == "" || ce.NativeName == "" || ce.Msg == "" {
		t.Fatalf("the error does not carry the operation and the CUDA reason: %#v", err)
	}
	t.Logf("fault: %v", err)
	if _, err := NewDeviceBuffer[float32](dev, 16); !errors.Is(err, ErrKernelFault) {
		t.Fatalf("allocation after the fault: %v, want ErrKernelFault", err)
	}
	t.Log("fault child: ok")
}
