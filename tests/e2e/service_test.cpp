// The real service (`sluice serve`, a child process) over real ZeroMQ sockets on loopback:
// round trips of every message type in both body formats, concurrent clients, retried
// request ids, epoch fencing, metrics.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "http_get.hpp"
#include "raw_peer.hpp"
#include "service_process.hpp"
#include "sluice/allocate.hpp"
#include "sluice/client.hpp"
#include "sluice/openb.hpp"
#include "sluice/snapshot_generator.hpp"
#include "sluice/snapshot_io.hpp"

namespace sluice {
namespace {

using test::RawPeer;
using test::ServiceProcess;

Snapshot small_snapshot(std::uint64_t seed = 3, std::int32_t machines = 40, std::int64_t tasks = 300) {
  SnapshotGenParams p;
  p.machines = machines;
  p.tasks = tasks;
  p.running_share = 0.3;
  p.seed = seed;
  return generate_snapshot(p);
}

Snapshot openb_snapshot() {
  const std::string dir = SLUICE_TEST_DATA_DIR "/openb/";
  OpenbImportResult r =
      import_openb(dir + "openb_node_list_all_node.csv", dir + "openb_pod_list_default.csv");
  EXPECT_TRUE(r.ok) << r.error;
  return std::move(r.snapshot);
}

std::multiset<std::string> placement_keys(const Allocation& a) {
  std::multiset<std::string> keys;
  for (const Placement& p : a.placements) keys.insert(p.job + "/" + p.task + "@" + p.machine);
  for (const Placement& p : a.kept) keys.insert("kept " + p.job + "/" + p.task + "@" + p.machine);
  for (const Migration& m : a.migrations) keys.insert("moved " + m.job + "/" + m.task + "@" + m.machine);
  for (const Preemption& p : a.preemptions) keys.insert("preempted " + p.job + "/" + p.task);
  for (const Unscheduled& u : a.unscheduled) keys.insert("unscheduled " + u.job + "/" + u.task);
  return keys;
}

class ServiceTest : public ::testing::TestWithParam<BodyFormat> {};

// Allocate, health and stats, through the C++ client, in each body format: the reply
// equals what allocate() gives in process.
TEST_P(ServiceTest, RoundTripsEveryMessageType) {
  ServiceProcess service({"--workers", "2"});
  ASSERT_TRUE(service.running()) << service.log();
  ClientOptions co;
  co.endpoint = service.endpoint();
  co.format = GetParam();
  co.timeout_ms = 60'000;
  Client client(co);

  const Snapshot snapshot = openb_snapshot();
  for (const CostModel model : {CostModel::kLoadSpreading, CostModel::kFgd}) {
    AllocateRequestOptions ro;
    ro.cost_model = model;
    ro.backend = Backend::kCpu;
    ro.verify = true;
    const AllocateCall call = client.allocate(snapshot, ro, 0, 1);
    ASSERT_TRUE(call.info.ok) << call.info.error;
    EXPECT_EQ(call.info.reply.type, MessageType::kAllocateReply);
    EXPECT_EQ(call.info.reply.format, GetParam());
    EXPECT_EQ(call.info.reply.request_id, call.info.request_id);
    EXPECT_EQ(call.info.reply.snapshot_version, snapshot.version);
    EXPECT_EQ(call.allocation.snapshot_version, snapshot.version);

    AllocateOptions ao;
    ao.cost_model = model;
    ao.solve.backend = Backend::kCpu;
    const Allocation local = allocate(snapshot, ao);
    ASSERT_EQ(local.status, Status::kOptimal);
    EXPECT_EQ(call.allocation.status, Status::kOptimal);
    EXPECT_EQ(call.allocation.cost_model, model);
    EXPECT_EQ(call.allocation.objective, local.objective);
    EXPECT_EQ(placement_keys(call.allocation), placement_keys(local));
    ASSERT_TRUE(call.allocation.certificate.has_value());
    EXPECT_TRUE(call.allocation.certificate->valid()) << call.allocation.certificate->message;
    EXPECT_GT(call.allocation.timings.decode_s, 0.0);
  }

  const HealthCall health = client.health();
  ASSERT_TRUE(health.info.ok) << health.info.error;
  EXPECT_EQ(health.health.state, "serving");
  EXPECT_EQ(health.health.workers, 2);
  EXPECT_EQ(health.health.highest_epoch, 1u);
  EXPECT_EQ(health.info.reply.type, MessageType::kHealthReply);

  const StatsCall stats = client.stats();
  ASSERT_TRUE(stats.info.ok) << stats.info.error;
  EXPECT_EQ(stats.stats.allocations, 2u);
  EXPECT_GE(stats.stats.received, 4u);
  EXPECT_EQ(stats.info.reply.type, MessageType::kStatsReply);

  service.signal(SIGTERM);
  EXPECT_EQ(service.wait(), 0);
}

INSTANTIATE_TEST_SUITE_P(Formats, ServiceTest, ::testing::Values(BodyFormat::kBinary, BodyFormat::kJson),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// A REQ socket (which adds an empty delimiter frame) is served as well as a DEALER.
TEST(Service, ServesReqSockets) {
  ServiceProcess service;
  ASSERT_TRUE(service.running()) << service.log();
  RawPeer req(service.endpoint(), zmq::socket_type::req);
  Envelope e;
  e.type = MessageType::kHealth;
  e.format = BodyFormat::kJson;
  e.request_id = 77;
  req.send(test::request_frames(e, {}));
  const auto frames = req.receive();
  ASSERT_TRUE(frames.has_value());
  const auto reply = test::parse_reply(*frames);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->envelope.type, MessageType::kHealthReply);
  EXPECT_EQ(reply->envelope.request_id, 77u);
  EXPECT_NE(reply->body.find("\"state\":\"serving\""), std::string::npos) << reply->body;
}

// A master written for protocol version 1 keeps working: its version 1 request (binary
// options ending at deadline_ms) is answered in version 1 (no re-solve counts in the
// allocation, no replies_dropped in the stats), and a version 2 request gets them.
TEST(Service, Version1ClientsAreAnsweredInVersion1) {
  ServiceProcess service({"--workers", "1"});
  ASSERT_TRUE(service.running()) << service.log();
  const Snapshot snapshot = small_snapshot(5, 12, 40);
  const std::string body = encode_snapshot(snapshot, SnapshotFormat::kBinary);
  RawPeer peer(service.endpoint());
  for (const std::uint16_t version : {std::uint16_t{1}, std::uint16_t{2}}) {
    Envelope e;
    e.version = version;
    e.type = MessageType::kAllocate;
    e.request_id = 100 + version;
    e.snapshot_version = snapshot.version;
    peer.send(test::request_frames(e, {encode_request_options(AllocateRequestOptions{}, BodyFormat::kBinary, version),
                                       body}));
    const auto frames = peer.receive(std::chrono::seconds(30));
    ASSERT_TRUE(frames.has_value()) << "no reply to the version " << version << " request";
    const auto reply = test::parse_reply(*frames);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->envelope.version, version);
    ASSERT_EQ(reply->envelope.code, ReplyCode::kOk) << reply->body;
    const AllocationDecodeResult d = decode_allocation(reply->body, BodyFormat::kBinary, {}, version);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.allocation.placements.size() + d.allocation.unscheduled.size(), 40u - d.allocation.kept.size() -
                                                                                  d.allocation.migrations.size() -
                                                                                  d.allocation.preemptions.size())
        << "every task is accounted for";
    if (version == 2) {
      EXPECT_EQ(d.allocation.stats.placed_by_flow + d.allocation.stats.placed_by_resolve +
                    d.allocation.stats.placed_by_fallback,
                static_cast<std::int64_t>(d.allocation.placements.size()));
    }
    EXPECT_FALSE(decode_allocation(reply->body, BodyFormat::kBinary, {}, version == 1 ? 2 : 1).ok);
    Envelope s;
    s.version = version;
    s.type = MessageType::kStats;
    s.request_id = 200 + version;
    peer.send(test::request_frames(s, {}));
    const auto stats_frames = peer.receive(std::chrono::seconds(30));
    ASSERT_TRUE(stats_frames.has_value());
    const auto stats = test::parse_reply(*stats_frames);
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(stats->envelope.version, version);
    std::string error;
    EXPECT_TRUE(decode_stats(stats->body, BodyFormat::kBinary, &error, version).has_value()) << error;
  }
}

