// NCCL through the C ABI: the loader (present, and missing in a child process), argument
// validation without a GPU, single-rank communicators on one GPU (every collective is a copy),
// and two-rank communicators on two GPUs against CPU references.
//
// Data are small integers stored in the element type, so every sum, product, min, max and
// average of two ranks is exact in every type (f16 holds integers up to 2048 exactly, bf16 up to
// 256, and |a + b| <= 128, |a * b| <= 4096 is kept within those where used): results are
// compared exactly, which is stricter than any rounding bound (f32 within 1e-6 relative, f16
// and bf16 within half an ulp would also pass). One f32 test sums arbitrary floats: with two
// ranks NCCL computes fl(a + b) once, the same as the CPU; it is still checked within 1e-6
// relative of |a| + |b| in case an implementation reassociates.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "capi_util.hpp"

namespace {

// NVLink multicast stays off on the shared machines; set before NCCL is first loaded (at static
// initialisation, so before any test), never overriding the caller's choice.
const bool kNvlsOff = [] {
  setenv("NCCL_NVLS_ENABLE", "0", 0);
  return true;
}();

struct CommDel {
  void operator()(cudago_comm_s* c) const { cudago_comm_destroy(c); }
};
using Comm = std::unique_ptr<cudago_comm_s, CommDel>;

// ---- element encoding of small integers ----

// Exact encodings, for values that f16 / bf16 represent exactly (small integers and halves of
// them here): checked, so that an inexact reference cannot pass silently.
uint16_t f16_bits(double v) {
  float f = static_cast<float>(v);
  uint32_t b;
  std::memcpy(&b, &f, 4);
  uint16_t sign = static_cast<uint16_t>((b >> 16) & 0x8000u);
  if ((b & 0x7fffffffu) == 0) return sign;
  int exp = static_cast<int>((b >> 23) & 0xff) - 127 + 15;
  uint32_t mant = b & 0x7fffffu;
  EXPECT_TRUE(exp >= 1 && exp <= 30 && (mant & 0x1fffu) == 0) << v << " is not exact in f16";
  return static_cast<uint16_t>(sign | (exp << 10) | (mant >> 13));
}

uint16_t bf16_bits(double v) {
  float f = static_cast<float>(v);
  uint32_t b;
  std::memcpy(&b, &f, 4);
  EXPECT_EQ(b & 0xffffu, 0u) << v << " is not exact in bf16";
  return static_cast<uint16_t>(b >> 16);
}

size_t esize(cudago_dtype_t t) { return cudago_dtype_size(t); }

std::vector<uint8_t> encode(const std::vector<double>& v, cudago_dtype_t t) {
  std::vector<uint8_t> out(v.size() * esize(t));
  for (size_t i = 0; i < v.size(); ++i) {
    uint8_t* p = &out[i * esize(t)];
    switch (t) {
      case CUDAGO_DTYPE_F32: {
        float f = static_cast<float>(v[i]);
        std::memcpy(p, &f, 4);
        break;
      }
      case CUDAGO_DTYPE_F64:
        std::memcpy(p, &v[i], 8);
        break;
      case CUDAGO_DTYPE_I32: {
        int32_t x = static_cast<int32_t>(v[i]);
        std::memcpy(p, &x, 4);
        break;
      }
      case CUDAGO_DTYPE_F16: {
        uint16_t h = f16_bits(v[i]);
        std::memcpy(p, &h, 2);
        break;
      }
      default: {
        uint16_t h = bf16_bits(v[i]);
        std::memcpy(p, &h, 2);
        break;
      }
    }
  }
  return out;
}

// Random integers in [-limit, limit], never 0 (so that products and signs are informative).
std::vector<double> random_ints(size_t n, int limit, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> d(-limit, limit);
  std::vector<double> v(n);
  for (auto& x : v) {
    int i = 0;
    while (i == 0) i = d(rng);
    x = i;
  }
  return v;
}

std::mt19937_64 seeded() {
  uint64_t seed =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  if (const char* s = std::getenv("CUDAGO_TEST_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::printf("random seed %llu (replay with CUDAGO_TEST_SEED)\n",
              static_cast<unsigned long long>(seed));
  return std::mt19937_64(seed);
}

const uint8_t kPoison = 0xA5;

// A device buffer of `bytes` filled with kPoison (so unwritten bytes are recognisable).
Buffer poisoned(uint64_t bytes, int32_t device) {
  Buffer b = make_buffer(bytes, device);
  if (b) {
    EXPECT_EQ(cudago_memset(kPoison, b.get(), 0, bytes), CUDAGO_SUCCESS) << last_error_text();
  }
  return b;
}

void put(const Buffer& b, uint64_t byte_offset, const std::vector<uint8_t>& bytes) {
  ASSERT_EQ(cudago_copy_h2d(bytes.data(), b.get(), byte_offset, bytes.size()), CUDAGO_SUCCESS)
      << last_error_text();
}

std::vector<uint8_t> get(const Buffer& b, uint64_t bytes) {
  std::vector<uint8_t> out(bytes);
  EXPECT_EQ(cudago_copy_d2h(b.get(), 0, out.data(), bytes), CUDAGO_SUCCESS) << last_error_text();
  return out;
}

// Waits for the streams with a deadline: a collective whose peers never came would otherwise
// hang the test run. Exits the process on timeout (the communicators cannot be destroyed then).
void wait_all(const std::vector<cudago_stream_t>& streams) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (cudago_stream_t s : streams) {
    for (;;) {
      int32_t done = 0;
      ASSERT_EQ(cudago_stream_query(s, &done), CUDAGO_SUCCESS) << last_error_text();
      if (done) break;
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "nccl_test: collectives did not finish in 120 s; exiting\n");
        std::fflush(stderr);
        std::_Exit(3);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ASSERT_EQ(cudago_stream_synchronize(s), CUDAGO_SUCCESS) << last_error_text();
  }
}

void expect_bytes(const std::vector<uint8_t>& got, size_t off, const std::vector<uint8_t>& want,
                  const std::string& what) {
  ASSERT_LE(off + want.size(), got.size()) << what;
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (got[off + i] != want[i]) {
      if (bad++ == 0) first = i;
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " bytes differ, first at byte " << first;
}

void expect_poison(const std::vector<uint8_t>& got, size_t begin, size_t end,
                   const std::string& what) {
  for (size_t i = begin; i < end; ++i) {
    if (got[i] != kPoison) {
      ADD_FAILURE() << what << ": byte " << i << " outside the written range was changed";
      return;
    }
  }
}

const cudago_dtype_t kTypes[] = {CUDAGO_DTYPE_F32, CUDAGO_DTYPE_F64, CUDAGO_DTYPE_F16,
                                 CUDAGO_DTYPE_BF16, CUDAGO_DTYPE_I32};

// ---------------------------------------------------------------------------------------------
// No GPU needed.
// ---------------------------------------------------------------------------------------------

TEST(NcclLoader, VersionLoads) {
  int32_t v = -1;
  CG_OK(cudago_nccl_version(&v));
  // The toolkit's own NCCL is 2.28; a library chosen with CUDAGO_NCCL_LIBRARY (e.g. a Python
  // wheel's) may be older, but needs everything cudago calls (2.12 or newer).
  const char* chosen = std::getenv("CUDAGO_NCCL_LIBRARY");
  const int32_t want = chosen != nullptr && chosen[0] != '\0' ? 21200 : 22800;
  EXPECT_GE(v, want) << "CUDAGO_NCCL_LIBRARY=" << (chosen ? chosen : "(unset)");
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_nccl_version(nullptr));
}

// The missing-library path, in a fresh child process (the library is loaded once per process):
// "threadsafe" death tests re-execute the test binary, so NCCL is not loaded there yet.
void missing_library_child() {
  setenv("CUDAGO_NCCL_LIBRARY", "/nonexistent/libnccl.so.2", 1);
  int32_t v = -1;
  cudago_status_t st = cudago_nccl_version(&v);
  cudago_error_info_t e = CUDAGO_ERROR_INFO_INIT;
  cudago_error_last(&e);
  cudago_status_t st2 = cudago_comm_group_start();
  cudago_nccl_unique_id_t id;
  cudago_status_t st3 = cudago_comm_unique_id(&id);
  std::fprintf(stderr, "status=%d,%d,%d version=%d message=%s\n", static_cast<int>(st),
               static_cast<int>(st2), static_cast<int>(st3), static_cast<int>(v), e.message);
  std::fflush(stderr);
  bool ok = st == CUDAGO_ERROR_NCCL && st2 == CUDAGO_ERROR_NCCL && st3 == CUDAGO_ERROR_NCCL &&
            v == 0 && std::strstr(e.message, "/nonexistent/libnccl.so.2") != nullptr &&
            std::strstr(e.message, "CUDAGO_NCCL_LIBRARY") != nullptr;
  std::exit(ok ? 0 : 1);
}

TEST(NcclLoader, MissingLibraryIsAnNcclError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(missing_library_child(), ::testing::ExitedWithCode(0),
              "status=16,16,16 version=0 message=NCCL could not be loaded");
}

TEST(NcclValidation, NullAndCounts) {
  cudago_comm_t c = nullptr;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_init_all(nullptr, 1, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_init_all(&c, 0, nullptr));
  // Counts above NCCL's int ranks are refused before the devices are looked at (with or without
  // one), and before anything is sized by them.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_init_all(&c, UINT64_MAX, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_init_all(&c, uint64_t{1} << 62, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_comm_init_all(&c, uint64_t{INT32_MAX} + 1, nullptr));
  // Regression (fuzzing): a huge count allocated 8 GiB before anything was validated. A count
  // above the device count is refused first (no device at all: NO_DEVICE).
  int32_t devices = 0;
  CG_OK(cudago_device_count(&devices));
  const cudago_status_t too_many =
      devices == 0 ? CUDAGO_ERROR_NO_DEVICE : CUDAGO_ERROR_INVALID_ARGUMENT;
  CG_EXPECT(too_many, cudago_comm_init_all(&c, INT32_MAX, nullptr));
  CG_EXPECT(too_many, cudago_comm_init_all(&c, static_cast<uint64_t>(devices) + 1, nullptr));
  EXPECT_NE(last_error_text().find(devices == 0 ? "no CUDA device" : "sees"), std::string::npos)
      << last_error_text();
  EXPECT_EQ(c, nullptr);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_unique_id(nullptr));
  cudago_nccl_unique_id_t id;
  std::memset(&id, 0, sizeof id);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_init_rank(nullptr, 0, 1, &id, 0, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_init_rank(&c, 0, 1, nullptr, 0, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_init_rank(&c, 0, 0, &id, 0, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_init_rank(&c, 0, 2, &id, 2, nullptr));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_init_rank(&c, 0, 2, &id, -1, nullptr));
  // Wait options follow the size-tag policy and are checked before NCCL is needed.
  cudago_wait_options_t w;
  std::memset(&w, 0, sizeof w);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_init_rank(&c, 0, 1, &id, 0, &w));
  EXPECT_NE(last_error_text().find("struct_size"), std::string::npos) << last_error_text();
  cudago_wait_options_init(&w);
  w.reserved0 = 1;
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_init_rank(&c, 0, 1, &id, 0, &w));
  EXPECT_NE(last_error_text().find("reserved0"), std::string::npos) << last_error_text();
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_comm_wait(nullptr, nullptr, nullptr));
  EXPECT_EQ(c, nullptr);
  CG_EXPECT(CUDAGO_SUCCESS, cudago_comm_destroy(nullptr));
  int32_t x = 0;
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_comm_device(nullptr, &x));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_comm_rank(nullptr, &x));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_comm_size(nullptr, &x));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_comm_all_reduce(nullptr, nullptr, nullptr, 0, nullptr, 0, 1, CUDAGO_DTYPE_F32,
                                   CUDAGO_NCCL_SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE, cudago_comm_broadcast(nullptr, nullptr, nullptr, 0,
                                                               nullptr, 0, 1, CUDAGO_DTYPE_F32, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_comm_reduce(nullptr, nullptr, nullptr, 0, nullptr, 0, 1, CUDAGO_DTYPE_F32,
                               CUDAGO_NCCL_SUM, 0));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_comm_all_gather(nullptr, nullptr, nullptr, 0, nullptr, 0, 1, CUDAGO_DTYPE_F32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_comm_reduce_scatter(nullptr, nullptr, nullptr, 0, nullptr, 0, 1,
                                       CUDAGO_DTYPE_F32, CUDAGO_NCCL_SUM));
}

