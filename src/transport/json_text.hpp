// JSON text written by hand (the allocation document, the service's log lines): strings
// quoted and escaped in one place. Control characters use the short escapes JSON has
// (\n, \t, \r) and \u00XX otherwise. Internal to src/transport.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace sluice::detail {

// Appends `s` escaped, without quotes.
inline void append_json_escaped(std::string& out, std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
}

// Appends `s` as a JSON string (quoted).
inline void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  append_json_escaped(out, s);
  out += '"';
}

// `s` escaped, without quotes: for text spliced between quotes already written.
[[nodiscard]] inline std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_escaped(out, s);
  return out;
}

}  // namespace sluice::detail
