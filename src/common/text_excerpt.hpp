// Quoting user input inside error messages: the offending text cut short, with control
// bytes shown as '?', so a binary or hostile file cannot garble the message. Shared by
// every text reader (DIMACS, openb CSV).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::detail {

inline std::string excerpt(std::string_view s, std::size_t max_chars) {
  std::string out;
  const std::size_t n = std::min(s.size(), max_chars);
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (s.size() > n) out += "...";
  return out;
}

}  // namespace sluice::detail
