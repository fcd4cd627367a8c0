// One round of the Slurm bridge (see sluice/slurm_bridge.hpp for the steps and why).
#include "sluice/slurm_bridge.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <map>
#include <optional>
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

// sinfo and squeue side by side: squeue --json is most of the read (0.13 s for 1,000 jobs,
// more with finished ones listed), and sinfo and the parsing of its output fit in that time.
std::string read_slurm(const BridgeOptions& o, SlurmView& view) {
  CommandLimits limits;
  limits.timeout_ms = o.command_timeout_ms;
  std::string sinfo_error;
  {
    std::jthread nodes([&] {
      const CommandResult sinfo = run_command({o.sinfo, "--json", "--all"}, {}, limits);
      if (!sinfo.ok()) {
        sinfo_error = "sinfo: " + (sinfo.error.empty() ? one_line(sinfo.err) : sinfo.error);
        return;
      }
      view.nodes = parse_sinfo_json(sinfo.out);
      if (!view.nodes.ok()) sinfo_error = "sinfo: " + view.nodes.error;
    });
    const CommandResult squeue = run_command({o.squeue, "--json", "--all"}, {}, limits);
    if (!squeue.ok()) return "squeue: " + (squeue.error.empty() ? one_line(squeue.err) : squeue.error);
    view.jobs = parse_squeue_json(squeue.out);
    if (!view.jobs.ok()) return "squeue: " + view.jobs.error;
  }
  return sinfo_error;
}

// Where each job is now, as the read-back needs it: squeue's plain format (its fields have
// kept their letters for many releases), about a tenth of the time of --json with 1,000
// jobs, since only the pins just made are checked.
struct JobPlace {
  std::string partition;
  std::string state;
  std::vector<std::string> required;  // %n: the nodes it asked for (a NodeList pin)
  std::vector<std::string> nodes;     // %N: where it runs
  std::vector<std::string> excluded;  // %x: the nodes it may not use (an exclusion pin)
};

std::unordered_map<std::string, JobPlace> read_places(const BridgeOptions& o, std::string& error) {
  std::unordered_map<std::string, JobPlace> out;
  CommandLimits limits;
  limits.timeout_ms = o.command_timeout_ms;
  const CommandResult r = run_command({o.squeue, "--all", "-h", "-t", "all", "-o", "%i|%P|%T|%n|%N|%x"}, {}, limits);
  if (!r.ok()) {
    error = "squeue: " + (r.error.empty() ? one_line(r.err) : r.error);
    return out;
  }
  for (const std::string_view line : split(r.out, '\n')) {
    const std::vector<std::string_view> f = split(line, '|');
    if (f.size() != 6) continue;  // not a job line (the empty one after the last newline)
    JobPlace p{std::string(f[1]), std::string(f[2]), {}, {}, {}};
    const auto required = expand_hostlist(f[3]);
    const auto nodes = expand_hostlist(f[4]);
    const auto excluded = expand_hostlist(f[5]);
    if (required) p.required = *required;
    if (nodes) p.nodes = *nodes;
    if (excluded) {
      p.excluded = *excluded;
      std::sort(p.excluded.begin(), p.excluded.end());
    }
    out[std::string(f[0])] = std::move(p);
  }
  return out;
}

// The ExcNodeList of an exclusion pin to each node: every other node of the run partition
// (whatever its state: a drained node must stay excluded), as one hostlist, and the names
// themselves (sorted), which the read-back compares with squeue's; none when the hostlist
// is longer than the limit. Computed once per target node a round.
class ExclusionPins {
 public:
  struct List {
    std::string hostlist;
    std::vector<std::string> names;  // sorted
  };

  ExclusionPins(const std::vector<Node>& nodes, const std::string& partition, std::size_t max_chars)
      : max_chars_(max_chars) {
    for (const Node& n : nodes)
      if (std::find(n.partitions.begin(), n.partitions.end(), partition) != n.partitions.end()) names_.push_back(n.name);
    std::sort(names_.begin(), names_.end());
    names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
    // Taking one name out adds at most one range to the whole list: when the whole list is
    // already past the limit, no pin will fit, and nothing is computed per node.
    if (max_chars_ == 0 || compress_hostlist(names_).size() > max_chars_) names_.clear();
  }

  // nullptr: pin by NodeList instead.
  const List* of(const std::string& node) {
    if (names_.empty() || !std::binary_search(names_.begin(), names_.end(), node)) return nullptr;
    auto [it, fresh] = by_node_.try_emplace(node);
    List& l = it->second;
    if (fresh) {
      l.names.reserve(names_.size() - 1);
      for (const std::string& n : names_)
        if (n != node) l.names.push_back(n);
      l.hostlist = compress_hostlist(l.names);
      if (l.hostlist.empty() || l.hostlist.size() > max_chars_) l.hostlist.clear();  // the only node, or too long
    }
    return l.hostlist.empty() ? nullptr : &l;
  }

 private:
  std::size_t max_chars_;
  std::vector<std::string> names_;  // sorted
  std::unordered_map<std::string, List> by_node_;
};

}  // namespace

std::optional<Pin> read_pin(const std::string& admin_comment) {
  if (!admin_comment.starts_with(kPinnedMark)) return std::nullopt;
  const std::vector<std::string_view> f = split(std::string_view(admin_comment).substr(kPinnedMark.size()), ':');
  Pin pin;
  const std::string_view t = f[0];
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), pin.at);
  if (t.empty() || ec != std::errc{} || end != t.data() + t.size() || pin.at < 0 || f.size() > 3) return std::nullopt;
  if (f.size() >= 2) pin.node = f[1];
  if (f.size() == 3) {
    if (f[2] == "exclude") {
      pin.how = PinHow::kExclude;
    } else if (f[2] == "own") {
      pin.how = PinHow::kOwn;
    } else if (f[2] != "nodelist") {
      return std::nullopt;
    }
  }
  return pin;
}

