// DIMACS reader and writers: the sample datasets, the Firmament dialect, exact round
// trips, and malformed input that must end in a located error, never a crash.
#include "sluice/dimacs.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sys/resource.h>
#endif

namespace sluice {
namespace {

const std::string kDataDir = std::string(SLUICE_TEST_DATA_DIR) + "/mcf";

DimacsReadResult read_string(const std::string& text, std::string_view name = "test") {
  std::istringstream in(text);
  return read_dimacs(in, name);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Expected {
  std::int64_t nodes = 0;
  std::int64_t arcs = 0;
};

std::map<std::string, Expected> read_expected() {
  std::map<std::string, Expected> out;
  std::ifstream in(kDataDir + "/EXPECTED.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string file;
    Expected e;
    fields >> file >> e.nodes >> e.arcs;
    out[file] = e;
  }
  return out;
}

void expect_same_network(const Network& a, const Network& b) {
  EXPECT_EQ(a.supplies(), b.supplies());
  EXPECT_EQ(a.tails(), b.tails());
  EXPECT_EQ(a.heads(), b.heads());
  EXPECT_EQ(a.lowers(), b.lowers());
  EXPECT_EQ(a.capacities(), b.capacities());
  EXPECT_EQ(a.costs(), b.costs());
}

Network round_trip(const Network& network, std::string_view comment = {}) {
  std::ostringstream out;
  write_dimacs(out, network, comment);
  const DimacsReadResult back = read_string(out.str(), "round-trip");
  EXPECT_TRUE(back.ok) << back.error;
  return back.network;
}

// ---- the sample datasets ------------------------------------------------------------

TEST(DimacsDatasets, EveryFileReadsWithExpectedCounts) {
  const auto expected = read_expected();
  ASSERT_GE(expected.size(), 6u);
  std::set<std::string> seen;
  for (const auto& entry : std::filesystem::directory_iterator(kDataDir)) {
    if (entry.path().extension() != ".min") continue;
    const std::string file = entry.path().filename().string();
    seen.insert(file);
    SCOPED_TRACE(file);
    const auto it = expected.find(file);
    ASSERT_NE(it, expected.end()) << "not listed in EXPECTED.tsv";
    const DimacsReadResult r = read_dimacs_file(entry.path().string());
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.error.empty());
    EXPECT_EQ(r.network.num_nodes(), it->second.nodes);
    EXPECT_EQ(r.network.num_arcs(), it->second.arcs);
    std::int64_t balance = 0;
    for (const std::int64_t s : r.network.supplies()) balance += s;
    EXPECT_EQ(balance, 0);
  }
  for (const auto& [file, e] : expected) EXPECT_TRUE(seen.count(file)) << file << " missing";
}

TEST(DimacsDatasets, SmallGraphContents) {
  const DimacsReadResult r = read_dimacs_file(kDataDir + "/small_graph_neg_costs.min");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.network.supplies(), (std::vector<std::int64_t>{5, 0, 0, 0, 0, -5}));
  EXPECT_EQ(r.network.tails(), (std::vector<NodeId>{0, 0, 1, 1, 2, 2, 3, 4}));
  EXPECT_EQ(r.network.heads(), (std::vector<NodeId>{1, 2, 2, 3, 3, 4, 5, 5}));
  EXPECT_EQ(r.network.lowers(), (std::vector<std::int64_t>(8, 0)));
  EXPECT_EQ(r.network.capacities(), (std::vector<std::int64_t>{7, 7, 2, 3, 3, 2, 10, 10}));
  EXPECT_EQ(r.network.costs(), (std::vector<std::int64_t>{1, 5, -2, 8, -3, 4, 0, 0}));
  EXPECT_TRUE(r.node_names.empty());
  EXPECT_TRUE(r.node_types.empty());
}

TEST(DimacsDatasets, NetgenHasNoFirmamentExtras) {
  const DimacsReadResult r = read_dimacs_file(kDataDir + "/netgen_sr_08a.min");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.node_names.empty());
  EXPECT_TRUE(r.node_types.empty());
}

