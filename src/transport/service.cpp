// The allocation service (sluice/service.hpp): a ROUTER socket, one I/O thread, a pool of
// solver workers, a bounded queue, a reply cache for retried request ids, epoch fencing,
// deadlines, graceful drain, Prometheus metrics and structured logs.
//
// Threading: only the I/O thread touches the ROUTER socket (ZeroMQ sockets are not thread-
// safe). Workers take jobs from a mutex-guarded queue and hand finished replies back
// through another one, then nudge the I/O thread over an inproc PUSH/PULL pair (each
// worker has its own PUSH socket). The I/O thread also wakes every 20 ms to check
// deadlines and the stop flag. Workers hash each request (the reply cache's digest) and,
// once its snapshot validated, raise the epoch fence (under a mutex, after the state file
// holds it); the I/O thread only reads the fence.
//
// Files: what a worker does with one request (decode, validate, fence, allocate, encode)
// is serve_allocate.cpp, socket-free; the request queue, the reply cache, the request
// digest, the state file, the metrics and CURVE authentication are their own files. This
// one is the I/O thread and the workers around them: sockets, routing, in-flight requests,
// deadlines, connections and drain; over 700 lines because those share the I/O thread's
// state.
//
// Memory under hostile input: ZMQ_MAXMSGSIZE caps each frame (ZeroMQ drops the connection
// of a peer that sends more), frames past max_frames are thrown away one by one, the queue
// is bounded in requests and bytes, the reply cache in entries and bytes, and the decoders
// never allocate more than their input justifies. libzmq receives a whole multipart
// message before the service sees its first frame, with no bound on the frames: past
// --max-memory the connection receiving most is dropped mid-message (receive_guard.hpp).
#include "sluice/service.hpp"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <sodium.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <system_error>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <zmq.hpp>

#include <unordered_set>

#include "cuda_device.hpp"
#include "json_text.hpp"
#include "receive_guard.hpp"
#include "reply_cache.hpp"
#include "request_queue.hpp"
#include "request_digest.hpp"
#include "serve_allocate.hpp"
#include "service_metrics.hpp"
#include "zap_auth.hpp"
#include "state_file.hpp"
#include "sluice/allocate.hpp"
#include "sluice/keys.hpp"
#include "sluice/process_memory.hpp"
#include "sluice/protocol.hpp"
#include "sluice/snapshot_io.hpp"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;
using detail::Digest;
using detail::json_escape;
using detail::read_state_file;
using detail::request_digest;
using detail::write_state_file;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}


// A route back to a client: the ROUTER identity, and the empty delimiter if a REQ socket
// sent one.
struct Route {
  std::string identity;
  bool delimiter = false;
};

// The request's two body frames, shared by the queue (then the worker) and, weakly, by the
// in-flight table, which compares a retry's bytes with them while the worker holds them.
struct RequestBytes {
  zmq::message_t options;
  zmq::message_t snapshot;
  [[nodiscard]] std::string_view options_view() const {
    return {static_cast<const char*>(options.data()), options.size()};
  }
  [[nodiscard]] std::string_view snapshot_view() const {
    return {static_cast<const char*>(snapshot.data()), snapshot.size()};
  }
  [[nodiscard]] std::int64_t size() const { return static_cast<std::int64_t>(options.size() + snapshot.size()); }
};

// True when a retry carries exactly the request held in `held` (same envelope fields the
// digest covers, same bytes).
bool same_request(const Envelope& a, const Envelope& b, const RequestBytes& held, std::string_view options,
                  std::string_view snapshot) {
  return a.type == b.type && a.format == b.format && a.snapshot_version == b.snapshot_version &&
         a.flags == b.flags && held.options_view() == options && held.snapshot_view() == snapshot;
}


// Shared by a job's worker and the I/O thread: the cancel flag the solver polls, and the
// deadline (steady-clock nanoseconds) that the worker tightens once it has read the
// request's own deadline_ms; the I/O thread raises the flag when the deadline passes.
struct Control {
  std::atomic<bool> cancel{false};
  std::atomic<bool> shutdown{false};  // cancelled by the drain, not by the deadline
  std::atomic<std::int64_t> deadline_ns{0};
  // The request's digest, computed by the worker before anything else (off the I/O
  // thread); `digest_ready` is set (release) once it is written.
  Digest digest{};
  std::atomic<bool> digest_ready{false};
  void set_deadline(Clock::time_point t) { deadline_ns.store(t.time_since_epoch().count()); }
  [[nodiscard]] bool past(Clock::time_point now) const { return now.time_since_epoch().count() >= deadline_ns.load(); }
};

struct QueuedRequest {
  Envelope envelope;
  AllocateRequestOptions request;
  std::int64_t deadline_ms = 0;
  std::shared_ptr<RequestBytes> bytes = std::make_shared<RequestBytes>();
  Clock::time_point received;
  std::shared_ptr<Control> control = std::make_shared<Control>();
};

using Reply = detail::ServedReply;

// A finished job, from a worker back to the I/O thread.
struct Done {
  std::uint64_t request_id = 0;
  Reply reply;
  std::string backend;
  double queue_s = 0, decode_s = 0, solve_s = 0, encode_s = 0;
};

// Requests accepted and not yet answered, by request id: who waits for the reply.
// A retry is compared with the original's bytes while the queue or the worker holds them
// (weak: the I/O thread never frees a snapshot), and with the digest once the worker has
// let them go (it computes the digest before anything else, so one of the two is there).
struct InFlight {
  Envelope envelope;
  std::weak_ptr<const RequestBytes> bytes;
  std::vector<Route> routes;
  std::shared_ptr<Control> control;
};


}  // namespace

struct Service::Impl {
  explicit Impl(ServiceOptions o) : options(std::move(o)) {}

  ServiceOptions options;
  zmq::context_t context{1};
  std::unique_ptr<zmq::socket_t> router;
  std::unique_ptr<zmq::socket_t> wake;
  std::string wake_endpoint;
  std::unique_ptr<zmq::socket_t> monitor;  // handshake failures, connections of the ROUTER socket
  // Open connections by file descriptor, oldest first (see enforce_connection_cap).
  std::list<int> connections;
  std::unordered_map<int, std::list<int>::iterator> connection_at;
  std::int64_t connection_cap = 0;
  int bound_port = -1;  // the ROUTER's TCP port; -1 for other transports
  std::uint64_t connections_dropped = 0;
  Clock::time_point last_drop_log{};
  std::uint64_t drops_since_log = 0;
  // Messages still arriving, against --max-memory (receive_guard.hpp).
  std::int64_t max_memory = 0;
  detail::ReceiveGuard receive_guard{0};  // off until start() sets the limit
  Clock::time_point last_guard_note{};
  std::atomic<std::uint64_t> denied{0};
  std::string bound;
  std::shared_ptr<spdlog::logger> log;
  Clock::time_point started_at = Clock::now();
  std::string gpu_description;  // queried once at start: a device query initialises the CUDA runtime

  // Stop and drain.
  std::atomic<bool> stop_requested{false};
  bool draining = false;
  Clock::time_point drain_started;

