// Hand-made snapshots whose optimal placement is known, one or more per cost model, and
// the unscheduled reasons. The formulas these numbers follow are in docs/allocation.md.
#include "sluice/allocate.hpp"
#include "sluice/protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <tuple>

namespace sluice {
namespace {

Machine machine(const std::string& id, std::int64_t cpu, std::int64_t memory, std::int64_t free_cpu,
                std::int64_t free_memory, const std::string& rack = "r0") {
  Machine m;
  m.id = id;
  m.rack = rack;
  m.zone = "z0";
  m.cpu_milli = cpu;
  m.memory_mib = memory;
  m.free_cpu_milli = free_cpu;
  m.free_memory_mib = free_memory;
  return m;
}

Task task(const std::string& id, std::int64_t cpu, std::int64_t memory) {
  Task t;
  t.id = id;
  t.cpu_milli = cpu;
  t.memory_mib = memory;
  return t;
}

Job job(const std::string& id, std::vector<Task> tasks, std::int32_t priority = 0, std::int64_t submit = 0) {
  Job j;
  j.id = id;
  j.priority = priority;
  j.submit_time = submit;
  j.tasks = std::move(tasks);
  return j;
}

Allocation run(const Snapshot& s, CostModel model, bool aggregate = true) {
  AllocateOptions o;
  o.cost_model = model;
  o.aggregate = aggregate;
  o.solve.backend = Backend::kCpu;
  o.solve.verify = true;
  Allocation a = allocate(s, o);
  EXPECT_EQ(a.status, Status::kOptimal) << a.message;
  EXPECT_TRUE(a.certificate && a.certificate->valid());
  return a;
}

std::map<std::string, std::string> where(const Allocation& a) {
  std::map<std::string, std::string> out;
  for (const Placement& p : a.placements) out[p.task] = p.machine;
  return out;
}

TEST(AllocateSpread, PrefersTheEmptierMachine) {
  Snapshot s;
  s.machines = {machine("busy", 10000, 10000, 2000, 2000), machine("idle", 10000, 10000, 10000, 10000)};
  s.jobs = {job("j", {task("t", 1000, 1000)})};
  const Allocation a = run(s, CostModel::kLoadSpreading);
  EXPECT_EQ(where(a)["t"], "idle");
}

TEST(AllocateSpread, ConvexSlotsSpreadIdenticalTasksEvenly) {
  // Two empty machines that hold 4 tasks each. Each placement costs util after = 250; the
  // machine → sink slices cost 0, 250, 500, 750: 2 + 2 costs 4·250 + 2·(0 + 250) = 1500,
  // 4 + 0 would cost 1000 + 1500.
  Snapshot s;
  s.machines = {machine("a", 4000, 4000, 4000, 4000), machine("b", 4000, 4000, 4000, 4000)};
  s.jobs = {job("j", {task("t0", 1000, 1000), task("t1", 1000, 1000), task("t2", 1000, 1000), task("t3", 1000, 1000)})};
  const Allocation a = run(s, CostModel::kLoadSpreading);
  EXPECT_EQ(a.objective, 1500);
  std::map<std::string, int> per_machine;
  for (const Placement& p : a.placements) ++per_machine[p.machine];
  EXPECT_EQ(per_machine["a"], 2);
  EXPECT_EQ(per_machine["b"], 2);
}

TEST(AllocatePack, PrefersTheFullerMachineAndFillsIt) {
  Snapshot s;
  s.machines = {machine("half", 4000, 4000, 2000, 2000), machine("empty", 4000, 4000, 4000, 4000)};
  s.jobs = {job("j", {task("t0", 1000, 1000), task("t1", 1000, 1000)})};
  const Allocation a = run(s, CostModel::kPacking);
  // pack = 1000 − util after one more task: half → 1000 − 750 = 250, empty → 750.
  EXPECT_EQ(where(a)["t0"], "half");
  EXPECT_EQ(where(a)["t1"], "half");
  EXPECT_EQ(a.objective, 500);
}

TEST(AllocateQuincy, PreferenceWinsOverEqualMachines) {
  Snapshot s;
  s.machines = {machine("m1", 8000, 8000, 8000, 8000, "r1"), machine("m2", 8000, 8000, 8000, 8000, "r2"),
                machine("m3", 8000, 8000, 8000, 8000, "r3")};
  Task t = task("t", 1000, 1000);
  t.preferred_machines = {{"m2", 300}};
  Task u = task("u", 1000, 1000);
  u.preferred_racks = {{"r3", 100}};
  s.jobs = {job("j", {t}), job("k", {u})};
  const Allocation a = run(s, CostModel::kQuincy);
  EXPECT_EQ(where(a)["t"], "m2");
  EXPECT_EQ(where(a)["u"], "m3");
}

TEST(AllocateQuincy, LongerWaitWinsTheLastSlot) {
  Snapshot s;
  s.time = 3600;
  s.machines = {machine("m", 1000, 1000, 1000, 1000)};
  // Same shape; "old" has waited 3600 s (U = 5000 + 100·6), "new" 600 s (U = 5100).
  s.jobs = {job("new", {task("n", 1000, 1000)}, 0, 3000), job("old", {task("o", 1000, 1000)}, 0, 0)};
  const Allocation a = run(s, CostModel::kQuincy);
  ASSERT_EQ(a.placements.size(), 1u);
  EXPECT_EQ(a.placements[0].task, "o");
  ASSERT_EQ(a.unscheduled.size(), 1u);
  EXPECT_EQ(a.unscheduled[0].task, "n");
  EXPECT_EQ(a.unscheduled[0].reason, UnscheduledReason::kNoFreeCapacity);
}

TEST(AllocatePriority, HigherPriorityPreemptsLower) {
  Snapshot s;
  s.machines = {machine("m", 4000, 4000, 0, 0)};
  Task low = task("low", 4000, 4000);
  low.state = TaskState::kRunning;
  low.machine = "m";
  s.jobs = {job("batch", {low}, 1), job("prod", {task("high", 4000, 4000)}, 9)};
  const Allocation a = run(s, CostModel::kPriority);
  ASSERT_EQ(a.placements.size(), 1u);
  EXPECT_EQ(a.placements[0].task, "high");
  EXPECT_EQ(a.placements[0].machine, "m");
  ASSERT_EQ(a.preemptions.size(), 1u);
  EXPECT_EQ(a.preemptions[0].task, "low");
  EXPECT_TRUE(a.kept.empty());
}

TEST(AllocatePriority, EqualOrLowerPriorityDoesNotPreempt) {
  Snapshot s;
  s.machines = {machine("m", 4000, 4000, 0, 0)};
  Task running = task("running", 4000, 4000);
  running.state = TaskState::kRunning;
  running.machine = "m";
  s.jobs = {job("a", {running}, 5), job("b", {task("same", 4000, 4000)}, 5), job("c", {task("lower", 4000, 4000)}, 2)};
  const Allocation a = run(s, CostModel::kPriority);
  EXPECT_TRUE(a.preemptions.empty());
  ASSERT_EQ(a.kept.size(), 1u);
  EXPECT_EQ(a.unscheduled.size(), 2u);
}

TEST(AllocatePriority, OtherModelsNeverPreempt) {
  Snapshot s;
  s.machines = {machine("m", 4000, 4000, 0, 0)};
  Task low = task("low", 4000, 4000);
  low.state = TaskState::kRunning;
  low.machine = "m";
  s.jobs = {job("batch", {low}, 1), job("prod", {task("high", 4000, 4000)}, 9)};
  for (const CostModel m : {CostModel::kLoadSpreading, CostModel::kPacking, CostModel::kQuincy, CostModel::kFgd}) {
    const Allocation a = run(s, m);
    EXPECT_TRUE(a.preemptions.empty()) << to_string(m);
    ASSERT_EQ(a.unscheduled.size(), 1u) << to_string(m);
    EXPECT_EQ(a.unscheduled[0].reason, UnscheduledReason::kNoFreeCapacity) << to_string(m);
  }
}

Machine gpu_machine(const std::string& id, std::vector<std::int32_t> free_shares, const std::string& model = "A100") {
  Machine m = machine(id, 64000, 262144, 64000, 262144);
  for (std::size_t g = 0; g < free_shares.size(); ++g) {
    m.gpus.push_back(Gpu{static_cast<std::int32_t>(g), model, free_shares[g]});
  }
  return m;
}

TEST(AllocateFgd, ShareGoesWhereItFragmentsLeast) {
  // "whole" has one free GPU; "partial" has a GPU with 700 free. The workload (the running
  // whole-GPU tasks and the pending share) makes whole GPUs valuable: a 500 share on the
  // free GPU leaves 500 no whole-GPU task can use (+), on the 700 GPU it uses up most of a
  // fragment (−). FGD places it on "partial", device 1.
  Snapshot s;
  s.machines = {gpu_machine("whole", {0, 1000}), gpu_machine("partial", {0, 700})};
  std::vector<Task> running;
  for (int i = 0; i < 2; ++i) {
    Task r = task("r" + std::to_string(i), 1000, 1000);
    r.gpus = 1;
    r.state = TaskState::kRunning;
    r.machine = i == 0 ? "whole" : "partial";
    r.gpu_indexes = {0};
    running.push_back(r);
  }
  s.machines[0].free_cpu_milli -= 1000;
  s.machines[0].free_memory_mib -= 1000;
  s.machines[1].free_cpu_milli -= 1000;
  s.machines[1].free_memory_mib -= 1000;
  s.machines[1].gpus[1].free_milli = 700;  // a share held outside this snapshot
  Task share = task("share", 1000, 1000);
  share.gpu_milli = 500;
  s.jobs = {job("train", running), job("notebook", {share})};
  const Allocation fgd = run(s, CostModel::kFgd);
  ASSERT_EQ(fgd.placements.size(), 1u);
  EXPECT_EQ(fgd.placements[0].machine, "partial");
  EXPECT_EQ(fgd.placements[0].gpu_indexes, std::vector<std::int32_t>{1});
  // Spreading prefers the emptier GPUs of "whole".
  const Allocation spread = run(s, CostModel::kLoadSpreading);
  ASSERT_EQ(spread.placements.size(), 1u);
  EXPECT_EQ(spread.placements[0].machine, "whole");
}

TEST(AllocateFgd, WholeGpuTasksGetDistinctFreeDevices) {
  Snapshot s;
  s.machines = {gpu_machine("m", {1000, 400, 1000, 1000})};
  Task t = task("t", 1000, 1000);
  t.gpus = 3;
  s.jobs = {job("j", {t})};
  for (const CostModel m : {CostModel::kFgd, CostModel::kPacking}) {
    const Allocation a = run(s, m);
    ASSERT_EQ(a.placements.size(), 1u);
    EXPECT_EQ(a.placements[0].gpu_indexes, (std::vector<std::int32_t>{0, 2, 3}));
  }
}

// One machine of 8000 mCPU and MiB; `small` tasks of 500 ("s0", …) and 4 of 4000 ("l0", …),
// in two jobs, the large one listed first when `large_first`.
Snapshot small_and_large_tasks(int small, bool large_first) {
  Snapshot s;
  s.machines = {machine("m", 8000, 8000, 8000, 8000)};
  std::vector<Task> smalls;
  std::vector<Task> larges;
  for (int i = 0; i < small; ++i) smalls.push_back(task("s" + std::to_string(i), 500, 500));
  for (int i = 0; i < 4; ++i) larges.push_back(task("l" + std::to_string(i), 4000, 4000));
  s.jobs = {job("small", smalls), job("large", larges)};
  if (large_first) std::swap(s.jobs[0], s.jobs[1]);
  return s;
}

TEST(AllocateRepair, MixedShapesNeverOverfillAMachine) {
  // One machine, many small and a few large tasks: the flow counts tasks, so its slot
  // capacity alone could overfill; repair must keep every resource within what is free.
  const Snapshot s = small_and_large_tasks(20, false);
  for (const CostModel m :
       {CostModel::kLoadSpreading, CostModel::kPacking, CostModel::kQuincy, CostModel::kPriority, CostModel::kFgd}) {
    const Allocation a = run(s, m);
    std::int64_t cpu = 0;
    for (const Placement& p : a.placements) cpu += p.task[0] == 's' ? 500 : 4000;
    EXPECT_LE(cpu, 8000) << to_string(m);
    EXPECT_EQ(a.placements.size() + a.unscheduled.size(), 24u) << to_string(m);
    EXPECT_GE(cpu, 7500) << to_string(m) << ": repair should fill what the flow left";
  }
}

TEST(AllocateRepair, SmallerTasksArePackedFirstWhereTheFlowOverfills) {
  // One machine, 16 small tasks that fill it exactly and 4 large ones of half its size
  // (listed first). The flow counts tasks: the machine's capacity is the mean of 2 large
  // and 16 small, 9. Packing prefers the large tasks (higher utilisation after), so the
  // first solve sends 2 large and 7 small: packed large first, the 2 large fill the machine
  // and nothing else fits (2 placed); packed small first, 7 small and 1 large fit and a
  // re-solve adds 1 small (9). Spreading and quincy prefer the small tasks and place all 16.
  const Snapshot s = small_and_large_tasks(16, true);
  EXPECT_GE(run(s, CostModel::kPacking).placements.size(), 9u);
  for (const CostModel m : {CostModel::kLoadSpreading, CostModel::kQuincy}) {
    EXPECT_EQ(run(s, m).placements.size(), 16u) << to_string(m);
  }
}

// A CPU-only machine and a GPU machine of the same size.
Snapshot cpu_and_gpu_machine() {
  Snapshot s;
  s.machines = {machine("cpu", 8000, 8000, 8000, 8000), machine("gpu", 8000, 8000, 8000, 8000)};
  s.machines[1].gpus.push_back(Gpu{0, "A100", 1000});
  return s;
}

TEST(AllocateGpuReserve, TasksWithoutGpusGoToMachinesWithoutGpusFirst) {
  // Without the reserve, spread and quincy would put the CPU task on the empty GPU machine
  // (utilisation after: mean(750, 125, 0) = 291 there against mean(750, 125) = 437), and
  // pack and priority on a GPU machine whose memory is mostly taken (625 against 437);
  // a GPU task arriving later would then find its CPU gone.
  const Task cpu_task = task("c", 6000, 1000);
  for (const CostModel m : {CostModel::kLoadSpreading, CostModel::kPacking, CostModel::kQuincy, CostModel::kPriority}) {
    Snapshot s = cpu_and_gpu_machine();
    if (m == CostModel::kPacking || m == CostModel::kPriority) s.machines[1].free_memory_mib = 1000;
    s.jobs = {job("c", {cpu_task})};
    EXPECT_EQ(where(run(s, m))["c"], "cpu") << to_string(m);
  }
}

TEST(AllocateGpuReserve, TasksWithoutGpusStillGoToGpuMachinesWhenNothingElseHasRoom) {
  Snapshot s = cpu_and_gpu_machine();
  s.machines[0].free_cpu_milli = 1000;
  s.jobs = {job("c", {task("c", 6000, 1000)})};
  for (const CostModel m : {CostModel::kLoadSpreading, CostModel::kPacking, CostModel::kQuincy, CostModel::kPriority}) {
    const Allocation a = run(s, m);
    EXPECT_EQ(where(a)["c"], "gpu") << to_string(m);
  }
}

TEST(AllocateGpuReserve, RunningTasksWithoutGpusAreNotMovedOffGpuMachines) {
  // The reserve steers new tasks only: moving a running task would pay the migration cost
  // with no GPU task waiting for the room.
  Snapshot s = cpu_and_gpu_machine();
  Task r = task("r", 2000, 1000);
  r.state = TaskState::kRunning;
  r.machine = "gpu";
  s.machines[1].free_cpu_milli -= 2000;
  s.machines[1].free_memory_mib -= 1000;
  s.jobs = {job("j", {r})};
  for (const CostModel m : {CostModel::kLoadSpreading, CostModel::kPacking, CostModel::kQuincy, CostModel::kPriority}) {
    const Allocation a = run(s, m);
    EXPECT_TRUE(a.migrations.empty()) << to_string(m);
    ASSERT_EQ(a.kept.size(), 1u) << to_string(m);
  }
}

// Room for one of two tasks: the higher-priority one gets it, although the other's
// placement is a little cheaper (pack: it fills the machine more; fgd: it uses the whole
// GPU, the other leaves 100 milli no task can use). Before U carried priority, the flow
// chose by placement cost alone and the priority-5 task was left out. (alloc places the
// larger GPU share whatever the priorities: priority decides there among equal shares.)
TEST(AllocatePriority, TheHigherPriorityTaskGetsRoomThatIsShort) {
  Snapshot s;
  s.machines = {gpu_machine("g", {1000})};
  s.machines[0].free_cpu_milli = 4000;
  Task big = task("low", 4000, 1000);
  big.gpu_milli = 1000;
  Task small = task("high", 3800, 1000);
  small.gpu_milli = 900;
  s.jobs = {job("low", {big}, 0), job("high", {small}, 5)};
  for (const CostModel m : {CostModel::kLoadSpreading, CostModel::kPacking, CostModel::kFgd}) {
    const Allocation a = run(s, m);
    ASSERT_EQ(a.placements.size(), 1u) << to_string(m);
    EXPECT_EQ(a.placements[0].task, "high") << to_string(m);
  }
}

// Many distinct priorities share ten steps: leaving the top one's task out costs U + 10 steps,
// which keeps every arc within the cost bound validate() guarantees. The middle priority
// gets half of that.
TEST(AllocatePriority, ManyPrioritiesShareTenSteps) {
  Snapshot s;
  s.machines = {gpu_machine("g", {1000})};
  for (int p = 0; p <= 100; ++p) {
    const std::string n = std::to_string(p);  // job and task ids: the priority
    s.jobs.push_back(job(n, {task(n, 100, 100)}, p));
  }
  for (const auto& [model, u, step] : {std::tuple{CostModel::kPacking, std::int64_t{4'000}, std::int64_t{100}},
                                      std::tuple{CostModel::kFgd, std::int64_t{101 * 4096}, std::int64_t{10 * 4096}}}) {
    AllocateOptions o;
    o.cost_model = model;
    o.aggregate = false;  // one node per task: its unscheduled arc carries its own U
    const std::optional<Network> n = allocation_network(s, o);
    ASSERT_TRUE(n.has_value());
    const std::int64_t most = *std::max_element(n->costs().begin(), n->costs().end());
    EXPECT_EQ(most, u + 10 * step) << to_string(model);
    EXPECT_NE(std::find(n->costs().begin(), n->costs().end(), u + 5 * step), n->costs().end()) << to_string(model);
  }
}

TEST(AllocateReasons, NameTheMissingResourceOrConstraint) {
  Snapshot s;
  s.machines = {machine("m", 4000, 4000, 4000, 4000), gpu_machine("g", {1000, 1000}, "V100")};
  Task huge = task("huge", 1000, 1'000'000);
  Task picky = task("picky", 100, 100);
  picky.selector = {{"ssd", "true"}};
  Task model = task("model", 100, 100);
  model.gpus = 1;
  model.gpu_models = {"H100"};
  Task many = task("many", 100, 100);
  many.gpus = 4;
  s.jobs = {job("j", {huge, picky, model, many})};
  const Allocation a = run(s, CostModel::kLoadSpreading);
  std::map<std::string, Unscheduled> by_task;
  for (const Unscheduled& u : a.unscheduled) by_task[u.task] = u;
  ASSERT_EQ(by_task.size(), 4u);
  EXPECT_EQ(by_task["huge"].reason, UnscheduledReason::kNoMachineWithResource);
  EXPECT_NE(by_task["huge"].message.find("memory"), std::string::npos) << by_task["huge"].message;
  EXPECT_EQ(by_task["picky"].reason, UnscheduledReason::kConstraintUnsatisfiable);
  EXPECT_NE(by_task["picky"].message.find("ssd=true"), std::string::npos) << by_task["picky"].message;
  EXPECT_EQ(by_task["model"].reason, UnscheduledReason::kConstraintUnsatisfiable);
  EXPECT_EQ(by_task["many"].reason, UnscheduledReason::kNoMachineWithResource);
  EXPECT_NE(by_task["many"].message.find("4 GPUs"), std::string::npos) << by_task["many"].message;
}

TEST(AllocateReasons, OutbidByHigherPriority) {
  Snapshot s;
  s.machines = {machine("m", 2000, 2000, 2000, 2000)};
  s.jobs = {job("low", {task("l", 2000, 2000)}, 1), job("high", {task("h", 2000, 2000)}, 7)};
  const Allocation a = run(s, CostModel::kPriority);
  ASSERT_EQ(a.placements.size(), 1u);
  EXPECT_EQ(a.placements[0].task, "h");
  ASSERT_EQ(a.unscheduled.size(), 1u);
  EXPECT_EQ(a.unscheduled[0].reason, UnscheduledReason::kOutbidByPriority);
}

TEST(AllocateMigration, MovesOnlyWhenTheGainBeatsTheMigrationCost) {
  // A task running on a 90%-full machine next to an empty one: spreading gains about 400
  // units by moving it (util 950 → 250 minus the machine's own load), more than the
  // migration cost of 300, so it moves; with a migration cost of 2000 it stays.
  Snapshot s;
  s.machines = {machine("full", 4000, 4000, 200, 200), machine("empty", 4000, 4000, 4000, 4000)};
  Task r = task("r", 1000, 1000);
  r.state = TaskState::kRunning;
  r.machine = "full";
  s.jobs = {job("j", {r})};
  AllocateOptions o;
  o.cost_model = CostModel::kLoadSpreading;
  Allocation a = allocate(s, o);
  ASSERT_EQ(a.status, Status::kOptimal);
  ASSERT_EQ(a.migrations.size(), 1u);
  EXPECT_EQ(a.migrations[0].machine, "empty");
  EXPECT_EQ(a.migrations[0].from_machine, "full");
  o.migration_cost = 2000;
  a = allocate(s, o);
  EXPECT_TRUE(a.migrations.empty());
  ASSERT_EQ(a.kept.size(), 1u);
  o.migration_cost = 300;
  o.allow_migration = false;
  a = allocate(s, o);
  EXPECT_TRUE(a.migrations.empty());
}

TEST(AllocateInput, InvalidSnapshotIsRefusedByName) {
  Snapshot s;
  s.machines = {machine("m", 1000, 1000, 1000, 1000)};
  Task t = task("t", 100, 100);
  t.state = TaskState::kRunning;
  t.machine = "ghost";
  s.jobs = {job("j", {t})};
  const Allocation a = allocate(s);
  EXPECT_EQ(a.status, Status::kInvalidInput);
  EXPECT_NE(a.message.find("ghost"), std::string::npos) << a.message;
}

TEST(AllocateInput, CostModelNamesRoundTrip) {
  for (const CostModel m :
       {CostModel::kLoadSpreading, CostModel::kPacking, CostModel::kQuincy, CostModel::kPriority, CostModel::kFgd}) {
    EXPECT_EQ(parse_cost_model(to_string(m)), m);
  }
  EXPECT_FALSE(parse_cost_model("cheapest").has_value());
}

TEST(AllocateJson, CarriesPlacementsGpuIndexesAndReasons) {
  Snapshot s;
  s.version = 17;
  s.machines = {gpu_machine("g", {1000, 1000})};
  Task t = task("t\"1", 1000, 1000);
  t.gpus = 2;
  s.jobs = {job("j", {t, task("too-big", 1'000'000, 1)})};
  const std::string json = allocation_to_json(run(s, CostModel::kPacking));
  EXPECT_NE(json.find("\"snapshot_version\": 17"), std::string::npos);
  EXPECT_NE(json.find("{\"job\": \"j\", \"task\": \"t\\\"1\", \"machine\": \"g\", \"gpus\": [0,1]}"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"reason\": \"no-machine-with-resource\""), std::string::npos) << json;
}

// ---- re-solves ----------------------------------------------------------------------------

// Ten tasks of ten different sizes (1 to 10 cores) on two 40-core machines: all fit. A
// machine's sink arc in the first network holds the mean over its shapes of how many of
// each it may take (each shape has one task), so the first solve places a task or two per
// machine; the re-solves place the rest with the cost model, and none is left to first fit.
TEST(AllocateResolves, MixedSizesTheFirstSolveUnderFillsArePlacedByReSolves) {
  Snapshot s;
  s.machines = {machine("a", 40000, 400000, 40000, 400000), machine("b", 40000, 400000, 40000, 400000)};
  for (int k = 1; k <= 10; ++k) {
    s.jobs.push_back(job("j" + std::to_string(k), {task("t" + std::to_string(k), 1000 * k, 1000)}));
  }
  for (const CostModel model : {CostModel::kLoadSpreading, CostModel::kPacking, CostModel::kQuincy,
                                CostModel::kPriority, CostModel::kFgd, CostModel::kAlloc}) {
    SCOPED_TRACE(std::string(to_string(model)));
    const Allocation a = run(s, model);
    EXPECT_EQ(a.placements.size(), 10u);
    EXPECT_EQ(a.stats.placed_by_fallback, 0);
    EXPECT_GT(a.stats.placed_by_resolve, 0);
    EXPECT_GT(a.stats.resolves, 0);
    EXPECT_EQ(a.stats.placed_by_flow + a.stats.placed_by_resolve, 10);

    // Without re-solves the first solve leaves tasks to the fallback: the case is one the
    // mean capacity under-fills.
    AllocateOptions once;
    once.cost_model = model;
    once.solve.backend = Backend::kCpu;
    once.max_resolves = 0;
    const Allocation b = allocate(s, once);
    ASSERT_EQ(b.status, Status::kOptimal) << b.message;
    EXPECT_EQ(b.placements.size(), 10u);
    EXPECT_GT(b.stats.placed_by_fallback, 0);
    EXPECT_EQ(b.stats.resolves, 0);
  }
}

// fgd and alloc give a machine one new task per solve (its cost is only exact for the
// first): two half-GPU tasks on a cluster with one machine are placed over two solves, the
// second priced on the machine as the first left it, and FGD's device choice puts it on the
// half-used GPU (a whole free GPU stays for whole-GPU tasks, the workload given).
TEST(AllocateResolves, WanderingCostsPlaceOneTaskPerMachinePerSolve) {
  Snapshot s;
  Machine m = machine("g0", 16000, 64000, 16000, 64000);
  for (int g = 0; g < 2; ++g) m.gpus.push_back(Gpu{g, "T4", kGpuMilliWhole});
  s.machines = {m};
  Task half = task("h0", 1000, 1000);
  half.gpu_milli = 500;
  Task other = half;
  other.id = "h1";
  s.jobs = {job("j", {half, other})};
  for (const CostModel model : {CostModel::kFgd, CostModel::kAlloc}) {
    SCOPED_TRACE(std::string(to_string(model)));
    AllocateOptions o;
    o.cost_model = model;
    o.solve.backend = Backend::kCpu;
    o.workload = {WorkloadSpec{1000, 0, 1, 0, {}, 1.0}};  // whole-GPU tasks
    const Allocation a = allocate(s, o);
    ASSERT_EQ(a.status, Status::kOptimal) << a.message;
    ASSERT_EQ(a.placements.size(), 2u);
    EXPECT_EQ(a.stats.placed_by_flow, 1);
    EXPECT_EQ(a.stats.placed_by_resolve, 1);
    EXPECT_EQ(a.placements[0].gpu_indexes, a.placements[1].gpu_indexes);
    // With no limit, both come from the first solve, priced alike.
    o.new_tasks_per_machine = -1;
    const Allocation b = allocate(s, o);
    ASSERT_EQ(b.placements.size(), 2u);
    EXPECT_EQ(b.stats.placed_by_flow, 2);
  }
}

// ---- cancellation --------------------------------------------------------------------------

// A deadline or drain raised before or during allocate() stops it in the step it is in, not
// after the network is built: the status says cancelled and the message names the step.
TEST(AllocateCancel, EveryStepLooksAtTheFlag) {
  Snapshot s;
  for (int m = 0; m < 50; ++m) s.machines.push_back(machine("m" + std::to_string(m), 8000, 8000, 8000, 8000));
  std::vector<Task> tasks;
  for (int t = 0; t < 200; ++t) tasks.push_back(task("t" + std::to_string(t), 500 + 10 * (t % 7), 500));
  s.jobs = {job("j", tasks)};
  std::atomic<bool> cancel{true};
  AllocateOptions o;
  o.solve.cancel = &cancel;
  const Allocation a = allocate(s, o);
  EXPECT_EQ(a.status, Status::kCancelled);
  EXPECT_EQ(a.message, "cancelled during index");
  EXPECT_TRUE(a.placements.empty());
  const IndexedAllocation i = allocate_indexed(s, o);
  EXPECT_EQ(i.summary.status, Status::kCancelled);
  EXPECT_EQ(i.placements.size(), 0u);
  cancel = false;
  EXPECT_EQ(allocate(s, o).status, Status::kOptimal);
}

}  // namespace
}  // namespace sluice
