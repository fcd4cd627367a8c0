// Snapshot codec (snapshot_io.hpp): JSON and binary round trips, the committed example,
// and hostile input: every malformed document must give a specific error, never a crash,
// an exception or an allocation the input cannot justify.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sluice/snapshot.hpp"
#include "sluice/snapshot_generator.hpp"
#include "sluice/snapshot_io.hpp"

namespace {

using sluice::decode_snapshot;
using sluice::encode_snapshot;
using sluice::Gpu;
using sluice::Job;
using sluice::Machine;
using sluice::Preference;
using sluice::Snapshot;
using sluice::SnapshotDecodeResult;
using sluice::SnapshotFormat;
using sluice::SnapshotLimits;
using sluice::Task;
using sluice::TaskState;

constexpr SnapshotFormat kJson = SnapshotFormat::kJson;
constexpr SnapshotFormat kBinary = SnapshotFormat::kBinary;

// ---- A snapshot that uses every field ------------------------------------------------

Snapshot rich_snapshot() {
  Snapshot s;
  s.version = 9'000'000'000;  // past 32 bits on purpose
  s.time = -5;
  for (int i = 0; i < 4; ++i) {
    Machine m;
    m.id = "m" + std::to_string(i);
    m.rack = i < 2 ? "r0" : "r1";
    m.zone = "zone \"a\"\\ \xc3\xa9";  // quotes, backslash and UTF-8 survive JSON
    m.cpu_milli = 32000 + i;
    m.memory_mib = 131072;
    m.free_cpu_milli = 16000;
    m.free_memory_mib = 65536 - i;
    if (i == 2) {
      for (int g = 0; g < 4; ++g) m.gpus.push_back(Gpu{g, "V100", g == 0 ? 500 : 1000});
    }
    if (i == 3) {
      for (int g = 0; g < 8; ++g) m.gpus.push_back(Gpu{g, "A100", g < 2 ? 0 : 1000});
    }
    m.extra_capacity["ssd_gib"] = 100;
    m.extra_capacity["nic_gbps"] = 25 + i;
    m.extra_free["ssd_gib"] = 40;
    m.labels["arch"] = "x86";
    m.labels["kernel"] = "6." + std::to_string(i);
    s.machines.push_back(m);
  }
  Job a;
  a.id = "job-a";
  a.priority = -3;
  a.submit_time = 1'700'000'000;
  Task t0;
  t0.id = "a-0";
  t0.cpu_milli = 1000;
  t0.memory_mib = 2048;
  t0.extra["ssd_gib"] = 10;
  t0.selector["arch"] = "x86";
  t0.preferred_machines = {Preference{"m0", 7}, Preference{"m1", 3}};
  t0.preferred_racks = {Preference{"r1", 2}};
  a.tasks.push_back(t0);
  Task t1;
  t1.id = "a-1";
  t1.cpu_milli = 2000;
  t1.memory_mib = 4096;
  t1.gpus = 2;
  t1.gpu_models = {"A100", "V100"};
  t1.state = TaskState::kRunning;
  t1.machine = "m3";
  t1.gpu_indexes = {0, 1};
  a.tasks.push_back(t1);
  Job b;
  b.id = "job-b";
  b.priority = 2'000'000'000;
  Task t2;
  t2.id = "b-0";
  t2.cpu_milli = 500;
  t2.memory_mib = 256;
  t2.gpu_milli = 500;
  t2.state = TaskState::kRunning;
  t2.machine = "m2";
  t2.gpu_indexes = {0};
  b.tasks.push_back(t2);
  s.jobs = {a, b};
  return s;
}

void expect_same(const Preference& a, const Preference& b) {
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.weight, b.weight);
}

void expect_same(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.time, b.time);
  ASSERT_EQ(a.machines.size(), b.machines.size());
  for (std::size_t i = 0; i < a.machines.size(); ++i) {
    SCOPED_TRACE("machines[" + std::to_string(i) + "]");
    const Machine& x = a.machines[i];
    const Machine& y = b.machines[i];
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.rack, y.rack);
    EXPECT_EQ(x.zone, y.zone);
    EXPECT_EQ(x.cpu_milli, y.cpu_milli);
    EXPECT_EQ(x.memory_mib, y.memory_mib);
    EXPECT_EQ(x.free_cpu_milli, y.free_cpu_milli);
    EXPECT_EQ(x.free_memory_mib, y.free_memory_mib);
    ASSERT_EQ(x.gpus.size(), y.gpus.size());
    for (std::size_t g = 0; g < x.gpus.size(); ++g) {
      EXPECT_EQ(x.gpus[g].index, y.gpus[g].index);
      EXPECT_EQ(x.gpus[g].model, y.gpus[g].model);
      EXPECT_EQ(x.gpus[g].free_milli, y.gpus[g].free_milli);
    }
    EXPECT_EQ(x.extra_capacity, y.extra_capacity);
    EXPECT_EQ(x.extra_free, y.extra_free);
    EXPECT_EQ(x.labels, y.labels);
  }
  ASSERT_EQ(a.jobs.size(), b.jobs.size());
  for (std::size_t j = 0; j < a.jobs.size(); ++j) {
    const Job& x = a.jobs[j];
    const Job& y = b.jobs[j];
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.priority, y.priority);
    EXPECT_EQ(x.submit_time, y.submit_time);
    ASSERT_EQ(x.tasks.size(), y.tasks.size());
    for (std::size_t t = 0; t < x.tasks.size(); ++t) {
      SCOPED_TRACE("jobs[" + std::to_string(j) + "].tasks[" + std::to_string(t) + "]");
      const Task& p = x.tasks[t];
      const Task& q = y.tasks[t];
      EXPECT_EQ(p.id, q.id);
      EXPECT_EQ(p.cpu_milli, q.cpu_milli);
      EXPECT_EQ(p.memory_mib, q.memory_mib);
      EXPECT_EQ(p.gpus, q.gpus);
      EXPECT_EQ(p.gpu_milli, q.gpu_milli);
      EXPECT_EQ(p.gpu_models, q.gpu_models);
      EXPECT_EQ(p.extra, q.extra);
      EXPECT_EQ(p.selector, q.selector);
      ASSERT_EQ(p.preferred_machines.size(), q.preferred_machines.size());
      for (std::size_t k = 0; k < p.preferred_machines.size(); ++k) {
        expect_same(p.preferred_machines[k], q.preferred_machines[k]);
      }
      ASSERT_EQ(p.preferred_racks.size(), q.preferred_racks.size());
      for (std::size_t k = 0; k < p.preferred_racks.size(); ++k) {
        expect_same(p.preferred_racks[k], q.preferred_racks[k]);
      }
      EXPECT_EQ(p.state, q.state);
      EXPECT_EQ(p.machine, q.machine);
      EXPECT_EQ(p.gpu_indexes, q.gpu_indexes);
    }
  }
}

