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
  CUDAGO_STATUS_FORCE32 = 0x7fffffff
} cudago_status_t;

/* Static English name of a status ("CUDAGO_ERROR_OUT_OF_MEMORY: out of memory"); never NULL. */
CUDAGO_API const char *cudago_status_string(cudago_status_t status);

/* Detail of the last call made on the calling OS thread. Grows only at its end. */
typedef struct cudago_error_info {
  uint32_t struct_size;  /* set by the caller: sizeof(cudago_error_info_t) */
  int32_t status;        /* cudago_status_t */
  int32_t native_code;   /* cudaError_t, cublasStatus_t, ... or 0 */
  char native_name[64];  /* e.g. "cudaErrorMemoryAllocation", or "" */
  char operation[64];    /* the cudago operation, e.g. "cudago_buffer_alloc" */
  char message[512];     /* what failed and why, NUL-terminated, possibly truncated */
} cudago_error_info_t;

#define CUDAGO_ERROR_INFO_INIT {sizeof(cudago_error_info_t), 0, 0, {0}, {0}, {0}}

/* Copies the calling thread's last error detail into *out (borrowed). out->struct_size must be
 * set; fields beyond it are not written. After a successful call the status is CUDAGO_SUCCESS. */
CUDAGO_API cudago_status_t cudago_error_last(cudago_error_info_t *out);

/* ---------------------------------------------------------------------------------------------
 * Versions.
 * ------------------------------------------------------------------------------------------- */
CUDAGO_API uint32_t cudago_version_number(void); /* CUDAGO_VERSION_NUMBER of the library */
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
  int32_t ecc_enabled;            /* 0 or 1 */
  int32_t integrated;             /* 0 or 1 */
  int32_t can_map_host_memory;    /* 0 or 1 */
  int32_t memory_pools_supported; /* 0 or 1 */
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

CUDAGO_API cudago_status_t cudago_event_create(cudago_event_t *out, int32_t device,
                                               uint32_t flags);
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

#define CUDAGO_POOL_CONFIG_INIT {sizeof(cudago_pool_config_t), 0, 0, 0}

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
CUDAGO_API cudago_status_t cudago_host_buffer_device(cudago_host_buffer_t buffer,
                                                     int32_t *device);
/* Host address (borrowed, valid until the buffer is freed). */
CUDAGO_API cudago_status_t cudago_host_buffer_host_pointer(cudago_host_buffer_t buffer,
                                                           void **out);
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
 * sizes; zero-length operations succeed and do nothing. Device-to-device copies need both
 * buffers on one device.
 *
 * Synchronous forms take any host memory (borrowed for the call) and return when the copy is
 * complete. They are ordered after all work that cudago calls queued with the device buffers on
 * any stream (so a result can be read back right after the kernel that wrote it), and they run
 * on the buffer's owning stream. Asynchronous forms take a host buffer and a stream and are
 * ordered on that stream only; the host buffer must not be reused until the stream has passed
 * the copy.
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

/* [sgemm+transpose] */

/* [blas] */

/* [fft] */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CUDAGO_H */
