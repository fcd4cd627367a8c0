#!/usr/bin/env bash
# The GPU solver's projected device time (a projection, no device used): dumps the
# networks `sluice allocate` builds (openb default pod list and a synthetic 12.5k-machine /
# 150k-task cluster, spread, fgd and priority; with --large also the 100k-machine /
# 1M-task one), then runs sluice_bench_gpu_model on them and on the Quincy family at 10k
# and 150k tasks (and 1M with --large), our CPU solver timed in the same process, and
# plots the projection's parts against the CPU time. --families or --networks runs one
# half only (the two halves can run side by side, one core each).
# Usage: bench/gpu_projection.sh BUILD_DIR OUT_DIR [--large] [--families|--networks]
set -euo pipefail
build=$1 out=$2
shift 2
large="" half=both
for a in "$@"; do
  case $a in
    --large) large=--large ;;
    --families) half=families ;;
    --networks) half=networks ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$out"
args=()
if [ $half != networks ]; then
  args+=(--quincy 1000:10000 --quincy 12500:150000)
  [ -n "$large" ] && args+=(--quincy 100000:1000000)
fi
if [ $half != families ]; then
  "$here/bench/dump_allocation_networks.sh" "$build/bin/sluice" "$dir" $large
  for f in "$dir"/*.min; do args+=(--file "$f"); done
fi
"$build/bin/sluice_bench_gpu_model" "${args[@]}" --csv "$out/projection.csv"
/usr/bin/python3 "$here/bench/plot_gpu_projection.py" "$out/projection.csv" "$out/projection.png"
echo "plot: $out/projection.png"