TEST(DimacsFirmament, NamesFromShortForm) {
  const DimacsReadResult r = read_dimacs_file(kDataDir + "/firmament_graph_4m_2crs_10j.min");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.node_names.size(), 28u);
  EXPECT_EQ(r.node_names[0], "Src");
  EXPECT_EQ(r.node_names[1], "T");
  EXPECT_EQ(r.node_names[10], "T");
  EXPECT_EQ(r.node_names[11], "Unsch");
  EXPECT_EQ(r.node_names[12], "Dev");
  EXPECT_EQ(r.node_names[15], "M");
  EXPECT_EQ(r.node_names[19], "C");
  EXPECT_EQ(r.node_names[27], "Snk");
  EXPECT_TRUE(r.node_types.empty());
}

TEST(DimacsFirmament, NamesFromIdForm) {
  const DimacsReadResult r = read_dimacs_file(kDataDir + "/firmament_graph_100m_4j_100t_10p.min");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.node_names.size(), 2703u);
  EXPECT_EQ(r.node_names[0], "SINK");
  EXPECT_EQ(r.node_names[1], "efda47ef-0553-41e2-b5e5-0c23e2daced6");
  EXPECT_EQ(r.node_names[2302], "UNSCHED_AGG_for_bfc2bac9-cd64-4f38-b862-c82fad2300fb");
  EXPECT_EQ(r.node_names[2303], "");  // `n 2304` has no `c nd` line
  EXPECT_EQ(r.node_names[2304], "EC_AGG_2654435769");
  EXPECT_EQ(r.node_names[2305], "");
}

TEST(DimacsFirmament, NodeTypesAndNameRules) {
  const DimacsReadResult r = read_string(
      "c nd ignored-before-p\n"
      "p min 4 1\n"
      "c nd 7 job_seven\n"
      "c an ordinary comment keeps the pending name\n"
      "n 2 1 3\n"
      "c nd dangling\n"
      "a 2 4 0 1 1\n"
      "n 4 -1\n"
      "c nd\n"
      "c nd 0\n"
      "c ndx not a name line\n"
      "n 1 0 -2\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.node_types.size(), 4u);
  EXPECT_EQ(r.node_types, (std::vector<int>{-2, 3, 0, 0}));
  ASSERT_EQ(r.node_names.size(), 4u);
  EXPECT_EQ(r.node_names[0], "0");  // a lone integer is a name, not an id
  EXPECT_EQ(r.node_names[1], "job_seven");
  EXPECT_EQ(r.node_names[2], "");
  EXPECT_EQ(r.node_names[3], "");  // the `a` line dropped "dangling"
  EXPECT_EQ(r.network.supplies(), (std::vector<std::int64_t>{0, 1, 0, -1}));
}

// ---- round trips --------------------------------------------------------------------

TEST(DimacsRoundTrip, EveryDataset) {
  for (const auto& entry : std::filesystem::directory_iterator(kDataDir)) {
    if (entry.path().extension() != ".min") continue;
    SCOPED_TRACE(entry.path().filename().string());
    const DimacsReadResult r = read_dimacs_file(entry.path().string());
    ASSERT_TRUE(r.ok) << r.error;
    expect_same_network(r.network, round_trip(r.network, "from the sample set"));
  }
}

TEST(DimacsRoundTrip, ExtremeValuesAndShapes) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  Network n(7);  // nodes 5 and 6 are isolated with zero supply: still counted
  n.set_supply(0, kMax);
  n.set_supply(1, kMin);
  n.set_supply(3, -1);
  n.add_arc(0, 1, 0, kInfiniteCapacity, kMin);
  n.add_arc(1, 0, -5, 5, kMax);  // negative lower bounds are the validator's business
  n.add_arc(2, 2, 0, 0, 0);      // self loop, zero capacity
  n.add_arc(0, 1, 3, 3, -7);     // parallel arc
  n.add_arc(3, 4, kMax, kMax, 1);
  const Network back = round_trip(n, "line one\nline two\n\nline four\n");
  EXPECT_EQ(back.num_nodes(), 7);
  expect_same_network(n, back);
}

TEST(DimacsRoundTrip, EmptyNetworks) {
  expect_same_network(Network{}, round_trip(Network{}));
  const Network back = round_trip(Network(3));
  EXPECT_EQ(back.num_nodes(), 3);
  EXPECT_EQ(back.num_arcs(), 0);
}

