// The service's reply cache: finished replies by request id, so a master that retries (the
// same id, every byte the same) gets the first answer again instead of a second solve.
// Bounded in entries and in bytes (body plus envelope), least recently used out first; a
// reply larger than the byte bound is not kept. Only the I/O thread uses it: no locking.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <unordered_map>

#include "request_digest.hpp"
#include "serve_allocate.hpp"

namespace sluice::detail {

class ReplyCache {
 public:
  ReplyCache(std::int64_t max_entries, std::int64_t max_bytes) : max_entries_(max_entries), max_bytes_(max_bytes) {}

  enum class Lookup {
    kMiss,              // no reply kept for this id
    kHit,               // the same request: *reply is its answer (now the most recent entry)
    kDifferentRequest,  // the id was used for another request: refuse this one
  };
  // `digest` is called only when the id is kept (hashing a large request is not free).
  Lookup lookup(std::uint64_t id, const std::function<Digest()>& digest, std::shared_ptr<const ServedReply>* reply);

  void remember(std::uint64_t id, const Digest& digest, std::shared_ptr<const ServedReply> reply);

  [[nodiscard]] std::size_t entries() const { return entries_.size(); }
  [[nodiscard]] std::int64_t bytes() const { return bytes_; }

 private:
  struct Entry {
    Digest digest{};
    std::shared_ptr<const ServedReply> reply;
    std::list<std::uint64_t>::iterator lru;
  };
  static std::int64_t size_of(const ServedReply& reply);

  std::int64_t max_entries_;
  std::int64_t max_bytes_;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::list<std::uint64_t> lru_;  // most recent first
  std::int64_t bytes_ = 0;
};

}  // namespace sluice::detail
