// Regression tests for issue 14 (hardening the service), against the real `sluice serve`
// over loopback: a reply cache that cannot answer another request, an epoch fence that
// junk cannot raise and a restart does not lose, replies to a peer that never reads.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "raw_peer.hpp"
#include "service_process.hpp"
#include "sluice/client.hpp"
#include "sluice/snapshot_generator.hpp"
#include "sluice/snapshot_io.hpp"

namespace sluice {
namespace {

using test::RawPeer;
using test::ServiceProcess;

Snapshot generated(std::int32_t machines, std::int64_t tasks, std::uint64_t seed = 1) {
  SnapshotGenParams p;
  p.machines = machines;
  p.tasks = tasks;
  p.seed = seed;
  return generate_snapshot(p);
}

Envelope allocate_envelope(std::uint64_t id, std::int64_t version, std::uint64_t epoch = 0) {
  Envelope e;
  e.type = MessageType::kAllocate;
  e.request_id = id;
  e.snapshot_version = version;
  e.epoch = epoch;
  return e;
}

std::string binary_options() { return encode_request_options(AllocateRequestOptions{}, BodyFormat::kBinary); }

// One reply, parsed; fails the test when none comes.
test::ParsedReply receive_reply(RawPeer& peer, std::chrono::seconds timeout = std::chrono::seconds(120)) {
  const auto frames = peer.receive(timeout);
  EXPECT_TRUE(frames.has_value()) << "no reply";
  if (!frames) return {};
  const auto parsed = test::parse_reply(*frames);
  EXPECT_TRUE(parsed.has_value()) << "unreadable reply";
  return parsed.value_or(test::ParsedReply{});
}

ServiceStats stats_of(const std::string& endpoint) {
  Client client(test::client_at(endpoint));
  const StatsCall s = client.stats();
  EXPECT_TRUE(s.info.ok) << s.info.error;
  return s.stats;
}

// A pair of binary snapshots of more than 2 MiB that differ only in one machine's free CPU,
// more than 1 MiB from either end (the old fingerprint sampled the first and last MiB).
struct NearTwins {
  Snapshot original;
  Snapshot changed;
  std::string a;
  std::string b;
};

const NearTwins& near_twins() {
  static const NearTwins twins = [] {
    NearTwins t;
    t.original = generated(20'000, 2'000, 5);
    t.changed = t.original;
    Machine& m = t.changed.machines[t.changed.machines.size() / 2];
    m.free_cpu_milli = m.free_cpu_milli > 0 ? 0 : m.cpu_milli;
    t.a = encode_snapshot(t.original, SnapshotFormat::kBinary);
    t.b = encode_snapshot(t.changed, SnapshotFormat::kBinary);
    return t;
  }();
  return twins;
}

TEST(Hardening, CacheNeverAnswersARequestThatDiffersInTheMiddle) {
  const NearTwins& t = near_twins();
  ASSERT_EQ(t.a.size(), t.b.size());
  ASSERT_GT(t.a.size(), std::size_t{2} << 20);
  std::size_t first_diff = 0;
  while (first_diff < t.a.size() && t.a[first_diff] == t.b[first_diff]) ++first_diff;
  ASSERT_LT(first_diff, t.a.size());
  ASSERT_GT(first_diff, std::size_t{1} << 20) << "the change must lie past the first MiB";
  ASSERT_LT(first_diff, t.a.size() - (std::size_t{1} << 20)) << "and before the last MiB";

  ServiceProcess service({"--workers", "1"});
  ASSERT_TRUE(service.running()) << service.log();
  RawPeer peer(service.endpoint());
  const std::string options = binary_options();
  peer.send(test::request_frames(allocate_envelope(4242, t.original.version), {options, t.a}));
  const test::ParsedReply first = receive_reply(peer);
  ASSERT_EQ(first.envelope.code, ReplyCode::kOk) << first.body;

  // The same id with the other snapshot: refused, never the first one's placements.
  peer.send(test::request_frames(allocate_envelope(4242, t.changed.version), {options, t.b}));
  const test::ParsedReply second = receive_reply(peer);
  EXPECT_EQ(second.envelope.type, MessageType::kError);
  EXPECT_EQ(second.envelope.code, ReplyCode::kMalformed) << second.body.substr(0, 200);
  EXPECT_NE(second.body.find("already used for a different request"), std::string::npos) << second.body.substr(0, 200);

  // The same id with the same bytes: the cached reply, byte for byte, without a second solve.
  peer.send(test::request_frames(allocate_envelope(4242, t.original.version), {options, t.a}));
  const test::ParsedReply again = receive_reply(peer);
  EXPECT_EQ(again.envelope.code, ReplyCode::kOk);
  EXPECT_EQ(again.body, first.body);
  const ServiceStats s = stats_of(service.endpoint());
  EXPECT_EQ(s.allocations, 1u);
  EXPECT_EQ(s.cache_hits, 1u);
}

TEST(Hardening, InFlightRequestIsNotJoinedByADifferentOne) {
  const NearTwins& t = near_twins();
  ServiceProcess service({"--workers", "1"});
  ASSERT_TRUE(service.running()) << service.log();
  const std::string options = binary_options();
  // The only worker is busy with a slow request, so the next ones stay queued.
  RawPeer slow(service.endpoint());
  static const std::string slow_bytes = encode_snapshot(generated(20'000, 200'000, 9), SnapshotFormat::kBinary);
  slow.send(test::request_frames(allocate_envelope(1, 1), {options, slow_bytes}));
  RawPeer peer(service.endpoint());
  peer.send(test::request_frames(allocate_envelope(77, t.original.version), {options, t.a}));
  RawPeer other(service.endpoint());
  other.send(test::request_frames(allocate_envelope(77, t.changed.version), {options, t.b}));
  const test::ParsedReply refused = receive_reply(other);
  EXPECT_EQ(refused.envelope.code, ReplyCode::kMalformed) << refused.body.substr(0, 200);
  EXPECT_NE(refused.body.find("in flight for a different request"), std::string::npos) << refused.body.substr(0, 200);
  // An identical retry joins it and gets the same reply.
  RawPeer retry(service.endpoint());
  retry.send(test::request_frames(allocate_envelope(77, t.original.version), {options, t.a}));
  const test::ParsedReply original = receive_reply(peer);
  const test::ParsedReply joined = receive_reply(retry);
  EXPECT_EQ(original.envelope.code, ReplyCode::kOk) << original.body.substr(0, 200);
  EXPECT_EQ(joined.envelope.code, ReplyCode::kOk);
  EXPECT_EQ(joined.body, original.body);
  EXPECT_EQ(receive_reply(slow).envelope.code, ReplyCode::kOk);
  const ServiceStats s = stats_of(service.endpoint());
  EXPECT_EQ(s.joined_in_flight, 1u);
  EXPECT_EQ(s.allocations, 2u);
}

}  // namespace
}  // namespace sluice
