// allocate_indexed() and its wire codec: the indexed result stands for exactly what
// allocate() returns, survives an encode/decode round trip, and bad positions or bytes are
// refused with a message instead of read out of range.
#include <gtest/gtest.h>

#include <string>

#include "sluice/allocate.hpp"
#include "sluice/protocol.hpp"
#include "sluice/snapshot_generator.hpp"

namespace sluice {
namespace {

Snapshot generated(std::uint64_t seed, double running) {
  SnapshotGenParams p;
  p.machines = 60;
  p.tasks = 900;
  p.running_share = running;
  p.gpu_machine_share = 0.5;
  p.seed = seed;
  return generate_snapshot(p);
}

void expect_same_lists(const Allocation& a, const Allocation& b) {
  ASSERT_EQ(a.placements.size(), b.placements.size());
  for (std::size_t i = 0; i < a.placements.size(); ++i) {
    EXPECT_EQ(a.placements[i].job, b.placements[i].job);
    EXPECT_EQ(a.placements[i].task, b.placements[i].task);
    EXPECT_EQ(a.placements[i].machine, b.placements[i].machine);
    EXPECT_EQ(a.placements[i].gpu_indexes, b.placements[i].gpu_indexes);
  }
  ASSERT_EQ(a.kept.size(), b.kept.size());
  for (std::size_t i = 0; i < a.kept.size(); ++i) {
    EXPECT_EQ(a.kept[i].task, b.kept[i].task);
    EXPECT_EQ(a.kept[i].machine, b.kept[i].machine);
    EXPECT_EQ(a.kept[i].gpu_indexes, b.kept[i].gpu_indexes);
  }
  ASSERT_EQ(a.migrations.size(), b.migrations.size());
  for (std::size_t i = 0; i < a.migrations.size(); ++i) {
    EXPECT_EQ(a.migrations[i].task, b.migrations[i].task);
    EXPECT_EQ(a.migrations[i].from_machine, b.migrations[i].from_machine);
    EXPECT_EQ(a.migrations[i].machine, b.migrations[i].machine);
    EXPECT_EQ(a.migrations[i].gpu_indexes, b.migrations[i].gpu_indexes);
  }
  ASSERT_EQ(a.preemptions.size(), b.preemptions.size());
  for (std::size_t i = 0; i < a.preemptions.size(); ++i) {
    EXPECT_EQ(a.preemptions[i].task, b.preemptions[i].task);
    EXPECT_EQ(a.preemptions[i].machine, b.preemptions[i].machine);
    EXPECT_EQ(a.preemptions[i].reason, b.preemptions[i].reason);
  }
  ASSERT_EQ(a.unscheduled.size(), b.unscheduled.size());
  for (std::size_t i = 0; i < a.unscheduled.size(); ++i) {
    EXPECT_EQ(a.unscheduled[i].job, b.unscheduled[i].job);
    EXPECT_EQ(a.unscheduled[i].task, b.unscheduled[i].task);
    EXPECT_EQ(a.unscheduled[i].reason, b.unscheduled[i].reason);
    EXPECT_EQ(a.unscheduled[i].message, b.unscheduled[i].message);
  }
}

// Every cost model, with and without running tasks: expand(allocate_indexed) is allocate.
TEST(IndexedAllocation, ExpandsToWhatAllocateReturns) {
  int lists_seen = 0;
  for (const double running : {0.0, 0.4}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      const Snapshot s = generated(seed, running);
      for (const CostModel model : {CostModel::kLoadSpreading, CostModel::kPacking, CostModel::kQuincy,
                                    CostModel::kPriority, CostModel::kFgd}) {
        SCOPED_TRACE("seed " + std::to_string(seed) + ", running " + std::to_string(running) + ", model " +
                     std::string(to_string(model)));
        AllocateOptions o;
        o.cost_model = model;
        const Allocation ids = allocate(s, o);
        const IndexedAllocation indexed = allocate_indexed(s, o);
        ASSERT_EQ(ids.status, Status::kOptimal) << ids.message;
        EXPECT_TRUE(indexed.summary.placements.empty());
        EXPECT_EQ(indexed.summary.objective, ids.objective);
        const Allocation expanded = expand(indexed, s);
        ASSERT_EQ(expanded.status, Status::kOptimal) << expanded.message;
        expect_same_lists(expanded, ids);
        lists_seen += (ids.migrations.empty() ? 0 : 1) + (ids.preemptions.empty() ? 0 : 1) +
                      (ids.unscheduled.empty() ? 0 : 1);
      }
    }
  }
  EXPECT_GT(lists_seen, 10);  // the runs did exercise migrations, preemptions and reasons
}

TEST(IndexedAllocation, RoundTripsThroughTheWireCodec) {
  const Snapshot s = generated(7, 0.4);
  AllocateOptions o;
  o.cost_model = CostModel::kPriority;
  o.solve.verify = true;
  const IndexedAllocation indexed = allocate_indexed(s, o);
  const std::string bytes = encode_indexed_allocation(indexed);
  ASSERT_FALSE(bytes.empty());
  const IndexedAllocationDecodeResult back = decode_indexed_allocation(bytes);
  ASSERT_TRUE(back.ok) << back.error;
  EXPECT_EQ(encode_indexed_allocation(back.allocation), bytes);
  ASSERT_TRUE(back.allocation.summary.certificate.has_value());
  expect_same_lists(expand(back.allocation, s), allocate(s, o));
  // The columns are a fraction of the ids body.
  EXPECT_LT(bytes.size(), encode_allocation(allocate(s, o), BodyFormat::kBinary).size() / 2);
}

TEST(IndexedAllocation, EveryTruncationIsRefusedWithAMessage) {
  const IndexedAllocation indexed = allocate_indexed(generated(2, 0.3), AllocateOptions{});
  const std::string bytes = encode_indexed_allocation(indexed);
  for (std::size_t n = 0; n < bytes.size(); n += 1 + n / 64) {
    const IndexedAllocationDecodeResult r = decode_indexed_allocation(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(r.ok) << "a prefix of " << n << " of " << bytes.size() << " bytes decoded";
    EXPECT_FALSE(r.error.empty());
  }
  const IndexedAllocationDecodeResult extra = decode_indexed_allocation(bytes + "x");
  EXPECT_FALSE(extra.ok);
  EXPECT_NE(extra.error.find("left over"), std::string::npos) << extra.error;
}

TEST(IndexedAllocation, RefusesBadReferencesAndCodes) {
  const Snapshot s = generated(4, 0.0);
  const IndexedAllocation good = allocate_indexed(s, AllocateOptions{});
  ASSERT_FALSE(good.placements.task.empty());
  ASSERT_FALSE(good.unscheduled_task.empty());

  IndexedAllocation bad_message = good;
  bad_message.unscheduled_message[0] = static_cast<std::uint32_t>(good.messages.size());
  const IndexedAllocationDecodeResult r1 = decode_indexed_allocation(encode_indexed_allocation(bad_message));
  EXPECT_FALSE(r1.ok);
  EXPECT_NE(r1.error.find("unscheduled"), std::string::npos) << r1.error;

  IndexedAllocation bad_gpus = good;
  bad_gpus.placements.gpu_begin.back() += 1;
  const IndexedAllocationDecodeResult r2 = decode_indexed_allocation(encode_indexed_allocation(bad_gpus));
  EXPECT_FALSE(r2.ok);
  EXPECT_NE(r2.error.find("gpu_begin"), std::string::npos) << r2.error;

  IndexedAllocation bad_reason = good;
  bad_reason.unscheduled_reason[0] = static_cast<UnscheduledReason>(9);
  const IndexedAllocationDecodeResult r3 = decode_indexed_allocation(encode_indexed_allocation(bad_reason));
  EXPECT_FALSE(r3.ok);
  EXPECT_NE(r3.error.find("reason"), std::string::npos) << r3.error;

  // Positions that decode but do not fit the snapshot: expand() says so.
  IndexedAllocation bad_task = good;
  bad_task.placements.task[0] = 1'000'000;
  const Allocation e1 = expand(bad_task, s);
  EXPECT_EQ(e1.status, Status::kInvalidInput);
  EXPECT_NE(e1.message.find("task position 1000000"), std::string::npos) << e1.message;
  EXPECT_TRUE(e1.placements.empty());

  IndexedAllocation bad_machine = good;
  bad_machine.placements.machine[0] = static_cast<std::uint32_t>(s.machines.size());
  const Allocation e2 = expand(bad_machine, s);
  EXPECT_EQ(e2.status, Status::kInvalidInput);
  EXPECT_NE(e2.message.find("machine position"), std::string::npos) << e2.message;
}

}  // namespace
}  // namespace sluice
