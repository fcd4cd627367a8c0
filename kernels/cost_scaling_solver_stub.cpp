// CPU-only build: the same symbols as cost_scaling_solver.cu, reporting that CUDA is absent.
#include "cost_scaling_gpu.hpp"

namespace sluice::cuda {

SolveOutcome solve_cost_scaling_gpu(detail::ResidualGraph& /*g*/, const CostScalingGpuParams& /*params*/) {
  SolveOutcome out;
  out.status = Status::kBackendUnavailable;
  out.message = "backend unavailable: not built with CUDA (configured with SLUICE_ENABLE_CUDA=OFF)";
  return out;
}

}  // namespace sluice::cuda