// Decoding must fail, with a message containing `needle`.
void expect_error(std::string_view bytes, SnapshotFormat format, const std::string& needle,
                  const SnapshotLimits& limits = {}) {
  const SnapshotDecodeResult r = decode_snapshot(bytes, format, limits);
  EXPECT_FALSE(r.ok) << "decoded although it should not";
  EXPECT_NE(r.error.find(needle), std::string::npos) << "error: " << r.error << "\nexpected: " << needle;
}

// Replaces the single occurrence of `from` in `text`.
std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << from << " is not unique";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

void put_u64(std::string& bytes, std::size_t offset, std::uint64_t value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);  // the encoder wrote host order
}

// ---- Round trips ---------------------------------------------------------------------

TEST(SnapshotCodec, RichSnapshotIsValid) {
  const sluice::Validation v = sluice::validate(rich_snapshot());
  EXPECT_TRUE(v.ok()) << v.message;
}

TEST(SnapshotCodec, JsonRoundTrip) {
  const Snapshot s = rich_snapshot();
  const std::string text = encode_snapshot(s, kJson);
  ASSERT_FALSE(text.empty());
  const SnapshotDecodeResult r = decode_snapshot(text, kJson);
  ASSERT_TRUE(r.ok) << r.error;
  expect_same(s, r.snapshot);
  // Readable: named fields, the format, the task state as a word, maps as objects.
  EXPECT_NE(text.find("\"format\": 1"), std::string::npos) << text;
  EXPECT_NE(text.find("\"state\": \"running\""), std::string::npos);
  EXPECT_NE(text.find("\"state\": \"pending\""), std::string::npos);
  EXPECT_NE(text.find("\"labels\": {"), std::string::npos);
  EXPECT_NE(text.find("\"version\": 9000000000"), std::string::npos);
}

TEST(SnapshotCodec, BinaryRoundTrip) {
  const Snapshot s = rich_snapshot();
  const std::string bytes = encode_snapshot(s, kBinary);
  ASSERT_FALSE(bytes.empty());
  const SnapshotDecodeResult r = decode_snapshot(bytes, kBinary);
  ASSERT_TRUE(r.ok) << r.error;
  expect_same(s, r.snapshot);
  EXPECT_LT(bytes.size(), encode_snapshot(s, kJson).size());
}

TEST(SnapshotCodec, EmptySnapshotRoundTrips) {
  Snapshot s;
  s.version = 1;
  for (const SnapshotFormat f : {kJson, kBinary}) {
    const SnapshotDecodeResult r = decode_snapshot(encode_snapshot(s, f), f);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.snapshot.version, 1);
    EXPECT_TRUE(r.snapshot.machines.empty());
    EXPECT_TRUE(r.snapshot.jobs.empty());
  }
}

TEST(SnapshotCodec, ExtremeIntegersRoundTrip) {
  Snapshot s = rich_snapshot();
  s.version = std::numeric_limits<std::int64_t>::max();
  s.time = std::numeric_limits<std::int64_t>::min();
  s.jobs[0].priority = std::numeric_limits<std::int32_t>::min();
  s.jobs[1].priority = std::numeric_limits<std::int32_t>::max();
  for (const SnapshotFormat f : {kJson, kBinary}) {
    const SnapshotDecodeResult r = decode_snapshot_unvalidated(encode_snapshot(s, f), f);
    ASSERT_TRUE(r.ok) << r.error;
    expect_same(s, r.snapshot);
    // Such a clock is refused by validate(): the wait time (time − submit_time) must fit.
    const SnapshotDecodeResult checked = decode_snapshot(encode_snapshot(s, f), f);
    EXPECT_FALSE(checked.ok);
    EXPECT_NE(checked.error.find("time -9223372036854775808 is outside ±2^62"), std::string::npos) << checked.error;
  }
}

