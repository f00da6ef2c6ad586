// capi_fuzz.cpp: a libFuzzer harness for the whole C ABI of libcudago (capi/cudago.h).
//
// What it fuzzes
//   Every CUDAGO_API entry point of capi/cudago.h (135 of them, the 20 of the experimental CNN
//   runtime, its server and the metrics included: the harness defines CUDAGO_EXPERIMENTAL; the
//   table kOps below has one row per function, named after it). An input is a program: up to
//   kStepsPerInput calls, each an index into kOps (ConsumeIntegralInRange) followed by that call's
//   arguments, all drawn from a FuzzedDataProvider. It needs no GPU: without one, every call that
//   needs a device fails with a status, and the harness checks that failure as closely as it checks
//   a success.
//
// Palettes
//   - Pointers: NULL, or harness-owned storage of the right type and size (out parameters, input
//     arrays, strings, host memory for copies).
//   - Handles: NULL, or a handle that an earlier successful create call of the same input
//     returned (kept in vectors; every handle still held is destroyed at the end of the input; a
//     destroyed handle is dropped at once, whatever the status, so none is ever used after its
//     destroy call). A freed or made-up handle is the caller's undefined behaviour and is never
//     passed.
//   - Integers: edge values (0, 1, -1, INT32_MIN/MAX, INT64_MAX, UINT64_MAX, UINT64_MAX - 7,
//     2^40, 2^62, 2^63, 32764/32765, ...), powers of two +-1, small values, raw values.
//   - Enums and flags: every valid value, then 77, -1, INT32_MIN, INT32_MAX (the FORCE32 value)
//     and raw values; flags also get unknown bits.
//   - Doubles: 0, -0, +-1, NaN, +-Inf, the smallest subnormal, DBL_MAX, raw bit patterns.
//   - Size-tagged structs: filled by their cudago_*_init, then struct_size from {0, 1, 3,
//     sizeof - 1, sizeof, sizeof + 1, sizeof + 8, 4096, UINT32_MAX} (sizeof most often), then the
//     other fields fuzzed. Each struct is a local of exactly its own size (ASan sees any access
//     past it).
//   - Strings: NULL, fixed palettes, or short strings built from the input, always owned by the
//     harness and NUL-terminated.
//   - Counts of arrays: the real length of the harness array behind the pointer (or less), or,
//     only with a NULL pointer, a bogus larger count. Counts that the header promises to refuse
//     before any array is read (the compile options' counts above INT32_MAX, num_defines +
//     num_options above INT32_MAX) are also passed with real short arrays.
//   - CNN models (cudago_nn_*): the bytes come from a palette of valid models built at start-up
//     with libonnx's protobuf classes (Conv + Relu on [N,3,5,5]; a fixed-batch Gemm [2,6] x [6,4];
//     two inputs [N,2,3] added then Softmax, both results outputs; a fixed-batch image [2,2,3,3]
//     through Relu; the Gemm with its weight in an external data file), cut at a length from the
//     input or with one bit flipped, or junk; cudago_nn_model_load's paths are those models
//     written at start-up into a directory of the harness, a truncated one, one whose external
//     data is "../escape.bin" (which exists), an empty file, a directory, a missing file and
//     NULL. Options: NULL or a struct with every struct_size, edge devices, backends,
//     precisions, formats and flags, max_batch from 0 to edge values, the harness's directory or
//     odd ones as base_dir and cache_dir, NaN/Inf/0 scale, mean and std. Model handles are only
//     those a load of the same input returned. cudago_nn_model_run_host: the pointer and size
//     arrays are harness arrays of kNnMaxTensors entries (a larger count only with a NULL array);
//     each buffer is its own heap block of exactly the size passed (short, long, 0 or exact;
//     only a bogus size past the exact one gets a small block), NULL 1 time in 24;
//     1 time in 16 an output aliased to an input or to another output; batch 0, 1, max_batch,
//     max_batch + 1 or edge values. A model whose tensors at the call's batch plus its
//     arena_bytes pass kNnRunBytes only gets wrong sizes (refused before it runs).
//   - Servers (cudago_server_*): created over a model of the input (most often one of the palette
//     is loaded for the call, on the reference executor, and an input without a server most
//     often gets one before a call that takes one: set-up calls, checked like the others), with
//     NULL options or every field drawn (struct sizes, flags with unknown bits, max batch up to
//     the model's + 1, delays 0 to past an hour, preferred sizes in and out of range or NULL
//     with a count, queue sizes, priority levels and default priorities, default timeouts,
//     staging caps of a few KiB, devices {-1}, {0}, {-1, 0} or NULL with a count, instances, and
//     the harness's callback half of the time). Requests: the model's inputs at 1 to max batch
//     items (or 0, max + 1, edge values), each field rarely wrong (struct size, also differing
//     between elements, dtype, rank, a dim, bytes, memory kind, NULL host pointer), counts off
//     by one or NULL arrays; no outputs, or destinations (HOST with NULL, or wrong); options NULL
//     or drawn (priority past the levels, timeouts of 1-20 ms, INT64_MAX and past it). The host
//     blocks behind inputs are of exactly the bytes claimed (a small block when a bogus size
//     is refused first), so ASan sees a read past them. Cancels take ids the server gave, made-up
//     ones and those of another generation. Polls release what earlier polls returned (plus, at
//     times, an id not polled or one twice, or a NULL array with a count) into an array of up
//     to 8 results whose stride is element 0's struct_size (sizeof, newer multiples of 8,
//     4096, or a bad size; storage of exactly that extent), waiting 0 or 1 ms, or without a
//     limit once the server is shut down. DEVICE tensors only get NULL buffers (a real one would
//     have to outlive the request); PINNED ones the input's host buffers (with a GPU).
//   - Buffer + capacity protocols (cudago_module_log, cudago_rtc_compile's image and log,
//     cudago_compile_options_t.log): NULL with cap 0, a real buffer with a cap up to its real size,
//     or cap 0 with a real buffer; never a cap larger than the buffer. The buffers are filled with
//     a canary and sit in a larger array, so a write at or past cap is detected.
//
// Oracles, after every call
//   - The status is a value of CUDAGO_STATUS_LIST, and cudago_status_string() names it.
//   - cudago_error_last() (a correctly initialised struct) returns CUDAGO_SUCCESS and reports the
//     same status; after a failure, a non-empty message and the called function as operation;
//     every string field is NUL-terminated.
//   - Functions that return no status (cudago_status_string, cudago_version_*,
//     cudago_dtype_size, cudago_no_device_reason) leave the error record as it was and keep
//     their documented contract (non-NULL strings, the header's version, 0 for a value that is not
//     an element type, ...). Reading the record (cudago_error_last) never changes it, and a
//     struct_size it refuses is refused without a record.
//   - A required NULL pointer or NULL handle never gives CUDAGO_SUCCESS; destroying NULL does.
//   - Size-tagged structs (docs/ABI.md, section 7): an input struct is never modified and a size
//     other than sizeof never succeeds; an output struct keeps its struct_size, nothing at or past
//     min(struct_size, sizeof) is written, and a size below sizeof never succeeds.
//   - Constructors: on success a new non-NULL handle that no live handle equals; on failure *out
//     untouched or NULL. cudago_stream_end_capture: *out NULL on failure.
//     cudago_comm_init_all: comms untouched on failure. cudago_nccl_version: *out 0 on failure.
//   - Count-then-fill: nothing written at or past cap; a written log/text is NUL-terminated
//     within cap and as long as min(*len, cap - 1); cudago_rtc_compile copies the image only
//     when cap >= *len, and PTX images end with a NUL.
//   - Documented refusals: cudago_kernel_launch's grid/block/dyn_smem/nargs limits are
//     CUDAGO_ERROR_INVALID_ARGUMENT; cudago_blas_set_graph_replay's max_macs above 2^40 too;
//     cudago_device_count and cudago_driver_version succeed with a non-NULL out.
//   - A call on a device ordinal outside [0, cudago_device_count()) never succeeds (without a
//     GPU: none of them does); cudago_comm_init_all never succeeds with more ranks than devices.
//   - cudago_fft_extent: a success reports exactly the bytes the header's layout rule gives
//     (computed here in 128 bits), never one that overflows 64 bits; a desc with a rank, batch,
//     type, precision or reserved0 out of range never succeeds (cudago_fft_exec too).
//   - The CNN runtime: a load never succeeds with NULL out/data/path, size 0, a struct_size other
//     than sizeof, a backend, precision or input format out of range, unknown flags, a negative
//     device (CUDAGO_ERROR_INVALID_DEVICE), the GPU backend without a GPU, max_batch above 2^40
//     (no batch that large can run: the harness's bound, the library's is 2^20), uint8 NHWC for a
//     model without an image input, a file that is missing (CUDAGO_ERROR_INVALID_ARGUMENT with
//     valid options), a directory, empty, truncated or whose external data leaves its directory,
//     or bytes with external data and base_dir NULL or missing. An intact palette model with
//     options that are surely valid (NULL, or AUTO/GPU/REFERENCE, DEFAULT/FP32, device 0,
//     max_batch <= 1024, finite floats, no cache_dir, base_dir the harness's for the external
//     one) loads; with the GPU backend and no GPU it is CUDAGO_ERROR_NO_DEVICE (with a GPU,
//     CUDAGO_ERROR_CUDNN is taken too). No cudago_nn_* call returns CUDAGO_ERROR_INTERNAL. After
//     a load the model is described (info, every input and output, each call checked) and run
//     once with every argument right (when small): the reference executor (device -1, FP32)
//     unless a usable device and AUTO/GPU gave the GPU plan (the device and precision asked),
//     max_batch as asked (1 without a dynamic batch), names, dtypes (U8 for uint8 NHWC inputs),
//     ranks <= 8, batch axes and bytes_per_item consistent with the dims, and for an intact
//     palette model exactly the expected names and shapes. Later info/input/output calls report
//     the same; an index past the last is CUDAGO_ERROR_OUT_OF_RANGE. run_host never succeeds
//     with a NULL model or array, a count or size other than the model's, a NULL buffer, an
//     output overlapping an input or another output, batch 0, a batch past max_batch or
//     (fixed-batch model) other than 1; with all of them right it succeeds, leaves its inputs as
//     they were and, for an intact palette model on the reference executor with sane
//     normalisation options, writes outputs within 1e-3 (relative to the magnitude of the terms)
//     of the harness's own fp64 computation (uint8 NHWC inputs converted as the header says).
//     cudago_nn_model_run never succeeds with a NULL model or stream, a bad batch, a count,
//     array, buffer or range that does not hold the tensor, or on the reference executor (then
//     CUDAGO_ERROR_NOT_SUPPORTED when everything else is valid). cudago_nn_model_destroy
//     succeeds for NULL and for a live model.
//   - Servers: create never succeeds with NULL out or model, a struct_size other than sizeof, or
//     an option the header refuses (unknown flags, max batch past the model's, preferred sizes
//     out of [1, max batch] or NULL with a count, delay past an hour, queue past 2^24, more than
//     64 levels or instances, a default priority past the levels, timeouts or staging past
//     INT64_MAX / 2, devices NULL with a count or given for a model on the reference
//     executor); with valid options an intact palette model's server starts, and its stats
//     read zero. submit never succeeds with a NULL server or id, an input count, array, struct
//     size (or one differing from element 0's), dtype, rank, dim, byte size, memory kind or
//     host pointer that is not the model's, an item count outside [1, max batch], wrong
//     destinations, or options out of range; a valid request is accepted (or QUEUE_FULL), and
//     after a shutdown is UNAVAILABLE; a refused one writes no id and gets no result; ids are
//     new. Every accepted request's result comes exactly once (by callback, on a server thread,
//     or by poll), with its tag and id, and is consistent: SUCCESS with a close reason, an
//     instance of the server, items <= batch items <= max batch, every output of the right
//     size and, for an intact palette model, within 1e-3 of the harness's own computation of
//     that request alone; TIMEOUT only with a deadline; CANCELLED exactly when cancel said so
//     (or a shutdown cancelled it); a run error never on an intact model, never INTERNAL.
//     cancel: 1 only for an id the server gave, once. poll: refused (nothing released, nothing
//     written) with a release it did not return or a duplicate, a NULL array with a count, or a
//     results stride that is no cudago_serve_result_t's; NOT_SUPPORTED for a callback server;
//     nothing written past *len; UNAVAILABLE exactly when the server is shut down and every
//     result was polled. After shutdown returns, a callback server has delivered every result;
//     stats always add up (completed <= submitted, the outcomes sum to completed, the close
//     reasons to the batches, queued + in flight <= outstanding, submitted = accepted) and a
//     histogram of a quiescent server agrees with them; nothing is written past the
//     histogram's cap. Before a poll server is destroyed, half of the time it is shut down and
//     polled dry: every accepted request's result exactly once.
//   - Caches: the compile cache never holds more entries than its capacity, and a clear zeroes
//     its stats; the FFT plan cache reports the bounds last set and stays within them, and a
//     clear empties it and keeps its counters.
//   Any violation prints the call index, the function and every argument to stderr and traps.
//   CAPI_FUZZ_TRACE=1 in the environment prints every call, its status and its message.
//
// Feedback: besides the harness's own edges (and the library's, in the instrumented build of
// scripts/fuzz.sh), every call bumps a libFuzzer extra counter chosen by (entry point, status,
// error message without digits), so inputs that reach a new refusal are kept even when libcudago
// is not instrumented. At exit the harness prints what it reached ("capi_fuzz: ..." lines).
//
// Deliberately left out, and why
//   - NVRTC (cudago_module_compile, cudago_rtc_compile) is slow and NVRTC 13 itself crashes on
//     some malformed template sources given with name expressions (documented upstream bug in
//     capi/cudago.h). Sources are a fixed set (a valid kernel, a valid template, a syntax error,
//     an empty string, one that includes a header from a fixed set of contents, NULL); name
//     expressions are only given with the two valid sources, and only from a fixed palette;
//     define names are "FZ_"-prefixed identifiers and define values identifiers, so nothing can
//     change the meaning of those sources; extra options come from a fixed palette (no option
//     that writes files). At most kCompileBudget compile calls per input get a source (later ones
//     get NULL, refused before NVRTC). CUDAGO_COMPILE_NO_CACHE is set half of the time.
//   - cudago_rtc_cache_set_dir only gets NULL, "" or one directory the harness creates with
//     mkdtemp under /tmp at start-up.
//   - cudago_comm_unique_id runs NCCL's ncclGetUniqueId, which starts a bootstrap root thread that
//     waits for ranks which never come: the harness lets only kMaxUniqueIdCalls of them reach
//     NCCL per process (later calls get a NULL out, refused before NCCL).
//   - cudago_comm_group_start is called at most kMaxGroupStarts times per process: NCCL 2.28
//     leaks 160 bytes in ncclGroupEndInternal for every empty group (suppressed below), and each
//     input that leaks makes libFuzzer run a LeakSanitizer scan, which cut the run from hundreds
//     of executions per second to about 25. It takes no argument: the first calls already reach
//     every nesting the inputs make; cudago_comm_group_end is always called.
//   - Calls that could block forever with real handles (only possible with a GPU): a
//     communicator's collectives only get a real communicator of one rank;
//     cudago_comm_init_rank with nranks > 1 and cudago_comm_wait with a real communicator always
//     get a bounded cudago_wait_options_t (a deadline of 1-20 ms, or a pre-set cancel flag).
//     cudago_kernel_launch only gets a real kernel with one CUDAGO_ARG_BUFFER argument over a
//     buffer of at least 4 bytes (the fixed kernels write x[0]); synchronous copies with a real
//     device buffer move at most the harness's host storage. Allocation sizes are not limited:
//     with a GPU, an input may allocate large buffers.
//   - Process-wide settings (the compile cache's capacity and directory, the FFT plan cache's
//     limits, GEMM graph replay) are reset at the start of every input, so an input does not
//     depend on the ones before it (the caches' contents still may, which changes no status);
//     the first bytes of an input choose the compile cache's directory (none or the harness's)
//     and memory capacity (256, or 0 or 1 with the directory).
#include <fuzzer/FuzzedDataProvider.h>
#include <onnx/onnx_pb.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#define CUDAGO_EXPERIMENTAL 1  // the CNN runtime's entry points too
#include "cudago.h"

namespace {

constexpr int kStepsPerInput = 64;
constexpr int kCompileBudget = 4;
constexpr int kMaxUniqueIdCalls = 8;
constexpr int kMaxGroupStarts = 256;
constexpr size_t kHostBytes = 4096;      // host memory for synchronous copies
constexpr size_t kArgBytes = 32768;      // storage behind CUDAGO_ARG_BYTES arguments
constexpr size_t kTextBacking = 1024;    // backing of log buffers (cap <= kTextCap)
constexpr size_t kTextCap = 768;         // largest cap passed for a log buffer
constexpr size_t kImageBacking = 65536;  // backing of rtc images (cap <= kImageCap)
constexpr size_t kImageCap = 49152;
constexpr unsigned char kCanary = 0xA5;

int32_t g_device_count = 0;
std::string g_cache_dir;  // created once by mkdtemp
int g_unique_id_calls = 0;
int g_group_starts = 0;
// The caches' bounds as last set (reset at the start of every input).
uint64_t g_rtc_capacity = 256;
uint64_t g_fft_max_entries = 64;
uint64_t g_fft_max_bytes = uint64_t{4} << 30;
bool g_trace = false;  // CAPI_FUZZ_TRACE=1 in the environment: print every call and its status

// Feedback from the library, which is not instrumented: libFuzzer reads the counters of this
// section as extra coverage. Each entry point has kFeedbackPerOp slots, one per hash of (status,
// error message without its digits), so an input that reaches a new refusal (or a success) of a
// call is kept even though no harness edge is new. Slot kNumOpSlots - 1 is the harness's own
// set-up and clean-up calls.
constexpr size_t kNumOpSlots = 256;
constexpr size_t kFeedbackPerOp = 64;
__attribute__((used, section("__libfuzzer_extra_counters")))
uint8_t g_feedback[kNumOpSlots * kFeedbackPerOp];

// What the run reached, printed at exit ("capi_fuzz: ..." lines, as scripts/fuzz.sh shows them).
struct Reached {
  unsigned long long inputs = 0, calls = 0;
  unsigned long long op_calls[kNumOpSlots] = {}, op_successes[kNumOpSlots] = {};
} g_reached;
unsigned char g_sentinel_object;  // its address marks an out handle the library did not write

template <class H>
H Sentinel() {
  return reinterpret_cast<H>(&g_sentinel_object);
}

// ---- statuses ----

const char* KnownStatusName(int32_t v) {
  switch (v) {
#define CAPI_FUZZ_STATUS_(suffix, camel, value, text) \
  case value:                                         \
    return "CUDAGO_" #suffix;
    CUDAGO_STATUS_LIST(CAPI_FUZZ_STATUS_)
#undef CAPI_FUZZ_STATUS_
    default:
      return nullptr;
  }
}

// The detail cudago_error_last() reports.
struct Record {
  int32_t status = 0;
  int32_t native_code = 0;
  std::string native_name, operation, message;
  bool operator==(const Record& o) const {
    return status == o.status && native_code == o.native_code && native_name == o.native_name &&
           operation == o.operation && message == o.message;
  }
  bool operator!=(const Record& o) const { return !(*this == o); }
};

// ---- handles ----

struct BufferRec {
  cudago_buffer_t h;
  uint64_t bytes;
};
struct HostRec {
  cudago_host_buffer_t h;
  uint64_t bytes;
};
struct CommRec {
  cudago_comm_t h;
  int32_t size;
};

template <class T>
void* Raw(T h) {
  return static_cast<void*>(h);
}
inline void* Raw(const BufferRec& r) { return static_cast<void*>(r.h); }
inline void* Raw(const HostRec& r) { return static_cast<void*>(r.h); }
inline void* Raw(const CommRec& r) { return static_cast<void*>(r.h); }

// ---- the CNN runtime's models ----

constexpr size_t kNnMaxTensors = 4;                  // entries of the harness's run_host arrays
constexpr uint64_t kNnRunBytes = uint64_t{8} << 20;  // the largest model run with right sizes

// A tensor as cudago_nn_model_input/_output described it right after the load.
struct NnDesc {
  std::string name;
  int32_t dtype = 0;
  uint64_t rank = 0;
  uint64_t dims[8] = {};
  int32_t batch_axis = -1;
  uint64_t bytes_per_item = 0;
  // Bytes at batch n (saturated: a description from a damaged model may be huge).
  uint64_t BytesAt(uint64_t n) const {
    if (batch_axis < 0) return bytes_per_item;
    unsigned __int128 b = static_cast<unsigned __int128>(bytes_per_item) * n;
    return b > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(b);
  }
};

struct NnRec {
  cudago_nn_model_t h = nullptr;
  int kind = -1;        // the palette model it was loaded from intact, or -1 (damaged bytes)
  bool u8 = false;      // inputs as uint8 NHWC
  bool values = false;  // outputs checked against the harness's computation
  float scale = 1.0f / 255.0f, mean[4] = {0, 0, 0, 0}, std[4] = {1, 1, 1, 1};
  uint64_t max_batch = 1;
  bool dynamic = false;
  uint64_t arena_bytes = 0, weight_bytes = 0, num_layers = 0;
  bool gpu = false;  // on the GPU plan (only where a device is usable)
  int32_t device = -1, precision = CUDAGO_NN_PRECISION_FP32;
  std::vector<NnDesc> ins, outs;
};
inline void* Raw(const NnRec& r) { return static_cast<void*>(r.h); }

// ---- the CNN runtime's servers (cudago_server_*) ----

constexpr size_t kServePollCap = 8;                       // results a poll is given room for
constexpr uint64_t kServeBlockLimit = uint64_t{4} << 20;  // the largest host input block

// A request the harness submitted: recorded before the call (a callback may deliver its result
// before submit returns), keyed by its tag on a callback server and by its id on a poll one.
struct ServeExpect {
  uint64_t id = 0;  // once submit returned
  uint64_t items = 0;
  bool deadline = false;   // a timeout of its own or the server's default
  bool values = false;     // the outputs are checked (an intact palette model, HOST inputs)
  bool cancelled = false;  // cudago_server_cancel returned 1 for it
  std::vector<std::string> inputs;  // each input's bytes (values)
  std::vector<uint64_t> out_bytes;  // each output's size at its item count
  int results = 0;                  // delivered (exactly one in the end)
  int32_t status = -1;
  uint64_t result_id = 0;
  bool released = false;  // poll mode: released after its poll
};

// A server's state, shared with its callback threads (under mu; the harness never holds mu
// while it calls the library: a cancel delivers its result on the calling thread).
struct ServeState {
  std::mutex mu;
  NnRec model;  // the model's description (its handle may be destroyed first)
  bool callback = false, intact = false;
  uint64_t max_batch = 1, instances = 1, levels = 1;
  bool default_deadline = false;
  std::map<uint64_t, ServeExpect> by_key;
  std::map<uint64_t, uint64_t> key_of_id;
  uint64_t accepted = 0, delivered = 0;
  uint64_t next_tag = 1;
  bool shut = false;
  std::set<uint64_t> polled;  // poll mode: ids polled and not yet released
};

struct ServerRec {
  cudago_server_t h = nullptr;
  std::shared_ptr<ServeState> s;
};
inline void* Raw(const ServerRec& r) { return static_cast<void*>(r.h); }

// ---- the state of one input ----

struct Ctx {
  explicit Ctx(FuzzedDataProvider& provider) : p(provider) {}

  FuzzedDataProvider& p;
  int step = -1;
  size_t slot = kNumOpSlots - 1;  // feedback slot of the current entry point
  const char* fn = "";
  std::string args;
  std::deque<std::string> strings;  // strings of the current call

  std::vector<cudago_stream_t> streams;
  std::vector<cudago_event_t> events;
  std::vector<BufferRec> buffers;
  std::vector<HostRec> hosts;
  std::vector<cudago_module_t> modules;
  std::vector<cudago_kernel_t> kernels;
  std::vector<cudago_graph_t> graphs;
  std::vector<CommRec> comms;
  std::vector<NnRec> models;
  std::vector<ServerRec> servers;
  int group_depth = 0;
  int compile_budget = kCompileBudget;
  cudago_nccl_unique_id_t uid{};
  volatile int32_t cancel_flag = 0;

  alignas(16) unsigned char host[kHostBytes];
  alignas(16) unsigned char arg_bytes[kArgBytes];

  void Begin(int s, const char* name, size_t op_slot = kNumOpSlots - 1) {
    step = s;
    fn = name;
    slot = op_slot;
    args.clear();
    strings.clear();
  }

  // ---- failure report ----
  [[noreturn]] __attribute__((format(printf, 2, 3))) void Fail(const char* fmt, ...) {
    std::fprintf(stderr, "\ncapi_fuzz: ORACLE FAILURE at call #%d: %s(%s)\ncapi_fuzz: ", step, fn,
                 args.c_str());
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fputc('\n', stderr);
    std::fflush(stderr);
    __builtin_trap();
  }

  __attribute__((format(printf, 2, 3))) void Log(const char* fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!args.empty()) args += ", ";
    args += buf;
  }

  // ---- draws ----
  bool Bool() { return p.ConsumeBool(); }
  int Range(int lo, int hi) { return p.ConsumeIntegralInRange<int>(lo, hi); }

  uint64_t RawU64() {
    // clang-format off
    static constexpr uint64_t kEdges[] = {
        0, 1, 2, 3, 4, 7, 8, 16, 31, 32, 64, 255, 256, 1023, 1024, 4096, 32764, 32765, 65536,
        0x7fffffffull, 0x80000000ull, 0xffffffffull, 0x100000000ull, 1ull << 40, (1ull << 40) + 1,
        1ull << 62, 0x7fffffffffffffffull, 0x8000000000000000ull, UINT64_MAX - 7, UINT64_MAX};
    // clang-format on
    switch (Range(0, 3)) {
      case 0:
        return kEdges[p.ConsumeIntegralInRange<size_t>(0, std::size(kEdges) - 1)];
      case 1: {
        const int k = Range(0, 63);
        const int d = Range(-1, 1);
        return (uint64_t{1} << k) + static_cast<uint64_t>(static_cast<int64_t>(d));
      }
      case 2:
        return p.ConsumeIntegralInRange<uint64_t>(0, 64);
      default:
        return p.ConsumeIntegral<uint64_t>();
    }
  }
  uint64_t U64(const char* name) {
    const uint64_t v = RawU64();
    Log("%s=%" PRIu64, name, v);
    return v;
  }
  int32_t RawI32() {
    // clang-format off
    static constexpr int32_t kEdges[] = {0, 1, -1, 2, 3, 7, 8, 77, 255, 256, 65536, INT32_MAX,
                                         INT32_MIN, INT32_MAX - 1, INT32_MIN + 1};
    // clang-format on
    if (Bool()) return kEdges[p.ConsumeIntegralInRange<size_t>(0, std::size(kEdges) - 1)];
    return p.ConsumeIntegral<int32_t>();
  }
  int32_t I32(const char* name) {
    const int32_t v = RawI32();
    Log("%s=%" PRId32, name, v);
    return v;
  }
  // A device ordinal: 0 and 1 most often.
  int32_t Device(const char* name) {
    int32_t v;
    switch (Range(0, 3)) {
      case 0:
        v = 0;
        break;
      case 1:
        v = 1;
        break;
      case 2:
        v = -1;
        break;
      default:
        v = RawI32();
    }
    Log("%s=%" PRId32, name, v);
    return v;
  }
  // An enum value: valid ones [0, count) or out-of-range ones.
  int32_t RawEnum(int32_t count) {
    switch (Range(0, 7)) {
      case 0:
        return count;
      case 1:
        return 77;
      case 2:
        return -1;
      case 3:
        return INT32_MAX;
      case 4:
        return INT32_MIN;
      case 5:
        return p.ConsumeIntegral<int32_t>();
      default:
        return p.ConsumeIntegralInRange<int32_t>(0, count - 1);
    }
  }
  template <class E>
  E Enum(const char* name, int32_t count) {
    const int32_t v = RawEnum(count);
    Log("%s=%" PRId32, name, v);
    return static_cast<E>(v);
  }
  uint32_t Flags(const char* name, uint32_t known) {
    uint32_t v;
    switch (Range(0, 5)) {
      case 0:
        v = 0;
        break;
      case 1:
        v = known;
        break;
      case 2:
        v = known + 1u;  // an unknown bit where known is a mask of low bits
        break;
      case 3:
        v = 0x80000000u;
        break;
      case 4:
        v = UINT32_MAX;
        break;
      default:
        v = Bool() ? (p.ConsumeIntegral<uint32_t>() & known) : p.ConsumeIntegral<uint32_t>();
    }
    Log("%s=0x%" PRIx32, name, v);
    return v;
  }
  double F64(const char* name) {
    static const double kEdges[] = {0.0,
                                    -0.0,
                                    1.0,
                                    -1.0,
                                    0.5,
                                    2.0,
                                    std::numeric_limits<double>::quiet_NaN(),
                                    std::numeric_limits<double>::infinity(),
                                    -std::numeric_limits<double>::infinity(),
                                    std::numeric_limits<double>::denorm_min(),
                                    DBL_MAX,
                                    1e300};
    double v;
    if (Bool()) {
      v = kEdges[p.ConsumeIntegralInRange<size_t>(0, std::size(kEdges) - 1)];
    } else {
      const uint64_t bits = p.ConsumeIntegral<uint64_t>();
      std::memcpy(&v, &bits, sizeof v);
    }
    Log("%s=%g", name, v);
    return v;
  }
  uint8_t U8(const char* name) {
    const uint8_t v = p.ConsumeIntegral<uint8_t>();
    Log("%s=%u", name, static_cast<unsigned>(v));
    return v;
  }
  uint32_t StructSize(size_t real, const char* name) {
    const uint32_t r = static_cast<uint32_t>(real);
    uint32_t v;
    switch (Range(0, 15)) {
      case 1:
        v = 0;
        break;
      case 2:
        v = 1;
        break;
      case 3:
        v = 3;
        break;
      case 4:
        v = r - 1;
        break;
      case 5:
        v = r + 1;
        break;
      case 6:
        v = r + 8;
        break;
      case 7:
        v = 4096;
        break;
      case 8:
        v = UINT32_MAX;
        break;
      default:
        v = r;
    }
    Log("%s=%" PRIu32, name, v);
    return v;
  }
  // NULL or storage (storage most often).
  template <class T>
  T* Out(T& storage, const char* name) {
    const bool null = Range(0, 7) == 0;
    Log("%s=%s", name, null ? "NULL" : "&out");
    return null ? nullptr : &storage;
  }
  // A harness-owned string of up to max_len bytes from the input, NUL-terminated.
  const char* FuzzString(size_t max_len) {
    strings.push_back(p.ConsumeRandomLengthString(max_len));
    return strings.back().c_str();
  }
  // An identifier-like string: [A-Za-z0-9_]*.
  const char* Ident(const char* prefix, size_t max_len) {
    std::string s = prefix;
    const std::string raw = p.ConsumeRandomLengthString(max_len);
    static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
    for (char ch : raw) s += kChars[static_cast<unsigned char>(ch) % (sizeof kChars - 1)];
    strings.push_back(std::move(s));
    return strings.back().c_str();
  }
  const char* Pick(const char* const* palette, size_t n) {
    return palette[p.ConsumeIntegralInRange<size_t>(0, n - 1)];
  }
  void LogStr(const char* name, const char* s) {
    if (s == nullptr) {
      Log("%s=NULL", name);
      return;
    }
    std::string q;
    for (const char* c = s; *c != '\0' && q.size() < 60; ++c) {
      const unsigned char u = static_cast<unsigned char>(*c);
      if (u >= 0x20 && u < 0x7f && u != '"' && u != '\\') {
        q += *c;
      } else {
        char e[8];
        std::snprintf(e, sizeof e, "\\x%02x", u);
        q += e;
      }
    }
    Log("%s=\"%s\"%s", name, q.c_str(), std::strlen(s) > q.size() ? "..." : "");
  }

