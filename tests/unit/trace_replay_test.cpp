// Trace replay (the thin master) and the FGD fill experiment: hand-made traces with known
// rounds, invariants on the bundled openb trace checked by an accounting of this file's own
// (rebuilt from the snapshots the master sends and the replies it gets), hostile allocators
// whose bad replies must be refused without harming the state, the fill's threshold and
// best-fit baseline, and located load errors.
#include "sluice/trace_replay.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sluice/allocate.hpp"
#include "sluice/snapshot.hpp"

namespace sluice {
namespace {

const std::string kDataDir = std::string(SLUICE_TEST_DATA_DIR) + "/openb";
const std::string kNodes = kDataDir + "/openb_node_list_all_node.csv";
const std::string kPods = kDataDir + "/openb_pod_list_default.csv";

Machine machine(const std::string& id, std::int64_t cpu, std::int64_t memory, int gpus = 0,
                const std::string& model = "V100") {
  Machine m;
  m.id = id;
  m.rack = "r0";
  m.cpu_milli = m.free_cpu_milli = cpu;
  m.memory_mib = m.free_memory_mib = memory;
  for (int g = 0; g < gpus; ++g) m.gpus.push_back(Gpu{g, model, kGpuMilliWhole});
  return m;
}

TracePod pod(const std::string& name, std::int64_t cpu, std::int64_t memory, std::int64_t creation,
             std::int64_t deletion = kNeverDeleted, std::int32_t gpus = 0, std::int32_t gpu_milli = 0) {
  TracePod p;
  p.name = name;
  p.cpu_milli = cpu;
  p.memory_mib = memory;
  p.gpus = gpus;
  p.gpu_milli = gpu_milli;
  p.creation_time = creation;
  p.deletion_time = deletion;
  return p;
}

// Records every snapshot sent and every reply returned, around an inner allocator.
struct Recorder {
  explicit Recorder(RoundAllocator a) : inner(std::move(a)) {}
  RoundAllocator inner;
  std::vector<Snapshot> snapshots;
  std::vector<RoundOutcome> replies;