TEST(DimacsRoundTrip, RandomLargeAcrossChunkBoundaries) {
  // ~9 MB of text: more than two 4 MiB read chunks, so lines straddle buffer edges.
  std::mt19937_64 rng(12345);
  const NodeId nodes = 50000;
  Network n(nodes);
  for (int i = 0; i < 1000; ++i) {
    const auto v = static_cast<NodeId>(rng() % nodes);
    const auto s = static_cast<std::int64_t>(rng() % 1000);
    n.set_supply(v, n.supply(v) + s);
    n.set_supply((v + 1) % nodes, n.supply((v + 1) % nodes) - s);
  }
  for (int i = 0; i < 300000; ++i) {
    const auto lower = static_cast<std::int64_t>(rng() % 10);
    n.add_arc(static_cast<NodeId>(rng() % nodes), static_cast<NodeId>(rng() % nodes), lower,
              lower + static_cast<std::int64_t>(rng() % 1000000000000),
              static_cast<std::int64_t>(rng() % 2000001) - 1000000);
  }
  expect_same_network(n, round_trip(n));
}

TEST(DimacsRoundTrip, WriterOutputShape) {
  Network n(3);
  n.set_supply(0, 2);
  n.set_supply(2, -2);
  n.add_arc(0, 1, 0, 4, 3);
  n.add_arc(1, 2, 1, kInfiniteCapacity, -1);
  std::ostringstream out;
  write_dimacs(out, n, "hello\nworld");
  EXPECT_EQ(out.str(),
            "c hello\nc world\np min 3 2\nn 1 2\nn 3 -2\na 1 2 0 4 3\n"
            "a 2 3 1 9223372036854775807 -1\n");
}

// ---- solutions ----------------------------------------------------------------------

TEST(DimacsSolution, OptimalWithFlows) {
  Network n(3);
  n.add_arc(0, 1, 0, 4, 3);
  n.add_arc(1, 2, 0, 4, 1);
  n.add_arc(0, 2, 0, 4, 9);
  SolveResult r;
  r.status = Status::kOptimal;
  r.backend = Backend::kCpu;
  r.algorithm = "cost-scaling push-relabel";
  r.total_cost = 8;
  r.flow = {2, 2, 0};
  std::ostringstream with;
  write_dimacs_solution(with, n, r, true);
  EXPECT_EQ(with.str(),
            "c backend: cpu\nc algorithm: cost-scaling push-relabel\ns 8\nf 1 2 2\nf 2 3 2\n");
  std::ostringstream without;
  write_dimacs_solution(without, n, r, false);
  EXPECT_EQ(without.str(), "c backend: cpu\nc algorithm: cost-scaling push-relabel\ns 8\n");
}

TEST(DimacsSolution, NonOptimalWritesStatusAndMessage) {
  Network n(2);
  n.add_arc(0, 1, 0, 1, 1);
  SolveResult r;
  r.status = Status::kInfeasible;
  r.backend = Backend::kGpu;
  r.algorithm = "cost-scaling";
  r.fell_back = true;
  r.fallback_reason = "no device";
  r.message = "supply 5 cannot reach\nthe sinks";
  std::ostringstream out;
  write_dimacs_solution(out, n, r, true);
  EXPECT_EQ(out.str(),
            "c backend: gpu\nc algorithm: cost-scaling\nc fallback: no device\n"
            "c status: infeasible\nc supply 5 cannot reach\nc the sinks\n");
}

// ---- malformed input ----------------------------------------------------------------

struct BadCase {
  const char* text;
  int line;
  const char* phrase;
};

