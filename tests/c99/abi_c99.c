/*
 * abi_c99.c: proves that cudago.h is clean C99 and that libcudago keeps the contract the header
 * describes, from a program that knows nothing of C++. Built with
 * -std=c99 -Wall -Wextra -pedantic -Werror.
 *
 * Compile time: the layout of every public struct (sizeof and each field's offset) is the
 * natural C layout, fixed here as numbers, so that a change of the header that moves a field
 * breaks this build (and the Go binding, which mirrors these numbers) loudly.
 *
 * Run time: versions, status strings, the error record, argument checks and NULL handles; run-time
 * compilation to an explicit architecture (sm_90, no device needed) and its cache; with no
 * device, that creation and loading report CUDAGO_ERROR_NO_DEVICE with detail; with a device
 * (required when CUDAGO_REQUIRE_GPU=1), vector adds against a CPU loop, a pinned asynchronous
 * round trip, and a run-time compiled kernel launched directly and replayed from a captured
 * CUDA graph. Prints "c99: N passed, M failed, K skipped" and exits non-zero on any failure.
 */
#include <cudago.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Compile-time layout checks. C99 has no _Static_assert: an array of negative size is.
 * ------------------------------------------------------------------------------------------- */
#define ABI_CHECK(name, cond) typedef char abi_check_##name[(cond) ? 1 : -1]
#define ABI_SIZE(type, size) ABI_CHECK(size_##type, sizeof(type) == (size))
#define ABI_OFFSET(type, field, off) ABI_CHECK(off_##type##_##field, offsetof(type, field) == (off))

ABI_SIZE(cudago_status_t, 4);

ABI_SIZE(cudago_error_info_t, 652);
ABI_OFFSET(cudago_error_info_t, struct_size, 0);
ABI_OFFSET(cudago_error_info_t, status, 4);
ABI_OFFSET(cudago_error_info_t, native_code, 8);
ABI_OFFSET(cudago_error_info_t, native_name, 12);
ABI_OFFSET(cudago_error_info_t, operation, 76);
ABI_OFFSET(cudago_error_info_t, message, 140);

ABI_SIZE(cudago_device_properties_t, 440);
ABI_OFFSET(cudago_device_properties_t, struct_size, 0);
ABI_OFFSET(cudago_device_properties_t, ordinal, 4);
ABI_OFFSET(cudago_device_properties_t, name, 8);
ABI_OFFSET(cudago_device_properties_t, uuid, 264);
ABI_OFFSET(cudago_device_properties_t, pci_bus_id, 280);
ABI_OFFSET(cudago_device_properties_t, pci_domain, 312);
ABI_OFFSET(cudago_device_properties_t, pci_bus, 316);
ABI_OFFSET(cudago_device_properties_t, pci_device, 320);
ABI_OFFSET(cudago_device_properties_t, compute_major, 324);
ABI_OFFSET(cudago_device_properties_t, compute_minor, 328);
ABI_OFFSET(cudago_device_properties_t, multiprocessor_count, 332);
ABI_OFFSET(cudago_device_properties_t, clock_khz, 336);
ABI_OFFSET(cudago_device_properties_t, memory_clock_khz, 340);
ABI_OFFSET(cudago_device_properties_t, memory_bus_width_bits, 344);
ABI_OFFSET(cudago_device_properties_t, l2_cache_bytes, 348);
ABI_OFFSET(cudago_device_properties_t, max_threads_per_block, 352);
ABI_OFFSET(cudago_device_properties_t, max_threads_per_multiprocessor, 356);
ABI_OFFSET(cudago_device_properties_t, max_blocks_per_multiprocessor, 360);
ABI_OFFSET(cudago_device_properties_t, registers_per_multiprocessor, 364);
ABI_OFFSET(cudago_device_properties_t, warp_size, 368);
ABI_OFFSET(cudago_device_properties_t, async_engine_count, 372);
ABI_OFFSET(cudago_device_properties_t, ecc_enabled, 376);
ABI_OFFSET(cudago_device_properties_t, integrated, 380);
ABI_OFFSET(cudago_device_properties_t, can_map_host_memory, 384);
ABI_OFFSET(cudago_device_properties_t, memory_pools_supported, 388);
ABI_OFFSET(cudago_device_properties_t, stream_priority_least, 392);
ABI_OFFSET(cudago_device_properties_t, stream_priority_greatest, 396);
ABI_OFFSET(cudago_device_properties_t, total_memory_bytes, 400);
ABI_OFFSET(cudago_device_properties_t, free_memory_bytes, 408);
ABI_OFFSET(cudago_device_properties_t, shared_memory_per_block_bytes, 416);
ABI_OFFSET(cudago_device_properties_t, shared_memory_per_block_optin_bytes, 424);
ABI_OFFSET(cudago_device_properties_t, shared_memory_per_multiprocessor_bytes, 432);

ABI_SIZE(cudago_pool_config_t, 24);
ABI_OFFSET(cudago_pool_config_t, struct_size, 0);
ABI_OFFSET(cudago_pool_config_t, reserved0, 4);
ABI_OFFSET(cudago_pool_config_t, release_threshold_bytes, 8);
ABI_OFFSET(cudago_pool_config_t, reserve_bytes, 16);

ABI_SIZE(cudago_pool_stats_t, 40);
ABI_OFFSET(cudago_pool_stats_t, struct_size, 0);
ABI_OFFSET(cudago_pool_stats_t, reserved0, 4);
ABI_OFFSET(cudago_pool_stats_t, reserved_bytes, 8);
ABI_OFFSET(cudago_pool_stats_t, used_bytes, 16);
ABI_OFFSET(cudago_pool_stats_t, reserved_high_bytes, 24);
ABI_OFFSET(cudago_pool_stats_t, used_high_bytes, 32);

/* Run-time compilation. Structs holding pointers are pinned where pointers are 64-bit. */
#if UINTPTR_MAX == 0xffffffffffffffffu
ABI_SIZE(cudago_define_t, 16);
ABI_OFFSET(cudago_define_t, name, 0);
ABI_OFFSET(cudago_define_t, value, 8);

ABI_SIZE(cudago_header_t, 16);
ABI_OFFSET(cudago_header_t, name, 0);
ABI_OFFSET(cudago_header_t, content, 8);

