// What fuzzing found (fuzz/, scripts/fuzz.sh), each kept as a test: the exact input
// libFuzzer wrote (the larger ones as hex at the end of this file), the root cause and the
// fix in the comment. Then hand-made hostile inputs for every decoder that reads untrusted
// input: length bombs, deep JSON nesting, NUL bytes, numbers at and past every limit. A
// decoder must refuse these with a message that says what and where, or accept them
// correctly; none may crash, throw or allocate what a length prefix merely claims.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>

#include "sluice/dimacs.hpp"
#include "sluice/openb.hpp"
#include "sluice/protocol.hpp"
#include "sluice/snapshot_io.hpp"

namespace sluice {
namespace {

// The exact crash inputs too large to read inline (defined at the end of this file).
extern const std::string_view kAllocationHugeTiming;
extern const std::string_view kHealthLongString;
extern const std::string_view kSnapshotNulInLabelKey;
extern const std::string_view kOpenbNulInPodName;

std::string from_hex(std::string_view hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// protocol_fuzz's input: byte 0 picks the decoder and the format, the rest is the frame.
std::string_view body(std::string_view fuzz_input) { return fuzz_input.substr(1); }

std::string with_nul(std::string text, std::string_view tail) {
  text.push_back('\0');
  text.append(tail);
  return text;
}

template <class T>
void put(std::string& out, std::size_t offset, T value) {
  std::memcpy(out.data() + offset, &value, sizeof value);  // the writer is little-endian
}

// A small valid snapshot: one machine with a label, one pending job.
Snapshot small_snapshot() {
  Snapshot s;
  s.version = 5;
  Machine& m = s.machines.emplace_back();
  m.id = "m0";
  m.rack = "r0";
  m.cpu_milli = m.free_cpu_milli = 8000;
  m.memory_mib = m.free_memory_mib = 4096;
  m.labels["arch"] = "x86_64";
  Job& job = s.jobs.emplace_back();
  job.id = "j0";
  Task& t = job.tasks.emplace_back();
  t.id = "t0";
  t.cpu_milli = 1000;
  t.memory_mib = 512;
  return s;
}

std::string small_json() { return encode_snapshot(small_snapshot(), SnapshotFormat::kJson); }

// Replaces the first `from` in a JSON document (a field of small_json()).
std::string replaced(std::string text, std::string_view from, std::string_view to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

HealthInfo sample_health() { return HealthInfo{"serving", "0.1.0", 12.5, 4, 1, 64, 2, 7, "cpu"}; }

std::string health_json_with(std::string_view field, std::string_view value) {
  return replaced(encode_health(sample_health(), BodyFormat::kJson), field, value);
}

// ==== Findings ==============================================================================

// protocol_fuzz, UBSan "passing zero to clz()" in rapidjson/internal/diyfp.h. rapidjson
// 1.1.0's full-precision strtod rounds a 19-digit significand of 2^64-1 up to 0 (and starts
// from 0 for a zero with a large exponent), then normalizes it with clz(0): the value is
// garbage ("0e308" read as 3.2e88, "-0e300" as a positive number). Fix: the protocol's JSON
// reader takes numbers as text and converts them with std::from_chars (protocol.cpp,
// ExactNumbers); the snapshot's pre-pass no longer converts numbers and cereal parses at
// normal precision, which reads integers exactly (snapshot_cereal.hpp).
TEST(FuzzFindings, ProtocolJsonNumbersAreReadExactly) {
  const std::string_view crash =
      "\x03"
      "0.00000184467440737095516159910280134656\"opending_tasks999999800}";
  const RequestOptionsDecodeResult r = decode_request_options(body(crash), BodyFormat::kJson);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error,
            "options: JSON syntax error at byte offset 40: The document root must not be followed by other values.");

  const struct {
    const char* text;
    double value;
  } cases[] = {{"0e308", 0.0},
               {"-0e300", -0.0},
               {"0.0e-200", 0.0},
               {"0.00000184467440737095516159910280134656", 0.00000184467440737095516159910280134656},
               {"18446744073709551615.9", 18446744073709551615.9},
               {"12.5", 12.5},
               {"4.9406564584124654e-324", 4.9406564584124654e-324}};
  for (const auto& c : cases) {
    std::string error;
    const auto h = decode_health(health_json_with("12.5", c.text), BodyFormat::kJson, &error);
    ASSERT_TRUE(h.has_value()) << c.text << ": " << error;
    EXPECT_EQ(h->uptime_s, c.value) << c.text;
    EXPECT_EQ(std::signbit(h->uptime_s), std::signbit(c.value)) << c.text;
  }
}

// protocol_fuzz, round-trip check: an allocation decoded from binary made a JSON document
// that did not decode ("Miss fraction part in number"). allocation_to_json wrote each timing
// with "%.6f" into 32 bytes, which cut 1e30 to "1000...0." (and NaN came out as "nan").
// Fix: a buffer that holds any double; the binary decoders refuse NaN and infinity, which
// JSON cannot carry (so both formats accept the same values), and JSON writes null for them.
TEST(FuzzFindings, AllocationJsonHoldsEveryTiming) {
  const std::string crash = from_hex(kAllocationHugeTiming);
  ASSERT_EQ(crash[0], '\x04');
  // Found with protocol version 1, whose allocation record ends at `repaired`.
  const AllocationDecodeResult binary = decode_allocation(body(crash), BodyFormat::kBinary, {}, 1);
  ASSERT_TRUE(binary.ok) << binary.error;
  const std::string json = encode_allocation(binary.allocation, BodyFormat::kJson);
  const AllocationDecodeResult back = decode_allocation(json, BodyFormat::kJson);
  ASSERT_TRUE(back.ok) << back.error;
  EXPECT_NEAR(back.allocation.timings.total_s, binary.allocation.timings.total_s, 1e-6);

  Allocation a;
  a.status = Status::kOptimal;
  a.timings.total_s = 1e300;
  a.timings.solve_s = -1e30;
  const AllocationDecodeResult huge = decode_allocation(encode_allocation(a, BodyFormat::kJson), BodyFormat::kJson);
  ASSERT_TRUE(huge.ok) << huge.error;
  EXPECT_EQ(huge.allocation.timings.total_s, 1e300);
  EXPECT_EQ(huge.allocation.timings.solve_s, -1e30);

  a.timings.decode_s = std::numeric_limits<double>::quiet_NaN();
  const AllocationDecodeResult nan = decode_allocation(encode_allocation(a, BodyFormat::kBinary), BodyFormat::kBinary);
  EXPECT_FALSE(nan.ok);
  // The field itself is named since the allocation records are walked from wire_schema.hpp.
  EXPECT_NE(nan.error.find("allocation: timings.decode: expected a finite number, found nan"), std::string::npos)
      << nan.error;
  const std::string nan_json = encode_allocation(a, BodyFormat::kJson);
  EXPECT_NE(nan_json.find("\"decode\": null"), std::string::npos) << nan_json.substr(0, 400);
  const AllocationDecodeResult null = decode_allocation(nan_json, BodyFormat::kJson);
  EXPECT_FALSE(null.ok);
  EXPECT_EQ(null.error, "allocation: decode: expected a number");

  HealthInfo h = sample_health();
  h.uptime_s = std::numeric_limits<double>::infinity();
  std::string error;
  EXPECT_FALSE(decode_health(encode_health(h, BodyFormat::kBinary), BodyFormat::kBinary, &error).has_value());
  EXPECT_NE(error.find("uptime_s: expected a finite number, found inf"), std::string::npos) << error;
}

// protocol_fuzz, round-trip check: a health record with a 4270-byte string decoded from
// JSON, but its binary encoding did not decode: binary strings are held to
// max_string_bytes (4096), JSON strings were not. Fix: the JSON readers apply the same
// limits (strings, and GPU index lists in allocations), so both formats accept the same.
TEST(FuzzFindings, ProtocolJsonStringsHaveTheBinaryLimits) {
  const std::string crash = from_hex(kHealthLongString);
  ASSERT_EQ(crash[0], '\x07');
  std::string error;
  EXPECT_FALSE(decode_health(body(crash), BodyFormat::kJson, &error).has_value());
  EXPECT_EQ(error, "gpu: string of 4270 bytes exceeds max_string_bytes (4096)");

  HealthInfo h = sample_health();
  h.gpu = std::string(4096, 'g');
  EXPECT_TRUE(decode_health(encode_health(h, BodyFormat::kJson), BodyFormat::kJson, &error).has_value()) << error;
  h.gpu.push_back('g');
  for (const BodyFormat f : {BodyFormat::kJson, BodyFormat::kBinary}) {
    EXPECT_FALSE(decode_health(encode_health(h, f), f, &error).has_value()) << to_string(f);
    EXPECT_NE(error.find("4097"), std::string::npos) << error;
  }

  Allocation a;
  a.status = Status::kOptimal;
  a.placements.push_back(Placement{"j", "t", "m", std::vector<std::int32_t>(1025, 0)});
  for (const BodyFormat f : {BodyFormat::kJson, BodyFormat::kBinary}) {
    const AllocationDecodeResult r = decode_allocation(encode_allocation(a, f), f);
    EXPECT_FALSE(r.ok) << to_string(f);
    EXPECT_NE(r.error.find("placements[0].gpus"), std::string::npos) << r.error;
  }
  a.placements[0].gpu_indexes.resize(3);
  a.placements[0].job = std::string(5000, 'j');
  const AllocationDecodeResult json = decode_allocation(encode_allocation(a, BodyFormat::kJson), BodyFormat::kJson);
  EXPECT_EQ(json.error, "allocation: placements[0].job: string of 5000 bytes exceeds max_string_bytes (4096)");
}

// protocol_fuzz and snapshot_json_fuzz hold every JSON decoder to "a raw NUL byte is never
// JSON". rapidjson reads a NUL as the end of the text, so '{...}\0anything' was accepted
// with the tail ignored. Fix: the JSON readers refuse a raw NUL, naming its offset.
TEST(FuzzFindings, JsonWithARawNulIsRefused) {
  const std::string options = with_nul(R"({"cost_model": "fgd"})", R"({"verify": true})");
  const RequestOptionsDecodeResult r = decode_request_options(options, BodyFormat::kJson);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "options: JSON syntax error at byte offset 21: a NUL byte");

  std::string error;
  EXPECT_FALSE(decode_stats(with_nul(encode_stats(ServiceStats{}, BodyFormat::kJson), "x"), BodyFormat::kJson, &error)
                   .has_value());
  EXPECT_NE(error.find("a NUL byte"), std::string::npos) << error;

  const std::string json = small_json();
  const SnapshotDecodeResult s = decode_snapshot(with_nul(json, "garbage"), SnapshotFormat::kJson);
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.error, "JSON syntax error at byte offset " + std::to_string(json.size()) + ": a NUL byte");
  EXPECT_TRUE(decode_snapshot(json, SnapshotFormat::kJson).ok);
}

// snapshot_json_fuzz, the same rapidjson clz(0) in the pre-pass (input "0e308\0\0"): the
// pre-pass now leaves numbers as text, cereal parses at normal precision, and the NUL is
// refused first. Numbers where the schema wants integers stay refused by name.
TEST(FuzzFindings, SnapshotJsonZeroWithExponent) {
  const std::string crash("0e308\0\0", 7);
  const SnapshotDecodeResult r = decode_snapshot(crash, SnapshotFormat::kJson);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "JSON syntax error at byte offset 5: a NUL byte");
  EXPECT_EQ(decode_snapshot("0e308", SnapshotFormat::kJson).error, "the document must be a JSON object");

