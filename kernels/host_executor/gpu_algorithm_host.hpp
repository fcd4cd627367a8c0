// The GPU cost-scaling algorithm run on the host: the per-node steps of
// kernels/cost_scaling_ops.cuh (the very functions the CUDA kernels call), driven in
// randomized, interleaved orders a GPU could produce, so that CI checks the GPU
// algorithm's logic without a device.
//
// Problem: min Σ c(a) f(a) over the residual graph (residual_graph.hpp), as in
// cost_scaling.hpp. Feasibility is settled first, by the device's push-relabel max flow
// (max_flow_ops.cuh, with global relabels) or, when device_max_flow is off, by the CPU's
// find_feasible_flow; a refine never runs on an infeasible instance.
//
// Algorithm: ε-scaling with costs multiplied by K = n + 1 and ε /= α per phase. Per phase,
// in launch order: arc fixing (|c_p| > 2nε of the previous phase), price refinement (skip
// the refine when tightened prices make the flow ε-optimal already), then the refine:
// saturate every arc of negative reduced cost, then rounds until no node holds excess,
// with a global price update first and again after every update_frequency × n relabels;
// after the refine, once ε is below one original unit, the early optimality exit
// (tightening with slack 0). The label steps are in distance_ops.cuh; every frontier is
// compacted as DeviceSelect::Flagged does (select_host.hpp). A round takes the active
// nodes, shuffles them with a seeded RNG (or keeps index order when shuffle is off), and
// runs their steps in that order. The models:
//   kSequential:   discharge_step (push if admissible, else relabel) per node, each step
//                  reading the current state: one sequentially consistent interleaving.
//   kTwoPhaseRacy: the kernels' model. A relabel phase (relabel_step on every active node)
//                  then a push phase (push_step). In each phase every neighbour-price read
//                  independently returns the value at the phase's start or the current
//                  one (a GPU thread reading before or after another's write).
//   kCombinedRacy: discharge_step with the same stale-or-fresh reads: Hong's single-kernel
//                  form. Not safe for cost scaling (a push decided on a stale p(w) while w
//                  relabels can leave c_p < -ε on the reverse arc); kept to show that the
//                  invariant check catches it.
// Invariant: ε-optimality after every round, price update and skipped refine, and valid
// max-flow heights, checked when check_invariants is set (a violation is reported as
// kBackendError, naming the arc). Label sweeps read their own label stale or fresh in the
// same way. An iteration cap reports kBackendError instead of hanging.
//
// Work: every launch the device would make is counted (work_model.hpp) for the projected
// device time.
//
// Complexity: O(n^2 m log(nC)) in theory (generic push-relabel per refine); a test
// harness, not a production path.
//
// Follows: Goldberg & Tarjan 1990 (cost scaling), B. Hong 2008 and He & Hong 2010
// (lock-free push-relabel).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/network.hpp"
#include "sluice/solver.hpp"
#include "work_model.hpp"

namespace sluice::detail {

enum class InterleavingModel { kSequential, kTwoPhaseRacy, kCombinedRacy };

struct GpuHostParams {
  int alpha = 16;
  InterleavingModel model = InterleavingModel::kTwoPhaseRacy;
  std::uint64_t seed = 1;                  // shuffles and stale-or-fresh read choices
  double stale_probability = 0.5;          // racy models: chance that a read is stale
  bool shuffle = true;                     // false: steps in index order (work-model runs)
  bool check_invariants = true;            // ε-optimality, capacities and heights every round
  std::int64_t max_rounds_per_refine = 0;  // 0: 64·(n+1)^2 + 4096
  bool device_max_flow = true;             // feasibility by max_flow_ops.cuh (else the CPU's)
  bool global_updates = true;              // price updates (distance_ops.cuh)
  double update_frequency = 0.001;         // another update after this many × n relabels (at least
                                           // one): chosen by bench/results/gpu_projection/
  bool price_refinement = true;
  bool early_exit = true;
  bool arc_fixing = true;
  std::int64_t fixing_percent = 200;       // fix arcs with |c_p| > (this / 100)·n·ε (2nε: the theorem)
  bool push_all = true;                    // push phase: every admissible arc (else the best one)
  std::int32_t tighten_max_sweeps = 32;    // price refinement / optimality test give up after
};

struct GpuHostStats {
  std::int64_t phases = 0;
  std::int64_t skipped_phases = 0;   // by price refinement or the early exit
  std::int64_t rounds = 0;           // cost-scaling rounds (relabel + push launches)
  std::int64_t pushes = 0;
  std::int64_t relabels = 0;
  std::int64_t global_updates = 0;
  std::int64_t relax_sweeps = 0;     // distance sweeps, all updates and global relabels
  std::int64_t max_flow_rounds = 0;
  std::int64_t fixed_arcs = 0;
  std::int64_t freed_arcs = 0;       // fixed arcs found violated after a refine and freed
  bool early_exit = false;
  WorkTally work;
};

// Validates, builds the residual graph, settles feasibility, runs the executor and
// extracts the flow and exact potentials (compute_exact_potentials), like solve_cpu.
// backend = kGpu, algorithm naming the host executor. Never throws.
[[nodiscard]] SolveResult solve_gpu_algorithm_on_host(const Network& network, const GpuHostParams& params,
                                                      GpuHostStats* stats = nullptr);

// One round of the given model on an explicit state, for unit tests of the models:
// returns an empty string, or the first ε-optimality violation after the round.
struct RoundState {
  std::vector<std::int32_t> first, head, rev;
  std::vector<std::int64_t> cost, rescap, excess, price;
};
[[nodiscard]] std::string run_one_round(RoundState& state, std::int64_t eps, const GpuHostParams& params);

// The labels of one global price update (eps > 0: lengths floor(c_p/ε) + 1 under the
// state's prices) or global relabel (eps == 0: one per arc): distances to the nearest node
// with negative excess, capped at `limit`, computed by the frontier sweeps in the
// configured interleaving; empty on a sweep failure. For tests against a reference.
[[nodiscard]] std::vector<std::int64_t> run_distances(RoundState& state, std::int64_t eps, std::int64_t limit,
                                                      const GpuHostParams& params);

}  // namespace sluice::detail
