// Reading ONNX models (protobuf) into the IR of ir.hpp. Only onnx_load.cpp sees protobuf.
#pragma once

#include <cstddef>
#include <string>

#include "cudago/nn/ir.hpp"

namespace cudago::nn {

// The oldest and newest versions the loader accepts.
constexpr int64_t kMinIrVersion = 3;
constexpr int64_t kMaxIrVersion = 12;
constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 25;

// Parses a serialized ModelProto. Tensors stored as external data are read from files named
// relative to base_dir (the model file's directory); with an empty base_dir such a model is
// refused. Throws Error(kInvalidModel) naming what is wrong; never allocates a size read from
// the file before checking it against the bytes that back it.
Graph parse_onnx(const void* data, size_t size, const std::string& base_dir);

// Reads and parses a model file; external data is looked up next to it.
Graph load_onnx_file(const std::string& path);

}  // namespace cudago::nn
