// The thin master's accounting helpers (master.hpp).
#include "master.hpp"
#include "seconds_since.hpp"

#include <chrono>
#include <exception>

namespace sluice::detail {
namespace {

}  // namespace

std::string join_indexes(const std::vector<std::int32_t>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(v[i]);
  }
  out += ']';
  return out;
}

RoundOutcome call_allocator(const RoundAllocator& allocator, const Snapshot& snapshot) {
  RoundOutcome outcome;
  const auto t0 = Clock::now();
  try {
    outcome = allocator(snapshot);
  } catch (const std::exception& e) {
    outcome = RoundOutcome{};
    outcome.error = std::string("the allocator threw: ") + e.what();
  } catch (...) {
    outcome = RoundOutcome{};
    outcome.error = "the allocator threw";
  }
  if (outcome.latency_s <= 0) outcome.latency_s = seconds_since(t0);
  if (outcome.ok && outcome.allocation.snapshot_version != snapshot.version) {
    outcome.ok = false;
    outcome.error = "reply for snapshot version " + std::to_string(outcome.allocation.snapshot_version) +
                    ", expected " + std::to_string(snapshot.version);
  }
  if (!outcome.ok && outcome.error.empty()) outcome.error = "the allocator reported a failure without a message";
  return outcome;
}

}  // namespace sluice::detail
