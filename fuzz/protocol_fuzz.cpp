// Fuzzes the protocol's decoders (sluice/protocol.hpp): the envelope, request options,
// allocation bodies, health and stats records, in both body formats. The first byte picks
// the decoder (bits 1..3) and the format (bit 0: 0 binary, 1 JSON); the rest is the frame.
//
// Besides "never crash, never throw, never allocate what a length prefix merely claims":
//  * a refusal carries a message, an acceptance none; text that is not JSON is refused;
//  * whatever decodes re-encodes to something that decodes to the same record
//    (the envelope, which has one encoding, to the very same bytes);
//  * records without lossy fields (options, health, stats) survive the other format too,
//    and an allocation decoded from binary makes a JSON document that decodes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "sluice/protocol.hpp"

namespace sluice {
namespace {

BodyFormat other(BodyFormat f) { return f == BodyFormat::kJson ? BodyFormat::kBinary : BodyFormat::kJson; }

// A raw NUL byte is never valid JSON (inside a string it must be written \u0000).
void check_no_raw_nul(bool ok, std::string_view bytes, BodyFormat format) {
  if (format == BodyFormat::kJson) {
    SLUICE_FUZZ_CHECK(!ok || bytes.find('\0') == std::string_view::npos, "accepted JSON holding a raw NUL byte");
  }
}

void envelope(std::string_view frame) {
  const EnvelopeDecodeResult r = decode_envelope(frame);
  SLUICE_FUZZ_CHECK(r.ok == r.error.empty(), r.error);
  if (!r.ok) {
    SLUICE_FUZZ_CHECK(r.code == ReplyCode::kMalformed || r.code == ReplyCode::kUnsupportedVersion, r.error);
    return;
  }
  SLUICE_FUZZ_CHECK(encode_envelope(r.envelope) == frame, "envelope does not re-encode to its bytes");
}

void options(std::string_view bytes, BodyFormat format) {
  const RequestOptionsDecodeResult r = decode_request_options(bytes, format);
  SLUICE_FUZZ_CHECK(r.ok == r.error.empty(), r.error);
  check_no_raw_nul(r.ok, bytes, format);
  if (!r.ok) return;
  const std::string canonical = encode_request_options(r.options, BodyFormat::kBinary);
  for (const BodyFormat f : {format, other(format)}) {
    const std::string again = encode_request_options(r.options, f);
    const RequestOptionsDecodeResult back = decode_request_options(again, f);
    SLUICE_FUZZ_CHECK(back.ok, back.error);
    SLUICE_FUZZ_CHECK(encode_request_options(back.options, BodyFormat::kBinary) == canonical, "options changed");
  }
}

void allocation(std::string_view bytes, BodyFormat format) {
  const AllocationDecodeResult r = decode_allocation(bytes, format);
  SLUICE_FUZZ_CHECK(r.ok == r.error.empty(), r.error);
  check_no_raw_nul(r.ok, bytes, format);
  if (!r.ok) return;
  // Same format: encode, decode, encode again gives the same bytes.
  const std::string once = encode_allocation(r.allocation, format);
  SLUICE_FUZZ_CHECK(!once.empty(), "encode_allocation failed");
  const AllocationDecodeResult back = decode_allocation(once, format);
  SLUICE_FUZZ_CHECK(back.ok, back.error);
  SLUICE_FUZZ_CHECK(encode_allocation(back.allocation, format) == once, "allocation changed in a round trip");
  // JSON keeps timings to the microsecond and the certificate as one verdict: from binary,
  // the JSON document must at least decode.
  if (format == BodyFormat::kBinary) {
    const AllocationDecodeResult json =
        decode_allocation(encode_allocation(r.allocation, BodyFormat::kJson), BodyFormat::kJson);
    SLUICE_FUZZ_CHECK(json.ok, json.error);
  }
}

// Indexed allocations are binary only: decode, and a round trip gives the same bytes.
void indexed_allocation(std::string_view bytes) {
  const IndexedAllocationDecodeResult r = decode_indexed_allocation(bytes);
  SLUICE_FUZZ_CHECK(r.ok == r.error.empty(), r.error);
  if (!r.ok) return;
  const std::string once = encode_indexed_allocation(r.allocation);
  SLUICE_FUZZ_CHECK(!once.empty(), "encode_indexed_allocation failed");
  const IndexedAllocationDecodeResult back = decode_indexed_allocation(once);
  SLUICE_FUZZ_CHECK(back.ok, back.error);
  SLUICE_FUZZ_CHECK(encode_indexed_allocation(back.allocation) == once, "indexed allocation changed in a round trip");
}

template <class Record, class Encode, class Decode>
void record(std::string_view bytes, BodyFormat format, Encode encode, Decode decode) {
  std::string error;
  const std::optional<Record> r = decode(bytes, format, &error);
  SLUICE_FUZZ_CHECK(r.has_value() == error.empty(), error);
  check_no_raw_nul(r.has_value(), bytes, format);
  if (!r) return;
  const std::string canonical = encode(*r, BodyFormat::kBinary);
  for (const BodyFormat f : {format, other(format)}) {
    const std::string again = encode(*r, f);
    std::string back_error;
    const std::optional<Record> back = decode(again, f, &back_error);
    SLUICE_FUZZ_CHECK(back.has_value(), back_error);
    SLUICE_FUZZ_CHECK(encode(*back, BodyFormat::kBinary) == canonical, "record changed in a round trip");
  }
}

}  // namespace
}  // namespace sluice

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice;
  if (size == 0) return 0;
  const BodyFormat format = (data[0] & 1) != 0 ? BodyFormat::kJson : BodyFormat::kBinary;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch ((data[0] >> 1) % 6) {
    case 0:
      envelope(bytes);
      break;
    case 1:
      options(bytes, format);
      break;
    case 2:
      allocation(bytes, format);
      break;
    case 3:
      record<HealthInfo>(
          bytes, format, [](const HealthInfo& h, BodyFormat f) { return encode_health(h, f); },
          [](std::string_view b, BodyFormat f, std::string* e) { return decode_health(b, f, e); });
      break;
    case 4:
      record<ServiceStats>(
          bytes, format, [](const ServiceStats& s, BodyFormat f) { return encode_stats(s, f); },
          [](std::string_view b, BodyFormat f, std::string* e) { return decode_stats(b, f, e); });
      break;
    case 5:
      indexed_allocation(bytes);
      break;
  }
  return 0;
}