  const std::string json = small_json();
  for (const char* number : {"0e308", "-0e300", "0.00000184467440737095516159910280134656", "1e30", "1.0"}) {
    const SnapshotDecodeResult time =
        decode_snapshot(replaced(json, "\"time\": 0", std::string("\"time\": ") + number), SnapshotFormat::kJson);
    EXPECT_FALSE(time.ok) << number;
    EXPECT_EQ(time.error, "time: expected an integer") << number;
    // A member the schema does not know is refused by name, whatever number it holds.
    const SnapshotDecodeResult unknown = decode_snapshot(
        replaced(json, "\"time\": 0", std::string("\"note\": ") + number + ", \"time\": 0"), SnapshotFormat::kJson);
    EXPECT_FALSE(unknown.ok) << number;
    EXPECT_EQ(unknown.error.rfind("note: unknown member", 0), 0u) << unknown.error;
  }
}

// snapshot_binary_fuzz, round-trip check: a binary snapshot with a NUL byte in a label key
// decoded, but its JSON encoding decoded to a different snapshot: cereal writes map keys as
// C strings (cut at the NUL) and reads JSON strings the same way. Fix: no snapshot string
// may hold a NUL. validate() refuses it (so binary decoding does), and the JSON pre-pass
// refuses \u0000 in strings and member names instead of letting cereal cut them.
TEST(FuzzFindings, SnapshotStringsCannotHoldNul) {
  const SnapshotDecodeResult crash = decode_snapshot(from_hex(kSnapshotNulInLabelKey), SnapshotFormat::kBinary);
  EXPECT_FALSE(crash.ok);
  EXPECT_EQ(crash.error, "invalid snapshot: machines[1] 'node-a2': label holds a NUL byte");

  Snapshot s = small_snapshot();
  s.machines[0].labels[std::string("a\0b", 3)] = "v";
  const SnapshotDecodeResult key =
      decode_snapshot(encode_snapshot(s, SnapshotFormat::kBinary), SnapshotFormat::kBinary);
  EXPECT_FALSE(key.ok);
  EXPECT_EQ(key.error, "invalid snapshot: machines[0] 'm0': label holds a NUL byte");
  s = small_snapshot();
  s.jobs[0].tasks[0].extra[std::string("g\0pu", 4)] = 1;
  EXPECT_EQ(validate(s).message, "jobs[0].tasks[0] 't0': resource name holds a NUL byte");

  const std::string json = small_json();
  const SnapshotDecodeResult id =
      decode_snapshot(replaced(json, R"("id": "m0")", R"("id": "m\u00000")"), SnapshotFormat::kJson);
  EXPECT_FALSE(id.ok);
  EXPECT_EQ(id.error, "machines[0].id: a string holding a NUL character (\\u0000)");
  const SnapshotDecodeResult label =
      decode_snapshot(replaced(json, R"("arch": )", R"("ar\u0000ch": )"), SnapshotFormat::kJson);
  EXPECT_FALSE(label.ok);
  EXPECT_EQ(label.error, "machines[0].labels[\"ar\"]: a member name holding a NUL character (\\u0000)");
  const SnapshotDecodeResult model = decode_snapshot(
      replaced(json, R"("gpu_models": [])", R"("gpu_models": ["V100", "A\u0000"])"), SnapshotFormat::kJson);
  EXPECT_EQ(model.error, "jobs[0].tasks[0].gpu_models[1]: a string holding a NUL character (\\u0000)");
}

