// The service's CURVE authentication; see zap_auth.hpp.
#include "zap_auth.hpp"

#include <chrono>
#include <cstdint>
#include <utility>

namespace sluice::detail {

std::shared_ptr<const ZapAuthenticator::AllowList> ZapAuthenticator::replace(const std::vector<std::string>& keys) {
  auto next = std::make_shared<const AllowList>(keys.begin(), keys.end());
  std::lock_guard lock(mutex_);
  return std::exchange(keys_, std::move(next));
}

bool ZapAuthenticator::allowed(const std::string& key) const {
  std::shared_ptr<const AllowList> keys;
  {
    std::lock_guard lock(mutex_);
    keys = keys_;
  }
  return keys->count(key) != 0;
}

void ZapAuthenticator::start(zmq::socket_t handler, OnDenied on_denied) {
  thread_ = std::thread([this, handler = std::move(handler), on_denied = std::move(on_denied)]() mutable {
    while (!stop_.load()) {
      zmq::pollitem_t item{handler.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> request;
      while (true) {
        zmq::message_t part;
        if (!handler.recv(part, zmq::recv_flags::none)) break;
        const bool more = part.more();
        if (request.size() < 16) request.push_back(std::move(part));
        if (!more) break;
      }
      // version, request id, domain, address, identity, mechanism, credentials...
      const std::string request_id = request.size() > 1 ? request[1].to_string() : std::string();
      std::string status = "400", text = "denied", key_text, address;
      if (request.size() >= 7 && request[0].to_string_view() == "1.0" && request[5].to_string_view() == "CURVE" &&
          request[6].size() == 32) {
        char z85[41] = {};
        zmq_z85_encode(z85, static_cast<const std::uint8_t*>(request[6].data()), 32);
        key_text = z85;
        address = request[3].to_string();
        if (allowed(key_text)) {
          status = "200";
          text = "OK";
        }
      }
      if (status != "200" && on_denied) on_denied(address, key_text);
      try {
        handler.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
        handler.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
        handler.send(zmq::buffer(status), zmq::send_flags::sndmore);
        handler.send(zmq::buffer(text), zmq::send_flags::sndmore);
        handler.send(zmq::buffer(key_text), zmq::send_flags::sndmore);  // user id
        handler.send(zmq::message_t(), zmq::send_flags::none);           // metadata
      } catch (const zmq::error_t&) {
      }
    }
  });
}

void ZapAuthenticator::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace sluice::detail
