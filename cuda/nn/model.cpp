#include "cudago/nn/model.hpp"

#include <unistd.h>

#include <chrono>
#include <climits>
#include <cmath>

#include "cudago/device.hpp"
#include "cudago/nn/onnx.hpp"

namespace cudago::nn {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The largest max_batch accepted: far above any GPU's memory for real models, small enough that
// no size computed from it overflows.
constexpr int64_t kMaxBatchLimit = int64_t{1} << 20;

TensorDesc describe(const TensorInfo& t, int64_t max_batch) {
  TensorDesc d;
  d.name = t.name;
  for (size_t i = 0; i < t.shape.size(); ++i) {
    d.dims.push_back(t.shape[i].at(max_batch));
    if (t.shape[i].a != 0 && d.batch_axis < 0) {
      d.batch_axis = static_cast<int>(i);
      d.batch_mul = t.shape[i].a;
    }
  }
  return d;
}

}  // namespace

int64_t TensorDesc::bytes_at(int64_t n) const {
  int64_t count = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    count *= static_cast<int>(i) == batch_axis ? batch_mul * n : dims[i];
  }
  return count * (type == ElemType::kU8 ? 1 : 4);
}

std::unique_ptr<Model> Model::load_file(const std::string& path, const ModelOptions& opts) {
  auto t0 = std::chrono::steady_clock::now();
  Graph g = load_onnx_file(path);
  std::unique_ptr<Model> m(new Model());
  m->init(std::move(g), opts, seconds_since(t0));
  return m;
}

std::unique_ptr<Model> Model::load_bytes(const void* data, size_t size, const ModelOptions& opts) {
  auto t0 = std::chrono::steady_clock::now();
  Graph g = parse_onnx(data, size, opts.base_dir);
  std::unique_ptr<Model> m(new Model());
  m->init(std::move(g), opts, seconds_since(t0));
  return m;
}

void Model::init(Graph&& g, const ModelOptions& opts, double parse_seconds) {
  opts_ = opts;
  stats_.parse_seconds = parse_seconds;
  if (opts.max_batch < 0 || opts.max_batch > kMaxBatchLimit) {
    throw Error(Status::kInvalidArgument, "max_batch " + std::to_string(opts.max_batch) +
                                              " is out of range (1 to " +
                                              std::to_string(kMaxBatchLimit) + ", 0 for 1)");
  }
  for (int c = 0; c < 4; ++c) {
    if (!std::isfinite(opts.mean[c]) || !std::isfinite(opts.std[c]) || opts.std[c] == 0) {
      throw Error(Status::kInvalidArgument, "mean and std must be finite and std non-zero");
    }
  }
  if (!std::isfinite(opts.input_scale) || opts.input_scale == 0) {
    throw Error(Status::kInvalidArgument, "input_scale must be finite and non-zero");
  }

  auto t0 = std::chrono::steady_clock::now();
  LowerOptions lo;
  lo.max_batch = opts.max_batch == 0 ? 1 : opts.max_batch;
  lo.fuse = opts.fuse;
  program_ = lower(g, lo);
  stats_.lower_seconds = seconds_since(t0);
  stats_.layers = static_cast<int64_t>(program_.layers.size());
  for (const Layer& l : program_.layers) {
    stats_.weight_bytes += static_cast<int64_t>((l.weight.size() + l.bias.size()) * sizeof(float));
  }

  for (int t : program_.inputs) {
    TensorDesc d = describe(program_.tensors[t], program_.max_batch);
    if (opts.input_format == InputFormat::kUint8Nhwc) {
      if (d.dims.size() != 4 || d.dims[1] > 4 || d.batch_axis > 0) {
        throw Error(Status::kInvalidArgument,
                    "input '" + d.name +
                        "' is not an NCHW image of at most 4 channels, so it cannot be given as "
                        "uint8 NHWC");
      }
      if (d.batch_axis == 0 && d.batch_mul != 1) {
        throw Error(Status::kInvalidArgument, "input '" + d.name + "' is not a batch of images");
      }
      d.type = ElemType::kU8;
      d.dims = {d.dims[0], d.dims[2], d.dims[3], d.dims[1]};
    }
    inputs_.push_back(d);
  }
  for (int t : program_.outputs)
    outputs_.push_back(describe(program_.tensors[t], program_.max_batch));

  bool gpu = false;
  switch (opts.backend) {
    case Backend::kReference:
      if (opts.precision == Precision::kFp16 || opts.precision == Precision::kBf16) {
        throw Error(
            Status::kInvalidArgument,
            "the reference executor computes in fp32 only; ask for CUDAGO_NN_PRECISION_FP32 "
            "or the default");
      }
      break;
    case Backend::kGpu:
      if (device_count() == 0) {
        throw Error(Status::kNoDevice,
                    "the GPU backend needs a CUDA device: " + no_device_reason());
      }
      gpu = true;
      break;
    case Backend::kAuto:
      gpu = device_count() > 0;
      break;
  }
  if (!gpu) {
    backend_ = Backend::kReference;
    precision_ = Precision::kFp32;
    reference_ = std::make_unique<ReferenceExecutor>(program_);
    stats_.arena_bytes = host_bytes(program_.max_batch);
    return;
  }
  backend_ = Backend::kGpu;
  precision_ = opts.precision == Precision::kDefault ? Precision::kFp16 : opts.precision;
  build_gpu();
}