  // Index of a live handle of v, or -1 for NULL (NULL also when v is empty).
  template <class V>
  int PickIndex(const V& v, const char* name) {
    int idx = -1;
    if (!v.empty() && Range(0, 3) != 0) {
      idx = static_cast<int>(p.ConsumeIntegralInRange<size_t>(0, v.size() - 1));
    }
    if (idx < 0) {
      Log("%s=NULL", name);
    } else {
      Log("%s=#%d(%p)", name, idx, Raw(v[static_cast<size_t>(idx)]));
    }
    return idx;
  }
  template <class H>
  H PickHandle(std::vector<H>& v, const char* name) {
    const int i = PickIndex(v, name);
    return i < 0 ? nullptr : v[static_cast<size_t>(i)];
  }
  cudago_buffer_t Buffer(const char* name, uint64_t* bytes = nullptr) {
    const int i = PickIndex(buffers, name);
    if (bytes != nullptr) *bytes = i < 0 ? 0 : buffers[static_cast<size_t>(i)].bytes;
    return i < 0 ? nullptr : buffers[static_cast<size_t>(i)].h;
  }
  cudago_host_buffer_t Host(const char* name) {
    const int i = PickIndex(hosts, name);
    return i < 0 ? nullptr : hosts[static_cast<size_t>(i)].h;
  }
  cudago_stream_t Stream(const char* name = "stream") { return PickHandle(streams, name); }
  // A communicator for collectives: only one of one rank (a larger one could wait for peers).
  cudago_comm_t CollectiveComm() {
    const int i = PickIndex(comms, "comm");
    if (i < 0 || comms[static_cast<size_t>(i)].size != 1) return nullptr;
    return comms[static_cast<size_t>(i)].h;
  }
  // Removes and returns a handle to destroy (NULL included).
  template <class V>
  auto Take(V& v, const char* name) -> typename V::value_type {
    const int i = PickIndex(v, name);
    typename V::value_type r{};
    if (i >= 0) {
      r = v[static_cast<size_t>(i)];
      v.erase(v.begin() + i);
    }
    return r;
  }

  bool Live(void* h) const {
    auto has = [h](const auto& v) {
      for (const auto& x : v) {
        if (Raw(x) == h) return true;
      }
      return false;
    };
    return has(streams) || has(events) || has(buffers) || has(hosts) || has(modules) ||
           has(kernels) || has(graphs) || has(comms) || has(models) || has(servers);
  }

  // ---- oracles ----
  Record ReadRecord() {
    cudago_error_info_t e;
    cudago_error_info_init(&e);
    const cudago_status_t st = cudago_error_last(&e);
    if (st != CUDAGO_SUCCESS) Fail("cudago_error_last with a valid struct returned %d", st);
    if (e.struct_size != sizeof e) Fail("cudago_error_last changed struct_size");
    if (std::memchr(e.native_name, '\0', sizeof e.native_name) == nullptr ||
        std::memchr(e.operation, '\0', sizeof e.operation) == nullptr ||
        std::memchr(e.message, '\0', sizeof e.message) == nullptr) {
      Fail("cudago_error_last: a string field is not NUL-terminated");
    }
    Record r;
    r.status = e.status;
    r.native_code = e.native_code;
    r.native_name = e.native_name;
    r.operation = e.operation;
    r.message = e.message;
    return r;
  }

  // The oracle every status-returning call goes through.
  void Check(cudago_status_t st) {
    const char* name = KnownStatusName(static_cast<int32_t>(st));
    if (name == nullptr) Fail("returned %d, which is not a cudago_status_t value", st);
    const char* text = cudago_status_string(st);
    if (text == nullptr || std::strncmp(text, name, std::strlen(name)) != 0) {
      Fail("cudago_status_string(%d) = \"%s\" does not name %s", st, text ? text : "(null)", name);
    }
    const Record r = ReadRecord();
    if (g_trace) {
      std::string m = r.message.substr(0, 100);
      std::replace(m.begin(), m.end(), '\n', ' ');
      std::fprintf(stderr, "capi_fuzz: #%d %s(%s) -> %s [%s]\n", step, fn, args.c_str(), name,
                   m.c_str());
    }
    uint64_t h = 0xcbf29ce484222325ull ^ static_cast<uint32_t>(st);
    for (char ch : r.message) {
      if (ch >= '0' && ch <= '9') continue;
      h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ull;
    }
    if (st == CUDAGO_SUCCESS) ++g_reached.op_successes[slot];
    uint8_t& counter = g_feedback[slot * kFeedbackPerOp + h % kFeedbackPerOp];
    if (counter < 255) ++counter;
    if (r.status != static_cast<int32_t>(st)) {
      Fail(
          "returned %s but cudago_error_last reports status %d (operation \"%s\", message "
          "\"%s\")",
          name, r.status, r.operation.c_str(), r.message.c_str());
    }
    if (st != CUDAGO_SUCCESS) {
      if (r.message.empty()) Fail("returned %s with an empty error message", name);
      if (r.operation != fn) {
        Fail("returned %s but the error record names operation \"%s\" (message \"%s\")", name,
             r.operation.c_str(), r.message.c_str());
      }
    }
  }

  void MustFail(cudago_status_t st, bool cond, const char* why) {
    if (cond && st == CUDAGO_SUCCESS) Fail("succeeded although %s", why);
  }
  // A call that works on `device` cannot succeed with an ordinal outside [0, device count).
  void MustFailDevice(cudago_status_t st, int32_t device) {
    MustFail(st, device < 0 || device >= g_device_count,
             "the device ordinal is not one of cudago_device_count()'s");
  }

  // A constructor's result: a new handle on success, *out untouched or NULL on failure.
  template <class H>
  bool Created(cudago_status_t st, H* out, H value) {
    if (out == nullptr) {
      MustFail(st, true, "out is NULL");
      return false;
    }
    if (st != CUDAGO_SUCCESS) {
      if (value != nullptr && value != Sentinel<H>()) {
        Fail("failed (%d) but wrote a handle %p to *out", st, static_cast<void*>(value));
      }
      return false;
    }
    if (value == nullptr || value == Sentinel<H>()) {
      Fail("succeeded without writing a handle (*out = %p)", static_cast<void*>(value));
    }
    if (Live(static_cast<void*>(value))) {
      Fail("returned handle %p, which is already live", static_cast<void*>(value));
    }
    return true;
  }

  // Input size-tagged struct: never modified; a size other than sizeof never succeeds.
  template <class T>
  void CheckIn(cudago_status_t st, const T* p_in, const T& snap) {
    if (p_in == nullptr) return;
    if (std::memcmp(p_in, &snap, sizeof snap) != 0) Fail("modified its const input struct");
    if (snap.struct_size != sizeof(T)) {
      MustFail(st, true, "an input struct_size that is not a released size");
    }
  }
  // Output size-tagged struct: struct_size kept, nothing at or past min(struct_size, sizeof)
  // written, and a size below sizeof never succeeds.
  template <class T>
  void CheckOutStruct(cudago_status_t st, const T* p_out, const T& snap) {
    if (p_out == nullptr) return;
    if (p_out->struct_size != snap.struct_size) {
      Fail("changed the output struct_size from %" PRIu32 " to %" PRIu32, snap.struct_size,
           p_out->struct_size);
    }
    const size_t lo = std::min<size_t>(snap.struct_size, sizeof(T));
    const unsigned char* a = reinterpret_cast<const unsigned char*>(p_out);
    const unsigned char* b = reinterpret_cast<const unsigned char*>(&snap);
    for (size_t i = std::max<size_t>(lo, sizeof(uint32_t)); i < sizeof(T); ++i) {
      if (a[i] != b[i]) {
        Fail("wrote byte %zu of an output struct whose struct_size is %" PRIu32, i,
             snap.struct_size);
      }
    }
    if (snap.struct_size < sizeof(T)) MustFail(st, true, "an output struct_size below sizeof");
  }

  // A text written under the (buf, cap, len) rule: nothing at or past cap; when written, a NUL
  // within cap and the length min(len, cap - 1).
  void CheckText(const unsigned char* backing, size_t backing_size, uint64_t cap, bool len_written,
                 uint64_t len, const char* what) {
    for (size_t i = static_cast<size_t>(cap); i < backing_size; ++i) {
      if (backing[i] != kCanary) Fail("%s: wrote byte %zu at or past cap %" PRIu64, what, i, cap);
    }
    if (cap == 0) return;
    bool changed = false;
    for (size_t i = 0; i < cap; ++i) changed |= backing[i] != kCanary;
    if (!changed) return;
    const void* nul = std::memchr(backing, '\0', static_cast<size_t>(cap));
    if (nul == nullptr) Fail("%s: written without a NUL within cap %" PRIu64, what, cap);
    const size_t n = static_cast<size_t>(static_cast<const unsigned char*>(nul) - backing);
    if (len_written && n != std::min<uint64_t>(len, cap - 1)) {
      Fail("%s: text of %zu bytes but *len = %" PRIu64 " and cap = %" PRIu64, what, n, len, cap);
    }
  }

  // A follow-up call made to check the state a call left (checked like any call, under its own
  // name).
  template <class F>
  cudago_status_t Aux(const char* name, F call) {
    const char* saved_fn = fn;
    const size_t saved_slot = slot;
    Log("then %s", name);
    fn = name;
    slot = kNumOpSlots - 1;
    const cudago_status_t st = call();
    Check(st);
    fn = saved_fn;
    slot = saved_slot;
    return st;
  }
  cudago_rtc_cache_stats_t RtcStats() {
    cudago_rtc_cache_stats_t s;
    cudago_rtc_cache_stats_init(&s);
    if (Aux("cudago_rtc_cache_stats", [&s] { return cudago_rtc_cache_stats(&s); }) !=
        CUDAGO_SUCCESS) {
      Fail("cudago_rtc_cache_stats failed with a valid struct");
    }
    return s;
  }
  cudago_fft_cache_stats_t FftStats() {
    cudago_fft_cache_stats_t s;
    cudago_fft_cache_stats_init(&s);
    if (Aux("cudago_fft_cache_stats", [&s] { return cudago_fft_cache_stats(&s); }) !=
        CUDAGO_SUCCESS) {
      Fail("cudago_fft_cache_stats failed with a valid struct");
    }
    return s;
  }
  void CheckRtcStats(const cudago_rtc_cache_stats_t& s) {
    if (s.entries > g_rtc_capacity) {
      Fail("the compile cache holds %" PRIu64 " entries, its capacity is %" PRIu64, s.entries,
           g_rtc_capacity);
    }
  }
  void CheckFftStats(const cudago_fft_cache_stats_t& s) {
    if (s.max_entries != g_fft_max_entries || s.max_bytes != g_fft_max_bytes) {
      Fail("the FFT plan cache reports bounds %" PRIu64 " plans, %" PRIu64
           " bytes; they were set "
           "to %" PRIu64 ", %" PRIu64,
           s.max_entries, s.max_bytes, g_fft_max_entries, g_fft_max_bytes);
    }
    if (s.entries > s.max_entries || s.bytes > s.max_bytes) {
      Fail("the FFT plan cache holds %" PRIu64 " plans, %" PRIu64 " bytes, beyond its bounds",
           s.entries, s.bytes);
    }
  }

  // Checks the error record is unchanged by a function that returns no status.
  void ExpectRecord(const Record& before) {
    if (g_trace)
      std::fprintf(stderr, "capi_fuzz: #%d %s(%s) -> NO_STATUS\n", step, fn, args.c_str());
    if (ReadRecord() != before) Fail("a function that returns no status changed the error record");
  }
};

// ---- argument builders shared by several entry points ----

// Wait options (or NULL); with must_bound, never one that could wait forever (NULL, or no
// deadline without a pre-set cancel flag).
const cudago_wait_options_t* MakeWait(Ctx& c, cudago_wait_options_t& w, bool must_bound) {
  cudago_wait_options_init(&w);
  const int kind = c.Range(0, 4);
  if (kind == 0 && !must_bound) {
    c.Log("wait=NULL");
    return nullptr;
  }
  w.struct_size = c.StructSize(sizeof w, "wait.struct_size");
  if (c.Range(0, 5) == 0) w.reserved0 = c.Bool() ? 1u : UINT32_MAX;
  w.timeout_ns = static_cast<uint64_t>(c.Range(1, 20)) * 1000000u;
  if (kind == 1 && !must_bound) w.timeout_ns = 0;
  if (c.Bool()) {
    c.cancel_flag = c.Bool() ? 1 : 0;
    w.cancel = &c.cancel_flag;
  }
  c.Log("wait={reserved0=%" PRIu32 ", timeout_ns=%" PRIu64 ", cancel=%s}", w.reserved0,
        w.timeout_ns, w.cancel == nullptr ? "NULL" : (c.cancel_flag != 0 ? "&1" : "&0"));
  return &w;
}

void FillFftDesc(Ctx& c, cudago_fft_desc_t& d) {
  cudago_fft_desc_init(&d);
  d.struct_size = c.StructSize(sizeof d, "desc.struct_size");
  if (c.Bool()) d.type = c.Enum<cudago_fft_type_t>("desc.type", 3);
  if (c.Bool()) d.precision = c.Enum<cudago_dtype_t>("desc.precision", 10);
  if (c.Range(0, 7) == 0) d.reserved0 = c.Bool() ? 1u : UINT32_MAX;
  switch (c.Range(0, 7)) {
    case 5:
      d.rank = 0;
      break;
    case 6:
      d.rank = 4;
      break;
    case 7:
      d.rank = c.RawU64();
      break;
    default:
      d.rank = static_cast<uint64_t>(c.Range(1, 3));
  }
  for (uint64_t i = 0; i < CUDAGO_FFT_MAX_RANK; ++i) {
    const bool used = i < d.rank;
    switch (c.Range(0, 3)) {
      case 0:
        d.dims[i] = c.RawU64();
        break;
      default:
        d.dims[i] = used ? static_cast<uint64_t>(c.Range(1, 64)) : 0;
    }
  }
  if (c.Range(0, 2) == 0) d.batch = c.Bool() ? static_cast<uint64_t>(c.Range(0, 8)) : c.RawU64();
  cudago_fft_layout_t* sides[2] = {&d.in, &d.out};
  for (cudago_fft_layout_t* l : sides) {
    if (c.Range(0, 2) != 0) continue;
    for (int i = 0; i < CUDAGO_FFT_MAX_RANK; ++i) l->embed[i] = c.Bool() ? 0 : c.RawU64();
    l->stride = c.Bool() ? 0 : c.RawU64();
    l->dist = c.Bool() ? 0 : c.RawU64();
  }
  c.Log("desc={type=%d, precision=%d, reserved0=%" PRIu32 ", rank=%" PRIu64 ", dims=[%" PRIu64
        ",%" PRIu64 ",%" PRIu64 "], batch=%" PRIu64 ", in={%" PRIu64 ",%" PRIu64 ",%" PRIu64
        ",%" PRIu64 ",%" PRIu64 "}, out={%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
        "}}",
        static_cast<int>(d.type), static_cast<int>(d.precision), d.reserved0, d.rank, d.dims[0],
        d.dims[1], d.dims[2], d.batch, d.in.embed[0], d.in.embed[1], d.in.embed[2], d.in.stride,
        d.in.dist, d.out.embed[0], d.out.embed[1], d.out.embed[2], d.out.stride, d.out.dist);
}

// Everything a compile call takes, owned by the harness for the call.
struct CompileSetup {
  cudago_compile_options_t o;
  cudago_compile_options_t snap;
  bool given = false;
  const char* source = nullptr;
  cudago_define_t defines[3];
  const char* options[3];
  cudago_header_t headers[2];
  const char* names[3];
  unsigned char log[kTextBacking];
  uint64_t log_len = 0;
  bool log_given = false;
};

constexpr uint64_t kLenSentinel = UINT64_MAX - 3;

const char* const kValidSource = "extern \"C\" __global__ void k(float* x) { x[0] = 1; }";
const char* const kTemplateSource =
    "template <typename T> __global__ void t(T* x) { x[0] = T(1); }";
const char* const kSyntaxErrorSource = "extern \"C\" __global__ void k(float* x) { x[0] = 1 }";
const char* const kIncludeSource =
    "#include \"fz.h\"\nextern \"C\" __global__ void k(float* x) { x[0] = FZ_VALUE; }";

// A count for an array of `real` elements behind p: at most real with a real pointer, anything
// with NULL, and above INT32_MAX (refused before any array is read, capi/cudago.h) with either.
uint64_t CompileCount(Ctx& c, const void* ptr, size_t real) {
  switch (c.Range(0, 5)) {
    case 0:
      return ptr == nullptr ? c.RawU64() : static_cast<uint64_t>(real);
    case 1:
      return static_cast<uint64_t>(INT32_MAX) + 1u + (c.Bool() ? 0u : c.RawU64() % 1024u);
    case 2:
      return UINT64_MAX;
    default:
      return static_cast<uint64_t>(c.Range(0, static_cast<int>(real)));
  }
}

// Builds opts (or NULL) and a source from the fixed sets.
void BuildCompile(Ctx& c, CompileSetup& s, bool need_arch_often) {
  // The source.
  int src = c.Range(0, 5);
  if (c.compile_budget <= 0) src = 5;
  switch (src) {
    case 0:
      s.source = kValidSource;
      break;
    case 1:
      s.source = kTemplateSource;
      break;
    case 2:
      s.source = kSyntaxErrorSource;
      break;
    case 3:
      s.source = "";
      break;
    case 4:
      s.source = kIncludeSource;
      break;
    default:
      s.source = nullptr;
  }
  if (s.source != nullptr) --c.compile_budget;
  const bool valid_source = src == 0 || src == 1;
  c.Log("source=%s", src == 0   ? "valid"
                     : src == 1 ? "template"
                     : src == 2 ? "syntax-error"
                     : src == 3 ? "empty"
                     : src == 4 ? "include"
                                : "NULL");

  cudago_compile_options_init(&s.o);
  std::memset(s.log, kCanary, sizeof s.log);
  s.given = c.Range(0, 7) != 0;
  if (!s.given) {
    c.Log("opts=NULL");
    return;
  }
  cudago_compile_options_t& o = s.o;
  o.struct_size = c.StructSize(sizeof o, "opts.struct_size");
  o.flags = c.Bool() ? CUDAGO_COMPILE_NO_CACHE : 0u;
  if (c.Range(0, 9) == 0) o.flags = c.Flags("opts.flags", CUDAGO_COMPILE_NO_CACHE);

  static const char* const kArchs[] = {"sm_90",      "compute_90", "sm_80",   "sm_90a",
                                       "compute_75", "sm_9",       "sm_10",   "sm_999",
                                       "gfx90a",     "",           "sm_100f", nullptr};
  if (need_arch_often ? c.Range(0, 5) != 0 : c.Bool()) {
    o.arch = c.Range(0, 7) == 0 ? c.FuzzString(12) : c.Pick(kArchs, std::size(kArchs));
  }
  static const char* const kStds[] = {"c++17", "c++14", "c++20", "", "c++98x", nullptr};
  if (c.Range(0, 3) == 0) {
    o.std = c.Range(0, 5) == 0 ? c.FuzzString(8) : c.Pick(kStds, std::size(kStds));
  }

  // Defines: FZ_-prefixed identifiers, identifier values (nothing that changes the sources).
  size_t nd = 0;
  if (c.Range(0, 2) == 0) {
    nd = static_cast<size_t>(c.Range(0, 3));
    for (size_t i = 0; i < nd; ++i) {
      const int n = c.Range(0, 5);
      s.defines[i].name = n == 0 ? nullptr : n == 1 ? "" : c.Ident("FZ_", 8);
      const int v = c.Range(0, 3);
      s.defines[i].value = v == 0 ? nullptr : v == 1 ? "" : c.Ident("", 8);
    }
    o.defines = c.Range(0, 5) == 0 ? nullptr : s.defines;
  }
  // Extra options from a fixed palette.
  size_t no = 0;
  if (c.Range(0, 2) == 0) {
    static const char* const kOptions[] = {"-lineinfo",
                                           "--use_fast_math",
                                           "-w",
                                           "--no-such-option",
                                           "-default-device",
                                           "-ftz=true",
                                           "-DFZ_OPT=2",
                                           "",
                                           nullptr};
    no = static_cast<size_t>(c.Range(0, 3));
    for (size_t i = 0; i < no; ++i) s.options[i] = c.Pick(kOptions, std::size(kOptions));
    o.options = c.Range(0, 5) == 0 ? nullptr : s.options;
  }
  // Headers: names and contents from fixed palettes.
  size_t nh = 0;
  if (c.Range(0, 2) == 0) {
    static const char* const kHeaderNames[] = {"fz.h", "other.h", "", nullptr};
    static const char* const kHeaderContents[] = {"#define FZ_VALUE 1\n", "#define FZ_VALUE\n",
                                                  "#error fz\n", "", nullptr};
    nh = static_cast<size_t>(c.Range(0, 2));
    for (size_t i = 0; i < nh; ++i) {
      s.headers[i].name = c.Pick(kHeaderNames, std::size(kHeaderNames));
      s.headers[i].content = c.Pick(kHeaderContents, std::size(kHeaderContents));
    }
    o.headers = c.Range(0, 5) == 0 ? nullptr : s.headers;
  }
  // Name expressions: fixed palette, and only with a valid source (NVRTC 13 may crash on a
  // malformed template source given with name expressions).
  size_t nn = 0;
  if (valid_source && c.Range(0, 2) == 0) {
    static const char* const kNames[] = {"t<float>", "t<int>", "&t<double>", "::t<float>", "k",
                                         "t<float,", "nope",   "",           nullptr};
    nn = static_cast<size_t>(c.Range(0, 3));
    for (size_t i = 0; i < nn; ++i) s.names[i] = c.Pick(kNames, std::size(kNames));
    o.name_expressions = c.Range(0, 5) == 0 ? nullptr : s.names;
  }
  o.num_defines = CompileCount(c, o.defines, nd);
  o.num_options = CompileCount(c, o.options, no);
  o.num_headers = CompileCount(c, o.headers, nh);
  o.num_name_expressions = CompileCount(c, o.name_expressions, nn);
  // A pair of counts, each at most INT32_MAX, whose sum is above INT32_MAX: refused before any
  // array is read (capi/cudago.h), so real short arrays are fine.
  if (c.Range(0, 9) == 0) {
    o.num_defines = static_cast<uint64_t>(INT32_MAX) - static_cast<uint64_t>(c.Range(0, 2));
    o.num_options = 3;
  }

  // The log: NULL with cap 0, a real buffer with a cap up to its size, a real buffer with cap 0.
  switch (c.Range(0, 3)) {
    case 0:
      break;
    case 1:
      o.log = reinterpret_cast<char*>(s.log);
      o.log_cap = 0;
      break;
    default:
      o.log = reinterpret_cast<char*>(s.log);
      o.log_cap = static_cast<uint64_t>(c.Range(1, static_cast<int>(kTextCap)));
  }
  s.log_len = kLenSentinel;
  s.log_given = c.Bool();
  o.log_len = s.log_given ? &s.log_len : nullptr;

  c.LogStr("opts.arch", o.arch);
  c.LogStr("opts.std", o.std);
  c.Log("opts.flags=0x%" PRIx32 ", defines=%s[%" PRIu64 "]", o.flags, o.defines ? "&" : "NULL",
        o.num_defines);
  for (size_t i = 0; i < nd; ++i) {
    c.LogStr("  define.name", s.defines[i].name);
    c.LogStr("  define.value", s.defines[i].value);
  }
  c.Log("options=%s[%" PRIu64 "]", o.options ? "&" : "NULL", o.num_options);
  for (size_t i = 0; i < no; ++i) c.LogStr("  option", s.options[i]);
  c.Log("headers=%s[%" PRIu64 "]", o.headers ? "&" : "NULL", o.num_headers);
  for (size_t i = 0; i < nh; ++i) {
    c.LogStr("  header.name", s.headers[i].name);
    c.LogStr("  header.content", s.headers[i].content);
  }
  c.Log("name_expressions=%s[%" PRIu64 "]", o.name_expressions ? "&" : "NULL",
        o.num_name_expressions);
  for (size_t i = 0; i < nn; ++i) c.LogStr("  name", s.names[i]);
  c.Log("log=%s, log_cap=%" PRIu64 ", log_len=%s", o.log ? "&buf" : "NULL", o.log_cap,
        s.log_given ? "&len" : "NULL");
  s.snap = o;
}

void CheckCompile(Ctx& c, cudago_status_t st, const CompileSetup& s) {
  if (!s.given) return;
  c.CheckIn(st, &s.o, s.snap);
  const bool len_written = s.log_given && s.log_len != kLenSentinel;
  c.CheckText(s.log, sizeof s.log, s.o.log != nullptr ? s.o.log_cap : 0, len_written, s.log_len,
              "opts->log");
  if (s.o.log == nullptr) {
    for (unsigned char b : s.log) {
      if (b != kCanary) c.Fail("opts->log is NULL but the harness's log storage was written");
    }
  }
  if (s.snap.struct_size == sizeof s.o && s.snap.num_defines <= INT32_MAX &&
      s.snap.num_options <= INT32_MAX && s.snap.num_defines + s.snap.num_options > INT32_MAX) {
    c.MustFail(st, true, "num_defines + num_options is above INT32_MAX");
  }
  const uint64_t counts[] = {s.snap.num_defines, s.snap.num_options, s.snap.num_headers,
                             s.snap.num_name_expressions};
  for (uint64_t n : counts) c.MustFail(st, n > INT32_MAX, "a compile count is above INT32_MAX");
}

// ---- one function per entry point, in the order of capi/cudago.h ----

#define OPFN(name) void Op_##name(Ctx& c)

// Generic query: handle + out pointer.
template <class H, class O>
void Query(Ctx& c, cudago_status_t (*f)(H, O*), H h, const char* out_name) {
  O out{};
  O* po = c.Out(out, out_name);
  const cudago_status_t st = f(h, po);
  c.Check(st);
  c.MustFail(st, h == nullptr, "the handle is NULL");
  c.MustFail(st, po == nullptr, "the out pointer is NULL");
}

OPFN(status_string) {
  const int32_t v = c.Range(0, 2) == 0 ? c.RawEnum(22) : c.Range(0, 21);
  c.Log("status=%" PRId32, v);
  const Record before = c.ReadRecord();
  const char* s = cudago_status_string(static_cast<cudago_status_t>(v));
  c.ExpectRecord(before);
  if (s == nullptr || *s == '\0') c.Fail("returned a NULL or empty string");
  const char* name = KnownStatusName(v);
  if (name != nullptr) {
    const size_t n = std::strlen(name);
    if (std::strncmp(s, name, n) != 0 || s[n] != ':') {
      c.Fail("returned \"%s\" for %s", s, name);
    }
  }
}

OPFN(error_last) {
  const Record before = c.ReadRecord();
  cudago_error_info_t info;
  cudago_error_info_init(&info);
  const bool given = c.Range(0, 7) != 0;
  info.struct_size = c.StructSize(sizeof info, "out.struct_size");
  if (!given) c.Log("out=NULL");
  const cudago_error_info_t snap = info;
  const cudago_status_t st = cudago_error_last(given ? &info : nullptr);
  cudago_status_t expected = CUDAGO_ERROR_INVALID_ARGUMENT;
  if (given && snap.struct_size >= sizeof info) expected = CUDAGO_SUCCESS;
  if (g_trace) {
    std::fprintf(stderr, "capi_fuzz: #%d %s(%s) -> %s\n", c.step, c.fn, c.args.c_str(),
                 KnownStatusName(static_cast<int32_t>(st))
                     ? KnownStatusName(static_cast<int32_t>(st))
                     : "?");
  }
  if (st != expected) c.Fail("returned %d, expected %d", st, expected);
  if (given) c.CheckOutStruct(st, &info, snap);
  if (st == CUDAGO_SUCCESS && (info.status != before.status || before.message != info.message ||
                               before.operation != info.operation)) {
    c.Fail("reported another record than the one it keeps");
  }
  if (c.ReadRecord() != before) c.Fail("changed the error record");
}

OPFN(version_number) {
  const Record before = c.ReadRecord();
  const uint32_t v = cudago_version_number();
  c.ExpectRecord(before);
  if (v != CUDAGO_VERSION_NUMBER) c.Fail("returned %" PRIu32, v);
}

OPFN(version_string) {
  const Record before = c.ReadRecord();
  const char* v = cudago_version_string();
  c.ExpectRecord(before);
  char expected[32];
  std::snprintf(expected, sizeof expected, "%d.%d.%d", CUDAGO_VERSION_MAJOR, CUDAGO_VERSION_MINOR,
                CUDAGO_VERSION_PATCH);
  if (v == nullptr || std::strcmp(v, expected) != 0) {
    c.Fail("returned \"%s\", expected \"%s\"", v ? v : "(null)", expected);
  }
}

OPFN(driver_version) {
  int32_t out = -12345;
  int32_t* po = c.Out(out, "out");
  const cudago_status_t st = cudago_driver_version(po);
  c.Check(st);
  c.MustFail(st, po == nullptr, "out is NULL");
  if (po != nullptr && st != CUDAGO_SUCCESS) c.Fail("failed with a valid out (0 means no driver)");
  if (st == CUDAGO_SUCCESS && out < 0) c.Fail("reported a negative version %" PRId32, out);
}

OPFN(runtime_version) {
  int32_t out = -12345;
  int32_t* po = c.Out(out, "out");
  const cudago_status_t st = cudago_runtime_version(po);
  c.Check(st);
  c.MustFail(st, po == nullptr, "out is NULL");
  if (st == CUDAGO_SUCCESS && out <= 0) c.Fail("reported version %" PRId32, out);
}

OPFN(device_count) {
  int32_t out = -12345;
  int32_t* po = c.Out(out, "out");
  const cudago_status_t st = cudago_device_count(po);
  c.Check(st);
  c.MustFail(st, po == nullptr, "out is NULL");
  if (po != nullptr && st != CUDAGO_SUCCESS) c.Fail("failed with a valid out");
  if (st == CUDAGO_SUCCESS && out != g_device_count) {
    c.Fail("reported %" PRId32 " devices, %" PRId32 " at start-up", out, g_device_count);
  }
}

OPFN(no_device_reason) {
  const Record before = c.ReadRecord();
  const char* r = cudago_no_device_reason();
  c.ExpectRecord(before);
  if (r == nullptr) c.Fail("returned NULL");
  if (g_device_count == 0 && *r == '\0') c.Fail("returned \"\" although there is no device");
  if (g_device_count > 0 && *r != '\0') c.Fail("returned \"%s\" although there are devices", r);
}

OPFN(device_properties) {
  const int32_t device = c.Device("device");
  cudago_device_properties_t out;
  cudago_device_properties_init(&out);
  out.struct_size = c.StructSize(sizeof out, "out.struct_size");
  cudago_device_properties_t* po = c.Out(out, "out");
  const cudago_device_properties_t snap = out;
  const cudago_status_t st = cudago_device_properties(device, po);
  c.Check(st);
  c.MustFailDevice(st, device);
  c.MustFail(st, po == nullptr, "out is NULL");
  c.CheckOutStruct(st, po, snap);
}

OPFN(device_memory_info) {
  const int32_t device = c.Device("device");
  uint64_t f = 0, t = 0;
  uint64_t* pf = c.Out(f, "free_bytes");
  uint64_t* pt = c.Out(t, "total_bytes");
  const cudago_status_t st = cudago_device_memory_info(device, pf, pt);
  c.Check(st);
  c.MustFailDevice(st, device);
  c.MustFail(st, pf == nullptr || pt == nullptr, "an out pointer is NULL");
}

OPFN(stream_create) {
  cudago_stream_t out = Sentinel<cudago_stream_t>();
  cudago_stream_t* po = c.Out(out, "out");
  const int32_t device = c.Device("device");
  const uint32_t flags = c.Flags("flags", CUDAGO_STREAM_NON_BLOCKING);
  const int32_t priority = c.I32("priority");
  const cudago_status_t st = cudago_stream_create(po, device, flags, priority);
  c.Check(st);
  c.MustFailDevice(st, device);
  if (c.Created(st, po, out)) c.streams.push_back(out);
}

