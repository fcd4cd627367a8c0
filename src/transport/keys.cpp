// CurveZMQ key generation and key files (sluice/keys.hpp), on libzmq's Z85 and Curve25519.
#include "sluice/keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace sluice {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::optional<KeyPair> generate_keypair() {
  char pub[41] = {};
  char sec[41] = {};
  if (zmq_curve_keypair(pub, sec) != 0) return std::nullopt;
  return KeyPair{pub, sec};
}

bool is_z85_key(const std::string& key) {
  if (key.size() != 40) return false;
  std::uint8_t raw[32];
  return zmq_z85_decode(raw, key.c_str()) != nullptr;
}

std::optional<std::string> public_key_of(const std::string& secret) {
  if (!is_z85_key(secret)) return std::nullopt;
  char pub[41] = {};
  if (zmq_curve_public(pub, secret.c_str()) != 0) return std::nullopt;
  return std::string(pub);
}

KeyFileResult read_key_file(const std::string& path, bool many) {
  KeyFileResult r;
  std::ifstream in(path);
  if (!in) {
    r.error = "cannot open " + path;
    return r;
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    if (!is_z85_key(text)) {
      r.error = path + ":" + std::to_string(number) + ": expected a 40-character Z85 key, found '" +
                text.substr(0, 48) + "'";
      return r;
    }
    r.keys.push_back(text);
    if (!many) break;
  }
  if (r.keys.empty()) {
    r.error = path + ": no key in the file";
    return r;
  }
  r.ok = true;
  return r;
}

namespace {

// Writes `text` to a new file at `path` with `mode`, fsynced; never through a link.
// With `replace`, a regular file or a link at `path` is replaced by rename (so a crash
// leaves the old file or the new one, whole).
bool write_new_file(const std::string& path, const std::string& text, mode_t mode, bool replace, std::string* error) {
  const std::string target = replace ? path + ".new" : path;
  if (replace) ::unlink(target.c_str());  // a leftover of an interrupted run, never followed
  const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    *error = "cannot create " + target + ": " + std::strerror(errno);
    return false;
  }
  int failure = ::fchmod(fd, mode) == 0 ? 0 : errno;  // the mode, whatever the umask
  std::size_t done = 0;
  while (failure == 0 && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) failure = n < 0 ? errno : EIO;
    else done += static_cast<std::size_t>(n);
  }
  if (failure == 0 && ::fsync(fd) != 0) failure = errno;
  if (::close(fd) != 0 && failure == 0) failure = errno;
  if (failure != 0) {
    *error = "cannot write " + target + ": " + std::strerror(failure);
    ::unlink(target.c_str());
    return false;
  }
  if (replace && ::rename(target.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + target + " to " + path + ": " + std::strerror(errno);
    ::unlink(target.c_str());
    return false;
  }
  return true;
}

}  // namespace

bool write_key_files(const std::string& name, const KeyPair& keys, std::string* error, bool force) {
  std::string message;
  auto fail = [&](std::string text) {
    if (error != nullptr) *error = std::move(text);
    return false;
  };
  const std::string secret_path = name + ".key";
  const std::string public_path = name + ".pub";
  // Checked for both before either is written, so a refusal leaves nothing half done.
  for (const std::string& path : {secret_path, public_path}) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return fail("cannot inspect " + path + ": " + std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode) && !force) {
      return fail(path + " is a symbolic link: refusing to write a key through it (--force replaces the link itself)");
    }
    if (!S_ISLNK(st.st_mode) && !S_ISREG(st.st_mode)) {
      return fail(path + " exists and is not a regular file: refusing to replace it");
    }
    if (!force) return fail(path + " exists: refusing to overwrite a key pair (--force replaces it)");
  }
  if (!write_new_file(secret_path,
                      "# sluice CurveZMQ secret key: keep it private (sluice serve --curve-secret, --client-key)\n" +
                          keys.secret_key + "\n",
                      0600, force, &message)) {
    return fail(message);
  }
  if (!write_new_file(public_path,
                      "# sluice CurveZMQ public key (--server-key, or a line of --allowed-clients)\n" +
                          keys.public_key + "\n",
                      0644, force, &message)) {
    return fail(message);
  }
  return true;
}

KeyFileResult key_from_argument(const std::string& value, bool secret) {
  if (is_z85_key(value)) return KeyFileResult{true, {}, {value}, {}};
  KeyFileResult r = read_key_file(value, false);
  struct stat st{};
  if (r.ok && secret && ::stat(value.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    r.warning = "the secret key file " + value + " has mode " + mode +
                ": others on this machine may read or change it; chmod 600 " + value;
  }
  return r;
}

}  // namespace sluice
