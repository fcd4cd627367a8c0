// A C++ client of the allocation service (`sluice serve`), for masters written in C++.
// One Client holds one DEALER connection; it is not thread-safe (use one per thread).
//
// Retries follow the "lazy pirate" pattern: send, wait up to timeout_ms, and on silence
// close the socket, reconnect and resend the *same* request id, so the service answers a
// retry from its reply cache (or joins the solve already running) and never solves twice.
// Nothing here throws; failures are data (ok = false, a ReplyCode and a message).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/protocol.hpp"

namespace sluice {

struct ClientOptions {
  std::string endpoint = "tcp://127.0.0.1:7600";
  BodyFormat format = BodyFormat::kBinary;  // requests are sent, and replies come, in this format
  std::int32_t timeout_ms = 60'000;         // per attempt
  std::int32_t attempts = 3;                // sends of one request, the first included
  std::int64_t max_reply_bytes = std::int64_t{4} << 30;
  // CurveZMQ (a service started with --curve-secret): its public key, and this client's
  // secret key (whose public key must be on the service's allow-list). Z85 text.
  std::string server_public_key;
  std::string client_secret_key;
};

struct CallInfo {
  bool ok = false;              // a reply with code kOk arrived
  ReplyCode code = ReplyCode::kOk;
  std::string error;            // the service's message, or why no reply came
  bool timed_out = false;       // every attempt went unanswered
  std::uint64_t request_id = 0;
  std::int32_t attempts = 0;
  double encode_s = 0;          // building the request body
  double round_trip_s = 0;      // last send to reply, the service's work included
  double decode_s = 0;          // decoding the reply body
  std::uint64_t request_bytes = 0;
  std::uint64_t reply_bytes = 0;
  Envelope reply;               // the reply's envelope, when one came
};

struct AllocateCall {
  CallInfo info;
  Allocation allocation;  // when info.ok
};

struct IndexedAllocateCall {
  CallInfo info;
  IndexedAllocation allocation;  // when info.ok; expand(allocation, snapshot) gives the ids
};

struct HealthCall {
  CallInfo info;
  HealthInfo health;
};

struct StatsCall {
  CallInfo info;
  ServiceStats stats;
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  // request_id 0: a fresh random id. epoch: the master's epoch (see docs/protocol.md).
  [[nodiscard]] AllocateCall allocate(const Snapshot& snapshot, const AllocateRequestOptions& options,
                                      std::uint64_t request_id = 0, std::uint64_t epoch = 0);
  // The same, with the snapshot already encoded in options.format (sluice submit sends
  // a file's bytes as they are).
  [[nodiscard]] AllocateCall allocate_encoded(std::string snapshot_bytes, std::int64_t snapshot_version,
                                              const AllocateRequestOptions& options,
                                              std::uint64_t request_id = 0, std::uint64_t epoch = 0);
  // An indexed reply (docs/protocol.md): tasks and machines as positions in `snapshot`,
  // about a fifth of the bytes and nothing to look up; binary format only (a JSON client
  // gets kMalformed without a request being sent).
  [[nodiscard]] IndexedAllocateCall allocate_indexed(const Snapshot& snapshot, const AllocateRequestOptions& options,
                                                     std::uint64_t request_id = 0, std::uint64_t epoch = 0);

  [[nodiscard]] HealthCall health();
  [[nodiscard]] StatsCall stats();

  [[nodiscard]] const ClientOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A random non-zero 64-bit request id.
[[nodiscard]] std::uint64_t random_request_id();

}  // namespace sluice
