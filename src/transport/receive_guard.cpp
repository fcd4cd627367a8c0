// ReceiveGuard: resident memory against --max-memory, and which connection is receiving.
#include "receive_guard.hpp"

#include <linux/tcp.h>  // struct tcp_info with tcpi_bytes_received (glibc's netinet/tcp.h lacks it)
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <string>

#include "sluice/process_memory.hpp"

namespace sluice::detail {

std::int64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  long long size = 0;
  long long resident = 0;
  const int read = std::fscanf(f, "%lld %lld", &size, &resident);
  std::fclose(f);
  if (read != 2) return -1;
  return static_cast<std::int64_t>(resident) * static_cast<std::int64_t>(::sysconf(_SC_PAGESIZE));
}

std::optional<std::uint64_t> tcp_bytes_received(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return std::nullopt;
  // Older kernels fill a shorter struct: the field must be within what came back.
  if (length < offsetof(tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received) return std::nullopt;
  return info.tcpi_bytes_received;
}

std::int64_t default_max_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  std::int64_t limit = pages > 0 && page > 0 ? static_cast<std::int64_t>(pages) * page : 0;
  // cgroup v2: "max" or a number of bytes.
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");
  std::string value;
  if (cgroup >> value && value != "max") {
    try {
      const std::int64_t group = std::stoll(value);
      if (group > 0 && (limit == 0 || group < limit)) limit = group;
    } catch (const std::exception&) {  // unreadable: the machine's memory stands
    }
  }
  return limit / 4 * 3;
}

std::optional<ReceiveGuard::Verdict> ReceiveGuard::check(const std::list<int>& connections, Clock::time_point now) {
  if (max_ <= 0 || now < next_check_) return std::nullopt;
  next_check_ = now + interval();
  std::int64_t resident = resident_bytes();
  if (resident < 0) return std::nullopt;
  if (resident <= max_ / 2) {
    if (watching_) {
      watching_ = false;
      baseline_.clear();
    }
    return std::nullopt;
  }
  if (!watching_) {
    watching_ = true;
    for (const int fd : connections) baseline_[fd] = tcp_bytes_received(fd).value_or(0);
  }
  if (resident <= max_ || now < quiet_until_) return std::nullopt;
  quiet_until_ = now + kCooldown;
  release_freed_memory();
  resident = resident_bytes();
  if (resident >= 0 && resident <= max_) return std::nullopt;
  Verdict v;
  v.resident = resident;
  for (const int fd : connections) {
    const std::optional<std::uint64_t> received = tcp_bytes_received(fd);
    if (!received) continue;
    const auto base = baseline_.find(fd);  // a connection opened since counts from its start
    const std::uint64_t since = base == baseline_.end() ? *received : *received - std::min(*received, base->second);
    if (since >= kMinSuspectBytes && since > v.received) {
      v.fd = fd;
      v.received = since;
    }
  }
  if (v.fd >= 0) {
    baseline_.erase(v.fd);
  } else {
    quiet_until_ = now + kIdleCooldown;  // the memory is the solves': trim and look again later
  }
  return v;
}

}  // namespace sluice::detail
