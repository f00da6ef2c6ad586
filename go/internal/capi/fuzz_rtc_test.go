//go:build cgo

package capi

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// CompileImage (cudago_rtc_compile: NVRTC without a device) with fuzzed compile options: the
// arch, the dialect, defines, an extra option, a header (included by the source or not), name
// expressions, repeated up to 64 times, through the compile cache or not. The contract:
//
//   - an option the library refuses before NVRTC runs (no arch, an arch not of the form sm_XY
//     or compute_XY, a NUL byte in any string, an empty define name, option, header name or
//     name expression) is ErrInvalidArgument, a plain *Error (no compiler log), and a NUL is
//     named as such;
//   - otherwise the result is an image (a CUBIN with the ELF magic for sm_XY, NUL-terminated PTX
//     for compute_XY) or a compile error: ErrNVRTC, always a *CompileError whose log is in the
//     error's text, or ErrInvalidArgument for an option or arch NVRTC refuses;
//   - options the test knows to be good (see fuzzCompileMustSucceed) compile, and a define of
//     CUDAGO_FUZZ_ERROR (which the source turns into #error) never does;
//   - every error is an *Error of the operation "rtc compile" with a message; nothing panics.
//
// Each input is one compile (NVRTC takes ~20 ms; refusals take microseconds). `go test` runs the
// seeds; `go test -run '^$' -fuzz '^FuzzCompileOptions$' ./internal/capi/` explores further.

// fuzzRTCSource is the source compiled, after an optional #include of the fuzzed header: a
// template for the name expressions, an extern "C" kernel using FZ_ONE (which a define may
// change), and an #error behind CUDAGO_FUZZ_ERROR.
const fuzzRTCSource = `#ifndef FZ_ONE
#define FZ_ONE 1.0f
#endif
template <typename T> __global__ void fz_scale(T* x, T s) { x[threadIdx.x] *= s; }
extern "C" __global__ void fz_add(float* x) { x[threadIdx.x] += FZ_ONE; }
#ifdef CUDAGO_FUZZ_ERROR
#error "CUDAGO_FUZZ_ERROR is defined"
#endif
`

// fuzzArchs are the targets picked by archSel % 16 (CUDA 13.0's range, arch-specific and
// family-specific ones, and none); 15 takes the fuzzed arch string instead.
var fuzzArchs = [15]string{"sm_90", "compute_90", "sm_80", "compute_75", "sm_90a", "sm_120", "",
	"sm_86", "sm_89", "compute_120", "sm_75", "sm_100a", "compute_100f", "sm_121", "sm_103"}

// The mode bits of FuzzCompileOptions.
const (
	fzNoCache  = 1 << iota // CompileOptions.NoCache
	fzDefine               // defName=defValue (and defName_1 .. defName_{n-1})
	fzOption               // option, n times
	fzHeader               // the header hdrName with hdrContent
	fzInclude              // the source includes the header (when its name can be written)
	fzNameExpr             // nameExpr, n times
	fzStd                  // Std: std ("" otherwise, the default c++17)
	fzKeepNUL              // keep NUL bytes (removed otherwise: most inputs would have one)
)

// fuzzValidArch mirrors the library's arch check (cuda/src/rtc.cpp valid_arch): sm_ or compute_,
// then at least two characters, digits, or 'a' or 'f' from the third on.
func fuzzValidArch(a string) bool {
	var digits string
	switch {
	case strings.HasPrefix(a, "sm_"):
		digits = a[3:]
	case strings.HasPrefix(a, "compute_"):
		digits = a[8:]
	default:
		return false
	}
	if len(digits) < 2 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if !(c >= '0' && c <= '9') && !(i >= 2 && (c == 'a' || c == 'f')) {
			return false
		}
	}
	return true
}

