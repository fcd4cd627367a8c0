// The Sluice wire protocol (docs/protocol.md): what a master and the allocation service
// exchange over ZeroMQ. Plain data and codecs, std types only; sockets live in
// src/transport and behind client.hpp.
//
// A message is a multipart ZeroMQ message:
//   frame 0      the envelope: 48 bytes, little-endian (magic "SLCE", protocol version,
//                message type, body format, request id, master epoch, snapshot version,
//                reply code, body length)
//   frames 1..   the body, in the envelope's format (cereal portable binary or JSON):
//                allocate request  = [options][snapshot]
//                allocate reply    = [allocation]
//                health/stats reply= [record]
//                error reply       = [UTF-8 message]
// Decoders never throw and check every length against the bytes present.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/allocate.hpp"
#include "sluice/snapshot.hpp"

namespace sluice {

inline constexpr char kProtocolMagic[4] = {'S', 'L', 'C', 'E'};
// Version 2 adds the re-solve counts to allocation replies and the re-solve, tie-break and
// workload options to requests (docs/protocol.md, "Versions"). A service answers each
// request in the version it came in, so version 1 clients keep working.
inline constexpr std::uint16_t kProtocolVersion = 2;
inline constexpr std::uint16_t kOldestProtocolVersion = 1;
inline constexpr std::size_t kEnvelopeBytes = 48;

enum class MessageType : std::uint8_t {
  kAllocate = 1,
  kHealth = 2,
  kStats = 3,
  kAllocateReply = 129,
  kHealthReply = 130,
  kStatsReply = 131,
  kError = 255,
};
std::string_view to_string(MessageType t);

enum class BodyFormat : std::uint8_t {
  kBinary = 0,  // cereal portable binary
  kJson = 1,    // cereal JSON (UTF-8 text)
};
std::string_view to_string(BodyFormat f);
std::optional<BodyFormat> parse_body_format(std::string_view name);  // "binary", "json"

// The outcome code of a reply (0 in requests). Everything but kOk comes with a message.
enum class ReplyCode : std::uint16_t {
  kOk = 0,
  kMalformed = 1,          // the envelope or body could not be decoded
  kInvalidSnapshot = 2,    // decoded, but validate() refused it
  kBusy = 3,               // the request queue is full: retry later
  kStaleEpoch = 4,         // epoch below the highest seen: a newer master took over
  kDeadlineExceeded = 5,   // the request's deadline passed before or during the solve
  kShuttingDown = 6,       // the service is stopping and did not start this request
  kTooLarge = 7,           // a frame or the whole message is over the service's limits
  kUnsupportedVersion = 8, // protocol version this service does not speak
  kSolveFailed = 9,        // allocate() returned a status other than optimal
  kInternal = 10,          // a bug: logged, and the service keeps serving
  kUnauthorized = 11,      // the connection's CURVE key was taken off the allow-list (SIGHUP)
};
std::string_view to_string(ReplyCode c);

struct Envelope {
  std::uint16_t version = kProtocolVersion;
  MessageType type = MessageType::kHealth;
  BodyFormat format = BodyFormat::kBinary;
  std::uint64_t request_id = 0;      // chosen by the master; retries reuse it
  std::uint64_t epoch = 0;           // the master's epoch (fencing)
  std::int64_t snapshot_version = 0; // echoed in replies
  ReplyCode code = ReplyCode::kOk;
  std::uint32_t flags = 0;           // reserved, 0
  std::uint64_t body_bytes = 0;      // the sum of the body frames' sizes
};

[[nodiscard]] std::string encode_envelope(const Envelope& envelope);

struct EnvelopeDecodeResult {
  bool ok = false;
  ReplyCode code = ReplyCode::kOk;  // why not (kMalformed or kUnsupportedVersion)
  std::string error;
  Envelope envelope;
};
[[nodiscard]] EnvelopeDecodeResult decode_envelope(std::string_view frame);

// What a master asks for besides the snapshot. JSON: every field optional, unknown
// fields refused.
struct AllocateRequestOptions {
  CostModel cost_model = CostModel::kLoadSpreading;
  Backend backend = Backend::kAuto;
  bool verify = false;
  bool aggregate = true;
  bool allow_migration = true;
  bool allow_preemption = true;
  std::int64_t migration_cost = 300;
  std::int64_t deadline_ms = 0;  // 0: the service's default
  // Version 2 (AllocateOptions has their meaning):
  double candidate_slack = 2.0;
  std::int32_t max_resolves = 32;
  std::int32_t new_tasks_per_machine = 0;
  std::uint64_t tie_seed = 0;
  std::vector<WorkloadSpec> workload;  // on the wire as workload_to_text()
};

// The request options as the allocator takes them (the fields the service does not
// override: it sets the deadline, cancel flag and limits itself).
[[nodiscard]] AllocateOptions to_allocate_options(const AllocateRequestOptions& options);
// And back, for a master that sends what it would run in process (no deadline).
[[nodiscard]] AllocateRequestOptions to_request_options(const AllocateOptions& options);

// A workload as one line of text, for the wire and the command line: specs separated by
// ';', each "cpu_milli,memory_mib,gpus,gpu_milli,weight" followed by its allowed GPU models
// (",V100,A100"). parse_workload_text refuses anything else, naming the spec and field.
[[nodiscard]] std::string workload_to_text(const std::vector<WorkloadSpec>& workload);
[[nodiscard]] std::optional<std::vector<WorkloadSpec>> parse_workload_text(std::string_view text, std::string* error);

// `version`: the protocol version of the message the options travel in (the binary form
// of version 1 ends at deadline_ms).
[[nodiscard]] std::string encode_request_options(const AllocateRequestOptions& options, BodyFormat format,
                                                 std::uint16_t version = kProtocolVersion);
struct RequestOptionsDecodeResult {
  bool ok = false;
  std::string error;
  AllocateRequestOptions options;
};
[[nodiscard]] RequestOptionsDecodeResult decode_request_options(std::string_view bytes, BodyFormat format,
                                                                std::uint16_t version = kProtocolVersion);

// Writes an allocation as JSON (the `sluice allocate` output and the service reply body).
[[nodiscard]] std::string allocation_to_json(const Allocation& allocation);

// Allocation bodies. JSON is allocation_to_json()'s document (what `sluice allocate -o`
// writes); binary carries the same fields, those of `version` (version 1: no re-solve
// counts; JSON always has them, and readers of version 1 ignore them).
[[nodiscard]] std::string encode_allocation(const Allocation& allocation, BodyFormat format,
                                            std::uint16_t version = kProtocolVersion);
struct AllocationDecodeResult {
  bool ok = false;
  std::string error;
  Allocation allocation;
};
[[nodiscard]] AllocationDecodeResult decode_allocation(std::string_view bytes, BodyFormat format,
                                                       const SnapshotLimits& limits = {},
                                                       std::uint16_t version = kProtocolVersion);

// Indexed replies: an allocate request with this envelope flag (binary body only) is
// answered with an IndexedAllocation (allocate.hpp) instead of an Allocation, and the
// reply's envelope carries the flag too. Other flag bits are reserved and ignored.
inline constexpr std::uint32_t kFlagIndexedReply = 1;

[[nodiscard]] std::string encode_indexed_allocation(const IndexedAllocation& allocation,  // binary
                                                    std::uint16_t version = kProtocolVersion);
struct IndexedAllocationDecodeResult {
  bool ok = false;
  std::string error;
  IndexedAllocation allocation;
};
[[nodiscard]] IndexedAllocationDecodeResult decode_indexed_allocation(std::string_view bytes,
                                                                      const SnapshotLimits& limits = {},
                                                                      std::uint16_t version = kProtocolVersion);

struct HealthInfo {
  std::string state;             // "serving" or "draining"
  std::string version;           // the service's build version
  double uptime_s = 0;
  std::int32_t workers = 0;
  std::int64_t queue_depth = 0;  // requests waiting for a worker
  std::int64_t queue_capacity = 0;
  std::int64_t in_flight = 0;    // requests being solved
  std::uint64_t highest_epoch = 0;
  std::string gpu;               // the device, or why none is used
};

struct ServiceStats {
  std::uint64_t received = 0;        // messages read from the socket
  std::uint64_t replied = 0;         // replies sent
  std::uint64_t allocations = 0;     // allocate requests solved
  std::uint64_t cache_hits = 0;      // retries served from the reply cache
  std::uint64_t joined_in_flight = 0;// retries that joined a solve already running
  std::uint64_t busy = 0;
  std::uint64_t malformed = 0;
  std::uint64_t invalid = 0;
  std::uint64_t stale_epoch = 0;
  std::uint64_t deadline_exceeded = 0;
  std::uint64_t too_large = 0;
  std::uint64_t failed = 0;          // kSolveFailed and kInternal
  std::uint64_t shutting_down = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  double solve_seconds_total = 0;
  double decode_seconds_total = 0;
  std::uint64_t denied = 0;          // connections refused at the handshake (CURVE, ZAP)
  std::uint64_t replies_dropped = 0; // replies that could not be sent: the peer's queue was full or it was gone
};

[[nodiscard]] std::string encode_health(const HealthInfo& health, BodyFormat format);
[[nodiscard]] std::optional<HealthInfo> decode_health(std::string_view bytes, BodyFormat format,
                                                      std::string* error = nullptr);
// replies_dropped is new in version 2: a version 1 record has none.
[[nodiscard]] std::string encode_stats(const ServiceStats& stats, BodyFormat format,
                                       std::uint16_t version = kProtocolVersion);
[[nodiscard]] std::optional<ServiceStats> decode_stats(std::string_view bytes, BodyFormat format,
                                                       std::string* error = nullptr,
                                                       std::uint16_t version = kProtocolVersion);

}  // namespace sluice
