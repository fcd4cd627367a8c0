// The request digest the reply cache and the in-flight table compare a retried request id
// with (issue 14, bug 2).
#pragma once

#include <sodium.h>

#include <array>
#include <string_view>

#include "sluice/protocol.hpp"

namespace sluice::detail {

// What the cache and the in-flight table compare a retried request id with: a BLAKE2b
// digest (libsodium's crypto_generichash, 256 bits) of everything that makes the request
// what it is: the envelope fields the reply depends on and every byte of the options and the
// snapshot, each part length-prefixed so no two requests share an input. Two requests with
// the same digest are the same request (a collision is as hard as breaking BLAKE2b).
using Digest = std::array<unsigned char, crypto_generichash_BYTES>;

[[nodiscard]] Digest request_digest(const Envelope& e, std::string_view options, std::string_view snapshot);

}  // namespace sluice::detail
