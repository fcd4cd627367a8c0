// One allocate request served without sockets; see serve_allocate.hpp.
#include "serve_allocate.hpp"

#include <chrono>
#include <exception>
#include <new>
#include <utility>

#include "sluice/snapshot_io.hpp"

namespace sluice::detail {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// The steps, each returning early with an error reply; `out` collects the timings.
void serve(const ServeRequest& request, const ServeConfig& config, Served& out) {
  const Envelope& e = request.envelope;
  auto fail = [&](ReplyCode code, std::string message, bool cacheable) {
    out.reply = error_reply(e, code, std::move(message));
    out.reply.cacheable = cacheable;
  };
  const auto cancelled = [](const std::atomic<bool>* flag) { return flag != nullptr && flag->load(); };
  // The flag was raised while `step` ran: by the drain (shutting down) or the deadline.
  auto cut_short = [&](const char* step) {
    if (cancelled(request.shutdown)) {
      return fail(ReplyCode::kShuttingDown,
                  std::string("the service shut down before this request was served (drain timeout; cancelled during ") +
                      step + ")",
                  false);
    }
    return fail(ReplyCode::kDeadlineExceeded,
                "deadline of " + std::to_string(request.deadline_ms) + " ms passed (cancelled during " + step + ")",
                false);
  };

  // 1. Still within the deadline?
  if (request.past_deadline || cancelled(request.cancel)) {
    return fail(ReplyCode::kDeadlineExceeded,
                "deadline of " + std::to_string(request.deadline_ms) + " ms passed after " +
                    std::to_string(static_cast<long long>(request.queued_s * 1000)) + " ms in the queue",
                false);
  }

  // 2. Snapshot (validated in step 3, so the fence rises only for valid ones).
  const auto t0 = Clock::now();
  const SnapshotFormat format = e.format == BodyFormat::kJson ? SnapshotFormat::kJson : SnapshotFormat::kBinary;
  SnapshotDecodeResult snap = decode_snapshot_unvalidated(request.snapshot, format, config.limits, request.cancel);
  const auto t1 = Clock::now();
  out.decoded = true;
  out.decode_s = seconds_between(t0, t1);
  if (snap.cancelled) return cut_short("decoding");
  if (!snap.ok) return fail(ReplyCode::kMalformed, "snapshot: " + snap.error, true);
  if (snap.snapshot.version != e.snapshot_version) {
    return fail(ReplyCode::kMalformed,
                "envelope names snapshot version " + std::to_string(e.snapshot_version) +
                    " but the snapshot is version " + std::to_string(snap.snapshot.version),
                true);
  }

  // 3. Validate, then fence: only a request that decoded and validated may raise the
  //    epoch fence, and one that a newer master's request overtook is refused here.
  const Validation valid = validate(snap.snapshot, config.limits, request.cancel);
  out.validate_s = seconds_between(t1, Clock::now());
  if (valid.status == Status::kCancelled) return cut_short("validation");
  if (!valid.ok()) return fail(ReplyCode::kInvalidSnapshot, "snapshot: invalid snapshot: " + valid.message, true);
  if (config.raise_fence) {
    std::string message;
    const ReplyCode fenced = config.raise_fence(e.epoch, &message);
    if (fenced != ReplyCode::kOk) return fail(fenced, std::move(message), false);
  }

  // 4. Allocate.
  AllocateOptions ao = to_allocate_options(request.options);
  ao.solve.cancel = request.cancel;
  ao.validate = false;  // done above
  ao.limits = config.limits;
  ao.trace = config.trace;
  // Indexed replies (docs/protocol.md): positions instead of ids, binary only.
  const bool indexed = (e.flags & kFlagIndexedReply) != 0;
  if (indexed && e.format != BodyFormat::kBinary) {
    return fail(ReplyCode::kMalformed, "indexed replies (envelope flag 1) come in the binary body format only", true);
  }
  IndexedAllocation indexed_result;
  Allocation ids_result;
  if (indexed) {
    indexed_result = allocate_indexed(snap.snapshot, ao);
  } else {
    ids_result = allocate(snap.snapshot, ao);
  }
  Allocation& a = indexed ? indexed_result.summary : ids_result;
  a.timings.decode_s = out.decode_s;
  a.timings.validate_s = out.validate_s;
  const auto t2 = Clock::now();
  out.allocated = true;
  out.solve_s = seconds_between(t1, t2);
  // allocate()'s own total stops before it frees its network; the caller waits for that
  // too, so the reply reports the wall time of the call.
  a.timings.total_s = out.solve_s;
  out.backend = a.backend;
  if (a.status == Status::kCancelled && cancelled(request.shutdown)) {
    return fail(ReplyCode::kShuttingDown,
                "cancelled: the service shut down before this allocation finished (drain timeout)", false);
  }
  if (a.status == Status::kCancelled) {
    return fail(ReplyCode::kDeadlineExceeded,
                "deadline of " + std::to_string(request.deadline_ms) + " ms passed during the allocation (" +
                    a.message + ")",
                false);
  }
  if (a.status != Status::kOptimal) {
    return fail(ReplyCode::kSolveFailed,
                std::string("allocation failed: ") + std::string(to_string(a.status)) + ": " + a.message, true);
  }

  // 5. Encode.
  out.reply.envelope = e;
  out.reply.envelope.type = MessageType::kAllocateReply;
  out.reply.envelope.code = ReplyCode::kOk;
  out.reply.body = indexed ? encode_indexed_allocation(indexed_result, e.version) : encode_allocation(a, e.format, e.version);
  if (out.reply.body.empty()) return fail(ReplyCode::kInternal, "encoding the allocation failed", false);
  out.reply.envelope.body_bytes = out.reply.body.size();
  out.reply.cacheable = true;
  out.encode_s = seconds_between(t2, Clock::now());
  out.snapshot = std::move(snap.snapshot);
  out.allocation = std::move(a);
}

}  // namespace

ServedReply error_reply(const Envelope& request, ReplyCode code, std::string message) {
  ServedReply r;
  // In the request's version when it is one this service speaks, so its client can read it.
  if (request.version >= kOldestProtocolVersion && request.version <= kProtocolVersion) {
    r.envelope.version = request.version;
  }
  r.envelope.type = MessageType::kError;
  r.envelope.format = request.format;
  r.envelope.request_id = request.request_id;
  r.envelope.epoch = request.epoch;
  r.envelope.snapshot_version = request.snapshot_version;
  r.envelope.code = code;
  r.body = std::move(message);
  r.envelope.body_bytes = r.body.size();
  return r;
}

Served serve_allocate(const ServeRequest& request, const ServeConfig& config) {
  Served out;
  const auto fail = [&](std::string message) {
    out.reply = error_reply(request.envelope, ReplyCode::kInternal, std::move(message));
    out.reply.cacheable = false;
  };
  try {
    serve(request, config, out);
  } catch (const std::bad_alloc&) {
    fail("out of memory while serving this request");
  } catch (const std::exception& ex) {
    fail(std::string("internal error: ") + ex.what());
  } catch (...) {
    fail("internal error");
  }
  return out;
}

}  // namespace sluice::detail
