// libFuzzer harness of run-time compilation without a device: cudago_rtc_compile with fuzzed
// source text, options (architecture, language standard, defines, extra NVRTC options, flags),
// headers (names and contents), name expressions and the count-then-fill protocols of the image
// and the log (NULL and undersized buffers); and the disk cache read back after its file was
// truncated, corrupted or replaced.
//
// The oracles, after every call: the status is one of cudago.h's and, on failure, the thread's
// error detail has the same status and a non-empty message; *len is the same whether or not an
// image buffer is given and whatever its size; an image is written only into a buffer that holds
// it whole, and a cache hit gives the bytes of the compile that filled it; the log is NUL-
// terminated within log_cap and *log_len is its full length; nothing is written past any buffer
// (AddressSanitizer: every buffer is allocated to its exact capacity). After the disk entry of a
// compile was damaged, the same compile (memory cache emptied) still succeeds with the same image:
// a damaged file is a miss, never a wrong image and never a failure.
//
// Left out on purpose: extra options that make NVRTC write files or read devices (see below),
// and fuzzed source text together with name expressions. NVRTC 13.0 itself
// crashes (SIGSEGV inside libnvrtc) on some malformed template sources given with name
// expressions (cudago.h says so): name expressions go with the fixed, valid template source only.
#include <fuzzer/FuzzedDataProvider.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cudago.h"

namespace {

std::string g_cache_dir;
// What the inputs reached, printed at exit (scripts/fuzz.sh shows it): calls, successful
// compiles, undersized fills, and compiles after a damaged disk entry.
struct Reached {
  uint64_t calls = 0, compiled = 0, undersized = 0, after_damage = 0;
} g_reached;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "rtc_fuzz: %s\n", what.c_str());
  __builtin_trap();
}

const char* const kSources[] = {
    "extern \"C\" __global__ void k(float* x) { x[threadIdx.x] += 1.0f; }\n",
    "#include \"h.cuh\"\nextern \"C\" __global__ void k(float* x) { x[0] = H_VALUE; }\n",
    "template <class T> __global__ void k(T* x, T v) { x[threadIdx.x] = v; }\n",
    "extern \"C\" __global__ void k(float* x) { x[0] = ; }\n",  // a syntax error
    "",
};
constexpr int kTemplateSource = 2;
const char* const kNameExpressions[] = {"k<float>",         "k<int>",    "&k<double>",
                                        "k<unsigned char>", "k<float >", "k"};
const char* const kArchs[] = {
    "sm_90",  "compute_90",       "sm_80",  "sm_75", "sm_100", "sm_1", "sm_", "compute_",
    "sm_90a", "sm_9999999999999", "gfx90a", ""};
const char* const kOptions[] = {"-lineinfo",
                                "--use_fast_math",
                                "-DX=1",
                                "-I/nonexistent",
                                "--bogus-option",
                                "-arch=sm_80",
                                "--std=c++14",
                                "-w",
                                "--device-debug",
                                "-maxrregcount=32",
                                ""};

bool is_status(int32_t s) {
#define CUDAGO_FUZZ_CASE_(suffix, camel, value, text) case value:
  switch (s) {
    CUDAGO_STATUS_LIST(CUDAGO_FUZZ_CASE_)
    return true;
    default:
      return false;
  }
#undef CUDAGO_FUZZ_CASE_
}

// The status contract of every entry point: a known status, and on failure a detail record
// with that status and a message.
void check_status(cudago_status_t st, const char* call) {
  if (!is_status(st)) fail(std::string(call) + ": status " + std::to_string(st));
  if (st == CUDAGO_SUCCESS) return;
  if (st == CUDAGO_ERROR_INTERNAL) fail(std::string(call) + ": CUDAGO_ERROR_INTERNAL");
  cudago_error_info_t info;
  cudago_error_info_init(&info);
  if (cudago_error_last(&info) != CUDAGO_SUCCESS) fail("cudago_error_last failed");
  if (info.status != st) fail(std::string(call) + ": the error detail has another status");
  if (info.message[0] == '\0') fail(std::string(call) + ": an empty error message");
}

// Strings the options point at; kept alive for the calls.
struct Strings {
  std::vector<std::string> keep;
  const char* add(std::string s) {
    keep.push_back(std::move(s));
    return keep.back().c_str();
  }
  Strings() { keep.reserve(64); }  // no reallocation: pointers into it stay valid
};

std::string short_string(FuzzedDataProvider& in, size_t max) {
  return in.ConsumeRandomLengthString(max);
}

template <size_t N>
const char* pick(FuzzedDataProvider& in, const char* const (&palette)[N]) {
  return palette[in.ConsumeIntegralInRange<size_t>(0, N - 1)];
}

