#!/usr/bin/env bash
# The main job on bundled data: install what is missing, build, allocate the bundled
# Alibaba openb trace (1,523 machines, 8,152 pods) under each cost model, solve a Firmament
# scheduling network with the optimality certificate, then race our CPU solver against
# LEMON on a generated Quincy-shaped cluster (2,000 machines, 24,000 tasks), writing
# JSON, CSV and a PNG plot under build/quickstart/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh "$@"
bin=${SLUICE_BUILD_DIR:-build/main}/bin
out=build/quickstart
mkdir -p "$out"
echo "== sluice allocate: the openb trace's pods into its 1,523 machines, per cost model"
"$bin/sluice" import-openb --nodes datasets/openb/openb_node_list_all_node.csv \
  --pods datasets/openb/openb_pod_list_default.csv -o "$out/openb.bin"
for model in spread pack quincy priority fgd; do
  "$bin/sluice" allocate "$out/openb.bin" --cost-model "$model" --verify -o "$out/openb_$model.json"
done
echo "placements, GPU indexes and unscheduled reasons: $out/openb_*.json"
echo
echo "== sluice solve (bundled Firmament graph, 100 machines)"
"$bin/sluice" solve datasets/mcf/firmament_graph_100m_16j_100t_10p.min --verify | grep -v '^f '
echo
echo "== our CPU solver vs LEMON on a Quincy-shaped cluster"
"$bin/sluice_bench_mcf" --quincy 2000:24000 --reps 3 --csv "$out/bench.csv"
/usr/bin/python3 bench/plot_mcf.py "$out/bench.csv" "$out/bench.png"
echo "wrote $out/bench.csv and $out/bench.png"
