// The records on the wire, each described once: its fields in schema order, by name, with
// the limit a list field is read under.
//  - A cluster Snapshot's (sluice/snapshot.hpp). Every snapshot codec walks them: the
//    cereal save/load pairs for JSON and portable binary (snapshot_cereal.hpp) and the
//    direct binary codec (binary_codec.cpp). Documented in docs/snapshot.md.
//  - An Allocation reply's (sluice/allocate.hpp): placements, migrations, preemptions,
//    unscheduled tasks, timings and network counts. Its codecs: the direct binary codec,
//    the JSON writer (allocation_json.cpp) and the JSON reader (protocol.cpp). Documented
//    in docs/allocation.md and docs/protocol.md.
// A new field is one line here, plus its documentation.
//
// visit_fields(record, f) calls f(name, member, limit) for each field; `record` may be
// const (writers) or not (readers). The top-level Snapshot and Allocation are not listed:
// each codec writes their few lines, which differ by format (a snapshot's "format" is not
// a member and its task count runs across jobs; the allocation's JSON adds counts and a
// shorter certificate, and its binary form gates fields by protocol version).
#pragma once

#include <concepts>
#include <type_traits>

#include "sluice/allocate.hpp"
#include "sluice/snapshot.hpp"

namespace sluice::detail {

// Which SnapshotLimits entry bounds a list field's length (besides the bytes left).
enum class ListLimit { kNone, kMachines, kGpusPerMachine };

template <class R, class T>
concept RecordOf = std::same_as<std::remove_const_t<R>, T>;

// ---- Snapshot ----

template <class R, class F>
  requires RecordOf<R, Gpu>
void visit_fields(R& gpu, F&& f) {
  f("index", gpu.index, ListLimit::kNone);
  f("model", gpu.model, ListLimit::kNone);
  f("free_milli", gpu.free_milli, ListLimit::kNone);
}

template <class R, class F>
  requires RecordOf<R, Machine>
void visit_fields(R& m, F&& f) {
  f("id", m.id, ListLimit::kNone);
  f("rack", m.rack, ListLimit::kNone);
  f("zone", m.zone, ListLimit::kNone);
  f("cpu_milli", m.cpu_milli, ListLimit::kNone);
  f("memory_mib", m.memory_mib, ListLimit::kNone);
  f("free_cpu_milli", m.free_cpu_milli, ListLimit::kNone);
  f("free_memory_mib", m.free_memory_mib, ListLimit::kNone);
  f("gpus", m.gpus, ListLimit::kGpusPerMachine);
  f("extra_capacity", m.extra_capacity, ListLimit::kNone);
  f("extra_free", m.extra_free, ListLimit::kNone);
  f("labels", m.labels, ListLimit::kNone);
}

template <class R, class F>
  requires RecordOf<R, Preference>
void visit_fields(R& p, F&& f) {
  f("target", p.target, ListLimit::kNone);
  f("weight", p.weight, ListLimit::kNone);
}

template <class R, class F>
  requires RecordOf<R, Task>
void visit_fields(R& t, F&& f) {
  f("id", t.id, ListLimit::kNone);
  f("cpu_milli", t.cpu_milli, ListLimit::kNone);
  f("memory_mib", t.memory_mib, ListLimit::kNone);
  f("gpus", t.gpus, ListLimit::kNone);
  f("gpu_milli", t.gpu_milli, ListLimit::kNone);
  f("gpu_models", t.gpu_models, ListLimit::kNone);
  f("extra", t.extra, ListLimit::kNone);
  f("selector", t.selector, ListLimit::kNone);
  // A preference per machine (or rack) at most.
  f("preferred_machines", t.preferred_machines, ListLimit::kMachines);
  f("preferred_racks", t.preferred_racks, ListLimit::kMachines);
  f("state", t.state, ListLimit::kNone);
  f("machine", t.machine, ListLimit::kNone);
  f("gpu_indexes", t.gpu_indexes, ListLimit::kGpusPerMachine);
}

template <class R, class F>
  requires RecordOf<R, Job>
void visit_fields(R& job, F&& f) {
  f("id", job.id, ListLimit::kNone);
  f("priority", job.priority, ListLimit::kNone);
  f("submit_time", job.submit_time, ListLimit::kNone);
  f("tasks", job.tasks, ListLimit::kNone);  // max_tasks is counted across jobs by each reader
}

// ---- Allocation reply ----

template <class R, class F>
  requires RecordOf<R, Placement>
void visit_fields(R& p, F&& f) {
  f("job", p.job, ListLimit::kNone);
  f("task", p.task, ListLimit::kNone);
  f("machine", p.machine, ListLimit::kNone);
  f("gpus", p.gpu_indexes, ListLimit::kGpusPerMachine);
}

template <class R, class F>
  requires RecordOf<R, Migration>
void visit_fields(R& m, F&& f) {
  f("job", m.job, ListLimit::kNone);
  f("task", m.task, ListLimit::kNone);
  f("from", m.from_machine, ListLimit::kNone);
  f("machine", m.machine, ListLimit::kNone);
  f("gpus", m.gpu_indexes, ListLimit::kGpusPerMachine);
}

template <class R, class F>
  requires RecordOf<R, Preemption>
void visit_fields(R& p, F&& f) {
  f("job", p.job, ListLimit::kNone);
  f("task", p.task, ListLimit::kNone);
  f("machine", p.machine, ListLimit::kNone);
  f("reason", p.reason, ListLimit::kNone);
}

template <class R, class F>
  requires RecordOf<R, Unscheduled>
void visit_fields(R& u, F&& f) {
  f("job", u.job, ListLimit::kNone);
  f("task", u.task, ListLimit::kNone);
  f("reason", u.reason, ListLimit::kNone);
  f("message", u.message, ListLimit::kNone);
}

// Seconds (JSON: the "timings_s" object).
template <class R, class F>
  requires RecordOf<R, AllocationTimings>
void visit_fields(R& t, F&& f) {
  f("decode", t.decode_s, ListLimit::kNone);
  f("validate", t.validate_s, ListLimit::kNone);
  f("build", t.build_s, ListLimit::kNone);
  f("solve", t.solve_s, ListLimit::kNone);
  f("repair", t.repair_s, ListLimit::kNone);
  f("extract", t.extract_s, ListLimit::kNone);
  f("total", t.total_s, ListLimit::kNone);
}

// The "network" object: the fields of protocol version 1, then those version 2 added
// (visit_fields_since_v2; a version 1 peer neither sends nor expects them).
template <class R, class F>
  requires RecordOf<R, AllocationStats>
void visit_fields(R& s, F&& f) {
  f("pending_tasks", s.pending_tasks, ListLimit::kNone);
  f("running_tasks", s.running_tasks, ListLimit::kNone);
  f("shapes", s.shapes, ListLimit::kNone);
  f("running_groups", s.running_groups, ListLimit::kNone);
  f("machine_classes", s.machine_classes, ListLimit::kNone);
  f("nodes", s.nodes, ListLimit::kNone);
  f("arcs", s.arcs, ListLimit::kNone);
  f("cost_evaluations", s.cost_evaluations, ListLimit::kNone);
  f("repaired", s.repaired, ListLimit::kNone);
}
template <class R, class F>
  requires RecordOf<R, AllocationStats>
void visit_fields_since_v2(R& s, F&& f) {
  f("resolves", s.resolves, ListLimit::kNone);
  f("placed_by_flow", s.placed_by_flow, ListLimit::kNone);
  f("placed_by_resolve", s.placed_by_resolve, ListLimit::kNone);
  f("placed_by_fallback", s.placed_by_fallback, ListLimit::kNone);
}

// True for the records above (a codec recurses into them through visit_fields).
template <class T>
inline constexpr bool kIsRecord =
    std::is_same_v<T, Gpu> || std::is_same_v<T, Machine> || std::is_same_v<T, Preference> ||
    std::is_same_v<T, Task> || std::is_same_v<T, Job> || std::is_same_v<T, Placement> ||
    std::is_same_v<T, Migration> || std::is_same_v<T, Preemption> || std::is_same_v<T, Unscheduled> ||
    std::is_same_v<T, AllocationTimings> || std::is_same_v<T, AllocationStats>;

}  // namespace sluice::detail
