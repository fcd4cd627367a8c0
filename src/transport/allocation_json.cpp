// Allocation → JSON: the `sluice allocate` output and the service's JSON reply body
// (declared in protocol.hpp, beside its decoder).
// Field names are documented in docs/allocation.md.
#include <cmath>
#include <cstdio>
#include <string>

#include "json_text.hpp"
#include "sluice/allocate.hpp"
#include "sluice/protocol.hpp"

namespace sluice {
namespace {

void put_string(std::string& out, std::string_view s) { detail::append_json_string(out, s); }

// Seconds to the microsecond. The buffer holds any double in this format (up to 309 integer
// digits: a 32-byte one cut 1e30 to "1000...0." and made the document unreadable, found by
// fuzz/protocol_fuzz). JSON has no NaN or infinity: those, which no allocation holds (the
// decoders refuse them), are written as null.
void put_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  out += buf;
}

void put_indexes(std::string& out, const std::vector<std::int32_t>& idx) {
  out += '[';
  for (std::size_t i = 0; i < idx.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(idx[i]);
  }
  out += ']';
}

void put_placements(std::string& out, const char* name, const std::vector<Placement>& list) {
  out += ",\n  \"";
  out += name;
  out += "\": [";
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Placement& p = list[i];
    out += i == 0 ? "\n    {\"job\": " : ",\n    {\"job\": ";
    put_string(out, p.job);
    out += ", \"task\": ";
    put_string(out, p.task);
    out += ", \"machine\": ";
    put_string(out, p.machine);
    out += ", \"gpus\": ";
    put_indexes(out, p.gpu_indexes);
    out += '}';
  }
  out += list.empty() ? "]" : "\n  ]";
}

}  // namespace

std::string allocation_to_json(const Allocation& a) {
  std::string out = "{\n  \"status\": ";
  put_string(out, to_string(a.status));
  out += ",\n  \"message\": ";
  put_string(out, a.message);
  out += ",\n  \"snapshot_version\": " + std::to_string(a.snapshot_version);
  out += ",\n  \"cost_model\": ";
  put_string(out, to_string(a.cost_model));
  out += ",\n  \"backend\": ";
  put_string(out, a.backend);
  out += ",\n  \"algorithm\": ";
  put_string(out, a.algorithm);
  out += ",\n  \"fell_back\": ";
  out += a.fell_back ? "true" : "false";
  out += ",\n  \"fallback_reason\": ";
  put_string(out, a.fallback_reason);
  out += ",\n  \"objective\": " + std::to_string(a.objective);
  out += ",\n  \"counts\": {\"placed\": " + std::to_string(a.placements.size()) +
         ", \"kept\": " + std::to_string(a.kept.size()) + ", \"migrated\": " + std::to_string(a.migrations.size()) +
         ", \"preempted\": " + std::to_string(a.preemptions.size()) +
         ", \"unscheduled\": " + std::to_string(a.unscheduled.size()) + "}";
  const AllocationTimings& t = a.timings;
  out += ",\n  \"timings_s\": {\"decode\": ";
  put_number(out, t.decode_s);
  out += ", \"validate\": ";
  put_number(out, t.validate_s);
  out += ", \"build\": ";
  put_number(out, t.build_s);
  out += ", \"solve\": ";
  put_number(out, t.solve_s);
  out += ", \"repair\": ";
  put_number(out, t.repair_s);
  out += ", \"extract\": ";
  put_number(out, t.extract_s);
  out += ", \"total\": ";
  put_number(out, t.total_s);
  out += "}";
  const AllocationStats& s = a.stats;
  out += ",\n  \"network\": {\"pending_tasks\": " + std::to_string(s.pending_tasks) +
         ", \"running_tasks\": " + std::to_string(s.running_tasks) + ", \"shapes\": " + std::to_string(s.shapes) +
         ", \"running_groups\": " + std::to_string(s.running_groups) +
         ", \"machine_classes\": " + std::to_string(s.machine_classes) + ", \"nodes\": " + std::to_string(s.nodes) +
         ", \"arcs\": " + std::to_string(s.arcs) + ", \"cost_evaluations\": " + std::to_string(s.cost_evaluations) +
         ", \"repaired\": " + std::to_string(s.repaired) + ", \"resolves\": " + std::to_string(s.resolves) +
         ", \"placed_by_flow\": " + std::to_string(s.placed_by_flow) +
         ", \"placed_by_resolve\": " + std::to_string(s.placed_by_resolve) +
         ", \"placed_by_fallback\": " + std::to_string(s.placed_by_fallback) + "}";
  if (a.certificate) {
    out += ",\n  \"certificate\": {\"valid\": ";
    out += a.certificate->valid() ? "true" : "false";
    out += ", \"message\": ";
    put_string(out, a.certificate->message);
    out += "}";
  }
  put_placements(out, "placements", a.placements);
  put_placements(out, "kept", a.kept);
  out += ",\n  \"migrations\": [";
  for (std::size_t i = 0; i < a.migrations.size(); ++i) {
    const Migration& m = a.migrations[i];
    out += i == 0 ? "\n    {\"job\": " : ",\n    {\"job\": ";
    put_string(out, m.job);
    out += ", \"task\": ";
    put_string(out, m.task);
    out += ", \"from\": ";
    put_string(out, m.from_machine);
    out += ", \"machine\": ";
    put_string(out, m.machine);
    out += ", \"gpus\": ";
    put_indexes(out, m.gpu_indexes);
    out += '}';
  }
  out += a.migrations.empty() ? "]" : "\n  ]";
  out += ",\n  \"preemptions\": [";
  for (std::size_t i = 0; i < a.preemptions.size(); ++i) {
    const Preemption& p = a.preemptions[i];
    out += i == 0 ? "\n    {\"job\": " : ",\n    {\"job\": ";
    put_string(out, p.job);
    out += ", \"task\": ";
    put_string(out, p.task);
    out += ", \"machine\": ";
    put_string(out, p.machine);
    out += ", \"reason\": ";
    put_string(out, p.reason);
    out += '}';
  }
  out += a.preemptions.empty() ? "]" : "\n  ]";
  out += ",\n  \"unscheduled\": [";
  for (std::size_t i = 0; i < a.unscheduled.size(); ++i) {
    const Unscheduled& u = a.unscheduled[i];
    out += i == 0 ? "\n    {\"job\": " : ",\n    {\"job\": ";
    put_string(out, u.job);
    out += ", \"task\": ";
    put_string(out, u.task);
    out += ", \"reason\": ";
    put_string(out, to_string(u.reason));
    out += ", \"message\": ";
    put_string(out, u.message);
    out += '}';
  }
  out += a.unscheduled.empty() ? "]" : "\n  ]";
  out += "\n}\n";
  return out;
}

}  // namespace sluice
