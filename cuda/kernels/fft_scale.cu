// Normalisation of FFT outputs: multiplies the elements of an advanced cuFFT layout by a factor.
//
// Memory-bound, one read and one write per value. A packed layout is one contiguous run of
// reals and takes a flat grid-stride loop; any other layout maps each logical element
// (batch, i0, i1, i2) to its offset, so gaps between strided elements are never touched.
#include <algorithm>
#include <cstdint>

#include "cudago/error.hpp"
#include "cudago/fft.hpp"

namespace cudago {
namespace {

constexpr int kThreads = 256;
constexpr uint64_t kMaxBlocks = 1u << 16;

struct ScaleLayout {
  int64_t n1, n2;  // logical sizes of dims 1 and 2 (1 where the rank is lower)
  int64_t e1, e2;  // their embeds
  int64_t per;     // elements per transform: n0 * n1 * n2
  int64_t stride, dist;
  int comps;  // 1 (real) or 2 (complex)
};

template <class T>
__global__ void __launch_bounds__(kThreads) scale_flat(T* data, uint64_t count, T factor) {
  const uint64_t step = static_cast<uint64_t>(gridDim.x) * kThreads;
  for (uint64_t i = static_cast<uint64_t>(blockIdx.x) * kThreads + threadIdx.x; i < count;
       i += step) {
    data[i] *= factor;
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    scale_strided(T* data, uint64_t count, ScaleLayout l, T factor) {
  const uint64_t step = static_cast<uint64_t>(gridDim.x) * kThreads;
  for (uint64_t e = static_cast<uint64_t>(blockIdx.x) * kThreads + threadIdx.x; e < count;
       e += step) {
    const int64_t b = static_cast<int64_t>(e / static_cast<uint64_t>(l.per));
    int64_t r = static_cast<int64_t>(e % static_cast<uint64_t>(l.per));
    const int64_t i2 = r % l.n2;
    r /= l.n2;
    const int64_t i1 = r % l.n1;
    const int64_t i0 = r / l.n1;
    const int64_t off = b * l.dist + l.stride * ((i0 * l.e1 + i1) * l.e2 + i2);
    T* p = data + off * l.comps;
    p[0] *= factor;
    if (l.comps == 2) p[1] *= factor;
  }
}

unsigned blocks_for(uint64_t items) {
  uint64_t blocks = (items + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::max<uint64_t>(1, std::min(blocks, kMaxBlocks)));
}

template <class T>
void launch(T* data, int comps, int rank, const int64_t* dims, const int64_t* embed, int64_t stride,
            int64_t dist, int64_t batch, T factor, cudaStream_t stream) {
  ScaleLayout l{1, 1, 1, 1, 1, stride, dist, comps};
  int64_t n[3] = {1, 1, 1}, e[3] = {1, 1, 1};
  // Right-align the sizes so that dim 2 is always the contiguous one.
  for (int d = 0; d < rank; ++d) {
    n[3 - rank + d] = dims[d];
    e[3 - rank + d] = embed[d];
  }
  l.n1 = n[1];
  l.n2 = n[2];
  l.e1 = e[1];
  l.e2 = e[2];
  l.per = n[0] * n[1] * n[2];
  const uint64_t count = static_cast<uint64_t>(l.per) * static_cast<uint64_t>(batch);
  const bool packed = stride == 1 && e[1] == n[1] && e[2] == n[2] && dist == l.per;
  if (packed) {
    const uint64_t values = count * static_cast<uint64_t>(comps);
    scale_flat<T><<<blocks_for(values), kThreads, 0, stream>>>(data, values, factor);
  } else {
    scale_strided<T><<<blocks_for(count), kThreads, 0, stream>>>(data, count, l, factor);
  }
  CUDAGO_CHECK_LAUNCH();
}

}  // namespace

namespace detail {

void launch_fft_scale(void* data, DType real, int comps, int rank, const int64_t* dims,
                      const int64_t* embed, int64_t stride, int64_t dist, int64_t batch,
                      double factor, cudaStream_t stream) {
  if (real == DType::kF64) {
    launch(static_cast<double*>(data), comps, rank, dims, embed, stride, dist, batch, factor,
           stream);
  } else {
    launch(static_cast<float*>(data), comps, rank, dims, embed, stride, dist, batch,
           static_cast<float>(factor), stream);
  }
}

}  // namespace detail
}  // namespace cudago