// dimacs_fuzz, out-of-memory: "p min  000184230247 0" (21 bytes) made the reader allocate
// 1.5 GB. Isolated nodes are legal, so a file may rightly declare N nodes it never lists,
// and the reader only refused N that would not fit in the machine's memory. Fix:
// DimacsLimits, so a reader of untrusted files bounds what a header may claim.
TEST(FuzzFindings, DimacsHeaderCannotClaimGigabytes) {
  DimacsLimits limits;
  limits.max_nodes = std::int64_t{1} << 20;
  std::istringstream crash("p min  000184230247 0");
  const DimacsReadResult r = read_dimacs(crash, "fuzz.min", limits);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error,
            "fuzz.min:1: expected node count in range [0, 1048576] (node count out of range), found "
            "'000184230247'");

  std::istringstream at_limit("p min 1048576 1\na 1 1048576 0 1 1\n");
  const DimacsReadResult ok = read_dimacs(at_limit, "at_limit.min", limits);
  ASSERT_TRUE(ok.ok) << ok.error;
  EXPECT_EQ(ok.network.num_nodes(), 1048576);

  limits.max_arcs = 1;
  std::istringstream arcs("p min 2 2\na 1 2 0 1 1\na 2 1 0 1 1\n");
  EXPECT_EQ(read_dimacs(arcs, "arcs.min", limits).error,
            "arcs.min:1: expected arc count in range [0, 1] (arc count out of range), found '2'");

  const std::filesystem::path file = std::filesystem::temp_directory_path() / "sluice_fuzz_regression.min";
  std::ofstream(file) << "p min  000184230247 0";
  const DimacsReadResult from_file = read_dimacs_file(file.string(), limits);
  std::filesystem::remove(file);
  EXPECT_FALSE(from_file.ok);
  EXPECT_NE(from_file.error.find(":1: expected node count in range [0, 1048576]"), std::string::npos)
      << from_file.error;
}