TEST(NcclValidation, GroupBracketsNest) {
  // Group calls need no GPU: an empty group is legal.
  CG_OK(cudago_comm_group_start());
  CG_OK(cudago_comm_group_start());
  CG_OK(cudago_comm_group_end());
  CG_OK(cudago_comm_group_end());
}

// ---------------------------------------------------------------------------------------------
// One GPU: single-rank communicators.
// ---------------------------------------------------------------------------------------------

TEST(NcclOneRank, InitAllAndAccessors) {
  NEED_GPU();
  cudago_comm_t c = nullptr;
  CG_OK(cudago_comm_init_all(&c, 1, nullptr));
  Comm comm(c);
  int32_t d = -1, r = -1, n = -1;
  CG_OK(cudago_comm_device(c, &d));
  CG_OK(cudago_comm_rank(c, &r));
  CG_OK(cudago_comm_size(c, &n));
  EXPECT_EQ(d, 0);
  EXPECT_EQ(r, 0);
  EXPECT_EQ(n, 1);
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_device(c, nullptr));
}

TEST(NcclOneRank, InitRankFromUniqueId) {
  NEED_GPU();
  cudago_nccl_unique_id_t id;
  CG_OK(cudago_comm_unique_id(&id));
  cudago_comm_t c = nullptr;
  CG_OK(cudago_comm_init_rank(&c, 0, 1, &id, 0, nullptr));
  Comm comm(c);
  int32_t r = -1, n = -1;
  CG_OK(cudago_comm_rank(c, &r));
  CG_OK(cudago_comm_size(c, &n));
  EXPECT_EQ(r, 0);
  EXPECT_EQ(n, 1);
  CG_EXPECT(CUDAGO_ERROR_INVALID_DEVICE, cudago_comm_init_rank(&c, 1 << 20, 1, &id, 0, nullptr));
}

