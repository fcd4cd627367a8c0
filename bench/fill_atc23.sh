#!/usr/bin/env bash
# The FGD paper's experiment on the five pod lists of the openb trace family, recorded under
# bench/results/fill_atc23/<list>/ (command, machine, commit, raw output, CSV files, plot):
#   bench/fill_atc23.sh [SLUICE_BIN] [SEEDS]
# Policies: the simulator's fgd-greedy, best-fit and gpu-packing; fgd at batch 1 (one pod at a
# time: fgd-greedy's algorithm), 10, 50 and all; alloc at 10, 50 and all.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/main/bin/sluice}
seeds=${2:-42-51}
for list in default multigpu20 gpushare40 gpuspec10 cpu050; do
  out=bench/results/fill_atc23/$list
  pods=datasets/openb/openb_pod_list_$list.csv
  bench/record.sh "fill_atc23/$list" "$bin" replay --fill --protocol atc23 --local --pods "$pods" \
    --seeds "$seeds" --models fgd --batch 1,10,50,all --baselines fgd-greedy,best-fit,gpu-packing --jobs 2 \
    --no-plot -o "$out/fgd"
  bench/record.sh "fill_atc23/$list/alloc" "$bin" replay --fill --protocol atc23 --local --pods "$pods" \
    --seeds "$seeds" --models alloc --batch 10,50,all --baselines "" --jobs 2 --no-plot -o "$out/alloc"
  # One table and one plot for the list: both runs' rows together.
  { cat "$out/fgd/fill_summary.csv"; tail -n +2 "$out/alloc/fill_summary.csv"; } > "$out/fill_summary.csv"
  { cat "$out/fgd/fill.csv"; tail -n +2 "$out/alloc/fill.csv"; } > "$out/fill.csv"
  /usr/bin/python3 bench/plot_fill.py "$out/fill.csv" "$out/fill.png" --summary "$out/fill_summary.csv" \
    --title "FGD fill experiment, openb_pod_list_$list (10 seeds)"
done
/usr/bin/python3 bench/fill_table.py bench/results/fill_atc23 > bench/results/fill_atc23/summary.md
cat bench/results/fill_atc23/summary.md
