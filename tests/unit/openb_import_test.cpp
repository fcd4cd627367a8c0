// openb importer: the published trace and its samples import whole and valid, the mapping
// rules hold on known rows, both modes agree with counts computed here straight from the
// CSV, and malformed files end in a located error, never a crash.
#include "sluice/openb.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/snapshot.hpp"

namespace sluice {
namespace {

const std::string kDataDir = std::string(SLUICE_TEST_DATA_DIR) + "/openb";
const std::string kNodes = kDataDir + "/openb_node_list_all_node.csv";

std::string pods_file(const std::string& sample) { return kDataDir + "/openb_pod_list_" + sample + ".csv"; }

std::vector<std::vector<std::string>> read_rows(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, ',')) fields.push_back(field);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    rows.push_back(fields);
  }
  return rows;
}

// The pod CSV read independently of the importer: name, creation, deletion (0 = never).
struct PodTimes {
  std::string name;
  std::int64_t creation = 0;
  std::int64_t deletion = 0;
};

std::vector<PodTimes> read_pod_times(const std::string& path) {
  std::vector<PodTimes> out;
  for (const auto& row : read_rows(path)) {
    PodTimes p;
    p.name = row.at(0);
    if (row.size() > 9) {
      p.creation = std::stoll(row.at(8));
      p.deletion = row.at(9).empty() ? 0 : std::stoll(row.at(9));
    }
    out.push_back(p);
  }
  return out;
}

const Job* find_job(const Snapshot& s, const std::string& id) {
  for (const Job& job : s.jobs) {
    if (job.id == id) return &job;
  }
  return nullptr;
}

OpenbImportResult import_default(const OpenbImportOptions& options = {}) {
  return import_openb(kNodes, pods_file("default"), options);
}

// ---- the published trace ----------------------------------------------------------------

TEST(OpenbImport, FullDefaultTrace) {
  const OpenbImportResult r = import_default();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.snapshot.machines.size(), 1523u);
  EXPECT_EQ(r.snapshot.jobs.size(), 8152u);
  EXPECT_EQ(r.snapshot.task_count(), 8152u);
  EXPECT_EQ(r.snapshot.version, 1);
  EXPECT_EQ(r.snapshot.time, 0);
  const Validation v = validate(r.snapshot);
  EXPECT_TRUE(v.ok()) << v.message;
  for (const Job& job : r.snapshot.jobs) {
    ASSERT_EQ(job.tasks.size(), 1u);
    EXPECT_EQ(job.tasks[0].id, job.id);
    EXPECT_EQ(job.tasks[0].state, TaskState::kPending);
  }
}

TEST(OpenbImport, GpuTotalsMatchNodeCsv) {
  std::int64_t csv_gpus = 0;
  std::int64_t csv_cpu = 0;
  for (const auto& row : read_rows(kNodes)) {
    csv_cpu += std::stoll(row.at(1));
    csv_gpus += std::stoll(row.at(3));
  }
  const OpenbImportResult r = import_default();
  ASSERT_TRUE(r.ok) << r.error;
  std::int64_t gpus = 0;
  std::int64_t cpu = 0;
  std::map<std::string, std::int64_t> per_model;
  for (const Machine& m : r.snapshot.machines) {
    gpus += static_cast<std::int64_t>(m.gpus.size());
    cpu += m.cpu_milli;
    EXPECT_EQ(m.free_cpu_milli, m.cpu_milli);
    EXPECT_EQ(m.free_memory_mib, m.memory_mib);
    EXPECT_TRUE(m.zone.empty());
    for (std::size_t g = 0; g < m.gpus.size(); ++g) {
      EXPECT_EQ(m.gpus[g].index, static_cast<std::int32_t>(g));
      EXPECT_EQ(m.gpus[g].free_milli, kGpuMilliWhole);
      ++per_model[m.gpus[g].model];
    }
  }
  EXPECT_EQ(gpus, csv_gpus);
  EXPECT_EQ(gpus, 6212);
  EXPECT_EQ(cpu, csv_cpu);
  const std::map<std::string, std::int64_t> expected = {{"A10", 2},     {"G2", 4392},      {"G3", 312},
                                                        {"P100", 265},  {"T4", 842},       {"V100M16", 195},
                                                        {"V100M32", 204}};
  EXPECT_EQ(per_model, expected);
}