std::string pin_comment(const Pin& pin) {
  const char* how = pin.how == PinHow::kExclude ? "exclude" : pin.how == PinHow::kOwn ? "own" : "nodelist";
  return std::string(kPinnedMark) + std::to_string(pin.at) + ":" + pin.node + ":" + how;
}

std::int64_t pinned_at(const std::string& admin_comment) {
  const std::optional<Pin> pin = read_pin(admin_comment);
  return pin ? pin->at : -1;
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
  count_shards_in_use(view.nodes.items, view.jobs.items);
  for (const std::string& s : view.nodes.skipped) r.log.push_back("skipped " + s);
  for (const std::string& s : view.jobs.skipped) r.log.push_back("skipped " + s);
  r.skipped_records = static_cast<std::int64_t>(view.nodes.skipped.size() + view.jobs.skipped.size());
  r.listed = static_cast<std::int64_t>(view.jobs.items.size() + view.jobs.skipped.size());

  // 2. Classify.
  std::vector<const Job*> candidates;
  std::vector<Reserved> reserved;
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
      std::optional<Pin> pin = read_pin(j.admin_comment);
      if (!pin) continue;  // not ours: Slurm schedules it
      if (pin->node.empty() && j.required_nodes.size() == 1) pin->node = j.required_nodes[0];  // an older comment
      if (now - pin->at > o_.pin_timeout_s && !held(j)) {
        // Undo what the pin set, and only that: the user's own node lists stay.
        const char* undo = pin->how == PinHow::kExclude ? " ExcNodeList=" : pin->how == PinHow::kOwn ? "" : " NodeList=";
        commands.push_back("update JobId=" + id + " Partition=" + o_.queue_partition + undo + " AdminComment=" +
                           std::string(kUnpinnedMark) + std::to_string(now));
        r.log.push_back("job " + id + ": pinned to " + (pin->node.empty() ? "?" : pin->node) + " " +
                        std::to_string(now - pin->at) + " s ago and not started (" + j.state_reason +
                        "): back to the queue");
        ++r.unpinned;
        continue;
      }
      reserved.push_back(Reserved{&j, pin->node});
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
  std::unordered_map<std::string, const Job*> candidate_by_id;
  for (const Job* j : candidates) candidate_by_id[std::to_string(j->id)] = j;
  if (o_.max_pins > 0 && pins.size() > static_cast<std::size_t>(o_.max_pins)) {
    const auto rank = [&](const std::pair<std::string, std::string>& p) {
      const Job* j = candidate_by_id.at(p.first);
      return std::pair{-static_cast<std::int64_t>(j->priority), j->submit_time};
    };
    std::stable_sort(pins.begin(), pins.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    r.deferred = static_cast<std::int64_t>(pins.size()) - o_.max_pins;
    pins.resize(static_cast<std::size_t>(o_.max_pins));
    r.log.push_back(std::to_string(r.deferred) + " placements left for the next round (at most " +
                    std::to_string(o_.max_pins) + " pins a round)");
  }
  ExclusionPins exclusion(view.nodes.items, o_.run_partition, o_.exclusion_pin_max_chars);
  std::vector<const ExclusionPins::List*> expected_exclusion(pins.size());  // per pin; nullptr: by NodeList
  for (std::size_t i = 0; i < pins.size(); ++i) {
    const auto& [job, node] = pins[i];
    const Job& j = *candidate_by_id.at(job);
    Pin pin{now, node, PinHow::kNodeList};
    std::string where = " NodeList=" + node;
    if (j.required_nodes.size() == 1) {  // the snapshot placed it on that node
      pin.how = PinHow::kOwn;
      where.clear();
    } else if (const ExclusionPins::List* others = j.excluded_nodes.empty() ? exclusion.of(node) : nullptr) {
      pin.how = PinHow::kExclude;
      where = " ExcNodeList=" + others->hostlist;
      expected_exclusion[i] = others;
    }
    commands.push_back("update JobId=" + job + " Partition=" + o_.run_partition + where + " AdminComment=" +
                       pin_comment(pin));
  }

  // 5. Apply: the commands split over a few scontrol processes run side by side.
  const auto t_apply = Clock::now();
  for (const std::string& failure : apply(commands)) r.log.push_back("scontrol: " + failure);
  // 6. Read back what took.
  if (!pins.empty()) {
    std::string err;
    const std::unordered_map<std::string, JobPlace> after = read_places(o_, err);
    for (std::size_t i = 0; i < pins.size(); ++i) {
      const auto& [job, node] = pins[i];
      const auto it = after.find(job);
      const JobPlace* j = it == after.end() ? nullptr : &it->second;
      const std::vector<std::string> there{node};
      const bool pending_as_pinned =
          expected_exclusion[i] == nullptr ? j != nullptr && j->required == there
                                           : j != nullptr && j->excluded == expected_exclusion[i]->names;
      const bool took = err.empty() && j != nullptr && j->partition == o_.run_partition &&
                        ((j->state == "PENDING" && pending_as_pinned) || (j->state == "RUNNING" && j->nodes == there));
      if (took) {
        ++r.pinned;
        continue;
      }
      ++r.refused;
      if (err.empty() && j != nullptr && j->state == "RUNNING" && j->partition == o_.run_partition) {
        // Only an exclusion pin lets this happen: a node joined the run partition after the read.
        r.log.push_back("job " + job + ": placed on " + node + " but Slurm started it on " + compress_hostlist(j->nodes));
        continue;
      }
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
