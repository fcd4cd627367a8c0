// The protocol's codecs (sluice/protocol.hpp): round trips in both formats, and hostile
// input (random bytes, every truncation, length bombs) refused with a message.
#include "sluice/protocol.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "sluice/snapshot_generator.hpp"

namespace sluice {
namespace {

TEST(Envelope, RoundTrips) {
  Envelope e;
  e.type = MessageType::kAllocateReply;
  e.format = BodyFormat::kJson;
  e.request_id = 0xFEDCBA9876543210ULL;
  e.epoch = 42;
  e.snapshot_version = -7;
  e.code = ReplyCode::kStaleEpoch;
  e.flags = 0;
  e.body_bytes = 123456789012ULL;
  const std::string bytes = encode_envelope(e);
  ASSERT_EQ(bytes.size(), kEnvelopeBytes);
  EXPECT_EQ(bytes.substr(0, 4), "SLCE");
  const EnvelopeDecodeResult d = decode_envelope(bytes);
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.envelope.type, e.type);
  EXPECT_EQ(d.envelope.format, e.format);
  EXPECT_EQ(d.envelope.request_id, e.request_id);
  EXPECT_EQ(d.envelope.epoch, e.epoch);
  EXPECT_EQ(d.envelope.snapshot_version, e.snapshot_version);
  EXPECT_EQ(d.envelope.code, e.code);
  EXPECT_EQ(d.envelope.body_bytes, e.body_bytes);
  // Little-endian on the wire: the request id's lowest byte comes first.
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]), 0x10);
}

TEST(Envelope, RefusesWhatIsWrongByName) {
  const std::string good = encode_envelope(Envelope{});
  struct Case {
    std::string bytes;
    ReplyCode code;
    std::string what;
  };
  std::vector<Case> cases;
  cases.push_back({"", ReplyCode::kMalformed, "envelope is 0 bytes"});
  cases.push_back({good.substr(0, 47), ReplyCode::kMalformed, "envelope is 47 bytes"});
  cases.push_back({good + "x", ReplyCode::kMalformed, "envelope is 49 bytes"});
  std::string magic = good;
  magic[0] = 'X';
  cases.push_back({magic, ReplyCode::kMalformed, "bad magic"});
  std::string version = good;
  version[4] = 9;
  cases.push_back({version, ReplyCode::kUnsupportedVersion, "protocol version 9"});
  std::string type = good;
  type[6] = 4;
  cases.push_back({type, ReplyCode::kMalformed, "unknown message type 4"});
  std::string format = good;
  format[7] = 2;
  cases.push_back({format, ReplyCode::kMalformed, "unknown body format 2"});
  std::string code = good;
  code[32] = 99;
  cases.push_back({code, ReplyCode::kMalformed, "unknown reply code 99"});
  std::string reserved = good;
  reserved[34] = 1;
  cases.push_back({reserved, ReplyCode::kMalformed, "reserved bytes"});
  for (const Case& c : cases) {
    const EnvelopeDecodeResult d = decode_envelope(c.bytes);
    EXPECT_FALSE(d.ok) << c.what;
    EXPECT_EQ(d.code, c.code) << c.what;
    EXPECT_NE(d.error.find(c.what), std::string::npos) << d.error;
  }
}

TEST(RequestOptions, RoundTripInBothFormats) {
  AllocateRequestOptions o;
  o.cost_model = CostModel::kFgd;
  o.backend = Backend::kCpu;
  o.verify = true;
  o.aggregate = false;
  o.allow_migration = false;
  o.allow_preemption = true;
  o.migration_cost = 77;
  o.deadline_ms = 1234;
  for (const BodyFormat f : {BodyFormat::kBinary, BodyFormat::kJson}) {
    const RequestOptionsDecodeResult d = decode_request_options(encode_request_options(o, f), f);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.options.cost_model, o.cost_model);
    EXPECT_EQ(d.options.backend, o.backend);
    EXPECT_EQ(d.options.verify, o.verify);
    EXPECT_EQ(d.options.aggregate, o.aggregate);
    EXPECT_EQ(d.options.allow_migration, o.allow_migration);
    EXPECT_EQ(d.options.allow_preemption, o.allow_preemption);
    EXPECT_EQ(d.options.migration_cost, o.migration_cost);
    EXPECT_EQ(d.options.deadline_ms, o.deadline_ms);
  }
}