TEST(OpenbImport, NodeRowsAndRacks) {
  OpenbImportOptions options;
  const OpenbImportResult r = import_default(options);
  ASSERT_TRUE(r.ok) << r.error;
  const auto& ms = r.snapshot.machines;
  EXPECT_EQ(ms[0].id, "openb-node-0000");
  EXPECT_EQ(ms[0].cpu_milli, 32000);
  EXPECT_EQ(ms[0].memory_mib, 262144);
  EXPECT_TRUE(ms[0].gpus.empty());
  EXPECT_EQ(ms[0].rack, "rack-0000");
  EXPECT_EQ(ms[39].rack, "rack-0000");
  EXPECT_EQ(ms[40].rack, "rack-0001");
  EXPECT_EQ(ms[1522].rack, "rack-0038");
  // Row 999 (line 1000): openb-node-0998,104000,524288,2,T4
  EXPECT_EQ(ms[998].id, "openb-node-0998");
  EXPECT_EQ(ms[998].cpu_milli, 104000);
  ASSERT_EQ(ms[998].gpus.size(), 2u);
  EXPECT_EQ(ms[998].gpus[1].model, "T4");

  options.machines_per_rack = 1;
  const OpenbImportResult one = import_default(options);
  ASSERT_TRUE(one.ok) << one.error;
  EXPECT_EQ(one.snapshot.machines[1522].rack, "rack-1522");
}

TEST(OpenbImport, EverySampleImports) {
  const std::map<std::string, std::size_t> samples = {
      {"cpu050", 7439}, {"default", 8152}, {"gpushare40", 8152}, {"gpuspec10", 8152}, {"multigpu20", 8324}};
  for (const auto& [sample, pods] : samples) {
    SCOPED_TRACE(sample);
    const OpenbImportResult r = import_openb(kNodes, pods_file(sample));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.snapshot.machines.size(), 1523u);
    EXPECT_EQ(r.snapshot.task_count(), pods);
    const Validation v = validate(r.snapshot);
    EXPECT_TRUE(v.ok()) << v.message;
  }
}

TEST(OpenbImport, PendingQueueIsStableCreationOrder) {
  // gpushare40 is not sorted in the file and has many equal creation times.
  for (const std::string sample : {"gpushare40", "cpu050", "default"}) {
    SCOPED_TRACE(sample);
    std::vector<PodTimes> pods = read_pod_times(pods_file(sample));
    std::stable_sort(pods.begin(), pods.end(),
                     [](const PodTimes& a, const PodTimes& b) { return a.creation < b.creation; });
    const OpenbImportResult r = import_openb(kNodes, pods_file(sample));
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_EQ(r.snapshot.jobs.size(), pods.size());
    for (std::size_t i = 0; i < pods.size(); ++i) {
      ASSERT_EQ(r.snapshot.jobs[i].id, pods[i].name) << "position " << i;
      ASSERT_EQ(r.snapshot.jobs[i].submit_time, pods[i].creation) << "position " << i;
    }
  }
  // Among the earliest in gpushare40: creation 0 first, then 427061.
  const OpenbImportResult r = import_openb(kNodes, pods_file("gpushare40"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.snapshot.jobs[0].id, "openb-pod-8073");
  EXPECT_EQ(r.snapshot.jobs[1].id, "openb-pod-3284");
}

TEST(OpenbImport, AliveAtMatchesDirectCount) {
  for (const std::string sample : {"default", "gpushare40"}) {
    const std::vector<PodTimes> pods = read_pod_times(pods_file(sample));
    for (const std::int64_t t : {std::int64_t{-1}, std::int64_t{0}, std::int64_t{5'000'000}, std::int64_t{9'964'972},
                                 std::int64_t{10'000'000}, std::int64_t{12'000'000}, std::int64_t{12'902'959},
                                 std::int64_t{12'902'960}}) {
      SCOPED_TRACE(sample + " at " + std::to_string(t));
      std::vector<PodTimes> alive;
      for (const PodTimes& p : pods) {
        const bool never = p.deletion == 0;
        if (p.creation <= t && (never || t < p.deletion)) alive.push_back(p);
      }
      std::stable_sort(alive.begin(), alive.end(),
                       [](const PodTimes& a, const PodTimes& b) { return a.creation < b.creation; });
      OpenbImportOptions options;
      options.mode = OpenbImportOptions::Mode::kAliveAt;
      options.at_time = t;
      const OpenbImportResult r = import_openb(kNodes, pods_file(sample), options);
      ASSERT_TRUE(r.ok) << r.error;
      EXPECT_EQ(r.snapshot.time, t);
      ASSERT_EQ(r.snapshot.jobs.size(), alive.size());
      for (std::size_t i = 0; i < alive.size(); ++i) ASSERT_EQ(r.snapshot.jobs[i].id, alive[i].name);
    }
  }
  // A sanity anchor: the last deletion in the trace is 12902960, so nothing is alive then.
  OpenbImportOptions options;
  options.mode = OpenbImportOptions::Mode::kAliveAt;
  options.at_time = 12'902'960;
  const OpenbImportResult r = import_default(options);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.snapshot.jobs.empty());
  options.at_time = 12'000'000;
  EXPECT_GT(import_default(options).snapshot.jobs.size(), 0u);
}

