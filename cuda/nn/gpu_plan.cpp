// The GPU executor (see gpu_plan.hpp).
#include "cudago/nn/gpu_plan.hpp"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "cudago/device.hpp"
#include "cudago/error.hpp"
#include "cudago/event.hpp"
#include "cudago/library_error.hpp"
#include "cudago/memory.hpp"
#include "cudago/nn/arena.hpp"
#include "cudnn.hpp"
#include "gpu_kernels.hpp"

namespace cudago::nn {

using GT = gpu::DType;
using gpu::Geom;

namespace {

constexpr int64_t kAlign = 256;
constexpr int64_t kTuneWorkspace = int64_t{256} << 20;  // the most workspace a conv may use
constexpr int64_t kBlasWorkspace = int64_t{32} << 20;

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

gpu::ActParams act_of(const Activation& a) {
  gpu::ActParams p;
  p.kind = static_cast<gpu::Act>(a.kind);
  p.lo = a.lo;
  p.hi = a.hi;
  return p;
}

cudnnDataType_t dnn_type(GT t) {
  return t == GT::kF16 ? CUDNN_DATA_HALF : t == GT::kBF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
}
cudaDataType_t blas_type(GT t) {
  return t == GT::kF16 ? CUDA_R_16F : t == GT::kBF16 ? CUDA_R_16BF : CUDA_R_32F;
}

// Ends a capture on s and instantiates it (the partial graph is dropped on failure).
cudaGraphExec_t end_capture(cudaStream_t s) {
  cudaGraph_t graph = nullptr;
  CUDAGO_CUDA_TRY(cudaStreamEndCapture(s, &graph));
  cudaGraphExec_t exec = nullptr;
  cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  CUDAGO_CUDA_TRY(err);
  return exec;
}

void abandon_capture(cudaStream_t s) {
  cudaGraph_t broken = nullptr;
  cudaStreamEndCapture(s, &broken);
  if (broken) cudaGraphDestroy(broken);
}

// A device allocation owned by the plan.
using Buf = std::unique_ptr<DeviceBuffer>;

struct TensorPlan {
  bool nhwc = false;
  int64_t cp = 0;  // physical channels of an NHWC tensor (≥ the logical ones: the padded stem)
  int64_t offset = 0;  // in the arena
};

// How a convolution's bias, residual and activation are applied.
enum class Fuse : int {
  kNone = 0,      // cudnnConvolutionForward, then our epilogue kernel (where there is one)
  kRelu = 1,      // cuDNN's fused conv + bias + residual + ReLU
  kIdentity = 2,  // the same with the identity activation (IMPLICIT_PRECOMP_GEMM only)
};

struct ConvAlgo {
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t workspace = 0;
  Fuse fuse = Fuse::kNone;
};

struct LayerPlan {
  void* weight = nullptr;  // plan dtype: conv [K,R,S,Cp/g]; gemm [M,K]; binary/constant operand
  float* bias = nullptr;   // fp32 (epilogue)
  void* bias_t = nullptr;  // plan dtype (cuDNN's fused bias)
  float* scale = nullptr;  // affine
  float* shift = nullptr;
  int64_t cin_phys = 0;  // conv: the input's physical channels
  ConvAlgo algo[2];      // conv: for batch 1 and for larger batches
  // conv with asymmetric pads: cuDNN gets the symmetric part (pad_sym: top, left) and the input
  // is first copied into a padded tensor of the arena (prepad index into Impl::extra) with the
  // rest (pre: top, left, bottom, right).
  int prepad = -1;
  int64_t pad_sym[2] = {0, 0};
  int64_t pre[4] = {0, 0, 0, 0};
};

struct Descs {
  const CudnnApi* api = nullptr;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, b = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnActivationDescriptor_t act = nullptr, identity = nullptr;
  Descs() = default;
  Descs(const Descs&) = delete;
  Descs& operator=(const Descs&) = delete;
  ~Descs() {
    if (!api) return;
    if (x) api->DestroyTensorDescriptor(x);
    if (y) api->DestroyTensorDescriptor(y);
    if (b) api->DestroyTensorDescriptor(b);
    if (w) api->DestroyFilterDescriptor(w);
    if (conv) api->DestroyConvolutionDescriptor(conv);
    if (act) api->DestroyActivationDescriptor(act);
    if (identity) api->DestroyActivationDescriptor(identity);
  }
};

// Drops the cuDNN descriptors a timing run added to a context when it goes out of scope (their
// graphs are gone by then; the model's own graphs keep theirs).
struct DescsMark {
  std::vector<std::unique_ptr<Descs>>& descs;
  size_t n;
  explicit DescsMark(std::vector<std::unique_ptr<Descs>>& d) : descs(d), n(d.size()) {}
  ~DescsMark() { descs.resize(n); }
};

struct Context {
  std::mutex mu;
  StreamPtr own;  // captures run here; run_host runs here
  cudnnHandle_t dnn = nullptr;
  cublasHandle_t blas = nullptr;
  Buf arena, workspace, blas_ws;
  Buf stage_in, stage_out;  // run_host staging
  std::map<int64_t, cudaGraphExec_t> graphs;
  std::vector<std::unique_ptr<Descs>> descs;  // kept for the graphs' life
  std::vector<Buf> retired;  // workspaces outgrown, kept for the graphs captured with them
  int device = 0;
  ~Context() {
    DeviceGuard g(device);
    for (auto& kv : graphs) cudaGraphExecDestroy(kv.second);
    if (own) own->host_wait();
    if (dnn) cudnn().Destroy(dnn);
    if (blas) cublasDestroy(blas);
  }
};

}  // namespace

struct GpuPlan::Impl {
  const Program& p;  // owned by the Model, which owns the plan
  GpuOptions o;
  GT t = GT::kF16;
  int esize = 2;
  GpuPlanStats stats;
  std::vector<TensorPlan> tp;
  std::vector<TensorPlan> extra;  // the padded inputs of asymmetric convolutions
  std::vector<LayerPlan> lp;
  Buf weights;  // every layer's constants, one allocation
  bool needs_cudnn = false;
  // cuDNN's fused bias + residual + ReLU call for ReLU convolutions (fp16, fp32). A diagnostic
  // switch, CUDAGO_NN_NO_CUDNN_FUSION=1, turns it off (every convolution then takes any
  // algorithm and our epilogue), to compare the two on a GPU.
  bool cudnn_fusion = std::getenv("CUDAGO_NN_NO_CUDNN_FUSION") == nullptr;
  int64_t workspace_bytes = 0;
  mutable std::mutex contexts_mu;
  mutable std::map<const void*, std::unique_ptr<Context>> contexts;
  mutable std::atomic<int64_t> graphs_captured{0}, capture_ns{0};

  explicit Impl(const Program& prog) : p(prog) {}