TEST(RequestOptions, JsonFieldsAreOptionalAndCheckedByName) {
  const RequestOptionsDecodeResult empty = decode_request_options("{}", BodyFormat::kJson);
  ASSERT_TRUE(empty.ok) << empty.error;
  EXPECT_EQ(empty.options.cost_model, CostModel::kLoadSpreading);
  EXPECT_EQ(empty.options.migration_cost, 300);
  const RequestOptionsDecodeResult pack = decode_request_options(R"({"cost_model":"pack"})", BodyFormat::kJson);
  ASSERT_TRUE(pack.ok);
  EXPECT_EQ(pack.options.cost_model, CostModel::kPacking);

  const std::vector<std::pair<std::string, std::string>> bad{
      {"[]", "must be a JSON object"},
      {"{", "JSON syntax error"},
      {R"({"verify": 1})", "verify: expected true or false"},
      {R"({"deadline_ms": "soon"})", "deadline_ms: expected a 64-bit integer"},
      {R"({"deadline_ms": -5})", "deadline_ms: must be >= 0"},
      {R"({"migration_cost": 1e30})", "migration_cost: expected a 64-bit integer"},
      {R"({"cost_model": "cheapest"})", "unknown cost model 'cheapest'"},
      {R"({"solver": "quantum"})", "unknown solver 'quantum'"},
      {R"({"nope": true})", "nope: unknown field"},
      // A member twice: the service would read the first, Python's json the last.
      {R"({"deadline_ms": 5000, "deadline_ms": 1})", "member \"deadline_ms\" appears twice in one object"},
      {R"({"cost_model": "fgd", "verify": true, "cost_model": "pack"})", "member \"cost_model\" appears twice"},
  };
  for (const auto& [text, what] : bad) {
    const RequestOptionsDecodeResult d = decode_request_options(text, BodyFormat::kJson);
    EXPECT_FALSE(d.ok) << text;
    EXPECT_NE(d.error.find(what), std::string::npos) << text << " -> " << d.error;
  }
}

TEST(RequestOptions, BinaryTruncationsAndJunkAreRefused) {
  const std::string bytes = encode_request_options(AllocateRequestOptions{}, BodyFormat::kBinary);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(decode_request_options(bytes.substr(0, cut), BodyFormat::kBinary).ok) << cut;
  }
  EXPECT_FALSE(decode_request_options(bytes + "z", BodyFormat::kBinary).ok);
  std::string bomb = bytes;
  const std::uint64_t huge = ~std::uint64_t{0};
  std::memcpy(bomb.data() + 1, &huge, 8);  // the cost model's length
  const RequestOptionsDecodeResult d = decode_request_options(bomb, BodyFormat::kBinary);
  EXPECT_FALSE(d.ok);
  EXPECT_NE(d.error.find("exceeds"), std::string::npos) << d.error;
}

Allocation sample_allocation(bool verify) {
  SnapshotGenParams p;
  p.machines = 60;
  p.tasks = 900;
  p.running_share = 0.4;
  p.seed = 17;
  AllocateOptions o;
  o.cost_model = CostModel::kPriority;
  o.solve.backend = Backend::kCpu;
  o.solve.verify = verify;
  Allocation a = allocate(generate_snapshot(p), o);
  EXPECT_EQ(a.status, Status::kOptimal) << a.message;
  return a;
}

void expect_same(const Allocation& a, const Allocation& b) {
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.message, b.message);
  EXPECT_EQ(a.snapshot_version, b.snapshot_version);
  EXPECT_EQ(a.cost_model, b.cost_model);
  EXPECT_EQ(a.backend, b.backend);
  EXPECT_EQ(a.objective, b.objective);
  EXPECT_EQ(a.stats.nodes, b.stats.nodes);
  EXPECT_EQ(a.stats.repaired, b.stats.repaired);
  auto same_places = [](const std::vector<Placement>& x, const std::vector<Placement>& y) {
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].job, y[i].job);
      EXPECT_EQ(x[i].task, y[i].task);
      EXPECT_EQ(x[i].machine, y[i].machine);
      EXPECT_EQ(x[i].gpu_indexes, y[i].gpu_indexes);
    }
  };
  same_places(a.placements, b.placements);
  same_places(a.kept, b.kept);
  ASSERT_EQ(a.migrations.size(), b.migrations.size());
  for (std::size_t i = 0; i < a.migrations.size(); ++i) {
    EXPECT_EQ(a.migrations[i].from_machine, b.migrations[i].from_machine);
    EXPECT_EQ(a.migrations[i].machine, b.migrations[i].machine);
  }
  ASSERT_EQ(a.preemptions.size(), b.preemptions.size());
  for (std::size_t i = 0; i < a.preemptions.size(); ++i) EXPECT_EQ(a.preemptions[i].reason, b.preemptions[i].reason);
  ASSERT_EQ(a.unscheduled.size(), b.unscheduled.size());
  for (std::size_t i = 0; i < a.unscheduled.size(); ++i) {
    EXPECT_EQ(a.unscheduled[i].task, b.unscheduled[i].task);
    EXPECT_EQ(a.unscheduled[i].reason, b.unscheduled[i].reason);
    EXPECT_EQ(a.unscheduled[i].message, b.unscheduled[i].message);
  }
  ASSERT_EQ(a.certificate.has_value(), b.certificate.has_value());
  if (a.certificate) {
    EXPECT_EQ(a.certificate->valid(), b.certificate->valid());
  }
}

