// Importer for the Alibaba GPU-cluster trace "openb" (cluster-trace-gpu-v2023, the data of
// the FGD paper, ATC'23): a node list and a pod list in CSV become a Snapshot.
//   nodes: sn,cpu_milli,memory_mib,gpu,model
//   pods:  name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,
//          creation_time,deletion_time,scheduled_time
#pragma once

#include <cstdint>
#include <string>

#include "sluice/snapshot.hpp"

namespace sluice {

struct OpenbImportOptions {
  enum class Mode {
    kPendingQueue,  // every pod, pending, in creation order (the FGD replay)
    kAliveAt,       // the pods alive at `at_time` (creation <= t < deletion), pending
  };
  Mode mode = Mode::kPendingQueue;
  std::int64_t at_time = 0;
  std::int32_t machines_per_rack = 40;  // the trace has no topology: racks are made up
};

struct OpenbImportResult {
  bool ok = false;
  std::string error;  // "FILE:LINE: what was expected, found '...'"
  Snapshot snapshot;
};

[[nodiscard]] OpenbImportResult import_openb(const std::string& nodes_csv, const std::string& pods_csv,
                                             const OpenbImportOptions& options = {});

}  // namespace sluice
