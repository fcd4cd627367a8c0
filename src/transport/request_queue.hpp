// The service's request queue, between the I/O thread and the workers: bounded in requests
// and in bytes held (one request larger than the byte bound may still wait alone, so no
// valid request is refused forever), first in first out, closable so the workers exit once
// it is empty. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace sluice::detail {

template <class Job>
class RequestQueue {
 public:
  using SizeOf = std::int64_t (*)(const Job&);
  RequestQueue(std::int64_t capacity, std::int64_t max_bytes, SizeOf size_of)
      : capacity_(capacity), max_bytes_(max_bytes), size_of_(size_of) {}

  // Queues the job and wakes a worker; false (the job untouched) when the queue is full.
  bool push(Job& job) {
    const std::int64_t bytes = size_of_(job);
    {
      std::lock_guard lock(mutex_);
      if (static_cast<std::int64_t>(jobs_.size()) >= capacity_ || (bytes_ + bytes > max_bytes_ && !jobs_.empty())) {
        return false;
      }
      bytes_ += bytes;
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
    return true;
  }

  // The next job, waiting for one; nullopt once the queue is closed and empty. `taken` runs
  // under the lock with the job (the service counts it as being solved there, so a health
  // reading never sees it in neither place).
  template <class Taken>
  std::optional<Job> pop(Taken&& taken) {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
    if (jobs_.empty()) return std::nullopt;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    bytes_ -= size_of_(job);
    taken(job);
    return job;
  }

  // Removes and returns the jobs `pred` selects, in queue order.
  template <class Pred>
  std::vector<Job> remove_if(Pred&& pred) {
    std::vector<Job> removed;
    std::lock_guard lock(mutex_);
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (pred(*it)) {
        bytes_ -= size_of_(*it);
        removed.push_back(std::move(*it));
        it = jobs_.erase(it);
      } else {
        ++it;
      }
    }
    return removed;
  }

  // Removes and returns everything queued.
  std::deque<Job> take_all() {
    std::deque<Job> all;
    std::lock_guard lock(mutex_);
    all.swap(jobs_);
    bytes_ = 0;
    return all;
  }

  // No more jobs: waiting workers wake, and pop() returns nullopt once the queue is empty.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return jobs_.size();
  }
  [[nodiscard]] std::int64_t bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
  }

 private:
  const std::int64_t capacity_;
  const std::int64_t max_bytes_;
  const SizeOf size_of_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  std::int64_t bytes_ = 0;
  bool closed_ = false;
};

}  // namespace sluice::detail
