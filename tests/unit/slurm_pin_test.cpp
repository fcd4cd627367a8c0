// The bridge's record of a pin in the job's admin comment: what it writes reads back the
// same, comments from before the node and the kind were recorded still read, and anything
// else (a user's comment, a malformed time, an unknown kind) is not taken for a pin.
#include <gtest/gtest.h>

#include "sluice/slurm_bridge.hpp"

namespace sluice::slurm {
namespace {

TEST(SlurmPin, WhatIsWrittenReadsBack) {
  for (const PinHow how : {PinHow::kNodeList, PinHow::kExclude, PinHow::kOwn}) {
    const std::string comment = pin_comment(Pin{1765000000, "gpu-a017", how});
    const std::optional<Pin> pin = read_pin(comment);
    ASSERT_TRUE(pin.has_value()) << comment;
    EXPECT_EQ(pin->at, 1765000000);
    EXPECT_EQ(pin->node, "gpu-a017");
    EXPECT_EQ(pin->how, how);
    EXPECT_EQ(pinned_at(comment), 1765000000);
  }
  EXPECT_EQ(pin_comment(Pin{5, "n1", PinHow::kExclude}), "sluice:pinned@5:n1:exclude");
}

TEST(SlurmPin, OlderCommentsAreNodeListPins) {
  const std::optional<Pin> bare = read_pin("sluice:pinned@17");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->at, 17);
  EXPECT_TRUE(bare->node.empty());
  EXPECT_EQ(bare->how, PinHow::kNodeList);
  const std::optional<Pin> with_node = read_pin("sluice:pinned@17:n3");
  ASSERT_TRUE(with_node.has_value());
  EXPECT_EQ(with_node->node, "n3");
  EXPECT_EQ(with_node->how, PinHow::kNodeList);
}

TEST(SlurmPin, OtherCommentsAreNotPins) {
  for (const char* comment : {"", "sluice:passed", "sluice:unpinned@12", "pinned@12", "sluice:pinned@",
                              "sluice:pinned@x", "sluice:pinned@-3", "sluice:pinned@12x:n1",
                              "sluice:pinned@12:n1:sideways", "sluice:pinned@12:n1:exclude:more",
                              "sluice:pinned@99999999999999999999999"}) {
    EXPECT_FALSE(read_pin(comment).has_value()) << comment;
    EXPECT_EQ(pinned_at(comment), -1) << comment;
  }
}

}  // namespace
}  // namespace sluice::slurm