  RoundAllocator allocator() {
    return [this](const Snapshot& s) {
      snapshots.push_back(s);
      replies.push_back(inner(s));
      return replies.back();
    };
  }
};

const Task* find_task(const Snapshot& s, const std::string& id) {
  for (const Job& j : s.jobs) {
    for (const Task& t : j.tasks) {
      if (t.id == id) return &t;
    }
  }
  return nullptr;
}

std::int64_t pending_in(const Snapshot& s) {
  std::int64_t n = 0;
  for (const Job& j : s.jobs) n += j.tasks.at(0).state == TaskState::kPending ? 1 : 0;
  return n;
}

// ---- hand-made replays with known rounds ---------------------------------------------------

// One 4-core machine; a (3 cores, t 0..150) and b (3 cores, from t 50): b waits one round
// for a to leave.
TEST(TraceReplay, ArrivalsDeparturesAndPendingCarriedOver) {
  Trace trace;
  trace.machines = {machine("m0", 4000, 8192)};
  trace.pods = {pod("a", 3000, 1024, 0, 150), pod("b", 3000, 2048, 50)};
  Recorder rec{local_allocator()};
  ReplayOptions options;
  options.round_interval_s = 100;
  const ReplayReport report = run_replay(trace, options, rec.allocator());
  ASSERT_TRUE(report.ok) << report.error;
  ASSERT_EQ(report.rounds.size(), 3u);

  const RoundRecord& r1 = report.rounds[0];
  EXPECT_EQ(r1.round, 1);
  EXPECT_EQ(r1.trace_time, 0);
  EXPECT_EQ(r1.arrived, 1);
  EXPECT_EQ(r1.pending, 1);
  EXPECT_EQ(r1.placed, 1);
  EXPECT_EQ(r1.running, 1);
  EXPECT_EQ(r1.unscheduled, 0);
  EXPECT_DOUBLE_EQ(r1.cpu_alloc_pct, 75.0);
  EXPECT_DOUBLE_EQ(r1.mem_alloc_pct, 12.5);

  const RoundRecord& r2 = report.rounds[1];
  EXPECT_EQ(r2.trace_time, 100);
  EXPECT_EQ(r2.arrived, 1);
  EXPECT_EQ(r2.pending, 1);
  EXPECT_EQ(r2.placed, 0);
  EXPECT_EQ(r2.unscheduled, 1);
  EXPECT_EQ(r2.running, 1);

  const RoundRecord& r3 = report.rounds[2];
  EXPECT_EQ(r3.trace_time, 200);
  EXPECT_EQ(r3.departed, 1);
  EXPECT_EQ(r3.pending, 1);
  EXPECT_EQ(r3.placed, 1);
  EXPECT_EQ(r3.running, 1);
  EXPECT_DOUBLE_EQ(r3.cpu_alloc_pct, 75.0);
  EXPECT_DOUBLE_EQ(r3.mem_alloc_pct, 25.0);

  // What the allocator was shown: a running in round 2 with the machine's free amounts
  // reduced; a gone and b pending in round 3 with everything free.
  ASSERT_EQ(rec.snapshots.size(), 3u);
  EXPECT_EQ(rec.snapshots[1].version, 2);
  EXPECT_EQ(rec.snapshots[1].time, 100);
  const Task* a = find_task(rec.snapshots[1], "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->state, TaskState::kRunning);
  EXPECT_EQ(a->machine, "m0");
  EXPECT_EQ(rec.snapshots[1].machines[0].free_cpu_milli, 1000);
  EXPECT_EQ(rec.snapshots[1].machines[0].free_memory_mib, 8192 - 1024);
  EXPECT_EQ(find_task(rec.snapshots[2], "a"), nullptr);
  EXPECT_EQ(rec.snapshots[2].machines[0].free_cpu_milli, 4000);
  EXPECT_EQ(rec.snapshots[2].jobs.at(0).submit_time, 50);

  EXPECT_EQ(report.pods, 2);
  EXPECT_EQ(report.pods_ran, 2);
  EXPECT_EQ(report.pods_never_ran, 0);
  EXPECT_EQ(report.placements, 2);
  EXPECT_EQ(report.rejected, 0);
}

// Quiet stretches are skipped; a pod living between two rounds is never sent; a pending
// pod that reaches its deletion time unplaced expires.
TEST(TraceReplay, SkipsQuietRoundsAndCountsUnseenAndExpired) {
  Trace trace;
  trace.machines = {machine("m0", 1000, 1000)};
  trace.pods = {pod("big", 5000, 10, 0, 250),  // never fits: pending until it expires
                pod("flash", 100, 10, 310, 320), pod("late", 100, 10, 1000, 1100)};
  Recorder rec{local_allocator()};
  ReplayOptions options;
  options.round_interval_s = 100;
  const ReplayReport report = run_replay(trace, options, rec.allocator());
  ASSERT_TRUE(report.ok) << report.error;
  std::vector<std::int64_t> times;
  for (const RoundRecord& r : report.rounds) times.push_back(r.trace_time);
  // 0, 100, 200: big pending; 300: big expires (a change); 400..900 quiet; 1000: late
  // arrives; 1100: late leaves.
  EXPECT_EQ(times, (std::vector<std::int64_t>{0, 100, 200, 300, 1000, 1100}));
  EXPECT_EQ(report.skipped_rounds, 6);
  EXPECT_EQ(report.rounds[3].expired, 1);
  EXPECT_EQ(report.rounds[3].pending, 0);
  EXPECT_EQ(report.rounds[5].departed, 1);
  EXPECT_EQ(report.pods, 3);
  EXPECT_EQ(report.pods_unseen, 1);
  EXPECT_EQ(report.pods_ran, 1);
  EXPECT_EQ(report.pods_never_ran, 1);
  for (const Snapshot& s : rec.snapshots) EXPECT_EQ(find_task(s, "flash"), nullptr);
}

// GPU shares and whole GPUs: the master's GPU accounting and the device indexes it reports.
TEST(TraceReplay, GpuSharesAndWholeDevices) {
  Trace trace;
  trace.machines = {machine("g0", 8000, 8000, 2)};
  trace.pods = {pod("s1", 100, 10, 0, kNeverDeleted, 0, 500), pod("s2", 100, 10, 0, kNeverDeleted, 0, 500),
                pod("w", 100, 10, 0, kNeverDeleted, 1, 0), pod("s3", 100, 10, 10, 500, 0, 300)};
  Recorder rec{local_allocator()};
  ReplayOptions options;
  options.round_interval_s = 100;
  const ReplayReport report = run_replay(trace, options, rec.allocator());
  ASSERT_TRUE(report.ok) << report.error;
  ASSERT_GE(report.rounds.size(), 2u);
  EXPECT_EQ(report.rounds[0].placed, 3);
  EXPECT_DOUBLE_EQ(report.rounds[0].gpu_alloc_pct, 100.0);
  EXPECT_EQ(report.rounds[1].unscheduled, 1);  // s3: no room on either device
  const Snapshot& s = rec.snapshots[1];
  const Task* s1 = find_task(s, "s1");
  const Task* s2 = find_task(s, "s2");
  const Task* w = find_task(s, "w");
  ASSERT_TRUE(s1 && s2 && w);
  ASSERT_EQ(s1->gpu_indexes.size(), 1u);
  ASSERT_EQ(w->gpu_indexes.size(), 1u);
  EXPECT_EQ(s1->gpu_indexes, s2->gpu_indexes);
  EXPECT_NE(s1->gpu_indexes, w->gpu_indexes);
  for (const Gpu& g : s.machines[0].gpus) EXPECT_EQ(g.free_milli, 0);
  EXPECT_EQ(report.pods_never_ran, 1);
}

TEST(TraceReplay, WindowAndMaxRounds) {
  Trace trace;
  trace.machines = {machine("m0", 10000, 10000)};
  trace.pods = {pod("old", 100, 10, 0, 50), pod("alive", 100, 10, 10, 1000), pod("new", 100, 10, 300)};
  ReplayOptions options;
  options.round_interval_s = 100;
  options.start_time = 200;
  Recorder rec{local_allocator()};
  ReplayReport report = run_replay(trace, options, rec.allocator());
  ASSERT_TRUE(report.ok) << report.error;
  ASSERT_FALSE(report.rounds.empty());
  EXPECT_EQ(report.rounds[0].trace_time, 200);
  EXPECT_EQ(report.rounds[0].arrived, 1);  // alive; old left before the window
  EXPECT_EQ(report.pods, 2);
  EXPECT_EQ(report.rounds.back().trace_time, 1000);  // alive leaves at 1000

  options.max_rounds = 2;
  report = run_replay(trace, options, local_allocator());
  ASSERT_TRUE(report.ok);
  EXPECT_EQ(report.rounds.size(), 2u);

  options.max_rounds = 0;
  options.end_time = 250;
  report = run_replay(trace, options, local_allocator());
  ASSERT_TRUE(report.ok);
  ASSERT_EQ(report.rounds.size(), 1u);
}

TEST(TraceReplay, InvalidTraceAndOptionsAreReported) {
  Trace trace;
  trace.machines = {machine("m0", 1000, 1000)};
  trace.pods = {pod("a", 1, 1, 0), pod("a", 1, 1, 5)};
  ReplayReport report = run_replay(trace, {}, local_allocator());
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.error.find("pods[1] 'a': duplicate pod name"), std::string::npos) << report.error;

  trace.pods = {pod("a", 1, 1, 10), pod("b", 1, 1, 5)};
  EXPECT_NE(check_trace(trace).find("not in creation order"), std::string::npos);
  trace.pods = {pod("a", 1, 1, 0, kNeverDeleted, 2, 300)};
  EXPECT_NE(check_trace(trace).find("both whole GPUs and a GPU share"), std::string::npos);
  trace.pods = {pod("a", 1, 1, 0)};
  ReplayOptions options;
  options.round_interval_s = 0;
  report = run_replay(trace, options, local_allocator());
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.error.find("round_interval_s"), std::string::npos);
}

// ---- hostile allocators: refused, counted, state unharmed ---------------------------------

// Two machines, one GPU each; a (a 500 share) arrives at 0, b (CPU only) and c (one whole
// GPU) at 100.
// Round 1 is forced: a on g0's GPU 0 (whatever allocate chose).
Trace two_gpu_machines() {
  Trace trace;
  trace.machines = {machine("g0", 4000, 4000, 1), machine("g1", 4000, 4000, 1)};
  trace.pods = {pod("a", 1000, 1000, 0, kNeverDeleted, 0, 500), pod("b", 1000, 1000, 100),
                pod("c", 1000, 1000, 100, kNeverDeleted, 1, 0)};
  return trace;
}

using Tamper = std::function<void(std::int64_t version, Allocation&)>;

// Every round goes to sluice::allocate, whose reply `tamper` may then edit; rounds every
// 100 s up to t = 300 (or `end_time`).
ReplayReport replay_tampered(const Trace& trace, const Tamper& tamper, std::vector<Snapshot>* seen = nullptr,
                             std::int64_t end_time = 300) {
  const RoundAllocator good = local_allocator();
  const RoundAllocator allocator = [&](const Snapshot& s) {
    if (seen != nullptr) seen->push_back(s);
    RoundOutcome out = good(s);
    tamper(s.version, out.allocation);
    return out;
  };
  ReplayOptions options;
  options.round_interval_s = 100;
  options.end_time = end_time;
  return run_replay(trace, options, allocator);
}

Placement placement(const std::string& task, const std::string& machine, std::vector<std::int32_t> gpus = {}) {
  return Placement{task, task, machine, std::move(gpus)};
}

// The round after a tampered one must show the honest state: the refused pod pending and
// every machine's free amounts equal to capacity minus what runs there.
void expect_consistent(const Snapshot& s) {
  for (const Machine& m : s.machines) {
    std::int64_t cpu = 0;
    std::int64_t memory = 0;
    std::map<std::int32_t, std::int32_t> gpu;
    for (const Job& j : s.jobs) {
      const Task& t = j.tasks.at(0);
      if (t.state != TaskState::kRunning || t.machine != m.id) continue;
      cpu += t.cpu_milli;
      memory += t.memory_mib;
      for (const std::int32_t g : t.gpu_indexes) gpu[g] += t.gpus > 0 ? kGpuMilliWhole : t.gpu_milli;
    }
    EXPECT_EQ(m.free_cpu_milli, m.cpu_milli - cpu) << m.id;
    EXPECT_EQ(m.free_memory_mib, m.memory_mib - memory) << m.id;
    for (const Gpu& g : m.gpus) EXPECT_EQ(g.free_milli, kGpuMilliWhole - gpu[g.index]) << m.id << " GPU " << g.index;
  }
}

void clear_reply(Allocation& a) {
  a.placements.clear();
  a.migrations.clear();
  a.preemptions.clear();
  a.unscheduled.clear();
}

// Round 1 of two_gpu_machines(), forced: a on g0's GPU 0.
void force_round1(std::int64_t version, Allocation& a) {
  if (version != 1) return;
  a.placements = {placement("a", "g0", {0})};
}

TEST(TraceReplayHostile, OverCapacityPlacementIsRefused) {
  std::vector<Snapshot> seen;
  const ReplayReport report = replay_tampered(
      two_gpu_machines(),
      [](std::int64_t version, Allocation& a) {
        force_round1(version, a);
        if (version != 2) return;
        clear_reply(a);
        // b is fine; c on g0's GPU 0, which a half-uses: refused.
        a.placements.push_back(placement("b", "g1"));
        a.placements.push_back(placement("c", "g0", {0}));
      },
      &seen);
  ASSERT_TRUE(report.ok) << report.error;
  ASSERT_EQ(report.rounds.size(), 3u);
  const RoundRecord& r2 = report.rounds[1];
  EXPECT_TRUE(r2.ok);
  EXPECT_EQ(r2.placed, 1);
  EXPECT_EQ(r2.rejected, 1);
  EXPECT_NE(r2.rejection.find("placement of task 'c' on 'g0' [0]: needs 1000 milli of GPU 0 on 'g0', 500 free"),
            std::string::npos)
      << r2.rejection;
  EXPECT_EQ(r2.unscheduled, 1);
  EXPECT_DOUBLE_EQ(r2.gpu_alloc_pct, 25.0);
  EXPECT_EQ(report.rejected, 1);
  ASSERT_EQ(seen.size(), 3u);
  const Task* c = find_task(seen[2], "c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->state, TaskState::kPending);
  expect_consistent(seen[2]);
  // Round 3, honest again, places c on g1's free device.
  EXPECT_EQ(report.rounds[2].placed, 1);
  EXPECT_EQ(report.rounds[2].rejected, 0);
  EXPECT_DOUBLE_EQ(report.rounds[2].gpu_alloc_pct, 75.0);
}

TEST(TraceReplayHostile, MalformedItemsAreRefusedOneByOne) {
  std::vector<Snapshot> seen;
  Trace trace = two_gpu_machines();
  trace.pods.push_back(pod("cpu-hog", 5000, 100, 100));
  trace.pods.push_back(pod("mem-hog", 100, 5000, 100));
  const ReplayReport report = replay_tampered(
      trace,
      [](std::int64_t version, Allocation& a) {
        force_round1(version, a);
        if (version != 2) return;
        clear_reply(a);
        a.placements.push_back(placement("b", "nowhere"));            // unknown machine
        a.placements.push_back(placement("ghost", "g1"));             // unknown task
        a.placements.push_back(placement("a", "g1", {0}));            // a is running, not pending
        a.placements.push_back(placement("c", "g1", {7}));            // no such device
        a.placements.push_back(placement("c", "g1", {}));             // no device for a GPU pod
        a.placements.push_back(placement("b", "g1", {0}));            // a device for a CPU pod
        a.placements.push_back(Placement{"x", "b", "g1", {}});        // job does not match task
        a.placements.push_back(placement("b", "g1"));                 // fine
        a.placements.push_back(placement("b", "g0"));                 // named twice
        a.placements.push_back(placement("cpu-hog", "g0"));           // 5000 CPU milli > 3000 free
        a.placements.push_back(placement("mem-hog", "g1"));           // 5000 MiB > 3000 free
        a.preemptions.push_back(Preemption{"a", "a", "g1", "lie"});   // a runs on g0
        a.migrations.push_back(Migration{"b", "b", "g0", "g1", {}});  // b is not running
      },
      &seen);
  ASSERT_TRUE(report.ok) << report.error;
  const RoundRecord& r2 = report.rounds.at(1);
  EXPECT_EQ(r2.placed, 1);
  EXPECT_EQ(r2.rejected, 12);
  EXPECT_EQ(r2.preempted, 0);
  EXPECT_EQ(r2.migrated, 0);
  EXPECT_NE(r2.rejection.find("preemption of task 'a' on 'g1', but it runs on 'g0'"), std::string::npos)
      << r2.rejection;
  ASSERT_GE(seen.size(), 3u);
  expect_consistent(seen[2]);
  EXPECT_EQ(find_task(seen[2], "a")->machine, "g0");
  EXPECT_EQ(find_task(seen[2], "b")->machine, "g1");
  EXPECT_EQ(find_task(seen[2], "c")->state, TaskState::kPending);
  EXPECT_EQ(find_task(seen[2], "cpu-hog")->state, TaskState::kPending);
  EXPECT_EQ(find_task(seen[2], "mem-hog")->state, TaskState::kPending);
}

// a (a 500 share) on g0 and d (a whole GPU) on g1 from round 1; z arrives at 100 so that
// round 2 happens.
Trace two_running() {
  Trace trace;
  trace.machines = {machine("g0", 4000, 4000, 1), machine("g1", 4000, 4000, 1)};
  trace.pods = {pod("a", 1000, 1000, 0, kNeverDeleted, 0, 500), pod("d", 1000, 1000, 0, kNeverDeleted, 1, 0),
                pod("z", 100, 100, 100)};
  return trace;
}

void force_two_running(std::int64_t version, Allocation& a) {
  if (version != 1) return;
  a.placements = {placement("a", "g0", {0}), placement("d", "g1", {0})};
}

TEST(TraceReplayHostile, MigrationThatDoesNotFitStaysWhereItWas) {
  std::vector<Snapshot> seen;
  const ReplayReport report = replay_tampered(
      two_running(),
      [](std::int64_t version, Allocation& a) {
        force_two_running(version, a);
        if (version != 2) return;
        clear_reply(a);
        a.migrations = {Migration{"a", "a", "g0", "g1", {0}}};  // d holds it whole
      },
      &seen);
  ASSERT_TRUE(report.ok) << report.error;
  const RoundRecord& r2 = report.rounds.at(1);
  EXPECT_EQ(r2.migrated, 0);
  EXPECT_EQ(r2.rejected, 1);
  EXPECT_EQ(r2.preempted, 0);
  EXPECT_NE(r2.rejection.find("migration of task 'a' to 'g1' [0]: needs 500 milli of GPU 0 on 'g1', 0 free"),
            std::string::npos)
      << r2.rejection;
  ASSERT_GE(seen.size(), 3u);
  const Task* a = find_task(seen[2], "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->state, TaskState::kRunning);
  EXPECT_EQ(a->machine, "g0");
  EXPECT_EQ(a->gpu_indexes, std::vector<std::int32_t>{0});
  expect_consistent(seen[2]);
}

TEST(TraceReplayHostile, MigrationsMaySwapRooms) {
  std::vector<Snapshot> seen;
  const ReplayReport report = replay_tampered(
      two_running(),
      [](std::int64_t version, Allocation& a) {
        force_two_running(version, a);
        if (version == 2) {
          clear_reply(a);
          a.migrations = {Migration{"a", "a", "g0", "g1", {0}}, Migration{"d", "d", "g1", "g0", {0}}};
        }
      },
      &seen);
  ASSERT_TRUE(report.ok) << report.error;
  const RoundRecord& r2 = report.rounds.at(1);
  EXPECT_EQ(r2.migrated, 2);
  EXPECT_EQ(r2.rejected, 0);
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(find_task(seen[2], "a")->machine, "g1");
  EXPECT_EQ(find_task(seen[2], "d")->machine, "g0");
  expect_consistent(seen[2]);
}

// d moves into a's room; a's own move is refused and its room is gone: a waits, pending.
TEST(TraceReplayHostile, RefusedMoverWhoseRoomWasTakenGoesPending) {
  std::vector<Snapshot> seen;
  const ReplayReport report = replay_tampered(
      two_running(),
      [](std::int64_t version, Allocation& a) {
        force_two_running(version, a);
        if (version == 2) {
          clear_reply(a);
          a.migrations = {Migration{"d", "d", "g1", "g0", {0}}, Migration{"a", "a", "g0", "g1", {5}}};
        }
      },
      &seen);
  ASSERT_TRUE(report.ok) << report.error;
  const RoundRecord& r2 = report.rounds.at(1);
  EXPECT_EQ(r2.migrated, 1);
  EXPECT_EQ(r2.rejected, 1);
  EXPECT_EQ(r2.preempted, 1);
  EXPECT_NE(r2.rejection.find("GPU 5 does not exist on 'g1'"), std::string::npos) << r2.rejection;
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(find_task(seen[2], "a")->state, TaskState::kPending);
  EXPECT_EQ(find_task(seen[2], "d")->machine, "g0");
  expect_consistent(seen[2]);
}

TEST(TraceReplayHostile, PreemptionIsApplied) {
  std::vector<Snapshot> seen;
  const ReplayReport report = replay_tampered(
      two_gpu_machines(),
      [](std::int64_t version, Allocation& a) {
        force_round1(version, a);
        if (version != 2) return;
        clear_reply(a);
        a.preemptions.push_back(Preemption{"a", "a", "g0", "test"});
        a.placements.push_back(placement("c", "g0", {0}));  // the room a gave back
        a.placements.push_back(placement("b", "g1"));
      },
      &seen);
  ASSERT_TRUE(report.ok) << report.error;
  const RoundRecord& r2 = report.rounds.at(1);
  EXPECT_EQ(r2.preempted, 1);
  EXPECT_EQ(r2.placed, 2);
  EXPECT_EQ(r2.rejected, 0);
  EXPECT_EQ(r2.unscheduled, 1);
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(find_task(seen[2], "a")->state, TaskState::kPending);
  expect_consistent(seen[2]);
}

TEST(TraceReplayHostile, FailedRoundsChangeNothing) {
  int calls = 0;
  const RoundAllocator good = local_allocator();
  std::vector<Snapshot> seen;
  const RoundAllocator allocator = [&](const Snapshot& s) {
    seen.push_back(s);
    ++calls;
    if (calls == 2) {
      RoundOutcome failed;
      failed.error = "service unreachable";
      return failed;
    }
    if (calls == 3) throw std::runtime_error("boom");
    RoundOutcome out = good(s);
    if (calls == 4) out.allocation.snapshot_version = 1;  // a stale reply
    return out;
  };
  ReplayOptions options;
  options.round_interval_s = 100;
  options.end_time = 600;
  const ReplayReport report = run_replay(two_gpu_machines(), options, allocator);
  ASSERT_TRUE(report.ok) << report.error;
  ASSERT_GE(report.rounds.size(), 5u);
  EXPECT_FALSE(report.rounds[1].ok);
  EXPECT_EQ(report.rounds[1].error, "service unreachable");
  EXPECT_FALSE(report.rounds[2].ok);
  EXPECT_NE(report.rounds[2].error.find("boom"), std::string::npos);
  EXPECT_FALSE(report.rounds[3].ok);
  EXPECT_NE(report.rounds[3].error.find("snapshot version 1, expected 4"), std::string::npos);
  EXPECT_EQ(report.failed_rounds, 3);
  for (int r = 1; r <= 3; ++r) {
    EXPECT_EQ(report.rounds[r].placed, 0);
    EXPECT_EQ(report.rounds[r].unscheduled, 2);
    EXPECT_EQ(report.rounds[r].running, 1);
    expect_consistent(seen[static_cast<std::size_t>(r)]);
    EXPECT_EQ(pending_in(seen[static_cast<std::size_t>(r)]), 2);
  }
  EXPECT_TRUE(report.rounds[4].ok);
  EXPECT_EQ(report.rounds[4].placed, 2);
  EXPECT_EQ(report.rejected, 0);
}

// ---- the bundled openb trace -------------------------------------------------------------

// The state the master should hold, rebuilt here from what it sent and what it was told:
// running pod -> (machine, devices).
using Running = std::map<std::string, std::pair<std::string, std::vector<std::int32_t>>>;

Running running_in(const Snapshot& s) {
  Running out;
  for (const Job& j : s.jobs) {
    const Task& t = j.tasks.at(0);
    if (t.state == TaskState::kRunning) {
      std::vector<std::int32_t> g = t.gpu_indexes;
      std::sort(g.begin(), g.end());
      out[t.id] = {t.machine, g};
    }
  }
  return out;
}

// Replays `trace` hourly (~830 rounds over the trace's 149 days; most pods live under an
// hour, so most are never seen) and checks every round against this file's own accounting.
ReplayReport replay_and_check(const Trace& trace, const AllocateOptions& allocate_options) {
  std::map<std::string, const TracePod*> by_name;
  for (const TracePod& p : trace.pods) by_name[p.name] = &p;

  Recorder rec{local_allocator(allocate_options)};
  ReplayOptions options;
  options.round_interval_s = 3600;
  const ReplayReport report = run_replay(trace, options, rec.allocator());
  EXPECT_TRUE(report.ok) << report.error;
  EXPECT_GT(report.rounds.size(), 500u);
  EXPECT_EQ(rec.snapshots.size(), report.rounds.size());
  if (rec.snapshots.size() != report.rounds.size()) return report;

  std::int64_t total_gpu = 0;
  for (const Machine& m : trace.machines) total_gpu += static_cast<std::int64_t>(m.gpus.size()) * kGpuMilliWhole;
  std::int64_t placements = 0;
  std::set<std::string> ever_ran;
  Running expected;  // the state after the previous reply, departures not yet removed
  for (std::size_t r = 0; r < rec.snapshots.size(); ++r) {
    const Snapshot& s = rec.snapshots[r];
    const RoundRecord& round = report.rounds[r];
    SCOPED_TRACE("round " + std::to_string(round.round) + " at t=" + std::to_string(s.time));
    EXPECT_TRUE(round.ok) << round.error;
    EXPECT_EQ(round.rejected, 0) << round.rejection;
    EXPECT_EQ(s.version, round.round);
    EXPECT_EQ(s.time, round.trace_time);
    EXPECT_EQ(pending_in(s), round.pending);
    EXPECT_TRUE(validate(s).ok()) << validate(s).message;

    // (a) Every pod sent is alive now and sent once.
    std::set<std::string> ids;
    for (const Job& j : s.jobs) {
      EXPECT_EQ(j.tasks.size(), 1u) << j.id;
      EXPECT_TRUE(ids.insert(j.id).second) << j.id << " sent twice";
      const TracePod* p = by_name.at(j.id);
      EXPECT_LE(p->creation_time, s.time) << j.id << " sent before its creation";
      EXPECT_LT(s.time, p->deletion_time) << j.id << " sent after its deletion";
    }
    // (b) Exactly the pods alive at t that the trace has not lost (unseen, expired) are
    //     sent: every pod created in (previous round, t] and still alive is present.
    const std::int64_t previous = r == 0 ? std::numeric_limits<std::int64_t>::min() : rec.snapshots[r - 1].time;
    for (const TracePod& p : trace.pods) {
      if (p.creation_time > previous && p.creation_time <= s.time && s.time < p.deletion_time) {
        EXPECT_TRUE(ids.count(p.name)) << p.name << " arrived but was not sent";
      }
    }
    // (c) The running set is what the last reply left, minus departures.
    std::erase_if(expected, [&](const auto& kv) { return by_name.at(kv.first)->deletion_time <= s.time; });
    EXPECT_EQ(running_in(s), expected);
    // (d) No machine or device over its capacity; free amounts match what runs there.
    expect_consistent(s);
    for (const Machine& m : s.machines) {
      EXPECT_GE(m.free_cpu_milli, 0) << m.id;
      EXPECT_GE(m.free_memory_mib, 0) << m.id;
      for (const Gpu& g : m.gpus) EXPECT_GE(g.free_milli, 0) << m.id;
    }

    // Apply the reply to this test's own model of the state.
    const Allocation& a = rec.replies[r].allocation;
    expected = running_in(s);
    for (const Preemption& p : a.preemptions) expected.erase(p.task);
    for (const Migration& m : a.migrations) {
      std::vector<std::int32_t> g = m.gpu_indexes;
      std::sort(g.begin(), g.end());
      expected[m.task] = {m.machine, g};
    }
    for (const Placement& p : a.placements) {
      EXPECT_FALSE(expected.count(p.task)) << p.task << " placed while running";
      std::vector<std::int32_t> g = p.gpu_indexes;
      std::sort(g.begin(), g.end());
      expected[p.task] = {p.machine, g};
      ever_ran.insert(p.task);
    }
    placements += static_cast<std::int64_t>(a.placements.size());
    EXPECT_EQ(round.placed, static_cast<std::int64_t>(a.placements.size()));
    EXPECT_EQ(round.running, static_cast<std::int64_t>(expected.size()));

    // (e) The reported GPU allocation is that of this model.
    std::int64_t used_gpu = 0;
    for (const auto& [name, where] : expected) used_gpu += by_name.at(name)->gpu_demand_milli();
    EXPECT_NEAR(round.gpu_alloc_pct, 100.0 * static_cast<double>(used_gpu) / static_cast<double>(total_gpu), 1e-9);
  }
  EXPECT_EQ(report.rejected, 0);
  EXPECT_EQ(report.failed_rounds, 0);
  EXPECT_EQ(report.placements, placements);
  EXPECT_EQ(report.pods_ran, static_cast<std::int64_t>(ever_ran.size()));
  EXPECT_EQ(report.pods, static_cast<std::int64_t>(trace.pods.size()));
  EXPECT_EQ(report.pods, report.pods_ran + report.pods_never_ran + report.pods_unseen);
  std::cerr << "[ replay ] " << trace.machines.size() << " machines, " << report.rounds.size() << " rounds ("
            << report.skipped_rounds << " skipped), " << report.pods << " pods: " << report.pods_ran << " ran, "
            << report.pods_never_ran << " never ran, " << report.pods_unseen << " unseen; " << report.migrations
            << " migrations, " << report.preemptions << " preemptions; allocator " << report.allocator_seconds
            << " s\n";
  return report;
}

TEST(TraceReplayOpenb, InvariantsHoldOnTheBundledTrace) {
  const TraceLoadResult loaded = load_openb_trace(kNodes, kPods);
  ASSERT_TRUE(loaded.ok) << loaded.error;
  AllocateOptions fgd;
  fgd.cost_model = CostModel::kFgd;
  const ReplayReport report = replay_and_check(loaded.trace, fgd);
  EXPECT_GT(report.pods_ran, 2000);
}

// The same trace on every 200th machine (8 machines): queues, preemptions by priority,
// migrations; the master must still never overcommit.
TEST(TraceReplayOpenb, InvariantsHoldOnACrowdedCluster) {
  TraceLoadResult loaded = load_openb_trace(kNodes, kPods);
  ASSERT_TRUE(loaded.ok) << loaded.error;
  std::vector<Machine> few;
  for (std::size_t m = 0; m < loaded.trace.machines.size(); m += 200) few.push_back(loaded.trace.machines[m]);
  loaded.trace.machines = few;
  AllocateOptions priority;
  priority.cost_model = CostModel::kPriority;
  const ReplayReport report = replay_and_check(loaded.trace, priority);
  EXPECT_GT(report.preemptions, 0);
  EXPECT_GT(report.pods_never_ran, 0);
  double max_gpu = 0;
  for (const RoundRecord& r : report.rounds) max_gpu = std::max(max_gpu, r.gpu_alloc_pct);
  EXPECT_GT(max_gpu, 80.0);
}

TEST(TraceReplayOpenb, LoadsTheBundledTrace) {
  const TraceLoadResult loaded = load_openb_trace(kNodes, kPods);
  ASSERT_TRUE(loaded.ok) << loaded.error;
  EXPECT_EQ(loaded.trace.machines.size(), 1523u);
  EXPECT_EQ(loaded.trace.pods.size(), 8152u);
  EXPECT_EQ(check_trace(loaded.trace), "");
  std::int64_t gpus = 0;
  for (const Machine& m : loaded.trace.machines) gpus += static_cast<std::int64_t>(m.gpus.size());
  EXPECT_EQ(gpus, 6212);
  // openb-pod-0001,6000,12288,1,460,,LS,Running,427061,12902960,427061
  const auto it = std::find_if(loaded.trace.pods.begin(), loaded.trace.pods.end(),
                               [](const TracePod& p) { return p.name == "openb-pod-0001"; });
  ASSERT_NE(it, loaded.trace.pods.end());
  EXPECT_EQ(it->cpu_milli, 6000);
  EXPECT_EQ(it->memory_mib, 12288);
  EXPECT_EQ(it->gpus, 0);
  EXPECT_EQ(it->gpu_milli, 460);
  EXPECT_EQ(it->priority, 2);
  EXPECT_EQ(it->creation_time, 427061);
  EXPECT_EQ(it->deletion_time, 12902960);
  // openb-pod-0000,12000,16384,1,1000: one whole GPU.
  EXPECT_EQ(loaded.trace.pods.front().name, "openb-pod-0000");
  EXPECT_EQ(loaded.trace.pods.front().gpus, 1);
  EXPECT_EQ(loaded.trace.pods.front().gpu_milli, 0);
}

// ---- load errors --------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() / ("sluice_trace_replay_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = (path_ / name).string();
    std::ofstream(p) << text;
    return p;
  }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

TEST(TraceReplayLoad, ErrorsNameFileAndLine) {
  TempDir dir;
  const std::string nodes = dir.write("nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,1000,1000,1,T4\n");
  const std::string bad_nodes = dir.write("bad_nodes.csv",
                                          "sn,cpu_milli,memory_mib,gpu,model\nn0,1000,1000,1,T4\n"
                                          "n1,lots,1000,0,\n");
  const std::string pods = dir.write(
      "pods.csv",
      "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
      "p0,100,100,1,500,,LS,Running,20,40,20\n"
      "p1,100,100,0,0,,BE,Running,10,,10\n");
  const std::string bad_pods = dir.write(
      "bad_pods.csv",
      "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
      "p0,100,100,1,500,,LS,Running,20,40,20\n"
      "\n"
      "p1,100,100,1,0,,BE,Running,10,,10\n");

  TraceLoadResult r = load_openb_trace(nodes, pods);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.trace.pods.size(), 2u);
  EXPECT_EQ(r.trace.pods[0].name, "p1");  // creation order
  EXPECT_EQ(r.trace.pods[0].deletion_time, kNeverDeleted);
  EXPECT_EQ(r.trace.pods[1].deletion_time, 40);

  r = load_openb_trace(bad_nodes, pods);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind(bad_nodes + ":3: ", 0), 0u) << r.error;
  EXPECT_NE(r.error.find("'lots'"), std::string::npos) << r.error;

