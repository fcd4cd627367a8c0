// The service's state file; see state_file.hpp.
#include "state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <string_view>

namespace sluice::detail {

namespace {

constexpr std::string_view kStateHeader = "sluice-state 1\n";

}  // namespace

bool read_state_file(const std::string& path, std::uint64_t* epoch, std::string* error) {
  *epoch = 0;
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return true;
    *error = "cannot read the state file " + path + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = "the state file " + path + " is not a regular file";
    return false;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    *error = "cannot open the state file " + path + ": " + std::strerror(errno);
    return false;
  }
  char buffer[256];
  std::size_t size = 0;
  while (size < sizeof buffer) {
    const ssize_t n = ::read(fd, buffer + size, sizeof buffer - size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size += static_cast<std::size_t>(n);
  }
  ::close(fd);
  const std::string_view text(buffer, size);
  constexpr std::string_view kKey = "highest_epoch ";
  std::uint64_t value = 0;
  const bool shaped = size < sizeof buffer && text.substr(0, kStateHeader.size()) == kStateHeader &&
                      text.substr(kStateHeader.size(), kKey.size()) == kKey && text.back() == '\n';
  const char* digits = buffer + kStateHeader.size() + kKey.size();
  const char* end = buffer + size - 1;
  if (!shaped || digits >= end || std::from_chars(digits, end, value).ptr != end) {
    *error = "the state file " + path +
             " is damaged (expected \"sluice-state 1\" and \"highest_epoch N\"); restore it, or remove it to "
             "start with no epoch fence";
    return false;
  }
  *epoch = value;
  return true;
}

bool write_state_file(const std::string& path, std::uint64_t epoch, std::string* error) {
  const std::string text = std::string(kStateHeader) + "highest_epoch " + std::to_string(epoch) + "\n";
  const std::string temporary = path + ".tmp";
  const auto fail = [&](const std::string& step) {
    *error = step + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return false;
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail("cannot create " + temporary);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return fail("cannot write " + temporary);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail("cannot fsync " + temporary);
  }
  if (::close(fd) != 0) return fail("cannot close " + temporary);
  if (::rename(temporary.c_str(), path.c_str()) != 0) return fail("cannot rename " + temporary + " to " + path);
  const std::string directory = std::filesystem::path(path).parent_path().string();
  const int dir = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    *error = "cannot open the directory of " + path + " to fsync it: " + std::strerror(errno);
    return false;
  }
  const bool synced = ::fsync(dir) == 0;
  const int saved = errno;
  ::close(dir);
  if (!synced) {
    *error = "cannot fsync the directory of " + path + ": " + std::strerror(saved);
    return false;
  }
  return true;
}

}  // namespace sluice::detail
