// Element types of device data, mirroring cudago_dtype_t (values fixed forever).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cudago {

enum class DType : int32_t {
  kF32 = 0,
  kF64 = 1,
  kF16 = 2,
  kBF16 = 3,
  kI8 = 4,
  kU8 = 5,
  kI32 = 6,
  kU32 = 7,
  kI64 = 8,
  kU64 = 9,
};

// Bytes per element; 0 for a value that is not a DType.
constexpr size_t dtype_size(DType t) noexcept {
  switch (t) {
    case DType::kF32:
    case DType::kI32:
    case DType::kU32:
      return 4;
    case DType::kF64:
    case DType::kI64:
    case DType::kU64:
      return 8;
    case DType::kF16:
    case DType::kBF16:
      return 2;
    case DType::kI8:
    case DType::kU8:
      return 1;
  }
  return 0;
}

const char* dtype_name(DType t) noexcept;  // "f32", "bf16", ...; "invalid" otherwise

// Throws Error(kInvalidArgument) unless t is a DType; returns its size.
size_t checked_dtype_size(int32_t t);

}  // namespace cudago
