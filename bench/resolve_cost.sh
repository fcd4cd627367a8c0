#!/usr/bin/env bash
# What the re-solve rounds cost: `sluice allocate` with its re-solves (the default) against
# the same build with --max-resolves 0 (one solve, then candidates and first fit), in one
# run, alternating, per cost model, on 12,500 machines / 150k tasks (30% running, seed 9)
# and 100,000 machines / 1M tasks (seed 5). Prints the tool's own total (decode excluded)
# and tasks placed; the last column is the time ratio with / without re-solves.
# Usage: bench/resolve_cost.sh SLUICE_BIN [REPS]
# (bench/record.sh keeps the table in log.txt; bench/plot_resolve_cost.py makes CSV + PNG of it.)
set -euo pipefail
sluice=$1 reps=${2:-2}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$sluice" gen-snapshot --machines 12500 --tasks 150000 --running 0.3 --seed 9 -o "$dir/s150k.snap" > /dev/null
"$sluice" gen-snapshot --machines 100000 --tasks 1000000 --seed 5 -o "$dir/s1m.snap" > /dev/null
summary() {  # JSON -> "total_without_decode placed"
  /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["timings_s"]; print("%.3f %d" % (t["total"]-t["decode"], d["counts"]["placed"]))' "$1"
}
printf "%-6s %-9s %-4s %12s %10s %12s %10s %7s\n" size model rep "resolves s" placed "single s" placed ratio
for size in s150k s1m; do
  for model in spread pack quincy priority fgd alloc; do
    for rep in $(seq 1 "$reps"); do
      "$sluice" allocate "$dir/$size.snap" --cost-model $model -q -o "$dir/with.json" 2> /dev/null
      "$sluice" allocate "$dir/$size.snap" --cost-model $model --max-resolves 0 -q -o "$dir/without.json" 2> /dev/null
      read -r t1 p1 <<< "$(summary "$dir/with.json")"
      read -r t0 p0 <<< "$(summary "$dir/without.json")"
      printf "%-6s %-9s %-4s %12s %10s %12s %10s %7.2f\n" "$size" $model $rep "$t1" "$p1" "$t0" "$p0" \
        "$(/usr/bin/python3 -c "print($t1/$t0)")"
    done
  done
done