// A bounded rank set-up: with one rank it completes (non-blocking mode) and its collectives and
// bounded waits work; rank 0 of 2 with nobody joining gives up at its deadline, or when its
// cancel flag is set from another thread, instead of waiting forever.
TEST(NcclOneRank, BoundedInitRankAndWait) {
  NEED_GPU();
  cudago_nccl_unique_id_t id;
  CG_OK(cudago_comm_unique_id(&id));
  cudago_wait_options_t w;
  cudago_wait_options_init(&w);
  // A generous bound for one rank's set-up; under compute-sanitizer, beside other sanitized
  // processes, NCCL's set-up took more than 30 s (initcheck, H100, 2026-12-06).
  w.timeout_ns = (under_sanitizer() ? 300ull : 30ull) * 1000 * 1000 * 1000;
  cudago_comm_t c = nullptr;
  CG_OK(cudago_comm_init_rank(&c, 0, 1, &id, 0, &w));
  Comm comm(c);
  Stream s = make_stream(0);
  Buffer b = make_buffer(64 * sizeof(float));
  std::vector<float> in(64), out(64, -1.0f);
  for (int i = 0; i < 64; ++i) in[i] = static_cast<float>(i) - 7.5f;
  CG_OK(cudago_copy_h2d(in.data(), b.get(), 0, sizeof(float) * 64));
  for (int round = 0; round < 3; ++round) {
    CG_OK(cudago_comm_all_reduce(c, s.get(), b.get(), 0, b.get(), 0, 64, CUDAGO_DTYPE_F32,
                                 CUDAGO_NCCL_SUM));
  }
  CG_OK(cudago_comm_wait(c, s.get(), &w));
  CG_OK(cudago_copy_d2h(b.get(), 0, out.data(), sizeof(float) * 64));
  EXPECT_EQ(out, in);  // one rank: the sum is the value itself

  cudago_nccl_unique_id_t id2;
  CG_OK(cudago_comm_unique_id(&id2));
  w.timeout_ns = 300ull * 1000 * 1000;
  cudago_comm_t lonely = nullptr;
  auto t0 = std::chrono::steady_clock::now();
  CG_EXPECT(CUDAGO_ERROR_TIMEOUT, cudago_comm_init_rank(&lonely, 0, 2, &id2, 0, &w));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(lonely, nullptr);
  EXPECT_LT(waited, std::chrono::seconds(20)) << "the deadline was not honoured";

  cudago_nccl_unique_id_t id3;
  CG_OK(cudago_comm_unique_id(&id3));
  volatile int32_t cancel = 0;
  cudago_wait_options_init(&w);
  w.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = 1;
  });
  CG_EXPECT(CUDAGO_ERROR_CANCELLED, cudago_comm_init_rank(&lonely, 0, 2, &id3, 0, &w));
  canceller.join();
  EXPECT_EQ(lonely, nullptr);
}

