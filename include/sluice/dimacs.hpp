// DIMACS min-cost-flow files (`p min N M`, `n ID SUPPLY [TYPE]`, `a U V LOW CAP COST`,
// `c ...` comments, 1-based ids) and the DIMACS solution format (`s COST`, `f U V FLOW`).
// Accepts the Firmament dialect: node names in `c nd ...` comment lines and an optional
// third field on `n` lines. Errors name the source, the line and what was expected.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/network.hpp"
#include "sluice/solver.hpp"

namespace sluice {

struct DimacsReadResult {
  bool ok = false;
  std::string error;  // "FILE:LINE: what was expected, what was found"; empty when ok
  Network network;    // node i of the file is node i-1 here
  // Firmament dialect extras, indexed by 0-based node id; empty when the file has none.
  std::vector<std::string> node_names;  // from `c nd ...` lines preceding `n` lines
  std::vector<int> node_types;          // third field of `n` lines, 0 when absent
};

// What a file may declare on its `p min N M` line; a larger count is refused with the line
// that declares it, before anything is sized from it. The node arrays reach N once the file
// has parsed (isolated nodes are legal), so N is memory a short file can claim: a reader of
// untrusted input sets max_nodes to what it is prepared to hold (the fuzzer: 2^20). The
// defaults are the network's own limits, and a header that would not fit in this machine's
// memory is refused either way.
struct DimacsLimits {
  std::int64_t max_nodes = kMaxNodes;
  std::int64_t max_arcs = kMaxArcs;
};

[[nodiscard]] DimacsReadResult read_dimacs(std::istream& in, std::string_view source_name,
                                           const DimacsLimits& limits = {});
[[nodiscard]] DimacsReadResult read_dimacs_file(const std::string& path, const DimacsLimits& limits = {});

// Writes a problem; `comment` lines (may be empty) are emitted as `c` lines first.
void write_dimacs(std::ostream& out, const Network& network, std::string_view comment = {});

// Writes `s COST` and, when with_flows, one `f U V FLOW` line per arc with non-zero flow
// (1-based ids). For non-optimal results writes `c status: ...` and `s` is omitted.
void write_dimacs_solution(std::ostream& out, const Network& network,
                           const SolveResult& result, bool with_flows);

}  // namespace sluice