TEST(SnapshotCodec, FilesFollowTheExtension) {
  const std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "sluice_codec_files";
  std::filesystem::create_directories(dir);
  const Snapshot s = rich_snapshot();
  for (const char* name : {"s.json", "s.bin"}) {
    const std::string path = (dir / name).string();
    std::string error;
    ASSERT_TRUE(sluice::write_snapshot_file(path, s, &error)) << error;
    const SnapshotDecodeResult r = sluice::read_snapshot_file(path);
    ASSERT_TRUE(r.ok) << r.error;
    expect_same(s, r.snapshot);
  }
  // The .json file is text, the other is not.
  const SnapshotDecodeResult wrong = decode_snapshot(encode_snapshot(s, kJson), kBinary);
  EXPECT_FALSE(wrong.ok);
  const SnapshotDecodeResult missing = sluice::read_snapshot_file((dir / "absent.json").string());
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.error.find("cannot open"), std::string::npos) << missing.error;
  std::string error;
  EXPECT_FALSE(sluice::write_snapshot_file((dir / "no" / "such" / "dir.json").string(), s, &error));
  EXPECT_FALSE(error.empty());
  std::filesystem::remove_all(dir);
}

// ---- The committed example -----------------------------------------------------------

TEST(SnapshotCodec, ExampleFileDecodesAndValidates) {
  const std::string path = std::string(SLUICE_TEST_DATA_DIR) + "/../examples/snapshot.json";
  const SnapshotDecodeResult r = sluice::read_snapshot_file(path);
  ASSERT_TRUE(r.ok) << r.error;
  const Snapshot& s = r.snapshot;
  ASSERT_EQ(s.machines.size(), 4u);
  std::set<std::string> racks;
  int v100 = 0;
  int a100 = 0;
  for (const Machine& m : s.machines) {
    racks.insert(m.rack);
    for (const Gpu& g : m.gpus) (g.model == "V100" ? v100 : a100) += 1;
  }
  EXPECT_EQ(racks.size(), 2u);
  EXPECT_EQ(v100, 4);
  EXPECT_EQ(a100, 8);
  int running = 0;
  int pending = 0;
  bool selector = false;
  bool preference = false;
  for (const Job& j : s.jobs) {
    for (const Task& t : j.tasks) {
      (t.state == TaskState::kRunning ? running : pending) += 1;
      selector = selector || !t.selector.empty();
      preference = preference || !t.preferred_machines.empty() || !t.preferred_racks.empty();
    }
  }
  EXPECT_GT(running, 0);
  EXPECT_GT(pending, 0);
  EXPECT_TRUE(selector);
  EXPECT_TRUE(preference);
  EXPECT_TRUE(sluice::validate(s).ok());
  // And it survives both encodings.
  for (const SnapshotFormat f : {kJson, kBinary}) {
    const SnapshotDecodeResult again = decode_snapshot(encode_snapshot(s, f), f);
    ASSERT_TRUE(again.ok) << again.error;
    expect_same(s, again.snapshot);
  }
}

// ---- Malformed input: general --------------------------------------------------------

TEST(SnapshotCodec, EmptyInput) {
  expect_error("", kJson, "empty input");
  expect_error("", kBinary, "empty input");
}

TEST(SnapshotCodec, RandomBytesNeverDecode) {
  const std::string valid = encode_snapshot(rich_snapshot(), kBinary);
  for (std::uint32_t seed = 0; seed < 2000; ++seed) {
    std::mt19937 rng(seed);
    std::string bytes(rng() % 600, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (seed % 2 == 1 && bytes.size() > 5) bytes.replace(0, 5, valid, 0, 5);  // a valid header
    for (const SnapshotFormat f : {kJson, kBinary}) {
      const SnapshotDecodeResult r = decode_snapshot(bytes, f);
      EXPECT_FALSE(r.ok) << "seed " << seed;
      EXPECT_FALSE(r.error.empty()) << "seed " << seed;
    }
  }
}

TEST(SnapshotCodec, RandomMutationsOfAValidEncodingNeverCrash) {
  const std::string valid_binary = encode_snapshot(rich_snapshot(), kBinary);
  const std::string valid_json = encode_snapshot(rich_snapshot(), kJson);
  for (std::uint32_t seed = 0; seed < 2000; ++seed) {
    std::mt19937 rng(seed);
    for (const SnapshotFormat f : {kJson, kBinary}) {
      std::string bytes = f == kJson ? valid_json : valid_binary;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
      const SnapshotDecodeResult r = decode_snapshot(bytes, f);
      if (r.ok) {
        EXPECT_TRUE(sluice::validate(r.snapshot).ok()) << "seed " << seed;
      } else {
        EXPECT_FALSE(r.error.empty()) << "seed " << seed;
      }
    }
  }
}

TEST(SnapshotCodec, EveryTruncationOfABinaryEncodingFails) {
  const std::string bytes = encode_snapshot(rich_snapshot(), kBinary);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const SnapshotDecodeResult r = decode_snapshot(std::string_view(bytes).substr(0, n), kBinary);
    ASSERT_FALSE(r.ok) << "prefix of " << n << " bytes";
    if (n > 0) {
      // Either a read ran off the end, or a length was refused for the bytes left.
      EXPECT_NE(r.error.find("byte offset"), std::string::npos) << n << ": " << r.error;
    }
  }
}

TEST(SnapshotCodec, EveryTruncationOfAJsonEncodingFails) {
  const std::string text = encode_snapshot(rich_snapshot(), kJson);
  const std::size_t last_brace = text.rfind('}');
  for (std::size_t n = 0; n < last_brace; ++n) {
    const SnapshotDecodeResult r = decode_snapshot(std::string_view(text).substr(0, n), kJson);
    ASSERT_FALSE(r.ok) << "prefix of " << n << " bytes";
    if (n > 0) {
      EXPECT_NE(r.error.find("JSON syntax error at byte offset"), std::string::npos) << r.error;
    }
  }
}

