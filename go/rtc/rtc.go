package rtc

import (
	"github.com/cudago/cudago/go/cudago"
	"github.com/cudago/cudago/go/internal/capi"
)

// CompileOptions configure a run-time compilation (NVRTC). The zero value compiles C++17 for
// the device's own architecture, through the compile cache.
type CompileOptions struct {
	// Arch is the target: "sm_90" (SASS) or "compute_90" (PTX, compiled by the driver at load).
	// Empty: the device's compute capability (sm_XY).
	Arch string
	// Std is the C++ dialect ("c++17" when empty).
	Std string
	// Defines become -DNAME=VALUE (-DNAME when VALUE is empty), in name order.
	Defines map[string]string
	// Options are passed to NVRTC as they are ("-lineinfo", "--use_fast_math", ...).
	Options []string
	// Headers maps include names to contents: #include "name" finds them.
	Headers map[string]string
	// NameExpressions name template instantiations to compile and look up by that name
	// ("block_sum<float, 256>"); Module.Kernel accepts the same string.
	NameExpressions []string
	// NoCache always runs NVRTC and leaves the compile cache alone.
	NoCache bool
}

// CompileError is the error of a compile that NVRTC rejected. It wraps the *Error (Status
// [cudago.StatusNVRTC], or [cudago.StatusInvalidArgument] for an option NVRTC does not know), so errors.Is(err,
// [cudago.ErrNVRTC]) and errors.As(err, **cudago.Error) work; Log is the compiler's whole log, with the file
// name "rtc_source.cu", the line and "error" for each error.
//
// Its fields:
//   - Err *cudago.Error
//   - Log string
//
// Its methods (documented with the type it aliases):
//   - Error() string
//   - Unwrap() error
type CompileError = capi.CompileError

// Module is CUDA C++ compiled at run time and loaded on one device. Kernels looked up in it
// keep the loaded code alive after the Module is closed. Methods are safe for concurrent use.
type Module capi.Module

// Compile compiles src with NVRTC for dev (its architecture unless opts.Arch says otherwise)
// and loads it there. A compile error is a *CompileError carrying the whole log (errors.Is
// matches [cudago.ErrNVRTC]). Results are cached (see SetCacheDir); a hit does not run NVRTC.
func Compile(dev cudago.Device, src string, opts CompileOptions) (*Module, error) {
	r0, r1 := capi.Compile(capi.Device(dev), src, capi.CompileOptions(opts))
	return (*Module)(r0), r1
}

// CompileImage compiles src without a device and without loading it: the CUBIN (opts.Arch
// "sm_XY", required) or NUL-terminated PTX ("compute_XY"). It works on machines without a GPU.
func CompileImage(src string, opts CompileOptions) ([]byte, error) {
	return capi.CompileImage(src, capi.CompileOptions(opts))
}

// Device returns the module's device.
func (m *Module) Device() cudago.Device {
	r0 := (*capi.Module)(m).Device()
	return cudago.Device(r0)
}

// Log returns the compiler's log (warnings; usually empty).
func (m *Module) Log() (string, error) {
	return (*capi.Module)(m).Log()
}

// Close releases the module; kernels looked up in it keep working until they are closed. The
// code is unloaded after the streams that ran its kernels are done. A second Close returns nil.
func (m *Module) Close() error {
	return (*capi.Module)(m).Close()
}

// Kernel looks a kernel up by its name (extern "C" functions) or by a name expression given
// at compile time (templates).
func (m *Module) Kernel(name string) (*Kernel, error) {
	r0, r1 := (*capi.Module)(m).Kernel(name)
	return (*Kernel)(r0), r1
}

// KernelAttributes describe a compiled kernel.
type KernelAttributes struct {
	NumRegs            int // registers per thread
	MaxThreadsPerBlock int
	NumParams          int // -1 when the driver cannot report them (launches are then unchecked)
	SharedBytes        int // static shared memory per block
	ConstBytes         int
	LocalBytes         int // per thread
	PTXVersion         int
	BinaryVersion      int
}

// Kernel is a function of a Module, ready to launch. Methods are safe for concurrent use.
type Kernel capi.Kernel

// Close releases the kernel. A second Close returns nil.
func (k *Kernel) Close() error {
	return (*capi.Kernel)(k).Close()
}

// Name returns the name the kernel was looked up by.
func (k *Kernel) Name() string {
	return (*capi.Kernel)(k).Name()
}

// Attributes returns the kernel's registers, shared memory, parameter count and limits.
func (k *Kernel) Attributes() KernelAttributes {
	r0 := (*capi.Kernel)(k).Attributes()
	return KernelAttributes(r0)
}

