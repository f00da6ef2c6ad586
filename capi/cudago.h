/*
 * cudago.h: the stable C ABI of libcudago.
 *
 * C99, usable from C and C++. Every object is an opaque handle; every function returns a
 * cudago_status_t and writes results through out parameters. No function aborts or exits on
 * bad input, and no C++ exception crosses this boundary.
 *
 * Ownership words used below:
 *   borrowed - the pointer stays owned by the caller (or by the library) and is only used
 *              during the call, unless stated otherwise;
 *   owned    - the receiver owns it and must release it with the named function;
 *   copied   - the data is copied during the call.
 *
 * Error detail: when a call fails, the detail (status, native CUDA code and name, the operation
 * and a message) is kept for the calling OS thread and can be read with cudago_error_last() on
 * that same thread before the next cudago call that returns a status (functions that return no
 * status, such as cudago_status_string(), leave it alone). Bindings whose callers move between
 * threads (Go) read it inside the same foreign call.
 *
 * Devices: every handle remembers its device, and every call that touches a GPU makes that
 * device current for the duration of the call and restores the caller's current device after.
 */
#ifndef CUDAGO_H
#define CUDAGO_H

#include <stddef.h>
#include <stdint.h>

#define CUDAGO_VERSION_MAJOR 0
#define CUDAGO_VERSION_MINOR 1
#define CUDAGO_VERSION_PATCH 0
#define CUDAGO_VERSION_NUMBER \
  (CUDAGO_VERSION_MAJOR * 10000 + CUDAGO_VERSION_MINOR * 100 + CUDAGO_VERSION_PATCH)

#ifndef CUDAGO_API
#if defined(__GNUC__) || defined(__clang__)
#define CUDAGO_API __attribute__((visibility("default")))
#else
#define CUDAGO_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Status codes. Values never change once released; new codes are only appended.
 * ------------------------------------------------------------------------------------------- */
typedef enum cudago_status {
  CUDAGO_SUCCESS = 0,
  CUDAGO_ERROR_INVALID_ARGUMENT = 1, /* NULL pointer, zero/negative/overflowing size, bad flag */
  CUDAGO_ERROR_INVALID_HANDLE = 2,   /* NULL (or closed, in bindings that track it) handle */
  CUDAGO_ERROR_OUT_OF_RANGE = 3,     /* offset + length beyond a buffer, mismatched lengths */
  CUDAGO_ERROR_NO_DEVICE = 4,        /* no usable CUDA device or driver in this process */
  CUDAGO_ERROR_INVALID_DEVICE = 5,   /* device ordinal out of range */
  CUDAGO_ERROR_DEVICE_MISMATCH = 6,  /* handles of different devices used together */
  CUDAGO_ERROR_OUT_OF_MEMORY = 7,    /* device or pinned host memory exhausted */
  CUDAGO_ERROR_NOT_SUPPORTED = 8,    /* the device or build cannot do this */
  CUDAGO_ERROR_LAUNCH_FAILED = 9,    /* a kernel could not be launched (config, image) */
  CUDAGO_ERROR_KERNEL_FAULT = 10,    /* a kernel faulted; the process's CUDA context is lost */
  CUDAGO_ERROR_CUDA = 11,            /* another CUDA runtime error: see native_code */
  CUDAGO_ERROR_CUBLAS = 12,          /* a cuBLAS error: see native_code */
  CUDAGO_ERROR_CUFFT = 13,           /* a cuFFT error: see native_code */
  CUDAGO_ERROR_NVRTC = 14,           /* an NVRTC error: see native_code */
  CUDAGO_ERROR_INTERNAL = 15,        /* a bug in cudago */
  CUDAGO_ERROR_NCCL = 16,            /* an NCCL error (or NCCL missing): see native_code */
  CUDAGO_ERROR_CAPTURE = 17,         /* a stream capture or CUDA graph failed (illegal call during
                                        a capture, update with another topology) */
  CUDAGO_STATUS_FORCE32 = 0x7fffffff
} cudago_status_t;

/* Static English name of a status ("CUDAGO_ERROR_OUT_OF_MEMORY: out of memory"); never NULL. */
CUDAGO_API const char *cudago_status_string(cudago_status_t status);

/* Detail of the last call made on the calling OS thread. Grows only at its end. */
typedef struct cudago_error_info {
  uint32_t struct_size; /* set by the caller: sizeof(cudago_error_info_t) */
  int32_t status;       /* cudago_status_t */
  int32_t native_code;  /* cudaError_t, cublasStatus_t, ... or 0 */
  char native_name[64]; /* e.g. "cudaErrorMemoryAllocation", or "" */
  char operation[64];   /* the cudago operation, e.g. "cudago_buffer_alloc" */
  char message[512];    /* what failed and why, NUL-terminated, possibly truncated */
} cudago_error_info_t;

#define CUDAGO_ERROR_INFO_INIT                         \
  {                                                    \
    sizeof(cudago_error_info_t), 0, 0, {0}, {0}, { 0 } \
  }

/* Copies the calling thread's last error detail into *out (borrowed). out->struct_size must be
 * set; fields beyond it are not written. After a successful call the status is CUDAGO_SUCCESS. */
CUDAGO_API cudago_status_t cudago_error_last(cudago_error_info_t *out);

/* ---------------------------------------------------------------------------------------------
 * Versions.
 * ------------------------------------------------------------------------------------------- */
CUDAGO_API uint32_t cudago_version_number(void);    /* CUDAGO_VERSION_NUMBER of the library */
CUDAGO_API const char *cudago_version_string(void); /* "0.1.0", static */
/* CUDA driver version (e.g. 13000), 0 where no driver is installed. */
CUDAGO_API cudago_status_t cudago_driver_version(int32_t *out);
/* Version of the CUDA runtime linked into the library (e.g. 13000). */
CUDAGO_API cudago_status_t cudago_runtime_version(int32_t *out);

/* ---------------------------------------------------------------------------------------------
 * Devices.
 * ------------------------------------------------------------------------------------------- */
/* Number of usable devices; 0 (and CUDAGO_SUCCESS) where there is no GPU or no driver. */
CUDAGO_API cudago_status_t cudago_device_count(int32_t *out);

/* Why cudago_device_count() is 0, as a static message ("" when there are devices). */
CUDAGO_API const char *cudago_no_device_reason(void);

typedef struct cudago_device_properties {
  uint32_t struct_size; /* set by the caller: sizeof(cudago_device_properties_t) */
  int32_t ordinal;
  char name[256];
  uint8_t uuid[16];
  char pci_bus_id[32]; /* "0000:1a:00.0" */
  int32_t pci_domain;
  int32_t pci_bus;
  int32_t pci_device;
  int32_t compute_major;
  int32_t compute_minor;
  int32_t multiprocessor_count;
  int32_t clock_khz;        /* peak SM clock */
  int32_t memory_clock_khz; /* peak memory clock */
  int32_t memory_bus_width_bits;
  int32_t l2_cache_bytes;
  int32_t max_threads_per_block;
  int32_t max_threads_per_multiprocessor;
  int32_t max_blocks_per_multiprocessor;
  int32_t registers_per_multiprocessor;
  int32_t warp_size;
  int32_t async_engine_count;
  int32_t ecc_enabled;              /* 0 or 1 */
  int32_t integrated;               /* 0 or 1 */
  int32_t can_map_host_memory;      /* 0 or 1 */
  int32_t memory_pools_supported;   /* 0 or 1 */
  int32_t stream_priority_least;    /* numerically largest = lowest priority */
  int32_t stream_priority_greatest; /* numerically smallest = highest priority */
  uint64_t total_memory_bytes;
  uint64_t free_memory_bytes; /* at the time of the call */
  uint64_t shared_memory_per_block_bytes;
  uint64_t shared_memory_per_block_optin_bytes;
  uint64_t shared_memory_per_multiprocessor_bytes;
} cudago_device_properties_t;

/* Fills *out (borrowed). out->struct_size must be set to the caller's sizeof; fields beyond it
 * are not written, so older callers keep working when the struct grows. */
CUDAGO_API cudago_status_t cudago_device_properties(int32_t device,
                                                    cudago_device_properties_t *out);

/* Free and total device memory in bytes, as cudaMemGetInfo reports them. */
CUDAGO_API cudago_status_t cudago_device_memory_info(int32_t device, uint64_t *free_bytes,
                                                     uint64_t *total_bytes);

/* ---------------------------------------------------------------------------------------------
 * Streams. A stream belongs to one device. Work on it runs in issue order.
 * ------------------------------------------------------------------------------------------- */
typedef struct cudago_stream_s *cudago_stream_t;
typedef struct cudago_event_s *cudago_event_t;

#define CUDAGO_STREAM_DEFAULT 0u
/* Do not synchronise with the legacy default stream (stream 0). */
#define CUDAGO_STREAM_NON_BLOCKING 1u

/* Creates a stream on `device`. priority: 0 is the default; lower numbers are higher priority,
 * clamped by CUDA to [stream_priority_greatest, stream_priority_least]. *out is owned. */
