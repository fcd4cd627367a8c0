// `sluice slurm`: the Slurm bridge daemon (include/sluice/slurm_bridge.hpp, docs/slurm.md).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace sluice::cli {

class SlurmCommand {
 public:
  explicit SlurmCommand(CLI::App& app);
  ~SlurmCommand();
  // The exit code when `slurm` was chosen; nullopt otherwise.
  [[nodiscard]] std::optional<int> run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::cli