// Fills and checks the log of one call: log_cap bytes exactly (ASan sees any write past them).
struct Log {
  std::vector<char> buf;
  uint64_t len = UINT64_MAX;
  bool want_len = false;
  void setup(FuzzedDataProvider& in, cudago_compile_options_t& o) {
    const int mode = in.ConsumeIntegralInRange<int>(0, 3);
    want_len = in.ConsumeBool();
    o.log_len = want_len ? &len : nullptr;
    if (mode == 0) return;  // no log buffer
    buf.assign(mode == 1 ? 1 : mode == 2 ? in.ConsumeIntegralInRange<size_t>(2, 64) : 4096, 'Z');
    o.log = buf.data();
    o.log_cap = buf.size();
  }
  void check(cudago_status_t st) const {
    if (buf.empty() || (st != CUDAGO_SUCCESS && st != CUDAGO_ERROR_NVRTC)) return;
    const void* nul = std::memchr(buf.data(), '\0', buf.size());
    if (nul == nullptr) fail("the log is not NUL-terminated within log_cap");
    const size_t shown = static_cast<const char*>(nul) - buf.data();
    if (want_len && len != UINT64_MAX && shown != std::min<uint64_t>(len, buf.size() - 1)) {
      fail("the log shows " + std::to_string(shown) + " bytes of " + std::to_string(len) +
           " with log_cap " + std::to_string(buf.size()));
    }
  }
};