// fuzzRefusal says why the library must refuse opts before NVRTC runs, or "".
func fuzzRefusal(opts CompileOptions) string {
	if opts.Arch == "" {
		return "no arch"
	}
	all := []string{opts.Arch, opts.Std}
	all = append(all, opts.Options...)
	all = append(all, opts.NameExpressions...)
	for k, v := range opts.Defines {
		all = append(all, k, v)
	}
	for k, v := range opts.Headers {
		all = append(all, k, v)
	}
	for _, s := range all {
		if strings.IndexByte(s, 0) >= 0 {
			return "NUL"
		}
	}
	if !fuzzValidArch(opts.Arch) {
		return "malformed arch"
	}
	for k := range opts.Defines {
		if k == "" {
			return "empty define name"
		}
	}
	for _, o := range opts.Options {
		if o == "" {
			return "empty option"
		}
	}
	for k := range opts.Headers {
		if k == "" {
			return "empty header name"
		}
	}
	for _, e := range opts.NameExpressions {
		if e == "" {
			return "empty name expression"
		}
	}
	return ""
}

var (
	fuzzGoodStds = map[string]bool{"": true, "c++17": true, "c++20": true}
	fuzzGoodOpts = map[string]bool{"-lineinfo": true, "--use_fast_math": true,
		"-default-device": true, "--extra-device-vectorization": true}
	fuzzGoodExprs = map[string]bool{"fz_scale<float>": true, "fz_scale<double>": true,
		"fz_scale<int>": true, "&fz_scale<float>": true}
	fuzzGoodDefine = regexp.MustCompile(`^FZ_[A-Za-z0-9_]*$`)
	fuzzGoodValue  = regexp.MustCompile(`^[A-Za-z0-9_]*$`)
)

// fuzzCompileMustSucceed reports whether every option is one the test knows to compile with
// fuzzRTCSource: an arch of fuzzArchs and a dialect NVRTC 13.0 supports, harmless options,
// FZ_* defines other than FZ_ONE with plain values, no included header (one that is not
// included cannot matter), and name expressions of fz_scale's instantiations.
func fuzzCompileMustSucceed(opts CompileOptions, included bool) bool {
	if opts.Arch == "" || !slices.Contains(fuzzArchs[:], opts.Arch) || !fuzzGoodStds[opts.Std] ||
		included {
		return false
	}
	for _, o := range opts.Options {
		if !fuzzGoodOpts[o] {
			return false
		}
	}
	for k, v := range opts.Defines {
		if !fuzzGoodDefine.MatchString(k) || k == "FZ_ONE" || !fuzzGoodValue.MatchString(v) {
			return false
		}
	}
	for _, e := range opts.NameExpressions {
		if !fuzzGoodExprs[e] {
			return false
		}
	}
	return fuzzRefusal(opts) == ""
}

// fuzzTouchesFiles reports inputs that would make NVRTC write files (timing reports,
// precompiled headers: options naming "time" or "pch") or read special ones (an #include or
// -include of /dev/stdin or /dev/zero would block or never end). They are skipped: fuzzing
// must neither litter the package directory nor hang.
func fuzzTouchesFiles(option string, other ...string) bool {
	l := strings.ToLower(option)
	if strings.Contains(l, "time") || strings.Contains(l, "pch") {
		return true
	}
	for _, s := range append(other, option) {
		for _, dir := range []string{"/dev", "/proc", "/sys"} {
			if strings.Contains(s, dir) {
				return true
			}
		}
	}
	return false
}

