// __global__ kernels of the GPU solver: thin wrappers, one thread per node (or per entry of
// a compacted frontier), around the per-node steps of cost_scaling_ops.cuh,
// max_flow_ops.cuh and distance_ops.cuh, which the host executor
// (host_executor/gpu_algorithm_host.hpp) runs in the same interleavings on the CPU.
//
// Problem and invariants: see those headers (ε-optimality, prices only fall; valid
// max-flow heights; labels only fall in a sweep). Model: every phase of a round is its
// own launch on one stream; the kernel boundaries are the grid barriers that keep
// relabels and pushes apart, which is what makes stale reads safe. Frontiers are
// compacted by cub::DeviceSelect::Flagged (stable, like select_host.hpp). O(deg) per thread.
// Follows: Hong 2008, He & Hong 2010, adapted to cost scaling (Goldberg & Tarjan 1990).
#pragma once

#include <cstdint>

#include "cost_scaling_ops.cuh"
#include "distance_ops.cuh"
#include "max_flow_ops.cuh"

namespace sluice::cuda {

struct DeviceAtomics {
  __device__ static void add(std::int64_t* p, std::int64_t d) {
    // Two's complement: adding the unsigned image of a negative d subtracts it.
    atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(d));
  }
  __device__ static std::int64_t min(std::int64_t* p, std::int64_t v) {
    return atomicMin(reinterpret_cast<long long*>(p), static_cast<long long>(v));
  }
};

// A label another thread may lower while this one reads it: one aligned 64-bit load.
__device__ inline std::int64_t read_label(const std::int64_t* p) { return *reinterpret_cast<const volatile long long*>(p); }

// Error slot: the first step that failed (code = StepResult) and its node.
struct DeviceError {
  int code;
  int node;
};

__device__ inline void report_error(DeviceError* err, detail::StepResult r, std::int32_t v) {
  if (atomicCAS(&err->code, 0, static_cast<int>(r)) == 0) err->node = v;
}

__device__ inline std::int32_t thread_index() { return static_cast<std::int32_t>(blockIdx.x * blockDim.x + threadIdx.x); }

__global__ void saturate_kernel(detail::DeviceGraphView g) {
  const std::int32_t v = thread_index();
  if (v < g.n) detail::saturate_step<DeviceAtomics>(g, v);
}

// flags[v] = 1 where v holds excess (the input of DeviceSelect::Flagged).
__global__ void flag_active_kernel(detail::DeviceGraphView g, std::uint8_t* flags) {
  const std::int32_t v = thread_index();
  if (v < g.n) flags[v] = g.excess[v] > 0 ? 1 : 0;
}

__global__ void relabel_kernel(detail::DeviceGraphView g, const std::int32_t* list, const std::int32_t* count,
                               std::int64_t eps, DeviceError* err, unsigned long long* relabels) {
  const std::int32_t i = thread_index();
  if (i >= *count) return;
  const std::int32_t v = list[i];
  const detail::StepResult r = detail::relabel_step(g, g.price, v, eps);
  if (r == detail::StepResult::kRelabeled) atomicAdd(relabels, 1ULL);
  if (r == detail::StepResult::kNoResidualArc || r == detail::StepResult::kPriceOverflow) report_error(err, r, v);
}

__global__ void push_kernel(detail::DeviceGraphView g, const std::int32_t* list, const std::int32_t* count,
                            bool push_all) {
  const std::int32_t i = thread_index();
  if (i >= *count) return;
  if (push_all) {
    (void)detail::push_all_step<DeviceAtomics>(g, g.price, list[i]);
  } else {
    (void)detail::push_step<DeviceAtomics>(g, g.price, list[i]);
  }
}