TEST(SnapshotCodec, TrailingBytesAreRefused) {
  const std::string bytes = encode_snapshot(rich_snapshot(), kBinary) + "xyz";
  expect_error(bytes, kBinary, "3 bytes left over");
  const std::string text = encode_snapshot(rich_snapshot(), kJson) + " {}";
  expect_error(text, kJson, "JSON syntax error");
}

TEST(SnapshotCodec, BadEndiannessFlag) {
  std::string bytes = encode_snapshot(rich_snapshot(), kBinary);
  bytes[0] = 7;
  expect_error(bytes, kBinary, "byte 0 (the endianness flag) is 7");
  expect_error("{", kBinary, "endianness flag");
}

// ---- Allocation bombs ----------------------------------------------------------------

// Binary layout of a snapshot (docs/snapshot.md): endianness byte, int32 format, int64
// version, int64 time, u64 machine count at byte 21, then the machines.
constexpr std::size_t kMachineCountAt = 21;

Snapshot one_machine_snapshot() {
  Snapshot s;
  Machine m;
  m.id = "m0";
  m.rack = "r0";
  m.zone = "z";
  m.cpu_milli = 10;
  m.memory_mib = 10;
  m.gpus.push_back(Gpu{0, "V100", 1000});
  s.machines.push_back(m);
  return s;
}

TEST(SnapshotCodec, HugeLengthPrefixesFailFastWithoutAllocating) {
  const long rss_before = peak_rss_kib();
  {
    std::string bytes = encode_snapshot(rich_snapshot(), kBinary);
    const std::string remain = std::to_string(bytes.size() - kMachineCountAt - 8);
    put_u64(bytes, kMachineCountAt, 0xFFFFFFFFull);
    expect_error(bytes, kBinary,
                 "machines: length 4294967295 exceeds the " + remain +
                     " bytes that remain (each element takes at least 88 bytes) (at byte offset 21)");
    put_u64(bytes, kMachineCountAt, 1ull << 63);
    expect_error(bytes, kBinary, "machines: length 9223372036854775808 exceeds the " + remain + " bytes");
    // Within the bytes but above the limit.
    put_u64(bytes, kMachineCountAt, 5);
    SnapshotLimits limits;
    limits.max_machines = 4;
    expect_error(bytes, kBinary, "machines: length 5 exceeds max_machines (4) (at byte offset 21)", limits);
  }
  {
    // machines[0].id: the string length right after the machine count.
    std::string bytes = encode_snapshot(one_machine_snapshot(), kBinary);
    put_u64(bytes, kMachineCountAt + 8, 0xFFFFFFFFull);
    expect_error(bytes, kBinary, "machines[0].id: length 4294967295 exceeds the ");
    put_u64(bytes, kMachineCountAt + 8, 3);
    SnapshotLimits limits;
    limits.max_string_bytes = 2;
    expect_error(bytes, kBinary, "machines[0].id: length 3 exceeds max_string_bytes (2)", limits);
  }
  {
    // machines[0].gpus: after id "m0", rack "r0", zone "z" and four int64 amounts.
    std::string bytes = encode_snapshot(one_machine_snapshot(), kBinary);
    const std::size_t gpus_at = kMachineCountAt + 8 + (8 + 2) + (8 + 2) + (8 + 1) + 4 * 8;
    ASSERT_EQ(bytes[gpus_at], 1);  // one GPU
    for (const std::uint64_t n : {0xFFFFFFFFull, 1ull << 63, ~0ull}) {
      put_u64(bytes, gpus_at, n);
      expect_error(bytes, kBinary,
                   "machines[0].gpus: length " + std::to_string(n) + " exceeds the " +
                       std::to_string(bytes.size() - gpus_at - 8) + " bytes that remain");
      expect_error(bytes, kBinary, "(at byte offset " + std::to_string(gpus_at) + ")");
    }
  }
  // Every position of a rich encoding, patched with each huge length: no crash, no
  // allocation (ASan would abort on one this size, RSS below would show a touched one).
  const std::string valid = encode_snapshot(rich_snapshot(), kBinary);
  SnapshotLimits unlimited;
  unlimited.max_machines = unlimited.max_tasks = unlimited.max_jobs = unlimited.max_gpus_per_machine =
      unlimited.max_string_bytes = std::numeric_limits<std::int64_t>::max();
  for (std::size_t at = 1; at + 8 <= valid.size(); ++at) {
    for (const std::uint64_t n : {0xFFFFFFFFull, 0x7FFFFFFFull, 1ull << 63, ~0ull}) {
      std::string bytes = valid;
      put_u64(bytes, at, n);
      for (const SnapshotLimits& limits : {SnapshotLimits{}, unlimited}) {
        const SnapshotDecodeResult r = decode_snapshot(bytes, kBinary, limits);
        EXPECT_FALSE(r.ok && r.snapshot.task_count() > 100) << at;
        if (!r.ok) {
          EXPECT_FALSE(r.error.empty());
        }
      }
    }
  }
  // A bomb would touch gigabytes; ASan's quarantine of freed blocks alone holds up to
  // 256 MiB, hence its larger allowance.
#if defined(__SANITIZE_ADDRESS__)
  constexpr long kAllowedKib = 512 * 1024;
#else
  constexpr long kAllowedKib = 64 * 1024;
#endif
  const long grown_kib = peak_rss_kib() - rss_before;
  EXPECT_LT(grown_kib, kAllowedKib) << "peak RSS grew by " << grown_kib << " KiB";
}

