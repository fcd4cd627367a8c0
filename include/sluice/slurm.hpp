// What the Slurm bridge reads from a Slurm cluster, and the snapshot it builds from it.
//
// The bridge reads Slurm through its command-line JSON (`sinfo --json`, `squeue --json`):
// the commands are on every Slurm host, speak to slurmctld with the site's own
// authentication, and say which schema they write (meta.plugin.type), so a parser can be
// chosen per schema version and a version we do not know is refused by name instead of
// misread. (slurmrestd needs its own daemon and JWT or socket set-up; libslurm's C API
// changes its structures with every release and ties the binary to one Slurm version.)
//
// Parsing never throws on Slurm's data: a document that is not JSON, or of an unknown
// schema, is an error for the whole round; a node or job that cannot be expressed (an
// unknown gres, a missing field, a number out of range) is skipped with its reason and
// the rest is kept.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/snapshot.hpp"

namespace sluice::slurm {

// Schemas this build reads (meta.plugin.type of the commands' JSON).
inline constexpr std::string_view kSchemaV0038 = "openapi/v0.0.38";  // Slurm 22.05

// One GPU of a node, in Slurm's device order (the IDX of gres_used and gres_detail).
struct NodeGpu {
  std::int32_t index = 0;
  std::string type;  // the gres type ("a100"), or "gpu" when the gres has none
  bool used = false;         // allocated whole (gres/gpu)
  std::int32_t shards = 0;   // gres/shard configured on this device (the node's count split evenly
                             // over the devices of its type: sinfo does not say more); 0: none
  bool shards_in_use = false;  // gres_used lists it under shard (a GPU is whole or shared, not both)
  std::int32_t shards_used = 0;  // held by the jobs on it (count_shards_in_use, from gres_detail)
};

struct Node {
  std::string name;
  std::vector<std::string> partitions;
  std::vector<std::string> features;  // active features
  std::string state;                  // base state, lower case: idle, mixed, allocated, down, …
  std::vector<std::string> flags;     // DRAIN, NOT_RESPONDING, …
  std::int64_t cpus = 0;
  std::int64_t alloc_cpus = 0;
  std::int64_t memory_mib = 0;  // real_memory
  std::int64_t alloc_memory_mib = 0;
  std::vector<NodeGpu> gpus;
  // Whether new jobs may go there: up (idle, mixed or allocated) and neither draining,
  // failing, rebooting, powered down nor reserved.
  [[nodiscard]] bool schedulable() const;
};

enum class JobState { kPending, kRunning, kOther };

struct Job {
  std::uint32_t id = 0;
  JobState state = JobState::kOther;
  std::string state_name;    // as Slurm wrote it (PENDING, RUNNING, COMPLETING, …)
  std::string state_reason;  // JobHeldUser, JobHeldAdmin, Priority, …
  std::string partition;
  std::uint32_t priority = 0;  // Slurm's (0 while held)
  std::int64_t nice = 0;
  std::int64_t submit_time = 0;
  std::int64_t eligible_time = 0;  // when it may start (its begin time; 0: not yet known,
                                   // e.g. while a dependency is unfulfilled)
  std::string dependency;          // as Slurm shows it: "afterok:11(unfulfilled)"
  std::string comment;
  std::string admin_comment;
  std::int64_t node_count = 1;
  std::int64_t cpus = 0;        // on its one node (every node of a multi-node job)
  std::int64_t memory_mib = 0;  // per node
  std::int32_t gpus = 0;        // per node
  std::int32_t shards = 0;      // per node, gres/shard (22.05 takes them from one GPU)
  std::string gpu_type;         // of the GPUs or shards; empty: any type
  std::vector<std::string> required_nodes;  // --nodelist, expanded
  std::vector<std::string> excluded_nodes;  // --exclude, expanded
  std::string features;                     // --constraint, as written
  std::vector<std::string> nodes;           // running: where, expanded
  std::vector<std::vector<std::int32_t>> gpu_indexes;  // running: per node of `nodes`
  struct ShardUse {
    std::string node;
    std::int32_t device = 0;
    std::int32_t shards = 0;
  };
  std::vector<ShardUse> shard_use;  // running: the shards it holds, per device (gres_detail)
  // Set when the request has parts the snapshot cannot carry (several nodes, GPUs per
  // task, a constraint expression with | or […]): the job is read but never placed.
  std::string unsupported;
};

// A whole document and the records of it that were skipped (with why).
template <typename T>
struct Parsed {
  std::vector<T> items;
  std::vector<std::string> skipped;  // "node n2: …", "job 17: …"
  std::string error;                 // the document as a whole could not be read
  [[nodiscard]] bool ok() const { return error.empty(); }
};

[[nodiscard]] Parsed<Node> parse_sinfo_json(std::string_view text);
[[nodiscard]] Parsed<Job> parse_squeue_json(std::string_view text);

// Slurm's hostlist expressions: "n[1-3,7],gpu01" → n1 n2 n3 n7 gpu01 (zero padding kept:
// "n[08-10]" → n08 n09 n10). nullopt when malformed or longer than `limit` names.
[[nodiscard]] std::optional<std::vector<std::string>> expand_hostlist(std::string_view expr,
                                                                      std::size_t limit = 1'000'000);

// The other way: names → one hostlist expression that expand_hostlist reads back as the
// same set ("n1 n2 n3 n7 gpu01" → "gpu01,n[1-3,7]"). Duplicates are dropped; the order is
// sorted, not kept.
[[nodiscard]] std::string compress_hostlist(std::vector<std::string> names);

// A device index list as in "(IDX:0-1,3)": nullopt when malformed.
[[nodiscard]] std::optional<std::vector<std::int32_t>> parse_index_list(std::string_view list);

struct SnapshotOptions {
  std::vector<std::string> partitions;  // machines: the nodes of these partitions (empty: all)
  std::int64_t time = 0;                // the snapshot's clock (seconds)
  std::int64_t version = 0;
};

// Which pending jobs a snapshot holds, and why the others were left out.
struct BridgeSnapshot {
  Snapshot snapshot;
  std::vector<std::pair<std::uint32_t, std::string>> left_out;  // candidates not in it, why
};

// Adds up the shards each running job holds (Job::shard_use) into its nodes' devices
// (NodeGpu::shards_used): sinfo says which devices are shared, only the jobs say how much.
void count_shards_in_use(std::vector<Node>& nodes, const std::vector<Job>& jobs);

// A pinned job that has not started yet, and the node it is pinned to.
struct Reserved {
  const Job* job = nullptr;
  std::string node;
};

// The snapshot of one round. Machines: the schedulable nodes of the partitions (labels:
// "node" = its name, "partition.P" and "feature.F" = "true"; GPUs with Slurm's indexes,
// free where gres_used does not list them). Free amounts are Slurm's own accounting, less
// what the `reserved` jobs (not started yet: Slurm has not counted them) will take there.
// Jobs: the pending `candidates`, one task each, their job id as both ids. A --nodelist of
// one node is a selector on "node"; an --exclude list is a selector on a label that only
// the nodes outside it carry ("outside-exclude.K", one K per distinct list, at most
// kMaxExcludeLists a round). A candidate whose request the snapshot cannot carry
// (Job::unsupported, several required nodes, a GPU type no node of the partitions has,
// schedulable or not, one exclude list too many) is left out with the reason; one whose
// nodes are drained or down for now stays in. What runs is in the free amounts, not in
// tasks: Slurm cannot move a running job, so the allocation is never asked to.
// GPU shares (gres/shard): a device's free share is its shards not in use, in thousandths;
// a job's N shards become a share of N × 1000 / S of one GPU, where S is the shards per
// device of the GPUs it may use. So S must be the same on all of them and divide 1000, and
// N at most S; otherwise the job is left out, saying which. Such a job only goes to nodes
// whose GPUs of its type (any type: all their GPUs) have shards: label "shards.TYPE"
// (or "shards") = "true". Slurm picks the device itself; each round reads back which one.
inline constexpr std::size_t kMaxExcludeLists = 64;

[[nodiscard]] BridgeSnapshot build_snapshot(const std::vector<Node>& nodes, const std::vector<const Job*>& candidates,
                                            const std::vector<Reserved>& reserved, const SnapshotOptions& options);

}  // namespace sluice::slurm
