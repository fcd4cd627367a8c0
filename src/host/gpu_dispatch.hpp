// Whether a solve runs on the GPU: the rule behind Backend::kAuto and the checks behind an
// explicit kGpu, as a pure function of the network's size, the options and the devices
// found, so tests can drive it without a device.
//
// The rule: a device must exist, and the solver's device memory (device_bytes_needed) must
// fit in its free memory; kAuto also needs the network to reach the crossover, given by
// SolveOptions::gpu_min_arcs or, by default, the projected crossover below. Every decision
// carries its reason, which the result records.
#pragma once

#include <cstdint>
#include <string>

#include "cuda_device.hpp"
#include "sluice/solver.hpp"

namespace sluice::detail {

// The projected crossover, in network arcs. From bench/results/gpu_projection*/: the host
// executor's launch and byte counts priced with H100 constants (work_model.hpp), against
// our CPU solver timed in the same run. Projected / CPU: 2.2 at 0.10M arcs (Quincy, 10k
// tasks), 1.6-2.6 at 0.19-0.20M (allocation networks, 150k tasks); 0.59-0.81 at 1.17-1.22M
// (allocation networks, 1M tasks), 0.54 at 1.54M (Quincy, 150k tasks). The GPU pays from
// about a million arcs. A projection, not a device measurement: replace it with the
// measured crossover once a device has run the kernels.
inline constexpr std::int64_t kProjectedGpuCrossoverArcs = 1'000'000;

struct GpuDecision {
  bool use_gpu = false;
  std::string reason;  // why the GPU runs, or why it does not
};

[[nodiscard]] GpuDecision decide_gpu(std::int64_t nodes, std::int64_t arcs, const SolveOptions& options,
                                     const cuda::DeviceQuery& devices);

}  // namespace sluice::detail