TEST(OpenbImport, GpuShareVersusWholeGpu) {
  const OpenbImportResult r = import_default();
  ASSERT_TRUE(r.ok) << r.error;
  // openb-pod-0000,12000,16384,1,1000,,LS,...: one whole GPU, latency sensitive.
  const Job* whole = find_job(r.snapshot, "openb-pod-0000");
  ASSERT_NE(whole, nullptr);
  EXPECT_EQ(whole->priority, 2);
  EXPECT_EQ(whole->submit_time, 0);
  EXPECT_EQ(whole->tasks[0].cpu_milli, 12000);
  EXPECT_EQ(whole->tasks[0].memory_mib, 16384);
  EXPECT_EQ(whole->tasks[0].gpus, 1);
  EXPECT_EQ(whole->tasks[0].gpu_milli, 0);
  // openb-pod-0001,6000,12288,1,460,...: a 460/1000 share.
  const Job* share = find_job(r.snapshot, "openb-pod-0001");
  ASSERT_NE(share, nullptr);
  EXPECT_EQ(share->tasks[0].gpus, 0);
  EXPECT_EQ(share->tasks[0].gpu_milli, 460);
  EXPECT_EQ(share->submit_time, 427061);
  // openb-pod-0017,88000,327680,8,1000,,Burstable,...: eight whole GPUs.
  const Job* multi = find_job(r.snapshot, "openb-pod-0017");
  ASSERT_NE(multi, nullptr);
  EXPECT_EQ(multi->tasks[0].gpus, 8);
  EXPECT_EQ(multi->tasks[0].gpu_milli, 0);
  EXPECT_EQ(multi->priority, 1);
  // openb-pod-0005,20000,65536,0,0,,LS,...: CPU only.
  const Job* cpu = find_job(r.snapshot, "openb-pod-0005");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->tasks[0].gpus, 0);
  EXPECT_EQ(cpu->tasks[0].gpu_milli, 0);
  EXPECT_TRUE(cpu->tasks[0].gpu_models.empty());
  // openb-pod-0022,4000,15258,1,220,,BE,...: best effort share.
  const Job* be = find_job(r.snapshot, "openb-pod-0022");
  ASSERT_NE(be, nullptr);
  EXPECT_EQ(be->priority, 0);
  EXPECT_EQ(be->tasks[0].gpu_milli, 220);
  // openb-pod-0129,...,Guaranteed,...: highest priority.
  const Job* guaranteed = find_job(r.snapshot, "openb-pod-0129");
  ASSERT_NE(guaranteed, nullptr);
  EXPECT_EQ(guaranteed->priority, 3);
}

