#!/usr/bin/env bash
# Reference outputs: `sluice allocate` on a fixed set of snapshots (the bundled openb trace,
# the example snapshot, seeded synthetic clusters with and without running tasks) under every
# cost model, with timings and the fallback reason (which names this machine's CUDA state)
# taken out. A restructuring that must not change behaviour records them before and checks
# them after:
#   scripts/reference_outputs.sh record FILE    # one "case sha256" line per case
#   scripts/reference_outputs.sh check FILE     # exit 1 and name every case that differs
# SLUICE_BIN (default build/main/bin/sluice) picks the tool.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: $0 record|check FILE}
file=${2:?usage: $0 record|check FILE}
bin=${SLUICE_BIN:-build/main/bin/sluice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" import-openb --nodes datasets/openb/openb_node_list_all_node.csv \
  --pods datasets/openb/openb_pod_list_default.csv -o "$work/openb.bin" >/dev/null 2>&1
cp examples/snapshot.json "$work/example.json"
"$bin" gen-snapshot --machines 300 --tasks 4000 --seed 3 -o "$work/gen.bin" >/dev/null 2>&1
"$bin" gen-snapshot --machines 300 --tasks 4000 --running 0.3 --seed 4 -o "$work/running.bin" >/dev/null 2>&1
"$bin" gen-snapshot --machines 2000 --tasks 30000 --shapes 40 --running 0.2 --seed 5 -o "$work/shapes.bin" >/dev/null 2>&1

out="$work/hashes"
: >"$out"
for snap in openb example gen running shapes; do
  path=$(ls "$work/$snap".*)
  for model in spread pack quincy priority fgd; do
    for extra in "" "--no-aggregate"; do
      [ -n "$extra" ] && [ "$snap" = shapes ] && continue  # one node per task: too slow to be worth it
      name="$snap/$model${extra:+/$extra}"
      "$bin" allocate "$path" --cost-model "$model" $extra -o "$work/a.json" 2>/dev/null || true
      digest=$(grep -v -e '"timings_s"' -e '"fallback_reason"' "$work/a.json" | sha256sum | cut -c1-16)
      echo "$name $digest" >>"$out"
    done
  done
done

case "$mode" in
  record) cp "$out" "$file"; echo "recorded $(wc -l <"$file") cases in $file" ;;
  check)
    if diff <(sort "$file") <(sort "$out") >"$work/diff"; then
      echo "all $(wc -l <"$file") reference outputs unchanged"
    else
      echo "reference outputs differ:"; grep '^[<>]' "$work/diff"; exit 1
    fi ;;
  *) echo "usage: $0 record|check FILE" >&2; exit 2 ;;
esac
