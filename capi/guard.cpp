#include "guard.hpp"

#include <cstdio>
#include <cstring>

namespace cudago::capi {
namespace {

thread_local cudago_error_info_t last_error = CUDAGO_ERROR_INFO_INIT;

void copy_str(char* dst, size_t cap, const char* src) {
  std::snprintf(dst, cap, "%s", src ? src : "");
}

}  // namespace

void clear_error() noexcept { last_error.status = CUDAGO_SUCCESS; }

cudago_status_t record_error(const char* op, Status status, int32_t native_code,
                             const std::string& native_name, const char* message) noexcept {
  cudago_error_info_t& e = last_error;
  e.status = static_cast<int32_t>(status);
  e.native_code = native_code;
  copy_str(e.native_name, sizeof e.native_name, native_name.c_str());
  copy_str(e.operation, sizeof e.operation, op);
  copy_str(e.message, sizeof e.message, message);
  return static_cast<cudago_status_t>(status);
}

}  // namespace cudago::capi

extern "C" cudago_status_t cudago_error_last(cudago_error_info_t* out) {
  // No guard: reading the detail must not replace it. A bad size is refused without a record.
  try {
    cudago::capi::sized_out(out, "out");
  } catch (const cudago::Error& e) {
    return static_cast<cudago_status_t>(e.status());
  } catch (...) {
    return CUDAGO_ERROR_INTERNAL;
  }
  const cudago_error_info_t& e = cudago::capi::last_error;
  if (e.status == CUDAGO_SUCCESS) {
    cudago_error_info_t none = CUDAGO_ERROR_INFO_INIT;
    cudago::capi::write_sized(out, "out", none);
  } else {
    cudago::capi::write_sized(out, "out", e);
  }
  return CUDAGO_SUCCESS;
}
