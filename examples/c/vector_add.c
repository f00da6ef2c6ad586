/*
 * vector_add.c: c = a + b over 10 million floats through the cudago C ABI.
 *
 * Shows the whole life of GPU work from C: list the devices, create a stream, take device
 * buffers from the device's memory pool, copy inputs in through pinned host buffers, run the
 * kernel between two events to time it, copy the result back and check it against a CPU loop.
 *
 *   cc vector_add.c $(pkg-config --cflags --libs cudago) -o vector_add && ./vector_add
 *
 * Exits 1 with "no CUDA device: <reason>" where there is no GPU.
 */
#include <cudago.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 10000000u

/* Reports a failed call with the library's detail and jumps to cleanup. */
#define TRY(call)                 \
  do {                            \
    cudago_status_t st_ = (call); \
    if (st_ != CUDAGO_SUCCESS) {  \
      report(#call, st_);         \
      goto cleanup;               \
    }                             \
  } while (0)

static void report(const char *call, cudago_status_t status) {
  cudago_error_info_t info = CUDAGO_ERROR_INFO_INIT;
  /* The detail belongs to the last cudago call on this thread: read it first. */
  int have_detail = cudago_error_last(&info) == CUDAGO_SUCCESS && info.status != CUDAGO_SUCCESS;
  fprintf(stderr, "%s failed: %s\n", call, cudago_status_string(status));
  if (have_detail) {
    fprintf(stderr, "  %s: %s", info.operation, info.message);
    if (info.native_name[0] != '\0') fprintf(stderr, " (%s)", info.native_name);
    fprintf(stderr, "\n");
  }
}

static int print_devices(int32_t count) {
  int32_t d;
  for (d = 0; d < count; d++) {
    cudago_device_properties_t p;
    cudago_status_t st;
    cudago_device_properties_init(&p);
    st = cudago_device_properties(d, &p);
    if (st != CUDAGO_SUCCESS) {
      report("cudago_device_properties", st);
      return -1;
    }
    printf("device %d: %s (compute %d.%d, %d SMs, %.1f GiB, PCI %s)\n", (int)d, p.name,
           (int)p.compute_major, (int)p.compute_minor, (int)p.multiprocessor_count,
           (double)p.total_memory_bytes / (1024.0 * 1024.0 * 1024.0), p.pci_bus_id);
  }
  return 0;
}

int main(void) {
  const uint64_t n = N;
  const uint64_t bytes = n * sizeof(float);
  int32_t count = 0;
  int rc = 1;
  cudago_stream_t stream = NULL;
  cudago_event_t start = NULL;
  cudago_event_t stop = NULL;
  cudago_host_buffer_t ha = NULL, hb = NULL, hc = NULL;
  cudago_buffer_t da = NULL, db = NULL, dc = NULL;
  float *a, *b, *c;
  void *p;
  float ms = 0.0f;
  uint64_t i, wrong = 0;

  TRY(cudago_device_count(&count));
  if (count == 0) {
    fprintf(stderr, "no CUDA device: %s\n", cudago_no_device_reason());
    return 1;
  }
  printf("cudago %s, %d device(s)\n", cudago_version_string(), (int)count);
  if (print_devices(count) != 0) return 1;

  /* Everything below runs on device 0. */
  TRY(cudago_stream_create(&stream, 0, CUDAGO_STREAM_NON_BLOCKING, 0));
  TRY(cudago_event_create(&start, 0, CUDAGO_EVENT_DEFAULT));
  TRY(cudago_event_create(&stop, 0, CUDAGO_EVENT_DEFAULT));

  /* Pinned host memory: copies from it run at full speed and may be asynchronous. */
  TRY(cudago_host_buffer_alloc(&ha, 0, bytes, CUDAGO_HOST_PINNED));
  TRY(cudago_host_buffer_alloc(&hb, 0, bytes, CUDAGO_HOST_PINNED));
  TRY(cudago_host_buffer_alloc(&hc, 0, bytes, CUDAGO_HOST_PINNED));
  TRY(cudago_host_buffer_host_pointer(ha, &p));
  a = (float *)p;
  TRY(cudago_host_buffer_host_pointer(hb, &p));
  b = (float *)p;
  TRY(cudago_host_buffer_host_pointer(hc, &p));
  c = (float *)p;
  for (i = 0; i < n; i++) {
    a[i] = (float)(i % 4096) * 0.5f;
    b[i] = 1.0f / (float)(i % 1021 + 1);
  }

  /* Device buffers come from the device's pool, ordered on the stream. */
  TRY(cudago_buffer_alloc_async(&da, stream, bytes));
  TRY(cudago_buffer_alloc_async(&db, stream, bytes));
  TRY(cudago_buffer_alloc_async(&dc, stream, bytes));
  TRY(cudago_copy_h2d_async(stream, ha, 0, da, 0, bytes));
  TRY(cudago_copy_h2d_async(stream, hb, 0, db, 0, bytes));

  /* One untimed launch to load the kernel, then the timed one. */
  TRY(cudago_elementwise_binary(stream, da, 0, db, 0, dc, 0, n, CUDAGO_DTYPE_F32,
                                CUDAGO_BINARY_ADD));
  TRY(cudago_event_record(start, stream));
  TRY(cudago_elementwise_binary(stream, da, 0, db, 0, dc, 0, n, CUDAGO_DTYPE_F32,
                                CUDAGO_BINARY_ADD));
  TRY(cudago_event_record(stop, stream));
  TRY(cudago_copy_d2h_async(stream, dc, 0, hc, 0, bytes));
  TRY(cudago_stream_synchronize(stream)); /* a kernel fault would surface here */
  TRY(cudago_event_elapsed_ms(start, stop, &ms));

  for (i = 0; i < n; i++) {
    if (c[i] != a[i] + b[i]) {
      if (wrong < 5) {
        fprintf(stderr, "c[%lu] = %g, want %g\n", (unsigned long)i, (double)c[i],
                (double)(a[i] + b[i]));
      }
      wrong++;
    }
  }
  if (wrong != 0) {
    fprintf(stderr, "vector add: %lu of %lu elements wrong\n", (unsigned long)wrong,
            (unsigned long)n);
    goto cleanup;
  }
  /* Reads a and b, writes c: 12 bytes per element. */
  printf("vector add of %lu floats: %.3f ms, %.1f GB/s, matches the CPU\n", (unsigned long)n,
         (double)ms, ms > 0.0f ? (double)(3 * bytes) / ((double)ms * 1e6) : 0.0);
  rc = 0;

cleanup:
  /* Each release is safe on NULL; device buffers are freed in stream order. */
  cudago_buffer_free(da);
  cudago_buffer_free(db);
  cudago_buffer_free(dc);
  cudago_host_buffer_free(ha);
  cudago_host_buffer_free(hb);
  cudago_host_buffer_free(hc);
  cudago_event_destroy(start);
  cudago_event_destroy(stop);
  cudago_stream_destroy(stream);
  return rc;
}
