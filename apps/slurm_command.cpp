// `sluice slurm`: rounds of the Slurm bridge until SIGTERM/SIGINT (or --rounds), each
// allocated in process (--local) or by a running `sluice serve` (--endpoint). One line per
// round on stderr, the bridge's log lines under it, and a CSV row per round with --csv.
#include "slurm_command.hpp"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "allocate_flags.hpp"
#include "client_keys.hpp"
#include "sluice/client.hpp"
#include "sluice/slurm_bridge.hpp"

namespace sluice::cli {
namespace {

std::atomic<bool> stop_requested{false};

extern "C" void on_stop_signal(int) { stop_requested.store(true); }

struct SlurmArgs {
  slurm::BridgeOptions bridge;
  bool local = false;
  std::string endpoint = "tcp://127.0.0.1:7600";
  KeyArgs keys;
  std::int32_t timeout_ms = 30'000;
  std::int64_t interval_ms = 1000;
  std::int64_t rounds = 0;  // 0: until stopped
  std::string csv;
  bool quiet = false;
  AllocateFlags flags;
};

}  // namespace

struct SlurmCommand::Impl {
  SlurmArgs args;
  CLI::App* command = nullptr;
};

SlurmCommand::SlurmCommand(CLI::App& app) : impl_(std::make_unique<Impl>()) {
  SlurmArgs& a = impl_->args;
  auto* c = app.add_subcommand(
      "slurm",
      "Place the jobs of a Slurm queue partition (State=DOWN) each round and pin them to their nodes in the run "
      "partition (docs/slurm.md). SIGTERM or SIGINT ends after the current round.");
  impl_->command = c;
  c->add_option("--queue-partition", a.bridge.queue_partition, "the partition whose pending jobs the bridge places")
      ->capture_default_str();
  c->add_option("--run-partition", a.bridge.run_partition, "the partition placed jobs move to, pinned to their node")
      ->capture_default_str();
  c->add_option("--pin-timeout", a.bridge.pin_timeout_s,
                "seconds a pinned job may stay pending before it goes back to the queue")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{86'400 * 365}));
  c->add_option("--command-timeout-ms", a.bridge.command_timeout_ms, "limit on each sinfo, squeue and scontrol call")
      ->capture_default_str()
      ->check(CLI::Range(100, 3'600'000));
  c->add_option("--apply-processes", a.bridge.apply_processes, "scontrol processes applying a round's pins side by side")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  c->add_option("--max-pins", a.bridge.max_pins,
                "pins per round, highest priority first; the other placements wait for the next round (0: all)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{10'000'000}));
  c->add_option("--exclusion-pin-max-chars", a.bridge.exclusion_pin_max_chars,
                "pin by ExcNodeList (every other node; one request to slurmctld) while that hostlist is at most "
                "this long, else by NodeList (0: always NodeList)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20));
  c->add_flag("--local", a.local, "allocate in this process instead of asking a sluice serve");
  c->add_option("--endpoint", a.endpoint, "the allocation service (without --local)")->capture_default_str();
  c->add_option("--server-key", a.keys.server_key, "CurveZMQ: the service's public key (file or Z85)");
  c->add_option("--client-key", a.keys.client_key, "CurveZMQ: this bridge's secret key (file or Z85)");
  c->add_option("--timeout-ms", a.timeout_ms, "wait this long for the service before resending")
      ->capture_default_str()
      ->check(CLI::Range(1, 3'600'000));
  c->add_option("--interval-ms", a.interval_ms, "time from the start of one round to the start of the next")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{3'600'000}));
  c->add_option("--rounds", a.rounds, "stop after this many rounds (0: until SIGTERM or SIGINT)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  c->add_option("--csv", a.csv, "append one row per round to this file");
  c->add_flag("-q,--quiet", a.quiet, "only rounds that did something, and the log lines");
  a.flags.add_to(*c, "alloc");
}

SlurmCommand::~SlurmCommand() = default;

std::optional<int> SlurmCommand::run() {
  if (!*impl_->command) return std::nullopt;
  const SlurmArgs& a = impl_->args;
  std::string error;
  std::optional<AllocateOptions> options = a.flags.options(error);
  if (!options) {
    std::fprintf(stderr, "sluice: %s\n", error.c_str());
    return 2;
  }
  // Slurm cannot move or stop a running job: the snapshot holds none, and these stay off.
  options->allow_migration = false;
  options->allow_preemption = false;

  std::unique_ptr<Client> client;
  slurm::Allocator allocator;
  if (a.local) {
    allocator = [o = *options](const Snapshot& s) { return allocate(s, o); };
  } else {
    ClientOptions co;
    co.endpoint = a.endpoint;
    co.timeout_ms = a.timeout_ms;
    if (!apply_keys(a.keys, co)) return 2;
    client = std::make_unique<Client>(co);
    allocator = [&client, request = to_request_options(*options)](const Snapshot& s) {
      AllocateCall call = client->allocate(s, request);
      if (!call.info.ok) {
        Allocation failed;
        failed.status = Status::kBackendUnavailable;
        failed.message = "the allocation service did not answer: " + call.info.error;
        return failed;
      }
      return std::move(call.allocation);
    };
  }

  std::ofstream csv;
  if (!a.csv.empty()) {
    const bool fresh = !std::ifstream(a.csv).good();
    csv.open(a.csv, std::ios::app);
    if (!csv) {
      std::fprintf(stderr, "sluice: cannot write %s\n", a.csv.c_str());
      return 2;
    }
    if (fresh)
      csv << "round,unix_time,ok,nodes,queued,held,not_eligible,candidates,placed,pinned,refused,passed,unpinned,unscheduled,deferred,"
             "listed,read_s,allocate_s,apply_s,total_s\n";
  }

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  slurm::Bridge bridge(a.bridge);
  int failures_in_a_row = 0;
  for (std::int64_t n = 1; !stop_requested.load() && (a.rounds == 0 || n <= a.rounds); ++n) {
    const auto start = std::chrono::steady_clock::now();
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    const slurm::RoundReport r = bridge.round(allocator, now);
    const bool eventful = !r.ok || r.placed > 0 || r.passed > 0 || r.unpinned > 0 || r.refused > 0 || !r.log.empty();
    if (!r.ok) {
      std::fprintf(stderr, "round %lld: Slurm could not be read: %s\n", static_cast<long long>(n), r.error.c_str());
    } else if (!a.quiet || eventful) {
      std::fprintf(stderr,
                   "round %lld: %lld nodes, %lld queued (%lld held, %lld waiting for other reasons), %lld placed, %lld "
                   "pinned (%lld left for the next round), %lld refused, %lld passed to Slurm, %lld unpinned, %lld "
                   "unscheduled; read %.3f s (%lld job records), allocate "
                   "%.3f s, apply %.3f s, total %.3f s\n",
                   static_cast<long long>(n), static_cast<long long>(r.nodes), static_cast<long long>(r.queued),
                   static_cast<long long>(r.held), static_cast<long long>(r.not_eligible),
                   static_cast<long long>(r.placed), static_cast<long long>(r.pinned),
                   static_cast<long long>(r.deferred),
                   static_cast<long long>(r.refused), static_cast<long long>(r.passed),
                   static_cast<long long>(r.unpinned), static_cast<long long>(r.unscheduled), r.read_s,
                   static_cast<long long>(r.listed), r.allocate_s,
                   r.apply_s, r.total_s);
    }
    for (const std::string& line : r.log) std::fprintf(stderr, "  %s\n", line.c_str());
    if (csv) {
      csv << n << ',' << now << ',' << (r.ok ? 1 : 0) << ',' << r.nodes << ',' << r.queued << ',' << r.held << ','
          << r.not_eligible << ',' << r.candidates << ',' << r.placed << ',' << r.pinned << ',' << r.refused << ',' << r.passed << ','
          << r.unpinned << ',' << r.unscheduled << ',' << r.deferred << ',' << r.listed << ',' << r.read_s << ',' << r.allocate_s << ',' << r.apply_s << ','
          << r.total_s << '\n';
      csv.flush();
    }
    failures_in_a_row = r.ok ? 0 : failures_in_a_row + 1;
    // Wait for the next round in short steps, so that a signal ends the wait.
    const auto next = start + std::chrono::milliseconds(a.interval_ms);
    while (!stop_requested.load() && std::chrono::steady_clock::now() < next &&
           (a.rounds == 0 || n < a.rounds))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return failures_in_a_row == 0 ? 0 : 1;
}

}  // namespace sluice::cli