  // The queue between the I/O thread and the workers (request_queue.hpp).
  detail::RequestQueue<QueuedRequest> queue{options.queue_capacity, options.max_queued_bytes,
                                            [](const QueuedRequest& job) { return job.bytes->size(); }};
  std::vector<std::thread> workers;
  std::atomic<std::int64_t> solving{0};

  // Finished replies, from the workers.
  std::mutex done_mutex;
  std::vector<Done> done;

  // I/O thread only.
  std::unordered_map<std::uint64_t, InFlight> in_flight;
  detail::ReplyCache cache{options.cache_entries, options.cache_bytes};
  // The epoch fence: the highest epoch of a request that decoded and validated. Read by
  // the I/O thread to refuse stale requests at once; raised only by workers, under
  // fence_mutex, after the state file (if any) holds the new value.
  std::atomic<std::uint64_t> highest_epoch{0};
  std::mutex fence_mutex;
  ServiceStats stats;
  std::mutex stats_mutex;  // the seconds totals are also written by workers

  // Metrics.
  detail::ServiceMetrics metrics;  // registered at construction (service_metrics.hpp)
  std::unique_ptr<prometheus::Exposer> exposer;
  std::string metrics_bound;
  std::uint64_t dropped_unlogged = 0;  // dropped replies not yet in a log line
  Clock::time_point dropped_logged_at;

  // ---- Authentication (zap_auth.hpp) -----------------------------------------------
  detail::ZapAuthenticator auth;
  bool curve = false;

  // A connection opened (ZMQ_EVENT_ACCEPTED) or closed (ZMQ_EVENT_DISCONNECTED), by fd.
  void connection_opened(int fd) {
    if (const auto it = connection_at.find(fd); it != connection_at.end()) {  // a missed close
      connections.erase(it->second);
      connection_at.erase(it);
    }
    connection_at[fd] = connections.insert(connections.end(), fd);
    receive_guard.forget(fd);  // a number reused: nothing of the old one counts
    enforce_connection_cap();
  }
  void connection_closed(int fd) {
    if (const auto it = connection_at.find(fd); it != connection_at.end()) {
      connections.erase(it->second);
      connection_at.erase(it);
    }
    receive_guard.forget(fd);
  }

