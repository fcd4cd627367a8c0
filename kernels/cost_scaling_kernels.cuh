// __global__ kernels of lock-free cost-scaling push-relabel: thin wrappers, one thread per
// node, around the per-node steps of cost_scaling_ops.cuh (which the host executor,
// src/cpu_fallback/gpu_algorithm_host.hpp, runs in the same interleavings on the CPU).
//
// Problem and invariant: see cost_scaling_ops.cuh (ε-optimality, prices only fall).
// Model: a round is compact -> relabel -> push, three launches on one stream; the kernel
// boundaries are the grid barriers that keep relabels and pushes in separate phases, which
// is what makes stale price reads safe. Each kernel is O(deg) per thread.
// Follows: Hong 2008, He & Hong 2010, adapted to cost scaling (Goldberg & Tarjan 1990).
#pragma once

#include <cstdint>

#include "cost_scaling_ops.cuh"

namespace sluice::cuda {

struct DeviceAtomics {
  __device__ static void add(std::int64_t* p, std::int64_t d) {
    // Two's complement: adding the unsigned image of a negative d subtracts it.
    atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(d));
  }
};

// Error slot: the first step that failed (code = StepResult) and its node.
struct DeviceError {
  int code;
  int node;
};

__device__ inline void report_error(DeviceError* err, detail::StepResult r, std::int32_t v) {
  if (atomicCAS(&err->code, 0, static_cast<int>(r)) == 0) err->node = v;
}

__global__ void saturate_kernel(detail::DeviceGraphView g) {
  const std::int32_t v = static_cast<std::int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  if (v < g.n) detail::saturate_step<DeviceAtomics>(g, v);
}

// Active nodes (excess > 0) into list[0, *count); *count must be zero on entry.
__global__ void compact_active_kernel(detail::DeviceGraphView g, std::int32_t* list, std::int32_t* count) {
  const std::int32_t v = static_cast<std::int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  if (v < g.n && g.excess[v] > 0) list[atomicAdd(count, 1)] = v;
}

__global__ void relabel_kernel(detail::DeviceGraphView g, const std::int32_t* list, const std::int32_t* count,
                               std::int64_t eps, DeviceError* err) {
  const std::int32_t i = static_cast<std::int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= *count) return;
  const std::int32_t v = list[i];
  const detail::StepResult r = detail::relabel_step(g, g.price, v, eps);
  if (r == detail::StepResult::kNoResidualArc || r == detail::StepResult::kPriceOverflow) report_error(err, r, v);
}

__global__ void push_kernel(detail::DeviceGraphView g, const std::int32_t* list, const std::int32_t* count) {
  const std::int32_t i = static_cast<std::int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= *count) return;
  (void)detail::push_step<DeviceAtomics>(g, g.price, list[i]);
}

}  // namespace sluice::cuda
