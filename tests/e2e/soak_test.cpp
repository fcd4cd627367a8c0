// Soak: 64 masters for a minute against the real `sluice serve`, each sending requests one
// at a time from a mix of valid allocations, health checks, hostile messages and requests
// whose deadline is too short to solve in. Every request must be answered exactly once
// (none lost, none twice, each reply naming its request), the service must still answer at
// the end, and its memory must stay under a stated bound (issue 14).
//
// SLUICE_SOAK_SECONDS overrides the minute (a shorter run for a quick check).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "raw_peer.hpp"
#include "service_process.hpp"
#include "sluice/client.hpp"
#include "sluice/snapshot_generator.hpp"
#include "sluice/snapshot_io.hpp"

namespace sluice {
namespace {

using test::RawPeer;
using test::ServiceProcess;

constexpr int kMasters = 64;
// Resident memory the service may hold at the end: its queue is 64 requests of at most a few
// MB here, the cache 1,024 replies of a few KB, the allocations' memory is reused.
#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer the service also holds up to 256 MiB of freed blocks in the
// allocator's quarantine (its default quarantine_size_mb) and shadow memory for the rest.
constexpr std::int64_t kRssBoundBytes = std::int64_t{512 + 256 + 64} << 20;
#else
constexpr std::int64_t kRssBoundBytes = std::int64_t{512} << 20;
#endif

struct Tally {
  std::atomic<std::int64_t> sent{0};
  std::atomic<std::int64_t> answered{0};
  std::atomic<std::int64_t> lost{0};
  std::atomic<std::int64_t> misnamed{0};  // a reply carrying another request's id
  std::atomic<std::int64_t> extra{0};     // replies after each master's last request
  std::atomic<std::int64_t> ok{0};
  std::atomic<std::int64_t> refused{0};   // malformed, too large, invalid: hostile input answered
  std::atomic<std::int64_t> deadline{0};
  std::atomic<std::int64_t> busy{0};
  std::atomic<std::int64_t> other{0};
};

struct Bodies {
  std::string options_binary;
  std::string options_json;
  std::string options_deadline;  // 1 ms: too short for the large snapshot
  std::vector<std::string> small;  // valid snapshots, binary
  std::string large;               // 2,000 machines, 40,000 tasks
  std::string unknown_member_json;
};

Bodies make_bodies() {
  Bodies b;
  b.options_binary = encode_request_options(AllocateRequestOptions{}, BodyFormat::kBinary);
  b.options_json = encode_request_options(AllocateRequestOptions{}, BodyFormat::kJson);
  AllocateRequestOptions tight;
  tight.deadline_ms = 1;
  b.options_deadline = encode_request_options(tight, BodyFormat::kBinary);
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    SnapshotGenParams p;
    p.machines = 100;
    p.tasks = 1000;
    p.seed = seed;
    b.small.push_back(encode_snapshot(generate_snapshot(p), SnapshotFormat::kBinary));
  }
  SnapshotGenParams p;
  p.machines = 2000;
  p.tasks = 40000;
  p.seed = 9;
  b.large = encode_snapshot(generate_snapshot(p), SnapshotFormat::kBinary);
  std::string zz = "{\"format\": 1, \"zz\": [0";
  for (int i = 0; i < 100000; ++i) zz += ",0";
  b.unknown_member_json = zz + "], \"version\": 1, \"time\": 0, \"machines\": [], \"jobs\": []}";
  return b;
}

Envelope envelope(MessageType type, std::uint64_t id, BodyFormat format = BodyFormat::kBinary) {
  Envelope e;
  e.type = type;
  e.request_id = id;
  e.format = format;
  e.snapshot_version = 1;
  return e;
}

// One master: requests one at a time until `until`, each checked against its reply.
void master(int index, const std::string& endpoint, const Bodies& bodies, std::chrono::steady_clock::time_point until,
            Tally& tally) {
  RawPeer peer(endpoint);
  std::mt19937_64 rng(static_cast<std::uint64_t>(index) * 7919 + 1);
  std::uint64_t next_id = static_cast<std::uint64_t>(index + 1) << 40;
  while (std::chrono::steady_clock::now() < until) {
    const std::uint64_t id = ++next_id;
    std::uint64_t expect_id = id;
    const int roll = static_cast<int>(rng() % 100);
    if (roll < 45) {  // a valid allocation
      const std::string& snapshot = bodies.small[rng() % bodies.small.size()];
      peer.send(test::request_frames(envelope(MessageType::kAllocate, id), {bodies.options_binary, snapshot}));
    } else if (roll < 55) {  // health
      peer.send(test::request_frames(envelope(MessageType::kHealth, id), {}));
    } else if (roll < 70) {  // deadline-bound: 1 ms for 40,000 tasks
      peer.send(test::request_frames(envelope(MessageType::kAllocate, id), {bodies.options_deadline, bodies.large}));
    } else {  // hostile
      switch (rng() % 5) {
        case 0: {  // random bytes: no envelope to take an id from
          std::string junk(1 + rng() % 200, '\0');
          for (char& c : junk) c = static_cast<char>(rng());
          if (junk.size() == 48) junk.push_back('x');  // never a well-sized envelope
          peer.send({junk});
          expect_id = 0;
          break;
        }
        case 1: {  // a valid envelope, a truncated snapshot
          const std::string& s = bodies.small[0];
          peer.send(test::request_frames(envelope(MessageType::kAllocate, id),
                                         {bodies.options_binary, s.substr(0, rng() % s.size())}));
          break;
        }
        case 2:  // a JSON body whose bulk is a member the schema does not have
          peer.send(test::request_frames(envelope(MessageType::kAllocate, id, BodyFormat::kJson),
                                         {bodies.options_json, bodies.unknown_member_json}));
          break;
        case 3: {  // more frames than a message may have
          std::vector<std::string> frames = test::request_frames(envelope(MessageType::kAllocate, id), {"a", "b"});
          for (int i = 0; i < 12; ++i) frames.push_back("frame");
          peer.send(frames);
          expect_id = 0;
          break;
        }
        default: {  // a body length that does not match the frames
          Envelope e = envelope(MessageType::kAllocate, id);
          e.body_bytes = std::uint64_t{1} << 60;
          std::vector<std::string> frames{encode_envelope(e), bodies.options_binary, bodies.small[1]};
          peer.send(frames);
          break;
        }
      }
    }
    ++tally.sent;
    const auto frames = peer.receive(std::chrono::seconds(120));
    if (!frames) {
      ++tally.lost;
      continue;
    }
    ++tally.answered;
    const auto reply = test::parse_reply(*frames);
    if (!reply || reply->envelope.request_id != expect_id) {
      ++tally.misnamed;
      continue;
    }
    switch (reply->envelope.code) {
      case ReplyCode::kOk: ++tally.ok; break;
      case ReplyCode::kMalformed:
      case ReplyCode::kTooLarge:
      case ReplyCode::kInvalidSnapshot: ++tally.refused; break;
      case ReplyCode::kDeadlineExceeded: ++tally.deadline; break;
      case ReplyCode::kBusy: ++tally.busy; break;
      default: ++tally.other; break;
    }
  }
  // Nothing more may come: every request had its one reply.
  while (peer.receive(std::chrono::milliseconds(300))) ++tally.extra;
}

TEST(Soak, SixtyFourMastersForAMinuteEveryRequestAnsweredOnce) {
  const char* env = std::getenv("SLUICE_SOAK_SECONDS");
  const int seconds = env != nullptr ? std::max(1, std::atoi(env)) : 60;
  ServiceProcess service({"--workers", "2", "--queue", "64"});
  ASSERT_TRUE(service.running()) << service.log();
  const Bodies bodies = make_bodies();
  Tally tally;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> masters;
  for (int i = 0; i < kMasters; ++i) {
    masters.emplace_back([&, i] { master(i, service.endpoint(), bodies, until, tally); });
  }
  for (std::thread& t : masters) t.join();

  const std::int64_t rss = test::proc_status_bytes(service.pid(), "VmRSS:");
  const std::int64_t peak = test::proc_status_bytes(service.pid(), "VmHWM:");
  RecordProperty("requests", static_cast<int>(tally.sent.load()));
  RecordProperty("ok", static_cast<int>(tally.ok.load()));
  RecordProperty("refused", static_cast<int>(tally.refused.load()));
  RecordProperty("deadline_exceeded", static_cast<int>(tally.deadline.load()));
  RecordProperty("busy", static_cast<int>(tally.busy.load()));
  RecordProperty("service_rss_mib", static_cast<int>(rss >> 20));
  RecordProperty("service_peak_mib", static_cast<int>(peak >> 20));
  std::printf("soak: %d s, %lld requests: %lld ok, %lld refused, %lld deadline-exceeded, %lld busy, %lld other; "
              "service RSS %lld MiB (peak %lld MiB)\n",
              seconds, static_cast<long long>(tally.sent.load()), static_cast<long long>(tally.ok.load()),
              static_cast<long long>(tally.refused.load()), static_cast<long long>(tally.deadline.load()),
              static_cast<long long>(tally.busy.load()), static_cast<long long>(tally.other.load()),
              static_cast<long long>(rss >> 20), static_cast<long long>(peak >> 20));

  EXPECT_EQ(tally.lost.load(), 0) << "requests without a reply";
  EXPECT_EQ(tally.misnamed.load(), 0) << "replies naming another request";
  EXPECT_EQ(tally.extra.load(), 0) << "second replies";
  EXPECT_EQ(tally.answered.load(), tally.sent.load());
  EXPECT_EQ(tally.other.load(), 0) << "replies with an unexpected code";
  EXPECT_GT(tally.ok.load(), 0);
  EXPECT_GT(tally.refused.load(), 0);
  EXPECT_LT(rss, kRssBoundBytes) << "service resident memory " << (rss >> 20) << " MiB at the end";
  Client client(test::client_at(service.endpoint()));
  EXPECT_TRUE(client.health().info.ok) << "the service no longer answers";
}

}  // namespace
}  // namespace sluice
