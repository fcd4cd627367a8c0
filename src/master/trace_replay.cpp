// Trace replay and the FGD fill experiment: the "thin master" that keeps a cluster's state,
// sends it to an allocator every round and applies the reply (include/sluice/trace_replay.hpp).
//
// The master's accounting is its own and independent of the allocator's (src/host/
// cluster_state.hpp is deliberately not used): per machine free CPU and memory, per device
// free milli; per pod its state, machine and device positions. The invariant it keeps:
// every machine's free amounts equal its capacity minus the demands of the pods running on
// it, and none is ever negative. Every reply item is checked against that accounting before
// it is applied; an item that would break the invariant is refused and counted.
//
// Cost per round: O(machines + alive pods) to build the snapshot, O(reply items × devices
// of the machine named) to apply it; departures come off a min-heap of deletion times.
#include "sluice/trace_replay.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <new>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "master.hpp"
#include "seconds_since.hpp"

namespace sluice {
namespace {

using namespace detail;

// ---- replay --------------------------------------------------------------------------------

ReplayReport replay_unchecked(const Trace& trace, const ReplayOptions& options, const RoundAllocator& allocator,
                              const ReplayProgress& progress) {
  const auto t_start = Clock::now();
  ReplayReport report;
  if (std::string why = check_trace(trace); !why.empty()) {
    report.error = "invalid trace: " + why;
    return report;
  }
  if (options.round_interval_s <= 0) {
    report.error = "round_interval_s must be positive, found " + std::to_string(options.round_interval_s);
    return report;
  }
  if (options.max_rounds < 0) {
    report.error = "max_rounds must be >= 0, found " + std::to_string(options.max_rounds);
    return report;
  }
  if (!allocator) {
    report.error = "no allocator";
    return report;
  }
  report.ok = true;
  const std::vector<TracePod>& pods = trace.pods;
  if (pods.empty()) return report;

  // 1. The window: first creation .. last creation or deletion, unless given.
  std::int64_t start = options.start_time;
  if (start == std::numeric_limits<std::int64_t>::min()) start = pods.front().creation_time;
  const std::int64_t interval = options.round_interval_s;
  std::int64_t end = options.end_time;
  if (end == std::numeric_limits<std::int64_t>::max()) {
    std::int64_t last = start;
    for (const TracePod& pod : pods) {
      last = std::max(last, pod.creation_time);
      if (pod.deletion_time != kNeverDeleted) last = std::max(last, pod.deletion_time);
    }
    end = start + (last - start + interval - 1) / interval * interval;  // the grid point at or after
  }
  if (end < start) {
    report.error = "end_time " + std::to_string(end) + " is before start_time " + std::to_string(start);
    report.ok = false;
    return report;
  }
  const std::size_t grid_points = static_cast<std::size_t>((end - start) / interval) + 1;

  Master master(trace.machines, pods);
  using Deadline = std::pair<std::int64_t, std::int32_t>;  // (deletion time, pod)
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines;
  std::size_t next_arrival = 0;
  std::int64_t round = 0;
  std::int64_t t = start;
  std::int64_t pending = 0;

  for (;;) {
    RoundRecord rec;
    // 2. Departures, then arrivals, at t.
    while (!deadlines.empty() && deadlines.top().first <= t) {
      const std::int32_t p = deadlines.top().second;
      deadlines.pop();
      const PodState state = master.slot(p).state;
      if (state == PodState::kRunning) ++rec.departed;
      if (state == PodState::kPending) ++rec.expired;
      master.remove(p);
    }
    while (next_arrival < pods.size() && pods[next_arrival].creation_time <= t) {
      const auto p = static_cast<std::int32_t>(next_arrival++);
      const TracePod& pod = pods[p];
      if (pod.deletion_time <= start) continue;  // before the window
      ++report.pods;
      if (pod.deletion_time <= t) {
        ++report.pods_unseen;
        master.slot(p).state = PodState::kGone;
        continue;
      }
      master.arrive(p);
      ++rec.arrived;
      if (pod.deletion_time != kNeverDeleted) deadlines.emplace(pod.deletion_time, p);
    }
    pending = master.compact();
    const bool changed = rec.arrived + rec.departed + rec.expired > 0;

    // 3. The round itself, unless there is nothing to decide.
    if (changed || pending > 0) {
      ++round;
      rec.round = round;
      rec.trace_time = t;
      rec.pending = pending;
      const Snapshot snapshot = master.snapshot(round, t);
      const RoundOutcome outcome = call_allocator(allocator, snapshot);
      rec.ok = outcome.ok;
      rec.error = outcome.error;
      rec.latency_s = outcome.latency_s;
      rec.backend = outcome.backend;
      if (outcome.ok) {
        Master::Applied applied = master.apply(outcome.allocation, round);
        rec.placed = applied.placed;
        rec.migrated = applied.migrated;
        rec.preempted = applied.preempted;
        rec.rejected = applied.rejected;
        rec.rejection = std::move(applied.first_rejection);
      } else {
        ++report.failed_rounds;
      }
      for (const std::int32_t p : master.alive()) {
        const PodState state = master.slot(p).state;
        rec.unscheduled += state == PodState::kPending ? 1 : 0;
        rec.running += state == PodState::kRunning ? 1 : 0;
      }
      pending = rec.unscheduled;
      rec.gpu_alloc_pct = master.gpu_alloc_pct();
      rec.cpu_alloc_pct = master.cpu_alloc_pct();
      rec.mem_alloc_pct = master.mem_alloc_pct();
      report.placements += rec.placed;
      report.preemptions += rec.preempted;
      report.migrations += rec.migrated;
      report.rejected += rec.rejected;
      report.allocator_seconds += rec.latency_s;
      report.rounds.push_back(std::move(rec));
      if (progress) progress(static_cast<std::size_t>((t - start) / interval) + 1, grid_points);
      if (options.max_rounds > 0 && round >= options.max_rounds) break;
    } else {
      ++report.skipped_rounds;
    }

    // 4. The next round time: the next grid point, or (nothing pending) the first grid point
    //    at or after the next event; the grid points jumped over are skipped rounds.
    if (end - t < interval) break;
    std::int64_t steps = 1;
    if (pending == 0) {
      std::int64_t next_event = std::numeric_limits<std::int64_t>::max();
      if (next_arrival < pods.size()) next_event = pods[next_arrival].creation_time;
      if (!deadlines.empty()) next_event = std::min(next_event, deadlines.top().first);
      if (next_event > end) {
        report.skipped_rounds += (end - t) / interval;
        break;
      }
      steps = std::max<std::int64_t>(1, (next_event - t + interval - 1) / interval);
      const std::int64_t reachable = (end - t) / interval;
      if (steps > reachable) {
        report.skipped_rounds += reachable;
        break;
      }
      report.skipped_rounds += steps - 1;
    }
    t += steps * interval;
  }

  // 5. Pods that arrived but never ran.
  for (std::size_t p = 0; p < pods.size(); ++p) {
    const PodSlot& s = master.slot(p);
    if (s.state != PodState::kNotArrived && !s.ever_ran) ++report.pods_never_ran;
    if (s.ever_ran) ++report.pods_ran;
  }
  report.pods_never_ran -= report.pods_unseen;
  report.seconds = seconds_since(t_start);
  return report;
}

// ---- fill ----------------------------------------------------------------------------------

// The trace's pods once, or repeated (renamed NAME#k) until their GPU demand reaches
// `stop_pct` of the capacity.
std::vector<TracePod> fill_pods(const Trace& trace, const FillOptions& options, std::int64_t capacity_gpu) {
  if (!options.repeat_trace) return trace.pods;
  std::int64_t per_pass = 0;
  for (const TracePod& pod : trace.pods) per_pass += pod.gpu_demand_milli();
  std::vector<TracePod> out = trace.pods;
  if (per_pass <= 0) return out;
  const double target = options.stop_at_demand_pct / 100.0 * static_cast<double>(capacity_gpu);
  std::int64_t demand = per_pass;
  for (int pass = 2; static_cast<double>(demand) < target; ++pass) {
    for (const TracePod& pod : trace.pods) {
      TracePod& copy = out.emplace_back(pod);
      copy.name += '#';
      copy.name += std::to_string(pass);
    }
    demand += per_pass;
  }
  return out;
}

std::string check_fill_options(const FillOptions& options) {
  if (options.batch <= 0) return "batch must be positive, found " + std::to_string(options.batch);
  if (!(options.stop_at_demand_pct > 0) || !std::isfinite(options.stop_at_demand_pct)) {
    return "stop_at_demand_pct must be positive, found " + std::to_string(options.stop_at_demand_pct);
  }
  return {};
}

FillPoint fill_point(const Master& master, std::int64_t arrived, std::int64_t arrived_demand, std::int64_t failed) {
  FillPoint point;
  point.arrived_pods = arrived;
  point.arrived_gpu_demand_pct = percent(arrived_demand, master.capacity_gpu());
  point.allocated_gpu_pct = master.gpu_alloc_pct();
  point.unallocated_gpu_pct = master.capacity_gpu() > 0 ? 100.0 - point.allocated_gpu_pct : 0.0;
  point.failed_pods = failed;
  return point;
}

void finish_fill(FillReport& report, Clock::time_point t0) {
  if (!report.curve.empty()) {
    report.final_unallocated_gpu_pct = report.curve.back().unallocated_gpu_pct;
    report.final_arrived_gpu_demand_pct = report.curve.back().arrived_gpu_demand_pct;
  }
  report.seconds = seconds_since(t0);
}

// Shared by run_fill and run_fill_best_fit: walks pods in order, `place_batch` decides a batch.
template <typename PlaceBatch>
FillReport fill_loop(const Trace& trace, const FillOptions& options, std::string policy, const ReplayProgress& progress,
                     PlaceBatch&& place_batch) {
  const auto t0 = Clock::now();
  FillReport report;
  report.policy = std::move(policy);
  if (std::string why = check_trace(trace); !why.empty()) {
    report.error = "invalid trace: " + why;
    return report;
  }
  if (std::string why = check_fill_options(options); !why.empty()) {
    report.error = why;
    return report;
  }
  std::int64_t capacity_gpu = 0;
  for (const Machine& m : trace.machines) capacity_gpu += static_cast<std::int64_t>(m.gpus.size()) * kGpuMilliWhole;
  const std::vector<TracePod> pods = fill_pods(trace, options, capacity_gpu);
  Master master(trace.machines, pods);
  const double stop_milli = options.stop_at_demand_pct / 100.0 * static_cast<double>(capacity_gpu);

  report.ok = true;
  std::size_t next = 0;
  std::int64_t arrived_demand = 0;
  std::int64_t round = 0;
  std::vector<std::int32_t> batch;
  while (next < pods.size() && static_cast<double>(arrived_demand) < stop_milli) {
    // 1. The batch: up to `batch` pods, ending early at the pod that crosses the threshold.
    batch.clear();
    while (next < pods.size() && static_cast<std::int64_t>(batch.size()) < options.batch &&
           static_cast<double>(arrived_demand) < stop_milli) {
      const auto p = static_cast<std::int32_t>(next++);
      master.arrive(p);
      batch.push_back(p);
      arrived_demand += pods[p].gpu_demand_milli();
    }
    ++round;
    // 2. The policy places what it can; the rest (and anything preempted) fails.
    std::string error;
    Master::Applied applied;
    if (!place_batch(master, batch, round, applied, error)) {
      report.ok = false;
      report.error = "round " + std::to_string(round) + ": " + error;
      break;
    }
    report.rejected += applied.rejected;
    for (const std::int32_t p : master.alive()) {
      if (master.slot(p).state != PodState::kPending) continue;
      master.remove(p);
      ++report.failed;
    }
    master.compact();
    report.placed += applied.placed;
    report.curve.push_back(fill_point(master, static_cast<std::int64_t>(next), arrived_demand, report.failed));
    if (progress) progress(next, pods.size());
  }
  finish_fill(report, t0);
  return report;
}

// Best fit for one pod: the machine and devices, or false when it fits nowhere.
bool best_fit(const Master& master, const std::vector<Machine>& machines, const TracePod& pod,
              std::int32_t& best_machine, std::vector<std::int32_t>& best_devices) {
  const auto allowed = [&](const Gpu& g) {
    return pod.gpu_models.empty() ||
           std::find(pod.gpu_models.begin(), pod.gpu_models.end(), g.model) != pod.gpu_models.end();
  };
  std::int64_t best_gpu_left = std::numeric_limits<std::int64_t>::max();
  std::int64_t best_cpu_left = std::numeric_limits<std::int64_t>::max();
  best_machine = -1;
  std::vector<std::int32_t> devices;
  for (std::size_t m = 0; m < machines.size(); ++m) {
    const MachineSlot& free = master.machine_state(m);
    if (pod.cpu_milli > free.free_cpu || pod.memory_mib > free.free_memory) continue;
    devices.clear();
    const std::vector<Gpu>& gpus = machines[m].gpus;
    if (pod.gpus > 0) {
      for (std::size_t g = 0; g < gpus.size() && devices.size() < static_cast<std::size_t>(pod.gpus); ++g) {
        if (free.gpu_free[g] == kGpuMilliWhole && allowed(gpus[g])) devices.push_back(static_cast<std::int32_t>(g));
      }
      if (devices.size() < static_cast<std::size_t>(pod.gpus)) continue;
    } else if (pod.gpu_milli > 0) {
      std::int32_t pick = -1;
      for (std::size_t g = 0; g < gpus.size(); ++g) {
        if (free.gpu_free[g] < pod.gpu_milli || !allowed(gpus[g])) continue;
        if (pick < 0 || free.gpu_free[g] < free.gpu_free[pick]) pick = static_cast<std::int32_t>(g);
      }
      if (pick < 0) continue;
      devices.push_back(pick);
    }
    std::int64_t gpu_left = -pod.gpu_demand_milli();
    for (const std::int32_t f : free.gpu_free) gpu_left += f;
    const std::int64_t cpu_left = free.free_cpu - pod.cpu_milli;
    if (gpu_left < best_gpu_left || (gpu_left == best_gpu_left && cpu_left < best_cpu_left)) {
      best_gpu_left = gpu_left;
      best_cpu_left = cpu_left;
      best_machine = static_cast<std::int32_t>(m);
      best_devices = devices;
    }
  }
  return best_machine >= 0;
}

void write_csv_field(std::FILE* f, std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) {
    std::fwrite(s.data(), 1, s.size(), f);
    return;
  }
  std::fputc('"', f);
  for (const char c : s) {
    if (c == '"') std::fputc('"', f);
    std::fputc(c == '\n' || c == '\r' ? ' ' : c, f);
  }
  std::fputc('"', f);
}

bool close_csv(std::FILE* f, const std::string& path, std::string* error) {
  const bool failed = std::ferror(f) != 0;
  if (std::fclose(f) != 0 || failed) {
    if (error != nullptr) *error = "cannot write " + path;
    return false;
  }
  return true;
}

std::FILE* open_csv_for_writing(const std::string& path, std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr && error != nullptr) *error = "cannot open " + path + " for writing";
  return f;
}

}  // namespace

