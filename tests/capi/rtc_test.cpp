// NVRTC run-time compilation and launch through the C ABI, against CPU references on fresh random
// data (the seed is printed) with poisoned outputs.
//
// Runs without a GPU: option and argument validation (a launch's shape and arguments are checked
// before its handles), compile-only to CUBIN for an explicit architecture (sm_90), the compile
// log of an error (with its line), the memory and disk caches (a cleared memory cache stands in
// for a fresh process: the disk file is all it can use).
//
// Error bounds: SAXPY and the struct kernel compute one float multiply-add per element; the
// GPU may contract it to an FMA, so results must be within 2 float ulps of the CPU's FMA
// (relative 2.4e-7 of |a·x| + |y|). The block sums add <= 400 floats in float: relative
// 1e-5 of the sum of magnitudes (u·sqrt(400)·a small factor).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "capi_util.hpp"

namespace {

uint32_t fresh_seed() {
  uint32_t seed = std::random_device{}();
  std::printf("[ seed     ] %u\n", seed);
  return seed;
}

cudago_compile_options_t default_options() {
  cudago_compile_options_t o;
  cudago_compile_options_init(&o);
  return o;
}

cudago_rtc_cache_stats_t cache_stats() {
  cudago_rtc_cache_stats_t s;
  cudago_rtc_cache_stats_init(&s);
  EXPECT_EQ(cudago_rtc_cache_stats(&s), CUDAGO_SUCCESS);
  return s;
}

// A source unique to this run, so earlier tests (or earlier runs on a shared disk dir) cannot
// hit the cache for it.
std::string unique_source(const std::string& body) {
  static int counter = 0;
  return "// cudago rtc test " + std::to_string(::getpid()) + "-" + std::to_string(++counter) +
         "-" + std::to_string(std::random_device{}()) + "\n" + body;
}

const char* kSaxpy = R"(#include "axpy_op.h"
extern "C" __global__ void saxpy(REAL a, const REAL* x, REAL* y, unsigned long long n) {
  unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
  if (i < n) y[i] = axpy_op(a, x[i], y[i]);
}
)";
const char* kAxpyHeader =
    "__device__ inline REAL axpy_op(REAL a, REAL x, REAL y) { return a * x + y; }\n";

const char* kBad =
    "extern \"C\" __global__ void bad(float* y) {\n"
    "  y[0] = 1.0f;\n"
    "  undeclared_thing(y);\n"
    "}\n";

// Compiles the SAXPY module for device 0 (REAL=float, the header given by name).
Module compile_saxpy(const std::string& source, uint32_t flags = 0) {
  cudago_define_t def{"REAL", "float"};
  cudago_header_t hdr{"axpy_op.h", kAxpyHeader};
  cudago_compile_options_t o = default_options();
  o.flags = flags;
  o.defines = &def;
  o.num_defines = 1;
  o.headers = &hdr;
  o.num_headers = 1;
  cudago_module_t m = nullptr;
  EXPECT_EQ(cudago_module_compile(&m, 0, source.c_str(), &o), CUDAGO_SUCCESS) << last_error_text();
  return Module(m);
}

Kernel get_kernel(const Module& m, const char* name) {
  cudago_kernel_t k = nullptr;
  EXPECT_EQ(cudago_module_kernel(&k, m.get(), name), CUDAGO_SUCCESS) << last_error_text();
  return Kernel(k);
}

// ---- without a GPU ----