CUDAGO_API cudago_status_t cudago_stream_create(cudago_stream_t *out, int32_t device,
                                                uint32_t flags, int32_t priority);
/* Releases the handle; work already queued still completes, and buffers allocated on the stream
 * keep it alive until they are freed. NULL is a no-op. */
CUDAGO_API cudago_status_t cudago_stream_destroy(cudago_stream_t stream);
/* Blocks until all work queued on the stream is done; reports a kernel fault as a status. */
CUDAGO_API cudago_status_t cudago_stream_synchronize(cudago_stream_t stream);
/* *done = 1 when all queued work is done, else 0. */
CUDAGO_API cudago_status_t cudago_stream_query(cudago_stream_t stream, int32_t *done);
/* Work queued on `stream` after this waits for `event`'s last record (any device). */
CUDAGO_API cudago_status_t cudago_stream_wait_event(cudago_stream_t stream, cudago_event_t event);
CUDAGO_API cudago_status_t cudago_stream_device(cudago_stream_t stream, int32_t *device);
CUDAGO_API cudago_status_t cudago_stream_priority(cudago_stream_t stream, int32_t *priority);
/* The underlying cudaStream_t (borrowed, valid while the handle lives), for interoperation with
 * other CUDA libraries. */
CUDAGO_API cudago_status_t cudago_stream_native(cudago_stream_t stream, void **out);

/* ---------------------------------------------------------------------------------------------
 * Events.
 * ------------------------------------------------------------------------------------------- */
#define CUDAGO_EVENT_DEFAULT 0u        /* timing enabled */
#define CUDAGO_EVENT_DISABLE_TIMING 1u /* cheaper; cudago_event_elapsed_ms() refuses it */
#define CUDAGO_EVENT_BLOCKING_SYNC 2u  /* synchronize() sleeps instead of spinning */

CUDAGO_API cudago_status_t cudago_event_create(cudago_event_t *out, int32_t device, uint32_t flags);
CUDAGO_API cudago_status_t cudago_event_destroy(cudago_event_t event); /* NULL is a no-op */
/* Captures the work queued on `stream` so far; stream and event must share a device. */
CUDAGO_API cudago_status_t cudago_event_record(cudago_event_t event, cudago_stream_t stream);
CUDAGO_API cudago_status_t cudago_event_synchronize(cudago_event_t event);
CUDAGO_API cudago_status_t cudago_event_query(cudago_event_t event, int32_t *done);
/* Milliseconds between two completed records of timing events. */
CUDAGO_API cudago_status_t cudago_event_elapsed_ms(cudago_event_t start, cudago_event_t end,
                                                   float *ms);

/* ---------------------------------------------------------------------------------------------
 * Memory pools. Each device has one cudago pool (cudaMemPoolCreate), used by every device
 * buffer allocation. With the default configuration the pool keeps freed memory (release
 * threshold = UINT64_MAX), so a steady state never calls cudaMalloc.
 * ------------------------------------------------------------------------------------------- */
typedef struct cudago_pool_config {
  uint32_t struct_size; /* sizeof(cudago_pool_config_t) */
  uint32_t reserved0;   /* must be 0 */
  /* Bytes the pool keeps reserved when streams synchronise; 0 = default (keep all). */
  uint64_t release_threshold_bytes;
  /* Bytes to reserve now (allocated and returned to the pool), 0 = none. */
  uint64_t reserve_bytes;
} cudago_pool_config_t;

#define CUDAGO_POOL_CONFIG_INIT \
  { sizeof(cudago_pool_config_t), 0, 0, 0 }

typedef struct cudago_pool_stats {
  uint32_t struct_size; /* sizeof(cudago_pool_stats_t) */
  uint32_t reserved0;
  uint64_t reserved_bytes;      /* memory the pool holds from the device */
  uint64_t used_bytes;          /* memory handed out to live buffers */
  uint64_t reserved_high_bytes; /* high-water marks since creation or the last reset */
  uint64_t used_high_bytes;
} cudago_pool_stats_t;

/* *config is copied. */
CUDAGO_API cudago_status_t cudago_pool_configure(int32_t device,
                                                 const cudago_pool_config_t *config);
CUDAGO_API cudago_status_t cudago_pool_stats(int32_t device, cudago_pool_stats_t *out);
/* Releases cached memory down to keep_bytes (already freed memory only). */
CUDAGO_API cudago_status_t cudago_pool_trim(int32_t device, uint64_t keep_bytes);
CUDAGO_API cudago_status_t cudago_pool_reset_high_water(int32_t device);

/* ---------------------------------------------------------------------------------------------
 * Device buffers. Allocated from the device's pool; a zero-byte buffer is legal.
 * A buffer is freed in stream order after all work that cudago calls queued with it on any
 * stream, so it is safe to free a buffer whose work is still running.
 * ------------------------------------------------------------------------------------------- */
typedef struct cudago_buffer_s *cudago_buffer_t;

/* Allocates `bytes` on `device`; usable on any stream when the call returns. *out is owned. */
CUDAGO_API cudago_status_t cudago_buffer_alloc(cudago_buffer_t *out, int32_t device,
                                               uint64_t bytes);
/* Stream-ordered allocation: usable by work queued on `stream` after this call (other streams
 * must wait on an event recorded after it). *out is owned. */
CUDAGO_API cudago_status_t cudago_buffer_alloc_async(cudago_buffer_t *out, cudago_stream_t stream,
                                                     uint64_t bytes);
CUDAGO_API cudago_status_t cudago_buffer_free(cudago_buffer_t buffer); /* NULL is a no-op */
CUDAGO_API cudago_status_t cudago_buffer_size(cudago_buffer_t buffer, uint64_t *bytes);
CUDAGO_API cudago_status_t cudago_buffer_device(cudago_buffer_t buffer, int32_t *device);
/* The device address (borrowed, valid until the buffer is freed), for interoperation. */
CUDAGO_API cudago_status_t cudago_buffer_device_pointer(cudago_buffer_t buffer, void **out);

/* ---------------------------------------------------------------------------------------------
 * Host buffers: page-locked host memory (cudaHostAlloc, portable to all devices).
 * ------------------------------------------------------------------------------------------- */
typedef struct cudago_host_buffer_s *cudago_host_buffer_t;

#define CUDAGO_HOST_PINNED 0u         /* page-locked, for fast and asynchronous copies */
#define CUDAGO_HOST_MAPPED 1u         /* also mapped into the device's address space */
#define CUDAGO_HOST_WRITE_COMBINED 2u /* faster H2D, very slow host reads */

/* `device` creates the allocation (and, for MAPPED, is the device that reads it). A zero-byte
 * buffer is legal. The memory is zero-filled. *out is owned. */
CUDAGO_API cudago_status_t cudago_host_buffer_alloc(cudago_host_buffer_t *out, int32_t device,
                                                    uint64_t bytes, uint32_t flags);
/* Waits for work cudago queued with the buffer, then releases it. NULL is a no-op. */
CUDAGO_API cudago_status_t cudago_host_buffer_free(cudago_host_buffer_t buffer);
CUDAGO_API cudago_status_t cudago_host_buffer_size(cudago_host_buffer_t buffer, uint64_t *bytes);
CUDAGO_API cudago_status_t cudago_host_buffer_device(cudago_host_buffer_t buffer, int32_t *device);
/* Host address (borrowed, valid until the buffer is freed). */
CUDAGO_API cudago_status_t cudago_host_buffer_host_pointer(cudago_host_buffer_t buffer, void **out);
/* Device address of a MAPPED buffer (borrowed); CUDAGO_ERROR_NOT_SUPPORTED otherwise. */
CUDAGO_API cudago_status_t cudago_host_buffer_device_pointer(cudago_host_buffer_t buffer,
                                                             void **out);
/* A device-buffer handle over a MAPPED host buffer (zero-copy): kernels and copies given it read
 * and write the host memory directly. *out is owned and freed with cudago_buffer_free(), which
 * does not free the host memory; the host memory stays allocated while the view lives, even if
 * the host buffer handle is freed first. */
CUDAGO_API cudago_status_t cudago_buffer_from_mapped(cudago_buffer_t *out,
                                                     cudago_host_buffer_t mapped);

/* ---------------------------------------------------------------------------------------------
 * Copies and memset. Offsets and lengths are in bytes and are checked against the buffers'
 * sizes; zero-length operations succeed and do nothing.
 *
 * Synchronous forms take any host memory (borrowed for the call) and return when the copy is
 * complete. They are ordered after all work that cudago calls queued with the device buffers on
 * any stream (so a result can be read back right after the kernel that wrote it), and they run
 * on the buffer's owning stream. Asynchronous forms take a host buffer and a stream and are
 * ordered on that stream only; the host buffer must not be reused until the stream has passed
 * the copy.
 *
 * Device-to-device copies may cross devices (peer copies, cudaMemcpyPeerAsync). With peer access
 * enabled from the stream's device to the other one (cudago_device_enable_peer_access) the data
 * moves directly over NVLink or PCIe; without it the CUDA driver stages it through host memory,
 * which works between any two devices but is several times slower and uses host bandwidth.
 * cudago_copy_d2d runs a peer copy on dst's owning stream. cudago_copy_d2d_async takes a stream
 * of either buffer's device (another device is CUDAGO_ERROR_DEVICE_MISMATCH); a peer copy is
 * ordered after all work cudago calls queued with both buffers on any stream, as the synchronous
 * forms are, and both buffers' frees wait for it. A same-device asynchronous copy needs the
 * stream on that device and is ordered on the stream only. Memset and kernels still need their
 * buffers on the stream's device.
 * ------------------------------------------------------------------------------------------- */
