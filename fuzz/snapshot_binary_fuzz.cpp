// Fuzzes the binary snapshot decoder (decode_snapshot, SnapshotFormat::kBinary): the
// direct codec in src/transport/binary_codec.cpp, then validate().
//
// Besides "never crash, never throw, never allocate what a length prefix merely claims":
//  * the direct codec and the cereal reference (snapshot_codec.cpp) agree on every input:
//    the same verdict, the same snapshot, an error at the same field path;
//  * an accepted snapshot re-encodes to bytes that decode to the same snapshot, and its
//    JSON encoding decodes to the same snapshot too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "binary_codec.hpp"
#include "fuzz_check.hpp"
#include "sluice/snapshot_io.hpp"
#include "snapshot_cereal.hpp"  // first: DecodeError, and cereal's RAPIDJSON_ASSERT

namespace sluice {
namespace {

// The field path of an error: the text before the first ": ".
std::string_view path_of(std::string_view error) { return error.substr(0, error.find(": ")); }

void differential(std::string_view bytes, const SnapshotLimits& limits) {
  Snapshot fast;
  std::string fast_error;
  try {
    detail::decode_snapshot_binary(bytes, limits, fast);
  } catch (const detail::DecodeError& e) {
    fast_error = e.text();
    SLUICE_FUZZ_CHECK(!fast_error.empty(), "empty error");
  }
  const SnapshotDecodeResult reference = detail::decode_snapshot_cereal_binary(bytes, limits);
  SLUICE_FUZZ_CHECK(fast_error.empty() == reference.ok,
                    "direct '" + fast_error + "' vs cereal '" + reference.error + "'");
  if (reference.ok) {
    SLUICE_FUZZ_CHECK(detail::encode_snapshot_binary(fast) == detail::encode_snapshot_binary(reference.snapshot),
                      "direct and cereal decoded different snapshots");
  } else {
    SLUICE_FUZZ_CHECK(path_of(fast_error) == path_of(reference.error),
                      "direct '" + fast_error + "' vs cereal '" + reference.error + "'");
  }
}

}  // namespace
}  // namespace sluice

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const SnapshotLimits limits;
  differential(bytes, limits);

  const SnapshotDecodeResult r = decode_snapshot(bytes, SnapshotFormat::kBinary, limits);
  SLUICE_FUZZ_CHECK(r.ok == r.error.empty(), r.error);
  if (!r.ok) return 0;

  const std::string binary = encode_snapshot(r.snapshot, SnapshotFormat::kBinary);
  const SnapshotDecodeResult again = decode_snapshot(binary, SnapshotFormat::kBinary, limits);
  SLUICE_FUZZ_CHECK(again.ok, again.error);
  SLUICE_FUZZ_CHECK(encode_snapshot(again.snapshot, SnapshotFormat::kBinary) == binary, "binary round trip");

  const std::string json = encode_snapshot(r.snapshot, SnapshotFormat::kJson);
  SLUICE_FUZZ_CHECK(!json.empty(), "JSON encoding failed");
  const SnapshotDecodeResult from_json = decode_snapshot(json, SnapshotFormat::kJson, limits);
  SLUICE_FUZZ_CHECK(from_json.ok, from_json.error);
  SLUICE_FUZZ_CHECK(encode_snapshot(from_json.snapshot, SnapshotFormat::kBinary) == binary, "JSON round trip");
  return 0;
}
