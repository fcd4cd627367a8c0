// CurveZMQ key generation and key files (sluice/keys.hpp), on libzmq's Z85 and Curve25519.
#include "sluice/keys.hpp"

#include <sys/stat.h>
#include <zmq.h>

#include <cstdio>
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

bool write_key_files(const std::string& name, const KeyPair& keys, std::string* error) {
  auto fail = [&](std::string message) {
    if (error != nullptr) *error = std::move(message);
    return false;
  };
  const std::string secret_path = name + ".key";
  const std::string public_path = name + ".pub";
  {
    // Created 0600 before anything is written into it.
    const mode_t old = ::umask(077);
    std::ofstream out(secret_path, std::ios::trunc);
    ::umask(old);
    if (!out) return fail("cannot create " + secret_path);
    out << "# sluice CurveZMQ secret key: keep it private (sluice serve --curve-secret, --client-key)\n"
        << keys.secret_key << "\n";
    if (!out) return fail("cannot write " + secret_path);
  }
  ::chmod(secret_path.c_str(), 0600);
  std::ofstream out(public_path, std::ios::trunc);
  if (!out) return fail("cannot create " + public_path);
  out << "# sluice CurveZMQ public key (--server-key, or a line of --allowed-clients)\n" << keys.public_key << "\n";
  if (!out) return fail("cannot write " + public_path);
  return true;
}

KeyFileResult key_from_argument(const std::string& value) {
  if (is_z85_key(value)) return KeyFileResult{true, {}, {value}};
  return read_key_file(value, false);
}

}  // namespace sluice