OPFN(stream_destroy) {
  const cudago_stream_t s = c.Take(c.streams, "stream");
  const cudago_status_t st = cudago_stream_destroy(s);
  c.Check(st);
  if (s == nullptr && st != CUDAGO_SUCCESS) c.Fail("destroying NULL failed");
}

OPFN(stream_synchronize) {
  const cudago_stream_t s = c.Stream();
  const cudago_status_t st = cudago_stream_synchronize(s);
  c.Check(st);
  c.MustFail(st, s == nullptr, "stream is NULL");
}

OPFN(stream_query) {
  const cudago_stream_t s = c.Stream();
  int32_t done = -7;
  int32_t* pd = c.Out(done, "done");
  const cudago_status_t st = cudago_stream_query(s, pd);
  c.Check(st);
  c.MustFail(st, s == nullptr || pd == nullptr, "stream or done is NULL");
  if (st == CUDAGO_SUCCESS && done != 0 && done != 1) c.Fail("*done = %" PRId32, done);
}

OPFN(stream_wait_event) {
  const cudago_stream_t s = c.Stream();
  const cudago_event_t e = c.PickHandle(c.events, "event");
  const cudago_status_t st = cudago_stream_wait_event(s, e);
  c.Check(st);
  c.MustFail(st, s == nullptr || e == nullptr, "stream or event is NULL");
}

OPFN(stream_device) { Query(c, cudago_stream_device, c.Stream(), "device"); }
OPFN(stream_priority) { Query(c, cudago_stream_priority, c.Stream(), "priority"); }
OPFN(stream_native) { Query(c, cudago_stream_native, c.Stream(), "out"); }

OPFN(event_create) {
  cudago_event_t out = Sentinel<cudago_event_t>();
  cudago_event_t* po = c.Out(out, "out");
  const int32_t device = c.Device("device");
  const uint32_t flags = c.Flags("flags", CUDAGO_EVENT_DISABLE_TIMING | CUDAGO_EVENT_BLOCKING_SYNC);
  const cudago_status_t st = cudago_event_create(po, device, flags);
  c.Check(st);
  c.MustFailDevice(st, device);
  if (c.Created(st, po, out)) c.events.push_back(out);
}

OPFN(event_destroy) {
  const cudago_event_t e = c.Take(c.events, "event");
  const cudago_status_t st = cudago_event_destroy(e);
  c.Check(st);
  if (e == nullptr && st != CUDAGO_SUCCESS) c.Fail("destroying NULL failed");
}

OPFN(event_record) {
  const cudago_event_t e = c.PickHandle(c.events, "event");
  const cudago_stream_t s = c.Stream();
  const cudago_status_t st = cudago_event_record(e, s);
  c.Check(st);
  c.MustFail(st, s == nullptr || e == nullptr, "stream or event is NULL");
}

OPFN(event_synchronize) {
  const cudago_event_t e = c.PickHandle(c.events, "event");
  const cudago_status_t st = cudago_event_synchronize(e);
  c.Check(st);
  c.MustFail(st, e == nullptr, "event is NULL");
}

OPFN(event_query) {
  const cudago_event_t e = c.PickHandle(c.events, "event");
  int32_t done = -7;
  int32_t* pd = c.Out(done, "done");
  const cudago_status_t st = cudago_event_query(e, pd);
  c.Check(st);
  c.MustFail(st, e == nullptr || pd == nullptr, "event or done is NULL");
  if (st == CUDAGO_SUCCESS && done != 0 && done != 1) c.Fail("*done = %" PRId32, done);
}

OPFN(event_elapsed_ms) {
  const cudago_event_t a = c.PickHandle(c.events, "start");
  const cudago_event_t b = c.PickHandle(c.events, "end");
  float ms = 0;
  float* pm = c.Out(ms, "ms");
  const cudago_status_t st = cudago_event_elapsed_ms(a, b, pm);
  c.Check(st);
  c.MustFail(st, a == nullptr || b == nullptr || pm == nullptr, "an argument is NULL");
}

OPFN(pool_configure) {
  const int32_t device = c.Device("device");
  cudago_pool_config_t cfg;
  cudago_pool_config_init(&cfg);
  cfg.struct_size = c.StructSize(sizeof cfg, "config.struct_size");
  if (c.Range(0, 5) == 0) cfg.reserved0 = c.Bool() ? 1u : UINT32_MAX;
  if (c.Bool()) cfg.release_threshold_bytes = c.RawU64();
  if (c.Bool()) cfg.reserve_bytes = c.RawU64();
  c.Log("config={reserved0=%" PRIu32 ", release_threshold=%" PRIu64 ", reserve=%" PRIu64 "}",
        cfg.reserved0, cfg.release_threshold_bytes, cfg.reserve_bytes);
  const cudago_pool_config_t* pc = c.Out(cfg, "config");
  const cudago_pool_config_t snap = cfg;
  const cudago_status_t st = cudago_pool_configure(device, pc);
  c.Check(st);
  c.MustFailDevice(st, device);
  c.MustFail(st, pc == nullptr, "config is NULL");
  c.MustFail(st, snap.reserved0 != 0, "config->reserved0 is not 0");
  c.CheckIn(st, pc, snap);
}

OPFN(pool_stats) {
  const int32_t device = c.Device("device");
  cudago_pool_stats_t out;
  cudago_pool_stats_init(&out);
  out.struct_size = c.StructSize(sizeof out, "out.struct_size");
  cudago_pool_stats_t* po = c.Out(out, "out");
  const cudago_pool_stats_t snap = out;
  const cudago_status_t st = cudago_pool_stats(device, po);
  c.Check(st);
  c.MustFailDevice(st, device);
  c.MustFail(st, po == nullptr, "out is NULL");
  c.CheckOutStruct(st, po, snap);
}

OPFN(pool_trim) {
  const int32_t device = c.Device("device");
  const uint64_t keep = c.U64("keep_bytes");
  const cudago_status_t st = cudago_pool_trim(device, keep);
  c.Check(st);
  c.MustFailDevice(st, device);
}

OPFN(pool_reset_high_water) {
  const int32_t device = c.Device("device");
  const cudago_status_t st = cudago_pool_reset_high_water(device);
  c.Check(st);
  c.MustFailDevice(st, device);
}

OPFN(buffer_alloc) {
  cudago_buffer_t out = Sentinel<cudago_buffer_t>();
  cudago_buffer_t* po = c.Out(out, "out");
  const int32_t device = c.Device("device");
  const uint64_t bytes = c.U64("bytes");
  const cudago_status_t st = cudago_buffer_alloc(po, device, bytes);
  c.Check(st);
  c.MustFailDevice(st, device);
  if (c.Created(st, po, out)) c.buffers.push_back({out, bytes});
}

OPFN(buffer_alloc_async) {
  cudago_buffer_t out = Sentinel<cudago_buffer_t>();
  cudago_buffer_t* po = c.Out(out, "out");
  const cudago_stream_t s = c.Stream();
  const uint64_t bytes = c.U64("bytes");
  const cudago_status_t st = cudago_buffer_alloc_async(po, s, bytes);
  c.Check(st);
  c.MustFail(st, s == nullptr, "stream is NULL");
  if (c.Created(st, po, out)) c.buffers.push_back({out, bytes});
}

OPFN(buffer_free) {
  const BufferRec b = c.Take(c.buffers, "buffer");
  const cudago_status_t st = cudago_buffer_free(b.h);
  c.Check(st);
  if (b.h == nullptr && st != CUDAGO_SUCCESS) c.Fail("freeing NULL failed");
}

OPFN(buffer_size) {
  uint64_t known = 0;
  const cudago_buffer_t b = c.Buffer("buffer", &known);
  uint64_t bytes = 0;
  uint64_t* pb = c.Out(bytes, "bytes");
  const cudago_status_t st = cudago_buffer_size(b, pb);
  c.Check(st);
  c.MustFail(st, b == nullptr || pb == nullptr, "buffer or bytes is NULL");
  if (st == CUDAGO_SUCCESS && bytes != known) {
    c.Fail("reported %" PRIu64 " bytes for a buffer of %" PRIu64, bytes, known);
  }
}

OPFN(buffer_device) { Query(c, cudago_buffer_device, c.Buffer("buffer"), "device"); }
OPFN(buffer_device_pointer) { Query(c, cudago_buffer_device_pointer, c.Buffer("buffer"), "out"); }

OPFN(host_buffer_alloc) {
  cudago_host_buffer_t out = Sentinel<cudago_host_buffer_t>();
  cudago_host_buffer_t* po = c.Out(out, "out");
  const int32_t device = c.Device("device");
  const uint64_t bytes = c.U64("bytes");
  const uint32_t flags = c.Flags("flags", CUDAGO_HOST_MAPPED | CUDAGO_HOST_WRITE_COMBINED);
  const cudago_status_t st = cudago_host_buffer_alloc(po, device, bytes, flags);
  c.Check(st);
  c.MustFailDevice(st, device);
  if (c.Created(st, po, out)) c.hosts.push_back({out, bytes});
}

OPFN(host_buffer_free) {
  const HostRec h = c.Take(c.hosts, "buffer");
  const cudago_status_t st = cudago_host_buffer_free(h.h);
  c.Check(st);
  if (h.h == nullptr && st != CUDAGO_SUCCESS) c.Fail("freeing NULL failed");
}

OPFN(host_buffer_size) {
  const int i = c.PickIndex(c.hosts, "buffer");
  const cudago_host_buffer_t h = i < 0 ? nullptr : c.hosts[static_cast<size_t>(i)].h;
  uint64_t bytes = 0;
  uint64_t* pb = c.Out(bytes, "bytes");
  const cudago_status_t st = cudago_host_buffer_size(h, pb);
  c.Check(st);
  c.MustFail(st, h == nullptr || pb == nullptr, "buffer or bytes is NULL");
  if (st == CUDAGO_SUCCESS && bytes != c.hosts[static_cast<size_t>(i)].bytes) {
    c.Fail("reported %" PRIu64 " bytes for a host buffer of %" PRIu64, bytes,
           c.hosts[static_cast<size_t>(i)].bytes);
  }
}

OPFN(host_buffer_device) { Query(c, cudago_host_buffer_device, c.Host("buffer"), "device"); }
OPFN(host_buffer_host_pointer) {
  Query(c, cudago_host_buffer_host_pointer, c.Host("buffer"), "out");
}
OPFN(host_buffer_device_pointer) {
  Query(c, cudago_host_buffer_device_pointer, c.Host("buffer"), "out");
}

OPFN(buffer_from_mapped) {
  cudago_buffer_t out = Sentinel<cudago_buffer_t>();
  cudago_buffer_t* po = c.Out(out, "out");
  const int i = c.PickIndex(c.hosts, "mapped");
  const cudago_host_buffer_t h = i < 0 ? nullptr : c.hosts[static_cast<size_t>(i)].h;
  const cudago_status_t st = cudago_buffer_from_mapped(po, h);
  c.Check(st);
  c.MustFail(st, h == nullptr, "mapped is NULL");
  if (c.Created(st, po, out)) c.buffers.push_back({out, c.hosts[static_cast<size_t>(i)].bytes});
}

// Byte count of a synchronous copy: with a real device buffer and real host memory, at most the
// harness's host storage.
uint64_t CopyBytes(Ctx& c, bool real_device, const void* host) {
  uint64_t v = c.RawU64();
  if (real_device && host != nullptr) v %= kHostBytes + 1;
  c.Log("bytes=%" PRIu64, v);
  return v;
}
const void* HostPtr(Ctx& c, const char* name) {
  const bool null = c.Range(0, 5) == 0;
  c.Log("%s=%s", name, null ? "NULL" : "&host");
  return null ? nullptr : c.host;
}

OPFN(copy_h2d) {
  const void* src = HostPtr(c, "src");
  const cudago_buffer_t dst = c.Buffer("dst");
  const uint64_t off = c.U64("dst_offset");
  const uint64_t bytes = CopyBytes(c, dst != nullptr, src);
  const cudago_status_t st = cudago_copy_h2d(src, dst, off, bytes);
  c.Check(st);
  c.MustFail(st, bytes > 0 && dst == nullptr, "dst is NULL");
}

OPFN(copy_d2h) {
  const cudago_buffer_t src = c.Buffer("src");
  const uint64_t off = c.U64("src_offset");
  void* dst = const_cast<void*>(HostPtr(c, "dst"));
  const uint64_t bytes = CopyBytes(c, src != nullptr, dst);
  const cudago_status_t st = cudago_copy_d2h(src, off, dst, bytes);
  c.Check(st);
  c.MustFail(st, bytes > 0 && src == nullptr, "src is NULL");
}

OPFN(copy_d2d) {
  const cudago_buffer_t src = c.Buffer("src");
  const uint64_t so = c.U64("src_offset");
  const cudago_buffer_t dst = c.Buffer("dst");
  const uint64_t d_o = c.U64("dst_offset");
  const uint64_t bytes = c.U64("bytes");
  const cudago_status_t st = cudago_copy_d2d(src, so, dst, d_o, bytes);
  c.Check(st);
  c.MustFail(st, bytes > 0 && (src == nullptr || dst == nullptr), "a buffer is NULL");
}

OPFN(memset) {
  const uint8_t v = c.U8("value");
  const cudago_buffer_t dst = c.Buffer("dst");
  const uint64_t off = c.U64("dst_offset");
  const uint64_t bytes = c.U64("bytes");
  const cudago_status_t st = cudago_memset(v, dst, off, bytes);
  c.Check(st);
  c.MustFail(st, bytes > 0 && dst == nullptr, "dst is NULL");
}

OPFN(copy_h2d_async) {
  const cudago_stream_t s = c.Stream();
  const cudago_host_buffer_t src = c.Host("src");
  const uint64_t so = c.U64("src_offset");
  const cudago_buffer_t dst = c.Buffer("dst");
  const uint64_t d_o = c.U64("dst_offset");
  const uint64_t bytes = c.U64("bytes");
  const cudago_status_t st = cudago_copy_h2d_async(s, src, so, dst, d_o, bytes);
  c.Check(st);
  c.MustFail(st, bytes > 0 && (s == nullptr || src == nullptr || dst == nullptr),
             "a handle is NULL");
}

OPFN(copy_d2h_async) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t src = c.Buffer("src");
  const uint64_t so = c.U64("src_offset");
  const cudago_host_buffer_t dst = c.Host("dst");
  const uint64_t d_o = c.U64("dst_offset");
  const uint64_t bytes = c.U64("bytes");
  const cudago_status_t st = cudago_copy_d2h_async(s, src, so, dst, d_o, bytes);
  c.Check(st);
  c.MustFail(st, bytes > 0 && (s == nullptr || src == nullptr || dst == nullptr),
             "a handle is NULL");
}

OPFN(copy_d2d_async) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t src = c.Buffer("src");
  const uint64_t so = c.U64("src_offset");
  const cudago_buffer_t dst = c.Buffer("dst");
  const uint64_t d_o = c.U64("dst_offset");
  const uint64_t bytes = c.U64("bytes");
  const cudago_status_t st = cudago_copy_d2d_async(s, src, so, dst, d_o, bytes);
  c.Check(st);
  c.MustFail(st, bytes > 0 && (s == nullptr || src == nullptr || dst == nullptr),
             "a handle is NULL");
}

OPFN(memset_async) {
  const cudago_stream_t s = c.Stream();
  const uint8_t v = c.U8("value");
  const cudago_buffer_t dst = c.Buffer("dst");
  const uint64_t off = c.U64("dst_offset");
  const uint64_t bytes = c.U64("bytes");
  const cudago_status_t st = cudago_memset_async(s, v, dst, off, bytes);
  c.Check(st);
  c.MustFail(st, bytes > 0 && (s == nullptr || dst == nullptr), "a handle is NULL");
}

OPFN(dtype_size) {
  const int32_t v = c.RawEnum(10);
  c.Log("dtype=%" PRId32, v);
  const Record before = c.ReadRecord();
  const size_t n = cudago_dtype_size(static_cast<cudago_dtype_t>(v));
  c.ExpectRecord(before);
  static const size_t kSizes[] = {4, 8, 2, 2, 1, 1, 4, 4, 8, 8};
  const size_t expected = v >= 0 && v < 10 ? kSizes[v] : 0;
  if (n != expected) c.Fail("returned %zu, expected %zu", n, expected);
}

OPFN(elementwise_binary) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t a = c.Buffer("a");
  const uint64_t ao = c.U64("a_offset");
  const cudago_buffer_t b = c.Buffer("b");
  const uint64_t bo = c.U64("b_offset");
  const cudago_buffer_t cc = c.Buffer("c");
  const uint64_t co = c.U64("c_offset");
  const uint64_t n = c.U64("n");
  const auto dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  const auto op = c.Enum<cudago_binary_op_t>("op", 4);
  const cudago_status_t st = cudago_elementwise_binary(s, a, ao, b, bo, cc, co, n, dtype, op);
  c.Check(st);
  c.MustFail(st, n > 0 && (s == nullptr || a == nullptr || b == nullptr || cc == nullptr),
             "a handle is NULL");
}

OPFN(elementwise_axpy) {
  const cudago_stream_t s = c.Stream();
  const double alpha = c.F64("alpha");
  const cudago_buffer_t x = c.Buffer("x");
  const uint64_t xo = c.U64("x_offset");
  const cudago_buffer_t y = c.Buffer("y");
  const uint64_t yo = c.U64("y_offset");
  const uint64_t n = c.U64("n");
  const auto dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  const cudago_status_t st = cudago_elementwise_axpy(s, alpha, x, xo, y, yo, n, dtype);
  c.Check(st);
  c.MustFail(st, n > 0 && (s == nullptr || x == nullptr || y == nullptr), "a handle is NULL");
}

OPFN(elementwise_scale) {
  const cudago_stream_t s = c.Stream();
  const double alpha = c.F64("alpha");
  const cudago_buffer_t x = c.Buffer("x");
  const uint64_t xo = c.U64("x_offset");
  const uint64_t n = c.U64("n");
  const auto dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  const cudago_status_t st = cudago_elementwise_scale(s, alpha, x, xo, n, dtype);
  c.Check(st);
  c.MustFail(st, n > 0 && (s == nullptr || x == nullptr), "a handle is NULL");
}

OPFN(elementwise_fill) {
  const cudago_stream_t s = c.Stream();
  const double value = c.F64("value");
  const cudago_buffer_t x = c.Buffer("x");
  const uint64_t xo = c.U64("x_offset");
  const uint64_t n = c.U64("n");
  const auto dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  const cudago_status_t st = cudago_elementwise_fill(s, value, x, xo, n, dtype);
  c.Check(st);
  c.MustFail(st, n > 0 && (s == nullptr || x == nullptr), "a handle is NULL");
}

OPFN(elementwise_cast) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t src = c.Buffer("src");
  const uint64_t so = c.U64("src_offset");
  const cudago_buffer_t dst = c.Buffer("dst");
  const uint64_t d_o = c.U64("dst_offset");
  const uint64_t n = c.U64("n");
  const auto sd = c.Enum<cudago_dtype_t>("src_dtype", 10);
  const auto dd = c.Enum<cudago_dtype_t>("dst_dtype", 10);
  const cudago_status_t st = cudago_elementwise_cast(s, src, so, dst, d_o, n, sd, dd);
  c.Check(st);
  c.MustFail(st, n > 0 && (s == nullptr || src == nullptr || dst == nullptr), "a handle is NULL");
}

OPFN(reduce_all) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t x = c.Buffer("x");
  const uint64_t xo = c.U64("x_offset");
  const cudago_buffer_t y = c.Buffer("y");
  const uint64_t yo = c.U64("y_offset");
  const cudago_buffer_t out = c.Buffer("out");
  const uint64_t oo = c.U64("out_offset");
  const uint64_t n = c.U64("n");
  const auto dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  const auto op = c.Enum<cudago_reduce_op_t>("op", 6);
  const cudago_status_t st = cudago_reduce_all(s, x, xo, y, yo, out, oo, n, dtype, op);
  c.Check(st);
  c.MustFail(st, s == nullptr || x == nullptr || out == nullptr, "a handle is NULL");
  c.MustFail(st, op == CUDAGO_REDUCE_DOT && y == nullptr, "DOT without y");
  c.MustFail(st, op != CUDAGO_REDUCE_DOT && y != nullptr, "y given for an op other than DOT");
}

OPFN(reduce_rows) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t x = c.Buffer("x");
  const uint64_t xo = c.U64("x_offset");
  const cudago_buffer_t y = c.Buffer("y");
  const uint64_t yo = c.U64("y_offset");
  const cudago_buffer_t out = c.Buffer("out");
  const uint64_t oo = c.U64("out_offset");
  const uint64_t rows = c.U64("rows");
  const uint64_t cols = c.U64("cols");
  const auto dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  const auto op = c.Enum<cudago_reduce_op_t>("op", 6);
  const cudago_status_t st = cudago_reduce_rows(s, x, xo, y, yo, out, oo, rows, cols, dtype, op);
  c.Check(st);
  c.MustFail(st, rows > 0 && (s == nullptr || x == nullptr || out == nullptr), "a handle is NULL");
}

OPFN(layout_transpose_2d) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t in = c.Buffer("in");
  const uint64_t io = c.U64("in_offset");
  const cudago_buffer_t out = c.Buffer("out");
  const uint64_t oo = c.U64("out_offset");
  const uint64_t rows = c.U64("rows");
  const uint64_t cols = c.U64("cols");
  const auto dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  const cudago_status_t st = cudago_layout_transpose_2d(s, in, io, out, oo, rows, cols, dtype);
  c.Check(st);
  c.MustFail(st, s == nullptr || in == nullptr || out == nullptr, "a handle is NULL");
}

template <class F>
void Layout4(Ctx& c, F f) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t in = c.Buffer("in");
  const uint64_t io = c.U64("in_offset");
  const cudago_buffer_t out = c.Buffer("out");
  const uint64_t oo = c.U64("out_offset");
  const uint64_t n = c.U64("n");
  const uint64_t h = c.U64("h");
  const uint64_t w = c.U64("w");
  const uint64_t ch = c.U64("c");
  const auto dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  const cudago_status_t st = f(s, in, io, out, oo, n, h, w, ch, dtype);
  c.Check(st);
  c.MustFail(st, s == nullptr || in == nullptr || out == nullptr, "a handle is NULL");
}
OPFN(layout_nhwc_to_nchw) { Layout4(c, cudago_layout_nhwc_to_nchw); }
OPFN(layout_nchw_to_nhwc) { Layout4(c, cudago_layout_nchw_to_nhwc); }

OPFN(blas_gemm) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t a = c.Buffer("a");
  const uint64_t ao = c.U64("a_offset");
  const cudago_buffer_t b = c.Buffer("b");
  const uint64_t bo = c.U64("b_offset");
  const cudago_buffer_t cc = c.Buffer("c");
  const uint64_t co = c.U64("c_offset");
  cudago_gemm_params_t p;
  cudago_gemm_params_init(&p);
  p.struct_size = c.StructSize(sizeof p, "params.struct_size");
  if (c.Bool()) p.layout = c.Enum<cudago_blas_layout_t>("params.layout", 2);
  if (c.Bool()) p.trans_a = c.Enum<cudago_blas_op_t>("params.trans_a", 2);
  if (c.Bool()) p.trans_b = c.Enum<cudago_blas_op_t>("params.trans_b", 2);
  if (c.Bool()) p.dtype = c.Enum<cudago_dtype_t>("params.dtype", 10);
  if (c.Bool()) p.compute = c.Enum<cudago_blas_compute_t>("params.compute", 2);
  p.m = c.U64("params.m");
  p.n = c.U64("params.n");
  p.k = c.U64("params.k");
  if (c.Bool()) p.alpha = c.F64("params.alpha");
  if (c.Bool()) p.beta = c.F64("params.beta");
  if (c.Bool()) {
    p.lda = c.U64("params.lda");
    p.ldb = c.U64("params.ldb");
    p.ldc = c.U64("params.ldc");
  }
  if (c.Bool()) p.batch = c.U64("params.batch");
  if (c.Bool()) {
    p.stride_a = c.U64("params.stride_a");
    p.stride_b = c.U64("params.stride_b");
    p.stride_c = c.U64("params.stride_c");
  }
  const cudago_gemm_params_t* pp = c.Out(p, "params");
  const cudago_gemm_params_t snap = p;
  const cudago_status_t st = cudago_blas_gemm(s, a, ao, b, bo, cc, co, pp);
  c.Check(st);
  c.MustFail(st, pp == nullptr, "params is NULL");
  c.MustFail(st, s == nullptr || a == nullptr || b == nullptr || cc == nullptr, "a handle is NULL");
  c.CheckIn(st, pp, snap);
}

OPFN(blas_set_graph_replay) {
  const uint64_t entries = c.U64("max_entries");
  const uint64_t macs = c.U64("max_macs");
  const cudago_status_t st = cudago_blas_set_graph_replay(entries, macs);
  c.Check(st);
  if (macs > (uint64_t{1} << 40) && st != CUDAGO_ERROR_INVALID_ARGUMENT) {
    c.Fail("max_macs above 2^40 gave %d, not CUDAGO_ERROR_INVALID_ARGUMENT", st);
  }
}

OPFN(blas_cache_clear) { c.Check(cudago_blas_cache_clear()); }

OPFN(blas_gemv) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t a = c.Buffer("a");
  const uint64_t ao = c.U64("a_offset");
  const cudago_buffer_t x = c.Buffer("x");
  const uint64_t xo = c.U64("x_offset");
  const cudago_buffer_t y = c.Buffer("y");
  const uint64_t yo = c.U64("y_offset");
  cudago_gemv_params_t p;
  cudago_gemv_params_init(&p);
  p.struct_size = c.StructSize(sizeof p, "params.struct_size");
  if (c.Bool()) p.layout = c.Enum<cudago_blas_layout_t>("params.layout", 2);
  if (c.Bool()) p.trans = c.Enum<cudago_blas_op_t>("params.trans", 2);
  if (c.Bool()) p.dtype = c.Enum<cudago_dtype_t>("params.dtype", 10);
  p.m = c.U64("params.m");
  p.n = c.U64("params.n");
  if (c.Bool()) p.alpha = c.F64("params.alpha");
  if (c.Bool()) p.beta = c.F64("params.beta");
  if (c.Bool()) p.lda = c.U64("params.lda");
  if (c.Bool()) {
    p.incx = c.U64("params.incx");
    p.incy = c.U64("params.incy");
  }
  const cudago_gemv_params_t* pp = c.Out(p, "params");
  const cudago_gemv_params_t snap = p;
  const cudago_status_t st = cudago_blas_gemv(s, a, ao, x, xo, y, yo, pp);
  c.Check(st);
  c.MustFail(st, pp == nullptr, "params is NULL");
  c.MustFail(st, s == nullptr || a == nullptr || x == nullptr || y == nullptr, "a handle is NULL");
  c.CheckIn(st, pp, snap);
}

OPFN(blas_axpy) {
  const cudago_stream_t s = c.Stream();
  const double alpha = c.F64("alpha");
  const cudago_buffer_t x = c.Buffer("x");
  const uint64_t xo = c.U64("x_offset");
  const cudago_buffer_t y = c.Buffer("y");
  const uint64_t yo = c.U64("y_offset");
  const uint64_t n = c.U64("n");
  const uint64_t incx = c.U64("incx");
  const uint64_t incy = c.U64("incy");
  const auto dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  const cudago_status_t st = cudago_blas_axpy(s, alpha, x, xo, y, yo, n, incx, incy, dtype);
  c.Check(st);
  c.MustFail(st, s == nullptr || x == nullptr || y == nullptr, "a handle is NULL");
  c.MustFail(st, n == 0 || incx == 0 || incy == 0, "n or an increment is 0");
}

OPFN(blas_scal) {
  const cudago_stream_t s = c.Stream();
  const double alpha = c.F64("alpha");
  const cudago_buffer_t x = c.Buffer("x");
  const uint64_t xo = c.U64("x_offset");
  const uint64_t n = c.U64("n");
  const uint64_t incx = c.U64("incx");
  const auto dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  const cudago_status_t st = cudago_blas_scal(s, alpha, x, xo, n, incx, dtype);
  c.Check(st);
  c.MustFail(st, s == nullptr || x == nullptr, "a handle is NULL");
  c.MustFail(st, n == 0 || incx == 0, "n or incx is 0");
}

OPFN(blas_dot) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t x = c.Buffer("x");
  const uint64_t xo = c.U64("x_offset");
  const cudago_buffer_t y = c.Buffer("y");
  const uint64_t yo = c.U64("y_offset");
  const cudago_buffer_t r = c.Buffer("result");
  const uint64_t ro = c.U64("result_offset");
  const uint64_t n = c.U64("n");
  const uint64_t incx = c.U64("incx");
  const uint64_t incy = c.U64("incy");
  const auto dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  const cudago_status_t st = cudago_blas_dot(s, x, xo, y, yo, r, ro, n, incx, incy, dtype);
  c.Check(st);
  c.MustFail(st, s == nullptr || x == nullptr || y == nullptr || r == nullptr, "a handle is NULL");
  c.MustFail(st, n == 0 || incx == 0 || incy == 0, "n or an increment is 0");
}

OPFN(blas_nrm2) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t x = c.Buffer("x");
  const uint64_t xo = c.U64("x_offset");
  const cudago_buffer_t r = c.Buffer("result");
  const uint64_t ro = c.U64("result_offset");
  const uint64_t n = c.U64("n");
  const uint64_t incx = c.U64("incx");
  const auto dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  const cudago_status_t st = cudago_blas_nrm2(s, x, xo, r, ro, n, incx, dtype);
  c.Check(st);
  c.MustFail(st, s == nullptr || x == nullptr || r == nullptr, "a handle is NULL");
  c.MustFail(st, n == 0 || incx == 0, "n or incx is 0");
}

// ---- the FFT layout rule of capi/cudago.h, computed exactly (128 bits, saturated) ----

using U128 = unsigned __int128;
constexpr U128 kWideCap = U128{1} << 100;  // anything this large does not fit in 64 bits anyway
U128 WMul(U128 a, U128 b) {
  if (a == 0 || b == 0) return 0;
  return a > kWideCap / b ? kWideCap : a * b;
}
U128 WAdd(U128 a, U128 b) { return std::min<U128>(a + b, kWideCap); }

// Bytes one side spans: element (b, i) lives at b * dist + stride * (row-major index of i in an
// array of sizes embed); zero fields take their defaults (embed = the side's logical sizes,
// padded to 2 * (n/2 + 1) reals in the last dimension for the real side in place; stride = 1;
// dist = stride * prod(embed)); a complex side of R2C/C2R has n[rank-1] / 2 + 1 elements there.
U128 FftSideBytes(const cudago_fft_desc_t& d, const cudago_fft_layout_t& lay, bool complex,
                  bool padded_real) {
  const size_t r = static_cast<size_t>(d.rank);
  const U128 real_bytes = d.precision == CUDAGO_DTYPE_F64 ? 8 : 4;
  const U128 elem = complex ? 2 * real_bytes : real_bytes;
  const bool half = complex && d.type != CUDAGO_FFT_C2C;
  U128 n[CUDAGO_FFT_MAX_RANK], embed[CUDAGO_FFT_MAX_RANK];
  for (size_t i = 0; i < r; ++i) {
    n[i] = d.dims[i];
    if (half && i == r - 1) n[i] = d.dims[i] / 2 + 1;
    embed[i] = lay.embed[i] != 0             ? U128{lay.embed[i]}
               : (padded_real && i == r - 1) ? 2 * (U128{d.dims[i]} / 2 + 1)
                                             : n[i];
  }
  const U128 stride = lay.stride == 0 ? 1 : lay.stride;
  U128 span = 1;
  for (size_t i = 0; i < r; ++i) span = WMul(span, embed[i]);
  const U128 dist = lay.dist == 0 ? WMul(stride, span) : U128{lay.dist};
  U128 last = 0;
  for (size_t i = 0; i < r; ++i) last = WAdd(WMul(last, embed[i]), n[i] - 1);
  const U128 extent = WAdd(WAdd(WMul(U128{d.batch} - 1, dist), WMul(stride, last)), 1);
  return WMul(extent, elem);
}

