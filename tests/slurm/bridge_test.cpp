// The Slurm bridge against a real Slurm: one slurmctld and four slurmd started by
// scripts/slurm-cluster.sh in a fresh folder (ports from this process id), jobs submitted
// with sbatch, rounds run by the library's Bridge and by the `sluice slurm` process.
// Label `slurm`. Without Slurm installed the tests skip saying so, unless
// SLUICE_REQUIRE_SLURM is set (CI sets it: there a skip is a failure).
#include "sluice/slurm_bridge.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "command.hpp"

namespace sluice::slurm {
namespace {

namespace fs = std::filesystem;

std::string cluster_dir;  // empty: no cluster (the suite skips)
std::string skip_reason;

CommandResult run(const std::vector<std::string>& argv, const std::string& input = {}) {
  CommandLimits limits;
  limits.timeout_ms = 60'000;
  return run_command(argv, input, limits);
}

// sbatch --parsable into the queue partition: the job id.
std::uint32_t submit(const std::vector<std::string>& request) {
  std::vector<std::string> argv = {"sbatch", "--parsable", "-p", "gpu", "-o", "/dev/null"};
  argv.insert(argv.end(), request.begin(), request.end());
  argv.push_back("--wrap");
  argv.push_back("sleep 600");
  const CommandResult r = run(argv);
  EXPECT_TRUE(r.ok()) << r.error << r.err;
  return static_cast<std::uint32_t>(std::stoul(r.out));
}

std::map<std::uint32_t, Job> jobs_now() {
  const CommandResult r = run({"squeue", "--json", "--all"});
  EXPECT_TRUE(r.ok()) << r.err;
  std::map<std::uint32_t, Job> out;
  for (Job& j : parse_squeue_json(r.out).items) out[j.id] = std::move(j);
  return out;
}

template <typename Pred>
bool eventually(Pred pred, int seconds = 20) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return pred();
}

std::vector<Node> nodes_now() {
  const CommandResult r = run({"sinfo", "--json", "--all"});
  EXPECT_TRUE(r.ok()) << r.err;
  return parse_sinfo_json(r.out).items;
}

// A clean cluster for each test: no job left (completing ones included), every node back
// in service with nothing allocated.
void reset_cluster() {
  run({"scancel", "--user", std::to_string(::getuid()), "--full"});
  run({"scontrol", "update", "PartitionName=gpu-run", "State=UP"});
  for (const Node& n : nodes_now())
    if (!n.schedulable()) run({"scontrol", "update", "NodeName=" + n.name, "State=RESUME"});
  const bool clean = eventually([] {
    for (const auto& [id, j] : jobs_now())
      if (j.state != JobState::kOther || j.state_name == "COMPLETING") return false;
    for (const Node& n : nodes_now())
      if (!n.schedulable() || n.alloc_cpus != 0) return false;
    return true;
  }, 30);
  ASSERT_TRUE(clean) << "the cluster did not come back to idle";
}

// Records what each round decided.
struct Recorder {
  AllocateOptions options;
  std::map<std::string, std::string> placed;  // job → node, over every round
  Allocator allocator(std::function<void(const Allocation&)> between = {}) {
    return [this, between](const Snapshot& s) {
      Allocation a = allocate(s, options);
      for (const Placement& p : a.placements) placed[p.job] = p.machine;
      if (between) between(a);  // "between decision and release"
      return a;
    };
  }
  Recorder() {
    options.cost_model = CostModel::kAlloc;
    options.allow_migration = false;
    options.allow_preemption = false;
  }
};

// A shell script in the cluster's folder standing in for one of Slurm's commands.
std::string script(const std::string& name, const std::string& body) {
  const std::string path = cluster_dir + "/" + name;
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  fs::permissions(path, fs::perms::owner_all);
  return path;
}

// The round's log, for failure messages.
std::string lines(const RoundReport& r) {
  std::string out = r.error;
  for (const std::string& l : r.log) out += "\n  " + l;
  return out;
}

class SlurmBridge : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (run({"sh", "-c", "command -v slurmctld && command -v slurmd && command -v munged"}).exit_code != 0) {
      skip_reason = "Slurm is not installed (scripts/slurm-cluster.sh install)";
      return;
    }
    char tmpl[] = "/tmp/sluice-slurm-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      skip_reason = "no temporary folder";
      return;
    }
    // Below 32768, where Linux's ephemeral ports start: no client socket can hold one of these.
    const int port = 20000 + static_cast<int>(::getpid() % 1400) * 8;
    const CommandResult r = run({std::string(SLUICE_SOURCE_DIR) + "/scripts/slurm-cluster.sh", "start", tmpl, "4",
                                 std::to_string(port)});
    if (!r.ok()) {
      skip_reason = "the test cluster did not start: " + r.err + r.error;
      return;
    }
    cluster_dir = tmpl;
    ::setenv("SLURM_CONF", (cluster_dir + "/slurm.conf").c_str(), 1);
  }
  static void TearDownTestSuite() {
    if (cluster_dir.empty()) return;
    run({std::string(SLUICE_SOURCE_DIR) + "/scripts/slurm-cluster.sh", "stop", cluster_dir});
    std::error_code ec;
    fs::remove_all(cluster_dir, ec);
  }
  void SetUp() override {
    if (cluster_dir.empty()) {
      if (std::getenv("SLUICE_REQUIRE_SLURM") != nullptr) FAIL() << "SLUICE_REQUIRE_SLURM is set: " << skip_reason;
      GTEST_SKIP() << skip_reason;
    }
    reset_cluster();
  }
  BridgeOptions options() const {
    BridgeOptions o;
    o.pin_timeout_s = 60;
    return o;
  }
};

