// Machine classes (cluster_index.cpp): machines with the same capacity, free resources,
// devices and labels share a class, and closed machines (none of which fits any shape) all
// go to one class of their own, wherever they stand in machine order.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cluster_index.hpp"
#include "sluice/allocate.hpp"
#include "sluice/snapshot.hpp"

namespace sluice {
namespace {

using namespace detail;

Machine machine(const std::string& id, std::int64_t free_cpu) {
  Machine m;
  m.id = id;
  m.rack = "r";
  m.cpu_milli = 8000;
  m.memory_mib = 16384;
  m.free_cpu_milli = free_cpu;
  m.free_memory_mib = 16384;
  return m;
}

Snapshot cluster_of(const std::vector<std::int64_t>& free_cpu) {
  Snapshot s;
  for (std::size_t i = 0; i < free_cpu.size(); ++i) s.machines.push_back(machine("m" + std::to_string(i), free_cpu[i]));
  Task t;
  t.id = "t";
  t.cpu_milli = 1000;
  t.memory_mib = 1024;
  Job j;
  j.id = "j";
  j.tasks.push_back(t);
  s.jobs.push_back(j);
  return s;
}

// Machines 0 and 3 closed; 1, 2 and 4 alike; 5 different. The closed class is created first,
// so the open classes' ids are one higher than their place among the open keys: a class
// table that forgot the closed class compared every key with the next class's (a heap
// overflow under ASan, and classes split that should be one).
TEST(MachineClasses, ClosedMachinesBeforeOpenOnesDoNotShiftTheClassKeys) {
  const Snapshot s = cluster_of({8000, 4000, 4000, 8000, 4000, 2000});
  ASSERT_TRUE(validate(s).ok());
  Cluster c = index_cluster(s, AllocateOptions{});
  const std::vector<std::uint8_t> open = {0, 1, 1, 0, 1, 1};
  classify_machines(c, &open);
  ASSERT_EQ(c.class_rep.size(), 3U);  // closed, {1, 2, 4}, {5}
  EXPECT_EQ(c.machines[0].machine_class, c.machines[3].machine_class);
  EXPECT_EQ(c.machines[1].machine_class, c.machines[2].machine_class);
  EXPECT_EQ(c.machines[1].machine_class, c.machines[4].machine_class);
  EXPECT_NE(c.machines[1].machine_class, c.machines[0].machine_class);
  EXPECT_NE(c.machines[5].machine_class, c.machines[1].machine_class);
  EXPECT_EQ(c.class_members[static_cast<std::size_t>(c.machines[1].machine_class)],
            (std::vector<std::int32_t>{1, 2, 4}));
}

// Without a mask every distinct machine has its class and alike machines share one.
TEST(MachineClasses, AlikeMachinesShareAClassWithoutAMask) {
  const Snapshot s = cluster_of({8000, 4000, 8000, 4000});
  Cluster c = index_cluster(s, AllocateOptions{});
  classify_machines(c);
  ASSERT_EQ(c.class_rep.size(), 2U);
  EXPECT_EQ(c.machines[0].machine_class, c.machines[2].machine_class);
  EXPECT_EQ(c.machines[1].machine_class, c.machines[3].machine_class);
}

}  // namespace
}  // namespace sluice
