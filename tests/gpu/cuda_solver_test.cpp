// The CUDA solver (kernels/cost_scaling_solver.cu) on a device: the same small random
// instances as the host executor's tests, checked against our CPU solver and by the
// certificate. CTest label `gpu`; skipped with the reason without CUDA or without a device.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cost_scaling.hpp"
#include "cost_scaling_gpu.hpp"
#include "cuda_device.hpp"
#include "feasibility.hpp"
#include "residual_graph.hpp"
#include "sluice/certificate.hpp"
#include "sluice/network.hpp"
#include "sluice/solver.hpp"
#include "support/random_network.hpp"

namespace sluice {
namespace {

using test::random_network;

// The CUDA solver itself (kernels/cost_scaling_solver.cu) on the same random instances.
// Without CUDA the stub must say so; without a device the test is skipped.
TEST(CudaSolver, MatchesCpuSolverWhenADeviceExists) {
#ifndef SLUICE_WITH_CUDA
  detail::ResidualGraph probe;
  const cuda::SolveOutcome stub = cuda::solve_cost_scaling_gpu(probe, cuda::CostScalingGpuParams{});
  EXPECT_EQ(stub.status, Status::kBackendUnavailable);
  EXPECT_NE(stub.message.find("not built with CUDA"), std::string::npos) << stub.message;
  GTEST_SKIP() << "built without CUDA: the device solver is a stub";
#else
  const cuda::DeviceQuery query = cuda::query_devices();
  if (query.devices.empty()) GTEST_SKIP() << "no CUDA device: " << query.error;
  for (std::uint64_t seed = 20000; seed < 20200; ++seed) {
    const Network net = random_network(seed);
    const SolveResult cpu = solve(net, SolveOptions{.backend = Backend::kCpu});
    if (cpu.status != Status::kOptimal) continue;
    detail::ResidualGraph g = detail::build_residual_graph(net);
    ASSERT_TRUE(detail::find_feasible_flow(g).feasible) << "seed " << seed;
    cuda::SolveOutcome out = cuda::solve_cost_scaling_gpu(g, cuda::CostScalingGpuParams{});
    ASSERT_EQ(out.status, Status::kOptimal) << "seed " << seed << ": " << out.message;
    ASSERT_TRUE(detail::compute_exact_potentials(g, out.potential)) << "seed " << seed;
    std::vector<std::int64_t> flow(static_cast<std::size_t>(net.num_arcs()));
    std::int64_t total = 0;
    for (ArcId a = 0; a < net.num_arcs(); ++a) {
      flow[static_cast<std::size_t>(a)] = g.flow_of(net, a);
      total += flow[static_cast<std::size_t>(a)] * net.cost(a);
    }
    EXPECT_EQ(total, cpu.total_cost) << "seed " << seed;
    const Certificate cert = check_optimality(net, flow, out.potential);
    EXPECT_TRUE(cert.valid()) << "seed " << seed << ": " << cert.message;
  }
#endif
}

}  // namespace
}  // namespace sluice
