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
#include "sluice/dimacs.hpp"
#include "sluice/network.hpp"
#include "sluice/solver.hpp"
#include "support/mcf_datasets.hpp"
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


// Through solve(): the device settles feasibility itself (its max-flow stage), so
// infeasible instances must come back infeasible from the GPU, not from a fallback; every
// optimal result carries a valid certificate; nothing falls back. Random instances and the
// dataset instances with their known optima.
TEST(CudaSolver, SolveOnTheDeviceMatchesCpuWithoutFallingBack) {
#ifndef SLUICE_WITH_CUDA
  GTEST_SKIP() << "built without CUDA: the device solver is a stub";
#else
  const cuda::DeviceQuery query = cuda::query_devices();
  if (query.devices.empty()) GTEST_SKIP() << "no CUDA device: " << query.error;
  SolveOptions gpu_options;
  gpu_options.backend = Backend::kGpu;
  gpu_options.verify = true;
  int infeasible = 0;
  for (std::uint64_t seed = 30000; seed < 30300; ++seed) {
    const Network net = random_network(seed, 60);
    const SolveResult cpu = solve(net, SolveOptions{.backend = Backend::kCpu});
    const SolveResult gpu = solve(net, gpu_options);
    ASSERT_EQ(gpu.status, cpu.status) << "seed " << seed << ": " << gpu.message;
    EXPECT_FALSE(gpu.fell_back) << "seed " << seed << ": " << gpu.fallback_reason;
    if (gpu.status == Status::kInfeasible) ++infeasible;
    if (gpu.status != Status::kOptimal) continue;
    EXPECT_EQ(gpu.total_cost, cpu.total_cost) << "seed " << seed;
    ASSERT_TRUE(gpu.certificate.has_value());
    EXPECT_TRUE(gpu.certificate->valid()) << "seed " << seed << ": " << gpu.certificate->message;
  }
  EXPECT_GT(infeasible, 0);
  for (const test::McfDataset& d : test::mcf_datasets()) {
    const DimacsReadResult read = read_dimacs_file(d.path);
    ASSERT_TRUE(read.ok) << d.file;
    const SolveResult gpu = solve(read.network, gpu_options);
    ASSERT_EQ(gpu.status, Status::kOptimal) << d.file << ": " << gpu.message;
    EXPECT_FALSE(gpu.fell_back) << d.file << ": " << gpu.fallback_reason;
    EXPECT_EQ(gpu.total_cost, d.optimal_cost) << d.file;
    EXPECT_TRUE(gpu.certificate.has_value() && gpu.certificate->valid()) << d.file;
  }
#endif
}

}  // namespace
}  // namespace sluice
