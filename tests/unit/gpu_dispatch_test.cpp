// The GPU dispatch rule (src/host/gpu_dispatch.hpp) on described devices: no device, a
// network below and above the crossover, an explicit crossover, too little device memory;
// and solve() recording the decision's reason. Devices are described, not mocked: the rule
// is a pure function of what query_devices() returned.
#include "gpu_dispatch.hpp"

#include <gtest/gtest.h>

#include <string>

#include "cost_scaling_gpu.hpp"
#include "sluice/network.hpp"
#include "sluice/solver.hpp"

namespace sluice {
namespace {

cuda::DeviceQuery one_device(std::int64_t free_bytes) {
  cuda::DeviceQuery q;
  q.built_with_cuda = true;
  cuda::DeviceInfo d;
  d.name = "NVIDIA H100 80GB HBM3";
  d.total_memory_bytes = std::int64_t{80} << 30;
  d.free_memory_bytes = free_bytes;
  q.devices.push_back(d);
  return q;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(GpuDispatch, NoDeviceKeepsTheCpuAndSaysWhy) {
  cuda::DeviceQuery none;
  none.built_with_cuda = true;
  none.error = "no CUDA device present";
  for (const Backend b : {Backend::kAuto, Backend::kGpu}) {
    const auto d = detail::decide_gpu(1000, 1'000'000'000, SolveOptions{.backend = b}, none);
    EXPECT_FALSE(d.use_gpu);
    EXPECT_EQ(d.reason, "no CUDA device present");
  }
  cuda::DeviceQuery cpu_build;  // built without CUDA: the stub's words
  cpu_build.error = "not built with CUDA";
  EXPECT_FALSE(detail::decide_gpu(10, 10, SolveOptions{.backend = Backend::kGpu}, cpu_build).use_gpu);
}

TEST(GpuDispatch, AutoUsesTheProjectedCrossoverUnlessGivenOne) {
  const cuda::DeviceQuery q = one_device(std::int64_t{79} << 30);
  const std::int64_t x = detail::kProjectedGpuCrossoverArcs;
  const auto below = detail::decide_gpu(x / 10, x - 1, SolveOptions{}, q);
  EXPECT_FALSE(below.use_gpu);
  EXPECT_TRUE(contains(below.reason, "projected crossover")) << below.reason;
  const auto at = detail::decide_gpu(x / 10, x, SolveOptions{}, q);
  EXPECT_TRUE(at.use_gpu) << at.reason;
  EXPECT_TRUE(contains(at.reason, "not yet measured on a device")) << at.reason;
  // An explicit crossover replaces the projection, both ways.
  EXPECT_TRUE(detail::decide_gpu(10, 100, SolveOptions{.gpu_min_arcs = 100}, q).use_gpu);
  const auto explicit_below = detail::decide_gpu(10, 99, SolveOptions{.gpu_min_arcs = 100}, q);
  EXPECT_FALSE(explicit_below.use_gpu);
  EXPECT_TRUE(contains(explicit_below.reason, "gpu_min_arcs")) << explicit_below.reason;
  // An explicit GPU request ignores the crossover.
  EXPECT_TRUE(detail::decide_gpu(10, 20, SolveOptions{.backend = Backend::kGpu}, q).use_gpu);
}

TEST(GpuDispatch, MemoryIsCheckedBeforeAnyAllocation) {
  const std::int64_t nodes = 1'100'000;
  const std::int64_t arcs = 10'300'000;
  const std::int64_t need = cuda::device_bytes_needed(nodes, 2 * arcs);
  // 1M tasks / 100k machines fit an H100 many times over; the estimate is ~25 bytes per
  // residual arc plus ~30 per node.
  EXPECT_GT(need, 2 * arcs * 25);
  EXPECT_LT(need, std::int64_t{1} << 30);
  const auto fits = detail::decide_gpu(nodes, arcs, SolveOptions{.backend = Backend::kGpu}, one_device(need));
  EXPECT_TRUE(fits.use_gpu) << fits.reason;
  const auto short_of = detail::decide_gpu(nodes, arcs, SolveOptions{.backend = Backend::kGpu}, one_device(need - 1));
  EXPECT_FALSE(short_of.use_gpu);
  EXPECT_TRUE(contains(short_of.reason, "device memory")) << short_of.reason;
}

TEST(GpuDispatch, SolveRecordsWhyItsBackendRan) {
  Network net(2);
  net.set_supply(0, 1);
  net.set_supply(1, -1);
  net.add_arc(0, 1, 0, 1, 3);
  const SolveResult cpu = solve(net, SolveOptions{.backend = Backend::kCpu});
  EXPECT_EQ(cpu.backend_reason, "asked for the CPU");
  const SolveResult autod = solve(net, SolveOptions{});
  ASSERT_EQ(autod.status, Status::kOptimal);
  EXPECT_FALSE(autod.backend_reason.empty());
  if (autod.backend == Backend::kCpu) {
    EXPECT_FALSE(autod.fell_back);  // auto choosing the CPU is not a fallback
    EXPECT_EQ(autod.backend_reason, autod.fallback_reason);
  }
}

}  // namespace
}  // namespace sluice
