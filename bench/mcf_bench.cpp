// Min-cost-flow benchmark: our CPU solver against LEMON NetworkSimplex and CostScaling on
// the same instances, in one run, alternating solvers within each repetition so machine
// noise hits all of them alike. Every (instance, solver, repetition) runs in a forked child
// so its peak memory (ru_maxrss) is its own; the child rebuilds the instance from the same
// seed or file. Prints a table and the ratio ours / LEMON, writes a CSV.
//
//   sluice_bench_mcf --quincy 12500:150000 --quincy 50000:500000 --reps 3 --csv out.csv
//   sluice_bench_mcf --file datasets/mcf/netgen_sr_08a.min --solvers cpu,lemon-ns
//   sluice_bench_mcf --file datasets/mcf --reps 5        (a directory: every .min in it)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dimacs_files.hpp"
#include "sluice/dimacs.hpp"
#include "sluice/generators.hpp"
#include "sluice/solver.hpp"

namespace {

struct Instance {
  std::string name;
  std::string file;  // DIMACS file, or empty for a generated instance
  sluice::Family family = sluice::Family::kQuincy;
  sluice::QuincyParams quincy;
  sluice::NetgenParams netgen;
  sluice::GridParams grid;
  sluice::AssignmentParams assignment;
};

struct Sample {
  bool ok = false;
  std::string status;
  std::int64_t cost = 0;
  double total_s = 0, solve_s = 0;
  double peak_rss_mb = 0;      // the child's peak resident memory
  double instance_rss_mb = 0;  // resident memory once the instance was loaded
  std::int32_t nodes = 0, arcs = 0;
};

double rss_mb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atof(line.c_str() + std::strlen(field)) / 1024.0;
  }
  return 0;
}

sluice::Network load(const Instance& inst, std::string& error) {
  if (!inst.file.empty()) {
    auto r = sluice::read_dimacs_file(inst.file);
    if (!r.ok) error = r.error;
    return std::move(r.network);
  }
  switch (inst.family) {
    case sluice::Family::kQuincy: return sluice::generate_quincy(inst.quincy);
    case sluice::Family::kNetgen: return sluice::generate_netgen(inst.netgen);
    case sluice::Family::kGrid: return sluice::generate_grid(inst.grid);
    case sluice::Family::kAssignment: return sluice::generate_assignment(inst.assignment);
  }
  return {};
}

// A solver as named on the command line: a backend, and for ours the CPU algorithm and α.
struct Solver {
  sluice::Backend backend = sluice::Backend::kCpu;
  sluice::CpuAlgorithm algorithm = sluice::CpuAlgorithm::kAuto;
  int alpha = 0;
  double block_factor = 0;
};

// "cpu" (the CPU backend's own choice), "cpu-cs" or "cpu-csA" (cost scaling, α = A),
// "cpu-ns" or "cpu-nsF" (network simplex, pricing blocks of F·√m arcs), or any backend
// name parse_backend() knows.
std::optional<Solver> parse_solver(const std::string& name) {
  Solver s;
  if (name.rfind("cpu-ns", 0) == 0) {
    s.algorithm = sluice::CpuAlgorithm::kNetworkSimplex;
    if (name.size() > 6) {
      s.block_factor = std::atof(name.c_str() + 6);
      if (!(s.block_factor > 0)) return std::nullopt;
    }
    return s;
  }
  if (name.rfind("cpu-cs", 0) == 0) {
    s.algorithm = sluice::CpuAlgorithm::kCostScaling;
    if (name.size() > 6) {
      s.alpha = std::atoi(name.c_str() + 6);
      if (s.alpha < 2) return std::nullopt;
    }
    return s;
  }
  const auto b = sluice::parse_backend(name);
  if (!b) return std::nullopt;
  s.backend = *b;
  return s;
}