// Every collective of one rank copies send to recv; checked exactly, with offsets and poisoned
// margins, for every type and op, out of place and in place.
TEST(NcclOneRank, CollectivesAreCopies) {
  NEED_GPU();
  cudago_comm_t c = nullptr;
  CG_OK(cudago_comm_init_all(&c, 1, nullptr));
  Comm comm(c);
  Stream s = make_stream(0);
  auto rng = seeded();
  const uint64_t so = 3, ro = 5, pad = 4;  // in elements; the calls take so * es, ro * es bytes
  for (cudago_dtype_t t : kTypes) {
    const size_t es = esize(t);
    for (uint64_t count : {uint64_t{1}, uint64_t{7}, uint64_t{1021}, uint64_t{65537}}) {
      for (int kind = 0; kind < 5; ++kind) {
        for (cudago_nccl_op_t op : {CUDAGO_NCCL_SUM, CUDAGO_NCCL_PROD, CUDAGO_NCCL_MIN,
                                    CUDAGO_NCCL_MAX, CUDAGO_NCCL_AVG}) {
          if ((kind == 1 || kind == 3) && op != CUDAGO_NCCL_SUM) continue;  // no op
          if (t == CUDAGO_DTYPE_F64 && op == CUDAGO_NCCL_AVG) {
            // Refused: NCCL's f64 average was seen to skip elements (see cudago.h).
            Buffer x = poisoned(8 * es, 0);
            CG_EXPECT(CUDAGO_ERROR_NOT_SUPPORTED,
                      cudago_comm_all_reduce(c, s.get(), x.get(), 0, x.get(), 0, 1, t, op));
            continue;
          }
          std::string what = std::string(dtype_label(t)) + " kind " + std::to_string(kind) +
                             " op " + std::to_string(op) + " count " + std::to_string(count);
          const uint64_t n = count;
          auto data = encode(random_ints(n, 100, rng), t);
          Buffer send = poisoned((so + n + pad) * es, 0);
          Buffer recv = poisoned((ro + n + pad) * es, 0);
          put(send, so * es, data);
          cudago_status_t st = CUDAGO_ERROR_INTERNAL;
          switch (kind) {
            case 0:
              st = cudago_comm_all_reduce(c, s.get(), send.get(), so * es, recv.get(), ro * es,
                                          count, t, op);
              break;
            case 1:
              st = cudago_comm_broadcast(c, s.get(), send.get(), so * es, recv.get(), ro * es,
                                         count, t, 0);
              break;
            case 2:
              st = cudago_comm_reduce(c, s.get(), send.get(), so * es, recv.get(), ro * es, count,
                                      t, op, 0);
              break;
            case 3:
              st = cudago_comm_all_gather(c, s.get(), send.get(), so * es, recv.get(), ro * es,
                                          count, t);
              break;
            default:
              st = cudago_comm_reduce_scatter(c, s.get(), send.get(), so * es, recv.get(), ro * es,
                                              count, t, op);
              break;
          }
          ASSERT_EQ(st, CUDAGO_SUCCESS) << what << ": " << last_error_text();
          wait_all({s.get()});
          auto got = get(recv, (ro + n + pad) * es);
          expect_bytes(got, ro * es, data, what);
          expect_poison(got, 0, ro * es, what);
          expect_poison(got, (ro + n) * es, got.size(), what);
          auto sent = get(send, (so + n + pad) * es);
          expect_bytes(sent, so * es, data, what + " (send unchanged)");
        }
      }
      // In place: all-reduce and broadcast on the same buffer and offset leave it unchanged.
      const uint64_t n = count;
      auto data = encode(random_ints(n, 100, rng), t);
      Buffer b = poisoned((so + n) * es, 0);
      put(b, so * es, data);
      CG_OK(cudago_comm_all_reduce(c, s.get(), b.get(), so * es, b.get(), so * es, count, t,
                                   CUDAGO_NCCL_SUM));
      CG_OK(cudago_comm_broadcast(c, s.get(), b.get(), so * es, b.get(), so * es, count, t, 0));
      CG_OK(cudago_comm_all_gather(c, s.get(), b.get(), so * es, b.get(), so * es, count, t));
      CG_OK(cudago_comm_reduce_scatter(c, s.get(), b.get(), so * es, b.get(), so * es, count, t,
                                       CUDAGO_NCCL_MAX));
      wait_all({s.get()});
      expect_bytes(get(b, (so + n) * es), so * es, data, std::string(dtype_label(t)) + " in place");
    }
  }
}

