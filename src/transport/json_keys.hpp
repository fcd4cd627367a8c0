// Member names of the JSON objects being read, so that a name given twice in one object is
// refused: readers disagree on which one counts (rapidjson's FindMember and cereal take the
// first, Python's json the last), so a document with both could mean two things.
// Internal to src/transport.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace sluice::detail {

// The names of one object. Records have a dozen members at most, which a linear scan over
// reused strings checks fastest; an object with more (a map of labels) moves to a hash set,
// so a hostile object with a million members stays linear in time.
class JsonKeySet {
 public:
  void clear() {
    count_ = 0;
    many_.clear();
  }
  // False when the name is there already.
  bool insert(std::string_view key) {
    if (count_ < kLinear) {
      for (std::size_t i = 0; i < count_; ++i) {
        if (names_[i] == key) return false;
      }
      if (count_ == names_.size()) {
        names_.emplace_back(key);
      } else {
        names_[count_].assign(key);
      }
      ++count_;
      return true;
    }
    if (count_ == kLinear) {
      for (std::size_t i = 0; i < kLinear; ++i) many_.insert(names_[i]);
    }
    ++count_;
    return many_.emplace(key).second;
  }

 private:
  static constexpr std::size_t kLinear = 16;
  std::vector<std::string> names_;
  std::size_t count_ = 0;
  std::unordered_set<std::string> many_;
};

// One JsonKeySet per open object, reused from one object to the next.
class JsonKeyStack {
 public:
  void open() {
    if (depth_ == sets_.size()) sets_.emplace_back();
    sets_[depth_++].clear();
  }
  void close() { --depth_; }
  // False when the innermost open object has this name already.
  bool insert(std::string_view key) { return sets_[depth_ - 1].insert(key); }

 private:
  std::vector<JsonKeySet> sets_;
  std::size_t depth_ = 0;
};

}  // namespace sluice::detail
