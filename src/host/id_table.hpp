// Small building blocks for grouping large snapshots by key: an open-addressing table from
// key hashes to dense ids, an arena of keys, and the helpers that write keys as bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::detail {

// Open addressing from key hashes to dense ids (0, 1, 2, ... as keys first appear). The
// caller keeps the keys and says through `equal(id)` whether the key of an id is the one
// looked up, since hashes collide. One flat array: no allocation per key, and nothing to
// free key by key afterwards (a node-based map of a million-task snapshot's keys spent
// more time in malloc, hashing std::strings and freeing than in the grouping itself).
class IdTable {
 public:
  explicit IdTable(std::size_t expected) { rehash(expected); }

  // The id of the key; when it is new, `fresh`, stored now (.second tells which).
  template <typename Equal>
  std::pair<std::int32_t, bool> try_emplace(std::uint64_t hash, std::int32_t fresh, Equal&& equal) {
    const auto tag = static_cast<std::uint32_t>(hash ^ (hash >> 32));
    std::size_t i = tag & mask_;
    for (; slots_[i].id >= 0; i = (i + 1) & mask_) {
      if (slots_[i].tag == tag && equal(slots_[i].id)) return {slots_[i].id, false};
    }
    slots_[i] = Slot{tag, fresh};
    if (2 * ++size_ > slots_.size()) rehash(size_);
    return {fresh, true};
  }

  // Starts loading the slot a look-up of `hash` reads first: tables larger than the cache
  // cost a miss per look-up otherwise.
  void prefetch(std::uint64_t hash) const {
    __builtin_prefetch(&slots_[static_cast<std::uint32_t>(hash ^ (hash >> 32)) & mask_]);
  }

  // The id of the key, or -1.
  template <typename Equal>
  [[nodiscard]] std::int32_t find(std::uint64_t hash, Equal&& equal) const {
    const auto tag = static_cast<std::uint32_t>(hash ^ (hash >> 32));
    for (std::size_t i = tag & mask_; slots_[i].id >= 0; i = (i + 1) & mask_) {
      if (slots_[i].tag == tag && equal(slots_[i].id)) return slots_[i].id;
    }
    return -1;
  }

 private:
  struct Slot {
    std::uint32_t tag = 0;  // the hash folded to 32 bits; also picks the first slot
    std::int32_t id = -1;   // -1: empty
  };

  void rehash(std::size_t keys) {  // to at least twice `keys` slots: probes stay short
    std::size_t n = 16;
    while (n < 2 * keys + 2) n *= 2;
    std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(n));
    mask_ = n - 1;
    for (const Slot& slot : old) {
      if (slot.id < 0) continue;
      std::size_t i = slot.tag & mask_;
      while (slots_[i].id >= 0) i = (i + 1) & mask_;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

inline std::uint64_t hash_bytes(std::string_view bytes) { return std::hash<std::string_view>{}(bytes); }

// A 64-bit integer key spread over all bits (SplitMix64's finaliser).
inline std::uint64_t mix64(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Keys back to back in one string, the i-th ending at ends[i].
struct KeyArena {
  std::string bytes;
  std::vector<std::size_t> ends;

  [[nodiscard]] std::string_view operator[](std::int32_t i) const {
    const std::size_t begin = i == 0 ? 0 : ends[static_cast<std::size_t>(i) - 1];
    return std::string_view(bytes).substr(begin, ends[static_cast<std::size_t>(i)] - begin);
  }
  void push_back(std::string_view key) {
    bytes += key;
    ends.push_back(bytes.size());
  }
};

template <typename T>
inline void append_raw(std::string& key, const T& value) {
  key.append(reinterpret_cast<const char*>(&value), sizeof(T));
}
inline void append_str(std::string& key, const std::string& s) {
  append_raw(key, s.size());
  key += s;
}

}  // namespace sluice::detail
