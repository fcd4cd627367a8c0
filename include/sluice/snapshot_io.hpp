// Encoding and decoding of snapshots with cereal: JSON (for people and for clients in
// other languages) and portable binary (for speed). Decoders never throw and never
// allocate more than the input can justify: every length prefix is checked against the
// bytes that remain before anything is allocated. A decoded snapshot is also validated.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/snapshot.hpp"

namespace sluice {

enum class SnapshotFormat { kJson, kBinary };

struct SnapshotDecodeResult {
  bool ok = false;
  bool cancelled = false;  // stopped because the caller's cancel flag was raised
  std::string error;  // what is wrong and where (JSON: the field path; binary: the offset)
  Snapshot snapshot;
};

[[nodiscard]] std::string encode_snapshot(const Snapshot& snapshot, SnapshotFormat format);
[[nodiscard]] SnapshotDecodeResult decode_snapshot(std::string_view bytes, SnapshotFormat format,
                                                   const SnapshotLimits& limits = {});

// The same without validate(): for callers that validate next themselves (the service
// does, so its timings show decoding and validation apart). Every decoding defence
// (lengths, limits, types) still applies. `cancel`, when given, is looked at every MiB of
// JSON text and every few thousand records: once raised, decoding stops with `cancelled`.
[[nodiscard]] SnapshotDecodeResult decode_snapshot_unvalidated(std::string_view bytes, SnapshotFormat format,
                                                               const SnapshotLimits& limits = {},
                                                               const std::atomic<bool>* cancel = nullptr);

// Files: the format follows the extension (.json, else binary).
[[nodiscard]] SnapshotDecodeResult read_snapshot_file(const std::string& path,
                                                      const SnapshotLimits& limits = {});
[[nodiscard]] bool write_snapshot_file(const std::string& path, const Snapshot& snapshot,
                                       std::string* error = nullptr);

}  // namespace sluice