  r = load_openb_trace(nodes, bad_pods);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind(bad_pods + ":4: ", 0), 0u) << r.error;

  r = load_openb_trace(nodes, dir.file("missing.csv"));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("cannot open " + dir.file("missing.csv")), std::string::npos) << r.error;
}

// ---- the fill experiment ------------------------------------------------------------------

// prefix + n (built in place: GCC 12 warns falsely on "literal" + std::string).
std::string numbered(const char* prefix, int n) {
  std::string out = prefix;
  out += std::to_string(n);
  return out;
}

// Ten one-GPU machines, pods asking one whole GPU each.
Trace ten_gpus(int pods) {
  Trace trace;
  for (int m = 0; m < 10; ++m) trace.machines.push_back(machine(numbered("m", m), 4000, 4000, 1));
  for (int p = 0; p < pods; ++p) trace.pods.push_back(pod(numbered("p", p), 100, 100, p, kNeverDeleted, 1, 0));
  return trace;
}

TEST(TraceFill, StopsAtTheDemandThreshold) {
  FillOptions options;
  options.batch = 2;
  options.stop_at_demand_pct = 45;  // the 5th pod crosses it and still arrives
  int rounds = 0;
  const RoundAllocator counting = [&, inner = local_allocator()](const Snapshot& s) {
    ++rounds;
    return inner(s);
  };
  const FillReport report = run_fill(ten_gpus(20), options, counting, "spread");
  ASSERT_TRUE(report.ok) << report.error;
  EXPECT_EQ(report.policy, "spread");
  ASSERT_EQ(report.curve.size(), 3u);
  EXPECT_EQ(rounds, 3);
  EXPECT_EQ(report.curve[0].arrived_pods, 2);
  EXPECT_EQ(report.curve[2].arrived_pods, 5);
  EXPECT_DOUBLE_EQ(report.curve[2].arrived_gpu_demand_pct, 50.0);
  EXPECT_DOUBLE_EQ(report.curve[2].allocated_gpu_pct, 50.0);
  EXPECT_DOUBLE_EQ(report.final_unallocated_gpu_pct, 50.0);
  EXPECT_EQ(report.placed, 5);
  EXPECT_EQ(report.failed, 0);
  EXPECT_EQ(report.rejected, 0);

  // The trace ending first: 3 pods, threshold 100%.
  options.stop_at_demand_pct = 100;
  const FillReport short_trace = run_fill(ten_gpus(3), options, local_allocator(), "spread");
  ASSERT_TRUE(short_trace.ok);
  EXPECT_EQ(short_trace.curve.back().arrived_pods, 3);
  EXPECT_DOUBLE_EQ(short_trace.final_arrived_gpu_demand_pct, 30.0);

  // Repeating the trace until the threshold: 3 pods ×4 passes, 10 arrive, all placed.
  options.repeat_trace = true;
  const FillReport repeated = run_fill(ten_gpus(3), options, local_allocator(), "spread");
  ASSERT_TRUE(repeated.ok) << repeated.error;
  EXPECT_EQ(repeated.curve.back().arrived_pods, 10);
  EXPECT_EQ(repeated.placed, 10);
  EXPECT_DOUBLE_EQ(repeated.final_unallocated_gpu_pct, 0.0);
}