TEST(NcclOneRank, Validation) {
  NEED_GPU();
  cudago_comm_t c = nullptr;
  CG_OK(cudago_comm_init_all(&c, 1, nullptr));
  Comm comm(c);
  Stream s = make_stream(0);
  Buffer a = make_buffer(64 * 4, 0), b = make_buffer(64 * 4, 0);
  // Zeroed: the valid calls below read them (compute-sanitizer's initcheck).
  CG_OK(cudago_memset(0, a.get(), 0, 64 * 4));
  CG_OK(cudago_memset(0, b.get(), 0, 64 * 4));
  const auto F32 = CUDAGO_DTYPE_F32;
  const auto SUM = CUDAGO_NCCL_SUM;
  // 0, and counts above INT64_MAX (what -1 and INT64_MIN were as int64_t counts).
  for (uint64_t bad : {uint64_t{0}, UINT64_MAX, uint64_t{1} << 63}) {
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_comm_all_reduce(c, s.get(), a.get(), 0, b.get(), 0, bad, F32, SUM));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_comm_all_gather(c, s.get(), a.get(), 0, b.get(), 0, bad, F32));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_comm_reduce_scatter(c, s.get(), a.get(), 0, b.get(), 0, bad, F32, SUM));
  }
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_comm_all_reduce(c, nullptr, a.get(), 0, b.get(), 0, 1, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_comm_all_reduce(c, s.get(), nullptr, 0, b.get(), 0, 1, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_HANDLE,
            cudago_comm_all_reduce(c, s.get(), a.get(), 0, nullptr, 0, 1, F32, SUM));
  // Offsets are in bytes, multiples of the element size: 2 bytes into f32 data is refused (on
  // either side, by every collective), 2 bytes into f16 data is an element.
  for (uint64_t odd : {uint64_t{1}, uint64_t{2}, uint64_t{6}, UINT64_MAX}) {
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_comm_all_reduce(c, s.get(), a.get(), odd, b.get(), 0, 1, F32, SUM));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_comm_all_reduce(c, s.get(), a.get(), 0, b.get(), odd, 1, F32, SUM));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_comm_broadcast(c, s.get(), a.get(), odd, b.get(), 0, 1, F32, 0));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_comm_reduce(c, s.get(), a.get(), 0, b.get(), odd, 1, F32, SUM, 0));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_comm_all_gather(c, s.get(), a.get(), odd, b.get(), 0, 1, F32));
    CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
              cudago_comm_reduce_scatter(c, s.get(), a.get(), 0, b.get(), odd, 1, F32, SUM));
  }
  EXPECT_NE(last_error_text().find("recv_offset"), std::string::npos) << last_error_text();
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_comm_all_reduce(c, s.get(), a.get(), 8, b.get(), 4, 1, CUDAGO_DTYPE_F64, SUM));
  CG_OK(cudago_comm_all_reduce(c, s.get(), a.get(), 2, b.get(), 6, 1, CUDAGO_DTYPE_F16, SUM));
  // Sizes: 64 floats fit, 65 do not; offsets count.
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_comm_all_reduce(c, s.get(), a.get(), 0, b.get(), 0, 65, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_comm_all_reduce(c, s.get(), a.get(), 4, b.get(), 0, 64, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_comm_all_reduce(c, s.get(), a.get(), 0, b.get(), 4, 64, F32, SUM));
  // The largest multiple of 4: its range overflows.
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_comm_all_reduce(c, s.get(), a.get(), UINT64_MAX - 3, b.get(), 0, 2, F32, SUM));
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_comm_broadcast(c, s.get(), a.get(), 0, b.get(), 0, 65, F32, 0));
  // Roots, types, ops.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_comm_broadcast(c, s.get(), a.get(), 0, b.get(), 0, 1, F32, 1));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_comm_reduce(c, s.get(), a.get(), 0, b.get(), 0, 1, F32, SUM, -1));
  CG_EXPECT(CUDAGO_ERROR_NOT_SUPPORTED,
            cudago_comm_all_reduce(c, s.get(), a.get(), 0, b.get(), 0, 1, CUDAGO_DTYPE_I8, SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_comm_all_reduce(c, s.get(), a.get(), 0, b.get(), 0, 1,
                                   static_cast<cudago_dtype_t>(99), SUM));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_comm_all_reduce(c, s.get(), a.get(), 0, b.get(), 0, 1, F32,
                                   static_cast<cudago_nccl_op_t>(5)));
  // Overlap without being in place (one element apart).
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_comm_all_reduce(c, s.get(), a.get(), 0, a.get(), 4, 8, F32, SUM));
  CG_OK(cudago_comm_all_reduce(c, s.get(), a.get(), 0, a.get(), 32, 8, F32, SUM));  // disjoint
  wait_all({s.get()});
}

// ---------------------------------------------------------------------------------------------
// Two GPUs: one communicator per device, driven from this thread inside groups.
// ---------------------------------------------------------------------------------------------

