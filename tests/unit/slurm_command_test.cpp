// run_command, which the Slurm bridge starts sinfo, squeue and scontrol with: an argument
// vector (no shell), input fed while output is drained, a deadline, bounded output, and a
// child that stops reading its input early without killing us (SIGPIPE).
#include "command.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace sluice::slurm {
namespace {

TEST(SlurmCommand, RunsAnArgumentVectorAndFeedsItsInput) {
  const CommandResult r = run_command({"cat"}, "hello\nworld\n");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.out, "hello\nworld\n");
  // A shell line is one argument, not a command: nothing is interpreted.
  const CommandResult quoted = run_command({"echo", "$(touch /tmp/sluice-injected); x"});
  EXPECT_EQ(quoted.out, "$(touch /tmp/sluice-injected); x\n");
}

TEST(SlurmCommand, ExitCodesStderrAndMissingCommands) {
  const CommandResult r = run_command({"sh", "-c", "echo oops >&2; exit 3"});
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "oops\n");
  const CommandResult missing = run_command({"/nonexistent/sinfo", "--json"});
  EXPECT_FALSE(missing.started);
  EXPECT_NE(missing.error.find("cannot run /nonexistent/sinfo"), std::string::npos) << missing.error;
}

TEST(SlurmCommand, ADeadlineKillsIt) {
  CommandLimits limits;
  limits.timeout_ms = 200;
  const auto t0 = std::chrono::steady_clock::now();
  const CommandResult r = run_command({"sleep", "30"}, {}, limits);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(SlurmCommand, LargeInputAndOutputTogetherAndAChildThatStopsReading) {
  const std::string big(4 << 20, 'x');  // more than a pipe holds, both ways
  const CommandResult echoed = run_command({"cat"}, big);
  ASSERT_TRUE(echoed.ok()) << echoed.error;
  EXPECT_EQ(echoed.out.size(), big.size());
  const CommandResult early = run_command({"head", "-c", "10"}, big);  // exits after 10 bytes
  EXPECT_TRUE(early.started);
  EXPECT_EQ(early.out, std::string(10, 'x'));
  CommandLimits small;
  small.max_output_bytes = 1000;
  const CommandResult capped = run_command({"cat"}, big, small);
  EXPECT_FALSE(capped.ok());
  EXPECT_NE(capped.error.find("more than 1000 bytes"), std::string::npos) << capped.error;
}

}  // namespace
}  // namespace sluice::slurm
