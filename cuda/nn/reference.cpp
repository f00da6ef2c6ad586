// The CPU reference executor: plain fp32 loops, im2col + a blocked GEMM for convolutions,
// threads over independent rows. Written to be obviously correct first, fast enough second.
#include "cudago/nn/reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <thread>

namespace cudago::nn {
namespace ref {

namespace {

int worker_count() {
  static const int n = [] {
    unsigned h = std::thread::hardware_concurrency();
    return static_cast<int>(std::clamp<unsigned>(h == 0 ? 1 : h, 1, 16));
  }();
  return n;
}

// Runs body(begin, end) over [0, n) in up to worker_count() contiguous chunks; chunks smaller
// than `grain` items are not split further.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  int64_t workers =
      std::min<int64_t>(worker_count(), std::max<int64_t>(1, n / std::max<int64_t>(grain, 1)));
  if (workers <= 1) {
    if (n > 0) body(0, n);
    return;
  }
  std::vector<std::thread> threads;
  int64_t chunk = (n + workers - 1) / workers;
  for (int64_t w = 1; w < workers; ++w) {
    int64_t b = w * chunk, e = std::min(n, b + chunk);
    if (b < e) threads.emplace_back(body, b, e);
  }
  body(0, std::min(n, chunk));
  for (auto& t : threads) t.join();
}

inline float apply(float v, const Activation& a) {
  switch (a.kind) {
    case ActKind::kNone:
      return v;
    case ActKind::kRelu:
      return v > 0 ? v : 0;
    case ActKind::kClip:
      return std::min(std::max(v, a.lo), a.hi);
    case ActKind::kSigmoid:
      return 1.0f / (1.0f + std::exp(-v));
  }
  return v;
}

}  // namespace

int64_t numel(const Dims& d) {
  int64_t n = 1;
  for (int64_t v : d) n *= v;
  return n;
}

Dims broadcast(const Dims& a, const Dims& b, const char* what) {
  size_t r = std::max(a.size(), b.size());
  Dims o(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t x = i + a.size() >= r ? a[i + a.size() - r] : 1;
    int64_t y = i + b.size() >= r ? b[i + b.size() - r] : 1;
    if (x != y && x != 1 && y != 1) {
      model_error(std::string(what) + ": shapes do not broadcast");
    }
    o[i] = x == 1 ? y : x;
  }
  return o;
}

void binary(const float* a, const Dims& ad, const float* b, const Dims& bd, float* out,
            const Dims& od, BinaryOp op) {
  size_t r = od.size();
  if (r == 0) {
    Dims one{1};
    binary(a, ad.empty() ? one : ad, b, bd.empty() ? one : bd, out, one, op);
    return;
  }
  // Element strides of a and b over the output's axes (0 where broadcast).
  std::vector<int64_t> sa(r, 0), sb(r, 0);
  int64_t st = 1;
  for (size_t k = ad.size(); k-- > 0;) {
    if (ad[k] != 1) sa[k + r - ad.size()] = st;
    st *= ad[k];
  }
  st = 1;
  for (size_t k = bd.size(); k-- > 0;) {
    if (bd[k] != 1) sb[k + r - bd.size()] = st;
    st *= bd[k];
  }
  int64_t n = numel(od);
  int64_t inner = r ? od[r - 1] : 1;
  int64_t ia = r ? sa[r - 1] : 0, ib = r ? sb[r - 1] : 0;
  std::vector<int64_t> coord(r, 0);
  for (int64_t base = 0; base < n; base += inner) {
    int64_t oa = 0, ob = 0, rem = base / inner;
    for (size_t k = r - 1; k-- > 0;) {
      int64_t c = rem % od[k];
      rem /= od[k];
      oa += c * sa[k];
      ob += c * sb[k];
    }
    float* o = out + base;
    for (int64_t j = 0; j < inner; ++j) {
      float x = a[oa + j * ia], y = b[ob + j * ib];
      switch (op) {
        case BinaryOp::kAdd:
          o[j] = x + y;
          break;
        case BinaryOp::kSub:
          o[j] = x - y;
          break;
        case BinaryOp::kMul:
          o[j] = x * y;
          break;
        case BinaryOp::kDiv:
          o[j] = x / y;
          break;
      }
    }
  }
}

void activation(float* x, int64_t n, const Activation& act) {
  if (act.kind == ActKind::kNone) return;
  for (int64_t i = 0; i < n; ++i) x[i] = apply(x[i], act);
}

void transpose(const float* x, const Dims& xd, const std::vector<int64_t>& perm, float* y) {
  size_t r = xd.size();
  std::vector<int64_t> xs(r, 1), od(r), os(r);
  for (size_t k = r; k-- > 1;) xs[k - 1] = xs[k] * xd[k];
  for (size_t k = 0; k < r; ++k) od[k] = xd[static_cast<size_t>(perm[k])];
  int64_t n = numel(xd);
  std::vector<int64_t> coord(r, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t src = 0;
    for (size_t k = 0; k < r; ++k) src += coord[k] * xs[static_cast<size_t>(perm[k])];
    y[i] = x[src];
    for (size_t k = r; k-- > 0;) {  // next output coordinate
      if (++coord[k] < od[k]) break;
      coord[k] = 0;
    }
  }
}

void gemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
          bool accumulate, bool threaded) {
  constexpr int64_t kMr = 4, kKb = 128, kNb = 256;
  if (!accumulate) std::fill(c, c + m * n, 0.0f);
  int64_t row_blocks = (m + kMr - 1) / kMr;
  auto run = threaded
                 ? parallel_for
                 : [](int64_t count, int64_t, const std::function<void(int64_t, int64_t)>& body) {
                     if (count > 0) body(0, count);
                   };
  run(row_blocks, 4, [&](int64_t rb0, int64_t rb1) {
    for (int64_t j0 = 0; j0 < n; j0 += kNb) {
      int64_t nj = std::min(kNb, n - j0);
      for (int64_t p0 = 0; p0 < k; p0 += kKb) {
        int64_t np = std::min(kKb, k - p0);
        for (int64_t rb = rb0; rb < rb1; ++rb) {
          int64_t i0 = rb * kMr, ni = std::min(kMr, m - i0);
          if (ni == kMr) {
            float* c0 = c + (i0 + 0) * n + j0;
            float* c1 = c + (i0 + 1) * n + j0;
            float* c2 = c + (i0 + 2) * n + j0;
            float* c3 = c + (i0 + 3) * n + j0;
            for (int64_t p = p0; p < p0 + np; ++p) {
              const float* bp = b + p * n + j0;
              float a0 = a[(i0 + 0) * k + p], a1 = a[(i0 + 1) * k + p];
              float a2 = a[(i0 + 2) * k + p], a3 = a[(i0 + 3) * k + p];
              for (int64_t j = 0; j < nj; ++j) {
                float bv = bp[j];
                c0[j] += a0 * bv;
                c1[j] += a1 * bv;
                c2[j] += a2 * bv;
                c3[j] += a3 * bv;
              }
            }
          } else {
            for (int64_t i = i0; i < i0 + ni; ++i) {
              float* ci = c + i * n + j0;
              for (int64_t p = p0; p < p0 + np; ++p) {
                const float* bp = b + p * n + j0;
                float av = a[i * k + p];
                for (int64_t j = 0; j < nj; ++j) ci[j] += av * bp[j];
              }
            }
          }
        }
      }
    }
  });
}

