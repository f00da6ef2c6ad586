// The CNN runtime (experimental): model loading, description and runs.
#define CUDAGO_EXPERIMENTAL 1
#include <cstring>
#include <string>
#include <vector>

#include "cudago.h"
#include "cudago/detail/operand.hpp"
#include "cudago/nn/model.hpp"
#include "guard.hpp"
#include "nn_handle.hpp"

using cudago::Error;
using cudago::Status;
using cudago::capi::guard;
using cudago::capi::handle;
using cudago::capi::out_param;
using cudago::capi::publish;
using cudago::capi::read_sized;
using cudago::capi::sized_out;
using cudago::capi::write_sized;
namespace nn = cudago::nn;

namespace {

nn::ModelOptions translate(const cudago_nn_options_t* in) {
  cudago_nn_options_t o;
  if (in == nullptr) {
    cudago_nn_options_init(&o);
  } else {
    o = read_sized(in, "opts");
  }
  nn::ModelOptions m;
  if (o.device < 0) {
    throw Error(Status::kInvalidDevice,
                "opts->device = " + std::to_string(o.device) + " is negative");
  }
  m.device = o.device;
  switch (o.backend) {
    case CUDAGO_NN_BACKEND_AUTO:
      m.backend = nn::Backend::kAuto;
      break;
    case CUDAGO_NN_BACKEND_GPU:
      m.backend = nn::Backend::kGpu;
      break;
    case CUDAGO_NN_BACKEND_REFERENCE:
      m.backend = nn::Backend::kReference;
      break;
    default:
      throw Error(Status::kInvalidArgument,
                  "opts->backend = " + std::to_string(static_cast<int32_t>(o.backend)) +
                      " is not a cudago_nn_backend_t");
  }
  switch (o.precision) {
    case CUDAGO_NN_PRECISION_DEFAULT:
      m.precision = nn::Precision::kDefault;
      break;
    case CUDAGO_NN_PRECISION_FP16:
      m.precision = nn::Precision::kFp16;
      break;
    case CUDAGO_NN_PRECISION_BF16:
      m.precision = nn::Precision::kBf16;
      break;
    case CUDAGO_NN_PRECISION_FP32:
      m.precision = nn::Precision::kFp32;
      break;
    default:
      throw Error(Status::kInvalidArgument,
                  "opts->precision = " + std::to_string(static_cast<int32_t>(o.precision)) +
                      " is not a cudago_nn_precision_t");
  }
  switch (o.input_format) {
    case CUDAGO_NN_INPUT_AS_DECLARED:
      m.input_format = nn::InputFormat::kAsDeclared;
      break;
    case CUDAGO_NN_INPUT_UINT8_NHWC:
      m.input_format = nn::InputFormat::kUint8Nhwc;
      break;
    default:
      throw Error(Status::kInvalidArgument,
                  "opts->input_format = " + std::to_string(static_cast<int32_t>(o.input_format)) +
                      " is not a cudago_nn_input_format_t");
  }
  if ((o.flags & ~CUDAGO_NN_NO_FUSION) != 0) {
    throw Error(Status::kInvalidArgument,
                "opts->flags has unknown bits " + std::to_string(o.flags & ~CUDAGO_NN_NO_FUSION));
  }
  m.fuse = (o.flags & CUDAGO_NN_NO_FUSION) == 0;
  m.max_batch = cudago::capi::signed_count(o.max_batch, "opts->max_batch");
  if (o.cache_dir != nullptr) m.cache_dir = o.cache_dir;
  if (o.base_dir != nullptr) m.base_dir = o.base_dir;
  if (o.input_scale != 0) m.input_scale = o.input_scale;
  for (int c = 0; c < 4; ++c) {
    m.mean[c] = o.mean[c];
    if (o.std[c] != 0) m.std[c] = o.std[c];
  }
  return m;
}

cudago_nn_model_t publish_checked(cudago_nn_model_t* out, std::unique_ptr<nn::Model> m) {
  for (const auto* list : {&m->inputs(), &m->outputs()}) {
    for (const nn::TensorDesc& d : *list) {
      if (d.dims.size() > CUDAGO_NN_MAX_RANK) {
        throw Error(Status::kInvalidModel, "tensor '" + d.name + "' has rank " +
                                               std::to_string(d.dims.size()) +
                                               "; model inputs and outputs may have at most " +
                                               std::to_string(CUDAGO_NN_MAX_RANK));
      }
    }
  }
  publish(out, std::move(m));
  return *out;
}

void describe(const nn::TensorDesc& d, cudago_nn_tensor_info_t* out) {
  cudago_nn_tensor_info_t info;
  cudago_nn_tensor_info_init(&info);
  info.dtype = d.type == nn::ElemType::kU8 ? CUDAGO_DTYPE_U8 : CUDAGO_DTYPE_F32;
  info.name = d.name.c_str();
  info.rank = d.dims.size();
  for (size_t i = 0; i < d.dims.size(); ++i) info.dims[i] = static_cast<uint64_t>(d.dims[i]);
  info.batch_axis = d.batch_axis;
  info.bytes_per_item = static_cast<uint64_t>(d.bytes_at(1));
  write_sized(out, "out", info);
}

// Checks an argument array and its count against what the model needs, before reading it.
template <class T>
void check_array(const T* p, uint64_t n, size_t want, const char* count_name, const char* name) {
  if (n != want) {
    throw Error(Status::kInvalidArgument, std::string(count_name) + " = " + std::to_string(n) +
                                              "; the model has " + std::to_string(want));
  }
  if (n > 0 && p == nullptr) throw Error(Status::kInvalidArgument, std::string(name) + " is NULL");
}

}  // namespace

