// Status strings and versions.
#include "cudago.h"
#include "cudago/device.hpp"
#include "cudago/dtype.hpp"
#include "guard.hpp"

extern "C" {

const char* cudago_status_string(cudago_status_t status) {
  switch (status) {
#define CUDAGO_STATUS_CASE_(suffix, camel, value, text) \
  case CUDAGO_##suffix:                                 \
    return "CUDAGO_" #suffix ": " text;
    CUDAGO_STATUS_LIST(CUDAGO_STATUS_CASE_)
#undef CUDAGO_STATUS_CASE_
    case CUDAGO_STATUS_FORCE32:
      break;
  }
  return "CUDAGO_ERROR_UNKNOWN: unknown status";
}

size_t cudago_dtype_size(cudago_dtype_t dtype) {
  return cudago::dtype_size(cudago::capi::dtype_of(dtype));
}

uint32_t cudago_version_number(void) { return CUDAGO_VERSION_NUMBER; }

const char* cudago_version_string(void) {
#define CUDAGO_STR2(x) #x
#define CUDAGO_STR(x) CUDAGO_STR2(x)
  return CUDAGO_STR(CUDAGO_VERSION_MAJOR) "." CUDAGO_STR(CUDAGO_VERSION_MINOR) "." CUDAGO_STR(
      CUDAGO_VERSION_PATCH);
#undef CUDAGO_STR
#undef CUDAGO_STR2
}

cudago_status_t cudago_driver_version(int32_t* out) {
  return cudago::capi::guard("cudago_driver_version", [&] {
    *cudago::capi::out_param(out, "out") = cudago::driver_version();
  });
}

cudago_status_t cudago_runtime_version(int32_t* out) {
  return cudago::capi::guard("cudago_runtime_version", [&] {
    *cudago::capi::out_param(out, "out") = cudago::runtime_version();
  });
}

}  // extern "C"