// openb_fuzz, validation check: a pod name holding NUL bytes imported, and the snapshot it
// made failed validate() (no snapshot string may hold a NUL). Fix: the CSV reader refuses a
// NUL byte at its line and column, and names over max_string_bytes, so what imports validates.
class OpenbFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice_fuzz_openb_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // openb_fuzz's input: the node CSV, a NUL, the pod CSV.
  OpenbImportResult import(std::string_view input) {
    const std::size_t nul = input.find('\0');
    const std::string nodes = (dir_ / "nodes.csv").string();
    const std::string pods = (dir_ / "pods.csv").string();
    std::ofstream(nodes, std::ios::binary) << input.substr(0, nul);
    std::ofstream(pods, std::ios::binary)
        << (nul == std::string_view::npos ? std::string_view{} : input.substr(nul + 1));
    return import_openb(nodes, pods);
  }
  std::string path(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(OpenbFiles, NulBytesAndOverlongNamesAreRefused) {
  const OpenbImportResult crash = import(from_hex(kOpenbNulInPodName));
  EXPECT_FALSE(crash.ok);
  EXPECT_EQ(crash.error, path("pods.csv") + ":2: expected text, found a NUL byte at column 2");

  const std::string nodes = "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,1024,2,T4\n";
  const std::string pods = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\n";
  std::ofstream(path("nul_nodes.csv"), std::ios::binary)
      << std::string("sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,0,\nn\0", 46);
  std::ofstream(path("empty_pods.csv"), std::ios::binary) << pods;
  const OpenbImportResult in_node = import_openb(path("nul_nodes.csv"), path("empty_pods.csv"));
  EXPECT_EQ(in_node.error, path("nul_nodes.csv") + ":3: expected text, found a NUL byte at column 2");

  const OpenbImportResult longest = import(with_nul(nodes, pods + std::string(4096, 'p') + ",1,1,0,0\n"));
  ASSERT_TRUE(longest.ok) << longest.error;
  EXPECT_TRUE(validate(longest.snapshot).ok());
  const OpenbImportResult too_long = import(with_nul(nodes, pods + std::string(4097, 'p') + ",1,1,0,0\n"));
  EXPECT_EQ(too_long.error.substr(0, too_long.error.find(" ('")),
            path("pods.csv") + ":2: expected a name of at most 4096 bytes, found 4097 bytes");
  const OpenbImportResult model =
      import(with_nul("sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,1," + std::string(5000, 'M') + "\n", pods));
  EXPECT_NE(model.error.find("nodes.csv:2: expected a model of at most 4096 bytes, found 5000 bytes"),
            std::string::npos)
      << model.error;
}

// ==== Hand-made hostile inputs ==============================================================

TEST(HostileProtocol, EnvelopesAreRefusedByName) {
  const std::string good = encode_envelope(Envelope{});
  EXPECT_EQ(decode_envelope(std::string(48, '\xff')).error, "bad magic: the envelope must start with \"SLCE\"");
  EXPECT_EQ(decode_envelope(std::string(48, '\0')).error, "bad magic: the envelope must start with \"SLCE\"");
  EXPECT_EQ(decode_envelope(good.substr(0, 47)).error, "envelope is 47 bytes, expected 48");
  std::string v = good;
  put<std::uint16_t>(v, 4, 0xFFFF);
  const EnvelopeDecodeResult version = decode_envelope(v);
  EXPECT_EQ(version.code, ReplyCode::kUnsupportedVersion);
  std::string reserved = good;
  reserved[35] = 1;
  EXPECT_EQ(decode_envelope(reserved).error, "reserved bytes 34..35 must be zero");
  std::string body_bytes = good;
  put<std::uint64_t>(body_bytes, 40, ~std::uint64_t{0});  // a claim only: the service checks it
  const EnvelopeDecodeResult claim = decode_envelope(body_bytes);
  ASSERT_TRUE(claim.ok) << claim.error;
  EXPECT_EQ(claim.envelope.body_bytes, ~std::uint64_t{0});
}

TEST(HostileProtocol, LengthBombsAreRefusedBeforeAllocating) {
  std::string options = encode_request_options(AllocateRequestOptions{}, BodyFormat::kBinary);
  put<std::uint64_t>(options, 1, ~std::uint64_t{0});  // cost_model's length
  const RequestOptionsDecodeResult o = decode_request_options(options, BodyFormat::kBinary);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.error.find("options: cost_model: length 18446744073709551615 exceeds"), std::string::npos) << o.error;

  Allocation a;
  a.status = Status::kOptimal;
  std::string bytes = encode_allocation(a, BodyFormat::kBinary);
  // The five lists are the last 40 bytes: claim 2^40 placements.
  put<std::uint64_t>(bytes, bytes.size() - 40, std::uint64_t{1} << 40);
  const AllocationDecodeResult r = decode_allocation(bytes, BodyFormat::kBinary);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("allocation: placements: length 1099511627776 exceeds the 32 bytes that remain"),
            std::string::npos)
      << r.error;

  std::string health = encode_health(sample_health(), BodyFormat::kBinary);
  put<std::uint64_t>(health, 1, std::uint64_t{1} << 62);  // state's length
  std::string error;
  EXPECT_FALSE(decode_health(health, BodyFormat::kBinary, &error).has_value());
  EXPECT_NE(error.find("state: length 4611686018427387904 exceeds"), std::string::npos) << error;
  EXPECT_FALSE(decode_stats("", BodyFormat::kBinary, &error).has_value());
  EXPECT_EQ(error, "empty body");
}