CUDAGO_API cudago_status_t cudago_copy_h2d(cudago_buffer_t dst, uint64_t dst_offset,
                                           const void *src, uint64_t bytes);
CUDAGO_API cudago_status_t cudago_copy_d2h(void *dst, cudago_buffer_t src, uint64_t src_offset,
                                           uint64_t bytes);
CUDAGO_API cudago_status_t cudago_copy_d2d(cudago_buffer_t dst, uint64_t dst_offset,
                                           cudago_buffer_t src, uint64_t src_offset,
                                           uint64_t bytes);
CUDAGO_API cudago_status_t cudago_memset(cudago_buffer_t dst, uint64_t offset, uint8_t value,
                                         uint64_t bytes);

CUDAGO_API cudago_status_t cudago_copy_h2d_async(cudago_stream_t stream, cudago_buffer_t dst,
                                                 uint64_t dst_offset, cudago_host_buffer_t src,
                                                 uint64_t src_offset, uint64_t bytes);
CUDAGO_API cudago_status_t cudago_copy_d2h_async(cudago_stream_t stream, cudago_host_buffer_t dst,
                                                 uint64_t dst_offset, cudago_buffer_t src,
                                                 uint64_t src_offset, uint64_t bytes);
CUDAGO_API cudago_status_t cudago_copy_d2d_async(cudago_stream_t stream, cudago_buffer_t dst,
                                                 uint64_t dst_offset, cudago_buffer_t src,
                                                 uint64_t src_offset, uint64_t bytes);
CUDAGO_API cudago_status_t cudago_memset_async(cudago_stream_t stream, cudago_buffer_t dst,
                                               uint64_t offset, uint8_t value, uint64_t bytes);

/* ---------------------------------------------------------------------------------------------
 * Element types. Buffers hold bytes; operations that interpret them take an element type.
 * Values never change once released.
 * ------------------------------------------------------------------------------------------- */
typedef enum cudago_dtype {
  CUDAGO_DTYPE_F32 = 0,
  CUDAGO_DTYPE_F64 = 1,
  CUDAGO_DTYPE_F16 = 2,  /* IEEE 754 binary16 */
  CUDAGO_DTYPE_BF16 = 3, /* bfloat16 */
  CUDAGO_DTYPE_I8 = 4,
  CUDAGO_DTYPE_U8 = 5,
  CUDAGO_DTYPE_I32 = 6,
  CUDAGO_DTYPE_U32 = 7,
  CUDAGO_DTYPE_I64 = 8,
  CUDAGO_DTYPE_U64 = 9,
  CUDAGO_DTYPE_FORCE32 = 0x7fffffff
} cudago_dtype_t;

/* Bytes per element of `dtype`; 0 for a value that is not an element type. */
CUDAGO_API size_t cudago_dtype_size(cudago_dtype_t dtype);

/* ---------------------------------------------------------------------------------------------
 * Kernels.
 * ------------------------------------------------------------------------------------------- */
/* c[i] = a[i] + b[i] for i < n, float32, queued on `stream`. Each buffer must hold n floats and
 * live on the stream's device; c may alias a or b. n = 0 is a no-op. */
CUDAGO_API cudago_status_t cudago_vector_add_f32(cudago_stream_t stream, cudago_buffer_t a,
                                                 cudago_buffer_t b, cudago_buffer_t c, uint64_t n);

/* [elementwise+reduce] */
/* Elementwise operations, queued on `stream` (nothing waits for the GPU). Element types: F32,
 * F64, F16, BF16 (others: CUDAGO_ERROR_INVALID_ARGUMENT). Each operand is a buffer (borrowed
 * handle) and an offset in elements of the dtype; elements [offset, offset + n) must lie within
 * the buffer (CUDAGO_ERROR_OUT_OF_RANGE, also on overflow), and every buffer must be on the
 * stream's device (CUDAGO_ERROR_DEVICE_MISMATCH). Any offset works (16-byte vector accesses are
 * used where the operands allow it). An output may be exactly an input (same buffer and
 * offset); ranges of one buffer that overlap partially are refused (INVALID_ARGUMENT). n = 0 is
 * a no-op. F16 and BF16 are computed in float32 and rounded once to the element type (to
 * nearest, ties to even); F32 and F64 in their own precision. */
typedef enum cudago_binary_op {
  CUDAGO_BINARY_ADD = 0, /* c = a + b */
  CUDAGO_BINARY_SUB = 1, /* c = a - b */
  CUDAGO_BINARY_MUL = 2, /* c = a * b */
  CUDAGO_BINARY_DIV = 3, /* c = a / b (IEEE: x/0 is +-Inf or NaN) */
  CUDAGO_BINARY_FORCE32 = 0x7fffffff
} cudago_binary_op_t;

/* c[i] = a[i] op b[i] for i < n. */
CUDAGO_API cudago_status_t cudago_elementwise_binary(cudago_stream_t stream, cudago_binary_op_t op,
                                                     cudago_dtype_t dtype, cudago_buffer_t a,
                                                     uint64_t a_offset, cudago_buffer_t b,
                                                     uint64_t b_offset, cudago_buffer_t c,
                                                     uint64_t c_offset, uint64_t n);
/* y[i] = alpha * x[i] + y[i], one fused multiply-add in the compute type; alpha is rounded to
 * it (float32 for F32, F16, BF16). */
CUDAGO_API cudago_status_t cudago_elementwise_axpy(cudago_stream_t stream, cudago_dtype_t dtype,
                                                   double alpha, cudago_buffer_t x,
                                                   uint64_t x_offset, cudago_buffer_t y,
                                                   uint64_t y_offset, uint64_t n);
/* x[i] = alpha * x[i]. */
CUDAGO_API cudago_status_t cudago_elementwise_scale(cudago_stream_t stream, cudago_dtype_t dtype,
                                                    double alpha, cudago_buffer_t x,
                                                    uint64_t x_offset, uint64_t n);
/* x[i] = value, rounded to the element type as cudago_elementwise_cast rounds an F64. */
CUDAGO_API cudago_status_t cudago_elementwise_fill(cudago_stream_t stream, cudago_dtype_t dtype,
                                                   double value, cudago_buffer_t x,
                                                   uint64_t x_offset, uint64_t n);
/* dst[i] = src[i] converted from src_dtype to dst_dtype, for every pair of F32, F64, F16, BF16:
 * round to nearest, ties to even, in one rounding (F64 -> F16 too); widening is exact; NaN
 * stays NaN (payload not kept); out-of-range values become +-Inf. Offsets count elements of
 * each side's own type. src and dst must not overlap unless the types have the same size and
 * the ranges are identical. */
CUDAGO_API cudago_status_t cudago_elementwise_cast(cudago_stream_t stream, cudago_dtype_t src_dtype,
                                                   cudago_buffer_t src, uint64_t src_offset,
                                                   cudago_dtype_t dst_dtype, cudago_buffer_t dst,
                                                   uint64_t dst_offset, uint64_t n);

/* Reductions, queued on `stream`, writing their results into a device buffer (nothing waits
 * for the GPU; read the result with a copy). Element types F32 and F64 (others:
 * CUDAGO_ERROR_INVALID_ARGUMENT); results have the input's type, except ARGMAX, whose results are
 * int64 (CUDAGO_DTYPE_I64) indices counted from the start of the range (of the row). Offsets
 * count elements of each buffer's own type and are checked like the elementwise ones; `out`
 * must not overlap the inputs.
 *
 * Accuracy: inputs accumulate in their own type, in compensated (Kahan) per-thread partial sums
 * combined by a tree, so that, with u = 2^-24 (F32) or 2^-53 (F64) and independent of n:
 *   SUM: |result - exact| <= 32 u sum|x_i|;  DOT: <= 33 u sum|x_i y_i|;
 *   NRM2: relative error <= 18 u (it overflows to +Inf when the sum of squares does).
 * MIN, MAX, ARGMAX are exact.
 * NaN: SUM, DOT, NRM2 propagate it; MIN and MAX return NaN if any element is NaN; ARGMAX ranks
 * NaN above every number (it returns the first NaN's index, else the first index of the
 * maximum). Empty input: SUM, DOT, NRM2 give 0; MIN, MAX, ARGMAX refuse it (INVALID_ARGUMENT). */
