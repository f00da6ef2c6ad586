#include "guard.hpp"

#include <cstdio>
#include <cstring>

namespace cudago::capi {
namespace {

static_assert(static_cast<int>(Status::kNccl) == CUDAGO_ERROR_NCCL &&
                  static_cast<int>(Status::kCapture) == CUDAGO_ERROR_CAPTURE,
              "cudago::Status and cudago_status_t must agree");
static_assert(static_cast<int>(Status::kInternal) == CUDAGO_ERROR_INTERNAL,
              "cudago::Status and cudago_status_t must agree");
static_assert(static_cast<int>(Status::kKernelFault) == CUDAGO_ERROR_KERNEL_FAULT,
              "cudago::Status and cudago_status_t must agree");
static_assert(static_cast<int>(Status::kNoDevice) == CUDAGO_ERROR_NO_DEVICE,
              "cudago::Status and cudago_status_t must agree");

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
  // Fields are only ever appended, so a caller's smaller (older) struct gets whole fields.
  if (out == nullptr || out->struct_size < offsetof(cudago_error_info_t, native_code)) {
    return CUDAGO_ERROR_INVALID_ARGUMENT;
  }
  const cudago_error_info_t& e = cudago::capi::last_error;
  const uint32_t caller_size = out->struct_size;
  const size_t n = caller_size < sizeof e ? caller_size : sizeof e;
  if (e.status == CUDAGO_SUCCESS) {
    std::memset(out, 0, n);
  } else {
    std::memcpy(out, &e, n);
  }
  out->struct_size = caller_size;
  return CUDAGO_SUCCESS;
}
