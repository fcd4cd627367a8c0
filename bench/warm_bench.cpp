// Warm re-solves against cold solves of the same network, in one run: solve once, then
// repeatedly change a fraction of the arc capacities and node supplies and solve the
// changed network both ways (WarmSolver from the last optimum, and a cold solve from
// nothing), alternating which goes first so machine noise hits both alike. Every pair must
// agree on the optimal cost; the run fails loudly if one does not.
//
//   sluice_bench_warm --file alloc.min --fractions 0.001,0.01,0.1 --reps 5 --csv warm.csv
//   sluice_bench_warm --quincy 12500:150000 --alpha 16 --lemon
//
// A change set for fraction f: round(f·arcs) finite-capacity arcs get a capacity drawn
// from [lower, 2·capacity], and round(f·nodes) supply moves of up to half a source's supply
// between a random source and a random sink (see change() for what keeps most of them
// feasible). A change set that makes the problem infeasible is undone and drawn again.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/dimacs.hpp"
#include "sluice/generators.hpp"
#include "sluice/solver.hpp"
#include "sluice/warm_solver.hpp"

namespace {

struct Edit {
  bool is_arc = true;
  std::int32_t id = 0;
  std::int64_t old_value = 0;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: sluice_bench_warm (--file F.min | --quincy MACHINES:TASKS)...\n"
               "                         [--fractions 0.001,0.01,0.1] [--reps N] [--alpha A]\n"
               "                         [--method auto|shortest-paths|cost-scaling|cold] [--warm-eps E] [--path-budget B] [--update-frequency F] [--lemon] [--trace] [--seed N] [--csv FILE]\n");
  std::exit(2);
}

// Applies one change set to the solver's network and returns how to undo it. Capacities of
// arcs out of a source only grow, and a source that gains supply gains as much capacity on
// each of its arcs (as new tasks widen their shape's arcs in an allocation network), so
// that most change sets stay feasible; `out_arcs[v]` lists the arcs leaving v.
std::vector<Edit> change(sluice::WarmSolver& solver, double fraction, const std::vector<std::vector<sluice::ArcId>>& out_arcs,
                         std::mt19937_64& rng) {
  const sluice::Network& net = solver.network();
  std::vector<Edit> undo;
  std::vector<sluice::ArcId> finite;
  for (sluice::ArcId a = 0; a < net.num_arcs(); ++a) {
    if (net.capacity(a) != sluice::kInfiniteCapacity) finite.push_back(a);
  }
  std::vector<sluice::NodeId> sources, sinks;
  for (sluice::NodeId v = 0; v < net.num_nodes(); ++v) {
    if (net.supply(v) > 0) sources.push_back(v);
    if (net.supply(v) < 0) sinks.push_back(v);
  }
  auto set_capacity = [&](sluice::ArcId a, std::int64_t cap) {
    undo.push_back({true, a, net.capacity(a)});
    (void)solver.set_capacity(a, cap);
  };
  const auto arcs = static_cast<std::int64_t>(std::llround(fraction * net.num_arcs()));
  for (std::int64_t i = 0; i < arcs && !finite.empty(); ++i) {
    const sluice::ArcId a = finite[rng() % finite.size()];
    const std::int64_t lo = net.supply(net.tail(a)) > 0 ? net.capacity(a) : net.lower(a);
    const std::int64_t hi = std::max(lo, 2 * net.capacity(a));
    set_capacity(a, lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(hi - lo + 1)));
  }
  const auto moves = static_cast<std::int64_t>(std::llround(fraction * net.num_nodes()));
  for (std::int64_t i = 0; i < moves && !sources.empty() && !sinks.empty(); ++i) {
    const sluice::NodeId s = sources[rng() % sources.size()];
    const sluice::NodeId t = sinks[rng() % sinks.size()];
    const std::int64_t half = std::max<std::int64_t>(1, net.supply(s) / 2);
    const std::int64_t delta = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(2 * half + 1)) - half;
    if (net.supply(s) + delta <= 0 || net.supply(t) - delta >= 0) continue;  // keep roles
    undo.push_back({false, s, net.supply(s)});
    undo.push_back({false, t, net.supply(t)});
    (void)solver.set_supply(s, net.supply(s) + delta);
    (void)solver.set_supply(t, net.supply(t) - delta);
    if (delta > 0) {
      for (const sluice::ArcId a : out_arcs[static_cast<std::size_t>(s)]) {
        if (net.capacity(a) != sluice::kInfiniteCapacity) set_capacity(a, net.capacity(a) + delta);
      }
    }
  }
  return undo;
}