typedef enum cudago_reduce_op {
  CUDAGO_REDUCE_SUM = 0,
  CUDAGO_REDUCE_MIN = 1,
  CUDAGO_REDUCE_MAX = 2,
  CUDAGO_REDUCE_ARGMAX = 3, /* int64 results */
  CUDAGO_REDUCE_DOT = 4,    /* sum of x[i] * y[i]: the only op that takes y */
  CUDAGO_REDUCE_NRM2 = 5,   /* sqrt of the sum of x[i]^2 */
  CUDAGO_REDUCE_FORCE32 = 0x7fffffff
} cudago_reduce_op_t;

/* out[out_offset] = op over x[x_offset .. x_offset + n) (and y[y_offset ..] for DOT; y must be
 * NULL for the other ops). Scratch memory, if any, comes from the device's pool in stream order
 * on `stream`. */
CUDAGO_API cudago_status_t cudago_reduce_all(cudago_stream_t stream, cudago_reduce_op_t op,
                                             cudago_dtype_t dtype, cudago_buffer_t x,
                                             uint64_t x_offset, cudago_buffer_t y,
                                             uint64_t y_offset, uint64_t n, cudago_buffer_t out,
                                             uint64_t out_offset);
/* Along the last axis of a rows x cols row-major array starting at x[x_offset] (and
 * y[y_offset] for DOT): out[out_offset + r] = op over row r, for r < rows. rows = 0 is a no-op;
 * rows * cols must not overflow. */
CUDAGO_API cudago_status_t cudago_reduce_rows(cudago_stream_t stream, cudago_reduce_op_t op,
                                              cudago_dtype_t dtype, cudago_buffer_t x,
                                              uint64_t x_offset, cudago_buffer_t y,
                                              uint64_t y_offset, uint64_t rows, uint64_t cols,
                                              cudago_buffer_t out, uint64_t out_offset);

/* [sgemm+transpose] */
/* Layout changes: transposes and NHWC <-> NCHW conversion, queued on `stream`. They move bytes
 * and never interpret them, so every element type works (1, 2, 4 or 8 bytes: f32, f16, bf16, f64,
 * integers). All arrays are dense and row-major; dimensions are in elements. `in` and `out` are
 * borrowed for the call (the work keeps them alive until it is done), must live on the stream's
 * device, must each hold at least the tensor's bytes, and must not overlap (a transpose is never
 * in place: CUDAGO_ERROR_INVALID_ARGUMENT). A tensor with a zero dimension is a no-op. Errors:
 * INVALID_HANDLE (NULL stream or buffer), INVALID_ARGUMENT (dtype not an element type, overlap),
 * OUT_OF_RANGE (dims whose product overflows, buffers too small), DEVICE_MISMATCH. */

/* out (cols x rows) = the transpose of in (rows x cols). */
CUDAGO_API cudago_status_t cudago_layout_transpose_2d(cudago_stream_t stream, cudago_dtype_t dtype,
                                                      cudago_buffer_t in, cudago_buffer_t out,
                                                      uint64_t rows, uint64_t cols);
/* in is n x h x w x c (NHWC), out is n x c x h x w (NCHW). */
CUDAGO_API cudago_status_t cudago_layout_nhwc_to_nchw(cudago_stream_t stream, cudago_dtype_t dtype,
                                                      cudago_buffer_t in, cudago_buffer_t out,
                                                      uint64_t n, uint64_t h, uint64_t w,
                                                      uint64_t c);
/* in is n x c x h x w (NCHW), out is n x h x w x c (NHWC). */
CUDAGO_API cudago_status_t cudago_layout_nchw_to_nhwc(cudago_stream_t stream, cudago_dtype_t dtype,
                                                      cudago_buffer_t in, cudago_buffer_t out,
                                                      uint64_t n, uint64_t h, uint64_t w,
                                                      uint64_t c);

/* The hand-written tiled SGEMM (a teaching kernel; for production GEMM use the cuBLAS calls):
 *   C = alpha * A * B + beta * C, float32, ROW-MAJOR, dense:
 *   A is m x k (row i at a + i*k), B is k x n (row i at b + i*n), C is m x n (row i at c + i*n).
 * Queued on `stream`; a, b and c are borrowed for the call (kept alive until the work is done),
 * live on the stream's device and hold at least m*k, k*n and m*n floats. c must not overlap a or b
 * (INVALID_ARGUMENT); a and b may be the same buffer. When beta == 0, C is only written, never
 * read, so whatever it held (NaN included) does not reach the result. m = 0 or n = 0 is a no-op;
 * k = 0 gives C = beta * C. Sums are accumulated in float32 in the order of k. Errors:
 * INVALID_HANDLE, OUT_OF_RANGE (products that overflow, buffers too small), DEVICE_MISMATCH,
 * NOT_SUPPORTED (m or n above 8,388,480: the launch grid's limit). */
CUDAGO_API cudago_status_t cudago_gemm_tiled_f32(cudago_stream_t stream, uint64_t m, uint64_t n,
                                                 uint64_t k, float alpha, cudago_buffer_t a,
                                                 cudago_buffer_t b, float beta, cudago_buffer_t c);

/* [blas] */
/* ---------------------------------------------------------------------------------------------
 * cuBLAS: GEMM, strided-batched GEMM, GEMV and level-1 AXPY, SCAL, DOT, NRM2.
 *
 * Every call is queued on `stream` and returns without waiting; buffers (borrowed) must live on
 * the stream's device. Dimensions, leading dimensions, offsets, strides and increments are
 * validated against the buffers' sizes before cuBLAS is called: every dimension must be at
 * least 1 and at most INT32_MAX (CUDAGO_ERROR_INVALID_ARGUMENT), a leading dimension below the
 * stored row/column length is CUDAGO_ERROR_INVALID_ARGUMENT, a buffer too small for what the
 * parameters address is CUDAGO_ERROR_OUT_OF_RANGE, an integer element type is
 * CUDAGO_ERROR_NOT_SUPPORTED, and outputs overlapping inputs in the same buffer are
 * CUDAGO_ERROR_INVALID_ARGUMENT.
 *
 * cuBLAS handles are created once per device (on first use) and kept for the process; each call
 * checks one out of a per-device pool, binds it to `stream` and a workspace from the device's
 * memory pool, so calls from many threads on many streams run concurrently and safely.
 *
 * Launch cost: a small GEMM (up to 512^3 multiply-adds) issued again with exactly the same
 * parameters and buffers is replayed from a CUDA graph captured on its second call, which cuts
 * the host cost per call from cuBLAS's ~13 us to ~4 us; results are the same as a direct call
 * (the replay reads the buffers' current contents). The environment variable
 * CUDAGO_BLAS_GRAPHS=0, read once, turns this off.
 *
 * Layout. Both layouts are accepted. CUDAGO_BLAS_ROW_MAJOR: element (i, j) of a matrix with
 * leading dimension ld is at [i * ld + j] (ld >= columns); CUDAGO_BLAS_COL_MAJOR: at
 * [i + j * ld] (ld >= rows), as in BLAS. Row-major runs on column-major cuBLAS without moving
 * data: a row-major matrix is the column-major matrix of its transpose with the same ld, so
 * C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T, i.e. cuBLAS receives
 * (trans_b, trans_a, n, m, k, B, ldb, A, lda, C, ldc); for GEMV the op is flipped and m, n
 * swapped.
 * ------------------------------------------------------------------------------------------- */
typedef enum cudago_blas_layout {
  CUDAGO_BLAS_ROW_MAJOR = 0,
  CUDAGO_BLAS_COL_MAJOR = 1,
  CUDAGO_BLAS_LAYOUT_FORCE32 = 0x7fffffff
} cudago_blas_layout_t;

typedef enum cudago_blas_op {
  CUDAGO_BLAS_OP_N = 0, /* use the matrix as stored */
  CUDAGO_BLAS_OP_T = 1, /* use its transpose */
  CUDAGO_BLAS_OP_FORCE32 = 0x7fffffff
} cudago_blas_op_t;

typedef enum cudago_blas_compute {
  /* Accumulate exactly in the data's compute type: float32 for F32, F16 and BF16 data (F16/BF16
   * use tensor cores with float32 accumulation), float64 for F64. F32 data never uses TF32. */
  CUDAGO_BLAS_COMPUTE_DEFAULT = 0,
  /* F32 data only: TF32 tensor cores (inputs rounded to 10-bit mantissas, float32
   * accumulation): several times faster, relative error about 1e-3. */
  CUDAGO_BLAS_COMPUTE_TF32 = 1,
  CUDAGO_BLAS_COMPUTE_FORCE32 = 0x7fffffff
} cudago_blas_compute_t;

/* Parameters of C = alpha * op(A) * op(B) + beta * C, for `batch` matrices. Zero-initialise it,
 * set struct_size and what differs from the defaults. The struct only grows at its end. */