// Occupancy returns the block size with the best occupancy for dynSmem bytes of dynamic shared
// memory per block, and the smallest grid that fills the device with it.
func (k *Kernel) Occupancy(dynSmem int) (block, minGrid int, err error) {
	return (*capi.Kernel)(k).Occupancy(dynSmem)
}

// Dim3 is a grid or block shape. X must be at least 1; Y and Z of 0 mean 1.
type Dim3 struct {
	X, Y, Z int
}

// Arg is one kernel argument; build it with BufArg, MappedArg, Int32, Uint32, Int64, Uint64,
// Float32, Float64 or StructArg.
type Arg capi.Arg

// BufArg passes the device address of b's element off (0 when omitted) as a T* parameter.
func BufArg[T cudago.Element](b *cudago.DeviceBuffer[T], off ...int) Arg {
	r0 := capi.BufArg[T]((*capi.DeviceBuffer[T])(b), off...)
	return Arg(r0)
}

// MappedArg passes the device address of a mapped host buffer as a T* parameter.
func MappedArg[T cudago.Element](m *cudago.MappedBuffer[T]) Arg {
	r0 := capi.MappedArg[T]((*capi.MappedBuffer[T])(m))
	return Arg(r0)
}

// Int32 passes an int (32-bit) parameter.
func Int32(v int32) Arg {
	r0 := capi.Int32(v)
	return Arg(r0)
}

// Uint32 passes an unsigned int parameter.
func Uint32(v uint32) Arg {
	r0 := capi.Uint32(v)
	return Arg(r0)
}

// Int64 passes a long long parameter.
func Int64(v int64) Arg {
	r0 := capi.Int64(v)
	return Arg(r0)
}

// Uint64 passes an unsigned long long (or size_t) parameter.
func Uint64(v uint64) Arg {
	r0 := capi.Uint64(v)
	return Arg(r0)
}

// Float32 passes a float parameter.
func Float32(v float32) Arg {
	r0 := capi.Float32(v)
	return Arg(r0)
}

// Float64 passes a double parameter.
func Float64(v float64) Arg {
	r0 := capi.Float64(v)
	return Arg(r0)
}

// StructArg passes the bytes of v, a struct (or array) of numbers, bools and nested such
// structs, as a by-value parameter. Its Go layout must match the CUDA struct's, padding
// included (Go and CUDA align numbers alike on 64-bit platforms); the size is checked against
// the kernel. Values holding pointers, slices, strings, maps, interfaces, channels or funcs are
// refused. The bytes are copied when StructArg is called.
func StructArg(v any) Arg {
	r0 := capi.StructArg(v)
	return Arg(r0)
}

// Launch queues k<<<grid, block, dynSmem, s>>>(args...). The arguments must match the kernel's
// parameters in number and each in size (checked before anything is queued: [cudago.ErrInvalidArgument]);
// buffers and s must be on the kernel's device. The argument values are copied during the
// call; nothing of Go's memory is kept. It does not block, and allocates nothing once it has
// run with as many arguments before.
func (k *Kernel) Launch(s *cudago.Stream, grid, block Dim3, dynSmem int, args ...Arg) error {
	return (*capi.Kernel)(k).Launch((*capi.Stream)(s), capi.Dim3(grid), capi.Dim3(block), dynSmem, capi.CastSlice[Arg, capi.Arg](args)...)
}

// CacheStats count the compile cache's work since the process started or the last
// ClearCache.
type CacheStats struct {
	Hits     uint64 // served from memory
	DiskHits uint64 // served from the disk directory
	Misses   uint64 // compiled by NVRTC with the cache on
	Entries  uint64 // results held in memory
}

// SetCacheDir turns the disk cache on in dir (created if missing), or off with "".
// Files are named by a hash of the key and hold the whole key; they are written atomically,
// and unreadable or foreign files are ignored.
func SetCacheDir(dir string) error {
	return capi.SetCompileCacheDir(dir)
}

// SetCacheCapacity sets how many results the memory cache keeps (least recently used
// evicted); 0 turns it off. The default is 256.
func SetCacheCapacity(entries int) error {
	return capi.SetCompileCacheCapacity(entries)
}

// ReadCacheStats returns the compile cache's counters.
func ReadCacheStats() (CacheStats, error) {
	r0, r1 := capi.GetCompileCacheStats()
	return CacheStats(r0), r1
}

// ClearCache empties the memory cache and zeroes the counters; the disk stays.
func ClearCache() error {
	return capi.ClearCompileCache()
}