ABI_SIZE(cudago_compile_options_t, 112);
ABI_OFFSET(cudago_compile_options_t, struct_size, 0);
ABI_OFFSET(cudago_compile_options_t, flags, 4);
ABI_OFFSET(cudago_compile_options_t, arch, 8);
ABI_OFFSET(cudago_compile_options_t, std, 16);
ABI_OFFSET(cudago_compile_options_t, defines, 24);
ABI_OFFSET(cudago_compile_options_t, num_defines, 32);
ABI_OFFSET(cudago_compile_options_t, options, 40);
ABI_OFFSET(cudago_compile_options_t, num_options, 48);
ABI_OFFSET(cudago_compile_options_t, headers, 56);
ABI_OFFSET(cudago_compile_options_t, num_headers, 64);
ABI_OFFSET(cudago_compile_options_t, name_expressions, 72);
ABI_OFFSET(cudago_compile_options_t, num_name_expressions, 80);
ABI_OFFSET(cudago_compile_options_t, log, 88);
ABI_OFFSET(cudago_compile_options_t, log_cap, 96);
ABI_OFFSET(cudago_compile_options_t, log_len, 104);

/* Frozen (docs/ABI.md): never changes within the ABI version. */
ABI_SIZE(cudago_kernel_arg_t, 56);
ABI_OFFSET(cudago_kernel_arg_t, kind, 0);
ABI_OFFSET(cudago_kernel_arg_t, reserved0, 4);
ABI_OFFSET(cudago_kernel_arg_t, size, 8);
ABI_OFFSET(cudago_kernel_arg_t, offset, 16);
ABI_OFFSET(cudago_kernel_arg_t, buffer, 24);
ABI_OFFSET(cudago_kernel_arg_t, host, 32);
ABI_OFFSET(cudago_kernel_arg_t, v, 40);
ABI_OFFSET(cudago_kernel_arg_t, bytes, 48);
#endif

ABI_SIZE(cudago_arg_value_t, 8);

ABI_SIZE(cudago_kernel_attributes_t, 48);
ABI_OFFSET(cudago_kernel_attributes_t, struct_size, 0);
ABI_OFFSET(cudago_kernel_attributes_t, num_regs, 4);
ABI_OFFSET(cudago_kernel_attributes_t, max_threads_per_block, 8);
ABI_OFFSET(cudago_kernel_attributes_t, num_params, 12);
ABI_OFFSET(cudago_kernel_attributes_t, shared_bytes, 16);
ABI_OFFSET(cudago_kernel_attributes_t, const_bytes, 24);
ABI_OFFSET(cudago_kernel_attributes_t, local_bytes, 32);
ABI_OFFSET(cudago_kernel_attributes_t, ptx_version, 40);
ABI_OFFSET(cudago_kernel_attributes_t, binary_version, 44);

ABI_SIZE(cudago_rtc_cache_stats_t, 40);
ABI_OFFSET(cudago_rtc_cache_stats_t, struct_size, 0);
ABI_OFFSET(cudago_rtc_cache_stats_t, reserved0, 4);
ABI_OFFSET(cudago_rtc_cache_stats_t, hits, 8);
ABI_OFFSET(cudago_rtc_cache_stats_t, disk_hits, 16);
ABI_OFFSET(cudago_rtc_cache_stats_t, misses, 24);
ABI_OFFSET(cudago_rtc_cache_stats_t, entries, 32);

/* Every enum is 32 bits (docs/ABI.md, section 6). */
ABI_SIZE(cudago_dtype_t, 4);
ABI_SIZE(cudago_binary_op_t, 4);
ABI_SIZE(cudago_reduce_op_t, 4);
ABI_SIZE(cudago_blas_layout_t, 4);
ABI_SIZE(cudago_blas_op_t, 4);
ABI_SIZE(cudago_blas_compute_t, 4);
ABI_SIZE(cudago_fft_type_t, 4);
ABI_SIZE(cudago_fft_direction_t, 4);
ABI_SIZE(cudago_fft_norm_t, 4);
ABI_SIZE(cudago_nccl_op_t, 4);
ABI_SIZE(cudago_arg_kind_t, 4);
ABI_SIZE(cudago_capture_mode_t, 4);

ABI_SIZE(cudago_gemm_params_t, 120);
ABI_OFFSET(cudago_gemm_params_t, struct_size, 0);
ABI_OFFSET(cudago_gemm_params_t, layout, 4);
ABI_OFFSET(cudago_gemm_params_t, trans_a, 8);
ABI_OFFSET(cudago_gemm_params_t, trans_b, 12);
ABI_OFFSET(cudago_gemm_params_t, dtype, 16);
ABI_OFFSET(cudago_gemm_params_t, compute, 20);
ABI_OFFSET(cudago_gemm_params_t, m, 24);
ABI_OFFSET(cudago_gemm_params_t, n, 32);
ABI_OFFSET(cudago_gemm_params_t, k, 40);
ABI_OFFSET(cudago_gemm_params_t, alpha, 48);
ABI_OFFSET(cudago_gemm_params_t, beta, 56);
ABI_OFFSET(cudago_gemm_params_t, lda, 64);
ABI_OFFSET(cudago_gemm_params_t, ldb, 72);
ABI_OFFSET(cudago_gemm_params_t, ldc, 80);
ABI_OFFSET(cudago_gemm_params_t, batch, 88);
ABI_OFFSET(cudago_gemm_params_t, stride_a, 96);
ABI_OFFSET(cudago_gemm_params_t, stride_b, 104);
ABI_OFFSET(cudago_gemm_params_t, stride_c, 112);

ABI_SIZE(cudago_gemv_params_t, 72);
ABI_OFFSET(cudago_gemv_params_t, struct_size, 0);
ABI_OFFSET(cudago_gemv_params_t, layout, 4);
ABI_OFFSET(cudago_gemv_params_t, trans, 8);
ABI_OFFSET(cudago_gemv_params_t, dtype, 12);
ABI_OFFSET(cudago_gemv_params_t, m, 16);
ABI_OFFSET(cudago_gemv_params_t, n, 24);
ABI_OFFSET(cudago_gemv_params_t, alpha, 32);
ABI_OFFSET(cudago_gemv_params_t, beta, 40);
ABI_OFFSET(cudago_gemv_params_t, lda, 48);
ABI_OFFSET(cudago_gemv_params_t, incx, 56);
ABI_OFFSET(cudago_gemv_params_t, incy, 64);

ABI_SIZE(cudago_fft_layout_t, 40);
ABI_OFFSET(cudago_fft_layout_t, embed, 0);
ABI_OFFSET(cudago_fft_layout_t, stride, 24);
ABI_OFFSET(cudago_fft_layout_t, dist, 32);

ABI_SIZE(cudago_fft_desc_t, 136);
ABI_OFFSET(cudago_fft_desc_t, struct_size, 0);
ABI_OFFSET(cudago_fft_desc_t, type, 4);
ABI_OFFSET(cudago_fft_desc_t, precision, 8);
ABI_OFFSET(cudago_fft_desc_t, reserved0, 12);
ABI_OFFSET(cudago_fft_desc_t, rank, 16);
ABI_OFFSET(cudago_fft_desc_t, dims, 24);
ABI_OFFSET(cudago_fft_desc_t, batch, 48);
ABI_OFFSET(cudago_fft_desc_t, in, 56);
ABI_OFFSET(cudago_fft_desc_t, out, 96);

