// Running one of Slurm's commands (sinfo, squeue, scontrol): an argument vector, never a
// shell line; its input written, its output read, both bounded; killed past a deadline.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::slurm {

struct CommandResult {
  bool started = false;  // false: it could not be run at all (error says why)
  int exit_code = -1;    // the command's status, or 128 + signal
  bool timed_out = false;
  std::string out;
  std::string err;
  std::string error;  // why it did not run or complete (empty when it exited by itself)
  [[nodiscard]] bool ok() const { return started && !timed_out && exit_code == 0 && error.empty(); }
};

struct CommandLimits {
  std::int32_t timeout_ms = 30'000;
  std::size_t max_output_bytes = std::size_t{512} << 20;  // stdout, stderr each
};

[[nodiscard]] CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = {},
                                        const CommandLimits& limits = {});

}  // namespace sluice::slurm