  // Shuts a connection's socket down, which libzmq sees as the peer leaving (it closes the
  // descriptor, frees what it held of the connection and reports DISCONNECTED): libzmq has
  // no call to drop one peer of a ROUTER. Only if the descriptor still is a TCP socket on
  // the ROUTER's port: monitor events arrive late, and the number may have been reused.
  // The caller has taken it off the connection list (DISCONNECTED comes later).
  bool shut_down_socket(int fd) const {
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (bound_port < 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return false;
    const int port = local.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port)
                     : local.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port)
                                                    : -1;
    if (port != bound_port) return false;
    ::shutdown(fd, SHUT_RDWR);
    return true;
  }

  // Past --max-memory, the connection receiving most goes (receive_guard.hpp). Each drop is
  // logged; memory over the limit with nothing to drop is noted at most every 10 s.
  void guard_memory(Clock::time_point now) {
    const std::optional<detail::ReceiveGuard::Verdict> v = receive_guard.check(connections, now);
    if (!v) return;
    if (v->fd < 0) {
      if (now - last_guard_note < std::chrono::seconds(10)) return;
      last_guard_note = now;
      log_event(spdlog::level::warn, "memory_over_limit",
                "\"resident\":" + std::to_string(v->resident) + ",\"max_memory\":" + std::to_string(max_memory) +
                    ",\"reason\":\"no connection is receiving much: requests being solved hold the memory\"");
      return;
    }
    connection_closed(v->fd);
    if (!shut_down_socket(v->fd)) return;
    ++connections_dropped;
    metrics.dropped_connections_counter->Increment();
    log_event(spdlog::level::warn, "connection_dropped_for_memory",
              "\"received\":" + std::to_string(v->received) + ",\"resident\":" + std::to_string(v->resident) +
                  ",\"max_memory\":" + std::to_string(max_memory) +
                  ",\"reason\":\"resident memory past max_memory while this connection received the most\"");
  }

  // Past the cap, the connection open longest goes (shut_down_socket). The oldest rather
  // than the newest, so that a flood of idle connections cannot keep a new master out; a
  // master that is dropped reconnects (ZeroMQ does that by itself), and its reply, if one
  // was due, waits in the reply cache for its retry.
  void enforce_connection_cap() {
    while (connection_cap > 0 && static_cast<std::int64_t>(connections.size()) > connection_cap) {
      const int oldest = connections.front();
      connections.pop_front();  // gone from the list whether or not it can be shut down
      connection_at.erase(oldest);
      if (!shut_down_socket(oldest)) continue;
      ++connections_dropped;
      ++drops_since_log;
      metrics.dropped_connections_counter->Increment();
      log_dropped_connections(Clock::now());
    }
  }

  // Drops are logged at most once a second, with their count since the last line: a flood
  // of connections does not flood the log.
  void log_dropped_connections(Clock::time_point now) {
    if (drops_since_log == 0 || now - last_drop_log < std::chrono::seconds(1)) return;
    log_event(spdlog::level::warn, "connections_dropped",
              "\"count\":" + std::to_string(drops_since_log) + ",\"total\":" + std::to_string(connections_dropped) +
                  ",\"max_connections\":" + std::to_string(connection_cap) +
                  ",\"reason\":\"more connections than max_connections: the oldest are dropped\"");
    last_drop_log = now;
    drops_since_log = 0;
  }

  // Handshake failures (a key not allowed, a plaintext client on a CURVE socket, garbage)
  // are counted and logged from the socket monitor, which also reports connections opened
  // and closed.
  void read_monitor() {
    while (true) {
      zmq::message_t event;
      if (!monitor->recv(event, zmq::recv_flags::dontwait)) return;
      zmq::message_t address;
      if (event.more()) (void)monitor->recv(address, zmq::recv_flags::dontwait);
      if (event.size() < 6) continue;
      std::uint16_t id = 0;
      std::int32_t value = 0;
      std::memcpy(&id, event.data(), 2);
      std::memcpy(&value, static_cast<const char*>(event.data()) + 2, 4);
      if (id == ZMQ_EVENT_ACCEPTED) {
        connection_opened(value);
        continue;
      }
      if (id == ZMQ_EVENT_DISCONNECTED) {
        connection_closed(value);
        continue;
      }
      // A peer gone during the handshake (or one dropped over the connection cap) was not
      // refused: not counted as denied.
      if (id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && (value == EPIPE || value == ECONNRESET)) continue;
      const char* why = id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH       ? "authentication refused"
                        : id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "protocol error (e.g. a plaintext client)"
                                                                    : "handshake failed";
      ++denied;
      metrics.denied_counter->Increment();
      log_event(spdlog::level::warn, "connection_denied",
                "\"peer\":\"" + json_escape(address.to_string()) + "\",\"reason\":\"" + why +
                    "\",\"code\":" + std::to_string(value));
    }
  }

  // ---- Logging ----

  void log_event(spdlog::level::level_enum level, const std::string& event, const std::string& fields) {
    if (!log || !log->should_log(level)) return;
    if (options.log_json) {
      log->log(level, "\"event\":\"{}\"{}{}", event, fields.empty() ? "" : ",", fields);
    } else {
      log->log(level, "{} {}", event, fields);
    }
  }

  // ---- Sending ----

  // The body goes out without a copy: the message holds a share of the reply (which the
  // cache may hold too) until ZeroMQ has sent it.
  static zmq::message_t body_message(const std::shared_ptr<const Reply>& reply) {
    auto* hold = new std::shared_ptr<const Reply>(reply);
    return zmq::message_t(
        const_cast<char*>(reply->body.data()), reply->body.size(),
        [](void*, void* hint) { delete static_cast<std::shared_ptr<const Reply>*>(hint); }, hold);
  }

  void send_reply(const Route& route, const Reply& reply) {
    send_reply(route, std::make_shared<const Reply>(reply));
  }

  // The socket has ZMQ_ROUTER_MANDATORY: a reply to a peer whose queue is full (a client
  // that does not read) fails with EAGAIN instead of vanishing, and one to a peer that is
  // gone with EHOSTUNREACH. Either way the reply is counted and logged as dropped; an
  // allocate reply stays in the reply cache (deliver_done), so the client's retry gets it.
  void send_reply(const Route& route, const std::shared_ptr<const Reply>& shared) {
    const Reply& reply = *shared;
    const char* dropped = nullptr;
    std::string error;
    try {
      // The identity frame is where ROUTER_MANDATORY checks the peer: once it is taken,
      // the rest of the message is taken too.
      if (!router->send(zmq::buffer(route.identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        dropped = "peer-full";
      } else {
        if (route.delimiter) router->send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        const std::string envelope = encode_envelope(reply.envelope);
        const bool has_body = !reply.body.empty() || reply.envelope.type == MessageType::kError;
        router->send(zmq::buffer(envelope), has_body ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                                                     : zmq::send_flags::dontwait);
        if (has_body) router->send(body_message(shared), zmq::send_flags::dontwait);
        ++stats.replied;
        stats.bytes_out += envelope.size() + reply.body.size();
      }
    } catch (const zmq::error_t& e) {
      dropped = e.num() == EHOSTUNREACH ? "peer-gone" : "send-error";
      error = e.what();
    }
    const std::string type(to_string(reply.envelope.type == MessageType::kError ? MessageType::kError
                                                                               : reply.envelope.type));
    const std::string code(to_string(reply.envelope.code));
    if (dropped != nullptr) {
      note_dropped(reply, dropped, error);
      metrics.requests_family->Add({{"type", type}, {"result", "dropped"}}).Increment();
      return;
    }
    metrics.requests_family->Add({{"type", type}, {"result", code}}).Increment();
  }

  // Counts a dropped reply and logs it: the first one of a burst at once, then at most one
  // line a second, each saying how many were dropped since the last line (a client that
  // never reads can make thousands a second).
  void note_dropped(const Reply& reply, const char* reason, const std::string& error) {
    ++stats.replies_dropped;
    metrics.dropped_family->Add({{"reason", reason}}).Increment();
    ++dropped_unlogged;
    const auto now = Clock::now();
    if (dropped_unlogged > 1 && now - dropped_logged_at < std::chrono::seconds(1)) return;
    log_event(spdlog::level::warn, "reply_dropped",
              "\"request_id\":" + std::to_string(reply.envelope.request_id) + ",\"type\":\"" +
                  std::string(to_string(reply.envelope.type)) + "\",\"code\":\"" +
                  std::string(to_string(reply.envelope.code)) + "\",\"reason\":\"" + reason + "\"" +
                  (error.empty() ? "" : ",\"error\":\"" + json_escape(error) + "\"") +
                  ",\"dropped_since_last_line\":" + std::to_string(dropped_unlogged) +
                  ",\"dropped_total\":" + std::to_string(stats.replies_dropped) +
                  ",\"cacheable\":" + (reply.cacheable ? "true" : "false"));
    dropped_unlogged = 0;
    dropped_logged_at = now;
  }

  static std::string stale_message(std::uint64_t epoch, std::uint64_t fence) {
    return "epoch " + std::to_string(epoch) + " is below " + std::to_string(fence) +
           ", the highest epoch of a valid request: a newer master is in charge";
  }

  // Called by a worker once its request decoded and validated: raises the fence to the
  // request's epoch (persisting it first when there is a state file). kOk when the request
  // may go on; kStaleEpoch when a newer master's request was validated meanwhile; kInternal
  // when the new fence could not be written (it is then not raised either: the fence in
  // memory is never ahead of the one on disk).
  ReplyCode raise_fence(std::uint64_t epoch, std::string* message) {
    std::lock_guard lock(fence_mutex);
    const std::uint64_t fence = highest_epoch.load();
    if (epoch < fence) {
      *message = stale_message(epoch, fence);
      return ReplyCode::kStaleEpoch;
    }
    if (epoch == fence) return ReplyCode::kOk;
    if (!options.state_file.empty()) {
      std::string error;
      if (!write_state_file(options.state_file, epoch, &error)) {
        log_event(spdlog::level::err, "state_file_write_failed",
                  "\"path\":\"" + json_escape(options.state_file) + "\",\"epoch\":" + std::to_string(epoch) +
                      ",\"error\":\"" + json_escape(error) + "\"");
        *message = "the epoch fence could not be persisted (" + error + "); the request was not served";
        return ReplyCode::kInternal;
      }
    }
    highest_epoch.store(epoch);
    log_event(spdlog::level::info, "epoch_fence_raised",
              "\"from\":" + std::to_string(fence) + ",\"to\":" + std::to_string(epoch) +
                  ",\"persisted\":" + (options.state_file.empty() ? "false" : "true"));
    return ReplyCode::kOk;
  }

  void count_code(ReplyCode code) {
    switch (code) {
      case ReplyCode::kOk: break;
      case ReplyCode::kMalformed:
      case ReplyCode::kUnsupportedVersion: ++stats.malformed; break;
      case ReplyCode::kInvalidSnapshot: ++stats.invalid; break;
      case ReplyCode::kBusy: ++stats.busy; break;
      case ReplyCode::kStaleEpoch: ++stats.stale_epoch; break;
      case ReplyCode::kDeadlineExceeded: ++stats.deadline_exceeded; break;
      case ReplyCode::kShuttingDown: ++stats.shutting_down; break;
      case ReplyCode::kTooLarge: ++stats.too_large; break;
      case ReplyCode::kSolveFailed:
      case ReplyCode::kInternal: ++stats.failed; break;
      case ReplyCode::kUnauthorized: break;  // counted in `denied`
    }
  }

  void refuse(const Route& route, const Envelope& request, ReplyCode code, std::string message) {
    count_code(code);
    log_event(spdlog::level::info, "refused",
              "\"request_id\":" + std::to_string(request.request_id) + ",\"epoch\":" + std::to_string(request.epoch) +
                  ",\"code\":\"" + std::string(to_string(code)) + "\",\"message\":\"" + json_escape(message) + "\"");
    send_reply(route, detail::error_reply(request, code, std::move(message)));
  }

  // Whether the CURVE key that authenticated the connection a frame came from (the ZAP
  // handler's user id) is still on the allow-list.
  bool still_allowed(zmq::message_t& frame) {
    const char* user = zmq_msg_gets(frame.handle(), "User-Id");
    return user != nullptr && auth.allowed(user);
  }

  // ---- Receiving ----

  // Reads one whole multipart message; frames past the limit are read and discarded.
  void receive_one() {
    std::vector<zmq::message_t> frames;
    std::size_t count = 0;
    std::uint64_t bytes = 0;
    while (true) {
      zmq::message_t part;
      if (!router->recv(part, zmq::recv_flags::dontwait)) break;  // cannot happen mid-message
      ++count;
      bytes += part.size();
      const bool more = part.more();
      if (count <= static_cast<std::size_t>(options.max_frames)) frames.push_back(std::move(part));
      if (!more) break;
    }
    ++stats.received;
    stats.bytes_in += bytes;
    if (frames.empty()) return;
    handle(std::move(frames), count);
    // A refused outsized message is gone now (an accepted one is trimmed after by its worker).
    if (bytes > static_cast<std::uint64_t>(options.trim_after_bytes)) release_freed_memory();
  }

  void handle(std::vector<zmq::message_t> frames, std::size_t count) {
    Route route;
    route.identity.assign(static_cast<const char*>(frames[0].data()), frames[0].size());
    std::size_t first = 1;
    if (frames.size() > 1 && frames[1].size() == 0) {
      route.delimiter = true;
      first = 2;
    }
    Envelope unknown;
    if (curve && !still_allowed(frames.back())) {
      // Admitted at the handshake, but its key has been taken off the list since (SIGHUP).
      const EnvelopeDecodeResult peek =
          decode_envelope(std::string_view(static_cast<const char*>(frames[std::min(first, frames.size() - 1)].data()),
                                           frames[std::min(first, frames.size() - 1)].size()));
      ++denied;
      metrics.denied_counter->Increment();
      refuse(route, peek.ok ? peek.envelope : unknown, ReplyCode::kUnauthorized,
             "this connection's CURVE key is no longer on the service's allow-list");
      return;
    }
    if (count > static_cast<std::size_t>(options.max_frames)) {
      refuse(route, unknown, ReplyCode::kTooLarge,
             "message has " + std::to_string(count) + " frames; at most " + std::to_string(options.max_frames) +
                 " are accepted (routing included)");
      return;
    }
    if (first >= frames.size()) {
      refuse(route, unknown, ReplyCode::kMalformed, "message has no envelope frame");
      return;
    }
    const std::string_view envelope_frame(static_cast<const char*>(frames[first].data()), frames[first].size());
    const EnvelopeDecodeResult decoded = decode_envelope(envelope_frame);
    if (!decoded.ok) {
      // Echo what can be read of a 48-byte envelope (the request id), so the client can
      // match the error to its request.
      if (envelope_frame.size() == kEnvelopeBytes) {
        for (std::size_t i = 16; i-- > 8;) {
          unknown.request_id = (unknown.request_id << 8) | static_cast<unsigned char>(envelope_frame[i]);
        }
      }
      refuse(route, unknown, decoded.code, decoded.error);
      return;
    }
    const Envelope& e = decoded.envelope;
    std::uint64_t body_bytes = 0;
    for (std::size_t i = first + 1; i < frames.size(); ++i) body_bytes += frames[i].size();
    if (body_bytes != e.body_bytes) {
      refuse(route, e, ReplyCode::kMalformed,
             "envelope declares " + std::to_string(e.body_bytes) + " body bytes but the body frames hold " +
                 std::to_string(body_bytes));
      return;
    }
    if (body_bytes > static_cast<std::uint64_t>(options.max_request_bytes)) {
      refuse(route, e, ReplyCode::kTooLarge,
             "body of " + std::to_string(body_bytes) + " bytes exceeds the service's limit of " +
                 std::to_string(options.max_request_bytes));
      return;
    }
    if (e.code != ReplyCode::kOk) {  // a reply code belongs in replies only
      refuse(route, e, ReplyCode::kMalformed,
             "a request carries code 0 in its envelope, found " + std::to_string(static_cast<int>(e.code)) + " (" +
                 std::string(to_string(e.code)) + ")");
      return;
    }
    const std::size_t body_frames = frames.size() - first - 1;
    switch (e.type) {
      case MessageType::kHealth:
      case MessageType::kStats: {
        if (body_frames != 0) {
          refuse(route, e, ReplyCode::kMalformed,
                 std::string(to_string(e.type)) + " requests carry no body, found " + std::to_string(body_frames) +
                     " frames");
          return;
        }
        Reply r;
        r.envelope = e;
        r.envelope.type = e.type == MessageType::kHealth ? MessageType::kHealthReply : MessageType::kStatsReply;
        r.envelope.code = ReplyCode::kOk;
        stats.denied = denied.load();
        r.body = e.type == MessageType::kHealth ? encode_health(health(), e.format) : encode_stats(stats, e.format, e.version);
        r.envelope.body_bytes = r.body.size();
        send_reply(route, r);
        return;
      }
      case MessageType::kAllocate:
        if (body_frames != 2) {
          refuse(route, e, ReplyCode::kMalformed,
                 "allocate requests carry 2 body frames (options, snapshot), found " + std::to_string(body_frames));
          return;
        }
        accept_allocate(route, e, std::move(frames[first + 1]), std::move(frames[first + 2]));
        return;
      default:
        refuse(route, e, ReplyCode::kMalformed,
               "a service accepts allocate, health and stats requests, not " + std::string(to_string(e.type)));
        return;
    }
  }

  void accept_allocate(const Route& route, const Envelope& e, zmq::message_t options_frame,
                       zmq::message_t snapshot_frame) {
    if (const std::uint64_t fence = highest_epoch.load(); e.epoch < fence) {
      refuse(route, e, ReplyCode::kStaleEpoch, stale_message(e.epoch, fence));
      return;
    }
    const std::string_view options_bytes(static_cast<const char*>(options_frame.data()), options_frame.size());
    const std::string_view snapshot_bytes(static_cast<const char*>(snapshot_frame.data()), snapshot_frame.size());
    // A retry: answer from the cache, or join the request already in flight. Only a request
    // identical to the first (every byte) may; the same id with anything else is refused.
    std::shared_ptr<const Reply> cached;
    switch (cache.lookup(
        e.request_id, [&] { return request_digest(e, options_bytes, snapshot_bytes); }, &cached)) {
      case detail::ReplyCache::Lookup::kDifferentRequest:
        refuse(route, e, ReplyCode::kMalformed,
               "request id " + std::to_string(e.request_id) + " was already used for a different request");
        return;
      case detail::ReplyCache::Lookup::kHit:
        ++stats.cache_hits;
        log_event(spdlog::level::info, "cache_hit", "\"request_id\":" + std::to_string(e.request_id));
        send_reply(route, cached);
        return;
      case detail::ReplyCache::Lookup::kMiss:
        break;
    }
    if (const auto running = in_flight.find(e.request_id); running != in_flight.end()) {
      const InFlight& first = running->second;
      bool same = false;
      if (const auto held = first.bytes.lock()) {
        same = same_request(first.envelope, e, *held, options_bytes, snapshot_bytes);
      } else {  // the worker let the bytes go, so it wrote the digest first
        same = first.control->digest_ready.load(std::memory_order_acquire) &&
               first.control->digest == request_digest(e, options_bytes, snapshot_bytes);
      }
      if (!same) {
        refuse(route, e, ReplyCode::kMalformed,
               "request id " + std::to_string(e.request_id) + " is in flight for a different request");
        return;
      }
      ++stats.joined_in_flight;
      running->second.routes.push_back(route);
      log_event(spdlog::level::info, "joined_in_flight", "\"request_id\":" + std::to_string(e.request_id));
      return;
    }
    if (draining) {
      refuse(route, e, ReplyCode::kShuttingDown, "the service is shutting down and accepts no new requests");
      return;
    }
    // The options are small: read them here, so a bad one is refused at once and the
    // request's deadline is known while it waits in the queue.
    constexpr std::size_t kMaxOptionsBytes = 64 * 1024;
    if (options_frame.size() > kMaxOptionsBytes) {
      refuse(route, e, ReplyCode::kTooLarge,
             "options frame of " + std::to_string(options_frame.size()) + " bytes; at most " +
                 std::to_string(kMaxOptionsBytes));
      return;
    }
    RequestOptionsDecodeResult opt = decode_request_options(options_bytes, e.format, e.version);
    if (!opt.ok) {
      refuse(route, e, ReplyCode::kMalformed, opt.error);
      return;
    }
    QueuedRequest job;
    job.request = opt.options;
    job.deadline_ms = std::min(opt.options.deadline_ms > 0 ? opt.options.deadline_ms : options.default_deadline_ms,
                               options.max_deadline_ms);
    job.envelope = e;
    job.bytes->options = std::move(options_frame);
    job.bytes->snapshot = std::move(snapshot_frame);
    job.received = Clock::now();
    job.control->set_deadline(job.received + std::chrono::milliseconds(job.deadline_ms));
    // The in-flight entry goes in first: it shares the request's bytes and control with the
    // job, which a worker may take the moment it is queued.
    InFlight entry;
    entry.envelope = e;
    entry.bytes = job.bytes;
    entry.routes.push_back(route);
    entry.control = job.control;
    const auto snapshot_size = static_cast<double>(job.bytes->snapshot.size());
    if (queue.push(job)) {
      in_flight.emplace(e.request_id, std::move(entry));
      metrics.snapshot_bytes_hist->Observe(snapshot_size);
      metrics.queue_gauge->Set(static_cast<double>(queue.size()));
      return;
    }
    refuse(route, e, ReplyCode::kBusy,
           "the request queue is full (" + std::to_string(options.queue_capacity) + " requests or " +
               std::to_string(options.max_queued_bytes) + " bytes); retry later");
  }

  // ---- Finished work ----

  void deliver_done() {
    std::vector<Done> ready;
    {
      std::lock_guard lock(done_mutex);
      ready.swap(done);
    }
    for (Done& d : ready) {
      const auto it = in_flight.find(d.request_id);
      if (it == in_flight.end()) continue;  // answered already (drain refusal)
      const auto reply = std::make_shared<const Reply>(std::move(d.reply));
      count_code(reply->envelope.code);
      if (reply->envelope.code == ReplyCode::kOk) ++stats.allocations;
      for (const Route& route : it->second.routes) send_reply(route, reply);
      log_event(spdlog::level::info, "reply",
                "\"request_id\":" + std::to_string(d.request_id) + ",\"epoch\":" +
                    std::to_string(reply->envelope.epoch) + ",\"snapshot_version\":" +
                    std::to_string(reply->envelope.snapshot_version) + ",\"code\":\"" +
                    std::string(to_string(reply->envelope.code)) + "\",\"backend\":\"" + json_escape(d.backend) +
                    "\",\"queue_s\":" + std::to_string(d.queue_s) + ",\"decode_s\":" + std::to_string(d.decode_s) +
                    ",\"solve_s\":" + std::to_string(d.solve_s) + ",\"encode_s\":" + std::to_string(d.encode_s) +
                    ",\"reply_bytes\":" + std::to_string(reply->body.size()) +
                    ",\"waiters\":" + std::to_string(it->second.routes.size()));
      // A cacheable reply's worker computed the digest first thing.
      if (reply->cacheable && it->second.control->digest_ready.load(std::memory_order_acquire)) {
        cache.remember(d.request_id, it->second.control->digest, reply);
      }
      in_flight.erase(it);
    }
    metrics.in_flight_gauge->Set(static_cast<double>(solving.load()));
  }

  // Raises the cancel flag of requests past their deadline (their worker then answers
  // kDeadlineExceeded).
  void check_deadlines(Clock::time_point now) {
    for (auto& [id, entry] : in_flight) {
      if (entry.control->past(now)) entry.control->cancel.store(true, std::memory_order_relaxed);
    }
  }

  // Answers the queued requests whose deadline passed before a worker was free.
  void expire_queued(Clock::time_point now) {
    const std::vector<QueuedRequest> expired =
        queue.remove_if([&](const QueuedRequest& job) { return job.control->past(now); });
    metrics.queue_gauge->Set(static_cast<double>(queue.size()));
    for (const QueuedRequest& job : expired) {
      const auto it = in_flight.find(job.envelope.request_id);
      if (it == in_flight.end()) continue;
      const Reply r = detail::error_reply(job.envelope, ReplyCode::kDeadlineExceeded,
                                  "deadline of " + std::to_string(job.deadline_ms) +
                                      " ms passed while the request waited for a worker");
      count_code(r.envelope.code);
      for (const Route& route : it->second.routes) send_reply(route, r);
      in_flight.erase(it);
    }
  }

  HealthInfo health() {
    HealthInfo h;
    h.state = draining ? "draining" : "serving";
    h.version = "sluice 0.1.0";
    h.uptime_s = seconds_between(started_at, Clock::now());
    h.workers = static_cast<std::int32_t>(workers.size());
    h.queue_depth = static_cast<std::int64_t>(queue.size());
    h.queue_capacity = options.queue_capacity;
    h.in_flight = solving.load();
    h.highest_epoch = highest_epoch.load();
    h.gpu = gpu_description;
    return h;
  }

  // ---- Workers ----

  void worker_loop(int index) {
    zmq::socket_t nudge(context, zmq::socket_type::push);
    nudge.set(zmq::sockopt::linger, 0);
    nudge.connect(wake_endpoint);
    while (true) {
      std::optional<QueuedRequest> taken = queue.pop([&](const QueuedRequest&) { ++solving; });
      if (!taken) return;  // closed and nothing left
      QueuedRequest job = std::move(*taken);
      taken.reset();
      metrics.queue_gauge->Set(static_cast<double>(queue.size()));
      Leftovers leftovers;
      Done d = work(job, leftovers);
      --solving;
      {
        std::lock_guard lock(done_mutex);
        done.push_back(std::move(d));
      }
      try {
        nudge.send(zmq::buffer(&index, 1), zmq::send_flags::dontwait);
      } catch (const zmq::error_t&) {
        // The I/O thread polls every 20 ms anyway.
      }
      // Freed after the reply is on its way: a 1M-task snapshot takes a noticeable part of
      // a second to free.
      const bool outsized = job.bytes->size() > options.trim_after_bytes;
      leftovers = Leftovers{};
      job = QueuedRequest{};
      if (outsized) release_freed_memory();
    }
  }

  // What a request leaves behind, freed by the worker after the reply has gone.
  struct Leftovers {
    Snapshot snapshot;
    Allocation allocation;
  };

  // Serves one queued request (serve_allocate.hpp) and records its timings and metrics.
  Done work(const QueuedRequest& job, Leftovers& leftovers) {
    Done d;
    d.request_id = job.envelope.request_id;
    const auto t0 = Clock::now();
    d.queue_s = seconds_between(job.received, t0);
    const Envelope& e = job.envelope;
    // 0. The digest that retries of this request id are compared with (first: see InFlight).
    job.control->digest = request_digest(e, job.bytes->options_view(), job.bytes->snapshot_view());
    job.control->digest_ready.store(true, std::memory_order_release);

    detail::ServeRequest request;
    request.envelope = e;
    request.snapshot = job.bytes->snapshot_view();
    request.options = job.request;
    request.deadline_ms = job.deadline_ms;
    request.queued_s = d.queue_s;
    request.past_deadline = job.control->past(t0);
    request.cancel = &job.control->cancel;
    request.shutdown = &job.control->shutdown;
    detail::ServeConfig config;
    config.limits = options.limits;
    config.trace = options.trace;
    config.raise_fence = [this](std::uint64_t epoch, std::string* message) { return raise_fence(epoch, message); };
    detail::Served served = detail::serve_allocate(request, config);

    d.reply = std::move(served.reply);
    d.backend = served.backend;
    d.decode_s = served.decode_s;
    d.solve_s = served.solve_s;
    d.encode_s = served.encode_s;
    if (served.decoded) {
      metrics.decode_hist->Observe(d.decode_s);
      std::lock_guard lock(stats_mutex);
      stats.decode_seconds_total += d.decode_s;
    }
    if (served.allocated) {
      metrics.solve_hist->Observe(d.solve_s);
      std::lock_guard lock(stats_mutex);
      stats.solve_seconds_total += d.solve_s;
    }
    if (d.reply.envelope.code == ReplyCode::kOk) {
      if (!d.backend.empty()) metrics.backend_family->Add({{"backend", d.backend}}).Increment();
      metrics.request_hist->Observe(seconds_between(job.received, Clock::now()));
    }
    leftovers.snapshot = std::move(served.snapshot);
    leftovers.allocation = std::move(served.allocation);
    return d;
  }

  // ---- Drain ----

  // Past the drain timeout: cancel what runs, answer what waits.
  void abandon_queue() {
    const std::deque<QueuedRequest> left = queue.take_all();
    metrics.queue_gauge->Set(0);
    for (const QueuedRequest& job : left) {
      const auto it = in_flight.find(job.envelope.request_id);
      if (it == in_flight.end()) continue;
      const Reply r = detail::error_reply(job.envelope, ReplyCode::kShuttingDown,
                                  "the service shut down before this request started (drain timeout)");
      count_code(r.envelope.code);
      for (const Route& route : it->second.routes) send_reply(route, r);
      in_flight.erase(it);
    }
    for (auto& [id, entry] : in_flight) {
      entry.control->shutdown.store(true);
      entry.control->cancel.store(true);
    }
  }
};

Service::Service(ServiceOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Service::~Service() {
  if (impl_) impl_->auth.stop();
  if (impl_ && !impl_->workers.empty()) {
    impl_->queue.close();
    for (std::thread& t : impl_->workers) t.join();
  }
}

namespace {

constexpr std::int32_t kMaxWorkers = 1024;
constexpr std::int64_t kMaxDeadlineMs = std::int64_t{7} * 24 * 3600 * 1000;  // a week: far from clock overflow

// Every option checked before anything starts; the flag's name and the rule on failure.
std::string check_options(const ServiceOptions& o) {
  const auto at_least = [](const char* flag, std::int64_t value, std::int64_t low) -> std::string {
    if (value >= low) return {};
    return std::string(flag) + " must be at least " + std::to_string(low) + ", not " + std::to_string(value);
  };
  const auto within = [](const char* flag, std::int64_t value, std::int64_t low, std::int64_t high) -> std::string {
    if (value >= low && value <= high) return {};
    return std::string(flag) + " must be from " + std::to_string(low) + " to " + std::to_string(high) + ", not " +
           std::to_string(value);
  };
  for (const std::string& problem : {
           within("--workers", o.workers, 0, kMaxWorkers),
           at_least("--queue", o.queue_capacity, 1),
           at_least("--max-queued-bytes", o.max_queued_bytes, 1),
           at_least("--max-request-bytes", o.max_request_bytes, 1),
           at_least("--max-frame-bytes", o.max_frame_bytes, static_cast<std::int64_t>(kEnvelopeBytes)),
           within("--max-frames", o.max_frames, 3, 1024),
           at_least("--trim-after-bytes", o.trim_after_bytes, 0),
           at_least("--max-connections", o.max_connections, 0),
           at_least("--max-memory", o.max_memory, 0),
           within("--heartbeat-ms", o.heartbeat_ms, 0, 3'600'000),
           within("--deadline-ms", o.default_deadline_ms, 1, kMaxDeadlineMs),
           within("--max-deadline-ms", o.max_deadline_ms, 1, kMaxDeadlineMs),
           at_least("--cache-entries", o.cache_entries, 0),
           at_least("--cache-bytes", o.cache_bytes, 0),
           at_least("--max-machines", o.limits.max_machines, 0),
           at_least("--max-tasks", o.limits.max_tasks, 0),
           at_least("--max-jobs", o.limits.max_jobs, 0),
       }) {
    if (!problem.empty()) return problem;
  }
  if (o.default_deadline_ms > o.max_deadline_ms) {
    return "--deadline-ms " + std::to_string(o.default_deadline_ms) + " exceeds --max-deadline-ms " +
           std::to_string(o.max_deadline_ms);
  }
  if (!std::isfinite(o.drain_timeout_s) || o.drain_timeout_s < 0 || o.drain_timeout_s > 86'400) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", o.drain_timeout_s);
    return std::string("--drain-timeout must be a number of seconds from 0 to 86400, not ") + shown;
  }
  static const std::array<std::string_view, 7> kLevels{"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(kLevels.begin(), kLevels.end(), o.log_level) == kLevels.end()) {
    return "--log-level must be one of trace, debug, info, warn, error, critical, off; not '" + o.log_level.substr(0, 64) +
           "'";
  }
  if (!o.metrics_address.empty() && !is_local_endpoint("tcp://" + o.metrics_address) && !o.insecure) {
    return "serving metrics on " + o.metrics_address +
           " would show every master's request counts and timings to the network (the metrics port has no "
           "authentication): use a loopback address such as 127.0.0.1:9600, or --insecure to accept that";
  }
  return {};
}

}  // namespace

// File descriptors kept for the service itself beyond its connections: ZeroMQ's internal
// signalling, the metrics server and its clients, the state file, logs.
constexpr std::int64_t kReservedFiles = 64;

bool Service::start(std::string* error) {
  Impl& s = *impl_;
  auto fail = [&](std::string message) {
    if (error != nullptr) *error = std::move(message);
    return false;
  };
  if (std::string problem = check_options(s.options); !problem.empty()) return fail(std::move(problem));
  // Logs: JSON lines on stderr.
  s.log = std::make_shared<spdlog::logger>("sluice", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (s.options.log_json) {
    s.log->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
  } else {
    s.log->set_pattern("%Y-%m-%dT%H:%M:%S.%f %l %v");
  }
  s.log->set_level(spdlog::level::from_str(s.options.log_level));
  s.log->flush_on(spdlog::level::info);
  if (sodium_init() < 0) return fail("libsodium failed to initialise (request digests need it)");

  // Connections: the open-file limit up to its hard limit, and the cap below it.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
    if (files.rlim_cur < files.rlim_max) {
      rlimit raised = files;
      raised.rlim_cur = files.rlim_max == RLIM_INFINITY ? std::max<rlim_t>(files.rlim_cur, 1 << 20) : files.rlim_max;
      if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) files = raised;
    }
  }
  const std::int64_t open_files =
      files.rlim_cur == RLIM_INFINITY ? std::int64_t{1} << 20 : static_cast<std::int64_t>(files.rlim_cur);
  const std::int64_t fitting = std::max<std::int64_t>(1, open_files - kReservedFiles);
  if (s.options.max_connections > fitting) {
    return fail("--max-connections " + std::to_string(s.options.max_connections) + " does not fit the open-file limit " +
                std::to_string(open_files) + " (at most " + std::to_string(fitting) + ": " +
                std::to_string(kReservedFiles) + " are kept for the service's own files and sockets)");
  }
  s.connection_cap = s.options.max_connections > 0 ? s.options.max_connections : fitting;
  s.max_memory = s.options.max_memory > 0 ? s.options.max_memory : detail::default_max_memory();
  s.receive_guard = detail::ReceiveGuard(s.max_memory);

  if (!s.options.state_file.empty()) {
    // The fence survives restarts: read it back, and write it once now so a path that
    // cannot be written is found at start, not at the first new epoch.
    std::uint64_t epoch = 0;
    std::string error;
    if (!read_state_file(s.options.state_file, &epoch, &error)) return fail(error);
    if (!write_state_file(s.options.state_file, epoch, &error)) {
      return fail("cannot write the state file " + s.options.state_file + ": " + error);
    }
    s.highest_epoch.store(epoch);
  }
  const bool curve = !s.options.curve_secret_key.empty();
  s.curve = curve;
  (void)s.auth.replace(s.options.allowed_clients);
  if (curve) {
    if (!is_z85_key(s.options.curve_secret_key)) return fail("the CURVE secret key is not a 40-character Z85 key");
    if (s.options.allowed_clients.empty()) {
      return fail("a CURVE secret key needs --allowed-clients: with no allowed key every client would be refused");
    }
    for (const std::string& k : s.options.allowed_clients) {
      if (!is_z85_key(k)) return fail("allowed client key '" + k.substr(0, 48) + "' is not a 40-character Z85 key");
    }
    if (zmq_has("curve") == 0) return fail("this libzmq was built without CURVE");
  } else if (!is_local_endpoint(s.options.endpoint) && !s.options.insecure) {
    return fail("binding " + s.options.endpoint +
                " without CURVE keys would let anyone on the network allocate: give --curve-secret and "
                "--allowed-clients, or --insecure to accept that");
  }
  {
    const cuda::DeviceQuery devices = cuda::query_devices();
    s.gpu_description = devices.devices.empty() ? "none: " + devices.error : devices.devices.front().name;
  }
  try {
    if (curve) {
      zmq::socket_t handler(s.context, zmq::socket_type::rep);
      handler.set(zmq::sockopt::linger, 0);
      handler.bind("inproc://zeromq.zap.01");
      s.auth.start(std::move(handler), [&s](const std::string& address, const std::string& key) {
        s.log_event(spdlog::level::warn, "denied",
                    "\"address\":\"" + json_escape(address) + "\",\"client_key\":\"" + json_escape(key) +
                        "\",\"reason\":\"public key not in the allow-list\"");
      });
    }
    s.router = std::make_unique<zmq::socket_t>(s.context, zmq::socket_type::router);
    if (curve) {
      s.router->set(zmq::sockopt::curve_server, 1);
      s.router->set(zmq::sockopt::curve_secretkey, s.options.curve_secret_key);
      s.router->set(zmq::sockopt::zap_domain, "sluice");
      constexpr int kZapEnforceDomain = 93;  // ZMQ_ZAP_ENFORCE_DOMAIN (a draft option in 4.3)
      const int one = 1;
      if (zmq_setsockopt(s.router->handle(), kZapEnforceDomain, &one, sizeof one) != 0) {
        return fail("this libzmq cannot enforce ZAP (ZMQ_ZAP_ENFORCE_DOMAIN): refusing to serve CURVE without it");
      }
    }
    const std::string monitor_endpoint = "inproc://sluice-monitor-" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
    if (zmq_socket_monitor(s.router->handle(), monitor_endpoint.c_str(),
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_ACCEPTED |
                               ZMQ_EVENT_DISCONNECTED) != 0) {
      return fail(std::string("cannot monitor the socket: ") + zmq_strerror(zmq_errno()));
    }
    s.monitor = std::make_unique<zmq::socket_t>(s.context, zmq::socket_type::pair);
    s.monitor->set(zmq::sockopt::linger, 0);
    s.monitor->connect(monitor_endpoint);
    s.router->set(zmq::sockopt::router_mandatory, 1);  // a reply that cannot be sent is reported (send_reply)
    s.router->set(zmq::sockopt::maxmsgsize, s.options.max_frame_bytes);
    s.router->set(zmq::sockopt::linger, 2000);
    s.router->set(zmq::sockopt::sndhwm, 10000);
    // Kernel socket buffers of 4 MiB: a 160 MB snapshot crosses loopback in fewer syscalls.
    s.router->set(zmq::sockopt::sndbuf, 4 << 20);
    s.router->set(zmq::sockopt::rcvbuf, 4 << 20);
    if (s.options.heartbeat_ms > 0) {
      s.router->set(zmq::sockopt::heartbeat_ivl, static_cast<int>(s.options.heartbeat_ms));
      s.router->set(zmq::sockopt::heartbeat_timeout, static_cast<int>(3 * s.options.heartbeat_ms));
    }
    s.router->bind(s.options.endpoint);
    s.bound = s.router->get(zmq::sockopt::last_endpoint);
    if (s.bound.rfind("tcp://", 0) == 0) s.bound_port = std::atoi(s.bound.substr(s.bound.rfind(':') + 1).c_str());
    s.wake = std::make_unique<zmq::socket_t>(s.context, zmq::socket_type::pull);
    s.wake_endpoint = "inproc://sluice-wake-" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
    s.wake->bind(s.wake_endpoint);
  } catch (const zmq::error_t& e) {
    return fail("cannot bind " + s.options.endpoint + ": " + e.what());
  }
  if (!s.options.metrics_address.empty()) {
    try {
      // Several threads, and a 2 s limit on reading a request: a client that opens a request
      // and never finishes it (or a few) can no longer hold /metrics for everyone.
      s.exposer = std::make_unique<prometheus::Exposer>(std::vector<std::string>{
          "listening_ports", s.options.metrics_address, "num_threads", "4", "request_timeout_ms", "2000"});
      s.exposer->RegisterCollectable(s.metrics.registry);
      const auto ports = s.exposer->GetListeningPorts();
      const std::string host = s.options.metrics_address.substr(0, s.options.metrics_address.rfind(':'));
      s.metrics_bound = "http://" + host + ":" + (ports.empty() ? std::string("?") : std::to_string(ports.front())) +
                        "/metrics";
    } catch (const std::exception& e) {
      return fail("cannot serve metrics on " + s.options.metrics_address + ": " + e.what());
    }
  }
  int n = s.options.workers > 0 ? s.options.workers : static_cast<int>(std::thread::hardware_concurrency());
  n = std::max(1, n);
  try {
    for (int i = 0; i < n; ++i) s.workers.emplace_back([&s, i] { s.worker_loop(i); });
  } catch (const std::system_error& e) {  // the destructor stops the ones that started
    return fail("cannot start worker thread " + std::to_string(s.workers.size() + 1) + " of " + std::to_string(n) +
                ": " + e.what());
  }
  s.log_event(spdlog::level::info, "listening",
              "\"endpoint\":\"" + json_escape(s.bound) + "\",\"workers\":" + std::to_string(n) +
                  ",\"queue_capacity\":" + std::to_string(s.options.queue_capacity) +
                  ",\"max_connections\":" + std::to_string(s.connection_cap) +
                  ",\"max_memory\":" + std::to_string(s.max_memory) + ",\"metrics\":\"" +
                  json_escape(s.metrics_bound) + "\",\"curve\":" + (curve ? "true" : "false") +
                  ",\"allowed_clients\":" + std::to_string(s.options.allowed_clients.size()) +
                  ",\"epoch_fence\":" + std::to_string(s.highest_epoch.load()) + ",\"state_file\":\"" +
                  json_escape(s.options.state_file) + "\"");
  return true;
}

int Service::run() {
  Impl& s = *impl_;
  zmq::pollitem_t items[] = {{s.router->handle(), 0, ZMQ_POLLIN, 0},
                             {s.wake->handle(), 0, ZMQ_POLLIN, 0},
                             {s.monitor->handle(), 0, ZMQ_POLLIN, 0}};
  while (true) {
    try {
      // A message arriving does not wake the poll until it is whole: the receive guard's
      // interval bounds the wait, so its checks keep their pace.
      zmq::poll(items, 3, s.receive_guard.interval());
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    if (items[1].revents & ZMQ_POLLIN) {
      zmq::message_t m;
      while (s.wake->recv(m, zmq::recv_flags::dontwait)) {
      }
    }
    if (items[2].revents & ZMQ_POLLIN) s.read_monitor();
    s.deliver_done();
    if (items[0].revents & ZMQ_POLLIN) {
      // A bounded batch, so finished replies are not starved by a flood of requests.
      for (int i = 0; i < 256; ++i) {
        if (!(s.router->get(zmq::sockopt::events) & ZMQ_POLLIN)) break;
        s.receive_one();
      }
    }
    const auto now = Clock::now();
    s.check_deadlines(now);
    s.expire_queued(now);
    s.log_dropped_connections(now);
    s.guard_memory(now);
    if (s.stop_requested.load() && !s.draining) {
      s.draining = true;
      s.drain_started = now;
      s.log_event(spdlog::level::info, "draining", "\"in_flight\":" + std::to_string(s.in_flight.size()));
    }
    if (s.draining) {
      if (s.in_flight.empty()) break;
      if (seconds_between(s.drain_started, now) > s.options.drain_timeout_s) s.abandon_queue();
    }
  }
  // Requests that arrived whole since the last poll are refused, not dropped with the socket.
  // The batch is bounded so a flood cannot hold the exit open.
  for (int i = 0; i < 4096 && (s.router->get(zmq::sockopt::events) & ZMQ_POLLIN); ++i) s.receive_one();
  s.queue.close();
  for (std::thread& t : s.workers) t.join();
  s.workers.clear();
  s.log_event(spdlog::level::info, "stopped",
              "\"received\":" + std::to_string(s.stats.received) + ",\"replied\":" + std::to_string(s.stats.replied));
  zmq_socket_monitor(s.router->handle(), nullptr, 0);
  s.monitor->close();
  s.router->close();  // lingers up to 2 s so the last replies leave
  s.wake->close();
  s.auth.stop();
  return 0;
}

void Service::stop() { impl_->stop_requested.store(true); }

bool Service::reload_allowed_clients(const std::vector<std::string>& keys, std::string* error) {
  Impl& s = *impl_;
  auto fail = [&](std::string message) {
    s.log_event(spdlog::level::err, "allow_list_reload_failed", "\"error\":\"" + json_escape(message) + "\"");
    if (error != nullptr) *error = std::move(message);
    return false;
  };
  if (!s.curve) return fail("the service does not use CURVE: there is no allow-list to reload");
  if (keys.empty()) return fail("the new allow-list holds no key: every client would be refused; the list is kept");
  for (const std::string& k : keys) {
    if (!is_z85_key(k)) return fail("allowed client key '" + k.substr(0, 48) + "' is not a 40-character Z85 key");
  }
  const std::shared_ptr<const detail::ZapAuthenticator::AllowList> previous = s.auth.replace(keys);
  const detail::ZapAuthenticator::AllowList next(keys.begin(), keys.end());
  std::string added, removed;
  for (const std::string& k : next) {
    if (previous->count(k) == 0) added += (added.empty() ? "\"" : ",\"") + k + "\"";
  }
  for (const std::string& k : *previous) {
    if (next.count(k) == 0) removed += (removed.empty() ? "\"" : ",\"") + k + "\"";
  }
  s.log_event(spdlog::level::warn, "allow_list_reloaded",
              "\"allowed_clients\":" + std::to_string(next.size()) + ",\"added\":[" + added + "],\"removed\":[" +
                  removed + "]");
  return true;
}

bool is_local_endpoint(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  if (endpoint.rfind("tcp://", 0) != 0) return false;
  std::string host = endpoint.substr(6);
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    return close != std::string::npos && host.substr(1, close - 1) == "::1";
  }
  host = host.substr(0, host.rfind(':'));
  if (host.find(';') != std::string::npos) host = host.substr(host.find(';') + 1);  // "source;dest" form
  return host == "localhost" || host.rfind("127.", 0) == 0;
}

std::string Service::bound_endpoint() const { return impl_->bound; }
std::string Service::metrics_endpoint() const { return impl_->metrics_bound; }

}  // namespace sluice