// 8 clients × 200 pipelined requests each: every request id is answered exactly once
// (an allocation, or BUSY when the queue was full: both are replies), and nothing more
// arrives afterwards.
TEST(Service, ConcurrentClientsGetExactlyOneReplyEach) {
  ServiceProcess service({"--workers", "2", "--queue", "256"});
  ASSERT_TRUE(service.running()) << service.log();
  constexpr int kClients = 8;
  constexpr int kRequests = 200;
  const Snapshot snapshot = small_snapshot(5, 12, 40);
  const std::string body = encode_snapshot(snapshot, SnapshotFormat::kBinary);
  const std::string options = encode_request_options(AllocateRequestOptions{}, BodyFormat::kBinary);
  std::atomic<int> failures{0};
  std::atomic<int> ok_replies{0}, busy_replies{0};
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kClients);
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      RawPeer peer(service.endpoint());
      std::map<std::uint64_t, int> replies;
      for (int i = 0; i < kRequests; ++i) {
        Envelope e;
        e.type = MessageType::kAllocate;
        e.request_id = static_cast<std::uint64_t>(c + 1) * 1'000'000 + static_cast<std::uint64_t>(i);
        e.snapshot_version = snapshot.version;
        replies[e.request_id] = 0;
        peer.send(test::request_frames(e, {options, body}));
      }
      int received = 0;
      while (received < kRequests) {
        const auto frames = peer.receive(std::chrono::seconds(60));
        if (!frames) break;
        const auto reply = test::parse_reply(*frames);
        if (!reply) {
          errors[c] = "unreadable reply";
          ++failures;
          return;
        }
        ++replies[reply->envelope.request_id];
        ++received;
        if (reply->envelope.code == ReplyCode::kOk) ++ok_replies;
        if (reply->envelope.code == ReplyCode::kBusy) ++busy_replies;
      }
      // Nothing more may come.
      if (peer.receive(std::chrono::milliseconds(300))) {
        errors[c] = "an extra reply arrived";
        ++failures;
      }
      for (const auto& [id, n] : replies) {
        if (n != 1) {
          errors[c] = "request " + std::to_string(id) + " got " + std::to_string(n) + " replies";
          ++failures;
          return;
        }
      }
      if (static_cast<int>(replies.size()) != kRequests) {
        errors[c] = "unknown request ids answered";
        ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& e : errors) EXPECT_TRUE(e.empty()) << e;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ok_replies.load() + busy_replies.load(), kClients * kRequests);
  EXPECT_GT(ok_replies.load(), 0);

  Client client(test::client_at(service.endpoint()));
  const StatsCall stats = client.stats();
  ASSERT_TRUE(stats.info.ok);
  EXPECT_EQ(stats.stats.allocations, static_cast<std::uint64_t>(ok_replies.load()));
  EXPECT_EQ(stats.stats.busy, static_cast<std::uint64_t>(busy_replies.load()));
}

