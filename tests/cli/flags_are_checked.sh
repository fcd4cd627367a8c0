#!/usr/bin/env bash
# Every bad flag or subcommand is refused with a message naming it and a non-zero exit,
# before anything starts (issue 14: these used to start a broken service, or abort).
set -uo pipefail
sluice=$1
failures=0
# expect_refused "expected message" ARGS...: runs sluice ARGS with a 10 s timeout.
expect_refused() {
  local expected=$1
  shift
  local output rc
  output=$(timeout 10 "$sluice" "$@" 2>&1 </dev/null)
  rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
    echo "FAIL: sluice $* exited $rc (124: still running after 10 s); output: $output"
    failures=$((failures + 1))
  elif [[ "$output" != *"$expected"* ]]; then
    echo "FAIL: sluice $* said '$output', expected '$expected'"
    failures=$((failures + 1))
  else
    echo "ok: sluice $* -> $rc: $output"
  fi
}
serve=(serve --endpoint 'tcp://127.0.0.1:*')
expect_refused "--deadline-ms must be from 1 to" "${serve[@]}" --deadline-ms 0
expect_refused "--deadline-ms must be from 1 to" "${serve[@]}" --deadline-ms -1
expect_refused "--deadline-ms 700000 exceeds --max-deadline-ms 600000" "${serve[@]}" --deadline-ms 700000
expect_refused "--max-deadline-ms must be from 1 to" "${serve[@]}" --max-deadline-ms -5
expect_refused "--max-request-bytes must be at least 1, not -1" "${serve[@]}" --max-request-bytes -1
expect_refused "--log-level must be one of trace, debug, info, warn, error, critical, off; not 'bogus'" \
  "${serve[@]}" --log-level bogus
expect_refused "--drain-timeout must be a number of seconds from 0 to 86400" "${serve[@]}" --drain-timeout nan
expect_refused "--drain-timeout must be a number of seconds from 0 to 86400" "${serve[@]}" --drain-timeout -1
expect_refused "--max-connections must be at least 0, not -1" "${serve[@]}" --max-connections -1
expect_refused "--max-connections 100000000 does not fit the open-file limit" "${serve[@]}" --max-connections 100000000
expect_refused "--max-memory must be at least 0, not -1" "${serve[@]}" --max-memory -1
expect_refused "--heartbeat-ms must be from 0 to 3600000, not -5" "${serve[@]}" --heartbeat-ms -5
expect_refused "--trim-after-bytes must be at least 0, not -1" "${serve[@]}" --trim-after-bytes -1
expect_refused "--workers must be from 0 to 1024, not 100000" "${serve[@]}" --workers 100000
expect_refused "--queue must be at least 1, not 0" "${serve[@]}" --queue 0
expect_refused "--max-jobs must be at least 0, not -3" "${serve[@]}" --max-jobs -3
expect_refused "use a loopback address such as 127.0.0.1:9600, or --insecure" "${serve[@]}" --metrics 0.0.0.0:0
expect_refused "use a loopback address such as 127.0.0.1:9600, or --insecure" "${serve[@]}" --metrics 9600
expect_refused "unknown subcommand 'NOSUCHCOMMAND'" NOSUCHCOMMAND
expect_refused "unknown subcommand 'serv'" serv --workers 2

# The same metrics address with --insecure is served.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$sluice" "${serve[@]}" --metrics 0.0.0.0:0 --insecure --ready-file "$work/ready" --log-level warn &
pid=$!
for _ in $(seq 500); do [ -s "$work/ready" ] && break; sleep 0.02; done
if [ -s "$work/ready" ] && kill -TERM "$pid" && wait "$pid"; then
  echo "ok: --metrics 0.0.0.0:0 --insecure serves and drains"
else
  echo "FAIL: --metrics 0.0.0.0:0 --insecure did not serve"
  kill -9 "$pid" 2>/dev/null
  failures=$((failures + 1))
fi
if [ "$failures" -eq 0 ]; then echo "every flag checked"; else echo "$failures failures"; exit 1; fi
