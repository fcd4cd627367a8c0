// Snapshot codec benchmark: the direct portable-binary codec against the cereal reference
// (src/transport/binary_codec.hpp) on one generated snapshot, and validate(), in one run.
// Repetition 1 decodes into fresh memory; later ones reuse what the previous one freed.
// Then cancellation: decoding (JSON and binary) and validation run on a thread, the cancel
// flag is raised a third of the way through, and the time from the raise to the return is
// what a deadline or a drain waits for (issue 14, bug 1).
//
//   sluice_bench_codec --machines 100000 --tasks 1000000 --reps 3

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <thread>

#include "binary_codec.hpp"
#include "sluice/process_memory.hpp"
#include "sluice/snapshot_generator.hpp"
#include "sluice/snapshot_io.hpp"

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Runs `work` once to the end, then again with the flag raised after a third of that time;
// prints both and how long the cut run took to return after the raise.
void measure_cancel(const char* what, const std::function<bool(const std::atomic<bool>*)>& work) {
  std::atomic<bool> never{false};
  auto t = Clock::now();
  (void)work(&never);
  const double full_s = since(t);
  std::atomic<bool> cancel{false};
  Clock::time_point raised{}, returned{};
  bool cut = false;
  t = Clock::now();
  std::thread runner([&] {
    cut = work(&cancel);
    returned = Clock::now();
  });
  std::this_thread::sleep_for(std::chrono::duration<double>(full_s / 3));
  raised = Clock::now();
  cancel = true;
  runner.join();
  std::printf("cancel %-12s full %.3f s; raised at %.3f s; %s, %.1f ms after the raise\n", what, full_s,
              std::chrono::duration<double>(raised - t).count(), cut ? "stopped" : "ran to the end",
              std::chrono::duration<double>(returned - raised).count() * 1000);
}
}  // namespace

int main(int argc, char** argv) {
  sluice::tune_process_memory(argv);  // as the sluice tool does
  sluice::SnapshotGenParams p;
  p.machines = 100'000;
  p.tasks = 1'000'000;
  int reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--machines") p.machines = std::stoi(argv[i + 1]);
    if (a == "--tasks") p.tasks = std::stol(argv[i + 1]);
    if (a == "--reps") reps = std::stoi(argv[i + 1]);
  }
  const sluice::Snapshot s = sluice::generate_snapshot(p);
  std::printf("%d machines, %zu tasks\n", p.machines, s.task_count());
  for (int rep = 1; rep <= reps; ++rep) {
    auto t = Clock::now();
    const std::string direct = sluice::detail::encode_snapshot_binary(s);
    const double encode_s = since(t);
    t = Clock::now();
    const std::string reference = sluice::detail::encode_snapshot_cereal_binary(s);
    const double cereal_encode_s = since(t);
    double decode_s = 0, validate_s = 0, cereal_decode_s = 0;
    {
      sluice::Snapshot decoded;
      t = Clock::now();
      sluice::detail::decode_snapshot_binary(direct, {}, decoded);
      decode_s = since(t);
      t = Clock::now();
      const sluice::Validation v = sluice::validate(decoded);
      validate_s = since(t);
      if (!v.ok()) std::printf("invalid: %s\n", v.message.c_str());
    }
    {
      t = Clock::now();
      const sluice::SnapshotDecodeResult r = sluice::detail::decode_snapshot_cereal_binary(reference, {});
      cereal_decode_s = since(t);
      if (!r.ok) std::printf("cereal: %s\n", r.error.c_str());
    }
    std::printf("rep %d: %.1f MB (identical: %s); encode direct %.3f s, cereal %.3f s; decode direct %.3f s, "
                "cereal %.3f s; validate %.3f s\n",
                rep, direct.size() / 1e6, direct == reference ? "yes" : "NO", encode_s, cereal_encode_s, decode_s,
                cereal_decode_s, validate_s);
  }
  for (const auto format : {sluice::SnapshotFormat::kJson, sluice::SnapshotFormat::kBinary}) {
    const std::string bytes = sluice::encode_snapshot(s, format);
    measure_cancel(format == sluice::SnapshotFormat::kJson ? "json decode" : "binary decode",
                   [&](const std::atomic<bool>* flag) {
                     return sluice::decode_snapshot_unvalidated(bytes, format, {}, flag).cancelled;
                   });
  }
  measure_cancel("validate", [&](const std::atomic<bool>* flag) {
    return sluice::validate(s, sluice::SnapshotLimits{}, flag).status == sluice::Status::kCancelled;
  });
  return 0;
}
