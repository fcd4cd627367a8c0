// `sinfo --json` and `squeue --json` into Node and Job records (see sluice/slurm.hpp).
// One reader per schema version; today openapi/v0.0.38 (Slurm 22.05), whose field names
// and shapes the recorded samples in datasets/slurm/22.05 show. Later schemas change
// both (23.02's v0.0.39 nests numbers as {set, infinite, number}; 23.11's data_parser
// makes job_state a list): they get readers of their own, chosen by meta.plugin.type.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/slurm.hpp"
#include "split.hpp"

namespace sluice::slurm {
namespace {

using Value = rapidjson::Value;

// The items of a gres string ("gpu:a100:2(IDX:0-1),gpu:v100:0(IDX:N/A)"): its pieces at
// commas outside parentheses, empty ones dropped ("" has none).
std::vector<std::string_view> gres_items(std::string_view s) {
  std::vector<std::string_view> out = split(s, ',', '(', ')');
  std::erase_if(out, [](std::string_view item) { return item.empty(); });
  return out;
}

// One gres item: name[:type]:count[(S:…)|(IDX:…)].
struct GresItem {
  std::string name;
  std::string type;
  std::int64_t count = 0;
  bool has_indexes = false;  // an IDX list was given (N/A counts as given and empty)
  std::vector<std::int32_t> indexes;
};

std::optional<GresItem> parse_gres_item(std::string_view item) {
  GresItem g;
  const std::size_t paren = item.find('(');
  if (paren != std::string_view::npos) {
    if (item.back() != ')') return std::nullopt;
    const std::string_view detail = item.substr(paren + 1, item.size() - paren - 2);
    if (detail.starts_with("IDX:")) {
      g.has_indexes = true;
      const std::string_view list = detail.substr(4);
      if (list != "N/A") {
        auto idx = parse_index_list(list);
        if (!idx) return std::nullopt;
        g.indexes = std::move(*idx);
      }
    }
    item = item.substr(0, paren);
  }
  const std::vector<std::string_view> parts = split(item, ':');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty()) return std::nullopt;
  const std::string_view count = parts.back();
  if (count.empty() || count.size() > 9 || !std::all_of(count.begin(), count.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  g.name = parts[0];
  if (parts.size() == 3) g.type = parts[1];
  g.count = std::stoll(std::string(count));
  return g;
}

// Field readers: false (with `why`) when the field is missing or of another kind.
const Value* field(const Value& obj, const char* name) {
  const auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

bool get_string(const Value& obj, const char* name, std::string& out, std::string& why) {
  const Value* v = field(obj, name);
  if (v == nullptr || !v->IsString()) {
    why = std::string("field ") + name + (v == nullptr ? " missing" : " is not a string");
    return false;
  }
  out.assign(v->GetString(), v->GetStringLength());
  return true;
}

// Optional strings: missing or null reads as empty.
bool get_string_or_empty(const Value& obj, const char* name, std::string& out, std::string& why) {
  const Value* v = field(obj, name);
  out.clear();
  if (v == nullptr || v->IsNull()) return true;
  if (!v->IsString()) {
    why = std::string("field ") + name + " is not a string";
    return false;
  }
  out.assign(v->GetString(), v->GetStringLength());
  return true;
}

// Integers in [lo, hi]; null reads as `if_null` where that is allowed.
bool get_int(const Value& obj, const char* name, std::int64_t lo, std::int64_t hi, std::int64_t& out, std::string& why,
             std::optional<std::int64_t> if_null = std::nullopt) {
  const Value* v = field(obj, name);
  if ((v == nullptr || v->IsNull()) && if_null) {
    out = *if_null;
    return true;
  }
  if (v == nullptr || !(v->IsInt64() || v->IsUint64())) {
    why = std::string("field ") + name + (v == nullptr ? " missing" : " is not an integer");
    return false;
  }
  if (v->IsUint64() && v->GetUint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    why = std::string("field ") + name + " out of range";
    return false;
  }
  const std::int64_t x = v->IsInt64() ? v->GetInt64() : static_cast<std::int64_t>(v->GetUint64());
  if (x < lo || x > hi) {
    why = std::string("field ") + name + " = " + std::to_string(x) + " out of range [" + std::to_string(lo) + ", " +
          std::to_string(hi) + "]";
    return false;
  }
  out = x;
  return true;
}

bool get_string_list(const Value& obj, const char* name, std::vector<std::string>& out, std::string& why) {
  const Value* v = field(obj, name);
  out.clear();
  if (v == nullptr || v->IsNull()) return true;
  if (!v->IsArray()) {
    why = std::string("field ") + name + " is not a list";
    return false;
  }
  for (const Value& e : v->GetArray()) {
    if (!e.IsString()) {
      why = std::string("field ") + name + " holds a non-string";
      return false;
    }
    out.emplace_back(e.GetString(), e.GetStringLength());
  }
  return true;
}

// CPUs, memory (MiB) and GPU counts a node or job can name: within what a snapshot takes.
constexpr std::int64_t kMaxAmount = kMaxResourceAmount / 1000;  // CPUs become milli-CPUs

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

// Reads the document and checks its schema; the error names what is wrong.
std::string open_document(std::string_view text, rapidjson::Document& doc, const char* list_name) {
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return std::string("not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) + " at byte " +
           std::to_string(doc.GetErrorOffset());
  }
  if (!doc.IsObject()) return "not a JSON object";
  const Value* meta = field(doc, "meta");
  const Value* plugin = meta != nullptr && meta->IsObject() ? field(*meta, "plugin") : nullptr;
  const Value* type = plugin != nullptr && plugin->IsObject() ? field(*plugin, "type") : nullptr;
  if (type == nullptr || !type->IsString()) return "no meta.plugin.type: cannot tell the schema version";
  const std::string_view schema(type->GetString(), type->GetStringLength());
  if (schema != kSchemaV0038) {
    return "schema " + std::string(schema) + " is not one this build reads (it reads " + std::string(kSchemaV0038) +
           ", Slurm 22.05)";
  }
  const Value* errors = field(doc, "errors");
  if (errors != nullptr && errors->IsArray() && !errors->Empty()) {
    const Value& e = (*errors)[0];
    std::string what = "Slurm reported an error";
    if (e.IsObject()) {
      const Value* d = field(e, "description");
      const Value* m = field(e, "error");
      if (d != nullptr && d->IsString() && d->GetStringLength() > 0) what += std::string(": ") + d->GetString();
      else if (m != nullptr && m->IsString()) what += std::string(": ") + m->GetString();
    }
    return what;
  }
  const Value* list = field(doc, list_name);
  if (list == nullptr || !list->IsArray()) return std::string("no ") + list_name + " list";
  return {};
}

bool read_node(const Value& v, Node& n, std::string& why) {
  if (!v.IsObject()) {
    why = "not an object";
    return false;
  }
  std::string gres, gres_used;
  if (!get_string(v, "name", n.name, why) || !get_string(v, "state", n.state, why) ||
      !get_string_list(v, "state_flags", n.flags, why) || !get_string_list(v, "partitions", n.partitions, why) ||
      !get_int(v, "cpus", 0, kMaxAmount, n.cpus, why) || !get_int(v, "alloc_cpus", 0, kMaxAmount, n.alloc_cpus, why) ||
      !get_int(v, "real_memory", 0, kMaxAmount, n.memory_mib, why) ||
      !get_int(v, "alloc_memory", 0, kMaxAmount, n.alloc_memory_mib, why, 0) ||
      !get_string_or_empty(v, "gres", gres, why) || !get_string_or_empty(v, "gres_used", gres_used, why))
    return false;
  n.state = lower(n.state);
  std::string features;
  if (!get_string_or_empty(v, "active_features", features, why)) return false;
  if (!features.empty())
    for (const std::string_view f : split(features, ',')) n.features.emplace_back(f);
  // Devices in gres order: a node's GPU indexes count through its types as gres.conf lists them.
  std::vector<GresItem> shard_items;
  for (const std::string_view item : gres_items(gres)) {
    const auto g = parse_gres_item(item);
    if (!g) {
      why = "gres '" + std::string(item) + "' is not name[:type]:count";
      return false;
    }
    if (g->name == "shard") shard_items.push_back(*g);
    if (g->name != "gpu") continue;
    if (n.gpus.size() + static_cast<std::size_t>(g->count) > 1024) {
      why = "more than 1024 GPUs";
      return false;
    }
    for (std::int64_t k = 0; k < g->count; ++k)
      n.gpus.push_back(NodeGpu{static_cast<std::int32_t>(n.gpus.size()), g->type.empty() ? "gpu" : g->type});
  }
  // Shards ("shard:a100:800"): Slurm writes the node's count per type. Split evenly over
  // that type's devices; a count that does not split evenly leaves them without shards
  // here (sinfo does not say how gres.conf gave them out), so nothing is placed on them.
  for (const GresItem& g : shard_items) {
    const std::string type = g.type.empty() ? "gpu" : g.type;
    const auto of_type = std::count_if(n.gpus.begin(), n.gpus.end(), [&](const NodeGpu& d) { return d.type == type; });
    if (of_type == 0 || g.count % of_type != 0 || g.count / of_type > 1'000'000) continue;
    for (NodeGpu& d : n.gpus)
      if (d.type == type) d.shards = static_cast<std::int32_t>(g.count / of_type);
  }
  for (const std::string_view item : gres_items(gres_used)) {
    const auto g = parse_gres_item(item);
    if (!g) {
      why = "gres_used '" + std::string(item) + "' is not name[:type]:count(IDX:…)";
      return false;
    }
    if ((g->name != "gpu" && g->name != "shard") || g->count == 0) continue;
    // For gpu the count is the devices in use; for shard it is too in 22.05 (not the shards),
    // but only the listed indexes are relied on.
    if (!g->has_indexes || (g->name == "gpu" && static_cast<std::int64_t>(g->indexes.size()) != g->count)) {
      why = "gres_used '" + std::string(item) + "' does not say which devices are in use";
      return false;
    }
    for (const std::int32_t i : g->indexes) {
      if (i < 0 || static_cast<std::size_t>(i) >= n.gpus.size()) {
        why = "gres_used names GPU " + std::to_string(i) + ", the node lists " + std::to_string(n.gpus.size());
        return false;
      }
      NodeGpu& d = n.gpus[static_cast<std::size_t>(i)];
      (g->name == "gpu" ? d.used : d.shards_in_use) = true;
    }
  }
  if (n.alloc_cpus > n.cpus || n.alloc_memory_mib > n.memory_mib) {
    why = "more allocated than it has (" + std::to_string(n.alloc_cpus) + " of " + std::to_string(n.cpus) +
          " CPUs, " + std::to_string(n.alloc_memory_mib) + " of " + std::to_string(n.memory_mib) + " MiB)";
    return false;
  }
  return true;
}

// The first reason a job cannot be placed by the bridge is the one it reports.
void set_unsupported(Job& j, std::string why) {
  if (j.unsupported.empty()) j.unsupported = std::move(why);
}

// A GPU request: "gres:gpu:a100:2", "gres:gpu:2", "gres/gpu:2" (later schemas); empty
// asks for none. Anything else (another gres, several items) is unsupported.
bool read_gpu_request(const std::string& tres, Job& j, std::string& why) {
  if (tres.empty()) return true;
  const std::vector<std::string_view> items = gres_items(tres);
  if (items.size() != 1) {
    set_unsupported(j, "asks for several gres (" + tres + ")");
    return true;
  }
  std::string_view item = items[0];
  if (item.starts_with("gres:") || item.starts_with("gres/")) item.remove_prefix(5);
  const auto g = parse_gres_item(item);
  if (!g) {
    why = "GPU request '" + tres + "' is not gres:name[:type]:count";
    return false;
  }
  if (g->name != "gpu" && g->name != "shard") {
    set_unsupported(j, "asks for gres " + g->name + " (only gpu and shard are placed)");
    return true;
  }
  if (g->count > (g->name == "gpu" ? 1024 : 1'000'000)) {
    why = "asks for " + std::to_string(g->count) + " " + g->name + "s";
    return false;
  }
  (g->name == "gpu" ? j.gpus : j.shards) = static_cast<std::int32_t>(g->count);
  j.gpu_type = g->type;
  return true;
}

bool read_job(const Value& v, Job& j, std::string& why) {
  if (!v.IsObject()) {
    why = "not an object";
    return false;
  }
  std::int64_t id = 0, priority = 0, cpus = 0, per_node = 0, per_cpu = 0;
  if (!get_int(v, "job_id", 1, std::numeric_limits<std::uint32_t>::max(), id, why)) return false;
  j.id = static_cast<std::uint32_t>(id);
  std::string tres_per_node, tres_per_job, tres_per_task, tres_per_socket, required, excluded, nodes;
  if (!get_string(v, "job_state", j.state_name, why) || !get_string_or_empty(v, "state_reason", j.state_reason, why) ||
      !get_string(v, "partition", j.partition, why) ||
      !get_int(v, "priority", 0, std::numeric_limits<std::uint32_t>::max(), priority, why, 0) ||
      !get_int(v, "nice", -(std::int64_t{1} << 31), (std::int64_t{1} << 32) - 1, j.nice, why, 0) ||
      !get_int(v, "submit_time", 0, kMaxTimeMagnitude, j.submit_time, why, 0) ||
      !get_int(v, "eligible_time", 0, kMaxTimeMagnitude, j.eligible_time, why, 0) ||
      !get_string_or_empty(v, "dependency", j.dependency, why) ||
      !get_string_or_empty(v, "comment", j.comment, why) ||
      !get_string_or_empty(v, "admin_comment", j.admin_comment, why) ||
      !get_int(v, "node_count", 0, 1'000'000, j.node_count, why, 1) || !get_int(v, "cpus", 0, kMaxAmount, cpus, why, -1) ||
      !get_int(v, "memory_per_node", 0, kMaxAmount, per_node, why, -1) ||
      !get_int(v, "memory_per_cpu", 0, kMaxAmount, per_cpu, why, -1) ||
      !get_string_or_empty(v, "tres_per_node", tres_per_node, why) ||
      !get_string_or_empty(v, "tres_per_job", tres_per_job, why) ||
      !get_string_or_empty(v, "tres_per_task", tres_per_task, why) ||
      !get_string_or_empty(v, "tres_per_socket", tres_per_socket, why) ||
      !get_string_or_empty(v, "required_nodes", required, why) ||
      !get_string_or_empty(v, "excluded_nodes", excluded, why) || !get_string_or_empty(v, "features", j.features, why) ||
      !get_string_or_empty(v, "nodes", nodes, why))
    return false;
  j.priority = static_cast<std::uint32_t>(priority);
  // 22.05 writes a negative nice as its 32-bit two's complement (--nice=-1000: 4294966296).
  if (j.nice >= (std::int64_t{1} << 31)) j.nice -= std::int64_t{1} << 32;
  j.state = j.state_name == "PENDING" ? JobState::kPending : j.state_name == "RUNNING" ? JobState::kRunning : JobState::kOther;
  j.node_count = std::max<std::int64_t>(j.node_count, 1);
  // A finished job may have no CPU count (a cancelled one shows null): only the states the
  // bridge acts on need one.
  if (cpus < 0) {
    if (j.state != JobState::kOther) {
      why = "field cpus is null";
      return false;
    }
    cpus = 0;
  }
  if (j.node_count > 1) set_unsupported(j, "asks for " + std::to_string(j.node_count) + " nodes (one-node jobs only)");
  j.cpus = j.node_count > 1 ? cpus / j.node_count : cpus;
  // --mem gives memory per node, --mem-per-cpu per CPU. Neither, or 0 (null in the JSON):
  // with memory a consumable resource (CR_*_Memory) and no DefMemPer* set, Slurm gives the
  // job all of a node's memory (job 8 of datasets/slurm/22.05 shows mem=125G): a request
  // the snapshot cannot carry as one amount.
  if (per_node > 0) {
    j.memory_mib = per_node;
  } else if (per_cpu > 0) {
    if (j.cpus > kMaxAmount / per_cpu) {
      why = "memory per CPU times CPUs out of range";
      return false;
    }
    j.memory_mib = per_cpu * j.cpus;
  } else {
    set_unsupported(j, "gives no --mem or --mem-per-cpu (Slurm then gives it a whole node's memory)");
  }
  // GPUs: per node, or per job for a one-node job (--gpus).
  if (!read_gpu_request(tres_per_node, j, why)) return false;
  if (j.gpus == 0 && j.shards == 0 && !tres_per_job.empty()) {
    if (j.node_count > 1) {
      set_unsupported(j, "asks for GPUs per job over several nodes");
    } else if (!read_gpu_request(tres_per_job, j, why)) {
      return false;
    }
  }
  if (!tres_per_task.empty() || !tres_per_socket.empty()) set_unsupported(j, "asks for GPUs per task or per socket");
  const auto req = expand_hostlist(required, 100'000);
  const auto exc = expand_hostlist(excluded, 100'000);
  const auto at = expand_hostlist(nodes, 100'000);
  if (!req || !exc || !at) {
    why = "a node list is not a hostlist expression";
    return false;
  }
  j.required_nodes = std::move(*req);
  j.excluded_nodes = std::move(*exc);
  j.nodes = std::move(*at);
  if (j.features.find_first_of("|[]*!") != std::string::npos)
    set_unsupported(j, "constraint '" + j.features + "' is more than features joined by &");
  if (j.state == JobState::kRunning) {
    // The devices it holds, per node, in the order of `nodes` (gres_detail).
    const Value* detail = field(v, "gres_detail");
    if (detail != nullptr && detail->IsArray()) {
      std::size_t node = 0;
      for (const Value& d : detail->GetArray()) {
        std::vector<std::int32_t> held;
        if (!d.IsString()) {
          why = "gres_detail holds a non-string";
          return false;
        }
        for (const std::string_view item : gres_items(std::string_view(d.GetString(), d.GetStringLength()))) {
          const auto g = parse_gres_item(item);
          if (!g) {
            why = "gres_detail '" + std::string(item) + "' is not name[:type]:count(IDX:…)";
            return false;
          }
          if (g->name == "gpu") held.insert(held.end(), g->indexes.begin(), g->indexes.end());
          // "shard:30(IDX:0)": 22.05 takes a job's shards from one device. Were several
          // listed, each is counted with all of them: more in use than true, never less.
          if (g->name == "shard" && node < j.nodes.size())
            for (const std::int32_t i : g->indexes)
              j.shard_use.push_back(Job::ShardUse{j.nodes[node], i, static_cast<std::int32_t>(std::min<std::int64_t>(g->count, 1'000'000))});
        }
        j.gpu_indexes.push_back(std::move(held));
        ++node;
      }
    }
  }
  return true;
}

template <typename T, typename Read>
Parsed<T> read_list(std::string_view text, const char* list_name, const char* what, Read read) {
  Parsed<T> out;
  rapidjson::Document doc;
  out.error = open_document(text, doc, list_name);
  if (!out.ok()) return out;
  std::size_t position = 0;
  for (const Value& v : doc[list_name].GetArray()) {
    T item;
    std::string why;
    if (read(v, item, why)) {
      out.items.push_back(std::move(item));
    } else {
      // Name the record by what was read of it (its name or id), else by its position.
      std::string name;
      if (v.IsObject()) {
        const Value* id = field(v, std::string_view(what) == "node" ? "name" : "job_id");
        if (id != nullptr && id->IsString()) name = id->GetString();
        if (id != nullptr && id->IsUint64()) name = std::to_string(id->GetUint64());
      }
      if (name.empty()) name = "#" + std::to_string(position);
      out.skipped.push_back(std::string(what) + " " + name + ": " + why);
    }
    ++position;
  }
  return out;
}

}  // namespace

Parsed<Node> parse_sinfo_json(std::string_view text) { return read_list<Node>(text, "nodes", "node", read_node); }

Parsed<Job> parse_squeue_json(std::string_view text) { return read_list<Job>(text, "jobs", "job", read_job); }

}  // namespace sluice::slurm
