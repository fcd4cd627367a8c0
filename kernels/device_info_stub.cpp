// CPU-only build: the same symbols as device_info.cu, reporting that CUDA is absent.
#include "cuda_device.hpp"

namespace sluice::cuda {

DeviceQuery query_devices() {
  DeviceQuery query;
  query.built_with_cuda = false;
  query.error = "this build has no CUDA support (configured with SLUICE_ENABLE_CUDA=OFF)";
  return query;
}

}  // namespace sluice::cuda
