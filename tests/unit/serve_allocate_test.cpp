// One allocate request served without ZeroMQ (src/transport/serve_allocate.hpp): the reply
// the service would send for a valid snapshot, malformed bytes, a version mismatch, an
// invalid snapshot, a stale epoch, a passed deadline and an indexed reply asked in JSON;
// which of them a retry may take from the cache; and that only a valid request reaches
// the epoch fence.
#include "serve_allocate.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>

#include "sluice/protocol.hpp"
#include "sluice/snapshot_io.hpp"

namespace sluice {
namespace {

std::string example_json() {
  std::ifstream in(std::string(SLUICE_TEST_DATA_DIR) + "/../examples/snapshot.json");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Fixture {
  std::string snapshot = example_json();
  detail::ServeRequest request;
  detail::ServeConfig config;
  int fence_calls = 0;
  std::uint64_t fence = 0;

  Fixture() {
    request.envelope.type = MessageType::kAllocate;
    request.envelope.format = BodyFormat::kJson;
    request.envelope.request_id = 7;
    request.envelope.epoch = 3;
    request.envelope.snapshot_version = 42;  // examples/snapshot.json
    request.snapshot = snapshot;
    request.deadline_ms = 5000;
    config.raise_fence = [this](std::uint64_t epoch, std::string* message) {
      ++fence_calls;
      if (epoch < fence) {
        *message = "stale";
        return ReplyCode::kStaleEpoch;
      }
      fence = epoch;
      return ReplyCode::kOk;
    };
  }
};

TEST(ServeAllocate, ValidSnapshotGetsAnAllocation) {
  Fixture f;
  const detail::Served s = detail::serve_allocate(f.request, f.config);
  ASSERT_EQ(s.reply.envelope.code, ReplyCode::kOk) << s.reply.body;
  EXPECT_EQ(s.reply.envelope.type, MessageType::kAllocateReply);
  EXPECT_EQ(s.reply.envelope.request_id, 7u);
  EXPECT_EQ(s.reply.envelope.body_bytes, s.reply.body.size());
  EXPECT_TRUE(s.reply.cacheable);
  EXPECT_TRUE(s.decoded && s.allocated);
  EXPECT_FALSE(s.backend.empty());
  EXPECT_EQ(f.fence_calls, 1);
  EXPECT_EQ(f.fence, 3u);
  const AllocationDecodeResult a = decode_allocation(s.reply.body, BodyFormat::kJson);
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.allocation.status, Status::kOptimal);
  EXPECT_EQ(a.allocation.snapshot_version, 42);
  EXPECT_FALSE(a.allocation.placements.empty());
  // The snapshot and allocation come back for the caller to free after sending.
  EXPECT_FALSE(s.snapshot.machines.empty());
}

TEST(ServeAllocate, MalformedBytesAreRefusedBeforeTheFence) {
  Fixture f;
  const std::string junk = "{\"machines\": [";
  f.request.snapshot = junk;
  const detail::Served s = detail::serve_allocate(f.request, f.config);
  EXPECT_EQ(s.reply.envelope.code, ReplyCode::kMalformed);
  EXPECT_EQ(s.reply.envelope.type, MessageType::kError);
  EXPECT_NE(s.reply.body.find("snapshot: "), std::string::npos) << s.reply.body;
  EXPECT_TRUE(s.reply.cacheable);  // the same bytes get the same answer
  EXPECT_TRUE(s.decoded);
  EXPECT_FALSE(s.allocated);
  EXPECT_EQ(f.fence_calls, 0);  // a refused request never raises the fence
}

TEST(ServeAllocate, VersionMismatchAndInvalidSnapshotsNameTheProblem) {
  Fixture f;
  f.request.envelope.snapshot_version = 41;
  detail::Served s = detail::serve_allocate(f.request, f.config);
  EXPECT_EQ(s.reply.envelope.code, ReplyCode::kMalformed);
  EXPECT_NE(s.reply.body.find("version 41"), std::string::npos) << s.reply.body;

  Fixture g;
  SnapshotDecodeResult snap = decode_snapshot(g.snapshot, SnapshotFormat::kJson);
  ASSERT_TRUE(snap.ok) << snap.error;
  snap.snapshot.machines.push_back(snap.snapshot.machines.front());  // a duplicate machine id
  const std::string dup = encode_snapshot(snap.snapshot, SnapshotFormat::kJson);
  g.request.snapshot = dup;
  s = detail::serve_allocate(g.request, g.config);
  EXPECT_EQ(s.reply.envelope.code, ReplyCode::kInvalidSnapshot);
  EXPECT_NE(s.reply.body.find(snap.snapshot.machines.front().id), std::string::npos) << s.reply.body;
  EXPECT_EQ(g.fence_calls, 0);
}

TEST(ServeAllocate, StaleEpochIsRefusedAndNotCached) {
  Fixture f;
  f.fence = 10;
  const detail::Served s = detail::serve_allocate(f.request, f.config);
  EXPECT_EQ(s.reply.envelope.code, ReplyCode::kStaleEpoch);
  EXPECT_FALSE(s.reply.cacheable);
  EXPECT_FALSE(s.allocated);
  EXPECT_EQ(f.fence, 10u);
}

TEST(ServeAllocate, PassedDeadlineOrCancelAnswersWithoutDecoding) {
  Fixture f;
  f.request.past_deadline = true;
  f.request.queued_s = 1.5;
  detail::Served s = detail::serve_allocate(f.request, f.config);
  EXPECT_EQ(s.reply.envelope.code, ReplyCode::kDeadlineExceeded);
  EXPECT_NE(s.reply.body.find("1500 ms in the queue"), std::string::npos) << s.reply.body;
  EXPECT_FALSE(s.reply.cacheable);
  EXPECT_FALSE(s.decoded);

  Fixture g;
  std::atomic<bool> cancel{true};
  g.request.cancel = &cancel;
  s = detail::serve_allocate(g.request, g.config);
  EXPECT_EQ(s.reply.envelope.code, ReplyCode::kDeadlineExceeded);
  EXPECT_EQ(g.fence_calls, 0);
}

TEST(ServeAllocate, IndexedRepliesComeInBinaryOnly) {
  Fixture f;
  f.request.envelope.flags = kFlagIndexedReply;
  const detail::Served s = detail::serve_allocate(f.request, f.config);
  EXPECT_EQ(s.reply.envelope.code, ReplyCode::kMalformed);
  EXPECT_NE(s.reply.body.find("binary"), std::string::npos) << s.reply.body;
}

TEST(ServeAllocate, ErrorRepliesSpeakTheRequestsVersionWhenSupported) {
  Envelope old;
  old.version = kOldestProtocolVersion;
  old.request_id = 9;
  EXPECT_EQ(detail::error_reply(old, ReplyCode::kBusy, "x").envelope.version, kOldestProtocolVersion);
  Envelope future;
  future.version = kProtocolVersion + 1;
  const detail::ServedReply r = detail::error_reply(future, ReplyCode::kUnsupportedVersion, "no");
  EXPECT_EQ(r.envelope.version, kProtocolVersion);
  EXPECT_EQ(r.envelope.request_id, 0u);
  EXPECT_EQ(r.body, "no");
  EXPECT_EQ(r.envelope.body_bytes, 2u);
}

}  // namespace
}  // namespace sluice