// Checks what a successful cudago_fft_extent / cudago_fft_exec accepted, and the extents.
void CheckFftDesc(Ctx& c, cudago_status_t st, const cudago_fft_desc_t& d) {
  c.MustFail(st, d.rank < 1 || d.rank > CUDAGO_FFT_MAX_RANK, "desc->rank is not 1, 2 or 3");
  c.MustFail(st, d.batch == 0, "desc->batch is 0");
  c.MustFail(st, d.reserved0 != 0, "desc->reserved0 is not 0");
  c.MustFail(st, d.precision != CUDAGO_DTYPE_F32 && d.precision != CUDAGO_DTYPE_F64,
             "desc->precision is not F32 or F64");
  c.MustFail(st, d.type < CUDAGO_FFT_C2C || d.type > CUDAGO_FFT_C2R,
             "desc->type is not a cudago_fft_type_t");
}

OPFN(fft_exec) {
  const cudago_stream_t s = c.Stream();
  const cudago_buffer_t in = c.Buffer("in");
  const uint64_t io = c.U64("in_offset");
  const cudago_buffer_t out = c.Buffer("out");
  const uint64_t oo = c.U64("out_offset");
  cudago_fft_desc_t d;
  FillFftDesc(c, d);
  const cudago_fft_desc_t* pd = c.Out(d, "desc");
  const auto dir = c.Enum<cudago_fft_direction_t>("direction", 2);
  const auto norm = c.Enum<cudago_fft_norm_t>("norm", 4);
  const cudago_fft_desc_t snap = d;
  const cudago_status_t st = cudago_fft_exec(s, in, io, out, oo, pd, dir, norm);
  c.Check(st);
  c.MustFail(st, pd == nullptr, "desc is NULL");
  c.MustFail(st, s == nullptr || in == nullptr || out == nullptr, "a handle is NULL");
  c.CheckIn(st, pd, snap);
  if (pd != nullptr) CheckFftDesc(c, st, d);
}

OPFN(fft_extent) {
  cudago_fft_desc_t d;
  FillFftDesc(c, d);
  const cudago_fft_desc_t* pd = c.Out(d, "desc");
  const int32_t in_place = c.Bool() ? c.Range(0, 1) : c.RawI32();
  c.Log("in_place=%" PRId32, in_place);
  uint64_t ib = 0, ob = 0;
  uint64_t* pib = c.Out(ib, "in_bytes");
  uint64_t* pob = c.Out(ob, "out_bytes");
  const cudago_fft_desc_t snap = d;
  const cudago_status_t st = cudago_fft_extent(pd, in_place, pib, pob);
  c.Check(st);
  c.MustFail(st, pd == nullptr || pib == nullptr || pob == nullptr, "a pointer is NULL");
  c.MustFail(st, in_place != 0 && in_place != 1, "in_place is not 0 or 1");
  c.CheckIn(st, pd, snap);
  if (st != CUDAGO_SUCCESS) return;
  CheckFftDesc(c, st, d);
  const bool in_complex = d.type != CUDAGO_FFT_R2C;
  const bool out_complex = d.type != CUDAGO_FFT_C2R;
  const U128 want_in = FftSideBytes(d, d.in, in_complex, in_place == 1 && !in_complex);
  const U128 want_out = FftSideBytes(d, d.out, out_complex, in_place == 1 && !out_complex);
  if (want_in > UINT64_MAX || want_out > UINT64_MAX) {
    c.Fail("succeeded (in %" PRIu64 ", out %" PRIu64
           " bytes) although an extent does not fit in "
           "64 bits",
           ib, ob);
  }
  if (ib != static_cast<uint64_t>(want_in) || ob != static_cast<uint64_t>(want_out)) {
    c.Fail("reported in %" PRIu64 ", out %" PRIu64 " bytes; the layout rule gives %" PRIu64
           " and %" PRIu64,
           ib, ob, static_cast<uint64_t>(want_in), static_cast<uint64_t>(want_out));
  }
}

OPFN(fft_cache_stats) {
  cudago_fft_cache_stats_t out;
  cudago_fft_cache_stats_init(&out);
  out.struct_size = c.StructSize(sizeof out, "out.struct_size");
  cudago_fft_cache_stats_t* po = c.Out(out, "out");
  const cudago_fft_cache_stats_t snap = out;
  const cudago_status_t st = cudago_fft_cache_stats(po);
  c.Check(st);
  c.MustFail(st, po == nullptr, "out is NULL");
  c.CheckOutStruct(st, po, snap);
  if (st == CUDAGO_SUCCESS) c.CheckFftStats(out);
}

OPFN(fft_cache_set_limits) {
  const uint64_t e = c.U64("max_entries");
  const uint64_t b = c.U64("max_bytes");
  const cudago_status_t st = cudago_fft_cache_set_limits(e, b);
  c.Check(st);
  if (st != CUDAGO_SUCCESS) return;
  g_fft_max_entries = e;
  g_fft_max_bytes = b;
  c.CheckFftStats(c.FftStats());  // the new bounds, evicted down to them
}

OPFN(fft_cache_clear) {
  const cudago_fft_cache_stats_t before = c.FftStats();
  const cudago_status_t st = cudago_fft_cache_clear();
  c.Check(st);
  if (st != CUDAGO_SUCCESS) return;
  // "Destroys every idle plan; the counters are kept."
  const cudago_fft_cache_stats_t after = c.FftStats();
  if (after.entries != 0 || after.bytes != 0 || after.hits != before.hits ||
      after.misses != before.misses || after.evictions < before.evictions) {
    c.Fail("after a clear the FFT plan cache reports %" PRIu64 " plans, %" PRIu64
           " bytes, hits %" PRIu64 " -> %" PRIu64 ", misses %" PRIu64 " -> %" PRIu64,
           after.entries, after.bytes, before.hits, after.hits, before.misses, after.misses);
  }
}

OPFN(device_can_access_peer) {
  const int32_t d = c.Device("device");
  const int32_t p = c.Device("peer");
  int32_t out = -7;
  int32_t* po = c.Out(out, "out");
  const cudago_status_t st = cudago_device_can_access_peer(d, p, po);
  c.Check(st);
  c.MustFail(st, po == nullptr, "out is NULL");
  c.MustFailDevice(st, d);
  c.MustFailDevice(st, p);
  if (st == CUDAGO_SUCCESS && out != 0 && out != 1) c.Fail("*out = %" PRId32, out);
  if (st == CUDAGO_SUCCESS && d == p && out != 1) c.Fail("device == peer gave %" PRId32, out);
}

OPFN(device_enable_peer_access) {
  const int32_t d = c.Device("device");
  const int32_t p = c.Device("peer");
  c.Check(cudago_device_enable_peer_access(d, p));
}

OPFN(device_disable_peer_access) {
  const int32_t d = c.Device("device");
  const int32_t p = c.Device("peer");
  c.Check(cudago_device_disable_peer_access(d, p));
}

OPFN(nccl_version) {
  int32_t out = -7;
  int32_t* po = c.Out(out, "out");
  const cudago_status_t st = cudago_nccl_version(po);
  c.Check(st);
  c.MustFail(st, po == nullptr, "out is NULL");
  if (po != nullptr && st != CUDAGO_SUCCESS && out != 0) c.Fail("failed with *out = %d", out);
  if (st == CUDAGO_SUCCESS && out <= 0) c.Fail("succeeded with *out = %d", out);
}

OPFN(comm_init_all) {
  constexpr size_t kMax = 8;
  cudago_comm_t comms[kMax];
  for (auto& h : comms) h = Sentinel<cudago_comm_t>();
  int32_t devices[kMax];
  for (size_t i = 0; i < kMax; ++i) devices[i] = c.Bool() ? static_cast<int32_t>(i) : c.RawI32();
  cudago_comm_t* pc = c.Range(0, 7) == 0 ? nullptr : comms;
  const int32_t* pd = c.Bool() ? nullptr : devices;
  uint64_t count;
  if (c.Range(0, 3) == 0) {
    // A count the arrays cannot hold: only with devices NULL, and only one that cannot succeed
    // (more ranks than devices), so comms[count - 1] is never written nor devices read.
    count = std::max<uint64_t>(c.RawU64(),
                               static_cast<uint64_t>(std::max(g_device_count, 0)) + kMax + 1);
    pd = nullptr;
  } else {
    count = static_cast<uint64_t>(c.Range(0, static_cast<int>(kMax)));
  }
  c.Log("comms=%s, count=%" PRIu64 ", devices=%s", pc ? "&comms[8]" : "NULL", count,
        pd ? "&devices[8]" : "NULL");
  if (pd != nullptr) {
    for (size_t i = 0; i < std::min<uint64_t>(count, kMax); ++i) c.Log("devices[%zu]=%d", i, pd[i]);
  }
  const cudago_status_t st = cudago_comm_init_all(pc, count, pd);
  c.Check(st);
  c.MustFail(st, pc == nullptr, "comms is NULL");
  c.MustFail(st, count == 0, "count is 0");
  c.MustFail(st, count > static_cast<uint64_t>(std::max(g_device_count, 0)),
             "count is above the number of devices (one distinct device per rank)");
  if (pc == nullptr) return;
  if (st != CUDAGO_SUCCESS) {
    for (size_t i = 0; i < kMax; ++i) {
      if (comms[i] != Sentinel<cudago_comm_t>()) c.Fail("failed but wrote comms[%zu]", i);
    }
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    if (comms[i] == nullptr || comms[i] == Sentinel<cudago_comm_t>() ||
        c.Live(static_cast<void*>(comms[i]))) {
      c.Fail("succeeded with comms[%zu] = %p", i, static_cast<void*>(comms[i]));
    }
    c.comms.push_back({comms[i], static_cast<int32_t>(count)});
  }
}

OPFN(comm_unique_id) {
  cudago_nccl_unique_id_t id;
  std::memset(&id, 0x5a, sizeof id);
  cudago_nccl_unique_id_t* po = c.Out(id, "out");
  if (po != nullptr && g_unique_id_calls >= kMaxUniqueIdCalls) {
    po = nullptr;  // each id that reaches NCCL leaves a bootstrap thread behind
    c.Log("(out forced to NULL: unique id budget spent)");
  }
  if (po != nullptr) ++g_unique_id_calls;
  const cudago_status_t st = cudago_comm_unique_id(po);
  c.Check(st);
  c.MustFail(st, po == nullptr, "out is NULL");
  if (st == CUDAGO_SUCCESS) c.uid = id;
}

OPFN(comm_init_rank) {
  cudago_comm_t out = Sentinel<cudago_comm_t>();
  cudago_comm_t* po = c.Out(out, "out");
  const int32_t device = c.Device("device");
  int32_t nranks = c.Bool() ? c.Range(0, 2) : c.RawI32();
  int32_t rank = c.Bool() ? c.Range(-1, 2) : c.RawI32();
  c.Log("nranks=%" PRId32 ", rank=%" PRId32, nranks, rank);
  cudago_nccl_unique_id_t id = c.uid;
  if (c.Range(0, 3) == 0) {
    const std::string raw = c.p.ConsumeBytesAsString(sizeof id.internal);
    std::memcpy(id.internal, raw.data(), raw.size());
  }
  const cudago_nccl_unique_id_t* pid = c.Range(0, 7) == 0 ? nullptr : &id;
  c.Log("id=%s", pid ? "&id" : "NULL");
  cudago_wait_options_t w;
  // Rank set-up with nranks > 1 waits for the others: always bounded then.
  const cudago_wait_options_t* pw = MakeWait(c, w, nranks > 1);
  const cudago_wait_options_t snap = w;
  const cudago_status_t st = cudago_comm_init_rank(po, device, nranks, pid, rank, pw);
  c.Check(st);
  c.MustFail(st, pid == nullptr, "id is NULL");
  c.MustFail(st, nranks < 1 || rank < 0 || rank >= nranks, "nranks or rank is out of range");
  c.MustFailDevice(st, device);
  if (pw != nullptr) {
    c.CheckIn(st, pw, snap);
    c.MustFail(st, snap.reserved0 != 0, "wait->reserved0 is not 0");
  }
  if (c.Created(st, po, out)) c.comms.push_back({out, nranks});
}

OPFN(comm_destroy) {
  const CommRec r = c.Take(c.comms, "comm");
  const cudago_status_t st = cudago_comm_destroy(r.h);
  c.Check(st);
  if (r.h == nullptr && st != CUDAGO_SUCCESS) c.Fail("destroying NULL failed");
}

template <class F>
void CommQuery(Ctx& c, F f, const char* out_name) {
  const int i = c.PickIndex(c.comms, "comm");
  const cudago_comm_t h = i < 0 ? nullptr : c.comms[static_cast<size_t>(i)].h;
  Query(c, f, h, out_name);
}
OPFN(comm_device) { CommQuery(c, cudago_comm_device, "device"); }
OPFN(comm_rank) { CommQuery(c, cudago_comm_rank, "rank"); }
OPFN(comm_size) { CommQuery(c, cudago_comm_size, "size"); }

OPFN(comm_wait) {
  const int i = c.PickIndex(c.comms, "comm");
  const cudago_comm_t h = i < 0 ? nullptr : c.comms[static_cast<size_t>(i)].h;
  const cudago_stream_t s = c.Stream();
  cudago_wait_options_t w;
  const cudago_wait_options_t* pw = MakeWait(c, w, h != nullptr);
  const cudago_wait_options_t snap = w;
  const cudago_status_t st = cudago_comm_wait(h, s, pw);
  c.Check(st);
  c.MustFail(st, h == nullptr || s == nullptr, "comm or stream is NULL");
  if (pw != nullptr) c.CheckIn(st, pw, snap);
}

struct Collective {
  cudago_comm_t comm;
  cudago_stream_t stream;
  cudago_buffer_t send, recv;
  uint64_t so, ro, count;
  cudago_dtype_t dtype;
};
Collective DrawCollective(Ctx& c) {
  Collective k;
  k.comm = c.CollectiveComm();
  if (k.comm == nullptr && !c.comms.empty()) c.Log("(comm passed as NULL unless of one rank)");
  k.stream = c.Stream();
  k.send = c.Buffer("send");
  k.so = c.U64("send_offset");
  k.recv = c.Buffer("recv");
  k.ro = c.U64("recv_offset");
  k.count = c.U64("count");
  k.dtype = c.Enum<cudago_dtype_t>("dtype", 10);
  return k;
}
void CheckCollective(Ctx& c, cudago_status_t st, const Collective& k) {
  c.Check(st);
  c.MustFail(st, k.comm == nullptr || k.stream == nullptr || k.send == nullptr || k.recv == nullptr,
             "a handle is NULL");
  c.MustFail(st, k.count == 0, "count is 0");
}

OPFN(comm_all_reduce) {
  const Collective k = DrawCollective(c);
  const auto op = c.Enum<cudago_nccl_op_t>("op", 5);
  CheckCollective(
      c, cudago_comm_all_reduce(k.comm, k.stream, k.send, k.so, k.recv, k.ro, k.count, k.dtype, op),
      k);
}
OPFN(comm_broadcast) {
  const Collective k = DrawCollective(c);
  const int32_t root = c.I32("root");
  CheckCollective(
      c,
      cudago_comm_broadcast(k.comm, k.stream, k.send, k.so, k.recv, k.ro, k.count, k.dtype, root),
      k);
}
OPFN(comm_reduce) {
  const Collective k = DrawCollective(c);
  const auto op = c.Enum<cudago_nccl_op_t>("op", 5);
  const int32_t root = c.I32("root");
  CheckCollective(
      c,
      cudago_comm_reduce(k.comm, k.stream, k.send, k.so, k.recv, k.ro, k.count, k.dtype, op, root),
      k);
}
OPFN(comm_all_gather) {
  const Collective k = DrawCollective(c);
  CheckCollective(
      c, cudago_comm_all_gather(k.comm, k.stream, k.send, k.so, k.recv, k.ro, k.count, k.dtype), k);
}
OPFN(comm_reduce_scatter) {
  const Collective k = DrawCollective(c);
  const auto op = c.Enum<cudago_nccl_op_t>("op", 5);
  CheckCollective(c,
                  cudago_comm_reduce_scatter(k.comm, k.stream, k.send, k.so, k.recv, k.ro, k.count,
                                             k.dtype, op),
                  k);
}

OPFN(comm_group_start) {
  if (g_group_starts >= kMaxGroupStarts) {
    c.Log("(not called: group budget spent)");
    return;  // each empty group leaks 160 bytes in NCCL, and each leak costs a LeakSanitizer scan
  }
  ++g_group_starts;
  const cudago_status_t st = cudago_comm_group_start();
  c.Check(st);
  if (st == CUDAGO_SUCCESS) ++c.group_depth;
}

OPFN(comm_group_end) {
  const cudago_status_t st = cudago_comm_group_end();
  c.Check(st);
  if (st == CUDAGO_SUCCESS) {
    if (c.group_depth == 0) c.Fail("succeeded without a matching cudago_comm_group_start");
    --c.group_depth;
  }
}

OPFN(module_compile) {
  cudago_module_t out = Sentinel<cudago_module_t>();
  cudago_module_t* po = c.Out(out, "out");
  const int32_t device = c.Device("device");
  auto s = std::make_unique<CompileSetup>();
  BuildCompile(c, *s, false);
  const cudago_status_t st =
      cudago_module_compile(po, device, s->source, s->given ? &s->o : nullptr);
  c.Check(st);
  c.MustFailDevice(st, device);
  c.MustFail(st, s->source == nullptr, "source is NULL");
  CheckCompile(c, st, *s);
  if (c.Created(st, po, out)) c.modules.push_back(out);
}

OPFN(rtc_compile) {
  auto s = std::make_unique<CompileSetup>();
  BuildCompile(c, *s, true);
  auto image = std::make_unique<unsigned char[]>(kImageBacking);
  std::memset(image.get(), kCanary, kImageBacking);
  void* pimg = nullptr;
  uint64_t cap = 0;
  switch (c.Range(0, 3)) {
    case 0:
      break;  // NULL, cap 0: ask for the size
    case 1:
      pimg = image.get();  // a real buffer with cap 0
      break;
    default: {
      static const uint64_t kCaps[] = {1, 64, 434, 1024, 3440, 4096, kImageCap};
      pimg = image.get();
      cap = c.Bool() ? kCaps[c.p.ConsumeIntegralInRange<size_t>(0, std::size(kCaps) - 1)]
                     : static_cast<uint64_t>(c.Range(1, static_cast<int>(kImageCap)));
    }
  }
  uint64_t len = kLenSentinel;
  uint64_t* pl = c.Out(len, "len");
  c.Log("image=%s, cap=%" PRIu64, pimg ? "&image" : "NULL", cap);
  const cudago_status_t st =
      cudago_rtc_compile(s->source, s->given ? &s->o : nullptr, pimg, cap, pl);
  c.Check(st);
  c.MustFail(st, s->source == nullptr, "source is NULL");
  c.MustFail(st, pl == nullptr, "len is NULL");
  c.MustFail(st, !s->given, "opts is NULL (opts->arch is required)");
  c.MustFail(st, s->given && (s->o.arch == nullptr || s->o.arch[0] == '\0'),
             "opts->arch is NULL or empty (required without a device)");
  CheckCompile(c, st, *s);
  const unsigned char* img = image.get();
  for (size_t i = static_cast<size_t>(cap); i < kImageBacking; ++i) {
    if (img[i] != kCanary) c.Fail("wrote image byte %zu at or past cap %" PRIu64, i, cap);
  }
  if (st != CUDAGO_SUCCESS) return;
  if (len == kLenSentinel) c.Fail("succeeded without writing *len");
  if (pimg == nullptr || cap < len) {
    for (size_t i = 0; i < kImageBacking; ++i) {
      if (img[i] != kCanary) c.Fail("image written although cap %" PRIu64 " < *len", cap);
    }
    return;
  }
  const char* arch = s->o.arch;
  if (arch != nullptr && std::strncmp(arch, "compute_", 8) == 0 && img[len - 1] != '\0') {
    c.Fail("a PTX image of %" PRIu64 " bytes does not end with a NUL", len);
  }
}

OPFN(module_destroy) {
  const cudago_module_t m = c.Take(c.modules, "module");
  const cudago_status_t st = cudago_module_destroy(m);
  c.Check(st);
  if (m == nullptr && st != CUDAGO_SUCCESS) c.Fail("destroying NULL failed");
}

OPFN(module_log) {
  const cudago_module_t m = c.PickHandle(c.modules, "module");
  unsigned char buf[kTextBacking];
  std::memset(buf, kCanary, sizeof buf);
  char* pb = nullptr;
  uint64_t cap = 0;
  switch (c.Range(0, 2)) {
    case 0:
      break;
    case 1:
      pb = reinterpret_cast<char*>(buf);
      break;
    default:
      pb = reinterpret_cast<char*>(buf);
      cap = static_cast<uint64_t>(c.Range(1, static_cast<int>(kTextCap)));
  }
  uint64_t len = kLenSentinel;
  uint64_t* pl = c.Out(len, "len");
  c.Log("buf=%s, cap=%" PRIu64, pb ? "&buf" : "NULL", cap);
  const cudago_status_t st = cudago_module_log(m, pb, cap, pl);
  c.Check(st);
  c.MustFail(st, m == nullptr || pl == nullptr, "module or len is NULL");
  c.CheckText(buf, sizeof buf, pb ? cap : 0, pl != nullptr && len != kLenSentinel, len,
              "module log");
}

OPFN(module_device) { Query(c, cudago_module_device, c.PickHandle(c.modules, "module"), "out"); }

OPFN(module_kernel) {
  cudago_kernel_t out = Sentinel<cudago_kernel_t>();
  cudago_kernel_t* po = c.Out(out, "out");
  const cudago_module_t m = c.PickHandle(c.modules, "module");
  static const char* const kNames[] = {"k", "t<float>", "::t<float>", "", "nope", nullptr};
  const char* name = c.Range(0, 5) == 0 ? c.FuzzString(16) : c.Pick(kNames, std::size(kNames));
  c.LogStr("name", name);
  const cudago_status_t st = cudago_module_kernel(po, m, name);
  c.Check(st);
  c.MustFail(st, m == nullptr || name == nullptr, "module or name is NULL");
  if (c.Created(st, po, out)) c.kernels.push_back(out);
}

OPFN(kernel_destroy) {
  const cudago_kernel_t k = c.Take(c.kernels, "kernel");
  const cudago_status_t st = cudago_kernel_destroy(k);
  c.Check(st);
  if (k == nullptr && st != CUDAGO_SUCCESS) c.Fail("destroying NULL failed");
}

OPFN(kernel_attributes) {
  const cudago_kernel_t k = c.PickHandle(c.kernels, "kernel");
  cudago_kernel_attributes_t out;
  cudago_kernel_attributes_init(&out);
  out.struct_size = c.StructSize(sizeof out, "out.struct_size");
  cudago_kernel_attributes_t* po = c.Out(out, "out");
  const cudago_kernel_attributes_t snap = out;
  const cudago_status_t st = cudago_kernel_attributes(k, po);
  c.Check(st);
  c.MustFail(st, k == nullptr || po == nullptr, "kernel or out is NULL");
  c.CheckOutStruct(st, po, snap);
}

OPFN(kernel_occupancy) {
  const cudago_kernel_t k = c.PickHandle(c.kernels, "kernel");
  const uint64_t smem = c.U64("dyn_smem");
  int32_t block = 0, grid = 0;
  int32_t* pb = c.Out(block, "block");
  int32_t* pg = c.Out(grid, "min_grid");
  const cudago_status_t st = cudago_kernel_occupancy(k, smem, pb, pg);
  c.Check(st);
  c.MustFail(st, k == nullptr || pb == nullptr || pg == nullptr, "an argument is NULL");
}

OPFN(kernel_launch) {
  const cudago_kernel_t k = c.PickHandle(c.kernels, "kernel");
  const cudago_stream_t s = c.Stream();
  constexpr size_t kMaxArgs = 8;
  cudago_kernel_arg_t args[kMaxArgs];
  std::memset(args, 0, sizeof args);
  const cudago_kernel_arg_t* pa = nullptr;
  uint64_t nargs = 0;
  if (k != nullptr) {
    // A real kernel (only with a GPU): the fixed kernels take one float*, written at x[0]. Give
    // it one buffer of at least 4 bytes, or no launch at all (NULL stream).
    int pick = -1;
    for (size_t i = 0; i < c.buffers.size(); ++i) {
      if (c.buffers[i].bytes >= 4) pick = static_cast<int>(i);
    }
    args[0].kind = CUDAGO_ARG_BUFFER;
    args[0].buffer = pick < 0 ? nullptr : c.buffers[static_cast<size_t>(pick)].h;
    pa = args;
    nargs = 1;
    c.Log("args=[buffer #%d]", pick);
  } else {
    const size_t real = static_cast<size_t>(c.Range(0, static_cast<int>(kMaxArgs)));
    for (size_t i = 0; i < real; ++i) {
      cudago_kernel_arg_t& a = args[i];
      a.kind = c.Enum<cudago_arg_kind_t>("arg.kind", 9);
      if (c.Range(0, 7) == 0) a.reserved0 = c.Bool() ? 1u : UINT32_MAX;
      a.size =
          c.Bool() ? static_cast<uint64_t>(c.Range(0, static_cast<int>(kArgBytes))) : c.RawU64();
      // Sizes above kArgBytes are above 32764, refused before the bytes are read.
      a.offset = c.RawU64();
      a.buffer = c.Buffer("arg.buffer");
      a.host = c.Host("arg.host");
      a.v.u = c.RawU64();
      a.bytes = c.Range(0, 3) == 0 ? nullptr : c.arg_bytes;
      c.Log("args[%zu]={reserved0=%" PRIu32 ", size=%" PRIu64 ", offset=%" PRIu64 ", v=0x%" PRIx64
            ", bytes=%s}",
            i, a.reserved0, a.size, a.offset, a.v.u, a.bytes ? "&bytes" : "NULL");
    }
    if (c.Range(0, 5) != 0) {
      pa = args;
      nargs = c.Bool() ? real : static_cast<uint64_t>(c.Range(0, static_cast<int>(real)));
    } else {
      nargs = c.Bool() ? static_cast<uint64_t>(real) : c.RawU64();  // NULL args: any count
    }
    c.Log("args=%s, nargs=%" PRIu64, pa ? "&args" : "NULL", nargs);
  }
  uint64_t grid[3], block[3];
  for (int i = 0; i < 3; ++i) {
    grid[i] = c.Bool() ? 1 : c.RawU64();
    block[i] = c.Bool() ? 1 : c.RawU64();
  }
  const uint64_t* pg = c.Range(0, 7) == 0 ? nullptr : grid;
  const uint64_t* pb = c.Range(0, 7) == 0 ? nullptr : block;
  c.Log(
      "grid=%s[%" PRIu64 ",%" PRIu64 ",%" PRIu64 "], block=%s[%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]",
      pg ? "" : "NULL", grid[0], grid[1], grid[2], pb ? "" : "NULL", block[0], block[1], block[2]);
  const uint64_t smem = c.Bool() ? 0 : c.U64("dyn_smem");
  const cudago_status_t st = cudago_kernel_launch(k, s, pa, nargs, pg, pb, smem);
  c.Check(st);
  c.MustFail(st, k == nullptr || s == nullptr, "kernel or stream is NULL");
  c.MustFail(st, pa == nullptr && nargs > 0, "args is NULL with nargs > 0");
  c.MustFail(st, pg == nullptr || pb == nullptr, "grid or block is NULL");
  bool limit = smem > UINT32_MAX || nargs > 32764;
  for (int i = 0; i < 3; ++i) {
    limit |= grid[i] < 1 || grid[i] > UINT32_MAX || block[i] < 1 || block[i] > UINT32_MAX;
  }
  if (limit && st != CUDAGO_ERROR_INVALID_ARGUMENT) {
    c.Fail(
        "a launch shape, dyn_smem or nargs beyond its limit gave %d, not "
        "CUDAGO_ERROR_INVALID_ARGUMENT (checked before the handles)",
        st);
  }
  for (uint64_t i = 0; pa != nullptr && i < nargs; ++i) {
    const cudago_kernel_arg_t& a = pa[i];
    c.MustFail(st, a.reserved0 != 0, "an argument's reserved0 is not 0");
    c.MustFail(st, a.kind < CUDAGO_ARG_BUFFER || a.kind > CUDAGO_ARG_BYTES,
               "an argument's kind is not a cudago_arg_kind_t");
    c.MustFail(st, a.kind == CUDAGO_ARG_BYTES && (a.size == 0 || a.size > 32764),
               "a CUDAGO_ARG_BYTES size is 0 or above 32764");
  }
}

OPFN(rtc_cache_set_dir) {
  const char* dir;
  switch (c.Range(0, 2)) {
    case 0:
      dir = nullptr;
      break;
    case 1:
      dir = "";
      break;
    default:
      dir = g_cache_dir.empty() ? nullptr : g_cache_dir.c_str();
  }
  c.LogStr("dir", dir);
  const cudago_status_t st = cudago_rtc_cache_set_dir(dir);
  c.Check(st);
  if (st != CUDAGO_SUCCESS) c.Fail("failed for NULL, \"\" or an existing directory");
}

OPFN(rtc_cache_set_capacity) {
  const uint64_t e = c.U64("entries");
  const cudago_status_t st = cudago_rtc_cache_set_capacity(e);
  c.Check(st);
  if (st != CUDAGO_SUCCESS) return;
  g_rtc_capacity = e;
  c.CheckRtcStats(c.RtcStats());  // trimmed to the new capacity
}

OPFN(rtc_cache_stats) {
  cudago_rtc_cache_stats_t out;
  cudago_rtc_cache_stats_init(&out);
  out.struct_size = c.StructSize(sizeof out, "out.struct_size");
  cudago_rtc_cache_stats_t* po = c.Out(out, "out");
  const cudago_rtc_cache_stats_t snap = out;
  const cudago_status_t st = cudago_rtc_cache_stats(po);
  c.Check(st);
  c.MustFail(st, po == nullptr, "out is NULL");
  c.CheckOutStruct(st, po, snap);
  if (st == CUDAGO_SUCCESS) c.CheckRtcStats(out);
}

OPFN(rtc_cache_clear) {
  const cudago_status_t st = cudago_rtc_cache_clear();
  c.Check(st);
  if (st != CUDAGO_SUCCESS) return;
  // "Empties the memory cache and zeroes the stats".
  const cudago_rtc_cache_stats_t s = c.RtcStats();
  if (s.hits != 0 || s.disk_hits != 0 || s.misses != 0 || s.entries != 0) {
    c.Fail("after a clear the compile cache reports hits %" PRIu64 ", disk_hits %" PRIu64
           ", misses %" PRIu64 ", entries %" PRIu64,
           s.hits, s.disk_hits, s.misses, s.entries);
  }
}

OPFN(stream_begin_capture) {
  const cudago_stream_t s = c.Stream();
  const auto mode = c.Enum<cudago_capture_mode_t>("mode", 3);
  const cudago_status_t st = cudago_stream_begin_capture(s, mode);
  c.Check(st);
  c.MustFail(st, s == nullptr, "stream is NULL");
  c.MustFail(st, mode < CUDAGO_CAPTURE_THREAD_LOCAL || mode > CUDAGO_CAPTURE_RELAXED,
             "mode is not a cudago_capture_mode_t");
}

OPFN(stream_end_capture) {
  const cudago_stream_t s = c.Stream();
  cudago_graph_t out = Sentinel<cudago_graph_t>();
  cudago_graph_t* po = c.Out(out, "out");
  const cudago_status_t st = cudago_stream_end_capture(s, po);
  c.Check(st);
  c.MustFail(st, s == nullptr || po == nullptr, "stream or out is NULL");
  if (po != nullptr && st != CUDAGO_SUCCESS && out != nullptr) {
    c.Fail("failed but *out = %p, not NULL", static_cast<void*>(out));
  }
  if (c.Created(st, po, out)) c.graphs.push_back(out);
}

