// The `sluice` command-line tool: a thin layer over the library.
//   sluice solve FILE.min [--solver auto|cpu|gpu|lemon|lemon-cs] [--algorithm ...] [--verify] [--flows]
//   sluice gen-mcf --family quincy|netgen|grid|assignment [sizes] --seed N -o FILE.min
//   sluice devices
//   sluice allocate SNAPSHOT [--cost-model NAME] [--solver ...] [-o OUT]
//   sluice gen-snapshot | import-openb | inspect
#include <CLI/CLI.hpp>

#include <limits>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "cuda_device.hpp"
#include "allocate_flags.hpp"
#include "output.hpp"
#include "sluice/allocate.hpp"
#include "sluice/dimacs.hpp"
#include "sluice/generators.hpp"
#include "sluice/openb.hpp"
#include "sluice/process_memory.hpp"
#include "sluice/snapshot_generator.hpp"
#ifdef SLUICE_HAVE_TRANSPORT
#include "sluice/protocol.hpp"
#include "sluice/snapshot_io.hpp"
#endif
#ifdef SLUICE_HAVE_SERVICE
#include "service_commands.hpp"
#include "slurm_command.hpp"
#endif
#include "sluice/solver.hpp"

namespace {

struct SolveArgs {
  std::string file;
  std::string solver = "auto";
  std::string algorithm = "auto";
  bool verify = false;
  bool flows = false;
  int alpha = 0;
  double update_frequency = 0;
  bool no_lookahead = false;
  bool no_price_refinement = false;
  bool no_global_updates = false;
  bool no_early_exit = false;
  bool push_relabel = false;
  bool progress = false;
  std::string output;
};

int run_solve(const SolveArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  sluice::DimacsReadResult input =
      args.file == "-" ? sluice::read_dimacs(std::cin, "stdin") : sluice::read_dimacs_file(args.file);
  const double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!input.ok) {
    std::cerr << "sluice: " << input.error << "\n";
    return 2;
  }
  const auto backend = sluice::parse_backend(args.solver);
  if (!backend) {
    std::cerr << "sluice: unknown solver '" << args.solver << "'\n";
    return 2;
  }
  const auto algorithm = sluice::parse_cpu_algorithm(args.algorithm);
  if (!algorithm) {
    std::cerr << "sluice: unknown CPU algorithm '" << args.algorithm << "' (auto, cost-scaling, network-simplex)\n";
    return 2;
  }
  sluice::SolveOptions options;
  options.backend = *backend;
  options.cpu_algorithm = *algorithm;
  options.verify = args.verify;
  options.scale_factor = args.alpha;
  options.update_frequency = args.update_frequency;
  options.push_lookahead = !args.no_lookahead;
  options.price_refinement = !args.no_price_refinement;
  options.global_updates = !args.no_global_updates;
  options.early_exit = !args.no_early_exit;
  options.partial_augment = !args.push_relabel;
  options.progress = args.progress || sluice::cli::trace_requested();
  const sluice::SolveResult result = sluice::solve(input.network, options);

