// The service's Prometheus metrics; see service_metrics.hpp.
#include "service_metrics.hpp"

namespace sluice::detail {

ServiceMetrics::ServiceMetrics() {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  requests_family = &BuildCounter()
                         .Name("sluice_requests_total")
                         .Help("Replies sent, by request type and result code")
                         .Register(*registry);
  backend_family = &BuildCounter()
                        .Name("sluice_solves_total")
                        .Help("Allocations solved, by the backend that ran")
                        .Register(*registry);
  const prometheus::Histogram::BucketBoundaries seconds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                        0.25,  0.5,    1,     2.5,  5,     10,   30, 60};
  decode_hist = &BuildHistogram()
                     .Name("sluice_decode_seconds")
                     .Help("Time to decode and validate a request")
                     .Register(*registry)
                     .Add({}, seconds);
  solve_hist = &BuildHistogram()
                    .Name("sluice_solve_seconds")
                    .Help("Time in allocate(): build, solve, repair, extract")
                    .Register(*registry)
                    .Add({}, seconds);
  request_hist = &BuildHistogram()
                      .Name("sluice_request_seconds")
                      .Help("Time from receiving an allocate request to sending its reply")
                      .Register(*registry)
                      .Add({}, seconds);
  snapshot_bytes_hist = &BuildHistogram()
                             .Name("sluice_snapshot_bytes")
                             .Help("Size of the snapshot frame of allocate requests")
                             .Register(*registry)
                             .Add({}, prometheus::Histogram::BucketBoundaries{1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9});
  queue_gauge = &BuildGauge().Name("sluice_queue_depth").Help("Requests waiting for a worker").Register(*registry).Add({});
  in_flight_gauge =
      &BuildGauge().Name("sluice_in_flight").Help("Requests being solved").Register(*registry).Add({});
  dropped_family = &BuildCounter()
                        .Name("sluice_replies_dropped_total")
                        .Help("Replies that could not be sent, by reason: peer-full (the client does not read), "
                              "peer-gone, send-error")
                        .Register(*registry);
  denied_counter = &BuildCounter()
                        .Name("sluice_connections_denied_total")
                        .Help("Connections refused by authentication")
                        .Register(*registry)
                        .Add({});
  dropped_connections_counter = &BuildCounter()
                                     .Name("sluice_connections_dropped_total")
                                     .Help("Connections dropped as more than max_connections were open")
                                     .Register(*registry)
                                     .Add({});
}

}  // namespace sluice::detail