void gemm_layer(const float* x, int64_t rows, const Layer& l, const float* residual, float* y) {
  int64_t m = l.k, k = l.c;
  parallel_for(rows * m, 256, [&](int64_t b, int64_t e) {
    for (int64_t idx = b; idx < e; ++idx) {
      int64_t i = idx / m, j = idx % m;
      const float* xi = x + i * k;
      const float* wj = l.weight.data() + j * k;
      float acc = 0;
      for (int64_t p = 0; p < k; ++p) acc += xi[p] * wj[p];
      if (!l.bias.empty()) acc += l.bias[static_cast<size_t>(j)];
      if (residual) acc += residual[idx];
      y[idx] = apply(acc, l.act);
    }
  });
}

namespace {

void conv(const float* x, const Dims& xd, const Layer& l, const float* residual, float* y,
          const Dims& yd) {
  int64_t n = xd[0], c = xd[1], h = xd[2], w = xd[3];
  int64_t k = yd[1], ho = yd[2], wo = yd[3];
  int64_t g = l.group, cg = c / g, kg = k / g;
  int64_t crs = cg * l.r * l.s, hw = ho * wo;
  bool direct = l.r == 1 && l.s == 1 && l.stride[0] == 1 && l.stride[1] == 1 && l.pad[0] == 0 &&
                l.pad[1] == 0 && l.pad[2] == 0 && l.pad[3] == 0;
  // One image and group: im2col (unless the 1×1 direct path) and one GEMM. Small convolutions
  // run many of these at once, one per thread; large ones thread inside each.
  auto one = [&](int64_t b, int64_t gi, float* col, bool threaded) {
    const float* xin = x + (b * c + gi * cg) * h * w;
    const float* bmat = xin;
    if (!direct) {
      auto rows = [&](int64_t r0, int64_t r1) {
        for (int64_t row = r0; row < r1; ++row) {
          int64_t ci = row / (l.r * l.s), rr = (row / l.s) % l.r, ss = row % l.s;
          float* dst = col + row * hw;
          const float* src = xin + ci * h * w;
          for (int64_t oy = 0; oy < ho; ++oy) {
            int64_t iy = oy * l.stride[0] - l.pad[0] + rr * l.dilation[0];
            for (int64_t ox = 0; ox < wo; ++ox) {
              int64_t ix = ox * l.stride[1] - l.pad[1] + ss * l.dilation[1];
              bool in = iy >= 0 && iy < h && ix >= 0 && ix < w;
              dst[oy * wo + ox] = in ? src[iy * w + ix] : 0.0f;
            }
          }
        }
      };
      if (threaded) {
        parallel_for(crs, 8, rows);
      } else {
        rows(0, crs);
      }
      bmat = col;
    }
    float* out = y + (b * k + gi * kg) * hw;
    gemm(l.weight.data() + gi * kg * crs, bmat, out, kg, hw, crs, false, threaded);
  };
  int64_t jobs = n * g;
  bool small = kg * crs * hw < (int64_t{1} << 22);
  if (small && jobs > 1) {
    parallel_for(jobs, 1, [&](int64_t j0, int64_t j1) {
      std::vector<float> col(direct ? 0 : static_cast<size_t>(crs * hw));  // conv_scratch()
      for (int64_t j = j0; j < j1; ++j) one(j / g, j % g, col.data(), false);
    });
  } else {
    std::vector<float> col(direct ? 0 : static_cast<size_t>(crs * hw));  // conv_scratch()
    for (int64_t j = 0; j < jobs; ++j) one(j / g, j % g, col.data(), true);
  }
  int64_t total = n * k;
  parallel_for(total, 16, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      float bias = l.bias.empty() ? 0.0f : l.bias[static_cast<size_t>(p % k)];
      float* o = y + p * hw;
      const float* res = residual ? residual + p * hw : nullptr;
      for (int64_t i = 0; i < hw; ++i) o[i] = apply(o[i] + bias + (res ? res[i] : 0.0f), l.act);
    }
  });
}

