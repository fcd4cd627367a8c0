// Writes the seed corpora of the fuzzers (fuzz/corpus/<fuzzer>/): small valid inputs made
// by our own encoders, or cut from the bundled examples and datasets. Run it again when a
// format changes:
//   build/fuzz/fuzz/fuzz_make_seeds fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/allocate.hpp"
#include "sluice/dimacs.hpp"
#include "sluice/generators.hpp"
#include "sluice/protocol.hpp"
#include "sluice/snapshot_generator.hpp"
#include "sluice/snapshot_io.hpp"

namespace fs = std::filesystem;

namespace sluice {
namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

void write_file(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

Snapshot example() {
  const SnapshotDecodeResult r =
      decode_snapshot(read_file(fs::path(SLUICE_SOURCE_DIR) / "examples/snapshot.json"), SnapshotFormat::kJson);
  if (!r.ok) throw std::runtime_error("examples/snapshot.json: " + r.error);
  return r.snapshot;
}

Snapshot generated() {
  SnapshotGenParams p;
  p.machines = 6;
  p.tasks = 24;
  p.machines_per_rack = 3;
  p.gpu_machine_share = 0.5;
  p.gpu_task_share = 0.5;
  p.constrained_share = 0.5;
  p.preference_share = 0.5;
  p.running_share = 0.3;
  p.seed = 7;
  Snapshot s = generate_snapshot(p);
  s.machines[0].extra_capacity["ssd_gib"] = 100;
  s.machines[0].extra_free["ssd_gib"] = 40;
  s.machines[0].labels["arch"] = "arm64";
  s.jobs[0].tasks[0].extra["ssd_gib"] = 10;
  return s;
}

// The protocol fuzzer's first byte: decoder (bits 1..3: envelope, options, allocation,
// health, stats, indexed allocation) and format (bit 0).
std::string tagged(int decoder, BodyFormat format, std::string_view body) {
  std::string out(1, static_cast<char>((decoder << 1) | (format == BodyFormat::kJson ? 1 : 0)));
  out += body;
  return out;
}

void protocol_seeds(const fs::path& dir) {
  Envelope e;
  e.type = MessageType::kAllocate;
  e.format = BodyFormat::kJson;
  e.request_id = 0x1234567890abcdefULL;
  e.epoch = 3;
  e.snapshot_version = 42;
  e.body_bytes = 5200;
  write_file(dir / "envelope_allocate", tagged(0, BodyFormat::kBinary, encode_envelope(e)));
  e.type = MessageType::kError;
  e.code = ReplyCode::kInvalidSnapshot;
  e.body_bytes = 40;
  write_file(dir / "envelope_error_reply", tagged(0, BodyFormat::kBinary, encode_envelope(e)));

  AllocateRequestOptions o;
  AllocateRequestOptions fgd;
  fgd.cost_model = CostModel::kFgd;
  fgd.backend = Backend::kCpu;
  fgd.verify = true;
  fgd.allow_preemption = false;
  fgd.migration_cost = 1000;
  fgd.deadline_ms = 5000;
  for (const BodyFormat f : {BodyFormat::kBinary, BodyFormat::kJson}) {
    const std::string suffix = f == BodyFormat::kJson ? "_json" : "_binary";
    write_file(dir / ("options_default" + suffix), tagged(1, f, encode_request_options(o, f)));
    write_file(dir / ("options_fgd" + suffix), tagged(1, f, encode_request_options(fgd, f)));
  }
  write_file(dir / "options_partial_json",
             tagged(1, BodyFormat::kJson, R"({"cost_model": "pack", "deadline_ms": 250})"));

  AllocateOptions options;
  options.cost_model = CostModel::kPriority;
  options.solve.verify = true;
  const Allocation a = allocate(example(), options);
  Allocation b = allocate(generated(), AllocateOptions{});
  b.preemptions.push_back(Preemption{"job-x", "task-x", "m-1", "outbid by priority 3"});
  b.migrations.push_back(Migration{"job-y", "task-y", "m-1", "m-2", {0, 1}});
  for (const BodyFormat f : {BodyFormat::kBinary, BodyFormat::kJson}) {
    const std::string suffix = f == BodyFormat::kJson ? "_json" : "_binary";
    write_file(dir / ("allocation_example" + suffix), tagged(2, f, encode_allocation(a, f)));
    write_file(dir / ("allocation_generated" + suffix), tagged(2, f, encode_allocation(b, f)));
  }

  SnapshotGenParams with_running;
  with_running.machines = 30;
  with_running.tasks = 200;
  with_running.running_share = 0.4;
  with_running.seed = 5;
  AllocateOptions priority;
  priority.cost_model = CostModel::kPriority;
  write_file(dir / "indexed_allocation_example", tagged(5, BodyFormat::kBinary,
                                                        encode_indexed_allocation(allocate_indexed(example(), options))));
  write_file(dir / "indexed_allocation_generated",
             tagged(5, BodyFormat::kBinary,
                    encode_indexed_allocation(allocate_indexed(generate_snapshot(with_running), priority))));

  HealthInfo h{"serving", "0.1.0", 12.5, 4, 1, 64, 2, 7, "cpu (not built with CUDA)"};
  ServiceStats s;
  s.received = 100;
  s.replied = 99;
  s.allocations = 90;
  s.busy = 1;
  s.malformed = 2;
  s.bytes_in = 1 << 20;
  s.bytes_out = 1 << 16;
  s.solve_seconds_total = 3.25;
  s.decode_seconds_total = 0.125;
  for (const BodyFormat f : {BodyFormat::kBinary, BodyFormat::kJson}) {
    const std::string suffix = f == BodyFormat::kJson ? "_json" : "_binary";
    write_file(dir / ("health" + suffix), tagged(3, f, encode_health(h, f)));
    write_file(dir / ("stats" + suffix), tagged(4, f, encode_stats(s, f)));
  }
}

void snapshot_seeds(const fs::path& binary_dir, const fs::path& json_dir) {
  Snapshot empty;
  empty.version = 1;
  const std::vector<std::pair<std::string, Snapshot>> snapshots = {
      {"example", example()}, {"generated", generated()}, {"empty", empty}};
  for (const auto& [name, s] : snapshots) {
    write_file(binary_dir / (name + ".bin"), encode_snapshot(s, SnapshotFormat::kBinary));
    write_file(json_dir / (name + ".json"), encode_snapshot(s, SnapshotFormat::kJson));
  }
}

void dimacs_seeds(const fs::path& dir) {
  const fs::path mcf = fs::path(SLUICE_SOURCE_DIR) / "datasets/mcf";
  for (const char* name : {"small_graph.min", "small_graph_neg_costs.min", "firmament_graph_4m_2crs_10j.min"}) {
    write_file(dir / name, read_file(mcf / name));
  }
  QuincyParams q;
  q.machines = 4;
  q.tasks = 12;
  q.machines_per_rack = 2;
  q.slots_per_machine = 3;
  q.preferred_machines = 2;
  q.preferred_racks = 1;
  std::ostringstream out;
  write_dimacs(out, generate_quincy(q), "generate_quincy: 4 machines, 12 tasks");
  write_file(dir / "quincy_small.min", out.str());
}

// Lines of a CSV: the header, then the rows `keep` selects, at most `limit` of them.
template <class Keep>
std::string csv_lines(const fs::path& path, std::size_t limit, Keep keep) {
  std::istringstream in(read_file(path));
  std::string line;
  std::getline(in, line);
  std::string out = line + "\n";
  std::size_t taken = 0;
  while (taken < limit && std::getline(in, line)) {
    if (!keep(line)) continue;
    out += line + "\n";
    ++taken;
  }
  return out;
}

void openb_seeds(const fs::path& dir) {
  const fs::path openb = fs::path(SLUICE_SOURCE_DIR) / "datasets/openb";
  const auto any = [](const std::string&) { return true; };
  // CPU-only nodes first in the file; take GPU nodes of several models as well.
  const std::string nodes = csv_lines(openb / "openb_node_list_all_node.csv", 4, any) +
                            csv_lines(openb / "openb_node_list_all_node.csv", 8, [](const std::string& l) {
                              return l.find(",0,") == std::string::npos;
                            }).substr(std::string("sn,cpu_milli,memory_mib,gpu,model\n").size());
  const auto pods = [&](const char* file, std::size_t n, auto keep) {
    return nodes + std::string(1, '\0') + csv_lines(openb / file, n, keep);
  };
  write_file(dir / "default", pods("openb_pod_list_default.csv", 12, any));
  write_file(dir / "gpuspec", pods("openb_pod_list_gpuspec10.csv", 8, [](const std::string& l) {
               return l.find('|') != std::string::npos || l.find(",BE,") != std::string::npos;
             }));
  write_file(dir / "gpushare", pods("openb_pod_list_gpushare40.csv", 8, [](const std::string& l) {
               return l.find(",1,") != std::string::npos || l.find("Burstable") != std::string::npos;
             }));
  write_file(dir / "multigpu_five_columns", pods("openb_pod_list_multigpu20.csv", 8, any));
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_seeds CORPUS_DIR (fuzz/corpus)\n";
    return 2;
  }
  try {
    const fs::path root = argv[1];
    sluice::protocol_seeds(root / "protocol");
    sluice::snapshot_seeds(root / "snapshot_binary", root / "snapshot_json");
    sluice::dimacs_seeds(root / "dimacs");
    sluice::openb_seeds(root / "openb");
  } catch (const std::exception& e) {
    std::cerr << "fuzz_make_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
