// The service's Prometheus metrics: each family, histogram and gauge, registered once in
// one registry that the metrics endpoint exposes (docs/reliability.md lists them).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>

namespace sluice::detail {

struct ServiceMetrics {
  ServiceMetrics();  // registers everything below in `registry`

  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>* requests_family = nullptr;  // replies, by type and code
  prometheus::Family<prometheus::Counter>* backend_family = nullptr;   // solves, by backend
  prometheus::Histogram* decode_hist = nullptr;
  prometheus::Histogram* solve_hist = nullptr;
  prometheus::Histogram* request_hist = nullptr;
  prometheus::Histogram* snapshot_bytes_hist = nullptr;
  prometheus::Gauge* queue_gauge = nullptr;
  prometheus::Gauge* in_flight_gauge = nullptr;
  prometheus::Counter* denied_counter = nullptr;
  prometheus::Counter* dropped_connections_counter = nullptr;
  prometheus::Family<prometheus::Counter>* dropped_family = nullptr;  // replies dropped, by reason
};

}  // namespace sluice::detail