void pool(const float* x, const Dims& xd, const Layer& l, float* y, const Dims& yd) {
  int64_t h = xd[2], w = xd[3], ho = yd[2], wo = yd[3];
  int64_t planes = xd[0] * xd[1];
  parallel_for(planes, 4, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* src = x + p * h * w;
      float* dst = y + p * ho * wo;
      for (int64_t oy = 0; oy < ho; ++oy) {
        for (int64_t ox = 0; ox < wo; ++ox) {
          int64_t y0 = oy * l.stride[0] - l.pad[0], x0 = ox * l.stride[1] - l.pad[1];
          if (l.global) y0 = x0 = 0;
          if (l.max_pool) {
            float m = -std::numeric_limits<float>::infinity();
            // Only the window positions inside the input (the rest is padding).
            auto range = [](int64_t start, int64_t dil, int64_t kernel, int64_t size, int64_t* lo,
                            int64_t* hi) {
              *lo = start < 0 ? (-start + dil - 1) / dil : 0;
              *hi = size - 1 - start < 0 ? 0 : std::min(kernel, (size - 1 - start) / dil + 1);
            };
            int64_t i0, i1, j0, j1;
            range(y0, l.dilation[0], l.kernel[0], h, &i0, &i1);
            range(x0, l.dilation[1], l.kernel[1], w, &j0, &j1);
            for (int64_t i = i0; i < i1; ++i) {
              int64_t iy = y0 + i * l.dilation[0];
              for (int64_t j = j0; j < j1; ++j) {
                m = std::max(m, src[iy * w + x0 + j * l.dilation[1]]);
              }
            }
            dst[oy * wo + ox] = m;
          } else {
            // The window clipped to the padded input (count_include_pad) or to the input.
            int64_t y1 = std::min(y0 + l.kernel[0], h + l.pad[2]);
            int64_t x1 = std::min(x0 + l.kernel[1], w + l.pad[3]);
            int64_t pool_size = (y1 - y0) * (x1 - x0);
            int64_t ys = std::max<int64_t>(y0, 0), xs = std::max<int64_t>(x0, 0);
            int64_t ye = std::min(y1, h), xe = std::min(x1, w);
            double s = 0;
            for (int64_t iy = ys; iy < ye; ++iy) {
              for (int64_t ix = xs; ix < xe; ++ix) s += src[iy * w + ix];
            }
            int64_t count = l.count_include_pad ? pool_size : (ye - ys) * (xe - xs);
            dst[oy * wo + ox] = count > 0 ? static_cast<float>(s / static_cast<double>(count)) : 0;
          }
        }
      }
    }
  });
}