// The minimum sizes behind the length checks must never exceed what the encoder writes:
// minimal records filling the input to its very end must decode (validation may still
// refuse them, but no length may be refused).
TEST(SnapshotCodec, MinimalRecordsAtTheEndOfTheInputAreNotRefused) {
  std::vector<Snapshot> cases;
  {
    Snapshot s;
    s.machines.resize(100);  // followed only by the 8-byte job count
    cases.push_back(s);
  }
  {
    Snapshot s;
    s.machines.resize(1);
    s.machines[0].gpus.resize(100);
    cases.push_back(s);
  }
  {
    Snapshot s;
    s.jobs.resize(100);
    cases.push_back(s);
  }
  {
    Snapshot s;
    s.jobs.resize(1);
    s.jobs[0].tasks.resize(100);
    cases.push_back(s);
  }
  {
    Snapshot s;
    s.jobs.resize(1);
    s.jobs[0].tasks.resize(1);
    Task& t = s.jobs[0].tasks[0];
    t.gpu_models.resize(100);
    t.preferred_machines.resize(100);
    t.preferred_racks.resize(100);
    t.gpu_indexes.resize(100);
    t.extra[""] = 0;
    t.selector[""] = "";
    cases.push_back(s);
  }
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const std::string bytes = encode_snapshot(cases[c], kBinary);
    const SnapshotDecodeResult r = decode_snapshot(bytes, kBinary);
    EXPECT_EQ(r.error.find("remain"), std::string::npos) << "case " << c << ": " << r.error;
    EXPECT_EQ(r.error.find("byte offset"), std::string::npos) << "case " << c << ": " << r.error;
    EXPECT_NE(r.error.find("invalid snapshot"), std::string::npos) << "case " << c << ": " << r.error;
  }
}

// ---- Format version ------------------------------------------------------------------

TEST(SnapshotCodec, UnknownFormatVersionIsRefused) {
  const std::string text = encode_snapshot(rich_snapshot(), kJson);
  expect_error(replace_once(text, "\"format\": 1", "\"format\": 2"), kJson,
               "format: unsupported format 2 (this build reads 1)");
  expect_error(replace_once(text, "\"format\": 1", "\"format\": \"1\""), kJson, "format: expected an integer");
  expect_error(replace_once(text, "\"format\": 1,", ""), kJson, "format: required field is missing");
  std::string bytes = encode_snapshot(rich_snapshot(), kBinary);
  const std::int32_t two = 2;
  std::memcpy(bytes.data() + 1, &two, sizeof two);
  expect_error(bytes, kBinary, "format: unsupported format 2");
}

// ---- JSON: wrong types, bad numbers, missing fields ----------------------------------

// A small document whose values are unique, so each can be replaced by text.
Snapshot sentinel_snapshot() {
  Snapshot s = rich_snapshot();
  s.jobs[0].tasks.push_back(Task{});
  Task& t = s.jobs[0].tasks[2];
  t.id = "a-2";
  t.cpu_milli = 777;
  t.memory_mib = 4242;
  t.gpus = 3;
  t.gpu_milli = 0;
  return s;
}

TEST(SnapshotCodec, JsonWrongTypesNameTheField) {
  const std::string text = encode_snapshot(sentinel_snapshot(), kJson);
  ASSERT_TRUE(decode_snapshot(text, kJson).ok) << decode_snapshot(text, kJson).error;
  expect_error(replace_once(text, "\"cpu_milli\": 777", "\"cpu_milli\": \"777\""), kJson,
               "jobs[0].tasks[2].cpu_milli: expected an integer");
  expect_error(replace_once(text, "\"cpu_milli\": 777", "\"cpu_milli\": null"), kJson,
               "jobs[0].tasks[2].cpu_milli: expected an integer");
  expect_error(replace_once(text, "\"cpu_milli\": 777", "\"cpu_milli\": [777]"), kJson,
               "jobs[0].tasks[2].cpu_milli: expected an integer");
  expect_error(replace_once(text, "\"cpu_milli\": 777", "\"cpu_milli\": {}"), kJson,
               "jobs[0].tasks[2].cpu_milli: expected an integer");
  expect_error(replace_once(text, "\"cpu_milli\": 777", "\"cpu_milli\": true"), kJson,
               "jobs[0].tasks[2].cpu_milli: expected an integer");
  expect_error(replace_once(text, "\"id\": \"a-2\"", "\"id\": 5"), kJson, "jobs[0].tasks[2].id: expected a string");
  expect_error(replace_once(text, "\"id\": \"m1\"", "\"id\": {}"), kJson, "machines[1].id: expected a string");
  expect_error(replace_once(text, "\"kernel\": \"6.0\"", "\"kernel\": 6.0"), kJson,
               "machines[0].labels[\"kernel\"]: expected a string");
  expect_error(replace_once(text, "\"nic_gbps\": 25", "\"nic_gbps\": \"25\""), kJson,
               "machines[0].extra_capacity[\"nic_gbps\"]: expected an integer");
  expect_error(replace_once(text, "\"gpus\": 3", "\"gpus\": \"3\""), kJson,
               "jobs[0].tasks[2].gpus: expected an integer from -2147483648 to 2147483647");
  expect_error(replace_once(text, "\"gpu_indexes\": [\n            0\n          ]",
                            "\"gpu_indexes\": [\"0\"]"),
               kJson, "jobs[1].tasks[0].gpu_indexes[0]: expected an integer from");
}

