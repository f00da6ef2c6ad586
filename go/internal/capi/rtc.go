//go:build cgo

package capi

/*
#include <stdlib.h>
#include "shim_rtc.h"
*/
import "C"

import (
	"math"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unsafe"
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
// StatusNVRTC, or StatusInvalidArgument for an option NVRTC does not know), so errors.Is(err,
// ErrNVRTC) and errors.As(err, **Error) work; Log is the compiler's whole log, with the file
// name "rtc_source.cu", the line and "error" for each error.
type CompileError struct {
	Err *Error
	Log string
}

// Error returns the *Error's text, which ends with the whole log.
func (e *CompileError) Error() string { return e.Err.Error() }

// Unwrap returns the *Error.
func (e *CompileError) Unwrap() error { return e.Err }

// cOptions is a CompileOptions in C memory; free releases it.
type cOptions struct {
	o     C.cudago_compile_options_t
	frees []unsafe.Pointer
}

func (c *cOptions) str(s string) *C.char {
	p := C.CString(s)
	c.frees = append(c.frees, unsafe.Pointer(p))
	return p
}

func (c *cOptions) alloc(bytes uintptr) unsafe.Pointer {
	p := C.calloc(1, C.size_t(bytes))
	if p == nil {
		panic("cudago: out of C memory")
	}
	c.frees = append(c.frees, p)
	return p
}

func (c *cOptions) strs(v []string) **C.char {
	if len(v) == 0 {
		return nil
	}
	p := (**C.char)(c.alloc(uintptr(len(v)) * unsafe.Sizeof((*C.char)(nil))))
	s := unsafe.Slice(p, len(v))
	for i, x := range v {
		s[i] = c.str(x)
	}
	return p
}

func (c *cOptions) free() {
	for _, p := range c.frees {
		C.free(p)
	}
	c.frees = nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const compileLogCap = 64 << 10

func buildOptions(op string, opts CompileOptions, logCap int) (*cOptions, error) {
	// C strings end at the first NUL: refuse one inside any string rather than cut it there.
	type named struct{ what, s string } // what names the string; s is quoted after it unless ""
	all := []named{{"arch", opts.Arch}, {"std", opts.Std}}
	for _, o := range opts.Options {
		all = append(all, named{"option", o})
	}
	for k, v := range opts.Defines {
		all = append(all, named{"define name", k}, named{"define value", v})
	}
	for k, v := range opts.Headers {
		all = append(all, named{"header name", k}, named{"header content of " + strconv.Quote(k), v})
	}
	for _, e := range opts.NameExpressions {
		all = append(all, named{"name expression", e})
	}
	for _, n := range all {
		if strings.IndexByte(n.s, 0) >= 0 {
			if strings.HasPrefix(n.what, "header content") {
				return nil, errArg(op, "the "+n.what+" contains a NUL byte")
			}
			return nil, errArg(op, "the "+n.what+" "+strconv.Quote(n.s)+" contains a NUL byte")
		}
	}
	c := &cOptions{}
	o := &c.o
	o.struct_size = C.uint32_t(C.sizeof_cudago_compile_options_t)
	if opts.NoCache {
		o.flags = C.CUDAGO_COMPILE_NO_CACHE
	}
	if opts.Arch != "" {
		o.arch = c.str(opts.Arch)
	}
	if opts.Std != "" {
		o.std = c.str(opts.Std)
	}
	if n := len(opts.Defines); n > 0 {
		d := (*C.cudago_define_t)(c.alloc(uintptr(n) * C.sizeof_cudago_define_t))
		s := unsafe.Slice(d, n)
		for i, k := range sortedKeys(opts.Defines) {
			s[i].name = c.str(k)
			s[i].value = c.str(opts.Defines[k])
		}
		o.defines, o.num_defines = d, C.uint64_t(n)
	}
	o.options, o.num_options = c.strs(opts.Options), C.uint64_t(len(opts.Options))
	if n := len(opts.Headers); n > 0 {
		h := (*C.cudago_header_t)(c.alloc(uintptr(n) * C.sizeof_cudago_header_t))
		s := unsafe.Slice(h, n)
		for i, k := range sortedKeys(opts.Headers) {
			s[i].name = c.str(k)
			s[i].content = c.str(opts.Headers[k])
		}
		o.headers, o.num_headers = h, C.uint64_t(n)
	}
	o.name_expressions = c.strs(opts.NameExpressions)
	o.num_name_expressions = C.uint64_t(len(opts.NameExpressions))
	o.log = (*C.char)(c.alloc(uintptr(logCap)))
	o.log_cap = C.uint64_t(logCap)
	return c, nil
}

// compileErr converts a failed compile's detail, attaching the whole log to the message.
func compileErr(op string, info *C.cg_err_t, log string) error {
	e := convertError(op, info)
	if e.Status != StatusNVRTC && log == "" {
		return e
	}
	head := e.Msg
	if i := strings.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	e.Msg = head + "\n" + log
	return &CompileError{Err: e, Log: log}
}

// compileWith runs one compile shim and retries once with a log buffer large enough when the
// log of a failure was cut (a failed compile is not cached, so the retry runs NVRTC again).
func compileWith(op string, opts CompileOptions,
	call func(o C.cudago_compile_options_t) C.cg_module_result) (C.cg_module_result, error) {
	logCap := compileLogCap
	for attempt := 0; ; attempt++ {
		c, err := buildOptions(op, opts, logCap)
		if err != nil {
			return C.cg_module_result{}, err
		}
		r := call(c.o)
		if r.err == nil {
			c.free()
			return r, nil
		}
		if int(r.log_len) >= logCap && attempt == 0 {
			C.cg_err_free(r.err)
			c.free()
			logCap = int(r.log_len) + 1
			continue
		}
		log := C.GoString(c.o.log)
		c.free()
		return r, compileErr(op, r.err, log)
	}
}

// Module is CUDA C++ compiled at run time and loaded on one device. Kernels looked up in it
// keep the loaded code alive after the Module is closed. Methods are safe for concurrent use.
type Module struct {
	x   *handle[C.cudago_module_t]
	dev int32
}

// Compile compiles src with NVRTC for dev (its architecture unless opts.Arch says otherwise)
// and loads it there. A compile error is a *CompileError carrying the whole log (errors.Is
// matches ErrNVRTC). Results are cached (see SetCompileCacheDir); a hit does not run NVRTC.
func Compile(dev Device, src string, opts CompileOptions) (*Module, error) {
	const op = "module compile"
	if err := ready(); err != nil {
		return nil, err
	}
	if strings.IndexByte(src, 0) >= 0 {
		return nil, errArg(op, "source contains a NUL byte")
	}
	csrc := C.CString(src)
	defer C.free(unsafe.Pointer(csrc))
	r, err := compileWith(op, opts, func(o C.cudago_compile_options_t) C.cg_module_result {
		return C.cg_module_compile(C.int32_t(dev.ordinal), csrc, o)
	})
	if err != nil {
		return nil, err
	}
	return newModule(r.handle, dev.ordinal), nil
}

// CompileImage compiles src without a device and without loading it: the CUBIN (opts.Arch
// "sm_XY", required) or NUL-terminated PTX ("compute_XY"). It works on machines without a GPU.
func CompileImage(src string, opts CompileOptions) ([]byte, error) {
	const op = "rtc compile"
	if err := ready(); err != nil {
		return nil, err
	}
	if opts.Arch == "" {
		return nil, errArg(op, "CompileImage needs CompileOptions.Arch")
	}
	if strings.IndexByte(src, 0) >= 0 {
		return nil, errArg(op, "source contains a NUL byte")
	}
	csrc := C.CString(src)
	defer C.free(unsafe.Pointer(csrc))
	// One compile for images up to 1 MiB; a larger one is fetched again (from the cache, or
	// compiled again with NoCache).
	capacity := C.uint64_t(1 << 20)
	for {
		buf := C.malloc(C.size_t(capacity))
		if buf == nil {
			return nil, &Error{Status: StatusOutOfMemory, Op: op, Msg: "out of C memory"}
		}
		var n C.uint64_t
		_, err := compileWith(op, opts, func(o C.cudago_compile_options_t) C.cg_module_result {
			return C.cg_rtc_compile(csrc, o, buf, capacity, &n)
		})
		if err == nil && n <= capacity {
			img := C.GoBytes(buf, C.int(n))
			C.free(buf)
			return img, nil
		}
		C.free(buf)
		if err != nil {
			return nil, err
		}
		capacity = n
	}
}

func newModule(h C.cudago_module_t, dev int32) *Module {
	m := &Module{dev: dev}
	m.x = newHandle(h, "module", destroyModule, leakInfo{what: "Module", dev: dev})
	return m
}

func destroyModule(h C.cudago_module_t) *C.cg_err_t { return C.cg_module_destroy(h) }

func (m *Module) use(op string) error {
	if m == nil {
		return errNil(op, "*Module")
	}
	return m.x.use(op)
}

func (m *Module) drop() { m.x.drop() }

// Device returns the module's device.
func (m *Module) Device() Device {
	if m == nil {
		return Device{}
	}
	return Device{ordinal: m.dev}
}

// Log returns the compiler's log (warnings; usually empty).
func (m *Module) Log() (string, error) {
	const op = "module log"
	if err := m.use(op); err != nil {
		return "", err
	}
	defer m.drop()
	r := C.cg_module_log(m.x.h, nil, 0)
	if r.err != nil {
		return "", convertError(op, r.err)
	}
	if r.len == 0 {
		return "", nil
	}
	buf := (*C.char)(C.malloc(C.size_t(r.len) + 1))
	defer C.free(unsafe.Pointer(buf))
	r = C.cg_module_log(m.x.h, buf, r.len+1)
	if r.err != nil {
		return "", convertError(op, r.err)
	}
	return C.GoString(buf), nil
}

// Close releases the module; kernels looked up in it keep working until they are closed. The
// code is unloaded after the streams that ran its kernels are done. A second Close returns nil.
func (m *Module) Close() error {
	if m == nil {
		return nil
	}
	return m.x.close("module destroy")
}

// Kernel looks a kernel up by its name (extern "C" functions) or by a name expression given
// at compile time (templates).
func (m *Module) Kernel(name string) (*Kernel, error) {
	const op = "module kernel"
	if strings.IndexByte(name, 0) >= 0 {
		return nil, errArg(op, "name contains a NUL byte")
	}
	if err := m.use(op); err != nil {
		return nil, err
	}
	cname := C.CString(name)
	r := C.cg_module_kernel(m.x.h, cname)
	C.free(unsafe.Pointer(cname))
	m.drop()
	if r.err != nil {
		return nil, convertError(op, r.err)
	}
	k := &Kernel{dev: m.dev, name: name}
	k.x = newHandle(r.handle, "kernel", destroyKernel, leakInfo{what: "Kernel " + name, dev: m.dev})
	var a C.cudago_kernel_attributes_t
	a.struct_size = C.uint32_t(C.sizeof_cudago_kernel_attributes_t)
	if info := C.cg_kernel_attributes(k.x.h, &a); info != nil {
		err := convertError("kernel attributes", info)
		k.Close()
		return nil, err
	}
	k.attrs = KernelAttributes{
		NumRegs: int(a.num_regs), MaxThreadsPerBlock: int(a.max_threads_per_block),
		NumParams: int(a.num_params), SharedBytes: int(a.shared_bytes),
		ConstBytes: int(a.const_bytes), LocalBytes: int(a.local_bytes),
		PTXVersion: int(a.ptx_version), BinaryVersion: int(a.binary_version),
	}
	return k, nil
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
type Kernel struct {
	x     *handle[C.cudago_kernel_t]
	dev   int32
	name  string
	attrs KernelAttributes
}

func destroyKernel(h C.cudago_kernel_t) *C.cg_err_t { return C.cg_kernel_destroy(h) }

func (k *Kernel) use(op string) error {
	if k == nil {
		return errNil(op, "*Kernel")
	}
	return k.x.use(op)
}

func (k *Kernel) drop() { k.x.drop() }

// Close releases the kernel. A second Close returns nil.
func (k *Kernel) Close() error {
	if k == nil {
		return nil
	}
	return k.x.close("kernel destroy")
}

// Name returns the name the kernel was looked up by.
func (k *Kernel) Name() string {
	if k == nil {
		return ""
	}
	return k.name
}

// Attributes returns the kernel's registers, shared memory, parameter count and limits.
func (k *Kernel) Attributes() KernelAttributes {
	if k == nil {
		return KernelAttributes{}
	}
	return k.attrs
}

// Occupancy returns the block size with the best occupancy for dynSmem bytes of dynamic shared
// memory per block, and the smallest grid that fills the device with it.
func (k *Kernel) Occupancy(dynSmem int) (block, minGrid int, err error) {
	const op = "kernel occupancy"
	if dynSmem < 0 {
		return 0, 0, errArg(op, "negative dynamic shared memory")
	}
	if err := k.use(op); err != nil {
		return 0, 0, err
	}
	r := C.cg_kernel_occupancy(k.x.h, C.uint64_t(dynSmem))
	k.drop()
	if r.err != nil {
		return 0, 0, convertError(op, r.err)
	}
	return int(r.block), int(r.min_grid), nil
}

// Dim3 is a grid or block shape. X must be at least 1; Y and Z of 0 mean 1.
type Dim3 struct{ X, Y, Z int }

func (d Dim3) c(op, what string) (x, y, z C.uint64_t, err error) {
	if d.Y == 0 {
		d.Y = 1
	}
	if d.Z == 0 {
		d.Z = 1
	}
	for _, v := range [3]int{d.X, d.Y, d.Z} {
		if v < 1 || v > math.MaxUint32 {
			return 0, 0, 0, errArg(op, what+" dimension "+strconv.Itoa(v)+" is out of [1, 2^32)")
		}
	}
	return C.uint64_t(d.X), C.uint64_t(d.Y), C.uint64_t(d.Z), nil
}

// Arg is one kernel argument; build it with BufArg, MappedArg, Int32, Uint32, Int64, Uint64,
// Float32, Float64 or StructArg.
type Arg struct {
	kind   int32
	bits   uint64 // scalar value bits (int64, uint64 or float64)
	offset uint64 // bytes, for buffers
	dev    *devBuf
	host   *hostBuf
	bytes  []byte // StructArg
	err    *Error // from the constructor
}

// BufArg passes the device address of b's element off (0 when omitted) as a T* parameter.
func BufArg[T Element](b *DeviceBuffer[T], off ...int) Arg {
	a := Arg{kind: C.CUDAGO_ARG_BUFFER}
	if b == nil || b.c == nil {
		a.err = errNil("kernel launch", "*DeviceBuffer argument")
		return a
	}
	a.dev = b.c
	if len(off) > 0 {
		if off[0] < 0 || off[0] > b.c.n {
			a.err = errRange("kernel launch", "buffer argument offset "+strconv.Itoa(off[0])+
				" is outside 0.."+strconv.Itoa(b.c.n))
			return a
		}
		a.offset = uint64(off[0]) * uint64(unsafe.Sizeof(*new(T)))
	}
	return a
}

// MappedArg passes the device address of a mapped host buffer as a T* parameter.
func MappedArg[T Element](m *MappedBuffer[T]) Arg {
	a := Arg{kind: C.CUDAGO_ARG_HOST_BUFFER}
	if m == nil || m.host.c == nil {
		a.err = errNil("kernel launch", "*MappedBuffer argument")
		return a
	}
	a.host = m.host.c
	return a
}

// Int32 passes an int (32-bit) parameter.
func Int32(v int32) Arg { return Arg{kind: C.CUDAGO_ARG_I32, bits: uint64(int64(v))} }

// Uint32 passes an unsigned int parameter.
func Uint32(v uint32) Arg { return Arg{kind: C.CUDAGO_ARG_U32, bits: uint64(v)} }

// Int64 passes a long long parameter.
func Int64(v int64) Arg { return Arg{kind: C.CUDAGO_ARG_I64, bits: uint64(v)} }

// Uint64 passes an unsigned long long (or size_t) parameter.
func Uint64(v uint64) Arg { return Arg{kind: C.CUDAGO_ARG_U64, bits: v} }

// Float32 passes a float parameter.
func Float32(v float32) Arg {
	return Arg{kind: C.CUDAGO_ARG_F32, bits: math.Float64bits(float64(v))}
}

// Float64 passes a double parameter.
func Float64(v float64) Arg { return Arg{kind: C.CUDAGO_ARG_F64, bits: math.Float64bits(v)} }

// StructArg passes the bytes of v, a struct (or array) of numbers, bools and nested such
// structs, as a by-value parameter. Its Go layout must match the CUDA struct's, padding
// included (Go and CUDA align numbers alike on 64-bit platforms); the size is checked against
// the kernel. Values holding pointers, slices, strings, maps, interfaces, channels or funcs are
// refused. The bytes are copied when StructArg is called.
func StructArg(v any) Arg {
	a := Arg{kind: C.CUDAGO_ARG_BYTES}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || (rv.Kind() != reflect.Struct && rv.Kind() != reflect.Array) {
		a.err = errArg("kernel launch", "StructArg needs a struct or array value, got "+
			reflect.TypeOf(v).String())
		return a
	}
	if bad := pointerFree(rv.Type()); bad != "" {
		a.err = errArg("kernel launch", "StructArg: "+rv.Type().String()+" holds "+bad)
		return a
	}
	size := rv.Type().Size()
	if size == 0 {
		a.err = errArg("kernel launch", "StructArg: "+rv.Type().String()+" has size 0")
		return a
	}
	p := reflect.New(rv.Type())
	p.Elem().Set(rv)
	a.bytes = append([]byte(nil), unsafe.Slice((*byte)(p.UnsafePointer()), size)...)
	return a
}

// pointerFree returns "" when t holds only plain data, else what it holds.
func pointerFree(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return ""
	case reflect.Array:
		return pointerFree(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if bad := pointerFree(t.Field(i).Type); bad != "" {
				return bad
			}
		}
		return ""
	default:
		return "a " + t.Kind().String()
	}
}

// launchScratch is C memory for one launch's argument array and StructArg bytes. Launches take
// one from launchScratchPool and put it back, so a launch allocates nothing in Go or C once the
// scratch is large enough; a finalizer frees the C memory of one the pool drops.
type launchScratch struct {
	args   *C.cudago_kernel_arg_t
	nargs  int
	bytes  unsafe.Pointer
	nbytes int
}

var launchScratchPool = sync.Pool{New: func() any {
	sc := new(launchScratch)
	runtime.SetFinalizer(sc, (*launchScratch).free)
	return sc
}}

// reserve grows the scratch to hold nargs arguments and nbytes struct bytes.
func (sc *launchScratch) reserve(nargs, nbytes int) {
	if nargs > sc.nargs {
		C.free(unsafe.Pointer(sc.args))
		sc.args = (*C.cudago_kernel_arg_t)(C.calloc(C.size_t(nargs), C.sizeof_cudago_kernel_arg_t))
		if sc.args == nil {
			panic("cudago: out of C memory")
		}
		sc.nargs = nargs
	}
	if nbytes > sc.nbytes {
		C.free(sc.bytes)
		sc.bytes = C.malloc(C.size_t(nbytes))
		if sc.bytes == nil {
			panic("cudago: out of C memory")
		}
		sc.nbytes = nbytes
	}
}

func (sc *launchScratch) free() {
	C.free(unsafe.Pointer(sc.args))
	C.free(sc.bytes)
}

// Launch queues k<<<grid, block, dynSmem, s>>>(args...). The arguments must match the kernel's
// parameters in number and each in size (checked before anything is queued: ErrInvalidArgument);
// buffers and s must be on the kernel's device. The argument values are copied during the
// call; nothing of Go's memory is kept. It does not block, and allocates nothing once it has
// run with as many arguments before.
func (k *Kernel) Launch(s *Stream, grid, block Dim3, dynSmem int, args ...Arg) error {
	const op = "kernel launch"
	gx, gy, gz, err := grid.c(op, "grid")
	if err != nil {
		return err
	}
	bx, by, bz, err := block.c(op, "block")
	if err != nil {
		return err
	}
	if dynSmem < 0 || dynSmem > math.MaxUint32 {
		return errArg(op, "dynamic shared memory "+strconv.Itoa(dynSmem)+" is out of range")
	}
	nbytes := 0
	for i := range args {
		if args[i].err != nil {
			e := *args[i].err
			e.Msg = "argument " + strconv.Itoa(i) + ": " + e.Msg
			return &e
		}
		nbytes += len(args[i].bytes)
	}
	if len(args) > maxKernelParamBytes || nbytes > maxKernelParamBytes {
		return errArg(op, strconv.Itoa(len(args))+" arguments of "+strconv.Itoa(nbytes)+
			" struct bytes are more than a kernel's parameters can take")
	}
	if err := useAll(op, k, s); err != nil {
		return err
	}
	sc := launchScratchPool.Get().(*launchScratch)
	sc.reserve(len(args), nbytes)
	var cargs []C.cudago_kernel_arg_t
	if len(args) > 0 {
		cargs = unsafe.Slice(sc.args, len(args))
	}
	var cbytes []byte
	if nbytes > 0 {
		cbytes = unsafe.Slice((*byte)(sc.bytes), nbytes)
	}
	taken := 0
	var failed error
	for i := range args {
		a := &args[i]
		c := &cargs[i]
		*c = C.cudago_kernel_arg_t{}
		c.kind = C.cudago_arg_kind_t(a.kind)
		*(*uint64)(unsafe.Pointer(&c.v)) = a.bits
		switch {
		case a.dev != nil:
			if !a.dev.x.acquire() {
				failed = errClosed(op, "device buffer (argument "+strconv.Itoa(i)+")")
			} else {
				c.buffer = a.dev.x.h
			}
		case a.host != nil:
			if !a.host.x.acquire() {
				failed = errClosed(op, "mapped buffer (argument "+strconv.Itoa(i)+")")
			} else {
				c.host = a.host.x.h
			}
		case a.kind == C.CUDAGO_ARG_BYTES:
			n := copy(cbytes, a.bytes)
			c.bytes = unsafe.Pointer(&cbytes[0])
			c.size = C.uint64_t(n)
			cbytes = cbytes[n:]
		}
		if failed != nil {
			break
		}
		c.offset = C.uint64_t(a.offset)
		taken = i + 1
	}
	if failed == nil {
		failed = errorFrom(op, C.cg_kernel_launch(k.x.h, s.x.h, sc.args, C.uint64_t(len(args)),
			gx, gy, gz, bx, by, bz, C.uint64_t(dynSmem)))
	}
	launchScratchPool.Put(sc)
	for i := 0; i < taken; i++ {
		if args[i].dev != nil {
			args[i].dev.x.release()
		} else if args[i].host != nil {
			args[i].host.x.release()
		}
	}
	dropAll(k, s)
	return failed
}

// maxKernelParamBytes is CUDA's limit on a kernel's parameter bytes (each parameter takes at
// least one), as the C ABI checks it.
const maxKernelParamBytes = 32764

// CompileCacheStats count the compile cache's work since the process started or the last
// ClearCompileCache.
type CompileCacheStats struct {
	Hits     uint64 // served from memory
	DiskHits uint64 // served from the disk directory
	Misses   uint64 // compiled by NVRTC with the cache on
	Entries  uint64 // results held in memory
}

// SetCompileCacheDir turns the disk cache on in dir (created if missing), or off with "".
// Files are named by a hash of the key and hold the whole key; they are written atomically,
// and unreadable or foreign files are ignored.
func SetCompileCacheDir(dir string) error {
	if err := ready(); err != nil {
		return err
	}
	if strings.IndexByte(dir, 0) >= 0 {
		return errArg("rtc cache set dir", "dir contains a NUL byte")
	}
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	return errorFrom("rtc cache set dir", C.cg_rtc_cache_set_dir(cdir))
}

// SetCompileCacheCapacity sets how many results the memory cache keeps (least recently used
// evicted); 0 turns it off. The default is 256.
func SetCompileCacheCapacity(entries int) error {
	if err := ready(); err != nil {
		return err
	}
	if entries < 0 {
		return errArg("rtc cache set capacity", "negative capacity")
	}
	return errorFrom("rtc cache set capacity", C.cg_rtc_cache_set_capacity(C.uint64_t(entries)))
}

// GetCompileCacheStats returns the compile cache's counters.
func GetCompileCacheStats() (CompileCacheStats, error) {
	if err := ready(); err != nil {
		return CompileCacheStats{}, err
	}
	var s C.cudago_rtc_cache_stats_t
	s.struct_size = C.uint32_t(C.sizeof_cudago_rtc_cache_stats_t)
	if err := errorFrom("rtc cache stats", C.cg_rtc_cache_stats(&s)); err != nil {
		return CompileCacheStats{}, err
	}
	return CompileCacheStats{Hits: uint64(s.hits), DiskHits: uint64(s.disk_hits),
		Misses: uint64(s.misses), Entries: uint64(s.entries)}, nil
}

// ClearCompileCache empties the memory cache and zeroes the counters; the disk stays.
func ClearCompileCache() error {
	if err := ready(); err != nil {
		return err
	}
	return errorFrom("rtc cache clear", C.cg_rtc_cache_clear())
}
