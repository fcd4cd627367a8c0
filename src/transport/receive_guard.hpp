// The receive guard: a bound on what messages still arriving can make the service hold.
//
// libzmq reads a whole multipart message before the service sees any frame of it, and it
// bounds each frame (ZMQ_MAXMSGSIZE) but not the number of frames of a message in
// progress: 120 frames of 16 MiB made the service hold 1.9 GiB before it could refuse the
// message. libzmq has no option to stop reading a connection mid-message, and no message
// says which connection (descriptor) it came from. The kernel does say how many bytes each
// TCP connection has received (TCP_INFO), and the process knows its resident memory:
//
//   - while resident memory is under half of --max-memory, the guard does nothing;
//   - past half, it notes what each connection has received so far;
//   - past --max-memory, it first returns freed memory to the kernel (the process keeps it
//     for reuse otherwise), and if still over, names the connection that has received the
//     most since memory passed half: the service shuts that connection down, which libzmq
//     sees as the peer leaving, freeing its half-received message with it.
//
// A connection is only named when it received at least kMinSuspectBytes in that time: if
// memory is over the limit while no connection is receiving much, the requests being
// solved hold it, and dropping a connection would not help (the guard says so instead).
// Memory is read (/proc/self/statm) every kInterval, every kWatchInterval past half the
// limit, and one connection is dropped per kCooldown, which lets libzmq free the message
// before memory is read again. What arrives between two reads goes over the limit: at a
// few GB/s on loopback, some tens of MB.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>

namespace sluice::detail {

class ReceiveGuard {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kInterval{20};       // under half the limit
  static constexpr std::chrono::milliseconds kWatchInterval{5};   // past it
  static constexpr std::chrono::milliseconds kCooldown{100};       // after a connection is named
  static constexpr std::chrono::milliseconds kIdleCooldown{1000};  // after none could be
  static constexpr std::uint64_t kMinSuspectBytes = std::uint64_t{1} << 20;

  struct Verdict {
    int fd = -1;                 // the connection to drop; -1: none would help
    std::uint64_t received = 0;  // what it received since memory passed half the limit
    std::int64_t resident = 0;   // the process's resident bytes when it was named
  };

  // max_resident_bytes 0: the guard is off.
  explicit ReceiveGuard(std::int64_t max_resident_bytes) : max_(max_resident_bytes) {}

  // Called on every turn of the I/O loop with the open TCP connections (descriptors).
  // A verdict when memory is over the limit (at most one per cooldown).
  [[nodiscard]] std::optional<Verdict> check(const std::list<int>& connections, Clock::time_point now);

  // How long the I/O loop may wait for its socket before the next check is due.
  [[nodiscard]] std::chrono::milliseconds interval() const { return watching_ ? kWatchInterval : kInterval; }

  // Forgets a connection (closed, or dropped).
  void forget(int fd) { baseline_.erase(fd); }

 private:
  std::int64_t max_;
  Clock::time_point next_check_{};
  Clock::time_point quiet_until_{};
  bool watching_ = false;
  std::unordered_map<int, std::uint64_t> baseline_;  // per connection: received when watching began
};

// This process's resident bytes (/proc/self/statm), -1 when unreadable.
[[nodiscard]] std::int64_t resident_bytes();
// Bytes a TCP connection has received (TCP_INFO's tcpi_bytes_received); nullopt when `fd`
// is not a TCP socket or the kernel does not say.
[[nodiscard]] std::optional<std::uint64_t> tcp_bytes_received(int fd);
// Three quarters of the machine's memory, or of the cgroup's limit when that is lower: the
// default --max-memory.
[[nodiscard]] std::int64_t default_max_memory();

}  // namespace sluice::detail