class NcclTwo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    int32_t n = 0;
    if (cudago_device_count(&n) != CUDAGO_SUCCESS || n < 2) return;
    cudago_comm_t cs[2] = {nullptr, nullptr};
    const int32_t devs[2] = {0, 1};
    if (cudago_comm_init_all(cs, 2, devs) != CUDAGO_SUCCESS) {
      init_error_ = last_error_text();
      return;
    }
    comms_[0] = cs[0];
    comms_[1] = cs[1];
  }
  static void TearDownTestSuite() {
    for (auto& c : comms_) {
      cudago_comm_destroy(c);
      c = nullptr;
    }
  }
  void SetUp() override {
    NEED_GPU();
    int32_t n = 0;
    ASSERT_EQ(cudago_device_count(&n), CUDAGO_SUCCESS);
    if (n < 2) {
      GTEST_SKIP() << "needs 2 devices (found " << n << ")";
    }
    ASSERT_NE(comms_[0], nullptr) << "cudago_comm_init_all failed: " << init_error_;
    for (int r = 0; r < 2; ++r) streams_[r] = make_stream(r);
  }

  static cudago_comm_t comms_[2];
  static std::string init_error_;
  Stream streams_[2];

  void wait() { wait_all({streams_[0].get(), streams_[1].get()}); }
};

cudago_comm_t NcclTwo::comms_[2] = {nullptr, nullptr};
std::string NcclTwo::init_error_;

TEST_F(NcclTwo, Accessors) {
  for (int r = 0; r < 2; ++r) {
    int32_t d = -1, rank = -1, n = -1;
    CG_OK(cudago_comm_device(comms_[r], &d));
    CG_OK(cudago_comm_rank(comms_[r], &rank));
    CG_OK(cudago_comm_size(comms_[r], &n));
    EXPECT_EQ(d, r);
    EXPECT_EQ(rank, r);
    EXPECT_EQ(n, 2);
  }
}

double apply(cudago_nccl_op_t op, double a, double b) {
  switch (op) {
    case CUDAGO_NCCL_SUM:
      return a + b;
    case CUDAGO_NCCL_PROD:
      return a * b;
    case CUDAGO_NCCL_MIN:
      return a < b ? a : b;
    case CUDAGO_NCCL_MAX:
      return a > b ? a : b;
    default:
      return (a + b) / 2;
  }
}

// Value limits that keep every op's result exact in type t (see the file comment). AVG of
// integers is (a + b) / 2 truncated for i32 in NCCL, and possibly x.5 for floats: exact in all
// float types for |a + b| <= 128; i32 skips AVG.
int limit_for(cudago_dtype_t t, cudago_nccl_op_t op) {
  if (op == CUDAGO_NCCL_PROD) return t == CUDAGO_DTYPE_BF16 ? 16 : 45;  // |ab| <= 256 / 2025
  return 64;
}

TEST_F(NcclTwo, AllReduceEqualsCpu) {
  auto rng = seeded();
  for (cudago_dtype_t t : kTypes) {
    const size_t es = esize(t);
    for (cudago_nccl_op_t op :
         {CUDAGO_NCCL_SUM, CUDAGO_NCCL_PROD, CUDAGO_NCCL_MIN, CUDAGO_NCCL_MAX, CUDAGO_NCCL_AVG}) {
      if (t == CUDAGO_DTYPE_I32 && op == CUDAGO_NCCL_AVG) continue;
      if (t == CUDAGO_DTYPE_F64 && op == CUDAGO_NCCL_AVG) continue;  // refused (see NcclOneRank)
      for (uint64_t count :
           {uint64_t{1}, uint64_t{2}, uint64_t{13}, uint64_t{1021}, uint64_t{(1 << 20) + 7}}) {
        if (count > 4096 && op != CUDAGO_NCCL_SUM) continue;  // large sizes: sum only
        for (bool in_place : {false, true}) {
          const uint64_t n = count;
          std::string what = std::string(dtype_label(t)) + " op " + std::to_string(op) + " count " +
                             std::to_string(count) + (in_place ? " in place" : "");
          std::vector<double> v[2] = {random_ints(n, limit_for(t, op), rng),
                                      random_ints(n, limit_for(t, op), rng)};
          std::vector<double> want(n);
          for (size_t i = 0; i < n; ++i) want[i] = apply(op, v[0][i], v[1][i]);
          Buffer send[2], recv[2];
          for (int r = 0; r < 2; ++r) {
            send[r] = poisoned(n * es, r);
            recv[r] = in_place ? nullptr : poisoned(n * es, r);
            put(send[r], 0, encode(v[r], t));
          }
          CG_OK(cudago_comm_group_start());
          cudago_status_t st[2];
          for (int r = 0; r < 2; ++r) {
            cudago_buffer_t out = in_place ? send[r].get() : recv[r].get();
            st[r] = cudago_comm_all_reduce(comms_[r], streams_[r].get(), send[r].get(), 0, out, 0,
                                           count, t, op);
          }
          CG_OK(cudago_comm_group_end());
          ASSERT_EQ(st[0], CUDAGO_SUCCESS) << what;
          ASSERT_EQ(st[1], CUDAGO_SUCCESS) << what;
          wait();
          auto expect = encode(want, t);
          for (int r = 0; r < 2; ++r) {
            const Buffer& out = in_place ? send[r] : recv[r];
            expect_bytes(get(out, n * es), 0, expect, what + " rank " + std::to_string(r));
          }
        }
      }
    }
  }
}