OPFN(stream_is_capturing) {
  const cudago_stream_t s = c.Stream();
  int32_t v = -7;
  int32_t* pv = c.Out(v, "capturing");
  const cudago_status_t st = cudago_stream_is_capturing(s, pv);
  c.Check(st);
  c.MustFail(st, s == nullptr || pv == nullptr, "stream or capturing is NULL");
  if (st == CUDAGO_SUCCESS && v != 0 && v != 1) c.Fail("*capturing = %" PRId32, v);
}

template <class F>
void GraphStream(Ctx& c, F f) {
  const cudago_graph_t g = c.PickHandle(c.graphs, "graph");
  const cudago_stream_t s = c.Stream();
  const cudago_status_t st = f(g, s);
  c.Check(st);
  c.MustFail(st, g == nullptr || s == nullptr, "graph or stream is NULL");
}
OPFN(graph_launch) { GraphStream(c, cudago_graph_launch); }
OPFN(graph_upload) { GraphStream(c, cudago_graph_upload); }
OPFN(graph_update) { GraphStream(c, cudago_graph_update); }
OPFN(graph_node_count) {
  Query(c, cudago_graph_node_count, c.PickHandle(c.graphs, "graph"), "count");
}
OPFN(graph_device) { Query(c, cudago_graph_device, c.PickHandle(c.graphs, "graph"), "device"); }

OPFN(graph_destroy) {
  const cudago_graph_t g = c.Take(c.graphs, "graph");
  const cudago_status_t st = cudago_graph_destroy(g);
  c.Check(st);
  if (g == nullptr && st != CUDAGO_SUCCESS) c.Fail("destroying NULL failed");
}

// ---- the CNN runtime (experimental) ----

// The palette of valid models, built at start-up with libonnx's protobuf classes; their weights
// are functions of the index, so that the harness can compute the outputs itself.
enum NnKind { kNnConv, kNnGemm, kNnAdd2, kNnImage, kNnExternal, kNnKinds };
const char* const kNnKindNames[] = {"conv", "gemm", "add2", "image", "external"};
std::string g_nn_bytes[kNnKinds];  // serialized (the external one names ext.bin)
std::string g_nn_root;             // mkdtemp: escape.bin and m/
std::string g_nn_dir;              // <root>/m: the palette as files, ext.bin, the damaged files

float NnConvW(int i) { return static_cast<float>((i * 7) % 11 - 5) * 0.05f; }
float NnConvB(int k) { return 0.1f * static_cast<float>(k - 1); }
float NnGemmB(int i) { return static_cast<float>((i * 5) % 9 - 4) * 0.125f; }
float NnGemmC(int j) { return 0.25f * static_cast<float>(j) - 0.5f; }

bool NnImage(int kind) { return kind == kNnConv || kind == kNnImage; }
bool NnDynamic(int kind) { return kind == kNnConv || kind == kNnAdd2; }

void NnValueInfo(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const char* name,
                 std::vector<int64_t> dims) {
  onnx::ValueInfoProto* vi = list->Add();
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) {
    auto* dim = tt->mutable_shape()->add_dim();
    if (d < 0) {
      dim->set_dim_param("N");
    } else {
      dim->set_dim_value(d);
    }
  }
}

onnx::TensorProto* NnInit(onnx::GraphProto* g, const char* name, std::vector<int64_t> dims,
                          float (*value)(int)) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int n = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    n *= static_cast<int>(d);
  }
  for (int i = 0; i < n; ++i) t->add_float_data(value(i));
  return t;
}

onnx::NodeProto* NnNode(onnx::GraphProto* g, const char* op, std::vector<const char*> in,
                        std::vector<const char*> out) {
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(std::string(op) + "_" + std::to_string(g->node_size()));
  for (const char* s : in) n->add_input(s);
  for (const char* s : out) n->add_output(s);
  return n;
}

// external: "" for inline weights, else B's external data location.
std::string NnBuild(int kind, const char* external = "") {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("capi_fuzz");
  onnx::OperatorSetIdProto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name(kNnKindNames[kind]);
  switch (kind) {
    case kNnConv: {
      NnValueInfo(g->mutable_input(), "x", {-1, 3, 5, 5});
      NnInit(g, "w", {4, 3, 3, 3}, NnConvW);
      NnInit(g, "b", {4}, NnConvB);
      onnx::NodeProto* conv = NnNode(g, "Conv", {"x", "w", "b"}, {"c"});
      onnx::AttributeProto* pads = conv->add_attribute();
      pads->set_name("pads");
      pads->set_type(onnx::AttributeProto::INTS);
      for (int i = 0; i < 4; ++i) pads->add_ints(1);
      NnNode(g, "Relu", {"c"}, {"y"});
      NnValueInfo(g->mutable_output(), "y", {-1, 4, 5, 5});
      break;
    }
    case kNnGemm:
    case kNnExternal: {
      NnValueInfo(g->mutable_input(), "a", {2, 6});
      onnx::TensorProto* b = NnInit(g, "B", {6, 4}, NnGemmB);
      if (*external != '\0') {
        b->clear_float_data();
        b->set_data_location(onnx::TensorProto::EXTERNAL);
        const char* kv[][2] = {{"location", external}, {"offset", "0"}, {"length", "96"}};
        for (const auto& e : kv) {
          onnx::StringStringEntryProto* p = b->add_external_data();
          p->set_key(e[0]);
          p->set_value(e[1]);
        }
      }
      NnInit(g, "C", {4}, NnGemmC);
      NnNode(g, "Gemm", {"a", "B", "C"}, {"y"});
      NnValueInfo(g->mutable_output(), "y", {2, 4});
      break;
    }
    case kNnAdd2: {
      NnValueInfo(g->mutable_input(), "x1", {-1, 2, 3});
      NnValueInfo(g->mutable_input(), "x2", {-1, 2, 3});
      NnNode(g, "Add", {"x1", "x2"}, {"s"});
      NnNode(g, "Softmax", {"s"}, {"p"});  // axis -1 (opset 13)
      NnValueInfo(g->mutable_output(), "s", {-1, 2, 3});
      NnValueInfo(g->mutable_output(), "p", {-1, 2, 3});
      break;
    }
    default: {
      NnValueInfo(g->mutable_input(), "img", {2, 2, 3, 3});
      NnNode(g, "Relu", {"img"}, {"r"});
      NnValueInfo(g->mutable_output(), "r", {2, 2, 3, 3});
      break;
    }
  }
  std::string s;
  if (!m.SerializeToString(&s)) std::abort();
  return s;
}

void NnWriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void NnSetUp() {
  for (int k = 0; k < kNnKinds; ++k) {
    g_nn_bytes[k] = NnBuild(k, k == kNnExternal ? "ext.bin" : "");
  }
  char templ[] = "/tmp/capi_fuzz_nn.XXXXXX";
  if (::mkdtemp(templ) == nullptr) return;
  g_nn_root = templ;
  g_nn_dir = g_nn_root + "/m";
  std::error_code ec;
  std::filesystem::create_directories(g_nn_dir + "/dir.onnx", ec);
  std::string weights;
  for (int i = 0; i < 24; ++i) {
    const float v = NnGemmB(i);
    weights.append(reinterpret_cast<const char*>(&v), 4);
  }
  NnWriteFile(g_nn_dir + "/ext.bin", weights);
  NnWriteFile(g_nn_root + "/escape.bin", weights);
  for (int k = 0; k < kNnKinds; ++k) {
    NnWriteFile(g_nn_dir + "/" + kNnKindNames[k] + ".onnx", g_nn_bytes[k]);
  }
  NnWriteFile(g_nn_dir + "/trunc.onnx",
              g_nn_bytes[kNnConv].substr(0, g_nn_bytes[kNnConv].size() / 2));
  NnWriteFile(g_nn_dir + "/escape.onnx", NnBuild(kNnExternal, "../escape.bin"));
  NnWriteFile(g_nn_dir + "/empty.onnx", "");
}

// The descriptions an intact palette model must give, at max_batch mb.
struct NnExpect {
  const char* name;
  std::vector<uint64_t> dims;
  int32_t batch_axis;
  int32_t dtype;
  uint64_t bytes_per_item;
};

std::vector<NnExpect> NnExpected(int kind, bool input, bool u8, uint64_t mb) {
  const int32_t f32 = CUDAGO_DTYPE_F32, in_type = u8 ? CUDAGO_DTYPE_U8 : CUDAGO_DTYPE_F32;
  switch (kind) {
    case kNnConv:
      if (input) {
        if (u8) return {{"x", {mb, 5, 5, 3}, 0, in_type, 75}};
        return {{"x", {mb, 3, 5, 5}, 0, f32, 300}};
      }
      return {{"y", {mb, 4, 5, 5}, 0, f32, 400}};
    case kNnGemm:
    case kNnExternal:
      if (input) return {{"a", {2, 6}, -1, f32, 48}};
      return {{"y", {2, 4}, -1, f32, 32}};
    case kNnAdd2:
      if (input) return {{"x1", {mb, 2, 3}, 0, f32, 24}, {"x2", {mb, 2, 3}, 0, f32, 24}};
      return {{"s", {mb, 2, 3}, 0, f32, 24}, {"p", {mb, 2, 3}, 0, f32, 24}};
    default:
      if (input) {
        if (u8) return {{"img", {2, 3, 3, 2}, -1, in_type, 36}};
        return {{"img", {2, 2, 3, 3}, -1, f32, 144}};
      }
      return {{"r", {2, 2, 3, 3}, -1, f32, 144}};
  }
}

// Everything a load takes besides the model.
struct NnOpts {
  cudago_nn_options_t o;
  cudago_nn_options_t snap;
  bool given = false;
  bool bad = false;   // a documented refusal: the load must fail
  bool sure = false;  // surely valid: an intact palette model must load (uint8 NHWC aside)
  bool u8 = false;
  bool gpu = false;       // the GPU backend asked for
  bool gpu_maybe = true;  // AUTO or GPU (NULL opts: AUTO)
  bool sane = false;      // normalisation values for which the harness checks the outputs
  float scale = 1.0f / 255.0f, mean[4] = {0, 0, 0, 0}, std[4] = {1, 1, 1, 1};
};

float NnFloat(Ctx& c, const char* name) {
  if (c.Range(0, 5) != 0) {
    const float small[] = {0.0f, 0.5f, 1.0f, 2.0f, -1.0f, 1.0f / 255.0f};
    const float v = small[c.Range(0, 5)];
    c.Log("%s=%g", name, static_cast<double>(v));
    return v;
  }
  return static_cast<float>(c.F64(name));
}

void BuildNnOpts(Ctx& c, NnOpts& s, bool for_bytes) {
  cudago_nn_options_init(&s.o);
  s.given = c.Range(0, 7) != 0;
  if (!s.given) {
    c.Log("opts=NULL");
    s.sure = true;
    s.sane = true;
    s.snap = s.o;
    return;
  }
  cudago_nn_options_t& o = s.o;
  o.struct_size = c.StructSize(sizeof o, "opts.struct_size");
  o.device = c.Range(0, 3) == 0 ? c.Device("opts.device") : 0;
  switch (c.Range(0, 7)) {
    case 0:
    case 1:
    case 2:
      o.backend = CUDAGO_NN_BACKEND_REFERENCE;
      break;
    case 3:
    case 4:
      o.backend = CUDAGO_NN_BACKEND_AUTO;
      break;
    case 5:
      o.backend = CUDAGO_NN_BACKEND_GPU;
      break;
    default:
      o.backend = c.Enum<cudago_nn_backend_t>("opts.backend", 3);
  }
  if (c.Range(0, 3) == 0) o.precision = c.Enum<cudago_nn_precision_t>("opts.precision", 4);
  switch (c.Range(0, 5)) {
    case 0:
      o.max_batch = 0;
      break;
    case 4:
      o.max_batch = c.RawU64();
      break;
    case 5:
      o.max_batch = static_cast<uint64_t>(c.Range(5, 64));
      break;
    default:
      o.max_batch = static_cast<uint64_t>(c.Range(1, 4));
  }
  static const char* const kCacheDirs[] = {"", "/nonexistent/cudago-cache", nullptr};
  if (c.Range(0, 7) == 0) {
    o.cache_dir = c.Range(0, 3) == 0 ? g_nn_dir.c_str() : c.Pick(kCacheDirs, std::size(kCacheDirs));
  }
  const int bd = c.Range(0, for_bytes ? 5 : 9);
  o.base_dir = bd == 0 || bd == 1 ? g_nn_dir.c_str()
               : bd == 2          ? ""
               : bd == 3          ? "/nonexistent"
                                  : nullptr;
  switch (c.Range(0, 7)) {
    case 0:
      o.input_format = c.Enum<cudago_nn_input_format_t>("opts.input_format", 2);
      break;
    case 1:
    case 2:
      o.input_format = CUDAGO_NN_INPUT_UINT8_NHWC;
      break;
    default:
      break;
  }
  if (c.Range(0, 3) == 0) o.flags = c.Flags("opts.flags", CUDAGO_NN_NO_FUSION);
  if (c.Range(0, 3) == 0) {
    o.input_scale = NnFloat(c, "opts.input_scale");
    for (int i = 0; i < 4; ++i) {
      if (c.Bool()) o.mean[i] = NnFloat(c, "opts.mean[i]");
      if (c.Bool()) o.std[i] = NnFloat(c, "opts.std[i]");
    }
  }
  c.Log("opts={device=%" PRId32 ", backend=%d, precision=%d, max_batch=%" PRIu64
        ", input_format=%d, flags=0x%" PRIx32 ", scale=%g}",
        o.device, static_cast<int>(o.backend), static_cast<int>(o.precision), o.max_batch,
        static_cast<int>(o.input_format), o.flags, static_cast<double>(o.input_scale));
  c.LogStr("opts.cache_dir", o.cache_dir);
  c.LogStr("opts.base_dir", o.base_dir);
  s.snap = o;

  const bool size_ok = o.struct_size == sizeof o;
  const bool backend_ok = o.backend == CUDAGO_NN_BACKEND_AUTO ||
                          o.backend == CUDAGO_NN_BACKEND_GPU ||
                          o.backend == CUDAGO_NN_BACKEND_REFERENCE;
  const bool precision_ok =
      o.precision >= CUDAGO_NN_PRECISION_DEFAULT && o.precision <= CUDAGO_NN_PRECISION_FP32;
  const bool format_ok =
      o.input_format == CUDAGO_NN_INPUT_AS_DECLARED || o.input_format == CUDAGO_NN_INPUT_UINT8_NHWC;
  const bool flags_ok = (o.flags & ~CUDAGO_NN_NO_FUSION) == 0;
  if (size_ok) {
    s.bad = !backend_ok || !precision_ok || !format_ok || !flags_ok || o.device < 0 ||
            o.max_batch > (uint64_t{1} << 40);
  }
  s.gpu = size_ok && o.backend == CUDAGO_NN_BACKEND_GPU;
  s.gpu_maybe =
      size_ok && (o.backend == CUDAGO_NN_BACKEND_GPU || o.backend == CUDAGO_NN_BACKEND_AUTO);
  bool finite = std::isfinite(o.input_scale);
  for (int i = 0; i < 4; ++i)
    finite = finite && std::isfinite(o.mean[i]) && std::isfinite(o.std[i]);
  s.sure =
      size_ok && !s.bad && o.device == 0 &&
      (o.precision == CUDAGO_NN_PRECISION_DEFAULT || o.precision == CUDAGO_NN_PRECISION_FP32) &&
      o.max_batch <= 1024 && (o.cache_dir == nullptr || *o.cache_dir == '\0') && finite;
  s.u8 = size_ok && o.input_format == CUDAGO_NN_INPUT_UINT8_NHWC;
  s.scale = o.input_scale == 0 ? 1.0f / 255.0f : o.input_scale;
  s.sane = std::fabs(s.scale) >= 1e-4f && std::fabs(s.scale) <= 1e2f;
  for (int i = 0; i < 4; ++i) {
    s.mean[i] = o.mean[i];
    s.std[i] = o.std[i] == 0 ? 1.0f : o.std[i];
    s.sane = s.sane && std::fabs(s.mean[i]) <= 1e2f && std::fabs(s.std[i]) >= 1e-2f &&
             std::fabs(s.std[i]) <= 1e2f;
  }
}

// Generic invariants of a description, then (intact palette model) the expected one.
void NnCheckDesc(Ctx& c, const cudago_nn_tensor_info_t& t, const NnRec& r, bool input,
                 uint64_t index) {
  const char* what = input ? "input" : "output";
  if (t.name == nullptr) c.Fail("%s %" PRIu64 " has a NULL name", what, index);
  const std::string name = t.name;
  if (t.rank > CUDAGO_NN_MAX_RANK) c.Fail("%s '%s' has rank %" PRIu64, what, name.c_str(), t.rank);
  const bool u8_ok = input && r.u8;
  if (t.dtype != CUDAGO_DTYPE_F32 && !(u8_ok && t.dtype == CUDAGO_DTYPE_U8)) {
    c.Fail("%s '%s' has dtype %d", what, name.c_str(), static_cast<int>(t.dtype));
  }
  if (t.batch_axis < -1 || t.batch_axis >= static_cast<int64_t>(t.rank) ||
      (!r.dynamic && t.batch_axis != -1)) {
    c.Fail("%s '%s' has batch_axis %d (rank %" PRIu64 ", dynamic batch %d)", what, name.c_str(),
           t.batch_axis, t.rank, r.dynamic ? 1 : 0);
  }
  unsigned __int128 elems = 1;
  const unsigned __int128 cap = static_cast<unsigned __int128>(1) << 64;
  for (uint64_t k = 0; k < t.rank && k < 8; ++k) elems = std::min(elems * t.dims[k], cap);
  const unsigned __int128 bytes = elems * (t.dtype == CUDAGO_DTYPE_U8 ? 1 : 4);
  const unsigned __int128 per =
      static_cast<unsigned __int128>(t.bytes_per_item) * (t.batch_axis < 0 ? 1 : r.max_batch);
  if (bytes != per || (t.batch_axis >= 0 && t.dims[t.batch_axis] % r.max_batch != 0)) {
    c.Fail("%s '%s': bytes_per_item %" PRIu64 " (batch_axis %d, max_batch %" PRIu64
           ") does not agree with its dims",
           what, name.c_str(), t.bytes_per_item, t.batch_axis, r.max_batch);
  }
  if (r.kind < 0) return;
  const std::vector<NnExpect> ex = NnExpected(r.kind, input, r.u8, r.max_batch);
  if (index >= ex.size())
    c.Fail("%s %" PRIu64 " of the %s model exists", what, index, kNnKindNames[r.kind]);
  const NnExpect& e = ex[index];
  bool same = name == e.name && t.rank == e.dims.size() && t.batch_axis == e.batch_axis &&
              t.dtype == e.dtype && t.bytes_per_item == e.bytes_per_item;
  for (size_t k = 0; same && k < e.dims.size(); ++k) same = t.dims[k] == e.dims[k];
  if (!same) {
    c.Fail("%s %" PRIu64 " of the %s model (max_batch %" PRIu64 ", u8 %d): '%s' rank %" PRIu64
           " dims [%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
           "] batch_axis %d dtype %d "
           "bytes_per_item %" PRIu64 "; expected '%s', batch_axis %d, bytes_per_item %" PRIu64,
           what, index, kNnKindNames[r.kind], r.max_batch, r.u8 ? 1 : 0, name.c_str(), t.rank,
           t.dims[0], t.dims[1], t.dims[2], t.dims[3], t.batch_axis, static_cast<int>(t.dtype),
           t.bytes_per_item, e.name, e.batch_axis, e.bytes_per_item);
  }
}

// The harness's own computation of an intact palette model at batch n, from the inputs as NCHW
// floats (fp64; mag: the magnitude of the terms, for the tolerance).
void NnCompute(int kind, const std::vector<std::vector<double>>& x, uint64_t n,
               std::vector<std::vector<double>>& y, std::vector<std::vector<double>>& mag) {
  y.clear();
  mag.clear();
  switch (kind) {
    case kNnConv: {
      y.assign(1, std::vector<double>(n * 100, 0.0));
      mag.assign(1, std::vector<double>(n * 100, 0.0));
      for (uint64_t b = 0; b < n; ++b) {
        for (int k = 0; k < 4; ++k) {
          for (int oy = 0; oy < 5; ++oy) {
            for (int ox = 0; ox < 5; ++ox) {
              double s = NnConvB(k), m = std::fabs(NnConvB(k));
              for (int ch = 0; ch < 3; ++ch) {
                for (int ky = 0; ky < 3; ++ky) {
                  for (int kx = 0; kx < 3; ++kx) {
                    const int iy = oy + ky - 1, ix = ox + kx - 1;
                    if (iy < 0 || iy >= 5 || ix < 0 || ix >= 5) continue;
                    const double t =
                        static_cast<double>(NnConvW(((k * 3 + ch) * 3 + ky) * 3 + kx)) *
                        x[0][((b * 3 + ch) * 5 + iy) * 5 + ix];
                    s += t;
                    m += std::fabs(t);
                  }
                }
              }
              const size_t o = ((b * 4 + k) * 5 + oy) * 5 + ox;
              y[0][o] = s > 0 ? s : 0;
              mag[0][o] = m;
            }
          }
        }
      }
      return;
    }
    case kNnGemm:
    case kNnExternal: {
      y.assign(1, std::vector<double>(8, 0.0));
      mag.assign(1, std::vector<double>(8, 0.0));
      for (int i = 0; i < 2; ++i) {
        for (int j = 0; j < 4; ++j) {
          double s = NnGemmC(j), m = std::fabs(NnGemmC(j));
          for (int p = 0; p < 6; ++p) {
            const double t = x[0][i * 6 + p] * static_cast<double>(NnGemmB(p * 4 + j));
            s += t;
            m += std::fabs(t);
          }
          y[0][i * 4 + j] = s;
          mag[0][i * 4 + j] = m;
        }
      }
      return;
    }
    case kNnAdd2: {
      const size_t e = n * 6;
      y.assign(2, std::vector<double>(e, 0.0));
      mag.assign(2, std::vector<double>(e, 1.0));
      for (size_t i = 0; i < e; ++i) {
        y[0][i] = x[0][i] + x[1][i];
        mag[0][i] = std::fabs(x[0][i]) + std::fabs(x[1][i]);
      }
      for (size_t row = 0; row < e / 3; ++row) {
        double mx = -INFINITY, sum = 0;
        for (int k = 0; k < 3; ++k) mx = std::max(mx, y[0][row * 3 + k]);
        for (int k = 0; k < 3; ++k) sum += std::exp(y[0][row * 3 + k] - mx);
        for (int k = 0; k < 3; ++k) y[1][row * 3 + k] = std::exp(y[0][row * 3 + k] - mx) / sum;
      }
      return;
    }
    default: {
      y.assign(1, std::vector<double>(36, 0.0));
      mag.assign(1, std::vector<double>(36, 0.0));
      for (size_t i = 0; i < 36; ++i) {
        y[0][i] = x[0][i] > 0 ? x[0][i] : 0;
        mag[0][i] = std::fabs(x[0][i]);
      }
      return;
    }
  }
}

// Fills an input buffer from a seed (uint8 or float as described).
void NnFillInput(unsigned char* p, uint64_t block, int32_t dtype, uint8_t seed) {
  if (dtype == CUDAGO_DTYPE_U8) {
    for (uint64_t k = 0; k < block; ++k) p[k] = static_cast<unsigned char>((k * 37 + seed) % 256);
    return;
  }
  for (uint64_t k = 0; k + 4 <= block; k += 4) {
    const float f = static_cast<float>(static_cast<int>((k / 4 * 37 + seed) % 23) - 11) / 8.0f;
    std::memcpy(p + k, &f, 4);
  }
}

// An intact palette model's outputs at batch n against the harness's own computation (uint8
// NHWC inputs converted as the header says, every image of the tensor): "" when they match, else
// what differs. Thread-safe (the server's callbacks use it on their threads).
std::string NnMismatch(const NnRec& r, uint64_t batch, const unsigned char* const* in,
                       const uint64_t* in_exact, const unsigned char* const* out,
                       const uint64_t* out_exact) {
  std::vector<std::vector<double>> x(r.ins.size()), y, mag;
  for (size_t i = 0; i < r.ins.size(); ++i) {
    const NnDesc& d = r.ins[i];
    const unsigned char* p = in[i];
    if (d.dtype == CUDAGO_DTYPE_U8) {  // NHWC uint8 -> NCHW, x = (v * scale - mean[c]) / std[c]
      const uint64_t nn = d.batch_axis < 0 ? d.dims[0] : batch, hh = d.dims[1], ww = d.dims[2],
                     cc = d.dims[3];
      x[i].assign(nn * cc * hh * ww, 0.0);
      for (uint64_t b = 0; b < nn; ++b) {
        for (uint64_t ch = 0; ch < cc; ++ch) {
          for (uint64_t k = 0; k < hh * ww; ++k) {
            const double v = p[(b * hh * ww + k) * cc + ch];
            x[i][(b * cc + ch) * hh * ww + k] =
                (v * static_cast<double>(r.scale) - r.mean[ch]) / static_cast<double>(r.std[ch]);
          }
        }
      }
    } else {
      x[i].resize(in_exact[i] / 4);
      for (size_t k = 0; k < x[i].size(); ++k) {
        float f;
        std::memcpy(&f, p + 4 * k, 4);
        x[i][k] = f;
      }
    }
  }
  NnCompute(r.kind, x, batch, y, mag);
  char why[512];
  for (size_t o = 0; o < r.outs.size(); ++o) {
    const unsigned char* p = out[o];
    if (y[o].size() * 4 != out_exact[o]) {
      std::snprintf(why, sizeof why,
                    "the harness expects %zu floats of output %zu, not %" PRIu64 " bytes",
                    y[o].size(), o, out_exact[o]);
      return why;
    }
    for (size_t k = 0; k < y[o].size(); ++k) {
      float f;
      std::memcpy(&f, p + 4 * k, 4);
      const double tol = 1e-3 * (1.0 + mag[o][k] + std::fabs(y[o][k]));
      if (!(std::fabs(static_cast<double>(f) - y[o][k]) <= tol)) {
        std::snprintf(why, sizeof why,
                      "output %zu ('%s') of the %s model at batch %" PRIu64
                      "%s: element %zu is %.9g, expected %.9g",
                      o, r.outs[o].name.c_str(), kNnKindNames[r.kind], batch,
                      r.u8 ? " (uint8 NHWC input)" : "", k, static_cast<double>(f), y[o][k]);
        return why;
      }
    }
  }
  return "";
}

// A successful run of an intact palette model: its outputs against the harness's own
// computation.
void NnCheckOutputs(Ctx& c, const NnRec& r, uint64_t batch,
                    const std::unique_ptr<unsigned char[]>* in_buf, const uint64_t* in_exact,
                    const std::unique_ptr<unsigned char[]>* out_buf, const uint64_t* out_exact) {
  if (!r.values) return;
  const unsigned char* in[kNnMaxTensors] = {};
  const unsigned char* out[kNnMaxTensors] = {};
  for (size_t i = 0; i < r.ins.size() && i < kNnMaxTensors; ++i) in[i] = in_buf[i].get();
  for (size_t i = 0; i < r.outs.size() && i < kNnMaxTensors; ++i) out[i] = out_buf[i].get();
  const std::string why = NnMismatch(r, batch, in, in_exact, out, out_exact);
  if (!why.empty()) c.Fail("%s", why.c_str());
}

// One run with every argument right (a model small enough), at batch 1 or max_batch: it succeeds,
// leaves its inputs as they were, and an intact palette model's outputs are checked.
void NnRunOnce(Ctx& c, const NnRec& r) {
  const uint64_t batch = c.Bool() ? 1 : r.max_batch;
  unsigned __int128 total = r.arena_bytes;
  for (const auto* list : {&r.ins, &r.outs}) {
    for (const NnDesc& d : *list) total += d.BytesAt(batch);
  }
  if (total > kNnRunBytes || r.ins.size() > kNnMaxTensors || r.outs.size() > kNnMaxTensors) return;
  const uint8_t seed = c.U8("seed");
  std::unique_ptr<unsigned char[]> in_buf[kNnMaxTensors], out_buf[kNnMaxTensors];
  uint64_t in_exact[kNnMaxTensors] = {}, out_exact[kNnMaxTensors] = {};
  const void* in_ptr[kNnMaxTensors] = {};
  void* out_ptr[kNnMaxTensors] = {};
  std::string saved[kNnMaxTensors];
  for (size_t i = 0; i < r.ins.size(); ++i) {
    in_exact[i] = r.ins[i].BytesAt(batch);
    in_buf[i].reset(new unsigned char[in_exact[i]]);
    NnFillInput(in_buf[i].get(), in_exact[i], r.ins[i].dtype, seed);
    saved[i].assign(reinterpret_cast<const char*>(in_buf[i].get()), in_exact[i]);
    in_ptr[i] = in_buf[i].get();
  }
  for (size_t i = 0; i < r.outs.size(); ++i) {
    out_exact[i] = r.outs[i].BytesAt(batch);
    out_buf[i].reset(new unsigned char[out_exact[i]]);
    std::memset(out_buf[i].get(), kCanary, out_exact[i]);
    out_ptr[i] = out_buf[i].get();
  }
  c.Log("run at batch %" PRIu64, batch);
  if (c.Aux("cudago_nn_model_run_host", [&] {
        return cudago_nn_model_run_host(r.h, in_ptr, in_exact, r.ins.size(), out_ptr, out_exact,
                                        r.outs.size(), batch);
      }) != CUDAGO_SUCCESS) {
    c.Fail("a run at batch %" PRIu64 " with every argument right failed", batch);
  }
  for (size_t i = 0; i < r.ins.size(); ++i) {
    if (std::memcmp(in_buf[i].get(), saved[i].data(), saved[i].size()) != 0) {
      c.Fail("the run wrote into input %zu ('%s')", i, r.ins[i].name.c_str());
    }
  }
  NnCheckOutputs(c, r, batch, in_buf, in_exact, out_buf, out_exact);
}