ABI_SIZE(cudago_nccl_unique_id_t, 128);

/* The initialiser macros must be valid C99 constant initialisers. */
static const cudago_error_info_t kErrorInfoInit = CUDAGO_ERROR_INFO_INIT;
static const cudago_pool_config_t kPoolConfigInit = CUDAGO_POOL_CONFIG_INIT;
static const cudago_gemm_params_t kGemmInit = CUDAGO_GEMM_PARAMS_INIT;
static const cudago_gemv_params_t kGemvInit = CUDAGO_GEMV_PARAMS_INIT;

/* ---------------------------------------------------------------------------------------------
 * A tiny check harness.
 * ------------------------------------------------------------------------------------------- */
static int g_passed = 0;
static int g_failed = 0;
static int g_skipped = 0;

static void check(int ok, const char *what, int line) {
  if (ok) {
    g_passed++;
  } else {
    g_failed++;
    fprintf(stderr, "abi_c99.c:%d: FAILED: %s\n", line, what);
  }
}
#define CHECK(cond) check((cond) != 0, #cond, __LINE__)

/* Checks that `call` returned `want`, naming both statuses on failure. */
static void check_status(cudago_status_t got, cudago_status_t want, const char *call, int line) {
  cudago_error_info_t info = CUDAGO_ERROR_INFO_INIT;
  if (got == want) {
    g_passed++;
    return;
  }
  g_failed++;
  /* Read the detail first: it belongs to the last call on this thread. */
  if (cudago_error_last(&info) != CUDAGO_SUCCESS) info.status = CUDAGO_SUCCESS;
  fprintf(stderr, "abi_c99.c:%d: FAILED: %s\n  returned %s\n  expected %s\n", line, call,
          cudago_status_string(got), cudago_status_string(want));
  if (info.status != CUDAGO_SUCCESS) {
    fprintf(stderr, "  detail: op=%s native=%d (%s): %s\n", info.operation, info.native_code,
            info.native_name, info.message);
  }
}
#define CHECK_STATUS(call, want) check_status((call), (want), #call, __LINE__)
#define CHECK_OK(call) check_status((call), CUDAGO_SUCCESS, #call, __LINE__)

/* Reads the calling thread's last error record; returns 1 when the read itself succeeded. */
static int last_error(cudago_error_info_t *info) {
  cudago_error_info_t fresh = CUDAGO_ERROR_INFO_INIT;
  *info = fresh;
  return cudago_error_last(info) == CUDAGO_SUCCESS;
}

/* ---------------------------------------------------------------------------------------------
 * Checks that need no device.
 * ------------------------------------------------------------------------------------------- */
static void test_struct_inits(void) {
  CHECK(kErrorInfoInit.struct_size == sizeof(cudago_error_info_t));
  CHECK(kErrorInfoInit.status == 0 && kErrorInfoInit.message[0] == '\0');
  CHECK(kPoolConfigInit.struct_size == sizeof(cudago_pool_config_t));
  CHECK(kPoolConfigInit.release_threshold_bytes == 0 && kPoolConfigInit.reserve_bytes == 0);
  CHECK(kGemmInit.struct_size == sizeof(cudago_gemm_params_t));
  CHECK(kGemmInit.alpha == 1.0 && kGemmInit.beta == 0.0 && kGemmInit.batch == 1);
  CHECK(kGemmInit.layout == CUDAGO_BLAS_ROW_MAJOR && kGemmInit.dtype == CUDAGO_DTYPE_F32);
  CHECK(kGemvInit.struct_size == sizeof(cudago_gemv_params_t));
  CHECK(kGemvInit.alpha == 1.0 && kGemvInit.incx == 1 && kGemvInit.incy == 1);
  {
    cudago_fft_desc_t d;
    cudago_compile_options_t o;
    memset(&d, 0xff, sizeof d);
    memset(&o, 0xff, sizeof o);
    cudago_fft_desc_init(&d);
    cudago_compile_options_init(&o);
    CHECK(d.struct_size == sizeof d && d.batch == 1 && d.rank == 0 && d.reserved0 == 0);
    CHECK(o.struct_size == sizeof o && o.arch == NULL && o.num_defines == 0 && o.log == NULL);
    cudago_fft_desc_init(NULL); /* a no-op */
  }
}

