// Faults against the real service over loopback: hostile and malformed messages, a full
// queue, deadlines, SIGTERM during a solve. Every request is answered (or, for a frame
// over ZMQ_MAXMSGSIZE, the peer is disconnected as documented) and the service keeps
// serving with bounded memory.
#include <gtest/gtest.h>

#include <random>
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

// A snapshot whose allocation takes a noticeable time (about 0.5 s in a release build).
const std::string& slow_snapshot_bytes() {
  static const std::string bytes = encode_snapshot(generated(20'000, 200'000, 9), SnapshotFormat::kBinary);
  return bytes;
}

Envelope allocate_envelope(std::uint64_t id, std::int64_t version = 1) {
  Envelope e;
  e.type = MessageType::kAllocate;
  e.request_id = id;
  e.snapshot_version = version;
  return e;
}

std::string binary_options(std::int64_t deadline_ms = 0) {
  AllocateRequestOptions o;
  o.deadline_ms = deadline_ms;
  return encode_request_options(o, BodyFormat::kBinary);
}

// Sends one message and expects an error reply with this code whose text contains `what`.
void expect_error(RawPeer& peer, const std::vector<std::string>& frames, ReplyCode code, const std::string& what) {
  peer.send(frames);
  const auto reply = peer.receive(std::chrono::seconds(30));
  ASSERT_TRUE(reply.has_value()) << "no reply; expected " << to_string(code);
  // A lone empty frame reads as a REQ delimiter, which the reply then carries too.
  const auto parsed = test::parse_reply(*reply, !reply->empty() && reply->front().empty() ? 1 : 0);
  ASSERT_TRUE(parsed.has_value()) << "unreadable reply; expected " << to_string(code);
  EXPECT_EQ(parsed->envelope.type, MessageType::kError);
  EXPECT_EQ(parsed->envelope.code, code) << parsed->body;
  EXPECT_NE(parsed->body.find(what), std::string::npos) << "reply: " << parsed->body << "\nexpected: " << what;
}

void expect_serving(const std::string& endpoint) {
  ClientOptions co;
  co.endpoint = endpoint;
  co.timeout_ms = 30'000;
  Client client(co);
  const AllocateCall call = client.allocate(generated(20, 100, 4), {});
  EXPECT_TRUE(call.info.ok) << call.info.error;
}