TEST_F(SlurmBridge, JobsOfSeveralGpuTypesAndSizesRunWhereSluiceSaid) {
  const std::vector<std::uint32_t> ids = {
      submit({"--gres=gpu:a100:2", "-c", "8", "--mem=16000"}), submit({"--gres=gpu:a100:4", "-c", "16", "--mem=64000"}),
      submit({"--gres=gpu:v100:1", "-c", "4", "--mem=8000"}),  submit({"--gres=gpu:t4:2", "-c", "2", "--mem=4000"}),
      submit({"--gres=gpu:1", "-c", "2", "--mem=2000"}),       submit({"-c", "4", "--mem=1000"})};
  Recorder rec;
  Bridge bridge(options());
  const RoundReport r = bridge.round(rec.allocator());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.placed, 6);
  EXPECT_EQ(r.pinned, 6);
  EXPECT_EQ(r.refused, 0);
  ASSERT_TRUE(eventually([&] {
    const auto jobs = jobs_now();
    for (const std::uint32_t id : ids)
      if (jobs.at(id).state != JobState::kRunning) return false;
    return true;
  })) << "pinned jobs did not start";
  const auto jobs = jobs_now();
  for (const std::uint32_t id : ids) {
    const Job& j = jobs.at(id);
    EXPECT_EQ(j.partition, "gpu-run");
    EXPECT_EQ(j.nodes, std::vector<std::string>{rec.placed.at(std::to_string(id))}) << id;
    EXPECT_GE(pinned_at(j.admin_comment), 0) << j.admin_comment;
  }
  // The next round finds nothing to do: nothing is pinned twice.
  const RoundReport again = bridge.round(rec.allocator());
  EXPECT_EQ(again.placed, 0);
  EXPECT_EQ(again.queued, 0);
}

TEST_F(SlurmBridge, AJobCancelledOrANodeDrainedBetweenDecisionAndRelease) {
  const std::uint32_t doomed = submit({"--gres=gpu:v100:1", "-c", "1", "--mem=100"});
  const std::uint32_t big = submit({"--gres=gpu:a100:8", "-c", "8", "--mem=1000"});  // only n1 holds it
  Recorder rec;
  BridgeOptions o = options();
  o.pin_timeout_s = 2;
  Bridge bridge(o);
  const RoundReport r = bridge.round(rec.allocator([&](const Allocation&) {
    run({"scancel", std::to_string(doomed)});
    run({"scontrol", "update", "NodeName=n1", "State=DRAIN", "Reason=test"});
  }));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.placed, 2);
  EXPECT_EQ(r.refused, 1);  // the cancelled one
  EXPECT_EQ(r.pinned, 1);   // Slurm took the pin to the draining n1, but will not start it there
  bool logged = false;
  for (const std::string& line : r.log) logged |= line.find("job " + std::to_string(doomed)) == 0;
  EXPECT_TRUE(logged);
  // Past the pin timeout the big job goes back to the queue, and while n1 drains no round
  // pins it again (no other node has eight a100s).
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const RoundReport later = bridge.round(rec.allocator());
  EXPECT_EQ(later.unpinned, 1) << lines(later);
  const RoundReport after = bridge.round(rec.allocator());
  EXPECT_EQ(after.placed, 0) << lines(after);
  EXPECT_EQ(after.unscheduled, 1) << lines(after);
  const Job j = jobs_now().at(big);
  EXPECT_EQ(j.partition, "gpu");
  EXPECT_TRUE(j.required_nodes.empty());
  // n1 back: the next round places it there.
  // (Rounds go on until n1 is back: the bridge retries every round.)
  run({"scontrol", "update", "NodeName=n1", "State=RESUME"});
  EXPECT_TRUE(eventually([&] { return bridge.round(rec.allocator()).pinned == 1; }));
  EXPECT_EQ(rec.placed.at(std::to_string(big)), "n1");
}

