// One allocate request served without sockets: decode the snapshot, validate it, raise the
// epoch fence, allocate, encode the reply. The service's workers call it
// (service.cpp); unit tests drive it directly (tests/unit/serve_allocate_test.cpp).
//
// What it does not do: receive, queue, cache, time out, answer health or stats; those are
// the service's I/O thread. It never throws: every failure becomes an error reply naming
// what went wrong, and whether a retry of the same request may get it from the cache.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "sluice/allocate.hpp"
#include "sluice/protocol.hpp"
#include "sluice/snapshot.hpp"

namespace sluice::detail {

// A reply as it goes on the wire: envelope and body. `cacheable`: a retry of the same
// request would get the same answer (a refusal for a passed deadline would not).
struct ServedReply {
  Envelope envelope;
  std::string body;
  bool cacheable = false;
};

// The error reply to `request`: in the request's protocol version when the service speaks
// it, the message as the body.
[[nodiscard]] ServedReply error_reply(const Envelope& request, ReplyCode code, std::string message);

struct ServeRequest {
  Envelope envelope;
  std::string_view snapshot;         // the snapshot frame, in envelope.format
  AllocateRequestOptions options;    // decoded by the I/O thread
  std::int64_t deadline_ms = 0;      // for the messages
  double queued_s = 0;               // time spent in the queue, for the messages
  bool past_deadline = false;        // already past its deadline when a worker took it
  const std::atomic<bool>* cancel = nullptr;    // raised by the deadline or the drain
  const std::atomic<bool>* shutdown = nullptr;  // raised by the drain (a cancel is then a shutdown)
};

struct ServeConfig {
  SnapshotLimits limits;
  bool trace = false;
  // Raises the epoch fence to a request that decoded and validated: kOk, or the refusal
  // (kStaleEpoch, kInternal) with its message. Empty: no fence.
  std::function<ReplyCode(std::uint64_t epoch, std::string* message)> raise_fence;
};

struct Served {
  ServedReply reply;
  std::string backend;         // the solver backend that ran, when an allocation ran
  bool decoded = false;        // the decoder ran (decode_s is a decode time)
  bool allocated = false;      // allocate ran (solve_s is its time)
  double decode_s = 0, validate_s = 0, solve_s = 0, encode_s = 0;
  // Freed by the caller once the reply is on its way: freeing a 1M-task snapshot takes a
  // noticeable part of a second.
  Snapshot snapshot;
  Allocation allocation;
};

[[nodiscard]] Served serve_allocate(const ServeRequest& request, const ServeConfig& config);

}  // namespace sluice::detail