TEST(SnapshotCodec, JsonContainersOfTheWrongKind) {
  Snapshot s;
  s.version = 3;
  const std::string empty = encode_snapshot(s, kJson);
  expect_error(replace_once(empty, "\"machines\": []", "\"machines\": {}"), kJson, "machines: expected an array");
  expect_error(replace_once(empty, "\"machines\": []", "\"machines\": 4"), kJson, "machines: expected an array");
  expect_error(replace_once(empty, "\"jobs\": []", "\"jobs\": \"[]\""), kJson, "jobs: expected an array");
  expect_error(replace_once(empty, "\"machines\": []", "\"machines\": [5]"), kJson, "machines[0]: expected an object");
  expect_error(replace_once(empty, "\"jobs\": []", "\"jobs\": [[]]"), kJson, "jobs[0]");

  const std::string text = encode_snapshot(one_machine_snapshot(), kJson);
  // A map given as an array must not pass as an empty map.
  expect_error(replace_once(text, "\"labels\": {}", "\"labels\": [\"gpu\"]"), kJson,
               "machines[0].labels: expected an object");
  expect_error(replace_once(text, "\"labels\": {}", "\"labels\": []"), kJson,
               "machines[0].labels: expected an object");
  expect_error(replace_once(text, "\"labels\": {}", "\"labels\": \"gpu\""), kJson,
               "machines[0].labels: expected an object");
  expect_error(replace_once(text, "\"labels\": {}", "\"labels\": {\"a\": \"1\", \"a\": \"2\"}"), kJson,
               "machines[0].labels[\"a\"]: duplicate key");
  expect_error(replace_once(text, "\"gpus\": [", "\"gpus\": [7, "), kJson, "machines[0].gpus[0]: expected an object");
  expect_error("[1, 2]", kJson, "the document must be a JSON object");
  expect_error("17", kJson, "the document must be a JSON object");
  expect_error("{}", kJson, "format: required field is missing");
}

TEST(SnapshotCodec, JsonNumbersThatAreNotIntegersOfTheField) {
  const std::string text = encode_snapshot(sentinel_snapshot(), kJson);
  const std::string field = "\"cpu_milli\": 777";
  for (const char* bad : {"1.5", "777.0", "1e30", "-1e30", "NaN", "-NaN", "Infinity", "-Infinity",
                          "9223372036854775808", "18446744073709551615", "-9223372036854775809"}) {
    SCOPED_TRACE(bad);
    expect_error(replace_once(text, field, std::string("\"cpu_milli\": ") + bad), kJson,
                 "jobs[0].tasks[2].cpu_milli: expected an integer");
  }
  for (const char* bad : {"1e400", "-1e400"}) {
    SCOPED_TRACE(bad);
    expect_error(replace_once(text, field, std::string("\"cpu_milli\": ") + bad), kJson,
                 "Number too big to be stored in double");
  }
  for (const char* bad : {"2147483648", "-2147483649", "3.0", "NaN", "1e10"}) {
    SCOPED_TRACE(bad);
    expect_error(replace_once(text, "\"gpus\": 3", std::string("\"gpus\": ") + bad), kJson,
                 "jobs[0].tasks[2].gpus: expected an integer from -2147483648 to 2147483647");
  }
  // The extremes that do fit the field are decoded; validate() then holds amounts to 2^50.
  const std::string extreme = replace_once(text, field, "\"cpu_milli\": 9223372036854775807");
  const SnapshotDecodeResult r = decode_snapshot_unvalidated(extreme, kJson);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.snapshot.jobs[0].tasks[2].cpu_milli, std::numeric_limits<std::int64_t>::max());
  expect_error(extreme, kJson, "jobs[0].tasks[2] 'a-2': cpu_milli 9223372036854775807 is above 2^50");
}

// A member name twice in one object is refused, naming it: cereal would read the first,
// Python's json the last, so the document would mean two things.
TEST(SnapshotCodec, JsonDuplicateMembersAreRefused) {
  const std::string text = encode_snapshot(sentinel_snapshot(), kJson);
  expect_error(replace_once(text, "\"cpu_milli\": 777", "\"cpu_milli\": 777, \"cpu_milli\": 1"), kJson,
               "jobs[0].tasks[2].cpu_milli: appears twice in one object");
  expect_error(replace_once(text, "\"version\": 9000000000,", "\"version\": 9000000000, \"version\": 1,"), kJson,
               "version: appears twice in one object");
  // Labels are a map: any key, but not twice either.
  expect_error(replace_once(text, "\"kernel\": \"6.0\"", "\"zz\": \"1\", \"zz\": \"2\", \"kernel\": \"6.0\""), kJson,
               "machines[0].labels[\"zz\"]: duplicate key");
  // A map with many members (past the linear scan) still catches the repeat, and the same
  // name in two different objects is fine.
  std::string labels;
  for (int i = 0; i < 40; ++i) labels += "\"k" + std::to_string(i) + "\": \"v\", ";
  const std::string anchor = "\"kernel\": \"6.0\"";
  const std::string many = replace_once(text, anchor, labels + anchor);
  const SnapshotDecodeResult ok = decode_snapshot(many, kJson);
  ASSERT_TRUE(ok.ok) << ok.error;
  EXPECT_EQ(ok.snapshot.machines[0].labels.count("k39"), 1u);
  expect_error(replace_once(text, anchor, labels + "\"k7\": \"w\", " + anchor), kJson,
               "machines[0].labels[\"k7\"]: duplicate key");
}

