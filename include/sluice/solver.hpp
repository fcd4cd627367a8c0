// The one entry point to every min-cost-flow backend:
//   solve(network, options) -> SolveResult
// The result says which backend and algorithm actually ran, whether it fell back, how
// long each step took, and carries a flow plus node potentials that prove optimality
// (see certificate.hpp). Nothing here throws.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/certificate.hpp"
#include "sluice/network.hpp"
#include "sluice/status.hpp"

namespace sluice {

enum class Backend {
  kAuto,                 // CUDA when a device exists and the instance is large enough, else CPU
  kCpu,                  // our cost-scaling push-relabel solver (src/cpu_fallback)
  kGpu,                  // the CUDA solver (kernels/); unavailable without a device
  kLemonNetworkSimplex,  // LEMON's NetworkSimplex: a reference, not ours
  kLemonCostScaling,     // LEMON's CostScaling: a reference, not ours
};

std::string_view to_string(Backend b);
// Parses "auto", "cpu", "gpu", "lemon" (= lemon-ns), "lemon-ns", "lemon-cs".
std::optional<Backend> parse_backend(std::string_view name);

// The CPU backend's algorithm.
enum class CpuAlgorithm {
  kAuto,            // chosen by the network's shape (the rule: src/host/solve.cpp)
  kCostScaling,     // ε-scaling push-relabel (src/cpu_fallback/cost_scaling.cpp)
  kNetworkSimplex,  // primal network simplex, block search (src/cpu_fallback/network_simplex.cpp)
};
std::string_view to_string(CpuAlgorithm a);
// Parses "auto", "cost-scaling", "network-simplex".
std::optional<CpuAlgorithm> parse_cpu_algorithm(std::string_view name);

struct SolveOptions {
  Backend backend = Backend::kAuto;
  CpuAlgorithm cpu_algorithm = CpuAlgorithm::kAuto;
  double ns_block_factor = 0;  // network simplex: pricing blocks of this many × √arcs; 0 = by
                               // the network's shape (see src/host/solve.cpp)
  bool verify = false;        // run the optimality certificate and store it in the result
  bool want_potentials = true;  // compute exact integer potentials (needed by verify)
  int scale_factor = 0;       // cost-scaling α (ε /= α per phase); 0 = the solver's default
  bool price_refinement = true;
  bool push_lookahead = true;
  bool global_updates = true;
  bool early_exit = true;     // stop scaling once the flow is provably optimal
  bool partial_augment = true;  // discharge by partial augment-relabel; false: push/relabel
  bool progress = false;      // print each phase (ε, time, pushes, relabels) to stderr (the
                              // sluice tool sets it when SLUICE_TRACE is in its environment)
  double update_frequency = 0;  // global price update after this many × n relabels; 0 = default
  // Raised by another thread to stop a solve early (the service's deadlines): the solve
  // returns kCancelled at its next check (every phase and every few thousand discharges).
  const std::atomic<bool>* cancel = nullptr;
  // kAuto runs the GPU solver from this many arcs on, when a device is present and the
  // network fits in its memory. < 0: the projected crossover (src/host/gpu_dispatch.hpp).
  // kGpu always tries the device and falls back to the CPU on any CUDA error.
  std::int64_t gpu_min_arcs = -1;
};

struct Timings {
  double validate_s = 0;    // input checks
  double setup_s = 0;       // building the residual graph, scaling costs
  double solve_s = 0;       // the algorithm itself
  double potentials_s = 0;  // exact potentials for the certificate
  double verify_s = 0;      // the certificate check
  double total_s = 0;
};

struct SolverStats {
  std::int64_t phases = 0;          // ε-scaling phases (refines)
  std::int64_t skipped_phases = 0;  // phases skipped by price refinement
  std::int64_t pushes = 0;
  std::int64_t relabels = 0;
  std::int64_t global_updates = 0;
  std::int64_t pivots = 0;          // network simplex
};

struct SolveResult {
  Status status = Status::kInvalidInput;
  std::string message;      // why, for every status but optimal
  std::optional<Backend> backend;  // the backend that produced this result (never kAuto);
                                   // empty when none ran (the network was refused first)
  std::string algorithm;    // e.g. "cost-scaling push-relabel"
  bool fell_back = false;   // a backend was requested or preferred but another ran
  std::string fallback_reason;
  std::string backend_reason;  // why this backend ran (the GPU dispatch rule's words)
  std::int64_t total_cost = 0;          // Σ cost(a)·flow(a), valid when optimal
  std::vector<std::int64_t> flow;       // per arc, in the network's arc order
  std::vector<std::int64_t> potential;  // per node: reduced cost = cost + p[tail] - p[head]
  Timings timings;
  SolverStats stats;
  std::optional<Certificate> certificate;  // set when options.verify
};

[[nodiscard]] SolveResult solve(const Network& network, const SolveOptions& options = {});

}  // namespace sluice
