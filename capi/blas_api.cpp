// cuBLAS: GEMM, GEMV and level 1.
#include <cstdint>
#include <string>

#include "cudago.h"
#include "cudago/blas.hpp"
#include "guard.hpp"

using cudago::capi::dtype_of;
using cudago::capi::element_offset;
using cudago::capi::guard;
using cudago::capi::handle;
using cudago::capi::read_sized;
using cudago::capi::signed_count;

namespace {

// A count the ABI documents as at least 1, where the core would take 0 as 1 (the GEMM batch,
// increments): 0 is refused, naming the parameter.
int64_t positive_count(uint64_t v, const char* name) {
  if (v == 0) {
    throw cudago::Error(cudago::Status::kInvalidArgument,
                        std::string(name) + " = 0; it must be at least 1");
  }
  return signed_count(v, name);
}

}  // namespace

extern "C" {

cudago_status_t cudago_blas_gemm(cudago_stream_t stream, cudago_buffer_t a, uint64_t a_offset,
                                 cudago_buffer_t b, uint64_t b_offset, cudago_buffer_t c,
                                 uint64_t c_offset, const cudago_gemm_params_t* params) {
  return guard("cudago_blas_gemm", [&] {
    const cudago_gemm_params_t in = read_sized(params, "params");
    cudago::GemmParams p;
    p.layout = static_cast<cudago::BlasLayout>(in.layout);
    p.trans_a = static_cast<cudago::BlasOp>(in.trans_a);
    p.trans_b = static_cast<cudago::BlasOp>(in.trans_b);
    p.dtype = dtype_of(in.dtype);
    p.compute = static_cast<cudago::BlasCompute>(in.compute);
    p.m = signed_count(in.m, "params->m");
    p.n = signed_count(in.n, "params->n");
    p.k = signed_count(in.k, "params->k");
    p.alpha = in.alpha;
    p.beta = in.beta;
    p.lda = signed_count(in.lda, "params->lda");
    p.ldb = signed_count(in.ldb, "params->ldb");
    p.ldc = signed_count(in.ldc, "params->ldc");
    p.batch = positive_count(in.batch, "params->batch");
    p.stride_a = signed_count(in.stride_a, "params->stride_a");
    p.stride_b = signed_count(in.stride_b, "params->stride_b");
    p.stride_c = signed_count(in.stride_c, "params->stride_c");
    p.a_offset = element_offset(a_offset, in.dtype, "a_offset");
    p.b_offset = element_offset(b_offset, in.dtype, "b_offset");
    p.c_offset = element_offset(c_offset, in.dtype, "c_offset");
    cudago::gemm(handle(stream, "stream").impl, p, *handle(a, "a").impl, *handle(b, "b").impl,
                 *handle(c, "c").impl);
  });
}

cudago_status_t cudago_blas_set_graph_replay(uint64_t max_entries, uint64_t max_macs) {
  return guard("cudago_blas_set_graph_replay", [&] {
    if (max_macs > cudago::kGraphReplayMaxMacsLimit) {
      throw cudago::Error(cudago::Status::kInvalidArgument,
                          "max_macs = " + std::to_string(max_macs) + " exceeds 2^40 = " +
                              std::to_string(cudago::kGraphReplayMaxMacsLimit));
    }
    cudago::set_gemm_graph_replay(max_entries, max_macs);
  });
}

cudago_status_t cudago_blas_cache_clear(void) {
  return guard("cudago_blas_cache_clear", [&] { cudago::blas_cache_clear(); });
}

cudago_status_t cudago_blas_gemv(cudago_stream_t stream, cudago_buffer_t a, uint64_t a_offset,
                                 cudago_buffer_t x, uint64_t x_offset, cudago_buffer_t y,
                                 uint64_t y_offset, const cudago_gemv_params_t* params) {
  return guard("cudago_blas_gemv", [&] {
    const cudago_gemv_params_t in = read_sized(params, "params");
    cudago::GemvParams p;
    p.layout = static_cast<cudago::BlasLayout>(in.layout);
    p.trans = static_cast<cudago::BlasOp>(in.trans);
    p.dtype = dtype_of(in.dtype);
    p.m = signed_count(in.m, "params->m");
    p.n = signed_count(in.n, "params->n");
    p.alpha = in.alpha;
    p.beta = in.beta;
    p.lda = signed_count(in.lda, "params->lda");
    p.incx = positive_count(in.incx, "params->incx");
    p.incy = positive_count(in.incy, "params->incy");
    p.a_offset = element_offset(a_offset, in.dtype, "a_offset");
    p.x_offset = element_offset(x_offset, in.dtype, "x_offset");
    p.y_offset = element_offset(y_offset, in.dtype, "y_offset");
    cudago::gemv(handle(stream, "stream").impl, p, *handle(a, "a").impl, *handle(x, "x").impl,
                 *handle(y, "y").impl);
  });
}

cudago_status_t cudago_blas_axpy(cudago_stream_t stream, double alpha, cudago_buffer_t x,
                                 uint64_t x_offset, cudago_buffer_t y, uint64_t y_offset,
                                 uint64_t n, uint64_t incx, uint64_t incy, cudago_dtype_t dtype) {
  return guard("cudago_blas_axpy", [&] {
    const uint64_t xo = element_offset(x_offset, dtype, "x_offset");
    const uint64_t yo = element_offset(y_offset, dtype, "y_offset");
    const int64_t count = signed_count(n, "n");
    const int64_t ix = positive_count(incx, "incx"), iy = positive_count(incy, "incy");
    cudago::axpy(handle(stream, "stream").impl, dtype_of(dtype), count, alpha, *handle(x, "x").impl,
                 xo, ix, *handle(y, "y").impl, yo, iy);
  });
}

cudago_status_t cudago_blas_scal(cudago_stream_t stream, double alpha, cudago_buffer_t x,
                                 uint64_t x_offset, uint64_t n, uint64_t incx,
                                 cudago_dtype_t dtype) {
  return guard("cudago_blas_scal", [&] {
    const uint64_t xo = element_offset(x_offset, dtype, "x_offset");
    const int64_t count = signed_count(n, "n");
    const int64_t ix = positive_count(incx, "incx");
    cudago::scal(handle(stream, "stream").impl, dtype_of(dtype), count, alpha, *handle(x, "x").impl,
                 xo, ix);
  });
}

cudago_status_t cudago_blas_dot(cudago_stream_t stream, cudago_buffer_t x, uint64_t x_offset,
                                cudago_buffer_t y, uint64_t y_offset, cudago_buffer_t result,
                                uint64_t result_offset, uint64_t n, uint64_t incx, uint64_t incy,
                                cudago_dtype_t dtype) {
  return guard("cudago_blas_dot", [&] {
    const uint64_t xo = element_offset(x_offset, dtype, "x_offset");
    const uint64_t yo = element_offset(y_offset, dtype, "y_offset");
    const uint64_t ro = element_offset(result_offset, dtype, "result_offset");
    const int64_t count = signed_count(n, "n");
    const int64_t ix = positive_count(incx, "incx"), iy = positive_count(incy, "incy");
    cudago::dot(handle(stream, "stream").impl, dtype_of(dtype), count, *handle(x, "x").impl, xo, ix,
                *handle(y, "y").impl, yo, iy, *handle(result, "result").impl, ro);
  });
}

cudago_status_t cudago_blas_nrm2(cudago_stream_t stream, cudago_buffer_t x, uint64_t x_offset,
                                 cudago_buffer_t result, uint64_t result_offset, uint64_t n,
                                 uint64_t incx, cudago_dtype_t dtype) {
  return guard("cudago_blas_nrm2", [&] {
    const uint64_t xo = element_offset(x_offset, dtype, "x_offset");
    const uint64_t ro = element_offset(result_offset, dtype, "result_offset");
    const int64_t count = signed_count(n, "n");
    const int64_t ix = positive_count(incx, "incx");
    cudago::nrm2(handle(stream, "stream").impl, dtype_of(dtype), count, *handle(x, "x").impl, xo,
                 ix, *handle(result, "result").impl, ro);
  });
}

}  // extern "C"