// ---- public API ------------------------------------------------------------------------------

std::int64_t TracePod::gpu_demand_milli() const {
  return gpus > 0 ? static_cast<std::int64_t>(gpus) * kGpuMilliWhole : gpu_milli;
}

std::string check_trace(const Trace& trace) {
  std::unordered_set<std::string_view> ids;
  for (std::size_t m = 0; m < trace.machines.size(); ++m) {
    const Machine& machine = trace.machines[m];
    const std::string where = "machines[" + std::to_string(m) + "] '" + machine.id + "'";
    if (machine.id.empty()) return "machines[" + std::to_string(m) + "] has an empty id";
    if (!ids.insert(machine.id).second) return where + ": duplicate machine id";
    if (machine.cpu_milli < 0 || machine.memory_mib < 0) return where + ": negative capacity";
    std::unordered_set<std::int32_t> indexes;
    for (const Gpu& g : machine.gpus) {
      if (!indexes.insert(g.index).second) return where + ": GPU index " + std::to_string(g.index) + " repeated";
    }
  }
  ids.clear();
  for (std::size_t p = 0; p < trace.pods.size(); ++p) {
    const TracePod& pod = trace.pods[p];
    const std::string where = "pods[" + std::to_string(p) + "] '" + pod.name + "'";
    if (pod.name.empty()) return "pods[" + std::to_string(p) + "] has an empty name";
    if (!ids.insert(pod.name).second) return where + ": duplicate pod name";
    if (pod.cpu_milli < 0 || pod.memory_mib < 0 || pod.gpus < 0 || pod.gpu_milli < 0) {
      return where + ": negative demand";
    }
    if (pod.gpus > 0 && pod.gpu_milli > 0) return where + ": both whole GPUs and a GPU share";
    if (pod.gpu_milli > kGpuMilliWhole) return where + ": GPU share above 1000";
    if (p > 0 && pod.creation_time < trace.pods[p - 1].creation_time) return where + ": not in creation order";
  }
  return {};
}