const BadCase kBadCases[] = {
    {"", 1, "empty file"},
    {"\n  \n\t\n", 3, "empty file"},
    {"c only a comment\n\n", 2, "missing 'p' line"},
    {"n 1 5\np min 2 0\n", 1, "missing 'p' line"},
    {"c x\na 1 2 0 1 1\n", 2, "missing 'p' line"},
    {"p min 2 0\np min 2 0\n", 2, "duplicate 'p' line"},
    {"p max 2 0\n", 1, "problem type 'min', found 'max'"},
    {"c a header no machine here can hold\np min 2000000000 1000000000\n", 2,
     "fits in memory"},
    {"p min 2\n", 1, "wrong field count"},
    {"p min 2 1 9\n", 1, "wrong field count"},
    {"p min 2 1\na 1 2 0 1\n", 2, "wrong field count"},
    {"p min 2 1\na 1 2 0 1 1 7\n", 2, "wrong field count"},
    {"p min 2 0\nn 1\n", 2, "wrong field count"},
    {"p min 2 0\nn 1 2 3 4\n", 2, "wrong field count"},
    {"p min x 0\n", 1, "integer node count, found 'x'"},
    {"p min 2 y\n", 1, "integer arc count, found 'y'"},
    {"p min 2 1\na 1 2 0 1 1.5\n", 2, "integer COST, found '1.5'"},
    {"p min 2 1\na 1 2 0 abc 1\n", 2, "integer CAP, found 'abc'"},
    {"p min 2 1\na 1 2 0 1 1x\n", 2, "integer COST, found '1x'"},
    {"p min 2 0\nn 1 +-5\n", 2, "integer SUPPLY"},
    {"p min 2 0\nn one 5\n", 2, "integer ID"},
    {"p min 2 1\na 1 2 0 99999999999999999999 1\n", 2, "integer overflow"},
    {"p min 2 0\nn 1 -9223372036854775809\n", 2, "integer overflow"},
    {"p min 2 1\nc\n\na 1 3 0 1 1\n", 4, "node id out of range"},
    {"p min 2 1\na 0 2 0 1 1\n", 2, "node id out of range"},
    {"p min 2 1\na 1 99999999999 0 1 1\n", 2, "found '99999999999'"},
    {"p min 2 0\nn 3 1\n", 2, "node id out of range"},
    {"p min 2 0\nn 1 5\nn 1 -5\n", 3, "duplicate 'n' line for node 1"},
    {"p min 2 1\na 1 2 0 1 1\na 2 1 0 1 1\n", 3, "too many arcs"},
    {"p min 2 2\na 1 2 0 1 1\n", 2, "declared 2 arcs, found 1"},
    {"p min 2 3\na 1 2 0 1 1\nc trailing\n\n", 4, "declared 3 arcs, found 1"},
    {"p min 2 1\na 1 2 0 -1 1\n", 2, "CAP >= 0, found '-1'"},
    {"p min 2 1\na 1 2 5 3 1\n", 2, "LOW <= capacity CAP, found '5 > 3'"},
    {"p min 2 0\nx 1 2\n", 2, "unknown line type"},
    {"p min 2 0\nnode 1 5\n", 2, "unknown line type"},
    {"p min 2 1\ns 5\n", 2, "unknown line type"},
    {"p min 2 0\n\x01\x02zz\n", 2, "found '??zz'"},
    {"p min 99999999999 1\n", 1, "node count out of range"},
    {"p min 999999999999999999999 1\n", 1, "node count out of range"},
    {"p min -1 0\n", 1, "node count out of range"},
    {"p min 2147483647 0\n", 1, "node count out of range"},  // kMaxNodes + 1
    {"p min 2 -1\n", 1, "arc count out of range"},
    {"p min 2 1073741824\n", 1, "arc count out of range"},  // kMaxArcs + 1
    {"p min 2 0\nn 1 5 x\n", 2, "integer TYPE"},
    {"p min 2 0\nn 1 5 99999999999\n", 2, "TYPE within 32-bit range"},
};

TEST(DimacsMalformed, EachCaseNamesLineAndProblem) {
  int index = 0;
  for (const BadCase& c : kBadCases) {
    SCOPED_TRACE("case " + std::to_string(index++) + ": " + c.text);
    const DimacsReadResult r = read_string(c.text, "bad.min");
    EXPECT_FALSE(r.ok);
    const std::string prefix = "bad.min:" + std::to_string(c.line) + ": ";
    EXPECT_EQ(r.error.rfind(prefix, 0), 0u) << r.error;
    EXPECT_NE(r.error.find(c.phrase), std::string::npos) << r.error;
    // A failed read leaves nothing half-built behind.
    EXPECT_EQ(r.network.num_nodes(), 0);
    EXPECT_EQ(r.network.num_arcs(), 0);
    EXPECT_TRUE(r.node_names.empty());
    EXPECT_TRUE(r.node_types.empty());
  }
  EXPECT_GE(index, 20);
}

TEST(DimacsMalformed, AcceptsWhitespaceVariantsAndCrlf) {
  const DimacsReadResult r = read_string(
      "c windows\r\n\r\n  p\tmin  3 2 \r\nn 1 +4\r\nn 3 -4\r\na 1 2 0 4 1\r\na 2 3 0 4 1");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.network.supplies(), (std::vector<std::int64_t>{4, 0, -4}));
  EXPECT_EQ(r.network.num_arcs(), 2);
}

