// What a benchmark's --file argument stands for: the file itself, or every DIMACS file
// (*.min) in a directory, in name order.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace sluice::bench {

inline std::vector<std::string> dimacs_files(const std::string& path) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return {path};
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (entry.path().extension() == ".min") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace sluice::bench