// After a successful load: the model described (each query checked), then kept.
void NnLoaded(Ctx& c, cudago_nn_model_t h, int kind, const NnOpts& s) {
  NnRec r;
  r.h = h;
  r.kind = kind;
  r.u8 = s.u8;
  r.scale = s.scale;
  std::copy(s.mean, s.mean + 4, r.mean);
  std::copy(s.std, s.std + 4, r.std);
  r.values = kind >= 0 && s.sane;
  cudago_nn_model_info_t info;
  cudago_nn_model_info_init(&info);
  if (c.Aux("cudago_nn_model_info", [&] { return cudago_nn_model_info(h, &info); }) !=
      CUDAGO_SUCCESS) {
    c.Fail("cudago_nn_model_info failed on a model just loaded");
  }
  r.gpu = info.backend == CUDAGO_NN_BACKEND_GPU;
  r.device = info.device;
  r.precision = info.precision;
  if (r.gpu) {  // only where a device is usable, and only for GPU or AUTO
    const int32_t asked_device = s.given ? s.o.device : 0;
    const int32_t asked_precision = s.given ? s.o.precision : CUDAGO_NN_PRECISION_DEFAULT;
    const int32_t want =
        asked_precision == CUDAGO_NN_PRECISION_DEFAULT ? CUDAGO_NN_PRECISION_FP16 : asked_precision;
    if (g_device_count == 0 || !s.gpu_maybe || info.device != asked_device ||
        info.precision != want) {
      c.Fail(
          "a model on the GPU plan: %d devices, backend asked %d, device %d (asked %d), "
          "precision %d (asked %d)",
          g_device_count, s.given ? static_cast<int>(s.o.backend) : 0, info.device, asked_device,
          static_cast<int>(info.precision), asked_precision);
    }
  } else if (info.backend != CUDAGO_NN_BACKEND_REFERENCE || info.device != -1 ||
             info.precision != CUDAGO_NN_PRECISION_FP32) {
    c.Fail("a model on the reference executor reports backend %d, device %d, precision %d",
           static_cast<int>(info.backend), info.device, static_cast<int>(info.precision));
  }
  if (r.gpu) r.values = false;  // fp16/bf16: not the harness's fp64 tolerance
  if (info.dynamic_batch != 0 && info.dynamic_batch != 1)
    c.Fail("dynamic_batch = %d", info.dynamic_batch);
  r.dynamic = info.dynamic_batch == 1;
  r.max_batch = info.max_batch;
  const uint64_t asked = s.given && s.o.max_batch > 0 ? s.o.max_batch : 1;
  if (info.max_batch != (r.dynamic ? asked : 1)) {
    c.Fail("max_batch %" PRIu64 " reported; asked %" PRIu64 ", dynamic batch %d", info.max_batch,
           asked, info.dynamic_batch);
  }
  if (info.num_inputs == 0 || info.num_outputs == 0) c.Fail("a model without inputs or outputs");
  if (kind >= 0 &&
      (r.dynamic != NnDynamic(kind) || info.num_inputs != NnExpected(kind, true, false, 1).size() ||
       info.num_outputs != NnExpected(kind, false, false, 1).size())) {
    c.Fail("the %s model reports dynamic batch %d, %" PRIu64 " inputs, %" PRIu64 " outputs",
           kNnKindNames[kind], info.dynamic_batch, info.num_inputs, info.num_outputs);
  }
  r.arena_bytes = info.arena_bytes;
  r.weight_bytes = info.weight_bytes;
  r.num_layers = info.num_layers;
  for (int side = 0; side < 2; ++side) {
    const bool input = side == 0;
    const uint64_t n = std::min<uint64_t>(input ? info.num_inputs : info.num_outputs, 64);
    for (uint64_t i = 0; i < n; ++i) {
      cudago_nn_tensor_info_t t;
      cudago_nn_tensor_info_init(&t);
      const char* fn = input ? "cudago_nn_model_input" : "cudago_nn_model_output";
      if (c.Aux(fn, [&] {
            return input ? cudago_nn_model_input(h, i, &t) : cudago_nn_model_output(h, i, &t);
          }) != CUDAGO_SUCCESS) {
        c.Fail("%s(%" PRIu64 ") failed on a model just loaded", fn, i);
      }
      NnCheckDesc(c, t, r, input, i);
      NnDesc d;
      d.name = t.name;
      d.dtype = static_cast<int32_t>(t.dtype);
      d.rank = t.rank;
      std::memcpy(d.dims, t.dims, sizeof d.dims);
      d.batch_axis = t.batch_axis;
      d.bytes_per_item = t.bytes_per_item;
      (input ? r.ins : r.outs).push_back(d);
    }
  }
  c.models.push_back(std::move(r));
  NnRunOnce(c, c.models.back());
}

void NnNotInternal(Ctx& c, cudago_status_t st) {
  if (st == CUDAGO_ERROR_INTERNAL) c.Fail("returned CUDAGO_ERROR_INTERNAL (a bug in cudago)");
}

// An intact palette model with surely valid options: it loads; the GPU backend without a GPU is
// CUDAGO_ERROR_NO_DEVICE; on a GPU, the plan may lack cuDNN (CUDAGO_ERROR_CUDNN).
void NnExpectLoad(Ctx& c, cudago_status_t st, const NnOpts& s, int kind) {
  if (s.gpu && g_device_count == 0) {
    if (st != CUDAGO_ERROR_NO_DEVICE) {
      c.Fail("the GPU backend without a GPU gave %d, not CUDAGO_ERROR_NO_DEVICE", st);
    }
    return;
  }
  if (st == CUDAGO_SUCCESS) return;
  if (g_device_count > 0 && s.gpu_maybe && st == CUDAGO_ERROR_CUDNN) return;
  c.Fail("the valid %s model failed to load with valid options", kNnKindNames[kind]);
}

OPFN(nn_model_load) {
  cudago_nn_model_t out = Sentinel<cudago_nn_model_t>();
  cudago_nn_model_t* po = c.Out(out, "out");
  enum { kNull, kEmptyPath, kMissing, kDirItself, kDirOnnx, kEmptyFile, kTrunc, kEscape, kPalette };
  const int which = c.Range(0, kPalette + 2);  // the palette files three times in eleven
  int kind = -1;
  std::string path;
  switch (which) {
    case kNull:
      break;
    case kEmptyPath:
      break;
    case kMissing:
      path = "/nonexistent/cudago/model.onnx";
      break;
    case kDirItself:
      path = g_nn_dir;
      break;
    case kDirOnnx:
      path = g_nn_dir + "/dir.onnx";
      break;
    case kEmptyFile:
      path = g_nn_dir + "/empty.onnx";
      break;
    case kTrunc:
      path = g_nn_dir + "/trunc.onnx";
      break;
    case kEscape:
      path = g_nn_dir + "/escape.onnx";
      break;
    default:
      kind = c.Range(0, kNnKinds - 1);
      path = g_nn_dir + "/" + kNnKindNames[kind] + ".onnx";
  }
  c.strings.push_back(path);
  const char* p = which == kNull ? nullptr : c.strings.back().c_str();
  c.LogStr("path", p);
  NnOpts s;
  BuildNnOpts(c, s, false);
  const cudago_status_t st = cudago_nn_model_load(po, p, s.given ? &s.o : nullptr);
  c.Check(st);
  NnNotInternal(c, st);
  if (s.given) c.CheckIn(st, &s.o, s.snap);
  c.MustFail(st, which < kPalette, "the path is NULL, missing, a directory, or a damaged model");
  c.MustFail(st, s.bad, "an option is out of range or refused (see the header's comment)");
  c.MustFail(st, s.gpu && g_device_count == 0, "the GPU backend without a GPU");
  c.MustFail(st, s.u8 && kind >= 0 && !NnImage(kind),
             "uint8 NHWC for a model without an image input");
  if (which != kNull && po != nullptr && s.given && s.o.struct_size == sizeof s.o &&
      s.o.device < 0 && st != CUDAGO_ERROR_INVALID_DEVICE) {
    c.Fail("a negative device gave %d, not CUDAGO_ERROR_INVALID_DEVICE", st);
  }
  if (which == kMissing && po != nullptr && s.sure && st != CUDAGO_ERROR_INVALID_ARGUMENT) {
    c.Fail("a missing file gave %d, not CUDAGO_ERROR_INVALID_ARGUMENT", st);
  }
  if (kind >= 0 && po != nullptr && s.sure && !(s.u8 && !NnImage(kind)))
    NnExpectLoad(c, st, s, kind);
  if (c.Created(st, po, out)) NnLoaded(c, out, kind, s);
}

OPFN(nn_model_load_bytes) {
  cudago_nn_model_t out = Sentinel<cudago_nn_model_t>();
  cudago_nn_model_t* po = c.Out(out, "out");
  const int kind = c.Range(0, kNnKinds - 1);
  std::string bytes = g_nn_bytes[kind];
  enum { kIntact, kCut, kFlipped, kJunk, kNullData };
  int variant = c.Range(0, 9);
  variant = variant < 5 ? kIntact : variant - 4 > kNullData ? kIntact : variant - 4;
  switch (variant) {
    case kCut:
      bytes.resize(static_cast<size_t>(c.Range(0, static_cast<int>(bytes.size()) - 1)));
      break;
    case kFlipped: {
      const size_t bit = c.p.ConsumeIntegralInRange<size_t>(0, bytes.size() * 8 - 1);
      bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
      break;
    }
    case kJunk:
      bytes = c.Bool() ? std::string("not an ONNX model") : c.p.ConsumeRandomLengthString(64);
      break;
    default:
      break;
  }
  c.strings.push_back(bytes);
  const std::string& data = c.strings.back();
  // size: the real length; with NULL data anything.
  uint64_t size = data.size();
  if (variant == kNullData && c.Bool()) size = c.RawU64();
  c.Log("data=%s%s (%zu bytes), size=%" PRIu64, variant == kNullData ? "NULL " : "",
        kNnKindNames[kind], data.size(), size);
  c.Log("variant=%s", variant == kIntact    ? "intact"
                      : variant == kCut     ? "cut"
                      : variant == kFlipped ? "bit flipped"
                      : variant == kJunk    ? "junk"
                                            : "NULL");
  NnOpts s;
  BuildNnOpts(c, s, true);
  // A non-NULL pointer for a 0-byte string (data() of an empty string is not NULL either).
  const void* d = variant == kNullData ? nullptr : static_cast<const void*>(data.c_str());
  const cudago_status_t st = cudago_nn_model_load_bytes(po, d, size, s.given ? &s.o : nullptr);
  c.Check(st);
  NnNotInternal(c, st);
  if (s.given) c.CheckIn(st, &s.o, s.snap);
  c.MustFail(st, d == nullptr, "data is NULL");
  c.MustFail(st, size == 0, "size is 0");
  c.MustFail(st, s.bad, "an option is out of range or refused (see the header's comment)");
  c.MustFail(st, s.gpu && g_device_count == 0, "the GPU backend without a GPU");
  if (d != nullptr && size > 0 && po != nullptr && s.given && s.o.struct_size == sizeof s.o &&
      s.o.device < 0 && st != CUDAGO_ERROR_INVALID_DEVICE) {
    c.Fail("a negative device gave %d, not CUDAGO_ERROR_INVALID_DEVICE", st);
  }
  const bool intact = variant == kIntact;
  c.MustFail(st, intact && s.u8 && !NnImage(kind), "uint8 NHWC for a model without an image input");
  const char* base = s.given && s.o.struct_size == sizeof s.o ? s.o.base_dir : nullptr;
  const bool base_ok = base != nullptr && g_nn_dir == base;
  c.MustFail(
      st,
      intact && kind == kNnExternal && (base == nullptr || std::strcmp(base, "/nonexistent") == 0),
      "the model's external data has no base_dir, or a missing one");
  if (intact && po != nullptr && s.sure && !(s.u8 && !NnImage(kind)) &&
      (kind != kNnExternal || base_ok)) {
    NnExpectLoad(c, st, s, kind);
  }
  if (c.Created(st, po, out)) NnLoaded(c, out, intact ? kind : -1, s);
}

OPFN(nn_model_destroy) {
  const NnRec r = c.Take(c.models, "model");
  const cudago_status_t st = cudago_nn_model_destroy(r.h);
  c.Check(st);
  if (st != CUDAGO_SUCCESS) c.Fail("destroying %s failed", r.h == nullptr ? "NULL" : "a model");
}

OPFN(nn_model_info) {
  const int mi = c.PickIndex(c.models, "model");
  const NnRec* r = mi < 0 ? nullptr : &c.models[static_cast<size_t>(mi)];
  cudago_nn_model_info_t out;
  cudago_nn_model_info_init(&out);
  out.struct_size = c.StructSize(sizeof out, "out.struct_size");
  cudago_nn_model_info_t* po = c.Out(out, "out");
  const cudago_nn_model_info_t snap = out;
  const cudago_status_t st = cudago_nn_model_info(r ? r->h : nullptr, po);
  c.Check(st);
  NnNotInternal(c, st);
  c.MustFail(st, r == nullptr, "model is NULL");
  c.MustFail(st, po == nullptr, "out is NULL");
  c.CheckOutStruct(st, po, snap);
  if (r == nullptr || po == nullptr || snap.struct_size != sizeof out) return;
  if (st != CUDAGO_SUCCESS) c.Fail("failed with a live model and a valid struct");
  if (out.backend != (r->gpu ? CUDAGO_NN_BACKEND_GPU : CUDAGO_NN_BACKEND_REFERENCE) ||
      out.device != r->device || out.precision != r->precision || out.max_batch != r->max_batch ||
      out.dynamic_batch != (r->dynamic ? 1 : 0) || out.num_inputs != r->ins.size() ||
      out.num_outputs != r->outs.size() || out.arena_bytes != r->arena_bytes ||
      out.weight_bytes != r->weight_bytes || out.num_layers != r->num_layers) {
    c.Fail("reports another model than the one described after the load");
  }
  if (!r->gpu && (out.graphs != 0 || out.capture_seconds != 0)) {
    c.Fail("a model on the reference executor reports %" PRIu64 " CUDA graphs", out.graphs);
  }
}

void NnDescribeOp(Ctx& c, bool input) {
  const int mi = c.PickIndex(c.models, "model");
  const NnRec* r = mi < 0 ? nullptr : &c.models[static_cast<size_t>(mi)];
  const uint64_t real = r == nullptr ? 1 : (input ? r->ins.size() : r->outs.size());
  uint64_t index;
  switch (c.Range(0, 5)) {
    case 3:
      index = real;
      break;
    case 4:
      index = real + 1;
      break;
    case 5:
      index = c.RawU64();
      break;
    default:
      index = static_cast<uint64_t>(c.Range(0, static_cast<int>(std::min<uint64_t>(real, 64)) - 1));
  }
  c.Log("index=%" PRIu64, index);
  cudago_nn_tensor_info_t out;
  cudago_nn_tensor_info_init(&out);
  out.struct_size = c.StructSize(sizeof out, "out.struct_size");
  cudago_nn_tensor_info_t* po = c.Out(out, "out");
  const cudago_nn_tensor_info_t snap = out;
  cudago_nn_model_t h = r ? r->h : nullptr;
  const cudago_status_t st =
      input ? cudago_nn_model_input(h, index, po) : cudago_nn_model_output(h, index, po);
  c.Check(st);
  NnNotInternal(c, st);
  c.MustFail(st, r == nullptr, "model is NULL");
  c.MustFail(st, po == nullptr, "out is NULL");
  c.MustFail(st, r != nullptr && index >= real, "index is past the last");
  c.CheckOutStruct(st, po, snap);
  if (r == nullptr || po == nullptr || snap.struct_size != sizeof out) return;
  if (index >= real) {
    if (st != CUDAGO_ERROR_OUT_OF_RANGE)
      c.Fail("index past the last gave %d, not OUT_OF_RANGE", st);
    return;
  }
  if (st != CUDAGO_SUCCESS) c.Fail("failed with a live model, a valid index and a valid struct");
  const NnDesc& d = (input ? r->ins : r->outs)[static_cast<size_t>(index)];
  if (out.name == nullptr || d.name != out.name || d.rank != out.rank ||
      std::memcmp(d.dims, out.dims, sizeof d.dims) != 0 || d.batch_axis != out.batch_axis ||
      d.bytes_per_item != out.bytes_per_item || d.dtype != static_cast<int32_t>(out.dtype)) {
    c.Fail("describes '%s' otherwise than right after the load", d.name.c_str());
  }
}
OPFN(nn_model_input) { NnDescribeOp(c, true); }
OPFN(nn_model_output) { NnDescribeOp(c, false); }

// The heap block behind a run_host buffer of `claimed` bytes for a tensor of `exact` bytes: the
// claimed size, except a bogus size past the exact one (or past any size the harness runs).
uint64_t NnBlock(uint64_t claimed, uint64_t exact) {
  const uint64_t limit = std::min<uint64_t>(exact, kNnRunBytes) + 64;
  return claimed <= limit ? claimed : std::min<uint64_t>(exact, 64);
}

OPFN(nn_model_run_host) {
  const int mi = c.PickIndex(c.models, "model");
  const NnRec* r = mi < 0 ? nullptr : &c.models[static_cast<size_t>(mi)];
  const uint64_t mb = r ? r->max_batch : 1;
  uint64_t batch;
  switch (c.Range(0, 9)) {
    case 0:
      batch = 0;
      break;
    case 1:
      batch = mb + 1;
      break;
    case 2:
      batch = 2;
      break;
    case 3:
      batch = c.RawU64();
      break;
    case 4:
    case 5:
    case 6:
      batch = mb;
      break;
    default:
      batch = 1;
  }
  c.Log("batch=%" PRIu64, batch);
  const bool batch_ok = r != nullptr && batch >= 1 && batch <= mb && (r->dynamic || batch == 1);
  const uint64_t sizing = batch_ok ? batch : 1;
  // Can the model run with right sizes? (Small enough; a description from a damaged model may not
  // be.)
  bool runnable = r != nullptr;
  if (r != nullptr) {
    unsigned __int128 total = r->arena_bytes;
    for (const auto* list : {&r->ins, &r->outs}) {
      for (const NnDesc& d : *list) total += d.BytesAt(sizing);
    }
    runnable =
        total <= kNnRunBytes && r->ins.size() <= kNnMaxTensors && r->outs.size() <= kNnMaxTensors;
  }
  c.Log("runnable=%d", runnable ? 1 : 0);

  // One argument array side: the buffers (each its own heap block), pointers and sizes.
  struct Side {
    std::unique_ptr<unsigned char[]> buf[kNnMaxTensors];
    void* ptr[kNnMaxTensors] = {};
    uint64_t bytes[kNnMaxTensors] = {};
    uint64_t exact[kNnMaxTensors] = {};
    uint64_t count = 0;
    bool ptrs_null = false, bytes_null = false;
    bool all_right = true;  // count, arrays, pointers and sizes as the model needs
    std::string saved[kNnMaxTensors];
  };
  Side in, out;
  auto build = [&](Side& s, const std::vector<NnDesc>* descs, const char* name, bool is_out) {
    const size_t real = descs ? descs->size() : 1;
    switch (c.Range(0, 15)) {
      case 0:
        s.count = real > 0 ? real - 1 : 0;
        break;
      case 1:
        s.count = real + 1;
        break;
      case 2:
        s.count = 0;
        break;
      case 3:
        s.count = c.RawU64();
        break;
      default:
        s.count = real;
    }
    s.ptrs_null = c.Range(0, 15) == 0;
    s.bytes_null = c.Range(0, 15) == 0;
    if (s.count > kNnMaxTensors) {  // a count past the harness's arrays: only with NULL arrays
      s.ptrs_null = s.bytes_null = true;
    }
    s.all_right = descs != nullptr && s.count == real && !s.ptrs_null && !s.bytes_null;
    for (size_t i = 0; i < kNnMaxTensors; ++i) {
      const bool real_one = descs != nullptr && i < descs->size();
      uint64_t exact = real_one ? (*descs)[i].BytesAt(sizing) : 4;
      uint64_t claimed = exact;
      switch (c.Range(0, 23)) {
        case 0:
          claimed = exact + 4;
          break;
        case 1:
          claimed = exact >= 4 ? exact - 4 : exact + 1;
          break;
        case 2:
          claimed = exact > 0 ? exact - 1 : 1;
          break;
        case 3:
          claimed = exact == 0 ? 4 : 0;
          break;
        case 4:
          claimed = c.RawU64();
          break;
        default:
          break;
      }
      if (!runnable && claimed == exact) claimed = exact == 4 ? 8 : 4;  // never a right size
      const uint64_t block = NnBlock(claimed, exact);
      s.buf[i].reset(new unsigned char[block]);
      std::memset(s.buf[i].get(), is_out ? kCanary : 0, block);
      const bool null = c.Range(0, 23) == 0;
      s.ptr[i] = null ? nullptr : s.buf[i].get();
      s.bytes[i] = claimed;
      s.exact[i] = exact;
      if (i < s.count && (null || claimed != exact)) s.all_right = false;
      c.Log("%s[%zu]=%s/%" PRIu64 "%s", name, i, null ? "NULL" : "&buf", claimed,
            claimed == exact ? "(exact)" : "");
    }
    c.Log("%s=%s, %s_bytes=%s, num_%s=%" PRIu64, name, s.ptrs_null ? "NULL" : "&arr", name,
          s.bytes_null ? "NULL" : "&arr", name, s.count);
  };
  build(in, r ? &r->ins : nullptr, "inputs", false);
  build(out, r ? &r->outs : nullptr, "outputs", true);
  // 1 time in 16: an output that overlaps an input or another output (refused).
  bool overlap = false;
  if (r != nullptr && c.Range(0, 15) == 0) {
    if (r->outs.size() >= 2 && c.Bool()) {
      if (out.ptr[0] != nullptr && out.ptr[1] != nullptr && out.bytes[0] > 0 && out.bytes[1] > 0) {
        out.ptr[1] = out.ptr[0];
        overlap = true;
      }
    } else if (in.ptr[0] != nullptr && out.ptr[0] != nullptr && in.bytes[0] > 0 &&
               out.bytes[0] > 0) {
      out.ptr[0] = in.ptr[0];
      overlap = true;
    }
    c.Log("overlap=%d", overlap ? 1 : 0);
  }

  // Inputs: values from a seed of the input (uint8 or float as described).
  const uint8_t seed = c.U8("seed");
  if (r != nullptr) {
    for (size_t i = 0; i < r->ins.size() && i < kNnMaxTensors; ++i) {
      const uint64_t block = NnBlock(in.bytes[i], in.exact[i]);
      unsigned char* p = in.buf[i].get();
      NnFillInput(p, block, r->ins[i].dtype, seed);
      in.saved[i].assign(reinterpret_cast<const char*>(p), block);
    }
  }
  const cudago_status_t st = cudago_nn_model_run_host(
      r ? r->h : nullptr, in.ptrs_null ? nullptr : const_cast<const void* const*>(in.ptr),
      in.bytes_null ? nullptr : in.bytes, in.count, out.ptrs_null ? nullptr : out.ptr,
      out.bytes_null ? nullptr : out.bytes, out.count, batch);
  c.Check(st);
  NnNotInternal(c, st);
  c.MustFail(st, r == nullptr, "model is NULL");
  c.MustFail(st, !in.all_right, "an input count, array, pointer or size is not the model's");
  c.MustFail(st, !out.all_right, "an output count, array, pointer or size is not the model's");
  c.MustFail(st, !batch_ok, "batch is 0, past max_batch, or not 1 for a fixed-batch model");
  c.MustFail(st, overlap, "an output overlaps an input or another output");
  if (r == nullptr || overlap) return;
  for (size_t i = 0; i < r->ins.size() && i < kNnMaxTensors; ++i) {
    if (std::memcmp(in.buf[i].get(), in.saved[i].data(), in.saved[i].size()) != 0) {
      c.Fail("wrote into input %zu ('%s')", i, r->ins[i].name.c_str());
    }
  }
  const bool valid = in.all_right && out.all_right && batch_ok && runnable;
  if (!valid) return;
  if (st != CUDAGO_SUCCESS) c.Fail("failed with every argument right");
  NnCheckOutputs(c, *r, batch, in.buf, in.exact, out.buf, out.exact);
}

OPFN(nn_model_run) {
  const int mi = c.PickIndex(c.models, "model");
  const NnRec* r = mi < 0 ? nullptr : &c.models[static_cast<size_t>(mi)];
  const cudago_stream_t s = c.Stream();
  const uint64_t mb = r ? r->max_batch : 1;
  uint64_t batch;
  switch (c.Range(0, 5)) {
    case 0:
      batch = 0;
      break;
    case 1:
      batch = mb + 1;
      break;
    case 2:
      batch = c.RawU64();
      break;
    default:
      batch = c.Bool() ? 1 : mb;
  }
  c.Log("batch=%" PRIu64, batch);
  const bool batch_ok = r != nullptr && batch >= 1 && batch <= mb && (r->dynamic || batch == 1);
  cudago_buffer_t inb[kNnMaxTensors], outb[kNnMaxTensors];
  uint64_t ino[kNnMaxTensors], outo[kNnMaxTensors];
  bool all_right = r != nullptr;
  bool ranges_ok = r != nullptr;  // every range holds its tensor (what a GPU model needs)
  uint64_t counts[2];
  bool arrays_null[2];
  for (int side = 0; side < 2; ++side) {
    cudago_buffer_t* bufs = side == 0 ? inb : outb;
    uint64_t* offs = side == 0 ? ino : outo;
    const std::vector<NnDesc>* descs = r ? (side == 0 ? &r->ins : &r->outs) : nullptr;
    const size_t real = descs ? descs->size() : 1;
    uint64_t count;
    switch (c.Range(0, 7)) {
      case 0:
        count = real > 0 ? real - 1 : 0;
        break;
      case 1:
        count = real + 1;
        break;
      case 2:
        count = c.RawU64();
        break;
      default:
        count = real;
    }
    bool null = c.Range(0, 9) == 0;
    if (count > kNnMaxTensors) null = true;
    counts[side] = count;
    arrays_null[side] = null;
    if (descs == nullptr || count != real || null) all_right = ranges_ok = false;
    for (size_t i = 0; i < kNnMaxTensors; ++i) {
      uint64_t bytes = 0;
      bufs[i] = c.Buffer(side == 0 ? "inputs[i]" : "outputs[i]", &bytes);
      offs[i] = c.Range(0, 3) == 0 ? c.U64("offset") : 0;
      if (i < count && descs != nullptr && i < descs->size()) {
        const NnDesc& dd = (*descs)[i];
        const uint64_t need = dd.BytesAt(batch_ok ? batch : 1);
        const uint64_t align = dd.dtype == CUDAGO_DTYPE_U8 ? 1 : 4;
        if (bufs[i] == nullptr || offs[i] != 0 || bytes < need) all_right = false;
        if (bufs[i] == nullptr || offs[i] % align != 0 || offs[i] > bytes ||
            bytes - offs[i] < need) {
          ranges_ok = false;
        }
      }
    }
    c.Log("num=%" PRIu64 ", arrays=%s", count, null ? "NULL" : "&arr");
  }
  const cudago_status_t st = cudago_nn_model_run(
      r ? r->h : nullptr, s, arrays_null[0] ? nullptr : inb, arrays_null[0] ? nullptr : ino,
      counts[0], arrays_null[1] ? nullptr : outb, arrays_null[1] ? nullptr : outo, counts[1],
      batch);
  c.Check(st);
  NnNotInternal(c, st);
  c.MustFail(st, r == nullptr, "model is NULL");
  c.MustFail(st, s == nullptr, "stream is NULL");
  c.MustFail(st, !batch_ok, "batch is 0, past max_batch, or not 1 for a fixed-batch model");
  c.MustFail(st, !ranges_ok, "a count, array, buffer or range is not the model's");
  // A model on the reference executor runs on host memory only.
  c.MustFail(st, r != nullptr && !r->gpu, "the model runs on the reference executor");
  if (r != nullptr && !r->gpu && all_right && s != nullptr && batch_ok &&
      st != CUDAGO_ERROR_NOT_SUPPORTED) {
    c.Fail("a reference model with every argument right gave %d, not NOT_SUPPORTED", st);
  }
}

OPFN(nn_model_prepare) {
  const int mi = c.PickIndex(c.models, "model");
  const NnRec* r = mi < 0 ? nullptr : &c.models[static_cast<size_t>(mi)];
  const cudago_stream_t s = c.Bool() ? nullptr : c.Stream();  // NULL: run_host's context
  const uint64_t mb = r ? r->max_batch : 1;
  uint64_t sizes[4];
  bool sizes_ok = true;
  const uint64_t given = static_cast<uint64_t>(c.Range(0, 4));
  for (uint64_t i = 0; i < given; ++i) {
    switch (c.Range(0, 5)) {
      case 0:
        sizes[i] = 0;
        break;
      case 1:
        sizes[i] = mb + 1;
        break;
      case 2:
        sizes[i] = c.RawU64();
        break;
      default:
        sizes[i] = c.Bool() ? 1 : mb;
    }
    if (r != nullptr && (sizes[i] < 1 || sizes[i] > mb || (!r->dynamic && sizes[i] != 1))) {
      sizes_ok = false;
    }
  }
  uint64_t count = given;
  bool null = false;
  switch (c.Range(0, 7)) {
    case 0:
      null = true;  // NULL with the count: refused unless the count is 0
      break;
    case 1:
      count = (uint64_t{1} << 20) + 1 + static_cast<uint64_t>(c.Range(0, 3));
      break;
    case 2:
      count = c.RawU64() | (uint64_t{1} << 21);  // past 2^20 whatever the draw
      break;
    default:
      break;
  }
  const bool count_ok = count <= (uint64_t{1} << 20) && (!null || count == 0);
  c.Log("sizes=%" PRIu64 " count=%" PRIu64 "%s", given, count, null ? " NULL" : "");
  const cudago_status_t st =
      cudago_nn_model_prepare(r ? r->h : nullptr, s, null ? nullptr : sizes, count);
  c.Check(st);
  NnNotInternal(c, st);
  c.MustFail(st, r == nullptr, "model is NULL");
  c.MustFail(st, !count_ok, "count is past 2^20, or the array is NULL with a count");
  c.MustFail(st, count_ok && !null && !sizes_ok,
             "a batch size is 0, past max_batch, or not 1 for "
             "a fixed-batch model");
  // On the reference executor there is nothing to capture: valid arguments succeed.
  if (r != nullptr && !r->gpu && count_ok && (null || sizes_ok) && st != CUDAGO_SUCCESS) {
    c.Fail("a reference model with valid sizes gave %d", static_cast<int>(st));
  }
}

// ---- servers (cudago_server_*) ----

// A failure seen on a server thread (a callback): printed as the harness's failures are, then a
// trap (libFuzzer keeps the input).
[[noreturn]] __attribute__((format(printf, 1, 2))) void ServeTrap(const char* fmt, ...) {
  std::fprintf(stderr, "\ncapi_fuzz: ORACLE FAILURE in a server callback: ");
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  __builtin_trap();
}

// What the result of request e must be (under the state's mutex): "" when it is right, else
// what is wrong.
std::string ServeCheck(const ServeState& s, const cudago_serve_result_t& r, const ServeExpect& e) {
  char why[640];
  if (r.message == nullptr) return "its message is NULL";
  if (e.id != 0 && r.id != e.id) {
    std::snprintf(why, sizeof why, "result id %" PRIu64 ", but submit returned %" PRIu64, r.id,
                  e.id);
    return why;
  }
  if (r.items != e.items) {
    std::snprintf(why, sizeof why, "%" PRIu64 " items, the request has %" PRIu64, r.items, e.items);
    return why;
  }
  if (e.cancelled && r.status != CUDAGO_ERROR_CANCELLED) {
    std::snprintf(why, sizeof why, "status %d for a request cancel() reported cancelled",
                  static_cast<int>(r.status));
    return why;
  }
  switch (r.status) {
    case CUDAGO_SUCCESS: {
      if (r.message[0] != '\0') return std::string("a success with a message: ") + r.message;
      if (r.close_reason < CUDAGO_SERVE_CLOSE_FULL ||
          r.close_reason > CUDAGO_SERVE_CLOSE_SHUTDOWN) {
        std::snprintf(why, sizeof why, "a success with close_reason %d",
                      static_cast<int>(r.close_reason));
        return why;
      }
      if ((!s.model.gpu && r.device != -1) || r.instance < 0 ||
          static_cast<uint64_t>(r.instance) >= s.instances) {
        std::snprintf(why, sizeof why, "ran on device %d instance %d (%" PRIu64 " instances)",
                      r.device, r.instance, s.instances);
        return why;
      }
      if (r.batch_items < r.items || r.batch_items > s.max_batch || r.batch_requests < 1 ||
          r.batch_requests > r.batch_items) {
        std::snprintf(why, sizeof why,
                      "a batch of %" PRIu64 " items in %" PRIu64 " requests (max batch %" PRIu64
                      ") for a request of %" PRIu64 " items",
                      r.batch_items, r.batch_requests, s.max_batch, r.items);
        return why;
      }
      if (r.total_ns < r.queue_ns) return "total_ns < queue_ns";
      if (r.num_outputs != s.model.outs.size() || r.outputs == nullptr ||
          r.output_bytes == nullptr) {
        std::snprintf(why, sizeof why, "%" PRIu64 " outputs (the model has %zu), arrays %p %p",
                      r.num_outputs, s.model.outs.size(), static_cast<const void*>(r.outputs),
                      static_cast<const void*>(r.output_bytes));
        return why;
      }
      for (size_t j = 0; j < s.model.outs.size(); ++j) {
        if (r.outputs[j] == nullptr || r.output_bytes[j] != e.out_bytes[j]) {
          std::snprintf(why, sizeof why,
                        "output %zu at %p of %" PRIu64 " bytes (expected %" PRIu64 ")", j,
                        r.outputs[j], r.output_bytes[j], e.out_bytes[j]);
          return why;
        }
      }
      if (e.values) {
        const unsigned char* in[kNnMaxTensors] = {};
        uint64_t in_bytes[kNnMaxTensors] = {};
        const unsigned char* out[kNnMaxTensors] = {};
        for (size_t i = 0; i < e.inputs.size() && i < kNnMaxTensors; ++i) {
          in[i] = reinterpret_cast<const unsigned char*>(e.inputs[i].data());
          in_bytes[i] = e.inputs[i].size();
        }
        for (size_t j = 0; j < s.model.outs.size() && j < kNnMaxTensors; ++j) {
          out[j] = static_cast<const unsigned char*>(r.outputs[j]);
        }
        return NnMismatch(s.model, e.items, in, in_bytes, out, r.output_bytes);
      }
      return "";
    }
    case CUDAGO_ERROR_TIMEOUT:
    case CUDAGO_ERROR_CANCELLED:
      if (r.status == CUDAGO_ERROR_TIMEOUT && !e.deadline) return "timed out without a deadline";
      if (r.close_reason != CUDAGO_SERVE_CLOSE_NONE || r.device != -1 || r.instance != -1) {
        std::snprintf(why, sizeof why, "status %d with close_reason %d device %d instance %d",
                      static_cast<int>(r.status), static_cast<int>(r.close_reason), r.device,
                      r.instance);
        return why;
      }
      if (r.message[0] == '\0') return "a failure without a message";
      return "";
    default:
      // A run that fails: never on an intact palette model, and never INTERNAL.
      if (r.status == CUDAGO_ERROR_INTERNAL || s.intact) {
        std::snprintf(why, sizeof why, "status %d (%s) for a valid request",
                      static_cast<int>(r.status), r.message);
        return why;
      }
      return "";
  }
}