// A retried request id is answered from the cache with the same bytes, without a second
// solve; a retry sent while the first is still being solved joins it.
TEST(Service, RetriedRequestIdIsAnsweredOnceSolved) {
  ServiceProcess service({"--workers", "1"});
  ASSERT_TRUE(service.running()) << service.log();
  const Snapshot snapshot = small_snapshot(11, 400, 6000);
  const std::string body = encode_snapshot(snapshot, SnapshotFormat::kBinary);
  const std::string options = encode_request_options(AllocateRequestOptions{}, BodyFormat::kBinary);
  Envelope e;
  e.type = MessageType::kAllocate;
  e.request_id = 4242;
  e.epoch = 3;
  e.snapshot_version = snapshot.version;
  const auto frames = test::request_frames(e, {options, body});

  // Two peers send the same request at once: one solve, two identical replies.
  RawPeer first(service.endpoint());
  RawPeer second(service.endpoint());
  first.send(frames);
  second.send(frames);
  const auto r1 = first.receive();
  const auto r2 = second.receive();
  ASSERT_TRUE(r1 && r2);
  const auto p1 = test::parse_reply(*r1);
  const auto p2 = test::parse_reply(*r2);
  ASSERT_TRUE(p1 && p2);
  ASSERT_EQ(p1->envelope.code, ReplyCode::kOk) << p1->body;
  EXPECT_EQ(p1->body, p2->body);

  // Later, a third retry: from the cache.
  RawPeer third(service.endpoint());
  third.send(frames);
  const auto r3 = third.receive();
  ASSERT_TRUE(r3);
  const auto p3 = test::parse_reply(*r3);
  ASSERT_TRUE(p3);
  EXPECT_EQ(p3->body, p1->body);

  Client client(test::client_at(service.endpoint()));
  const StatsCall stats = client.stats();
  ASSERT_TRUE(stats.info.ok);
  EXPECT_EQ(stats.stats.allocations, 1u);
  EXPECT_EQ(stats.stats.cache_hits + stats.stats.joined_in_flight, 2u);
  EXPECT_EQ(stats.stats.cache_hits, 1u + (stats.stats.joined_in_flight == 0 ? 1u : 0u));

  // The same id with another snapshot is refused, not answered with the cached reply.
  const Snapshot other = small_snapshot(12, 30, 100);
  Envelope e2 = e;
  e2.snapshot_version = other.version;
  third.send(test::request_frames(e2, {options, encode_snapshot(other, SnapshotFormat::kBinary)}));
  const auto r4 = third.receive();
  ASSERT_TRUE(r4);
  const auto p4 = test::parse_reply(*r4);
  ASSERT_TRUE(p4);
  EXPECT_EQ(p4->envelope.code, ReplyCode::kMalformed);
  EXPECT_NE(p4->body.find("already used for a different request"), std::string::npos) << p4->body;
}