  std::printf("c file: %s (%d nodes, %d arcs, read in %.3f s)\n", args.file.c_str(),
              input.network.num_nodes(), input.network.num_arcs(), read_s);
  std::printf("c status: %s\n", std::string(sluice::to_string(result.status)).c_str());
  if (!result.message.empty()) std::printf("c message: %s\n", result.message.c_str());
  std::printf("c solver: %s (%s)\n", result.backend ? std::string(sluice::to_string(*result.backend)).c_str() : "(none)",
              result.algorithm.c_str());
  if (result.fell_back) {
    std::printf("c fell back to cpu: %s\n", result.fallback_reason.c_str());
  } else if (!result.backend_reason.empty()) {
    std::printf("c backend chosen: %s\n", result.backend_reason.c_str());
  }
  std::printf("c time: total %.3f s (validate %.3f, setup %.3f, solve %.3f, potentials %.3f, verify %.3f)\n",
              result.timings.total_s, result.timings.validate_s, result.timings.setup_s,
              result.timings.solve_s, result.timings.potentials_s, result.timings.verify_s);
  if (result.backend == sluice::Backend::kCpu && result.stats.pivots > 0) {
    std::printf("c stats: pivots %lld\n", static_cast<long long>(result.stats.pivots));
  } else if (result.backend == sluice::Backend::kCpu) {
    std::printf("c stats: phases %lld (skipped %lld), pushes %lld, relabels %lld, global updates %lld\n",
                static_cast<long long>(result.stats.phases), static_cast<long long>(result.stats.skipped_phases),
                static_cast<long long>(result.stats.pushes), static_cast<long long>(result.stats.relabels),
                static_cast<long long>(result.stats.global_updates));
  }
  if (result.certificate) {
    const auto& c = *result.certificate;
    std::printf("c verify: %s (feasible %s, complementary slackness %s, primal %s = dual %s)\n",
                c.valid() ? "OPTIMAL, certificate holds" : "FAILED",
                c.feasible ? "yes" : "no", c.complementary_slackness ? "yes" : "no",
                c.primal_cost.c_str(), c.dual_cost.c_str());
    if (!c.valid()) std::printf("c verify: %s\n", c.message.c_str());
  }
  std::fflush(stdout);
  if (!args.output.empty()) {
    std::ofstream out(args.output);
    sluice::write_dimacs_solution(out, input.network, result, args.flows);
    if (!out) {
      std::cerr << "sluice: cannot write " << args.output << "\n";
      return 2;
    }
  } else {
    sluice::write_dimacs_solution(std::cout, input.network, result, args.flows);
  }
  if (result.status != sluice::Status::kOptimal) return 1;
  if (result.certificate && !result.certificate->valid()) return 3;
  return 0;
}

struct GenArgs {
  std::string family = "quincy";
  std::string output;
  std::uint64_t seed = 1;
  std::int32_t machines = 100;
  std::int32_t tasks = 1000;
  std::int32_t nodes = 256;
  std::int32_t arcs = 4096;
  std::int32_t rows = 32;
  std::int32_t cols = 32;
  std::int32_t n = 100;
  std::int32_t degree = 10;
};

int run_gen(const GenArgs& args) {
  const auto family = sluice::parse_family(args.family);
  if (!family) {
    std::cerr << "sluice: unknown family '" << args.family << "'\n";
    return 2;
  }
  sluice::Network network;
  std::string comment = "generated by sluice gen-mcf --family " + args.family + " --seed " +
                        std::to_string(args.seed);
  switch (*family) {
    case sluice::Family::kQuincy: {
      sluice::QuincyParams p;
      p.machines = args.machines;
      p.tasks = args.tasks;
      p.seed = args.seed;
      network = sluice::generate_quincy(p);
      comment += " --machines " + std::to_string(args.machines) + " --tasks " + std::to_string(args.tasks);
      break;
    }
    case sluice::Family::kNetgen: {
      sluice::NetgenParams p;
      p.nodes = args.nodes;
      p.arcs = args.arcs;
      p.seed = args.seed;
      network = sluice::generate_netgen(p);
      comment += " --nodes " + std::to_string(args.nodes) + " --arcs " + std::to_string(args.arcs);
      break;
    }
    case sluice::Family::kGrid: {
      sluice::GridParams p;
      p.rows = args.rows;
      p.cols = args.cols;
      p.seed = args.seed;
      network = sluice::generate_grid(p);
      comment += " --rows " + std::to_string(args.rows) + " --cols " + std::to_string(args.cols);
      break;
    }
    case sluice::Family::kAssignment: {
      sluice::AssignmentParams p;
      p.n = args.n;
      p.degree = args.degree;
      p.seed = args.seed;
      network = sluice::generate_assignment(p);
      comment += " --n " + std::to_string(args.n) + " --degree " + std::to_string(args.degree);
      break;
    }
  }
  if (args.output.empty() || args.output == "-") {
    sluice::write_dimacs(std::cout, network, comment);
  } else {
    std::ofstream out(args.output);
    sluice::write_dimacs(out, network, comment);
    out.close();
    if (!out) {
      std::cerr << "sluice: cannot write " << args.output << "\n";
      return 2;
    }
    std::cerr << "wrote " << args.output << ": " << network.num_nodes() << " nodes, "
              << network.num_arcs() << " arcs\n";
  }
  return 0;
}

