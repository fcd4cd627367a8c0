// `sluice replay --fill --protocol atc23`: the FGD paper's fill experiment over seeds,
// policies and batch sizes (include/sluice/fill_experiment.hpp, docs/fill_experiment.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sluice/allocate.hpp"
#include "sluice/trace_replay.hpp"

namespace sluice::cli {

struct FillAtc23Args {
  std::string seeds = "42-51";                         // "42-51", "42,43", "7"
  std::string batches = "1,10,50";                     // sizes, or "all" for the whole list at once
  std::string models = "fgd";                          // cost models through the allocator; "all"; "" for none
  std::string baselines = "fgd-greedy,best-fit,gpu-packing";  // one-pod-at-a-time policies; "" for none
  double tune_ratio = 1.3;
  int jobs = 1;        // runs in parallel
  std::string out = "replay";
  bool quiet = false;  // no progress line
  AllocateOptions base;  // the allocator's options; each run sets its model, workload, tie seed
};

// The allocator for a cost model with the experiment's options (its workload, no moves of
// placed pods). Called from several threads at once when jobs > 1: each call returns an
// allocator of its own.
using AllocatorFactory = std::function<RoundAllocator(const AllocateOptions& options)>;

// Runs every (policy, batch, seed), writes OUT/fill_summary.csv and OUT/fill.csv, prints the
// table of means; `plot(csv, png)` draws the curves. Returns the exit code.
int run_fill_atc23(const FillAtc23Args& args, const Trace& trace, const AllocatorFactory& allocator,
                   const std::function<void(const std::string& csv, const std::string& png)>& plot);

}  // namespace sluice::cli