// The callback of the harness's callback-mode servers (on server threads).
void ServeCallback(void* user, const cudago_serve_result_t* r) {
  auto* s = static_cast<ServeState*>(user);
  std::lock_guard<std::mutex> lock(s->mu);
  if (r == nullptr) ServeTrap("a NULL result");
  if (r->struct_size != sizeof *r) ServeTrap("a result with struct_size %" PRIu32, r->struct_size);
  auto it = s->by_key.find(r->tag);
  if (it == s->by_key.end()) {
    ServeTrap("a result (id %" PRIu64 ") with tag %" PRIu64 ", which no request has", r->id,
              r->tag);
  }
  ServeExpect& e = it->second;
  if (++e.results != 1) ServeTrap("request tag %" PRIu64 " delivered %d times", r->tag, e.results);
  e.status = r->status;
  e.result_id = r->id;
  s->delivered++;
  const std::string why = ServeCheck(*s, *r, e);
  if (!why.empty())
    ServeTrap("request tag %" PRIu64 " (id %" PRIu64 "): %s", r->tag, r->id, why.c_str());
}

// A result a poll returned (the harness's thread): checked, then counted as polled.
void ServePolled(Ctx& c, ServeState& s, const cudago_serve_result_t& r) {
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.by_key.find(r.id);
  if (it == s.by_key.end())
    c.Fail("polled a result with id %" PRIu64 ", which submit never gave", r.id);
  ServeExpect& e = it->second;
  if (++e.results != 1) c.Fail("polled the result of id %" PRIu64 " %d times", r.id, e.results);
  e.status = r.status;
  s.delivered++;
  s.polled.insert(r.id);
  const std::string why = ServeCheck(s, r, e);
  if (!why.empty()) c.Fail("the result of id %" PRIu64 ": %s", r.id, why.c_str());
}

// Once a callback server is shut down (or destroyed): every accepted request delivered once.
void ServeAllDelivered(Ctx& c, ServeState& s) {
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.delivered != s.accepted) {
    c.Fail("%" PRIu64 " results delivered for %" PRIu64 " accepted requests after the shutdown",
           s.delivered, s.accepted);
  }
  for (const auto& [key, e] : s.by_key) {
    if (e.results != 1) c.Fail("request %" PRIu64 " delivered %d times", key, e.results);
  }
}

// The server's stats, checked against what the harness did.
cudago_server_stats_t ServeStats(Ctx& c, cudago_server_t h, ServeState& s) {
  cudago_server_stats_t st;
  cudago_server_stats_init(&st);
  if (c.Aux("cudago_server_stats", [&] { return cudago_server_stats(h, &st); }) != CUDAGO_SUCCESS) {
    c.Fail("cudago_server_stats failed on a live server");
  }
  std::lock_guard<std::mutex> lock(s.mu);
  if (st.submitted != s.accepted || st.completed > st.submitted ||
      st.succeeded + st.failed + st.timed_out + st.cancelled != st.completed ||
      st.queued + st.in_flight > st.submitted - st.completed || st.max_batch_size != s.max_batch ||
      st.closed_full + st.closed_preferred + st.closed_delay + st.closed_deadline +
              st.closed_shutdown !=
          st.batches ||
      (s.shut && (st.completed != st.submitted || st.queued != 0 || st.in_flight != 0)) ||
      (s.intact && st.failed != 0)) {
    c.Fail("stats: submitted %" PRIu64 " (the harness had %" PRIu64 " accepted), completed %" PRIu64
           ", succeeded %" PRIu64 " failed %" PRIu64 " timed out %" PRIu64 " cancelled %" PRIu64
           ", queued %" PRIu64 " in flight %" PRIu64 ", batches %" PRIu64 ", max batch %" PRIu64
           " (%" PRIu64 "), shut down %d",
           st.submitted, s.accepted, st.completed, st.succeeded, st.failed, st.timed_out,
           st.cancelled, st.queued, st.in_flight, st.batches, st.max_batch_size, s.max_batch,
           s.shut ? 1 : 0);
  }
  return st;
}

// A poll server shut down, then polled until UNAVAILABLE: every accepted request's result comes
// exactly once.
void ServeDrain(Ctx& c, cudago_server_t h, ServeState& s) {
  if (c.Aux("cudago_server_shutdown", [&] { return cudago_server_shutdown(h, 0); }) !=
      CUDAGO_SUCCESS) {
    c.Fail("cudago_server_shutdown failed on a live server");
  }
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.shut = true;
  }
  for (uint64_t round = 0;; ++round) {
    cudago_serve_result_t res[kServePollCap];
    for (auto& r : res) cudago_serve_result_init(&r);
    uint64_t len = 0;
    const cudago_status_t st = c.Aux("cudago_server_poll", [&] {
      return cudago_server_poll(h, nullptr, 0, UINT64_MAX, res, kServePollCap, &len);
    });
    if (st == CUDAGO_ERROR_UNAVAILABLE) break;
    if (st != CUDAGO_SUCCESS || len == 0 || len > kServePollCap) {
      c.Fail("a poll after the shutdown gave %d with %" PRIu64 " results", st, len);
    }
    for (uint64_t i = 0; i < len; ++i) ServePolled(c, s, res[i]);
    if (round > s.accepted + 1) c.Fail("more polls after the shutdown than accepted requests");
  }
  std::lock_guard<std::mutex> lock(s.mu);
  for (const auto& [key, e] : s.by_key) {
    if (e.results != 1) c.Fail("request id %" PRIu64 " polled %d times", key, e.results);
  }
}

// Loads an intact palette model on the reference executor (a set-up call, checked like the
// others; the model joins the input's models).
void ServeLoadModel(Ctx& c) {
  const int kind = c.Range(0, kNnKinds - 1);
  NnOpts s;
  cudago_nn_options_init(&s.o);
  s.given = true;
  s.o.backend = CUDAGO_NN_BACKEND_REFERENCE;
  s.o.max_batch = static_cast<uint64_t>(c.Range(1, 8));
  if (NnImage(kind) && c.Range(0, 3) == 0) {
    s.o.input_format = CUDAGO_NN_INPUT_UINT8_NHWC;
    s.u8 = true;
  }
  s.sure = s.sane = true;
  s.gpu_maybe = false;
  s.snap = s.o;
  const std::string path = g_nn_dir + "/" + kNnKindNames[kind] + ".onnx";
  c.Log("set-up: the %s model, max_batch %" PRIu64 "%s", kNnKindNames[kind], s.o.max_batch,
        s.u8 ? ", uint8 NHWC" : "");
  cudago_nn_model_t h = nullptr;
  if (c.Aux("cudago_nn_model_load", [&] { return cudago_nn_model_load(&h, path.c_str(), &s.o); }) !=
      CUDAGO_SUCCESS) {
    c.Fail("the %s model failed to load on the reference executor", kNnKindNames[kind]);
  }
  NnLoaded(c, h, kind, s);
}

OPFN(server_create) {
  cudago_server_t out = Sentinel<cudago_server_t>();
  cudago_server_t* po = c.Out(out, "out");
  // A server needs a model: one is most often loaded for the call, so that inputs reach the
  // server's paths without having to find a load first.
  if (c.models.empty() ? c.Range(0, 7) != 0 : c.Range(0, 3) == 0) ServeLoadModel(c);
  const int mi = c.PickIndex(c.models, "model");
  const NnRec* m = mi < 0 ? nullptr : &c.models[static_cast<size_t>(mi)];
  auto state = std::make_shared<ServeState>();
  const uint64_t model_mb = m ? m->max_batch : 1;
  cudago_server_options_t o;
  cudago_server_options_init(&o);
  const bool given = c.Range(0, 5) != 0;
  bool bad = false;  // a documented refusal
  uint64_t mb = model_mb, levels = 1;
  bool deadline = false;
  uint64_t preferred[4];
  int32_t devices[2] = {-1, 0};
  if (given) {
    o.struct_size = c.StructSize(sizeof o, "opts.struct_size");
    constexpr uint32_t known = CUDAGO_SERVER_PRESERVE_ORDERING | CUDAGO_SERVER_CONCURRENT_COMPUTE |
                               CUDAGO_SERVER_CAPTURE_ALL_SIZES;
    o.flags = c.Range(0, 3) == 0 ? c.Flags("opts.flags", known)
                                 : (c.Bool() ? CUDAGO_SERVER_PRESERVE_ORDERING : 0u) |
                                       (c.Bool() ? CUDAGO_SERVER_CONCURRENT_COMPUTE : 0u);
    bad |= (o.flags & ~known) != 0;
    switch (c.Range(0, 7)) {
      case 0:
        o.max_batch_size = model_mb + 1;
        break;
      case 1:
        o.max_batch_size = c.RawU64();
        break;
      case 2:
      case 3:
        o.max_batch_size =
            static_cast<uint64_t>(c.Range(1, static_cast<int>(std::min<uint64_t>(model_mb, 64))));
        break;
      default:
        o.max_batch_size = 0;
    }
    bad |= o.max_batch_size > model_mb;
    if (o.max_batch_size != 0) mb = o.max_batch_size;
    switch (c.Range(0, 7)) {
      case 0:
        o.max_queue_delay_ns = static_cast<uint64_t>(c.Range(1, 2000)) * 1000;
        break;
      case 1:
        o.max_queue_delay_ns =
            c.Bool() ? uint64_t{3600} * 1000000000 : uint64_t{3600} * 1000000000 + 1;
        break;
      case 2:
        o.max_queue_delay_ns = c.RawU64();
        break;
      default:
        o.max_queue_delay_ns = 0;
    }
    bad |= o.max_queue_delay_ns > uint64_t{3600} * 1000000000;
    switch (c.Range(0, 7)) {
      case 0: {
        o.num_preferred_batch_sizes = static_cast<uint64_t>(c.Range(1, 4));
        for (uint64_t i = 0; i < o.num_preferred_batch_sizes; ++i) {
          preferred[i] = c.Range(0, 7) == 0
                             ? c.RawU64()
                             : static_cast<uint64_t>(
                                   c.Range(0, static_cast<int>(std::min<uint64_t>(mb + 1, 64))));
          bad |= preferred[i] < 1 || preferred[i] > mb;
        }
        o.preferred_batch_sizes = preferred;
        break;
      }
      case 1:
        o.num_preferred_batch_sizes = c.Bool() ? 1 : c.RawU64();
        bad |= o.num_preferred_batch_sizes != 0;  // with NULL
        break;
      default:
        break;
    }
    switch (c.Range(0, 7)) {
      case 0:
        o.max_queue_size = static_cast<uint64_t>(c.Range(1, 4));
        break;
      case 1:
        o.max_queue_size = c.Bool() ? uint64_t{1} << 24 : (uint64_t{1} << 24) + 1;
        break;
      case 2:
        o.max_queue_size = c.RawU64();
        break;
      default:
        break;
    }
    bad |= o.max_queue_size > (uint64_t{1} << 24);
    switch (c.Range(0, 7)) {
      case 0:
      case 1:
        o.priority_levels = static_cast<uint64_t>(c.Range(1, 3));
        break;
      case 2:
        o.priority_levels = c.Bool() ? 64 : 65;
        break;
      case 3:
        o.priority_levels = c.RawU64();
        break;
      default:
        break;
    }
    bad |= o.priority_levels > 64;
    levels = std::max<uint64_t>(o.priority_levels, 1);
    switch (c.Range(0, 7)) {
      case 0:
        o.default_priority =
            static_cast<uint64_t>(c.Range(1, static_cast<int>(std::min<uint64_t>(levels, 64)) + 1));
        break;
      case 1:
        o.default_priority = c.RawU64();
        break;
      default:
        break;
    }
    bad |= o.default_priority > levels;
    switch (c.Range(0, 7)) {
      case 0:
        o.default_timeout_ns = static_cast<uint64_t>(c.Range(1, 20)) * 1000000;
        break;
      case 1:
        o.default_timeout_ns = c.RawU64();
        break;
      default:
        break;
    }
    bad |= o.default_timeout_ns > static_cast<uint64_t>(INT64_MAX / 2);
    deadline = o.default_timeout_ns != 0;
    switch (c.Range(0, 7)) {
      case 0:
        o.max_staging_bytes = static_cast<uint64_t>(c.Range(1, 64)) * 1024;
        break;
      case 1:
        o.max_staging_bytes = c.RawU64();
        break;
      default:
        break;
    }
    bad |= o.max_staging_bytes > static_cast<uint64_t>(INT64_MAX / 2);
    switch (c.Range(0, 11)) {
      case 0:  // {-1}: the reference executor's own "device" (no GPU's)
        o.devices = devices;
        o.num_devices = 1;
        bad |= m != nullptr && m->gpu;
        break;
      case 1:  // {0}, or {-1, 0}: devices for a model on the reference executor are refused
        o.devices = c.Bool() ? devices + 1 : devices;
        o.num_devices = o.devices == devices ? 2 : 1;
        bad |= m != nullptr && (!m->gpu || o.num_devices == 2);
        break;
      case 2:
        o.num_devices = c.Bool() ? 1 : c.RawU64();  // with NULL (0 of them: none given)
        bad |= o.num_devices != 0;
        break;
      default:
        break;
    }
    switch (c.Range(0, 15)) {
      case 0:
        o.instances_per_device = c.Bool() ? 64 : 65;
        break;
      case 1:
        o.instances_per_device = c.RawU64();
        break;
      case 2:
      case 3:
        o.instances_per_device = static_cast<uint64_t>(c.Range(1, 3));
        break;
      default:
        break;
    }
    bad |= o.instances_per_device > 64;
    if (c.Bool()) {
      o.callback = &ServeCallback;
      o.callback_user = state.get();
    }
    c.Log("opts={flags=0x%" PRIx32 ", max_batch_size=%" PRIu64 ", delay=%" PRIu64
          ", preferred=%s[%" PRIu64 "], queue=%" PRIu64 ", levels=%" PRIu64
          ", default_priority=%" PRIu64 ", default_timeout=%" PRIu64 ", staging=%" PRIu64
          ", devices=%s[%" PRIu64 "], instances=%" PRIu64 ", callback=%d}",
          o.flags, o.max_batch_size, o.max_queue_delay_ns,
          o.preferred_batch_sizes ? "&arr" : "NULL", o.num_preferred_batch_sizes, o.max_queue_size,
          o.priority_levels, o.default_priority, o.default_timeout_ns, o.max_staging_bytes,
          o.devices ? "&arr" : "NULL", o.num_devices, o.instances_per_device,
          o.callback != nullptr ? 1 : 0);
  } else {
    c.Log("opts=NULL");
  }
  const bool size_ok = !given || o.struct_size == sizeof o;
  const cudago_server_options_t snap = o;
  const cudago_status_t st = cudago_server_create(po, m ? m->h : nullptr, given ? &o : nullptr);
  c.Check(st);
  NnNotInternal(c, st);
  if (given) c.CheckIn(st, &o, snap);
  c.MustFail(st, m == nullptr, "model is NULL");
  c.MustFail(st, size_ok && bad, "an option is out of range or refused (see the header)");
  // An intact palette model on the reference executor with options surely valid: it starts.
  if (po != nullptr && m != nullptr && m->kind >= 0 && !m->gpu && size_ok && !bad &&
      st != CUDAGO_SUCCESS) {
    c.Fail("a server of the %s model with valid options failed to start", kNnKindNames[m->kind]);
  }
  if (!c.Created(st, po, out)) return;
  state->model = *m;
  state->callback = given && o.callback != nullptr;
  state->intact = m->kind >= 0;
  state->max_batch = mb;
  state->levels = levels;
  // Instances per device (a result's instance is its index on its device).
  state->instances = given && o.instances_per_device != 0 ? o.instances_per_device : m->gpu ? 2 : 1;
  state->default_deadline = deadline;
  c.servers.push_back({out, state});
  ServeStats(c, out, *state);
}

// Most often, an input without a server gets one before a call that takes one (a set-up call
// with options surely valid: the harness's callback half of the time), so that inputs reach
// requests, polls and shutdowns without having to find a create first.
void ServeEnsure(Ctx& c) {
  if (!c.servers.empty() || c.Range(0, 3) == 0) return;
  if (c.models.empty()) ServeLoadModel(c);
  const NnRec& m = c.models[c.p.ConsumeIntegralInRange<size_t>(0, c.models.size() - 1)];
  auto state = std::make_shared<ServeState>();
  cudago_server_options_t o;
  cudago_server_options_init(&o);
  o.flags = c.Bool() ? CUDAGO_SERVER_PRESERVE_ORDERING : 0u;
  o.max_queue_delay_ns = c.Bool() ? 0 : static_cast<uint64_t>(c.Range(1, 1000)) * 1000;
  o.priority_levels = static_cast<uint64_t>(c.Range(0, 2));
  o.instances_per_device = static_cast<uint64_t>(c.Range(0, 2));
  if (c.Bool()) {
    o.callback = &ServeCallback;
    o.callback_user = state.get();
  }
  c.Log("set-up: a server (delay %" PRIu64 ", levels %" PRIu64 ", instances %" PRIu64
        ", callback %d)",
        o.max_queue_delay_ns, o.priority_levels, o.instances_per_device,
        o.callback != nullptr ? 1 : 0);
  cudago_server_t h = nullptr;
  const cudago_status_t st =
      c.Aux("cudago_server_create", [&] { return cudago_server_create(&h, m.h, &o); });
  if (st != CUDAGO_SUCCESS) {
    if (m.kind >= 0 && !m.gpu) c.Fail("a server of an intact palette model failed to start");
    return;
  }
  state->model = m;
  state->callback = o.callback != nullptr;
  state->intact = m.kind >= 0;
  state->max_batch = m.max_batch;
  state->levels = std::max<uint64_t>(o.priority_levels, 1);
  state->instances = o.instances_per_device != 0 ? o.instances_per_device : m.gpu ? 2 : 1;
  c.servers.push_back({h, state});
}

OPFN(server_destroy) {
  const ServerRec r = c.Take(c.servers, "server");
  if (r.h != nullptr && !r.s->callback && c.Bool()) ServeDrain(c, r.h, *r.s);
  const cudago_status_t st = cudago_server_destroy(r.h);
  c.Check(st);
  if (st != CUDAGO_SUCCESS) c.Fail("destroying %s failed", r.h == nullptr ? "NULL" : "a server");
  if (r.h != nullptr && r.s->callback) ServeAllDelivered(c, *r.s);
}

OPFN(server_submit) {
  ServeEnsure(c);
  const int si = c.PickIndex(c.servers, "server");
  ServerRec* sr = si < 0 ? nullptr : &c.servers[static_cast<size_t>(si)];
  ServeState* s = sr ? sr->s.get() : nullptr;
  const NnRec* m = s ? &s->model : nullptr;
  const uint64_t mb = s ? s->max_batch : 1;
  uint64_t items;
  switch (c.Range(0, 9)) {
    case 0:
      items = 0;
      break;
    case 1:
      items = mb + 1;
      break;
    case 2:
      items = mb;
      break;
    case 3:
      items = c.Bool() ? c.RawU64() : static_cast<uint64_t>(c.Range(2, 64));
      break;
    default:
      items = static_cast<uint64_t>(c.Range(1, static_cast<int>(std::min<uint64_t>(mb, 4))));
  }
  c.Log("items=%" PRIu64, items);
  const bool dynamic = m != nullptr && m->dynamic;
  const uint64_t n = dynamic ? items : 1;  // the request's item count as the server sees it
  const bool items_ok = !dynamic || (items >= 1 && items <= mb);

  // Inputs: the model's, each field rarely wrong.
  const size_t real_in = m ? m->ins.size() : 1;
  uint64_t num_in;
  switch (c.Range(0, 15)) {
    case 0:
      num_in = real_in + 1;
      break;
    case 1:
      num_in = real_in - 1;
      break;
    case 2:
      num_in = c.RawU64();
      break;
    default:
      num_in = real_in;
  }
  bool in_null = c.Range(0, 23) == 0 || num_in > kNnMaxTensors;
  bool in_right = m != nullptr && num_in == real_in && !in_null && items_ok;
  bool in_bad = m != nullptr && (num_in != real_in || (in_null && num_in > 0));
  bool unknown = false;  // a PINNED tensor over a real host buffer (with a GPU only)
  const uint8_t seed = c.U8("seed");
  cudago_serve_tensor_t ins[kNnMaxTensors];
  std::unique_ptr<unsigned char[]> blocks[kNnMaxTensors];
  std::vector<std::string> saved;
  for (size_t i = 0; i < kNnMaxTensors; ++i) {
    cudago_serve_tensor_t& t = ins[i];
    cudago_serve_tensor_init(&t);
    if (m == nullptr || i >= real_in) continue;
    const NnDesc& d = m->ins[i];
    uint64_t want[8];
    std::memcpy(want, d.dims, sizeof want);
    if (d.batch_axis >= 0 && d.batch_axis < 8) want[d.batch_axis] = items;
    const uint64_t exact = d.BytesAt(n);
    t.dtype = static_cast<cudago_dtype_t>(d.dtype);
    t.rank = d.rank;
    std::memcpy(t.dims, want, sizeof want);
    t.bytes = exact;
    if (c.Range(0, 15) == 0) t.struct_size = c.StructSize(sizeof t, "inputs[i].struct_size");
    if (c.Range(0, 15) == 0) t.dtype = c.Enum<cudago_dtype_t>("inputs[i].dtype", 10);
    if (c.Range(0, 15) == 0) {
      const int k = c.Range(0, 3);
      t.rank = k == 0 ? d.rank + 1 : k == 1 ? d.rank - 1 : k == 2 ? 9 : c.RawU64();
      c.Log("inputs[%zu].rank=%" PRIu64, i, t.rank);
    }
    if (c.Range(0, 15) == 0) {
      const int k = c.Range(0, 7);
      t.dims[k] = c.Bool() ? t.dims[k] + 1 : c.RawU64();
      c.Log("inputs[%zu].dims[%d]=%" PRIu64, i, k, t.dims[k]);
    }
    if (c.Range(0, 15) == 0) {
      t.bytes = c.Bool() ? exact + 4 : c.RawU64();
      c.Log("inputs[%zu].bytes=%" PRIu64, i, t.bytes);
    }
    if (c.Range(0, 23) == 0) {
      t.memory = c.Enum<cudago_serve_memory_t>("inputs[i].memory", 3);
      if (t.memory == CUDAGO_SERVE_MEMORY_PINNED) t.pinned = c.Host("inputs[i].pinned");
    }
    const uint64_t block = t.bytes >= 1 && t.bytes <= kServeBlockLimit ? t.bytes : 64;
    blocks[i].reset(new unsigned char[block]);
    NnFillInput(blocks[i].get(), block, d.dtype, static_cast<uint8_t>(seed + i));
    const bool null = c.Range(0, 23) == 0;
    if (t.memory == CUDAGO_SERVE_MEMORY_HOST) t.host = null ? nullptr : blocks[i].get();
    bool dims_right = t.rank == d.rank;
    for (uint64_t k = 0; dims_right && k < d.rank && k < 8; ++k) dims_right = t.dims[k] == want[k];
    const bool stride_ok =
        t.struct_size == sizeof t && (i == 0 || t.struct_size == ins[0].struct_size);
    const bool right = stride_ok && t.dtype == d.dtype && dims_right && t.bytes == exact &&
                       t.memory == CUDAGO_SERVE_MEMORY_HOST && t.host != nullptr;
    const bool pinned_real = stride_ok && t.memory == CUDAGO_SERVE_MEMORY_PINNED &&
                             t.pinned != nullptr && t.dtype == d.dtype && dims_right &&
                             t.bytes == exact;
    if (!right && !pinned_real && i < num_in && !in_null) in_bad = true;
    if (pinned_real) unknown = true;
    if (!right) in_right = false;
    saved.emplace_back(reinterpret_cast<const char*>(blocks[i].get()),
                       static_cast<size_t>(std::min<uint64_t>(block, exact)));
  }
  // An item count out of range is refused (the batch dimension says it).
  if (m != nullptr && !items_ok) in_bad = true;
  c.Log("num_inputs=%" PRIu64 ", inputs=%s", num_in, in_null ? "NULL" : "&arr");

  // Outputs: none (staging) most often; destinations, each rarely wrong.
  const size_t real_out = m ? m->outs.size() : 1;
  cudago_serve_tensor_t outs[kNnMaxTensors];
  for (auto& t : outs) cudago_serve_tensor_init(&t);
  uint64_t num_out = 0;
  bool out_null = true, out_bad = false;
  switch (c.Range(0, 7)) {
    case 0:
    case 1: {
      switch (c.Range(0, 7)) {
        case 0:
          num_out = real_out + 1;
          break;
        case 1:
          num_out = c.RawU64();
          break;
        default:
          num_out = real_out;
      }
      out_null = c.Range(0, 15) == 0 || num_out > kNnMaxTensors;
      bool elems_ok = true;
      for (size_t j = 0; j < kNnMaxTensors; ++j) {
        cudago_serve_tensor_t& t = outs[j];
        if (c.Range(0, 15) == 0) t.struct_size = c.StructSize(sizeof t, "outputs[j].struct_size");
        if (c.Range(0, 15) == 0) t.host = c.host;  // a HOST destination: refused
        if (c.Range(0, 15) == 0) {
          t.memory = c.Enum<cudago_serve_memory_t>("outputs[j].memory", 3);
          if (t.memory == CUDAGO_SERVE_MEMORY_PINNED) t.pinned = c.Host("outputs[j].pinned");
        }
        const bool stride_ok =
            t.struct_size == sizeof t && (j == 0 || t.struct_size == outs[0].struct_size);
        const bool ok = stride_ok && t.memory == CUDAGO_SERVE_MEMORY_HOST && t.host == nullptr;
        if (j < num_out && !ok) {
          elems_ok = false;
          if (stride_ok && t.memory == CUDAGO_SERVE_MEMORY_PINNED && t.pinned != nullptr) {
            unknown = true;
          } else {
            out_bad = true;
          }
        }
      }
      out_bad |= m != nullptr && num_out != 0 && (num_out != real_out || out_null);
      if (!elems_ok) in_right = false;
      break;
    }
    case 2:
      num_out = c.Bool() ? 1 : c.RawU64();  // with NULL
      out_bad = num_out != 0;
      break;
    default:
      out_null = c.Bool();
      break;
  }
  if (num_out != 0 && (out_null || num_out != real_out)) in_right = false;
  c.Log("num_outputs=%" PRIu64 ", outputs=%s", num_out, out_null ? "NULL" : "&arr");

  // Options: a callback server's results are matched by tag (NULL options give tag 0: once).
  cudago_serve_request_options_t ro;
  cudago_serve_request_options_init(&ro);
  uint64_t key = 0;
  bool ro_given = true;
  if (s != nullptr && s->callback) {
    std::lock_guard<std::mutex> lock(s->mu);
    ro_given = s->by_key.count(0) != 0 || c.Range(0, 7) != 0;
    key = ro_given ? s->next_tag++ : 0;
  } else {
    ro_given = c.Range(0, 7) != 0;
  }
  bool ro_bad = false, deadline = s != nullptr && s->default_deadline;
  if (ro_given) {
    if (c.Range(0, 15) == 0) ro.struct_size = c.StructSize(sizeof ro, "opts.struct_size");
    ro.tag = s != nullptr && s->callback ? key : c.RawU64();
    switch (c.Range(0, 11)) {
      case 0:
        ro.priority = s ? s->levels + 1 : 2;
        break;
      case 1:
        ro.priority = c.RawU64();
        break;
      case 2:
      case 3:
        ro.priority = static_cast<uint64_t>(
            c.Range(1, static_cast<int>(std::min<uint64_t>(s ? s->levels : 1, 64))));
        break;
      default:
        break;
    }
    switch (c.Range(0, 11)) {
      case 0:
        ro.timeout_ns = static_cast<uint64_t>(c.Range(1, 20)) * 1000000;
        break;
      case 1:
        ro.timeout_ns =
            c.Bool() ? static_cast<uint64_t>(INT64_MAX) : static_cast<uint64_t>(INT64_MAX) + 1;
        break;
      case 2:
        ro.timeout_ns = c.RawU64();
        break;
      default:
        break;
    }
    deadline |= ro.timeout_ns != 0;
    ro_bad = ro.struct_size != sizeof ro || (s != nullptr && ro.priority > s->levels) ||
             ro.timeout_ns > static_cast<uint64_t>(INT64_MAX);
    c.Log("opts={struct_size=%" PRIu32 ", tag=%" PRIu64 ", priority=%" PRIu64 ", timeout=%" PRIu64
          "}",
          ro.struct_size, ro.tag, ro.priority, ro.timeout_ns);
  } else {
    c.Log("opts=NULL");
  }
  uint64_t id = 0x5eed;
  uint64_t* pid = c.Out(id, "id");

  // The expectation, before the call (a callback may come before submit returns).
  ServeExpect e;
  e.items = n;
  e.deadline = deadline;
  e.values = in_right && m->values && !m->gpu;
  if (e.values) e.inputs = saved;
  if (m != nullptr) {
    for (const NnDesc& d : m->outs) e.out_bytes.push_back(d.BytesAt(n));
  }
  if (s != nullptr && s->callback) {
    std::lock_guard<std::mutex> lock(s->mu);
    s->by_key[key] = e;
  }
  const cudago_serve_request_options_t snap = ro;
  const cudago_status_t st =
      cudago_server_submit(sr ? sr->h : nullptr, in_null ? nullptr : ins, num_in,
                           out_null ? nullptr : outs, num_out, ro_given ? &ro : nullptr, pid);
  c.Check(st);
  NnNotInternal(c, st);
  if (ro_given) c.CheckIn(st, &ro, snap);
  c.MustFail(st, sr == nullptr, "server is NULL");
  c.MustFail(st, pid == nullptr, "id is NULL");
  c.MustFail(st, in_bad, "an input, its count or array is not the model's");
  c.MustFail(st, out_bad, "an output destination, its count or array is wrong");
  c.MustFail(st, ro_bad, "the request options are out of range");
  const bool sure = s != nullptr && pid != nullptr && in_right && !unknown && !ro_bad;
  if (sure && s->shut && st != CUDAGO_ERROR_UNAVAILABLE) {
    c.Fail("a valid request to a server shut down gave %d, not UNAVAILABLE", st);
  }
  if (sure && !s->shut && st != CUDAGO_SUCCESS && st != CUDAGO_ERROR_QUEUE_FULL && s->intact) {
    c.Fail("a valid request gave %d", st);
  }
  if (st != CUDAGO_SUCCESS) {
    if (id != 0x5eed) c.Fail("failed (%d) but wrote the id %" PRIu64, st, id);
    if (s != nullptr && s->callback) {
      std::lock_guard<std::mutex> lock(s->mu);
      if (s->by_key[key].results != 0) c.Fail("a refused request's result was delivered");
      s->by_key.erase(key);
    }
    return;
  }
  if (s == nullptr || pid == nullptr) return;  // (refused above)
  std::lock_guard<std::mutex> lock(s->mu);
  if (id == 0x5eed || id == 0 || s->key_of_id.count(id) != 0) {
    c.Fail("accepted with id %" PRIu64 ", which is no new id", id);
  }
  s->accepted++;
  if (s->callback) {
    ServeExpect& got = s->by_key[key];
    got.id = id;
    if (got.results != 0 && got.result_id != id) {  // delivered before submit returned
      c.Fail("the result of tag %" PRIu64 " had id %" PRIu64 ", submit returned %" PRIu64, key,
             got.result_id, id);
    }
    s->key_of_id[id] = key;
  } else {
    e.id = id;
    s->by_key[id] = e;
    s->key_of_id[id] = id;
  }
}

