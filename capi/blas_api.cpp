// cuBLAS: GEMM, GEMV and level 1.
#include <cstring>
#include <string>

#include "cudago.h"
#include "cudago/blas.hpp"
#include "guard.hpp"

using cudago::capi::guard;
using cudago::capi::handle;
using cudago::capi::out_param;
using cudago::capi::read_sized;

namespace {

cudago::DType dtype_of(int32_t t) { return static_cast<cudago::DType>(t); }

}  // namespace

extern "C" {

cudago_status_t cudago_blas_gemm(cudago_stream_t stream, const cudago_gemm_params_t* params,
                                 cudago_buffer_t a, cudago_buffer_t b, cudago_buffer_t c) {
  return guard("cudago_blas_gemm", [&] {
    cudago_gemm_params_t in = read_sized(params, "params");
    cudago::GemmParams p;
    p.layout = static_cast<cudago::BlasLayout>(in.layout);
    p.trans_a = static_cast<cudago::BlasOp>(in.trans_a);
    p.trans_b = static_cast<cudago::BlasOp>(in.trans_b);
    p.dtype = dtype_of(in.dtype);
    p.compute = static_cast<cudago::BlasCompute>(in.compute);
    p.m = in.m;
    p.n = in.n;
    p.k = in.k;
    p.alpha = in.alpha;
    p.beta = in.beta;
    p.lda = in.lda;
    p.ldb = in.ldb;
    p.ldc = in.ldc;
    p.a_offset = in.a_offset;
    p.b_offset = in.b_offset;
    p.c_offset = in.c_offset;
    p.batch = in.batch;
    p.stride_a = in.stride_a;
    p.stride_b = in.stride_b;
    p.stride_c = in.stride_c;
    cudago::gemm(handle(stream, "stream").impl, p, *handle(a, "a").impl, *handle(b, "b").impl,
                 *handle(c, "c").impl);
  });
}

cudago_status_t cudago_blas_gemv(cudago_stream_t stream, const cudago_gemv_params_t* params,
                                 cudago_buffer_t a, cudago_buffer_t x, cudago_buffer_t y) {
  return guard("cudago_blas_gemv", [&] {
    cudago_gemv_params_t in = read_sized(params, "params");
    cudago::GemvParams p;
    p.layout = static_cast<cudago::BlasLayout>(in.layout);
    p.trans = static_cast<cudago::BlasOp>(in.trans);
    p.dtype = dtype_of(in.dtype);
    p.m = in.m;
    p.n = in.n;
    p.alpha = in.alpha;
    p.beta = in.beta;
    p.lda = in.lda;
    p.incx = in.incx;
    p.incy = in.incy;
    p.a_offset = in.a_offset;
    p.x_offset = in.x_offset;
    p.y_offset = in.y_offset;
    cudago::gemv(handle(stream, "stream").impl, p, *handle(a, "a").impl, *handle(x, "x").impl,
                 *handle(y, "y").impl);
  });
}

cudago_status_t cudago_blas_axpy(cudago_stream_t stream, int32_t dtype, int64_t n, double alpha,
                                 cudago_buffer_t x, int64_t incx, cudago_buffer_t y, int64_t incy) {
  return guard("cudago_blas_axpy", [&] {
    cudago::axpy(handle(stream, "stream").impl, dtype_of(dtype), n, alpha, *handle(x, "x").impl,
                 incx, *handle(y, "y").impl, incy);
  });
}

cudago_status_t cudago_blas_scal(cudago_stream_t stream, int32_t dtype, int64_t n, double alpha,
                                 cudago_buffer_t x, int64_t incx) {
  return guard("cudago_blas_scal", [&] {
    cudago::scal(handle(stream, "stream").impl, dtype_of(dtype), n, alpha, *handle(x, "x").impl,
                 incx);
  });
}

cudago_status_t cudago_blas_dot(cudago_stream_t stream, int32_t dtype, int64_t n, cudago_buffer_t x,
                                int64_t incx, cudago_buffer_t y, int64_t incy,
                                cudago_buffer_t result, uint64_t result_offset) {
  return guard("cudago_blas_dot", [&] {
    cudago::dot(handle(stream, "stream").impl, dtype_of(dtype), n, *handle(x, "x").impl, incx,
                *handle(y, "y").impl, incy, *handle(result, "result").impl, result_offset);
  });
}

cudago_status_t cudago_blas_nrm2(cudago_stream_t stream, int32_t dtype, int64_t n,
                                 cudago_buffer_t x, int64_t incx, cudago_buffer_t result,
                                 uint64_t result_offset) {
  return guard("cudago_blas_nrm2", [&] {
    cudago::nrm2(handle(stream, "stream").impl, dtype_of(dtype), n, *handle(x, "x").impl, incx,
                 *handle(result, "result").impl, result_offset);
  });
}

}  // extern "C"