func FuzzCompileOptions(f *testing.F) {
	// archSel, arch, std, defName, defValue, option, hdrName, hdrContent, nameExpr, count, mode
	const all = fzDefine | fzOption | fzHeader | fzInclude | fzNameExpr | fzStd
	f.Add(uint8(0), "", "", "", "", "", "", "", "", uint8(0), uint8(0))
	f.Add(uint8(1), "", "c++17", "FZ_A", "1", "-lineinfo", "fz.h", "#define FZ_H 1\n",
		"fz_scale<float>", uint8(2), uint8(all|fzNoCache))
	f.Add(uint8(0), "", "c++20", "FZ_B", "", "--use_fast_math", "fz.h", "__device__ int fz_h;\n",
		"fz_scale<double>", uint8(3), uint8(all))
	f.Add(uint8(4), "", "", "FZ_ONE", "2.0f", "", "", "", "", uint8(0), uint8(fzDefine|fzNoCache))
	f.Add(uint8(2), "", "", "CUDAGO_FUZZ_ERROR", "", "", "", "", "", uint8(0), uint8(fzDefine))
	f.Add(uint8(5), "", "", "", "", "", "", "", "fz_scale<int>", uint8(63),
		uint8(fzNameExpr|fzNoCache))
	f.Add(uint8(3), "", "", "FZ_MANY", "7", "-lineinfo", "", "", "", uint8(63),
		uint8(fzDefine|fzOption))
	// Every other target of fuzzArchs, with a template instantiation.
	for sel := uint8(7); sel < 15; sel++ {
		f.Add(sel, "", "", "", "", "", "", "", "fz_scale<float>", uint8(sel), uint8(fzNameExpr|sel&1))
	}
	// Refused before NVRTC: no arch, malformed arch, NULs, empty strings.
	f.Add(uint8(6), "", "", "", "", "", "", "", "", uint8(0), uint8(fzNoCache))
	f.Add(uint8(15), "gfx90a", "", "", "", "", "", "", "", uint8(0), uint8(0))
	f.Add(uint8(15), "sm_9", "", "", "", "", "", "", "", uint8(0), uint8(fzNoCache))
	f.Add(uint8(15), "sm_9\x000", "", "", "", "", "", "", "", uint8(0), uint8(fzKeepNUL))
	f.Add(uint8(0), "", "c++17\x00", "A\x00B", "1\x00; evil", "-DA\x00", "h\x00.h", "int x;\x00",
		"k<float>\x00", uint8(1), uint8(all|fzNoCache|fzKeepNUL))
	f.Add(uint8(0), "", "", "", "", "", "h.h", "int x;\x00 int y;", "", uint8(0),
		uint8(fzHeader|fzKeepNUL))
	f.Add(uint8(0), "", "", "", "1", "", "", "", "", uint8(0), uint8(fzDefine))
	f.Add(uint8(0), "", "", "", "", "", "", "", "", uint8(0), uint8(fzOption|fzNoCache))
	f.Add(uint8(0), "", "", "", "", "", "", "x", "", uint8(0), uint8(fzHeader))
	f.Add(uint8(0), "", "", "", "", "", "", "", "", uint8(5), uint8(fzNameExpr|fzNoCache))
	// Refused by NVRTC: unknown option, dialect or arch; compile errors from a header or a
	// define; a name expression naming nothing; a header including itself.
	f.Add(uint8(0), "", "", "", "", "--no-such-option-cudago", "", "", "", uint8(0), uint8(fzOption))
	f.Add(uint8(1), "", "c++99", "", "", "", "", "", "", uint8(0), uint8(fzStd|fzNoCache))
	f.Add(uint8(15), "sm_10", "", "", "", "", "", "", "", uint8(0), uint8(0))
	f.Add(uint8(15), "compute_999f", "", "", "", "", "", "", "", uint8(0), uint8(fzNoCache))
	f.Add(uint8(0), "", "", "", "", "", "bad.h", "this is not C++;\n", "", uint8(0),
		uint8(fzHeader|fzInclude))
	f.Add(uint8(1), "", "", "FZ_ONE", "", "", "", "", "", uint8(0), uint8(fzDefine|fzNoCache))
	f.Add(uint8(0), "", "", "", "", "", "", "", "no_such_kernel<float>", uint8(0), uint8(fzNameExpr))
	f.Add(uint8(0), "", "", "", "", "", "self.h", "#include \"self.h\"\n", "", uint8(0),
		uint8(fzHeader|fzInclude|fzNoCache))
	f.Add(uint8(0), "", "", "", "", "", "ff.h", "\xff\xfe\n", "fz_scale<float>", uint8(0),
		uint8(fzHeader|fzInclude|fzNameExpr))
	f.Fuzz(func(t *testing.T, archSel uint8, arch, std, defName, defValue, option, hdrName,
		hdrContent, nameExpr string, count, mode uint8) {
		if mode&fzKeepNUL == 0 {
			for _, p := range []*string{&arch, &std, &defName, &defValue, &option, &hdrName,
				&hdrContent, &nameExpr} {
				*p = strings.ReplaceAll(*p, "\x00", "")
			}
		}
		n := int(count%64) + 1
		opts := CompileOptions{NoCache: mode&fzNoCache != 0}
		if i := int(archSel % 16); i < len(fuzzArchs) {
			opts.Arch = fuzzArchs[i]
		} else {
			opts.Arch = arch
		}
		if mode&fzStd != 0 {
			opts.Std = std
		}
		if mode&fzDefine != 0 {
			opts.Defines = map[string]string{defName: defValue}
			for i := 1; i < n; i++ {
				opts.Defines[defName+"_"+strconv.Itoa(i)] = defValue
			}
		}
		if fuzzTouchesFiles(option, defValue, hdrContent, nameExpr, std) {
			t.Skip("the input could make NVRTC write or read special files")
		}
		if mode&fzOption != 0 {
			for i := 0; i < n; i++ {
				opts.Options = append(opts.Options, option)
			}
		}
		src := fuzzRTCSource
		included := false
		if mode&fzHeader != 0 {
			opts.Headers = map[string]string{hdrName: hdrContent}
			if mode&fzInclude != 0 && hdrName != "" && !strings.ContainsAny(hdrName, "\"\\\r\n\x00") {
				src = "#include \"" + hdrName + "\"\n" + src
				included = true
			}
		}
		if mode&fzNameExpr != 0 {
			for i := 0; i < n; i++ {
				opts.NameExpressions = append(opts.NameExpressions, nameExpr)
			}
		}

		img, err := CompileImage(src, opts)

		refusal := fuzzRefusal(opts)
		if err == nil {
			if refusal != "" {
				t.Fatalf("%+v: compiled (%d bytes), want ErrInvalidArgument (%s)", opts, len(img), refusal)
			}
			if _, ok := opts.Defines["CUDAGO_FUZZ_ERROR"]; ok && !included &&
				!strings.ContainsAny(opts.Defines["CUDAGO_FUZZ_ERROR"], "\r\n") &&
				len(opts.Options) == 0 {
				t.Fatalf("%+v: compiled although CUDAGO_FUZZ_ERROR is defined", opts)
			}
			if strings.HasPrefix(opts.Arch, "compute_") {
				if len(img) == 0 || img[len(img)-1] != 0 || !strings.Contains(string(img), ".version") {
					t.Fatalf("%+v: the PTX (%d bytes) is not NUL-terminated PTX", opts, len(img))
				}
			} else if len(img) < 4 || string(img[:4]) != "\x7fELF" {
				t.Fatalf("%+v: the CUBIN (%d bytes) lacks the ELF magic", opts, len(img))
			}
			return
		}

		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%+v: error %T %v is not an *Error", opts, err, err)
		}
		if e.Op != "rtc compile" || e.Msg == "" ||
			!strings.HasPrefix(err.Error(), "cudago: rtc compile: ") {
			t.Fatalf("%+v: error %q lacks the operation or a message (Op %q)", opts, err, e.Op)
		}
		var ce *CompileError
		isCE := errors.As(err, &ce)
		if refusal != "" {
			if !errors.Is(err, ErrInvalidArgument) || isCE {
				t.Fatalf("%+v: got %v (a *CompileError: %v), want a plain ErrInvalidArgument (%s)",
					opts, err, isCE, refusal)
			}
			if refusal == "NUL" && !strings.Contains(e.Msg, "NUL") {
				t.Fatalf("%+v: the error %q does not say NUL", opts, err)
			}
			return
		}
		if fuzzCompileMustSucceed(opts, included) {
			t.Fatalf("%+v: known-good options failed: %v", opts, err)
		}
		switch {
		case errors.Is(err, ErrNVRTC):
			if !isCE {
				t.Fatalf("%+v: an NVRTC error that is not a *CompileError: %v", opts, err)
			}
		case errors.Is(err, ErrInvalidArgument):
		default:
			t.Fatalf("%+v: error %v matches neither ErrNVRTC nor ErrInvalidArgument", opts, err)
		}
		if isCE && (ce.Err != e || !strings.Contains(err.Error(), ce.Log)) {
			t.Fatalf("%+v: the *CompileError's text lacks its log or wraps another *Error:\n%v", opts, err)
		}
	})
}