// A bridge that dies while applying (its scontrol gets only the first pin), restarted:
// every job ends up pinned once, the one already pinned is not placed again.
TEST_F(SlurmBridge, ABridgeKilledMidRoundAndRestartedPinsEachJobOnce) {
  std::vector<std::uint32_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(submit({"--gres=gpu:a100:1", "-c", "1", "--mem=100"}));
  const std::string dying = script("scontrol-dies", "head -n 1 | scontrol\nkill -9 $$");
  Recorder rec;
  BridgeOptions o = options();
  o.scontrol = dying;
  const RoundReport first = Bridge(o).round(rec.allocator());
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.placed, 4);
  EXPECT_EQ(first.pinned, 1);
  EXPECT_EQ(first.refused, 3);
  const RoundReport second = Bridge(options()).round(rec.allocator());  // a new bridge
  EXPECT_EQ(second.queued, 3);
  EXPECT_EQ(second.pinned, 3);
  int pinned = 0;
  const auto jobs = jobs_now();
  for (const std::uint32_t id : ids) pinned += pinned_at(jobs.at(id).admin_comment) >= 0 ? 1 : 0;
  EXPECT_EQ(pinned, 4);
}

TEST_F(SlurmBridge, SlurmctldRestartedLosesNothing) {
  const std::uint32_t a = submit({"--gres=gpu:t4:1", "-c", "1", "--mem=100"});
  Recorder rec;
  Bridge bridge(options());
  ASSERT_EQ(bridge.round(rec.allocator()).pinned, 1);
  const std::uint32_t b = submit({"--gres=gpu:t4:1", "-c", "1", "--mem=100"});
  std::ifstream pid_file(cluster_dir + "/run/slurmctld.pid");
  pid_t pid = 0;
  pid_file >> pid;
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGTERM);
  ASSERT_TRUE(eventually([&] { return ::kill(pid, 0) != 0; }));
  const RoundReport down = bridge.round(rec.allocator());
  EXPECT_FALSE(down.ok);
  EXPECT_FALSE(down.error.empty());
  ASSERT_TRUE(run({"slurmctld", "-f", cluster_dir + "/slurm.conf"}).ok());
  ASSERT_TRUE(eventually([] { return run({"squeue", "--json"}).ok(); }));
  // The nodes register again within a few rounds; b is placed then, and a kept its pin.
  RoundReport up;
  EXPECT_TRUE(eventually([&] {
    up = bridge.round(rec.allocator());
    return up.ok && up.pinned == 1;
  })) << lines(up);
  const auto jobs = jobs_now();
  EXPECT_EQ(jobs.at(a).partition, "gpu-run");
  EXPECT_EQ(jobs.at(b).partition, "gpu-run");
}

// A job that waits for something besides a place (a dependency, a begin time) is not
// pinned: it would hold room it cannot use. A user's hold is left alone.
TEST_F(SlurmBridge, JobsWaitingForADependencyABeginTimeOrHeldAreLeftAlone) {
  const std::uint32_t first = submit({"-c", "1", "--mem=100"});
  submit({"-c", "1", "--mem=100", "--dependency=afterok:" + std::to_string(first)});
  submit({"-c", "1", "--mem=100", "--begin=now+3600"});
  submit({"-c", "1", "--mem=100", "-H"});
  Recorder rec;
  const RoundReport r = Bridge(options()).round(rec.allocator());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.queued, 4);
  EXPECT_EQ(r.held, 1);
  EXPECT_EQ(r.not_eligible, 2) << lines(r);
  EXPECT_EQ(r.pinned, 1);
  EXPECT_EQ(rec.placed.size(), 1u);
  EXPECT_TRUE(rec.placed.contains(std::to_string(first)));
}