// The C++ client's retry pattern: a service that is not there yet, then comes up; the
// client resends the same id on a fresh socket and gets its answer.
TEST(Service, ClientRetriesUntilAnswered) {
  ClientOptions co;
  co.endpoint = "tcp://127.0.0.1:1";  // nothing listens there
  co.timeout_ms = 200;
  co.attempts = 2;
  Client client(co);
  const HealthCall h = client.health();
  EXPECT_FALSE(h.info.ok);
  EXPECT_TRUE(h.info.timed_out);
  EXPECT_EQ(h.info.attempts, 2);
  EXPECT_NE(h.info.error.find("no reply"), std::string::npos) << h.info.error;
}

// A request from an older epoch than one already seen is refused (a stale master).
TEST(Service, StaleEpochIsRefused) {
  ServiceProcess service;
  ASSERT_TRUE(service.running()) << service.log();
  Client client(test::client_at(service.endpoint()));
  const Snapshot snapshot = small_snapshot();
  const AllocateCall newer = client.allocate(snapshot, {}, 0, 7);
  ASSERT_TRUE(newer.info.ok) << newer.info.error;
  const AllocateCall same = client.allocate(snapshot, {}, 0, 7);
  EXPECT_TRUE(same.info.ok) << same.info.error;
  const AllocateCall stale = client.allocate(snapshot, {}, 0, 6);
  EXPECT_FALSE(stale.info.ok);
  EXPECT_EQ(stale.info.code, ReplyCode::kStaleEpoch);
  EXPECT_NE(stale.info.error.find("epoch 6 is below 7"), std::string::npos) << stale.info.error;
  const HealthCall h = client.health();
  ASSERT_TRUE(h.info.ok);
  EXPECT_EQ(h.health.highest_epoch, 7u);
}

