// Service round-trip benchmark: a real `sluice serve` process on loopback, the C++ client,
// snapshots from the openb trace to 1M tasks, in both body formats. For each call it splits
// the end-to-end time into what the allocation itself took (the service's allocate():
// build, solve, repair, extract) and the protocol overhead (client encode, transfer, the
// service's decode and reply encoding, client decode), and prints the overhead's share.
//
//   sluice_bench_service --sluice build/main/bin/sluice --openb datasets/openb --synthetic 10000:100000
//       --synthetic 100000:1000000 --reps 3 --csv out.csv
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "sluice/client.hpp"
#include "sluice/openb.hpp"
#include "sluice/process_memory.hpp"
#include "sluice/snapshot_generator.hpp"

namespace {

struct Case {
  std::string name;
  sluice::Snapshot snapshot;
};

struct Row {
  std::string case_name, format;
  int rep = 0;
  double encode_s = 0, round_trip_s = 0, decode_s = 0, end_to_end_s = 0;
  double server_decode_s = 0, allocate_s = 0, overhead_s = 0;
  std::uint64_t request_bytes = 0, reply_bytes = 0;
  std::size_t placed = 0;
};

pid_t start_service(const std::string& sluice, const std::string& ready) {
  std::filesystem::remove(ready);
  std::fflush(stdout);  // or the child would flush our buffered output a second time
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(sluice.c_str(), sluice.c_str(), "serve", "--endpoint", "tcp://127.0.0.1:*", "--ready-file", ready.c_str(),
            "--log-level", "warn", "--workers", "2", static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  return pid;
}

std::string wait_ready(const std::string& ready) {
  for (int i = 0; i < 3000; ++i) {
    std::ifstream in(ready);
    std::string endpoint;
    if (in && std::getline(in, endpoint) && !endpoint.empty()) return endpoint;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  sluice::tune_process_memory(argv);  // as the sluice tool does
  std::string sluice = "build/main/bin/sluice";
  std::string openb_dir;
  std::vector<std::pair<int, long>> synthetic;
  int reps = 3;
  std::string csv_path;
  // binary and json: the Allocation with ids; indexed: positions (binary, docs/protocol.md).
  std::vector<std::string> formats{"binary", "json", "indexed"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--sluice") {
      sluice = next();
    } else if (a == "--openb") {
      openb_dir = next();
    } else if (a == "--synthetic") {
      const std::string v = next();
      const auto colon = v.find(':');
      synthetic.emplace_back(std::stoi(v.substr(0, colon)), std::stol(v.substr(colon + 1)));
    } else if (a == "--reps") {
      reps = std::stoi(next());
    } else if (a == "--csv") {
      csv_path = next();
    } else if (a == "--formats") {
      formats.clear();
      std::string list = next() + ",";
      for (std::size_t at = 0, comma; (comma = list.find(',', at)) != std::string::npos; at = comma + 1) {
        const std::string f = list.substr(at, comma - at);
        if (f != "binary" && f != "json" && f != "indexed") {
          std::fprintf(stderr, "--formats: binary, json or indexed, not '%s'\n", f.c_str());
          return 2;
        }
        formats.push_back(f);
      }
    } else {
      std::fprintf(stderr,
                   "usage: sluice_bench_service --sluice BIN [--openb DIR] [--synthetic M:T]... [--reps N] [--csv F]\n"
                   "                            [--formats binary,json,indexed]\n");
      return 2;
    }
  }

  std::vector<Case> cases;
  if (!openb_dir.empty()) {
    sluice::OpenbImportResult r = sluice::import_openb(openb_dir + "/openb_node_list_all_node.csv",
                                                       openb_dir + "/openb_pod_list_default.csv");
    if (!r.ok) {
      std::fprintf(stderr, "%s\n", r.error.c_str());
      return 2;
    }
    cases.push_back({"openb", std::move(r.snapshot)});
  }
  for (const auto& [machines, tasks] : synthetic) {
    sluice::SnapshotGenParams p;
    p.machines = machines;
    p.tasks = tasks;
    p.seed = 1;
    std::fprintf(stderr, "generating %d machines, %ld tasks\n", machines, tasks);
    cases.push_back({"synthetic-" + std::to_string(machines) + "m-" + std::to_string(tasks) + "t",
                     sluice::generate_snapshot(p)});
  }

  const std::string ready = std::filesystem::temp_directory_path() / ("sluice-bench-" + std::to_string(::getpid()));
  const pid_t pid = start_service(sluice, ready);
  const std::string endpoint = wait_ready(ready);
  if (endpoint.empty()) {
    std::fprintf(stderr, "sluice serve did not start (%s)\n", sluice.c_str());
    ::kill(pid, SIGKILL);
    return 1;
  }
  std::printf("service %s (pid %d)\n", endpoint.c_str(), pid);

  std::vector<Row> rows;
  std::uint64_t epoch = 1;
  for (const Case& c : cases) {
    for (int rep = 0; rep < reps; ++rep) {
      for (const std::string& format : formats) {
        const bool indexed = format == "indexed";
        sluice::ClientOptions co;
        co.endpoint = endpoint;
        co.format = format == "json" ? sluice::BodyFormat::kJson : sluice::BodyFormat::kBinary;
        co.timeout_ms = 600'000;
        co.attempts = 1;
        sluice::Client client(co);
        sluice::AllocateRequestOptions ro;
        ro.cost_model = sluice::CostModel::kLoadSpreading;
        ro.backend = sluice::Backend::kCpu;
        // Both calls report the same things; an indexed reply's summary carries the timings.
        sluice::CallInfo info;
        sluice::Allocation summary;
        std::size_t placed = 0;
        if (indexed) {
          sluice::IndexedAllocateCall call = client.allocate_indexed(c.snapshot, ro, 0, epoch);
          info = call.info;
          summary = std::move(call.allocation.summary);
          placed = call.allocation.placements.size();
        } else {
          sluice::AllocateCall call = client.allocate(c.snapshot, ro, 0, epoch);
          info = call.info;
          placed = call.allocation.placements.size();
          summary = std::move(call.allocation);
        }
        if (!info.ok) {
          std::fprintf(stderr, "%s: %s\n", c.name.c_str(), info.error.c_str());
          ::kill(pid, SIGKILL);
          return 1;
        }
        Row r;
        r.case_name = c.name;
        r.format = format;
        r.rep = rep;
        r.encode_s = info.encode_s;
        r.round_trip_s = info.round_trip_s;
        r.decode_s = info.decode_s;
        r.end_to_end_s = r.encode_s + r.round_trip_s + r.decode_s;
        r.server_decode_s = summary.timings.decode_s;
        r.allocate_s = summary.timings.total_s;
        r.overhead_s = r.end_to_end_s - r.allocate_s;
        r.request_bytes = info.request_bytes;
        r.reply_bytes = info.reply_bytes;
        r.placed = placed;
        rows.push_back(r);
        std::printf("%-28s %-7s rep %d: end to end %.3f s = allocate %.3f s + overhead %.3f s (%.1f%%: encode %.3f, "
                    "service decode %.3f, transfer+reply %.3f, decode %.3f); %.1f MB out, %.1f MB back, %zu placed\n",
                    c.name.c_str(), r.format.c_str(), rep, r.end_to_end_s, r.allocate_s, r.overhead_s,
                    100 * r.overhead_s / r.end_to_end_s, r.encode_s, r.server_decode_s,
                    r.round_trip_s - r.server_decode_s - r.allocate_s, r.decode_s, r.request_bytes / 1e6,
                    r.reply_bytes / 1e6, r.placed);
        std::fflush(stdout);
      }
    }
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::filesystem::remove(ready);

  std::printf("\nmedians over %d repetitions:\n", reps);
  std::printf("%-28s %-7s %10s %10s %10s %9s %12s\n", "case", "format", "end-to-end", "allocate", "overhead", "share",
              "round trip");
  for (const Case& c : cases) {
    for (const std::string& f : formats) {
      std::vector<double> e2e, alloc, over, rt;
      for (const Row& r : rows) {
        if (r.case_name != c.name || r.format != f) continue;
        e2e.push_back(r.end_to_end_s);
        alloc.push_back(r.allocate_s);
        over.push_back(r.overhead_s);
        rt.push_back(r.round_trip_s);
      }
      std::printf("%-28s %-7s %9.3fs %9.3fs %9.3fs %8.1f%% %11.3fs\n", c.name.c_str(), f.c_str(), median(e2e),
                  median(alloc),
                  median(over), 100 * median(over) / median(e2e), median(rt));
    }
  }
  if (!csv_path.empty()) {
    std::ofstream csv(csv_path);
    csv << "case,format,rep,end_to_end_s,allocate_s,overhead_s,client_encode_s,service_decode_s,transfer_and_reply_s,"
           "client_decode_s,round_trip_s,request_bytes,reply_bytes,placed\n";
    for (const Row& r : rows) {
      csv << r.case_name << ',' << r.format << ',' << r.rep << ',' << r.end_to_end_s << ',' << r.allocate_s << ','
          << r.overhead_s << ',' << r.encode_s << ',' << r.server_decode_s << ','
          << (r.round_trip_s - r.server_decode_s - r.allocate_s) << ',' << r.decode_s << ',' << r.round_trip_s << ','
          << r.request_bytes << ',' << r.reply_bytes << ',' << r.placed << '\n';
    }
    std::printf("wrote %s\n", csv_path.c_str());
  }
  return 0;
}