OPFN(server_cancel) {
  ServeEnsure(c);
  const int si = c.PickIndex(c.servers, "server");
  ServerRec* sr = si < 0 ? nullptr : &c.servers[static_cast<size_t>(si)];
  ServeState* s = sr ? sr->s.get() : nullptr;
  uint64_t id = 0;
  {
    std::vector<uint64_t> ids;
    if (s != nullptr) {
      std::lock_guard<std::mutex> lock(s->mu);
      for (const auto& kv : s->key_of_id) ids.push_back(kv.first);
    }
    switch (c.Range(0, 7)) {
      case 0:
        id = c.RawU64();
        break;
      case 1:
        id = ids.empty()
                 ? 0
                 : ids[c.p.ConsumeIntegralInRange<size_t>(0, ids.size() - 1)] + (uint64_t{1} << 32);
        break;
      default:
        id = ids.empty() ? 0 : ids[c.p.ConsumeIntegralInRange<size_t>(0, ids.size() - 1)];
    }
  }
  c.Log("id=%" PRIu64, id);
  int32_t cancelled = 7;
  int32_t* pc = c.Out(cancelled, "cancelled");
  const cudago_status_t st = cudago_server_cancel(sr ? sr->h : nullptr, id, pc);
  c.Check(st);
  NnNotInternal(c, st);
  c.MustFail(st, sr == nullptr, "server is NULL");
  c.MustFail(st, pc == nullptr, "cancelled is NULL");
  if (s == nullptr || pc == nullptr) return;
  if (st != CUDAGO_SUCCESS) c.Fail("failed with a live server");
  if (cancelled != 0 && cancelled != 1) c.Fail("*cancelled = %d", cancelled);
  std::lock_guard<std::mutex> lock(s->mu);
  auto it = s->key_of_id.find(id);
  if (it == s->key_of_id.end()) {
    if (cancelled != 0) c.Fail("cancelled an id the server never gave");
    return;
  }
  if (cancelled == 1) {
    if (s->shut) c.Fail("cancelled a request after the shutdown returned");
    ServeExpect& e = s->by_key[it->second];
    if (e.cancelled) c.Fail("cancelled the same request twice");
    e.cancelled = true;
    if (e.results != 0 && e.status != CUDAGO_ERROR_CANCELLED) {
      c.Fail("cancelled a request whose result (%d) was delivered", e.status);
    }
  }
}

OPFN(server_poll) {
  ServeEnsure(c);
  const int si = c.PickIndex(c.servers, "server");
  ServerRec* sr = si < 0 ? nullptr : &c.servers[static_cast<size_t>(si)];
  ServeState* s = sr ? sr->s.get() : nullptr;
  // Releases: results polled earlier, sometimes with an id that is not one, or twice.
  std::vector<uint64_t> rel;
  bool rel_bad = false;
  {
    std::vector<uint64_t> polled;
    if (s != nullptr) {
      std::lock_guard<std::mutex> lock(s->mu);
      polled.assign(s->polled.begin(), s->polled.end());
    }
    const int k =
        polled.empty() ? 0 : c.Range(0, static_cast<int>(std::min<size_t>(polled.size(), 4)));
    for (int i = 0; i < k; ++i) {
      const size_t at = c.p.ConsumeIntegralInRange<size_t>(0, polled.size() - 1);
      rel.push_back(polled[at]);
      polled.erase(polled.begin() + static_cast<std::ptrdiff_t>(at));
    }
    if (c.Range(0, 15) == 0) rel.push_back(c.RawU64());
    if (!rel.empty() && c.Range(0, 15) == 0) rel.push_back(rel[0]);
    // Refused: an id that is no result polled and unreleased, or one listed twice.
    std::set<uint64_t> seen;
    for (uint64_t idv : rel) {
      bool known = false;
      if (s != nullptr) {
        std::lock_guard<std::mutex> lock(s->mu);
        known = s->polled.count(idv) != 0;
      }
      if (!known || !seen.insert(idv).second) rel_bad = true;
    }
  }
  uint64_t num_rel = rel.size();
  const bool rel_null = c.Range(0, 23) == 0;
  if (rel_null) {
    num_rel = c.Bool() ? num_rel : c.RawU64();
    rel_bad = num_rel > 0;
    rel.clear();
  }
  c.Log("release=%s[%" PRIu64 "]", rel_null ? "NULL" : "&arr", num_rel);
  // Results: an array of cap elements whose stride is element 0's struct_size (storage for that
  // stride: exactly what the library may write, so ASan sees any write past it).
  uint64_t cap = static_cast<uint64_t>(c.Range(0, static_cast<int>(kServePollCap)));
  const bool res_null = c.Range(0, 23) == 0;
  if (res_null && c.Bool()) cap = c.RawU64();
  uint32_t stride = c.StructSize(sizeof(cudago_serve_result_t), "results.struct_size");
  if (stride == UINT32_MAX && cap > 1) stride = sizeof(cudago_serve_result_t) + 8;
  const size_t elem = sizeof(cudago_serve_result_t);
  std::unique_ptr<unsigned char[]> block;
  size_t block_size = 0;
  bool res_bad = cap > 0 && (res_null || stride < elem || (stride > elem && stride % 8 != 0));
  if (!res_null && cap > 0) {
    block_size =
        static_cast<size_t>(stride) * static_cast<size_t>(cap - 1) + std::max<size_t>(elem, 4);
    block.reset(new unsigned char[block_size]);
    std::memset(block.get(), kCanary, block_size);
    for (uint64_t i = 0; i < cap; ++i) {
      uint32_t v = stride;
      if (i > 0 && c.Range(0, 23) == 0) {
        v = stride + 8;
        res_bad = true;
      }
      std::memcpy(block.get() + static_cast<size_t>(stride) * i, &v, 4);
    }
  }
  std::unique_ptr<unsigned char[]> before;
  if (block) {
    before.reset(new unsigned char[block_size]);
    std::memcpy(before.get(), block.get(), block_size);
  }
  uint64_t timeout = 0;
  switch (c.Range(0, 15)) {
    case 0:
      timeout = 1000000;
      break;
    case 1:
    case 2:
      // No limit (or more than the clock holds) only where nothing can block: shut down.
      if (s != nullptr && s->shut) {
        const uint64_t kLong[] = {UINT64_MAX, UINT64_MAX - 1, static_cast<uint64_t>(INT64_MAX),
                                  uint64_t{1} << 63};
        timeout = kLong[c.Range(0, 3)];
      }
      break;
    default:
      break;
  }
  c.Log("cap=%" PRIu64 ", results=%s, stride=%" PRIu32 ", timeout=%" PRIu64, cap,
        res_null ? "NULL" : "&arr", stride, timeout);
  uint64_t len = 0x5eed;
  uint64_t* pl = c.Out(len, "len");
  const cudago_status_t st = cudago_server_poll(
      sr ? sr->h : nullptr, rel_null ? nullptr : rel.data(), num_rel, timeout,
      res_null ? nullptr : reinterpret_cast<cudago_serve_result_t*>(block.get()), cap, pl);
  c.Check(st);
  NnNotInternal(c, st);
  c.MustFail(st, sr == nullptr, "server is NULL");
  c.MustFail(st, pl == nullptr, "len is NULL");
  c.MustFail(st, rel_bad, "release lists an id not polled, or one twice, or is NULL");
  c.MustFail(st, res_bad, "results is NULL, or an element's struct_size is wrong");
  if (s == nullptr || pl == nullptr || rel_bad || res_bad) {
    if (block && st != CUDAGO_SUCCESS && std::memcmp(block.get(), before.get(), block_size) != 0) {
      c.Fail("failed (%d) but wrote into results", st);
    }
    return;
  }
  if (s->callback) {
    if (st != CUDAGO_ERROR_NOT_SUPPORTED) c.Fail("a callback server's poll gave %d", st);
    return;
  }
  uint64_t polled_total = 0;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    polled_total = s->delivered;
    // Releases are applied before the wait: on SUCCESS and on UNAVAILABLE.
    if (st == CUDAGO_SUCCESS || st == CUDAGO_ERROR_UNAVAILABLE) {
      for (uint64_t idv : rel) {
        s->polled.erase(idv);
        s->by_key[idv].released = true;
      }
    }
  }
  const bool all_polled = polled_total == s->accepted;
  if (st == CUDAGO_ERROR_UNAVAILABLE) {
    if (!(s->shut && cap > 0 && all_polled)) {
      c.Fail("UNAVAILABLE (shut down %d, cap %" PRIu64 ", %" PRIu64 " of %" PRIu64 " polled)",
             s->shut ? 1 : 0, cap, polled_total, s->accepted);
    }
    return;
  }
  if (st != CUDAGO_SUCCESS) c.Fail("failed with valid arguments");
  if (len > cap) c.Fail("*len = %" PRIu64 " > cap %" PRIu64, len, cap);
  if (s->shut && cap > 0 && all_polled) c.Fail("SUCCESS after every result was polled (shut down)");
  if (s->shut && cap > 0 && len == 0)
    c.Fail("no result, %" PRIu64 " of %" PRIu64 " polled (shut down)", polled_total, s->accepted);
  for (uint64_t i = 0; i < cap && block; ++i) {
    unsigned char* p = block.get() + static_cast<size_t>(stride) * i;
    const size_t extent = std::min<size_t>(elem, block_size - static_cast<size_t>(stride) * i);
    uint32_t v;
    std::memcpy(&v, p, 4);
    if (v != stride) c.Fail("results[%" PRIu64 "]->struct_size changed to %" PRIu32, i, v);
    if (i >= len) {
      if (std::memcmp(p, before.get() + static_cast<size_t>(stride) * i, extent) != 0) {
        c.Fail("wrote results[%" PRIu64 "], past *len = %" PRIu64, i, len);
      }
      continue;
    }
    cudago_serve_result_t r;
    std::memcpy(&r, p, elem);
    ServePolled(c, *s, r);
  }
}

OPFN(server_shutdown) {
  ServeEnsure(c);
  const int si = c.PickIndex(c.servers, "server");
  ServerRec* sr = si < 0 ? nullptr : &c.servers[static_cast<size_t>(si)];
  const uint32_t flags = c.Flags("flags", CUDAGO_SERVER_CANCEL_QUEUED);
  const cudago_status_t st = cudago_server_shutdown(sr ? sr->h : nullptr, flags);
  c.Check(st);
  NnNotInternal(c, st);
  c.MustFail(st, sr == nullptr, "server is NULL");
  c.MustFail(st, (flags & ~CUDAGO_SERVER_CANCEL_QUEUED) != 0, "flags has unknown bits");
  if (sr == nullptr || (flags & ~CUDAGO_SERVER_CANCEL_QUEUED) != 0) return;
  if (st != CUDAGO_SUCCESS) c.Fail("failed with a live server");
  {
    std::lock_guard<std::mutex> lock(sr->s->mu);
    sr->s->shut = true;
  }
  if (sr->s->callback) ServeAllDelivered(c, *sr->s);
  ServeStats(c, sr->h, *sr->s);
}

OPFN(server_stats) {
  ServeEnsure(c);
  const int si = c.PickIndex(c.servers, "server");
  ServerRec* sr = si < 0 ? nullptr : &c.servers[static_cast<size_t>(si)];
  cudago_server_stats_t out;
  cudago_server_stats_init(&out);
  out.struct_size = c.StructSize(sizeof out, "out.struct_size");
  cudago_server_stats_t* po = c.Out(out, "out");
  const cudago_server_stats_t snap = out;
  const cudago_status_t st = cudago_server_stats(sr ? sr->h : nullptr, po);
  c.Check(st);
  NnNotInternal(c, st);
  c.MustFail(st, sr == nullptr, "server is NULL");
  c.MustFail(st, po == nullptr, "out is NULL");
  c.CheckOutStruct(st, po, snap);
  if (sr == nullptr || po == nullptr || snap.struct_size != sizeof out) return;
  if (st != CUDAGO_SUCCESS) c.Fail("failed with a live server and a valid struct");
  ServeStats(c, sr->h, *sr->s);
}

OPFN(server_batch_histogram) {
  ServeEnsure(c);
  const int si = c.PickIndex(c.servers, "server");
  ServerRec* sr = si < 0 ? nullptr : &c.servers[static_cast<size_t>(si)];
  uint64_t cap = static_cast<uint64_t>(c.Range(0, 16));
  const bool null = c.Range(0, 15) == 0;
  if (null && c.Bool()) cap = c.RawU64();
  std::unique_ptr<uint64_t[]> hist;
  if (!null && cap > 0) {
    hist.reset(new uint64_t[cap]);
    for (uint64_t i = 0; i < cap; ++i) hist[i] = 0xa5a5a5a5a5a5a5a5ull;
  }
  c.Log("hist=%s, cap=%" PRIu64, null ? "NULL" : "&arr", cap);
  uint64_t len = 0x5eed;
  uint64_t* pl = c.Out(len, "len");
  const cudago_status_t st =
      cudago_server_batch_histogram(sr ? sr->h : nullptr, null ? nullptr : hist.get(), cap, pl);
  c.Check(st);
  NnNotInternal(c, st);
  c.MustFail(st, sr == nullptr, "server is NULL");
  c.MustFail(st, pl == nullptr, "len is NULL");
  c.MustFail(st, null && cap > 0, "hist is NULL with cap > 0");
  if (sr == nullptr || pl == nullptr || (null && cap > 0)) return;
  if (st != CUDAGO_SUCCESS) c.Fail("failed with valid arguments");
  if (len != sr->s->max_batch + 1) {
    c.Fail("*len = %" PRIu64 " for a max batch of %" PRIu64, len, sr->s->max_batch);
  }
  for (uint64_t i = len; i < cap; ++i) {
    if (hist[i] != 0xa5a5a5a5a5a5a5a5ull) c.Fail("wrote hist[%" PRIu64 "], past *len", i);
  }
  if (sr->s->shut && cap >= len) {  // quiescent: the histogram agrees with the stats
    const cudago_server_stats_t stt = ServeStats(c, sr->h, *sr->s);
    uint64_t items = 0, batches = 0;
    for (uint64_t b = 0; b < len; ++b) {
      items += hist[b] * b;
      batches += hist[b];
    }
    if (items != stt.inferences || batches != stt.batches) {
      c.Fail("the histogram has %" PRIu64 " batches of %" PRIu64 " items; the stats %" PRIu64
             " of %" PRIu64,
             batches, items, stt.batches, stt.inferences);
    }
  }
}

// ---- the table: one row per CUDAGO_API function of capi/cudago.h ----

struct Op {
  const char* name;
  void (*fn)(Ctx&);
};

#define OP(name) \
  { "cudago_" #name, Op_##name }
// Metrics: the exposition (count-then-fill, written only when it fits), the GPU sampler's
// interval and its status. Without a driver, NVML is unavailable: never a crash or a hang.
OPFN(metrics_render) {
  const uint32_t flags = c.Flags("flags", CUDAGO_METRICS_TRITON_NAMES);
  uint64_t cap = static_cast<uint64_t>(c.Range(0, 3)) << c.Range(0, 20);
  const bool null = c.Range(0, 15) == 0;
  if (null && c.Bool()) cap = c.RawU64();
  std::unique_ptr<char[]> buf;
  if (!null && cap > 0) {
    buf.reset(new char[cap]);
    std::memset(buf.get(), 0x5a, cap);
  }
  c.Log("flags=%u, buf=%s, cap=%" PRIu64, flags, null ? "NULL" : "&arr", cap);
  uint64_t len = 0x5eed;
  uint64_t* pl = c.Out(len, "len");
  const cudago_status_t st = cudago_metrics_render(flags, null ? nullptr : buf.get(), cap, pl);
  c.Check(st);
  c.MustFail(st, pl == nullptr, "len is NULL");
  c.MustFail(st, (flags & ~CUDAGO_METRICS_TRITON_NAMES) != 0, "unknown flags");
  c.MustFail(st, null && cap > 0, "buf is NULL with cap > 0");
  if (pl == nullptr || (flags & ~CUDAGO_METRICS_TRITON_NAMES) != 0 || (null && cap > 0)) return;
  if (st != CUDAGO_SUCCESS) c.Fail("failed with valid arguments");
  if (buf && cap > len) {
    if (buf[len] != '\0') c.Fail("no NUL after the %" PRIu64 " bytes", len);
    for (uint64_t i = len + 1; i < cap; ++i) {
      if (buf[i] != 0x5a) c.Fail("wrote buf[%" PRIu64 "], past the NUL", i);
    }
    if (std::strlen(buf.get()) != len) c.Fail("a NUL inside the exposition");
  } else if (buf) {
    for (uint64_t i = 0; i < cap; ++i) {
      if (buf[i] != 0x5a) c.Fail("wrote into a buffer too small for the exposition");
    }
  }
}

OPFN(metrics_set_gpu_interval) {
  uint64_t ns = 0;
  switch (c.Range(0, 3)) {
    case 0:
      ns = 0;
      break;
    case 1:
      ns = 1000000000;
      break;
    case 2:
      ns = static_cast<uint64_t>(c.Range(0, 20)) * 1000000ull;
      break;
    default:
      ns = c.RawU64();
  }
  c.Log("interval_ns=%" PRIu64, ns);
  const cudago_status_t st = cudago_metrics_set_gpu_interval(ns);
  c.Check(st);
  const bool ok = ns == 0 || (ns >= 10000000ull && ns <= 3600000000000ull);
  c.MustFail(st, !ok, "interval out of range");
  if (ok && st != CUDAGO_SUCCESS) c.Fail("failed with a valid interval");
}

OPFN(metrics_gpu_status) {
  int32_t avail = 7;
  int32_t* pa = c.Out(avail, "available");
  uint64_t cap = static_cast<uint64_t>(c.Range(0, 300));
  const bool null = c.Range(0, 15) == 0;
  if (null && c.Bool()) cap = c.RawU64();
  std::unique_ptr<char[]> buf;
  if (!null && cap > 0) {
    buf.reset(new char[cap]);
    std::memset(buf.get(), 0x5a, cap);
  }
  uint64_t len = 0x5eed;
  uint64_t* pl = c.Out(len, "len");
  const cudago_status_t st = cudago_metrics_gpu_status(pa, null ? nullptr : buf.get(), cap, pl);
  c.Check(st);
  c.MustFail(st, pa == nullptr, "available is NULL");
  c.MustFail(st, null && cap > 0, "buf is NULL with cap > 0");
  if (st != CUDAGO_SUCCESS) return;
  if (avail != 0 && avail != 1) c.Fail("*available = %d", avail);
  if (buf && cap > 0) {
    bool nul = false;
    for (uint64_t i = 0; i < cap; ++i) {
      if (buf[i] == '\0') {
        nul = true;
        break;
      }
    }
    if (!nul) c.Fail("the reason is not NUL-terminated within cap");
  }
}

#undef OPFN

const Op kOps[] = {
    OP(status_string),
    OP(error_last),
    OP(version_number),
    OP(version_string),
    OP(driver_version),
    OP(runtime_version),
    OP(device_count),
    OP(no_device_reason),
    OP(device_properties),
    OP(device_memory_info),
    OP(stream_create),
    OP(stream_destroy),
    OP(stream_synchronize),
    OP(stream_query),
    OP(stream_wait_event),
    OP(stream_device),
    OP(stream_priority),
    OP(stream_native),
    OP(event_create),
    OP(event_destroy),
    OP(event_record),
    OP(event_synchronize),
    OP(event_query),
    OP(event_elapsed_ms),
    OP(pool_configure),
    OP(pool_stats),
    OP(pool_trim),
    OP(pool_reset_high_water),
    OP(buffer_alloc),
    OP(buffer_alloc_async),
    OP(buffer_free),
    OP(buffer_size),
    OP(buffer_device),
    OP(buffer_device_pointer),
    OP(host_buffer_alloc),
    OP(host_buffer_free),
    OP(host_buffer_size),
    OP(host_buffer_device),
    OP(host_buffer_host_pointer),
    OP(host_buffer_device_pointer),
    OP(buffer_from_mapped),
    OP(copy_h2d),
    OP(copy_d2h),
    OP(copy_d2d),
    OP(memset),
    OP(copy_h2d_async),
    OP(copy_d2h_async),
    OP(copy_d2d_async),
    OP(memset_async),
    OP(dtype_size),
    OP(elementwise_binary),
    OP(elementwise_axpy),
    OP(elementwise_scale),
    OP(elementwise_fill),
    OP(elementwise_cast),
    OP(reduce_all),
    OP(reduce_rows),
    OP(layout_transpose_2d),
    OP(layout_nhwc_to_nchw),
    OP(layout_nchw_to_nhwc),
    OP(blas_gemm),
    OP(blas_set_graph_replay),
    OP(blas_cache_clear),
    OP(blas_gemv),
    OP(blas_axpy),
    OP(blas_scal),
    OP(blas_dot),
    OP(blas_nrm2),
    OP(fft_exec),
    OP(fft_extent),
    OP(fft_cache_stats),
    OP(fft_cache_set_limits),
    OP(fft_cache_clear),
    OP(device_can_access_peer),
    OP(device_enable_peer_access),
    OP(device_disable_peer_access),
    OP(nccl_version),
    OP(comm_init_all),
    OP(comm_unique_id),
    OP(comm_init_rank),
    OP(comm_destroy),
    OP(comm_device),
    OP(comm_rank),
    OP(comm_size),
    OP(comm_wait),
    OP(comm_all_reduce),
    OP(comm_broadcast),
    OP(comm_reduce),
    OP(comm_all_gather),
    OP(comm_reduce_scatter),
    OP(comm_group_start),
    OP(comm_group_end),
    OP(module_compile),
    OP(rtc_compile),
    OP(module_destroy),
    OP(module_log),
    OP(module_device),
    OP(module_kernel),
    OP(kernel_destroy),
    OP(kernel_attributes),
    OP(kernel_occupancy),
    OP(kernel_launch),
    OP(rtc_cache_set_dir),
    OP(rtc_cache_set_capacity),
    OP(rtc_cache_stats),
    OP(rtc_cache_clear),
    OP(stream_begin_capture),
    OP(stream_end_capture),
    OP(stream_is_capturing),
    OP(graph_launch),
    OP(graph_upload),
    OP(graph_update),
    OP(graph_node_count),
    OP(graph_device),
    OP(graph_destroy),
    // the CNN runtime (CUDAGO_EXPERIMENTAL)
    OP(nn_model_load),
    OP(nn_model_load_bytes),
    OP(nn_model_destroy),
    OP(nn_model_info),
    OP(nn_model_input),
    OP(nn_model_output),
    OP(nn_model_run_host),
    OP(nn_model_run),
    OP(nn_model_prepare),
    // the CNN runtime's server (CUDAGO_EXPERIMENTAL)
    OP(server_create),
    OP(server_destroy),
    OP(server_submit),
    OP(server_cancel),
    OP(server_poll),
    OP(server_shutdown),
    OP(server_stats),
    OP(server_batch_histogram),
    OP(metrics_render),
    OP(metrics_set_gpu_interval),
    OP(metrics_gpu_status),
};
#undef OP
constexpr size_t kNumOps = sizeof kOps / sizeof kOps[0];
static_assert(kNumOps == 135,
              "one row per CUDAGO_API function of capi/cudago.h (CUDAGO_EXPERIMENTAL included)");
static_assert(kNumOps < kNumOpSlots, "a feedback slot per entry point, and one for the harness");

// Process-wide settings back to their defaults, so that inputs do not depend on each other.
// The input picks the compile cache's starting state: the disk directory or none, and a memory
// capacity of 256 (the default) or, an input in four, 0 or 1 with the disk directory, so that
// compiles reach the disk cache's writer and reader (a memory miss that finds the file) without a
// long sequence of calls, and without running NVRTC again for every compile.
void ResetProcessSettings(Ctx& c) {
  bool disk = c.p.ConsumeBool();
  uint64_t capacity = 256;
  switch (c.Range(0, 7)) {
    case 1:
      capacity = 0;
      disk = true;
      break;
    case 2:
      capacity = 1;
      disk = true;
      break;
    default:
      break;
  }
  disk = disk && !g_cache_dir.empty();
  c.Begin(-1, "cudago_rtc_cache_set_dir");
  c.Log("dir=%s", disk ? g_cache_dir.c_str() : "NULL");
  c.Check(cudago_rtc_cache_set_dir(disk ? g_cache_dir.c_str() : nullptr));
  c.Begin(-1, "cudago_rtc_cache_set_capacity");
  g_rtc_capacity = capacity;
  c.Check(cudago_rtc_cache_set_capacity(g_rtc_capacity));
  c.Begin(-1, "cudago_fft_cache_set_limits");
  g_fft_max_entries = 64;
  g_fft_max_bytes = uint64_t{4} << 30;
  c.Check(cudago_fft_cache_set_limits(g_fft_max_entries, g_fft_max_bytes));
  c.Begin(-1, "cudago_blas_set_graph_replay");
  c.Check(cudago_blas_set_graph_replay(0, 0));
}

// Releases everything the input still holds, each call checked like the others.
void Cleanup(Ctx& c) {
  while (c.group_depth > 0) {
    c.Begin(-1, "cudago_comm_group_end");
    c.args = "cleanup";
    const cudago_status_t st = cudago_comm_group_end();
    c.Check(st);
    if (st != CUDAGO_SUCCESS) break;
    --c.group_depth;
  }
  auto release = [&c](auto& v, const char* name, auto destroy) {
    while (!v.empty()) {
      const auto h = v.back();
      v.pop_back();
      c.Begin(-1, name);
      c.Log("cleanup %p", Raw(h));
      c.Check(destroy(h));
    }
  };
  // Servers first (they may hold host buffers of requests); a callback server's results are all
  // delivered once it is gone.
  while (!c.servers.empty()) {
    const ServerRec r = c.servers.back();
    c.servers.pop_back();
    c.Begin(-1, "cudago_server_destroy");
    c.Log("cleanup %p", Raw(r));
    c.Check(cudago_server_destroy(r.h));
    if (r.s->callback) ServeAllDelivered(c, *r.s);
  }
  release(c.models, "cudago_nn_model_destroy",
          [](const NnRec& r) { return cudago_nn_model_destroy(r.h); });
  release(c.graphs, "cudago_graph_destroy",
          [](cudago_graph_t h) { return cudago_graph_destroy(h); });
  release(c.kernels, "cudago_kernel_destroy",
          [](cudago_kernel_t h) { return cudago_kernel_destroy(h); });
  release(c.modules, "cudago_module_destroy",
          [](cudago_module_t h) { return cudago_module_destroy(h); });
  release(c.comms, "cudago_comm_destroy",
          [](const CommRec& r) { return cudago_comm_destroy(r.h); });
  release(c.events, "cudago_event_destroy",
          [](cudago_event_t h) { return cudago_event_destroy(h); });
  release(c.buffers, "cudago_buffer_free",
          [](const BufferRec& r) { return cudago_buffer_free(r.h); });
  release(c.hosts, "cudago_host_buffer_free",
          [](const HostRec& r) { return cudago_host_buffer_free(r.h); });
  release(c.streams, "cudago_stream_destroy",
          [](cudago_stream_t h) { return cudago_stream_destroy(h); });
}

}  // namespace

// NCCL 2.28's ncclGroupEndInternal leaks one ncclGroupJob (160 bytes) per group start/end pair
// (a direct leak inside libnccl, reached by cudago_comm_group_end without a GPU); not cudago's
// to fix, so LeakSanitizer is told to ignore that one stack and keeps checking everything else.
extern "C" const char* __lsan_default_suppressions() { return "leak:ncclGroupEndInternal\n"; }

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  char templ[] = "/tmp/capi_fuzz_rtc_cache.XXXXXX";
  if (::mkdtemp(templ) != nullptr) g_cache_dir = templ;
  int32_t n = 0;
  if (cudago_device_count(&n) == CUDAGO_SUCCESS) g_device_count = n;
  std::atexit([] {
    size_t called = 0, succeeded = 0;
    unsigned long long successes = 0;
    for (size_t i = 0; i < kNumOps; ++i) {
      called += g_reached.op_calls[i] != 0;
      succeeded += g_reached.op_successes[i] != 0;
      successes += g_reached.op_successes[i];
    }
    std::fprintf(stderr,
                 "capi_fuzz: %llu inputs, %llu calls, %llu returned CUDAGO_SUCCESS; %zu of %zu "
                 "entry points called, %zu of them succeeded at least once\n",
                 g_reached.inputs, g_reached.calls, successes, called, kNumOps, succeeded);
    std::string never;
    for (size_t i = 0; i < kNumOps; ++i) {
      if (g_reached.op_calls[i] == 0)
        never += std::string(never.empty() ? "" : ", ") + kOps[i].name;
    }
    if (!never.empty()) std::fprintf(stderr, "capi_fuzz: never called: %s\n", never.c_str());
    std::string nn;
    for (size_t i = 0; i < kNumOps; ++i) {
      if (std::strncmp(kOps[i].name, "cudago_nn_", 10) != 0) continue;
      nn += (nn.empty() ? "" : ", ") + std::string(kOps[i].name + 10) + " " +
            std::to_string(g_reached.op_successes[i]) + "/" + std::to_string(g_reached.op_calls[i]);
    }
    std::fprintf(stderr, "capi_fuzz: CNN runtime (successes/calls): %s\n", nn.c_str());
    std::string sv;
    for (size_t i = 0; i < kNumOps; ++i) {
      if (std::strncmp(kOps[i].name, "cudago_server_", 14) != 0) continue;
      sv += (sv.empty() ? "" : ", ") + std::string(kOps[i].name + 14) + " " +
            std::to_string(g_reached.op_successes[i]) + "/" + std::to_string(g_reached.op_calls[i]);
    }
    std::fprintf(stderr, "capi_fuzz: servers (successes/calls): %s\n", sv.c_str());
    if (!g_cache_dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(g_cache_dir, ec);
    }
    if (!g_nn_root.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(g_nn_root, ec);
    }
  });
  NnSetUp();
  const char* trace = std::getenv("CAPI_FUZZ_TRACE");
  g_trace = trace != nullptr && trace[0] != '\0' && trace[0] != '0';
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider provider(data, size);
  auto c = std::make_unique<Ctx>(provider);
  ++g_reached.inputs;
  std::memset(c->host, 0, sizeof c->host);
  std::memset(c->arg_bytes, 0, sizeof c->arg_bytes);
  ResetProcessSettings(*c);
  for (int step = 0; step < kStepsPerInput && provider.remaining_bytes() > 0; ++step) {
    const size_t index = provider.ConsumeIntegralInRange<size_t>(0, kNumOps - 1);
    const Op& op = kOps[index];
    c->Begin(step, op.name, index);
    ++g_reached.calls;
    ++g_reached.op_calls[index];
    op.fn(*c);
  }
  Cleanup(*c);
  return 0;
}