typedef struct cudago_gemm_params {
  uint32_t struct_size;  /* sizeof(cudago_gemm_params_t) */
  int32_t layout;        /* cudago_blas_layout_t; 0 = row-major */
  int32_t trans_a;       /* cudago_blas_op_t */
  int32_t trans_b;       /* cudago_blas_op_t */
  int32_t dtype;         /* cudago_dtype_t of A, B and C: F32, F64, F16 or BF16 */
  int32_t compute;       /* cudago_blas_compute_t */
  int64_t m, n, k;       /* C is m x n, op(A) is m x k, op(B) is k x n; each >= 1 */
  double alpha, beta;    /* converted to the compute type (float32 or float64); when beta is 0,
                            C is not read (it may hold NaNs) */
  int64_t lda, ldb, ldc; /* leading dimensions in elements of the stored matrices; 0 = tight */
  uint64_t a_offset, b_offset, c_offset; /* first element of each (first) matrix */
  int64_t batch;                         /* number of products; 0 = 1 */
  /* Elements between consecutive matrices of a batch (ignored when batch is 1). 0 for A or B
   * uses the same matrix for every product; C's must keep the C matrices apart. */
  int64_t stride_a, stride_b, stride_c;
} cudago_gemm_params_t;

#define CUDAGO_GEMM_PARAMS_INIT \
  { sizeof(cudago_gemm_params_t), 0, 0, 0, 0, 0, 0, 0, 0, 1.0, 0.0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 }

/* GEMM and strided-batched GEMM (cublasGemmEx / cublasGemmStridedBatchedEx). *params is
 * copied; a, b, c are borrowed. C must not overlap A or B. */
CUDAGO_API cudago_status_t cudago_blas_gemm(cudago_stream_t stream,
                                            const cudago_gemm_params_t *params, cudago_buffer_t a,
                                            cudago_buffer_t b, cudago_buffer_t c);

/* Parameters of y = alpha * op(A) * x + beta * y, A stored m x n. */
typedef struct cudago_gemv_params {
  uint32_t struct_size; /* sizeof(cudago_gemv_params_t) */
  int32_t layout;       /* cudago_blas_layout_t; 0 = row-major */
  int32_t trans;        /* cudago_blas_op_t */
  int32_t dtype;        /* F32 or F64, of A, x and y */
  int64_t m, n;         /* A as stored; x has n elements (m with OP_T), y has m (n) */
  double alpha, beta;   /* when beta is 0, y is not read */
  int64_t lda;          /* 0 = tight */
  int64_t incx, incy;   /* element steps, >= 1; 0 = 1 */
  uint64_t a_offset, x_offset, y_offset; /* in elements */
} cudago_gemv_params_t;

#define CUDAGO_GEMV_PARAMS_INIT \
  { sizeof(cudago_gemv_params_t), 0, 0, 0, 0, 0, 1.0, 0.0, 0, 1, 1, 0, 0, 0 }

/* GEMV (cublasSgemv / cublasDgemv). *params is copied; a, x, y are borrowed. y must not overlap
 * A or x. */
CUDAGO_API cudago_status_t cudago_blas_gemv(cudago_stream_t stream,
                                            const cudago_gemv_params_t *params, cudago_buffer_t a,
                                            cudago_buffer_t x, cudago_buffer_t y);

/* Level 1, F32 or F64 (`dtype`), on n >= 1 elements taken every inc (>= 1) elements from the
 * start of each buffer. */
/* y = alpha * x + y. x and y may be the same buffer only with incx == incy. */
CUDAGO_API cudago_status_t cudago_blas_axpy(cudago_stream_t stream, int32_t dtype, int64_t n,
                                            double alpha, cudago_buffer_t x, int64_t incx,
                                            cudago_buffer_t y, int64_t incy);
/* x = alpha * x. */
CUDAGO_API cudago_status_t cudago_blas_scal(cudago_stream_t stream, int32_t dtype, int64_t n,
                                            double alpha, cudago_buffer_t x, int64_t incx);
/* result[result_offset] = sum x[i] * y[i], written on the device (cuBLAS device pointer mode):
 * the call does not wait; read the result with a copy ordered after it. The result element has
 * type `dtype` and must not overlap x or y. */
CUDAGO_API cudago_status_t cudago_blas_dot(cudago_stream_t stream, int32_t dtype, int64_t n,
                                           cudago_buffer_t x, int64_t incx, cudago_buffer_t y,
                                           int64_t incy, cudago_buffer_t result,
                                           uint64_t result_offset);
/* result[result_offset] = sqrt(sum x[i]^2), on the device, like cudago_blas_dot. */
CUDAGO_API cudago_status_t cudago_blas_nrm2(cudago_stream_t stream, int32_t dtype, int64_t n,
                                            cudago_buffer_t x, int64_t incx, cudago_buffer_t result,
                                            uint64_t result_offset);

/* [fft] */
/* ---------------------------------------------------------------------------------------------
 * FFT (cuFFT). A transform is described by a cudago_fft_desc_t and queued on a stream with
 * cudago_fft_exec(); plans come from a process-wide cache (below), so describing the transform
 * again on every call is cheap.
 *
 * Layout (cuFFT's advanced layout, in elements of each side's element type: complex for a
 * complex side, real for a real one): element (b, i0, .., i[rank-1]) lives at
 *     b * dist + stride * (row-major index of i in an array of sizes embed)
 * embed[0] only sets the default dist. A zero field takes its default: embed = that side's
 * logical sizes, stride = 1, dist = stride * prod(embed). Sizes and embeds are outermost first
 * (row-major: the last dimension is contiguous).
 *
 * Sides: C2C is complex -> complex with logical sizes `dims`. R2C reads reals of sizes dims and
 * writes the non-redundant half of the Hermitian spectrum: complex sizes dims with the last one
 * replaced by dims[rank-1]/2 + 1 (the rest follows from X[k] = conj(X[N-k])). C2R reads that
 * half and writes reals of sizes dims. A complex element is two reals (re, im) of the precision.
 * In place (in == out, equal offsets), the default layout of the real side of R2C/C2R is padded
 * to 2 * (dims[rank-1]/2 + 1) reals in the last dimension, so both sides share their bytes.
 *
 * C2R overwrites its input: cuFFT uses the input as scratch for complex-to-real transforms, out
 * of place too. cudago does not copy to protect it; keep a copy if you need the input.
 *
 * Errors: every argument is validated before cuFFT is called (rank, sizes, type and precision,
 * direction, normalisation, each layout's extent against its buffer, alignment, devices,
 * overlap); a cuFFT failure returns its status with the cufftResult in native_code and its name
 * ("CUFFT_INVALID_SIZE") in native_name.
 * ------------------------------------------------------------------------------------------- */
typedef enum cudago_fft_type {
  CUDAGO_FFT_C2C = 0, /* complex -> complex */
  CUDAGO_FFT_R2C = 1, /* real -> half complex spectrum, forward only */
  CUDAGO_FFT_C2R = 2, /* half complex spectrum -> real, inverse only; overwrites its input */
  CUDAGO_FFT_TYPE_FORCE32 = 0x7fffffff
} cudago_fft_type_t;

typedef enum cudago_fft_direction {
  CUDAGO_FFT_FORWARD = 0, /* X[k] = sum_j x[j] exp(-2 pi i jk/N) */
  CUDAGO_FFT_INVERSE = 1, /* x[j] = sum_k X[k] exp(+2 pi i jk/N), unscaled */
  CUDAGO_FFT_DIRECTION_FORCE32 = 0x7fffffff
} cudago_fft_direction_t;

/* Normalisation, with N = prod(dims). A scale pass on the stream over the output's layout
 * elements (never the gaps between them); NONE costs nothing. */
typedef enum cudago_fft_norm {
  CUDAGO_FFT_NORM_NONE = 0,    /* no scaling (cuFFT's own convention) */
  CUDAGO_FFT_NORM_INVERSE = 1, /* 1/N on inverse transforms (NumPy's default, "backward") */
  CUDAGO_FFT_NORM_ORTHO = 2,   /* 1/sqrt(N) both ways */
  CUDAGO_FFT_NORM_FORWARD = 3, /* 1/N on forward transforms */
  CUDAGO_FFT_NORM_FORCE32 = 0x7fffffff
} cudago_fft_norm_t;

#define CUDAGO_FFT_MAX_RANK 3

typedef struct cudago_fft_layout {
  int64_t embed[CUDAGO_FFT_MAX_RANK]; /* storage sizes, >= the logical ones; 0 = default */
  int64_t stride;                     /* elements between neighbours in a row; 0 = 1 */
  int64_t dist;                       /* elements between transforms of a batch; 0 = default */
} cudago_fft_layout_t;

typedef struct cudago_fft_desc {
  uint32_t struct_size;              /* sizeof(cudago_fft_desc_t) */
  int32_t rank;                      /* 1, 2 or 3 */
  int64_t dims[CUDAGO_FFT_MAX_RANK]; /* logical sizes, outermost first; unused ones 0 */
  int32_t type;                      /* cudago_fft_type_t */
  int32_t precision;                 /* CUDAGO_DTYPE_F32 or CUDAGO_DTYPE_F64 (real type) */
  int64_t batch;                     /* transforms, >= 1 */
  cudago_fft_layout_t in;            /* all zero = packed default */
  cudago_fft_layout_t out;           /* all zero = packed default */
} cudago_fft_desc_t;

