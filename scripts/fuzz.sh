#!/usr/bin/env bash
# Fuzzes every decoder that reads untrusted input (fuzz/): installs what is missing (the
# packages of install-deps.sh, plus clang and libclang-rt-dev for libFuzzer), configures
# build/fuzz with clang, AddressSanitizer, UBSan and libFuzzer coverage, builds the fuzzers
# and runs each for SECONDS (default 60) on a copy of its seed corpus. Fails if any fuzzer
# finds something; the input that did it is kept in build/fuzz/fuzz/artifacts/<fuzzer>/.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
scripts/install-deps.sh

packages=(clang libclang-rt-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_dir=${SLUICE_FUZZ_BUILD_DIR:-build/fuzz}
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSLUICE_ASAN=ON -DSLUICE_FUZZ=ON -DSLUICE_FUZZ_SECONDS="$seconds" -DSLUICE_ENABLE_CUDA=OFF \
  -DSLUICE_BUILD_TESTS=OFF -DSLUICE_BUILD_BENCH=OFF -DSLUICE_BUILD_APPS=OFF
cmake --build "$build_dir" -j"$(nproc)"
cmake --build "$build_dir" --target fuzz