void revert(sluice::WarmSolver& solver, const std::vector<Edit>& undo) {
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    if (it->is_arc) (void)solver.set_capacity(it->id, it->old_value);
    else (void)solver.set_supply(it->id, it->old_value);
  }
}

double seconds(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> inputs;  // (name, file or quincy spec)
  std::vector<double> fractions = {0.001, 0.01, 0.1};
  int reps = 3;
  int alpha = 0;
  std::int64_t warm_eps = 0;
  bool lemon = false;
  double path_budget = 0;  // WarmSolver::set_shortest_path_budget (0: its default)
  sluice::WarmMethod method = sluice::WarmMethod::kAuto;
  double update_frequency = 0;  // SolveOptions::update_frequency (0: the solver's default)
  bool trace = false;  // per-phase lines and each solve's timings on stderr
  std::uint64_t seed = 1;
  std::string csv_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (arg == "--file") {
      const std::string f = next();
      inputs.emplace_back(f.substr(f.find_last_of('/') + 1), f);
    } else if (arg == "--quincy") {
      const std::string spec = next();
      inputs.emplace_back("quincy-" + spec, "quincy:" + spec);
    } else if (arg == "--fractions") {
      fractions.clear();
      for (const std::string& f : split(next(), ',')) fractions.push_back(std::atof(f.c_str()));
    } else if (arg == "--reps") {
      reps = std::max(1, std::atoi(next().c_str()));
    } else if (arg == "--alpha") {
      alpha = std::atoi(next().c_str());
    } else if (arg == "--warm-eps") {
      warm_eps = std::atoll(next().c_str());
    } else if (arg == "--method") {
      const auto m = sluice::parse_warm_method(next());
      if (!m) usage();
      method = *m;
    } else if (arg == "--path-budget") {
      path_budget = std::atof(next().c_str());
    } else if (arg == "--update-frequency") {
      update_frequency = std::atof(next().c_str());
    } else if (arg == "--trace") {
      trace = true;
    } else if (arg == "--lemon") {
      lemon = true;
    } else if (arg == "--seed") {
      seed = std::strtoull(next().c_str(), nullptr, 10);
    } else if (arg == "--csv") {
      csv_path = next();
    } else {
      usage();
    }
  }
  if (inputs.empty()) usage();

  std::ofstream csv;
  if (!csv_path.empty()) {
    csv.open(csv_path);
    csv << "instance,nodes,arcs,method,fraction,rep,edits,draws,first,cold_s,warm_s,warm_over_cold,lemon_ns_s,cost,warm_algorithm,status\n";
  }
  std::printf("%-28s %8s %4s %6s %9s %9s %8s %9s %s\n", "instance", "fraction", "rep", "edits", "cold s", "warm s",
              "warm/cold", "lemon s", "status");
  int failures = 0;
  for (const auto& [name, source] : inputs) {
    sluice::Network net;
    if (source.rfind("quincy:", 0) == 0) {
      const auto parts = split(source.substr(7), ':');
      if (parts.size() != 2) usage();
      sluice::QuincyParams q;
      q.machines = std::atoi(parts[0].c_str());
      q.tasks = std::atoi(parts[1].c_str());
      q.seed = seed;
      net = sluice::generate_quincy(q);
    } else {
      sluice::DimacsReadResult in = sluice::read_dimacs_file(source);
      if (!in.ok) {
        std::fprintf(stderr, "sluice_bench_warm: %s: %s\n", source.c_str(), in.error.c_str());
        return 2;
      }
      net = std::move(in.network);
    }
    sluice::SolveOptions options;
    options.backend = sluice::Backend::kCpu;
    options.scale_factor = alpha;
    options.progress = trace;
    options.update_frequency = update_frequency;
    sluice::WarmSolver solver(options);
    solver.set_warm_start_eps(warm_eps);
    solver.set_method(method);
    solver.set_shortest_path_budget(path_budget);
    solver.reset(net);
    const sluice::SolveResult first = solver.solve();
    std::fprintf(stderr, "[warm-bench] %s: %d nodes, %d arcs, first solve %.3f s (%s)\n", name.c_str(),
                 net.num_nodes(), net.num_arcs(), first.timings.total_s, std::string(to_string(first.status)).c_str());
    if (first.status != sluice::Status::kOptimal) return 1;
    std::vector<std::vector<sluice::ArcId>> out_arcs(static_cast<std::size_t>(net.num_nodes()));
    for (sluice::ArcId a = 0; a < net.num_arcs(); ++a) out_arcs[static_cast<std::size_t>(net.tail(a))].push_back(a);
    std::mt19937_64 rng(seed);
    for (const double fraction : fractions) {
      for (int rep = 0; rep < reps; ++rep) {
        // A change set that leaves the problem infeasible is undone and drawn again (a cold
        // feasibility check, not timed); after kMaxDraws the last one is measured as it is.
        constexpr int kMaxDraws = 20;
        std::vector<Edit> undo;
        int draws = 0;
        while (true) {
          ++draws;
          undo = change(solver, fraction, out_arcs, rng);
          if (draws == kMaxDraws) break;
          sluice::SolveOptions check = options;
          if (sluice::solve(solver.network(), check).status != sluice::Status::kInfeasible) break;
          revert(solver, undo);
        }
        // Alternate the order: even reps cold first, odd reps warm first.
        sluice::SolveResult cold, warm;
        const bool cold_first = rep % 2 == 0;
        const sluice::Network changed = solver.network();
        for (int turn = 0; turn < 2; ++turn) {
          if ((turn == 0) == cold_first) {
            cold = sluice::solve(changed, options);
          } else {
            warm = solver.solve();
          }
        }
        if (trace) {
          for (const auto* r : {&cold, &warm}) {
            std::fprintf(stderr, "[warm-bench] %s: setup %.4f solve %.4f potentials %.4f total %.4f s; %lld phases (%lld skipped), %lld pushes, %lld relabels\n",
                         r == &cold ? "cold" : "warm", r->timings.setup_s, r->timings.solve_s, r->timings.potentials_s,
                         r->timings.total_s, static_cast<long long>(r->stats.phases),
                         static_cast<long long>(r->stats.skipped_phases), static_cast<long long>(r->stats.pushes),
                         static_cast<long long>(r->stats.relabels));
          }
        }
        double lemon_s = 0;
        if (lemon) {
          sluice::SolveOptions lo;
          lo.backend = sluice::Backend::kLemonNetworkSimplex;
          const auto t = std::chrono::steady_clock::now();
          const sluice::SolveResult l = sluice::solve(changed, lo);
          lemon_s = seconds(t);
          if (l.status == sluice::Status::kOptimal && l.total_cost != cold.total_cost) ++failures;
        }
        std::string status(to_string(cold.status));
        if (cold.status != warm.status || (cold.status == sluice::Status::kOptimal && cold.total_cost != warm.total_cost)) {
          status = "MISMATCH cold " + std::string(to_string(cold.status)) + " " + std::to_string(cold.total_cost) +
                   " warm " + std::string(to_string(warm.status)) + " " + std::to_string(warm.total_cost);
          ++failures;
        }
        if (cold.status != sluice::Status::kOptimal) revert(solver, undo);  // keep the sequence feasible
        const double ratio = cold.timings.total_s > 0 ? warm.timings.total_s / cold.timings.total_s : 0;
        std::printf("%-28s %8g %4d %6zu %9.4f %9.4f %8.3f %9.4f %s\n", name.c_str(), fraction, rep, undo.size(),
                    cold.timings.total_s, warm.timings.total_s, ratio, lemon_s, status.c_str());
        std::fflush(stdout);
        if (csv.is_open()) {
          csv << name << ',' << changed.num_nodes() << ',' << changed.num_arcs() << ',' << to_string(method) << ','
              << fraction << ',' << rep << ','
              << undo.size() << ',' << draws << ',' << (cold_first ? "cold" : "warm") << ',' << cold.timings.total_s << ','
              << warm.timings.total_s << ',' << ratio << ',' << lemon_s << ',' << cold.total_cost << ",\"" << warm.algorithm
              << "\"," << status
              << '\n';
        }
      }
    }
  }
  if (failures > 0) {
    std::fprintf(stderr, "sluice_bench_warm: %d warm or LEMON results disagreed with the cold solve\n", failures);
    return 1;
  }
  return 0;
}
