// The service's reply cache; see reply_cache.hpp.
#include "reply_cache.hpp"

#include <utility>

namespace sluice::detail {

std::int64_t ReplyCache::size_of(const ServedReply& reply) {
  return static_cast<std::int64_t>(reply.body.size() + kEnvelopeBytes);
}

ReplyCache::Lookup ReplyCache::lookup(std::uint64_t id, const std::function<Digest()>& digest,
                                      std::shared_ptr<const ServedReply>* reply) {
  const auto hit = entries_.find(id);
  if (hit == entries_.end()) return Lookup::kMiss;
  if (hit->second.digest != digest()) return Lookup::kDifferentRequest;
  lru_.splice(lru_.begin(), lru_, hit->second.lru);
  *reply = hit->second.reply;
  return Lookup::kHit;
}

void ReplyCache::remember(std::uint64_t id, const Digest& digest, std::shared_ptr<const ServedReply> reply) {
  const std::int64_t size = size_of(*reply);
  if (max_entries_ <= 0 || size > max_bytes_) return;
  if (const auto old = entries_.find(id); old != entries_.end()) {  // the same id served again
    bytes_ -= size_of(*old->second.reply);
    lru_.erase(old->second.lru);
    entries_.erase(old);
  }
  lru_.push_front(id);
  entries_.emplace(id, Entry{digest, std::move(reply), lru_.begin()});
  bytes_ += size;
  while (static_cast<std::int64_t>(entries_.size()) > max_entries_ || bytes_ > max_bytes_) {
    const std::uint64_t oldest = lru_.back();
    lru_.pop_back();
    const auto it = entries_.find(oldest);
    bytes_ -= size_of(*it->second.reply);
    entries_.erase(it);
  }
}

}  // namespace sluice::detail