// Indexed replies: the same allocation as positions, a fraction of the bytes; binary only.
TEST(Service, IndexedRepliesStandForTheIdReplies) {
  ServiceProcess service;
  ASSERT_TRUE(service.running()) << service.log();
  Client client(test::client_at(service.endpoint()));
  const Snapshot snapshot = small_snapshot(11, 60, 800);
  AllocateRequestOptions ro;
  ro.cost_model = CostModel::kPriority;
  const AllocateCall ids = client.allocate(snapshot, ro);
  ASSERT_TRUE(ids.info.ok) << ids.info.error;
  const IndexedAllocateCall indexed = client.allocate_indexed(snapshot, ro);
  ASSERT_TRUE(indexed.info.ok) << indexed.info.error;
  EXPECT_EQ(indexed.info.reply.flags & kFlagIndexedReply, kFlagIndexedReply);
  EXPECT_LT(indexed.info.reply_bytes, ids.info.reply_bytes / 2);
  const Allocation expanded = expand(indexed.allocation, snapshot);
  ASSERT_EQ(expanded.status, Status::kOptimal) << expanded.message;
  EXPECT_EQ(expanded.objective, ids.allocation.objective);
  EXPECT_EQ(placement_keys(expanded), placement_keys(ids.allocation));

  // A JSON client cannot ask for one; a raw JSON request with the flag gets an error reply.
  ClientOptions json = test::client_at(service.endpoint());
  json.format = BodyFormat::kJson;
  Client json_client(json);
  const IndexedAllocateCall refused = json_client.allocate_indexed(snapshot, ro);
  EXPECT_FALSE(refused.info.ok);
  EXPECT_EQ(refused.info.attempts, 0);
  RawPeer peer(service.endpoint());
  Envelope e;
  e.type = MessageType::kAllocate;
  e.format = BodyFormat::kJson;
  e.request_id = 77;
  e.flags = kFlagIndexedReply;
  e.snapshot_version = snapshot.version;
  const std::string options = encode_request_options(ro, BodyFormat::kJson);
  const std::string body = encode_snapshot(snapshot, SnapshotFormat::kJson);
  e.body_bytes = options.size() + body.size();
  peer.send({encode_envelope(e), options, body});
  const auto reply = peer.receive();
  ASSERT_TRUE(reply.has_value());
  const EnvelopeDecodeResult r = decode_envelope(reply->front());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.envelope.code, ReplyCode::kMalformed);
  ASSERT_EQ(reply->size(), 2u);
  EXPECT_NE(reply->back().find("binary body format only"), std::string::npos) << reply->back();
  // And the service goes on serving.
  EXPECT_TRUE(client.allocate_indexed(snapshot, ro).info.ok);
}

TEST(Service, ExposesPrometheusMetrics) {
  using test::http_get;
  ServiceProcess service({"--metrics", "127.0.0.1:0"});
  ASSERT_TRUE(service.running()) << service.log();
  ASSERT_FALSE(service.metrics().empty());
  Client client(test::client_at(service.endpoint()));
  ASSERT_TRUE(client.allocate(small_snapshot(), {}).info.ok);
  RawPeer peer(service.endpoint());
  peer.send({"not an envelope"});
  ASSERT_TRUE(peer.receive());
  const std::string text = http_get(service.metrics());
  EXPECT_NE(text.find("sluice_requests_total{result=\"ok\",type=\"allocate-reply\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_requests_total{result=\"malformed\",type=\"error\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_solve_seconds_count 1"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_decode_seconds_count 1"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_queue_depth"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_snapshot_bytes_count 1"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_solves_total{backend=\"cpu\"} 1"), std::string::npos) << text;
}

// Structured logs: one JSON object per line with the request id and timings.
TEST(Service, LogsRepliesAsJsonLines) {
  ServiceProcess service({"--log-level", "info"});
  ASSERT_TRUE(service.running()) << service.log();
  Client client(test::client_at(service.endpoint()));
  const AllocateCall call = client.allocate(small_snapshot(), {}, 987654321, 2);
  ASSERT_TRUE(call.info.ok);
  service.signal(SIGTERM);
  EXPECT_EQ(service.wait(), 0);
  const std::string log = service.log();
  EXPECT_NE(log.find("\"event\":\"reply\",\"request_id\":987654321,\"epoch\":2"), std::string::npos) << log;
  EXPECT_NE(log.find("\"solve_s\":"), std::string::npos) << log;
  EXPECT_NE(log.find("\"event\":\"stopped\""), std::string::npos) << log;
}

}  // namespace
}  // namespace sluice