/* Queues the transform `desc` (copied) on `stream`: reads `in` from byte in_offset, writes `out`
 * from byte out_offset. in == out with equal offsets is in place; other overlaps are refused.
 * Both buffers must live on the stream's device and hold the layout's extent past their offset
 * (CUDAGO_ERROR_OUT_OF_RANGE otherwise); offsets must be multiples of the side's element size.
 * direction is a cudago_fft_direction_t (R2C must be forward, C2R inverse), norm a
 * cudago_fft_norm_t. The plan's work area is allocated from the device's pool on `stream` and
 * freed in stream order after the transform. Does not block. */
CUDAGO_API cudago_status_t cudago_fft_exec(cudago_stream_t stream, const cudago_fft_desc_t *desc,
                                           cudago_buffer_t in, uint64_t in_offset,
                                           cudago_buffer_t out, uint64_t out_offset,
                                           int32_t direction, int32_t norm);

/* Bytes the layouts of `desc` (copied) span on the input and on the output side, for
 * in_place = 0 or 1: what in and out must hold past their offsets. Validates desc. */
CUDAGO_API cudago_status_t cudago_fft_extent(const cudago_fft_desc_t *desc, int32_t in_place,
                                             uint64_t *in_bytes, uint64_t *out_bytes);

/* The plan cache. Keyed by device, rank, sizes, type, precision, batch, both resolved layouts
 * and in-place-ness; bounded by a count and by bytes, evicting the least recently used plan.
 * Thread-safe: a plan is checked out for one cudago_fft_exec and returned after it, so no plan
 * is ever used by two threads at once (cuFFT plans hold their stream); threads needing the same
 * shape at the same time get separate plans, all cached afterwards. Evicting a plan first
 * synchronises the stream of its last transform. Plans own no work area: "bytes" is the sum of
 * the cached plans' work-area sizes, the pool memory each needs while it runs. */
typedef struct cudago_fft_cache_stats {
  uint32_t struct_size; /* sizeof(cudago_fft_cache_stats_t) */
  uint32_t reserved0;
  uint64_t hits;        /* exec calls that found an idle cached plan */
  uint64_t misses;      /* exec calls that created a plan */
  uint64_t evictions;   /* plans destroyed by the bounds or by clear */
  uint64_t entries;     /* idle plans in the cache */
  uint64_t bytes;       /* sum of their work-area sizes */
  uint64_t in_use;      /* plans checked out by running exec calls */
  uint64_t max_entries; /* the bounds */
  uint64_t max_bytes;
} cudago_fft_cache_stats_t;

/* Fills *out (borrowed); out->struct_size must be set, fields beyond it are not written. */
CUDAGO_API cudago_status_t cudago_fft_cache_stats(cudago_fft_cache_stats_t *out);
/* Sets the bounds (defaults: 64 plans, 4 GiB) and evicts down to them. max_entries = 0 disables
 * caching (each plan is destroyed after its transform). */
CUDAGO_API cudago_status_t cudago_fft_cache_set_limits(uint64_t max_entries, uint64_t max_bytes);
/* Destroys every idle plan; the counters are kept. */
CUDAGO_API cudago_status_t cudago_fft_cache_clear(void);

/* [peer] */
/* ---------------------------------------------------------------------------------------------
 * Peer access between devices of one process. Peer copies themselves are cudago_copy_d2d and
 * cudago_copy_d2d_async with buffers of two devices; they work with or without peer access.
 * ------------------------------------------------------------------------------------------- */
/* *out = 1 when `device` can read and write `peer`'s memory directly (NVLink or PCIe), else 0.
 * A device always accesses its own memory: device == peer gives 1. Invalid ordinals are
 * CUDAGO_ERROR_INVALID_DEVICE (CUDAGO_ERROR_NO_DEVICE without a GPU). */
CUDAGO_API cudago_status_t cudago_device_can_access_peer(int32_t device, int32_t peer,
                                                         int32_t *out);
/* Lets `device` access `peer`'s memory directly, buffers of peer's cudago pool included, so that
 * peer copies between the two go straight over NVLink/PCIe. One direction only: enable both
 * (d, p) and (p, d) for copies issued on either device's streams. Idempotent (already enabled is
 * success); device == peer is a successful no-op. CUDAGO_ERROR_NOT_SUPPORTED when
 * cudago_device_can_access_peer() gives 0. Process-wide, for every thread. */
CUDAGO_API cudago_status_t cudago_device_enable_peer_access(int32_t device, int32_t peer);
/* Undoes cudago_device_enable_peer_access(): later peer copies are staged through host memory.
 * Idempotent (not enabled is success); device == peer is a successful no-op. Work queued while
 * access was enabled that uses the other device's memory (peer copies, kernels given peer
 * pointers) must have completed first: synchronise the streams that carry it. */
CUDAGO_API cudago_status_t cudago_device_disable_peer_access(int32_t device, int32_t peer);

/* [nccl] */
/* ---------------------------------------------------------------------------------------------
 * NCCL collectives: communicators over the GPUs of this process or over processes, and
 * all-reduce, broadcast, reduce, all-gather, reduce-scatter queued on a cudago stream.
 *
 * Loading: libcudago does not link NCCL. The first NCCL call of the process opens
 * $CUDAGO_NCCL_LIBRARY if set, else "libnccl.so.2" from the loader path (once, thread-safe).
 * Where it cannot be opened (or lacks a needed function), every cudago_nccl_ / cudago_comm_
 * call that needs it returns CUDAGO_ERROR_NCCL with native_code 0 and a message naming the
 * library and dlerror's reason; argument errors found before loading are still reported as
 * such. An NCCL failure returns its mapped status (ncclInvalidArgument and ncclInvalidUsage:
 * INVALID_ARGUMENT, ncclUnhandledCudaError: CUDA, others: NCCL) with the ncclResult_t in
 * native_code and its name ("ncclSystemError") in native_name.
 *
 * Shared machines: NVLink multicast (NVLS) reserves memory on every GPU of the node and is best
 * left off where machines are shared: set NCCL_NVLS_ENABLE=0 in the environment before the
 * first NCCL call. cudago never changes the environment itself.
 *
 * Groups: a thread that issues a collective on several communicators of one clique (one per
 * GPU of this process) must bracket those calls between cudago_comm_group_start() and
 * cudago_comm_group_end(); otherwise the first call may wait forever for its peers. NCCL keeps
 * the group per OS thread, so start, the calls and end must come from one thread (the Go
 * package locks the goroutine to its thread in GroupStart and unlocks it in GroupEnd; its
 * AllReduceAll helper does the whole sequence). Inside a group, errors of the NCCL calls may
 * surface only at group end.
 *
 * Collectives: elements of `dtype` (F32, F64, F16, BF16, I32; others NOT_SUPPORTED); offsets
 * and counts in elements; count >= 1 (INVALID_ARGUMENT). The stream and both buffers must be on
 * the communicator's device (DEVICE_MISMATCH); each buffer must hold its range
 * (OUT_OF_RANGE). send and recv may be the same buffer only in place, as defined per call;
 * other overlaps are INVALID_ARGUMENT. Every rank of the communicator must make the same calls
 * in the same order with the same count, dtype, op and root. Calls are queued and return
 * without waiting; the buffers stay alive until the work is done. After each call the
 * communicator's asynchronous error (ncclCommGetAsyncError) is reported, if any.
 * ------------------------------------------------------------------------------------------- */
typedef struct cudago_comm_s *cudago_comm_t;

#define CUDAGO_NCCL_UNIQUE_ID_BYTES 128
/* An opaque id that ranks of one communicator share (ncclUniqueId); copy it between processes
 * byte for byte. */
typedef struct cudago_nccl_unique_id {
  char internal[CUDAGO_NCCL_UNIQUE_ID_BYTES];
} cudago_nccl_unique_id_t;

typedef enum cudago_nccl_op {
  CUDAGO_NCCL_SUM = 0,
  CUDAGO_NCCL_PROD = 1,
  CUDAGO_NCCL_MIN = 2,
  CUDAGO_NCCL_MAX = 3,
  CUDAGO_NCCL_AVG = 4, /* sum / number of ranks; not for f64 (CUDAGO_ERROR_NOT_SUPPORTED) */
  CUDAGO_NCCL_OP_FORCE32 = 0x7fffffff
} cudago_nccl_op_t;

/* NCCL's version code (major*10000 + minor*100 + patch, e.g. 22803); loads NCCL. *out is 0 when
 * the call fails (CUDAGO_ERROR_NCCL where NCCL is absent). */
CUDAGO_API cudago_status_t cudago_nccl_version(int32_t *out);

