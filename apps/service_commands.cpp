// sluice serve | submit: the allocation service and a command-line client of it.
#include "service_commands.hpp"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "sluice/client.hpp"
#include "sluice/service.hpp"
#include "sluice/snapshot_io.hpp"

namespace sluice::cli {
namespace {

struct ServeArgs {
  ServiceOptions options;
  std::string log_format = "json";
  std::string ready_file;
};

struct SubmitArgs {
  std::string snapshot;
  std::string endpoint = "tcp://127.0.0.1:7600";
  std::string format;  // default: the file's
  std::string cost_model = "spread";
  std::string solver = "auto";
  bool verify = false;
  bool no_migration = false;
  bool no_preemption = false;
  std::int64_t deadline_ms = 0;
  std::uint64_t request_id = 0;
  std::uint64_t epoch = 0;
  std::int32_t timeout_ms = 60'000;
  std::int32_t attempts = 3;
  bool health = false;
  bool stats = false;
  std::string output;
};

bool has_json_extension(const std::string& path) {
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
}

// Runs the service until SIGTERM or SIGINT, then drains. The signals are blocked in every
// thread and taken by sigtimedwait in this one, so no handler runs inside ZeroMQ calls.
int run_serve(ServeArgs& args) {
  if (args.log_format != "json" && args.log_format != "text") {
    std::cerr << "sluice: --log-format must be json or text\n";
    return 2;
  }
  args.options.log_json = args.log_format == "json";
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // inherited by the service's threads

  Service service(args.options);
  std::string error;
  if (!service.start(&error)) {
    std::cerr << "sluice: " << error << "\n";
    return 2;
  }
  std::printf("sluice serve: listening on %s%s%s\n", service.bound_endpoint().c_str(),
              service.metrics_endpoint().empty() ? "" : ", metrics on ", service.metrics_endpoint().c_str());
  std::fflush(stdout);
  if (!args.ready_file.empty()) {
    const std::string partial = args.ready_file + ".partial";
    std::ofstream(partial) << service.bound_endpoint() << "\n" << service.metrics_endpoint() << "\n";
    std::rename(partial.c_str(), args.ready_file.c_str());
  }
  std::atomic<bool> finished{false};
  std::thread signal_thread([&] {
    const timespec tick{0, 100'000'000};
    while (!finished.load()) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) {
        std::fprintf(stderr, "sluice serve: %s received, draining\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        service.stop();
      }
    }
  });
  const int code = service.run();
  finished = true;
  signal_thread.join();
  return code;
}

void print_call(const CallInfo& info) {
  std::fprintf(stderr,
               "  request %llu: %d attempt(s), request %llu bytes, reply %llu bytes; encode %.3f s, round trip %.3f s, "
               "decode %.3f s\n",
               static_cast<unsigned long long>(info.request_id), info.attempts,
               static_cast<unsigned long long>(info.request_bytes), static_cast<unsigned long long>(info.reply_bytes),
               info.encode_s, info.round_trip_s, info.decode_s);
}

int run_submit(const SubmitArgs& args) {
  ClientOptions co;
  co.endpoint = args.endpoint;
  co.timeout_ms = args.timeout_ms;
  co.attempts = args.attempts;
  if (!args.format.empty()) {
    const auto f = parse_body_format(args.format);
    if (!f) {
      std::cerr << "sluice: --format must be json or binary\n";
      return 2;
    }
    co.format = *f;
  } else {
    co.format = has_json_extension(args.snapshot) ? BodyFormat::kJson : BodyFormat::kBinary;
  }
  Client client(co);
  if (args.health) {
    const HealthCall h = client.health();
    if (!h.info.ok) {
      std::cerr << "sluice: " << h.info.error << "\n";
      return 1;
    }
    std::printf("%s: %s (%s), up %.1f s, %d workers, queue %lld/%lld, %lld in flight, highest epoch %llu, gpu: %s\n",
                args.endpoint.c_str(), h.health.state.c_str(), h.health.version.c_str(), h.health.uptime_s,
                h.health.workers, static_cast<long long>(h.health.queue_depth),
                static_cast<long long>(h.health.queue_capacity), static_cast<long long>(h.health.in_flight),
                static_cast<unsigned long long>(h.health.highest_epoch), h.health.gpu.c_str());
    return 0;
  }
  if (args.stats) {
    const StatsCall s = client.stats();
    if (!s.info.ok) {
      std::cerr << "sluice: " << s.info.error << "\n";
      return 1;
    }
    const ServiceStats& t = s.stats;
    std::printf("received %llu, replied %llu, allocations %llu, cache hits %llu, joined %llu, busy %llu, malformed %llu, "
                "invalid %llu, stale epoch %llu, deadline %llu, too large %llu, failed %llu, shutting down %llu; "
                "%llu bytes in, %llu out; solve %.3f s, decode %.3f s in total\n",
                static_cast<unsigned long long>(t.received), static_cast<unsigned long long>(t.replied),
                static_cast<unsigned long long>(t.allocations), static_cast<unsigned long long>(t.cache_hits),
                static_cast<unsigned long long>(t.joined_in_flight), static_cast<unsigned long long>(t.busy),
                static_cast<unsigned long long>(t.malformed), static_cast<unsigned long long>(t.invalid),
                static_cast<unsigned long long>(t.stale_epoch), static_cast<unsigned long long>(t.deadline_exceeded),
                static_cast<unsigned long long>(t.too_large), static_cast<unsigned long long>(t.failed),
                static_cast<unsigned long long>(t.shutting_down), static_cast<unsigned long long>(t.bytes_in),
                static_cast<unsigned long long>(t.bytes_out), t.solve_seconds_total, t.decode_seconds_total);
    return 0;
  }
  if (args.snapshot.empty()) {
    std::cerr << "sluice: submit needs a SNAPSHOT file (or --health / --stats)\n";
    return 2;
  }
  AllocateRequestOptions ro;
  const auto model = parse_cost_model(args.cost_model);
  if (!model) {
    std::cerr << "sluice: unknown cost model '" << args.cost_model << "' (spread, pack, quincy, priority, fgd)\n";
    return 2;
  }
  const auto backend = parse_backend(args.solver);
  if (!backend) {
    std::cerr << "sluice: unknown solver '" << args.solver << "'\n";
    return 2;
  }
  ro.cost_model = *model;
  ro.backend = *backend;
  ro.verify = args.verify;
  ro.allow_migration = !args.no_migration;
  ro.allow_preemption = !args.no_preemption;
  ro.deadline_ms = args.deadline_ms;

  // The file is decoded here too: a bad snapshot is reported before anything is sent,
  // and the envelope needs its version.
  const SnapshotDecodeResult input = read_snapshot_file(args.snapshot);
  if (!input.ok) {
    std::cerr << "sluice: " << input.error << "\n";
    return 2;
  }
  const AllocateCall call = client.allocate(input.snapshot, ro, args.request_id, args.epoch);
  if (!call.info.ok) {
    std::cerr << "sluice: " << call.info.error << "\n";
    print_call(call.info);
    return call.info.code == ReplyCode::kInvalidSnapshot || call.info.code == ReplyCode::kMalformed ? 2 : 1;
  }
  const Allocation& a = call.allocation;
  const std::string json = allocation_to_json(a);
  if (args.output.empty()) {
    std::cout << json;
  } else {
    std::ofstream out(args.output, std::ios::binary);
    out << json;
    if (!out) {
      std::cerr << "sluice: cannot write '" << args.output << "'\n";
      return 2;
    }
  }
  std::fprintf(stderr,
               "%s via %s: %zu placed, %zu kept, %zu migrated, %zu preempted, %zu unscheduled; objective %lld (%s, %s)\n"
               "  service time: decode %.3f s, build %.3f s, solve %.3f s, repair %.3f s, extract %.3f s\n",
               args.snapshot.c_str(), args.endpoint.c_str(), a.placements.size(), a.kept.size(), a.migrations.size(),
               a.preemptions.size(), a.unscheduled.size(), static_cast<long long>(a.objective),
               std::string(to_string(a.cost_model)).c_str(), a.backend.c_str(), a.timings.decode_s, a.timings.build_s,
               a.timings.solve_s, a.timings.repair_s, a.timings.extract_s);
  print_call(call.info);
  if (a.certificate) {
    std::fprintf(stderr, "  certificate: %s\n", a.certificate->valid() ? "optimal (verified)" : a.certificate->message.c_str());
  }
  return 0;
}

}  // namespace

