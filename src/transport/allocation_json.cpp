// Allocation → JSON: the `sluice allocate` output and the service's JSON reply body
// (declared in protocol.hpp, beside its decoder). The records' fields come from
// wire_schema.hpp; the top level is written here, with what only the JSON form has (the
// counts, a certificate as valid + message). Field names are documented in docs/allocation.md.
#include <cmath>
#include <cstdio>
#include <string>

#include "json_text.hpp"
#include "sluice/allocate.hpp"
#include "sluice/protocol.hpp"
#include "wire_schema.hpp"

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

void put_value(std::string& out, const std::string& v) { put_string(out, v); }
void put_value(std::string& out, std::int64_t v) { out += std::to_string(v); }
void put_value(std::string& out, double v) { put_number(out, v); }
void put_value(std::string& out, const std::vector<std::int32_t>& v) { put_indexes(out, v); }
void put_value(std::string& out, UnscheduledReason v) { put_string(out, to_string(v)); }

// A record's fields (wire_schema.hpp) as members of one JSON object on one line:
// {"job": "j", "task": "t", ...}. Closed by the caller, so more fields can follow.
struct MemberWriter {
  std::string& out;
  bool first = true;
  template <class T>
  void operator()(const char* name, const T& v, detail::ListLimit /*limit*/) {
    out += first ? "{\"" : ", \"";
    first = false;
    out += name;
    out += "\": ";
    put_value(out, v);
  }
};

template <class R>
void put_record(std::string& out, const R& record) {
  MemberWriter members{out};
  detail::visit_fields(record, members);
  out += '}';
}

// `,\n  "name": [` then a record per line, or `[]` when empty.
template <class R>
void put_list(std::string& out, const char* name, const std::vector<R>& list) {
  out += ",\n  \"";
  out += name;
  out += "\": [";
  for (std::size_t i = 0; i < list.size(); ++i) {
    out += i == 0 ? "\n    " : ",\n    ";
    put_record(out, list[i]);
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
  out += ",\n  \"timings_s\": ";
  put_record(out, a.timings);
  out += ",\n  \"network\": ";
  MemberWriter network{out};
  detail::visit_fields(a.stats, network);
  detail::visit_fields_since_v2(a.stats, network);
  out += '}';
  if (a.certificate) {
    out += ",\n  \"certificate\": {\"valid\": ";
    out += a.certificate->valid() ? "true" : "false";
    out += ", \"message\": ";
    put_string(out, a.certificate->message);
    out += "}";
  }
  put_list(out, "placements", a.placements);
  put_list(out, "kept", a.kept);
  put_list(out, "migrations", a.migrations);
  put_list(out, "preemptions", a.preemptions);
  put_list(out, "unscheduled", a.unscheduled);
  out += "\n}\n";
  return out;
}

}  // namespace sluice
