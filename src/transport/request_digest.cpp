// The request digest; see request_digest.hpp.
#include "request_digest.hpp"

namespace sluice::detail {

Digest request_digest(const Envelope& e, std::string_view options, std::string_view snapshot) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, crypto_generichash_BYTES);
  const auto put = [&state](const void* data, std::size_t n) {
    crypto_generichash_update(&state, static_cast<const unsigned char*>(data), n);
  };
  const auto put_u64 = [&put](std::uint64_t v) {
    unsigned char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(v >> (8 * i));
    put(le, sizeof le);
  };
  constexpr std::string_view kDomain = "sluice request v1";
  put(kDomain.data(), kDomain.size());
  put_u64(static_cast<std::uint64_t>(e.type));
  put_u64(static_cast<std::uint64_t>(e.format));
  put_u64(static_cast<std::uint64_t>(e.snapshot_version));
  put_u64(e.flags);
  put_u64(options.size());
  put(options.data(), options.size());
  put_u64(snapshot.size());
  put(snapshot.data(), snapshot.size());
  Digest out{};
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

}  // namespace sluice::detail
