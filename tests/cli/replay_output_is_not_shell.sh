#!/usr/bin/env bash
# `sluice replay -o PATH` with shell syntax in PATH: the plot step starts python3 with an
# argument vector, so nothing in PATH runs (issue 14, bug 7: it used to build a shell line).
set -euo pipefail
sluice=$1
data=$2
if [ ! -x /usr/bin/python3 ]; then
  echo "SKIP: no /usr/bin/python3, so the plot step would not start"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out="$work/x';touch $work/INJECTED;'"
"$sluice" replay --local --max-rounds 2 --out "$out" \
  --nodes "$data/openb/openb_node_list_all_node.csv" --pods "$data/openb/openb_pod_list_default.csv" 2>&1
if [ -e "$work/INJECTED" ]; then
  echo "FAIL: the output path ran as a shell command"
  exit 1
fi
test -f "$out/rounds.csv"
# The plot script is found beside the tool (build/main/share/sluice), so the plot is drawn.
if /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
  test -f "$out/rounds.png" || { echo "FAIL: no rounds.png: the plot script was not found or failed"; exit 1; }
fi
echo "the output path stayed a path"
