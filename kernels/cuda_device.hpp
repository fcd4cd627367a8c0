// The kernels' exported interface: plain C++ signatures, no CUDA types, so host code
// compiles the same with or without nvcc. Built from device_info.cu with CUDA, or from
// device_info_stub.cpp without it (same target, same symbols).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  std::int64_t total_memory_bytes = 0;
  std::int64_t free_memory_bytes = 0;
  int compute_capability_major = 0;
  int compute_capability_minor = 0;
  int multiprocessors = 0;
};

struct DeviceQuery {
  bool built_with_cuda = false;
  std::vector<DeviceInfo> devices;
  std::string error;  // why no device is usable, when devices is empty
};

// Lists the usable CUDA devices. Never throws; a missing driver or device is reported
// in `error` and the CUDA runtime's sticky error is cleared.
[[nodiscard]] DeviceQuery query_devices();

}  // namespace sluice::cuda
