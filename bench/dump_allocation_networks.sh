#!/usr/bin/env bash
# Writes the min-cost-flow networks `sluice allocate` builds (its first solve, DIMACS) for
# the solver benchmarks: the openb default pod list and a synthetic 12,500-machine /
# 150,000-task cluster (seed 5), each under spread, fgd and priority; with --large also a
# 100,000-machine / 1,000,000-task one. Files: DIR/{openb,alloc150k,alloc1m}_MODEL.min.
# Usage: bench/dump_allocation_networks.sh SLUICE_BIN DIR [--large]
set -euo pipefail
sluice=$1 dir=$2 large=${3:-}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"
echo "[dump] allocation networks into $dir" >&2
"$sluice" import-openb --nodes "$here/datasets/openb/openb_node_list_all_node.csv" \
  --pods "$here/datasets/openb/openb_pod_list_default.csv" -o "$dir/openb.snap" > /dev/null
"$sluice" gen-snapshot --machines 12500 --tasks 150000 --seed 5 -o "$dir/alloc150k.snap" > /dev/null
sizes="openb alloc150k"
if [ "$large" = --large ]; then
  "$sluice" gen-snapshot --machines 100000 --tasks 1000000 --seed 5 -o "$dir/alloc1m.snap" > /dev/null
  sizes="$sizes alloc1m"
fi
for size in $sizes; do
  for model in spread fgd priority; do
    "$sluice" allocate "$dir/$size.snap" --cost-model $model --dump-network "$dir/${size}_$model.min" > /dev/null 2>&1
  done
  rm -f "$dir/$size.snap"
done
