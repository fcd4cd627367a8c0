// One round's snapshot from what Slurm said (see build_snapshot in sluice/slurm.hpp).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sluice/slurm.hpp"
#include "split.hpp"

namespace sluice::slurm {

bool Node::schedulable() const {
  if (state != "idle" && state != "mixed" && state != "allocated") return false;
  // Flags that only describe the node (it is finishing a job, a planned start) leave it
  // usable; every other flag (DRAIN, FAIL, NOT_RESPONDING, POWERED_DOWN, REBOOT_*,
  // MAINTENANCE, RESERVED, …) keeps new jobs away.
  return std::all_of(flags.begin(), flags.end(), [](const std::string& f) { return f == "COMPLETING" || f == "PLANNED"; });
}

namespace {

// Slurm's priorities are unsigned 32-bit; the snapshot's are signed: shift, keeping order.
std::int32_t snapshot_priority(std::uint32_t p) {
  return static_cast<std::int32_t>(static_cast<std::int64_t>(p) + std::numeric_limits<std::int32_t>::min());
}

bool in_partitions(const SnapshotOptions& o, const Node& n) {
  return o.partitions.empty() || std::any_of(n.partitions.begin(), n.partitions.end(), [&](const std::string& p) {
           return std::find(o.partitions.begin(), o.partitions.end(), p) != o.partitions.end();
         });
}

// Takes a pinned, not yet started job's demand off its node: CPUs, memory and, for GPUs,
// free devices of its type (Slurm will choose which; the count is what matters now).
void reserve(Machine& m, const Job& j) {
  m.free_cpu_milli = std::max<std::int64_t>(0, m.free_cpu_milli - j.cpus * 1000);
  m.free_memory_mib = std::max<std::int64_t>(0, m.free_memory_mib - j.memory_mib);
  std::int32_t left = j.gpus;
  for (Gpu& g : m.gpus) {
    if (left == 0) break;
    if (g.free_milli == kGpuMilliWhole && (j.gpu_type.empty() || g.model == j.gpu_type)) {
      g.free_milli = 0;
      --left;
    }
  }
}

}  // namespace

BridgeSnapshot build_snapshot(const std::vector<Node>& nodes, const std::vector<const Job*>& candidates,
                              const std::vector<Reserved>& reserved, const SnapshotOptions& options) {
  BridgeSnapshot out;
  Snapshot& s = out.snapshot;
  s.version = options.version;
  s.time = options.time;
  std::set<std::string> gpu_types;
  std::unordered_map<std::string, std::size_t> machine_at;
  for (const Node& n : nodes) {
    if (!in_partitions(options, n)) continue;
    // GPU types of every node, schedulable or not: a job asking for one whose nodes are all
    // drained or down for now waits in the snapshot (unscheduled), it is not left out.
    for (const NodeGpu& g : n.gpus) gpu_types.insert(g.type);
    if (!n.schedulable()) continue;
    if (!machine_at.try_emplace(n.name, s.machines.size()).second) continue;  // listed twice: the first counts
    Machine m;
    m.id = n.name;
    m.rack = "slurm";
    m.zone = "slurm";
    m.cpu_milli = n.cpus * 1000;
    m.memory_mib = n.memory_mib;
    m.free_cpu_milli = (n.cpus - n.alloc_cpus) * 1000;
    m.free_memory_mib = n.memory_mib - n.alloc_memory_mib;
    for (const NodeGpu& g : n.gpus) m.gpus.push_back(Gpu{g.index, g.type, g.used ? 0 : kGpuMilliWhole});
    m.labels["node"] = n.name;
    for (const std::string& p : n.partitions) m.labels["partition." + p] = "true";
    for (const std::string& f : n.features) m.labels["feature." + f] = "true";
    s.machines.push_back(std::move(m));
  }
  for (const Reserved& r : reserved) {
    const auto at = machine_at.find(r.node);
    if (at != machine_at.end()) reserve(s.machines[at->second], *r.job);
  }
  // Each distinct --exclude list, as the label its outside nodes carry.
  std::map<std::vector<std::string>, std::string> exclude_label;

  std::unordered_set<std::uint32_t> seen;
  for (const Job* jp : candidates) {
    const Job& j = *jp;
    if (!seen.insert(j.id).second) continue;
    const auto leave_out = [&](std::string why) { out.left_out.emplace_back(j.id, std::move(why)); };
    if (!j.unsupported.empty()) {
      leave_out(j.unsupported);
      continue;
    }
    if (j.required_nodes.size() > 1) {
      leave_out("requires " + std::to_string(j.required_nodes.size()) + " nodes (--nodelist) for a one-node job");
      continue;
    }
    std::string outside;  // the label of the job's --exclude list
    if (!j.excluded_nodes.empty()) {
      std::vector<std::string> list = j.excluded_nodes;
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
      auto it = exclude_label.find(list);
      if (it == exclude_label.end()) {
        if (exclude_label.size() == kMaxExcludeLists) {
          leave_out("excludes nodes (--exclude) in a way none of this round's first " +
                    std::to_string(kMaxExcludeLists) + " exclude lists does");
          continue;
        }
        const std::string label = "outside-exclude." + std::to_string(exclude_label.size());
        for (Machine& m : s.machines)
          if (!std::binary_search(list.begin(), list.end(), m.id)) m.labels[label] = "true";
        it = exclude_label.emplace(std::move(list), label).first;
      }
      outside = it->second;
    }
    if (!j.gpu_type.empty() && !gpu_types.contains(j.gpu_type)) {
      leave_out("asks for GPU type '" + j.gpu_type + "', which no node of the partition has");
      continue;
    }
    Task t;
    t.id = std::to_string(j.id);
    t.cpu_milli = j.cpus * 1000;
    t.memory_mib = j.memory_mib;
    t.gpus = j.gpus;
    if (!j.gpu_type.empty()) t.gpu_models = {j.gpu_type};
    if (j.required_nodes.size() == 1) t.selector["node"] = j.required_nodes[0];
    if (!outside.empty()) t.selector[outside] = "true";
    for (const std::string_view f : split(j.features, '&'))
      if (!f.empty()) t.selector["feature." + std::string(f)] = "true";
    sluice::Job job;
    job.id = t.id;
    job.priority = snapshot_priority(j.priority);
    job.submit_time = j.submit_time;
    job.tasks.push_back(std::move(t));
    s.jobs.push_back(std::move(job));
  }
  return out;
}

}  // namespace sluice::slurm
