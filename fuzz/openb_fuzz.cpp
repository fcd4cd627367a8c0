// Fuzzes the openb trace importer's CSV reader (datasets/openb_import.cpp) through
// detail::read_openb_tables_from_text, the same parser import_openb and the trace replay
// run on files. The input is the node CSV, a NUL byte, then the pod CSV (no NUL: all nodes,
// no pod file content).
//
// Besides "never crash, never throw": a refusal names the file and line, pods come out in
// creation order, and what is accepted makes a snapshot that validate() accepts (what
// import_openb builds), so a bad trace fails at its line, not later with a record index.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "openb_csv.hpp"
#include "sluice/snapshot.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string_view nodes = input.substr(0, nul);
  const std::string_view pods = nul == std::string_view::npos ? std::string_view{} : input.substr(nul + 1);

  detail::OpenbTables tables;
  std::string error;
  const bool ok = detail::read_openb_tables_from_text(std::string(nodes), "nodes.csv", std::string(pods), "pods.csv",
                                                      40, tables, error);
  SLUICE_FUZZ_CHECK(ok == error.empty(), error);
  if (!ok) {
    SLUICE_FUZZ_CHECK(error.starts_with("nodes.csv:") || error.starts_with("pods.csv:"), error);
    return 0;
  }
  for (std::size_t i = 1; i < tables.pods.size(); ++i) {
    SLUICE_FUZZ_CHECK(tables.pods[i - 1].job.submit_time <= tables.pods[i].job.submit_time, "pods out of order");
  }
  Snapshot snapshot;
  snapshot.version = 1;
  snapshot.machines = std::move(tables.machines);
  for (detail::OpenbPod& pod : tables.pods) snapshot.jobs.push_back(std::move(pod.job));
  const Validation v = validate(snapshot, SnapshotLimits{});
  SLUICE_FUZZ_CHECK(v.ok(), v.message);
  return 0;
}
