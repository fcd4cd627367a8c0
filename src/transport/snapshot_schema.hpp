// The records of a cluster Snapshot (sluice/snapshot.hpp), each described once: its fields
// in schema order, by name, with the limit a list field is read under. Every snapshot
// codec walks these lists: the cereal save/load pairs for JSON and portable binary
// (snapshot_cereal.hpp) and the direct binary codec (binary_codec.cpp). A new field is one
// line here, plus its documentation (docs/snapshot.md).
//
// visit_fields(record, f) calls f(name, member, limit) for each field; `record` may be
// const (writers) or not (readers). The Snapshot itself is not listed: its "format" is not
// a member and its task count runs across jobs, so each codec writes those few lines.
#pragma once

#include <concepts>
#include <type_traits>

#include "sluice/snapshot.hpp"

namespace sluice::detail {

// Which SnapshotLimits entry bounds a list field's length (besides the bytes left).
enum class ListLimit { kNone, kMachines, kGpusPerMachine };

template <class R, class T>
concept RecordOf = std::same_as<std::remove_const_t<R>, T>;

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

// True for the records above (a codec recurses into them through visit_fields).
template <class T>
inline constexpr bool kIsRecord = std::is_same_v<T, Gpu> || std::is_same_v<T, Machine> ||
                                  std::is_same_v<T, Preference> || std::is_same_v<T, Task> ||
                                  std::is_same_v<T, Job>;

}  // namespace sluice::detail
