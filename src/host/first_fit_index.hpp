// First fit over the machines of a constraint group, for the tasks the flow left out (repair.cpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "cluster_state.hpp"

namespace sluice::detail {

// First fit over a list of machines (ascending ids): a max-tree of free CPU, memory,
// largest free GPU share, count of whole free GPUs, "balanced" keys max_m min(a·x_m, b·y_m)
// for pairs of those (CPU and memory at three ratios, each of them with the GPU share and
// with the whole-GPU count), and the free amount of up to two extra resources. The GPU keys count only devices of the models the list's
// shapes allow; the extra keys are the resources they name. Every key is a necessary condition
// for a fit, so a query descends only into subtrees that may hold a machine with room; the
// balanced keys prune subtrees where one machine has the CPU and another the memory.
class FirstFitIndex {
 public:
  void build(std::vector<std::int32_t> members, const std::vector<Resources>& free,
             const std::vector<MachineInfo>& machines, std::vector<std::uint8_t> allowed,
             const std::vector<std::pair<std::int32_t, std::int64_t>>& extra) {
    members_ = std::move(members);
    allowed_ = std::move(allowed);
    extra_.clear();
    for (std::size_t i = 0; i < extra.size() && i < kExtraKeys; ++i) extra_.push_back(extra[i].first);
    n_ = members_.size();
    size_ = 1;
    while (size_ < n_) size_ <<= 1;
    Key none;
    none.k.fill(-1);
    tree_.assign(2 * size_, none);
    for (std::size_t pos = 0; pos < n_; ++pos) {
      const auto m = static_cast<std::size_t>(members_[pos]);
      tree_[size_ + pos] = key_of(free[m], machines[m].gpu_model);
    }
    for (std::size_t v = size_ - 1; v >= 1; --v) tree_[v] = merge(tree_[2 * v], tree_[2 * v + 1]);
  }
  // The climb stops at the first ancestor whose key does not change: none above it can.
  void update(std::size_t pos, const Resources& r, const std::vector<std::int32_t>& models) {
    std::size_t v = size_ + pos;
    tree_[v] = key_of(r, models);
    for (v >>= 1; v >= 1; v >>= 1) {
      const Key merged = merge(tree_[2 * v], tree_[2 * v + 1]);
      if (merged.k == tree_[v].k) break;
      tree_[v] = merged;
    }
  }
  [[nodiscard]] std::size_t size() const { return n_; }
  [[nodiscard]] std::int32_t machine(std::size_t pos) const { return members_[pos]; }
  // The first position at or after `from` whose keys reach `d`'s demand, or size().
  [[nodiscard]] std::size_t first(std::size_t from, const Demand& d) const {
    if (from >= n_) return n_;
    const Key need = key_of_amounts(d.cpu, d.memory, d.gpus > 0 ? kGpuMilliWhole : d.gpu_milli, d.gpus, [&](std::size_t i) {
      // the group's shapes name the same extras, in the same order
      return i < d.extra.size() && d.extra[i].first == extra_[i] ? d.extra[i].second : 0;
    });
    return descend(1, 0, size_, from, need);
  }

 private:
  static constexpr std::size_t kExtraKeys = 2;
  static constexpr std::size_t kKeys = 11 + kExtraKeys;
  struct Key {  // 32 bits: amounts are clamped, which keeps every key monotone
    std::array<std::int32_t, kKeys> k{};
  };
  // The keys of a machine with these free amounts, or of a demand for them. Each is
  // monotone in every amount, so a machine fits only if its keys reach the demand's.
  template <typename Extra>
  static Key key_of_amounts(std::int64_t cpu, std::int64_t memory, std::int64_t share, std::int64_t whole,
                            Extra&& extra) {
    constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
    const auto c = [kMax](std::int64_t v) { return static_cast<std::int32_t>(std::clamp<std::int64_t>(v, -1, kMax)); };
    cpu = std::min(cpu, kMax);  // so that the products below cannot overflow
    memory = std::min(memory, kMax);
    share = std::min(share, kMax);
    whole = std::min(whole, kMax);
    Key key;
    key.k = {{c(cpu), c(memory), c(share), c(whole),
             // memory (MiB) against CPU (milli-cores) at 1, 4 and 16 MiB per milli-core
             c(std::min(cpu, memory)), c(std::min(cpu * 4, memory)), c(std::min(cpu * 16, memory)),
             // CPU and memory against the largest GPU share (milli) and the whole GPUs
             c(std::min(cpu, share * 16)), c(std::min(memory, share * 64)), c(std::min(cpu, whole * 8'000)),
             c(std::min(memory, whole * 32'768)), c(extra(0)), c(extra(1))}};
    return key;
  }
  [[nodiscard]] Key key_of(const Resources& r, const std::vector<std::int32_t>& models) const {
    std::int64_t share = 0;
    std::int64_t whole = 0;
    for (std::size_t g = 0; g < r.gpu_free.size(); ++g) {
      if (!allowed_.empty() && allowed_[static_cast<std::size_t>(models[g])] == 0) continue;
      share = std::max<std::int64_t>(share, r.gpu_free[g]);
      whole += r.gpu_free[g] == kGpuMilliWhole ? 1 : 0;
    }
    return key_of_amounts(r.cpu, r.memory, share, whole, [&](std::size_t i) -> std::int64_t {
      if (i >= extra_.size()) return 0;
      const auto e = static_cast<std::size_t>(extra_[i]);
      return e < r.extra.size() ? r.extra[e] : 0;
    });
  }
  static Key merge(const Key& a, const Key& b) {
    Key out;
    for (std::size_t i = 0; i < out.k.size(); ++i) out.k[i] = std::max(a.k[i], b.k[i]);
    return out;
  }
  static bool reaches(const Key& key, const Key& need) {
    for (std::size_t i = 0; i < key.k.size(); ++i) {
      if (key.k[i] < need.k[i]) return false;
    }
    return true;
  }
  std::size_t descend(std::size_t v, std::size_t lo, std::size_t hi, std::size_t from, const Key& need) const {
    if (hi <= from || !reaches(tree_[v], need)) return n_;
    if (hi - lo == 1) return lo < n_ ? lo : n_;
    const std::size_t mid = (lo + hi) / 2;
    const std::size_t left = descend(2 * v, lo, mid, from, need);
    return left < n_ ? left : descend(2 * v + 1, mid, hi, from, need);
  }

  std::vector<std::int32_t> members_;
  std::vector<std::uint8_t> allowed_;  // per interned model; empty = any
  std::vector<std::int32_t> extra_;     // interned extra resources with a key
  std::size_t n_ = 0;
  std::size_t size_ = 1;
  std::vector<Key> tree_;
};

}  // namespace sluice::detail
