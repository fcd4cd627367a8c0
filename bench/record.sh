#!/usr/bin/env bash
# Runs a benchmark command and records it under bench/results/NAME/: the command, the
# machine, the commit, the raw output (log.txt), and the CSV + PNG when the command writes
# "$OUT_DIR/bench.csv" (the placeholder @OUT@ in the arguments is replaced by that folder).
#   bench/record.sh NAME build/main/bin/sluice_bench_mcf --quincy 12500:150000 --csv @OUT@/bench.csv
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1
shift
out=bench/results/$name
mkdir -p "$out"
# The commit before anything is written: re-recording rewrites files of a tracked folder.
commit="$(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
args=()
for a in "$@"; do args+=("${a//@OUT@/$out}"); done
{
  echo "command: ${args[*]}"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $commit"
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "kernel: $(uname -r)"
} > "$out/machine.txt"
cat "$out/machine.txt"
"${args[@]}" 2>&1 | tee "$out/log.txt"
if [ -f "$out/bench.csv" ]; then
  /usr/bin/python3 bench/plot_mcf.py "$out/bench.csv" "$out/bench.png" && echo "plot: $out/bench.png"
fi
