#include "cudago/dtype.hpp"

#include <string>

#include "cudago/error.hpp"

namespace cudago {

const char* dtype_name(DType t) noexcept {
  switch (t) {
    case DType::kF32:
      return "f32";
    case DType::kF64:
      return "f64";
    case DType::kF16:
      return "f16";
    case DType::kBF16:
      return "bf16";
    case DType::kI8:
      return "i8";
    case DType::kU8:
      return "u8";
    case DType::kI32:
      return "i32";
    case DType::kU32:
      return "u32";
    case DType::kI64:
      return "i64";
    case DType::kU64:
      return "u64";
  }
  return "invalid";
}

size_t checked_dtype_size(int32_t t) {
  size_t n = dtype_size(static_cast<DType>(t));
  CUDAGO_EXPECTS(n != 0, kInvalidArgument, "unknown element type " + std::to_string(t));
  return n;
}

}  // namespace cudago