TEST(HostileProtocol, DeepJsonIsRefusedWithoutRecursion) {
  const std::string open(100000, '[');
  const RequestOptionsDecodeResult unclosed = decode_request_options(open, BodyFormat::kJson);
  EXPECT_FALSE(unclosed.ok);
  EXPECT_EQ(unclosed.error.rfind("options: JSON syntax error at byte offset 100000", 0), 0u) << unclosed.error;
  const RequestOptionsDecodeResult closed = decode_request_options(open + std::string(100000, ']'), BodyFormat::kJson);
  EXPECT_EQ(closed.error, "options: the body must be a JSON object");

  std::string deep;
  for (int i = 0; i < 50000; ++i) deep += "{\"a\":";
  deep += "1" + std::string(50000, '}');
  std::string error;
  EXPECT_FALSE(decode_health(health_json_with("\"cpu\"", deep), BodyFormat::kJson, &error).has_value());
  EXPECT_EQ(error, "gpu: expected a string");
  const AllocationDecodeResult a = decode_allocation("{\"status\": " + deep + "}", BodyFormat::kJson);
  EXPECT_EQ(a.error, "allocation: status: expected a string");
}

TEST(HostileProtocol, NumbersPastEveryLimitAreRefused) {
  const struct {
    std::string json;
    std::string error;
  } cases[] = {
      {R"({"migration_cost": 99999999999999999999})", "options: migration_cost: expected a 64-bit integer"},
      {R"({"migration_cost": 1099511627777})", "options: migration_cost: 1099511627777 is outside 0..1000000"},
      {R"({"migration_cost": 1000001})", "options: migration_cost: 1000001 is outside 0..1000000"},
      {R"({"deadline_ms": -1})", "options: deadline_ms: must be >= 0, found -1"},
      {R"({"deadline_ms": 1e400})",
       "options: JSON syntax error at byte offset 16: Number too big to be stored in double."},
      {R"({"deadline_ms": 1.8e308})", "options: JSON syntax error at byte offset 16: number 1.8e308 is out of range"},
      {R"({"deadline_ms": 1.5})", "options: deadline_ms: expected a 64-bit integer"},
      {R"({"deadline_ms": "5"})", "options: deadline_ms: expected a 64-bit integer"},
  };
  for (const auto& c : cases) {
    const RequestOptionsDecodeResult r = decode_request_options(c.json, BodyFormat::kJson);
    EXPECT_FALSE(r.ok) << c.json;
    EXPECT_EQ(r.error, c.error) << c.json;
  }
  std::string error;
  EXPECT_FALSE(decode_health(health_json_with("\"workers\":4", "\"workers\":2147483648"), BodyFormat::kJson, &error)
                   .has_value());
  EXPECT_EQ(error, "workers: expected an integer from -2147483648 to 2147483647");
  const std::string stats = encode_stats(ServiceStats{}, BodyFormat::kJson);
  EXPECT_FALSE(
      decode_stats(replaced(stats, "\"received\":0", "\"received\":18446744073709551616"), BodyFormat::kJson, &error)
          .has_value());
  EXPECT_EQ(error, "received: expected a non-negative 64-bit integer");
  const auto max =
      decode_stats(replaced(stats, "\"received\":0", "\"received\":18446744073709551615"), BodyFormat::kJson, &error);
  ASSERT_TRUE(max.has_value()) << error;
  EXPECT_EQ(max->received, ~std::uint64_t{0});
}

TEST(HostileSnapshot, BinaryLengthBombsAreRefusedBeforeAllocating) {
  const std::string good = encode_snapshot(small_snapshot(), SnapshotFormat::kBinary);
  std::string machines = good;
  put<std::uint64_t>(machines, 21, 0xFFFFFFFFull);  // docs/snapshot.md: the machine count sits at byte 21
  const SnapshotDecodeResult m = decode_snapshot(machines, SnapshotFormat::kBinary);
  EXPECT_FALSE(m.ok);
  EXPECT_EQ(m.error.rfind("machines: length 4294967295 exceeds the ", 0), 0u) << m.error;

  std::string id = good;
  put<std::uint64_t>(id, 29, std::uint64_t{1} << 63);  // the first machine's id length
  const SnapshotDecodeResult s = decode_snapshot(id, SnapshotFormat::kBinary);
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.error.rfind("machines[0].id: length 9223372036854775808 exceeds", 0), 0u) << s.error;

  SnapshotLimits limits;
  limits.max_tasks = 0;
  const SnapshotDecodeResult tasks = decode_snapshot(good, SnapshotFormat::kBinary, limits);
  EXPECT_EQ(tasks.error, "jobs[0].tasks: these 1 tasks bring the total to 1, above max_tasks (0)");

  EXPECT_EQ(decode_snapshot(std::string(1, '\x02') + good.substr(1), SnapshotFormat::kBinary).error,
            "not a binary snapshot: byte 0 (the endianness flag) is 2, not 0 or 1");
  EXPECT_EQ(decode_snapshot("", SnapshotFormat::kBinary).error, "empty input");
  EXPECT_NE(decode_snapshot(good + std::string(1, '\0'), SnapshotFormat::kBinary).error.find("1 bytes left over"),
            std::string::npos);
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(decode_snapshot(good.substr(0, n), SnapshotFormat::kBinary).ok) << n;
  }
}