TEST(Rtc, ValidatesCompileArguments) {
  cudago_module_t m = nullptr;
  cudago_compile_options_t o = default_options();
  o.arch = "sm_90";
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_module_compile(nullptr, 0, kSaxpy, &o));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_module_compile(&m, 0, nullptr, &o));
  EXPECT_EQ(m, nullptr);

  cudago_compile_options_t unsized = o;
  unsized.struct_size = 0;  // deliberately not initialised
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_module_compile(&m, 0, kSaxpy, &unsized));
  cudago_compile_options_t flags = o;
  flags.flags = 0x80;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_module_compile(&m, 0, kSaxpy, &flags));
  cudago_compile_options_t defs = o;
  defs.num_defines = 2;  // defines NULL
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_module_compile(&m, 0, kSaxpy, &defs));
  cudago_define_t unnamed{nullptr, "1"};
  defs.defines = &unnamed;
  defs.num_defines = 1;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_module_compile(&m, 0, kSaxpy, &defs));
  cudago_compile_options_t arch = o;
  arch.arch = "gfx90a";
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_module_compile(&m, 0, kSaxpy, &arch));
  EXPECT_EQ(m, nullptr);

  // Huge counts with a real (one-element) array are refused before the array is read past its
  // end or anything is sized by them, whatever the other arguments.
  const uint64_t kHuge = uint64_t{1} << 62;
  cudago_define_t def{"X", "1"};
  const char* opt = "-lineinfo";
  cudago_header_t hdr{"h.h", "// h"};
  const char* name = "k";
  for (int which = 0; which < 5; ++which) {
    cudago_compile_options_t huge = o;
    const char* count_name = "";
    switch (which) {
      case 0:
        huge.defines = &def;
        huge.num_defines = kHuge;
        count_name = "num_defines";
        break;
      case 1:
        huge.options = &opt;
        huge.num_options = kHuge;
        count_name = "num_options";
        break;
      case 2:
        huge.headers = &hdr;
        huge.num_headers = kHuge;
        count_name = "num_headers";
        break;
      case 3:
        huge.name_expressions = &name;
        huge.num_name_expressions = kHuge;
        count_name = "num_name_expressions";
        break;
      default:
        huge.options = &opt;
        huge.num_options = UINT64_MAX;  // what a negative count was
        count_name = "num_options";
        break;
    }
    SCOPED_TRACE(count_name);
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_module_compile(&m, 0, kSaxpy, &huge));
    EXPECT_NE(last_error_text().find(count_name), std::string::npos) << last_error_text();
    uint64_t len = 0;
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_rtc_compile(kSaxpy, &huge, nullptr, 0, &len));
  }
  // Each count fits NVRTC's int, their sum does not.
  cudago_compile_options_t sum = o;
  sum.defines = &def;
  sum.num_defines = INT32_MAX;
  sum.options = &opt;
  sum.num_options = INT32_MAX;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_module_compile(&m, 0, kSaxpy, &sum));
  EXPECT_EQ(m, nullptr);

  uint64_t len = 0;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_rtc_compile(kSaxpy, nullptr, nullptr, 0, &len));
  cudago_compile_options_t noarch = default_options();
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_rtc_compile(kSaxpy, &noarch, nullptr, 0, &len));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_rtc_compile(kSaxpy, &o, nullptr, 0, nullptr));
}

TEST(Rtc, NullHandlesAndLaunchValidation) {
  EXPECT_EQ(cudago_module_destroy(nullptr), CUDAGO_SUCCESS);
  EXPECT_EQ(cudago_kernel_destroy(nullptr), CUDAGO_SUCCESS);
  uint64_t len = 0;
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_module_log(nullptr, nullptr, 0, &len));
  cudago_kernel_t k = nullptr;
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_module_kernel(&k, nullptr, "saxpy"));
  cudago_kernel_attributes_t attrs;
  cudago_kernel_attributes_init(&attrs);
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_kernel_attributes(nullptr, &attrs));
  int32_t block = 0, grid = 0;
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_kernel_occupancy(nullptr, 0, &block, &grid));
  const uint64_t dims[3] = {1, 1, 1};
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_kernel_launch(nullptr, nullptr, nullptr, 0, dims, dims, 0));
  cudago_kernel_arg_t one = arg_u64(7);
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_kernel_launch(nullptr, nullptr, &one, 1, dims, dims, 0));

  // The launch shape and the arguments are checked before the handles, so all of this is
  // refused without a GPU.
  const uint64_t bad_dims[][3] = {{0, 1, 1},
                                  {1, 0, 1},
                                  {1, 1, 0},
                                  {uint64_t{UINT32_MAX} + 1, 1, 1},
                                  {1, 1, uint64_t{UINT32_MAX} + 1},
                                  {UINT64_MAX, 1, 1}};
  for (const auto& bad : bad_dims) {
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_kernel_launch(nullptr, nullptr, &one, 1, bad, dims, 0));
    EXPECT_NE(last_error_text().find("grid["), std::string::npos) << last_error_text();
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_kernel_launch(nullptr, nullptr, &one, 1, dims, bad, 0));
    EXPECT_NE(last_error_text().find("block["), std::string::npos) << last_error_text();
  }
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(nullptr, nullptr, &one, 1, nullptr, dims, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(nullptr, nullptr, &one, 1, dims, nullptr, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(nullptr, nullptr, &one, 1, dims, dims, uint64_t{UINT32_MAX} + 1));
  // A huge nargs with a one-element array: refused before the array is read or anything is
  // sized by it.
  for (uint64_t huge : {uint64_t{1} << 62, UINT64_MAX, uint64_t{32765}}) {
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_kernel_launch(nullptr, nullptr, &one, huge, dims, dims, 0));
    EXPECT_NE(last_error_text().find("nargs"), std::string::npos) << last_error_text();
  }
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(nullptr, nullptr, nullptr, 1, dims, dims, 0));
  // reserved0 must be 0; the kind must be a cudago_arg_kind_t.
  cudago_kernel_arg_t args[2] = {arg_u64(7), arg_u64(8)};
  args[1].reserved0 = 1;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(nullptr, nullptr, args, 2, dims, dims, 0));
  EXPECT_NE(last_error_text().find("args[1].reserved0"), std::string::npos) << last_error_text();
  args[1] = arg_u64(8);
  for (int32_t kind : {-1, 9, 99, INT32_MAX}) {  // INT32_MAX is the FORCE32 enumerator
    args[1].kind = static_cast<cudago_arg_kind_t>(kind);
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_kernel_launch(nullptr, nullptr, args, 2, dims, dims, 0));
    EXPECT_NE(last_error_text().find("args[1].kind"), std::string::npos) << last_error_text();
  }
  // A byte argument larger than CUDA's parameter space is refused before it is copied.
  static const unsigned char payload[32765] = {};
  args[1] = cudago_kernel_arg_t{};
  args[1].kind = CUDAGO_ARG_BYTES;
  args[1].bytes = payload;
  args[1].size = sizeof payload;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(nullptr, nullptr, args, 2, dims, dims, 0));
  args[1].size = uint64_t{1} << 62;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(nullptr, nullptr, args, 2, dims, dims, 0));
  // With a valid shape and valid arguments, the NULL kernel is what is refused.
  args[1].size = 8;
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_kernel_launch(nullptr, nullptr, args, 2, dims, dims, 0));
}