  Geom geom(int tensor, int64_t n) const;
  Geom plain_geom(const std::vector<int64_t>& dims) const;
  char* at(const Context& c, int tensor) const {
    return static_cast<char*>(c.arena->data()) + tp[tensor].offset;
  }
  // A convolution's input as cuDNN reads it: the tensor, or its padded copy.
  Geom conv_in_geom(size_t layer, int64_t n) const;
  char* conv_in(const Context& c, size_t layer) const {
    const LayerPlan& q = lp[layer];
    if (q.prepad < 0) return at(c, p.layers[layer].inputs[0]);
    return static_cast<char*>(c.arena->data()) + extra[static_cast<size_t>(q.prepad)].offset;
  }
  void plan_layouts();
  void plan_arena();
  void upload_weights();
  void tune(Context& c);
  std::unique_ptr<Context> make_context() const;
  Context& context_for(const void* key) const;
  void fill_descs(Descs& d, size_t layer, int64_t n) const;
  void enqueue(Context& c, cudaStream_t s, int64_t n) const;
  // Binds the context's cuDNN and cuBLAS handles to s.
  void bind(Context& c, cudaStream_t s) const;
  // Enqueues layer i; true when it is a convolution that ran as cuDNN's fused call.
  // algo: the convolution's algorithm and fusion instead of the plan's (tuning).
  bool enqueue_layer(Context& c, cudaStream_t s, int64_t n, size_t i,
                     const ConvAlgo* algo = nullptr) const;
  // The fusions layer l may use with algorithm a (kNone always among them).
  std::vector<Fuse> fusions(const Layer& l, cudnnConvolutionFwdAlgo_t a) const;
  // Milliseconds per run of layer i at batch n with choice a, timed as a graph replays it;
  // negative where cuDNN refuses the choice.
  double time_conv(Context& c, size_t i, int64_t n, const ConvAlgo& a) const;
  // Milliseconds per run of layer i at batch n (a: the convolution's choice, null: the plan's):
  // `reps` runs captured in a graph, replayed once to warm up and `launches` times timed.
  // *fused: whether the last run was cuDNN's fused call.
  double time_layer(Context& c, size_t i, int64_t n, const ConvAlgo* a, int reps, int launches,
                    bool* fused) const;
  // CUDAGO_NN_PROFILE=1: before batch n's graph is captured, times every layer on its own
  // (a graph of repeated runs of that layer alone) and writes a table to stderr.
  void profile(Context& c, int64_t n) const;
  cudaGraphExec_t graph_for(Context& c, int64_t n) const;
  // Grows the context's workspace to what the chosen algorithms need at batch n (asked of cuDNN
  // for that batch: an algorithm chosen at another batch size may need more).
  void ensure_workspace(Context& c, int64_t n) const;
  void convert_inputs(Context& c, cudaStream_t s, int64_t n,
                      const std::vector<const void*>& in) const;
  void convert_outputs(Context& c, cudaStream_t s, int64_t n, const std::vector<void*>& out) const;
  std::string cache_path() const;
  std::string conv_key(const Layer& l, int64_t n) const;
};

Geom GpuPlan::Impl::plain_geom(const std::vector<int64_t>& dims) const {
  Geom g;
  g.rank = static_cast<int>(dims.size());
  int64_t st = 1;
  for (int k = g.rank - 1; k >= 0; --k) {
    g.dims[k] = dims[static_cast<size_t>(k)];
    g.strides[k] = st;
    st *= dims[static_cast<size_t>(k)];
  }
  return g;
}

Geom GpuPlan::Impl::geom(int tensor, int64_t n) const {
  std::vector<int64_t> d = shape_at(p.tensors[tensor].shape, n);
  if (!tp[tensor].nhwc) return plain_geom(d);
  Geom g;
  g.rank = 4;
  for (int k = 0; k < 4; ++k) g.dims[k] = d[static_cast<size_t>(k)];
  int64_t cp = tp[tensor].cp, h = d[2], w = d[3];
  g.strides[0] = h * w * cp;
  g.strides[1] = 1;
  g.strides[2] = w * cp;
  g.strides[3] = cp;
  return g;
}

void GpuPlan::Impl::plan_layouts() {
  size_t nt = p.tensors.size();
  tp.assign(nt, TensorPlan{});
  std::vector<std::vector<const Layer*>> consumers(nt);
  for (const Layer& l : p.layers) {
    for (int x : l.inputs) consumers[x].push_back(&l);
  }
  for (size_t i = 0; i < nt; ++i) {
    const Shape& s = p.tensors[i].shape;
    if (s.size() > static_cast<size_t>(gpu::kMaxRank)) {
      throw Error(Status::kNotSupported,
                  "tensor '" + p.tensors[i].name + "' has rank " + std::to_string(s.size()) +
                      "; the GPU plan supports up to " + std::to_string(gpu::kMaxRank));
    }
    // 4-D tensors are NHWC, unless an axis other than the first depends on the batch.
    tp[i].nhwc = s.size() == 4 && s[1].is_constant() && s[2].is_constant() && s[3].is_constant();
    tp[i].cp = tp[i].nhwc ? s[1].b : 0;
  }
  // A model input of fewer than 8 channels read only by ungrouped convolutions is stored with 8
  // (zeros beyond), so that the stem runs on tensor cores.
  for (int in : p.inputs) {
    if (!tp[in].nhwc || tp[in].cp >= 8 || consumers[in].empty()) continue;
    bool all_conv = true;
    for (const Layer* l : consumers[in]) {
      all_conv = all_conv && l->kind == LayerKind::kConv && l->group == 1 && l->inputs[0] == in &&
                 !(l->residual && l->inputs.back() == in);
    }
    if (all_conv) tp[in].cp = 8;
  }
  for (const Layer& l : p.layers) {
    const std::string where = "layer " + l.name + " (" + l.ops + ")";
    if ((l.kind == LayerKind::kConv || l.kind == LayerKind::kPool) && !tp[l.inputs[0]].nhwc) {
      throw Error(Status::kNotSupported,
                  where + ": its input's channel or spatial axes depend on the batch size");
    }
    if (l.kind == LayerKind::kGemm && p.tensors[l.inputs[0]].shape.size() == 4) {
      throw Error(Status::kNotSupported,
                  where + ": a GEMM over a 4-D activation is not supported by the GPU plan");
    }
    if (l.kind == LayerKind::kSoftmax && l.softmax_legacy && tp[l.inputs[0]].nhwc && l.axis >= 2) {
      throw Error(Status::kNotSupported,
                  where +
                      ": an opset < 13 softmax over spatial axes of a 4-D activation is not "
                      "supported by the GPU plan");
    }
  }
}

Geom GpuPlan::Impl::conv_in_geom(size_t layer, int64_t n) const {
  const Layer& l = p.layers[layer];
  const LayerPlan& q = lp[layer];
  Geom g = geom(l.inputs[0], n);
  if (q.prepad < 0) return g;
  int64_t cp = tp[l.inputs[0]].cp;
  g.dims[2] += q.pre[0] + q.pre[2];
  g.dims[3] += q.pre[1] + q.pre[3];
  g.strides[0] = g.dims[2] * g.dims[3] * cp;
  g.strides[2] = g.dims[3] * cp;
  return g;
}

void GpuPlan::Impl::plan_arena() {
  int steps = static_cast<int>(p.layers.size()) + 2;  // 0: inputs in; L+1: outputs out
  std::vector<ArenaItem> items(p.tensors.size());
  std::vector<bool> used(p.tensors.size(), false);
  for (int in : p.inputs) {
    items[in].first = 0;
    items[in].last = 0;
    used[in] = true;
  }
  for (size_t i = 0; i < p.layers.size(); ++i) {
    const Layer& l = p.layers[i];
    int step = static_cast<int>(i) + 1;
    items[l.output].first = step;
    items[l.output].last = std::max(items[l.output].last, step);
    used[l.output] = true;
    for (int x : l.inputs) items[x].last = std::max(items[x].last, step);
  }
  for (int out : p.outputs) items[out].last = steps - 1;
  // The padded copies of asymmetric convolutions' inputs live for their layer's step.
  lp.assign(p.layers.size(), LayerPlan{});
  size_t base = items.size();
  for (size_t i = 0; i < p.layers.size(); ++i) {
    const Layer& l = p.layers[i];
    if (l.kind != LayerKind::kConv) continue;
    LayerPlan& q = lp[i];
    for (int k = 0; k < 2; ++k) {
      q.pad_sym[k] = std::min(l.pad[k], l.pad[k + 2]);
      q.pre[k] = l.pad[k] - q.pad_sym[k];
      q.pre[k + 2] = l.pad[k + 2] - q.pad_sym[k];
    }
    if (q.pre[0] + q.pre[1] + q.pre[2] + q.pre[3] == 0) continue;
    q.prepad = static_cast<int>(items.size() - base);
    Geom g = conv_in_geom(i, p.max_batch);
    ArenaItem it;
    it.bytes = g.dims[0] * g.strides[0] * esize;
    it.first = it.last = static_cast<int>(i) + 1;
    items.push_back(it);
    used.push_back(true);
  }
  for (size_t i = 0; i < p.tensors.size(); ++i) {
    if (!used[i] || i >= base) continue;
    Geom g = geom(static_cast<int>(i), p.max_batch);
    int64_t phys = 1;
    if (tp[i].nhwc) {
      phys = g.dims[0] * g.dims[2] * g.dims[3] * tp[i].cp;
    } else {
      phys = g.numel();
    }
    items[i].bytes = phys * esize;
  }
  ArenaPlan plan = ::cudago::nn::plan_arena(items, kAlign);
  for (size_t i = 0; i < p.tensors.size(); ++i) {
    tp[i].offset = plan.offsets[i];
  }
  extra.assign(items.size() - base, TensorPlan{});
  for (size_t i = base; i < items.size(); ++i) extra[i - base].offset = plan.offsets[i];
  stats.arena_bytes = plan.size;
  stats.arena_lower_bound = plan.lower_bound;
}

void GpuPlan::Impl::upload_weights() {
  // Host-side layouts (fp32), then one upload and one conversion to the plan's type per array.
  struct Piece {
    std::vector<float> data;
    bool typed;  // converted to the plan's type (else kept fp32)
    void** dst_t = nullptr;
    float** dst_f = nullptr;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < p.layers.size(); ++i) {
    const Layer& l = p.layers[i];
    LayerPlan& q = lp[i];
    if (l.kind == LayerKind::kConv) {
      needs_cudnn = true;
      int64_t cin = tp[l.inputs[0]].cp, cg = l.c / l.group, cgp = cin / l.group;
      q.cin_phys = cin;
      std::vector<float> w(static_cast<size_t>(l.k * l.r * l.s * cgp), 0.0f);
      for (int64_t k = 0; k < l.k; ++k)
        for (int64_t c = 0; c < cg; ++c)
          for (int64_t r = 0; r < l.r; ++r)
            for (int64_t s = 0; s < l.s; ++s)
              w[static_cast<size_t>(((k * l.r + r) * l.s + s) * cgp + c)] =
                  l.weight[static_cast<size_t>(((k * cg + c) * l.r + r) * l.s + s)];
      pieces.push_back({std::move(w), true, &q.weight, nullptr});
      std::vector<float> b =
          l.bias.empty() ? std::vector<float>(static_cast<size_t>(l.k), 0.0f) : l.bias;
      pieces.push_back({b, true, &q.bias_t, nullptr});
      if (!l.bias.empty()) pieces.push_back({l.bias, false, nullptr, &q.bias});
    } else if (l.kind == LayerKind::kGemm) {
      pieces.push_back({l.weight, true, &q.weight, nullptr});
      if (!l.bias.empty()) pieces.push_back({l.bias, false, nullptr, &q.bias});
    } else if (l.kind == LayerKind::kAffine) {
      pieces.push_back({l.scale, false, nullptr, &q.scale});
      pieces.push_back({l.shift, false, nullptr, &q.shift});
    } else if (l.kind == LayerKind::kBinary && l.operand) {
      pieces.push_back({l.operand->f, true, &q.weight, nullptr});
    } else if (l.kind == LayerKind::kConstant) {
      pieces.push_back({l.value->f, true, &q.weight, nullptr});
    }
  }
  int64_t total = 0, largest = 0;
  std::vector<int64_t> offs;
  for (const Piece& pc : pieces) {
    offs.push_back(total);
    int64_t bytes = static_cast<int64_t>(pc.data.size()) * (pc.typed ? esize : 4);
    total += (std::max<int64_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
    largest = std::max<int64_t>(largest, static_cast<int64_t>(pc.data.size()) * 4);
  }
  stats.weight_bytes = total;
  weights =
      DeviceBuffer::allocate(o.device, static_cast<uint64_t>(std::max<int64_t>(total, kAlign)));
  Buf staging =
      DeviceBuffer::allocate(o.device, static_cast<uint64_t>(std::max<int64_t>(largest, 4)));
  char* base = static_cast<char*>(weights->data());
  for (size_t k = 0; k < pieces.size(); ++k) {
    Piece& pc = pieces[k];
    char* dst = base + offs[k];
    size_t bytes = pc.data.size() * 4;
    if (pc.typed) {
      if (bytes) {
        CUDAGO_CUDA_TRY(cudaMemcpy(staging->data(), pc.data.data(), bytes, cudaMemcpyHostToDevice));
        gpu::convert(nullptr, GT::kF32, staging->data(), t, dst,
                     static_cast<int64_t>(pc.data.size()));
        CUDAGO_CUDA_TRY(cudaDeviceSynchronize());
      }
      *pc.dst_t = dst;
    } else {
      if (bytes) CUDAGO_CUDA_TRY(cudaMemcpy(dst, pc.data.data(), bytes, cudaMemcpyHostToDevice));
      *pc.dst_f = reinterpret_cast<float*>(dst);
    }
  }
}

std::string GpuPlan::Impl::conv_key(const Layer& l, int64_t n) const {
  const Shape& xs = p.tensors[l.inputs[0]].shape;
  std::ostringstream k;
  k << static_cast<int>(t) << ' ' << n << ' ' << tp[l.inputs[0]].cp << ' ' << xs[2].b << ' '
    << xs[3].b << ' ' << l.k << ' ' << l.r << ' ' << l.s << ' ' << l.group;
  for (int64_t v : l.pad) k << ' ' << v;
  k << ' ' << l.stride[0] << ' ' << l.stride[1] << ' ' << l.dilation[0] << ' ' << l.dilation[1]
    << ' ' << static_cast<int>(l.act.kind) << ' ' << (l.residual ? 1 : 0) << ' '
    << (cudnn_fusion ? 1 : 0);
  return k.str();
}

std::string GpuPlan::Impl::cache_path() const {
  if (o.cache_dir.empty()) return "";
  DeviceProperties props = device_properties(o.device);
  std::string name;
  for (char ch : props.name) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  char uuid[40];
  for (int i = 0; i < 16; ++i)
    std::snprintf(uuid + 2 * i, 3, "%02x", props.uuid[static_cast<size_t>(i)]);
  return o.cache_dir + "/cudago-conv-" + name + "-" + uuid + "-cudnn" +
         std::to_string(cudnn().GetVersion()) + "-cudart" + std::to_string(runtime_version()) +
         "-v2.txt";
}

void GpuPlan::Impl::fill_descs(Descs& d, size_t layer, int64_t n) const {
  const Layer& l = p.layers[layer];
  const LayerPlan& q = lp[layer];
  const CudnnApi& a = cudnn();
  d.api = &a;
  Geom gx = conv_in_geom(layer, n), gy = geom(l.output, n);
  cudnnDataType_t dt = dnn_type(t);
  CUDAGO_CUDNN_TRY(a.CreateTensorDescriptor(&d.x));
  CUDAGO_CUDNN_TRY(a.SetTensor4dDescriptor(
      d.x, CUDNN_TENSOR_NHWC, dt, static_cast<int>(gx.dims[0]), static_cast<int>(q.cin_phys),
      static_cast<int>(gx.dims[2]), static_cast<int>(gx.dims[3])));
  CUDAGO_CUDNN_TRY(a.CreateTensorDescriptor(&d.y));
  // The first dimension is the tensors' own: the run's batch, or a fixed-batch model's.
  CUDAGO_CUDNN_TRY(a.SetTensor4dDescriptor(d.y, CUDNN_TENSOR_NHWC, dt, static_cast<int>(gy.dims[0]),
                                           static_cast<int>(l.k), static_cast<int>(gy.dims[2]),
                                           static_cast<int>(gy.dims[3])));
  CUDAGO_CUDNN_TRY(a.CreateTensorDescriptor(&d.b));
  CUDAGO_CUDNN_TRY(
      a.SetTensor4dDescriptor(d.b, CUDNN_TENSOR_NHWC, dt, 1, static_cast<int>(l.k), 1, 1));
  CUDAGO_CUDNN_TRY(a.CreateFilterDescriptor(&d.w));
  CUDAGO_CUDNN_TRY(a.SetFilter4dDescriptor(d.w, dt, CUDNN_TENSOR_NHWC, static_cast<int>(l.k),
                                           static_cast<int>(q.cin_phys / l.group),
                                           static_cast<int>(l.r), static_cast<int>(l.s)));
  CUDAGO_CUDNN_TRY(a.CreateConvolutionDescriptor(&d.conv));
  // cuDNN takes one pad per spatial axis: the symmetric part (the rest is in the padded copy).
  CUDAGO_CUDNN_TRY(a.SetConvolution2dDescriptor(
      d.conv, static_cast<int>(q.pad_sym[0]), static_cast<int>(q.pad_sym[1]),
      static_cast<int>(l.stride[0]), static_cast<int>(l.stride[1]), static_cast<int>(l.dilation[0]),
      static_cast<int>(l.dilation[1]), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  CUDAGO_CUDNN_TRY(a.SetConvolutionGroupCount(d.conv, static_cast<int>(l.group)));
  CUDAGO_CUDNN_TRY(a.CreateActivationDescriptor(&d.act));
  CUDAGO_CUDNN_TRY(
      a.SetActivationDescriptor(d.act, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));
  CUDAGO_CUDNN_TRY(a.CreateActivationDescriptor(&d.identity));
  CUDAGO_CUDNN_TRY(a.SetActivationDescriptor(d.identity, CUDNN_ACTIVATION_IDENTITY,
                                             CUDNN_NOT_PROPAGATE_NAN, 0.0));
}

std::vector<Fuse> GpuPlan::Impl::fusions(const Layer& l, cudnnConvolutionFwdAlgo_t a) const {
  std::vector<Fuse> f = {Fuse::kNone};
  // cuDNN's fused call has no bf16 variant; the identity activation works with
  // IMPLICIT_PRECOMP_GEMM only (cuDNN's documentation of cudnnConvolutionBiasActivationForward).
  if (!cudnn_fusion || t == GT::kBF16) return f;
  if (l.act.kind == ActKind::kRelu) f.push_back(Fuse::kRelu);
  if (l.act.kind == ActKind::kNone && a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM) {
    f.push_back(Fuse::kIdentity);
  }
  return f;
}

double GpuPlan::Impl::time_layer(Context& c, size_t i, int64_t n, const ConvAlgo* a, int reps,
                                 int launches, bool* fused) const {
  cudaStream_t s = c.own->get();
  DescsMark mark(c.descs);
  CUDAGO_CUDA_TRY(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  try {
    for (int r = 0; r < reps; ++r) *fused = enqueue_layer(c, s, n, i, a);
  } catch (...) {
    abandon_capture(s);
    throw;
  }
  std::unique_ptr<CUgraphExec_st, cudaError_t (*)(cudaGraphExec_t)> exec(end_capture(s),
                                                                         cudaGraphExecDestroy);
  Event e0(o.device, Event::kDefault), e1(o.device, Event::kDefault);
  CUDAGO_CUDA_TRY(cudaGraphLaunch(exec.get(), s));  // warm-up
  CUDAGO_CUDA_TRY(cudaEventRecord(e0.get(), s));
  for (int k = 0; k < launches; ++k) CUDAGO_CUDA_TRY(cudaGraphLaunch(exec.get(), s));
  CUDAGO_CUDA_TRY(cudaEventRecord(e1.get(), s));
  CUDAGO_CUDA_TRY(cudaStreamSynchronize(s));
  return Event::elapsed_ms(e0, e1) / (reps * launches);
}

double GpuPlan::Impl::time_conv(Context& c, size_t i, int64_t n, const ConvAlgo& a) const {
  cudaStream_t s = c.own->get();
  // Once eagerly: cuDNN refuses a fused case here (not inside a capture), and loads its kernel.
  {
    DescsMark mark(c.descs);
    bool fused = false;
    try {
      fused = enqueue_layer(c, s, n, i, &a);
      CUDAGO_CUDA_TRY(cudaStreamSynchronize(s));
    } catch (const Error&) {
      (void)cudaGetLastError();
      return -1;
    }
    if (a.fuse != Fuse::kNone && !fused) return -1;
  }
  bool fused = false;
  return time_layer(c, i, n, &a, 4, 3, &fused);
}

void GpuPlan::Impl::tune(Context& c) {
  auto t0 = std::chrono::steady_clock::now();
  std::map<std::string, ConvAlgo> cache;
  std::string path = cache_path();
  if (!path.empty()) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      size_t bar = line.find('|');
      if (bar == std::string::npos) continue;
      std::istringstream vs(line.substr(bar + 1));
      int algo = -1, math = -1, fuse = -1;
      long long ws = -1;
      if (vs >> algo >> math >> ws >> fuse && algo >= 0 &&
          algo < CUDNN_CONVOLUTION_FWD_ALGO_COUNT && math >= 0 && math <= 3 && ws >= 0 &&
          ws <= kTuneWorkspace && fuse >= 0 && fuse <= 2) {
        cache[line.substr(0, bar)] = ConvAlgo{static_cast<cudnnConvolutionFwdAlgo_t>(algo),
                                              static_cast<cudnnMathType_t>(math),
                                              static_cast<size_t>(ws), static_cast<Fuse>(fuse)};
      }
    }
  }
  const CudnnApi& a = cudnn();
  cudaStream_t s = c.own->get();
  bind(c, s);
  // The candidates run with the tuning workspace (the largest any of them may take); the
  // context's own is sized afterwards for what was chosen.
  Buf ws;
  std::vector<std::string> fresh;
  for (size_t i = 0; i < p.layers.size(); ++i) {
    const Layer& l = p.layers[i];
    if (l.kind != LayerKind::kConv) continue;
    int64_t sizes[2] = {1, p.max_batch};
    for (int which = 0; which < 2; ++which) {
      int64_t n = sizes[which];
      std::string key = conv_key(l, n);
      auto hit = cache.find(key);
      if (hit != cache.end()) {
        lp[i].algo[which] = hit->second;
        ++stats.tune_cache_hits;
        continue;
      }
      if (!ws) {
        ws = DeviceBuffer::allocate(o.device, kTuneWorkspace);
        std::swap(ws, c.workspace);
      }
      Descs d;
      fill_descs(d, i, n);
      CUDAGO_CUDNN_TRY(
          a.SetConvolutionMathType(d.conv, t == GT::kF32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH));
      cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
      int count = 0;
      CUDAGO_CUDNN_TRY(a.FindConvolutionForwardAlgorithmEx(
          c.dnn, d.x, conv_in(c, i), d.w, lp[i].weight, d.conv, d.y, at(c, l.output),
          CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, perf, c.workspace->data(), kTuneWorkspace));
      // cuDNN's timings are of the bare convolution: the candidates (its fastest few, and
      // IMPLICIT_PRECOMP_GEMM for the fused calls) are timed again as they will run, each with
      // every fusion it allows, and the fastest kept. (cuDNN's fastest bare algorithm was a
      // slow fused one at batch 1 on an H100: IMPLICIT_GEMM without tensor cores.)
      std::vector<ConvAlgo> cands;
      for (int k = 0; k < count; ++k) {
        if (perf[k].status != CUDNN_STATUS_SUCCESS) continue;
        if (static_cast<int64_t>(perf[k].memory) > kTuneWorkspace) continue;
        // fp32 plans stay in fp32: no TF32 tensor-op algorithms.
        if (t == GT::kF32 && perf[k].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;
        bool precomp = perf[k].algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
        if (cands.size() >= 4 && !precomp) continue;
        ConvAlgo base{perf[k].algo, t == GT::kF32 ? CUDNN_FMA_MATH : perf[k].mathType,
                      perf[k].memory, Fuse::kNone};
        for (Fuse f : fusions(l, perf[k].algo)) {
          base.fuse = f;
          cands.push_back(base);
        }
      }
      ConvAlgo best;
      double best_ms = -1;
      for (const ConvAlgo& cand : cands) {
        double ms = time_conv(c, i, n, cand);
        if (ms >= 0 && (best_ms < 0 || ms < best_ms)) {
          best_ms = ms;
          best = cand;
        }
      }
      if (best_ms < 0) {
        throw Error(Status::kCudnn, "layer " + l.name + " (" + l.ops +
                                        "): cuDNN has no algorithm for this convolution");
      }
      lp[i].algo[which] = best;
      cache[key] = best;
      fresh.push_back(key);
      ++stats.tuned;
    }
  }
  if (ws) std::swap(ws, c.workspace);
  CUDAGO_CUDA_TRY(cudaDeviceSynchronize());
  if (!path.empty() && !fresh.empty()) {
    mkdir(o.cache_dir.c_str(), 0755);
    std::ofstream out(path, std::ios::app);
    for (const std::string& k : fresh) {
      const ConvAlgo& v = cache[k];
      out << k << '|' << static_cast<int>(v.algo) << ' ' << static_cast<int>(v.math) << ' '
          << v.workspace << ' ' << static_cast<int>(v.fuse) << '\n';
    }
  }
  for (const LayerPlan& q : lp) {
    workspace_bytes = std::max<int64_t>(workspace_bytes, static_cast<int64_t>(q.algo[0].workspace));
    workspace_bytes = std::max<int64_t>(workspace_bytes, static_cast<int64_t>(q.algo[1].workspace));
  }
  stats.workspace_bytes = workspace_bytes;
  stats.tune_seconds = since(t0);
}

std::unique_ptr<Context> GpuPlan::Impl::make_context() const {
  auto c = std::make_unique<Context>();
  c->device = o.device;
  DeviceGuard g(o.device);
  c->own = Stream::create(o.device, Stream::kNonBlocking, 0);
  c->arena = DeviceBuffer::allocate(
      o.device, static_cast<uint64_t>(std::max<int64_t>(stats.arena_bytes, kAlign)));
  // Zeroed once: tuning times the candidates on the arena's tensors before any run has written
  // them (compute-sanitizer's initcheck reported those reads), and a padded channel nothing
  // writes reads as 0.
  CUDAGO_CUDA_TRY(cudaMemsetAsync(c->arena->data(), 0, c->arena->size(), c->own->get()));
  CUDAGO_CUDA_TRY(cudaStreamSynchronize(c->own->get()));
  c->workspace = DeviceBuffer::allocate(
      o.device, static_cast<uint64_t>(std::max<int64_t>(workspace_bytes, kAlign)));
  c->blas_ws = DeviceBuffer::allocate(o.device, kBlasWorkspace);
  if (needs_cudnn) {
    CUDAGO_CUDNN_TRY(cudnn().Create(&c->dnn));
  }
  CUDAGO_CUBLAS_TRY(cublasCreate(&c->blas));
  CUDAGO_CUBLAS_TRY(cublasSetMathMode(c->blas, CUBLAS_DEFAULT_MATH));
  CUDAGO_CUBLAS_TRY(cublasSetWorkspace(c->blas, c->blas_ws->data(), kBlasWorkspace));
  return c;
}

Context& GpuPlan::Impl::context_for(const void* key) const {
  std::lock_guard<std::mutex> lock(contexts_mu);
  auto it = contexts.find(key);
  if (it != contexts.end()) return *it->second;
  auto c = make_context();
  Context& ref = *c;
  contexts[key] = std::move(c);
  return ref;
}

void GpuPlan::Impl::enqueue(Context& c, cudaStream_t s, int64_t n) const {
  bind(c, s);
  for (size_t i = 0; i < p.layers.size(); ++i) enqueue_layer(c, s, n, i);
}

void GpuPlan::Impl::bind(Context& c, cudaStream_t s) const {
  if (c.dnn) CUDAGO_CUDNN_TRY(cudnn().SetStream(c.dnn, s));
  CUDAGO_CUBLAS_TRY(cublasSetStream(c.blas, s));
}

bool GpuPlan::Impl::enqueue_layer(Context& c, cudaStream_t s, int64_t n, size_t i,
                                  const ConvAlgo* chosen) const {
  const CudnnApi* a = needs_cudnn ? &cudnn() : nullptr;
  const Layer& l = p.layers[i];
  const LayerPlan& q = lp[i];
  bool fused = false;
  void* y = at(c, l.output);
  const void* x = l.inputs.empty() ? nullptr : at(c, l.inputs[0]);
  const void* res = l.residual ? at(c, l.inputs.back()) : nullptr;
  Geom gy = geom(l.output, n);
  switch (l.kind) {
    case LayerKind::kConv: {
      if (q.prepad >= 0) {
        // The padded copy, physical channels included (the stem's padding ones are zeros).
        Geom gi = geom(l.inputs[0], n), gp = conv_in_geom(i, n);
        gi.dims[1] = gp.dims[1] = tp[l.inputs[0]].cp;
        gpu::MapParams mp;
        mp.mode = gpu::MapMode::kPad;
        mp.pad_begin[2] = q.pre[0];
        mp.pad_begin[3] = q.pre[1];
        gpu::map(s, t, x, gi, t, conv_in(c, i), gp, mp);
        x = conv_in(c, i);
      }
      auto d = std::make_unique<Descs>();
      fill_descs(*d, i, n);
      const ConvAlgo& algo = chosen ? *chosen : q.algo[n == 1 ? 0 : 1];
      CUDAGO_CUDNN_TRY(a->SetConvolutionMathType(d->conv, algo.math));
      float one = 1.0f, zero = 0.0f;
      // The whole workspace (ensure_workspace sized it for this batch).
      size_t ws_bytes = static_cast<size_t>(c.workspace->size());
      // cuDNN's fused bias + residual + activation where tuning found it fastest; where cuDNN
      // refuses the case (it did with CUDNN_STATUS_BAD_PARAM at some batch sizes on H100 and
      // H200), plain convolution and our epilogue.
      if (algo.fuse != Fuse::kNone) {
        float alpha2 = res ? 1.0f : 0.0f;
        cudnnStatus_t st = a->ConvolutionBiasActivationForward(
            c.dnn, &one, d->x, x, d->w, q.weight, d->conv, algo.algo, c.workspace->data(), ws_bytes,
            &alpha2, d->y, res ? res : y, d->b, q.bias_t,
            algo.fuse == Fuse::kRelu ? d->act : d->identity, d->y, y);
        if (st == CUDNN_STATUS_SUCCESS) {
          fused = true;
        } else if (st != CUDNN_STATUS_BAD_PARAM && st != CUDNN_STATUS_NOT_SUPPORTED) {
          CUDAGO_CUDNN_TRY(st);
        }
      }
      if (!fused) {
        CUDAGO_CUDNN_TRY(a->ConvolutionForward(c.dnn, &one, d->x, x, d->w, q.weight, d->conv,
                                               algo.algo, c.workspace->data(), ws_bytes, &zero,
                                               d->y, y));
        if (q.bias || res || l.act.kind != ActKind::kNone) {
          gpu::epilogue(s, t, y, gy.numel(), l.k, q.bias, res, act_of(l.act));
        }
      }
      c.descs.push_back(std::move(d));
      break;
    }
    case LayerKind::kGemm: {
      int64_t rows = geom(l.inputs[0], n).numel() / l.c;
      float one = 1.0f, zero = 0.0f;
      CUDAGO_CUBLAS_TRY(cublasGemmEx(
          c.blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(l.k), static_cast<int>(rows),
          static_cast<int>(l.c), &one, q.weight, blas_type(t), static_cast<int>(l.c), x,
          blas_type(t), static_cast<int>(l.c), &zero, y, blas_type(t), static_cast<int>(l.k),
          CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
      if (q.bias || res || l.act.kind != ActKind::kNone) {
        gpu::epilogue(s, t, y, rows * l.k, l.k, q.bias, res, act_of(l.act));
      }
      break;
    }
    case LayerKind::kPool: {
      Geom gx = geom(l.inputs[0], n);
      gpu::PoolParams pp{};
      pp.n = gx.dims[0];
      pp.c = gx.dims[1];
      pp.h = gx.dims[2];
      pp.w = gx.dims[3];
      pp.ho = gy.dims[2];
      pp.wo = gy.dims[3];
      for (int k = 0; k < 2; ++k) {
        pp.kernel[k] = l.kernel[k];
        pp.stride[k] = l.stride[k];
        pp.dilation[k] = l.dilation[k];
      }
      for (int k = 0; k < 4; ++k) pp.pad[k] = l.pad[k];
      pp.max_pool = l.max_pool;
      pp.global = l.global;
      pp.count_include_pad = l.count_include_pad;
      gpu::pool(s, t, x, y, pp);
      break;
    }
    case LayerKind::kAffine: {
      int64_t channels = gy.dims[1];
      int64_t inner = 1;
      if (!tp[l.output].nhwc) {
        for (int k = 2; k < gy.rank; ++k) inner *= gy.dims[k];
      }
      gpu::affine(s, t, x, y, gy.numel(), channels, inner, q.scale, q.shift, l.scale.size() > 1,
                  res, act_of(l.act));
      break;
    }
    case LayerKind::kBinary: {
      Geom ga = geom(l.inputs[0], n), gb;
      const void* b = nullptr;
      if (l.operand) {
        gb = plain_geom(l.operand->dims);
        b = q.weight;
      } else {
        gb = geom(l.inputs[1], n);
        b = at(c, l.inputs[1]);
      }
      const void* first = x;
      if (l.operand && l.operand_first) {
        std::swap(ga, gb);
        first = b;
        b = x;
      }
      gpu::binary(s, t, first, ga, b, gb, y, gy, static_cast<int>(l.bop), act_of(l.act));
      break;
    }
    case LayerKind::kUnary:
      gpu::activation(s, t, x, y, gy.numel(), act_of(l.act));
      break;
    case LayerKind::kSoftmax: {
      Geom gx = geom(l.inputs[0], n);
      Geom rows = gx;
      int64_t len, stride;
      if (l.softmax_legacy) {
        rows.rank = static_cast<int>(l.axis);
        if (rows.rank == 0) {
          rows.rank = 1;
          rows.dims[0] = 1;
          rows.strides[0] = 0;
        }
        len = 1;
        for (int k = static_cast<int>(l.axis); k < gx.rank; ++k) len *= gx.dims[k];
        stride = 1;
      } else {
        len = gx.dims[l.axis];
        stride = gx.strides[l.axis];
        rows.dims[l.axis] = 1;
      }
      gpu::softmax(s, t, x, y, rows, len, stride);
      break;
    }
    case LayerKind::kConcat: {
      int64_t offset = 0;
      for (int in : l.inputs) {
        Geom gi = geom(in, n);
        gpu::MapParams mp;
        mp.mode = gpu::MapMode::kScatter;
        mp.axis = static_cast<int>(l.axis);
        mp.offset = offset;
        gpu::map(s, t, at(c, in), gi, t, y, gy, mp);
        offset += gi.dims[l.axis];
      }
      break;
    }
    case LayerKind::kTranspose: {
      gpu::MapParams mp;
      mp.mode = gpu::MapMode::kTranspose;
      for (size_t k = 0; k < l.perm.size(); ++k) mp.perm[k] = l.perm[k];
      gpu::map(s, t, x, geom(l.inputs[0], n), t, y, gy, mp);
      break;
    }
    case LayerKind::kReshape: {
      gpu::MapParams mp;
      gpu::map(s, t, x, geom(l.inputs[0], n), t, y, gy, mp);
      break;
    }
    case LayerKind::kPad: {
      gpu::MapParams mp;
      mp.mode = gpu::MapMode::kPad;
      size_t r = l.pads.size() / 2;
      for (size_t k = 0; k < r; ++k) mp.pad_begin[k] = l.pads[k];
      mp.pad_mode = static_cast<int>(l.pad_mode);
      mp.pad_value = l.pad_value;
      gpu::map(s, t, x, geom(l.inputs[0], n), t, y, gy, mp);
      break;
    }
    case LayerKind::kConstant: {
      gpu::MapParams mp;
      gpu::map(s, t, q.weight, plain_geom(l.value->dims), t, y, gy, mp);
      break;
    }
  }
  return fused;
}

void GpuPlan::Impl::ensure_workspace(Context& c, int64_t n) const {
  if (!needs_cudnn) return;
  const CudnnApi& a = cudnn();
  size_t need = 0;
  for (size_t i = 0; i < p.layers.size(); ++i) {
    if (p.layers[i].kind != LayerKind::kConv) continue;
    const ConvAlgo& algo = lp[i].algo[n == 1 ? 0 : 1];
    Descs d;
    fill_descs(d, i, n);
    CUDAGO_CUDNN_TRY(a.SetConvolutionMathType(d.conv, algo.math));
    size_t bytes = 0;
    CUDAGO_CUDNN_TRY(
        a.GetConvolutionForwardWorkspaceSize(c.dnn, d.x, d.w, d.conv, d.y, algo.algo, &bytes));
    need = std::max(need, bytes);
  }
  if (c.workspace && c.workspace->size() >= need) return;
  Buf grown = DeviceBuffer::allocate(o.device, std::max<uint64_t>(need, kAlign));
  if (c.workspace) c.retired.push_back(std::move(c.workspace));
  c.workspace = std::move(grown);
}

void GpuPlan::Impl::profile(Context& c, int64_t n) const {
  constexpr int kReps = 10, kLaunches = 5;
  cudaStream_t s = c.own->get();
  {
    DescsMark mark(c.descs);
    enqueue(c, s, n);  // every layer once: lazy initialisation out of the way
    CUDAGO_CUDA_TRY(cudaStreamSynchronize(s));
  }
  struct Row {
    size_t layer;
    double ms;
    bool fused;
  };
  std::vector<Row> rows;
  double total = 0;
  std::map<std::string, double> by_kind;
  for (size_t i = 0; i < p.layers.size(); ++i) {
    bool fused = false;
    double ms = time_layer(c, i, n, nullptr, kReps, kLaunches, &fused);
    rows.push_back({i, ms, fused});
    total += ms;
    by_kind[layer_kind_name(p.layers[i].kind)] += ms;
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.ms > b.ms; });
  static const char* kPrec[] = {"fp16", "bf16", "fp32"};
  std::fprintf(stderr,
               "cudago nn profile: batch %lld, %s, %zu layers, %.4f ms in all (each layer alone, "
               "replayed in a graph; the model's own graph has no gaps between them)\n",
               static_cast<long long>(n), kPrec[static_cast<int>(t) % 3], p.layers.size(), total);
  for (const auto& [kind, ms] : by_kind) {
    std::fprintf(stderr, "  %-10s %8.4f ms %5.1f%%\n", kind.c_str(), ms, 100 * ms / total);
  }
  for (const Row& r : rows) {
    const Layer& l = p.layers[r.layer];
    std::string how;
    if (l.kind == LayerKind::kConv) {
      const ConvAlgo& a = lp[r.layer].algo[n == 1 ? 0 : 1];
      how = " [algo " + std::to_string(static_cast<int>(a.algo)) + ", math " +
            std::to_string(static_cast<int>(a.math)) +
            (r.fused ? (a.fuse == Fuse::kIdentity ? ", fused identity]" : ", fused]")
                     : ", epilogue]") +
            " c" + std::to_string(l.c) + " k" + std::to_string(l.k) + " " + std::to_string(l.r) +
            "x" + std::to_string(l.s) + " /" + std::to_string(l.stride[0]);
    }
    std::fprintf(stderr, "  %3zu %8.4f ms %5.1f%%  %s (%s)%s\n", r.layer, r.ms, 100 * r.ms / total,
                 l.name.c_str(), l.ops.c_str(), how.c_str());
  }
}

cudaGraphExec_t GpuPlan::Impl::graph_for(Context& c, int64_t n) const {
  auto it = c.graphs.find(n);
  if (it != c.graphs.end()) return it->second;
  ensure_workspace(c, n);
  cudaStream_t s = c.own->get();
  if (const char* env = std::getenv("CUDAGO_NN_PROFILE"); env && std::strcmp(env, "1") == 0) {
    profile(c, n);
  }
  auto t0 = std::chrono::steady_clock::now();
  CUDAGO_CUDA_TRY(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
  try {
    enqueue(c, s, n);
  } catch (...) {
    abandon_capture(s);
    throw;
  }
  cudaGraphExec_t exec = end_capture(s);
  c.graphs[n] = exec;
  graphs_captured.fetch_add(1, std::memory_order_relaxed);
  capture_ns.fetch_add(static_cast<int64_t>(since(t0) * 1e9), std::memory_order_relaxed);
  return exec;
}

void GpuPlan::Impl::convert_inputs(Context& c, cudaStream_t s, int64_t n,
                                   const std::vector<const void*>& in) const {
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    int tensor = p.inputs[i];
    void* dst = at(c, tensor);
    Geom g = geom(tensor, n);
    if (tp[tensor].nhwc && o.uint8_input) {
      gpu::input_u8_nhwc(s, t, static_cast<const uint8_t*>(in[i]), dst, g.dims[0], g.dims[1],
                         g.dims[2], g.dims[3], tp[tensor].cp, o.input_scale.data(),
                         o.input_shift.data());
    } else if (tp[tensor].nhwc) {
      gpu::input_nchw(s, t, static_cast<const float*>(in[i]), dst, g.dims[0], g.dims[1], g.dims[2],
                      g.dims[3], tp[tensor].cp);
    } else {
      std::vector<int64_t> d(g.dims, g.dims + g.rank);
      gpu::map(s, GT::kF32, in[i], plain_geom(d), t, dst, g, gpu::MapParams{});
    }
  }
}

void GpuPlan::Impl::convert_outputs(Context& c, cudaStream_t s, int64_t n,
                                    const std::vector<void*>& out) const {
  for (size_t i = 0; i < p.outputs.size(); ++i) {
    int tensor = p.outputs[i];
    Geom g = geom(tensor, n);
    std::vector<int64_t> d(g.dims, g.dims + g.rank);
    gpu::map(s, t, at(c, tensor), g, GT::kF32, out[i], plain_geom(d), gpu::MapParams{});
  }
}

GpuPlan::GpuPlan(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GpuPlan::~GpuPlan() {
  if (impl_) {
    DeviceGuard g(impl_->o.device);
    std::lock_guard<std::mutex> lock(impl_->contexts_mu);
    impl_->contexts.clear();
  }
}

const GpuPlanStats& GpuPlan::stats() const { return impl_->stats; }

std::unique_ptr<GpuPlan> GpuPlan::build(const Program& p, const GpuOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  require_device(o.device);
  DeviceGuard guard(o.device);
  auto impl = std::make_unique<Impl>(p);
  impl->o = o;
  impl->t = static_cast<GT>(o.precision);
  impl->esize = gpu::dtype_bytes(impl->t);
  impl->plan_layouts();
  impl->plan_arena();
  for (const Layer& l : p.layers) {
    if (l.kind != LayerKind::kConv) continue;
    if (l.c > INT32_MAX || l.k > INT32_MAX) {
      throw Error(Status::kNotSupported, "layer " + l.name + ": too many channels for cuDNN");
    }
  }
  impl->upload_weights();
  if (impl->needs_cudnn) cudnn();  // a clear Error(kCudnn) now where cuDNN is missing
  impl->stats.plan_seconds = since(t0);
  // The first context (for run_host and tuning): the arena exists, so the candidates are timed on
  // the real tensors.
  Context& c = impl->context_for(nullptr);
  if (impl->needs_cudnn) {
    impl->tune(c);
    // The workspace is known now: the first context's is resized.
    c.workspace = DeviceBuffer::allocate(
        o.device, static_cast<uint64_t>(std::max<int64_t>(impl->workspace_bytes, kAlign)));
  }
  return std::unique_ptr<GpuPlan>(new GpuPlan(std::move(impl)));
}

void GpuPlan::run(const StreamPtr& stream, int64_t n, const std::vector<const void*>& in,
                  const std::vector<void*>& out) const {
  DeviceGuard guard(impl_->o.device);
  Context& c = impl_->context_for(stream.get());
  std::lock_guard<std::mutex> lock(c.mu);
  cudaStream_t s = stream->get();
  impl_->convert_inputs(c, s, n, in);
  cudaGraphExec_t g = impl_->graph_for(c, n);
  CUDAGO_CUDA_TRY(cudaGraphLaunch(g, s));
  impl_->convert_outputs(c, s, n, out);
  // The plan's memory is freed after the runs queued with it (a model destroyed early is safe).
  c.arena->used_on(stream);
  c.workspace->used_on(stream);
  impl_->weights->used_on(stream);
}

void GpuPlan::prepare(const StreamPtr& stream, const std::vector<int64_t>& sizes) const {
  DeviceGuard guard(impl_->o.device);
  Context& c = impl_->context_for(stream.get());
  std::lock_guard<std::mutex> lock(c.mu);
  for (int64_t n : sizes) impl_->graph_for(c, n);
}

int64_t GpuPlan::graphs_captured() const {
  return impl_->graphs_captured.load(std::memory_order_relaxed);
}

double GpuPlan::capture_seconds() const {
  return static_cast<double>(impl_->capture_ns.load(std::memory_order_relaxed)) * 1e-9;
}

void GpuPlan::run_host(int64_t n, const std::vector<const void*>& in,
                       const std::vector<int64_t>& in_bytes, const std::vector<void*>& out,
                       const std::vector<int64_t>& out_bytes) const {
  DeviceGuard guard(impl_->o.device);
  Context& c = impl_->context_for(nullptr);
  std::lock_guard<std::mutex> lock(c.mu);
  cudaStream_t s = c.own->get();
  int64_t total_in = 0, total_out = 0;
  for (int64_t b : in_bytes) total_in += (b + kAlign - 1) / kAlign * kAlign;
  for (int64_t b : out_bytes) total_out += (b + kAlign - 1) / kAlign * kAlign;
  if (!c.stage_in || static_cast<int64_t>(c.stage_in->size()) < total_in) {
    c.stage_in = DeviceBuffer::allocate(impl_->o.device,
                                        static_cast<uint64_t>(std::max<int64_t>(total_in, kAlign)));
  }
  if (!c.stage_out || static_cast<int64_t>(c.stage_out->size()) < total_out) {
    c.stage_out = DeviceBuffer::allocate(
        impl_->o.device, static_cast<uint64_t>(std::max<int64_t>(total_out, kAlign)));
  }
  std::vector<const void*> din;
  std::vector<void*> dout;
  char* pi = static_cast<char*>(c.stage_in->data());
  for (size_t i = 0; i < in.size(); ++i) {
    CUDAGO_CUDA_TRY(
        cudaMemcpyAsync(pi, in[i], static_cast<size_t>(in_bytes[i]), cudaMemcpyHostToDevice, s));
    din.push_back(pi);
    pi += (in_bytes[i] + kAlign - 1) / kAlign * kAlign;
  }
  char* po = static_cast<char*>(c.stage_out->data());
  for (size_t i = 0; i < out.size(); ++i) {
    dout.push_back(po);
    po += (out_bytes[i] + kAlign - 1) / kAlign * kAlign;
  }
  impl_->convert_inputs(c, s, n, din);
  cudaGraphExec_t g = impl_->graph_for(c, n);
  CUDAGO_CUDA_TRY(cudaGraphLaunch(g, s));
  impl_->convert_outputs(c, s, n, dout);
  for (size_t i = 0; i < out.size(); ++i) {
    CUDAGO_CUDA_TRY(cudaMemcpyAsync(out[i], dout[i], static_cast<size_t>(out_bytes[i]),
                                    cudaMemcpyDeviceToHost, s));
  }
  c.own->synchronize();
}

}  // namespace cudago::nn