TEST(HostileSnapshot, BigEndianIsRead) {
  // format 1, version 0x0102030405060708, time 0, no machines, no jobs: all big-endian.
  std::string bytes(1 + 4 + 8 + 8 + 8 + 8, '\0');
  bytes[4] = 1;
  for (int i = 0; i < 8; ++i) bytes[5 + i] = static_cast<char>(i + 1);
  const SnapshotDecodeResult r = decode_snapshot(bytes, SnapshotFormat::kBinary);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.snapshot.version, 0x0102030405060708);
}

TEST(HostileSnapshot, DeepJsonIsRefused) {
  EXPECT_EQ(decode_snapshot(std::string(100000, '['), SnapshotFormat::kJson).error,
            "the document must be a JSON object");
  // Deep nesting leaves the schema at its first level, and is refused there.
  std::string deep = "{\"version\": ";
  for (int i = 0; i < 100; ++i) deep += "{\"a\": ";
  const SnapshotDecodeResult r = decode_snapshot(deep, SnapshotFormat::kJson);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "version: expected an integer");
  const SnapshotDecodeResult labels =
      decode_snapshot(replaced(small_json(), "\"labels\": {", "\"labels\": [{"), SnapshotFormat::kJson);
  EXPECT_EQ(labels.error, "machines[0].labels: expected an object");
}

TEST(HostileSnapshot, JsonNumbersPastTheirFieldAreRefused) {
  const std::string json = small_json();
  const struct {
    std::string from, to, error;
  } cases[] = {
      {"\"version\": 5", "\"version\": 9223372036854775808", "version: expected an integer"},
      {"\"version\": 5", "\"version\": -9223372036854775809", "version: expected an integer"},
      {"\"format\": 1", "\"format\": 4294967297", "format: expected an integer from -2147483648 to 2147483647"},
      {"\"cpu_milli\": 8000", "\"cpu_milli\": NaN", "machines[0].cpu_milli: expected an integer"},
      {"\"cpu_milli\": 8000", "\"cpu_milli\": 1e999", "JSON syntax error at byte offset"},
  };
  for (const auto& c : cases) {
    const SnapshotDecodeResult r = decode_snapshot(replaced(json, c.from, c.to), SnapshotFormat::kJson);
    EXPECT_FALSE(r.ok) << c.to;
    EXPECT_EQ(r.error.rfind(c.error, 0), 0u) << c.to << ": " << r.error;
  }
  const SnapshotDecodeResult max =
      decode_snapshot(replaced(json, "\"version\": 5", "\"version\": -9223372036854775808"), SnapshotFormat::kJson);
  ASSERT_TRUE(max.ok) << max.error;
  EXPECT_EQ(max.snapshot.version, std::numeric_limits<std::int64_t>::min());
}

// A stream that says it is shorter than it is (a file still being written): the reader's
// buffer starts at the announced size and must grow, never cut a line.
class ShortSizedStream : public std::streambuf {
 public:
  ShortSizedStream(std::string text, std::streamoff announced) : text_(std::move(text)), announced_(announced) {
    setg(text_.data(), text_.data(), text_.data() + text_.size());
  }

 protected:
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override {
    if (dir == std::ios_base::cur && off == 0) return gptr() - eback();
    if (dir == std::ios_base::end && off == 0) return announced_;
    return pos_type(off_type(-1));
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode) override {
    setg(eback(), eback() + pos, egptr());
    return pos;
  }

 private:
  std::string text_;
  std::streamoff announced_;
};

TEST(HostileDimacs, RefusedByLineOrReadCorrectly) {
  const struct {
    std::string text, error;
  } cases[] = {
      {std::string("p min 2 1\na 1 2 0 1\0 1\n", 24), "x.min:2: expected an integer CAP, found '1?'"},
      {std::string("\0\0\0\0", 4),
       "x.min:1: expected a 'c', 'p', 'n' or 'a' line (unknown line type), found '\?\?\?\?'"},
      {"p min 2 1\na 1 2 0 99999999999999999999 0\n",
       "x.min:2: expected an integer CAP within 64-bit range (integer overflow), found '99999999999999999999'"},
      {"p min 2 1\na 0 2 0 1 1\n", "x.min:2: expected node id U in range [1, 2] (node id out of range), found '0'"},
      {"p min -1 0\n", "x.min:1: expected node count in range [0, 2147483646] (node count out of range), found '-1'"},
      {"p min 3 1000000000\na 1 2 0 1 1\n", "x.min:2: declared 1000000000 arcs, found 1"},
      {"p min 2 0\nn 1 9223372036854775807\nn 1 1\n", "x.min:3: expected one 'n' line per node (duplicate 'n' line"},
  };
  for (const auto& c : cases) {
    std::istringstream in(c.text);
    const DimacsReadResult r = read_dimacs(in, "x.min");
    EXPECT_FALSE(r.ok) << c.text;
    EXPECT_EQ(r.error.rfind(c.error, 0), 0u) << r.error;
  }

  std::string text = "c " + std::string(300000, 'x') + "\np min 2 1\nn 1 5\nn 2 -5\na 1 2 0 9 3\n";
  ShortSizedStream buffer(text, 10);
  std::istream in(&buffer);
  const DimacsReadResult r = read_dimacs(in, "short.min");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.network.num_nodes(), 2);
  EXPECT_EQ(r.network.num_arcs(), 1);
  EXPECT_EQ(r.network.supply(0), 5);
}

