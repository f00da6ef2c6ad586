// What the C ABI benchmarks share: exit with the library's error detail when a call fails.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "cudago.h"

namespace bench {

[[noreturn]] inline void die(const char* prog, const char* what) {
  cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
  cudago_error_last(&e);
  std::fprintf(stderr, "%s: %s failed: %s: %s\n", prog, what, e.operation, e.message);
  std::exit(1);
}

}  // namespace bench

// CG(call): the call, or exit naming it (BENCH_NAME: the program's name).
#define CG(call)                                                 \
  do {                                                           \
    if ((call) != CUDAGO_SUCCESS) bench::die(BENCH_NAME, #call); \
  } while (0)
