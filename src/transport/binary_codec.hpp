// The hot path of the binary wire format: snapshots and allocations in cereal's portable
// binary layout (docs/snapshot.md, docs/protocol.md), written and read directly on a byte
// buffer instead of through cereal's stream archives.
//
// Why: the cereal archives pay a virtual stream read, a dynamic_cast and an exception frame
// per field; at 1M tasks they decode in 0.25 s and encode in 0.16 s where this codec takes
// 0.10 s and 0.064 s (bench/results/codec_snapshot_1m, same run, reused memory). The format
// is unchanged: encodings are byte-identical to cereal's (the tests compare them with the
// cereal reference in snapshot_codec.cpp), inputs from either endianness are read, and
// every defence of the cereal path is kept: each length is checked against the bytes that
// remain and the limits before anything is allocated, and errors carry the same field
// path and byte offset.
#pragma once

#include <string>
#include <string_view>

#include "sluice/allocate.hpp"
#include "sluice/protocol.hpp"
#include "sluice/snapshot.hpp"
#include "sluice/snapshot_io.hpp"

namespace sluice::detail {

[[nodiscard]] std::string encode_snapshot_binary(const Snapshot& snapshot);
// Throws DecodeError (snapshot_cereal.hpp) naming the field and offset, DecodeCancelled once
// `cancel` is raised (looked at every 4096 machines and tasks); nothing else but
// std::bad_alloc.
void decode_snapshot_binary(std::string_view bytes, const SnapshotLimits& limits, Snapshot& out,
                            const std::atomic<bool>* cancel = nullptr);

// `version`: the protocol version of the message (protocol.hpp); the allocation record
// gained fields in version 2.
[[nodiscard]] std::string encode_allocation_binary(const Allocation& allocation,
                                                   std::uint16_t version = kProtocolVersion);
void decode_allocation_binary(std::string_view bytes, const SnapshotLimits& limits, Allocation& out,
                              std::uint16_t version = kProtocolVersion);
[[nodiscard]] std::string encode_indexed_allocation_binary(const IndexedAllocation& allocation,
                                                           std::uint16_t version = kProtocolVersion);
void decode_indexed_allocation_binary(std::string_view bytes, const SnapshotLimits& limits, IndexedAllocation& out,
                                      std::uint16_t version = kProtocolVersion);

// The reference: the same format through cereal's archives (snapshot_codec.cpp). Slower;
// kept so the tests can hold the direct codec to it.
[[nodiscard]] std::string encode_snapshot_cereal_binary(const Snapshot& snapshot);
[[nodiscard]] SnapshotDecodeResult decode_snapshot_cereal_binary(std::string_view bytes, const SnapshotLimits& limits);

}  // namespace sluice::detail
