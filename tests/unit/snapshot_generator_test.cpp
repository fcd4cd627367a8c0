// The synthetic snapshot generator: deterministic, always valid, resources consistent with
// the running tasks it places, and job sizes heavy-tailed.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>
#include <string>

#include "sluice/snapshot_generator.hpp"

namespace {

using sluice::SnapshotGenParams;
using sluice::TaskState;

bool same(const sluice::Snapshot& a, const sluice::Snapshot& b) {
  if (a.machines.size() != b.machines.size() || a.jobs.size() != b.jobs.size()) return false;
  for (std::size_t i = 0; i < a.machines.size(); ++i) {
    const auto& x = a.machines[i];
    const auto& y = b.machines[i];
    if (x.id != y.id || x.rack != y.rack || x.free_cpu_milli != y.free_cpu_milli || x.gpus.size() != y.gpus.size() ||
        x.labels != y.labels)
      return false;
  }
  for (std::size_t j = 0; j < a.jobs.size(); ++j) {
    const auto& x = a.jobs[j];
    const auto& y = b.jobs[j];
    if (x.id != y.id || x.priority != y.priority || x.tasks.size() != y.tasks.size()) return false;
    for (std::size_t t = 0; t < x.tasks.size(); ++t) {
      const auto& p = x.tasks[t];
      const auto& q = y.tasks[t];
      if (p.id != q.id || p.cpu_milli != q.cpu_milli || p.gpus != q.gpus || p.gpu_milli != q.gpu_milli ||
          p.machine != q.machine || p.gpu_indexes != q.gpu_indexes || p.selector != q.selector)
        return false;
    }
  }
  return true;
}

TEST(SnapshotGenerator, SameSeedSameSnapshotOtherSeedDifferent) {
  SnapshotGenParams p;
  p.machines = 200;
  p.tasks = 3000;
  p.running_share = 0.3;
  p.seed = 11;
  EXPECT_TRUE(same(sluice::generate_snapshot(p), sluice::generate_snapshot(p)));
  SnapshotGenParams q = p;
  q.seed = 12;
  EXPECT_FALSE(same(sluice::generate_snapshot(p), sluice::generate_snapshot(q)));
}

TEST(SnapshotGenerator, ValidAcrossSeedsAndSizes) {
  for (const auto& [machines, tasks] : std::vector<std::pair<int, long>>{{10, 50}, {120, 2000}, {1000, 12000}}) {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      for (const double running : {0.0, 0.5}) {
        SnapshotGenParams p;
        p.machines = machines;
        p.tasks = tasks;
        p.seed = seed;
        p.running_share = running;
        const auto s = sluice::generate_snapshot(p);
        SCOPED_TRACE("machines " + std::to_string(machines) + " seed " + std::to_string(seed) + " running " +
                     std::to_string(running));
        const auto v = sluice::validate(s);
        ASSERT_TRUE(v.ok()) << v.message;
        EXPECT_EQ(s.machines.size(), static_cast<std::size_t>(machines));
        EXPECT_EQ(s.task_count(), static_cast<std::size_t>(tasks));
      }
    }
  }
}

TEST(SnapshotGenerator, RunningTasksAccountForTheResourcesTheyHold) {
  SnapshotGenParams p;
  p.machines = 300;
  p.tasks = 8000;
  p.running_share = 0.6;
  p.seed = 5;
  const auto s = sluice::generate_snapshot(p);
  std::map<std::string, std::int64_t> cpu, mem;
  std::map<std::pair<std::string, int>, std::int64_t> gpu_used;
  std::size_t running = 0;
  for (const auto& job : s.jobs) {
    for (const auto& t : job.tasks) {
      if (t.state != TaskState::kRunning) continue;
      ++running;
      cpu[t.machine] += t.cpu_milli;
      mem[t.machine] += t.memory_mib;
      for (const int g : t.gpu_indexes) gpu_used[{t.machine, g}] += t.gpus > 0 ? 1000 : t.gpu_milli;
    }
  }
  EXPECT_GT(running, 1000u);
  for (const auto& m : s.machines) {
    EXPECT_EQ(m.free_cpu_milli + cpu[m.id], m.cpu_milli) << m.id;
    EXPECT_EQ(m.free_memory_mib + mem[m.id], m.memory_mib) << m.id;
    for (const auto& g : m.gpus) {
      const std::int64_t used = gpu_used[std::make_pair(m.id, g.index)];
      EXPECT_EQ(g.free_milli + used, 1000) << m.id << " gpu " << g.index;
    }
  }
}

TEST(SnapshotGenerator, HeavyTailedJobsWithConstraintsAndPreferences) {
  SnapshotGenParams p;
  p.machines = 2000;
  p.tasks = 100000;
  p.seed = 3;
  const auto s = sluice::generate_snapshot(p);
  std::size_t largest = 0, single = 0, constrained = 0, preferring = 0, gpu_jobs = 0;
  for (const auto& job : s.jobs) {
    largest = std::max(largest, job.tasks.size());
    single += job.tasks.size() == 1;
    const auto& t = job.tasks.front();
    constrained += !t.selector.empty() || !t.gpu_models.empty();
    preferring += !t.preferred_machines.empty();
    gpu_jobs += t.gpus > 0 || t.gpu_milli > 0;
  }
  EXPECT_GT(largest, 500u);                  // a few very large jobs
  EXPECT_GT(single * 3, s.jobs.size());      // and many singletons
  const double n = static_cast<double>(s.jobs.size());
  EXPECT_NEAR(constrained / n, 0.1, 0.05);
  EXPECT_NEAR(preferring / n, 0.3, 0.07);
  EXPECT_NEAR(gpu_jobs / n, 0.3, 0.07);
  std::size_t gpu_machines = 0;
  for (const auto& m : s.machines) gpu_machines += !m.gpus.empty();
  EXPECT_NEAR(gpu_machines / 2000.0, 0.25, 0.05);
}

}  // namespace

namespace sluice {
namespace {

TEST(SnapshotGenerator, ShapeCatalogueBoundsDistinctShapes) {
  SnapshotGenParams p;
  p.machines = 200;
  p.tasks = 20000;
  p.shape_catalogue = 25;
  p.seed = 11;
  const Snapshot s = generate_snapshot(p);
  ASSERT_TRUE(validate(s).ok()) << validate(s).message;
  std::set<std::tuple<std::int64_t, std::int64_t, std::int32_t, std::int32_t, std::size_t, std::size_t>> shapes;
  for (const Job& j : s.jobs) {
    for (const Task& t : j.tasks) {
      shapes.emplace(t.cpu_milli, t.memory_mib, t.gpus, t.gpu_milli, t.selector.size(), t.preferred_machines.size());
    }
  }
  EXPECT_LE(shapes.size(), 25u);
  EXPECT_GT(s.jobs.size(), 25u);  // so shapes repeat across jobs
  // Without a catalogue, jobs draw their own shapes: many more distinct ones.
  p.shape_catalogue = 0;
  const Snapshot free_form = generate_snapshot(p);
  shapes.clear();
  for (const Job& j : free_form.jobs) {
    for (const Task& t : j.tasks) {
      shapes.emplace(t.cpu_milli, t.memory_mib, t.gpus, t.gpu_milli, t.selector.size(), t.preferred_machines.size());
    }
  }
  EXPECT_GT(shapes.size(), 100u);
}

}  // namespace
}  // namespace sluice
