// The allocation coprocessor: a ZeroMQ ROUTER service that answers allocate, health and
// stats requests (docs/protocol.md) from any number of masters.
//
//   one I/O thread      owns the socket: reads, checks envelopes, answers health/stats,
//                       fences stale epochs, serves retries from the reply cache, queues
//                       allocate requests (or answers BUSY when the queue is full), sends
//   N worker threads    decode, validate, allocate(), encode the reply
//
// Promises: every message that reaches the I/O thread gets exactly one reply (a retried
// request id gets the same reply, from the cache or by joining the solve in flight); a
// request is never dropped silently, nor is a reply: one that cannot be sent (the peer does
// not read, or is gone) is counted and logged, and stays cached for the retry; stop()
// drains: it finishes (or, past the drain timeout, cancels and answers) every accepted
// request before run() returns.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/snapshot.hpp"

namespace sluice {

struct ServiceOptions {
  std::string endpoint = "tcp://127.0.0.1:7600";  // "tcp://127.0.0.1:*" picks a free port
  std::int32_t workers = 0;                       // solver threads, 0..1024; 0 = one per core
  std::int64_t queue_capacity = 64;               // requests waiting for a worker
  std::int64_t max_request_bytes = std::int64_t{1} << 30;  // body bytes; larger: a kTooLarge reply
  std::int64_t max_frame_bytes = std::int64_t{2} << 30;    // ZMQ_MAXMSGSIZE: larger frames disconnect the peer
  std::int64_t max_queued_bytes = std::int64_t{4} << 30;  // bytes of waiting requests
  std::int32_t max_frames = 8;                    // frames of one message, routing included
  // After a message of more bytes than this (handled or refused), freed memory goes back to
  // the kernel (release_freed_memory): otherwise the process keeps it for reuse, and one
  // outsized request would leave its size resident for good.
  std::int64_t trim_after_bytes = std::int64_t{256} << 20;
  // Open connections: past this many, the one connected longest is dropped for a new one (a
  // flood of idle connections cannot lock a new master out, nor use up the process's file
  // descriptors). 0: the open-file limit (raised to its hard limit at start) less 64 kept
  // for the service's own files and sockets.
  std::int64_t max_connections = 0;
  // Resident memory past which the connection that received the most since memory passed
  // half of it is dropped: libzmq holds a multipart message whole, with no bound on its
  // frames, before the service can refuse it (src/transport/receive_guard.hpp). TCP
  // endpoints only. 0: three quarters of the machine's memory, or of its cgroup's limit.
  std::int64_t max_memory = 0;
  // ZMTP heartbeats: a PING after this many ms of silence, the connection dropped when no
  // answer comes within 3 times that (a peer that died, or one that stopped reading). 0: off.
  std::int64_t heartbeat_ms = 10'000;
  std::int64_t default_deadline_ms = 60'000;      // when a request names none
  std::int64_t max_deadline_ms = 600'000;
  std::int64_t cache_entries = 1024;              // replies kept for retried request ids
  std::int64_t cache_bytes = std::int64_t{256} << 20;
  double drain_timeout_s = 30;                    // after stop(): then cancel what is left
  std::string metrics_address;                    // "127.0.0.1:9600"; empty = no metrics
  bool log_json = true;                           // structured logs (JSON lines) on stderr
  std::string log_level = "info";                 // trace, debug, info, warn, error, critical, off
  SnapshotLimits limits;
  bool trace = false;  // each allocation traces its steps on stderr (AllocateOptions::trace)
  // Where the epoch fence is kept across restarts (docs/reliability.md#fencing); empty: in
  // memory only, so a restarted service accepts any epoch again.
  std::string state_file;
  // CurveZMQ (docs/reliability.md): with a secret key every connection is encrypted and
  // only clients whose public key is allowed get in; a ZAP handler decides, and
  // ZMQ_ZAP_ENFORCE_DOMAIN makes a missing handler refuse everyone (fail closed).
  std::string curve_secret_key;              // Z85; empty = plaintext
  std::vector<std::string> allowed_clients;  // Z85 public keys; required with a secret key
  bool insecure = false;  // allow binding a non-loopback address without keys
};

// True when the endpoint only reaches this machine (tcp on 127.0.0.0/8, localhost or ::1,
// ipc, inproc).
[[nodiscard]] bool is_local_endpoint(const std::string& endpoint);

class Service {
 public:
  explicit Service(ServiceOptions options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Binds the socket (and the metrics port). False, with the reason, when it cannot.
  [[nodiscard]] bool start(std::string* error);
  // Serves until stop() and the drain that follows; returns the process exit code (0).
  int run();
  // Thread-safe; callable from a signal-handling thread. Begins the graceful shutdown.
  void stop();
  // Thread-safe: replaces the CURVE allow-list (sluice serve does on SIGHUP) and logs what
  // changed. From then on a key taken off the list is refused at the handshake, and every
  // request on a connection it already holds is answered kUnauthorized. False, with the
  // reason, when the service does not use CURVE or a key is not Z85 (the list is kept).
  [[nodiscard]] bool reload_allowed_clients(const std::vector<std::string>& keys, std::string* error);
  // The endpoint actually bound (the port filled in when "*" was asked for).
  [[nodiscard]] std::string bound_endpoint() const;
  [[nodiscard]] std::string metrics_endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice
