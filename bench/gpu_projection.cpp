// Projected device time of the GPU solver, from its work model: the host executor
// (kernels/host_executor) runs the kernels' steps on each instance, counting every launch,
// the threads and arcs each touches, host synchronisations and transfers
// (work_model.hpp); the projection turns those counts into H100 seconds with the stated
// constants. Our CPU solver runs on the same instance in the same process, so each row
// also says where the GPU would pay. A projection, not a measurement: no device is used.
//
//   sluice_bench_gpu_model --quincy 1000:10000 --quincy 12500:150000 --file datasets/mcf --csv out.csv
//
// The executor runs in its fast mode (index order, no stale reads, no per-round invariant
// check: the counts do not depend on those); its result is checked against the CPU's cost.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "dimacs_files.hpp"
#include "gpu_algorithm_host.hpp"
#include "sluice/dimacs.hpp"
#include "sluice/generators.hpp"
#include "sluice/solver.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Instance {
  std::string name;
  std::string file;
  sluice::QuincyParams quincy;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: sluice_bench_gpu_model [--quincy MACHINES:TASKS]... [--file F.min|DIR]... [--seed N]\n"
               "                              [--csv FILE] [--no-cpu] [--update-frequency F] [--push-one]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Instance> instances;
  std::string csv_path;
  std::uint64_t seed = 1;
  bool run_cpu = true;
  double update_frequency = -1;  // < 0: the executor's default
  bool push_all = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (arg == "--quincy") {
      const std::string spec = next();
      const auto colon = spec.find(':');
      if (colon == std::string::npos) usage();
      Instance inst;
      inst.quincy.machines = std::atoi(spec.substr(0, colon).c_str());
      inst.quincy.tasks = std::atoi(spec.substr(colon + 1).c_str());
      inst.name = "quincy-" + spec.substr(0, colon) + "m-" + spec.substr(colon + 1) + "t";
      instances.push_back(inst);
    } else if (arg == "--file") {
      const std::vector<std::string> files = sluice::bench::dimacs_files(next());
      for (const std::string& f : files) instances.push_back(Instance{f.substr(f.find_last_of('/') + 1), f, {}});
    } else if (arg == "--seed") {
      seed = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--csv") {
      csv_path = next();
    } else if (arg == "--update-frequency") {
      update_frequency = std::atof(next().c_str());
    } else if (arg == "--push-one") {
      push_all = false;
    } else if (arg == "--no-cpu") {
      run_cpu = false;
    } else {
      usage();
    }
  }
  if (instances.empty()) usage();

  std::FILE* csv = csv_path.empty() ? nullptr : std::fopen(csv_path.c_str(), "w");
  if (!csv_path.empty() && csv == nullptr) {
    std::fprintf(stderr, "sluice_bench_gpu_model: cannot write %s\n", csv_path.c_str());
    return 1;
  }
  const sluice::detail::DeviceConstants device;
  if (csv != nullptr) {
    std::fprintf(csv,
                 "instance,nodes,arcs,status,cost_matches_cpu,executor_s,phases,skipped_phases,rounds,max_flow_rounds,"
                 "global_updates,relax_sweeps,fixed_arcs,launches,gbytes,host_syncs,transfer_mb,proj_launch_s,"
                 "proj_memory_s,proj_sync_s,proj_transfer_s,proj_total_s,floor_s,cpu_solve_s,proj_over_cpu");
    for (const auto name : sluice::detail::kLaunchNames) std::fprintf(csv, ",launches_%.*s", int(name.size()), name.data());
    for (const auto name : sluice::detail::kLaunchNames) std::fprintf(csv, ",gb_%.*s", int(name.size()), name.data());
    std::fprintf(csv, "\n");
  }
  std::printf("# device constants: %.*s, %.2f TB/s x %.2f, launch %.1f us, sync %.1f us, transfers %.0f GB/s\n",
              int(device.name.size()), device.name.data(), device.bandwidth_bytes_per_s / 1e12,
              device.bandwidth_efficiency, device.launch_s * 1e6, device.sync_s * 1e6,
              device.transfer_bytes_per_s / 1e9);
  std::printf("%-44s %9s %9s %6s %7s %8s %9s %9s %10s %10s %9s\n", "instance", "nodes", "arcs", "phases", "rounds",
              "mf_rnds", "launches", "GB", "proj_s", "cpu_s", "proj/cpu");

  int failures = 0;
  for (std::size_t idx = 0; idx < instances.size(); ++idx) {
    const Instance& inst = instances[idx];
    std::fprintf(stderr, "[gpu-model] %zu/%zu %s: building\n", idx + 1, instances.size(), inst.name.c_str());
    sluice::Network net;
    if (!inst.file.empty()) {
      sluice::DimacsReadResult read = sluice::read_dimacs_file(inst.file);
      if (!read.ok) {
        std::fprintf(stderr, "sluice_bench_gpu_model: %s: %s\n", inst.file.c_str(), read.error.c_str());
        return 1;
      }
      net = std::move(read.network);
    } else {
      sluice::QuincyParams q = inst.quincy;
      q.seed = seed;
      net = sluice::generate_quincy(q);
    }
    double cpu_s = 0;
    std::int64_t cpu_cost = 0;
    bool cpu_optimal = false;
    if (run_cpu) {
      std::fprintf(stderr, "[gpu-model] %s: our CPU solver\n", inst.name.c_str());
      sluice::SolveOptions o;
      o.backend = sluice::Backend::kCpu;
      const sluice::SolveResult cpu = sluice::solve(net, o);
      cpu_s = cpu.timings.solve_s + cpu.timings.setup_s;
      cpu_cost = cpu.total_cost;
      cpu_optimal = cpu.status == sluice::Status::kOptimal;
    }
    std::fprintf(stderr, "[gpu-model] %s: host executor\n", inst.name.c_str());
    sluice::detail::GpuHostParams params;
    params.shuffle = false;
    params.stale_probability = 0;
    params.check_invariants = false;
    params.push_all = push_all;
    if (update_frequency >= 0) params.update_frequency = update_frequency;
    sluice::detail::GpuHostStats stats;
    const auto t = Clock::now();
    const sluice::SolveResult got = sluice::detail::solve_gpu_algorithm_on_host(net, params, &stats);
    const double exec_s = since(t);
    const bool matches = !run_cpu || (cpu_optimal && got.status == sluice::Status::kOptimal && got.total_cost == cpu_cost);
    if (!matches) ++failures;
    const sluice::detail::Projection p = sluice::detail::project(stats.work, device);
    const double ratio = cpu_s > 0 ? p.total_s() / cpu_s : 0;
    std::printf("%-44s %9d %9lld %6lld %7lld %8lld %9lld %9.2f %10.4f %10.3f %9.3f%s\n", inst.name.c_str(),
                net.num_nodes(), static_cast<long long>(net.num_arcs()), static_cast<long long>(stats.phases),
                static_cast<long long>(stats.rounds), static_cast<long long>(stats.max_flow_rounds),
                static_cast<long long>(stats.work.launches()), stats.work.bytes() / 1e9, p.total_s(), cpu_s, ratio,
                matches ? "" : "  COST MISMATCH");
    std::fflush(stdout);
    if (csv != nullptr) {
      std::fprintf(csv, "%s,%d,%lld,%s,%d,%.3f,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%.4f,%lld,%.2f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.4f,%.4f",
                   inst.name.c_str(), net.num_nodes(), static_cast<long long>(net.num_arcs()),
                   std::string(sluice::to_string(got.status)).c_str(), matches ? 1 : 0, exec_s,
                   static_cast<long long>(stats.phases), static_cast<long long>(stats.skipped_phases),
                   static_cast<long long>(stats.rounds), static_cast<long long>(stats.max_flow_rounds),
                   static_cast<long long>(stats.global_updates), static_cast<long long>(stats.relax_sweeps),
                   static_cast<long long>(stats.fixed_arcs), static_cast<long long>(stats.work.launches()),
                   stats.work.bytes() / 1e9, static_cast<long long>(stats.work.host_syncs),
                   static_cast<double>(stats.work.transfer_bytes) / 1e6, p.launch_s, p.memory_s, p.sync_s,
                   p.transfer_s, p.total_s(), p.floor_s, cpu_s, ratio);
      for (const auto& k : stats.work.kinds) std::fprintf(csv, ",%lld", static_cast<long long>(k.launches));
      for (int k = 0; k < static_cast<int>(sluice::detail::LaunchKind::kCount); ++k) {
        std::fprintf(csv, ",%.5f", stats.work.bytes(static_cast<sluice::detail::LaunchKind>(k)) / 1e9);
      }
      std::fprintf(csv, "\n");
      std::fflush(csv);
    }
  }
  if (csv != nullptr) std::fclose(csv);
  return failures == 0 ? 0 : 1;
}
