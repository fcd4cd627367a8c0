// Cooperative cancellation of an allocation. A deadline or a drain raises the caller's flag
// (SolveOptions::cancel); every step of allocate() looks at it at bounded intervals of work
// (a few thousand machines, tasks or moves, one class evaluation) and stops by throwing
// Cancelled with its name, which run_allocation turns into Status::kCancelled and "cancelled
// during <step>". The solver has its own checks (cost_scaling.cpp).
#pragma once

#include <atomic>

namespace sluice::detail {

struct Cancelled {
  const char* step;
};

class Interrupt {
 public:
  explicit Interrupt(const std::atomic<bool>* flag) : flag_(flag) {}
  [[nodiscard]] bool raised() const { return flag_ != nullptr && flag_->load(std::memory_order_relaxed); }
  void check(const char* step) const {
    if (raised()) throw Cancelled{step};
  }
  // check() on every `Every`-th call with `i` counting calls: loops pass their index.
  template <unsigned Every = 4096>
  void every(std::size_t i, const char* step) const {
    if (i % Every == 0) check(step);
  }

 private:
  const std::atomic<bool>* flag_;
};

}  // namespace sluice::detail
