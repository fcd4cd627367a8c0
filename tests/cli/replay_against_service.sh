#!/usr/bin/env bash
# sluice replay against a real `sluice serve` process: a stretch of the production replay
# and a short FGD fill, then SIGTERM; the service must drain and exit 0.
set -euo pipefail
sluice=$1
data=$2
work=$(mktemp -d)
trap 'kill -9 "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$sluice" serve --endpoint 'tcp://127.0.0.1:*' --ready-file "$work/ready" --log-level warn &
pid=$!
for _ in $(seq 500); do [ -s "$work/ready" ] && break; sleep 0.02; done
endpoint=$(head -1 "$work/ready")
"$sluice" replay --endpoint "$endpoint" --nodes "$data/openb/openb_node_list_all_node.csv" \
  --pods "$data/openb/openb_pod_list_default.csv" --max-rounds 60 --out "$work/replay" --no-plot
test "$(wc -l < "$work/replay/rounds.csv")" -eq 61
"$sluice" replay --endpoint "$endpoint" --nodes "$data/openb/openb_node_list_all_node.csv" \
  --pods "$data/openb/openb_pod_list_default.csv" --fill --models fgd --stop-at 30 --out "$work/fill" --no-plot
grep -q '^fgd,' "$work/fill/fill.csv"
grep -q '^best-fit,' "$work/fill/fill.csv"
"$sluice" submit --endpoint "$endpoint" --stats
kill -TERM "$pid"
wait "$pid"
echo "service drained and exited 0"