// Runs in the child: load, solve, write one line to fd.
[[noreturn]] void child(const Instance& inst, const Solver& solver, int fd) {
  std::string error;
  sluice::Network net = load(inst, error);
  const double inst_mb = rss_mb("VmRSS:");
  sluice::SolveOptions options;
  options.backend = solver.backend;
  options.cpu_algorithm = solver.algorithm;
  options.scale_factor = solver.alpha;
  options.ns_block_factor = solver.block_factor;
  options.want_potentials = true;
  sluice::SolveResult r;
  if (error.empty()) r = sluice::solve(net, options);
  // A GPU run the CPU served must not be reported as the GPU's time.
  const std::string status = !error.empty() ? "load-error"
                             : r.fell_back  ? "fell-back"
                                            : std::string(sluice::to_string(r.status));
  char buf[512];
  const int len = std::snprintf(buf, sizeof buf, "%s %lld %.6f %.6f %.3f %d %d\n", status.c_str(),
                                static_cast<long long>(r.total_cost), r.timings.total_s,
                                r.timings.solve_s, inst_mb, net.num_nodes(), net.num_arcs());
  if (write(fd, buf, static_cast<std::size_t>(len)) != len) _exit(3);
  _exit(0);
}

Sample run_one(const Instance& inst, const Solver& backend) {
  Sample s;
  int fds[2];
  if (pipe(fds) != 0) return s;
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    child(inst, backend, fds[1]);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int wstatus = 0;
  rusage usage{};
  wait4(pid, &wstatus, 0, &usage);
  std::istringstream in(out);
  long long cost = 0;
  in >> s.status >> cost >> s.total_s >> s.solve_s >> s.instance_rss_mb >> s.nodes >> s.arcs;
  s.cost = cost;
  s.ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 && !in.fail();
  if (!s.ok && s.status.empty()) s.status = "crashed";
  s.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  return s;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) parts.push_back(item);
  return parts;
}

