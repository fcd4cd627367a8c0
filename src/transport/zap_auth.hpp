// The service's CURVE authentication: the allow-list of client public keys and the ZAP
// handler (ZeroMQ RFC 27) that libzmq asks, over inproc://zeromq.zap.01, whether each CURVE
// client may connect. It answers 200 for an allowed public key (the key, Z85, becomes the
// connection's User-Id) and 400 otherwise. The handler socket is bound before the ROUTER,
// and ZMQ_ZAP_ENFORCE_DOMAIN on the ROUTER refuses every client should it be missing.
//
// Threads: the handler runs on its own thread; the I/O thread asks allowed() for each
// request on a CURVE connection; a reload replaces the list whole (never edits it), so each
// reader holds one consistent list.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>
#include <zmq.hpp>

namespace sluice::detail {

class ZapAuthenticator {
 public:
  using AllowList = std::unordered_set<std::string>;
  // Called on the handler's thread for each refused handshake: the peer's address and the
  // key it offered (empty when it offered none).
  using OnDenied = std::function<void(const std::string& address, const std::string& key)>;

  ZapAuthenticator() = default;
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;
  ~ZapAuthenticator() { stop(); }

  // Replaces the allow-list; returns the one it replaced.
  std::shared_ptr<const AllowList> replace(const std::vector<std::string>& keys);
  [[nodiscard]] bool allowed(const std::string& key) const;

  // Serves handshakes on `handler` (a REP socket bound to inproc://zeromq.zap.01) until stop().
  void start(zmq::socket_t handler, OnDenied on_denied);
  void stop();

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const AllowList> keys_ = std::make_shared<const AllowList>();
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace sluice::detail
