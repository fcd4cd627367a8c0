// Trace replay: the "thin master" that drives an allocator through a cluster trace.
//
// A master keeps the cluster's state (what each machine has free, which pods run where and
// on which GPU devices) and, every scheduling round, sends the allocator a Snapshot of it
// and applies the reply. This library is that master for the openb Alibaba GPU trace
// (include/sluice/openb.hpp), written against any allocator: a RoundAllocator callback that
// turns a Snapshot into an Allocation, whether in process (local_allocator) or over the
// wire (`sluice replay`).
//
// The master trusts nothing it is sent: every placement and migration is checked against
// its own accounting (CPU, memory, each GPU's free share, distinct whole devices, allowed
// GPU models) and refused when it does not fit or names an unknown pod, machine or device.
// Refusals are counted (`rejected`); a correct allocator never causes one.
//
// Two experiments:
//   run_replay  pods arrive at creation_time and leave at deletion_time; rounds every
//               `round_interval_s` of trace time (the production loop);
//   run_fill    the FGD paper's experiment (Weng et al., "Beware of Fragmentation:
//               Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent",
//               USENIX ATC'23, figure 7): an empty cluster, pods arrive in creation order in
//               batches and never leave, unallocated GPU share measured against the arrived
//               GPU demand. run_fill_best_fit is the one-pod-at-a-time best-fit baseline.
//
// Units as in snapshot.hpp: CPU milli-cores, memory MiB, GPU milli (1000 = one device).
// Nothing here throws: errors are data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "sluice/allocate.hpp"
#include "sluice/snapshot.hpp"

namespace sluice {

inline constexpr std::int64_t kNeverDeleted = std::numeric_limits<std::int64_t>::max();

// One pod of a trace. GPU demand follows Task: `gpus` whole devices, or (gpus == 0) a
// `gpu_milli` share 1..1000 of one device; both 0 for a CPU-only pod. (openb's num_gpu 1 with
// gpu_milli 1000 is gpus = 1; num_gpu >= 2 is gpus = num_gpu.)
struct TracePod {
  std::string name;
  std::int32_t priority = 0;  // openb: from qos (Guaranteed 3, LS 2, Burstable 1, BE 0)
  std::int64_t cpu_milli = 0;
  std::int64_t memory_mib = 0;
  std::int32_t gpus = 0;
  std::int32_t gpu_milli = 0;
  std::vector<std::string> gpu_models;  // allowed models; empty = any
  std::int64_t creation_time = 0;
  std::int64_t deletion_time = kNeverDeleted;  // alive while creation_time <= t < deletion_time

