// Slurm's compact lists: hostlist expressions ("n[1-3,7],gpu01") and device index lists
// ("0-1,3"), as squeue and sinfo write them.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/slurm.hpp"
#include "split.hpp"

namespace sluice::slurm {
namespace {

// A range "a-b" or a single "a" of decimal digits; `width` is the digits of `a` (zero
// padding: "08-10" keeps two digits).
struct Range {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::size_t width = 0;
};

std::optional<std::uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<Range> range(std::string_view s) {
  const std::size_t dash = s.find('-');
  const std::string_view a = s.substr(0, dash);
  const auto first = number(a);
  if (!first) return std::nullopt;
  if (dash == std::string_view::npos) return Range{*first, *first, a.size()};
  const auto last = number(s.substr(dash + 1));
  if (!last || *last < *first) return std::nullopt;
  return Range{*first, *last, a.size()};
}

std::string padded(std::uint64_t v, std::size_t width) {
  std::string digits = std::to_string(v);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

}  // namespace

std::optional<std::vector<std::string>> expand_hostlist(std::string_view expr, std::size_t limit) {
  std::vector<std::string> names;
  if (expr.empty()) return names;
  for (const std::string_view item : split(expr, ',', '[', ']')) {
    if (item.empty()) return std::nullopt;
    const std::size_t open = item.find('[');
    if (open == std::string_view::npos) {
      if (item.find(']') != std::string_view::npos) return std::nullopt;
      if (names.size() >= limit) return std::nullopt;
      names.emplace_back(item);
      continue;
    }
    // prefix[ranges]suffix; one bracket group per name (what squeue writes for one dimension).
    const std::size_t close = item.find(']', open);
    if (close == std::string_view::npos || item.find('[', open + 1) < close ||
        item.find_first_of("[]", close + 1) != std::string_view::npos)
      return std::nullopt;
    const std::string_view prefix = item.substr(0, open);
    const std::string_view suffix = item.substr(close + 1);
    for (const std::string_view piece : split(item.substr(open + 1, close - open - 1), ',')) {
      const auto r = range(piece);
      if (!r) return std::nullopt;
      if (r->last - r->first >= limit - std::min(limit, names.size())) return std::nullopt;
      for (std::uint64_t v = r->first; v <= r->last; ++v) {
        std::string name(prefix);
        name += padded(v, r->width);
        name += suffix;
        names.push_back(std::move(name));
      }
    }
  }
  return names;
}

std::string compress_hostlist(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  // Names ending in digits, grouped by what comes before the digits and by how many digits
  // there are: within a group every range can keep its first number's width ("n[08-10]",
  // "n[1-9],n[10-64]"), which is what expand_hostlist reads back.
  std::map<std::pair<std::string, std::size_t>, std::vector<std::uint64_t>> numbered;
  std::vector<std::string> items;
  for (const std::string& name : names) {
    const std::size_t digits_at = name.find_last_not_of("0123456789") + 1;  // npos + 1 = 0: all digits
    const std::string_view digits = std::string_view(name).substr(digits_at);
    const auto value = number(digits);
    if (!value) {
      items.push_back(name);  // no trailing number (or one too long to hold): as it is
      continue;
    }
    numbered[{name.substr(0, digits_at), digits.size()}].push_back(*value);
  }
  for (auto& [key, values] : numbered) {
    const auto& [prefix, width] = key;
    std::sort(values.begin(), values.end());
    if (values.size() == 1) {
      items.push_back(prefix + padded(values[0], width));
      continue;
    }
    std::string item = prefix + "[";
    for (std::size_t i = 0; i < values.size();) {
      std::size_t j = i;
      while (j + 1 < values.size() && values[j + 1] == values[j] + 1) ++j;
      if (i > 0) item += ',';
      item += padded(values[i], width);
      if (j > i) {
        item += '-';
        item += padded(values[j], width);
      }
      i = j + 1;
    }
    items.push_back(item + "]");
  }
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

std::optional<std::vector<std::int32_t>> parse_index_list(std::string_view list) {
  std::vector<std::int32_t> out;
  if (list.empty()) return std::nullopt;
  for (const std::string_view piece : split(list, ',')) {
    const auto r = range(piece);
    // A node has at most SnapshotLimits::max_gpus_per_machine devices (1024); 4096 leaves room.
    if (!r || r->last >= 4096) return std::nullopt;
    for (std::uint64_t v = r->first; v <= r->last; ++v) out.push_back(static_cast<std::int32_t>(v));
  }
  return out;
}

}  // namespace sluice::slurm
