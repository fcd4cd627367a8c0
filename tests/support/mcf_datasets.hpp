// The min-cost-flow dataset instances (datasets/mcf/EXPECTED.tsv): each file with its known
// optimal cost, read once for every test that runs a solver over them.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sluice::test {

struct McfDataset {
  std::string file;  // name inside datasets/mcf
  std::string path;  // full path
  std::int64_t nodes = 0;
  std::int64_t arcs = 0;
  std::int64_t optimal_cost = 0;
};

inline std::vector<McfDataset> mcf_datasets() {
  const std::string dir = std::string(SLUICE_TEST_DATA_DIR) + "/mcf/";
  std::vector<McfDataset> rows;
  std::ifstream in(dir + "EXPECTED.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    McfDataset d;
    fields >> d.file >> d.nodes >> d.arcs >> d.optimal_cost;
    if (!fields) continue;
    d.path = dir + d.file;
    rows.push_back(d);
  }
  return rows;
}

}  // namespace sluice::test
