// `sluice replay --fill --protocol atc23` (fill_command.hpp): parses the lists, runs every
// (policy, batch, seed) on a pool of threads, writes the CSV files and prints the means.
#include "fill_command.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "sluice/fill_experiment.hpp"

namespace sluice::cli {
namespace {

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::optional<std::int64_t> parse_int(const std::string& s) {
  std::int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// "42-51" or "1,5,9" (ranges allowed in the list); nullopt and a message when malformed.
std::optional<std::vector<std::uint64_t>> parse_seeds(const std::string& text, std::string& error) {
  std::vector<std::uint64_t> out;
  for (const std::string& item : split(text)) {
    const auto dash = item.find('-', 1);
    const auto lo = parse_int(item.substr(0, dash));
    const auto hi = dash == std::string::npos ? lo : parse_int(item.substr(dash + 1));
    if (!lo || !hi || *lo < 0 || *hi < *lo || *hi - *lo > 10'000) {
      error = "--seeds: '" + item + "' is not a seed or a range like 42-51";
      return std::nullopt;
    }
    for (std::int64_t s = *lo; s <= *hi; ++s) out.push_back(static_cast<std::uint64_t>(s));
  }
  if (out.empty()) error = "--seeds: no seed given";
  return out.empty() ? std::nullopt : std::optional(out);
}

struct Job {
  std::string policy;
  std::optional<GreedyPolicy> greedy;
  CostModel model = CostModel::kFgd;
  std::int64_t batch = 1;
  std::uint64_t seed = 0;
};

}  // namespace

int run_fill_atc23(const FillAtc23Args& args, const Trace& trace, const AllocatorFactory& allocator,
                   const std::function<void(const std::string&, const std::string&)>& plot) {
  std::string error;
  const auto seeds = parse_seeds(args.seeds, error);
  if (!seeds) {
    std::cerr << "sluice: " << error << "\n";
    return 2;
  }
  std::vector<std::int64_t> batches;
  for (const std::string& b : split(args.batches)) {
    const auto v = b == "all" ? std::optional<std::int64_t>(0) : parse_int(b);
    if (!v || *v < 0) {
      std::cerr << "sluice: --batch: '" << b << "' is not a positive size or 'all'\n";
      return 2;
    }
    batches.push_back(*v);
  }
  std::vector<CostModel> models;
  for (const std::string& name : split(args.models == "all" ? "spread,pack,quincy,priority,fgd" : args.models)) {
    const auto m = parse_cost_model(name);
    if (!m) {
      std::cerr << "sluice: --models: unknown cost model '" << name << "'\n";
      return 2;
    }
    models.push_back(*m);
  }
  std::vector<GreedyPolicy> baselines;
  for (const std::string& name : split(args.baselines)) {
    const auto p = parse_greedy_policy(name);
    if (!p) {
      std::cerr << "sluice: --baselines: unknown policy '" << name << "' (fgd-greedy, best-fit, gpu-packing)\n";
      return 2;
    }
    baselines.push_back(*p);
  }
  if (!(args.tune_ratio > 0) || args.tune_ratio > 10) {
    std::cerr << "sluice: --tune must be in (0, 10], found " << args.tune_ratio << "\n";
    return 2;
  }
  if (args.jobs < 1 || args.jobs > 256) {
    std::cerr << "sluice: --jobs must be 1..256, found " << args.jobs << "\n";
    return 2;
  }

  // 1. Every run, baselines first (their batch is 1: one pod at a time).
  std::vector<Job> jobs;
  for (const std::uint64_t seed : *seeds) {
    for (const GreedyPolicy p : baselines) jobs.push_back(Job{std::string(to_string(p)), p, CostModel::kFgd, 1, seed});
    for (const CostModel m : models) {
      for (const std::int64_t b : batches) jobs.push_back(Job{std::string(to_string(m)), std::nullopt, m, b, seed});
    }
  }
  const std::vector<WorkloadSpec> workload = trace_workload(trace.pods);
  std::printf("FGD fill experiment (atc23): %zu seeds, %zu runs, workload model of %zu pod specs, tuned to %.2fx the "
              "GPU capacity\n",
              seeds->size(), jobs.size(), workload.size(), args.tune_ratio);

  // 2. Run them on `jobs` threads; the inputs are built once per seed.
  std::map<std::uint64_t, Atc23Input> inputs;
  for (const std::uint64_t seed : *seeds) inputs.emplace(seed, atc23_input(trace, seed, args.tune_ratio));
  std::vector<FillRun> runs(jobs.size());
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::mutex print;
  const auto worker = [&] {
    for (std::size_t i = next.fetch_add(1); i < jobs.size(); i = next.fetch_add(1)) {
      const Job& job = jobs[i];
      const Atc23Input& input = inputs.at(job.seed);
      FillRun run;
      if (job.greedy) {
        run = run_greedy_fill(input, *job.greedy, workload);
      } else {
        AllocateOptions o = args.base;
        o.cost_model = job.model;
        o.workload = workload;
        o.tie_seed = job.seed;  // ties broken as the greedy policies break them in this seed
        o.allow_migration = false;  // pods never move in the experiment
        o.allow_preemption = false;
        run = run_batch_fill(input, job.batch, allocator(o), job.policy);
      }
      run.seed = job.seed;
      runs[i] = std::move(run);
      const std::size_t finished = done.fetch_add(1) + 1;
      if (!args.quiet) {
        const std::lock_guard lock(print);
        const FillRun& r = runs[i];
        std::fprintf(stderr, "[%zu/%zu] %s batch %s seed %llu: %s\n", finished, jobs.size(), r.policy.c_str(),
                     r.batch == 0 ? "all" : std::to_string(r.batch).c_str(), static_cast<unsigned long long>(r.seed),
                     r.ok ? (std::to_string(r.unallocated_gpu_pct) + "% unallocated at 100% arrived, " +
                             std::to_string(r.failed) + " failed, " + std::to_string(r.seconds) + " s")
                                .c_str()
                          : r.error.c_str());
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < args.jobs; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();

  // 3. CSV files, the table of means, the plot.
  const std::string summary = args.out + "/fill_summary.csv";
  const std::string curves = args.out + "/fill.csv";
  if (!write_fill_summary_csv(runs, summary, &error) || !write_fill_curve_csv(runs, curves, &error)) {
    std::cerr << "sluice: " << error << "\n";
    return 2;
  }
  struct Mean {
    double unallocated = 0, placed = 0, failed = 0, final_allocated = 0, seconds = 0;
    int n = 0;
  };
  std::vector<std::pair<std::string, Mean>> means;  // in job order
  bool all_ok = true;
  for (const FillRun& r : runs) {
    all_ok = all_ok && r.ok && r.rejected == 0;
    if (!r.ok) {
      std::cerr << "sluice: " << r.policy << " batch " << r.batch << " seed " << r.seed << " failed: " << r.error
                << "\n";
      continue;
    }
    const std::string key = r.policy + (r.batch == 1 ? "" : "@" + (r.batch == 0 ? std::string("all") : std::to_string(r.batch)));
    auto it = std::find_if(means.begin(), means.end(), [&](const auto& m) { return m.first == key; });
    if (it == means.end()) it = means.insert(means.end(), {key, Mean{}});
    Mean& m = it->second;
    m.unallocated += r.unallocated_gpu_pct;
    m.placed += static_cast<double>(r.placed);
    m.failed += static_cast<double>(r.failed);
    m.final_allocated += r.final_allocated_gpu_pct;
    m.seconds += r.seconds;
    ++m.n;
  }
  std::printf("\n%-16s %6s %22s %10s %10s %16s %9s\n", "policy@batch", "seeds", "unallocated GPU % @100%", "placed",
              "failed", "final alloc. %", "s/run");
  for (const auto& [key, m] : means) {
    std::printf("%-16s %6d %22.2f %10.1f %10.1f %16.2f %9.2f\n", key.c_str(), m.n, m.unallocated / m.n, m.placed / m.n,
                m.failed / m.n, m.final_allocated / m.n, m.seconds / m.n);
  }
  std::printf("summary: %s\ncurves: %s\n", summary.c_str(), curves.c_str());
  if (plot) plot(curves, args.out + "/fill.png");
  return all_ok ? 0 : 1;
}

}  // namespace sluice::cli
