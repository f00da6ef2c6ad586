// libFuzzer harness of the on-disk compile cache's file reader (cudago/detail/rtc_cache.hpp):
// the function that turns a cache file back into a compile result, fed corrupted, truncated and
// foreign files. No GPU and no NVRTC: it links the core's static library.
//
// Each input is one of three cases (its first byte):
//  - a raw file, read as the entry of a key taken from the input;
//  - a file body whose checksum the harness appends, so that the structure past the checksum
//    (lengths, counts, the names' order) is reached;
//  - a well-formed entry built from the input, then cut at a length or changed at one byte.
// The oracles: the reader never crashes, reads out of bounds or allocates more than the file
// holds (AddressSanitizer, libFuzzer's -rss_limit_mb and -malloc_limit_mb); a file it accepts is
// written back byte for byte by the writer (so nothing in it was ignored) and has an image; a
// well-formed entry is read back equal; a truncated entry is refused.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "cudago/detail/rtc_cache.hpp"

namespace {

using cudago::CompileResult;
using cudago::detail::rtc_cache_checksum;
using cudago::detail::rtc_cache_deserialize;
using cudago::detail::rtc_cache_serialize;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "rtc_cache_fuzz: %s\n", what);
  __builtin_trap();
}

std::string with_checksum(std::string body) {
  const uint64_t sum = rtc_cache_checksum(body);
  for (int i = 0; i < 8; ++i) body.push_back(static_cast<char>((sum >> (8 * i)) & 0xff));
  return body;
}

// Whatever the reader accepts must be exactly what the writer writes for that result.
void check_accepted(const std::string& file, const std::string& key) {
  CompileResult r;
  if (!rtc_cache_deserialize(file, key, r)) return;
  if (r.image.empty()) fail("accepted an entry without an image");
  if (rtc_cache_serialize(key, r) != file) fail("accepted a file the writer would not write");
}

bool same(const CompileResult& a, const CompileResult& b) {
  return a.arch == b.arch && a.image == b.image && a.log == b.log &&
         a.lowered_names == b.lowered_names;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const int mode = in.ConsumeIntegralInRange<int>(0, 2);
  const std::string key = in.ConsumeRandomLengthString(64);
  if (mode == 0) {
    check_accepted(in.ConsumeRemainingBytesAsString(), key);
    return 0;
  }
  if (mode == 1) {
    check_accepted(with_checksum(in.ConsumeRemainingBytesAsString()), key);
    return 0;
  }
  // A well-formed entry: read back equal, under its key only.
  CompileResult r;
  r.arch = in.ConsumeRandomLengthString(16);
  const std::string image = in.ConsumeRandomLengthString(256);
  r.image.assign(image.begin(), image.end());
  r.log = in.ConsumeRandomLengthString(64);
  const int names = in.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < names; ++i) {
    std::string e = in.ConsumeRandomLengthString(16);
    r.lowered_names[e] = in.ConsumeRandomLengthString(16);
  }
  const std::string file = rtc_cache_serialize(key, r);
  CompileResult back;
  const bool ok = rtc_cache_deserialize(file, key, back);
  if (ok != !r.image.empty())
    fail("a well-formed entry was not read back (or one without image was)");
  if (ok && !same(back, r)) fail("an entry read back differs from the one written");
  if (ok && rtc_cache_deserialize(file, key + "x", back))
    fail("an entry was read under another key");
  // Truncated anywhere: refused. Changed at one byte: refused or, if the change happens to keep
  // it well formed, written back as it is.
  const size_t cut = in.ConsumeIntegralInRange<size_t>(0, file.size());
  if (cut < file.size() && rtc_cache_deserialize(file.substr(0, cut), key, back)) {
    fail("accepted a truncated entry");
  }
  if (!file.empty()) {
    std::string changed = file;
    const size_t at = in.ConsumeIntegralInRange<size_t>(0, file.size() - 1);
    changed[at] = static_cast<char>(changed[at] ^ in.ConsumeIntegralInRange<int>(1, 255));
    check_accepted(changed, key);
    check_accepted(with_checksum(changed.substr(0, changed.size() - 8)), key);
  }
  return 0;
}
