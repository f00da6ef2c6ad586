// The hand-written tiled SGEMM.
#include "cudago.h"
#include "cudago/sgemm.hpp"
#include "guard.hpp"

using cudago::capi::guard;
using cudago::capi::handle;

extern "C" cudago_status_t cudago_gemm_tiled_f32(cudago_stream_t stream, uint64_t m, uint64_t n,
                                                 uint64_t k, float alpha, cudago_buffer_t a,
                                                 cudago_buffer_t b, float beta, cudago_buffer_t c) {
  return guard("cudago_gemm_tiled_f32", [&] {
    cudago::gemm_tiled_f32(handle(stream, "stream").impl, m, n, k, alpha, *handle(a, "a").impl,
                           *handle(b, "b").impl, beta, *handle(c, "c").impl);
  });
}