extern "C" cudago_status_t cudago_nn_model_load(cudago_nn_model_t* out, const char* path,
                                                const cudago_nn_options_t* opts) {
  return guard("cudago_nn_model_load", [&] {
    out_param(out, "out");
    if (path == nullptr) throw Error(Status::kInvalidArgument, "path is NULL");
    nn::ModelOptions m = translate(opts);
    publish_checked(out, nn::Model::load_file(path, m));
  });
}

extern "C" cudago_status_t cudago_nn_model_load_bytes(cudago_nn_model_t* out, const void* data,
                                                      uint64_t size,
                                                      const cudago_nn_options_t* opts) {
  return guard("cudago_nn_model_load_bytes", [&] {
    out_param(out, "out");
    if (data == nullptr) throw Error(Status::kInvalidArgument, "data is NULL");
    if (size == 0) throw Error(Status::kInvalidArgument, "size is 0");
    nn::ModelOptions m = translate(opts);
    publish_checked(out, nn::Model::load_bytes(data, static_cast<size_t>(size), m));
  });
}

extern "C" cudago_status_t cudago_nn_model_destroy(cudago_nn_model_t model) {
  return guard("cudago_nn_model_destroy", [&] { delete model; });
}

extern "C" cudago_status_t cudago_nn_model_info(cudago_nn_model_t model,
                                                cudago_nn_model_info_t* out) {
  return guard("cudago_nn_model_info", [&] {
    const nn::Model& m = *handle(model, "model").impl;
    sized_out(out, "out");
    cudago_nn_model_info_t info;
    cudago_nn_model_info_init(&info);
    bool gpu = m.backend() == nn::Backend::kGpu;
    info.backend = gpu ? CUDAGO_NN_BACKEND_GPU : CUDAGO_NN_BACKEND_REFERENCE;
    info.precision = m.precision() == nn::Precision::kFp16   ? CUDAGO_NN_PRECISION_FP16
                     : m.precision() == nn::Precision::kBf16 ? CUDAGO_NN_PRECISION_BF16
                                                             : CUDAGO_NN_PRECISION_FP32;
    info.device = gpu ? m.device() : -1;
    info.dynamic_batch = m.dynamic_batch() ? 1 : 0;
    info.max_batch = static_cast<uint64_t>(m.max_batch());
    info.num_inputs = m.inputs().size();
    info.num_outputs = m.outputs().size();
    const nn::ModelStats& s = m.stats();
    info.num_layers = static_cast<uint64_t>(s.layers);
    info.weight_bytes = static_cast<uint64_t>(s.weight_bytes);
    info.arena_bytes = static_cast<uint64_t>(s.arena_bytes);
    info.arena_lower_bound = static_cast<uint64_t>(s.arena_lower_bound);
    info.parse_seconds = s.parse_seconds;
    info.lower_seconds = s.lower_seconds;
    info.plan_seconds = s.plan_seconds;
    info.tune_seconds = s.tune_seconds;
    info.graphs = static_cast<uint64_t>(m.graphs_captured());
    info.capture_seconds = m.capture_seconds();
    write_sized(out, "out", info);
  });
}

