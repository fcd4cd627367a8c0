#!/usr/bin/env bash
# The issue's comparison alone, quick (about a minute on 2 cores): fgd and alloc at batch 50
# on the five openb pod lists, seeds 42-51, atc23 protocol; one line per list and model with
# the 10-seed means. Compare with the greedy baselines of bench/results/fill_atc23/summary.md.
#   bench/fill_atc23_batch50.sh OUT_DIR [SLUICE_BIN]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
bin=${2:-build/main/bin/sluice}
for list in default multigpu20 gpushare40 gpuspec10 cpu050; do
  "$bin" replay --fill --protocol atc23 --local --pods "datasets/openb/openb_pod_list_$list.csv" --seeds 42-51 \
    --models fgd,alloc --batch 50 --baselines "" --jobs 2 --no-plot -o "$out/$list" > "$out/$list.log" 2>&1
  /usr/bin/python3 - "$list" "$out/$list/fill_summary.csv" <<'PY'
import collections, csv, statistics, sys
rows = collections.defaultdict(list)
for r in csv.DictReader(open(sys.argv[2])):
    rows[(r["policy"], r["batch"])].append(r)
for (policy, batch), rs in rows.items():
    print(f"{sys.argv[1]:11s} {policy:6s} @ {batch}: {len(rs)} seeds, unallocated GPU % @100% "
          f"{statistics.mean(float(r['unallocated_gpu_pct']) for r in rs):.2f}, "
          f"failed {statistics.mean(int(r['failed']) for r in rs):.1f}")
PY
done