void affine(const float* x, const Dims& xd, const Layer& l, const float* residual, float* y) {
  int64_t c = xd[1], inner = 1;
  for (size_t i = 2; i < xd.size(); ++i) inner *= xd[i];
  int64_t planes = xd[0] * c;
  bool scalar = l.scale.size() == 1;
  parallel_for(planes, 16, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      size_t ch = scalar ? 0 : static_cast<size_t>(p % c);
      float s = l.scale[ch], t = l.shift[ch];
      for (int64_t i = p * inner; i < (p + 1) * inner; ++i) {
        y[i] = apply(x[i] * s + t + (residual ? residual[i] : 0.0f), l.act);
      }
    }
  });
}

void softmax(const float* x, const Dims& xd, const Layer& l, float* y) {
  int64_t outer = 1, len = 1, inner = 1;
  size_t axis = static_cast<size_t>(l.axis);
  for (size_t i = 0; i < axis; ++i) outer *= xd[i];
  if (l.softmax_legacy) {
    for (size_t i = axis; i < xd.size(); ++i) len *= xd[i];
  } else {
    len = xd[axis];
    for (size_t i = axis + 1; i < xd.size(); ++i) inner *= xd[i];
  }
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      const float* src = x + o * len * inner + in;
      float* dst = y + o * len * inner + in;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < len; ++i) m = std::max(m, src[i * inner]);
      double sum = 0;
      for (int64_t i = 0; i < len; ++i) {
        float e = std::exp(src[i * inner] - m);
        dst[i * inner] = e;
        sum += e;
      }
      for (int64_t i = 0; i < len; ++i) dst[i * inner] = static_cast<float>(dst[i * inner] / sum);
    }
  }
}

