// One round of the Slurm bridge (see sluice/slurm_bridge.hpp for the steps and why).
#include "sluice/slurm_bridge.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "command.hpp"
#include "split.hpp"

namespace sluice::slurm {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

constexpr std::string_view kPinnedMark = "sluice:pinned@";
constexpr std::string_view kPassedMark = "sluice:passed";
constexpr std::string_view kUnpinnedMark = "sluice:unpinned@";

// Held by a user or an administrator (a held job also shows priority 0).
bool held(const Job& j) {
  return j.state_reason == "JobHeldUser" || j.state_reason == "JobHeldAdmin" || j.priority == 0;
}

// Whether the job waits only for a place: not for an unfulfilled dependency or a begin time
// still ahead (Slurm sets eligible_time when the job may start; 0 while a dependency holds
// it). The fields, not state_reason, which the scheduler updates only when it looks at the
// job again. A pinned job that cannot start yet would hold room it cannot use.
bool eligible(const Job& j, std::int64_t now) {
  return j.eligible_time > 0 && j.eligible_time <= now && j.dependency.find("unfulfilled") == std::string::npos;
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// What one read of Slurm gave.
struct SlurmView {
  Parsed<Node> nodes;
  Parsed<Job> jobs;
};

std::string read_slurm(const BridgeOptions& o, SlurmView& view) {
  CommandLimits limits;
  limits.timeout_ms = o.command_timeout_ms;
  const CommandResult sinfo = run_command({o.sinfo, "--json", "--all"}, {}, limits);
  if (!sinfo.ok()) return "sinfo: " + (sinfo.error.empty() ? one_line(sinfo.err) : sinfo.error);
  view.nodes = parse_sinfo_json(sinfo.out);
  if (!view.nodes.ok()) return "sinfo: " + view.nodes.error;
  const CommandResult squeue = run_command({o.squeue, "--json", "--all"}, {}, limits);
  if (!squeue.ok()) return "squeue: " + (squeue.error.empty() ? one_line(squeue.err) : squeue.error);
  view.jobs = parse_squeue_json(squeue.out);
  if (!view.jobs.ok()) return "squeue: " + view.jobs.error;
  return {};
}

// Where each job is now, as the read-back needs it: squeue's plain format (its fields have
// kept their letters for many releases), about a tenth of the time of --json with 1,000
// jobs, since only the pins just made are checked.
struct JobPlace {
  std::string partition;
  std::string state;
  std::vector<std::string> required;  // %n: the nodes it asked for (our pin)
  std::vector<std::string> nodes;     // %N: where it runs
};

std::unordered_map<std::string, JobPlace> read_places(const BridgeOptions& o, std::string& error) {
  std::unordered_map<std::string, JobPlace> out;
  CommandLimits limits;
  limits.timeout_ms = o.command_timeout_ms;
  const CommandResult r = run_command({o.squeue, "--all", "-h", "-t", "all", "-o", "%i|%P|%T|%n|%N"}, {}, limits);
  if (!r.ok()) {
    error = "squeue: " + (r.error.empty() ? one_line(r.err) : r.error);
    return out;
  }
  for (const std::string_view line : split(r.out, '\n')) {
    const std::vector<std::string_view> f = split(line, '|');
    if (f.size() != 5) continue;  // not a job line (the empty one after the last newline)
    JobPlace p{std::string(f[1]), std::string(f[2]), {}, {}};
    const auto required = expand_hostlist(f[3]);
    const auto nodes = expand_hostlist(f[4]);
    if (required) p.required = *required;
    if (nodes) p.nodes = *nodes;
    out[std::string(f[0])] = std::move(p);
  }
  return out;
}

}  // namespace

std::int64_t pinned_at(const std::string& admin_comment) {
  if (!admin_comment.starts_with(kPinnedMark)) return -1;
  const std::string rest = admin_comment.substr(kPinnedMark.size());
  const std::size_t colon = rest.find(':');
  try {
    std::size_t used = 0;
    const long long t = std::stoll(rest.substr(0, colon), &used);
    return used == (colon == std::string::npos ? rest.size() : colon) && t >= 0 ? t : -1;
  } catch (...) {
    return -1;
  }
}

Bridge::Bridge(BridgeOptions options) : o_(std::move(options)) {}

std::vector<std::string> Bridge::apply(const std::vector<std::string>& lines) const {
  // At least 32 commands a process: below that, starting one costs more than it saves.
  const std::size_t processes =
      std::clamp<std::size_t>(lines.size() / 32, lines.empty() ? 0 : 1, static_cast<std::size_t>(std::max(1, o_.apply_processes)));
  std::vector<std::string> inputs(processes);
  for (std::size_t i = 0; i < lines.size(); ++i) {  // contiguous shares, one command a line
    inputs[i * processes / lines.size()] += lines[i];
    inputs[i * processes / lines.size()] += '\n';
  }
  std::vector<CommandResult> results(processes);
  CommandLimits limits;
  limits.timeout_ms = o_.command_timeout_ms;
  {
    std::vector<std::jthread> running;
    for (std::size_t k = 0; k < processes; ++k)
      running.emplace_back([&, k] { results[k] = run_command({o_.scontrol}, inputs[k], limits); });
  }
  std::vector<std::string> failures;
  for (const CommandResult& c : results)
    if (!c.started || c.timed_out) failures.push_back(c.error);
  return failures;
}

RoundReport Bridge::round(const Allocator& allocate, std::int64_t now) {
  const auto t0 = Clock::now();
  if (now == 0) now = static_cast<std::int64_t>(std::time(nullptr));
  ++rounds_;
  RoundReport r;
  // 1. Read.
  SlurmView view;
  r.error = read_slurm(o_, view);
  r.read_s = since(t0);
  if (!r.error.empty()) {
    r.total_s = since(t0);
    return r;
  }
  for (const std::string& s : view.nodes.skipped) r.log.push_back("skipped " + s);
  for (const std::string& s : view.jobs.skipped) r.log.push_back("skipped " + s);
  r.skipped_records = static_cast<std::int64_t>(view.nodes.skipped.size() + view.jobs.skipped.size());

  // 2. Classify.
  std::vector<const Job*> candidates, reserved;
  std::vector<std::string> commands;  // for scontrol's stdin, one a line
  for (const Job& j : view.jobs.items) {
    if (j.state != JobState::kPending) continue;
    const std::string id = std::to_string(j.id);
    if (j.partition == o_.queue_partition) {
      ++r.queued;
      if (held(j)) {
        ++r.held;
        continue;
      }
      if (!eligible(j, now)) {
        ++r.not_eligible;
        continue;
      }
      candidates.push_back(&j);
    } else if (j.partition == o_.run_partition) {
      const std::int64_t since_pin = pinned_at(j.admin_comment);
      if (since_pin < 0) continue;  // not ours: Slurm schedules it
      if (now - since_pin > o_.pin_timeout_s && !held(j)) {
        const std::string node = j.required_nodes.empty() ? std::string("?") : j.required_nodes[0];
        commands.push_back("update JobId=" + id + " Partition=" + o_.queue_partition + " NodeList= AdminComment=" +
                           std::string(kUnpinnedMark) + std::to_string(now));
        r.log.push_back("job " + id + ": pinned to " + node + " " + std::to_string(now - since_pin) +
                        " s ago and not started (" + j.state_reason + "): back to the queue");
        ++r.unpinned;
        continue;
      }
      reserved.push_back(&j);
    }
  }

  // 3. Snapshot.
  SnapshotOptions so;
  so.partitions = {o_.run_partition};
  so.time = now;
  so.version = rounds_;
  BridgeSnapshot b = build_snapshot(view.nodes.items, candidates, reserved, so);
  r.nodes = static_cast<std::int64_t>(b.snapshot.machines.size());
  r.candidates = static_cast<std::int64_t>(b.snapshot.jobs.size());
  for (const auto& [job, why] : b.left_out) {
    // A request the snapshot cannot carry goes to Slurm's own scheduler, unpinned.
    commands.push_back("update JobId=" + std::to_string(job) + " Partition=" + o_.run_partition + " AdminComment=" +
                       std::string(kPassedMark));
    r.log.push_back("job " + std::to_string(job) + ": " + why + ": handed to Slurm's scheduler");
    ++r.passed;
  }

  // 4. Allocate.
  std::vector<std::pair<std::string, std::string>> pins;  // job id, node
  if (!b.snapshot.jobs.empty()) {
    const auto t = Clock::now();
    const Allocation a = allocate(b.snapshot);
    r.allocate_s = since(t);
    if (a.status != Status::kOptimal) {
      r.log.push_back("allocation failed (" + std::string(to_string(a.status)) + "): " + a.message +
                      "; nothing placed this round");
    } else {
      for (const Placement& p : a.placements) pins.emplace_back(p.job, p.machine);
      r.placed = static_cast<std::int64_t>(a.placements.size());
      r.unscheduled = static_cast<std::int64_t>(a.unscheduled.size());
    }
  }
  // At most max_pins pins a round, the highest priority (then the oldest) first: slurmctld
  // takes about a millisecond a pin, so this bounds the round's time. The rest stay queued;
  // the next round, which sees these pins, places them again.
  if (o_.max_pins > 0 && pins.size() > static_cast<std::size_t>(o_.max_pins)) {
    std::unordered_map<std::string, const Job*> by_id;
    for (const Job* j : candidates) by_id[std::to_string(j->id)] = j;
    const auto rank = [&](const std::pair<std::string, std::string>& p) {
      const Job* j = by_id.at(p.first);
      return std::pair{-static_cast<std::int64_t>(j->priority), j->submit_time};
    };
    std::stable_sort(pins.begin(), pins.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    r.deferred = static_cast<std::int64_t>(pins.size()) - o_.max_pins;
    pins.resize(static_cast<std::size_t>(o_.max_pins));
    r.log.push_back(std::to_string(r.deferred) + " placements left for the next round (at most " +
                    std::to_string(o_.max_pins) + " pins a round)");
  }
  for (const auto& [job, node] : pins) {
    commands.push_back("update JobId=" + job + " Partition=" + o_.run_partition + " NodeList=" + node +
                       " AdminComment=" + std::string(kPinnedMark) + std::to_string(now) + ":" + node);
  }

  // 5. Apply: the commands split over a few scontrol processes run side by side.
  const auto t_apply = Clock::now();
  for (const std::string& failure : apply(commands)) r.log.push_back("scontrol: " + failure);
  // 6. Read back what took.
  if (!pins.empty()) {
    std::string err;
    const std::unordered_map<std::string, JobPlace> after = read_places(o_, err);
    for (const auto& [job, node] : pins) {
      const auto it = after.find(job);
      const JobPlace* j = it == after.end() ? nullptr : &it->second;
      const std::vector<std::string> there{node};
      const bool took = err.empty() && j != nullptr && j->partition == o_.run_partition &&
                        ((j->state == "PENDING" && j->required == there) || (j->state == "RUNNING" && j->nodes == there));
      if (took) {
        ++r.pinned;
        continue;
      }
      ++r.refused;
      const std::string why = !err.empty()                                     ? "Slurm could not be read back (" + err + ")"
                              : j == nullptr                                    ? "the job is gone"
                              : j->state != "PENDING" && j->state != "RUNNING" ? "the job is " + j->state
                                                                                : "Slurm did not take the pin (partition " +
                                                                                      j->partition + ")";
      r.log.push_back("job " + job + ": placement on " + node + " refused: " + why + "; retried next round");
    }
  }
  r.apply_s = since(t_apply);
  r.ok = true;
  r.total_s = since(t0);
  return r;
}

}  // namespace sluice::slurm