extern "C" cudago_status_t cudago_nn_model_input(cudago_nn_model_t model, uint64_t index,
                                                 cudago_nn_tensor_info_t* out) {
  return guard("cudago_nn_model_input", [&] {
    const nn::Model& m = *handle(model, "model").impl;
    sized_out(out, "out");
    if (index >= m.inputs().size()) {
      throw Error(Status::kOutOfRange, "index " + std::to_string(index) + " is past the model's " +
                                           std::to_string(m.inputs().size()) + " inputs");
    }
    describe(m.inputs()[index], out);
  });
}

extern "C" cudago_status_t cudago_nn_model_output(cudago_nn_model_t model, uint64_t index,
                                                  cudago_nn_tensor_info_t* out) {
  return guard("cudago_nn_model_output", [&] {
    const nn::Model& m = *handle(model, "model").impl;
    sized_out(out, "out");
    if (index >= m.outputs().size()) {
      throw Error(Status::kOutOfRange, "index " + std::to_string(index) + " is past the model's " +
                                           std::to_string(m.outputs().size()) + " outputs");
    }
    describe(m.outputs()[index], out);
  });
}

extern "C" cudago_status_t cudago_nn_model_run_host(cudago_nn_model_t model,
                                                    const void* const* inputs,
                                                    const uint64_t* input_bytes,
                                                    uint64_t num_inputs, void* const* outputs,
                                                    const uint64_t* output_bytes,
                                                    uint64_t num_outputs, uint64_t batch) {
  return guard("cudago_nn_model_run_host", [&] {
    const nn::Model& m = *handle(model, "model").impl;
    check_array(inputs, num_inputs, m.inputs().size(), "num_inputs", "inputs");
    check_array(input_bytes, num_inputs, m.inputs().size(), "num_inputs", "input_bytes");
    check_array(outputs, num_outputs, m.outputs().size(), "num_outputs", "outputs");
    check_array(output_bytes, num_outputs, m.outputs().size(), "num_outputs", "output_bytes");
    int64_t n = cudago::capi::signed_count(batch, "batch");
    m.check_batch(n);
    std::vector<const void*> in(inputs, inputs + num_inputs);
    std::vector<uint64_t> inb(input_bytes, input_bytes + num_inputs);
    std::vector<void*> out(outputs, outputs + num_outputs);
    std::vector<uint64_t> outb(output_bytes, output_bytes + num_outputs);
    m.run_host(n, in, inb, out, outb);
  });
}

extern "C" cudago_status_t cudago_nn_model_prepare(cudago_nn_model_t model, cudago_stream_t stream,
                                                   const uint64_t* batch_sizes, uint64_t count) {
  return guard("cudago_nn_model_prepare", [&] {
    const nn::Model& m = *handle(model, "model").impl;
    if (count > (uint64_t{1} << 20)) {
      throw Error(Status::kInvalidArgument,
                  "count " + std::to_string(count) + " is past 2^20 batch sizes");
    }
    if (count > 0 && batch_sizes == nullptr) {
      throw Error(Status::kInvalidArgument,
                  "batch_sizes is NULL with count " + std::to_string(count));
    }
    std::vector<int64_t> sizes;
    sizes.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
      std::string name = "batch_sizes[" + std::to_string(i) + "]";
      int64_t n = cudago::capi::signed_count(batch_sizes[i], name.c_str());
      try {
        m.check_batch(n);
      } catch (const Error& e) {
        throw Error(e.status(), name + ": " + e.what());
      }
      sizes.push_back(n);
    }
    cudago::StreamPtr s;
    if (stream != nullptr) {
      s = handle(stream, "stream").impl;
      if (m.backend() == nn::Backend::kGpu) {
        cudago::detail::check_device_of_stream(s->device(), m.device(), "cudago_nn_model_prepare");
      }
    }
    m.prepare(s, sizes);
  });
}

