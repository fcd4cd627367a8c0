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
  EXPECT_EQ(a.stats.resolves, b.stats.resolves);
  EXPECT_EQ(a.stats.placed_by_flow, b.stats.placed_by_flow);
  EXPECT_EQ(a.stats.placed_by_resolve, b.stats.placed_by_resolve);
  EXPECT_EQ(a.stats.placed_by_fallback, b.stats.placed_by_fallback);
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

// Version 1 clients keep working: a version 1 body has no re-solve counts (binary) and the
// version 2 fields ride in JSON, where version 1 readers skip them.
TEST(Versions, AllocationBodiesOfVersion1HaveNoResolveCounts) {
  Allocation a = sample_allocation(false);
  a.stats.resolves = 3;
  a.stats.placed_by_flow = 11;
  a.stats.placed_by_resolve = 7;
  a.stats.placed_by_fallback = 2;
  const std::string v2 = encode_allocation(a, BodyFormat::kBinary, 2);
  const std::string v1 = encode_allocation(a, BodyFormat::kBinary, 1);
  EXPECT_EQ(v2.size(), v1.size() + 4 * 8);
  const AllocationDecodeResult d1 = decode_allocation(v1, BodyFormat::kBinary, {}, 1);
  ASSERT_TRUE(d1.ok) << d1.error;
  EXPECT_EQ(d1.allocation.stats.resolves, 0);
  EXPECT_EQ(d1.allocation.stats.placed_by_flow, 0);
  EXPECT_EQ(d1.allocation.placements.size(), a.placements.size());
  const AllocationDecodeResult d2 = decode_allocation(v2, BodyFormat::kBinary, {}, 2);
  ASSERT_TRUE(d2.ok) << d2.error;
  expect_same(a, d2.allocation);
  // Read with the wrong version, the body does not parse: the version is the contract.
  EXPECT_FALSE(decode_allocation(v2, BodyFormat::kBinary, {}, 1).ok);
  EXPECT_FALSE(decode_allocation(v1, BodyFormat::kBinary, {}, 2).ok);
  // Indexed bodies carry the same record.
  IndexedAllocation indexed;
  indexed.summary = a;
  indexed.summary.placements.clear();
  indexed.summary.kept.clear();
  indexed.summary.migrations.clear();
  indexed.summary.preemptions.clear();
  indexed.summary.unscheduled.clear();
  const IndexedAllocationDecodeResult i1 = decode_indexed_allocation(encode_indexed_allocation(indexed, 1), {}, 1);
  ASSERT_TRUE(i1.ok) << i1.error;
  EXPECT_EQ(i1.allocation.summary.stats.placed_by_resolve, 0);
  const IndexedAllocationDecodeResult i2 = decode_indexed_allocation(encode_indexed_allocation(indexed, 2), {}, 2);
  ASSERT_TRUE(i2.ok) << i2.error;
  EXPECT_EQ(i2.allocation.summary.stats.placed_by_resolve, 7);
  // JSON has them always; a document without them (a version 1 service's) reads as zeros.
  std::string json = encode_allocation(a, BodyFormat::kJson, 1);
  EXPECT_NE(json.find("\"placed_by_resolve\": 7"), std::string::npos);
  const std::string field = ", \"resolves\": 3, \"placed_by_flow\": 11, \"placed_by_resolve\": 7, \"placed_by_fallback\": 2";
  const std::size_t at = json.find(field);
  ASSERT_NE(at, std::string::npos);
  json.erase(at, field.size());
  const AllocationDecodeResult old = decode_allocation(json, BodyFormat::kJson);
  ASSERT_TRUE(old.ok) << old.error;
  EXPECT_EQ(old.allocation.stats.placed_by_flow, 0);
}

