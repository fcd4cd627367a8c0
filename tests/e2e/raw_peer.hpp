// A raw DEALER socket for end-to-end tests that need to send what the client library never
// would (hostile frames, pipelined requests) and read replies frame by frame.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "sluice/client.hpp"
#include "sluice/protocol.hpp"

namespace sluice::test {

class RawPeer {
 public:
  explicit RawPeer(const std::string& endpoint, zmq::socket_type type = zmq::socket_type::dealer)
      : socket_(context_, type) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }

  void send(const std::vector<std::string>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      socket_.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  }

  // One whole message, or nullopt after the timeout.
  std::optional<std::vector<std::string>> receive(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, timeout);
    if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
    std::vector<std::string> frames;
    while (true) {
      zmq::message_t part;
      if (!socket_.recv(part, zmq::recv_flags::none)) break;
      frames.push_back(part.to_string());
      if (!part.more()) break;
    }
    return frames;
  }

  zmq::socket_t& socket() { return socket_; }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

// The frames of a request: [envelope][body...], with body_bytes filled in.
inline std::vector<std::string> request_frames(Envelope e, std::vector<std::string> body) {
  e.body_bytes = 0;
  for (const std::string& b : body) e.body_bytes += b.size();
  std::vector<std::string> frames{encode_envelope(e)};
  for (std::string& b : body) frames.push_back(std::move(b));
  return frames;
}

// A reply's envelope and body (the frames after the envelope, joined).
struct ParsedReply {
  Envelope envelope;
  std::string body;
};

inline std::optional<ParsedReply> parse_reply(const std::vector<std::string>& frames, std::size_t first = 0) {
  if (frames.size() <= first) return std::nullopt;
  const EnvelopeDecodeResult e = decode_envelope(frames[first]);
  if (!e.ok) return std::nullopt;
  ParsedReply r{e.envelope, {}};
  for (std::size_t i = first + 1; i < frames.size(); ++i) r.body += frames[i];
  return r;
}

// Client options for an endpoint, the rest default.
inline ClientOptions client_at(const std::string& endpoint) {
  ClientOptions o;
  o.endpoint = endpoint;
  return o;
}

}  // namespace sluice::test
