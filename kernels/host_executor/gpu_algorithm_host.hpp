// The GPU cost-scaling algorithm run on the host: the per-node steps of
// kernels/cost_scaling_ops.cuh (the very functions the CUDA kernels call), driven in
// randomized, interleaved orders a GPU could produce, so that CI checks the GPU
// algorithm's logic without a device.
//
// Problem: min Σ c(a) f(a) over the residual graph (residual_graph.hpp), as in
// cost_scaling.hpp; feasibility is settled first by find_feasible_flow, exactly as the CPU
// solver does, so a refine never runs on an infeasible instance.
//
// Algorithm: ε-scaling with costs multiplied by K = n + 1 and ε /= α per phase (the CPU
// solver's outer loop, without its heuristics). Each refine saturates every arc of
// negative reduced cost (saturate_step on every node), then repeats rounds until no node
// holds excess. A round takes the active nodes, shuffles them with a seeded RNG, and runs
// their steps in that order. The models:
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
// Invariant: ε-optimality after every round, checked when check_invariants is set (a
// violation is reported as kBackendError, naming the arc). An iteration cap reports
// kBackendError instead of hanging.
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

namespace sluice::detail {

enum class InterleavingModel { kSequential, kTwoPhaseRacy, kCombinedRacy };

struct GpuHostParams {
  int alpha = 16;
  InterleavingModel model = InterleavingModel::kTwoPhaseRacy;
  std::uint64_t seed = 1;                  // shuffles and stale-or-fresh read choices
  double stale_probability = 0.5;          // racy models: chance that a price read is stale
  bool check_invariants = true;            // ε-optimality and non-negative capacities every round
  std::int64_t max_rounds_per_refine = 0;  // 0: 64·(n+1)^2 + 4096
};

struct GpuHostStats {
  std::int64_t phases = 0;
  std::int64_t rounds = 0;
  std::int64_t pushes = 0;
  std::int64_t relabels = 0;
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

}  // namespace sluice::detail