TEST_F(OpenbFiles, HostileCsvIsRefusedByLine) {
  const std::string nodes = "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,1024,2,T4\n";
  const std::string header = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\n";
  const struct {
    std::string input, error;
  } cases[] = {
      {with_nul(nodes, header + "\"p0,1,1,0,0\n"), "pods.csv:2: expected a closing '\"', found end of line"},
      {with_nul("sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,1025,T4\n", header),
       "nodes.csv:2: expected gpu in 0..1024, found '1025'"},
      {with_nul(nodes, header + "p0,99999999999999999999,1,0,0\n"),
       "pods.csv:2: expected an integer cpu_milli that fits 64 bits, found '99999999999999999999'"},
      {with_nul("\xEF\xBB\xBF", header),
       "nodes.csv:1: expected a header (sn,cpu_milli,memory_mib,gpu,model), found end "
       "of file"},
      {with_nul(nodes, header + "p0,1,1,1,0\n"),
       "pods.csv:2: expected gpu_milli in 1..1000 when num_gpu is 1, found '0'"},
      {with_nul(nodes, header + "p0,1,1,0,0,extra\n"), "pods.csv:2: expected 5 fields, found 6"},
  };
  for (const auto& c : cases) {
    const OpenbImportResult r = import(c.input);
    EXPECT_FALSE(r.ok) << c.input;
    EXPECT_EQ(r.error, path(c.error.substr(0, c.error.find(':')).c_str()) + c.error.substr(c.error.find(':')));
  }
}

// ==== The exact crash inputs, as libFuzzer wrote them ======================================

// protocol_fuzz: selector 0x04 (allocation, binary), then the body (723 bytes)
const std::string_view kAllocationHugeTiming =
    "040107000000000000006f7074696d616c00000000000000002a0000000000000008000000000000007072696f7269747903000000000000"
    "006370751900000000000000636f73742d7363616c696e6720707573682d72656c61625c6c00470000000000000074686973206275696c64"
    "20686173206e6f204355444120737570706f72742028636f6e6669677572655f207769746820534c554943455f454e41424c455f43554441"
    "3d4f464629460d000000000000000000000000000043f2da14abe0393fba11326aa0f47b3f45adfe426e0a540a543fbb9439e40646453fc2"
    "1fb8a9051f18c17b7a04e80be2823f03000000000000000300ffffff0200000300000000000000030000000000000004000000000000000e"
    "0000000000000015000000000000001d00000000000000003d00000000010101010400000000000000333339380400000000000000333339"
    "3800000000000000000300000000000000030000000000000077656205000000000000007765622d3107000000000000006e6f64652d6131"
    "00000000000000000500000000000000747261696e0700000000000000747261696e2d3106000000000000006770752d6232040000000000"
    "0000000000000100000002000000030000000800000000000000306f7465626f6f6b0a000000000000006e6f7465626f6f6b2d3106000000"
    "000000006770752d62310100000000000000020000000300000000000000030000000000000077656205000000000000007765622d300700"
    "0000000000006e6f64652d613100000000000000000500000000000000747261696e0700000000000000747261696e2d3006000000000000"
    "006770752d62310200000000000000000000000100000008000000000000006e6f7465626f6f6b0a000000000000006e6f7465626f6f6b2d"
    "3006000000000000006770752d6231010000000000000002000000000000000000000000000000000000000000000000000000";

// protocol_fuzz: selector 0x07 (health, JSON), then the body (4413 bytes)
const std::string_view kHealthLongString =
    "077b227374617465223a2273657276696e67222c2276657273696f6e223a22302e312e30222c22757074696d655f73223a31322e352c2277"
    "6f726b657273223a342c2271756575655f6465707468223a312c2271756575655f6361706163697479223a36342c22696e5f666c69676874"
    "223a322c22686967686573745f65706f6368223a372c22677075223a2263707520286effffffffffffffffffff7265636569766564ffffff"
    "ffffffffffffffffffffffffffffff5dffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "ffffffffffff6f747f7f7fc37f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f808080808080807f7f7f7fffffffffffffffffffff"
    "ffff5374356374797065496345ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "ffffffffffffffffffffffffffffffffffffffff6f747f7f7fc37f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f496345ffffffffffffff"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "6f747f7f7fc37f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f808080808080807f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f"
    "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7ffcfcfcfcffffff6f747f7f7fc37f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f80808080"
    "8080807f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7ffcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7f7f7fffffffff"
    "ffffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4dfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7f"
    "7f7fffffffffffffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4dfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f"
    "7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d808080807f7f7f7f7f7f7f7f7f7f7f7f"
    "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7ffcfcfcfcffffff6f747f7f7fc37f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f"
    "7f7f7f7f808080808080807f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7ffcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4dfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d"
    "4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d7f7f7f808080808080807f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f"
    "7f7ffcfcfcfcffffff6f747f7f7fc37f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f808080808080807f7f7f7f7f7f7f7f7f7f7f"
    "7f7f7f7f7f7ffcfcfcfcfcfcfcfcfcffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "ffffffff6f747f7f7fc37f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f808080808080807f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f"
    "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7ffcfcfcfcffffff6f747f7f7fc37f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f"
    "808080808080807f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7ffcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfffffffffffffffffffffcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f"
    "7f7f7f7f7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4dfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f808080808080807f7f7f7f7f7f"
    "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7ffcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f"
    "7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4dfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcdcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d514d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4d4d7f7f7f808080808080807f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7ffcfcfc"
    "fcffffff6f747f7f7fc37f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f808080808080807f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f"
    "7ffcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7f7f7f"
    "ffffffffffffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4dfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f"
    "7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d7f7f7f808080808080807f7f7f7f7f"
    "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7ffcfcfcfcffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d51"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4dfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f7f7f7f7f7f7f7f"
    "4d4d4d4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d7f7f7f808080808080807f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f"
    "7f7f7f7f7ffcfcfcfcffffff6f747f7f7fc37f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f808080808080807f7f7f7f7f7f7f7f"
    "7f7f7f7f7f7f7f7f7ffcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f"
    "7f7f7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4dfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f"
    "7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4dfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d514d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4dffffff6f747f7f7fc37f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f"
    "7f7f7f7f808080808080807f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7ffcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4dfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f"
    "7f7f7f7f7f7fffffffffffffec7f7f7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4dfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc"
    "fcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfcfc7f7f7f7f7f7f7f7f7f7f7f7f7fffffffffffffec7f7f"
    "7f7f7f7f7f7f7f7f7f7f7f4d4d4d4d4d514d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d"
    "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d227d";