TEST(OpenbImport, GpuSpecSplit) {
  const OpenbImportResult r = import_openb(kNodes, pods_file("gpuspec10"));
  ASSERT_TRUE(r.ok) << r.error;
  // "V100M16|V100M32|V100M32": the repeat is dropped.
  const Job* two = find_job(r.snapshot, "openb-pod-0031");
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(two->tasks[0].gpu_models, (std::vector<std::string>{"V100M16", "V100M32"}));
  const Job* t4 = find_job(r.snapshot, "openb-pod-0008");
  ASSERT_NE(t4, nullptr);
  EXPECT_EQ(t4->tasks[0].gpu_models, (std::vector<std::string>{"T4"}));
  const Job* any = find_job(r.snapshot, "openb-pod-0000");
  ASSERT_NE(any, nullptr);
  EXPECT_TRUE(any->tasks[0].gpu_models.empty());
  std::size_t constrained = 0;
  for (const Job& job : r.snapshot.jobs) constrained += job.tasks[0].gpu_models.empty() ? 0u : 1u;
  EXPECT_EQ(constrained, 8152u - 7420u);
}

TEST(OpenbImport, FiveColumnSampleKeepsFileOrder) {
  // multigpu20 has no qos or times: everything submitted at 0, file order, alive at 0.
  const std::vector<PodTimes> pods = read_pod_times(pods_file("multigpu20"));
  const OpenbImportResult r = import_openb(kNodes, pods_file("multigpu20"));
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.snapshot.jobs.size(), pods.size());
  for (std::size_t i = 0; i < pods.size(); ++i) {
    ASSERT_EQ(r.snapshot.jobs[i].id, pods[i].name);
    ASSERT_EQ(r.snapshot.jobs[i].submit_time, 0);
    ASSERT_EQ(r.snapshot.jobs[i].priority, 0);
  }
  OpenbImportOptions options;
  options.mode = OpenbImportOptions::Mode::kAliveAt;
  options.at_time = 0;
  EXPECT_EQ(import_openb(kNodes, pods_file("multigpu20"), options).snapshot.jobs.size(), pods.size());
}

// ---- small and malformed files ----------------------------------------------------------

class OpenbMalformed : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice_openb_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    nodes_ = write("nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,1024,2,T4\nn1,8000,512,0,\n");
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string pods(const std::string& rows) {
    return write("pods.csv",
                 "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,"
                 "scheduled_time\n" +
                     rows);
  }
  void expect_error(const std::string& nodes, const std::string& pods_path, const std::string& expected) {
    const OpenbImportResult r = import_openb(nodes, pods_path);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, expected);
  }

  std::filesystem::path dir_;
  std::string nodes_;
};

TEST_F(OpenbMalformed, SmallValidFiles) {
  const std::string p = pods("a,1000,10,1,250,,LS,Pending,5,0,\nb,1000,10,2,1000,T4| A10 ,BE,Running,3,,3\n");
  const OpenbImportResult r = import_openb(nodes_, p);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.snapshot.jobs.size(), 2u);
  EXPECT_EQ(r.snapshot.jobs[0].id, "b");  // created at 3
  EXPECT_EQ(r.snapshot.jobs[0].tasks[0].gpus, 2);
  EXPECT_EQ(r.snapshot.jobs[0].tasks[0].gpu_models, (std::vector<std::string>{"T4", "A10"}));
  EXPECT_EQ(r.snapshot.jobs[1].tasks[0].gpu_milli, 250);
  EXPECT_TRUE(validate(r.snapshot).ok());

  // Deletion 0 and empty both mean "never deleted".
  OpenbImportOptions options;
  options.mode = OpenbImportOptions::Mode::kAliveAt;
  options.at_time = std::numeric_limits<std::int64_t>::max() - 1;
  EXPECT_EQ(import_openb(nodes_, p, options).snapshot.jobs.size(), 2u);
  options.at_time = 4;
  EXPECT_EQ(import_openb(nodes_, p, options).snapshot.jobs.size(), 1u);
}

