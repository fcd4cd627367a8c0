// Host loop of the GPU cost-scaling solver: ε-scaling phases (costs × (n+1), ε /= α, as in
// src/cpu_fallback/cost_scaling.hpp, without its heuristics), each refine a saturate launch
// then rounds of compact -> relabel -> push until no node holds excess.
//
// Problem: min-cost flow on the residual graph, from a feasible flow. Invariant:
// ε-optimality after every round (the two-phase model validated on the host by
// gpu_algorithm_host.hpp). Complexity: O(n^2) rounds per refine in the worst case; one
// small device-to-host copy per round decides termination.
// Follows: Goldberg & Tarjan 1990; Hong 2008; He & Hong 2010.
//
// Every CUDA call is checked; a failure clears the sticky error and returns kBackendError
// naming the call. Launches do not synchronize unless SLUICE_CUDA_DEBUG_SYNC is defined.
#include <cuda_runtime.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cost_scaling_gpu.hpp"
#include "cost_scaling_kernels.cuh"
#include "residual_graph.hpp"

namespace sluice::cuda {
namespace {

constexpr std::int64_t kMaxScaledCost = std::int64_t{1} << 61;

SolveOutcome failed(SolveOutcome out, const char* what, cudaError_t err) {
  out.status = Status::kBackendError;
  out.message = std::string(what) + ": " + cudaGetErrorString(err);
  (void)cudaGetLastError();
  return out;
}

#define SLUICE_CUDA_CHECK(call)                                             \
  do {                                                                      \
    const cudaError_t sluice_err_ = (call);                                 \
    if (sluice_err_ != cudaSuccess) return failed(out, #call, sluice_err_); \
  } while (0)

// A launch is checked at once (configuration errors); with SLUICE_CUDA_DEBUG_SYNC also
// synchronized, so a fault is reported by the kernel that caused it.
#if defined(SLUICE_CUDA_DEBUG_SYNC)
#define SLUICE_CUDA_CHECK_LAUNCH(kernel)                                               \
  do {                                                                                 \
    cudaError_t sluice_err_ = cudaGetLastError();                                      \
    if (sluice_err_ == cudaSuccess) sluice_err_ = cudaDeviceSynchronize();             \
    if (sluice_err_ != cudaSuccess) return failed(out, kernel " launch", sluice_err_); \
  } while (0)
#else
#define SLUICE_CUDA_CHECK_LAUNCH(kernel)                                               \
  do {                                                                                 \
    const cudaError_t sluice_err_ = cudaGetLastError();                                \
    if (sluice_err_ != cudaSuccess) return failed(out, kernel " launch", sluice_err_); \
  } while (0)
#endif

// Owns one device allocation.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (ptr_ != nullptr) (void)cudaFree(ptr_);
  }
  cudaError_t allocate(std::size_t bytes) { return cudaMalloc(&ptr_, bytes == 0 ? 1 : bytes); }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
};

inline std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

SolveOutcome solve_cost_scaling_gpu(detail::ResidualGraph& g, const CostScalingGpuParams& params) {
  SolveOutcome out;
  const std::int32_t n = g.n;
  const std::int32_t m2 = g.m2;
  const std::int64_t k = static_cast<std::int64_t>(n) + 1;
  // 1. Scaled costs, after checking that they fit.
  if (static_cast<__int128>(g.max_abs_cost) * k > kMaxScaledCost) {
    out.status = Status::kCostOverflow;
    out.message = "max |cost| " + std::to_string(g.max_abs_cost) + " times (n+1) exceeds 2^61";
    return out;
  }
  std::vector<std::int64_t> scaled(g.cost.size());
  for (std::size_t e = 0; e < scaled.size(); ++e) scaled[e] = g.cost[e] * k;

  // 2. Device buffers and copies.
  SLUICE_CUDA_CHECK(cudaSetDevice(params.device));
  DeviceBuffer first, head, rev, cost, rescap, excess, price, list, count, err;
  const std::size_t nz = static_cast<std::size_t>(n);
  const std::size_t mz = static_cast<std::size_t>(m2);
  SLUICE_CUDA_CHECK(first.allocate((nz + 1) * sizeof(std::int32_t)));
  SLUICE_CUDA_CHECK(head.allocate(mz * sizeof(std::int32_t)));
  SLUICE_CUDA_CHECK(rev.allocate(mz * sizeof(std::int32_t)));
  SLUICE_CUDA_CHECK(cost.allocate(mz * sizeof(std::int64_t)));
  SLUICE_CUDA_CHECK(rescap.allocate(mz * sizeof(std::int64_t)));
  SLUICE_CUDA_CHECK(excess.allocate(nz * sizeof(std::int64_t)));
  SLUICE_CUDA_CHECK(price.allocate(nz * sizeof(std::int64_t)));
  SLUICE_CUDA_CHECK(list.allocate(nz * sizeof(std::int32_t)));
  SLUICE_CUDA_CHECK(count.allocate(sizeof(std::int32_t)));
  SLUICE_CUDA_CHECK(err.allocate(sizeof(DeviceError)));
  SLUICE_CUDA_CHECK(
      cudaMemcpy(first.as<void>(), g.first.data(), (nz + 1) * sizeof(std::int32_t), cudaMemcpyHostToDevice));
  SLUICE_CUDA_CHECK(cudaMemcpy(head.as<void>(), g.head.data(), mz * sizeof(std::int32_t), cudaMemcpyHostToDevice));
  SLUICE_CUDA_CHECK(cudaMemcpy(rev.as<void>(), g.rev.data(), mz * sizeof(std::int32_t), cudaMemcpyHostToDevice));
  SLUICE_CUDA_CHECK(cudaMemcpy(cost.as<void>(), scaled.data(), mz * sizeof(std::int64_t), cudaMemcpyHostToDevice));
  SLUICE_CUDA_CHECK(cudaMemcpy(rescap.as<void>(), g.rescap.data(), mz * sizeof(std::int64_t), cudaMemcpyHostToDevice));
  SLUICE_CUDA_CHECK(cudaMemcpy(excess.as<void>(), g.excess.data(), nz * sizeof(std::int64_t), cudaMemcpyHostToDevice));
  SLUICE_CUDA_CHECK(cudaMemset(price.as<void>(), 0, nz * sizeof(std::int64_t)));
  SLUICE_CUDA_CHECK(cudaMemset(err.as<void>(), 0, sizeof(DeviceError)));

  detail::DeviceGraphView view;
  view.n = n;
  view.m2 = m2;
  view.first = first.as<std::int32_t>();
  view.head = head.as<std::int32_t>();
  view.rev = rev.as<std::int32_t>();
  view.cost = cost.as<std::int64_t>();
  view.rescap = rescap.as<std::int64_t>();
  view.excess = excess.as<std::int64_t>();
  view.price = price.as<std::int64_t>();

  const int block = std::max(32, params.block_size);
  const unsigned grid = static_cast<unsigned>((static_cast<std::int64_t>(n) + block - 1) / block);
  const std::int64_t cap = params.max_rounds_per_refine > 0 ? params.max_rounds_per_refine : 64 * k * k + 4096;

  // 3. ε-scaling phases.
  std::int64_t eps = g.max_abs_cost * k;
  const std::int64_t alpha = std::max(2, params.alpha);
  while (eps > 1 && n > 0) {
    eps = std::max<std::int64_t>(1, eps / alpha);
    ++out.phases;
    saturate_kernel<<<grid, block>>>(view);
    SLUICE_CUDA_CHECK_LAUNCH("saturate_kernel");
    for (std::int64_t rounds = 0;; ++rounds) {
      SLUICE_CUDA_CHECK(cudaMemset(count.as<void>(), 0, sizeof(std::int32_t)));
      compact_active_kernel<<<grid, block>>>(view, list.as<std::int32_t>(), count.as<std::int32_t>());
      SLUICE_CUDA_CHECK_LAUNCH("compact_active_kernel");
      std::int32_t active = 0;
      DeviceError error{0, 0};
      SLUICE_CUDA_CHECK(cudaMemcpy(&active, count.as<void>(), sizeof(active), cudaMemcpyDeviceToHost));
      SLUICE_CUDA_CHECK(cudaMemcpy(&error, err.as<void>(), sizeof(error), cudaMemcpyDeviceToHost));
      if (error.code == static_cast<int>(detail::StepResult::kNoResidualArc)) {
        out.status = Status::kBackendError;
        out.message = "internal error: node " + std::to_string(error.node) + " holds excess but has no residual arc";
        return out;
      }
      if (error.code == static_cast<int>(detail::StepResult::kPriceOverflow)) {
        out.status = Status::kCostOverflow;
        out.message = "price of node " + std::to_string(error.node) + " fell below -2^62 during cost scaling";
        return out;
      }
      if (active == 0) break;
      if (rounds >= cap) {
        out.status = Status::kBackendError;
        out.message = "refine at eps " + std::to_string(eps) + " did not finish within " + std::to_string(cap) +
                      " rounds (" + std::to_string(active) + " nodes still active)";
        return out;
      }
      ++out.rounds;
      const unsigned active_grid = static_cast<unsigned>((active + block - 1) / block);
      relabel_kernel<<<active_grid, block>>>(view, list.as<std::int32_t>(), count.as<std::int32_t>(), eps,
                                             err.as<DeviceError>());
      SLUICE_CUDA_CHECK_LAUNCH("relabel_kernel");
      push_kernel<<<active_grid, block>>>(view, list.as<std::int32_t>(), count.as<std::int32_t>());
      SLUICE_CUDA_CHECK_LAUNCH("push_kernel");
    }
  }

  // 4. The flow and prices back to the host.
  std::vector<std::int64_t> prices(nz, 0);
  SLUICE_CUDA_CHECK(cudaMemcpy(g.rescap.data(), rescap.as<void>(), mz * sizeof(std::int64_t), cudaMemcpyDeviceToHost));
  SLUICE_CUDA_CHECK(cudaMemcpy(g.excess.data(), excess.as<void>(), nz * sizeof(std::int64_t), cudaMemcpyDeviceToHost));
  SLUICE_CUDA_CHECK(cudaMemcpy(prices.data(), price.as<void>(), nz * sizeof(std::int64_t), cudaMemcpyDeviceToHost));
  out.potential.resize(nz);
  for (std::size_t v = 0; v < nz; ++v) out.potential[v] = floor_div(prices[v], k);
  return out;
}

}  // namespace sluice::cuda