RoundAllocator local_allocator(const AllocateOptions& options) {
  return [options](const Snapshot& snapshot) {
    RoundOutcome out;
    const auto t0 = Clock::now();
    out.allocation = allocate(snapshot, options);
    out.latency_s = seconds_since(t0);
    out.backend = out.allocation.backend;
    out.ok = out.allocation.status == Status::kOptimal;
    if (!out.ok) out.error = std::string(to_string(out.allocation.status)) + ": " + out.allocation.message;
    return out;
  };
}

ReplayReport run_replay(const Trace& trace, const ReplayOptions& options, const RoundAllocator& allocator,
                        const ReplayProgress& progress) {
  try {
    return replay_unchecked(trace, options, allocator, progress);
  } catch (const std::exception& e) {
    ReplayReport report;
    report.error = std::string("replay failed: ") + e.what();
    return report;
  }
}

FillReport run_fill(const Trace& trace, const FillOptions& options, const RoundAllocator& allocator,
                    std::string policy_name, const ReplayProgress& progress) {
  try {
    if (!allocator) {
      FillReport report;
      report.policy = std::move(policy_name);
      report.error = "no allocator";
      return report;
    }
    return fill_loop(trace, options, std::move(policy_name), progress,
                     [&](Master& master, const std::vector<std::int32_t>&, std::int64_t round, Master::Applied& applied,
                         std::string& error) {
                       const Snapshot snapshot =
                           master.snapshot(round, master.pods()[master.alive().back()].creation_time);
                       const RoundOutcome outcome = call_allocator(allocator, snapshot);
                       if (!outcome.ok) {
                         error = outcome.error;
                         return false;
                       }
                       applied = master.apply(outcome.allocation, round);
                       return true;
                     });
  } catch (const std::exception& e) {
    FillReport report;
    report.policy = std::move(policy_name);
    report.error = std::string("fill failed: ") + e.what();
    return report;
  }
}

