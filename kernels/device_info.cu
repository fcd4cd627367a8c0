// Device detection for dispatch: which CUDA devices exist and how much memory they have.
#include <cuda_runtime.h>

#include <string>

#include "cuda_device.hpp"

namespace sluice::cuda {

DeviceQuery query_devices() {
  DeviceQuery query;
  query.built_with_cuda = true;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    // Without a GPU, the runtime usually reports a missing or insufficient driver: say
    // plainly that no device is usable, and keep the runtime's words for diagnosis.
    query.error = std::string("no usable CUDA device (cudaGetDeviceCount: ") +
                  cudaGetErrorString(err) + ")";
    (void)cudaGetLastError();  // clear the sticky error so later calls start clean
    return query;
  }
  if (count == 0) {
    query.error = "no CUDA device present";
    return query;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    err = cudaGetDeviceProperties(&prop, i);
    if (err != cudaSuccess) {
      query.error = std::string("cudaGetDeviceProperties: ") + cudaGetErrorString(err);
      (void)cudaGetLastError();
      continue;
    }
    DeviceInfo info;
    info.index = i;
    info.name = prop.name;
    info.total_memory_bytes = static_cast<std::int64_t>(prop.totalGlobalMem);
    info.compute_capability_major = prop.major;
    info.compute_capability_minor = prop.minor;
    info.multiprocessors = prop.multiProcessorCount;
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
      info.free_memory_bytes = static_cast<std::int64_t>(free_bytes);
    } else {
      (void)cudaGetLastError();
    }
    query.devices.push_back(std::move(info));
  }
  return query;
}

}  // namespace sluice::cuda
