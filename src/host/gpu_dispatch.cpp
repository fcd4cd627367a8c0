// The GPU dispatch rule; see gpu_dispatch.hpp.
#include "gpu_dispatch.hpp"

#include "cost_scaling_gpu.hpp"

namespace sluice::detail {
namespace {

std::string mib(std::int64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

GpuDecision decide_gpu(std::int64_t nodes, std::int64_t arcs, const SolveOptions& options,
                       const cuda::DeviceQuery& devices) {
  GpuDecision d;
  if (!devices.built_with_cuda || devices.devices.empty()) {
    d.reason = devices.error.empty() ? "no CUDA device" : devices.error;
    return d;
  }
  const cuda::DeviceInfo& device = devices.devices.front();
  const std::int64_t threshold = options.gpu_min_arcs >= 0 ? options.gpu_min_arcs : kProjectedGpuCrossoverArcs;
  const char* source = options.gpu_min_arcs >= 0 ? "gpu_min_arcs" : "the projected crossover (not yet measured on a device)";
  if (options.backend == Backend::kAuto && arcs < threshold) {
    d.reason = "auto: " + std::to_string(arcs) + " arcs, below " + source + " of " + std::to_string(threshold);
    return d;
  }
  const std::int64_t need = cuda::device_bytes_needed(nodes, 2 * arcs);
  if (device.free_memory_bytes > 0 && need > device.free_memory_bytes) {
    d.reason = "the GPU solver needs about " + mib(need) + " of device memory; " + device.name + " has " +
               mib(device.free_memory_bytes) + " free";
    return d;
  }
  d.use_gpu = true;
  d.reason = options.backend == Backend::kAuto
                 ? "auto: " + std::to_string(arcs) + " arcs, at or above " + source + " of " +
                       std::to_string(threshold) + "; " + mib(need) + " of " + device.name + "'s memory"
                 : "asked for the GPU; " + mib(need) + " of " + device.name + "'s memory";
  return d;
}

}  // namespace sluice::detail