TEST_F(OpenbMalformed, CrlfBlankLinesBomAndQuotesAccepted) {
  const std::string n = write("n.csv", "\xEF\xBB\xBFsn,cpu_milli,memory_mib,gpu,model\r\n\r\n\"n,0\",1,2,1,\"G2\"\r\n\n");
  const std::string p = pods("x,1,1,0,0,,BE,Failed,0,1,\r\n\r\n");
  const OpenbImportResult r = import_openb(n, p);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.snapshot.machines.size(), 1u);
  EXPECT_EQ(r.snapshot.machines[0].id, "n,0");
  EXPECT_EQ(r.snapshot.machines[0].gpus.at(0).model, "G2");
  EXPECT_EQ(r.snapshot.jobs.size(), 1u);
}

TEST_F(OpenbMalformed, OddGpuCombinations) {
  // num_gpu 0 ignores gpu_milli and gpu_spec; num_gpu 2 with a share is two whole GPUs.
  const std::string p = pods("cpu,1,1,0,500,T4,BE,Running,0,0,0\nmulti,1,1,2,500,,BE,Running,0,0,0\n");
  const OpenbImportResult r = import_openb(nodes_, p);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.snapshot.jobs[0].tasks[0].gpus, 0);
  EXPECT_EQ(r.snapshot.jobs[0].tasks[0].gpu_milli, 0);
  EXPECT_TRUE(r.snapshot.jobs[0].tasks[0].gpu_models.empty());
  EXPECT_EQ(r.snapshot.jobs[1].tasks[0].gpus, 2);
  EXPECT_EQ(r.snapshot.jobs[1].tasks[0].gpu_milli, 0);

  expect_error(nodes_, pods("z,1,1,1,0,,BE,Running,0,0,0\n"),
               (dir_ / "pods.csv").string() + ":2: expected gpu_milli in 1..1000 when num_gpu is 1, found '0'");
  expect_error(nodes_, pods("z,1,1,1,1001,,BE,Running,0,0,0\n"),
               (dir_ / "pods.csv").string() + ":2: expected gpu_milli in 0..1000, found '1001'");
  expect_error(nodes_, pods("z,1,1,5000,1000,,BE,Running,0,0,0\n"),
               (dir_ / "pods.csv").string() + ":2: expected num_gpu in 0..1024, found '5000'");
}

TEST_F(OpenbMalformed, MissingColumn) {
  const std::string n = write("n.csv", "sn,cpu_milli,gpu,model\nn0,1,0,\n");
  expect_error(n, pods(""), n + ":1: missing column 'memory_mib' (expected sn,cpu_milli,memory_mib,gpu,model)");
  const std::string p = write("p.csv", "name,cpu_milli,num_gpu,gpu_milli\n");
  const OpenbImportResult r = import_openb(nodes_, p);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.error.starts_with(p + ":1: missing column 'memory_mib'")) << r.error;
}

TEST_F(OpenbMalformed, UnknownAndRepeatedColumn) {
  const std::string n = write("n.csv", "sn,cpu_milli,memory_mib,gpu,model,rack\n");
  expect_error(n, pods(""), n + ":1: unknown column 'rack' (expected sn,cpu_milli,memory_mib,gpu,model)");
  const std::string n2 = write("n2.csv", "sn,cpu_milli,memory_mib,gpu,gpu,model\n");
  expect_error(n2, pods(""), n2 + ":1: column 'gpu' appears twice");
}

TEST_F(OpenbMalformed, EmptyFile) {
  const std::string n = write("n.csv", "\n\n");
  expect_error(n, pods(""), n + ":2: expected a header (sn,cpu_milli,memory_mib,gpu,model), found end of file");
}

TEST_F(OpenbMalformed, BadInteger) {
  const std::string n = write("n.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,1,2,0,\nn1,abc,2,0,\n");
  expect_error(n, pods(""), n + ":3: expected an integer cpu_milli, found 'abc'");
  const std::string n2 = write("n2.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,12x,2,0,\n");
  expect_error(n2, pods(""), n2 + ":2: expected an integer cpu_milli, found '12x'");
  const std::string n3 = write("n3.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,,2,0,\n");
  expect_error(n3, pods(""), n3 + ":2: expected an integer cpu_milli, found ''");
  const std::string n4 = write("n4.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,99999999999999999999,2,0,\n");
  expect_error(n4, pods(""), n4 + ":2: expected an integer cpu_milli that fits 64 bits, found '99999999999999999999'");
  expect_error(nodes_, pods("a,1,1,0,0,,BE,Running,later,0,0\n"),
               (dir_ / "pods.csv").string() + ":2: expected an integer creation_time, found 'later'");
}

