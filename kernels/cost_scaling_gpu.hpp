// The GPU cost-scaling solver's exported interface: plain C++, no CUDA types, so host code
// compiles the same with or without nvcc. Built from cost_scaling_solver.cu with CUDA, or
// from cost_scaling_solver_stub.cpp without it (same target, same symbols).
//
// solve() runs it for --solver gpu when a device is present (any failure re-solves on the
// CPU and records why); kAuto does not choose it until a crossover size is measured on a
// device. It has not run on a device yet: its logic is validated on the host by
// src/cpu_fallback/gpu_algorithm_host.hpp, which runs the same per-node steps
// (cost_scaling_ops.cuh) in the interleavings the kernels can produce.
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
};

struct SolveOutcome {
  Status status = Status::kOptimal;
  std::string message;                  // why, for every status but optimal
  std::vector<std::int64_t> potential;  // floor(price / (n+1)): approximate, in original costs
  std::int64_t phases = 0;
  std::int64_t rounds = 0;
};

// Runs ε-scaling on the device. `g` must already hold a feasible flow (find_feasible_flow)
// and no negative cycle of infinite arcs; costs are the original ones (scaled internally).
// On kOptimal, g.rescap holds an optimal flow and `potential` a start for
// compute_exact_potentials. Never throws; every CUDA call is checked and its failure is
// returned as kBackendError with the call's text.
[[nodiscard]] SolveOutcome solve_cost_scaling_gpu(detail::ResidualGraph& g, const CostScalingGpuParams& params);

}  // namespace sluice::cuda
