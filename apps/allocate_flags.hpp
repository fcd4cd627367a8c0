// The allocate options as command-line flags, registered once for `sluice allocate`,
// `submit` and `replay` (which reach the same AllocateOptions in process or over the wire:
// to_request_options in protocol.hpp).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "sluice/allocate.hpp"
#include "sluice/protocol.hpp"

namespace sluice::cli {

// SLUICE_TRACE set in the tool's environment: every command traces its steps on stderr (the
// library itself reads no environment; AllocateOptions::trace and SolveOptions::progress).
inline bool trace_requested() { return std::getenv("SLUICE_TRACE") != nullptr; }

struct AllocateFlags {
  std::string cost_model = "spread";
  std::string solver = "auto";
  std::string algorithm = "auto";
  bool verify = false;
  bool no_aggregate = false;
  bool no_migration = false;
  bool no_preemption = false;
  std::int64_t migration_cost = 300;
  double candidate_slack = 2.0;
  std::int32_t max_resolves = 32;
  std::int32_t new_tasks_per_machine = 0;
  std::uint64_t tie_seed = 0;
  std::string workload;  // a file with the workload as text (workload_to_text), specs by ';' or lines

  // Registers the flags on `app`; `model` is the default cost model shown.
  void add_to(CLI::App& app, const std::string& model) {
    cost_model = model;
    app.add_option("--cost-model", cost_model,
                   "spread (least allocated), pack (best fit), quincy (locality, wait time), priority (preempts "
                   "lower priority), fgd (GPU fragmentation, FGD's score), alloc (GPU share first); "
                   "docs/allocation.md")
        ->capture_default_str();
    app.add_option("--solver", solver, "auto, cpu, gpu, lemon, lemon-cs")->capture_default_str();
    app.add_option("--algorithm", algorithm,
                   "the CPU solver's algorithm: auto (by the network's shape), cost-scaling, network-simplex")
        ->capture_default_str();
    app.add_flag("--verify", verify, "prove each solve's flow optimal (certificate)");
    app.add_flag("--no-aggregate", no_aggregate, "one flow node per task instead of per shape");
    app.add_flag("--no-migration", no_migration, "running tasks never move");
    app.add_flag("--no-preemption", no_preemption, "running tasks are never stopped");
    app.add_option("--migration-cost", migration_cost, "added to the cost of moving a running task")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000}));
    app.add_option("--candidate-slack", candidate_slack,
                   "candidate machines per shape hold this x its tasks; 0 = every fitting machine")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1e6));
    app.add_option("--max-resolves", max_resolves,
                   "re-solves for the tasks still without a machine after the first solve (0: none)")
        ->capture_default_str()
        ->check(CLI::Range(0, 1000));
    app.add_option("--new-tasks-per-machine", new_tasks_per_machine,
                   "new tasks a machine may take in one solve (0: auto, 1 where the cost wanders; -1: no limit)")
        ->capture_default_str()
        ->check(CLI::Range(-1, 1 << 30));
    app.add_option("--tie-seed", tie_seed, "fgd, alloc: seed of the machine order that breaks ties")
        ->capture_default_str();
    app.add_option("--workload", workload,
                   "fgd, alloc: FILE with the target workload, 'cpu_milli,memory_mib,gpus,gpu_milli,weight[,model...]' "
                   "per line (default: the snapshot's own tasks)");
  }

  // The options these flags ask for; nullopt with `error` set when one is wrong. SLUICE_TRACE
  // in the environment turns on the allocation's and the solver's traces on stderr.
  [[nodiscard]] std::optional<AllocateOptions> options(std::string& error) const {
    AllocateOptions o;
    const auto model = parse_cost_model(cost_model);
    if (!model) {
      error = "unknown cost model '" + cost_model + "' (spread, pack, quincy, priority, fgd, alloc)";
      return std::nullopt;
    }
    const auto backend = parse_backend(solver);
    if (!backend) {
      error = "unknown solver '" + solver + "' (auto, cpu, gpu, lemon, lemon-cs)";
      return std::nullopt;
    }
    const auto cpu_algorithm = parse_cpu_algorithm(algorithm);
    if (!cpu_algorithm) {
      error = "unknown CPU algorithm '" + algorithm + "' (auto, cost-scaling, network-simplex)";
      return std::nullopt;
    }
    o.cost_model = *model;
    o.solve.backend = *backend;
    o.solve.cpu_algorithm = *cpu_algorithm;
    o.solve.verify = verify;
    o.trace = trace_requested();
    o.aggregate = !no_aggregate;
    o.allow_migration = !no_migration;
    o.allow_preemption = !no_preemption;
    o.migration_cost = migration_cost;
    o.candidate_slack = candidate_slack;
    o.max_resolves = max_resolves;
    o.new_tasks_per_machine = new_tasks_per_machine;
    o.tie_seed = tie_seed;
    if (!workload.empty()) {
      std::ifstream in(workload);
      if (!in) {
        error = "cannot read the workload file " + workload;
        return std::nullopt;
      }
      std::stringstream text;
      text << in.rdbuf();
      std::string specs = text.str();
      for (char& c : specs) c = c == '\n' ? ';' : c;
      while (!specs.empty() && (specs.back() == ';' || specs.back() == '\r' || specs.back() == ' ')) specs.pop_back();
      auto parsed = parse_workload_text(specs, &error);
      if (!parsed) {
        error = workload + ": " + error;
        return std::nullopt;
      }
      o.workload = std::move(*parsed);
    }
    return o;
  }
};

}  // namespace sluice::cli