TEST(SnapshotCodec, JsonMissingRequiredFields) {
  const std::string text = encode_snapshot(sentinel_snapshot(), kJson);
  expect_error(replace_once(text, "\"memory_mib\": 4242,", ""), kJson,
               "jobs[0].tasks[2].memory_mib: required field is missing");
  expect_error(replace_once(text, "\"version\": 9000000000,", ""), kJson, "version: required field is missing");
  // Renamed (a typo): the unknown name is refused before the missing one is noticed.
  expect_error(replace_once(text, "\"cpu_milli\": 777", "\"cpu_mili\": 777"), kJson,
               "jobs[0].tasks[2].cpu_mili: unknown member (this build reads snapshot format 1, docs/snapshot.md)");
}

// Nothing is built from what the schema does not have: a member it does not know, in any
// record, and an object or array where it has a scalar, are refused by the streaming pass
// (a 100 MB unknown member took 1.6 GiB of document before, issue 14).
TEST(SnapshotCodec, JsonUnknownMembersAreRefused) {
  const std::string text = encode_snapshot(sentinel_snapshot(), kJson);
  const auto first_replaced = [&](const std::string& from, const std::string& to) {
    std::string out = text;
    const std::size_t at = out.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? out : out.replace(at, from.size(), to);
  };
  const std::string suffix = ": unknown member (this build reads snapshot format 1, docs/snapshot.md)";
  expect_error(replace_once(text, "\"format\": 1,", "\"format\": 1, \"comment\": [[1], {\"a\": null}],"), kJson,
               "comment" + suffix);
  expect_error(replace_once(text, "\"cpu_milli\": 777", "\"cpu_milli\": 777, \"zz\": 1"), kJson,
               "jobs[0].tasks[2].zz" + suffix);
  expect_error(first_replaced("\"free_milli\":", "\"zz\": 0, \"free_milli\":"), kJson, "].gpus[0].zz" + suffix);
  expect_error(first_replaced("\"weight\":", "\"zz\": 0, \"weight\":"), kJson, "[0].zz" + suffix);
  // An object or array where the schema has a scalar: refused before it is built.
  expect_error(replace_once(text, "\"cpu_milli\": 777", "\"cpu_milli\": {\"zz\": [0, 0]}"), kJson,
               "jobs[0].tasks[2].cpu_milli: expected an integer");
  expect_error(replace_once(text, "\"kernel\": \"6.0\"", "\"kernel\": [\"6.0\"]"), kJson,
               "machines[0].labels[\"kernel\"]: expected a string");
  expect_error(first_replaced("\"gpu_models\": [", "\"gpu_models\": [[\"x\"], "), kJson,
               "gpu_models[0]: expected a string");
  // Every member the encoder writes is known: its own output decodes.
  const SnapshotDecodeResult back = decode_snapshot(text, kJson);
  EXPECT_TRUE(back.ok) << back.error;
}

TEST(SnapshotCodec, JsonTaskState) {
  const std::string text = encode_snapshot(sentinel_snapshot(), kJson);
  const std::size_t first = text.find("\"state\": \"pending\"");
  ASSERT_NE(first, std::string::npos);
  std::string bad = text;
  bad.replace(first, std::strlen("\"state\": \"pending\""), "\"state\": \"sleeping\"");
  expect_error(bad, kJson, "jobs[0].tasks[0].state: expected \"pending\" or \"running\", got \"sleeping\"");
  bad = text;
  bad.replace(first, std::strlen("\"state\": \"pending\""), "\"state\": 1");
  expect_error(bad, kJson, "jobs[0].tasks[0].state: expected \"pending\" or \"running\"");
}

TEST(SnapshotCodec, BinaryUnknownTaskState) {
  Snapshot s;
  s.jobs.resize(1);
  s.jobs[0].id = "j";
  s.jobs[0].tasks.resize(1);
  s.jobs[0].tasks[0].id = "t";
  std::string bytes = encode_snapshot(s, kBinary);
  // The task ends with: state (1 byte), machine (8-byte length, empty), gpu_indexes (8).
  const std::size_t state_at = bytes.size() - 17;
  ASSERT_EQ(bytes[state_at], 0);
  ASSERT_TRUE(decode_snapshot(bytes, kBinary).ok);
  bytes[state_at] = 9;
  expect_error(bytes, kBinary, "jobs[0].tasks[0].state: unknown task state 9 (at byte offset " +
                                   std::to_string(state_at) + ")");
}

TEST(SnapshotCodec, DeeplyNestedGarbage) {
  for (const std::size_t depth : {100u, 100000u}) {
    std::string objects;
    // Refused where the nesting leaves the schema, long before any depth matters (the
    // streaming pass also stops at 64 levels, whatever the schema).
    for (std::size_t i = 0; i < depth; ++i) objects += "{\"a\":";
    objects += "1";
    for (std::size_t i = 0; i < depth; ++i) objects += "}";
    expect_error(objects, kJson, "a: unknown member");
    std::string arrays = "{\"format\": 1, \"machines\": " + std::string(depth, '[') + std::string(depth, ']') + "}";
    expect_error(arrays, kJson, "machines[0]: expected an object");
    expect_error(std::string(depth, '['), kJson, "the document must be a JSON object");
    // Unclosed: refused before the missing brackets matter.
    expect_error("{\"jobs\":" + std::string(depth, '['), kJson, "jobs[0]: expected an object");
  }
  expect_error("{\"format\": 1, \"version\": 1, \"time\": 1, \"machines\": [[[[]]]], \"jobs\": []}", kJson,
               "machines[0]: expected an object");
}