TEST(Rtc, CompileWithoutDeviceIsNoDevice) {
  int32_t n = 0;
  ASSERT_EQ(cudago_device_count(&n), CUDAGO_SUCCESS);
  if (n > 0) GTEST_SKIP() << "a CUDA device is present";
  cudago_module_t m = nullptr;
  CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_module_compile(&m, 0, kSaxpy, nullptr));
  // An explicit architecture compiles, but loading still needs the device.
  cudago_define_t def{"REAL", "float"};
  cudago_header_t hdr{"axpy_op.h", kAxpyHeader};
  cudago_compile_options_t o = default_options();
  o.arch = "sm_90";
  o.defines = &def;
  o.num_defines = 1;
  o.headers = &hdr;
  o.num_headers = 1;
  CG_EXPECT(CUDAGO_ERROR_NO_DEVICE, cudago_module_compile(&m, 0, kSaxpy, &o));
  EXPECT_EQ(m, nullptr);
}

TEST(Rtc, CompilesToCubinWithoutDevice) {
  cudago_define_t def{"REAL", "double"};
  cudago_header_t hdr{"axpy_op.h", kAxpyHeader};
  cudago_compile_options_t o = default_options();
  o.arch = "sm_90";
  o.flags = CUDAGO_COMPILE_NO_CACHE;
  o.defines = &def;
  o.num_defines = 1;
  o.headers = &hdr;
  o.num_headers = 1;
  uint64_t len = 0;
  CG_OK(cudago_rtc_compile(kSaxpy, &o, nullptr, 0, &len));
  ASSERT_GT(len, 4u);
  std::vector<unsigned char> image(len);
  uint64_t len2 = 0;
  CG_OK(cudago_rtc_compile(kSaxpy, &o, image.data(), image.size(), &len2));
  EXPECT_EQ(len2, len);
  // A CUBIN is an ELF file.
  EXPECT_EQ(image[0], 0x7f);
  EXPECT_EQ(image[1], 'E');
  EXPECT_EQ(image[2], 'L');
  EXPECT_EQ(image[3], 'F');

  // compute_XY gives NUL-terminated PTX naming the kernel.
  o.arch = "compute_90";
  CG_OK(cudago_rtc_compile(kSaxpy, &o, nullptr, 0, &len));
  std::vector<char> ptx(len);
  CG_OK(cudago_rtc_compile(kSaxpy, &o, ptx.data(), ptx.size(), &len));
  ASSERT_GT(len, 0u);
  EXPECT_EQ(ptx[len - 1], '\0');
  EXPECT_NE(std::string(ptx.data()).find(".entry saxpy"), std::string::npos);

  // Without the header the include fails.
  o.num_headers = 0;
  CG_EXPECT(CUDAGO_ERROR_NVRTC, cudago_rtc_compile(kSaxpy, &o, nullptr, 0, &len));
}

