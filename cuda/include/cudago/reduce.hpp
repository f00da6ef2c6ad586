// Reductions on a stream: sum, min, max, argmax, dot and L2 norm, over a whole range of a
// buffer or along the last axis of a rows x cols row-major array (one result per row), for
// float32 and float64. Results are written to a device buffer; nothing waits for the GPU.
//
// Accuracy (u = 2^-24 for float32, 2^-53 for float64; inputs accumulate in their own type).
// Each thread keeps several compensated (Kahan) partial sums over a strided share of the
// elements; the partials are combined by a binary tree of depth at most 23 (registers, warp
// shuffles, shared memory and, for whole buffers, a second pass over the per-block partials,
// which is again compensated). To first order in u:
//   sum:   |result - exact| <= 32 u sum|x_i|
//   dot:   |result - exact| <= 33 u sum|x_i y_i|   (each product is rounded once)
//   norm2: |result - exact| <= 18 u exact          (sqrt of the sum of squares)
// independent of n. min, max and argmax are exact. norm2 squares in the input type, so it
// overflows to +Inf once the sum of squares leaves the type's range (|x| near 1.8e19 for
// float32), unlike cuBLAS's scaled nrm2.
//
// NaN: sum, dot and norm2 follow IEEE arithmetic (a NaN input gives NaN). min and max return NaN
// when any element is NaN. argmax treats NaN as larger than every number, so it returns the
// index of the first NaN if there is one, else the first index of the maximum. Of +0 and -0,
// min and max may return either. Indices are int64, counted from the start of the range (of the
// row, for rows).
//
// Empty input: sum, dot and norm2 of zero elements are 0; min, max and argmax refuse it
// (kInvalidArgument).
#pragma once

#include <cstdint>

#include "cudago/dtype.hpp"
#include "cudago/memory.hpp"

namespace cudago {

// Mirrors cudago_reduce_op_t (values fixed).
enum class ReduceOp : int32_t { kSum = 0, kMin = 1, kMax = 2, kArgMax = 3, kDot = 4, kNorm2 = 5 };

const char* reduce_op_name(ReduceOp op) noexcept;  // "sum", ...; "invalid" otherwise

// The element type of a reduction's results: int64 for argmax, else `dtype`.
DType reduce_out_dtype(ReduceOp op, DType dtype) noexcept;

// out[out_offset] = op over elements [x_offset, x_offset + n) of x (and of y, for dot only; y
// must be nullptr for the other ops). out must not overlap x or y. Whole buffers take one pass
// when small and two otherwise (a per-block scratch array from the device's pool, allocated and
// freed in stream order on `stream`); no host round trip.
void reduce_all(const StreamPtr& stream, ReduceOp op, DType dtype, DeviceBuffer& x,
                uint64_t x_offset, DeviceBuffer* y, uint64_t y_offset, uint64_t n,
                DeviceBuffer& out, uint64_t out_offset);

// out[out_offset + r] = op over row r of the rows x cols row-major array that starts at element
// x_offset of x (and y_offset of y, for dot), for r < rows.
void reduce_rows(const StreamPtr& stream, ReduceOp op, DType dtype, DeviceBuffer& x,
                 uint64_t x_offset, DeviceBuffer* y, uint64_t y_offset, uint64_t rows,
                 uint64_t cols, DeviceBuffer& out, uint64_t out_offset);

}  // namespace cudago