  // GPU demand in milli: 1000 per whole device, or the share.
  [[nodiscard]] std::int64_t gpu_demand_milli() const;
};

struct Trace {
  std::vector<Machine> machines;  // capacities; replays start from an empty cluster
  std::vector<TracePod> pods;     // sorted by creation_time (stable)
};

struct TraceLoadResult {
  bool ok = false;
  std::string error;  // "FILE:LINE: expected ..., found '...'" (the openb importer's messages)
  Trace trace;
};

// Reads the openb node and pod CSV files with the importer's parser and mapping rules
// (datasets/openb_import.cpp documents them).
[[nodiscard]] TraceLoadResult load_openb_trace(const std::string& nodes_csv, const std::string& pods_csv);

// Checks a trace built in code: unique non-empty machine ids and pod names, GPU indexes
// unique per machine, non-negative amounts, a GPU demand that is either whole devices or
// a share 1..1000, pods sorted by creation_time. Returns "" when valid, else the problem
// (naming the pod or machine).
[[nodiscard]] std::string check_trace(const Trace& trace);

// ---- the allocator seam ------------------------------------------------------------------

struct RoundOutcome {
  bool ok = false;
  std::string error;
  Allocation allocation;
  double latency_s = 0;  // as the caller measures it (wall time of the round trip)
  std::string backend;   // e.g. the allocation's backend, or "service:cpu"
};

// One scheduling round: a snapshot in, the allocator's reply out. Must not throw (if it
// does, the round is recorded as failed with the exception's text).
using RoundAllocator = std::function<RoundOutcome(const Snapshot&)>;

// An allocator calling sluice::allocate() in this process: ok when the status is optimal,
// latency = wall time of the call, backend = the allocation's backend.
[[nodiscard]] RoundAllocator local_allocator(const AllocateOptions& options = {});

// done of total units of work (rounds, or pods for the fill), after each round.
using ReplayProgress = std::function<void(std::size_t done, std::size_t total)>;

// ---- replay ------------------------------------------------------------------------------

struct ReplayOptions {
  std::int64_t round_interval_s = 3600;
  std::int64_t max_rounds = 0;  // rounds run (skipped ones do not count); 0 = all
  // Trace-time window. Rounds run at start_time, start_time + interval, ... while
  // t <= end_time. Pods created before start_time and still alive arrive in the first
  // round. Defaults: the first creation time; the first round time at or after the last
  // creation or deletion time (so every departure is seen).
  std::int64_t start_time = std::numeric_limits<std::int64_t>::min();
  std::int64_t end_time = std::numeric_limits<std::int64_t>::max();
};

struct RoundRecord {
  std::int64_t round = 0;        // 1, 2, ... (= the snapshot's version)
  std::int64_t trace_time = 0;   // = the snapshot's time
  std::int64_t arrived = 0;      // pods that became pending this round
  std::int64_t departed = 0;     // running pods that reached their deletion time
  std::int64_t expired = 0;      // pending pods that reached their deletion time unplaced
  std::int64_t pending = 0;      // pending when the snapshot was sent
  std::int64_t placed = 0;       // placements applied
  std::int64_t unscheduled = 0;  // pending after the reply was applied
  std::int64_t running = 0;      // running after the reply was applied
  std::int64_t preempted = 0;    // applied preemptions (the pod goes back to pending)
  std::int64_t migrated = 0;     // applied migrations
  // Reply items the master refused: a placement or migration that does not fit its own
  // accounting, or any item naming an unknown or ineligible pod, machine or device. A
  // correct allocator never causes one.
  std::int64_t rejected = 0;
  std::string rejection;     // the first refusal of the round, explained ("" when none)
  double gpu_alloc_pct = 0;  // after the reply: allocated / capacity, in % (GPU in milli)
  double cpu_alloc_pct = 0;
  double mem_alloc_pct = 0;
  double latency_s = 0;
  std::string backend;
  bool ok = false;  // the allocator answered; false: pending pods stay pending
  std::string error;
};

struct ReplayReport {
  bool ok = false;    // false only when the trace or options are invalid (then `error`)
  std::string error;  // the first failed round's error is in its RoundRecord, not here
  std::vector<RoundRecord> rounds;
  std::int64_t pods = 0;            // pods whose lifetime meets the window
  std::int64_t pods_ran = 0;        // pods placed at least once
  std::int64_t pods_never_ran = 0;  // pods that left (or the replay ended) without ever running
  std::int64_t pods_unseen = 0;     // pods created and deleted between two rounds (never sent)
  std::int64_t placements = 0;
  std::int64_t preemptions = 0;
  std::int64_t migrations = 0;
  std::int64_t rejected = 0;
  std::int64_t failed_rounds = 0;
  std::int64_t skipped_rounds = 0;  // round times with no change and nothing pending
  double allocator_seconds = 0;     // Σ latency_s
  double seconds = 0;               // wall time of the whole replay
};

// Replays the trace. Each round at time t:
//   1. pods with deletion_time <= t leave (running: their resources are freed; pending: dropped);
//   2. pods with creation_time <= t < deletion_time not yet seen arrive, pending;
//   3. unless nothing changed since the last round and nothing is pending (a skipped round),
//      the snapshot (version = round, time = t; every machine with its free amounts; one job
//      per pod with one task, id = pod name, priority, submit_time = creation_time; pending,
//      or running on its machine and GPU indexes) goes to the allocator;
//   4. its reply is checked and applied: preemptions (back to pending), migrations, then
//      placements; `unscheduled` stay pending; a failed round changes nothing.
[[nodiscard]] ReplayReport run_replay(const Trace& trace, const ReplayOptions& options, const RoundAllocator& allocator,
                                      const ReplayProgress& progress = {});

// One row per round: round,trace_time,arrived,departed,expired,pending,placed,unscheduled,
// running,preempted,migrated,rejected,gpu_alloc_pct,cpu_alloc_pct,mem_alloc_pct,latency_s,
// backend,ok (1/0),error (the round's error, or its first refusal). bench/plot_replay.py reads it.
[[nodiscard]] bool write_replay_csv(const ReplayReport& report, const std::string& path, std::string* error);

// ---- the FGD fill experiment -------------------------------------------------------------

struct FillOptions {
  std::int64_t batch = 50;          // pods per allocate round
  double stop_at_demand_pct = 100;  // stop once the arrived GPU demand reaches this % of capacity
  // The trace again (pods renamed NAME#2, NAME#3, ...) once it is exhausted, until the
  // demand threshold is reached (the FGD simulator's workload inflation). Off: stop at the
  // end of the trace (the bundled default trace asks for 98% of the cluster's GPUs).
  bool repeat_trace = false;
};

struct FillPoint {
  std::int64_t arrived_pods = 0;
  double arrived_gpu_demand_pct = 0;  // Σ arrived pods' GPU milli / GPU capacity, in %
  double allocated_gpu_pct = 0;       // GPU milli allocated / capacity, in %
  double unallocated_gpu_pct = 0;     // 100 - allocated_gpu_pct
  std::int64_t failed_pods = 0;       // so far
};

struct FillReport {
  bool ok = false;  // false when the trace or options are invalid, or a round failed (`error`)
  std::string error;
  std::string policy;
  std::vector<FillPoint> curve;  // one point per batch
  double final_unallocated_gpu_pct = 0;
  double final_arrived_gpu_demand_pct = 0;
  std::int64_t placed = 0;
  std::int64_t failed = 0;    // pods left unscheduled (dropped)
  std::int64_t rejected = 0;  // reply items refused by the master (see RoundRecord)
  double seconds = 0;
};

// Pods arrive in creation order into an empty cluster and never leave; each batch of
// `batch` pods is one allocator round (the snapshot holds the pods placed so far, running,
// and the batch, pending); pods the reply leaves unplaced fail and are dropped. Stops when
// the arrived GPU demand reaches stop_at_demand_pct of the GPU capacity (the pod that
// crosses it still arrives) or the trace ends. A failed round ends the fill (ok = false).
[[nodiscard]] FillReport run_fill(const Trace& trace, const FillOptions& options, const RoundAllocator& allocator,
                                  std::string policy_name, const ReplayProgress& progress = {});

// The Kubernetes-like baseline, one pod at a time: among machines where the pod fits (CPU,
// memory, GPU devices, models), the one left with the least free GPU milli, then the least
// free CPU, then the first in trace order; a GPU share goes to the fitting device with the
// least free share (lowest index on ties), whole GPUs to the lowest-indexed free devices.
// Points are recorded every `batch` pods, as in run_fill. policy = "best-fit".
[[nodiscard]] FillReport run_fill_best_fit(const Trace& trace, const FillOptions& options,
                                           const ReplayProgress& progress = {});

// One row per (policy, point): policy,arrived_pods,arrived_gpu_demand_pct,allocated_gpu_pct,
// unallocated_gpu_pct,failed_pods (bench/plot_replay.py --fill reads it).
[[nodiscard]] bool write_fill_csv(const std::vector<FillReport>& reports, const std::string& path, std::string* error);

}  // namespace sluice
