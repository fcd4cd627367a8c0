// The openb trace as pods with lifetimes (include/sluice/trace_replay.hpp), read with the
// importer's parser and mapping rules (openb_import.cpp documents them).
#include <exception>
#include <string>

#include "openb_csv.hpp"
#include "sluice/trace_replay.hpp"

namespace sluice {

TraceLoadResult load_openb_trace(const std::string& nodes_csv, const std::string& pods_csv) {
  TraceLoadResult result;
  try {
    detail::OpenbTables tables;
    if (!detail::read_openb_tables(nodes_csv, pods_csv, 40, tables, result.error)) return result;
    result.trace.machines = std::move(tables.machines);
    result.trace.pods.reserve(tables.pods.size());
    for (detail::OpenbPod& row : tables.pods) {
      Task& task = row.job.tasks.front();
      TracePod& pod = result.trace.pods.emplace_back();
      pod.name = std::move(row.job.id);
      pod.priority = row.job.priority;
      pod.cpu_milli = task.cpu_milli;
      pod.memory_mib = task.memory_mib;
      pod.gpus = task.gpus;
      pod.gpu_milli = task.gpu_milli;
      pod.gpu_models = std::move(task.gpu_models);
      pod.creation_time = row.job.submit_time;
      pod.deletion_time = row.deletion;  // kOpenbNeverDeleted == kNeverDeleted
    }
    result.ok = true;
  } catch (const std::exception& e) {
    result = TraceLoadResult{};
    result.error = "cannot load " + nodes_csv + " and " + pods_csv + ": " + e.what();
  }
  return result;
}

}  // namespace sluice
