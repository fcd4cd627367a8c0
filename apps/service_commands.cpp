// sluice serve | submit: the allocation service and a command-line client of it.
//
// Over 700 lines because `serve` exposes every ServiceOptions limit as a flag with its help
// text, and `submit` every request option; the flag tables are most of the file.
#include "service_commands.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <limits>
#include <algorithm>
#include <charconv>

#include <filesystem>
#include <sstream>

#include "output.hpp"
#include "sluice/client.hpp"
#include "sluice/keys.hpp"
#include "sluice/service.hpp"
#include "sluice/snapshot_io.hpp"
#include "sluice/trace_replay.hpp"
#include "allocate_flags.hpp"
#include "client_keys.hpp"
#include "fill_command.hpp"

namespace sluice::cli {
namespace {

struct ServeArgs {
  ServiceOptions options;
  std::string log_format = "json";
  std::string ready_file;
  std::string curve_secret;     // key file or inline Z85
  std::string allowed_clients;  // allow-list file
};

struct SubmitArgs {
  std::string snapshot;
  std::string endpoint = "tcp://127.0.0.1:7600";
  std::string format;  // default: the file's
  AllocateFlags flags;
  std::int64_t deadline_ms = 0;
  std::uint64_t request_id = 0;
  std::uint64_t epoch = 0;
  std::int32_t timeout_ms = 60'000;
  std::int32_t attempts = 3;
  bool health = false;
  bool stats = false;
  std::string output;
  KeyArgs keys;
};

struct ReplayArgs {
  std::string nodes = "datasets/openb/openb_node_list_all_node.csv";
  std::string pods = "datasets/openb/openb_pod_list_default.csv";
  std::string endpoint = "tcp://127.0.0.1:7600";
  std::string format = "binary";
  AllocateFlags flags;  // the replay's cost model; --fill runs each of --models with these options
  bool local = false;
  std::int64_t round_interval_s = 3600;
  std::int64_t max_rounds = 0;
  std::int64_t start_time = std::numeric_limits<std::int64_t>::min();
  std::int64_t end_time = std::numeric_limits<std::int64_t>::max();
  std::uint64_t epoch = 1;
  std::int32_t timeout_ms = 120'000;
  bool fill = false;
  std::string protocol;  // --fill: "" (creation order, one run) or "atc23"
  std::string models = "spread,pack,fgd";
  std::string batch = "50";
  FillAtc23Args atc23;
  double stop_at = 100;
  std::string out = "replay";
  bool no_plot = false;
  KeyArgs keys;
};

std::optional<std::int64_t> parse_positive(const std::string& s) {
  std::int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

bool has_json_extension(const std::string& path) {
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
}

// Runs the service until SIGTERM or SIGINT, then drains; SIGHUP reloads the CURVE
// allow-list. The signals are blocked in every thread and taken by sigtimedwait in this
// one, so no handler runs inside ZeroMQ calls.
int run_serve(ServeArgs& args) {
  if (args.log_format != "json" && args.log_format != "text") {
    std::cerr << "sluice: --log-format must be json or text\n";
    return 2;
  }
  args.options.log_json = args.log_format == "json";
  args.options.trace = trace_requested();
  if (!args.curve_secret.empty()) {
    const KeyFileResult secret = key_from_argument(args.curve_secret, true);
    if (!secret.ok) {
      std::cerr << "sluice: " << secret.error << "\n";
      return 2;
    }
    if (!secret.warning.empty()) std::cerr << "sluice: warning: " << secret.warning << "\n";
    args.options.curve_secret_key = secret.keys.front();
  }
  if (!args.allowed_clients.empty()) {
    const KeyFileResult allowed = read_key_file(args.allowed_clients, true);
    if (!allowed.ok) {
      std::cerr << "sluice: " << allowed.error << "\n";
      return 2;
    }
    args.options.allowed_clients = allowed.keys;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // inherited by the service's threads

  Service service(args.options);
  std::string error;
  if (!service.start(&error)) {
    std::cerr << "sluice: " << error << "\n";
    return 2;
  }
  std::printf("sluice serve: listening on %s%s%s%s\n", service.bound_endpoint().c_str(),
              args.options.curve_secret_key.empty() ? "" : " (CURVE, server key ",
              args.options.curve_secret_key.empty()
                  ? ""
                  : (public_key_of(args.options.curve_secret_key).value_or("?") + ", " +
                     std::to_string(args.options.allowed_clients.size()) + " allowed clients)")
                        .c_str(),
              service.metrics_endpoint().empty() ? "" : (", metrics on " + service.metrics_endpoint()).c_str());
  std::fflush(stdout);
  if (!args.ready_file.empty()) {
    std::string error;
    if (!cli::write_file_atomically(
            args.ready_file,
            [&](std::ostream& out) { out << service.bound_endpoint() << "\n" << service.metrics_endpoint() << "\n"; },
            &error)) {
      std::cerr << "sluice: --ready-file: " << error << "\n";
      service.stop();  // nobody would learn the endpoint: drain (nothing accepted yet) and exit
      (void)service.run();
      return 2;
    }
  }
  std::atomic<bool> finished{false};
  std::thread signal_thread([&] {
    const timespec tick{0, 100'000'000};
    while (!finished.load()) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) {
        std::fprintf(stderr, "sluice serve: %s received, draining\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        service.stop();
      } else if (sig == SIGHUP) {
        // Reload the allow-list from its file; on any error the old list stays (both logged).
        std::string error;
        if (args.allowed_clients.empty()) {
          (void)service.reload_allowed_clients({}, &error);  // logs why there is nothing to reload
        } else if (const KeyFileResult allowed = read_key_file(args.allowed_clients, true); !allowed.ok) {
          std::fprintf(stderr, "sluice serve: SIGHUP: %s; the allow-list is unchanged\n", allowed.error.c_str());
        } else if (!service.reload_allowed_clients(allowed.keys, &error)) {
          std::fprintf(stderr, "sluice serve: SIGHUP: %s\n", error.c_str());
        }
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
  if (!apply_keys(args.keys, co)) return 2;
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
  std::string error;
  const auto chosen = args.flags.options(error);
  if (!chosen) {
    std::cerr << "sluice: " << error << "\n";
    return 2;
  }
  AllocateRequestOptions ro = to_request_options(*chosen);
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
  if (const int code = cli::write_output(args.output, allocation_to_json(a)); code != 0) return code;
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


// ---- sluice replay ------------------------------------------------------------------------

// A one-line progress bar on stderr: redrawn in place on a terminal, every 10% otherwise.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)), tty_(::isatty(STDERR_FILENO) != 0) {}
  void update(std::size_t done, std::size_t total, const std::string& note = {}) {
    if (total == 0) return;
    const int percent = static_cast<int>(100 * done / total);
    if (!tty_ && percent / 10 == last_decile_ && done != total) return;
    last_decile_ = percent / 10;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / total);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "%s%s [%s%s] %3d%% %zu/%zu %s %.1f s%s", tty_ ? "\r" : "", label_.c_str(),
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(kWidth - filled), '.').c_str(), percent, done, total, note.c_str(),
                 elapsed, tty_ ? "\033[K" : "\n");
    if (done == total && tty_) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  std::string label_;
  bool tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Sends each round's snapshot to the service; BUSY is retried after a pause.
RoundAllocator service_allocator(Client& client, AllocateRequestOptions options, std::uint64_t epoch) {
  return [&client, options, epoch](const Snapshot& snapshot) {
    RoundOutcome out;
    for (int attempt = 0; attempt < 20; ++attempt) {
      const AllocateCall call = client.allocate(snapshot, options, 0, epoch);
      out.latency_s = call.info.encode_s + call.info.round_trip_s + call.info.decode_s;
      if (call.info.code == ReplyCode::kBusy) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50 << std::min(attempt, 5)));
        continue;
      }
      out.ok = call.info.ok;
      out.error = call.info.error;
      out.backend = "service:" + call.allocation.backend;
      out.allocation = call.allocation;
      return out;
    }
    out.error = "the service stayed busy";
    return out;
  };
}

// Runs a program with these arguments (argv[0] found on PATH), never through a shell, so
// no argument is ever read as shell syntax; waits for it. Its exit code, or -1 with the
// reason when it could not be started or was killed.
int run_program(const std::vector<std::string>& args, std::string* error) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (const int rc = ::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ); rc != 0) {
    *error = "cannot start " + args.front() + ": " + std::strerror(rc);
    return -1;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      *error = "cannot wait for " + args.front() + ": " + std::strerror(errno);
      return -1;
    }
  }
  if (WIFSIGNALED(status)) {
    *error = args.front() + " was killed by signal " + std::to_string(WTERMSIG(status));
    return -1;
  }
  return WEXITSTATUS(status);
}

