// The C++ client (sluice/client.hpp): one DEALER socket, lazy-pirate retries that resend
// the same request id on a fresh socket.
#include "sluice/client.hpp"

#include <chrono>
#include <random>
#include <stdexcept>
#include <zmq.hpp>

#include "sluice/keys.hpp"
#include "sluice/snapshot_io.hpp"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A reply's body, read in place from the received frame when there is one (an 80 MB
// allocation is not copied), else the frames joined.
struct RawReply {
  Envelope envelope;
  zmq::message_t frame;
  std::string joined;
  std::string_view body;
};

// A message that points into a shared string instead of copying it (a 1M-task snapshot is
// 160 MB); the string lives until ZeroMQ has sent it, and a retry sends it again.
zmq::message_t shared_message(const std::shared_ptr<const std::string>& bytes) {
  auto* hold = new std::shared_ptr<const std::string>(bytes);
  return zmq::message_t(
      const_cast<char*>(bytes->data()), bytes->size(),
      [](void*, void* hint) { delete static_cast<std::shared_ptr<const std::string>*>(hint); }, hold);
}

}  // namespace

std::uint64_t random_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   static_cast<std::uint64_t>(Clock::now().time_since_epoch().count())};
  std::uint64_t id = 0;
  while (id == 0) id = rng();
  return id;
}

struct Client::Impl {
  explicit Impl(ClientOptions o) : options(std::move(o)) {}

  ClientOptions options;
  zmq::context_t context{1};
  std::unique_ptr<zmq::socket_t> socket;

  // Throws zmq::error_t (reported by call()) or std::invalid_argument for bad keys.
  void connect() {
    socket = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
    socket->set(zmq::sockopt::linger, 0);
    socket->set(zmq::sockopt::maxmsgsize, options.max_reply_bytes);
    socket->set(zmq::sockopt::sndbuf, 4 << 20);  // see service.cpp
    socket->set(zmq::sockopt::rcvbuf, 4 << 20);
    if (!options.server_public_key.empty() || !options.client_secret_key.empty()) {
      const auto own_public = public_key_of(options.client_secret_key);
      if (!is_z85_key(options.server_public_key) || !own_public) {
        socket.reset();
        throw std::invalid_argument(
            "CURVE needs the server's public key and this client's secret key, each 40 Z85 characters");
      }
      socket->set(zmq::sockopt::curve_serverkey, options.server_public_key);
      socket->set(zmq::sockopt::curve_publickey, *own_public);
      socket->set(zmq::sockopt::curve_secretkey, options.client_secret_key);
    }
    socket->connect(options.endpoint);
  }