/* One communicator per device of this process (ncclCommInitAll): comms[i] (owned) is rank i on
 * devices[i]; devices NULL means 0..count-1. Devices must be distinct valid ordinals; count >= 1.
 * On failure no handle is written. Destroy each with cudago_comm_destroy(). */
CUDAGO_API cudago_status_t cudago_comm_init_all(cudago_comm_t *comms, int32_t count,
                                                const int32_t *devices);
/* A new unique id (ncclGetUniqueId), made by one process and sent to the others. */
CUDAGO_API cudago_status_t cudago_comm_unique_id(cudago_nccl_unique_id_t *out);
/* Rank `rank` of `nranks` on `device` (ncclCommInitRank); *id is copied. Blocks until all
 * nranks ranks have called it with the same id. *out is owned. */
CUDAGO_API cudago_status_t cudago_comm_init_rank(cudago_comm_t *out, int32_t device, int32_t nranks,
                                                 const cudago_nccl_unique_id_t *id, int32_t rank);
/* ncclCommDestroy (ncclCommAbort when the communicator has failed). NULL is a no-op. Queued
 * collectives still complete first. */
CUDAGO_API cudago_status_t cudago_comm_destroy(cudago_comm_t comm);
CUDAGO_API cudago_status_t cudago_comm_device(cudago_comm_t comm, int32_t *device);
CUDAGO_API cudago_status_t cudago_comm_rank(cudago_comm_t comm, int32_t *rank);
CUDAGO_API cudago_status_t cudago_comm_size(cudago_comm_t comm, int32_t *size);

/* recv[recv_offset + i] = op over ranks of send[send_offset + i], i < count. In place: the same
 * buffer and offset. */
CUDAGO_API cudago_status_t cudago_comm_all_reduce(cudago_comm_t comm, cudago_stream_t stream,
                                                  cudago_dtype_t dtype, cudago_nccl_op_t op,
                                                  cudago_buffer_t send, uint64_t send_offset,
                                                  cudago_buffer_t recv, uint64_t recv_offset,
                                                  int64_t count);
/* recv = root's send, count elements (send is read on root only, but checked everywhere). In
 * place: the same buffer and offset. */
CUDAGO_API cudago_status_t cudago_comm_broadcast(cudago_comm_t comm, cudago_stream_t stream,
                                                 cudago_dtype_t dtype, cudago_buffer_t send,
                                                 uint64_t send_offset, cudago_buffer_t recv,
                                                 uint64_t recv_offset, int64_t count, int32_t root);
/* root's recv = op over ranks of send (recv is written on root only, but checked everywhere).
 * In place: the same buffer and offset. */
CUDAGO_API cudago_status_t cudago_comm_reduce(cudago_comm_t comm, cudago_stream_t stream,
                                              cudago_dtype_t dtype, cudago_nccl_op_t op,
                                              cudago_buffer_t send, uint64_t send_offset,
                                              cudago_buffer_t recv, uint64_t recv_offset,
                                              int64_t count, int32_t root);
/* recv holds size * count elements: rank r's send (count elements) lands at
 * recv_offset + r * count. In place: the same buffer with send_offset == recv_offset +
 * rank * count. */
CUDAGO_API cudago_status_t cudago_comm_all_gather(cudago_comm_t comm, cudago_stream_t stream,
                                                  cudago_dtype_t dtype, cudago_buffer_t send,
                                                  uint64_t send_offset, cudago_buffer_t recv,
                                                  uint64_t recv_offset, int64_t count);
/* send holds size * count elements; rank r's recv (count elements) = op over ranks of send's
 * slice r. In place: the same buffer with recv_offset == send_offset + rank * count. */
CUDAGO_API cudago_status_t cudago_comm_reduce_scatter(cudago_comm_t comm, cudago_stream_t stream,
                                                      cudago_dtype_t dtype, cudago_nccl_op_t op,
                                                      cudago_buffer_t send, uint64_t send_offset,
                                                      cudago_buffer_t recv, uint64_t recv_offset,
                                                      int64_t count);
/* ncclGroupStart / ncclGroupEnd on the calling OS thread (they nest). */
CUDAGO_API cudago_status_t cudago_comm_group_start(void);
CUDAGO_API cudago_status_t cudago_comm_group_end(void);

/* [nvrtc] Run-time compilation (NVRTC) and launch of your own kernels.
 *
 * cudago_module_compile compiles CUDA C++ source to SASS for the device's architecture
 * (-arch=sm_XY from its compute capability, unless opts->arch says otherwise) and loads it on
 * that device; a module belongs to that one device. Kernels are looked up by name (extern "C"
 * names, or a name expression given at compile time for templates) and are handles of their own
 * that keep their module alive: destroying a module while its kernels live is allowed (the code
 * stays loaded until the last kernel is destroyed). Destroying the last owner waits for the
 * streams that launched its kernels, then unloads the code.
 *
 * Compile cache: results are cached by source, options, headers, name expressions, architecture
 * and NVRTC version, in memory (LRU, 256 entries by default) and, once a directory is set, on
 * disk (one file per key, written atomically; unreadable or foreign files are ignored). A hit
 * does not run NVRTC. */
typedef struct cudago_module_s *cudago_module_t;
typedef struct cudago_kernel_s *cudago_kernel_t;

typedef struct cudago_define {
  const char *name;  /* -Dname=value */
  const char *value; /* NULL or "" gives -Dname */
} cudago_define_t;

typedef struct cudago_header {
  const char *name;    /* as written in #include "name" */
  const char *content; /* the header's text */
} cudago_header_t;

/* opts->flags */
#define CUDAGO_COMPILE_NO_CACHE 1u /* always run NVRTC; neither read nor fill the cache */

/* Every pointer is borrowed for the call; strings and arrays are copied. Zero fields take the
 * defaults. */
typedef struct cudago_compile_options {
  uint32_t struct_size; /* sizeof(cudago_compile_options_t) */
  uint32_t flags;       /* CUDAGO_COMPILE_* */
  const char *arch;     /* "sm_90", "compute_90" (PTX, JIT-compiled at load); NULL or "": the
                           device's sm_XY */
  const char *std;      /* "c++17" when NULL; "" passes no -std */
  const cudago_define_t *defines;
  int32_t num_defines;
  int32_t num_options;
  const char *const *options; /* extra NVRTC options, passed as they are */
  const cudago_header_t *headers;
  int32_t num_headers;
  int32_t num_name_expressions;
  const char *const *name_expressions; /* e.g. "block_sum<float, 256>" */
  /* Optional, filled on success (warnings) and on failure (the errors): the compiler's log,
   * truncated to log_cap - 1 bytes and NUL-terminated (when log_cap > 0); *log_len (when not
   * NULL) gets the log's full length, so a caller can see that it was cut. */
  char *log;
  size_t log_cap;
  size_t *log_len;
} cudago_compile_options_t;

/* Compiles `source` (copied) for `device` and loads it there; *out is owned by the caller. A
 * compile error returns CUDAGO_ERROR_NVRTC with the log at the end of the error message (which
 * is truncated) and whole in opts->log; an option NVRTC refuses returns
 * CUDAGO_ERROR_INVALID_ARGUMENT. opts may be NULL (all defaults). */
CUDAGO_API cudago_status_t cudago_module_compile(cudago_module_t *out, int32_t device,
                                                 const cudago_compile_options_t *opts,
                                                 const char *source);
/* Compiles without loading and without a device: opts->arch is required. Count-then-fill: the
 * image (CUBIN, or NUL-terminated PTX for compute_XY) is copied to image when cap is large
 * enough, and *len gets its size; image may be NULL to ask for the size (a second call is
 * served from the cache unless CUDAGO_COMPILE_NO_CACHE). */
CUDAGO_API cudago_status_t cudago_rtc_compile(const cudago_compile_options_t *opts,
                                              const char *source, void *image, size_t cap,
                                              size_t *len);
CUDAGO_API cudago_status_t cudago_module_destroy(cudago_module_t module);
/* The compiler's log of a compiled module (warnings; often empty). Same truncation rule as
 * cudago_compile_options_t.log; *len (required) gets the full length. */
CUDAGO_API cudago_status_t cudago_module_log(cudago_module_t module, char *buf, size_t cap,
                                             size_t *len);
CUDAGO_API cudago_status_t cudago_module_device(cudago_module_t module, int32_t *out);

/* Looks a kernel up; *out is owned by the caller and keeps the module alive. A name given as a
 * name expression at compile time is found by that expression. */
CUDAGO_API cudago_status_t cudago_module_kernel(cudago_kernel_t *out, cudago_module_t module,
                                                const char *name);
CUDAGO_API cudago_status_t cudago_kernel_destroy(cudago_kernel_t kernel);

typedef struct cudago_kernel_attributes {
  uint32_t struct_size; /* set by the caller: sizeof(cudago_kernel_attributes_t) */
  int32_t num_regs;     /* registers per thread */
  int32_t max_threads_per_block;
  int32_t num_params;   /* -1 when the driver cannot report the parameters (then unchecked) */
  int64_t shared_bytes; /* static shared memory per block */
  int64_t const_bytes;
  int64_t local_bytes; /* per thread */
  int32_t ptx_version, binary_version;
} cudago_kernel_attributes_t;

