#!/usr/bin/env bash
# Snapshot generation and codec at scale: time and peak memory of `sluice gen-snapshot`
# and `sluice inspect` (decode + validate), binary and JSON.
# Usage: bench/snapshot_scale.sh SLUICE_BIN MACHINES TASKS
set -euo pipefail
bin=$1 machines=$2 tasks=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for ext in bin json; do
  echo "== gen-snapshot --machines $machines --tasks $tasks --running 0.3 -o snapshot.$ext"
  /usr/bin/time -f "wall %e s, peak %M KiB" "$bin" gen-snapshot --machines "$machines" --tasks "$tasks" \
    --running 0.3 --seed 1 -o "$dir/snapshot.$ext"
  echo "file size: $(stat -c %s "$dir/snapshot.$ext") bytes"
  echo "== inspect snapshot.$ext"
  /usr/bin/time -f "wall %e s, peak %M KiB" "$bin" inspect "$dir/snapshot.$ext"
done