  // Sends [envelope][body frames...] and waits for the reply to this request id, resending
  // on silence. Replies to other ids (late answers to an earlier call) are skipped.
  bool call(Envelope request, const std::vector<std::shared_ptr<const std::string>>& body, CallInfo& info,
            RawReply& out) {
    info.request_id = request.request_id;
    request.body_bytes = 0;
    for (const auto& b : body) request.body_bytes += b->size();
    const std::string envelope = encode_envelope(request);
    info.request_bytes = envelope.size() + request.body_bytes;
    const int attempts = std::max(1, options.attempts);
    try {
      for (int attempt = 1; attempt <= attempts; ++attempt) {
        info.attempts = attempt;
        if (!socket) connect();
        const auto sent = Clock::now();
        socket->send(zmq::buffer(envelope), body.empty() ? zmq::send_flags::none : zmq::send_flags::sndmore);
        for (std::size_t i = 0; i < body.size(); ++i) {
          socket->send(shared_message(body[i]), i + 1 < body.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
        }
        const auto deadline = sent + std::chrono::milliseconds(options.timeout_ms);
        while (true) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
          if (left.count() <= 0) break;
          zmq::pollitem_t item{socket->handle(), 0, ZMQ_POLLIN, 0};
          zmq::poll(&item, 1, left);
          if (!(item.revents & ZMQ_POLLIN)) continue;
          std::vector<zmq::message_t> frames;
          while (true) {
            zmq::message_t part;
            if (!socket->recv(part, zmq::recv_flags::none)) break;
            const bool more = part.more();
            if (frames.size() < 8) frames.push_back(std::move(part));
            if (!more) break;
          }
          if (frames.empty()) continue;
          const EnvelopeDecodeResult e = decode_envelope(frames[0].to_string_view());
          if (!e.ok) {
            info.error = "the service sent a reply this client cannot read: " + e.error;
            info.code = ReplyCode::kMalformed;
            return false;
          }
          if (e.envelope.request_id != request.request_id) continue;  // an earlier call's late reply
          info.round_trip_s = since(sent);
          out.envelope = e.envelope;
          info.reply = e.envelope;
          if (frames.size() == 2) {
            out.frame = std::move(frames[1]);
            out.body = out.frame.to_string_view();
          } else {
            out.joined.clear();
            for (std::size_t i = 1; i < frames.size(); ++i) out.joined += frames[i].to_string_view();
            out.body = out.joined;
          }
          info.reply_bytes = frames[0].size() + out.body.size();
          info.code = e.envelope.code;
          if (e.envelope.code != ReplyCode::kOk) {
            info.error = std::string(to_string(e.envelope.code)) + ": " + std::string(out.body);
            return false;
          }
          return true;
        }
        // Silence: drop the socket (and whatever it still queues) and try again.
        socket.reset();
      }
    } catch (const zmq::error_t& e) {
      socket.reset();
      info.error = std::string("transport error: ") + e.what();
      info.code = ReplyCode::kInternal;
      return false;
    } catch (const std::invalid_argument& e) {
      info.error = e.what();
      info.code = ReplyCode::kInternal;
      return false;
    }
    info.timed_out = true;
    info.code = ReplyCode::kInternal;
    info.error = "no reply from " + options.endpoint + " after " + std::to_string(attempts) + " attempt(s) of " +
                 std::to_string(options.timeout_ms) + " ms";
    return false;
  }

  template <class Record, class Decode>
  void ask(MessageType type, CallInfo& info, Record& record, Decode decode, const char* what);

  // Sends an allocate request; `decode(body, result)` reads the reply body into `result`
  // and returns the error, if any.
  template <class Call, class Decode>
  Call allocate(std::string snapshot_bytes, std::int64_t snapshot_version,
                const AllocateRequestOptions& request_options, std::uint64_t request_id, std::uint64_t epoch,
                double encode_s, std::uint32_t flags, Decode&& decode) {
    Call result;
    const auto t0 = Clock::now();
    Envelope e;
    e.type = MessageType::kAllocate;
    e.format = options.format;
    e.flags = flags;
    e.request_id = request_id != 0 ? request_id : random_request_id();
    e.epoch = epoch;
    e.snapshot_version = snapshot_version;
    const std::vector<std::shared_ptr<const std::string>> body{
        std::make_shared<const std::string>(encode_request_options(request_options, options.format)),
        std::make_shared<const std::string>(std::move(snapshot_bytes))};
    result.info.encode_s = encode_s + since(t0);
    RawReply reply;
    if (!call(e, body, result.info, reply)) return result;
    if (reply.envelope.type != MessageType::kAllocateReply) {
      result.info.ok = false;
      result.info.error = "expected an allocate reply, got " + std::string(to_string(reply.envelope.type));
      return result;
    }
    if ((reply.envelope.flags & kFlagIndexedReply) != (flags & kFlagIndexedReply)) {
      result.info.code = ReplyCode::kMalformed;
      result.info.error = "the service answered with the other allocation layout (indexed flag differs)";
      return result;
    }
    const auto t1 = Clock::now();
    std::string error = decode(reply, result);
    result.info.decode_s = since(t1);
    if (!error.empty()) {
      result.info.code = ReplyCode::kMalformed;
      result.info.error = "cannot read the service's reply: " + error;
      return result;
    }
    result.info.ok = true;
    return result;
  }

