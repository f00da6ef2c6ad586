// The fuzz build's proof that it can fail: a planted defect (a heap overflow behind a 6-byte
// input prefix) that scripts/fuzz.sh requires libFuzzer to find and AddressSanitizer to report
// within its time, before it runs the real harnesses.
#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= 6 && data[0] == 'c' && data[1] == 'u' && data[2] == 'd' && data[3] == 'a' &&
      data[4] == 'g' && data[5] == 'o') {
    char* p = static_cast<char*>(std::malloc(size));
    std::memcpy(p, data, size);
    const volatile char past = p[size];  // one byte past the end
    std::free(p);
    return past == 0 ? 0 : 0;
  }
  return 0;
}
