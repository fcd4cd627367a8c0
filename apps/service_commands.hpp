// The service's subcommands of the `sluice` tool: serve, submit, replay.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace sluice::cli {

class ServiceCommands {
 public:
  explicit ServiceCommands(CLI::App& app);
  ~ServiceCommands();
  // The exit code of the chosen subcommand; nullopt when none of these was chosen.
  [[nodiscard]] std::optional<int> run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::cli
