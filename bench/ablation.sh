#!/usr/bin/env bash
# Measures each cost-scaling heuristic by switching it off, alternating configurations
# within each repetition. Usage: bench/ablation.sh SLUICE_BIN MACHINES TASKS REPS
set -euo pipefail
bin=$1 machines=$2 tasks=$3 reps=${4:-3}
file=$(mktemp --suffix=.min)
trap 'rm -f "$file"' EXIT
"$bin" gen-mcf --family quincy --machines "$machines" --tasks "$tasks" --seed 1 -o "$file"
configs=("" "--push-relabel" "--push-relabel --no-lookahead" "--no-price-refinement"
         "--no-global-updates" "--no-early-exit")
for rep in $(seq 1 "$reps"); do
  for c in "${configs[@]}"; do
    line=$("$bin" solve "$file" --solver cpu $c | grep -E '^c (time|stats)' | tr '\n' ' ')
    echo "rep $rep config '${c:-all heuristics}': $line"
  done
done
