// The snapshot, interned and grouped for the allocator: tasks into shapes (same demand,
// constraints, preferences and cost class), running tasks into groups (shape, machine),
// machines into classes (same capacity, free resources, devices and labels). Every later
// step (network building, repair, extraction) reads the snapshot through this index.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cluster_state.hpp"
#include "sluice/allocate.hpp"

namespace sluice::detail {

struct TaskRef {
  std::int32_t job = 0;
  std::int32_t task = 0;
};

struct Candidate {
  std::int32_t machine = 0;
  std::int64_t fit = 0;            // tasks of the shape that fit there (arc capacity)
  std::int64_t cost = 0;           // placement cost, preferences included
  std::int64_t fixed_running = 0;  // running tasks on the machine this shape cannot displace
};

struct Shape {
  Demand demand;
  std::vector<std::pair<std::string, std::string>> selector;
  std::vector<std::pair<std::int32_t, std::int64_t>> preferred_machines;  // machine, weight
  std::vector<std::pair<std::int32_t, std::int64_t>> preferred_racks;     // rack, weight
  std::int32_t priority = 0;  // of the first job seen (the cost class when it matters)
  std::int64_t wait_s = 0;
  std::vector<TaskRef> pending;  // snapshot order
  std::int64_t running = 0;
  std::vector<Candidate> candidates;  // cheapest first
};

struct RunningTask {
  TaskRef ref;
  std::int32_t shape = 0;
  std::int32_t machine = 0;
  std::int32_t device_begin = 0;  // its devices: Cluster::devices()
  std::int32_t device_count = 0;
  std::int32_t priority = 0;
};

struct RunningGroup {
  std::int32_t shape = 0;
  std::int32_t machine = 0;
  std::int32_t begin = 0;  // its tasks: Cluster::members()
  std::int32_t count = 0;
};

// The snapshot, interned, with its shapes and machine classes.
struct Cluster {
  const Snapshot* snapshot = nullptr;
  bool trace = false;  // AllocateOptions::trace: each step's time on stderr
  Names names;
  std::vector<std::string> racks;
  std::vector<MachineInfo> machines;
  std::vector<std::vector<std::int32_t>> rack_members;
  std::vector<std::int32_t> class_rep;  // a machine of each class
  std::vector<std::vector<std::int32_t>> class_members;
  std::vector<Shape> shapes;
  std::vector<std::int32_t> priorities;  // the snapshot's distinct job priorities, ascending
  // In a residual cluster (residual_cluster), each shape's index in the cluster it came
  // from; empty otherwise.
  std::vector<std::int32_t> shape_origin;
  std::vector<RunningTask> running;
  std::vector<RunningGroup> running_groups;
  // Flat storage behind the accessors below (one allocation each, not one per task).
  std::vector<std::int32_t> running_devices;
  std::vector<std::int32_t> group_tasks;
  std::vector<std::int32_t> running_on_begin;  // per machine + 1
  std::vector<std::int32_t> running_on_ids;

  // Device positions (in the machine's device list) a running task holds.
  [[nodiscard]] std::span<const std::int32_t> devices(const RunningTask& t) const {
    return {running_devices.data() + t.device_begin, static_cast<std::size_t>(t.device_count)};
  }
  // Indexes into `running` of a group's tasks, in snapshot order.
  [[nodiscard]] std::span<const std::int32_t> members(const RunningGroup& g) const {
    return {group_tasks.data() + g.begin, static_cast<std::size_t>(g.count)};
  }
  // Indexes into `running` of the tasks running on machine m.
  [[nodiscard]] std::span<const std::int32_t> running_on(std::int32_t m) const {
    const auto b = running_on_begin[static_cast<std::size_t>(m)];
    return {running_on_ids.data() + b, static_cast<std::size_t>(running_on_begin[static_cast<std::size_t>(m) + 1] - b)};
  }
};

// When `on` (AllocateOptions::trace), prints the time since `since` for a step; resets it.
void trace_step(bool on, const char* what, std::chrono::steady_clock::time_point& since);
// When `on`, prints a line about the allocation's progress.
void trace_note(bool on, const std::string& what);

// Interns the snapshot and groups tasks and machines (the snapshot must be valid).
[[nodiscard]] Cluster index_cluster(const Snapshot& snapshot, const AllocateOptions& options);

// (Re)groups the machines into classes by capacity, free resources, devices and labels, in
// machine order. With `open`, machines whose entry is 0 all go to one class: the caller
// knows that none of them fits any shape, and their differences do not matter.
void classify_machines(Cluster& c, const std::vector<std::uint8_t>* open = nullptr);

// The cluster a re-solve sees (allocate.cpp): machines with `free` as repair left them,
// classes regrouped, machines that cannot hold even the smallest of the demands in one
// closed class; only the shapes listed in `pending` (index into c.shapes, the tasks still
// without a machine), with shape_origin pointing back; nothing running, since the first
// solve decided every running task.
[[nodiscard]] Cluster residual_cluster(const Cluster& c, const std::vector<Resources>& free,
                                       const std::vector<std::pair<std::int32_t, std::vector<TaskRef>>>& pending,
                                       const std::atomic<bool>* cancel = nullptr);

// True when machine `m`'s labels satisfy every selector pair of the shape.
[[nodiscard]] bool labels_match(const Cluster& c, const Shape& s, std::int32_t m);

}  // namespace sluice::detail
