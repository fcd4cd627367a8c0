// Load generator: N masters against one real `sluice serve` process on loopback. Each master
// is a thread with its own DEALER socket sending allocate requests back to back (one in
// flight, as a master's scheduling loop does), over a mix of realistic snapshots: the
// openb trace alive at several times (1,523 machines) and synthetic clusters. Reports
// sustained requests/s, latency p50/p99, the service's peak memory (VmHWM), and checks by
// request id that every request got exactly one reply (no loss, no duplicate).
//
//   sluice_bench_load --sluice build/main/bin/sluice --openb datasets/openb --masters 1,8,64 --seconds 20 --csv out.csv
#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "sluice/openb.hpp"
#include "sluice/protocol.hpp"
#include "sluice/snapshot_generator.hpp"
#include "sluice/snapshot_io.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Request {
  std::string name;
  std::int64_t version = 0;
  std::string snapshot;  // binary
};

struct Result {
  int masters = 0;
  double seconds = 0;
  std::uint64_t sent = 0, ok = 0, busy = 0, other = 0, lost = 0, duplicates = 0, unknown = 0;
  double rps = 0, p50 = 0, p99 = 0, max = 0;
  long peak_rss_kib = 0;
};

long vm_hwm_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

pid_t start_service(const std::string& sluice, const std::string& ready, int queue) {
  std::filesystem::remove(ready);
  std::fflush(stdout);  // or the child would flush our buffered output a second time
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string q = std::to_string(queue);
    if (std::FILE* f = std::freopen("/dev/null", "w", stdout)) (void)f;
    ::execl(sluice.c_str(), sluice.c_str(), "serve", "--endpoint", "tcp://127.0.0.1:*", "--ready-file", ready.c_str(),
            "--log-level", "warn", "--queue", q.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  for (int i = 0; i < 3000; ++i) {
    std::ifstream in(ready);
    std::string endpoint;
    if (in && std::getline(in, endpoint) && !endpoint.empty()) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

Result run(const std::string& sluice, const std::vector<Request>& requests, int masters, double seconds) {
  Result r;
  r.masters = masters;
  const std::string ready = std::filesystem::temp_directory_path() / ("sluice-load-" + std::to_string(::getpid()));
  const pid_t pid = start_service(sluice, ready, 64);
  if (pid < 0) return r;
  std::string endpoint;
  std::getline(std::ifstream(ready), endpoint);
  const std::string options = sluice::encode_request_options(sluice::AllocateRequestOptions{}, sluice::BodyFormat::kBinary);

  std::mutex mutex;
  std::vector<double> latencies;
  std::map<std::uint64_t, int> replies;  // by request id
  std::atomic<std::uint64_t> sent{0}, ok{0}, busy{0}, other{0}, unknown{0};
  const auto start = Clock::now();
  const auto stop_at = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  zmq::context_t context(2);
  for (int m = 0; m < masters; ++m) {
    threads.emplace_back([&, m] {
      zmq::socket_t socket(context, zmq::socket_type::dealer);
      socket.set(zmq::sockopt::linger, 0);
      socket.connect(endpoint);
      std::vector<double> mine;
      std::map<std::uint64_t, int> seen;
      std::uint64_t i = 0;
      while (Clock::now() < stop_at) {
        const Request& req = requests[(static_cast<std::size_t>(m) + i) % requests.size()];
        sluice::Envelope e;
        e.type = sluice::MessageType::kAllocate;
        e.request_id = (static_cast<std::uint64_t>(m + 1) << 40) | i;
        e.epoch = 1;
        e.snapshot_version = req.version;
        e.body_bytes = options.size() + req.snapshot.size();
        seen[e.request_id] = 0;
        const auto t0 = Clock::now();
        socket.send(zmq::buffer(sluice::encode_envelope(e)), zmq::send_flags::sndmore);
        socket.send(zmq::buffer(options), zmq::send_flags::sndmore);
        socket.send(zmq::buffer(req.snapshot), zmq::send_flags::none);
        ++sent;
        ++i;
        // Wait for this request's reply (60 s at most).
        bool answered = false;
        while (!answered) {
          zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
          zmq::poll(&item, 1, std::chrono::milliseconds(60'000));
          if (!(item.revents & ZMQ_POLLIN)) break;
          std::vector<zmq::message_t> frames;
          while (true) {
            zmq::message_t part;
            if (!socket.recv(part, zmq::recv_flags::none)) break;
            const bool more = part.more();
            frames.push_back(std::move(part));
            if (!more) break;
          }
          const auto d = sluice::decode_envelope(frames[0].to_string_view());
          if (!d.ok || seen.count(d.envelope.request_id) == 0) {
            ++unknown;
            continue;
          }
          ++seen[d.envelope.request_id];
          if (d.envelope.request_id != e.request_id) continue;  // a duplicate of an older one
          answered = true;
          mine.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
          if (d.envelope.code == sluice::ReplyCode::kOk) {
            ++ok;
          } else if (d.envelope.code == sluice::ReplyCode::kBusy) {
            ++busy;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          } else {
            ++other;
          }
        }
      }
      // Anything more that arrives now is a duplicate.
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      while (zmq::poll(&item, 1, std::chrono::milliseconds(300)) > 0) {
        zmq::message_t part;
        while (socket.recv(part, zmq::recv_flags::dontwait)) {
          if (part.more()) continue;
        }
        ++unknown;
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
      for (const auto& [id, n] : seen) replies[id] = n;
    });
  }
  for (std::thread& t : threads) t.join();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.peak_rss_kib = vm_hwm_kib(pid);
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  std::filesystem::remove(ready);

  r.sent = sent;
  r.ok = ok;
  r.busy = busy;
  r.other = other;
  r.unknown = unknown;
  for (const auto& [id, n] : replies) {
    if (n == 0) ++r.lost;
    if (n > 1) r.duplicates += static_cast<std::uint64_t>(n - 1);
  }
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    r.p50 = latencies[latencies.size() / 2];
    r.p99 = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
    r.max = latencies.back();
  }
  r.rps = static_cast<double>(r.ok) / r.seconds;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  // As in the sluice tool (apps/sluice_main.cpp): reuse freed memory rather than fault it in again.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  std::string sluice = "build/main/bin/sluice", openb_dir = "datasets/openb", csv_path;
  std::vector<int> masters{1, 8, 64};
  double seconds = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--sluice") {
      sluice = next();
    } else if (a == "--openb") {
      openb_dir = next();
    } else if (a == "--masters") {
      masters.clear();
      std::stringstream list(next());
      std::string n;
      while (std::getline(list, n, ',')) masters.push_back(std::stoi(n));
    } else if (a == "--seconds") {
      seconds = std::stod(next());
    } else if (a == "--csv") {
      csv_path = next();
    } else {
      std::fprintf(stderr, "usage: sluice_bench_load --sluice BIN --openb DIR [--masters 1,8,64] [--seconds S] [--csv F]\n");
      return 2;
    }
  }
  // The request mix: openb alive at four trace times, and two synthetic clusters.
  std::vector<Request> requests;
  for (const std::int64_t at : {600'000, 2'000'000, 5'000'000, 9'000'000}) {
    sluice::OpenbImportOptions o;
    o.mode = sluice::OpenbImportOptions::Mode::kAliveAt;
    o.at_time = at;
    sluice::OpenbImportResult imported = sluice::import_openb(openb_dir + "/openb_node_list_all_node.csv",
                                                              openb_dir + "/openb_pod_list_default.csv", o);
    if (!imported.ok) {
      std::fprintf(stderr, "%s\n", imported.error.c_str());
      return 2;
    }
    requests.push_back({"openb@" + std::to_string(at), imported.snapshot.version,
                        sluice::encode_snapshot(imported.snapshot, sluice::SnapshotFormat::kBinary)});
  }
  for (const auto& [m, t] : std::vector<std::pair<int, long>>{{200, 2'000}, {1'000, 10'000}}) {
    sluice::SnapshotGenParams p;
    p.machines = m;
    p.tasks = t;
    p.running_share = 0.3;
    const sluice::Snapshot s = sluice::generate_snapshot(p);
    requests.push_back({"synthetic-" + std::to_string(m), s.version, sluice::encode_snapshot(s, sluice::SnapshotFormat::kBinary)});
  }
  std::printf("request mix:");
  for (const Request& r : requests) std::printf(" %s (%.1f MB)", r.name.c_str(), r.snapshot.size() / 1e6);
  std::printf("\n%8s %8s %8s %8s %8s %8s %10s %9s %9s %9s %10s %6s %10s\n", "masters", "seconds", "sent", "ok", "busy",
              "errors", "req/s", "p50 s", "p99 s", "max s", "peak MiB", "lost", "duplicate");
  std::vector<Result> results;
  for (const int n : masters) {
    const Result r = run(sluice, requests, n, seconds);
    results.push_back(r);
    std::printf("%8d %8.1f %8llu %8llu %8llu %8llu %10.1f %9.4f %9.4f %9.4f %10.1f %6llu %10llu\n", r.masters, r.seconds,
                static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.ok),
                static_cast<unsigned long long>(r.busy), static_cast<unsigned long long>(r.other), r.rps, r.p50, r.p99,
                r.max, r.peak_rss_kib / 1024.0, static_cast<unsigned long long>(r.lost),
                static_cast<unsigned long long>(r.duplicates + r.unknown));
    std::fflush(stdout);
  }
  bool exact = true;
  for (const Result& r : results) exact = exact && r.lost == 0 && r.duplicates == 0 && r.unknown == 0 && r.sent > 0;
  std::printf("every request answered exactly once: %s\n", exact ? "yes" : "NO");
  if (!csv_path.empty()) {
    std::ofstream csv(csv_path);
    csv << "masters,seconds,sent,ok,busy,errors,requests_per_s,p50_s,p99_s,max_s,peak_rss_mib,lost,duplicates\n";
    for (const Result& r : results) {
      csv << r.masters << ',' << r.seconds << ',' << r.sent << ',' << r.ok << ',' << r.busy << ',' << r.other << ','
          << r.rps << ',' << r.p50 << ',' << r.p99 << ',' << r.max << ',' << r.peak_rss_kib / 1024.0 << ',' << r.lost
          << ',' << (r.duplicates + r.unknown) << '\n';
    }
    std::printf("wrote %s\n", csv_path.c_str());
  }
  return exact ? 0 : 1;
}