TEST(DimacsMalformed, TruncatedFileIsAnErrorNotACrash) {
  const std::string text = slurp(kDataDir + "/firmament_graph_4m_2crs_10j.min");
  ASSERT_FALSE(text.empty());
  // Every cut before the last `a` line leaves arcs missing or a line broken.
  const std::size_t last_line = text.rfind('\n', text.size() - 2);
  ASSERT_NE(last_line, std::string::npos);
  for (std::size_t cut = 0; cut < last_line; ++cut) {
    const DimacsReadResult r = read_string(text.substr(0, cut), "cut.min");
    ASSERT_FALSE(r.ok) << "cut at " << cut;
    ASSERT_EQ(r.error.rfind("cut.min:", 0), 0u) << r.error;
  }
  // Cut in the middle of an arc line: that line is reported.
  const std::size_t arc = text.find("\na 2 12 0 1 100\n");
  ASSERT_NE(arc, std::string::npos);
  const DimacsReadResult mid = read_string(text.substr(0, arc + 8), "cut.min");
  EXPECT_FALSE(mid.ok);
  EXPECT_NE(mid.error.find("wrong field count"), std::string::npos) << mid.error;
}

TEST(DimacsMalformed, HugeDeclaredArcCountFailsWithoutAllocating) {
#if defined(__linux__)
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
#endif
  const DimacsReadResult r = read_string("p min 3 1000000000\na 1 2 0 1 1\na 2 3 0 1 1\n");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("test:3: declared 1000000000 arcs, found 2"), std::string::npos)
      << r.error;
#if defined(__linux__)
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 256 * 1024) << "KiB of peak memory grew";
#endif
}

// A stream that cannot seek, like a pipe: no size hint, same result.
class UnseekableBuf : public std::streambuf {
 public:
  explicit UnseekableBuf(std::string text) : text_(std::move(text)) {
    setg(text_.data(), text_.data(), text_.data() + text_.size());
  }

 private:
  std::string text_;
};

TEST(DimacsStreams, UnseekableStreamAndHugeDeclaredCount) {
  UnseekableBuf buf("p min 3 1000000000\nn 1 1\nn 3 -1\na 1 3 0 1 1\n");
  std::istream in(&buf);
  const DimacsReadResult r = read_dimacs(in, "pipe");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("pipe:4: declared 1000000000 arcs, found 1"), std::string::npos)
      << r.error;
  UnseekableBuf good_buf(slurp(kDataDir + "/small_graph.min"));
  std::istream good(&good_buf);
  const DimacsReadResult g = read_dimacs(good, "pipe");
  ASSERT_TRUE(g.ok) << g.error;
  EXPECT_EQ(g.network.num_arcs(), 8);
}

TEST(DimacsStreams, OverlongLines) {
  const std::string huge(5u << 20, 'x');  // longer than the 4 MiB read chunk
  const DimacsReadResult comment =
      read_string("p min 2 1\nc nd " + huge + "\nn 1 1\nn 2 -1\na 1 2 0 1 1\n");
  ASSERT_TRUE(comment.ok) << comment.error;
  ASSERT_EQ(comment.node_names.size(), 2u);
  EXPECT_FALSE(comment.node_names[0].empty());  // kept, cut short
  const DimacsReadResult data = read_string("p min 2 1\na 1 2 0 1 " + huge + "\n");
  EXPECT_FALSE(data.ok);
  EXPECT_EQ(data.error.rfind("test:2: ", 0), 0u) << data.error.substr(0, 200);
  EXPECT_LT(data.error.size(), 400u);
}

TEST(DimacsStreams, FailedStreamAndMissingFile) {
  std::istringstream in("p min 1 0\n");
  in.setstate(std::ios::failbit);
  EXPECT_FALSE(read_dimacs(in, "s").ok);
  const DimacsReadResult r = read_dimacs_file(kDataDir + "/no_such_file.min");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "cannot open " + kDataDir + "/no_such_file.min: No such file or directory");
  const DimacsReadResult dir = read_dimacs_file(kDataDir);
  EXPECT_FALSE(dir.ok);
  EXPECT_FALSE(dir.error.empty());
}

}  // namespace
}  // namespace sluice
