#!/usr/bin/env bash
# The one prepared script for a session lent a GPU machine (see ../shared/device/README.md):
# builds there, runs the device tests, compute-sanitizer on small instances, and the
# GPU / CPU / LEMON benchmark in one run, writing every log under $OUT for bench/results/.
# Run through the device tool from the repository root, with carry [".devdeps"]:
#   bash scripts/gpu-device-check.sh [quick|full]      (quick: up to 150k tasks)
# Prepare .devdeps once here first: ../shared/device/pack-devdeps.sh
set -uo pipefail
mode=${1:-quick}
out=${OUT:-/tmp/sluice-gpu-out}
mkdir -p "$out"
log() { echo "[gpu-check $(date +%H:%M:%S)] $*" | tee -a "$out/steps.log"; }

log "device"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv > "$out/device.txt" 2>&1
git rev-parse --short HEAD > "$out/commit.txt" 2>/dev/null || true

log "build"
# shellcheck disable=SC1091
source .devdeps/env.sh
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_ENABLE_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 > "$out/configure.log" 2>&1 || { log "configure failed"; exit 1; }
ninja -C build-gpu sluice gpu_cuda_solver_test sluice_bench_mcf sluice_bench_gpu_model > "$out/build.log" 2>&1 \
  || { log "build failed"; tail -40 "$out/build.log"; exit 1; }

log "device tests (ctest -L gpu)"
(cd build-gpu && ctest -L gpu --output-on-failure) > "$out/gpu_tests.log" 2>&1
grep -E "tests passed|Failed|SKIPPED" "$out/gpu_tests.log" | tee -a "$out/steps.log"

log "compute-sanitizer on small instances"
for tool in memcheck racecheck; do
  for f in small_graph.min firmament_graph_4m_2crs_10j.min netgen_sr_08a.min; do
    compute-sanitizer --tool $tool --error-exitcode 9 build-gpu/bin/sluice solve "datasets/mcf/$f" \
      --solver gpu --verify > "$out/sanitizer_${tool}_$f.log" 2>&1
    echo "$tool $f rc=$?" | tee -a "$out/steps.log"
  done
done

log "benchmark: gpu, cpu, lemon-ns alternating"
sizes=(--quincy 1000:10000 --quincy 12500:150000 --file datasets/mcf)
[ "$mode" = full ] && sizes+=(--quincy 50000:500000 --quincy 100000:1000000)
build-gpu/bin/sluice_bench_mcf "${sizes[@]}" --solvers gpu,cpu,lemon-ns --reps 3 --csv "$out/mcf.csv" \
  > "$out/mcf.log" 2>&1
tail -30 "$out/mcf.log" | tee -a "$out/steps.log"

log "projection on the same instances (for measured / projected)"
build-gpu/bin/sluice_bench_gpu_model --quincy 1000:10000 --quincy 12500:150000 --file datasets/mcf \
  --csv "$out/projection.csv" > "$out/projection.log" 2>&1
log "done"