TEST(ServiceFaults, MalformedMessagesAreAnsweredAndServiceKeepsServing) {
  ServiceProcess service({"--max-request-bytes", "1048576", "--max-frame-bytes", "4194304", "--max-frames", "8"});
  ASSERT_TRUE(service.running()) << service.log();
  RawPeer peer(service.endpoint());
  const Snapshot snapshot = generated(30, 200, 2);
  const std::string snap = encode_snapshot(snapshot, SnapshotFormat::kBinary);
  const std::string json = encode_snapshot(snapshot, SnapshotFormat::kJson);
  const std::string options = binary_options();

  // Random bytes, of many lengths (48 included: the envelope's size).
  std::mt19937_64 rng(12345);
  for (const std::size_t n : {1, 7, 47, 48, 49, 100, 4096}) {
    std::string junk(n, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (n == 48) std::memcpy(junk.data(), "XXXX", 4);
    expect_error(peer, {junk}, n == 48 ? ReplyCode::kMalformed : ReplyCode::kMalformed,
                 n == 48 ? "bad magic" : "envelope is " + std::to_string(n) + " bytes");
  }
  // An empty frame only (taken as a delimiter): no envelope.
  expect_error(peer, {std::string()}, ReplyCode::kMalformed, "no envelope frame");

  const std::string good = encode_envelope(allocate_envelope(1, snapshot.version));
  expect_error(peer, {good.substr(0, 47)}, ReplyCode::kMalformed, "envelope is 47 bytes");
  {
    std::string v = good;
    v[4] = 3;  // version 3: newer than this service
    expect_error(peer, {v, options, snap}, ReplyCode::kUnsupportedVersion, "protocol version 3");
  }
  {
    std::string t = good;
    t[6] = 77;
    expect_error(peer, {t}, ReplyCode::kMalformed, "unknown message type 77");
  }
  {
    std::string f = good;
    f[7] = 5;
    expect_error(peer, {f}, ReplyCode::kMalformed, "unknown body format 5");
  }
  // A body length that claims 2^60 bytes.
  {
    Envelope e = allocate_envelope(2, snapshot.version);
    e.body_bytes = std::uint64_t{1} << 60;
    expect_error(peer, {encode_envelope(e), options, snap}, ReplyCode::kMalformed, "declares 1152921504606846976 body bytes");
  }
  // Wrong number of body frames; a reply type sent to the service.
  expect_error(peer, test::request_frames(allocate_envelope(3, snapshot.version), {options}), ReplyCode::kMalformed,
               "2 body frames");
  {
    Envelope e = allocate_envelope(4, snapshot.version);
    e.type = MessageType::kAllocateReply;
    expect_error(peer, test::request_frames(e, {options, snap}), ReplyCode::kMalformed, "not allocate-reply");
  }
  // Garbage options; unknown cost model in JSON options.
  expect_error(peer, test::request_frames(allocate_envelope(5, snapshot.version), {std::string("\x01garbage"), snap}),
               ReplyCode::kMalformed, "options:");
  {
    Envelope e = allocate_envelope(6, snapshot.version);
    e.format = BodyFormat::kJson;
    expect_error(peer, test::request_frames(e, {R"({"cost_model": "cheapest"})", json}), ReplyCode::kMalformed,
                 "unknown cost model 'cheapest'");
    expect_error(peer, test::request_frames(e, {R"({"colour": 1})", json}), ReplyCode::kMalformed,
                 "colour: unknown field");
  }
  // A snapshot whose machine count claims 2^60: refused before anything is allocated.
  {
    std::string bomb = snap;
    // Binary layout: endianness byte, format i32, version i64, time i64, then the
    // machine count (u64) at offset 21.
    const std::uint64_t huge = std::uint64_t{1} << 60;
    std::memcpy(bomb.data() + 21, &huge, 8);
    expect_error(peer, test::request_frames(allocate_envelope(7, snapshot.version), {options, bomb}),
                 ReplyCode::kMalformed, "exceeds the");
  }
  // Every truncation point of a small snapshot is answered (a sample of them here).
  for (std::size_t cut = 1; cut < snap.size(); cut += snap.size() / 13 + 1) {
    expect_error(peer, test::request_frames(allocate_envelope(100 + cut, snapshot.version), {options, snap.substr(0, cut)}),
                 ReplyCode::kMalformed, "snapshot:");
  }
  // Truncated JSON.
  {
    Envelope e = allocate_envelope(8, snapshot.version);
    e.format = BodyFormat::kJson;
    expect_error(peer, test::request_frames(e, {"{}", json.substr(0, json.size() / 2)}), ReplyCode::kMalformed,
                 "JSON syntax error");
  }
  // A snapshot that decodes but is invalid names the record.
  {
    Snapshot bad = snapshot;
    bad.machines[1].id = bad.machines[0].id;
    expect_error(peer,
                 test::request_frames(allocate_envelope(9, bad.version), {options, encode_snapshot(bad, SnapshotFormat::kBinary)}),
                 ReplyCode::kInvalidSnapshot, "machines[1]");
  }
  // Envelope and snapshot disagree on the version.
  expect_error(peer, test::request_frames(allocate_envelope(10, snapshot.version + 5), {options, snap}),
               ReplyCode::kMalformed, "snapshot version");
  // Too many frames.
  {
    std::vector<std::string> many(20, "x");
    many[0] = good;
    expect_error(peer, many, ReplyCode::kTooLarge, "message has 21 frames");  // the identity is one
  }
  // A body over --max-request-bytes (2 MiB > 1 MiB) is answered with too-large.
  expect_error(peer, test::request_frames(allocate_envelope(11, snapshot.version), {options, std::string(2 << 20, 'x')}),
               ReplyCode::kTooLarge, "exceeds the service's limit");

  // A frame over ZMQ_MAXMSGSIZE (8 MiB > 4 MiB): ZeroMQ drops the connection, as documented;
  // the service itself carries on.
  {
    RawPeer reckless(service.endpoint());
    reckless.send(test::request_frames(allocate_envelope(12, snapshot.version), {options, std::string(8 << 20, 'y')}));
    EXPECT_FALSE(reckless.receive(std::chrono::milliseconds(500)).has_value());
  }
  // Many hostile messages in a row: memory stays bounded.
  for (int i = 0; i < 200; ++i) {
    peer.send(test::request_frames(allocate_envelope(1000 + static_cast<std::uint64_t>(i), snapshot.version),
                                   {options, std::string(900 << 10, static_cast<char>(i))}));
  }
  int answered = 0;
  while (answered < 200 && peer.receive(std::chrono::seconds(30))) ++answered;
  EXPECT_EQ(answered, 200);
  const long rss = service.rss_kib();
  EXPECT_GT(rss, 0);
  EXPECT_LT(rss, 400 * 1024) << "service RSS " << rss << " KiB after the hostile flood";

  expect_serving(service.endpoint());
  Client client(test::client_at(service.endpoint()));
  const StatsCall stats = client.stats();
  ASSERT_TRUE(stats.info.ok);
  EXPECT_GE(stats.stats.malformed, 20u);
  EXPECT_GE(stats.stats.too_large, 2u);
  EXPECT_EQ(stats.stats.invalid, 1u);
}

// A full queue answers BUSY; every request still gets exactly one reply.
TEST(ServiceFaults, FullQueueAnswersBusy) {
  ServiceProcess service({"--workers", "1", "--queue", "1"});
  ASSERT_TRUE(service.running()) << service.log();
  RawPeer peer(service.endpoint());
  const std::string options = binary_options();
  constexpr int kRequests = 6;
  for (int i = 0; i < kRequests; ++i) {
    peer.send(test::request_frames(allocate_envelope(static_cast<std::uint64_t>(i + 1)), {options, slow_snapshot_bytes()}));
  }
  int ok = 0, busy = 0;
  for (int i = 0; i < kRequests; ++i) {
    const auto reply = peer.receive(std::chrono::seconds(120));
    ASSERT_TRUE(reply.has_value()) << "reply " << i << " missing";
    const auto parsed = test::parse_reply(*reply);
    ASSERT_TRUE(parsed.has_value());
    if (parsed->envelope.code == ReplyCode::kOk) ++ok;
    if (parsed->envelope.code == ReplyCode::kBusy) {
      ++busy;
      EXPECT_NE(parsed->body.find("queue is full"), std::string::npos) << parsed->body;
    }
  }
  EXPECT_EQ(ok + busy, kRequests);
  EXPECT_GE(ok, 2);   // the one solving and the one queued
  EXPECT_GE(busy, 1);
  EXPECT_FALSE(peer.receive(std::chrono::milliseconds(300)).has_value());
}

// Deadlines: one that passes during the allocation (the solver is cancelled), one that
// passes while the request waits for the only worker.
TEST(ServiceFaults, DeadlinesAreAnswered) {
  ServiceProcess service({"--workers", "1"});
  ASSERT_TRUE(service.running()) << service.log();
  RawPeer slow(service.endpoint());
  RawPeer quick(service.endpoint());
  slow.send(test::request_frames(allocate_envelope(1), {binary_options(), slow_snapshot_bytes()}));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  quick.send(test::request_frames(allocate_envelope(2), {binary_options(30), slow_snapshot_bytes()}));
  const auto q = quick.receive(std::chrono::seconds(60));
  ASSERT_TRUE(q.has_value());
  const auto qp = test::parse_reply(*q);
  ASSERT_TRUE(qp.has_value());
  EXPECT_EQ(qp->envelope.code, ReplyCode::kDeadlineExceeded) << qp->body;
  EXPECT_NE(qp->body.find("deadline of 30 ms passed"), std::string::npos) << qp->body;
  const auto s = slow.receive(std::chrono::seconds(120));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(test::parse_reply(*s)->envelope.code, ReplyCode::kOk);

  // Alone, with a deadline far shorter than its solve: cancelled mid-way and answered.
  RawPeer hurried(service.endpoint());
  hurried.send(test::request_frames(allocate_envelope(3), {binary_options(150), slow_snapshot_bytes()}));
  const auto h = hurried.receive(std::chrono::seconds(60));
  ASSERT_TRUE(h.has_value());
  const auto hp = test::parse_reply(*h);
  ASSERT_TRUE(hp.has_value());
  EXPECT_EQ(hp->envelope.code, ReplyCode::kDeadlineExceeded) << hp->body;
  expect_serving(service.endpoint());
}

// Waits until the service's health answer shows `ready`, up to about `seconds`.
template <typename Ready>
void wait_for_health(const std::string& endpoint, Ready ready, int seconds, const char* failure) {
  Client client(test::client_at(endpoint));
  for (int i = 0; i < seconds * 200; ++i) {
    const HealthCall h = client.health();
    if (h.info.ok && ready(h.health)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  FAIL() << failure;
}

// Waits until the service reports a request being solved.
void wait_in_flight(const std::string& endpoint) {
  wait_for_health(endpoint, [](const HealthInfo& h) { return h.in_flight > 0; }, 10, "the request never started");
}

// Waits until the service holds a request in its queue: a fixed sleep let a loaded machine
// signal the service before the queued request had arrived, and a request that reaches a
// service after it closed is not one it lost.
void wait_queued(const std::string& endpoint) {
  wait_for_health(endpoint, [](const HealthInfo& h) { return h.queue_depth > 0; }, 30,
                  "the second request never reached the queue");
}

// SIGTERM during a solve: the solve finishes and is answered, a new request is refused
// with shutting-down, and the process exits 0.
TEST(ServiceFaults, SigtermDuringSolveAnswersTheRequest) {
  ServiceProcess service({"--workers", "1"});
  ASSERT_TRUE(service.running()) << service.log();
  RawPeer peer(service.endpoint());
  peer.send(test::request_frames(allocate_envelope(1), {binary_options(), slow_snapshot_bytes()}));
  wait_in_flight(service.endpoint());
  service.signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  RawPeer late(service.endpoint());
  late.send(test::request_frames(allocate_envelope(2), {binary_options(), slow_snapshot_bytes()}));
  const auto refused = late.receive(std::chrono::seconds(30));
  const auto answered = peer.receive(std::chrono::seconds(120));
  ASSERT_TRUE(answered.has_value()) << "the request in flight was lost";
  EXPECT_EQ(test::parse_reply(*answered)->envelope.code, ReplyCode::kOk);
  if (refused.has_value()) {  // unless the drain had already finished and closed the socket
    EXPECT_EQ(test::parse_reply(*refused)->envelope.code, ReplyCode::kShuttingDown);
  }
  EXPECT_EQ(service.wait(), 0);
}

// With no drain time, SIGTERM cancels the solve in flight and answers it and the queued
// request: nothing is lost.
TEST(ServiceFaults, SigtermWithoutDrainTimeStillAnswersEverything) {
  ServiceProcess service({"--workers", "1", "--drain-timeout", "0"});
  ASSERT_TRUE(service.running()) << service.log();
  RawPeer running(service.endpoint());
  RawPeer queued(service.endpoint());
  running.send(test::request_frames(allocate_envelope(1), {binary_options(), slow_snapshot_bytes()}));
  wait_in_flight(service.endpoint());
  queued.send(test::request_frames(allocate_envelope(2), {binary_options(), slow_snapshot_bytes()}));
  wait_queued(service.endpoint());
  service.signal(SIGTERM);
  const auto r1 = running.receive(std::chrono::seconds(60));
  const auto r2 = queued.receive(std::chrono::seconds(60));
  ASSERT_TRUE(r1.has_value()) << "the solve in flight was not answered";
  ASSERT_TRUE(r2.has_value()) << "the queued request was not answered";
  const ReplyCode c1 = test::parse_reply(*r1)->envelope.code;
  EXPECT_TRUE(c1 == ReplyCode::kShuttingDown || c1 == ReplyCode::kOk) << to_string(c1);
  EXPECT_EQ(test::parse_reply(*r2)->envelope.code, ReplyCode::kShuttingDown);
  EXPECT_EQ(service.wait(), 0);
}

}  // namespace
}  // namespace sluice