CUDAGO_API cudago_status_t cudago_kernel_attributes(cudago_kernel_t kernel,
                                                    cudago_kernel_attributes_t *out);
/* The block size with the best occupancy for dyn_smem bytes of dynamic shared memory, and the
 * smallest grid that fills the device with it. */
CUDAGO_API cudago_status_t cudago_kernel_occupancy(cudago_kernel_t kernel, size_t dyn_smem,
                                                   int32_t *block, int32_t *min_grid);

typedef enum cudago_arg_kind {
  CUDAGO_ARG_BUFFER = 0,      /* buffer's device address + offset (bytes) */
  CUDAGO_ARG_HOST_BUFFER = 1, /* a mapped host buffer's device address + offset (bytes) */
  CUDAGO_ARG_I32 = 2,         /* v.i, must fit */
  CUDAGO_ARG_U32 = 3,         /* v.u, must fit */
  CUDAGO_ARG_I64 = 4,         /* v.i */
  CUDAGO_ARG_U64 = 5,         /* v.u */
  CUDAGO_ARG_F32 = 6,         /* v.f, rounded to float */
  CUDAGO_ARG_F64 = 7,         /* v.f */
  CUDAGO_ARG_BYTES = 8        /* size bytes at bytes: a plain struct, as the kernel lays it out */
} cudago_arg_kind_t;

typedef union cudago_arg_value {
  int64_t i;
  uint64_t u;
  double f;
} cudago_arg_value_t;

typedef struct cudago_kernel_arg {
  int32_t kind;    /* cudago_arg_kind_t */
  uint32_t size;   /* CUDAGO_ARG_BYTES: the number of bytes */
  uint64_t offset; /* buffer kinds: byte offset into the buffer */
  cudago_buffer_t buffer;
  cudago_host_buffer_t host;
  cudago_arg_value_t v;
  const void *bytes;
} cudago_kernel_arg_t;

/* Queues kernel<<<grid, block, dyn_smem, stream>>>(args...). args (borrowed, copied during the
 * call) must match the kernel's parameters in count and in each size (checked against CUDA's
 * parameter info, cudaFuncGetParamInfo, before anything is queued: CUDAGO_ERROR_INVALID_ARGUMENT;
 * unchecked where the driver cannot report it, see num_params). Buffers and the
 * stream must be on the module's device (CUDAGO_ERROR_DEVICE_MISMATCH). */
CUDAGO_API cudago_status_t cudago_kernel_launch(cudago_kernel_t kernel, cudago_stream_t stream,
                                                const uint32_t grid[3], const uint32_t block[3],
                                                uint32_t dyn_smem, const cudago_kernel_arg_t *args,
                                                int32_t nargs);

typedef struct cudago_rtc_cache_stats {
  uint32_t struct_size; /* set by the caller: sizeof(cudago_rtc_cache_stats_t) */
  uint32_t reserved0;
  uint64_t hits;      /* served from memory */
  uint64_t disk_hits; /* served from the disk directory */
  uint64_t misses;    /* compiled by NVRTC with the cache on */
  uint64_t entries;   /* results held in memory */
} cudago_rtc_cache_stats_t;

/* dir (copied) is created if missing; NULL or "" turns the disk cache off (the default). */
CUDAGO_API cudago_status_t cudago_rtc_cache_set_dir(const char *dir);
/* The number of results kept in memory; 0 turns the memory cache off. */
CUDAGO_API cudago_status_t cudago_rtc_cache_set_capacity(uint64_t entries);
CUDAGO_API cudago_status_t cudago_rtc_cache_stats(cudago_rtc_cache_stats_t *out);
/* Empties the memory cache and zeroes the stats; files on disk stay. */
CUDAGO_API cudago_status_t cudago_rtc_cache_clear(void);

/* [graph] ------------------------------------------------------------------------------------
 * CUDA Graphs: capture the work cudago queues on a stream, then replay it with one launch.
 *
 * Between cudago_stream_begin_capture and cudago_stream_end_capture, every cudago call that
 * queues work on the stream (kernels, cudago_kernel_launch, async copies and memsets, cuBLAS and
 * cuFFT calls) is recorded into a graph instead of running. end_capture instantiates it; each
 * cudago_graph_launch then replays it, ordered on the launch stream like any other work.
 *
 *  - Buffers used in the capture must outlive the graph's launches: launching after one of
 *    them was destroyed is CUDAGO_ERROR_INVALID_HANDLE, and a buffer's free waits for the
 *    graph's launches. Modules, mapped host buffers and cuFFT plans used in it are kept alive
 *    by the graph. cuBLAS/cuFFT work areas and reduction scratch are allocated by the graph.
 *  - cuFFT cannot create a plan during a capture: run each transform shape once before
 *    capturing it (a plan-cache miss inside a capture is CUDAGO_ERROR_CAPTURE, refused before
 *    cuFFT is called, so the capture goes on).
 *  - Allocating a buffer on the capturing stream is CUDAGO_ERROR_CAPTURE (allocate before the
 *    capture). Destroying a buffer during the capture is allowed (a buffer owned by the
 *    capturing stream is freed when the capture ends); a graph that used it refuses to launch.
 *  - Illegal calls fail the capture: a synchronous cudago copy or memset by the capturing
 *    thread (THREAD_LOCAL and GLOBAL modes), a synchronisation or query of the capturing
 *    stream, anything CUDA forbids in the mode. The call itself returns an error, and
 *    end_capture returns CUDAGO_ERROR_CAPTURE (or the failed call's status) with the reason;
 *    in every case the stream leaves capture mode and stays usable.
 *  - In THREAD_LOCAL and GLOBAL modes, end the capture on the thread that began it.
 *  - cudago_stream_destroy of a capturing stream ends and drops its capture.
 *  - Work forked to other streams with events inside a capture is captured by CUDA, but only
 *    buffers used on the capturing stream itself are tracked by the graph.
 * ------------------------------------------------------------------------------------------- */
typedef struct cudago_graph_s *cudago_graph_t;

typedef enum cudago_capture_mode {
  CUDAGO_CAPTURE_THREAD_LOCAL = 0, /* this thread's unsafe calls fail the capture (default) */
  CUDAGO_CAPTURE_GLOBAL = 1,       /* any thread's unsafe CUDA calls fail it */
  CUDAGO_CAPTURE_RELAXED = 2       /* nothing is refused; the caller takes care */
} cudago_capture_mode_t;

/* Starts capturing stream. CUDAGO_ERROR_CAPTURE when it is already capturing. */
CUDAGO_API cudago_status_t cudago_stream_begin_capture(cudago_stream_t stream, int32_t mode);
/* Ends the capture and instantiates it: *out (owned) is set on success, NULL on failure. The
 * stream is no longer capturing when this returns (unless the wrong thread called it:
 * CUDAGO_ERROR_CAPTURE, and the capture goes on); a NULL out still ends the capture and drops
 * the graph (CUDAGO_ERROR_INVALID_ARGUMENT). An empty capture gives a valid graph. */
CUDAGO_API cudago_status_t cudago_stream_end_capture(cudago_stream_t stream, cudago_graph_t *out);
CUDAGO_API cudago_status_t cudago_stream_is_capturing(cudago_stream_t stream, int32_t *capturing);

/* Queues one replay on stream (of the graph's device: CUDAGO_ERROR_DEVICE_MISMATCH; not itself
 * capturing: CUDAGO_ERROR_CAPTURE). Launches of one graph run one after another. */
CUDAGO_API cudago_status_t cudago_graph_launch(cudago_graph_t graph, cudago_stream_t stream);
/* Uploads the graph's work ahead of its first launch, so that one is as fast as the rest (same
 * stream rules as cudago_graph_launch). */
CUDAGO_API cudago_status_t cudago_graph_upload(cudago_graph_t graph, cudago_stream_t stream);
/* Ends the capture in progress on stream and applies it to graph: same nodes, types, order and
 * dependencies, same kernels; kernel arguments, launch sizes and copy/memset addresses may
 * change. Otherwise CUDAGO_ERROR_CAPTURE names CUDA's reason and graph is unchanged. Either
 * way the stream is no longer capturing (a NULL graph too: the capture is dropped and the call
 * returns CUDAGO_ERROR_INVALID_HANDLE). Launches already queued are not affected. */
CUDAGO_API cudago_status_t cudago_graph_update(cudago_graph_t graph, cudago_stream_t stream);
CUDAGO_API cudago_status_t cudago_graph_node_count(cudago_graph_t graph, uint64_t *count);
CUDAGO_API cudago_status_t cudago_graph_device(cudago_graph_t graph, int32_t *device);
/* Waits for the graph's launches, then frees it and what it kept alive. NULL is a no-op. */
CUDAGO_API cudago_status_t cudago_graph_destroy(cudago_graph_t graph);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CUDAGO_H */