TEST(TraceFill, UnplacedPodsFailAndAreDropped) {
  FillOptions options;
  options.batch = 4;
  options.stop_at_demand_pct = 1000;
  Trace trace = ten_gpus(0);
  trace.machines.resize(2);
  for (int p = 0; p < 6; ++p) trace.pods.push_back(pod(numbered("p", p), 100, 100, p, kNeverDeleted, 1, 0));
  const FillReport report = run_fill(trace, options, local_allocator(), "pack");
  ASSERT_TRUE(report.ok) << report.error;
  ASSERT_EQ(report.curve.size(), 2u);
  EXPECT_EQ(report.curve[0].failed_pods, 2);
  EXPECT_EQ(report.curve[1].failed_pods, 4);
  EXPECT_EQ(report.placed, 2);
  EXPECT_EQ(report.failed, 4);
  EXPECT_DOUBLE_EQ(report.final_unallocated_gpu_pct, 0.0);

  // A failing allocator ends the fill with the round named.
  const RoundAllocator failing = [](const Snapshot&) { return RoundOutcome{false, "down", {}, 0, ""}; };
  const FillReport failed = run_fill(trace, options, failing, "broken");
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.error, "round 1: down");
}

// Known best-fit answer. c0: CPU only, 4 cores; g1: one GPU; g2: two GPUs (4 cores each).
//   cpu  (4 cores, no GPU)   -> c0: least free GPU left (0); g1 or g2 would strand their GPUs' CPU
//   s500 (share 500)         -> g1 GPU 0 (1500 vs 500 GPU left: g1 leaves less)
//   w    (1 whole GPU)       -> g2 GPU 0 (g1's device is shared now)
//   s400 (share 400)         -> g1 GPU 0 (100 left there vs 600 on g2)
//   s200 (share 200)         -> g2 GPU 1 (g1 has 100 free)
//   w2   (1 whole GPU)       -> fails: no device entirely free
// Allocated: 500 + 1000 + 400 + 200 = 2100 of 3000 milli -> 30% unallocated.
TEST(TraceFill, BestFitBaselineKnownAnswer) {
  Trace trace;
  trace.machines = {machine("g2", 4000, 4000, 2), machine("c0", 4000, 4000), machine("g1", 4000, 4000, 1)};
  trace.pods = {pod("cpu", 4000, 100, 0),
                pod("s500", 100, 100, 1, kNeverDeleted, 0, 500),
                pod("w", 100, 100, 2, kNeverDeleted, 1, 0),
                pod("s400", 100, 100, 3, kNeverDeleted, 0, 400),
                pod("s200", 100, 100, 4, kNeverDeleted, 0, 200),
                pod("w2", 100, 100, 5, kNeverDeleted, 1, 0)};
  FillOptions options;
  options.batch = 1;
  options.stop_at_demand_pct = 1000;
  const FillReport report = run_fill_best_fit(trace, options);
  ASSERT_TRUE(report.ok) << report.error;
  EXPECT_EQ(report.policy, "best-fit");
  ASSERT_EQ(report.curve.size(), 6u);
  const std::vector<double> allocated = {0, 500, 1500, 1900, 2100, 2100};
  for (std::size_t i = 0; i < allocated.size(); ++i) {
    EXPECT_NEAR(report.curve[i].allocated_gpu_pct, allocated[i] / 30.0, 1e-9) << "after pod " << i;
  }
  EXPECT_EQ(report.placed, 5);
  EXPECT_EQ(report.failed, 1);
  EXPECT_EQ(report.curve[4].failed_pods, 0);
  EXPECT_NEAR(report.final_unallocated_gpu_pct, 30.0, 1e-9);

  // Had the CPU pod gone to a GPU machine, a GPU pod would have found no CPU left there:
  // with g2 and g1 only, it takes one and s500 must go to the other.
  trace.machines.erase(trace.machines.begin() + 1);
  const FillReport no_cpu_node = run_fill_best_fit(trace, options);
  ASSERT_TRUE(no_cpu_node.ok);
  EXPECT_GT(no_cpu_node.failed, 1);
}