extern "C" cudago_status_t cudago_nn_model_run(cudago_nn_model_t model, cudago_stream_t stream,
                                               const cudago_buffer_t* inputs,
                                               const uint64_t* input_offsets, uint64_t num_inputs,
                                               const cudago_buffer_t* outputs,
                                               const uint64_t* output_offsets, uint64_t num_outputs,
                                               uint64_t batch) {
  return guard("cudago_nn_model_run", [&] {
    const nn::Model& m = *handle(model, "model").impl;
    check_array(inputs, num_inputs, m.inputs().size(), "num_inputs", "inputs");
    check_array(input_offsets, num_inputs, m.inputs().size(), "num_inputs", "input_offsets");
    check_array(outputs, num_outputs, m.outputs().size(), "num_outputs", "outputs");
    check_array(output_offsets, num_outputs, m.outputs().size(), "num_outputs", "output_offsets");
    int64_t n = cudago::capi::signed_count(batch, "batch");
    m.check_batch(n);
    const cudago::StreamPtr& s = handle(stream, "stream").impl;
    if (m.backend() != nn::Backend::kGpu) {
      throw Error(Status::kNotSupported,
                  "the model runs on the CPU reference executor, which takes host memory: use "
                  "cudago_nn_model_run_host");
    }
    const char* op = "cudago_nn_model_run";
    cudago::detail::check_device_of_stream(s->device(), m.device(), op);
    // Every range is checked (device, alignment, bounds) before anything is queued.
    auto range = [&](cudago_buffer_t b, uint64_t offset, const nn::TensorDesc& d, const char* what,
                     uint64_t i) -> void* {
      std::string name = std::string(what) + "[" + std::to_string(i) + "] ('" + d.name + "')";
      cudago::DeviceBuffer& buf = *handle(b, name.c_str()).impl;
      cudago::detail::check_device(buf, m.device(), op, name.c_str());
      uint64_t align = d.type == nn::ElemType::kU8 ? 1 : 4;
      if (offset % align != 0) {
        throw Error(Status::kInvalidArgument, name + ": offset " + std::to_string(offset) +
                                                  " is not a multiple of " + std::to_string(align) +
                                                  " bytes");
      }
      return cudago::detail::operand_pointer(buf, offset, static_cast<uint64_t>(d.bytes_at(n)), 1,
                                             op, name.c_str());
    };
    std::vector<const void*> in;
    std::vector<void*> out;
    for (uint64_t i = 0; i < num_inputs; ++i) {
      in.push_back(range(inputs[i], input_offsets[i], m.inputs()[i], "inputs", i));
    }
    for (uint64_t i = 0; i < num_outputs; ++i) {
      out.push_back(range(outputs[i], output_offsets[i], m.outputs()[i], "outputs", i));
      for (uint64_t j = 0; j < i; ++j) {
        cudago::detail::check_disjoint(
            *outputs[j]->impl, out[j], static_cast<uint64_t>(m.outputs()[j].bytes_at(n)),
            *outputs[i]->impl, out[i], static_cast<uint64_t>(m.outputs()[i].bytes_at(n)), op,
            "an output", "another output");
      }
    }
    m.run(s, n, in, out);
    for (uint64_t i = 0; i < num_inputs; ++i) inputs[i]->impl->used_on(s);
    for (uint64_t i = 0; i < num_outputs; ++i) outputs[i]->impl->used_on(s);
  });
}
