// The Slurm bridge's reading side on JSON recorded from a real Slurm 22.05
// (datasets/slurm/22.05, whose README says what the cluster held), and on broken input:
// a bad record is skipped with its reason, a bad document is an error, nothing throws.
#include "sluice/slurm.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>

namespace sluice::slurm {
namespace {

std::string sample(const std::string& name) {
  std::ifstream in(std::string(SLUICE_TEST_DATA_DIR) + "/slurm/22.05/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::map<std::string, Node> nodes_by_name() {
  const Parsed<Node> p = parse_sinfo_json(sample("sinfo_four_nodes.json"));
  EXPECT_TRUE(p.ok()) << p.error;
  EXPECT_TRUE(p.skipped.empty());
  std::map<std::string, Node> out;
  for (const Node& n : p.items) out[n.name] = n;
  return out;
}

std::map<std::uint32_t, Job> jobs_by_id() {
  const Parsed<Job> p = parse_squeue_json(sample("squeue_nine_jobs.json"));
  EXPECT_TRUE(p.ok()) << p.error;
  EXPECT_TRUE(p.skipped.empty());
  std::map<std::uint32_t, Job> out;
  for (const Job& j : p.items) out[j.id] = j;
  return out;
}

TEST(SlurmHostlist, ExpandsRangesListsAndPadding) {
  EXPECT_EQ(*expand_hostlist("n[1-3,7],gpu01"), (std::vector<std::string>{"n1", "n2", "n3", "n7", "gpu01"}));
  EXPECT_EQ(*expand_hostlist("n[08-10]"), (std::vector<std::string>{"n08", "n09", "n10"}));
  EXPECT_EQ(*expand_hostlist("rack[1-2]-a"), (std::vector<std::string>{"rack1-a", "rack2-a"}));
  EXPECT_TRUE(expand_hostlist("")->empty());
  for (const char* bad : {"n[1-", "n[3-1]", "n]1[", "n[1-2][3]", "n[a]", "a,,b", "n[1-99999999999]"})
    EXPECT_FALSE(expand_hostlist(bad).has_value()) << bad;
  EXPECT_FALSE(expand_hostlist("n[1-1000]", 999).has_value());  // past the limit, not a million strings
  EXPECT_EQ(*parse_index_list("0-1,3"), (std::vector<std::int32_t>{0, 1, 3}));
  EXPECT_FALSE(parse_index_list("0-99999").has_value());
}

TEST(SlurmHostlist, CompressesToWhatExpandsBack) {
  EXPECT_EQ(compress_hostlist({"n3", "n1", "n2", "n7", "gpu01", "n2"}), "gpu01,n[1-3,7]");
  EXPECT_EQ(compress_hostlist({"n08", "n09", "n10", "n12"}), "n[08-10,12]");
  EXPECT_EQ(compress_hostlist({"n9", "n10", "n11"}), "n9,n[10-11]");  // one width per group
  EXPECT_EQ(compress_hostlist({"login", "n5"}), "login,n5");
  EXPECT_EQ(compress_hostlist({}), "");
  // Random sets of names in several spellings: expand(compress(names)) is the same set.
  std::mt19937 rng(7);
  const std::vector<std::string> prefixes = {"n", "gpu-a", "rack2-n", "", "x"};
  for (int round = 0; round < 200; ++round) {
    std::set<std::string> names;
    const int count = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < count; ++i) {
      std::string digits = std::to_string(rng() % 40);
      if (rng() % 3 == 0) digits.insert(0, 1 + rng() % 2, '0');  // zero padded
      names.insert(prefixes[rng() % prefixes.size()] + digits);
      if (rng() % 9 == 0) names.insert("head" + std::string(1, static_cast<char>('a' + rng() % 3)));
    }
    const std::string expr = compress_hostlist({names.begin(), names.end()});
    const auto back = expand_hostlist(expr);
    ASSERT_TRUE(back.has_value()) << expr;
    EXPECT_EQ(std::set<std::string>(back->begin(), back->end()), names) << expr;
    EXPECT_EQ(back->size(), names.size()) << expr;  // nothing listed twice
  }
}

TEST(SlurmJson, NodesAsRecorded) {
  const auto nodes = nodes_by_name();
  ASSERT_EQ(nodes.size(), 4u);
  const Node& n1 = nodes.at("n1");
  EXPECT_EQ(n1.state, "mixed");
  EXPECT_TRUE(n1.schedulable());
  EXPECT_EQ(n1.cpus, 32);
  EXPECT_EQ(n1.alloc_cpus, 4);
  EXPECT_EQ(n1.memory_mib, 128000);
  EXPECT_EQ(n1.alloc_memory_mib, 8000);
  EXPECT_EQ(n1.partitions, std::vector<std::string>{"gpu"});
  ASSERT_EQ(n1.gpus.size(), 4u);
  for (const NodeGpu& g : n1.gpus) {
    EXPECT_EQ(g.type, "a100");
    EXPECT_EQ(g.used, g.index <= 1) << g.index;  // job 1 holds IDX 0-1
  }
  EXPECT_EQ(std::count_if(nodes.at("n3").gpus.begin(), nodes.at("n3").gpus.end(), [](const NodeGpu& g) { return g.used; }), 3);
  EXPECT_FALSE(nodes.at("n2").schedulable());  // DRAIN
  EXPECT_EQ(nodes.at("n2").flags, std::vector<std::string>{"DRAIN"});
  EXPECT_FALSE(nodes.at("n4").schedulable());  // down
  EXPECT_TRUE(nodes.at("n4").gpus.empty());
}

TEST(SlurmJson, JobsAsRecorded) {
  const auto jobs = jobs_by_id();
  ASSERT_EQ(jobs.size(), 9u);
  const Job& j1 = jobs.at(1);
  EXPECT_EQ(j1.state, JobState::kRunning);
  EXPECT_EQ(j1.nodes, std::vector<std::string>{"n1"});
  ASSERT_EQ(j1.gpu_indexes.size(), 1u);
  EXPECT_EQ(j1.gpu_indexes[0], (std::vector<std::int32_t>{0, 1}));
  EXPECT_EQ(j1.gpus, 2);
  EXPECT_EQ(j1.gpu_type, "a100");
  const Job& j3 = jobs.at(3);  // --gres=gpu:1 -c 2 --mem-per-cpu=2000, held
  EXPECT_EQ(j3.state, JobState::kPending);
  EXPECT_EQ(j3.state_reason, "JobHeldUser");
  EXPECT_EQ(j3.priority, 0u);
  EXPECT_EQ(j3.cpus, 2);
  EXPECT_EQ(j3.memory_mib, 4000);
  EXPECT_EQ(j3.gpus, 1);
  EXPECT_TRUE(j3.gpu_type.empty());
  EXPECT_TRUE(j3.unsupported.empty()) << j3.unsupported;
  EXPECT_NE(jobs.at(4).unsupported.find("2 nodes"), std::string::npos) << jobs.at(4).unsupported;
  EXPECT_EQ(jobs.at(5).required_nodes, std::vector<std::string>{"n3"});
  EXPECT_EQ(jobs.at(5).memory_mib, 16000);
  EXPECT_EQ(jobs.at(6).excluded_nodes, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(jobs.at(6).nice, 100);
  EXPECT_EQ(jobs.at(9).gpus, 1);  // --gpus=1: per job, one node
  EXPECT_NE(jobs.at(8).unsupported.find("no --mem"), std::string::npos) << jobs.at(8).unsupported;
  EXPECT_EQ(jobs.at(2).state_reason, "BeginTime");  // requeued when n4 went down
  EXPECT_EQ(jobs.at(2).eligible_time, 1796635271);
  EXPECT_EQ(jobs.at(3).eligible_time, 0);  // held: not eligible
  EXPECT_TRUE(jobs.at(3).dependency.empty());
}

TEST(SlurmSnapshot, SchedulableNodesAndThePendingJobsItCanCarry) {
  const Parsed<Node> nodes = parse_sinfo_json(sample("sinfo_four_nodes.json"));
  const Parsed<Job> jobs = parse_squeue_json(sample("squeue_nine_jobs.json"));
  std::vector<const Job*> candidates;
  for (const Job& j : jobs.items)
    if (j.id != 1 && j.id != 7) candidates.push_back(&j);  // the pending ones
  const BridgeSnapshot b = build_snapshot(nodes.items, candidates, {}, SnapshotOptions{{"gpu"}, 100, 1});
  ASSERT_EQ(b.snapshot.machines.size(), 2u);  // n1 and n3: n2 drains, n4 is down
  const Machine& n1 = b.snapshot.machines[0];
  EXPECT_EQ(n1.id, "n1");
  EXPECT_EQ(n1.free_cpu_milli, 28000);
  EXPECT_EQ(n1.free_memory_mib, 120000);
  ASSERT_EQ(n1.gpus.size(), 4u);
  EXPECT_EQ(n1.gpus[0].free_milli, 0);
  EXPECT_EQ(n1.gpus[2].free_milli, 1000);
  EXPECT_EQ(n1.labels.at("partition.gpu"), "true");
  std::map<std::string, const Task*> tasks;
  for (const sluice::Job& j : b.snapshot.jobs) tasks[j.id] = &j.tasks.at(0);
  EXPECT_EQ(tasks.size(), 5u);  // 2, 3, 5, 6, 9
  ASSERT_TRUE(tasks.contains("5"));
  EXPECT_EQ(tasks["5"]->selector.at("node"), "n3");
  EXPECT_EQ(tasks["5"]->gpu_models, std::vector<std::string>{"v100"});
  EXPECT_EQ(tasks["3"]->cpu_milli, 2000);
  std::map<std::uint32_t, std::string> why(b.left_out.begin(), b.left_out.end());
  // Job 6 excludes n1 and n2: only n3 (of the two machines) carries its list's label.
  ASSERT_TRUE(tasks.contains("6"));
  const std::string& outside = tasks["6"]->selector.begin()->first;
  EXPECT_EQ(outside, "outside-exclude.0");
  EXPECT_FALSE(n1.labels.contains(outside));
  EXPECT_EQ(b.snapshot.machines[1].labels.at(outside), "true");
  EXPECT_EQ(why.size(), 2u);
  EXPECT_NE(why[4].find("nodes"), std::string::npos);
  EXPECT_NE(why[8].find("whole node's memory"), std::string::npos);
  EXPECT_TRUE(validate(b.snapshot).ok()) << validate(b.snapshot).message;
}

TEST(SlurmSnapshot, AGpuTypeNoNodeHasIsLeftOutWithItsReason) {
  Parsed<Job> jobs = parse_squeue_json(sample("squeue_nine_jobs.json"));
  for (Job& j : jobs.items)
    if (j.id == 5) j.gpu_type = "h100";
  std::vector<const Job*> five;
  for (const Job& j : jobs.items)
    if (j.id == 5) five.push_back(&j);
  const BridgeSnapshot b = build_snapshot(parse_sinfo_json(sample("sinfo_four_nodes.json")).items, five, {}, {});
  ASSERT_EQ(b.left_out.size(), 1u);
  EXPECT_NE(b.left_out[0].second.find("'h100'"), std::string::npos) << b.left_out[0].second;
}

// Each distinct --exclude list adds a label to the nodes outside it: past kMaxExcludeLists
// a round, a job with yet another list is left out, saying so; one sharing a list is not.
TEST(SlurmSnapshot, ExcludeListsAreBounded) {
  const Parsed<Node> nodes = parse_sinfo_json(sample("sinfo_four_nodes.json"));
  const Parsed<Job> jobs = parse_squeue_json(sample("squeue_nine_jobs.json"));
  const Job* three = nullptr;  // a plain pending job
  for (const Job& j : jobs.items)
    if (j.id == 3) three = &j;
  ASSERT_NE(three, nullptr);
  std::vector<Job> many;
  for (std::uint32_t i = 0; i <= kMaxExcludeLists; ++i) {  // one list too many
    Job j = *three;
    j.id = 100 + i;
    j.excluded_nodes = {"gone" + std::to_string(i), "n1"};
    many.push_back(j);
  }
  many.push_back(many.front());  // the first list again
  many.back().id = 999;
  std::vector<const Job*> candidates;
  for (const Job& j : many) candidates.push_back(&j);
  const BridgeSnapshot b = build_snapshot(nodes.items, candidates, {}, {});
  ASSERT_EQ(b.left_out.size(), 1u);
  EXPECT_EQ(b.left_out[0].first, 100 + kMaxExcludeLists);
  EXPECT_NE(b.left_out[0].second.find("--exclude"), std::string::npos);
  EXPECT_EQ(b.snapshot.jobs.size(), kMaxExcludeLists + 1);
  EXPECT_EQ(b.snapshot.jobs.front().tasks[0].selector, b.snapshot.jobs.back().tasks[0].selector);
  EXPECT_TRUE(validate(b.snapshot).ok()) << validate(b.snapshot).message;
}

// GPU shares as a real 22.05 wrote them (datasets/slurm/22.05/README.md): shards per device
// from the node's gres, which devices are shared from gres_used, how many shards each holds
// from the running jobs; a shard request becomes a share of one GPU.
TEST(SlurmShards, DevicesSharesAndRequestsAsRecorded) {
  Parsed<Node> nodes = parse_sinfo_json(sample("sinfo_shards.json"));
  const Parsed<Job> jobs = parse_squeue_json(sample("squeue_shards.json"));
  ASSERT_TRUE(nodes.ok() && jobs.ok() && nodes.skipped.empty() && jobs.skipped.empty());
  std::map<std::uint32_t, const Job*> by_id;
  for (const Job& j : jobs.items) by_id[j.id] = &j;
  EXPECT_EQ(by_id.at(6)->shards, 20);
  EXPECT_EQ(by_id.at(6)->gpu_type, "a100");
  EXPECT_EQ(by_id.at(7)->shards, 10);
  ASSERT_EQ(by_id.at(2)->shard_use.size(), 1u);
  EXPECT_EQ(by_id.at(2)->shard_use[0].node, "n1");
  EXPECT_EQ(by_id.at(2)->shard_use[0].device, 1);
  EXPECT_EQ(by_id.at(2)->shard_use[0].shards, 80);
  count_shards_in_use(nodes.items, jobs.items);
  const Node& n1 = nodes.items.at(0);
  ASSERT_EQ(n1.name, "n1");
  ASSERT_EQ(n1.gpus.size(), 8u);
  for (const NodeGpu& g : n1.gpus) EXPECT_EQ(g.shards, 100);
  EXPECT_TRUE(n1.gpus[0].shards_in_use && n1.gpus[1].shards_in_use && !n1.gpus[4].shards_in_use);
  EXPECT_TRUE(n1.gpus[2].used && n1.gpus[3].used && !n1.gpus[0].used);
  EXPECT_EQ(n1.gpus[0].shards_used, 30);
  EXPECT_EQ(n1.gpus[1].shards_used, 80);

  std::vector<const Job*> candidates = {by_id.at(5), by_id.at(6), by_id.at(7)};
  const BridgeSnapshot b = build_snapshot(nodes.items, candidates, {}, SnapshotOptions{{"gpu"}, 100, 1});
  ASSERT_EQ(b.snapshot.machines.size(), 2u);
  const Machine& m1 = b.snapshot.machines[0];
  std::vector<std::int32_t> free;
  for (const Gpu& g : m1.gpus) free.push_back(g.free_milli);
  EXPECT_EQ(free, (std::vector<std::int32_t>{700, 200, 0, 0, 1000, 1000, 1000, 1000}));
  EXPECT_EQ(b.snapshot.machines[1].gpus[0].free_milli, 500);  // v100: 10 shards a device, 5 in use
  EXPECT_EQ(m1.labels.at("shards.a100"), "true");
  EXPECT_EQ(m1.labels.at("shards"), "true");
  ASSERT_EQ(b.snapshot.jobs.size(), 1u);  // job 6
  const Task& six = b.snapshot.jobs[0].tasks[0];
  EXPECT_EQ(six.gpu_milli, 200);
  EXPECT_EQ(six.gpus, 0);
  EXPECT_EQ(six.gpu_models, std::vector<std::string>{"a100"});
  EXPECT_EQ(six.selector.at("shards.a100"), "true");
  std::map<std::uint32_t, std::string> why(b.left_out.begin(), b.left_out.end());
  ASSERT_EQ(why.size(), 2u);  // 5 and 7 name no type, and a100 and v100 split differently
  EXPECT_NE(why[7].find("different shards per device (10, 100)"), std::string::npos) << why[7];
  EXPECT_NE(why[5].find("name a type"), std::string::npos) << why[5];
  EXPECT_TRUE(validate(b.snapshot).ok()) << validate(b.snapshot).message;
}

// Shard requests a snapshot cannot carry, each with its reason; a pinned shard job not
// started yet takes its share off a device with room.
TEST(SlurmShards, RequestsThatCannotBeCarriedAndPinnedShares) {
  Parsed<Node> nodes = parse_sinfo_json(sample("sinfo_shards.json"));
  const Parsed<Job> jobs = parse_squeue_json(sample("squeue_shards.json"));
  count_shards_in_use(nodes.items, jobs.items);
  Job base;
  for (const Job& j : jobs.items)
    if (j.id == 6) base = j;
  std::vector<Job> asks;
  const auto ask = [&](std::uint32_t id, std::int32_t shards, const std::string& type) {
    Job j = base;
    j.id = id;
    j.shards = shards;
    j.gpu_type = type;
    asks.push_back(j);
  };
  ask(101, 150, "a100");  // more than one GPU's 100
  ask(102, 5, "t4");      // no t4 here
  ask(103, 100, "a100");  // a whole GPU's worth: carried
  std::vector<const Job*> candidates;
  for (const Job& j : asks) candidates.push_back(&j);
  const BridgeSnapshot b = build_snapshot(nodes.items, candidates, {}, {});
  std::map<std::uint32_t, std::string> why(b.left_out.begin(), b.left_out.end());
  EXPECT_NE(why[101].find("more than one GPU's 100"), std::string::npos) << why[101];
  EXPECT_NE(why[102].find("'t4'"), std::string::npos) << why[102];  // no t4 in the partition
  ASSERT_EQ(b.snapshot.jobs.size(), 1u);
  EXPECT_EQ(b.snapshot.jobs[0].tasks[0].gpu_milli, 1000);

  // Job 6 (20 a100 shards) pinned to n1: the first device with 200 thousandths free gives them.
  const BridgeSnapshot pinned = build_snapshot(nodes.items, {}, {Reserved{&base, "n1"}}, {});
  EXPECT_EQ(pinned.snapshot.machines[0].gpus[0].free_milli, 500);
}

// A job pinned to n3 that has not started yet holds room Slurm does not count: the
// snapshot takes it off n3 (CPUs, memory, one free v100).
TEST(SlurmSnapshot, PinnedJobsNotStartedYetTakeTheirRoom) {
  const Parsed<Node> nodes = parse_sinfo_json(sample("sinfo_four_nodes.json"));
  const Parsed<Job> jobs = parse_squeue_json(sample("squeue_nine_jobs.json"));
  const Job* five = nullptr;  // -w n3, 8 CPUs, 16000 MiB, one v100
  for (const Job& j : jobs.items)
    if (j.id == 5) five = &j;
  ASSERT_NE(five, nullptr);
  const BridgeSnapshot b = build_snapshot(nodes.items, {}, {Reserved{five, "n3"}}, {});
  const Machine& n3 = b.snapshot.machines.at(1);
  ASSERT_EQ(n3.id, "n3");
  EXPECT_EQ(n3.free_cpu_milli, (64 - 4 - 8) * 1000);
  EXPECT_EQ(n3.free_memory_mib, 256000 - 4000 - 16000);
  EXPECT_EQ(std::count_if(n3.gpus.begin(), n3.gpus.end(), [](const Gpu& g) { return g.free_milli > 0; }), 0);
}

// 22.05 writes a negative nice (--nice=-1000, root only) as its 32-bit two's complement.
TEST(SlurmJson, NegativeNiceIsReadAsWritten) {
  std::string text = sample("squeue_nine_jobs.json");
  const std::size_t at = text.find("\"nice\": null");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string_view("\"nice\": null").size(), "\"nice\": 4294966296");
  const Parsed<Job> p = parse_squeue_json(text);
  ASSERT_TRUE(p.ok()) << p.error;
  ASSERT_TRUE(p.skipped.empty()) << p.skipped[0];
  EXPECT_EQ(p.items[0].nice, -1000);
}

TEST(SlurmJson, BrokenDocumentsAreErrorsNamingWhy) {
  EXPECT_NE(parse_sinfo_json("{\"nodes\": [").error.find("not JSON"), std::string::npos);
  EXPECT_NE(parse_sinfo_json("[]").error.find("not a JSON object"), std::string::npos);
  EXPECT_NE(parse_sinfo_json("{\"nodes\": []}").error.find("meta.plugin.type"), std::string::npos);
  const std::string newer = R"({"meta":{"plugin":{"type":"openapi/v0.0.40"}},"nodes":[]})";
  EXPECT_NE(parse_sinfo_json(newer).error.find("v0.0.40"), std::string::npos);
  const std::string refused =
      R"({"meta":{"plugin":{"type":"openapi/v0.0.38"}},"errors":[{"error":"Unable to contact slurm controller"}],"jobs":[]})";
  EXPECT_NE(parse_squeue_json(refused).error.find("Unable to contact"), std::string::npos);
  // Truncated output of a killed command: every prefix is an error or a shorter list, never a crash.
  const std::string whole = sample("squeue_nine_jobs.json");
  for (std::size_t cut = 0; cut < whole.size(); cut += 97) {
    const Parsed<Job> p = parse_squeue_json(std::string_view(whole).substr(0, cut));
    EXPECT_FALSE(p.ok()) << cut;
  }
}

TEST(SlurmJson, BadRecordsAreSkippedWithTheirReasonAndTheRestKept) {
  std::string text = sample("sinfo_four_nodes.json");
  // n3's gres says it has v100s; make its use name a device it does not have.
  const std::size_t at = text.find("gpu:v100:3(IDX:0-2)");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 19, "gpu:v100:3(IDX:0,5,6)");
  const std::size_t gres = text.find("\"gres\": \"gpu:a100:4\"");
  ASSERT_NE(gres, std::string::npos);
  text.replace(gres, 20, "\"gres\": \"gpu:a100:x\"");  // n1: not a count
  const Parsed<Node> p = parse_sinfo_json(text);
  ASSERT_TRUE(p.ok()) << p.error;
  EXPECT_EQ(p.items.size(), 2u);
  ASSERT_EQ(p.skipped.size(), 2u);
  EXPECT_NE(p.skipped[0].find("node n1: gres 'gpu:a100:x'"), std::string::npos) << p.skipped[0];
  EXPECT_NE(p.skipped[1].find("node n3: gres_used names GPU 5"), std::string::npos) << p.skipped[1];
}

}  // namespace
}  // namespace sluice::slurm