void pad(const float* x, const Dims& xd, const Layer& l, float* y, const Dims& yd) {
  size_t r = xd.size();
  int64_t n = numel(yd);
  std::vector<int64_t> xs(r, 1);
  for (size_t k = r; k-- > 1;) xs[k - 1] = xs[k] * xd[k];
  std::vector<int64_t> coord(r, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t src = 0;
    bool inside = true;
    for (size_t k = 0; k < r; ++k) {
      int64_t c = coord[k] - l.pads[k];
      if (c < 0 || c >= xd[k]) {
        if (l.pad_mode == PadMode::kConstant) {
          inside = false;
          break;
        }
        if (l.pad_mode == PadMode::kEdge) {
          c = c < 0 ? 0 : xd[k] - 1;
        } else {  // reflect, without repeating the edge
          c = c < 0 ? -c : 2 * (xd[k] - 1) - c;
        }
      }
      src += c * xs[k];
    }
    y[i] = inside ? x[src] : l.pad_value;
    for (size_t k = r; k-- > 0;) {
      if (++coord[k] < yd[k]) break;
      coord[k] = 0;
    }
  }
}

void concat(const std::vector<const float*>& xs, const std::vector<Dims>& xds, int64_t axis,
            float* y) {
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= xds[0][static_cast<size_t>(i)];
  float* dst = y;
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t t = 0; t < xs.size(); ++t) {
      int64_t chunk = numel(xds[t]) / outer;
      std::memcpy(dst, xs[t] + o * chunk, static_cast<size_t>(chunk) * sizeof(float));
      dst += chunk;
    }
  }
}

}  // namespace
}  // namespace ref

ReferenceExecutor::ReferenceExecutor(const Program& p) : p_(p), last_use_(p.tensors.size(), -1) {
  for (size_t i = 0; i < p.layers.size(); ++i) {
    for (int t : p.layers[i].inputs) last_use_[t] = static_cast<int>(i);
  }
  for (int t : p.outputs) last_use_[t] = static_cast<int>(p.layers.size());
}

namespace {

// Floats of im2col scratch a convolution layer needs at batch n (0 for the direct 1×1 path).
int64_t conv_scratch(const Layer& l, const std::vector<int64_t>& yd) {
  bool direct = l.r == 1 && l.s == 1 && l.stride[0] == 1 && l.stride[1] == 1 && l.pad[0] == 0 &&
                l.pad[1] == 0 && l.pad[2] == 0 && l.pad[3] == 0;
  if (direct) return 0;
  // Saturating: a scratch too large for 64 bits is refused as too large for the machine.
  int64_t r = 1;
  for (int64_t f : {l.c / l.group, l.r, l.s, yd[2], yd[3]}) {
    if (__builtin_mul_overflow(r, f, &r)) return INT64_MAX / 8;
  }
  return std::min<int64_t>(r, INT64_MAX / 8);
}

}  // namespace

int64_t ReferenceExecutor::peak_bytes(int64_t n) const {
  std::vector<int64_t> held(p_.tensors.size(), 0);
  std::vector<bool> external(p_.tensors.size(), false);
  for (int t : p_.inputs) external[t] = true;
  for (int t : p_.outputs) external[t] = true;
  int64_t live = 0, peak = 0;
  for (size_t li = 0; li < p_.layers.size(); ++li) {
    const Layer& l = p_.layers[li];
    std::vector<int64_t> od = shape_at(p_.tensors[l.output].shape, n);
    if (!external[l.output]) {
      held[l.output] = ref::numel(od) * 4;
      live += held[l.output];
    }
    int64_t scratch = l.kind == LayerKind::kConv ? conv_scratch(l, od) * 4 : 0;
    peak = std::max(peak, scratch > INT64_MAX - live ? INT64_MAX : live + scratch);
    for (int t : l.inputs) {
      if (last_use_[t] == static_cast<int>(li)) {
        live -= held[t];
        held[t] = 0;
      }
    }
  }
  return peak;
}