// ---- Feasibility: push-relabel max flow on supplies. ----
__global__ void max_flow_relabel_kernel(detail::DeviceGraphView g, std::int64_t* height, const std::int32_t* list,
                                        const std::int32_t* count, DeviceError* err, unsigned long long* relabels) {
  const std::int32_t i = thread_index();
  if (i >= *count) return;
  const std::int32_t v = list[i];
  const detail::StepResult r = detail::max_flow_relabel_step(g, height, height, v, g.n);
  if (r == detail::StepResult::kRelabeled) atomicAdd(relabels, 1ULL);
  if (r == detail::StepResult::kCutOff || r == detail::StepResult::kNoResidualArc) report_error(err, r, v);
}

__global__ void max_flow_push_kernel(detail::DeviceGraphView g, const std::int64_t* height, const std::int32_t* list,
                                     const std::int32_t* count) {
  const std::int32_t i = thread_index();
  if (i < *count) (void)detail::max_flow_push_step<DeviceAtomics>(g, height, list[i]);
}

// ---- Distances to the nearest demand (global price update, global relabel). ----
__global__ void init_distance_kernel(detail::DeviceGraphView g, std::int64_t* dist, std::uint8_t* flags,
                                     std::int64_t limit) {
  const std::int32_t v = thread_index();
  if (v >= g.n) return;
  const bool deficit = g.excess[v] < 0;
  dist[v] = deficit ? 0 : limit;
  flags[v] = deficit ? 1 : 0;
}

template <class Length>
__global__ void relax_kernel(detail::DeviceGraphView g, std::int64_t* dist, const std::int32_t* list,
                             const std::int32_t* count, std::uint8_t* next, std::int64_t limit, Length length) {
  const std::int32_t i = thread_index();
  if (i >= *count) return;
  const std::int32_t w = list[i];
  (void)detail::relax_into_step<DeviceAtomics>(g, read_label(&dist[w]), dist, next, w, limit, length);
}

__global__ void apply_distance_kernel(detail::DeviceGraphView g, const std::int64_t* dist, std::int64_t eps,
                                      std::int64_t limit, DeviceError* err) {
  const std::int32_t v = thread_index();
  if (v >= g.n) return;
  if (detail::apply_distance_step(g, dist, v, eps, limit) == detail::StepResult::kPriceOverflow) {
    report_error(err, detail::StepResult::kPriceOverflow, v);
  }
}

// Cut-off check after a global relabel: an active node at height n cannot reach a demand.
__global__ void cut_off_kernel(detail::DeviceGraphView g, const std::int64_t* height, DeviceError* err) {
  const std::int32_t v = thread_index();
  if (v < g.n && g.excess[v] > 0 && height[v] >= g.n) report_error(err, detail::StepResult::kCutOff, v);
}

// ---- Price tightening (price refinement, early optimality exit). ----
__global__ void tighten_kernel(detail::DeviceGraphView g, const std::int32_t* list, const std::int32_t* count,
                               std::uint8_t* next, std::int64_t slack, int* overflow) {
  const std::int32_t i = thread_index();
  if (i >= *count) return;
  const std::int32_t u = list[i];
  std::int32_t lowered = 0;
  if (detail::tighten_step<DeviceAtomics>(g, read_label(&g.price[u]), next, u, slack, &lowered) ==
      detail::StepResult::kPriceOverflow) {
    atomicExch(overflow, 1);
  }
}

// ---- Arc fixing and its verification. ----
__global__ void fix_arcs_kernel(detail::DeviceGraphView g, std::uint8_t* fixed, std::int64_t threshold) {
  const std::int32_t v = thread_index();
  if (v < g.n) (void)detail::fix_arcs_step(g, fixed, v, threshold);
}

__global__ void unfix_violated_kernel(detail::DeviceGraphView g, std::uint8_t* fixed, std::int64_t eps,
                                      unsigned long long* freed) {
  const std::int32_t v = thread_index();
  if (v >= g.n) return;
  const std::int32_t f = detail::unfix_violated_step(g, fixed, v, eps);
  if (f > 0) atomicAdd(freed, static_cast<unsigned long long>(f));
}

}  // namespace sluice::cuda
