// The sanitizer build's proof that it can fail: each mode commits one defect the build must
// report (scripts/sanitize.sh runs every mode and requires a non-zero exit and the sanitizer's
// report line). Built only in sanitizer builds; never run by `meson test`.
//
//   sanitize_canary heap-overflow | use-after-free | leak | shift | null-member
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {
struct Node {
  int value;
};
}  // namespace

// volatile values: the compiler must not see through the defects and drop them.
int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: sanitize_canary heap-overflow|use-after-free|leak|shift|null-member\n");
    return 2;
  }
  const std::string mode = argv[1];
  volatile int index = 16;
  if (mode == "heap-overflow") {
    char* p = static_cast<char*>(std::malloc(16));
    std::memset(p, 0, 16);
    const int v = p[index];  // one past the end
    std::free(p);
    return v == 12345;
  }
  if (mode == "use-after-free") {
    int* p = new int[4]();
    delete[] p;
    return p[index % 4];
  }
  if (mode == "leak") {
    volatile char* p = static_cast<char*>(std::malloc(4096));
    p[0] = 1;
    p = nullptr;  // the only pointer gone
    return 0;
  }
  if (mode == "shift") {
    volatile int by = 40;
    return (1 << by) == 0;  // a shift past the width: undefined
  }
  if (mode == "null-member") {
    Node* volatile n = nullptr;
    return n->value;  // a member access through NULL: undefined
  }
  std::fprintf(stderr, "sanitize_canary: unknown mode %s\n", mode.c_str());
  return 2;
}