FillReport run_fill_best_fit(const Trace& trace, const FillOptions& options, const ReplayProgress& progress) {
  try {
    return fill_loop(trace, options, "best-fit", progress,
                     [&](Master& master, const std::vector<std::int32_t>& batch, std::int64_t, Master::Applied& applied,
                         std::string&) {
                       std::int32_t m = -1;
                       std::vector<std::int32_t> devices;
                       for (const std::int32_t p : batch) {
                         if (!best_fit(master, trace.machines, master.pods()[p], m, devices)) continue;
                         master.take(p, m, devices);
                         ++applied.placed;
                       }
                       return true;
                     });
  } catch (const std::exception& e) {
    FillReport report;
    report.policy = "best-fit";
    report.error = std::string("fill failed: ") + e.what();
    return report;
  }
}

bool write_replay_csv(const ReplayReport& report, const std::string& path, std::string* error) {
  std::FILE* f = open_csv_for_writing(path, error);
  if (f == nullptr) return false;
  std::fputs(
      "round,trace_time,arrived,departed,expired,pending,placed,unscheduled,running,preempted,migrated,rejected,"
      "gpu_alloc_pct,cpu_alloc_pct,mem_alloc_pct,latency_s,backend,ok,error\n",
      f);
  for (const RoundRecord& r : report.rounds) {
    std::fprintf(f, "%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%.4f,%.4f,%.4f,%.6f,",
                 static_cast<long long>(r.round), static_cast<long long>(r.trace_time),
                 static_cast<long long>(r.arrived), static_cast<long long>(r.departed),
                 static_cast<long long>(r.expired), static_cast<long long>(r.pending), static_cast<long long>(r.placed),
                 static_cast<long long>(r.unscheduled), static_cast<long long>(r.running),
                 static_cast<long long>(r.preempted), static_cast<long long>(r.migrated),
                 static_cast<long long>(r.rejected), r.gpu_alloc_pct, r.cpu_alloc_pct, r.mem_alloc_pct, r.latency_s);
    write_csv_field(f, r.backend);
    std::fputs(r.ok ? ",1," : ",0,", f);
    write_csv_field(f, r.ok ? r.rejection : r.error);
    std::fputc('\n', f);
  }
  return close_csv(f, path, error);
}

bool write_fill_csv(const std::vector<FillReport>& reports, const std::string& path, std::string* error) {
  std::FILE* f = open_csv_for_writing(path, error);
  if (f == nullptr) return false;
  std::fputs("policy,arrived_pods,arrived_gpu_demand_pct,allocated_gpu_pct,unallocated_gpu_pct,failed_pods\n", f);
  for (const FillReport& report : reports) {
    for (const FillPoint& p : report.curve) {
      write_csv_field(f, report.policy);
      std::fprintf(f, ",%lld,%.4f,%.4f,%.4f,%lld\n", static_cast<long long>(p.arrived_pods), p.arrived_gpu_demand_pct,
                   p.allocated_gpu_pct, p.unallocated_gpu_pct, static_cast<long long>(p.failed_pods));
    }
  }
  return close_csv(f, path, error);
}

}  // namespace sluice