TEST(AllocationBody, RoundTripsInBothFormats) {
  const Allocation a = sample_allocation(true);
  ASSERT_FALSE(a.placements.empty());
  ASSERT_FALSE(a.kept.empty());
  for (const BodyFormat f : {BodyFormat::kBinary, BodyFormat::kJson}) {
    const std::string bytes = encode_allocation(a, f);
    const AllocationDecodeResult d = decode_allocation(bytes, f);
    ASSERT_TRUE(d.ok) << d.error;
    expect_same(a, d.allocation);
  }
  EXPECT_EQ(encode_allocation(a, BodyFormat::kJson), allocation_to_json(a));
}

TEST(AllocationBody, EveryBinaryTruncationIsRefused) {
  const std::string bytes = encode_allocation(sample_allocation(false), BodyFormat::kBinary);
  // Every cut in the scalar head, then a sample through the lists.
  for (std::size_t cut = 0; cut < bytes.size(); cut += cut < 400 ? 1 : 97) {
    const AllocationDecodeResult d = decode_allocation(bytes.substr(0, cut), BodyFormat::kBinary);
    EXPECT_FALSE(d.ok) << "cut at " << cut;
    EXPECT_FALSE(d.error.empty());
  }
  EXPECT_FALSE(decode_allocation(bytes + "extra", BodyFormat::kBinary).ok);
}

TEST(AllocationBody, RandomBytesAndLengthBombsAreRefused) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(static_cast<std::size_t>(rng() % 300), '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (!junk.empty() && i % 2 == 0) junk[0] = 1;  // past the endianness check
    EXPECT_FALSE(decode_allocation(junk, BodyFormat::kBinary).ok);
    EXPECT_FALSE(decode_allocation(junk, BodyFormat::kJson).ok);
  }
  // The status string claims 2^62 bytes.
  Allocation a;
  a.status = Status::kOptimal;
  std::string bytes = encode_allocation(a, BodyFormat::kBinary);
  const std::uint64_t huge = std::uint64_t{1} << 62;
  std::memcpy(bytes.data() + 1, &huge, 8);
  const AllocationDecodeResult d = decode_allocation(bytes, BodyFormat::kBinary);
  EXPECT_FALSE(d.ok);
  EXPECT_NE(d.error.find("exceeds"), std::string::npos) << d.error;
  // JSON that is valid but of the wrong shape.
  const AllocationDecodeResult j = decode_allocation(R"({"status": 3})", BodyFormat::kJson);
  EXPECT_FALSE(j.ok);
  EXPECT_NE(j.error.find("status: expected a string"), std::string::npos) << j.error;
}

TEST(HealthAndStats, RoundTripInBothFormatsAndRefuseJunk) {
  HealthInfo h;
  h.state = "draining";
  h.version = "sluice test";
  h.uptime_s = 12.5;
  h.workers = 3;
  h.queue_depth = 4;
  h.queue_capacity = 64;
  h.in_flight = 2;
  h.highest_epoch = 99;
  h.gpu = "none: no driver";
  ServiceStats s;
  s.received = 10;
  s.replied = 9;
  s.cache_hits = 2;
  s.bytes_out = 1u << 31;
  s.solve_seconds_total = 1.25;
  s.denied = 3;
  s.replies_dropped = 25'000;
  for (const BodyFormat f : {BodyFormat::kBinary, BodyFormat::kJson}) {
    std::string error;
    const auto hd = decode_health(encode_health(h, f), f, &error);
    ASSERT_TRUE(hd.has_value()) << error;
    EXPECT_EQ(hd->state, h.state);
    EXPECT_EQ(hd->workers, h.workers);
    EXPECT_EQ(hd->highest_epoch, h.highest_epoch);
    EXPECT_DOUBLE_EQ(hd->uptime_s, h.uptime_s);
    EXPECT_EQ(hd->gpu, h.gpu);
    const auto sd = decode_stats(encode_stats(s, f), f, &error);
    ASSERT_TRUE(sd.has_value()) << error;
    EXPECT_EQ(sd->received, s.received);
    EXPECT_EQ(sd->cache_hits, s.cache_hits);
    EXPECT_EQ(sd->bytes_out, s.bytes_out);
    EXPECT_EQ(sd->denied, s.denied);
    EXPECT_EQ(sd->replies_dropped, s.replies_dropped);
    EXPECT_DOUBLE_EQ(sd->solve_seconds_total, s.solve_seconds_total);
  }
  std::string error;
  EXPECT_FALSE(decode_health(R"({"state":"serving"})", BodyFormat::kJson, &error).has_value());
  EXPECT_NE(error.find("version: required field is missing"), std::string::npos) << error;
  const std::string stats_bytes = encode_stats(s, BodyFormat::kBinary);
  EXPECT_FALSE(decode_stats(stats_bytes.substr(0, stats_bytes.size() - 1), BodyFormat::kBinary, &error).has_value());
  EXPECT_FALSE(decode_stats("\x07", BodyFormat::kBinary, &error).has_value());
  EXPECT_NE(error.find("endianness"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice
