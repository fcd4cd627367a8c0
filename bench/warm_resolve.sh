#!/usr/bin/env bash
# Warm re-solves on the networks `sluice allocate` builds: dumps them (openb default pod
# list and a synthetic 12.5k-machine / 150k-task cluster under spread, fgd and priority, and
# with --large a 100k-machine / 1M-task one under spread), then runs sluice_bench_warm on
# each (0.1%, 1% and 10% of capacities and supplies changed; warm, cold and LEMON's
# NetworkSimplex on the same network, alternating) and plots the ratios.
# Usage: bench/warm_resolve.sh BUILD_DIR OUT_DIR [--large] [--reps N]
set -euo pipefail
build=$1 out=$2
shift 2
large=0 reps=3
while [ $# -gt 0 ]; do
  case $1 in
    --large) large=1 ;;
    --reps) reps=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
sluice=$build/bin/sluice
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/bench/dump_allocation_networks.sh" "$sluice" "$dir" $([ $large = 1 ] && echo --large)
files=()
for model in spread fgd priority; do
  files+=(--file "$dir/openb_$model.min" --file "$dir/alloc150k_$model.min")
done
[ $large = 1 ] && files+=(--file "$dir/alloc1m_spread.min")
# α = 4, as `sluice allocate` solves these networks.
"$build/bin/sluice_bench_warm" "${files[@]}" --alpha 4 --reps "$reps" --fractions 0.001,0.01,0.1 --lemon \
  --csv "$out/warm.csv"
/usr/bin/python3 "$here/bench/plot_warm.py" "$out/warm.csv" "$out/warm.png"
echo "plot: $out/warm.png"
