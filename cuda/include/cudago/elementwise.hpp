// Elementwise kernels on a stream: binary arithmetic, axpy, scale, fill and casts, for float32,
// float64, float16 and bfloat16.
//
// Operands are (buffer, element offset) pairs with one element count n, checked against the
// buffers' sizes, so a range may start anywhere in a buffer. The kernels use 16-byte vector loads
// and stores where every operand can be brought to a 16-byte boundary by the same number of
// leading elements (those elements and the trailing ones go through a scalar path), and a
// scalar path otherwise; results do not depend on the path.
//
// Arithmetic: float32 and float64 operate in their own precision; float16 and bfloat16 are
// widened to float32 exactly, computed in float32 and rounded once to the element type (round to
// nearest, ties to even). axpy uses a fused multiply-add (one rounding in the compute type).
//
// An output may be exactly an input (same buffer and offset): each element is read before it is
// written by the same thread. Partially overlapping ranges of one buffer are refused
// (kInvalidArgument), since their result would depend on scheduling.
#pragma once

#include <cstdint>

#include "cudago/dtype.hpp"
#include "cudago/memory.hpp"

namespace cudago {

// Mirrors cudago_binary_op_t (values fixed).
enum class BinaryOp : int32_t { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };

const char* binary_op_name(BinaryOp op) noexcept;  // "add", ...; "invalid" otherwise

// Throws Error(kInvalidArgument) unless `dtype` is F32, F64, F16 or BF16.
void check_float_dtype(DType dtype, const char* what);

// c[i] = a[i] op b[i] for i < n; the ranges start at the given element offsets.
void elementwise_binary(const StreamPtr& stream, BinaryOp op, DType dtype, DeviceBuffer& a,
                        uint64_t a_offset, DeviceBuffer& b, uint64_t b_offset, DeviceBuffer& c,
                        uint64_t c_offset, uint64_t n);

// y[i] = alpha * x[i] + y[i] (fused), alpha rounded to the compute type (float64 or float32).
void elementwise_axpy(const StreamPtr& stream, DType dtype, double alpha, DeviceBuffer& x,
                      uint64_t x_offset, DeviceBuffer& y, uint64_t y_offset, uint64_t n);

// x[i] = alpha * x[i], alpha rounded to the compute type.
void elementwise_scale(const StreamPtr& stream, DType dtype, double alpha, DeviceBuffer& x,
                       uint64_t x_offset, uint64_t n);

// x[i] = value, rounded to the element type as a float64 -> dtype cast rounds it.
void elementwise_fill(const StreamPtr& stream, DType dtype, double value, DeviceBuffer& x,
                      uint64_t x_offset, uint64_t n);

// dst[i] = src[i] converted to dst_dtype, rounded to nearest, ties to even (one rounding, also
// from float64 to float16 or bfloat16). Widening casts are exact; NaN stays NaN (its payload is
// not kept), values beyond the target's range become +-Inf. src and dst must not overlap unless
// both types are the same size and the ranges are identical.
void elementwise_cast(const StreamPtr& stream, DType src_dtype, DeviceBuffer& src,
                      uint64_t src_offset, DType dst_dtype, DeviceBuffer& dst, uint64_t dst_offset,
                      uint64_t n);

}  // namespace cudago