void damage_cache(FuzzedDataProvider& in) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(g_cache_dir, ec)) {
    if (e.path().extension() == ".cubin-cache") files.push_back(e.path());
  }
  if (files.empty()) return;
  const fs::path& f = files[in.ConsumeIntegralInRange<size_t>(0, files.size() - 1)];
  std::string data;
  {
    std::ifstream r(f, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(r), std::istreambuf_iterator<char>());
  }
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:  // truncated
      data.resize(in.ConsumeIntegralInRange<size_t>(0, data.size()));
      break;
    case 1:  // one byte changed
      if (!data.empty()) {
        const size_t at = in.ConsumeIntegralInRange<size_t>(0, data.size() - 1);
        data[at] = static_cast<char>(data[at] ^ in.ConsumeIntegralInRange<int>(1, 255));
      }
      break;
    case 2:  // a foreign file
      data = in.ConsumeRandomLengthString(512);
      break;
    default:  // the magic of another version
      if (data.size() > 17) data[17] = '9';
      break;
  }
  std::ofstream w(f, std::ios::binary | std::ios::trunc);
  w.write(data.data(), static_cast<std::streamsize>(data.size()));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/cudago-rtc-fuzz-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) fail("mkdtemp");
  g_cache_dir = tmpl;
  check_status(cudago_rtc_cache_set_dir(g_cache_dir.c_str()), "cudago_rtc_cache_set_dir");
  std::atexit([] {
    std::fprintf(stderr,
                 "rtc_fuzz: %llu inputs, %llu compiled, %llu undersized fills, %llu compiles "
                 "after a damaged disk entry\n",
                 static_cast<unsigned long long>(g_reached.calls),
                 static_cast<unsigned long long>(g_reached.compiled),
                 static_cast<unsigned long long>(g_reached.undersized),
                 static_cast<unsigned long long>(g_reached.after_damage));
    std::error_code ec;
    std::filesystem::remove_all(g_cache_dir, ec);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  ++g_reached.calls;
  Strings s;
  cudago_compile_options_t o;
  cudago_compile_options_init(&o);

  // The source: one of the fixed ones, or fuzzed text.
  const bool fuzzed_source = in.ConsumeIntegralInRange<int>(0, 3) == 0;
  const int which = in.ConsumeIntegralInRange<int>(0, sizeof kSources / sizeof kSources[0] - 1);
  const char* source = fuzzed_source ? s.add(short_string(in, 512)) : kSources[which];
  // An #include of a device or of /proc could block NVRTC (on a terminal) or read without end.
  for (const char* bad : {"/dev", "/proc", "/sys"}) {
    if (std::strstr(source, bad) != nullptr) return 0;
  }

  o.flags = in.ConsumeBool() ? CUDAGO_COMPILE_NO_CACHE : 0;
  if (in.ConsumeIntegralInRange<int>(0, 15) == 0) o.flags |= in.ConsumeIntegral<uint32_t>();
  o.arch =
      in.ConsumeIntegralInRange<int>(0, 7) == 0 ? s.add(short_string(in, 24)) : pick(in, kArchs);
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0:
      o.std = nullptr;
      break;
    case 1:
      o.std = "";
      break;
    case 2:
      o.std = "c++20";
      break;
    case 3:
      o.std = s.add(short_string(in, 16));
      break;
    default:
      break;  // the default (NULL)
  }
  std::vector<cudago_define_t> defines(in.ConsumeIntegralInRange<size_t>(0, 3));
  for (auto& d : defines) {
    d.name = in.ConsumeBool() ? "H_VALUE" : s.add(short_string(in, 24));
    d.value = in.ConsumeBool() ? nullptr : s.add(short_string(in, 24));
  }
  o.defines = defines.empty() ? nullptr : defines.data();
  o.num_defines = defines.size();
  std::vector<const char*> options(in.ConsumeIntegralInRange<size_t>(0, 3));
  for (auto& p : options) {
    p = in.ConsumeBool() ? pick(in, kOptions) : s.add(short_string(in, 32));
    // Options are passed to NVRTC as they are: some make it write files (--time, the PCH
    // options) or read devices (a path under /dev would block on a terminal); not fuzzed.
    const std::string v = p;
    for (const char* bad : {"time", "pch", "/dev", "/proc", "/sys", "fdevice-time-trace"}) {
      if (v.find(bad) != std::string::npos) return 0;
    }
  }
  o.options = options.empty() ? nullptr : options.data();
  o.num_options = options.size();
  std::vector<cudago_header_t> headers(in.ConsumeIntegralInRange<size_t>(0, 2));
  for (auto& h : headers) {
    h.name = in.ConsumeBool() ? "h.cuh" : s.add(short_string(in, 24));
    h.content = in.ConsumeBool() ? "#define H_VALUE 2.0f\n" : s.add(short_string(in, 128));
  }
  o.headers = headers.empty() ? nullptr : headers.data();
  o.num_headers = headers.size();
  std::vector<const char*> names;
  if (!fuzzed_source && which == kTemplateSource) {
    names.resize(in.ConsumeIntegralInRange<size_t>(0, 3));
    for (auto& n : names) n = pick(in, kNameExpressions);
  }
  o.name_expressions = names.empty() ? nullptr : names.data();
  o.num_name_expressions = names.size();
  // Counts past INT32_MAX are refused before any array is read (cudago.h): with NULL arrays.
  if (in.ConsumeIntegralInRange<int>(0, 15) == 0) {
    const uint64_t huge = in.ConsumeBool() ? uint64_t{1} << 31 : UINT64_MAX;
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
      case 0:
        o.defines = nullptr, o.num_defines = huge;
        break;
      case 1:
        o.options = nullptr, o.num_options = huge;
        break;
      case 2:
        o.headers = nullptr, o.num_headers = huge;
        break;
      default:
        o.name_expressions = nullptr, o.num_name_expressions = huge;
        break;
    }
    uint64_t len = 0;
    const cudago_status_t st = cudago_rtc_compile(source, &o, nullptr, 0, &len);
    check_status(st, "cudago_rtc_compile (huge count)");
    if (st != CUDAGO_ERROR_INVALID_ARGUMENT) fail("a count past INT32_MAX was not refused");
    return 0;
  }

  // Count: no image buffer.
  Log log1;
  log1.setup(in, o);
  uint64_t len = UINT64_MAX;
  const cudago_status_t st = cudago_rtc_compile(source, &o, nullptr, 0, &len);
  check_status(st, "cudago_rtc_compile (count)");
  log1.check(st);
  if (st != CUDAGO_SUCCESS) return 0;
  ++g_reached.compiled;
  if (len == 0 || len == UINT64_MAX)
    fail("a successful compile reported an image of " + std::to_string(len) + " bytes");

  // Fill: a buffer of exactly len bytes, or an undersized one (left untouched).
  o.log = nullptr;
  o.log_cap = 0;
  o.log_len = nullptr;
  const bool undersized = in.ConsumeIntegralInRange<int>(0, 3) == 0;
  std::vector<unsigned char> image(
      undersized ? in.ConsumeIntegralInRange<uint64_t>(1, len) - 1 : len, 0xA5);
  uint64_t len2 = UINT64_MAX;
  const cudago_status_t st2 =
      cudago_rtc_compile(source, &o, image.empty() ? nullptr : image.data(), image.size(), &len2);
  check_status(st2, "cudago_rtc_compile (fill)");
  if (st2 != CUDAGO_SUCCESS) fail("the fill call failed after the count call succeeded");
  if (len2 != len) fail("the image size changed between the count and the fill calls");
  if (undersized) {
    ++g_reached.undersized;
    for (unsigned char c : image) {
      if (c != 0xA5) fail("an undersized image buffer was written");
    }
    return 0;
  }
  if ((o.flags & CUDAGO_COMPILE_NO_CACHE) != 0 || !in.ConsumeBool()) return 0;

  // The disk cache: damage this compile's entry (or another), empty the memory cache, compile
  // again: the same image, from NVRTC or from an intact entry.
  damage_cache(in);
  check_status(cudago_rtc_cache_clear(), "cudago_rtc_cache_clear");
  std::vector<unsigned char> again(len, 0x5A);
  uint64_t len3 = 0;
  const cudago_status_t st3 = cudago_rtc_compile(source, &o, again.data(), again.size(), &len3);
  check_status(st3, "cudago_rtc_compile (after damage)");
  if (st3 != CUDAGO_SUCCESS) fail("a compile failed after its disk cache entry was damaged");
  if (len3 != len || again != image) fail("a damaged disk cache entry gave another image");
  ++g_reached.after_damage;
  return 0;
}
