// The service's state file: the epoch fence, kept across restarts (issue 14, bug 3).
// Two lines of text, "sluice-state 1" and "highest_epoch N". Written atomically: a temporary
// file in the same directory, fsync, rename over the old one, fsync of the directory; so
// after a crash the file holds the old or the new fence, whole.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::detail {

// The fence stored at `path`; 0 when no file is there yet. False, with the reason, when the
// file exists but cannot be read or is not a state file (the service then refuses to start:
// starting from 0 would let a stale master back in).
[[nodiscard]] bool read_state_file(const std::string& path, std::uint64_t* epoch, std::string* error);

// Writes the fence to `path` atomically and durably; false, with the reason, when any step
// fails (the old file is then left as it was).
[[nodiscard]] bool write_state_file(const std::string& path, std::uint64_t epoch, std::string* error);

}  // namespace sluice::detail