// Arbitrary float32 values (not integers): within 1e-6 relative of |a| + |b|.
TEST_F(NcclTwo, AllReduceF32Random) {
  auto rng = seeded();
  std::uniform_real_distribution<float> u(-1000.0f, 1000.0f);
  const uint64_t count = 100003;
  const uint64_t n = count;
  std::vector<float> v[2] = {std::vector<float>(n), std::vector<float>(n)};
  Buffer send[2], recv[2];
  for (int r = 0; r < 2; ++r) {
    for (auto& x : v[r]) x = u(rng);
    send[r] = make_buffer(n * 4, r);
    recv[r] = make_buffer(n * 4, r);
    ASSERT_EQ(cudago_copy_h2d(v[r].data(), send[r].get(), 0, n * 4), CUDAGO_SUCCESS);
  }
  CG_OK(cudago_comm_group_start());
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(cudago_comm_all_reduce(comms_[r], streams_[r].get(), send[r].get(), 0, recv[r].get(),
                                     0, count, CUDAGO_DTYPE_F32, CUDAGO_NCCL_SUM),
              CUDAGO_SUCCESS);
  }
  CG_OK(cudago_comm_group_end());
  wait();
  for (int r = 0; r < 2; ++r) {
    std::vector<float> got(n);
    ASSERT_EQ(cudago_copy_d2h(recv[r].get(), 0, got.data(), n * 4), CUDAGO_SUCCESS);
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
      double ref = static_cast<double>(v[0][i]) + v[1][i];
      double bound = 1e-6 * (std::fabs(v[0][i]) + std::fabs(v[1][i]));
      if (!(std::fabs(got[i] - ref) <= bound)) ++bad;
    }
    EXPECT_EQ(bad, 0u) << "rank " << r;
  }
}

TEST_F(NcclTwo, BroadcastReduceGatherScatter) {
  auto rng = seeded();
  for (cudago_dtype_t t : kTypes) {
    const size_t es = esize(t);
    for (uint64_t count : {uint64_t{1}, uint64_t{7}, uint64_t{4099}, uint64_t{(1 << 18) + 3}}) {
      const uint64_t n = count;
      const std::string base = std::string(dtype_label(t)) + " count " + std::to_string(count);
      std::vector<double> v[2] = {random_ints(2 * n, 64, rng), random_ints(2 * n, 64, rng)};
      auto first = [&](int r) {
        return std::vector<double>(v[r].begin(), v[r].begin() + static_cast<ptrdiff_t>(n));
      };

      // Broadcast from root 1.
      {
        Buffer send[2], recv[2];
        for (int r = 0; r < 2; ++r) {
          send[r] = poisoned(n * es, r);
          recv[r] = poisoned(n * es, r);
          put(send[r], 0, encode(first(r), t));
        }
        CG_OK(cudago_comm_group_start());
        for (int r = 0; r < 2; ++r) {
          EXPECT_EQ(cudago_comm_broadcast(comms_[r], streams_[r].get(), send[r].get(), 0,
                                          recv[r].get(), 0, count, t, 1),
                    CUDAGO_SUCCESS)
              << last_error_text();
        }
        CG_OK(cudago_comm_group_end());
        wait();
        for (int r = 0; r < 2; ++r) {
          expect_bytes(get(recv[r], n * es), 0, encode(first(1), t),
                       base + " broadcast rank " + std::to_string(r));
        }
      }

      // Reduce (sum) to root 0, and in place to root 1.
      for (bool in_place : {false, true}) {
        const int root = in_place ? 1 : 0;
        Buffer send[2], recv[2];
        for (int r = 0; r < 2; ++r) {
          send[r] = poisoned(n * es, r);
          recv[r] = in_place ? nullptr : poisoned(n * es, r);
          put(send[r], 0, encode(first(r), t));
        }
        CG_OK(cudago_comm_group_start());
        for (int r = 0; r < 2; ++r) {
          cudago_buffer_t out = in_place ? send[r].get() : recv[r].get();
          EXPECT_EQ(cudago_comm_reduce(comms_[r], streams_[r].get(), send[r].get(), 0, out, 0,
                                       count, t, CUDAGO_NCCL_SUM, root),
                    CUDAGO_SUCCESS)
              << last_error_text();
        }
        CG_OK(cudago_comm_group_end());
        wait();
        std::vector<double> want(n);
        for (size_t i = 0; i < n; ++i) want[i] = v[0][i] + v[1][i];
        const Buffer& out = in_place ? send[root] : recv[root];
        expect_bytes(get(out, n * es), 0, encode(want, t),
                     base + " reduce to root " + std::to_string(root));
      }

      // All-gather: out of place, then in place (send is the rank's slot of recv).
      for (bool in_place : {false, true}) {
        Buffer send[2], recv[2];
        for (int r = 0; r < 2; ++r) {
          recv[r] = poisoned(2 * n * es, r);
          if (in_place) {
            put(recv[r], r * n * es, encode(first(r), t));
          } else {
            send[r] = poisoned(n * es, r);
            put(send[r], 0, encode(first(r), t));
          }
        }
        CG_OK(cudago_comm_group_start());
        for (int r = 0; r < 2; ++r) {
          cudago_buffer_t in = in_place ? recv[r].get() : send[r].get();
          uint64_t in_off = in_place ? r * n * es : 0;  // bytes
          EXPECT_EQ(cudago_comm_all_gather(comms_[r], streams_[r].get(), in, in_off, recv[r].get(),
                                           0, count, t),
                    CUDAGO_SUCCESS)
              << last_error_text();
        }
        CG_OK(cudago_comm_group_end());
        wait();
        std::vector<double> want = first(0);
        auto f1 = first(1);
        want.insert(want.end(), f1.begin(), f1.end());
        for (int r = 0; r < 2; ++r) {
          expect_bytes(get(recv[r], 2 * n * es), 0, encode(want, t),
                       base + (in_place ? " all-gather in place rank " : " all-gather rank ") +
                           std::to_string(r));
        }
      }

      // Reduce-scatter (sum): out of place, then in place (recv is the rank's slice of send).
      for (bool in_place : {false, true}) {
        Buffer send[2], recv[2];
        for (int r = 0; r < 2; ++r) {
          send[r] = poisoned(2 * n * es, r);
          put(send[r], 0, encode(v[r], t));
          if (!in_place) recv[r] = poisoned(n * es, r);
        }
        CG_OK(cudago_comm_group_start());
        for (int r = 0; r < 2; ++r) {
          cudago_buffer_t out = in_place ? send[r].get() : recv[r].get();
          uint64_t out_off = in_place ? r * n * es : 0;  // bytes
          EXPECT_EQ(cudago_comm_reduce_scatter(comms_[r], streams_[r].get(), send[r].get(), 0, out,
                                               out_off, count, t, CUDAGO_NCCL_SUM),
                    CUDAGO_SUCCESS)
              << last_error_text();
        }
        CG_OK(cudago_comm_group_end());
        wait();
        for (int r = 0; r < 2; ++r) {
          std::vector<double> want(n);
          for (size_t i = 0; i < n; ++i) want[i] = v[0][r * n + i] + v[1][r * n + i];
          const Buffer& out = in_place ? send[r] : recv[r];
          auto got = get(out, (in_place ? 2 * n : n) * es);
          expect_bytes(got, (in_place ? r * n : 0) * es, encode(want, t),
                       base +
                           (in_place ? " reduce-scatter in place rank " : " reduce-scatter rank ") +
                           std::to_string(r));
        }
      }
    }
  }
}