TEST_F(OpenbMalformed, NegativeValue) {
  const std::string n = write("n.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,1,-5,0,\n");
  expect_error(n, pods(""), n + ":2: expected a non-negative memory_mib, found '-5'");
  expect_error(nodes_, pods("a,-1,1,0,0,,BE,Running,0,0,0\n"),
               (dir_ / "pods.csv").string() + ":2: expected a non-negative cpu_milli, found '-1'");
}

TEST_F(OpenbMalformed, DuplicateNames) {
  const std::string n = write("n.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,0,\nn1,1,1,0,\nn0,1,1,0,\n");
  expect_error(n, pods(""), n + ":4: duplicate node 'n0' (first on line 2)");
  expect_error(nodes_, pods("a,1,1,0,0,,BE,Running,0,0,0\n\nb,1,1,0,0,,BE,Running,0,0,0\na,1,1,0,0,,BE,Running,0,0,0\n"),
               (dir_ / "pods.csv").string() + ":5: duplicate pod 'a' (first on line 2)");
}

TEST_F(OpenbMalformed, MissingFile) {
  const std::string missing = (dir_ / "nope.csv").string();
  expect_error(missing, pods(""), "cannot open " + missing + ": No such file or directory");
  expect_error(nodes_, missing, "cannot open " + missing + ": No such file or directory");
  const OpenbImportResult dir = import_openb(dir_.string(), pods(""));
  EXPECT_FALSE(dir.ok);
  EXPECT_FALSE(dir.error.empty());
}

TEST_F(OpenbMalformed, TruncatedRow) {
  const std::string n = write("n.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,0,\nn1,1,1\n");
  expect_error(n, pods(""), n + ":3: expected 5 fields, found 3");
  expect_error(nodes_, pods("a,1,1,0,0,,BE,Running,0,0,0\nb,1,1,0,0,,BE"),
               (dir_ / "pods.csv").string() + ":3: expected 11 fields, found 7");
  expect_error(nodes_, pods("a,1,1,0,0,,BE,Running,0,0,0,extra\n"),
               (dir_ / "pods.csv").string() + ":2: expected 11 fields, found 12");
  const std::string q = write("q.csv", "sn,cpu_milli,memory_mib,gpu,model\n\"n0,1,1,0,\n");
  expect_error(q, pods(""), q + ":2: expected a closing '\"', found end of line");
}

TEST_F(OpenbMalformed, BadQosAndPhaseAndEmptyName) {
  expect_error(nodes_, pods("a,1,1,0,0,,Urgent,Running,0,0,0\n"),
               (dir_ / "pods.csv").string() + ":2: expected a qos (Guaranteed, LS, Burstable, BE), found 'Urgent'");
  expect_error(nodes_, pods("a,1,1,0,0,,BE,Sleeping,0,0,0\n"),
               (dir_ / "pods.csv").string() +
                   ":2: expected a pod_phase (Pending, Running, Succeeded, Failed, Unknown), found 'Sleeping'");
  expect_error(nodes_, pods(",1,1,0,0,,BE,Running,0,0,0\n"),
               (dir_ / "pods.csv").string() + ":2: expected a non-empty name, found ''");
}

TEST_F(OpenbMalformed, BadOptions) {
  OpenbImportOptions options;
  options.machines_per_rack = 0;
  const OpenbImportResult r = import_openb(nodes_, pods(""), options);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "machines_per_rack must be positive, found 0");
}

TEST_F(OpenbMalformed, BinaryGarbageNeverCrashes) {
  std::string junk = "sn,cpu_milli,memory_mib,gpu,model\n";
  for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 7919) % 256));
  const OpenbImportResult r = import_openb(write("junk.csv", junk), pods(""));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace sluice
