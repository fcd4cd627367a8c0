// CurveZMQ keys for the service's authenticated, encrypted transport (docs/reliability.md).
// Keys are Curve25519, written as 40-character Z85 text. Key files hold one key on their
// first line that is neither blank nor a '#' comment; an allow-list file holds one public
// key per such line.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sluice {

struct KeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

// A fresh key pair; nullopt if this libzmq was built without CURVE.
[[nodiscard]] std::optional<KeyPair> generate_keypair();

// The public key belonging to a secret key; nullopt if `secret` is not a Z85 key.
[[nodiscard]] std::optional<std::string> public_key_of(const std::string& secret);

// True for 40 characters of Z85 that decode to 32 bytes.
[[nodiscard]] bool is_z85_key(const std::string& key);

struct KeyFileResult {
  bool ok = false;
  std::string error;              // "FILE:LINE: ..." or "cannot open FILE"
  std::vector<std::string> keys;  // one for a key file, every line's for an allow-list
  std::string warning;            // a secret key file others may read or write (still ok)
};

// Reads a key file (exactly one key) or, with `many`, an allow-list (at least one key).
[[nodiscard]] KeyFileResult read_key_file(const std::string& path, bool many = false);

// Writes NAME.key (the secret, mode 0600) and NAME.pub (the public key, 0644), each to a
// new file that is fsynced. False, with the reason, if either cannot be written, or if
// either exists already: an existing key pair is never overwritten, nor a symbolic link
// followed, unless `force`; then a regular file or a link in the way is replaced (the link
// itself, atomically by rename; what it points to is left alone), anything else refused.
[[nodiscard]] bool write_key_files(const std::string& name, const KeyPair& keys, std::string* error,
                                   bool force = false);

// Accepts a key given inline (40 Z85 characters) or as a path to a key file. With `secret`,
// a key file that its group or others may read or write gets a warning.
[[nodiscard]] KeyFileResult key_from_argument(const std::string& value, bool secret = false);

}  // namespace sluice