// Where the plot scripts are: share/sluice beside the folder of this executable, in the
// build tree (build/main/bin/sluice, build/main/share/sluice/) as under an install prefix
// (PREFIX/bin/sluice, PREFIX/share/sluice/); apps/CMakeLists.txt puts them in both.
std::filesystem::path plot_script(const std::string& name) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path().parent_path() / "share" / "sluice" / name;
}

// Runs the plot script `name` with `arguments` (an argument vector, never a shell line, so
// the paths go to python3 whatever characters they hold), when python3 and the script are
// there; says how to plot later otherwise.
void plot(const std::string& name, const std::vector<std::string>& arguments) {
  const std::string script = plot_script(name).string();
  std::string later = "bench/" + name;
  for (const std::string& a : arguments) later += " " + a;
  if (script.empty() || !std::filesystem::exists(script) || !std::filesystem::exists("/usr/bin/python3")) {
    std::fprintf(stderr, "plot: %s or /usr/bin/python3 not found; plot later with %s\n",
                 script.empty() ? name.c_str() : script.c_str(), later.c_str());
    return;
  }
  std::vector<std::string> command{"/usr/bin/python3", script};
  command.insert(command.end(), arguments.begin(), arguments.end());
  std::string error;
  const int code = run_program(command, &error);
  if (code == 0) {
    for (const std::string& a : arguments) {
      if (a.size() > 4 && a.compare(a.size() - 4, 4, ".png") == 0) std::printf("plot: %s\n", a.c_str());
    }
  } else if (code < 0) {
    std::fprintf(stderr, "plot: %s\n", error.c_str());
  } else {
    std::fprintf(stderr, "plot: %s exited with %d; plot later with %s\n", name.c_str(), code, later.c_str());
  }
}

