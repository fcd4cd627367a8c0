#!/usr/bin/env bash
# The main job on bundled data: install what is missing, build, start the allocation
# service (sluice serve) and replay the bundled Alibaba openb GPU trace (1,523 machines,
# 8,152 pods) against it as a cluster master would, then the FGD paper's fill experiment
# per cost model beside a one-pod-at-a-time best-fit baseline. Then the solver underneath:
# a Firmament network solved with the optimality certificate, and our CPU solver raced
# against LEMON. CSV and PNG files land in build/quickstart/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh "$@"
bin=${SLUICE_BUILD_DIR:-build/main}/bin
out=build/quickstart
mkdir -p "$out"

echo "== sluice serve: the allocation service on a free loopback port"
rm -f "$out/ready"
"$bin/sluice" serve --endpoint 'tcp://127.0.0.1:*' --ready-file "$out/ready" --metrics 127.0.0.1:0 \
  --log-level warn &
service=$!
trap 'kill -9 "$service" 2>/dev/null || true' EXIT
for _ in $(seq 500); do [ -s "$out/ready" ] && break; sleep 0.02; done
endpoint=$(sed -n 1p "$out/ready")
metrics=$(sed -n 2p "$out/ready")
"$bin/sluice" submit --endpoint "$endpoint" --health
echo
echo "== sluice replay: pods arrive and leave at their trace times; one round per trace hour"
"$bin/sluice" replay --endpoint "$endpoint" --cost-model fgd --round-interval 3600 --out "$out/replay"
echo
echo "== sluice replay --fill: the FGD experiment (empty cluster, pods in creation order until full)"
"$bin/sluice" replay --endpoint "$endpoint" --fill --models spread,pack,fgd --out "$out/fill"
echo
echo "== sluice submit: the whole trace as one snapshot, over the wire"
"$bin/sluice" import-openb --nodes datasets/openb/openb_node_list_all_node.csv \
  --pods datasets/openb/openb_pod_list_default.csv -o "$out/openb.bin"
"$bin/sluice" submit "$out/openb.bin" --endpoint "$endpoint" --epoch 1 --cost-model fgd --verify -o "$out/openb_fgd.json"
"$bin/sluice" submit --endpoint "$endpoint" --stats
echo "metrics: $metrics"
kill -TERM "$service"
wait "$service"
trap - EXIT
echo "the service drained and stopped"
echo
echo "== sluice solve (bundled Firmament graph, 100 machines)"
"$bin/sluice" solve datasets/mcf/firmament_graph_100m_16j_100t_10p.min --verify | grep -v '^f '
echo
echo "== our CPU solver vs LEMON on a Quincy-shaped cluster"
"$bin/sluice_bench_mcf" --quincy 2000:24000 --reps 3 --csv "$out/bench.csv"
/usr/bin/python3 bench/plot_mcf.py "$out/bench.csv" "$out/bench.png"
echo "wrote $out/replay/rounds.png, $out/fill/fill.png, $out/bench.png and their CSV files"
