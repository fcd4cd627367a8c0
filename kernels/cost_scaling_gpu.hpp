// The GPU solver's exported interface: plain C++, no CUDA types, so host code compiles the
// same with or without nvcc. Built from cost_scaling_solver.cu with CUDA, or from
// cost_scaling_solver_stub.cpp without it (same target, same symbols).
//
// solve() runs it for --solver gpu, and for --solver auto above the crossover
// (gpu_dispatch.hpp), when a device is present; any failure re-solves on the CPU and
// records why. It has not run on a device yet: its logic is validated on the host by
// host_executor/gpu_algorithm_host.hpp, which runs the same per-node steps
// (cost_scaling_ops.cuh, max_flow_ops.cuh, distance_ops.cuh) in the interleavings the
// kernels can produce, with the same phases and defaults as below.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/status.hpp"

namespace sluice::detail {
struct ResidualGraph;
}

namespace sluice::cuda {

struct CostScalingGpuParams {
  int alpha = 16;                          // ε /= α per phase
  std::int64_t max_rounds_per_refine = 0;  // 0: 64·(n+1)^2 + 4096; past it, kBackendError
  int block_size = 256;
  int device = 0;
  bool device_max_flow = true;   // feasibility on the device; false: `g` already holds a feasible flow
  bool global_updates = true;
  double update_frequency = 0.001;  // price update after this many × n relabels (at least one)
  bool price_refinement = true;
  bool early_exit = true;
  bool arc_fixing = true;
  bool push_all = true;
  std::int32_t tighten_max_sweeps = 32;
};

struct SolveOutcome {
  Status status = Status::kOptimal;
  std::string message;                  // why, for every status but optimal
  std::vector<std::int64_t> potential;  // floor(price / (n+1)): approximate, in original costs
  std::int64_t phases = 0;
  std::int64_t skipped_phases = 0;
  std::int64_t rounds = 0;
  std::int64_t max_flow_rounds = 0;
  std::int64_t global_updates = 0;
  double kernel_s = 0;  // from the first copy to the device to the last copy back (events)
};

// Device memory the solver allocates for a residual graph of n nodes and m2 residual
// arcs, CUB's scratch for compaction included; checked against the device's free memory
// before anything is allocated.
[[nodiscard]] constexpr std::int64_t device_bytes_needed(std::int64_t n, std::int64_t m2) {
  // first (n+1)·4; head, rev m2·4 each; cost, rescap m2·8 each; fixed m2; excess, price,
  // labels n·8 each; list n·4; flags n; CUB scratch (a few bytes per tile of items; n/4 +
  // 1 MiB bounds it); the round slots.
  return (n + 1) * 4 + m2 * (4 + 4 + 8 + 8 + 1) + n * (8 + 8 + 8 + 4 + 1) + n / 4 + (std::int64_t{1} << 20) + 256;
}

// Runs ε-scaling on the device: with device_max_flow, feasibility first (kInfeasible when
// supply cannot reach demand); otherwise `g` must already hold a feasible flow. No negative
// cycle of infinite arcs (the caller checks). Costs are the original ones (scaled inside).
// On kOptimal, g.rescap holds an optimal flow and `potential` a start for
// compute_exact_potentials. Never throws; every CUDA call is checked and its failure is
// returned as kBackendError with the call's text, as is too little device memory.
[[nodiscard]] SolveOutcome solve_cost_scaling_gpu(detail::ResidualGraph& g, const CostScalingGpuParams& params);

}  // namespace sluice::cuda
