// Validation of (buffer, element offset, count) operands, shared by the elementwise and reduction
// launchers. Each check throws cudago::Error with a message naming the operation and operand.
#pragma once

#include <cstdint>
#include <string>

#include "cudago/error.hpp"
#include "cudago/memory.hpp"

namespace cudago::detail {

// Checks that elements [offset, offset + n) of `elem_size` bytes lie within `buf` (overflow-safe)
// and returns the address of element `offset`.
inline void* operand_pointer(const DeviceBuffer& buf, uint64_t offset, uint64_t n,
                             uint64_t elem_size, const char* op, const char* name) {
  const uint64_t max_elems = UINT64_MAX / elem_size;
  const bool fits = offset <= max_elems && n <= max_elems && n <= max_elems - offset &&
                    (offset + n) * elem_size <= buf.size();
  if (!fits) {
    throw Error(Status::kOutOfRange,
                std::string(op) + ": " + name + " elements [" + std::to_string(offset) + ", " +
                    std::to_string(offset) + "+" + std::to_string(n) + ") of " +
                    std::to_string(elem_size) + " bytes are outside its buffer of " +
                    std::to_string(buf.size()) + " bytes");
  }
  return static_cast<char*>(buf.data()) + offset * elem_size;
}

// Throws Error(kDeviceMismatch) unless `buf` lives on the stream's device.
inline void check_device(const DeviceBuffer& buf, int device, const char* op, const char* name) {
  if (buf.device() != device) {
    throw Error(Status::kDeviceMismatch, std::string(op) + ": " + name + " is on device " +
                                             std::to_string(buf.device()) +
                                             " and the stream on device " + std::to_string(device));
  }
}

// Throws Error(kDeviceMismatch) unless a stream is on the device of the object it works for.
inline void check_device_of_stream(int stream_device, int device, const char* op) {
  if (stream_device != device) {
    throw Error(Status::kDeviceMismatch, std::string(op) + ": the stream is on device " +
                                             std::to_string(stream_device) + " and the model on " +
                                             "device " + std::to_string(device));
  }
}

// Two byte ranges of one buffer must be identical or disjoint: an output that partially
// overlaps an input would give a result that depends on the order threads run in.
inline void check_no_partial_overlap(const DeviceBuffer& x, const void* xp, uint64_t x_bytes,
                                     const DeviceBuffer& y, const void* yp, uint64_t y_bytes,
                                     const char* op, const char* xname, const char* yname) {
  if (&x != &y || x_bytes == 0 || y_bytes == 0) return;
  const auto xa = reinterpret_cast<uintptr_t>(xp), ya = reinterpret_cast<uintptr_t>(yp);
  const bool disjoint = xa + x_bytes <= ya || ya + y_bytes <= xa;
  const bool same = xa == ya && x_bytes == y_bytes;
  if (!disjoint && !same) {
    throw Error(Status::kInvalidArgument, std::string(op) + ": " + xname + " and " + yname +
                                              " overlap partially in one buffer; they must be "
                                              "the same range or disjoint");
  }
}

// An output that any input overlaps is refused: reductions read inputs while other threads
// write results.
inline void check_disjoint(const DeviceBuffer& x, const void* xp, uint64_t x_bytes,
                           const DeviceBuffer& y, const void* yp, uint64_t y_bytes, const char* op,
                           const char* xname, const char* yname) {
  if (&x != &y || x_bytes == 0 || y_bytes == 0) return;
  const auto xa = reinterpret_cast<uintptr_t>(xp), ya = reinterpret_cast<uintptr_t>(yp);
  if (!(xa + x_bytes <= ya || ya + y_bytes <= xa)) {
    throw Error(Status::kInvalidArgument, std::string(op) + ": " + xname + " and " + yname +
                                              " overlap; they must be disjoint");
  }
}

}  // namespace cudago::detail
