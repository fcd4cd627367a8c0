#!/usr/bin/env bash
# The openb trace against a real service: the production replay (hourly rounds) and the FGD
# fill experiment for every cost model beside the best-fit baseline. Writes into OUT.
#   bench/record.sh replay_openb bench/replay_openb.sh @OUT@
set -euo pipefail
out=${1:?usage: replay_openb.sh OUT}
bin=${SLUICE_BUILD_DIR:-build/main}/bin
mkdir -p "$out"
"$bin/sluice" serve --endpoint 'tcp://127.0.0.1:*' --ready-file "$out/ready" --log-level warn > /dev/null &
pid=$!
trap 'kill -9 "$pid" 2>/dev/null || true; rm -f "$out/ready"' EXIT
for _ in $(seq 500); do [ -s "$out/ready" ] && break; sleep 0.02; done
endpoint=$(head -1 "$out/ready")
"$bin/sluice" replay --endpoint "$endpoint" --cost-model fgd --round-interval 3600 --out "$out/replay"
"$bin/sluice" replay --endpoint "$endpoint" --fill --models spread,pack,quincy,priority,fgd --out "$out/fill"
kill -TERM "$pid"
wait "$pid"
