#!/usr/bin/env bash
# Configures and builds into build/ (CUDA kernels when nvcc is found, CPU-only otherwise).
# Extra arguments go to cmake's configure step, e.g. -DSLUICE_ENABLE_CUDA=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${SLUICE_BUILD_DIR:-build/main}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build_dir" -j"$(nproc)"