// --max-pins bounds a round: the highest-priority placements are pinned first, the rest
// wait and are placed by the next rounds.
TEST_F(SlurmBridge, AtMostMaxPinsARoundHighestPriorityFirst) {
  std::vector<std::uint32_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(submit({"-c", "1", "--mem=100"}));
  ids.push_back(submit({"-c", "1", "--mem=100", "--nice=-1000"}));  // the youngest, but first
  Recorder rec;
  BridgeOptions o = options();
  o.max_pins = 2;
  Bridge bridge(o);
  const RoundReport first = bridge.round(rec.allocator());
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.placed, 5) << lines(first) << " held " << first.held << " not eligible " << first.not_eligible
                             << " queued " << first.queued;
  EXPECT_EQ(first.pinned, 2);
  EXPECT_EQ(first.deferred, 3);
  const auto jobs = jobs_now();
  EXPECT_EQ(jobs.at(ids[4]).partition, "gpu-run");  // highest priority
  EXPECT_EQ(jobs.at(ids[0]).partition, "gpu-run");  // then the oldest
  EXPECT_EQ(bridge.round(rec.allocator()).pinned, 2);
  const RoundReport last = bridge.round(rec.allocator());
  EXPECT_EQ(last.pinned, 1);
  EXPECT_EQ(last.deferred, 0);
}

