// Seeded generators of min-cost-flow instances. The same parameters and seed always give
// the same network (std::mt19937_64 and hand-written distributions, so the output does
// not depend on the standard library's distribution implementations).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/network.hpp"

namespace sluice {

// A Quincy/Firmament-shaped scheduling network:
//   task (supply 1) -> its job's unscheduled aggregator U_j (wait cost)
//   task -> cluster aggregator X;  task -> `preferred_machines` machines;
//   task -> `preferred_racks` racks;  X -> every rack;  rack -> its machines;
//   machine -> sink as two arcs of rising cost (slots split in halves);
//   U_j -> sink.  The sink's demand is the number of tasks.
struct QuincyParams {
  std::int32_t machines = 100;
  std::int32_t tasks = 1000;
  std::int32_t jobs = 0;                 // 0 = tasks / 100, at least 1
  std::int32_t machines_per_rack = 40;
  std::int32_t slots_per_machine = 12;
  std::int32_t preferred_machines = 6;
  std::int32_t preferred_racks = 2;
  std::uint64_t seed = 1;
};
[[nodiscard]] Network generate_quincy(const QuincyParams& params);

// NETGEN-like random network: `sources` supply nodes and `sinks` demand nodes sharing
// `total_supply`, a spanning skeleton of paths so the instance is feasible, plus random
// arcs with costs in [min_cost, max_cost] and capacities in [min_cap, max_cap].
struct NetgenParams {
  std::int32_t nodes = 256;
  std::int32_t arcs = 4096;
  std::int32_t sources = 16;
  std::int32_t sinks = 16;
  std::int64_t total_supply = 10000;
  std::int64_t min_cost = 1;
  std::int64_t max_cost = 10000;
  std::int64_t min_cap = 1;
  std::int64_t max_cap = 1000;
  std::uint64_t seed = 1;
};
[[nodiscard]] Network generate_netgen(const NetgenParams& params);

// A rows x cols grid with arcs both ways between neighbours, a super source on the left
// column and a super sink on the right column.
struct GridParams {
  std::int32_t rows = 32;
  std::int32_t cols = 32;
  std::int64_t supply = 1000;
  std::int64_t max_cost = 100;
  std::int64_t max_cap = 100;
  std::uint64_t seed = 1;
};
[[nodiscard]] Network generate_grid(const GridParams& params);

// A dense-ish assignment problem: n workers (supply 1) and n jobs (demand 1), each worker
// connected to `degree` random jobs plus its own job (so a perfect matching exists).
struct AssignmentParams {
  std::int32_t n = 100;
  std::int32_t degree = 10;
  std::int64_t max_cost = 1000;
  std::uint64_t seed = 1;
};
[[nodiscard]] Network generate_assignment(const AssignmentParams& params);

enum class Family { kQuincy, kNetgen, kGrid, kAssignment };
std::string_view to_string(Family f);
std::optional<Family> parse_family(std::string_view name);

}  // namespace sluice
