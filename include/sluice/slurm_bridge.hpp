// The Slurm bridge: each round, what Slurm says → a snapshot → an allocation → pins.
//
// Which jobs it manages is explicit in Slurm's own configuration: the jobs of one queue
// partition, configured State=DOWN, so that they queue there with their real priority and
// Slurm's scheduler never starts them. The bridge places them and moves each one it placed
// to the run partition (same nodes, State=UP), pinned to its node; Slurm then starts it
// there. (A job_submit rule that holds jobs would lose their priority: a held job shows 0.)
//
// A pin is one `scontrol update` of the job: Partition=RUN, the node, and the admin comment
// sluice:pinned@T:NODE:HOW, which says how the node was given, so that an unpin undoes
// exactly that and leaves the user's own request as it was:
//   exclude   ExcNodeList = every other node of the run partition. scontrol sends this
//             as one request to slurmctld, where NodeList costs three (it first loads the
//             federation and the job): 1,000 pins take 1.0 s instead of 2.4 s from one
//             scontrol (bench/results/slurm_latency). Used for jobs that name no nodes of
//             their own, while that hostlist stays short (exclusion_pin_max_chars);
//   nodelist  NodeList=NODE, for the others (a job's own --exclude is kept);
//   own       nothing: the job's own --nodelist already names the one node.
// An exclusion pin lets Slurm start the job on a node added to the run partition after the
// round read it; the read-back then reports where it went.
//
// Slurm stays the authority, and everything the bridge knows between rounds is in Slurm: a
// job is queued (queue partition), pinned (run partition, admin comment sluice:pinned@…) or
// handed over (run partition, sluice:passed). So a restart of the bridge, of slurmctld or
// of the allocation service loses nothing and applies nothing twice: a pinned job is no
// longer a candidate. Per round:
//   1. read `sinfo --json` and `squeue --json` (a parser per schema version, slurm.hpp);
//   2. jobs of the queue partition that a user or an administrator holds, or that wait for
//      something besides a place (a dependency, a begin time, a limit), are left alone;
//      jobs whose request a snapshot cannot carry (several nodes, …) are handed to Slurm's
//      scheduler unpinned, with the reason logged; pinned jobs that have not started within
//      pin_timeout_s go back to the queue, unpinned;
//   3. the snapshot: the run partition's schedulable nodes with Slurm's free amounts, less
//      what pinned, not yet started jobs will take; the queued jobs as tasks;
//   4. the allocation (in process or from `sluice serve`);
//   5. `scontrol` processes (apply_processes, side by side) apply every pin, reading their
//      commands on stdin;
//   6. `squeue` again: a placement that did not take (the job was cancelled, the node
//      changed) is logged as refused and the job, still queued, is placed next round.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sluice/allocate.hpp"
#include "sluice/slurm.hpp"

namespace sluice::slurm {

struct BridgeOptions {
  std::string queue_partition = "gpu";
  std::string run_partition = "gpu-run";
  std::int64_t pin_timeout_s = 120;  // a pinned job not started by then goes back to the queue
  std::string sinfo = "sinfo";       // the commands (PATH is searched)
  std::string squeue = "squeue";
  std::string scontrol = "scontrol";
  std::int32_t command_timeout_ms = 30'000;
  // scontrol processes that apply a round's pins side by side (each reads its share of the
  // commands on stdin): with 8 processes 1,000 NodeList pins took 1.1 s instead of 2.1 s
  // (bench/results/slurm_latency/scontrol_by_hand.txt).
  std::int32_t apply_processes = 8;
  // Pins by exclusion (see above) while the run partition's other nodes fit a hostlist of
  // at most this many characters (0: always NodeList). Node names that compress into
  // ranges ("gpu[001-480]") stay short at any size; a list of unrelated names would make
  // every command long, and slurmctld parse it every time.
  std::size_t exclusion_pin_max_chars = 1024;
  // Pins applied per round, the highest priority first (0: all): a bound on the round's time
  // when many jobs arrive at once. The placements left wait for the next round.
  std::int64_t max_pins = 0;
};

// The allocation of one round's snapshot (sluice::allocate in process, or a Client call).
// An allocation whose status is not kOptimal places nothing this round.
using Allocator = std::function<Allocation(const Snapshot&)>;

struct RoundReport {
  bool ok = false;     // Slurm was read and the round ran (a refused pin still counts as ok)
  std::string error;   // why not
  std::int64_t nodes = 0;        // machines in the snapshot
  std::int64_t queued = 0;       // pending jobs of the queue partition
  std::int64_t held = 0;         // of those, held by a user or an administrator: untouched
  std::int64_t not_eligible = 0; // of those, waiting for a dependency, a begin time, a limit
  std::int64_t candidates = 0;   // jobs in the snapshot
  std::int64_t placed = 0;       // the allocation's placements
  std::int64_t pinned = 0;       // placements Slurm took (checked by reading back)
  std::int64_t refused = 0;      // placements that did not take (retried next round)
  std::int64_t passed = 0;       // handed to Slurm's scheduler, unpinned
  std::int64_t unpinned = 0;     // pinned jobs sent back to the queue (not started in time)
  std::int64_t unscheduled = 0;  // candidates the allocation did not place
  std::int64_t deferred = 0;     // placements not pinned this round (max_pins)
  std::int64_t skipped_records = 0;  // nodes or jobs Slurm described in a way we could not read
  std::int64_t listed = 0;  // job records squeue listed, finished ones included (its time grows with them)
  double read_s = 0, allocate_s = 0, apply_s = 0, total_s = 0;
  std::vector<std::string> log;  // one line per event worth an operator's attention
};

class Bridge {
 public:
  explicit Bridge(BridgeOptions options);
  // One round at time `now` (seconds since the epoch; 0: the clock).
  RoundReport round(const Allocator& allocate, std::int64_t now = 0);

 private:
  // Runs the scontrol commands; what went wrong starting or finishing them.
  [[nodiscard]] std::vector<std::string> apply(const std::vector<std::string>& commands) const;

  BridgeOptions o_;
  std::int64_t rounds_ = 0;
};

// How a job was pinned, as its admin comment "sluice:pinned@T:NODE:HOW" says.
enum class PinHow { kNodeList, kExclude, kOwn };

struct Pin {
  std::int64_t at = 0;  // the round's time
  std::string node;     // empty in comments written before the node was recorded
  PinHow how = PinHow::kNodeList;
};

// The pin an admin comment records (nullopt: not one of ours, or malformed), and the
// comment for one.
[[nodiscard]] std::optional<Pin> read_pin(const std::string& admin_comment);
[[nodiscard]] std::string pin_comment(const Pin& pin);

// The time in a "sluice:pinned@T…" admin comment, or -1.
[[nodiscard]] std::int64_t pinned_at(const std::string& admin_comment);

}  // namespace sluice::slurm