TEST(Rtc, CompileErrorReportsLineAndFullLog) {
  cudago_compile_options_t o = default_options();
  o.arch = "sm_90";
  std::vector<char> log(1 << 16);
  uint64_t log_len = 0;
  o.log = log.data();
  o.log_cap = log.size();
  o.log_len = &log_len;
  uint64_t len = 0;
  CG_EXPECT(CUDAGO_ERROR_NVRTC, cudago_rtc_compile(kBad, &o, nullptr, 0, &len));
  std::string text(log.data());
  EXPECT_EQ(text.size(), log_len);
  EXPECT_NE(text.find("(3)"), std::string::npos) << text;  // the line of the bad call
  EXPECT_NE(text.find("error"), std::string::npos) << text;
  EXPECT_NE(text.find("undeclared_thing"), std::string::npos) << text;

  cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
  ASSERT_EQ(cudago_error_last(&e), CUDAGO_SUCCESS);
  EXPECT_EQ(e.status, CUDAGO_ERROR_NVRTC);
  EXPECT_NE(std::string(e.message).find("error"), std::string::npos) << e.message;

  // The same through module_compile (the compile fails before any device is needed), with a
  // log buffer too small: truncated, NUL-terminated, full length reported.
  char small[16];
  uint64_t small_len = 0;
  o.log = small;
  o.log_cap = sizeof small;
  o.log_len = &small_len;
  cudago_module_t m = nullptr;
  CG_EXPECT(CUDAGO_ERROR_NVRTC, cudago_module_compile(&m, 0, kBad, &o));
  EXPECT_EQ(m, nullptr);
  EXPECT_EQ(small_len, log_len);
  EXPECT_EQ(std::strlen(small), sizeof small - 1);
  EXPECT_EQ(std::string(small), text.substr(0, sizeof small - 1));

  // An option NVRTC does not know is an invalid argument, with NVRTC's word in the log.
  const char* bogus[] = {"--no-such-option-cudago"};
  o.options = bogus;
  o.num_options = 1;
  o.log = log.data();
  o.log_cap = log.size();
  o.log_len = &log_len;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_rtc_compile(kSaxpy, &o, nullptr, 0, &len));
}

TEST(Rtc, NameExpressionCompilesWithoutDevice) {
  const char* src = R"(
template <typename T> __global__ void scale(T* x, T s) { x[threadIdx.x] *= s; }
)";
  const char* names[] = {"scale<float>", "scale<double>"};
  cudago_compile_options_t o = default_options();
  o.arch = "compute_90";
  o.flags = CUDAGO_COMPILE_NO_CACHE;
  o.name_expressions = names;
  o.num_name_expressions = 2;
  uint64_t len = 0;
  CG_OK(cudago_rtc_compile(src, &o, nullptr, 0, &len));
  std::vector<char> ptx(len);
  CG_OK(cudago_rtc_compile(src, &o, ptx.data(), ptx.size(), &len));
  std::string text(ptx.data());
  EXPECT_NE(text.find("_Z5scaleIfEvPT_S0_"), std::string::npos);  // both instantiated
  EXPECT_NE(text.find("_Z5scaleIdEvPT_S0_"), std::string::npos);
}

// Regression (fuzzing): NVRTC 13.0 reports success with a NULL lowered name for a name
// expression when the source holds a 0xFF byte; the library dereferenced it.
TEST(Rtc, NameExpressionThatLowersToNothingIsAnError) {
  const char* src = "template <typename T> __global__ void k(T* x) { *x = 0; }\n\xff\n";
  const char* names[] = {"k<float>"};
  cudago_compile_options_t o = default_options();
  o.arch = "sm_90";
  o.flags = CUDAGO_COMPILE_NO_CACHE;
  o.name_expressions = names;
  o.num_name_expressions = 1;
  uint64_t len = 0;
  cudago_status_t st = cudago_rtc_compile(src, &o, nullptr, 0, &len);
  const std::string detail = last_error_text();
  EXPECT_EQ(st, CUDAGO_ERROR_NVRTC) << detail;
  EXPECT_NE(detail.find("k<float>"), std::string::npos) << detail;
}

