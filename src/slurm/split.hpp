// Splitting Slurm's compact strings ("n[1-3],gpu01", "gpu:a100:2(IDX:0-1),gpu:v100:0",
// "fast&ssd", squeue's "%i|%P|…" lines), one function for every separator of src/slurm.
#pragma once

#include <string_view>
#include <vector>

namespace sluice::slurm {

// The pieces of `s` between each `sep` that is not inside open … close (pass open = 0 for
// no nesting). Empty pieces are kept: "a,,b" gives a, "", b; "" gives one empty piece.
inline std::vector<std::string_view> split(std::string_view s, char sep, char open = 0, char close = 0) {
  std::vector<std::string_view> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (open != 0 && s[i] == open) ++depth;
    if (open != 0 && s[i] == close) --depth;
    if (s[i] == sep && depth == 0) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

}  // namespace sluice::slurm
