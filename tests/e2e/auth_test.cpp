// CurveZMQ on the real service: an allowed key is served, an unknown key and a plaintext
// client are refused (and counted, and logged), the service refuses to start in ways that
// would let strangers in.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "raw_peer.hpp"
#include "service_process.hpp"
#include "sluice/client.hpp"
#include "sluice/keys.hpp"
#include "sluice/service.hpp"
#include "sluice/snapshot_generator.hpp"

namespace sluice {
namespace {

using test::ServiceProcess;

class Keys {
 public:
  Keys() : dir_(std::filesystem::temp_directory_path() / ("sluice-keys-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
    server_ = *generate_keypair();
    alice_ = *generate_keypair();
    mallory_ = *generate_keypair();
    std::string error;
    EXPECT_TRUE(write_key_files(path("server"), server_, &error)) << error;
    std::ofstream(path("allowed.txt")) << "# the masters we trust\n" << alice_.public_key << "\n\n";
  }
  ~Keys() { std::filesystem::remove_all(dir_); }
  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }
  const KeyPair& server() const { return server_; }
  const KeyPair& alice() const { return alice_; }
  const KeyPair& mallory() const { return mallory_; }

 private:
  std::filesystem::path dir_;
  KeyPair server_, alice_, mallory_;
};

ClientOptions client_options(const std::string& endpoint, const KeyPair* server, const KeyPair* own) {
  ClientOptions co;
  co.endpoint = endpoint;
  co.timeout_ms = 1500;
  co.attempts = 1;
  if (server != nullptr) co.server_public_key = server->public_key;
  if (own != nullptr) co.client_secret_key = own->secret_key;
  return co;
}

TEST(Auth, KeyFilesRoundTrip) {
  const Keys keys;
  const KeyFileResult secret = read_key_file(keys.path("server.key"));
  ASSERT_TRUE(secret.ok) << secret.error;
  EXPECT_EQ(secret.keys.front(), keys.server().secret_key);
  EXPECT_EQ(public_key_of(secret.keys.front()), keys.server().public_key);
  const KeyFileResult pub = read_key_file(keys.path("server.pub"));
  ASSERT_TRUE(pub.ok);
  EXPECT_EQ(pub.keys.front(), keys.server().public_key);
  EXPECT_EQ(std::filesystem::status(keys.path("server.key")).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream(keys.path("bad.txt")) << keys.alice().public_key << "\nnot-a-key\n";
  const KeyFileResult bad = read_key_file(keys.path("bad.txt"), true);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find("bad.txt:2: expected a 40-character Z85 key"), std::string::npos) << bad.error;
}

TEST(Auth, AllowedKeyIsServedOthersAreRefusedAndCounted) {
  const Keys keys;
  ServiceProcess service({"--curve-secret", keys.path("server.key"), "--allowed-clients", keys.path("allowed.txt"),
                          "--log-level", "info"});
  ASSERT_TRUE(service.running()) << service.log();

  // A known key: served, and the body is encrypted on the wire (CURVE) — an allocation works.
  Client alice(client_options(service.endpoint(), &keys.server(), &keys.alice()));
  const HealthCall health = alice.health();
  ASSERT_TRUE(health.info.ok) << health.info.error;
  SnapshotGenParams p;
  p.machines = 10;
  p.tasks = 40;
  const AllocateCall call = alice.allocate(generate_snapshot(p), {});
  EXPECT_TRUE(call.info.ok) << call.info.error;

  // An unknown key: no reply.
  Client mallory(client_options(service.endpoint(), &keys.server(), &keys.mallory()));
  const HealthCall refused = mallory.health();
  EXPECT_FALSE(refused.info.ok);
  EXPECT_TRUE(refused.info.timed_out);

  // A plaintext client: no reply.
  Client plain(client_options(service.endpoint(), nullptr, nullptr));
  const HealthCall plaintext = plain.health();
  EXPECT_FALSE(plaintext.info.ok);
  EXPECT_TRUE(plaintext.info.timed_out);

  // A client that has the wrong server key cannot complete the handshake either.
  const KeyPair impostor = *generate_keypair();
  Client confused(client_options(service.endpoint(), &impostor, &keys.alice()));
  EXPECT_FALSE(confused.health().info.ok);

  const StatsCall stats = alice.stats();
  ASSERT_TRUE(stats.info.ok) << stats.info.error;
  EXPECT_GE(stats.stats.denied, 2u);
  EXPECT_EQ(stats.stats.allocations, 1u);
  service.signal(SIGTERM);
  EXPECT_EQ(service.wait(), 0);
  const std::string log = service.log();
  EXPECT_NE(log.find("\"event\":\"denied\""), std::string::npos) << log;
  EXPECT_NE(log.find(keys.mallory().public_key), std::string::npos) << log;
  EXPECT_NE(log.find("\"event\":\"connection_denied\""), std::string::npos) << log;
}

// Waits (up to 10 s) until the service's log holds `text` `times` times.
bool log_shows(const ServiceProcess& service, const std::string& text, int times = 1) {
  for (int i = 0; i < 1000; ++i) {
    const std::string log = service.log();
    int seen = 0;
    for (std::size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++seen;
    if (seen >= times) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// SIGHUP reloads the allow-list (it used to kill the service): a revoked key is refused from
// then on, on new connections at the handshake and on the one it holds with `unauthorized`;
// a newly allowed key is served; a broken list is logged and the old one kept.
TEST(Auth, SighupReloadsTheAllowList) {
  const Keys keys;
  ServiceProcess service({"--curve-secret", keys.path("server.key"), "--allowed-clients", keys.path("allowed.txt"),
                          "--log-level", "info"});
  ASSERT_TRUE(service.running()) << service.log();
  Client alice(client_options(service.endpoint(), &keys.server(), &keys.alice()));
  ASSERT_TRUE(alice.health().info.ok);
  {
    Client mallory(client_options(service.endpoint(), &keys.server(), &keys.mallory()));
    EXPECT_FALSE(mallory.health().info.ok);
  }

  std::ofstream(keys.path("allowed.txt")) << "# alice revoked, mallory admitted\n" << keys.mallory().public_key << "\n";
  service.signal(SIGHUP);
  ASSERT_TRUE(log_shows(service, "\"event\":\"allow_list_reloaded\"")) << service.log();
  EXPECT_EQ(service.wait(std::chrono::milliseconds(0)), -1) << "SIGHUP stopped the service";
  const std::string log = service.log();
  EXPECT_NE(log.find("\"allowed_clients\":1,\"added\":[\"" + keys.mallory().public_key + "\"],\"removed\":[\"" +
                     keys.alice().public_key + "\"]"),
            std::string::npos)
      << log;

  Client mallory(client_options(service.endpoint(), &keys.server(), &keys.mallory()));
  EXPECT_TRUE(mallory.health().info.ok);
  const HealthCall revoked = alice.health();  // on the connection alice already holds
  EXPECT_FALSE(revoked.info.ok);
  EXPECT_EQ(revoked.info.code, ReplyCode::kUnauthorized) << revoked.info.error;
  EXPECT_NE(revoked.info.error.find("no longer on the service's allow-list"), std::string::npos) << revoked.info.error;
  Client alice_again(client_options(service.endpoint(), &keys.server(), &keys.alice()));
  const HealthCall refused = alice_again.health();
  EXPECT_FALSE(refused.info.ok);
  EXPECT_TRUE(refused.info.timed_out);

  // A list that cannot be read: said so, and the one in force stays.
  std::ofstream(keys.path("allowed.txt")) << "not-a-key\n";
  service.signal(SIGHUP);
  ASSERT_TRUE(log_shows(service, "the allow-list is unchanged")) << service.log();
  EXPECT_TRUE(mallory.health().info.ok);
  EXPECT_FALSE(alice.health().info.ok);
  const StatsCall stats = mallory.stats();
  ASSERT_TRUE(stats.info.ok);
  EXPECT_GE(stats.stats.denied, 3u);  // mallory before, alice's request, alice's new connection
  service.signal(SIGTERM);
  EXPECT_EQ(service.wait(), 0);
}

TEST(Auth, RefusesToStartInsecurely) {
  const Keys keys;
  {
    // A secret key with nobody allowed would shut everyone out: refused.
    ServiceProcess service({"--curve-secret", keys.path("server.key")});
    EXPECT_FALSE(service.running());
    EXPECT_NE(service.log().find("needs --allowed-clients"), std::string::npos) << service.log();
  }
  {
    // A non-loopback address without keys needs --insecure (nothing is bound here).
    std::vector<std::string> args{"--endpoint", "tcp://0.0.0.0:0"};
    ServiceProcess service(args);
    EXPECT_FALSE(service.running());
    EXPECT_NE(service.log().find("--insecure"), std::string::npos) << service.log();
  }
  EXPECT_TRUE(is_local_endpoint("tcp://127.0.0.1:7600"));
  EXPECT_TRUE(is_local_endpoint("tcp://localhost:7600"));
  EXPECT_TRUE(is_local_endpoint("tcp://[::1]:7600"));
  EXPECT_TRUE(is_local_endpoint("ipc:///tmp/sluice.sock"));
  EXPECT_FALSE(is_local_endpoint("tcp://0.0.0.0:7600"));
  EXPECT_FALSE(is_local_endpoint("tcp://*:7600"));
  EXPECT_FALSE(is_local_endpoint("tcp://10.0.0.5:7600"));
  EXPECT_FALSE(is_local_endpoint("tcp://eth0:7600"));
}

}  // namespace
}  // namespace sluice