struct ServiceCommands::Impl {
  ServeArgs serve_args;
  SubmitArgs submit_args;
  CLI::App* serve = nullptr;
  CLI::App* submit = nullptr;
};

ServiceCommands::ServiceCommands(CLI::App& app) : impl_(std::make_unique<Impl>()) {
  ServeArgs& s = impl_->serve_args;
  auto* serve = app.add_subcommand(
      "serve",
      "Run the allocation service: a ZeroMQ ROUTER socket answering allocate, health and stats requests "
      "(docs/protocol.md). SIGTERM or SIGINT drains: every accepted request is finished or answered.");
  serve->add_option("--endpoint", s.options.endpoint, "ZeroMQ endpoint to bind; tcp://127.0.0.1:* picks a free port")
      ->capture_default_str();
  serve->add_option("--workers", s.options.workers, "solver threads (0 = one per core)")->capture_default_str();
  serve->add_option("--queue", s.options.queue_capacity,
                    "requests that may wait for a worker; past that the service answers BUSY")
      ->capture_default_str();
  serve->add_option("--max-queued-bytes", s.options.max_queued_bytes, "bytes of waiting requests before BUSY")
      ->capture_default_str();
  serve->add_option("--max-request-bytes", s.options.max_request_bytes,
                    "largest request body; larger ones are answered with a too-large error")
      ->capture_default_str();
  serve->add_option("--max-frame-bytes", s.options.max_frame_bytes,
                    "largest frame accepted (ZMQ_MAXMSGSIZE); a peer sending more is disconnected")
      ->capture_default_str();
  serve->add_option("--max-frames", s.options.max_frames, "most frames in one message, routing included")
      ->capture_default_str();
  serve->add_option("--deadline-ms", s.options.default_deadline_ms, "deadline of requests that name none")
      ->capture_default_str();
  serve->add_option("--max-deadline-ms", s.options.max_deadline_ms, "upper bound on any request's deadline")
      ->capture_default_str();
  serve->add_option("--cache-entries", s.options.cache_entries, "replies kept for retried request ids")
      ->capture_default_str();
  serve->add_option("--cache-bytes", s.options.cache_bytes, "bytes of replies kept for retries")
      ->capture_default_str();
  serve->add_option("--drain-timeout", s.options.drain_timeout_s,
                    "seconds to finish accepted requests after SIGTERM; then they are cancelled and answered")
      ->capture_default_str();
  serve->add_option("--metrics", s.options.metrics_address,
                    "serve Prometheus metrics over HTTP on this address, e.g. 127.0.0.1:9600 (off by default)");
  serve->add_option("--log-format", s.log_format, "json (one object per line) or text")->capture_default_str();
  serve->add_option("--log-level", s.options.log_level, "trace, debug, info, warn, error, off")->capture_default_str();
  serve->add_option("--max-machines", s.options.limits.max_machines, "snapshots with more machines are refused")
      ->capture_default_str();
  serve->add_option("--max-tasks", s.options.limits.max_tasks, "snapshots with more tasks are refused")
      ->capture_default_str();
  serve->add_option("--ready-file", s.ready_file, "write the bound endpoint (and metrics URL) here once serving");
  impl_->serve = serve;

  SubmitArgs& a = impl_->submit_args;
  auto* submit = app.add_subcommand("submit", "Send a snapshot to a running service and write its placements (JSON).");
  submit->add_option("snapshot", a.snapshot, "snapshot file (.json or binary)");
  submit->add_option("--endpoint", a.endpoint, "the service's endpoint")->capture_default_str();
  submit->add_option("--format", a.format, "body format: json or binary (default: the file's)");
  submit->add_option("--cost-model", a.cost_model, "spread, pack, quincy, priority, fgd")->capture_default_str();
  submit->add_option("--solver", a.solver, "auto, cpu, gpu, lemon")->capture_default_str();
  submit->add_flag("--verify", a.verify, "the service proves the flow optimal (certificate)");
  submit->add_flag("--no-migration", a.no_migration, "running tasks never move");
  submit->add_flag("--no-preemption", a.no_preemption, "running tasks are never stopped");
  submit->add_option("--deadline-ms", a.deadline_ms, "the request's deadline (0: the service's default)");
  submit->add_option("--request-id", a.request_id, "request id (0: random); a retry reuses it");
  submit->add_option("--epoch", a.epoch, "the master's epoch (fencing)");
  submit->add_option("--timeout-ms", a.timeout_ms, "wait this long for a reply before resending")->capture_default_str();
  submit->add_option("--attempts", a.attempts, "sends of the request, the first included")->capture_default_str();
  submit->add_flag("--health", a.health, "ask for the service's health instead");
  submit->add_flag("--stats", a.stats, "ask for the service's counters instead");
  submit->add_option("-o,--output", a.output, "write the placements JSON here instead of stdout");
  impl_->submit = submit;
}

ServiceCommands::~ServiceCommands() = default;

std::optional<int> ServiceCommands::run() {
  if (*impl_->serve) return run_serve(impl_->serve_args);
  if (*impl_->submit) return run_submit(impl_->submit_args);
  return std::nullopt;
}

}  // namespace sluice::cli
