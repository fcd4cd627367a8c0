#!/usr/bin/env bash
# Installs the Debian 12 packages Sluice builds with, when any is missing. Idempotent.
# CUDA is optional: with nvcc at /usr/local/cuda the kernels are built too.
set -euo pipefail
packages=(build-essential cmake ninja-build git libgtest-dev libbenchmark-dev liblemon-dev
          libcli11-dev libcereal-dev python3-matplotlib time pkg-config libzmq3-dev cppzmq-dev
          prometheus-cpp-dev libspdlog-dev python3-zmq curl libsodium-dev rapidjson-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