// snapshot_binary_fuzz: the whole input (2006 bytes)
const std::string_view kSnapshotNulInLabelKey =
    "01010000002a0000000000000010ff536500000000040000000000000007000000000000006e6f64652d613106000000000000007261636b"
    "2d6106000000000000007a6f6e652d31007d0000000000000000020000000000c05d00000000000000800100000000000000000000000000"
    "010000000000000007000000000000007373645f676962f401000000000000010000000000000007000000000000007373645f6769629001"
    "000000000000020000000000000004000000000000006172636806000000000000007838365f363402000000000000006f73050000000000"
    "00006c696e757807000000000000006e6f64652d613206000000000000007261636b2d6106000000000000007a6f6e652d31007d00000000"
    "00000000020000000000007d00000000000000000200000000000000000000000000010000000000000007000000000000007373645f6769"
    "62f401000000000000010000000000000007000000000000007373645f676962f40100000000000002000000000000000400000000000000"
    "61726368050000000000000061726d3634020000000000000000ba05000000000000006c696e757806000000000000006770752d62310600"
    "0000000000007261636b2d6206000000000000007a6f6e652d3200fa0000000000000000040000000000e0ab00000000000000c002000000"
    "0000040000000000000000000000040000000000000056313030000000000100000004000000000000005631303000000000020000000400"
    "00000000000056313030f401000003000000040000000000000056313030e803000000000000000000000000000000000000030000000000"
    "000004000000000000006172636806000000000000007838365f363403000000000000006770750400000000000000763130300200000000"
    "0000006f7305000000000000006c696e757806000000000000006770752d623206000000000000007261636b2d6206000000000000007a6f"
    "6e652d3200770100000000000000080000000000007701000000000000000800000000000800000000000000000000000400000000000000"
    "41313030e803000001000000040000000000000041313030e803000002000000040000000000000041313030e80300000300000004000000"
    "0000000041313030e803000004000000040000000000000041313030e803000005000000040000000000000041313030e803000006000000"
    "040000000000000041313030e803000007000000040000000000000041313030e80300000000000000000000000000000000000003000000"
    "0000000004000000000000006172636806000000000000007838365f36340300000000000000677075040000000000000061313030020000"
    "00000000006f7305000000000000006c696e7578030000000000000003000000000000007760620a00000000f15365000000000200000000"
    "00000005000000000000007765622d30401f0000000000000080000000000000000000000000000000000000000000000100000000000000"
    "07000000000000007373645f6769626400000000000000010000000000000002000000000000006f7305000000000000006c696e75780000"
    "000000000000010000000000000006000000000000007261636b2d6132000000000000000107000000000000006e6f64652d613100000000"
    "0000000005000000000000007765622d31401f00000000000000800000000000000000000000000000000000000000000001000000000000"
    "0007000000000000007373645f6769626400000000000000010000000000000002000000000000006f7305000000000000006c696e757800"
    "00000000000000010000000000000006000000000000007261636b2d61320000000000000000000000000000000000000000000000000500"
    "000000000000747261696e05000000e8f453650000000002000000000000000700000000000000747261696e2d30803e0000000000000000"
    "0100000000000200000000000000010000000000000004000000000000005631303000000000000000000000000000000000000000000000"
    "000000000000000000000106000000000000006770752d6231020000000000000000000000010000000700000000000000747261696e2d31"
    "c05d000000000000000002000000000004000000000000000200000000000000040000000000000041313030040000000000000056313030"
    "0000000000000000010000000000000003000000000000006770750400000000000000613130300100000000000000060000000000000067"
    "70752d623264000000000000000000000000000000000000000000000000000000000000000008000000000000006e6f7465626f6f6b0100"
    "0000d0f853650000000002000000000000000a000000000000006e6f7465626f6f6b2d30a00f000000000000004000000000000000000000"
    "f401000000000000000000000000000000000000000000000000000000000000000000000000000000000000010600000000000000677075"
    "2d62310100000000000000020000000a000000000000006e6f7465626f6f6b2d31d007000000000000002000000000000000000000fa0000"
    "00000000000000000000000000000000000000000000000000010000000000000006000000000000006770752d6231140000000000000001"
    "0000000000000006000000000000007261636b2d620a000000000000000000000000000000000000000000000000";

// openb_fuzz: node CSV, NUL, pod CSV (167 bytes)
const std::string_view kOpenbNulInPodName =
    "736e2c6370755f6d696c6c692c6d656d6f72795f6d69622c6770752c6d6f64656c0a4f70656e62336e6f622d6e6f64652d303132392c3634"
    "3030302c3236323134342c322c503130300a006e616d652c6370755f6d696c6c692c6d656d6f72795f6d69622c6e756d5f6770752c677075"
    "5f6d696c6c690a6f0000000000000000000000303000000000000000000000000030372c31323034302c31363338342c312c313030300a";

}  // namespace
}  // namespace sluice
