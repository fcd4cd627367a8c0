// Fuzzes the JSON snapshot decoder (decode_snapshot, SnapshotFormat::kJson): the rapidjson
// SAX shape check (syntax, depth, object-vs-array), then cereal's JSON archive through the
// checked loads of snapshot_cereal.hpp, then validate().
//
// Besides "never crash, never throw, never recurse past the depth cap": text that is not
// JSON is refused, and an accepted snapshot encodes (JSON and binary) to documents that
// decode to the same snapshot.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "sluice/snapshot_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const SnapshotLimits limits;
  const SnapshotDecodeResult r = decode_snapshot(bytes, SnapshotFormat::kJson, limits);
  SLUICE_FUZZ_CHECK(r.ok == r.error.empty(), r.error);
  // A raw NUL byte is never valid JSON (inside a string it must be written \u0000).
  SLUICE_FUZZ_CHECK(!r.ok || bytes.find('\0') == std::string_view::npos, "accepted JSON holding a raw NUL byte");
  if (!r.ok) return 0;

  const std::string binary = encode_snapshot(r.snapshot, SnapshotFormat::kBinary);
  const SnapshotDecodeResult from_binary = decode_snapshot(binary, SnapshotFormat::kBinary, limits);
  SLUICE_FUZZ_CHECK(from_binary.ok, from_binary.error);
  SLUICE_FUZZ_CHECK(encode_snapshot(from_binary.snapshot, SnapshotFormat::kBinary) == binary, "binary round trip");

  const std::string json = encode_snapshot(r.snapshot, SnapshotFormat::kJson);
  const SnapshotDecodeResult from_json = decode_snapshot(json, SnapshotFormat::kJson, limits);
  SLUICE_FUZZ_CHECK(from_json.ok, from_json.error);
  SLUICE_FUZZ_CHECK(encode_snapshot(from_json.snapshot, SnapshotFormat::kBinary) == binary, "JSON round trip");
  return 0;
}