TEST(Versions, RequestOptionsOfVersion1EndAtTheDeadline) {
  AllocateRequestOptions o;
  o.cost_model = CostModel::kAlloc;
  o.deadline_ms = 99;
  o.max_resolves = 5;
  o.new_tasks_per_machine = -1;
  o.tie_seed = 42;
  o.candidate_slack = 3.5;
  o.workload = {WorkloadSpec{3152, 0, 0, 810, {}, 0.75}, WorkloadSpec{12000, 512, 2, 0, {"V100M16", "V100M32"}, 0.25}};
  const std::string v1 = encode_request_options(o, BodyFormat::kBinary, 1);
  const RequestOptionsDecodeResult d1 = decode_request_options(v1, BodyFormat::kBinary, 1);
  ASSERT_TRUE(d1.ok) << d1.error;
  EXPECT_EQ(d1.options.deadline_ms, 99);
  EXPECT_EQ(d1.options.max_resolves, AllocateRequestOptions{}.max_resolves);  // not in version 1
  EXPECT_FALSE(decode_request_options(v1, BodyFormat::kBinary, 2).ok);       // ends early for version 2
  for (const BodyFormat f : {BodyFormat::kBinary, BodyFormat::kJson}) {
    const RequestOptionsDecodeResult d = decode_request_options(encode_request_options(o, f, 2), f, 2);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.options.max_resolves, 5);
    EXPECT_EQ(d.options.new_tasks_per_machine, -1);
    EXPECT_EQ(d.options.tie_seed, 42u);
    EXPECT_EQ(d.options.candidate_slack, 3.5);
    ASSERT_EQ(d.options.workload.size(), 2u);
    EXPECT_EQ(d.options.workload[1].gpu_models, (std::vector<std::string>{"V100M16", "V100M32"}));
    EXPECT_EQ(d.options.workload[1].gpus, 2);
    EXPECT_EQ(d.options.workload[0].gpu_milli, 810);
    EXPECT_DOUBLE_EQ(d.options.workload[0].weight, 0.75);
    const AllocateOptions ao = to_allocate_options(d.options);
    EXPECT_EQ(ao.tie_seed, 42u);
    EXPECT_EQ(to_request_options(ao).workload.size(), 2u);
  }
}

TEST(Versions, WorkloadTextIsCheckedByName) {
  std::string error;
  EXPECT_TRUE(parse_workload_text("", &error).has_value());
  for (const auto& [text, what] : std::vector<std::pair<std::string, std::string>>{
           {"1,2,3", "spec 0: expected cpu_milli,memory_mib,gpus,gpu_milli,weight"},
           {"1,0,0,100,1;x,0,0,0,1", "spec 1: bad cpu_milli"},
           {"1,0,2,100,1", "spec 0: whole GPUs and a share at once"},
           {"1,0,0,1001,1", "spec 0: gpu_milli must be 0..1000"},
           {"1,0,0,100,nan", "spec 0: weight must be a number"},
           {"1,0,0,100,0", "the weights sum to 0"},
           {"1,0,1,0,1,", "spec 0: empty GPU model name"}}) {
    error.clear();
    EXPECT_FALSE(parse_workload_text(text, &error).has_value()) << text;
    EXPECT_NE(error.find(what), std::string::npos) << text << ": " << error;
  }
  const auto w = parse_workload_text("1000,0,1,0,3;500,0,0,250,1,T4", &error);
  ASSERT_TRUE(w.has_value()) << error;
  EXPECT_DOUBLE_EQ((*w)[0].weight, 0.75);  // normalised
  EXPECT_EQ(workload_to_text(*w), "1000,0,1,0,0.75;500,0,0,250,0.25,T4");
}

TEST(Versions, EnvelopesOfVersion1AreAccepted) {
  Envelope e;
  e.version = 1;
  const EnvelopeDecodeResult d = decode_envelope(encode_envelope(e));
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.envelope.version, 1);
  e.version = 3;
  const EnvelopeDecodeResult three = decode_envelope(encode_envelope(e));
  EXPECT_FALSE(three.ok);
  EXPECT_EQ(three.code, ReplyCode::kUnsupportedVersion);
  EXPECT_NE(three.error.find("speaks 1 to 2"), std::string::npos) << three.error;
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
