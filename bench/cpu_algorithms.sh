#!/usr/bin/env bash
# The CPU backend's two algorithms against LEMON's NetworkSimplex, in one run, alternating:
#  1. on the allocation networks `sluice allocate` builds (openb, 150k and 1M tasks; spread,
#     fgd, priority): cpu (the backend's own choice: network simplex there), cpu-cs4 (cost
#     scaling at α = 4, what allocate ran before), lemon-ns;
#  2. on the generator families at moderate sizes: cpu, cpu-cs, cpu-ns, lemon-ns;
#  3. `sluice allocate` end to end at 1M tasks with either algorithm (time by step, placed).
# Writes OUT/bench.csv (1 and 2) and OUT/allocate_1m.txt (3).
# Usage: bench/cpu_algorithms.sh BUILD_DIR OUT_DIR [--reps N]
set -euo pipefail
build=$1 out=$2
reps=3
[ "${3:-}" = --reps ] && reps=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/bench/dump_allocation_networks.sh" "$build/bin/sluice" "$dir" --large
echo "== allocation networks"
"$build/bin/sluice_bench_mcf" --file "$dir" --solvers cpu,cpu-cs4,lemon-ns --reps "$reps" --csv "$dir/alloc.csv"
echo "== generator families"
"$build/bin/sluice_bench_mcf" --quincy 2500:30000 --netgen 4096:65536 --grid 128:128 --assignment 2000:20 \
  --solvers cpu,cpu-cs,cpu-ns,lemon-ns --reps "$reps" --csv "$dir/families.csv"
{ cat "$dir/alloc.csv"; tail -n +2 "$dir/families.csv"; } > "$out/bench.csv"

echo "== sluice allocate, 1M tasks on 100k machines, cost scaling vs network simplex"
"$build/bin/sluice" gen-snapshot --machines 100000 --tasks 1000000 --seed 5 -o "$dir/s1m.snap" > /dev/null
: > "$out/allocate_1m.txt"
for model in spread fgd priority; do
  for rep in $(seq 1 "$reps"); do
    for algorithm in cost-scaling network-simplex; do
      "$build/bin/sluice" allocate "$dir/s1m.snap" --cost-model $model --algorithm $algorithm -o "$dir/a.json" 2> /dev/null
      /usr/bin/python3 - "$dir/a.json" "$model" "$algorithm" "$rep" <<'PY' | tee -a "$out/allocate_1m.txt"
import json, sys
d = json.load(open(sys.argv[1]))
t = d["timings_s"]
print(f"{sys.argv[2]:9s} {sys.argv[3]:16s} rep {sys.argv[4]}: total {t['total']:.2f} s, solve {t['solve']:.2f} s, "
      f"build {t['build']:.2f} s, repair {t['repair']:.2f} s; objective {d['objective']}, placed {d['counts']['placed']}, "
      f"unscheduled {d['counts']['unscheduled']}")
PY
    done
  done
done
/usr/bin/python3 "$here/bench/plot_ratio.py" "$out/bench.csv" "$out/ratios.png"