TEST(Rtc, MemoryCacheHitsOnSecondCompile) {
  CG_OK(cudago_rtc_cache_set_dir(nullptr));
  CG_OK(cudago_rtc_cache_clear());
  std::string src = unique_source("extern \"C\" __global__ void k(int* p) { *p = 7; }\n");
  cudago_compile_options_t o = default_options();
  o.arch = "sm_90";
  uint64_t len1 = 0, len2 = 0;
  CG_OK(cudago_rtc_compile(src.c_str(), &o, nullptr, 0, &len1));
  cudago_rtc_cache_stats_t s = cache_stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 0u);
  EXPECT_EQ(s.entries, 1u);
  CG_OK(cudago_rtc_compile(src.c_str(), &o, nullptr, 0, &len2));
  s = cache_stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(len1, len2);

  // Another define is another key.
  cudago_define_t def{"X", "1"};
  o.defines = &def;
  o.num_defines = 1;
  CG_OK(cudago_rtc_compile(src.c_str(), &o, nullptr, 0, &len2));
  s = cache_stats();
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.entries, 2u);

  // No-cache compiles neither read nor count.
  o.flags = CUDAGO_COMPILE_NO_CACHE;
  CG_OK(cudago_rtc_compile(src.c_str(), &o, nullptr, 0, &len2));
  s = cache_stats();
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.hits, 1u);

  // Capacity 1 keeps only the most recent.
  CG_OK(cudago_rtc_cache_set_capacity(1));
  EXPECT_EQ(cache_stats().entries, 1u);
  CG_OK(cudago_rtc_cache_set_capacity(256));
  CG_OK(cudago_rtc_cache_clear());
}

