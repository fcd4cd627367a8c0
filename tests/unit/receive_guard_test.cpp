// The service's receive guard (src/transport/receive_guard.hpp) on real loopback TCP
// connections and this process's real resident memory: nothing is named under the limit;
// past it, the connection that received the most since memory passed half the limit, and
// none when no connection received as much as kMinSuspectBytes.
#include "receive_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <list>
#include <memory>
#include <string>
#include <vector>

namespace sluice {
namespace {

using detail::ReceiveGuard;

// A loopback TCP connection: the accepted (server) end, where bytes are counted, and the
// client end that sends them.
struct Connection {
  int server = -1;
  int client = -1;
  ~Connection() {
    if (server >= 0) ::close(server);
    if (client >= 0) ::close(client);
  }
};

std::unique_ptr<Connection> connect_loopback() {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    return nullptr;
  }
  auto c = std::make_unique<Connection>();
  c->client = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(c->client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return nullptr;
  c->server = ::accept(listener, nullptr, nullptr);
  ::close(listener);
  return c->server >= 0 ? std::move(c) : nullptr;
}

// Sends `bytes` from the client end and reads them at the server end.
void pass(const Connection& c, std::size_t bytes) {
  std::vector<char> buffer(64 * 1024, 'x');
  std::size_t sent = 0;
  while (sent < bytes) {
    const std::size_t chunk = std::min(buffer.size(), bytes - sent);
    const ssize_t w = ::write(c.client, buffer.data(), chunk);
    ASSERT_GT(w, 0);
    std::size_t got = 0;
    while (got < static_cast<std::size_t>(w)) {
      const ssize_t r = ::read(c.server, buffer.data(), static_cast<std::size_t>(w) - got);
      ASSERT_GT(r, 0);
      got += static_cast<std::size_t>(r);
    }
    sent += static_cast<std::size_t>(w);
  }
}

// Memory that counts as resident: every page written.
std::unique_ptr<char[]> touch(std::size_t bytes) {
  auto block = std::make_unique<char[]>(bytes);
  std::memset(block.get(), 1, bytes);
  return block;
}

TEST(ReceiveGuard, NamesTheConnectionThatReceivedMostPastTheLimit) {
  const auto busy = connect_loopback();
  const auto quiet = connect_loopback();
  ASSERT_TRUE(busy && quiet) << "no loopback TCP here";
  ASSERT_TRUE(detail::tcp_bytes_received(busy->server).has_value()) << "the kernel does not count bytes received";
  const std::int64_t start = detail::resident_bytes();
  ASSERT_GT(start, 0);
  constexpr std::int64_t kStep = std::int64_t{96} << 20;
  // The limit: two steps above today's memory, so one step is past half of it, two past it.
  ReceiveGuard guard(start + 2 * kStep);
  const std::list<int> connections{busy->server, quiet->server};
  auto now = ReceiveGuard::Clock::now();
  auto next = [&now] { return now += std::chrono::seconds(1); };

  pass(*busy, 4 << 20);  // before memory passes half: not counted against it
  EXPECT_FALSE(guard.check(connections, next()).has_value()) << "under half the limit";
  const auto first = touch(static_cast<std::size_t>(kStep) + (16 << 20));
  EXPECT_FALSE(guard.check(connections, next()).has_value()) << "past half, under the limit: watching only";
  pass(*busy, 3 << 20);
  pass(*quiet, 512 << 10);
  const auto second = touch(static_cast<std::size_t>(kStep));
  const auto verdict = guard.check(connections, next());
  ASSERT_TRUE(verdict.has_value()) << "past the limit";
  EXPECT_EQ(verdict->fd, busy->server);
  EXPECT_GE(verdict->received, std::uint64_t{3} << 20);
  EXPECT_LT(verdict->received, std::uint64_t{4} << 20) << "what it received before memory passed half counted";
  EXPECT_GT(verdict->resident, start + 2 * kStep);
}

TEST(ReceiveGuard, NamesNoConnectionWhenNoneReceivedMuch) {
  const auto c = connect_loopback();
  ASSERT_TRUE(c) << "no loopback TCP here";
  const std::int64_t start = detail::resident_bytes();
  ASSERT_GT(start, 0);
  constexpr std::int64_t kStep = std::int64_t{96} << 20;
  ReceiveGuard guard(start + 2 * kStep);
  const std::list<int> connections{c->server};
  auto now = ReceiveGuard::Clock::now();
  const auto first = touch(static_cast<std::size_t>(kStep) + (16 << 20));
  EXPECT_FALSE(guard.check(connections, now += std::chrono::seconds(1)).has_value());
  pass(*c, 256 << 10);
  const auto second = touch(static_cast<std::size_t>(kStep));
  const auto verdict = guard.check(connections, now += std::chrono::seconds(1));
  ASSERT_TRUE(verdict.has_value());
  EXPECT_EQ(verdict->fd, -1) << "256 KiB received is not what holds the memory";
}

TEST(ReceiveGuard, OffAtZeroAndNotATcpSocketIsNotCounted) {
  ReceiveGuard off(0);
  EXPECT_FALSE(off.check({0, 1, 2}, ReceiveGuard::Clock::now()).has_value());
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  EXPECT_FALSE(detail::tcp_bytes_received(pair[0]).has_value());
  ::close(pair[0]);
  ::close(pair[1]);
  EXPECT_GT(detail::default_max_memory(), 0);
}

}  // namespace
}  // namespace sluice
