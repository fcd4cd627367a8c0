// The FGD paper's fill experiment (include/sluice/fill_experiment.hpp): the seeded input,
// batches through any allocator, the metric and its CSV files. The greedy policies are in
// greedy_policies.cpp.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <unordered_set>

#include "master.hpp"
#include "sluice/fill_experiment.hpp"
#include "sluice/fragmentation.hpp"

namespace sluice {
namespace {

using namespace detail;
using Clock = std::chrono::steady_clock;

// A uniform integer in [0, n) (Lemire's method, unbiased).
std::uint64_t uniform(std::mt19937_64& rng, std::uint64_t n) {
  std::uint64_t x = rng();
  auto m = static_cast<unsigned __int128>(x) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = -n % n;
    while (low < threshold) {
      x = rng();
      m = static_cast<unsigned __int128>(x) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

// The GPU milli of one device of the pod (the simulator's MilliGpu): what its tuning loop
// compares against the target, where the total would be right.
std::int64_t per_device_milli(const TracePod& p) { return p.gpus > 0 ? kGpuMilliWhole : p.gpu_milli; }

bool write_field(std::FILE* f, const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return std::fputs(s.c_str(), f) >= 0;
  std::string quoted = "\"";
  for (const char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' || c == '\r' ? ' ' : c);
  quoted += '"';
  return std::fputs(quoted.c_str(), f) >= 0;
}

template <typename Row>
bool write_csv(const std::string& path, const char* header, std::string* error, Row&& rows) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    if (error != nullptr) *error = "cannot open " + path + " for writing";
    return false;
  }
  std::fputs(header, f);
  rows(f);
  const bool failed = std::ferror(f) != 0;
  if (std::fclose(f) != 0 || failed) {
    if (error != nullptr) *error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace

std::vector<WorkloadSpec> trace_workload(const std::vector<TracePod>& pods, double coverage) {
  std::vector<std::pair<WorkloadSpec, std::int64_t>> counted;
  counted.reserve(pods.size());
  for (const TracePod& p : pods) {
    WorkloadSpec w;
    w.cpu_milli = p.cpu_milli;
    w.gpus = p.gpus;
    w.gpu_milli = p.gpus > 0 ? 0 : p.gpu_milli;
    w.gpu_models = p.gpu_models;
    counted.emplace_back(std::move(w), 1);
  }
  return typical_workload(counted, coverage);
}

Atc23Input atc23_input(const Trace& trace, std::uint64_t seed, double tune_ratio) {
  Atc23Input in;
  for (const Machine& m : trace.machines) {
    if (m.gpus.empty()) continue;
    in.machines.push_back(m);
    in.capacity_gpu_milli += static_cast<std::int64_t>(m.gpus.size()) * kGpuMilliWhole;
  }
  std::vector<TracePod> by_name = trace.pods;
  std::sort(by_name.begin(), by_name.end(), [](const TracePod& a, const TracePod& b) { return a.name < b.name; });
  for (TracePod& p : by_name) {
    p.creation_time = 0;
    p.deletion_time = kNeverDeleted;
  }
  in.original_pods = static_cast<std::int64_t>(by_name.size());
  std::mt19937_64 rng(seed);
  // 1. Shuffle (Fisher–Yates).
  in.pods = by_name;
  for (std::size_t i = in.pods.size(); i > 1; --i) std::swap(in.pods[i - 1], in.pods[uniform(rng, i)]);
  // 2. Tune to ratio × capacity: copies of random original pods appended, or random pods
  //    removed. Like the simulator, the loop that adds copies compares the total plus one
  //    device's milli of the drawn pod with the target, and stops at the first draw over it.
  const double target = tune_ratio * static_cast<double>(in.capacity_gpu_milli);
  std::int64_t total = 0;
  for (const TracePod& p : in.pods) total += p.gpu_demand_milli();
  if (static_cast<double>(total) > target) {
    while (static_cast<double>(total) > target && !in.pods.empty()) {
      const auto i = static_cast<std::size_t>(uniform(rng, in.pods.size()));
      total -= in.pods[i].gpu_demand_milli();
      in.pods.erase(in.pods.begin() + static_cast<std::ptrdiff_t>(i));
    }
  } else if (!by_name.empty()) {
    for (std::int64_t k = 0;; ++k) {
      const TracePod& drawn = by_name[static_cast<std::size_t>(uniform(rng, by_name.size()))];
      if (static_cast<double>(total + per_device_milli(drawn)) > target) break;
      TracePod copy = drawn;
      copy.name += "-tuned-" + std::to_string(k);
      total += copy.gpu_demand_milli();
      in.pods.push_back(std::move(copy));
    }
  }
  // 3. Tie ranks: the machine order FGD's models break ties with (machine_tie_ranks), drawn
  //    with the seed, so that an allocator given tie_seed = seed breaks ties as the greedy
  //    policies do.
  in.tie_rank = machine_tie_ranks(in.machines, seed);
  return in;
}

void measure_fill(FillRun& run, const std::vector<FillEvent>& events, std::int64_t capacity_milli) {
  run.curve.clear();
  if (capacity_milli <= 0 || events.empty()) return;
  const double to_pct = 100.0 / static_cast<double>(capacity_milli);
  // The analysis script's values, computed as it computes them (pandas, float64): arrived %
  // = milli / GPUs / 10, rounded half to even to an integer; allocated % the same way,
  // rounded to 2 decimals as Python's round() does (the decimal nearest the double's exact
  // value, which is what printf's "%.2f" gives).
  const double gpus = static_cast<double>(capacity_milli) / 1000.0;
  const auto round2 = [](double v) {
    char text[64];
    std::snprintf(text, sizeof text, "%.2f", v);
    return std::strtod(text, nullptr);
  };
  std::vector<std::int32_t> level(events.size());
  std::vector<double> allocated(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    level[i] = static_cast<std::int32_t>(std::nearbyint(static_cast<double>(events[i].arrived_milli) / gpus / 10.0));
    allocated[i] = round2(static_cast<double>(events[i].allocated_milli) / gpus / 10.0);
  }
  const auto mean_at = [&](std::int32_t lo, std::int32_t hi, std::size_t& last) -> std::optional<double> {
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (level[i] < lo || level[i] > hi) continue;
      sum += allocated[i];
      ++n;
      last = i;
    }
    if (n == 0) return std::nullopt;
    return round2(sum / static_cast<double>(n));
  };
  for (std::int32_t pct = 0; pct <= 130; ++pct) {
    std::size_t last = 0;
    std::optional<double> v = mean_at(pct, pct, last);
    if (!v) v = mean_at(pct - 1, pct + 1, last);
    if (!v) continue;
    run.curve.emplace_back(pct, *v);
    if (pct == 100) {
      run.arrived_gpu_pct = 100;
      run.unallocated_gpu_pct = 100.0 - *v;
      run.placed = events[last].placed;
      run.failed = events[last].failed;
    }
  }
  if (run.arrived_gpu_pct == 0) {  // the list never reached 99%: read the figure at its end
    run.arrived_gpu_pct = static_cast<double>(events.back().arrived_milli) * to_pct;
    run.unallocated_gpu_pct = 100.0 - allocated.back();
    run.placed = events.back().placed;
    run.failed = events.back().failed;
  }
  run.placed_total = events.back().placed;
  run.failed_total = events.back().failed;
  run.final_allocated_gpu_pct = static_cast<double>(events.back().allocated_milli) * to_pct;
}

FillRun run_batch_fill(const Atc23Input& input, std::int64_t batch, const RoundAllocator& allocator,
                       std::string policy, const ReplayProgress& progress) {
  const auto t0 = Clock::now();
  FillRun run;
  run.policy = std::move(policy);
  run.batch = batch;
  if (batch < 0) {
    run.error = "batch must be positive (or 0 for the whole list), found " + std::to_string(batch);
    return run;
  }
  if (!allocator) {
    run.error = "no allocator";
    return run;
  }
  if (std::string why = check_trace(Trace{input.machines, input.pods}); !why.empty()) {
    run.error = "invalid input: " + why;
    return run;
  }
  Master master(input.machines, input.pods);
  const auto n = static_cast<std::int64_t>(input.pods.size());
  const std::int64_t step = batch == 0 ? std::max<std::int64_t>(n, 1) : batch;
  std::vector<FillEvent> events;
  events.reserve(input.pods.size());
  FillEvent e;
  run.ok = true;
  for (std::int64_t begin = 0, round = 1; begin < n; begin += step, ++round) {
    const std::int64_t end = std::min(n, begin + step);
    for (std::int64_t p = begin; p < end; ++p) master.arrive(static_cast<std::int32_t>(p));
    // Placed pods never move here: the snapshot leaves them out (their machines' free
    // amounts account for them), as a master that pins running pods would.
    const RoundOutcome outcome = call_allocator(allocator, master.snapshot(round, 0, false));
    if (!outcome.ok) {
      run.ok = false;
      run.error = "round " + std::to_string(round) + ": " + outcome.error;
      break;
    }
    run.rejected += master.apply(outcome.allocation, round).rejected;
    // The batch's pods in arrival order; those left pending fail.
    for (std::int64_t p = begin; p < end; ++p) {
      const TracePod& pod = input.pods[static_cast<std::size_t>(p)];
      e.arrived_milli += pod.gpu_demand_milli();
      if (master.slot(static_cast<std::size_t>(p)).state == PodState::kRunning) {
        e.allocated_milli += pod.gpu_demand_milli();
        ++e.placed;
      } else {
        master.remove(static_cast<std::int32_t>(p));
        ++e.failed;
      }
      events.push_back(e);
    }
    master.compact();
    if (progress) progress(static_cast<std::size_t>(end), input.pods.size());
  }
  // The master refuses any move of a placed pod, so what it holds is what the events add up to.
  if (run.ok && master.used_gpu() != e.allocated_milli) {
    run.ok = false;
    run.error = "the allocator moved or stopped placed pods (" + std::to_string(master.used_gpu()) +
                " GPU milli allocated, " + std::to_string(e.allocated_milli) + " counted)";
  }
  if (run.ok) measure_fill(run, events, input.capacity_gpu_milli);
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return run;
}

bool write_fill_summary_csv(const std::vector<FillRun>& runs, const std::string& path, std::string* error) {
  return write_csv(path,
                   "policy,batch,seed,arrived_gpu_pct,unallocated_gpu_pct,placed,failed,placed_total,failed_total,"
                   "final_allocated_gpu_pct,rejected,seconds\n",
                   error, [&](std::FILE* f) {
                     for (const FillRun& r : runs) {
                       write_field(f, r.policy);
                       std::fprintf(f, ",%lld,%llu,%.2f,%.2f,%lld,%lld,%lld,%lld,%.4f,%lld,%.3f\n",
                                    static_cast<long long>(r.batch), static_cast<unsigned long long>(r.seed),
                                    r.arrived_gpu_pct, r.unallocated_gpu_pct, static_cast<long long>(r.placed),
                                    static_cast<long long>(r.failed), static_cast<long long>(r.placed_total),
                                    static_cast<long long>(r.failed_total), r.final_allocated_gpu_pct,
                                    static_cast<long long>(r.rejected), r.seconds);
                     }
                   });
}

bool write_fill_curve_csv(const std::vector<FillRun>& runs, const std::string& path, std::string* error) {
  return write_csv(path, "policy,batch,seed,arrived_gpu_pct,unallocated_gpu_pct,placed,failed\n", error,
                   [&](std::FILE* f) {
                     for (const FillRun& r : runs) {
                       for (const auto& [pct, allocated] : r.curve) {
                         write_field(f, r.policy);
                         std::fprintf(f, ",%lld,%llu,%d,%.2f,%lld,%lld\n", static_cast<long long>(r.batch),
                                      static_cast<unsigned long long>(r.seed), pct, 100.0 - allocated,
                                      static_cast<long long>(r.placed), static_cast<long long>(r.failed));
                       }
                     }
                   });
}

}  // namespace sluice
