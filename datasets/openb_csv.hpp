// The openb CSV reader shared by import_openb (include/sluice/openb.hpp) and the trace
// replay (include/sluice/trace_replay.hpp): one parser, one set of mapping rules and
// error messages, documented at the top of openb_import.cpp. Private to sluice_datasets.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sluice/snapshot.hpp"

namespace sluice::detail {

inline constexpr std::int64_t kOpenbNeverDeleted = std::numeric_limits<std::int64_t>::max();

struct OpenbPod {
  Job job;                                     // one pending task, id = job id = pod name; submit_time = creation_time
  std::int64_t deletion = kOpenbNeverDeleted;  // empty or 0 in the file: never deleted
};

struct OpenbTables {
  std::vector<Machine> machines;  // file order, everything free
  std::vector<OpenbPod> pods;     // stably sorted by creation time (ties keep file order)
};

// Reads both files; false with `error` = "FILE:LINE: ..." (or an I/O message) on failure.
// Throws only std::bad_alloc.
[[nodiscard]] bool read_openb_tables(const std::string& nodes_csv, const std::string& pods_csv,
                                     std::int32_t machines_per_rack, OpenbTables& tables, std::string& error);

// The same parser on CSV text already in memory (what the fuzzer feeds it): `nodes_name` and
// `pods_name` stand for the files in error messages ("NAME:LINE: ...").
[[nodiscard]] bool read_openb_tables_from_text(std::string nodes_text, const std::string& nodes_name,
                                               std::string pods_text, const std::string& pods_name,
                                               std::int32_t machines_per_rack, OpenbTables& tables,
                                               std::string& error);

}  // namespace sluice::detail
