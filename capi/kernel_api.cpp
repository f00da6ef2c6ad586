// Kernels.
#include "cudago.h"
#include "cudago/kernels.hpp"
#include "guard.hpp"

using cudago::capi::guard;
using cudago::capi::handle;

extern "C" cudago_status_t cudago_vector_add_f32(cudago_stream_t stream, cudago_buffer_t a,
                                                 cudago_buffer_t b, cudago_buffer_t c, uint64_t n) {
  return guard("cudago_vector_add_f32", [&] {
    cudago::vector_add_f32(handle(stream, "stream").impl, *handle(a, "a").impl,
                           *handle(b, "b").impl, *handle(c, "c").impl, n);
  });
}