int run_replay(const ReplayArgs& args) {
  std::string error;
  const auto base = args.flags.options(error);
  if (!base) {
    std::cerr << "sluice: " << error << "\n";
    return 2;
  }
  const auto format = parse_body_format(args.format);
  if (!format) {
    std::cerr << "sluice: unknown format '" << args.format << "' (binary, json)\n";
    return 2;
  }
  TraceLoadResult loaded = load_openb_trace(args.nodes, args.pods);
  if (!loaded.ok) {
    std::cerr << "sluice: " << loaded.error << "\n";
    return 2;
  }
  const Trace& trace = loaded.trace;
  std::error_code ec;
  std::filesystem::create_directories(args.out, ec);
  if (ec) {
    std::cerr << "sluice: cannot create " << args.out << ": " << ec.message() << "\n";
    return 2;
  }
  ClientOptions co;
  co.endpoint = args.endpoint;
  co.format = *format;
  co.timeout_ms = args.timeout_ms;
  if (!apply_keys(args.keys, co)) return 2;
  Client client(co);
  if (!args.local) {
    const HealthCall h = client.health();
    if (!h.info.ok) {
      std::cerr << "sluice: no service at " << args.endpoint << " (" << h.info.error
                << "); start one with `sluice serve`, or replay in process with --local\n";
      return 1;
    }
    std::printf("service %s: %s, %d workers, gpu: %s\n", args.endpoint.c_str(), h.health.state.c_str(),
                h.health.workers, h.health.gpu.c_str());
  }
  auto allocator_for = [&](CostModel m) {
    AllocateOptions o = *base;
    o.cost_model = m;
    if (args.fill) o.allow_migration = o.allow_preemption = false;  // pods never move in the FGD experiment
    if (args.local) return local_allocator(o);
    return service_allocator(client, to_request_options(o), args.epoch);
  };
  std::printf("trace: %zu machines, %zu pods (%s, %s)\n", trace.machines.size(), trace.pods.size(), args.nodes.c_str(),
              args.pods.c_str());

  if (!args.fill) {
    ReplayOptions ro;
    ro.round_interval_s = args.round_interval_s;
    ro.max_rounds = args.max_rounds;
    ro.start_time = args.start_time;
    ro.end_time = args.end_time;
    ProgressBar bar("replay " + args.flags.cost_model);
    const ReplayReport report = run_replay(trace, ro, allocator_for(base->cost_model),
                                           [&](std::size_t done, std::size_t total) { bar.update(done, total, "rounds"); });
    if (!report.ok) {
      std::cerr << "sluice: " << report.error << "\n";
      return 2;
    }
    const std::string csv = args.out + "/rounds.csv";
    std::string error;
    if (!write_replay_csv(report, csv, &error)) {
      std::cerr << "sluice: " << error << "\n";
      return 2;
    }
    double peak_gpu = 0, latency_max = 0;
    std::vector<double> latencies;
    for (const RoundRecord& r : report.rounds) {
      peak_gpu = std::max(peak_gpu, r.gpu_alloc_pct);
      latency_max = std::max(latency_max, r.latency_s);
      latencies.push_back(r.latency_s);
    }
    std::sort(latencies.begin(), latencies.end());
    const double p50 = latencies.empty() ? 0 : latencies[latencies.size() / 2];
    const double p99 = latencies.empty() ? 0 : latencies[latencies.size() * 99 / 100];
    std::printf("%zu rounds (%lld skipped, %lld failed) in %.1f s; %lld pods: %lld ran, %lld never ran, %lld lived "
                "between two rounds\n"
                "placements %lld, preemptions %lld, migrations %lld, refused by the master %lld; peak GPU allocation "
                "%.1f%%\n"
                "round latency p50 %.3f s, p99 %.3f s, max %.3f s\n"
                "rounds: %s\n",
                report.rounds.size(), static_cast<long long>(report.skipped_rounds),
                static_cast<long long>(report.failed_rounds), report.seconds, static_cast<long long>(report.pods),
                static_cast<long long>(report.pods_ran), static_cast<long long>(report.pods_never_ran),
                static_cast<long long>(report.pods_unseen), static_cast<long long>(report.placements),
                static_cast<long long>(report.preemptions), static_cast<long long>(report.migrations),
                static_cast<long long>(report.rejected), peak_gpu, p50, p99, latency_max, csv.c_str());
    if (!args.no_plot) plot("plot_replay.py", {csv, args.out + "/rounds.png"});
    return report.rejected == 0 && report.failed_rounds == 0 ? 0 : 1;
  }

  if (args.protocol == "atc23") {
    FillAtc23Args a = args.atc23;
    a.batches = args.batch;
    a.models = args.models;
    a.out = args.out;
    a.base = *base;
    const AllocatorFactory factory = [&](const AllocateOptions& o) -> RoundAllocator {
      if (args.local) return local_allocator(o);
      auto own = std::make_shared<Client>(co);  // one per run: runs go on in parallel
      return [own, inner = service_allocator(*own, to_request_options(o), args.epoch)](const Snapshot& s) {
        return inner(s);
      };
    };
    return run_fill_atc23(a, trace, factory, [&](const std::string& csv, const std::string& png) {
      if (!args.no_plot) plot("plot_fill.py", {csv, png, "--summary", args.out + "/fill_summary.csv"});
    });
  }
  if (!args.protocol.empty()) {
    std::cerr << "sluice: --protocol: unknown protocol '" << args.protocol << "' (atc23)\n";
    return 2;
  }
  const auto batch = parse_positive(args.batch);
  if (!batch) {
    std::cerr << "sluice: --batch: '" << args.batch << "' is not a positive number of pods\n";
    return 2;
  }

  // The FGD experiment: each cost model through the service, and the best-fit baseline.
  FillOptions fo;
  fo.batch = *batch;
  fo.stop_at_demand_pct = args.stop_at;
  std::vector<FillReport> reports;
  {
    ProgressBar bar("fill best-fit");
    reports.push_back(run_fill_best_fit(trace, fo, [&](std::size_t d, std::size_t t) { bar.update(d, t, "pods"); }));
  }
  std::stringstream list(args.models);
  std::string name;
  while (std::getline(list, name, ',')) {
    const auto m = parse_cost_model(name);
    if (!m) {
      std::cerr << "sluice: unknown cost model '" << name << "' in --models\n";
      return 2;
    }
    ProgressBar bar("fill " + name);
    reports.push_back(run_fill(trace, fo, allocator_for(*m), name, [&](std::size_t d, std::size_t t) {
      bar.update(d, t, "pods");
    }));
    if (!reports.back().ok) {
      std::cerr << "sluice: fill with " << name << " failed: " << reports.back().error << "\n";
      return 1;
    }
  }
  const std::string csv = args.out + "/fill.csv";

  if (!write_fill_csv(reports, csv, &error)) {
    std::cerr << "sluice: " << error << "\n";
    return 2;
  }
  std::printf("\nFGD experiment: pods in creation order into an empty cluster, batches of %lld, until the arrived GPU "
              "demand reaches %.0f%% of capacity\n",
              static_cast<long long>(*batch), args.stop_at);
  std::printf("%-10s %14s %14s %8s %8s %9s\n", "policy", "arrived GPU %", "unallocated %", "placed", "failed", "seconds");
  for (const FillReport& r : reports) {
    std::printf("%-10s %14.2f %14.2f %8lld %8lld %9.2f\n", r.policy.c_str(), r.final_arrived_gpu_demand_pct,
                r.final_unallocated_gpu_pct, static_cast<long long>(r.placed), static_cast<long long>(r.failed),
                r.seconds);
  }
  std::printf("curves: %s\n", csv.c_str());
  if (!args.no_plot) plot("plot_replay.py", {"--fill", csv, args.out + "/fill.png"});
  return 0;
}