#ifdef SLUICE_HAVE_TRANSPORT
// Writes a snapshot (format by extension: .json, else portable binary) and a summary line.
int write_snapshot(const sluice::Snapshot& snapshot, const std::string& path, double seconds) {
  std::string error;
  if (!sluice::write_snapshot_file(path, snapshot, &error)) {
    std::cerr << "sluice: " << error << "\n";
    return 2;
  }
  std::size_t gpus = 0;
  for (const auto& m : snapshot.machines) gpus += m.gpus.size();
  std::cerr << "wrote " << path << ": " << snapshot.machines.size() << " machines (" << gpus << " GPUs), "
            << snapshot.jobs.size() << " jobs, " << snapshot.task_count() << " tasks, built in "
            << seconds << " s\n";
  return 0;
}

struct GenSnapshotArgs {
  sluice::SnapshotGenParams params;
  std::string output;
};

int run_gen_snapshot(const GenSnapshotArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  const sluice::Snapshot snapshot = sluice::generate_snapshot(args.params);
  return write_snapshot(snapshot, args.output,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

struct ImportOpenbArgs {
  std::string nodes;
  std::string pods;
  std::string mode = "queue";
  std::int64_t at = 0;
  std::string output;
};

int run_import_openb(const ImportOpenbArgs& args) {
  sluice::OpenbImportOptions options;
  if (args.mode == "queue") {
    options.mode = sluice::OpenbImportOptions::Mode::kPendingQueue;
  } else if (args.mode == "alive") {
    options.mode = sluice::OpenbImportOptions::Mode::kAliveAt;
    options.at_time = args.at;
  } else {
    std::cerr << "sluice: --mode must be queue or alive\n";
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const sluice::OpenbImportResult result = sluice::import_openb(args.nodes, args.pods, options);
  if (!result.ok) {
    std::cerr << "sluice: " << result.error << "\n";
    return 2;
  }
  return write_snapshot(result.snapshot, args.output,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

// Decodes and validates a snapshot file and prints what it holds.
int run_inspect(const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  const sluice::SnapshotDecodeResult r = sluice::read_snapshot_file(path);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.ok) {
    std::cerr << "sluice: " << r.error << "\n";
    return 2;
  }
  const sluice::Snapshot& s = r.snapshot;
  std::size_t gpus = 0, pending = 0, running = 0;
  std::map<std::string, std::size_t> racks;
  for (const auto& m : s.machines) {
    gpus += m.gpus.size();
    ++racks[m.rack];
  }
  for (const auto& job : s.jobs) {
    for (const auto& t : job.tasks) (t.state == sluice::TaskState::kRunning ? running : pending) += 1;
  }
  std::printf("%s: valid snapshot (version %lld, time %lld), decoded and validated in %.3f s\n", path.c_str(),
              static_cast<long long>(s.version), static_cast<long long>(s.time), seconds);
  std::printf("  %zu machines in %zu racks, %zu GPUs\n", s.machines.size(), racks.size(), gpus);
  std::printf("  %zu jobs, %zu tasks: %zu pending, %zu running\n", s.jobs.size(), s.task_count(), pending, running);
  return 0;
}

struct AllocateArgs {
  std::string snapshot;
  sluice::cli::AllocateFlags flags;
  bool quiet = false;
  std::string output;
  std::string dump_network;
};

// Decodes a snapshot, allocates it and writes the placements as JSON; a summary with the
// timing breakdown goes to stderr.
int run_allocate(const AllocateArgs& args) {
  const auto t0 = std::chrono::steady_clock::now();
  const sluice::SnapshotDecodeResult input = sluice::read_snapshot_file(args.snapshot);
  const double decode_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!input.ok) {
    std::cerr << "sluice: " << input.error << "\n";
    return 2;
  }
  std::string error;
  const auto chosen = args.flags.options(error);
  if (!chosen) {
    std::cerr << "sluice: " << error << "\n";
    return 2;
  }
  sluice::AllocateOptions options = *chosen;
  options.validate = false;  // read_snapshot_file has validated it
  if (!args.dump_network.empty()) {
    const auto network = sluice::allocation_network(input.snapshot, options);
    // every write checked, fsynced, renamed into place (output.hpp)
    if (!sluice::cli::write_file_atomically(
            args.dump_network,
            [&](std::ostream& out) {
              sluice::write_dimacs(out, *network,
                                   "sluice allocation network: " + args.snapshot + ", cost model " + args.flags.cost_model);
            },
            &error)) {
      std::cerr << "sluice: " << error << "\n";
      return 2;
    }
  }
  sluice::Allocation a = sluice::allocate(input.snapshot, options);
  a.timings.decode_s = decode_s;
  a.timings.total_s += decode_s;
  if (a.status != sluice::Status::kOptimal) {
    std::cerr << "sluice: " << sluice::to_string(a.status) << ": " << a.message << "\n";
    return 1;
  }
  if (const int code = sluice::cli::write_output(args.output, sluice::allocation_to_json(a)); code != 0) return code;
  if (!args.quiet) {
    const auto& t = a.timings;
    std::fprintf(stderr,
                 "%s: %zu placed, %zu kept, %zu migrated, %zu preempted, %zu unscheduled; objective %lld (%s, %s%s)\n"
                 "  %lld shapes from %lld pending tasks, %lld machine classes; network %lld nodes, %lld arcs; %lld repaired\n"
                 "  time: decode %.3f s, validate %.3f s, build %.3f s, solve %.3f s, repair %.3f s, extract %.3f s, total %.3f s\n",
                 args.snapshot.c_str(), a.placements.size(), a.kept.size(), a.migrations.size(), a.preemptions.size(),
                 a.unscheduled.size(), static_cast<long long>(a.objective), std::string(sluice::to_string(a.cost_model)).c_str(),
                 a.backend.c_str(), a.fell_back ? (", fell back: " + a.fallback_reason).c_str() : "",
                 static_cast<long long>(a.stats.shapes), static_cast<long long>(a.stats.pending_tasks),
                 static_cast<long long>(a.stats.machine_classes), static_cast<long long>(a.stats.nodes),
                 static_cast<long long>(a.stats.arcs), static_cast<long long>(a.stats.repaired), t.decode_s, t.validate_s,
                 t.build_s, t.solve_s, t.repair_s, t.extract_s, t.total_s);
    const auto share = [&](std::int64_t n) {
      return a.placements.empty() ? 0.0 : 100.0 * static_cast<double>(n) / static_cast<double>(a.placements.size());
    };
    std::fprintf(stderr, "  decided by: the first solve %lld (%.1f%%), %lld re-solves %lld (%.1f%%), fallback %lld (%.1f%%)\n",
                 static_cast<long long>(a.stats.placed_by_flow), share(a.stats.placed_by_flow),
                 static_cast<long long>(a.stats.resolves), static_cast<long long>(a.stats.placed_by_resolve),
                 share(a.stats.placed_by_resolve), static_cast<long long>(a.stats.placed_by_fallback),
                 share(a.stats.placed_by_fallback));
    if (a.certificate) {
      std::fprintf(stderr, "  certificate: %s\n", a.certificate->valid() ? "optimal (verified)" : a.certificate->message.c_str());
    }
  }
  return a.certificate && !a.certificate->valid() ? 1 : 0;
}
#endif

int run_devices() {
  const auto query = sluice::cuda::query_devices();
  std::printf("built with CUDA: %s\n", query.built_with_cuda ? "yes" : "no");
  for (const auto& d : query.devices) {
    std::printf("device %d: %s, compute %d.%d, %d SMs, %.1f GiB (%.1f GiB free)\n", d.index,
                d.name.c_str(), d.compute_capability_major, d.compute_capability_minor,
                d.multiprocessors, static_cast<double>(d.total_memory_bytes) / (1 << 30),
                static_cast<double>(d.free_memory_bytes) / (1 << 30));
  }
  if (query.devices.empty()) std::printf("%s\n", query.error.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Reused memory and huge pages: see sluice/process_memory.hpp (may re-execute once).
  sluice::tune_process_memory(argv);
  CLI::App app{
      "sluice: a min-cost-flow allocation engine (GPU cost scaling, CPU fallback).\n"
      "Subcommands:\n"
      "  solve    solve a DIMACS min-cost-flow file and print status, cost, time, solver\n"
      "  gen-mcf  write a seeded instance of a family (quincy, netgen, grid, assignment)\n"
      "  devices  list the CUDA devices this build can use\n"
      "  gen-snapshot  write a seeded synthetic cluster snapshot\n"
      "  import-openb  turn the Alibaba openb GPU trace into a snapshot\n"
      "  inspect  decode and validate a snapshot file\n"
      "  allocate  place a snapshot's tasks on its machines (JSON out)\n"
      "  serve    run the allocation service (ZeroMQ; docs/protocol.md)\n"
      "  submit   send a snapshot to a running service\n"
      "  replay   play the openb trace against a running service, as a master would"};
  app.require_subcommand(1);

  SolveArgs solve_args;
  auto* solve = app.add_subcommand("solve", "Solve a DIMACS min-cost-flow problem (FILE.min).");
  solve->add_option("file", solve_args.file, "DIMACS min-cost-flow file (p min ...); - reads stdin")->required();
  solve->add_flag("--progress", solve_args.progress,
                  "print the solver's progress to stderr: each cost-scaling phase (ε, time, pushes, "
                  "relabels) as it ends, network simplex pivots");
  solve->add_option("--solver", solve_args.solver,
                    "auto (GPU when present and worthwhile, else CPU), cpu, gpu, "
                    "lemon (LEMON NetworkSimplex, a reference), lemon-cs (LEMON CostScaling)")
      ->capture_default_str();
  solve->add_option("--algorithm", solve_args.algorithm,
                    "the CPU solver's algorithm: auto (by the network's shape), cost-scaling, network-simplex")
      ->capture_default_str();
  solve->add_flag("--verify", solve_args.verify,
                  "prove the result optimal: feasibility, complementary slackness, primal = dual");
  solve->add_flag("--flows", solve_args.flows, "print one 'f U V FLOW' line per arc with flow");
  solve->add_option("--alpha", solve_args.alpha, "cost-scaling factor α (default 16)");
  solve->add_option("--update-frequency", solve_args.update_frequency,
                    "global price update after this many × n relabels (default 2)");
  solve->add_flag("--push-relabel", solve_args.push_relabel,
                  "cpu: discharge by single pushes with look-ahead instead of partial augment-relabel");
  solve->add_flag("--no-lookahead", solve_args.no_lookahead,
                  "cpu: disable push look-ahead (with --push-relabel)");
  solve->add_flag("--no-price-refinement", solve_args.no_price_refinement,
                  "cpu: disable price refinement (phase skipping)");
  solve->add_flag("--no-global-updates", solve_args.no_global_updates,
                  "cpu: disable global price updates");
  solve->add_flag("--no-early-exit", solve_args.no_early_exit,
                  "cpu: run every ε-phase even when the flow is already provably optimal");
  solve->add_option("-o,--output", solve_args.output, "write the DIMACS solution here instead of stdout");

  GenArgs gen_args;
  auto* gen = app.add_subcommand("gen-mcf", "Write a seeded min-cost-flow instance in DIMACS format.");
  gen->add_option("--family", gen_args.family, "quincy | netgen | grid | assignment")->capture_default_str();
  gen->add_option("--seed", gen_args.seed, "random seed")->capture_default_str();
  gen->add_option("--machines", gen_args.machines, "quincy: machines (racks of 40, 12 slots)")->capture_default_str();
  gen->add_option("--tasks", gen_args.tasks, "quincy: tasks (supply 1 each)")->capture_default_str();
  gen->add_option("--nodes", gen_args.nodes, "netgen: nodes")->capture_default_str();
  gen->add_option("--arcs", gen_args.arcs, "netgen: arcs")->capture_default_str();
  gen->add_option("--rows", gen_args.rows, "grid: rows")->capture_default_str();
  gen->add_option("--cols", gen_args.cols, "grid: columns")->capture_default_str();
  gen->add_option("--n", gen_args.n, "assignment: workers (= jobs)")->capture_default_str();
  gen->add_option("--degree", gen_args.degree, "assignment: arcs per worker")->capture_default_str();
  gen->add_option("-o,--output", gen_args.output, "output file (default stdout)");

  auto* devices = app.add_subcommand("devices", "List the CUDA devices this build can use.");

#ifdef SLUICE_HAVE_TRANSPORT
  GenSnapshotArgs snap_args;
  auto* gen_snapshot = app.add_subcommand(
      "gen-snapshot", "Write a seeded synthetic cluster snapshot (.json, or binary otherwise).");
  gen_snapshot->add_option("--machines", snap_args.params.machines, "machines")->capture_default_str();
  gen_snapshot->add_option("--tasks", snap_args.params.tasks, "tasks over all jobs")->capture_default_str();
  gen_snapshot->add_option("--gpu-machines", snap_args.params.gpu_machine_share, "share of GPU machines")
      ->capture_default_str();
  gen_snapshot->add_option("--shapes", snap_args.params.shape_catalogue,
                            "jobs pick from this many task shapes (0: every job draws its own)")
      ->capture_default_str();
  gen_snapshot->add_option("--running", snap_args.params.running_share, "share of tasks already running")
      ->capture_default_str();
  gen_snapshot->add_option("--seed", snap_args.params.seed, "random seed")->capture_default_str();
  gen_snapshot->add_option("-o,--output", snap_args.output, "snapshot file (.json or binary)")->required();

  ImportOpenbArgs openb_args;
  auto* import_openb = app.add_subcommand(
      "import-openb", "Turn the Alibaba openb GPU trace (nodes + pods CSV) into a snapshot.");
  import_openb->add_option("--nodes", openb_args.nodes, "openb_node_list_*.csv")->required();
  import_openb->add_option("--pods", openb_args.pods, "openb_pod_list_*.csv")->required();
  import_openb->add_option("--mode", openb_args.mode,
                           "queue: every pod pending in creation order; alive: pods alive at --at")
      ->capture_default_str();
  import_openb->add_option("--at", openb_args.at, "trace time in seconds, with --mode alive");
  import_openb->add_option("-o,--output", openb_args.output, "snapshot file (.json or binary)")->required();

  std::string inspect_path;
  auto* inspect = app.add_subcommand("inspect", "Decode and validate a snapshot file, and summarise it.");
  inspect->add_option("snapshot", inspect_path, "snapshot file (.json or binary)")->required();

  AllocateArgs alloc_args;
  auto* alloc = app.add_subcommand(
      "allocate", "Place a snapshot's pending tasks (and revisit running ones) under a cost model; JSON out.");
  alloc->add_option("snapshot", alloc_args.snapshot, "snapshot file (.json or binary)")->required();
  alloc_args.flags.add_to(*alloc, "spread");
  alloc->add_flag("-q,--quiet", alloc_args.quiet, "no summary on stderr");
  alloc->add_option("--dump-network", alloc_args.dump_network,
                    "also write the min-cost-flow network it solves, in DIMACS (for solver benchmarks)");
  alloc->add_option("-o,--output", alloc_args.output, "write the JSON here instead of stdout");
#endif

#ifdef SLUICE_HAVE_SERVICE
  sluice::cli::ServiceCommands service_commands(app);
  sluice::cli::SlurmCommand slurm_command(app);
#endif

  // A first word that names no subcommand is a typo: say so (CLI11 would only say that a
  // subcommand is required), and exit 2 like every other usage error.
  if (argc > 1 && argv[1][0] != '-' &&
      app.get_subcommands([&](const CLI::App* sub) { return sub->check_name(argv[1]); }).empty()) {
    std::fprintf(stderr, "sluice: unknown subcommand '%s'; `sluice --help` lists them\n", argv[1]);
    return 2;
  }
  CLI11_PARSE(app, argc, argv);
  if (*solve) return run_solve(solve_args);
  if (*gen) return run_gen(gen_args);
  if (*devices) return run_devices();
#ifdef SLUICE_HAVE_TRANSPORT
  if (*gen_snapshot) return run_gen_snapshot(snap_args);
  if (*import_openb) return run_import_openb(openb_args);
  if (*inspect) return run_inspect(inspect_path);
  if (*alloc) return run_allocate(alloc_args);
#endif
#ifdef SLUICE_HAVE_SERVICE
  if (const auto code = service_commands.run()) return *code;
  if (const auto code = slurm_command.run()) return *code;
#endif
  return 0;
}