TEST(Rtc, DiskCacheServesAFreshCacheAndIgnoresCorruptFiles) {
  char tmpl[] = "/tmp/cudago-rtc-cache-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  CG_OK(cudago_rtc_cache_set_dir(dir.c_str()));
  CG_OK(cudago_rtc_cache_clear());
  std::string src = unique_source("extern \"C\" __global__ void k(float* p) { *p = 1.5f; }\n");
  cudago_compile_options_t o = default_options();
  o.arch = "sm_90";
  uint64_t len = 0;
  CG_OK(cudago_rtc_compile(src.c_str(), &o, nullptr, 0, &len));
  std::vector<unsigned char> first(len);
  CG_OK(cudago_rtc_compile(src.c_str(), &o, first.data(), first.size(), &len));
  EXPECT_EQ(cache_stats().misses, 1u);

  // An empty memory cache (as in a new process) finds the file and does not compile.
  CG_OK(cudago_rtc_cache_clear());
  std::vector<unsigned char> second(len);
  CG_OK(cudago_rtc_compile(src.c_str(), &o, second.data(), second.size(), &len));
  cudago_rtc_cache_stats_t s = cache_stats();
  EXPECT_EQ(s.disk_hits, 1u);
  EXPECT_EQ(s.misses, 0u);
  EXPECT_EQ(first, second);

  // Corrupt every file in the directory: ignored, recompiled, rewritten.
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files.push_back(entry.path().string());
  }
  ASSERT_EQ(files.size(), 1u) << "one file per key, no temporary left behind";
  {
    std::ofstream out(files[0], std::ios::binary | std::ios::trunc);
    out << "CUDAGO-RTC-CACHE-1\ngarbage";
  }
  CG_OK(cudago_rtc_cache_clear());
  CG_OK(cudago_rtc_compile(src.c_str(), &o, second.data(), second.size(), &len));
  s = cache_stats();
  EXPECT_EQ(s.disk_hits, 0u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(first, second);
  CG_OK(cudago_rtc_cache_clear());
  CG_OK(cudago_rtc_compile(src.c_str(), &o, second.data(), second.size(), &len));
  EXPECT_EQ(cache_stats().disk_hits, 1u);

  // One flipped byte in the middle of the image leaves the file's structure intact: the
  // checksum turns it into a miss instead of a corrupted "successful" compile.
  std::string bytes;
  {
    std::ifstream in(files[0], std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const size_t image_at = bytes.find(std::string(first.begin(), first.begin() + 16));
  ASSERT_NE(image_at, std::string::npos) << "the image is stored as it is";
  bytes[image_at + first.size() / 2] ^= 0x20;
  {
    std::ofstream out(files[0], std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  CG_OK(cudago_rtc_cache_clear());
  CG_OK(cudago_rtc_compile(src.c_str(), &o, second.data(), second.size(), &len));
  s = cache_stats();
  EXPECT_EQ(s.disk_hits, 0u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(first, second);

  CG_OK(cudago_rtc_cache_set_dir(nullptr));
  CG_OK(cudago_rtc_cache_clear());
  for (const auto& f : files) std::remove(f.c_str());
  ::rmdir(dir.c_str());
}

// ---- on a GPU ----

TEST(RtcGpu, SaxpyMatchesCpu) {
  NEED_GPU();
  std::mt19937 rng(fresh_seed());
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  Module m = compile_saxpy(unique_source(kSaxpy));
  ASSERT_NE(m, nullptr);
  Kernel k = get_kernel(m, "saxpy");
  ASSERT_NE(k, nullptr);
  Stream s = make_stream();
  for (uint64_t n : {uint64_t{1}, uint64_t{1000003}}) {
    std::vector<float> x(n), y(n), out(n, NAN);
    for (auto& v : x) v = dist(rng);
    for (auto& v : y) v = dist(rng);
    float a = dist(rng);
    Buffer bx = make_buffer(n * 4), by = make_buffer(n * 4);
    CG_OK(cudago_copy_h2d(x.data(), bx.get(), 0, n * 4));
    CG_OK(cudago_copy_h2d(y.data(), by.get(), 0, n * 4));
    cudago_kernel_arg_t args[4] = {arg_f32(a), arg_buffer(bx.get()), arg_buffer(by.get()),
                                   arg_u64(n)};
    const uint64_t block[3] = {256, 1, 1};
    const uint64_t grid[3] = {(n + 255) / 256, 1, 1};
    CG_OK(cudago_kernel_launch(k.get(), s.get(), args, 4, grid, block, 0));
    CG_OK(cudago_stream_synchronize(s.get()));
    CG_OK(cudago_copy_d2h(by.get(), 0, out.data(), n * 4));
    size_t bad = 0;
    for (uint64_t i = 0; i < n; ++i) {
      float ref = std::fma(a, x[i], y[i]);
      float tol = 2.4e-7f * (std::fabs(a * x[i]) + std::fabs(y[i])) + 1e-30f;
      if (!(std::fabs(out[i] - ref) <= tol) && bad++ < 5) {
        ADD_FAILURE() << "n=" << n << " i=" << i << " got " << out[i] << " want " << ref;
      }
    }
    EXPECT_EQ(bad, 0u) << "n=" << n;
  }
}

TEST(RtcGpu, AttributesOccupancyLogAndLookup) {
  NEED_GPU();
  Module m = compile_saxpy(unique_source(kSaxpy));
  ASSERT_NE(m, nullptr);
  uint64_t len = 1;
  CG_OK(cudago_module_log(m.get(), nullptr, 0, &len));  // warnings: usually none
  int32_t dev = -1;
  CG_OK(cudago_module_device(m.get(), &dev));
  EXPECT_EQ(dev, 0);
  Kernel k = get_kernel(m, "saxpy");
  ASSERT_NE(k, nullptr);
  cudago_kernel_attributes_t a;
  cudago_kernel_attributes_init(&a);
  CG_OK(cudago_kernel_attributes(k.get(), &a));
  EXPECT_EQ(a.num_params, 4);
  EXPECT_GT(a.num_regs, 0);
  EXPECT_GE(a.max_threads_per_block, 256);
  EXPECT_EQ(a.shared_bytes, 0);
  EXPECT_GT(a.binary_version, 0);
  int32_t block = 0, min_grid = 0;
  CG_OK(cudago_kernel_occupancy(k.get(), 0, &block, &min_grid));
  EXPECT_GT(block, 0);
  EXPECT_LE(block, a.max_threads_per_block);
  EXPECT_EQ(block % 32, 0);
  EXPECT_GT(min_grid, 0);

  cudago_kernel_t missing = nullptr;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_module_kernel(&missing, m.get(), "nope"));
  EXPECT_EQ(missing, nullptr);

  // The kernel keeps the module alive after the module handle is gone.
  m.reset();
  CG_OK(cudago_kernel_attributes(k.get(), &a));
}

TEST(RtcGpu, WrongArgumentsFailBeforeLaunch) {
  NEED_GPU();
  Module m = compile_saxpy(unique_source(kSaxpy));
  ASSERT_NE(m, nullptr);
  Kernel k = get_kernel(m, "saxpy");
  ASSERT_NE(k, nullptr);
  Stream s = make_stream();
  const uint64_t n = 1000;
  std::vector<float> poison(n, 12345.0f), out(n);
  Buffer bx = make_buffer(n * 4), by = make_buffer(n * 4);
  CG_OK(cudago_copy_h2d(poison.data(), bx.get(), 0, n * 4));
  CG_OK(cudago_copy_h2d(poison.data(), by.get(), 0, n * 4));
  const uint64_t block[3] = {256, 1, 1};
  const uint64_t grid[3] = {4, 1, 1};

  cudago_kernel_arg_t args[5] = {arg_f32(2), arg_buffer(bx.get()), arg_buffer(by.get()), arg_u64(n),
                                 arg_u64(n)};
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(k.get(), s.get(), args, 3, grid, block, 0));  // too few
  EXPECT_NE(last_error_text().find("takes 4 arguments"), std::string::npos) << last_error_text();
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(k.get(), s.get(), args, 5, grid, block, 0));  // too many
  cudago_kernel_arg_t wrong[4] = {arg_f32(2), arg_buffer(bx.get()), arg_buffer(by.get()),
                                  arg_i32(static_cast<int64_t>(n))};  // 4 bytes, not 8
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(k.get(), s.get(), wrong, 4, grid, block, 0));
  EXPECT_NE(last_error_text().find("argument 3"), std::string::npos) << last_error_text();
  cudago_kernel_arg_t unknown[4] = {arg_f32(2), arg_buffer(bx.get()), arg_buffer(by.get()),
                                    arg_u64(n)};
  unknown[0].kind = static_cast<cudago_arg_kind_t>(99);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(k.get(), s.get(), unknown, 4, grid, block, 0));
  unknown[0] = arg_buffer(nullptr);
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_kernel_launch(k.get(), s.get(), unknown, 4, grid, block, 0));
  unknown[0] = arg_i32(int64_t{1} << 40);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(k.get(), s.get(), unknown, 4, grid, block, 0));
  cudago_kernel_arg_t past[4] = {arg_f32(2), arg_buffer(bx.get(), n * 4 + 1), arg_buffer(by.get()),
                                 arg_u64(n)};
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_kernel_launch(k.get(), s.get(), past, 4, grid, block, 0));
  const uint64_t zero[3] = {0, 1, 1};
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(k.get(), s.get(), args, 4, zero, block, 0));
  const uint64_t huge[3] = {2048, 1, 1};
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(k.get(), s.get(), args, 4, grid, huge, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(k.get(), s.get(), args, 4, nullptr, block, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(k.get(), s.get(), nullptr, 4, grid, block, 0));

  // Nothing ran: y still holds the poison.
  CG_OK(cudago_stream_synchronize(s.get()));
  CG_OK(cudago_copy_d2h(by.get(), 0, out.data(), n * 4));
  EXPECT_EQ(out, poison);
}

