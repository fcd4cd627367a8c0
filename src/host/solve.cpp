// Dispatch: validate, pick a backend (GPU if present and worthwhile, else CPU), run it,
// record what ran and why, optionally verify the result with the certificate.
#include <chrono>
#include <string>

#include "cost_scaling.hpp"
#include "cost_scaling_gpu.hpp"
#include "cuda_device.hpp"
#include "gpu_dispatch.hpp"
#include "lemon_reference.hpp"
#include "residual_graph.hpp"
#include "solve_residual.hpp"
#include "seconds_since.hpp"
#include "sluice/solver.hpp"

namespace sluice {
namespace {

using detail::Clock;
using detail::seconds_since;

SolveResult solve_residual(const Network& network, Backend backend, const char* algorithm, const detail::Engine& engine) {
  SolveResult result;
  result.backend = backend;
  result.algorithm = algorithm;
  const auto t = Clock::now();
  detail::ResidualGraph g = detail::build_residual_graph(network);
  result.timings.setup_s = seconds_since(t);
  detail::solve_on_residual(network, g, engine, result);
  return result;
}

SolveResult solve_cpu(const Network& network, const SolveOptions& options) {
  const detail::CpuChoice choice = detail::choose_cpu_algorithm(network, options);
  if (choice.algorithm == CpuAlgorithm::kNetworkSimplex) {
    return detail::solve_network_simplex(network, options, choice.block_factor, nullptr, nullptr);
  }
  const detail::CostScalingParams params = detail::cpu_params(options);
  return solve_residual(network, Backend::kCpu, "cost-scaling push-relabel",
                        [&](detail::ResidualGraph& g, SolverStats& stats) {
                          return detail::solve_cost_scaling(g, params, options.want_potentials, stats);
                        });
}

// The CUDA solver (kernels/cost_scaling_solver.cu): it settles feasibility itself (its
// max-flow stage) and its potentials are approximate, made exact here on the host. Its
// flow is checked before anything reads it: balanced and within capacities, or the
// result is a backend error (and solve() re-solves on the CPU).
SolveResult solve_gpu(const Network& network, const SolveOptions& options) {
  cuda::CostScalingGpuParams params;
  if (options.scale_factor > 0) params.alpha = options.scale_factor;
  params.price_refinement = options.price_refinement;
  params.global_updates = options.global_updates;
  params.early_exit = options.early_exit;
  SolveResult result;
  result.backend = Backend::kGpu;
  result.algorithm = "cost-scaling push-relabel (CUDA, two-phase lock-free rounds)";
  const auto t = Clock::now();
  detail::ResidualGraph g = detail::build_residual_graph(network);
  result.timings.setup_s = seconds_since(t);
  detail::solve_on_residual(
      network, g,
      [&](detail::ResidualGraph& rg, SolverStats& stats) {
        cuda::SolveOutcome gpu = cuda::solve_cost_scaling_gpu(rg, params);
        stats.phases += gpu.phases;
        stats.skipped_phases += gpu.skipped_phases;
        stats.global_updates += gpu.global_updates;
        detail::EngineOutcome out;
        out.status = gpu.status;
        out.message = std::move(gpu.message);
        if (out.status != Status::kOptimal) return out;
        for (const std::int64_t x : rg.excess) {
          if (x != 0) {
            out.status = Status::kBackendError;
            out.message = "the GPU's flow leaves a node unbalanced";
            return out;
          }
        }
        for (const std::int64_t r : rg.rescap) {
          if (r < 0) {
            out.status = Status::kBackendError;
            out.message = "the GPU's flow exceeds an arc's capacity";
            return out;
          }
        }
        out.potential = std::move(gpu.potential);
        if (!detail::compute_exact_potentials(rg, out.potential)) {
          out.status = Status::kBackendError;
          out.message = "the GPU's flow admits a negative residual cycle (not optimal)";
        }
        return out;
      },
      result, detail::Feasibility::kEngineDecides);
  return result;
}

// The devices, queried once per process: with a driver present the first query
// initialises the CUDA runtime, which no solve should pay for again.
const cuda::DeviceQuery& devices() {
  static const cuda::DeviceQuery query = cuda::query_devices();
  return query;
}

}  // namespace

std::string_view to_string(Backend b) {
  switch (b) {
    case Backend::kAuto: return "auto";
    case Backend::kCpu: return "cpu";
    case Backend::kGpu: return "gpu";
    case Backend::kLemonNetworkSimplex: return "lemon-ns";
    case Backend::kLemonCostScaling: return "lemon-cs";
  }
  return "unknown";
}

std::string_view to_string(CpuAlgorithm a) {
  switch (a) {
    case CpuAlgorithm::kAuto: return "auto";
    case CpuAlgorithm::kCostScaling: return "cost-scaling";
    case CpuAlgorithm::kNetworkSimplex: return "network-simplex";
  }
  return "unknown";
}

std::optional<CpuAlgorithm> parse_cpu_algorithm(std::string_view name) {
  for (const CpuAlgorithm a : {CpuAlgorithm::kAuto, CpuAlgorithm::kCostScaling, CpuAlgorithm::kNetworkSimplex}) {
    if (name == to_string(a)) return a;
  }
  return std::nullopt;
}

std::optional<Backend> parse_backend(std::string_view name) {
  if (name == "auto") return Backend::kAuto;
  if (name == "cpu") return Backend::kCpu;
  if (name == "gpu") return Backend::kGpu;
  if (name == "lemon" || name == "lemon-ns") return Backend::kLemonNetworkSimplex;
  if (name == "lemon-cs") return Backend::kLemonCostScaling;
  return std::nullopt;
}

SolveResult solve(const Network& network, const SolveOptions& options) {
  const auto t0 = Clock::now();
  SolveResult result;
  const Validation validation = network.validate();
  const double validate_s = seconds_since(t0);
  if (!validation.ok()) {
    result.status = validation.status;
    result.message = validation.message;
    result.timings.validate_s = validate_s;
    result.timings.total_s = seconds_since(t0);
    return result;
  }

  switch (options.backend) {
    case Backend::kLemonNetworkSimplex:
    case Backend::kLemonCostScaling:
      result = detail::solve_with_lemon(network, options.backend == Backend::kLemonNetworkSimplex);
      break;
    case Backend::kGpu:
    case Backend::kAuto: {
      const detail::GpuDecision gpu = detail::decide_gpu(network.num_nodes(), network.num_arcs(), options, devices());
      if (gpu.use_gpu) {
        result = solve_gpu(network, options);
        result.backend_reason = gpu.reason;
        // Any CUDA failure, and a price overflow (the device's global updates move prices
        // further than the CPU's do, so the CPU may still fit): solve again on the CPU and say
        // so; the CPU's status is the answer.
        if (result.status == Status::kBackendError || result.status == Status::kCostOverflow) {
          const std::string why = "the GPU solver failed: " + result.message;
          result = solve_cpu(network, options);
          result.fell_back = true;
          result.fallback_reason = why;
          result.backend_reason = why;
        }
        break;
      }
      result = solve_cpu(network, options);
      // An explicit GPU request that the CPU served is a fallback; kAuto choosing the CPU
      // is the normal path and records the reason only.
      result.fell_back = options.backend == Backend::kGpu;
      result.fallback_reason = gpu.reason;
      result.backend_reason = gpu.reason;
      break;
    }
    case Backend::kCpu:
      result = solve_cpu(network, options);
      result.backend_reason = "asked for the CPU";
      break;
  }
  result.timings.validate_s = validate_s;

  detail::attach_certificate(network, options, result);
  result.timings.total_s = seconds_since(t0);
  return result;
}

}  // namespace sluice
