// Output helpers shared by the tool's subcommands.
#pragma once

#include <fstream>
#include <iostream>
#include <string>

namespace sluice::cli {

// Writes text to `path`, or to stdout when it is empty. 0, or 2 with a message on stderr.
inline int write_output(const std::string& path, const std::string& text) {
  if (path.empty()) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) {
    std::cerr << "sluice: cannot write '" << path << "'\n";
    return 2;
  }
  return 0;
}

}  // namespace sluice::cli
