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
// free devices of its type, for shards a device with room for them (Slurm will choose
// which; what matters now is that the room is taken somewhere).
void reserve(Machine& m, const Node& n, const Job& j) {
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
  if (j.shards == 0) return;
  for (std::size_t k = 0; k < m.gpus.size(); ++k) {
    Gpu& g = m.gpus[k];
    const std::int32_t per = n.gpus[k].shards;
    if (per == 0 || (!j.gpu_type.empty() && g.model != j.gpu_type)) continue;
    const std::int32_t share = static_cast<std::int32_t>((std::int64_t{j.shards} * kGpuMilliWhole + per - 1) / per);
    if (g.free_milli >= share) {
      g.free_milli -= share;
      return;
    }
  }
}

// A device's free share in thousandths: whole or nothing for a device without shards,
// else its shards not in use (rounded down: never more room than Slurm counts).
std::int32_t free_milli(const NodeGpu& d) {
  if (d.used) return 0;
  if (d.shards == 0) return d.shards_in_use ? 0 : kGpuMilliWhole;
  const std::int32_t used = std::min(d.shards, std::max(d.shards_used, d.shards_in_use ? 1 : 0));
  return static_cast<std::int32_t>(std::int64_t{d.shards - used} * kGpuMilliWhole / d.shards);
}

// The shards per device (S) of the GPUs a shard request may use: those of its type (any
// type when it names none) on the partitions' nodes. Empty: none has shards.
std::set<std::int32_t> shards_per_device(const std::vector<Node>& nodes, const SnapshotOptions& o, const std::string& type) {
  std::set<std::int32_t> out;
  for (const Node& n : nodes)
    if (in_partitions(o, n))
      for (const NodeGpu& g : n.gpus)
        if (g.shards > 0 && (type.empty() || g.type == type)) out.insert(g.shards);
  return out;
}

}  // namespace

void count_shards_in_use(std::vector<Node>& nodes, const std::vector<Job>& jobs) {
  std::unordered_map<std::string, Node*> by_name;
  for (Node& n : nodes) by_name.try_emplace(n.name, &n);
  for (const Job& j : jobs)
    for (const Job::ShardUse& u : j.shard_use) {
      const auto it = by_name.find(u.node);
      if (it == by_name.end() || u.device < 0 || static_cast<std::size_t>(u.device) >= it->second->gpus.size()) continue;
      std::int32_t& used = it->second->gpus[static_cast<std::size_t>(u.device)].shards_used;
      used = static_cast<std::int32_t>(std::min<std::int64_t>(std::int64_t{used} + u.shards, 1'000'000'000));
    }
}

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
    for (const NodeGpu& g : n.gpus) m.gpus.push_back(Gpu{g.index, g.type, free_milli(g)});
    // Where shard requests may go: every GPU of a type has shards ("shards.TYPE"), every
    // GPU of the node has ("shards").
    std::map<std::string, bool> all_of_type;
    for (const NodeGpu& g : n.gpus) {
      const auto [it, fresh] = all_of_type.try_emplace(g.type, true);
      it->second = it->second && g.shards > 0;
    }
    bool all = !n.gpus.empty();
    for (const auto& [type, yes] : all_of_type) {
      if (yes) m.labels["shards." + type] = "true";
      all = all && yes;
    }
    if (all) m.labels["shards"] = "true";
    m.labels["node"] = n.name;
    for (const std::string& p : n.partitions) m.labels["partition." + p] = "true";
    for (const std::string& f : n.features) m.labels["feature." + f] = "true";
    s.machines.push_back(std::move(m));
  }
  std::unordered_map<std::string, const Node*> node_named;
  for (const Node& n : nodes) node_named.try_emplace(n.name, &n);
  for (const Reserved& r : reserved) {
    const auto at = machine_at.find(r.node);
    if (at != machine_at.end()) reserve(s.machines[at->second], *node_named.at(r.node), *r.job);
  }
  // S per device for each GPU type shard requests name ("": any), found once a round.
  std::map<std::string, std::set<std::int32_t>> shards_per_type;
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
    if (j.shards > 0) {
      auto [found, fresh] = shards_per_type.try_emplace(j.gpu_type);
      if (fresh) found->second = shards_per_device(nodes, options, j.gpu_type);
      const std::set<std::int32_t>& per = found->second;
      const std::string what = j.gpu_type.empty() ? std::string("GPU") : "'" + j.gpu_type + "' GPU";
      if (per.empty()) {
        leave_out("asks for shards, which no " + what + " of the partition has");
        continue;
      }
      if (per.size() > 1) {
        std::string list;
        for (const std::int32_t k : per) list += (list.empty() ? "" : ", ") + std::to_string(k);
        leave_out("asks for shards of " + what + "s that have different shards per device (" + list + ")" +
                  (j.gpu_type.empty() ? ": name a type (--gres=shard:TYPE:N)" : ""));
        continue;
      }
      const std::int32_t S = *per.begin();
      if (j.shards > S) {
        leave_out("asks for " + std::to_string(j.shards) + " shards, more than one GPU's " + std::to_string(S) +
                  " (Slurm 22.05 takes a job's shards from one GPU)");
        continue;
      }
      if (kGpuMilliWhole % S != 0) {
        leave_out(std::to_string(S) + " shards per GPU do not divide a GPU into thousandths");
        continue;
      }
      t.gpu_milli = j.shards * (kGpuMilliWhole / S);
      t.selector[j.gpu_type.empty() ? std::string("shards") : "shards." + j.gpu_type] = "true";
    }
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