void Model::build_gpu() {
  const ModelOptions& opts = opts_;
  GpuOptions go;
  go.device = opts.device;
  go.precision = precision_ == Precision::kFp16 ? 0 : precision_ == Precision::kBf16 ? 1 : 2;
  go.uint8_input = opts.input_format == InputFormat::kUint8Nhwc;
  for (size_t c = 0; c < 4; ++c) {
    go.input_scale[c] = opts.input_scale / opts.std[c];
    go.input_shift[c] = opts.mean[c] / opts.std[c];
  }
  go.cache_dir = opts.cache_dir;
  gpu_ = GpuPlan::build(program_, go);
  const GpuPlanStats& s = gpu_->stats();
  stats_.plan_seconds = s.plan_seconds;
  stats_.tune_seconds = s.tune_seconds;
  stats_.weight_bytes = s.weight_bytes;
  stats_.arena_bytes = s.arena_bytes;
  stats_.arena_lower_bound = s.arena_lower_bound;
  stats_.workspace_bytes = s.workspace_bytes;
}

std::unique_ptr<Model> Model::replicate(int32_t device) const {
  if (!gpu_) {
    throw Error(Status::kNotSupported,
                "the model runs on the CPU reference executor: it has no device to replicate");
  }
  if (device < 0 || device >= device_count()) {
    throw Error(Status::kInvalidDevice, "device " + std::to_string(device) + " is out of range");
  }
  std::unique_ptr<Model> m(new Model());
  m->opts_ = opts_;
  m->opts_.device = device;
  m->backend_ = backend_;
  m->precision_ = precision_;
  m->program_ = program_;
  m->inputs_ = inputs_;
  m->outputs_ = outputs_;
  m->stats_ = stats_;
  m->build_gpu();
  return m;
}

int64_t Model::host_bytes(int64_t n) const {
  if (!reference_) return 0;
  int64_t bytes = reference_->peak_bytes(n);
  for (const TensorDesc& d : inputs_) {
    if (d.type == ElemType::kU8) bytes += d.bytes_at(n) * 4;  // the converted float copy
  }
  return bytes;
}

void Model::check_batch(int64_t n) const {
  if (!program_.dynamic_batch && n != 1) {
    throw Error(Status::kInvalidArgument,
                "the model has no dynamic batch dimension: it runs at batch 1 (its declared "
                "shapes), not " +
                    std::to_string(n));
  }
  if (n < 1 || n > program_.max_batch) {
    throw Error(Status::kInvalidArgument, "batch " + std::to_string(n) +
                                              " is out of range (1 to the model's max_batch " +
                                              std::to_string(program_.max_batch) + ")");
  }
}

void Model::run(const StreamPtr& stream, int64_t n, const std::vector<const void*>& in,
                const std::vector<void*>& out) const {
  check_batch(n);
  if (!gpu_) {
    throw Error(Status::kNotSupported,
                "the model runs on the CPU reference executor, which takes host memory: use "
                "cudago_nn_model_run_host");
  }
  gpu_->run(stream, n, in, out);
}

void Model::prepare(const StreamPtr& stream, const std::vector<int64_t>& sizes) const {
  for (int64_t n : sizes) check_batch(n);
  if (gpu_) gpu_->prepare(stream, sizes);
}