TEST(SnapshotCodec, SyntaxErrorsGiveTheOffset) {
  expect_error("{\"format\": 1,, }", kJson, "JSON syntax error at byte offset 13");
  expect_error("{\"format\": 01}", kJson, "JSON syntax error at byte offset");
  expect_error(std::string("{\"format\": 1\0}", 14), kJson, "JSON syntax error");
  expect_error("{\"format\": \"unterminated", kJson, "JSON syntax error");
}

// ---- Limits --------------------------------------------------------------------------

TEST(SnapshotCodec, CountsAboveLimitsAreRefused) {
  const Snapshot s = rich_snapshot();  // 4 machines, 3 tasks, up to 8 GPUs a machine
  const std::string text = encode_snapshot(s, kJson);
  const std::string bytes = encode_snapshot(s, kBinary);

  SnapshotLimits limits;
  limits.max_machines = 3;
  expect_error(text, kJson, "machines: 4 elements exceed max_machines (3)", limits);
  expect_error(bytes, kBinary, "machines: length 4 exceeds max_machines (3) (at byte offset 21)", limits);

  limits = {};
  limits.max_tasks = 2;
  expect_error(text, kJson, "jobs[1].tasks: these 1 tasks bring the total to 3, above max_tasks (2)", limits);
  expect_error(bytes, kBinary, "jobs[1].tasks: these 1 tasks bring the total to 3, above max_tasks (2)", limits);

  limits = {};
  limits.max_jobs = 1;
  expect_error(text, kJson, "jobs: 2 elements exceed max_jobs (1)", limits);
  expect_error(bytes, kBinary, "jobs: length 2 exceeds max_jobs (1)", limits);

  limits = {};
  limits.max_gpus_per_machine = 4;
  expect_error(text, kJson, "machines[3].gpus: 8 elements exceed max_gpus_per_machine (4)", limits);
  expect_error(bytes, kBinary, "machines[3].gpus: length 8 exceeds max_gpus_per_machine (4)", limits);

  limits = {};
  limits.max_string_bytes = 5;
  expect_error(text, kJson, "machines[0].zone: string of 12 bytes exceeds max_string_bytes (5)", limits);
  expect_error(bytes, kBinary, "machines[0].zone: length 12 exceeds max_string_bytes (5)", limits);

  // At the limits exactly, it decodes.
  limits.max_machines = 4;
  limits.max_tasks = 3;
  limits.max_jobs = 2;
  limits.max_gpus_per_machine = 8;
  limits.max_string_bytes = 12;
  for (const SnapshotFormat f : {kJson, kBinary}) {
    const SnapshotDecodeResult r = decode_snapshot(f == kJson ? text : bytes, f, limits);
    EXPECT_TRUE(r.ok) << r.error;
  }
}

TEST(SnapshotCodec, DecodedSnapshotsAreValidated) {
  Snapshot s = rich_snapshot();
  s.machines[1].id = "m0";
  for (const SnapshotFormat f : {kJson, kBinary}) {
    const SnapshotDecodeResult r = decode_snapshot(encode_snapshot(s, f), f);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error.rfind("invalid snapshot: ", 0), 0u) << r.error;
    EXPECT_NE(r.error.find("duplicate machine id"), std::string::npos) << r.error;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Cancellation: a raised flag stops decoding and validation part-way (issue 14, bug 1),
// and reports it as cancelled rather than as a malformed or invalid snapshot.

namespace sluice {
namespace {

Snapshot large_snapshot() {
  SnapshotGenParams p;
  p.machines = 2000;
  p.tasks = 30000;  // over 4096 records, and over 1 MiB of JSON
  p.seed = 9;
  return generate_snapshot(p);
}

TEST(SnapshotCancel, RaisedFlagStopsDecodingInBothFormats) {
  const Snapshot s = large_snapshot();
  for (const SnapshotFormat f : {SnapshotFormat::kJson, SnapshotFormat::kBinary}) {
    const std::string bytes = encode_snapshot(s, f);
    ASSERT_GT(bytes.size(), std::size_t{1} << 20);
    std::atomic<bool> cancel{false};
    const SnapshotDecodeResult whole = decode_snapshot_unvalidated(bytes, f, {}, &cancel);
    ASSERT_TRUE(whole.ok) << whole.error;  // an unraised flag changes nothing
    EXPECT_FALSE(whole.cancelled);
    cancel = true;
    const SnapshotDecodeResult cut = decode_snapshot_unvalidated(bytes, f, {}, &cancel);
    EXPECT_FALSE(cut.ok);
    EXPECT_TRUE(cut.cancelled) << cut.error;
    EXPECT_EQ(cut.error, "cancelled during decoding");
  }
}

TEST(SnapshotCancel, RaisedFlagStopsValidation) {
  const Snapshot s = large_snapshot();
  std::atomic<bool> cancel{false};
  EXPECT_TRUE(validate(s, SnapshotLimits{}, &cancel).ok());
  cancel = true;
  const Validation v = validate(s, SnapshotLimits{}, &cancel);
  EXPECT_EQ(v.status, Status::kCancelled);
  EXPECT_EQ(v.message, "cancelled during validation");
  // A broken snapshot small enough to be checked before the first look at the flag is still
  // reported for what it is.
  Snapshot tiny;
  tiny.machines.resize(1);
  EXPECT_EQ(validate(tiny, SnapshotLimits{}, &cancel).status, Status::kInvalidInput);
}

}  // namespace
}  // namespace sluice