TEST(RtcGpu, TemplatedBlockSumThroughNameExpression) {
  NEED_GPU();
  std::string src = unique_source(R"(
template <typename T, int BLOCK>
__global__ void block_sum(const T* in, T* out, unsigned int n) {
  __shared__ T part[BLOCK];
  unsigned int tid = threadIdx.x;
  T acc = T(0);
  for (unsigned int i = blockIdx.x * BLOCK + tid; i < n; i += gridDim.x * BLOCK) acc += in[i];
  part[tid] = acc;
  __syncthreads();
  for (int w = BLOCK / 2; w > 0; w >>= 1) {
    if (tid < w) part[tid] += part[tid + w];
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = part[0];
}
)");
  const char* names[] = {"block_sum<float, 256>"};
  cudago_compile_options_t o = default_options();
  o.name_expressions = names;
  o.num_name_expressions = 1;
  cudago_module_t raw = nullptr;
  CG_OK(cudago_module_compile(&raw, 0, src.c_str(), &o));
  Module m(raw);
  Kernel k = get_kernel(m, "block_sum<float, 256>");
  ASSERT_NE(k, nullptr);
  cudago_kernel_attributes_t a;
  cudago_kernel_attributes_init(&a);
  CG_OK(cudago_kernel_attributes(k.get(), &a));
  EXPECT_GE(a.shared_bytes, 256 * 4);
  EXPECT_EQ(a.num_params, 3);

  std::mt19937 rng(fresh_seed());
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const uint32_t n = 100003, blocks = 37;
  std::vector<float> x(n), out(blocks, NAN);
  for (auto& v : x) v = dist(rng);
  Buffer bx = make_buffer(uint64_t{n} * 4), bo = make_buffer(blocks * 4);
  CG_OK(cudago_copy_h2d(x.data(), bx.get(), 0, uint64_t{n} * 4));
  CG_OK(cudago_copy_h2d(out.data(), bo.get(), 0, blocks * 4));  // poisoned with NaN
  cudago_kernel_arg_t args[3] = {arg_buffer(bx.get()), arg_buffer(bo.get()), {}};
  args[2].kind = CUDAGO_ARG_U32;
  args[2].v.u = n;
  Stream s = make_stream();
  const uint64_t grid[3] = {blocks, 1, 1};
  const uint64_t block[3] = {256, 1, 1};
  CG_OK(cudago_kernel_launch(k.get(), s.get(), args, 3, grid, block, 0));
  CG_OK(cudago_stream_synchronize(s.get()));
  CG_OK(cudago_copy_d2h(bo.get(), 0, out.data(), blocks * 4));
  for (uint32_t b = 0; b < blocks; ++b) {
    double ref = 0, mag = 0;
    for (uint32_t c = b; uint64_t{c} * 256 < n; c += blocks) {
      for (uint32_t i = c * 256; i < n && i < (c + 1) * 256; ++i) {
        ref += x[i];
        mag += std::fabs(x[i]);
      }
    }
    EXPECT_NEAR(out[b], ref, 1e-5 * mag + 1e-6) << "block " << b;
  }
}

struct Affine {
  float scale;
  float shift;
  int32_t count;
  double bias;
};
static_assert(sizeof(Affine) == 24, "the kernel's layout");

TEST(RtcGpu, StructArgumentAndMappedHostBuffer) {
  NEED_GPU();
  std::string src = unique_source(R"(
struct Affine { float scale; float shift; int count; double bias; };
extern "C" __global__ void affine(Affine p, const float* x, double* y, int* seen) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < p.count) {
    y[i] = (double)(p.scale * x[i] + p.shift) + p.bias;
    seen[i] = i * 3;
  }
}
)");
  cudago_module_t raw = nullptr;
  CG_OK(cudago_module_compile(&raw, 0, src.c_str(), nullptr));
  Module m(raw);
  Kernel k = get_kernel(m, "affine");
  ASSERT_NE(k, nullptr);

  std::mt19937 rng(fresh_seed());
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  const int32_t n = 777;
  Affine p{dist(rng), dist(rng), n, 0.125};
  std::vector<float> x(n);
  for (auto& v : x) v = dist(rng);
  std::vector<double> out(n, NAN);
  Buffer bx = make_buffer(n * 4), by = make_buffer(n * 8);
  CG_OK(cudago_copy_h2d(x.data(), bx.get(), 0, n * 4));
  CG_OK(cudago_copy_h2d(out.data(), by.get(), 0, n * 8));
  Host seen = make_host(n * 4, CUDAGO_HOST_MAPPED);
  int32_t* seen_p = host_ptr<int32_t>(seen);
  for (int32_t i = 0; i < n; ++i) seen_p[i] = -1;

  cudago_kernel_arg_t args[4] = {};
  args[0].kind = CUDAGO_ARG_BYTES;
  args[0].size = sizeof p;
  args[0].bytes = &p;
  args[1] = arg_buffer(bx.get());
  args[2] = arg_buffer(by.get());
  args[3].kind = CUDAGO_ARG_HOST_BUFFER;
  args[3].host = seen.get();
  Stream s = make_stream();
  const uint64_t grid[3] = {(n + 127) / 128, 1, 1};
  const uint64_t block[3] = {128, 1, 1};
  CG_OK(cudago_kernel_launch(k.get(), s.get(), args, 4, grid, block, 0));
  CG_OK(cudago_stream_synchronize(s.get()));
  CG_OK(cudago_copy_d2h(by.get(), 0, out.data(), n * 8));
  for (int32_t i = 0; i < n; ++i) {
    double ref = static_cast<double>(std::fma(p.scale, x[i], p.shift)) + p.bias;
    double tol = 2.4e-7 * (std::fabs(p.scale * x[i]) + std::fabs(p.shift)) + 1e-12;
    ASSERT_NEAR(out[i], ref, tol) << "i=" << i;
    ASSERT_EQ(seen_p[i], i * 3) << "i=" << i;
  }

  // A struct of the wrong size is refused.
  args[0].size = 16;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_kernel_launch(k.get(), s.get(), args, 4, grid, block, 0));
}

TEST(RtcGpu, SecondCompileHitsTheCache) {
  NEED_GPU();
  CG_OK(cudago_rtc_cache_set_dir(nullptr));
  CG_OK(cudago_rtc_cache_clear());
  std::string src = unique_source(kSaxpy);
  Module a = compile_saxpy(src);
  cudago_rtc_cache_stats_t s = cache_stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 0u);
  Module b = compile_saxpy(src);
  ASSERT_NE(b, nullptr);
  s = cache_stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 1u);
  Kernel k = get_kernel(b, "saxpy");  // the cached image loads and runs
  ASSERT_NE(k, nullptr);
  CG_OK(cudago_rtc_cache_clear());
}

}  // namespace