// A job's own --exclude and --nodelist are kept through pin and unpin; a job naming no
// nodes is pinned by exclusion (one request to slurmctld) and unpinned back to no list.
TEST_F(SlurmBridge, NodeListsAreKeptThroughPinAndUnpin) {
  const std::uint32_t excluding = submit({"-c", "1", "--mem=100", "-x", "n1,n2,n3"});  // only n4 is left
  const std::uint32_t naming = submit({"-c", "1", "--mem=100", "-w", "n3"});
  const std::uint32_t plain = submit({"--gres=gpu:a100:1", "-c", "1", "--mem=100"});  // only n1 has a100s
  run({"scontrol", "update", "PartitionName=gpu-run", "State=DOWN"});  // pinned jobs cannot start
  Recorder rec;
  BridgeOptions o = options();
  o.pin_timeout_s = 1;
  Bridge bridge(o);
  const RoundReport first = bridge.round(rec.allocator());
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.pinned, 3) << lines(first);
  EXPECT_EQ(rec.placed.at(std::to_string(excluding)), "n4");
  EXPECT_EQ(rec.placed.at(std::to_string(naming)), "n3");
  EXPECT_EQ(rec.placed.at(std::to_string(plain)), "n1");
  auto jobs = jobs_now();
  const auto how = [&](std::uint32_t id) { return read_pin(jobs.at(id).admin_comment).value_or(Pin{}).how; };
  EXPECT_EQ(how(excluding), PinHow::kNodeList);
  EXPECT_EQ(how(naming), PinHow::kOwn);
  EXPECT_EQ(how(plain), PinHow::kExclude);
  EXPECT_EQ(jobs.at(plain).excluded_nodes, (std::vector<std::string>{"n2", "n3", "n4"}));
  EXPECT_EQ(jobs.at(excluding).required_nodes, std::vector<std::string>{"n4"});
  // Not started within the timeout: each goes back to the queue with its own lists only.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const RoundReport back = bridge.round(rec.allocator());
  EXPECT_EQ(back.unpinned, 3) << lines(back);
  jobs = jobs_now();
  for (const std::uint32_t id : {excluding, naming, plain}) EXPECT_EQ(jobs.at(id).partition, "gpu") << id;
  EXPECT_EQ(jobs.at(excluding).excluded_nodes, (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_TRUE(jobs.at(excluding).required_nodes.empty());
  EXPECT_EQ(jobs.at(naming).required_nodes, std::vector<std::string>{"n3"});
  EXPECT_TRUE(jobs.at(plain).excluded_nodes.empty());
  EXPECT_TRUE(jobs.at(plain).required_nodes.empty());
  // With the run partition up, they run where Sluice said.
  run({"scontrol", "update", "PartitionName=gpu-run", "State=UP"});
  EXPECT_EQ(bridge.round(rec.allocator()).pinned, 3);
  EXPECT_TRUE(eventually([&] {
    const auto now = jobs_now();
    for (const std::uint32_t id : {excluding, naming, plain}) {
      const Job& j = now.at(id);
      if (j.state != JobState::kRunning || j.nodes != std::vector<std::string>{rec.placed.at(std::to_string(id))})
        return false;
    }
    return true;
  }));
}

// GPU shares: n1's eight a100 carry 100 shards each. Six are taken whole; of three jobs
// asking 60 shards, two fit (one on each GPU left), the third waits. Slurm picks the
// devices; the next round reads back which, and a 30-shard job fits beside a 60.
TEST_F(SlurmBridge, ShardJobsShareGpusAsSlurmCountsThem) {
  const std::uint32_t whole = submit({"--gres=gpu:a100:6", "-c", "1", "--mem=100"});
  std::vector<std::uint32_t> sixty;
  for (int i = 0; i < 3; ++i) sixty.push_back(submit({"--gres=shard:a100:60", "-c", "1", "--mem=100"}));
  Recorder rec;
  Bridge bridge(options());
  const RoundReport first = bridge.round(rec.allocator());
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.pinned, 3) << lines(first);
  EXPECT_EQ(first.unscheduled, 1) << lines(first);
  EXPECT_TRUE(rec.placed.contains(std::to_string(whole)));
  // Both placed shard jobs run, on different devices, and the third is still queued.
  std::vector<std::int32_t> devices;
  ASSERT_TRUE(eventually([&] {
    devices.clear();
    int queued = 0;
    for (const std::uint32_t id : sixty) {
      const Job j = jobs_now().at(id);
      if (j.partition == "gpu" && j.state == JobState::kPending) ++queued;
      if (j.state == JobState::kRunning && j.shard_use.size() == 1) devices.push_back(j.shard_use[0].device);
    }
    return queued == 1 && devices.size() == 2;
  }));
  EXPECT_NE(devices[0], devices[1]);
  const std::uint32_t thirty = submit({"--gres=shard:a100:30", "-c", "1", "--mem=100"});
  const RoundReport second = bridge.round(rec.allocator());
  EXPECT_EQ(second.pinned, 1) << lines(second);
  EXPECT_EQ(second.unscheduled, 1) << lines(second);  // the third 60 still has no room
  EXPECT_EQ(rec.placed.at(std::to_string(thirty)), "n1");
  EXPECT_TRUE(eventually([&] { return jobs_now().at(thirty).state == JobState::kRunning; }));
}

TEST_F(SlurmBridge, BadInputFromSlurmIsLoggedAndTheRoundGoesOn) {
  submit({"-N", "2", "-c", "1", "--mem=100"});  // two nodes: handed to Slurm, with the reason
  submit({"-n", "1", "--gpus-per-task=1", "-c", "1", "--mem=100"});  // GPUs per task: likewise
  const std::uint32_t plain = submit({"-c", "1", "--mem=100"});  // on n4 (no GPUs) or any
  const std::string broken = script("sinfo-broken", "echo '{\"meta\": {\"plugin\": '");
  Recorder rec;
  BridgeOptions bad = options();
  bad.sinfo = broken;
  const RoundReport r = Bridge(bad).round(rec.allocator());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("sinfo: not JSON"), std::string::npos) << r.error;
  const RoundReport good = Bridge(options()).round(rec.allocator());
  ASSERT_TRUE(good.ok) << good.error;
  EXPECT_EQ(good.passed, 2);
  EXPECT_EQ(good.pinned, 1);
  int reasons = 0;
  for (const std::string& line : good.log)
    reasons += (line.find("2 nodes") != std::string::npos) + (line.find("per task") != std::string::npos);
  EXPECT_EQ(reasons, 2);
  EXPECT_TRUE(rec.placed.contains(std::to_string(plain)));
}

}  // namespace
}  // namespace sluice::slurm
