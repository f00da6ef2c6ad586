/*
 * A fake libnvidia-ml for the NVML loader's tests (tests/core/nvml_test.cpp and the Go metrics
 * tests load it through CUDAGO_NVML_LIBRARY). tests/meson.build builds one library per variant:
 *
 *   NVML_STUB_FULL      two devices with fixed values; device 0 has GPM. The tests' own
 *                       nvml_stub_set_devices(n) makes the count smaller: a device that
 *                       disappears.
 *   NVML_STUB_MISSING   the full library without nvmlDeviceGetPowerUsage (a required function).
 *   NVML_STUB_ERRORS    four devices: 0 fails its power, temperature and one GPM metric and has
 *                       an energy counter near 2^64 mJ; 1's handle fails; 2's UUID fails; 3 is
 *                       whole. No nvmlDeviceGetMemoryInfo_v2 (the loader falls back to v1).
 *   NVML_STUB_INITFAIL  nvmlInit_v2 fails with NVML_ERROR_DRIVER_NOT_LOADED.
 */
/* nvmlDeviceGetTemperatureV is defined below with its struct spelled out (older headers lack
 * the type): the header's declaration is renamed out of the way. */
#define nvmlDeviceGetTemperatureV stub_header_nvmlDeviceGetTemperatureV
#include <nvml.h>
#undef nvmlDeviceGetTemperatureV
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(NVML_STUB_ERRORS)
#define STUB_DEVICES 4u
#else
#define STUB_DEVICES 2u
#endif

static unsigned index_of(nvmlDevice_t d) { return (unsigned)((uintptr_t)d - 1u); }

static int bad(nvmlDevice_t d) { return d == NULL || index_of(d) >= STUB_DEVICES; }

nvmlReturn_t nvmlInit_v2(void) {
#if defined(NVML_STUB_INITFAIL)
  return NVML_ERROR_DRIVER_NOT_LOADED;
#else
  return NVML_SUCCESS;
#endif
}

nvmlReturn_t nvmlShutdown(void) { return NVML_SUCCESS; }

const char *nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case NVML_SUCCESS:
      return "Success";
    case NVML_ERROR_DRIVER_NOT_LOADED:
      return "Driver Not Loaded";
    case NVML_ERROR_GPU_IS_LOST:
      return "GPU is lost";
    default:
      return "Unknown Error";
  }
}

/* The tests' control (not NVML's): how many devices nvmlDeviceGetCount_v2 reports, at most
 * STUB_DEVICES. */