static void test_versions(void) {
  char want[32];
  const char *got = cudago_version_string();
  int32_t runtime = -1;
  int32_t driver = -1;

  CHECK(cudago_version_number() == CUDAGO_VERSION_NUMBER);
  sprintf(want, "%d.%d.%d", CUDAGO_VERSION_MAJOR, CUDAGO_VERSION_MINOR, CUDAGO_VERSION_PATCH);
  CHECK(got != NULL);
  CHECK(got != NULL && strcmp(got, want) == 0);

  CHECK_OK(cudago_runtime_version(&runtime));
  CHECK(runtime >= 12000);
  CHECK_OK(cudago_driver_version(&driver));
  CHECK(driver >= 0);
  CHECK_STATUS(cudago_runtime_version(NULL), CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(cudago_driver_version(NULL), CUDAGO_ERROR_INVALID_ARGUMENT);
}

static void test_status_strings(void) {
  static const char *const names[] = {
      "CUDAGO_SUCCESS",
      "CUDAGO_ERROR_INVALID_ARGUMENT",
      "CUDAGO_ERROR_INVALID_HANDLE",
      "CUDAGO_ERROR_OUT_OF_RANGE",
      "CUDAGO_ERROR_NO_DEVICE",
      "CUDAGO_ERROR_INVALID_DEVICE",
      "CUDAGO_ERROR_DEVICE_MISMATCH",
      "CUDAGO_ERROR_OUT_OF_MEMORY",
      "CUDAGO_ERROR_NOT_SUPPORTED",
      "CUDAGO_ERROR_LAUNCH_FAILED",
      "CUDAGO_ERROR_KERNEL_FAULT",
      "CUDAGO_ERROR_CUDA",
      "CUDAGO_ERROR_CUBLAS",
      "CUDAGO_ERROR_CUFFT",
      "CUDAGO_ERROR_NVRTC",
      "CUDAGO_ERROR_INTERNAL",
      "CUDAGO_ERROR_NCCL",
      "CUDAGO_ERROR_CAPTURE",
  };
  enum { kCount = (int)(sizeof(names) / sizeof(names[0])) };
  const char *strings[kCount];
  int i;
  int j;
  int all_named = 1;
  int all_distinct = 1;
  const char *out_of_range;

  CHECK(kCount == CUDAGO_ERROR_CAPTURE + 1);
  for (i = 0; i < kCount; i++) {
    strings[i] = cudago_status_string((cudago_status_t)i);
    if (strings[i] == NULL || strncmp(strings[i], names[i], strlen(names[i])) != 0) {
      all_named = 0;
      fprintf(stderr, "status %d: string \"%s\" does not start with %s\n", i,
              strings[i] ? strings[i] : "(null)", names[i]);
    }
  }
  CHECK(all_named);
  for (i = 0; i < kCount; i++) {
    for (j = i + 1; j < kCount; j++) {
      if (strings[i] && strings[j] && strcmp(strings[i], strings[j]) == 0) all_distinct = 0;
    }
  }
  CHECK(all_distinct);

  out_of_range = cudago_status_string((cudago_status_t)(CUDAGO_ERROR_CAPTURE + 1));
  CHECK(out_of_range != NULL && out_of_range[0] != '\0');
  out_of_range = cudago_status_string((cudago_status_t)9999);
  CHECK(out_of_range != NULL && out_of_range[0] != '\0');
  out_of_range = cudago_status_string(CUDAGO_STATUS_FORCE32);
  CHECK(out_of_range != NULL && out_of_range[0] != '\0');
}

static void test_null_arguments(void) {
  cudago_error_info_t info;

  CHECK_STATUS(cudago_device_count(NULL), CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(cudago_stream_create(NULL, 0, CUDAGO_STREAM_DEFAULT, 0),
               CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(cudago_event_create(NULL, 0, CUDAGO_EVENT_DEFAULT), CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(cudago_buffer_alloc(NULL, 0, 16), CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(cudago_host_buffer_alloc(NULL, 0, 16, CUDAGO_HOST_PINNED),
               CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(cudago_error_last(NULL), CUDAGO_ERROR_INVALID_ARGUMENT);

  /* The failed call above left its detail behind, under its own name. */
  CHECK_STATUS(cudago_buffer_alloc(NULL, 0, 16), CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK(last_error(&info));
  CHECK(info.status == CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK(info.operation[0] != '\0');
  CHECK(info.message[0] != '\0');

  /* NULL handles are refused, not dereferenced. */
  {
    uint64_t bytes = 0;
    int32_t done = 0;
    CHECK_STATUS(cudago_buffer_size(NULL, &bytes), CUDAGO_ERROR_INVALID_HANDLE);
    CHECK_STATUS(cudago_host_buffer_size(NULL, &bytes), CUDAGO_ERROR_INVALID_HANDLE);
    CHECK_STATUS(cudago_stream_synchronize(NULL), CUDAGO_ERROR_INVALID_HANDLE);
    CHECK_STATUS(cudago_event_query(NULL, &done), CUDAGO_ERROR_INVALID_HANDLE);
  }
}

static void test_destroy_null(void) {
  CHECK_OK(cudago_stream_destroy(NULL));
  CHECK_OK(cudago_event_destroy(NULL));
  CHECK_OK(cudago_buffer_free(NULL));
  CHECK_OK(cudago_host_buffer_free(NULL));
  CHECK_OK(cudago_module_destroy(NULL));
  CHECK_OK(cudago_kernel_destroy(NULL));
  CHECK_OK(cudago_graph_destroy(NULL));
}

/* The error record: success clears it; struct_size must be a released size (an odd one is
 * refused, never half-written), and a larger one (a newer header) leaves its tail alone. */
static void test_error_record(void) {
  struct {
    cudago_error_info_t info;
    char newer[16];
  } big;
  cudago_error_info_t info;
  int32_t count = 0;
  size_t i;
  int untouched = 1;

  CHECK_OK(cudago_device_count(&count));
  CHECK(last_error(&info));
  CHECK(info.status == CUDAGO_SUCCESS);

  CHECK_STATUS(cudago_stream_create(NULL, 0, CUDAGO_STREAM_DEFAULT, 0),
               CUDAGO_ERROR_INVALID_ARGUMENT);
  memset(&info, 'x', sizeof info);
  info.struct_size = (uint32_t)offsetof(cudago_error_info_t, message);
  CHECK_STATUS(cudago_error_last(&info), CUDAGO_ERROR_INVALID_ARGUMENT);
  for (i = sizeof info.struct_size; i < sizeof info; i++) {
    if (((const unsigned char *)&info)[i] != 'x') untouched = 0;
  }
  CHECK(untouched);

  memset(&big, 'y', sizeof big);
  big.info.struct_size = (uint32_t)sizeof big;
  CHECK_OK(cudago_error_last(&big.info));
  CHECK(big.info.status == CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK(big.info.struct_size == sizeof big);
  CHECK(memchr(big.info.message, '\0', sizeof big.info.message) != NULL);
  for (i = 0; i < sizeof big.newer; i++) {
    if (big.newer[i] != 'y') untouched = 0;
  }
  CHECK(untouched);

  cudago_error_info_init(&info);
  CHECK(info.struct_size == sizeof info && info.status == 0 && info.message[0] == '\0');
}

/* Run-time compiled kernels: y = a * x + y, and one that does not compile. */
static const char kAxpbSource[] =
    "extern \"C\" __global__ void axpb(float a, const float* x, float* y, int n) {\n"
    "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "  if (i < n) y[i] = a * x[i] + y[i];\n"
    "}\n";
static const char kBadSource[] =
    "extern \"C\" __global__ void bad(float* y) {\n"
    "  undeclared_thing(y);\n"
    "}\n";

static cudago_compile_options_t compile_options(const char *arch) {
  cudago_compile_options_t o;
  cudago_compile_options_init(&o);
  o.arch = arch;
  return o;
}

static cudago_rtc_cache_stats_t rtc_cache_stats(void) {
  cudago_rtc_cache_stats_t s;
  cudago_rtc_cache_stats_init(&s);
  CHECK_OK(cudago_rtc_cache_stats(&s));
  return s;
}

/* Compile-only to an explicit architecture needs no device; the cache; argument checks; NULL
 * handles of modules and kernels. */
static void test_rtc_compile(void) {
  cudago_compile_options_t o = compile_options("sm_90");
  cudago_compile_options_t no_arch = compile_options(NULL);
  cudago_rtc_cache_stats_t stats;
  cudago_kernel_attributes_t attrs;
  cudago_error_info_t info;
  cudago_module_t module = NULL;
  cudago_kernel_t kernel = NULL;
  unsigned char *image = NULL;
  uint64_t len = 0;
  uint64_t len2 = 0;
  char log[4096];
  uint64_t log_len = 0;
  int32_t device = -1;
  int32_t block = 0;
  int32_t grid = 0;
  const uint64_t dims[3] = {1, 1, 1};

  /* Count, then fill: a CUBIN is an ELF image. */
  o.flags = CUDAGO_COMPILE_NO_CACHE;
  CHECK_OK(cudago_rtc_compile(kAxpbSource, &o, NULL, 0, &len));
  CHECK(len > 4);
  if (len > 4) image = (unsigned char *)malloc(len);
  if (image != NULL) {
    memset(image, 0, len);
    CHECK_OK(cudago_rtc_compile(kAxpbSource, &o, image, 3, &len2)); /* too small: size only */
    CHECK(len2 == len && image[0] == 0);
    CHECK_OK(cudago_rtc_compile(kAxpbSource, &o, image, len, &len2));
    CHECK(len2 == len);
    CHECK(image[0] == 0x7f && image[1] == 'E' && image[2] == 'L' && image[3] == 'F');
    free(image);
  }

  /* The memory cache: one miss, then one hit. */
  o.flags = 0;
  CHECK_OK(cudago_rtc_cache_set_dir(NULL));
  CHECK_OK(cudago_rtc_cache_clear());
  stats = rtc_cache_stats();
  CHECK(stats.hits == 0 && stats.misses == 0 && stats.entries == 0);
  CHECK_OK(cudago_rtc_compile(kAxpbSource, &o, NULL, 0, &len));
  CHECK_OK(cudago_rtc_compile(kAxpbSource, &o, NULL, 0, &len2));
  CHECK(len > 0 && len2 == len);
  stats = rtc_cache_stats();
  CHECK(stats.misses == 1 && stats.hits == 1 && stats.entries == 1);
  CHECK_OK(cudago_rtc_cache_clear());
  CHECK(rtc_cache_stats().entries == 0);

  CHECK_STATUS(cudago_rtc_cache_stats(NULL), CUDAGO_ERROR_INVALID_ARGUMENT);
  stats.struct_size = 0;
  CHECK_STATUS(cudago_rtc_cache_stats(&stats), CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(cudago_rtc_compile(kAxpbSource, NULL, NULL, 0, &len), CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(cudago_rtc_compile(kAxpbSource, &no_arch, NULL, 0, &len),
               CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(cudago_rtc_compile(kAxpbSource, &o, NULL, 0, NULL), CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(cudago_rtc_compile(NULL, &o, NULL, 0, &len), CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(cudago_module_compile(NULL, 0, kAxpbSource, &o), CUDAGO_ERROR_INVALID_ARGUMENT);

  /* A compile error: NVRTC's status, with the whole log in opts->log. */
  log[0] = '\0';
  o.log = log;
  o.log_cap = sizeof log;
  o.log_len = &log_len;
  CHECK_STATUS(cudago_rtc_compile(kBadSource, &o, NULL, 0, &len), CUDAGO_ERROR_NVRTC);
  CHECK(last_error(&info));
  CHECK(info.status == CUDAGO_ERROR_NVRTC);
  CHECK(log_len > 0 && log_len == strlen(log));
  CHECK(strstr(log, "undeclared_thing") != NULL);

  /* NULL handles are refused, not dereferenced. */
  CHECK_STATUS(cudago_module_kernel(&kernel, module, "axpb"), CUDAGO_ERROR_INVALID_HANDLE);
  CHECK(kernel == NULL);
  CHECK_STATUS(cudago_module_log(NULL, log, sizeof log, &log_len), CUDAGO_ERROR_INVALID_HANDLE);
  CHECK_STATUS(cudago_module_device(NULL, &device), CUDAGO_ERROR_INVALID_HANDLE);
  cudago_kernel_attributes_init(&attrs);
  CHECK_STATUS(cudago_kernel_attributes(NULL, &attrs), CUDAGO_ERROR_INVALID_HANDLE);
  CHECK_STATUS(cudago_kernel_occupancy(NULL, 0, &block, &grid), CUDAGO_ERROR_INVALID_HANDLE);
  CHECK_STATUS(cudago_kernel_launch(NULL, NULL, NULL, 0, dims, dims, 0),
               CUDAGO_ERROR_INVALID_HANDLE);
}

/* Graph calls with NULL handles. */
static void test_graph_null_handles(void) {
  cudago_graph_t graph = (cudago_graph_t)&g_passed; /* any non-NULL value: must be reset */
  int32_t capturing = -1;
  uint64_t nodes = 0;
  int32_t device = -1;
  cudago_error_info_t info;

  CHECK(CUDAGO_CAPTURE_THREAD_LOCAL == 0 && CUDAGO_CAPTURE_GLOBAL == 1 &&
        CUDAGO_CAPTURE_RELAXED == 2);
  CHECK_STATUS(cudago_stream_begin_capture(NULL, CUDAGO_CAPTURE_THREAD_LOCAL),
               CUDAGO_ERROR_INVALID_HANDLE);
  CHECK_STATUS(cudago_stream_end_capture(NULL, &graph), CUDAGO_ERROR_INVALID_HANDLE);
  CHECK(graph == NULL);
  CHECK_STATUS(cudago_stream_is_capturing(NULL, &capturing), CUDAGO_ERROR_INVALID_HANDLE);
  CHECK_STATUS(cudago_graph_launch(NULL, NULL), CUDAGO_ERROR_INVALID_HANDLE);
  CHECK(last_error(&info));
  CHECK(info.status == CUDAGO_ERROR_INVALID_HANDLE);
  CHECK(strcmp(info.operation, "cudago_graph_launch") == 0);
  CHECK_STATUS(cudago_graph_upload(NULL, NULL), CUDAGO_ERROR_INVALID_HANDLE);
  CHECK_STATUS(cudago_graph_update(NULL, NULL), CUDAGO_ERROR_INVALID_HANDLE);
  CHECK_STATUS(cudago_graph_node_count(NULL, &nodes), CUDAGO_ERROR_INVALID_HANDLE);
  CHECK_STATUS(cudago_graph_device(NULL, &device), CUDAGO_ERROR_INVALID_HANDLE);
}

static void test_no_device(void) {
  cudago_stream_t stream = NULL;
  cudago_buffer_t buffer = NULL;
  cudago_host_buffer_t host = NULL;
  cudago_module_t module = NULL;
  cudago_compile_options_t sm90 = compile_options("sm_90");
  cudago_error_info_t info;
  const char *reason = cudago_no_device_reason();

  CHECK(reason != NULL && reason[0] != '\0');

  CHECK_STATUS(cudago_stream_create(&stream, 0, CUDAGO_STREAM_DEFAULT, 0), CUDAGO_ERROR_NO_DEVICE);
  CHECK(stream == NULL);
  CHECK(last_error(&info));
  CHECK(info.status == CUDAGO_ERROR_NO_DEVICE);
  CHECK(info.message[0] != '\0');
  CHECK(info.operation[0] != '\0');

  CHECK_STATUS(cudago_buffer_alloc(&buffer, 0, 1024), CUDAGO_ERROR_NO_DEVICE);
  CHECK(buffer == NULL);
  CHECK(last_error(&info));
  CHECK(info.status == CUDAGO_ERROR_NO_DEVICE);
  CHECK(info.message[0] != '\0');
  CHECK(info.operation[0] != '\0');

  CHECK_STATUS(cudago_host_buffer_alloc(&host, 0, 1024, CUDAGO_HOST_PINNED),
               CUDAGO_ERROR_NO_DEVICE);
  CHECK(host == NULL);
  CHECK(last_error(&info));
  CHECK(info.status == CUDAGO_ERROR_NO_DEVICE);
  CHECK(info.message[0] != '\0');
  CHECK(info.operation[0] != '\0');

  /* Compiling for a device needs its architecture; with an explicit one the compile works but
   * loading still needs the device. */
  CHECK_STATUS(cudago_module_compile(&module, 0, kAxpbSource, NULL), CUDAGO_ERROR_NO_DEVICE);
  CHECK(module == NULL);
  CHECK_STATUS(cudago_module_compile(&module, 0, kAxpbSource, &sm90), CUDAGO_ERROR_NO_DEVICE);
  CHECK(module == NULL);
  CHECK(last_error(&info));
  CHECK(info.status == CUDAGO_ERROR_NO_DEVICE);
  CHECK(strcmp(info.operation, "cudago_module_compile") == 0);
}

/* ---------------------------------------------------------------------------------------------
 * Checks on a device.
 * ------------------------------------------------------------------------------------------- */
static void fill_inputs(float *a, float *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    a[i] = (float)(i % 1000) * 0.25f - 17.0f;
    b[i] = 1.0f / (float)(i % 997 + 1);
  }
}

/* c = a + b over n floats from the start of each buffer: the general elementwise operation. */
static cudago_status_t add_f32(cudago_stream_t stream, cudago_buffer_t a, cudago_buffer_t b,
                               cudago_buffer_t c, uint64_t n) {
  return cudago_elementwise_binary(stream, a, 0, b, 0, c, 0, n, CUDAGO_DTYPE_F32,
                                   CUDAGO_BINARY_ADD);
}

/* Counts elements where c != a + b. Float addition is exact IEEE rounding on both sides. */
static size_t count_wrong(const float *a, const float *b, const float *c, size_t n) {
  size_t i;
  size_t wrong = 0;
  for (i = 0; i < n; i++) {
    if (c[i] != a[i] + b[i]) wrong++;
  }
  return wrong;
}

/* Vector add through synchronous copies from ordinary host memory. */
static void test_vector_add_sync(cudago_stream_t stream, size_t n) {
  uint64_t bytes = (uint64_t)n * sizeof(float);
  float *a = (float *)malloc(n * sizeof(float));
  float *b = (float *)malloc(n * sizeof(float));
  float *c = (float *)malloc(n * sizeof(float));
  cudago_buffer_t da = NULL;
  cudago_buffer_t db = NULL;
  cudago_buffer_t dc = NULL;
  uint64_t size = 0;

  CHECK(a != NULL && b != NULL && c != NULL);
  if (a == NULL || b == NULL || c == NULL) goto done;
  fill_inputs(a, b, n);
  memset(c, 0xff, n * sizeof(float)); /* NaN: an unwritten element cannot pass */

  CHECK_OK(cudago_buffer_alloc(&da, 0, bytes));
  CHECK_OK(cudago_buffer_alloc(&db, 0, bytes));
  CHECK_OK(cudago_buffer_alloc(&dc, 0, bytes));
  if (da == NULL || db == NULL || dc == NULL) goto done;
  CHECK_OK(cudago_buffer_size(da, &size));
  CHECK(size == bytes);

  CHECK_OK(cudago_copy_h2d(a, da, 0, bytes));
  CHECK_OK(cudago_copy_h2d(b, db, 0, bytes));
  CHECK_OK(cudago_memset(0xff, dc, 0, bytes));
  CHECK_OK(add_f32(stream, da, db, dc, n));
  CHECK_OK(cudago_stream_synchronize(stream));
  CHECK_OK(cudago_copy_d2h(dc, 0, c, bytes));
  {
    size_t wrong = count_wrong(a, b, c, n);
    if (wrong != 0)
      fprintf(stderr, "vector add n=%lu: %lu wrong\n", (unsigned long)n, (unsigned long)wrong);
    CHECK(wrong == 0);
  }

  /* Out of range is refused, not written. */
  CHECK_STATUS(cudago_copy_h2d(a, da, 4, bytes), CUDAGO_ERROR_OUT_OF_RANGE);
  CHECK_STATUS(add_f32(stream, da, db, dc, (uint64_t)n + 1), CUDAGO_ERROR_OUT_OF_RANGE);

done:
  CHECK_OK(cudago_buffer_free(da));
  CHECK_OK(cudago_buffer_free(db));
  CHECK_OK(cudago_buffer_free(dc));
  free(a);
  free(b);
  free(c);
}

/* Pinned host buffers, stream-ordered allocation and asynchronous copies, timed with events. */
static void test_pinned_async_round_trip(cudago_stream_t stream, size_t n) {
  uint64_t bytes = (uint64_t)n * sizeof(float);
  cudago_host_buffer_t ha = NULL;
  cudago_host_buffer_t hb = NULL;
  cudago_host_buffer_t hc = NULL;
  cudago_buffer_t da = NULL;
  cudago_buffer_t db = NULL;
  cudago_buffer_t dc = NULL;
  cudago_event_t start = NULL;
  cudago_event_t stop = NULL;
  void *pa = NULL;
  void *pb = NULL;
  void *pc = NULL;
  float ms = -1.0f;

  CHECK_OK(cudago_host_buffer_alloc(&ha, 0, bytes, CUDAGO_HOST_PINNED));
  CHECK_OK(cudago_host_buffer_alloc(&hb, 0, bytes, CUDAGO_HOST_PINNED));
  CHECK_OK(cudago_host_buffer_alloc(&hc, 0, bytes, CUDAGO_HOST_PINNED));
  if (ha == NULL || hb == NULL || hc == NULL) goto done;
  CHECK_OK(cudago_host_buffer_host_pointer(ha, &pa));
  CHECK_OK(cudago_host_buffer_host_pointer(hb, &pb));
  CHECK_OK(cudago_host_buffer_host_pointer(hc, &pc));
  if (pa == NULL || pb == NULL || pc == NULL) goto done;
  fill_inputs((float *)pa, (float *)pb, n);
  memset(pc, 0xff, bytes);

  CHECK_OK(cudago_event_create(&start, 0, CUDAGO_EVENT_DEFAULT));
  CHECK_OK(cudago_event_create(&stop, 0, CUDAGO_EVENT_DEFAULT));
  CHECK_OK(cudago_buffer_alloc_async(&da, stream, bytes));
  CHECK_OK(cudago_buffer_alloc_async(&db, stream, bytes));
  CHECK_OK(cudago_buffer_alloc_async(&dc, stream, bytes));
  if (da == NULL || db == NULL || dc == NULL || start == NULL || stop == NULL) goto done;

  CHECK_OK(cudago_event_record(start, stream));
  CHECK_OK(cudago_copy_h2d_async(stream, ha, 0, da, 0, bytes));
  CHECK_OK(cudago_copy_h2d_async(stream, hb, 0, db, 0, bytes));
  CHECK_OK(cudago_memset_async(stream, 0xff, dc, 0, bytes));
  CHECK_OK(add_f32(stream, da, db, dc, n));
  CHECK_OK(cudago_copy_d2h_async(stream, dc, 0, hc, 0, bytes));
  CHECK_OK(cudago_event_record(stop, stream));
  CHECK_OK(cudago_stream_synchronize(stream));
  CHECK_OK(cudago_event_elapsed_ms(start, stop, &ms));
  CHECK(ms >= 0.0f);
  {
    size_t wrong = count_wrong((const float *)pa, (const float *)pb, (const float *)pc, n);
    if (wrong != 0)
      fprintf(stderr, "async round trip n=%lu: %lu wrong\n", (unsigned long)n,
              (unsigned long)wrong);
    CHECK(wrong == 0);
  }

  /* Bytes back exactly as they went: H2D then D2H of a, through a device-to-device copy. */
  memset(pc, 0, bytes);
  CHECK_OK(cudago_copy_d2d_async(stream, da, 0, dc, 0, bytes));
  CHECK_OK(cudago_copy_d2h_async(stream, dc, 0, hc, 0, bytes));
  CHECK_OK(cudago_stream_synchronize(stream));
  CHECK(memcmp(pa, pc, bytes) == 0);

done:
  /* Freed in stream order; host buffers wait for queued work before release. */
  CHECK_OK(cudago_buffer_free(da));
  CHECK_OK(cudago_buffer_free(db));
  CHECK_OK(cudago_buffer_free(dc));
  CHECK_OK(cudago_host_buffer_free(ha));
  CHECK_OK(cudago_host_buffer_free(hb));
  CHECK_OK(cudago_host_buffer_free(hc));
  CHECK_OK(cudago_event_destroy(start));
  CHECK_OK(cudago_event_destroy(stop));
}

/* y = 2 x + y0: 2 x is exact, so the GPU's fused multiply-add and the CPU's two operations
 * round alike. Returns the number of elements that differ. */
static size_t count_wrong_axpb(const float *x, const float *y0, const float *y, size_t n) {
  size_t i;
  size_t wrong = 0;
  for (i = 0; i < n; i++) {
    if (y[i] != 2.0f * x[i] + y0[i]) wrong++;
  }
  return wrong;
}

/* A run-time compiled kernel launched directly, then captured (with a reset of y) into a graph
 * that is replayed; a synchronous copy inside a capture fails it. */
static void test_rtc_and_graph(cudago_stream_t stream) {
  enum { kN = 4099 };
  const uint64_t bytes = (uint64_t)kN * sizeof(float);
  const uint64_t grid[3] = {(kN + 255) / 256, 1, 1};
  const uint64_t block[3] = {256, 1, 1};
  float *x = (float *)malloc(bytes);
  float *y0 = (float *)malloc(bytes);
  float *y = (float *)malloc(bytes);
  cudago_module_t module = NULL;
  cudago_kernel_t kernel = NULL;
  cudago_kernel_t missing = NULL;
  cudago_graph_t graph = NULL;
  cudago_graph_t failed = NULL;
  cudago_buffer_t dx = NULL;
  cudago_buffer_t dy = NULL;
  cudago_buffer_t dy0 = NULL;
  cudago_kernel_arg_t args[4];
  cudago_kernel_attributes_t attrs;
  cudago_rtc_cache_stats_t stats;
  int32_t capturing = -1;
  int32_t device = -1;
  uint64_t nodes = 0;
  size_t wrong;

  CHECK(x != NULL && y0 != NULL && y != NULL);
  if (x == NULL || y0 == NULL || y == NULL) goto done;
  fill_inputs(x, y0, kN);

  CHECK_OK(cudago_module_compile(&module, 0, kAxpbSource, NULL));
  if (module == NULL) goto done;
  stats = rtc_cache_stats();
  CHECK(stats.misses + stats.hits + stats.disk_hits >= 1); /* it went through the cache */
  CHECK_OK(cudago_module_device(module, &device));
  CHECK(device == 0);
  CHECK_OK(cudago_module_kernel(&kernel, module, "axpb"));
  CHECK_STATUS(cudago_module_kernel(&missing, module, "nope"), CUDAGO_ERROR_INVALID_ARGUMENT);
  CHECK(missing == NULL);
  if (kernel == NULL) goto done;
  cudago_kernel_attributes_init(&attrs);
  CHECK_OK(cudago_kernel_attributes(kernel, &attrs));
  CHECK(attrs.num_params == 4 || attrs.num_params == -1);
  CHECK(attrs.max_threads_per_block >= 256);
  CHECK(attrs.num_regs > 0);

  CHECK_OK(cudago_buffer_alloc(&dx, 0, bytes));
  CHECK_OK(cudago_buffer_alloc(&dy, 0, bytes));
  CHECK_OK(cudago_buffer_alloc(&dy0, 0, bytes));
  if (dx == NULL || dy == NULL || dy0 == NULL) goto done;
  CHECK_OK(cudago_copy_h2d(x, dx, 0, bytes));
  CHECK_OK(cudago_copy_h2d(y0, dy0, 0, bytes));

  memset(args, 0, sizeof args);
  args[0].kind = CUDAGO_ARG_F32;
  args[0].v.f = 2.0;
  args[1].kind = CUDAGO_ARG_BUFFER;
  args[1].buffer = dx;
  args[2].kind = CUDAGO_ARG_BUFFER;
  args[2].buffer = dy;
  args[3].kind = CUDAGO_ARG_I32;
  args[3].v.i = kN;

  /* Directly. */
  CHECK_OK(cudago_copy_d2d(dy0, 0, dy, 0, bytes));
  CHECK_OK(cudago_kernel_launch(kernel, stream, args, 4, grid, block, 0));
  CHECK_OK(cudago_stream_synchronize(stream));
  memset(y, 0xff, bytes);
  CHECK_OK(cudago_copy_d2h(dy, 0, y, bytes));
  wrong = count_wrong_axpb(x, y0, y, kN);
  if (wrong != 0) fprintf(stderr, "rtc kernel: %lu wrong\n", (unsigned long)wrong);
  CHECK(wrong == 0);
  if (attrs.num_params == 4) { /* with -1 the count is unchecked: the launch would run */
    CHECK_STATUS(cudago_kernel_launch(kernel, stream, args, 3, grid, block, 0),
                 CUDAGO_ERROR_INVALID_ARGUMENT);
  }

  /* Captured: nothing runs until the graph is launched. */
  CHECK_OK(cudago_memset(0xff, dy, 0, bytes));
  CHECK_OK(cudago_stream_begin_capture(stream, CUDAGO_CAPTURE_THREAD_LOCAL));
  CHECK_OK(cudago_stream_is_capturing(stream, &capturing));
  CHECK(capturing == 1);
  CHECK_OK(cudago_copy_d2d_async(stream, dy0, 0, dy, 0, bytes));
  CHECK_OK(cudago_kernel_launch(kernel, stream, args, 4, grid, block, 0));
  CHECK_OK(cudago_stream_end_capture(stream, &graph));
  CHECK_OK(cudago_stream_is_capturing(stream, &capturing));
  CHECK(capturing == 0);
  if (graph == NULL) goto done;
  CHECK_OK(cudago_graph_node_count(graph, &nodes));
  CHECK(nodes >= 2); /* the copy and the kernel */
  device = -1;
  CHECK_OK(cudago_graph_device(graph, &device));
  CHECK(device == 0);
  CHECK_OK(cudago_stream_synchronize(stream));
  memset(y, 0, bytes);
  CHECK_OK(cudago_copy_d2h(dy, 0, y, bytes));
  CHECK(count_wrong_axpb(x, y0, y, kN) == kN); /* still the 0xff poison */

  /* Replayed twice: each replay resets y, so both give 2 x + y0. */
  CHECK_OK(cudago_graph_upload(graph, stream));
  CHECK_OK(cudago_graph_launch(graph, stream));
  CHECK_OK(cudago_graph_launch(graph, stream));
  CHECK_OK(cudago_stream_synchronize(stream));
  memset(y, 0xff, bytes);
  CHECK_OK(cudago_copy_d2h(dy, 0, y, bytes));
  wrong = count_wrong_axpb(x, y0, y, kN);
  if (wrong != 0) fprintf(stderr, "graph replay: %lu wrong\n", (unsigned long)wrong);
  CHECK(wrong == 0);

  /* A synchronous copy inside a capture is refused and fails the capture; the stream works. */
  CHECK_OK(cudago_stream_begin_capture(stream, CUDAGO_CAPTURE_THREAD_LOCAL));
  CHECK_STATUS(cudago_copy_d2h(dy, 0, y, bytes), CUDAGO_ERROR_CAPTURE);
  failed = (cudago_graph_t)&g_passed;
  CHECK_STATUS(cudago_stream_end_capture(stream, &failed), CUDAGO_ERROR_CAPTURE);
  CHECK(failed == NULL);
  CHECK_OK(cudago_stream_is_capturing(stream, &capturing));
  CHECK(capturing == 0);
  CHECK_OK(cudago_graph_launch(graph, stream));
  CHECK_OK(cudago_stream_synchronize(stream));

  /* A graph refuses to launch once a buffer it uses is freed. */
  CHECK_OK(cudago_buffer_free(dy0));
  dy0 = NULL;
  CHECK_STATUS(cudago_graph_launch(graph, stream), CUDAGO_ERROR_INVALID_HANDLE);

done:
  CHECK_OK(cudago_graph_destroy(graph));
  CHECK_OK(cudago_kernel_destroy(kernel));
  CHECK_OK(cudago_module_destroy(module));
  CHECK_OK(cudago_buffer_free(dx));
  CHECK_OK(cudago_buffer_free(dy));
  CHECK_OK(cudago_buffer_free(dy0));
  free(x);
  free(y0);
  free(y);
}

static void test_with_device(int32_t count) {
  cudago_stream_t stream = NULL;
  cudago_pool_stats_t stats;
  int32_t d;
  int32_t device = -1;

  CHECK(cudago_no_device_reason() != NULL && cudago_no_device_reason()[0] == '\0');
  for (d = 0; d < count; d++) {
    cudago_device_properties_t p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    CHECK_OK(cudago_device_properties(d, &p));
    CHECK(p.ordinal == d);
    CHECK(p.name[0] != '\0');
    CHECK(p.compute_major >= 5);
    CHECK(p.multiprocessor_count > 0);
    CHECK(p.warp_size == 32);
    CHECK(p.total_memory_bytes > 0);
    printf("c99: device %d: %s, compute %d.%d, %d SMs, %.1f GiB\n", (int)d, p.name,
           (int)p.compute_major, (int)p.compute_minor, (int)p.multiprocessor_count,
           (double)p.total_memory_bytes / (1024.0 * 1024.0 * 1024.0));
  }
  CHECK_STATUS(cudago_stream_create(&stream, count, CUDAGO_STREAM_DEFAULT, 0),
               CUDAGO_ERROR_INVALID_DEVICE);

  CHECK_OK(cudago_stream_create(&stream, 0, CUDAGO_STREAM_NON_BLOCKING, 0));
  if (stream == NULL) return;
  CHECK_OK(cudago_stream_device(stream, &device));
  CHECK(device == 0);

  test_vector_add_sync(stream, 1000);
  test_vector_add_sync(stream, 1000003);
  test_pinned_async_round_trip(stream, 1000003);
  test_rtc_and_graph(stream);

  CHECK_OK(cudago_stream_destroy(stream));

  memset(&stats, 0, sizeof stats);
  stats.struct_size = sizeof stats;
  CHECK_OK(cudago_pool_stats(0, &stats));
  CHECK(stats.used_bytes <= stats.reserved_bytes);
  CHECK(stats.used_high_bytes >= 3u * 1000003u * sizeof(float)); /* the round trip's buffers */
}

int main(void) {
  int32_t count = -1;
  const char *require = getenv("CUDAGO_REQUIRE_GPU");
  int require_gpu = require != NULL && strcmp(require, "1") == 0;

  test_struct_inits();
  test_versions();
  test_status_strings();
  test_null_arguments();
  test_destroy_null();
  test_error_record();
  test_rtc_compile();
  test_graph_null_handles();

  CHECK_OK(cudago_device_count(&count));
  CHECK(count >= 0);
  if (count > 0) {
    test_with_device(count);
  } else {
    test_no_device();
    if (require_gpu) {
      check(0, "CUDAGO_REQUIRE_GPU=1 but there is no CUDA device", __LINE__);
      fprintf(stderr, "no CUDA device: %s\n", cudago_no_device_reason());
    } else {
      g_skipped++;
      printf("c99: GPU checks skipped: no CUDA device: %s\n", cudago_no_device_reason());
    }
  }

  printf("c99: %d passed, %d failed, %d skipped\n", g_passed, g_failed, g_skipped);
  return g_failed == 0 ? 0 : 1;
}
