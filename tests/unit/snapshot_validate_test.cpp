// Snapshot validation: a valid snapshot passes; each single corruption is rejected with a
// message that names the offending record.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "sluice/snapshot.hpp"

namespace {

using sluice::Gpu;
using sluice::Job;
using sluice::Machine;
using sluice::Snapshot;
using sluice::Task;
using sluice::TaskState;

Snapshot base_snapshot() {
  Snapshot s;
  s.version = 7;
  s.time = 100;
  for (int i = 0; i < 4; ++i) {
    Machine m;
    m.id = "m" + std::to_string(i);
    m.rack = i < 2 ? "r0" : "r1";
    m.cpu_milli = 32000;
    m.memory_mib = 131072;
    m.free_cpu_milli = 16000;
    m.free_memory_mib = 65536;
    if (i == 3) {
      for (int g = 0; g < 4; ++g) m.gpus.push_back(Gpu{g, "V100", g == 0 ? 500 : 1000});
    }
    m.extra_capacity["ssd_gib"] = 100;
    m.extra_free["ssd_gib"] = 40;
    m.labels["arch"] = "x86";
    s.machines.push_back(m);
  }
  Job job;
  job.id = "j0";
  job.priority = 5;
  Task pending;
  pending.id = "t0";
  pending.cpu_milli = 1000;
  pending.memory_mib = 2048;
  pending.gpu_milli = 300;
  pending.gpu_models = {"V100"};
  pending.selector["arch"] = "x86";
  pending.preferred_machines = {{"m1", 10}};
  pending.preferred_racks = {{"r1", 5}};
  job.tasks.push_back(pending);
  Task running;
  running.id = "t1";
  running.cpu_milli = 2000;
  running.gpus = 2;
  running.state = TaskState::kRunning;
  running.machine = "m3";
  running.gpu_indexes = {1, 2};
  job.tasks.push_back(running);
  s.jobs.push_back(job);
  return s;
}

struct Corruption {
  const char* name;
  std::function<void(Snapshot&)> apply;
  const char* expected;  // a fragment of the message
};

TEST(SnapshotValidate, BaseSnapshotIsValid) {
  const auto v = sluice::validate(base_snapshot());
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(base_snapshot().task_count(), 2u);
}

TEST(SnapshotValidate, EachCorruptionIsNamed) {
  const std::vector<Corruption> cases = {
      {"duplicate machine", [](Snapshot& s) { s.machines[2].id = "m0"; }, "machines[2] 'm0': duplicate machine id (first at machines[0])"},
      {"empty machine id", [](Snapshot& s) { s.machines[1].id.clear(); }, "machines[1]: empty id"},
      {"negative capacity", [](Snapshot& s) { s.machines[0].cpu_milli = -1; }, "machines[0] 'm0': negative capacity"},
      {"free above capacity", [](Snapshot& s) { s.machines[1].free_cpu_milli = 40000; }, "machines[1] 'm1': free_cpu_milli 40000 outside"},
      {"negative free memory", [](Snapshot& s) { s.machines[1].free_memory_mib = -5; }, "free_memory_mib -5 outside"},
      {"duplicate GPU index", [](Snapshot& s) { s.machines[3].gpus[2].index = 0; }, "machines[3] 'm3'.gpus[2]: duplicate GPU index 0"},
      {"negative GPU index", [](Snapshot& s) { s.machines[3].gpus[1].index = -3; }, "negative index -3"},
      {"GPU share above 1000", [](Snapshot& s) { s.machines[3].gpus[0].free_milli = 1001; }, "free_milli 1001 outside [0, 1000]"},
      {"extra free without capacity", [](Snapshot& s) { s.machines[0].extra_free["nvme"] = 1; }, "free amount of 'nvme' without a capacity"},
      {"extra free above capacity", [](Snapshot& s) { s.machines[0].extra_free["ssd_gib"] = 101; }, "free 'ssd_gib' 101 outside [0, 100]"},
      {"duplicate job", [](Snapshot& s) { s.jobs.push_back(s.jobs[0]); }, "jobs[1] 'j0': duplicate job id"},
      {"duplicate task across jobs",
       [](Snapshot& s) {
         Job other = s.jobs[0];
         other.id = "j1";
         s.jobs.push_back(other);
       },
       "jobs[1].tasks[0] 't0': duplicate task id (first at jobs[0].tasks[0] 't0')"},
      {"empty task id", [](Snapshot& s) { s.jobs[0].tasks[0].id.clear(); }, "jobs[0].tasks[0]: empty id"},
      {"negative demand", [](Snapshot& s) { s.jobs[0].tasks[0].memory_mib = -1; }, "jobs[0].tasks[0] 't0': negative demand"},
      {"task GPU share above 1000", [](Snapshot& s) { s.jobs[0].tasks[0].gpu_milli = 1500; }, "gpu_milli 1500 outside [0, 1000]"},
      {"share and whole GPUs", [](Snapshot& s) { s.jobs[0].tasks[0].gpus = 1; }, "whole GPUs and a GPU share at once"},
      {"too many GPUs", [](Snapshot& s) { s.jobs[0].tasks[0].gpus = 5000; }, "gpus 5000 outside"},
      {"negative extra demand", [](Snapshot& s) { s.jobs[0].tasks[0].extra["ssd_gib"] = -2; }, "negative demand of 'ssd_gib'"},
      {"unknown preferred machine", [](Snapshot& s) { s.jobs[0].tasks[0].preferred_machines[0].target = "m9"; }, "prefers unknown machine 'm9'"},
      {"unknown preferred rack", [](Snapshot& s) { s.jobs[0].tasks[0].preferred_racks[0].target = "r7"; }, "prefers unknown rack 'r7'"},
      {"negative weight", [](Snapshot& s) { s.jobs[0].tasks[0].preferred_machines[0].weight = -1; }, "negative preference weight"},
      {"pending with machine", [](Snapshot& s) { s.jobs[0].tasks[0].machine = "m0"; }, "pending but names a machine"},
      {"running on unknown machine", [](Snapshot& s) { s.jobs[0].tasks[1].machine = "nowhere"; }, "jobs[0].tasks[1] 't1': running on unknown machine 'nowhere'"},
      {"running with wrong GPU count", [](Snapshot& s) { s.jobs[0].tasks[1].gpu_indexes = {1}; }, "holds 1 GPU indexes but needs 2"},
      {"running on missing GPU", [](Snapshot& s) { s.jobs[0].tasks[1].gpu_indexes = {1, 9}; }, "holds GPU 9 that machine 'm3' lacks"},
      {"running on one GPU twice", [](Snapshot& s) { s.jobs[0].tasks[1].gpu_indexes = {2, 2}; }, "holds GPU 2 twice"},
      {"id too long", [](Snapshot& s) { s.machines[0].id = std::string(5000, 'x'); }, "too long"},
      // Cost inputs have documented ranges (docs/snapshot.md#ranges).
      {"huge preference weight", [](Snapshot& s) { s.jobs[0].tasks[0].preferred_machines[0].weight = std::int64_t{1} << 46; },
       "jobs[0].tasks[0] 't0': preference weight 70368744177664 for machine 'm1' brings the task's weights past "
       "max_preference_weight (1000000)"},
      {"weights summing past the limit",
       [](Snapshot& s) {
         s.jobs[0].tasks[0].preferred_machines[0].weight = 600'000;
         s.jobs[0].tasks[0].preferred_racks[0].weight = 400'001;
       },
       "jobs[0].tasks[0] 't0': preference weight 400001 for rack 'r1' brings the task's weights past"},
      {"one machine preferred twice past the limit",
       [](Snapshot& s) {
         s.jobs[0].tasks[0].preferred_machines = {{"m1", 700'000}, {"m1", 700'000}};
       },
       "preference weight 700000 for machine 'm1' brings"},
      {"machine CPU past 2^50", [](Snapshot& s) { s.machines[1].cpu_milli = (std::int64_t{1} << 50) + 1; },
       "machines[1] 'm1': cpu_milli 1125899906842625 is above 2^50"},
      {"machine memory past 2^50", [](Snapshot& s) { s.machines[2].memory_mib = std::numeric_limits<std::int64_t>::max(); },
       "machines[2] 'm2': memory_mib 9223372036854775807 is above 2^50"},
      {"extra capacity past 2^50",
       [](Snapshot& s) { s.machines[0].extra_capacity["ssd_gib"] = std::numeric_limits<std::int64_t>::max(); },
       "machines[0] 'm0': capacity of 'ssd_gib' 9223372036854775807 is above 2^50"},
      {"task CPU past 2^50", [](Snapshot& s) { s.jobs[0].tasks[1].cpu_milli = std::int64_t{1} << 62; },
       "jobs[0].tasks[1] 't1': cpu_milli 4611686018427387904 is above 2^50"},
      {"task memory past 2^50", [](Snapshot& s) { s.jobs[0].tasks[0].memory_mib = std::int64_t{1} << 51; },
       "jobs[0].tasks[0] 't0': memory_mib 2251799813685248 is above 2^50"},
      {"extra demand past 2^50",
       [](Snapshot& s) { s.jobs[0].tasks[0].extra["ssd_gib"] = std::int64_t{1} << 60; },
       "jobs[0].tasks[0] 't0': demand of 'ssd_gib' 1152921504606846976 is above 2^50"},
      {"submit time past 2^62", [](Snapshot& s) { s.jobs[0].submit_time = std::numeric_limits<std::int64_t>::min(); },
       "jobs[0] 'j0': submit_time -9223372036854775808 is outside ±2^62"},
      {"clock past 2^62", [](Snapshot& s) { s.time = std::numeric_limits<std::int64_t>::max(); },
       "time 9223372036854775807 is outside ±2^62"},
  };
  for (const Corruption& c : cases) {
    SCOPED_TRACE(c.name);
    Snapshot s = base_snapshot();
    c.apply(s);
    const auto v = sluice::validate(s);
    EXPECT_FALSE(v.ok());
    EXPECT_EQ(v.status, sluice::Status::kInvalidInput);
    EXPECT_NE(v.message.find(c.expected), std::string::npos) << "message: " << v.message;
  }
}

TEST(SnapshotValidate, LimitsRefuseOversizedSnapshots) {
  Snapshot s = base_snapshot();
  sluice::SnapshotLimits limits;
  limits.max_machines = 3;
  auto v = sluice::validate(s, limits);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(v.message.find("snapshot too large: 4 machines (limit 3)"), std::string::npos) << v.message;
  limits = {};
  limits.max_tasks = 1;
  v = sluice::validate(s, limits);
  EXPECT_NE(v.message.find("snapshot too large: 2 tasks (limit 1)"), std::string::npos) << v.message;
  limits = {};
  limits.max_gpus_per_machine = 2;
  v = sluice::validate(s, limits);
  EXPECT_NE(v.message.find("4 GPUs (limit 2)"), std::string::npos) << v.message;
}

// The ranges' edges are valid.
TEST(SnapshotValidate, RangeEdgesAreValid) {
  Snapshot s = base_snapshot();
  s.jobs[0].tasks[0].preferred_machines[0].weight = 600'000;
  s.jobs[0].tasks[0].preferred_racks[0].weight = 400'000;  // together exactly 10^6
  s.machines[0].cpu_milli = s.machines[0].free_cpu_milli = std::int64_t{1} << 50;
  s.jobs[0].tasks[1].memory_mib = std::int64_t{1} << 50;
  s.time = std::int64_t{1} << 62;
  s.jobs[0].submit_time = -(std::int64_t{1} << 62);
  const auto v = sluice::validate(s);
  EXPECT_TRUE(v.ok()) << v.message;
}

TEST(SnapshotValidate, JobCountIsCapped) {
  Snapshot s = base_snapshot();
  for (int j = 1; j < 5; ++j) s.jobs.push_back(Job{"j" + std::to_string(j), 0, 0, {}});
  sluice::SnapshotLimits limits;
  EXPECT_EQ(limits.max_jobs, 1'000'000);
  limits.max_jobs = 4;
  const auto v = sluice::validate(s, limits);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(v.message.find("snapshot too large: 5 jobs (limit 4)"), std::string::npos) << v.message;
  limits.max_jobs = 5;
  EXPECT_TRUE(sluice::validate(s, limits).ok());
}

// Limits raised past what the solver's 64-bit costs can carry: validate() refuses the
// snapshot with the figures, instead of letting the solve fail (cost-overflow) later.
TEST(SnapshotValidate, CostRangeThatWouldNotFitTheSolverIsRefused) {
  Snapshot s = base_snapshot();
  sluice::SnapshotLimits limits;
  limits.max_preference_weight = std::int64_t{1} << 58;
  s.jobs[0].tasks[0].preferred_machines[0].weight = std::int64_t{1} << 55;  // about 2^55 · 16 nodes < 2^60
  s.jobs[0].tasks[0].preferred_racks[0].weight = 0;
  auto v = sluice::validate(s, limits);
  EXPECT_TRUE(v.ok()) << v.message;
  s.jobs[0].tasks[0].preferred_machines[0].weight = std::int64_t{1} << 57;
  v = sluice::validate(s, limits);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(v.message.find("snapshot too large for the solver's 64-bit costs: 4 machines, 1 jobs with 1 distinct "
                           "priorities, 2 tasks and preference weights up to "
                           "144115188075855872 per task"),
            std::string::npos)
      << v.message;
}

TEST(SnapshotValidate, EmptySnapshotIsValid) {
  EXPECT_TRUE(sluice::validate(Snapshot{}).ok());
}

}  // namespace