static unsigned visible = STUB_DEVICES;
void nvml_stub_set_devices(unsigned n) {
  __atomic_store_n(&visible, n < STUB_DEVICES ? n : STUB_DEVICES, __ATOMIC_SEQ_CST);
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
  if (count == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *count = __atomic_load_n(&visible, __ATOMIC_SEQ_CST);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
  if (device == NULL || index >= STUB_DEVICES) return NVML_ERROR_INVALID_ARGUMENT;
#if defined(NVML_STUB_ERRORS)
  if (index == 1) return NVML_ERROR_GPU_IS_LOST;
#endif
  *device = (nvmlDevice_t)(uintptr_t)(index + 1u);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
  if (bad(device) || uuid == NULL) return NVML_ERROR_INVALID_ARGUMENT;
#if defined(NVML_STUB_ERRORS)
  if (index_of(device) == 2) return NVML_ERROR_UNKNOWN;
#endif
  snprintf(uuid, length, "GPU-%08u-1111-2222-3333-444444444444", index_of(device));
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
  if (bad(device) || name == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  snprintf(name, length, "%s",
           index_of(device) == 0 ? "NVIDIA H100 80GB HBM3" : "Fake \"GPU\" \\1");
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *u) {
  if (bad(device) || u == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  u->gpu = index_of(device) == 0 ? 75 : 0;
  u->memory = index_of(device) == 0 ? 30 : 0;
  return NVML_SUCCESS;
}

#define GIB 1073741824ull

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *m) {
  if (bad(device) || m == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  m->total = index_of(device) == 0 ? 80 * GIB : 40 * GIB;
  m->used = index_of(device) == 0 ? 3 * GIB / 2 : GIB / 2; /* v1: the reserve included */
  m->free = m->total - m->used;
  return NVML_SUCCESS;
}

#if !defined(NVML_STUB_ERRORS)
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *m) {
  if (bad(device) || m == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  if (m->version != nvmlMemory_v2) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  m->total = index_of(device) == 0 ? 80 * GIB : 40 * GIB;
  m->reserved = GIB / 2;
  m->used = index_of(device) == 0 ? GIB : 0;
  m->free = m->total - m->used - m->reserved;
  return NVML_SUCCESS;
}
#endif

#if !defined(NVML_STUB_MISSING)
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power) {
  if (bad(device) || power == NULL) return NVML_ERROR_INVALID_ARGUMENT;
#if defined(NVML_STUB_ERRORS)
  if (index_of(device) == 0) return NVML_ERROR_UNKNOWN;
#endif
  *power = index_of(device) == 0 ? 250000 : 60500; /* mW */
  return NVML_SUCCESS;
}
#endif

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit) {
  if (bad(device) || limit == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *limit = index_of(device) == 0 ? 700000 : 400000; /* mW */
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *energy) {
  if (bad(device) || energy == NULL) return NVML_ERROR_INVALID_ARGUMENT;
#if defined(NVML_STUB_ERRORS)
  *energy = index_of(device) == 0 ? 18446744073709551000ull : 5000ull; /* near 2^64 mJ */
#else
  *energy = index_of(device) == 0 ? 123456789ull : 0ull; /* mJ */
#endif
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, nvmlTemperatureSensors_t sensor,
                                      unsigned int *temp) {
  if (bad(device) || temp == NULL || sensor != NVML_TEMPERATURE_GPU) {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
#if defined(NVML_STUB_ERRORS)
  if (index_of(device) == 0) return NVML_ERROR_UNKNOWN;
  *temp = 33;
#else
  *temp = 99;                                            /* the full stub has nvmlDeviceGetTemperatureV too, which the loader prefers */
#endif
  return NVML_SUCCESS;
}

#if !defined(NVML_STUB_ERRORS)
/* nvmlTemperature_v1_t's layout (older headers lack the type). */
typedef struct {
  unsigned int version;
  int sensorType;
  int temperature;
} stub_temperature_v1;

nvmlReturn_t nvmlDeviceGetTemperatureV(nvmlDevice_t device, stub_temperature_v1 *t) {
  if (bad(device) || t == NULL || t->sensorType != NVML_TEMPERATURE_GPU) {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  if (t->version != ((unsigned)sizeof(stub_temperature_v1) | 1u << 24)) {
    return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  }
  t->temperature = index_of(device) == 0 ? 45 : 30;
  return NVML_SUCCESS;
}
#endif

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, nvmlClockType_t type,
                                    unsigned int *clock) {
  if (bad(device) || clock == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  if (type == NVML_CLOCK_SM) {
    *clock = index_of(device) == 0 ? 1980 : 210;
  } else if (type == NVML_CLOCK_MEM) {
    *clock = index_of(device) == 0 ? 2619 : 1215;
  } else {
    return NVML_ERROR_NOT_SUPPORTED;
  }
  return NVML_SUCCESS;
}

/* GPM: a sample records its device and a tick. */
struct nvmlGpmSample_st {
  unsigned device;
  unsigned long tick;
  int filled;
};
static unsigned long ticks;

nvmlReturn_t nvmlGpmQueryDeviceSupport(nvmlDevice_t device, nvmlGpmSupport_t *s) {
  if (bad(device) || s == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  if (s->version != NVML_GPM_SUPPORT_VERSION) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  s->isSupportedDevice = index_of(device) == 0 || index_of(device) == 3;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmSampleAlloc(nvmlGpmSample_t *s) {
  if (s == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *s = (nvmlGpmSample_t)calloc(1, sizeof(struct nvmlGpmSample_st));
  return *s != NULL ? NVML_SUCCESS : NVML_ERROR_MEMORY;
}

nvmlReturn_t nvmlGpmSampleFree(nvmlGpmSample_t s) {
  free(s);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmSampleGet(nvmlDevice_t device, nvmlGpmSample_t s) {
  if (bad(device) || s == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  s->device = index_of(device);
  s->tick = ++ticks;
  s->filled = 1;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmMetricsGet(nvmlGpmMetricsGet_t *m) {
  unsigned i;
  if (m == NULL || m->version != NVML_GPM_METRICS_GET_VERSION || m->sample1 == NULL ||
      m->sample2 == NULL || !m->sample1->filled || !m->sample2->filled ||
      m->sample1->device != m->sample2->device || m->sample1->tick >= m->sample2->tick) {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  for (i = 0; i < m->numMetrics; ++i) {
    nvmlGpmMetric_t *x = &m->metrics[i];
    x->nvmlReturn = NVML_SUCCESS;
    switch (x->metricId) {
      case NVML_GPM_METRIC_SM_UTIL:
        x->value = 50.0;
        break;
      case NVML_GPM_METRIC_SM_OCCUPANCY:
#if defined(NVML_STUB_ERRORS)
        x->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
#endif
        x->value = 25.0;
        break;
      case NVML_GPM_METRIC_ANY_TENSOR_UTIL:
        x->value = 12.5;
        break;
      case NVML_GPM_METRIC_DRAM_BW_UTIL:
        x->value = 75.0;
        break;
      default:
        x->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
    }
  }
  return NVML_SUCCESS;
}
