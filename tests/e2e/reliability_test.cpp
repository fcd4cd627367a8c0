// Faults on loopback against the real service: a service killed with SIGKILL mid-solve and
// restarted (the client's retry gets the answer), a client that vanishes mid-request, half
// a multipart message, raw TCP garbage and a peer that never finishes its handshake.
// Nothing is lost, nothing is answered twice with different results, memory stays bounded.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <future>
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

// A loopback port nobody listens on right now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

Snapshot big_snapshot() {
  SnapshotGenParams p;
  p.machines = 20'000;
  p.tasks = 200'000;
  p.seed = 21;
  return generate_snapshot(p);
}

void wait_in_flight(const std::string& endpoint) {
  Client client(test::client_at(endpoint));
  for (int i = 0; i < 4000; ++i) {
    const HealthCall h = client.health();
    if (h.info.ok && h.health.in_flight > 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  FAIL() << "the request never started";
}

// The service dies (SIGKILL) while solving; a new one starts on the same port; the
// client, which resends the same request id after its timeout, gets the answer.
TEST(Reliability, SigkillMidSolveThenRestartRetryGetsTheAnswer) {
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
  const Snapshot snapshot = big_snapshot();
  auto first = std::make_unique<ServiceProcess>(std::vector<std::string>{"--endpoint", endpoint, "--workers", "1"});
  ASSERT_TRUE(first->running()) << first->log();

  ClientOptions co;
  co.endpoint = endpoint;
  co.timeout_ms = 8'000;
  co.attempts = 6;
  std::promise<AllocateCall> done;
  auto answer = done.get_future();
  std::thread master([&] {
    Client client(co);
    done.set_value(client.allocate(snapshot, AllocateRequestOptions{}, 777'001, 1));
  });
  wait_in_flight(endpoint);
  first->signal(SIGKILL);
  EXPECT_EQ(first->wait(), 128 + SIGKILL);
  first.reset();
  ServiceProcess second({"--endpoint", endpoint, "--workers", "1"});
  ASSERT_TRUE(second.running()) << second.log();
  master.join();
  const AllocateCall call = answer.get();
  ASSERT_TRUE(call.info.ok) << call.info.error;
  EXPECT_GE(call.info.attempts, 2);
  EXPECT_EQ(call.info.request_id, 777'001u);
  EXPECT_EQ(call.allocation.snapshot_version, snapshot.version);
  // Retrying once more returns the same reply from the new service's cache, solved once.
  ClientOptions again = co;
  again.attempts = 1;
  Client client(again);
  const AllocateCall repeat = client.allocate(snapshot, AllocateRequestOptions{}, 777'001, 1);
  ASSERT_TRUE(repeat.info.ok) << repeat.info.error;
  EXPECT_EQ(repeat.allocation.objective, call.allocation.objective);
  EXPECT_EQ(repeat.allocation.placements.size(), call.allocation.placements.size());
  const StatsCall stats = client.stats();
  ASSERT_TRUE(stats.info.ok);
  EXPECT_EQ(stats.stats.allocations, 1u);
  EXPECT_EQ(stats.stats.cache_hits, 1u);
}

// A client sends a request and disappears before the reply: the service finishes, drops
// the unroutable reply, and serves the next client normally.
TEST(Reliability, ClientThatVanishesMidRequest) {
  ServiceProcess service({"--workers", "1"});
  ASSERT_TRUE(service.running()) << service.log();
  const std::string bytes = encode_snapshot(big_snapshot(), SnapshotFormat::kBinary);
  const std::string options = encode_request_options(AllocateRequestOptions{}, BodyFormat::kBinary);
  {
    RawPeer ghost(service.endpoint());
    Envelope e;
    e.type = MessageType::kAllocate;
    e.request_id = 5150;
    e.snapshot_version = 1;
    ghost.send(test::request_frames(e, {options, bytes}));
    wait_in_flight(service.endpoint());
  }  // gone
  Client client(test::client_at(service.endpoint()));
  SnapshotGenParams p;
  p.machines = 20;
  p.tasks = 100;
  const AllocateCall call = client.allocate(generate_snapshot(p), {});
  ASSERT_TRUE(call.info.ok) << call.info.error;
  const StatsCall stats = client.stats();
  ASSERT_TRUE(stats.info.ok);
  EXPECT_EQ(stats.stats.allocations, 2u);  // the ghost's was solved too, its reply dropped
  EXPECT_EQ(stats.stats.replies_dropped, 1u);  // and counted as such
  EXPECT_NE(service.log().find("\"reason\":\"peer-gone\""), std::string::npos) << service.log();
  service.signal(SIGTERM);
  EXPECT_EQ(service.wait(), 0);
}

// Half a multipart message (the peer closes before the last frame), raw TCP garbage and a
// peer stuck in the handshake: none reaches the service as a request, none stops it.
TEST(Reliability, HalfMessagesGarbageAndStuckPeers) {
  ServiceProcess service;
  ASSERT_TRUE(service.running()) << service.log();
  const int port = std::stoi(service.endpoint().substr(service.endpoint().rfind(':') + 1));
  {
    RawPeer half(service.endpoint());
    Envelope e;
    e.type = MessageType::kHealth;
    e.request_id = 1;
    const std::string envelope = encode_envelope(e);
    half.socket().send(zmq::buffer(envelope), zmq::send_flags::sndmore);  // and never the rest
  }
  std::vector<int> raw;
  for (int i = 0; i < 20; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    if (i % 2 == 0) {
      const std::string junk(4096, static_cast<char>(0x41 + i));
      EXPECT_GT(::write(fd, junk.data(), junk.size()), 0);
      ::close(fd);
    } else {
      // The start of a ZMTP greeting, then silence: stuck mid-handshake.
      const unsigned char greeting[] = {0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3};
      EXPECT_GT(::write(fd, greeting, sizeof greeting), 0);
      raw.push_back(fd);
    }
  }
  Client client(test::client_at(service.endpoint()));
  const HealthCall h = client.health();
  ASSERT_TRUE(h.info.ok) << h.info.error;
  const StatsCall stats = client.stats();
  ASSERT_TRUE(stats.info.ok);
  EXPECT_EQ(stats.stats.received, 2u);  // the health and stats requests, nothing else
  EXPECT_EQ(stats.stats.malformed, 0u);
  EXPECT_LT(service.rss_kib(), 200 * 1024);
  for (const int fd : raw) ::close(fd);
  service.signal(SIGTERM);
  EXPECT_EQ(service.wait(), 0);
}

}  // namespace
}  // namespace sluice
