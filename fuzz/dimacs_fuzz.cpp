// Fuzzes the DIMACS min-cost-flow reader (read_dimacs on a stream).
//
// Besides "never crash, never throw, never size arrays from a header the input cannot back":
//  * a refusal names the source and line ("fuzz.min:LINE: ..."), an acceptance has no error;
//  * an accepted network written back with write_dimacs reads to the same network.
// Node counts are capped at 2^20 (DimacsLimits): isolated nodes are legal, so `p min N 0`
// rightly costs N nodes, and without a cap a 20-byte header claims gigabytes (the fuzzer's
// first finding: `p min 000184230247 0`, a 1.5 GB allocation).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "sluice/dimacs.hpp"

namespace {

std::string written(const sluice::Network& network) {
  std::ostringstream out;
  sluice::write_dimacs(out, network);
  return std::move(out).str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice;
  DimacsLimits limits;
  limits.max_nodes = std::int64_t{1} << 20;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  const DimacsReadResult r = read_dimacs(in, "fuzz.min", limits);
  SLUICE_FUZZ_CHECK(r.ok == r.error.empty(), r.error);
  if (!r.ok) {
    SLUICE_FUZZ_CHECK(r.error.starts_with("fuzz.min:"), r.error);
    return 0;
  }
  const std::string text = written(r.network);
  std::istringstream again(text);
  const DimacsReadResult back = read_dimacs(again, "again.min", limits);
  SLUICE_FUZZ_CHECK(back.ok, back.error);
  SLUICE_FUZZ_CHECK(written(back.network) == text, "network changed in a write/read round trip");
  return 0;
}