void ReferenceExecutor::run(int64_t n, const std::vector<const float*>& inputs,
                            const std::vector<float*>& outputs) const {
  using ref::Dims;
  if (inputs.size() != p_.inputs.size() || outputs.size() != p_.outputs.size()) {
    throw Error(Status::kInvalidArgument, "wrong number of inputs or outputs");
  }
  size_t nt = p_.tensors.size();
  std::vector<const float*> ptr(nt, nullptr);
  std::vector<std::vector<float>> store(nt);
  std::vector<float*> out_ptr(nt, nullptr);
  for (size_t i = 0; i < inputs.size(); ++i) ptr[p_.inputs[i]] = inputs[i];
  for (size_t i = 0; i < outputs.size(); ++i) out_ptr[p_.outputs[i]] = outputs[i];
  auto dims = [&](int t) { return shape_at(p_.tensors[t].shape, n); };

  for (size_t li = 0; li < p_.layers.size(); ++li) {
    const Layer& l = p_.layers[li];
    Dims od = dims(l.output);
    int64_t on = ref::numel(od);
    float* y = out_ptr[l.output];
    if (y == nullptr) {
      store[l.output].resize(static_cast<size_t>(on));
      y = store[l.output].data();
    }
    const float* x = l.inputs.empty() ? nullptr : ptr[l.inputs[0]];
    Dims xd = l.inputs.empty() ? Dims{} : dims(l.inputs[0]);
    const float* res = l.residual ? ptr[l.inputs.back()] : nullptr;
    switch (l.kind) {
      case LayerKind::kConv:
        ref::conv(x, xd, l, res, y, od);
        break;
      case LayerKind::kGemm:
        ref::gemm_layer(x, ref::numel(xd) / l.c, l, res, y);
        break;
      case LayerKind::kPool:
        ref::pool(x, xd, l, y, od);
        break;
      case LayerKind::kAffine:
        ref::affine(x, xd, l, res, y);
        break;
      case LayerKind::kBinary:
        if (l.operand) {
          const Dims& cd = l.operand->dims;
          if (l.operand_first) {
            ref::binary(l.operand->f.data(), cd, x, xd, y, od, l.bop);
          } else {
            ref::binary(x, xd, l.operand->f.data(), cd, y, od, l.bop);
          }
        } else {
          ref::binary(x, xd, ptr[l.inputs[1]], dims(l.inputs[1]), y, od, l.bop);
        }
        ref::activation(y, on, l.act);
        break;
      case LayerKind::kUnary:
        std::copy(x, x + on, y);
        ref::activation(y, on, l.act);
        break;
      case LayerKind::kSoftmax:
        ref::softmax(x, xd, l, y);
        break;
      case LayerKind::kConcat: {
        std::vector<const float*> xs;
        std::vector<Dims> xds;
        for (int t : l.inputs) {
          xs.push_back(ptr[t]);
          xds.push_back(dims(t));
        }
        ref::concat(xs, xds, l.axis, y);
        break;
      }
      case LayerKind::kTranspose:
        ref::transpose(x, xd, l.perm, y);
        break;
      case LayerKind::kReshape:
        std::copy(x, x + on, y);
        break;
      case LayerKind::kPad:
        ref::pad(x, xd, l, y, od);
        break;
      case LayerKind::kConstant:
        std::copy(l.value->f.begin(), l.value->f.end(), y);
        break;
    }
    ptr[l.output] = y;
    // Free what no later layer reads.
    for (int t : l.inputs) {
      if (last_use_[t] == static_cast<int>(li)) std::vector<float>().swap(store[t]);
    }
  }
}

}  // namespace cudago::nn