void uint8_nhwc_to_nchw(const uint8_t* src, int64_t n, int64_t h, int64_t w, int64_t c,
                        const ModelOptions& opts, float* dst) {
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t ch = 0; ch < c; ++ch) {
      float s = opts.input_scale / opts.std[static_cast<size_t>(ch)];
      float t = opts.mean[static_cast<size_t>(ch)] / opts.std[static_cast<size_t>(ch)];
      float* out = dst + (b * c + ch) * h * w;
      const uint8_t* in = src + b * h * w * c + ch;
      for (int64_t i = 0; i < h * w; ++i) out[i] = static_cast<float>(in[i * c]) * s - t;
    }
  }
}

void Model::run_host(int64_t n, const std::vector<const void*>& in,
                     const std::vector<uint64_t>& in_bytes, const std::vector<void*>& out,
                     const std::vector<uint64_t>& out_bytes) const {
  check_batch(n);
  if (in.size() != inputs_.size() || in_bytes.size() != inputs_.size()) {
    throw Error(Status::kInvalidArgument, "the model has " + std::to_string(inputs_.size()) +
                                              " inputs, " + std::to_string(in.size()) + " given");
  }
  if (out.size() != outputs_.size() || out_bytes.size() != outputs_.size()) {
    throw Error(Status::kInvalidArgument, "the model has " + std::to_string(outputs_.size()) +
                                              " outputs, " + std::to_string(out.size()) + " given");
  }
  auto check = [n](const TensorDesc& d, const void* p, uint64_t bytes, const char* what, size_t i) {
    if (p == nullptr) {
      throw Error(Status::kInvalidArgument,
                  std::string(what) + " " + std::to_string(i) + " ('" + d.name + "') is NULL");
    }
    if (bytes != static_cast<uint64_t>(d.bytes_at(n))) {
      throw Error(Status::kInvalidArgument, std::string(what) + " " + std::to_string(i) + " ('" +
                                                d.name + "') has " + std::to_string(bytes) +
                                                " bytes; at batch " + std::to_string(n) +
                                                " it needs " + std::to_string(d.bytes_at(n)));
    }
  };
  for (size_t i = 0; i < in.size(); ++i) check(inputs_[i], in[i], in_bytes[i], "input", i);
  for (size_t i = 0; i < out.size(); ++i) check(outputs_[i], out[i], out_bytes[i], "output", i);
  // An output may not overlap an input or another output.
  auto overlap = [](const void* a, uint64_t an, const void* b, uint64_t bn) {
    auto x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
    return x < y + bn && y < x + an;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    for (size_t j = 0; j < in.size(); ++j) {
      if (overlap(out[i], out_bytes[i], in[j], in_bytes[j])) {
        throw Error(Status::kInvalidArgument,
                    "output " + std::to_string(i) + " overlaps input " + std::to_string(j));
      }
    }
    for (size_t j = 0; j < i; ++j) {
      if (overlap(out[i], out_bytes[i], out[j], out_bytes[j])) {
        throw Error(Status::kInvalidArgument,
                    "output " + std::to_string(i) + " overlaps output " + std::to_string(j));
      }
    }
  }

  if (gpu_) {
    std::vector<int64_t> ib(in_bytes.begin(), in_bytes.end()),
        ob(out_bytes.begin(), out_bytes.end());
    gpu_->run_host(n, in, ib, out, ob);
    return;
  }
  // A run that could never fit is refused before it allocates anything.
  static const int64_t physical = [] {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? static_cast<int64_t>(pages) * size : INT64_MAX;
  }();
  int64_t need = host_bytes(n);
  if (need > physical) {
    throw Error(Status::kOutOfMemory,
                "a run at batch " + std::to_string(n) + " needs " + std::to_string(need) +
                    " bytes of host memory for its activations; this machine has " +
                    std::to_string(physical));
  }
  std::vector<std::vector<float>> converted(in.size());
  std::vector<const float*> fin(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const TensorDesc& d = inputs_[i];
    if (d.type == ElemType::kU8) {
      // The images in the tensor: n, or the fixed first dimension of a model without a batch.
      int64_t images = d.batch_axis == 0 ? n : d.dims[0];
      converted[i].resize(static_cast<size_t>(d.bytes_at(n)));
      uint8_nhwc_to_nchw(static_cast<const uint8_t*>(in[i]), images, d.dims[1], d.dims[2],
                         d.dims[3], opts_, converted[i].data());
      fin[i] = converted[i].data();
    } else {
      fin[i] = static_cast<const float*>(in[i]);
    }
  }
  std::vector<float*> fout(out.size());
  for (size_t i = 0; i < out.size(); ++i) fout[i] = static_cast<float*>(out[i]);
  reference_->run(n, fin, fout);
}

}  // namespace cudago::nn