// Validation with two devices: nothing reaches NCCL, so no group is needed.
TEST_F(NcclTwo, MismatchAndSizes) {
  const auto F32 = CUDAGO_DTYPE_F32;
  const auto SUM = CUDAGO_NCCL_SUM;
  Buffer a0 = make_buffer(16 * 4, 0), b0 = make_buffer(16 * 4, 0);
  Buffer a1 = make_buffer(16 * 4, 1);
  Buffer big0 = make_buffer(32 * 4, 0);
  // A stream of device 1 with the device-0 communicator.
  CG_EXPECT(
      CUDAGO_ERROR_DEVICE_MISMATCH,
      cudago_comm_all_reduce(comms_[0], streams_[1].get(), a0.get(), 0, b0.get(), 0, 4, F32, SUM));
  // A buffer of device 1.
  CG_EXPECT(
      CUDAGO_ERROR_DEVICE_MISMATCH,
      cudago_comm_all_reduce(comms_[0], streams_[0].get(), a1.get(), 0, b0.get(), 0, 4, F32, SUM));
  CG_EXPECT(
      CUDAGO_ERROR_DEVICE_MISMATCH,
      cudago_comm_broadcast(comms_[0], streams_[0].get(), a0.get(), 0, a1.get(), 0, 4, F32, 0));
  // All-gather needs 2 x count in recv: 16 floats hold 2 x 8, not 2 x 9.
  CG_OK(cudago_comm_group_start());  // (refused before NCCL; the group stays empty)
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_comm_all_gather(comms_[0], streams_[0].get(), a0.get(), 0, b0.get(), 0, 9, F32));
  // Reduce-scatter needs 2 x count in send.
  CG_EXPECT(CUDAGO_ERROR_OUT_OF_RANGE,
            cudago_comm_reduce_scatter(comms_[0], streams_[0].get(), a0.get(), 0, b0.get(), 0, 9,
                                       F32, SUM));
  CG_EXPECT(
      CUDAGO_ERROR_OUT_OF_RANGE,
      cudago_comm_all_reduce(comms_[1], streams_[1].get(), a1.get(), 0, a1.get(), 0, 17, F32, SUM));
  // In place all-gather on rank 1 means send at recv_offset + 1 x count elements (32 bytes for
  // count 8); another overlapping offset is refused.
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_comm_all_gather(comms_[1], streams_[1].get(), a1.get(), 0, a1.get(), 0, 8, F32));
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT,
            cudago_comm_all_reduce(comms_[0], streams_[0].get(), big0.get(), 0, big0.get(), 16, 8,
                                   F32, SUM));
  CG_EXPECT(
      CUDAGO_ERROR_INVALID_ARGUMENT,
      cudago_comm_broadcast(comms_[0], streams_[0].get(), a0.get(), 0, b0.get(), 0, 4, F32, 2));
  CG_OK(cudago_comm_group_end());
  // Duplicate devices are refused before NCCL.
  cudago_comm_t cs[2] = {nullptr, nullptr};
  const int32_t dup[2] = {1, 1};
  CG_EXPECT(CUDAGO_ERROR_INVALID_ARGUMENT, cudago_comm_init_all(cs, 2, dup));
  EXPECT_EQ(cs[0], nullptr);
}

}  // namespace
