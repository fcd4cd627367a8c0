// The service's request queue (src/transport/request_queue.hpp): bounded in requests and in
// bytes (one oversized request may wait alone), first in first out, expiry and drain take
// exactly what they select, and closing lets waiting workers go once it is empty.
#include "request_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace sluice {
namespace {

struct Job {
  int id = 0;
  std::int64_t bytes = 0;
};
using Queue = detail::RequestQueue<Job>;
std::int64_t size_of(const Job& j) { return j.bytes; }

TEST(RequestQueue, BoundedInRequestsAndBytes) {
  Queue q(3, 100, size_of);
  Job a{1, 60}, b{2, 50}, c{3, 30}, d{4, 10}, e{5, 1};
  EXPECT_TRUE(q.push(a));
  EXPECT_FALSE(q.push(b));  // 110 bytes > 100
  EXPECT_EQ(b.id, 2);       // a refused job is left as it was
  EXPECT_TRUE(q.push(c));
  EXPECT_TRUE(q.push(d));
  EXPECT_FALSE(q.push(e));  // three requests already
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.bytes(), 100);
  Queue alone(3, 100, size_of);
  Job big{9, 1000};
  EXPECT_TRUE(alone.push(big));  // larger than the byte bound, but the queue was empty
}

TEST(RequestQueue, FirstInFirstOutAndExpiryAndDrain) {
  Queue q(10, 1000, size_of);
  for (int i = 1; i <= 5; ++i) {
    Job j{i, 10};
    ASSERT_TRUE(q.push(j));
  }
  int taken = 0;
  const auto first = q.pop([&](const Job&) { ++taken; });
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, 1);
  EXPECT_EQ(taken, 1);
  const std::vector<Job> even = q.remove_if([](const Job& j) { return j.id % 2 == 0; });
  ASSERT_EQ(even.size(), 2u);
  EXPECT_EQ(even[0].id, 2);
  EXPECT_EQ(even[1].id, 4);
  EXPECT_EQ(q.bytes(), 20);
  const auto rest = q.take_all();
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].id, 3);
  EXPECT_EQ(rest[1].id, 5);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.bytes(), 0);
}

TEST(RequestQueue, CloseReleasesWaitingWorkersOnceEmpty) {
  Queue q(10, 1000, size_of);
  std::atomic<int> done{0};
  std::vector<int> seen(3, 0);
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) {
    workers.emplace_back([&, w] {
      while (const auto job = q.pop([](const Job&) {})) seen[static_cast<std::size_t>(w)] += job->id;
      ++done;
    });
  }
  for (int i = 1; i <= 10; ++i) {
    Job j{i, 1};
    ASSERT_TRUE(q.push(j));
  }
  q.close();
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(done.load(), 3);
  EXPECT_EQ(seen[0] + seen[1] + seen[2], 55);  // every job taken exactly once
}

}  // namespace
}  // namespace sluice