int run_keygen(const std::string& name, bool force) {
  const auto keys = generate_keypair();
  if (!keys) {
    std::cerr << "sluice: this libzmq was built without CURVE\n";
    return 1;
  }
  std::string error;
  if (!write_key_files(name, *keys, &error, force)) {
    std::cerr << "sluice: " << error << "\n";
    return 2;
  }
  std::printf("wrote %s.key (secret, mode 0600) and %s.pub\npublic key: %s\n", name.c_str(), name.c_str(),
              keys->public_key.c_str());
  return 0;
}

}  // namespace

struct ServiceCommands::Impl {
  ServeArgs serve_args;
  SubmitArgs submit_args;
  ReplayArgs replay_args;
  std::string keygen_name;
  bool keygen_force = false;
  CLI::App* keygen = nullptr;
  CLI::App* serve = nullptr;
  CLI::App* submit = nullptr;
  CLI::App* replay = nullptr;
};

ServiceCommands::ServiceCommands(CLI::App& app) : impl_(std::make_unique<Impl>()) {
  ServeArgs& s = impl_->serve_args;
  auto* serve = app.add_subcommand(
      "serve",
      "Run the allocation service: a ZeroMQ ROUTER socket answering allocate, health and stats requests "
      "(docs/protocol.md). SIGTERM or SIGINT drains: every accepted request is finished or answered.");
  serve->add_option("--endpoint", s.options.endpoint, "ZeroMQ endpoint to bind; tcp://127.0.0.1:* picks a free port")
      ->capture_default_str();
  serve->add_option("--workers", s.options.workers, "solver threads, 0 to 1024 (0 = one per core)")
      ->capture_default_str();
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
  serve->add_option("--max-connections", s.options.max_connections,
                    "open connections; past it the oldest is dropped (0: the open-file limit less 64)")
      ->capture_default_str();
  serve->add_option("--max-memory", s.options.max_memory,
                    "resident bytes past which the connection receiving most is dropped (a multipart message is held "
                    "whole before it can be refused); 0: three quarters of the machine's or cgroup's memory")
      ->capture_default_str();
  serve->add_option("--heartbeat-ms", s.options.heartbeat_ms,
                    "ZMTP heartbeat interval; a peer silent 3 times as long is dropped (0: off)")
      ->capture_default_str();
  serve->add_option("--trim-after-bytes", s.options.trim_after_bytes,
                    "after a message this large (handled or refused), return freed memory to the kernel")
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
                    "serve Prometheus metrics over HTTP on this address, e.g. 127.0.0.1:9600 (off by default; "
                    "a non-loopback address needs --insecure)");
  serve->add_option("--log-format", s.log_format, "json (one object per line) or text")->capture_default_str();
  serve->add_option("--log-level", s.options.log_level, "trace, debug, info, warn, error, critical, off")
      ->capture_default_str();
  serve->add_option("--max-machines", s.options.limits.max_machines, "snapshots with more machines are refused")
      ->capture_default_str();
  serve->add_option("--max-tasks", s.options.limits.max_tasks, "snapshots with more tasks are refused")
      ->capture_default_str();
  serve->add_option("--max-jobs", s.options.limits.max_jobs, "snapshots with more jobs are refused")
      ->capture_default_str();
  serve->add_option("--state-file", s.options.state_file,
                    "keep the epoch fence (the highest epoch of a valid request) in this file, written atomically "
                    "and fsynced, so a restarted service still refuses a stale master (off by default)");
  serve->add_option("--ready-file", s.ready_file, "write the bound endpoint (and metrics URL) here once serving");
  serve->add_option("--curve-secret", s.curve_secret,
                    "CurveZMQ: this service's secret key (a file from `sluice keygen`, or 40 Z85 characters); "
                    "every connection is then encrypted and authenticated");
  serve->add_option("--allowed-clients", s.allowed_clients,
                    "CurveZMQ: file of allowed client public keys, one per line; others are refused and counted. "
                    "SIGHUP reads it again");
  serve->add_flag("--insecure", s.options.insecure,
                  "allow binding a non-loopback address without CURVE keys (anyone who can connect may allocate)");
  impl_->serve = serve;

  SubmitArgs& a = impl_->submit_args;
  auto* submit = app.add_subcommand("submit", "Send a snapshot to a running service and write its placements (JSON).");
  submit->add_option("snapshot", a.snapshot, "snapshot file (.json or binary)");
  submit->add_option("--endpoint", a.endpoint, "the service's endpoint")->capture_default_str();
  submit->add_option("--format", a.format, "body format: json or binary (default: the file's)");
  a.flags.add_to(*submit, "spread");
  submit->add_option("--deadline-ms", a.deadline_ms, "the request's deadline (0: the service's default)");
  submit->add_option("--request-id", a.request_id, "request id (0: random); a retry reuses it");
  submit->add_option("--epoch", a.epoch, "the master's epoch (fencing)");
  submit->add_option("--timeout-ms", a.timeout_ms, "wait this long for a reply before resending")->capture_default_str();
  submit->add_option("--attempts", a.attempts, "sends of the request, the first included")->capture_default_str();
  submit->add_flag("--health", a.health, "ask for the service's health instead");
  submit->add_flag("--stats", a.stats, "ask for the service's counters instead");
  submit->add_option("-o,--output", a.output, "write the placements JSON here instead of stdout");
  submit->add_option("--server-key", a.keys.server_key, "CurveZMQ: the service's public key (file or Z85)");
  submit->add_option("--client-key", a.keys.client_key, "CurveZMQ: this client's secret key (file or Z85)");
  impl_->submit = submit;

  ReplayArgs& r = impl_->replay_args;
  auto* replay = app.add_subcommand(
      "replay",
      "Play the openb GPU trace against a running service as a master would: pods arrive at creation_time and "
      "leave at deletion_time, each round sends the snapshot and applies the reply (checking every placement). "
      "Writes OUT/rounds.csv and a plot. With --fill: the FGD paper's experiment (pods in creation order into an "
      "empty cluster until full), per cost model and for a one-pod-at-a-time best-fit baseline: OUT/fill.csv and a plot.");
  replay->add_option("--nodes", r.nodes, "openb node list CSV")->capture_default_str();
  replay->add_option("--pods", r.pods, "openb pod list CSV")->capture_default_str();
  replay->add_option("--endpoint", r.endpoint, "the service's endpoint")->capture_default_str();
  replay->add_option("--format", r.format, "body format: binary or json")->capture_default_str();
  r.flags.add_to(*replay, "fgd");
  replay->add_flag("--local", r.local, "allocate in this process instead of through a service");
  replay->add_option("--round-interval", r.round_interval_s, "seconds of trace time between rounds")
      ->capture_default_str();
  replay->add_option("--max-rounds", r.max_rounds, "stop after this many rounds (0: the whole trace)")
      ->capture_default_str();
  replay->add_option("--start", r.start_time, "trace time of the first round (default: the first creation)");
  replay->add_option("--end", r.end_time, "trace time of the last round (default: after the last event)");
  replay->add_option("--epoch", r.epoch, "the master's epoch")->capture_default_str();
  replay->add_option("--timeout-ms", r.timeout_ms, "per round, before the request is resent")->capture_default_str();
  replay->add_flag("--fill", r.fill, "run the FGD fill experiment instead of the replay");
  replay->add_option("--models", r.models, "--fill: cost models to compare, comma-separated")->capture_default_str();
  replay->add_option("--batch", r.batch, "--fill: pods per round (atc23: a list, e.g. 1,10,50, or all)")
      ->capture_default_str();
  replay->add_option("--protocol", r.protocol,
                     "--fill: atc23 = the FGD paper's experiment exactly (GPU nodes, shuffled and tuned pod list, "
                     "seeds, the simulator's baselines; docs/fill_experiment.md)");
  replay->add_option("--seeds", r.atc23.seeds, "--protocol atc23: seeds, e.g. 42-51")->capture_default_str();
  replay->add_option("--baselines", r.atc23.baselines,
                     "--protocol atc23: one-pod-at-a-time policies (fgd-greedy, best-fit, gpu-packing; '' for none)")
      ->capture_default_str();
  replay->add_option("--tune", r.atc23.tune_ratio, "--protocol atc23: pod list tuned to this x the GPU capacity")
      ->capture_default_str();
  replay->add_option("--jobs", r.atc23.jobs, "--protocol atc23: runs in parallel")->capture_default_str();
  replay->add_option("--stop-at", r.stop_at, "--fill: stop when the arrived GPU demand reaches this % of capacity")
      ->capture_default_str();
  replay->add_option("-o,--out", r.out, "output folder (CSV and PNG)")->capture_default_str();
  replay->add_flag("--no-plot", r.no_plot, "write the CSV only");
  replay->add_option("--server-key", r.keys.server_key, "CurveZMQ: the service's public key (file or Z85)");
  replay->add_option("--client-key", r.keys.client_key, "CurveZMQ: this master's secret key (file or Z85)");

  auto* keygen = app.add_subcommand(
      "keygen", "Write a CurveZMQ key pair: NAME.key (secret, 0600) and NAME.pub; never over existing files "
                "without --force.");
  keygen->add_option("name", impl_->keygen_name, "file name without extension")->required();
  keygen->add_flag("--force", impl_->keygen_force,
                   "replace an existing NAME.key / NAME.pub (a regular file, or a symbolic link itself: what it "
                   "points to is left alone)");
  impl_->keygen = keygen;
  impl_->replay = replay;
}

ServiceCommands::~ServiceCommands() = default;

std::optional<int> ServiceCommands::run() {
  if (*impl_->keygen) return run_keygen(impl_->keygen_name, impl_->keygen_force);
  if (*impl_->serve) return run_serve(impl_->serve_args);
  if (*impl_->submit) return run_submit(impl_->submit_args);
  if (*impl_->replay) return run_replay(impl_->replay_args);
  return std::nullopt;
}

}  // namespace sluice::cli
