#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every CTest suite (labels cpu;
# gpu tests skip with a reason when no device is present).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh "$@"
ctest --test-dir "${SLUICE_BUILD_DIR:-build/main}" --output-on-failure -j"$(nproc)" --timeout 600