void usage() {
  std::fprintf(stderr,
               "usage: sluice_bench_mcf [--quincy MACHINES:TASKS]... [--netgen NODES:ARCS]...\n"
               "                        [--grid ROWS:COLS]... [--assignment N:DEGREE]...\n"
               "                        [--file F.min|DIR]... [--seed N]\n"
               "                        [--solvers cpu,cpu-ns,cpu-cs,cpu-cs4,gpu,lemon-ns,lemon-cs] [--reps N] [--csv FILE]\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Instance> instances;
  std::vector<std::string> solvers = {"cpu", "lemon-ns", "lemon-cs"};
  int reps = 3;
  std::uint64_t seed = 1;
  std::string csv_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--quincy") {
      const auto parts = split(next(), ':');
      if (parts.size() != 2) {
        usage();
        return 2;
      }
      Instance inst;
      inst.quincy.machines = std::atoi(parts[0].c_str());
      inst.quincy.tasks = std::atoi(parts[1].c_str());
      inst.name = "quincy-" + parts[0] + "m-" + parts[1] + "t";
      instances.push_back(inst);
    } else if (arg == "--netgen" || arg == "--grid" || arg == "--assignment") {
      const std::string spec = next();
      const auto parts = split(spec, ':');
      if (parts.size() != 2) {
        usage();
        return 2;
      }
      const int a = std::atoi(parts[0].c_str());
      const int b = std::atoi(parts[1].c_str());
      Instance inst;
      if (arg == "--netgen") {
        inst.family = sluice::Family::kNetgen;
        inst.netgen.nodes = a;
        inst.netgen.arcs = b;
        inst.netgen.sources = std::max(1, a / 16);
        inst.netgen.sinks = std::max(1, a / 16);
        inst.netgen.total_supply = 100LL * a;
      } else if (arg == "--grid") {
        inst.family = sluice::Family::kGrid;
        inst.grid.rows = a;
        inst.grid.cols = b;
        inst.grid.supply = 10LL * a;
      } else {
        inst.family = sluice::Family::kAssignment;
        inst.assignment.n = a;
        inst.assignment.degree = b;
      }
      inst.name = arg.substr(2) + "-" + spec;
      instances.push_back(inst);
    } else if (arg == "--file") {
      const std::string path = next();
      const std::vector<std::string> files = sluice::bench::dimacs_files(path);
      if (files.empty()) {
        std::fprintf(stderr, "sluice_bench_mcf: %s holds no .min file\n", path.c_str());
        std::exit(2);
      }
      for (const std::string& file : files) {
        Instance inst;
        inst.file = file;
        inst.name = file.substr(file.find_last_of('/') + 1);
        instances.push_back(inst);
      }
    } else if (arg == "--solvers") {
      solvers = split(next(), ',');
    } else if (arg == "--reps") {
      reps = std::max(1, std::atoi(next().c_str()));
    } else if (arg == "--seed") {
      seed = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--csv") {
      csv_path = next();
    } else {
      usage();
      return 2;
    }
  }
  if (instances.empty()) {
    usage();
    return 2;
  }
  for (auto& inst : instances) {
    inst.quincy.seed = inst.netgen.seed = inst.grid.seed = inst.assignment.seed = seed;
  }
  std::vector<Solver> backends;
  for (const auto& s : solvers) {
    const auto b = parse_solver(s);
    if (!b) {
      std::fprintf(stderr, "unknown solver %s\n", s.c_str());
      return 2;
    }
    backends.push_back(*b);
  }

  std::ofstream csv;
  if (!csv_path.empty()) {
    csv.open(csv_path);
    csv << "instance,nodes,arcs,solver,rep,status,cost,total_s,solve_s,peak_rss_mb,instance_rss_mb\n";
  }
  bool all_agree = true;
  for (const auto& inst : instances) {
    std::map<std::string, std::vector<double>> times, peaks;
    std::map<std::string, std::int64_t> costs;
    std::int32_t nodes = 0, arcs = 0;
    for (int rep = 0; rep < reps; ++rep) {
      for (std::size_t k = 0; k < backends.size(); ++k) {
        const Sample s = run_one(inst, backends[k]);
        nodes = s.nodes;
        arcs = s.arcs;
        std::printf("%-28s %-9s rep %d: %-10s cost %lld  total %.3f s (solve %.3f s)  peak %.0f MiB (instance %.0f MiB)\n",
                    inst.name.c_str(), solvers[k].c_str(), rep, s.status.c_str(),
                    static_cast<long long>(s.cost), s.total_s, s.solve_s, s.peak_rss_mb, s.instance_rss_mb);
        std::fflush(stdout);
        if (csv.is_open()) {
          csv << inst.name << ',' << s.nodes << ',' << s.arcs << ',' << solvers[k] << ',' << rep << ','
              << s.status << ',' << s.cost << ',' << s.total_s << ',' << s.solve_s << ','
              << s.peak_rss_mb << ',' << s.instance_rss_mb << '\n';
        }
        if (s.status == "optimal") {
          times[solvers[k]].push_back(s.total_s);
          peaks[solvers[k]].push_back(s.peak_rss_mb);
          if (costs.count(solvers[k]) && costs[solvers[k]] != s.cost) all_agree = false;
          costs[solvers[k]] = s.cost;
        }
      }
    }
    std::printf("== %s: %d nodes, %d arcs, median of %d\n", inst.name.c_str(), nodes, arcs, reps);
    for (const auto& s : solvers) {
      std::printf("   %-9s %8.3f s  peak %6.0f MiB  cost %lld\n", s.c_str(), median(times[s]),
                  median(peaks[s]), static_cast<long long>(costs[s]));
    }
    std::set<std::int64_t> distinct;
    for (const auto& [name, c] : costs) distinct.insert(c);
    if (distinct.size() > 1) {
      all_agree = false;
      std::printf("   COST MISMATCH between solvers\n");
    }
    for (const auto& ours : solvers) {
      if (ours.rfind("cpu", 0) != 0 || !times.count(ours)) continue;
      for (const char* ref : {"lemon-ns", "lemon-cs"}) {
        if (times.count(ref) && median(times[ref]) > 0) {
          std::printf("   ratio %s/%s: time %.3f, peak memory %.3f\n", ours.c_str(), ref,
                      median(times[ours]) / median(times[ref]), median(peaks[ours]) / median(peaks[ref]));
        }
      }
    }
    std::fflush(stdout);
  }
  return all_agree ? 0 : 1;
}
