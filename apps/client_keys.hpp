// The client side of CurveZMQ as flags, shared by submit, replay and slurm.
#pragma once

#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#include "sluice/client.hpp"
#include "sluice/keys.hpp"

namespace sluice::cli {

struct KeyArgs {
  std::string server_key;  // file or inline Z85
  std::string client_key;  // secret key file or inline Z85
};

// Fills the client's CURVE keys; false (and a message) when a key cannot be read.
inline bool apply_keys(const KeyArgs& keys, ClientOptions& co) {
  if (keys.server_key.empty() && keys.client_key.empty()) return true;
  if (keys.server_key.empty() || keys.client_key.empty()) {
    std::cerr << "sluice: CURVE needs both --server-key and --client-key\n";
    return false;
  }
  const KeyFileResult server = key_from_argument(keys.server_key);
  const KeyFileResult client = key_from_argument(keys.client_key, true);
  if (!server.ok || !client.ok) {
    std::cerr << "sluice: " << (!server.ok ? server.error : client.error) << "\n";
    return false;
  }
  if (!client.warning.empty()) std::cerr << "sluice: warning: " << client.warning << "\n";
  co.server_public_key = server.keys.front();
  co.client_secret_key = client.keys.front();
  return true;
}


}  // namespace sluice::cli