TEST(TraceFill, BundledTraceWithFgdAndBestFit) {
  const TraceLoadResult loaded = load_openb_trace(kNodes, kPods);
  ASSERT_TRUE(loaded.ok) << loaded.error;
  FillOptions options;  // batch 50, up to 100% of GPU capacity (the trace asks 98%)
  AllocateOptions fgd;
  fgd.cost_model = CostModel::kFgd;
  fgd.allow_migration = false;
  fgd.allow_preemption = false;
  std::size_t last_done = 0;
  const FillReport report =
      run_fill(loaded.trace, options, local_allocator(fgd), "fgd", [&](std::size_t done, std::size_t total) {
        EXPECT_GT(done, last_done);
        EXPECT_LE(done, total);
        last_done = done;
      });
  ASSERT_TRUE(report.ok) << report.error;
  EXPECT_EQ(report.rejected, 0);
  EXPECT_EQ(report.placed + report.failed, static_cast<std::int64_t>(loaded.trace.pods.size()));
  EXPECT_NEAR(report.final_arrived_gpu_demand_pct, 100.0 * 6086800 / 6212000, 1e-6);
  ASSERT_EQ(report.curve.size(), (loaded.trace.pods.size() + 49) / 50);
  for (std::size_t i = 1; i < report.curve.size(); ++i) {
    EXPECT_GT(report.curve[i].arrived_gpu_demand_pct, report.curve[i - 1].arrived_gpu_demand_pct - 1e-12);
    EXPECT_GE(report.curve[i].allocated_gpu_pct, report.curve[i - 1].allocated_gpu_pct);  // nothing leaves
    EXPECT_LE(report.curve[i].allocated_gpu_pct, report.curve[i].arrived_gpu_demand_pct + 1e-9);
  }
  // Sane: most of the demand is placed, and the unallocated share is at least what was
  // never asked for (~2%) and far from everything.
  EXPECT_GT(report.final_unallocated_gpu_pct, 100.0 - report.final_arrived_gpu_demand_pct - 1e-9);
  EXPECT_LT(report.final_unallocated_gpu_pct, 40.0);

  const FillReport best_fit = run_fill_best_fit(loaded.trace, options);
  ASSERT_TRUE(best_fit.ok) << best_fit.error;
  EXPECT_EQ(best_fit.placed + best_fit.failed, static_cast<std::int64_t>(loaded.trace.pods.size()));
  EXPECT_EQ(best_fit.curve.size(), report.curve.size());
  EXPECT_GT(best_fit.final_unallocated_gpu_pct, 100.0 - best_fit.final_arrived_gpu_demand_pct - 1e-9);
  EXPECT_LT(best_fit.final_unallocated_gpu_pct, 40.0);
  std::cerr << "[ fill ] unallocated GPU at " << report.final_arrived_gpu_demand_pct << "% arrived demand: fgd "
            << report.final_unallocated_gpu_pct << "% (" << report.failed << " failed, " << report.seconds
            << " s), best-fit " << best_fit.final_unallocated_gpu_pct << "% (" << best_fit.failed << " failed, "
            << best_fit.seconds << " s)\n";
}