  static std::string decode_ids(const RawReply& reply, AllocateCall& call) {
    AllocationDecodeResult decoded = decode_allocation(reply.body, reply.envelope.format, {}, reply.envelope.version);
    if (decoded.ok) call.allocation = std::move(decoded.allocation);
    return decoded.error;
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const ClientOptions& Client::options() const { return impl_->options; }

AllocateCall Client::allocate(const Snapshot& snapshot, const AllocateRequestOptions& options,
                              std::uint64_t request_id, std::uint64_t epoch) {
  const auto t0 = Clock::now();
  std::string bytes = encode_snapshot(
      snapshot, impl_->options.format == BodyFormat::kJson ? SnapshotFormat::kJson : SnapshotFormat::kBinary);
  const double encode_s = since(t0);
  if (bytes.empty()) {
    AllocateCall call;
    call.info.code = ReplyCode::kInternal;
    call.info.error = "encoding the snapshot failed";
    return call;
  }
  return impl_->allocate<AllocateCall>(std::move(bytes), snapshot.version, options, request_id, epoch, encode_s, 0,
                                       Impl::decode_ids);
}

IndexedAllocateCall Client::allocate_indexed(const Snapshot& snapshot, const AllocateRequestOptions& options,
                                             std::uint64_t request_id, std::uint64_t epoch) {
  if (impl_->options.format != BodyFormat::kBinary) {
    IndexedAllocateCall call;
    call.info.code = ReplyCode::kMalformed;
    call.info.error = "indexed replies need the binary body format";
    return call;
  }
  const auto t0 = Clock::now();
  std::string bytes = encode_snapshot(snapshot, SnapshotFormat::kBinary);
  const double encode_s = since(t0);
  if (bytes.empty()) {
    IndexedAllocateCall call;
    call.info.code = ReplyCode::kInternal;
    call.info.error = "encoding the snapshot failed";
    return call;
  }
  return impl_->allocate<IndexedAllocateCall>(
      std::move(bytes), snapshot.version, options, request_id, epoch, encode_s, kFlagIndexedReply,
      [](const RawReply& reply, IndexedAllocateCall& call) {
        IndexedAllocationDecodeResult decoded = decode_indexed_allocation(reply.body, {}, reply.envelope.version);
        if (decoded.ok) call.allocation = std::move(decoded.allocation);
        return decoded.error;
      });
}

AllocateCall Client::allocate_encoded(std::string snapshot_bytes, std::int64_t snapshot_version,
                                      const AllocateRequestOptions& options, std::uint64_t request_id,
                                      std::uint64_t epoch) {
  return impl_->allocate<AllocateCall>(std::move(snapshot_bytes), snapshot_version, options, request_id, epoch, 0, 0,
                                       Impl::decode_ids);
}

// A request without a body (health, stats) and its decoded record.
template <class Record, class Decode>
void Client::Impl::ask(MessageType type, CallInfo& info, Record& record, Decode decode, const char* what) {
  Envelope e;
  e.type = type;
  e.format = options.format;
  e.request_id = random_request_id();
  RawReply reply;
  if (!call(e, {}, info, reply)) return;
  std::string error;
  if (auto decoded = decode(reply.body, reply.envelope.format, &error)) {
    record = std::move(*decoded);
    info.ok = true;
  } else {
    info.code = ReplyCode::kMalformed;
    info.error = std::string("cannot read the ") + what + " reply: " + error;
  }
}

HealthCall Client::health() {
  HealthCall call;
  impl_->ask(MessageType::kHealth, call.info, call.health, decode_health, "health");
  return call;
}

StatsCall Client::stats() {
  StatsCall call;
  impl_->ask(
      MessageType::kStats, call.info, call.stats,
      [](std::string_view body, BodyFormat format, std::string* error) {
        return decode_stats(body, format, error, kProtocolVersion);
      },
      "stats");
  return call;
}

}  // namespace sluice
