// The service's reply cache (src/transport/reply_cache.hpp): a retry of the same request
// gets the kept reply; the same id with other bytes is told apart; entries and bytes stay
// within their bounds, least recently used out first; a reply over the byte bound is not
// kept; a cache of zero entries keeps nothing.
#include "reply_cache.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace sluice {
namespace {

using detail::Digest;
using detail::ReplyCache;
using detail::ServedReply;

Digest digest_of(unsigned char tag) {
  Digest d{};
  d[0] = tag;
  return d;
}

std::shared_ptr<const ServedReply> reply_of(std::size_t body_bytes, char fill = 'x') {
  auto r = std::make_shared<ServedReply>();
  r->body.assign(body_bytes, fill);
  return r;
}

ReplyCache::Lookup look(ReplyCache& cache, std::uint64_t id, unsigned char tag,
                        std::shared_ptr<const ServedReply>* out = nullptr) {
  std::shared_ptr<const ServedReply> ignored;
  return cache.lookup(id, [&] { return digest_of(tag); }, out != nullptr ? out : &ignored);
}

TEST(ReplyCache, RetryGetsTheKeptReplyAndOtherBytesAreToldApart) {
  ReplyCache cache(8, 1 << 20);
  int hashed = 0;
  std::shared_ptr<const ServedReply> got;
  EXPECT_EQ(cache.lookup(1, [&] { ++hashed; return digest_of(1); }, &got), ReplyCache::Lookup::kMiss);
  EXPECT_EQ(hashed, 0);  // nothing kept under this id: the request is not hashed
  const auto first = reply_of(10, 'a');
  cache.remember(1, digest_of(1), first);
  EXPECT_EQ(look(cache, 1, 1, &got), ReplyCache::Lookup::kHit);
  EXPECT_EQ(got, first);
  EXPECT_EQ(look(cache, 1, 2), ReplyCache::Lookup::kDifferentRequest);
  EXPECT_EQ(cache.bytes(), static_cast<std::int64_t>(10 + kEnvelopeBytes));
}

TEST(ReplyCache, EntriesStayWithinTheirBoundLeastRecentlyUsedFirst) {
  ReplyCache cache(3, 1 << 20);
  for (std::uint64_t id = 1; id <= 3; ++id) cache.remember(id, digest_of(static_cast<unsigned char>(id)), reply_of(5));
  EXPECT_EQ(look(cache, 1, 1), ReplyCache::Lookup::kHit);  // 1 is now the most recent
  cache.remember(4, digest_of(4), reply_of(5));            // 2 goes
  EXPECT_EQ(cache.entries(), 3u);
  EXPECT_EQ(look(cache, 2, 2), ReplyCache::Lookup::kMiss);
  EXPECT_EQ(look(cache, 1, 1), ReplyCache::Lookup::kHit);
  EXPECT_EQ(look(cache, 3, 3), ReplyCache::Lookup::kHit);
  EXPECT_EQ(look(cache, 4, 4), ReplyCache::Lookup::kHit);
}

TEST(ReplyCache, BytesStayWithinTheirBound) {
  const std::int64_t one = 100 + static_cast<std::int64_t>(kEnvelopeBytes);
  ReplyCache cache(100, 2 * one + 10);
  cache.remember(1, digest_of(1), reply_of(100));
  cache.remember(2, digest_of(2), reply_of(100));
  EXPECT_EQ(cache.bytes(), 2 * one);
  cache.remember(3, digest_of(3), reply_of(100));  // over the bound: 1 goes
  EXPECT_EQ(cache.bytes(), 2 * one);
  EXPECT_EQ(look(cache, 1, 1), ReplyCache::Lookup::kMiss);
  cache.remember(4, digest_of(4), reply_of(1000));  // larger than the bound: not kept, nothing evicted
  EXPECT_EQ(look(cache, 4, 4), ReplyCache::Lookup::kMiss);
  EXPECT_EQ(cache.entries(), 2u);
  // The same id remembered again replaces its entry instead of counting it twice.
  cache.remember(3, digest_of(3), reply_of(100));
  EXPECT_EQ(cache.bytes(), 2 * one);
  EXPECT_EQ(cache.entries(), 2u);
}

TEST(ReplyCache, ZeroEntriesKeepsNothing) {
  ReplyCache cache(0, 1 << 20);
  cache.remember(1, digest_of(1), reply_of(1));
  EXPECT_EQ(look(cache, 1, 1), ReplyCache::Lookup::kMiss);
  EXPECT_EQ(cache.bytes(), 0);
}

}  // namespace
}  // namespace sluice