// ---- CSV output ---------------------------------------------------------------------------

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(TraceReplayCsv, WritesRoundsAndFillCurves) {
  TempDir dir;
  ReplayReport report;
  RoundRecord r;
  r.round = 1;
  r.trace_time = 3600;
  r.placed = 2;
  r.gpu_alloc_pct = 12.5;
  r.backend = "cpu";
  r.ok = false;
  r.error = "bad, \"quoted\" reply";
  report.rounds.push_back(r);
  std::string error;
  ASSERT_TRUE(write_replay_csv(report, dir.file("rounds.csv"), &error)) << error;
  const std::vector<std::string> rounds = lines_of(dir.file("rounds.csv"));
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[0].rfind("round,trace_time,arrived,departed,expired,pending,placed,", 0), 0u);
  EXPECT_EQ(rounds[1].rfind("1,3600,0,0,0,0,2,", 0), 0u) << rounds[1];
  EXPECT_NE(rounds[1].find(",12.5000,"), std::string::npos) << rounds[1];
  EXPECT_NE(rounds[1].find(",cpu,0,\"bad, \"\"quoted\"\" reply\""), std::string::npos) << rounds[1];

  FillReport fill;
  fill.policy = "fgd";
  fill.curve.push_back(FillPoint{50, 1.5, 1.25, 98.75, 0});
  ASSERT_TRUE(write_fill_csv({fill, fill}, dir.file("fill.csv"), &error)) << error;
  const std::vector<std::string> fills = lines_of(dir.file("fill.csv"));
  ASSERT_EQ(fills.size(), 3u);
  EXPECT_EQ(fills[0], "policy,arrived_pods,arrived_gpu_demand_pct,allocated_gpu_pct,unallocated_gpu_pct,failed_pods");
  EXPECT_EQ(fills[1], "fgd,50,1.5000,1.2500,98.7500,0");

  EXPECT_FALSE(write_fill_csv({fill}, dir.file("no/such/dir/fill.csv"), &error));
  EXPECT_NE(error.find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace sluice
